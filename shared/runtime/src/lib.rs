//! Everything around the pure engine that a process needs to run executions:
//! the ports (a store for run snapshots and history, a task invoker, a clock,
//! a source of randomness) and their in-process adapters (an in-memory store,
//! a Step Functions Local mock-file invoker), plus the local runtime that
//! drives executions to completion in one process.

pub mod catalog;
pub mod clock;
pub mod driver;
pub mod entropy;
pub mod invoker;
pub mod local;
pub mod memory;
pub mod merge;
pub mod mock;
pub mod recovery;
pub mod render;
pub mod stepper;
pub mod store;
pub mod tally;

pub use clock::Clock;
pub use driver::{Applied, Delivery, DeliveryKind};
pub use entropy::{OsEntropy, SeededEntropy};
pub use invoker::{NoInvoker, ParkingInvoker, TaskInvoker};
pub use local::{LocalRuntime, Observer, RuntimeError};
pub use memory::MemoryStateStore;
pub use mock::{MockConfig, MockInvoker};
pub use store::{
    Checkout, CommitOutcome, ExecutionFacts, ExecutionRecord, ExecutionSummary, NewestStep, RecordedEvent, StateStore,
    StepRecord, StoreError,
};

/// The account id of executions run locally (as Step Functions Local uses).
pub const LOCAL_ACCOUNT: &str = "123456789012";
/// The region of executions run locally.
pub const LOCAL_REGION: &str = "us-east-1";

/// The ARN of a state machine named `name` in the local account.
pub fn local_state_machine_arn(name: &str) -> String {
    format!("arn:aws:states:{LOCAL_REGION}:{LOCAL_ACCOUNT}:stateMachine:{name}")
}

/// The facts of a local execution `execution` of state machine `machine`.
pub fn local_execution_info(
    machine: &str,
    execution: &str,
    input: serde_json::Value,
    start_time_ms: i64,
) -> engine::ExecutionInfo {
    engine::ExecutionInfo {
        execution_arn: format!("arn:aws:states:{LOCAL_REGION}:{LOCAL_ACCOUNT}:execution:{machine}:{execution}"),
        name: execution.to_string(),
        state_machine_arn: local_state_machine_arn(machine),
        state_machine_name: machine.to_string(),
        role_arn: format!("arn:aws:iam::{LOCAL_ACCOUNT}:role/switchyard-local"),
        input,
        start_time_ms,
        redrive_count: 0,
        callback_base_url: None,
        started_by: None,
    }
}
