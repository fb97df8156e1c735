//! `Type: Task`.

use super::block::{Ctx, Scope};
use super::fields::{Errors, MAX_SECONDS, Obj, both, required, wrong_type};
use super::paths::{compile, integer_field, result_path, template};
use super::resource::{ResourceError, classify};
use super::{recovery, state};
use crate::definition::{NumberField, TaskState};
use crate::error::{ValidationCode, ValidationError};
use crate::resource::{Pattern, Resource};
use crate::template::Template;

/// Parses the Task-specific fields of `obj`.
pub(super) fn parse(obj: &Obj<'_>, scope: &Scope<'_>, ctx: Ctx, errs: &mut Errors) -> Option<TaskState> {
    let resource = resource(obj, ctx, errs);
    let parameters = template(obj, "Parameters", errs);
    let result_selector = template(obj, "ResultSelector", errs);
    let result_path = result_path(obj, "ResultPath", errs);
    let range = 1..=MAX_SECONDS;
    let timeout_seconds = integer_field(obj, "TimeoutSeconds", "TimeoutSecondsPath", range.clone(), errs);
    let heartbeat_seconds = integer_field(obj, "HeartbeatSeconds", "HeartbeatSecondsPath", range, errs);
    if let (Some(NumberField::Literal(timeout)), Some(NumberField::Literal(heartbeat))) =
        (&timeout_seconds, &heartbeat_seconds)
        && heartbeat >= timeout
    {
        let message = "The value of 'HeartbeatSeconds' must be less than the value of 'TimeoutSeconds'";
        errs.push(ValidationError::schema(obj.at("HeartbeatSeconds"), message));
    }
    let credentials = credentials(obj, errs);
    let retry = recovery::retriers(obj, errs);
    let catch = recovery::catchers(obj, scope, errs);
    let next = state::next(obj, scope, errs);
    Some(TaskState {
        resource: resource?,
        parameters,
        result_selector,
        result_path,
        timeout_seconds,
        heartbeat_seconds,
        credentials,
        retry,
        catch,
        next: next?,
    })
}

/// `Resource`: required, an ARN this build can run.
fn resource(obj: &Obj<'_>, ctx: Ctx, errs: &mut Errors) -> Option<Resource> {
    let text = obj.required_string("Resource", errs)?;
    let ptr = obj.at("Resource");
    match classify(text) {
        Ok(resource) => {
            let pattern = resource.pattern();
            if ctx.express && pattern != Pattern::RequestResponse {
                let message =
                    format!("Express state machine does not support '{}' service integration", pattern.suffix());
                errs.push(ValidationError::schema(ptr, message));
            }
            Some(resource)
        }
        Err(ResourceError::Unsupported(message)) => {
            errs.push(ValidationError::new(ValidationCode::Unsupported, ptr, message));
            None
        }
        Err(ResourceError::Invalid(message)) => {
            errs.push(ValidationError::new(ValidationCode::InvalidResource, ptr, message));
            None
        }
    }
}

/// `Credentials`: `{"RoleArn": "..."}` or `{"RoleArn.$": path or intrinsic}`.
fn credentials(obj: &Obj<'_>, errs: &mut Errors) -> Option<Template> {
    let creds = obj.object("Credentials", errs)?;
    creds.check_fields(&["RoleArn", "RoleArn.$"], &[], errs);
    match (creds.get("RoleArn"), creds.has("RoleArn.$")) {
        (None, false) => {
            errs.push(required(&creds.ptr, "RoleArn"));
            return None;
        }
        (Some(_), true) => {
            errs.push(both(&creds.ptr, "RoleArn", "RoleArn.$"));
            return None;
        }
        (Some(role), false) if !role.is_string() => {
            errs.push(wrong_type(&creds.at("RoleArn"), "RoleArn", "a string"));
            return None;
        }
        _ => {}
    }
    compile(obj.get("Credentials")?, &creds.ptr, errs)
}
