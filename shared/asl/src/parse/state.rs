//! One state: its type, which fields that type may have, the fields every
//! state shares, and `Next`/`End`. The type-specific parts live in sibling modules.

use super::block::{Ctx, Parser, Scope, query_language};
use super::fields::{Errors, Obj, both, not_one_of, wrong_type};
use super::graph::RawState;
use super::paths::path_field;
use super::{flow, map, parallel, task};
use crate::definition::{Next, PathField, State, StateKind};
use crate::error::ValidationError;

/// The state types, as spelled in `Type`.
const TYPES: [&str; 8] = ["Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"];

/// Fields that are valid ASL but not run by this build, with the rest of their message.
pub(super) const DEFERRED: [(&str, &str); 7] = [
    ("Assign", ": workflow variables are not supported yet"),
    ("Output", ": JSONata is not supported yet"),
    ("Arguments", ": JSONata is not supported yet"),
    ("Items", ": JSONata is not supported yet"),
    ("ItemReader", " yet (distributed Map reading from S3)"),
    ("ItemBatcher", " yet (distributed Map batching)"),
    ("ResultWriter", " yet (distributed Map writing results to S3)"),
];

/// Every state type.
const ANY: &[&str] = &TYPES;
/// The types with `InputPath`/`OutputPath` (all but Fail).
const WITH_IO: &[&str] = &["Task", "Pass", "Choice", "Wait", "Succeed", "Parallel", "Map"];
/// The types with `Next`/`End`.
const FLOWING: &[&str] = &["Task", "Pass", "Wait", "Parallel", "Map"];
/// The types with `Parameters` and `ResultPath`.
const SHAPING: &[&str] = &["Task", "Pass", "Parallel", "Map"];
/// The types with `ResultSelector`, `Retry` and `Catch`.
const WORKING: &[&str] = &["Task", "Parallel", "Map"];

/// The field × state matrix (JSONPath mode): each field and the state types that may have it.
const MATRIX: &[(&str, &[&str])] = &[
    ("Type", ANY),
    ("Comment", ANY),
    ("QueryLanguage", ANY),
    ("InputPath", WITH_IO),
    ("OutputPath", WITH_IO),
    ("Next", FLOWING),
    ("End", FLOWING),
    ("Parameters", SHAPING),
    ("ResultPath", SHAPING),
    ("ResultSelector", WORKING),
    ("Retry", WORKING),
    ("Catch", WORKING),
    ("Result", &["Pass"]),
    ("Resource", &["Task"]),
    ("TimeoutSeconds", &["Task"]),
    ("TimeoutSecondsPath", &["Task"]),
    ("HeartbeatSeconds", &["Task"]),
    ("HeartbeatSecondsPath", &["Task"]),
    ("Credentials", &["Task"]),
    ("Choices", &["Choice"]),
    ("Default", &["Choice"]),
    ("Seconds", &["Wait"]),
    ("SecondsPath", &["Wait"]),
    ("Timestamp", &["Wait"]),
    ("TimestampPath", &["Wait"]),
    ("Error", &["Fail"]),
    ("ErrorPath", &["Fail"]),
    ("Cause", &["Fail"]),
    ("CausePath", &["Fail"]),
    ("Branches", &["Parallel"]),
    ("ItemProcessor", &["Map"]),
    ("Iterator", &["Map"]),
    ("ItemsPath", &["Map"]),
    ("ItemSelector", &["Map"]),
    ("MaxConcurrency", &["Map"]),
    ("MaxConcurrencyPath", &["Map"]),
    ("ToleratedFailureCount", &["Map"]),
    ("ToleratedFailureCountPath", &["Map"]),
    ("ToleratedFailurePercentage", &["Map"]),
    ("ToleratedFailurePercentagePath", &["Map"]),
    ("Label", &["Map"]),
];

/// True when a state of type `ty` may have `field` (JSONPath mode).
fn allowed(ty: &str, field: &str) -> bool {
    MATRIX.iter().any(|(name, types)| *name == field && types.contains(&ty))
}

/// The state's `Type`, if it is a known one.
fn state_type<'a>(obj: &Obj<'a>, errs: &mut Errors) -> Option<&'a str> {
    let ty = obj.required_string("Type", errs)?;
    if TYPES.contains(&ty) {
        Some(ty)
    } else {
        errs.push(not_one_of(&obj.at("Type"), "Type", &TYPES));
        None
    }
}

/// Parses one state of the block `scope`.
pub(super) fn parse<'a>(p: &mut Parser<'a>, raw: &RawState<'a>, scope: &Scope<'_>, ctx: Ctx) -> Option<State> {
    let Some(map) = raw.value.as_object() else {
        p.errors.push(wrong_type(&raw.ptr, raw.name, "an object"));
        return None;
    };
    let obj = Obj::new(map, raw.ptr.clone());
    let ty = state_type(&obj, &mut p.errors)?;
    obj.check_fields_by(|field| allowed(ty, field), &DEFERRED, &mut p.errors);
    obj.string("Comment", &mut p.errors);
    query_language(&obj, &mut p.errors);
    let (input_path, output_path) = if ty == "Fail" {
        (PathField::Whole, PathField::Whole)
    } else {
        (path_field(&obj, "InputPath", &mut p.errors), path_field(&obj, "OutputPath", &mut p.errors))
    };
    let kind = kind(p, ty, &obj, scope, ctx)?;
    Some(State { name: raw.name.to_owned(), block: scope.block, input_path, output_path, kind })
}

/// The type-specific part of a state.
fn kind<'a>(p: &mut Parser<'a>, ty: &str, obj: &Obj<'a>, scope: &Scope<'_>, ctx: Ctx) -> Option<StateKind> {
    let errs = &mut p.errors;
    match ty {
        "Task" => task::parse(obj, scope, ctx, errs).map(|t| StateKind::Task(Box::new(t))),
        "Pass" => flow::pass(obj, scope, errs).map(StateKind::Pass),
        "Choice" => flow::choice(obj, scope, errs).map(StateKind::Choice),
        "Wait" => flow::wait(obj, scope, errs).map(StateKind::Wait),
        "Succeed" => Some(StateKind::Succeed),
        "Fail" => flow::fail(obj, errs).map(StateKind::Fail),
        "Parallel" => parallel::parse(p, obj, scope, ctx).map(|s| StateKind::Parallel(Box::new(s))),
        _ => map::parse(p, obj, scope, ctx).map(|s| StateKind::Map(Box::new(s))),
    }
}

/// `Next` or `End: true`, exactly one of them.
pub(super) fn next(obj: &Obj<'_>, scope: &Scope<'_>, errs: &mut Errors) -> Option<Next> {
    let end = obj.boolean("End", errs);
    if !obj.has("Next") {
        return match end {
            Some(true) => Some(Next::End),
            Some(false) => {
                let message = "The value of 'End' must be true when 'Next' is absent";
                errs.push(ValidationError::schema(obj.at("End"), message));
                None
            }
            None if obj.has("End") => None,
            None => {
                let message = "The state must have either a 'Next' field or 'End': true";
                errs.push(ValidationError::schema(&obj.ptr, message));
                None
            }
        };
    }
    if end == Some(true) {
        errs.push(both(&obj.ptr, "Next", "End"));
        return None;
    }
    scope.target(obj, "Next", errs).map(Next::State)
}
