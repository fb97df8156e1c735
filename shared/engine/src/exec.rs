//! What an execution is, independent of its progress: ids, names, input and
//! start time. Stored once per execution; every run of it reads it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The immutable facts of one execution (the `$$.Execution` and
/// `$$.StateMachine` parts of the context object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionInfo {
    /// `arn:aws:states:<region>:<account>:execution:<machine>:<name>`.
    pub execution_arn: String,
    /// The execution name.
    pub name: String,
    /// The state machine's ARN.
    pub state_machine_arn: String,
    /// The state machine's name.
    pub state_machine_name: String,
    /// The role the execution runs as.
    pub role_arn: String,
    /// The execution input.
    pub input: Value,
    /// When the execution started, in milliseconds since the Unix epoch.
    pub start_time_ms: i64,
    /// How many times the execution was redriven.
    pub redrive_count: u32,
    /// Where task-token callbacks can be sent without credentials
    /// (`<base>/callbacks/<token>/success`), when an API serves the execution:
    /// the context object then has `$$.Task.CallbackUrl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_base_url: Option<String>,
    /// The Task state that started this execution
    /// (`arn:aws:states:::states:startExecution…`), when another execution did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<StartedBy>,
}

/// The parent task of a nested execution: which attempt started it and how
/// it waits. A `.sync` / `.sync:2` parent is answered when this execution
/// closes; the link also makes a repeated start of the same attempt
/// recognizable (it finds its own child instead of failing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedBy {
    /// The parent execution.
    pub execution_arn: String,
    /// The parent run (root, branch or iteration) that runs the Task state.
    pub run: crate::snapshot::RunId,
    /// The parent's task attempt.
    pub task_id: u64,
    /// The integration pattern of the parent's Task state.
    pub pattern: asl::resource::Pattern,
}

impl StartedBy {
    /// Whether the parent waits for this execution to close (`.sync`, `.sync:2`).
    pub fn waits(&self) -> bool {
        matches!(self.pattern, asl::resource::Pattern::Sync | asl::resource::Pattern::Sync2)
    }
}

impl ExecutionInfo {
    /// The region part of the execution ARN (`TaskScheduled.region`).
    pub fn region(&self) -> &str {
        self.execution_arn.split(':').nth(3).unwrap_or("")
    }
}
