//! From JSON to a validated [`Definition`]: every check CreateStateMachine
//! makes, each error with the JSON pointer of the offending field.
//!
//! The walk is split by concern: `fields` reads typed fields, `paths`
//! compiles paths and templates, `block` handles blocks and state names,
//! `state` what every state shares, `task`/`flow`/`parallel`/`map`/`recovery`
//! the rest, and `graph` reachability. Errors are collected, never returned
//! early, so one call reports every problem of a definition.
//!
//! Where errors point: a missing required field, and two fields that exclude
//! each other (`Next` and `End`, `TimeoutSeconds` and `TimeoutSecondsPath`),
//! at the object holding them; a bad value or a field that does not belong,
//! at the field itself; an unreachable state at the state; a block without a
//! terminal state at its `States`.

mod block;
mod fields;
mod flow;
mod graph;
mod map;
mod parallel;
mod paths;
mod recovery;
pub mod resource;
mod state;
mod task;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::definition::Definition;
use crate::error::{ValidationCode, ValidationError};
use block::{BlockKind, Ctx, Parser, query_language};
use fields::{MAX_SECONDS, Obj};

/// What kind of state machine a definition is checked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// The definition is for an EXPRESS state machine: `.sync` and
    /// `.waitForTaskToken` integrations are refused everywhere in it.
    pub express: bool,
}

/// Parses a definition given as text. Invalid JSON is an `INVALID_JSON_DESCRIPTION` error.
pub fn parse_definition_str(text: &str) -> Result<Definition, Vec<ValidationError>> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| vec![ValidationError::new(ValidationCode::InvalidJsonDescription, "", e.to_string())])?;
    parse_definition(&value)
}

/// Parses and validates a definition; returns every problem found, not just the first.
pub fn parse_definition(value: &Value) -> Result<Definition, Vec<ValidationError>> {
    parse_definition_with(value, ParseOptions::default())
}

/// Like [`parse_definition`], for the kind of state machine `options` describes.
pub fn parse_definition_with(value: &Value, options: ParseOptions) -> Result<Definition, Vec<ValidationError>> {
    let Some(map) = value.as_object() else {
        return Err(vec![ValidationError::schema("", "Definition must be a valid JSON object")]);
    };
    let top = Obj::new(map, String::new());
    let mut parser = Parser::default();
    let errs = &mut parser.errors;
    let timeout_seconds = top.integer("TimeoutSeconds", 1..=MAX_SECONDS, errs);
    // `Comment` is checked with the rest of the top-level block.
    let comment = top.get("Comment").and_then(Value::as_str).map(str::to_owned);
    if let Some(version) = top.string("Version", errs)
        && version != "1.0"
    {
        errs.push(ValidationError::schema(top.at("Version"), "The value of 'Version' must be 1.0"));
    }
    query_language(&top, errs);
    parser.block(&top, BlockKind::Top, Ctx { express: options.express });
    parser.finish(timeout_seconds, comment)
}
