//! The states that only move data or control: Pass, Choice, Wait and Fail
//! (Succeed has no fields of its own).

use serde_json::Value;

use super::block::Scope;
use super::fields::{Errors, MAX_SECONDS, Obj, child, item};
use super::paths::{expr, reference, result_path, template};
use super::state;
use crate::choice::Rule;
use crate::definition::{ChoiceBranch, ChoiceState, FailState, PassState, TextField, WaitState};
use crate::error::ValidationError;
use crate::timestamp::parse_epoch_millis;

/// `Type: Pass`.
pub(super) fn pass(obj: &Obj<'_>, scope: &Scope<'_>, errs: &mut Errors) -> Option<PassState> {
    let parameters = template(obj, "Parameters", errs);
    let result = obj.get("Result").cloned();
    let result_path = result_path(obj, "ResultPath", errs);
    let next = state::next(obj, scope, errs);
    Some(PassState { parameters, result, result_path, next: next? })
}

/// `Type: Choice`.
pub(super) fn choice(obj: &Obj<'_>, scope: &Scope<'_>, errs: &mut Errors) -> Option<ChoiceState> {
    let choices = obj.non_empty_array("Choices", errs).map(|list| {
        let base = obj.at("Choices");
        let branches: Vec<_> =
            list.iter().enumerate().map(|(i, rule)| choice_branch(rule, item(&base, i), scope, errs)).collect();
        branches.into_iter().collect::<Option<Vec<_>>>()
    });
    let default = scope.target(obj, "Default", errs);
    Some(ChoiceState { choices: choices??, default })
}

/// One entry of `Choices`: the rule (compiled by [`Rule::compile`]) and its `Next`.
fn choice_branch(value: &Value, ptr: String, scope: &Scope<'_>, errs: &mut Errors) -> Option<ChoiceBranch> {
    let entry = Obj::entry(value, ptr, "Choices", errs)?;
    let rule = match Rule::compile(value, &entry.ptr, true) {
        Ok(rule) => Some(rule),
        Err(found) => {
            // `Next` is checked below; keep only the rule compiler's other findings.
            let next_ptr = child(&entry.ptr, "Next");
            let about_next =
                |e: &ValidationError| e.pointer == next_ptr || (e.pointer == entry.ptr && e.message.contains("'Next'"));
            errs.extend(found.into_iter().filter(|e| !about_next(e)));
            None
        }
    };
    let next = scope.required_target(&entry, "Next", errs);
    Some(ChoiceBranch { rule: rule?, next: next? })
}

/// The four ways a Wait state says how long.
const WAIT_FIELDS: [&str; 4] = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"];

/// `Type: Wait`: exactly one of `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`.
pub(super) fn wait(obj: &Obj<'_>, scope: &Scope<'_>, errs: &mut Errors) -> Option<WaitState> {
    let present: Vec<&str> = WAIT_FIELDS.into_iter().filter(|f| obj.has(f)).collect();
    let next = state::next(obj, scope, errs);
    let field = match present.as_slice() {
        [field] => *field,
        [] => {
            let message = "Exactly one of the fields 'Seconds', 'SecondsPath', 'Timestamp' \
                           and 'TimestampPath' is required";
            errs.push(ValidationError::schema(&obj.ptr, message));
            return None;
        }
        [..] => {
            let message = format!("Only one of the fields {} may be set", quoted(&present));
            errs.push(ValidationError::schema(&obj.ptr, message));
            return None;
        }
    };
    match field {
        "Seconds" => {
            let seconds = obj.integer(field, 0..=MAX_SECONDS, errs)?;
            Some(WaitState::Seconds { seconds, next: next? })
        }
        "SecondsPath" => {
            let path = reference(obj, field, errs)?;
            Some(WaitState::SecondsPath { path, next: next? })
        }
        "Timestamp" => {
            let text = obj.string(field, errs)?;
            let Some(epoch_millis) = parse_epoch_millis(text) else {
                let message = "The value of 'Timestamp' must be an ISO-8601 extended offset \
                               date-time format string";
                errs.push(ValidationError::schema(obj.at(field), message));
                return None;
            };
            Some(WaitState::Timestamp { epoch_millis, text: text.to_owned(), next: next? })
        }
        _ => {
            let path = reference(obj, field, errs)?;
            Some(WaitState::TimestampPath { path, next: next? })
        }
    }
}

fn quoted(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("'{f}'")).collect();
    quoted.join(", ")
}

/// `Type: Fail`.
pub(super) fn fail(obj: &Obj<'_>, errs: &mut Errors) -> Option<FailState> {
    let error = text_field(obj, "Error", "ErrorPath", errs);
    let cause = text_field(obj, "Cause", "CausePath", errs);
    Some(FailState { error, cause })
}

/// `Error`/`ErrorPath` or `Cause`/`CausePath`: a literal string or an expression, not both.
fn text_field(obj: &Obj<'_>, key: &str, path_key: &str, errs: &mut Errors) -> Option<TextField> {
    if obj.exclusive(key, path_key, errs) {
        return None;
    }
    if let Some(text) = obj.string(key, errs) {
        return Some(TextField::Literal(text.to_owned()));
    }
    if obj.has(path_key) {
        return expr(obj, path_key, errs).map(TextField::Expr);
    }
    None
}
