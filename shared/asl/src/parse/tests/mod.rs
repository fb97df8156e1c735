//! Tests of the definition parser. Most definitions here avoid paths,
//! templates, Choice rules and timestamps, so they exercise this module
//! alone; `dependent` holds the tests that also need those compilers.

mod blocks;
mod dependent;
mod map;
mod recovery;
mod resource;
mod states;
mod task;
mod valid;

use serde_json::{Value, json};

use super::{ParseOptions, parse_definition, parse_definition_with};
use crate::definition::Definition;
use crate::error::{ValidationCode, ValidationError};

/// Parses `value`, failing the test with every error if it is invalid.
fn ok(value: Value) -> Definition {
    match parse_definition(&value) {
        Ok(definition) => definition,
        Err(errors) => panic!("unexpected errors: {errors:#?}"),
    }
}

/// The errors of an invalid definition.
fn errors(value: Value) -> Vec<ValidationError> {
    errors_with(value, ParseOptions::default())
}

fn errors_with(value: Value, options: ParseOptions) -> Vec<ValidationError> {
    match parse_definition_with(&value, options) {
        Ok(_) => panic!("expected errors, the definition parsed"),
        Err(errors) => errors,
    }
}

/// The (code, pointer) pairs of an invalid definition, in the order reported.
fn codes(value: Value) -> Vec<(ValidationCode, String)> {
    pairs(errors(value))
}

fn pairs(errors: Vec<ValidationError>) -> Vec<(ValidationCode, String)> {
    errors.into_iter().map(|e| (e.code, e.pointer)).collect()
}

/// Shorthand for an expected (code, pointer) pair.
fn at(code: ValidationCode, pointer: &str) -> (ValidationCode, String) {
    (code, pointer.to_owned())
}

/// A schema error at `pointer`.
fn schema(pointer: &str) -> (ValidationCode, String) {
    at(ValidationCode::SchemaValidationFailed, pointer)
}

/// A machine whose `StartAt` is the first of `states`.
fn machine(states: Value) -> Value {
    let first = states.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
    json!({ "StartAt": first, "States": states })
}

/// A machine with one state, named `A`.
fn single(state: Value) -> Value {
    machine(json!({ "A": state }))
}

/// A Lambda function ARN.
const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

/// A Task that ends the block, with extra fields merged in.
fn task(extra: Value) -> Value {
    let mut state = json!({ "Type": "Task", "Resource": LAMBDA, "End": true });
    merge(&mut state, extra);
    state
}

/// A Map state with an INLINE processor of one Pass state named `inner`, with extra fields merged in.
fn map_state(inner: &str, extra: Value) -> Value {
    let mut state = json!({
        "Type": "Map",
        "ItemProcessor": { "StartAt": inner, "States": { inner: { "Type": "Pass", "End": true } } },
        "End": true
    });
    merge(&mut state, extra);
    state
}

/// Sets every field of `extra` on `target` (a `null` removes the field).
fn merge(target: &mut Value, extra: Value) {
    let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) else {
        panic!("merge needs two objects");
    };
    for (key, value) in extra {
        if value.is_null() {
            target.remove(&key);
        } else {
            target.insert(key, value);
        }
    }
}
