//! The catalog port: state machines, and the executions of each, listed —
//! what the Step Functions API needs besides running executions.

use std::future::Future;

use engine::RunStatus;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// A state machine as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachine {
    /// `arn:aws:states:<region>:<account>:stateMachine:<name>`.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The definition text, as given.
    pub definition: String,
    /// The role executions run as.
    pub role_arn: String,
    /// `STANDARD` (the only type served).
    pub machine_type: String,
    /// When it was created (ms since the epoch).
    pub created_ms: i64,
    /// When it was last updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_ms: Option<i64>,
    /// Changes with every update (DescribeStateMachine `revisionId`).
    pub revision_id: String,
}

/// An execution as ListExecutions shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionListing {
    /// The execution.
    pub execution_arn: String,
    /// Its state machine.
    pub state_machine_arn: String,
    /// Its name.
    pub name: String,
    /// Where it stands.
    pub status: RunStatus,
    /// Start (ms since the epoch).
    pub start_ms: i64,
    /// End, once ended.
    pub stop_ms: Option<i64>,
    /// Times redriven.
    pub redrive_count: u32,
}

/// One page of a listing; `next` continues it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// An opaque token for the next page, when there is one.
    pub next: Option<String>,
}

/// Where state machines are kept and executions are listed from.
pub trait Catalog: Send + Sync + 'static {
    /// Records a new state machine; false (and nothing written) when its ARN is taken.
    fn create_machine(&self, machine: &StateMachine) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A state machine, `None` when there is none with this ARN.
    fn machine(&self, arn: &str) -> impl Future<Output = Result<Option<StateMachine>, StoreError>> + Send;

    /// Replaces a state machine (an update).
    fn put_machine(&self, machine: &StateMachine) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a state machine (its executions stay).
    fn delete_machine(&self, arn: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// State machines in ARN order, `limit` at a time.
    fn list_machines(
        &self,
        limit: usize,
        token: Option<&str>,
    ) -> impl Future<Output = Result<Page<StateMachine>, StoreError>> + Send;

    /// The executions of a state machine, newest first, optionally only those with `status`.
    fn list_executions(
        &self,
        machine_arn: &str,
        status: Option<RunStatus>,
        limit: usize,
        token: Option<&str>,
    ) -> impl Future<Output = Result<Page<ExecutionListing>, StoreError>> + Send;
}

/// The sort key of an execution in its machine's listing: newest first is
/// descending order of this text.
pub fn listing_key(start_ms: i64, name: &str) -> String {
    format!("{start_ms:015}#{name}")
}
