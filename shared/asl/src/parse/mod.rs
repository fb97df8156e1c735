//! From JSON to a validated [`Definition`]: every check CreateStateMachine
//! makes, each error with the JSON pointer of the offending field.

pub mod resource;

use serde_json::Value;

use crate::definition::Definition;
use crate::error::ValidationError;

/// Parses a definition given as text. Invalid JSON is an `INVALID_JSON_DESCRIPTION` error.
pub fn parse_definition_str(text: &str) -> Result<Definition, Vec<ValidationError>> {
    let _ = text;
    unimplemented!()
}

/// Parses and validates a definition; returns every problem found, not just the first.
pub fn parse_definition(value: &Value) -> Result<Definition, Vec<ValidationError>> {
    let _ = value;
    unimplemented!()
}
