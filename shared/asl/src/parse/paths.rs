//! Readers for the fields that hold paths, expressions and payload templates
//! (compiled by [`crate::path`] and [`crate::template`]).

use std::ops::RangeInclusive;

use serde_json::Value;

use super::fields::{Errors, Obj, wrong_type};
use crate::definition::{NumberField, PathField, ResultPath};
use crate::error::{ValidationCode, ValidationError};
use crate::path::Path;
use crate::template::{Expr, Template};

fn invalid_path(ptr: String, key: &str, kind: &str, error: &str) -> ValidationError {
    ValidationError::new(
        ValidationCode::InvalidJsonPath,
        ptr,
        format!("The value for the field '{key}' must be a valid {kind}: {error}"),
    )
}

/// `InputPath` / `OutputPath`: absent or `"$"` is the whole document, `null` an empty object.
pub(super) fn path_field(obj: &Obj<'_>, key: &str, errs: &mut Errors) -> PathField {
    match obj.get(key) {
        None => PathField::Whole,
        Some(Value::Null) => PathField::Null,
        Some(Value::String(text)) if text == "$" => PathField::Whole,
        Some(Value::String(text)) => match Path::parse(text) {
            Ok(path) => PathField::Path(path),
            Err(e) => {
                errs.push(invalid_path(obj.at(key), key, "JSONPath", &e));
                PathField::Whole
            }
        },
        Some(_) => {
            errs.push(wrong_type(&obj.at(key), key, "a string or null"));
            PathField::Whole
        }
    }
}

/// `ResultPath`: absent or `"$"` replaces, `null` discards, else a reference
/// path into the state input (never the context object).
pub(super) fn result_path(obj: &Obj<'_>, key: &str, errs: &mut Errors) -> ResultPath {
    match obj.get(key) {
        None => ResultPath::Replace,
        Some(Value::Null) => ResultPath::Discard,
        Some(Value::String(text)) if text == "$" => ResultPath::Replace,
        Some(Value::String(text)) if text.starts_with("$$") => {
            errs.push(ValidationError::new(
                ValidationCode::InvalidJsonPath,
                obj.at(key),
                format!("The value for the field '{key}' must not reference the context object"),
            ));
            ResultPath::Replace
        }
        Some(Value::String(text)) => match Path::parse_reference(text) {
            Ok(path) => ResultPath::Path(path),
            Err(e) => {
                errs.push(invalid_path(obj.at(key), key, "ReferencePath", &e));
                ResultPath::Replace
            }
        },
        Some(_) => {
            errs.push(wrong_type(&obj.at(key), key, "a string or null"));
            ResultPath::Replace
        }
    }
}

/// A field holding a reference path (`ItemsPath`, `SecondsPath`, `TimeoutSecondsPath`, …).
pub(super) fn reference(obj: &Obj<'_>, key: &str, errs: &mut Errors) -> Option<Path> {
    let text = obj.string(key, errs)?;
    match Path::parse_reference(text) {
        Ok(path) => Some(path),
        Err(e) => {
            errs.push(invalid_path(obj.at(key), key, "ReferencePath", &e));
            None
        }
    }
}

/// A field holding a path or an intrinsic function call (`ErrorPath`, `CausePath`).
pub(super) fn expr(obj: &Obj<'_>, key: &str, errs: &mut Errors) -> Option<Expr> {
    let text = obj.string(key, errs)?;
    match Expr::parse(text) {
        Ok(expr) => Some(expr),
        Err(e) if text.trim_start().starts_with("States.") => {
            errs.push(ValidationError::new(
                ValidationCode::InvalidIntrinsicFunction,
                obj.at(key),
                format!("The value for the field '{key}' must be a valid intrinsic function: {e}"),
            ));
            None
        }
        Err(e) => {
            errs.push(invalid_path(obj.at(key), key, "JSONPath", &e));
            None
        }
    }
}

/// A payload template field (`Parameters`, `ResultSelector`, `ItemSelector`): an object.
pub(super) fn template(obj: &Obj<'_>, key: &str, errs: &mut Errors) -> Option<Template> {
    let value = obj.get(key)?;
    if !value.is_object() {
        errs.push(wrong_type(&obj.at(key), key, "an object"));
        return None;
    }
    compile(value, &obj.at(key), errs)
}

/// Compiles the template `value` found at `ptr`.
pub(super) fn compile(value: &Value, ptr: &str, errs: &mut Errors) -> Option<Template> {
    match Template::compile(value, ptr) {
        Ok(template) => Some(template),
        Err(found) => {
            errs.extend(found);
            None
        }
    }
}

/// An integer given literally (`key`, in `range`) or by a reference path
/// (`path_key`); both at once is an error.
pub(super) fn integer_field(
    obj: &Obj<'_>,
    key: &str,
    path_key: &str,
    range: RangeInclusive<u64>,
    errs: &mut Errors,
) -> Option<NumberField<u64>> {
    if obj.exclusive(key, path_key, errs) {
        return None;
    }
    if obj.has(key) {
        return obj.integer(key, range, errs).map(NumberField::Literal);
    }
    if obj.has(path_key) {
        return reference(obj, path_key, errs).map(NumberField::Path);
    }
    None
}
