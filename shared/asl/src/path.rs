//! JSONPath as Step Functions evaluates it (Jayway flavour): `$`, `.name`,
//! `['name']`, `[n]`, `[*]`, `..`, slices, unions and filters such as
//! `[?(@.price > 10)]`, over the state input (`$`) or the context object (`$$`).
//! Reference Paths (single node: names and indices only) for ResultPath,
//! ItemsPath, Choice Variable and the `*Path` fields.
//!
//! Written here rather than taken from a crate because no crate matches ASL's
//! semantics: the `$$` root, Jayway's rule that a definite path yields one
//! value while an indefinite one yields an array of matches, and ResultPath
//! writes that create missing fields.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::Failure;

/// Which document a path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `$…`: the state's data.
    Input,
    /// `$$…`: the context object.
    Context,
}

/// A compiled JSONPath.
#[derive(Debug, Clone)]
pub struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
}

/// One step of a compiled path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Placeholder,
}

/// Why a path selected nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound;

impl Path {
    /// Parses any path Step Functions accepts where a Path is allowed.
    pub fn parse(text: &str) -> Result<Path, String> {
        let _ = text;
        unimplemented!()
    }

    /// Parses a Reference Path: `$` or `$$` followed only by `.name`, `['name']` and `[n]`.
    pub fn parse_reference(text: &str) -> Result<Path, String> {
        let _ = text;
        unimplemented!()
    }

    /// The path as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Which document the path reads.
    pub fn root(&self) -> Root {
        self.root
    }

    /// True for `$$…` paths.
    pub fn uses_context(&self) -> bool {
        self.root == Root::Context
    }

    /// True when the path can select at most one node (no wildcard, slice,
    /// union, filter or `..`): it then yields that node, not an array of matches.
    pub fn is_definite(&self) -> bool {
        let _ = &self.segments;
        unimplemented!()
    }

    /// The path in Jayway's normalized bracket form, as Step Functions prints it
    /// in error causes: `$.a.b[0]` → `$['a']['b'][0]`.
    pub fn normalized(&self) -> String {
        unimplemented!()
    }

    /// Selects from `input` (or `context` for `$$` paths). A definite path
    /// yields its node or `NotFound`; an indefinite path yields an array of
    /// every match (possibly empty).
    pub fn select<'v>(&self, input: &'v Value, context: &'v Value) -> Result<Cow<'v, Value>, NotFound> {
        let _ = (input, context);
        unimplemented!()
    }

    /// Writes `value` at this reference path inside `target` (ResultPath):
    /// `$` replaces the whole document; missing object fields are created;
    /// a path that crosses a non-object (or an index outside an array) fails
    /// with `States.ResultPathMatchFailure`.
    pub fn write(&self, target: Value, value: Value) -> Result<Value, Failure> {
        let _ = (target, value);
        unimplemented!()
    }
}
