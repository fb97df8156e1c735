//! The task invoker port: runs one Task attempt and reports its outcome.

use std::future::Future;

use asl::Failure;
use engine::{ExecutionInfo, TaskOutcome, TaskRequest};

/// Runs task attempts (Lambda functions, service integrations, mocks).
pub trait TaskInvoker: Send + Sync + 'static {
    /// Runs one attempt of `request` for `execution`. Failures of the task
    /// itself are a `TaskOutcome::Failed`, never an `Err`.
    fn invoke(&self, execution: &ExecutionInfo, request: &TaskRequest) -> impl Future<Output = TaskOutcome> + Send;
}

/// The invoker of last resort: every task fails with a terminal
/// `States.Runtime` error that names the state and resource, so a missing
/// mock or endpoint is never mistaken for a task failure a Catch could handle.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoInvoker;

/// The failure [`NoInvoker`] reports.
pub fn no_invoker_failure(request: &TaskRequest) -> Failure {
    Failure::runtime(format!(
        "No invoker for the Task state '{}' (resource '{}'): give a mock for it (--mocks FILE --test-case NAME) or a task endpoint.",
        request.state_name,
        request.resource.arn()
    ))
}

impl TaskInvoker for NoInvoker {
    fn invoke(&self, _execution: &ExecutionInfo, request: &TaskRequest) -> impl Future<Output = TaskOutcome> + Send {
        let outcome = TaskOutcome::Failed(no_invoker_failure(request));
        async move { outcome }
    }
}

/// The invoker of `switchyard serve` when no endpoint runs tasks: a
/// `.waitForTaskToken` task is *parked* — submitted to nobody, its token
/// waiting for SendTaskSuccess/SendTaskFailure or its callback URL, which is
/// what a local approval or webhook flow needs — and every other task fails
/// as with [`NoInvoker`]. Each parked task is reported on stderr with its
/// token, so nothing is silently dropped.
#[derive(Debug, Default, Clone, Copy)]
pub struct ParkingInvoker;

impl TaskInvoker for ParkingInvoker {
    fn invoke(&self, execution: &ExecutionInfo, request: &TaskRequest) -> impl Future<Output = TaskOutcome> + Send {
        let outcome = match &request.token {
            Some(token) if request.resource.pattern() == asl::resource::Pattern::WaitForTaskToken => {
                eprintln!(
                    "switchyard: parked task '{}' of {} ({}): waiting for a callback with token {token}",
                    request.state_name,
                    execution.execution_arn,
                    request.resource.arn()
                );
                TaskOutcome::Submitted(serde_json::json!({}))
            }
            _ => TaskOutcome::Failed(no_invoker_failure(request)),
        };
        async move { outcome }
    }
}
