//! `Retry` and `Catch` (Task, Parallel and Map states).

use super::block::Scope;
use super::fields::{Errors, MAX_SECONDS, Obj, item, wrong_type};
use super::paths::result_path;
use super::state::DEFERRED;
use crate::error::ValidationError;
use crate::names;
use crate::retry::{Catcher, Jitter, Retrier};

/// The fields of a retrier.
const RETRIER_FIELDS: [&str; 7] =
    ["ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"];

/// The fields of a catcher (JSONPath mode).
const CATCHER_FIELDS: [&str; 4] = ["ErrorEquals", "Next", "ResultPath", "Comment"];

/// Every predefined error name; other names starting with `States.` are refused.
const PREDEFINED: [&str; 16] = [
    names::ALL,
    names::HEARTBEAT_TIMEOUT,
    names::TIMEOUT,
    names::TASK_FAILED,
    names::PERMISSIONS,
    names::RESULT_PATH_MATCH_FAILURE,
    names::PARAMETER_PATH_FAILURE,
    names::BRANCH_FAILED,
    names::NO_CHOICE_MATCHED,
    names::INTRINSIC_FAILURE,
    names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
    "States.ItemReaderFailed",
    "States.ResultWriterFailed",
    names::DATA_LIMIT_EXCEEDED,
    names::RUNTIME,
    "States.QueryEvaluationError",
];

/// The `Retry` field of `obj` (empty when absent).
pub(super) fn retriers(obj: &Obj<'_>, errs: &mut Errors) -> Vec<Retrier> {
    let entries = entries(obj, "Retry", &RETRIER_FIELDS, errs);
    let last = entries.len().saturating_sub(1);
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let Some(entry) = entry else { continue };
        let error_equals = error_equals(&entry, i == last, "retrier", errs);
        let defaults = Retrier::default();
        let interval = entry.integer("IntervalSeconds", 1..=MAX_SECONDS, errs);
        let max_attempts = entry.integer("MaxAttempts", 0..=MAX_SECONDS, errs);
        let backoff_rate = entry.number("BackoffRate", 1.0, f64::INFINITY, errs);
        let max_delay_seconds = entry.integer("MaxDelaySeconds", 1..=31_622_400, errs);
        let jitter = match entry.enum_string("JitterStrategy", &["FULL", "NONE"], errs) {
            Some("FULL") => Jitter::Full,
            _ => Jitter::None,
        };
        if let Some(error_equals) = error_equals {
            out.push(Retrier {
                error_equals,
                interval_seconds: interval.unwrap_or(defaults.interval_seconds),
                max_attempts: max_attempts.unwrap_or(defaults.max_attempts),
                backoff_rate: backoff_rate.unwrap_or(defaults.backoff_rate),
                max_delay_seconds,
                jitter,
            });
        }
    }
    out
}

/// The `Catch` field of `obj` (empty when absent); `Next` names a state of `scope`.
pub(super) fn catchers(obj: &Obj<'_>, scope: &Scope<'_>, errs: &mut Errors) -> Vec<Catcher> {
    let entries = entries(obj, "Catch", &CATCHER_FIELDS, errs);
    let last = entries.len().saturating_sub(1);
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let Some(entry) = entry else { continue };
        let error_equals = error_equals(&entry, i == last, "catcher", errs);
        let next = scope.required_target(&entry, "Next", errs);
        let result_path = result_path(&entry, "ResultPath", errs);
        if let (Some(error_equals), Some(next)) = (error_equals, next) {
            out.push(Catcher { error_equals, next, result_path });
        }
    }
    out
}

/// The entries of the array field `key`, each an object with only `fields` (and a `Comment` string).
fn entries<'a>(obj: &Obj<'a>, key: &str, fields: &[&str], errs: &mut Errors) -> Vec<Option<Obj<'a>>> {
    let Some(list) = obj.array(key, errs) else {
        return Vec::new();
    };
    let base = obj.at(key);
    let mut out = Vec::with_capacity(list.len());
    for (i, value) in list.iter().enumerate() {
        let entry = Obj::entry(value, item(&base, i), key, errs);
        if let Some(entry) = &entry {
            entry.check_fields(fields, &DEFERRED, errs);
            entry.string("Comment", errs);
        }
        out.push(entry);
    }
    out
}

/// `ErrorEquals`: a non-empty array of error names; `States.ALL` alone, and
/// only in the `last` retrier or catcher (`what`).
fn error_equals(entry: &Obj<'_>, last: bool, what: &str, errs: &mut Errors) -> Option<Vec<String>> {
    let list = entry.non_empty_array("ErrorEquals", errs)?;
    let base = entry.at("ErrorEquals");
    let mut names = Vec::with_capacity(list.len());
    for (j, value) in list.iter().enumerate() {
        match value.as_str() {
            Some("") => errs.push(wrong_type(&item(&base, j), "ErrorEquals", "an array of non-empty strings")),
            Some(name) if name.starts_with("States.") && !PREDEFINED.contains(&name) => {
                let message = format!("'{name}' is not a predefined error name");
                errs.push(ValidationError::schema(item(&base, j), message));
            }
            Some(name) => names.push(name.to_owned()),
            None => errs.push(wrong_type(&item(&base, j), "ErrorEquals", "an array of non-empty strings")),
        }
    }
    let has_all = list.iter().any(|v| v.as_str() == Some(names::ALL));
    if has_all && list.len() > 1 {
        let message = "'States.ALL' must appear alone in 'ErrorEquals'";
        errs.push(ValidationError::schema(&base, message));
    }
    if has_all && !last {
        let message = format!("'States.ALL' may only appear in the last {what}");
        errs.push(ValidationError::schema(&base, message));
    }
    (names.len() == list.len()).then_some(names)
}
