//! Parsing of Task `Resource` ARNs.

use crate::resource::Resource;

/// See [`Resource::parse`].
pub fn parse_resource(text: &str) -> Result<Resource, String> {
    let _ = text;
    unimplemented!()
}
