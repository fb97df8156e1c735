//! Nested executions: a Task state with the Resource
//! `arn:aws:states:::states:startExecution` (and `.sync`, `.sync:2`,
//! `.waitForTaskToken`) starts an execution of another state machine of the
//! same deployment, as Step Functions' optimized integration does:
//!
//! - request/response: the result is the StartExecution response
//!   `{ExecutionArn, SdkHttpMetadata, SdkResponseMetadata, StartDate}`;
//! - `.sync` / `.sync:2`: that response is the `TaskSubmitted` output, and
//!   the child answers the task when it closes (see `runtime::render::nested_result`);
//! - `.waitForTaskToken`: submitted likewise; the answer is SendTaskSuccess
//!   or SendTaskFailure with the token the Parameters passed to the child.
//!
//! The child records which task attempt started it, so a repeated start of
//! that attempt (an at-least-once delivery redone) finds the same child; with
//! no `Name`, the child's name is derived from the attempt for that reason.
//! Failures of the call are named as Step Functions names them:
//! `StepFunctions.<Code>Exception` (e.g. `StepFunctions.StateMachineDoesNotExistException`).

use std::sync::Arc;

use asl::Failure;
use asl::resource::Pattern;
use engine::{ExecutionInfo, StartedBy, TaskOutcome, TaskRequest};
use runtime::catalog::Catalog;
use runtime::stepper::Carrier;
use runtime::{StateStore, TaskInvoker};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::service::{Api, StartRequest, Started};

/// The Parameters members of `states:startExecution` (the StartExecution request).
const MEMBERS: [&str; 3] = ["StateMachineArn", "Input", "Name"];

/// Whether `resource` starts a nested execution.
pub fn handles(resource: &asl::resource::Resource) -> bool {
    resource.is_integration("states", "startExecution")
}

/// Runs `states:startExecution` tasks on `api` and hands every other task to `next`.
pub struct NestedInvoker<S, C, N> {
    api: Arc<Api<S, C>>,
    next: N,
}

impl<S, C, N> NestedInvoker<S, C, N> {
    /// Nested executions through `api`; other resources through `next`.
    pub fn new(api: Arc<Api<S, C>>, next: N) -> Self {
        NestedInvoker { api, next }
    }
}

/// The Parameters of a `states:startExecution` task, checked.
struct Call<'a> {
    machine_arn: &'a str,
    input: String,
    name: Option<String>,
}

fn parameters(input: &Value) -> Result<Call<'_>, Failure> {
    let Some(m) = input.as_object() else {
        return Err(Failure::runtime("The Parameters of a states:startExecution task must be a JSON object"));
    };
    if let Some(unknown) = m.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
        return Err(Failure::runtime(format!(
            "The field '{unknown}' is not supported by Step Functions for arn:aws:states:::states:startExecution (its Parameters are {})",
            MEMBERS.join(", ")
        )));
    }
    let machine_arn = match m.get("StateMachineArn") {
        Some(Value::String(arn)) => arn.as_str(),
        _ => {
            return Err(Failure::runtime(
                "The Parameters of a states:startExecution task need a StateMachineArn string",
            ));
        }
    };
    // Input as an object is the input; as a string it is the input's JSON text.
    let input = match m.get("Input") {
        None | Some(Value::Null) => "{}".to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(value) => value.to_string(),
    };
    let name = match m.get("Name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return Err(Failure::runtime("The Name of a states:startExecution task must be a string")),
    };
    Ok(Call { machine_arn, input, name })
}

/// The failure Step Functions reports when the StartExecution call fails.
fn call_failure(e: &ApiError, request_id: &str) -> Failure {
    let code = e.kind.strip_suffix("Exception").unwrap_or(e.kind);
    Failure::new(
        format!("StepFunctions.{code}Exception"),
        format!(
            "{} (Service: AWSStepFunctions; Status Code: {}; Error Code: {}; Request ID: {request_id}; Proxy: null)",
            e.message,
            e.status(),
            e.kind
        ),
    )
}

/// An HTTP date (`Sun, 22 Nov 2026 07:32:38 GMT`).
fn http_date(ms: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// The StartExecution response as the optimized integration returns it,
/// with the SDK's HTTP metadata.
fn start_response(started: &Started, request_id: &str, now_ms: i64) -> Value {
    let body =
        json!({"executionArn": started.execution_arn, "startDate": started.start_ms as f64 / 1000.0}).to_string();
    let length = body.len().to_string();
    let date = http_date(now_ms);
    let mut m = Map::new();
    m.insert("ExecutionArn".into(), Value::String(started.execution_arn.clone()));
    m.insert(
        "SdkHttpMetadata".into(),
        json!({
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "connection": ["keep-alive"],
                "Content-Length": [length],
                "Date": [date],
                "Content-Type": ["application/x-amz-json-1.0"],
            },
            "HttpHeaders": {
                "connection": "keep-alive",
                "Content-Length": length,
                "Content-Type": "application/x-amz-json-1.0",
                "Date": date,
                "x-amzn-RequestId": request_id,
            },
            "HttpStatusCode": 200,
        }),
    );
    m.insert("SdkResponseMetadata".into(), json!({"RequestId": request_id}));
    m.insert("StartDate".into(), Value::from(started.start_ms));
    Value::Object(m)
}

impl<S, C, N> NestedInvoker<S, C, N>
where
    S: StateStore + Catalog,
    C: Carrier,
    N: TaskInvoker,
{
    async fn start_child(&self, execution: &ExecutionInfo, request: &TaskRequest) -> TaskOutcome {
        let call = match parameters(&request.input) {
            Ok(call) => call,
            Err(failure) => return TaskOutcome::Failed(failure),
        };
        let started_by = StartedBy {
            execution_arn: execution.execution_arn.clone(),
            run: request.run.clone(),
            task_id: request.task_id,
            pattern: request.resource.pattern(),
        };
        // A repeated start of this attempt must name the same child.
        let name = call.name.unwrap_or_else(|| {
            let key = format!("{}\n{}\n{}", started_by.execution_arn, started_by.run.0, started_by.task_id);
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes()).to_string()
        });
        let request_id = uuid::Uuid::new_v4().to_string();
        let start = StartRequest {
            machine_arn: call.machine_arn,
            name: Some(name),
            input: &call.input,
            callback_base_url: execution.callback_base_url.clone(),
            started_by: Some(started_by),
        };
        match self.api.start(start).await {
            Ok(started) => {
                let response = start_response(&started, &request_id, self.api.now_ms());
                match request.resource.pattern() {
                    Pattern::RequestResponse => TaskOutcome::Succeeded(response),
                    Pattern::Sync | Pattern::Sync2 | Pattern::WaitForTaskToken => TaskOutcome::Submitted(response),
                }
            }
            Err(e) => TaskOutcome::Failed(call_failure(&e, &request_id)),
        }
    }
}

impl<S, C, N> TaskInvoker for NestedInvoker<S, C, N>
where
    S: StateStore + Catalog,
    C: Carrier,
    N: TaskInvoker,
{
    async fn invoke(&self, execution: &ExecutionInfo, request: &TaskRequest) -> TaskOutcome {
        if handles(&request.resource) {
            self.start_child(execution, request).await
        } else {
            self.next.invoke(execution, request).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_the_start_execution_request() {
        let p = json!({"StateMachineArn": "arn:m", "Input": {"a": 1}, "Name": "n"});
        let call = parameters(&p).unwrap();
        assert_eq!((call.machine_arn, call.input.as_str(), call.name.as_deref()), ("arn:m", r#"{"a":1}"#, Some("n")));
        let text = json!({"StateMachineArn": "arn:m", "Input": "{\"b\": 2}"});
        assert_eq!(parameters(&text).unwrap().input, "{\"b\": 2}");
        assert_eq!(parameters(&json!({"StateMachineArn": "arn:m"})).unwrap().input, "{}");
        let unknown = parameters(&json!({"StateMachineArn": "arn:m", "TraceHeader": "x"})).err().unwrap();
        assert_eq!(unknown.error, "States.Runtime");
        assert!(unknown.cause.starts_with("The field 'TraceHeader' is not supported"), "{}", unknown.cause);
        assert_eq!(parameters(&json!({"Input": {}})).err().unwrap().error, "States.Runtime");
        assert_eq!(parameters(&json!([1])).err().unwrap().error, "States.Runtime");
    }

    #[test]
    fn call_failures_are_named_as_step_functions_names_them() {
        let e = ApiError::new("StateMachineDoesNotExist", "State Machine Does Not Exist: 'arn:m'");
        let f = call_failure(&e, "rid");
        assert_eq!(f.error, "StepFunctions.StateMachineDoesNotExistException");
        assert_eq!(
            f.cause,
            "State Machine Does Not Exist: 'arn:m' (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: rid; Proxy: null)"
        );
        let v = call_failure(&ApiError::validation("bad"), "rid");
        assert_eq!(v.error, "StepFunctions.ValidationException");
    }

    #[test]
    fn http_dates() {
        assert_eq!(http_date(1_795_304_351_123), "Sat, 21 Nov 2026 23:39:11 GMT");
    }
}
