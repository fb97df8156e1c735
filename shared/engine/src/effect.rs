//! What the caller must do after committing a transition. Effects are
//! derived from the committed step, so redoing them after a crash is safe.

use asl::resource::Resource;
use asl::{BlockId, Failure, StateId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::snapshot::{RunId, RunStatus};

/// An instruction to the world outside the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Effect {
    /// Deliver `Event::Advance { version }` to this run.
    Continue {
        /// The version the run will be at.
        version: u64,
    },
    /// Run a task attempt and deliver its `Event::TaskResult`.
    InvokeTask(Box<TaskRequest>),
    /// Deliver `Event::TimerFired { timer }` to this run at `due_ms`.
    StartTimer {
        /// The timer id.
        timer: u64,
        /// When it fires (ms since epoch); never earlier.
        due_ms: i64,
    },
    /// Create these child runs and deliver each its start.
    StartChildren(Vec<ChildSpec>),
    /// Deliver `Event::Abort` to this run's still-running children of `generation`.
    AbortChildren {
        /// The step that started them.
        generation: u64,
        /// How many children that step has.
        total: u32,
    },
    /// Read the outcomes of the `total` children of `generation` and deliver
    /// them as `Event::ChildrenCollected`.
    CollectChildren {
        /// The step that started them.
        generation: u64,
        /// How many children.
        total: u32,
    },
    /// Store this child's outcome (once) and deliver `Event::ChildFinished` to its parent.
    ReportToParent(Box<ChildReport>),
    /// The execution ended (root only): record its final status.
    Close {
        /// The final status.
        status: RunStatus,
    },
}

/// One task attempt to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRequest {
    /// Correlates the outcome with this attempt.
    pub task_id: u64,
    /// The run that waits for the outcome (the root, a branch or an iteration).
    #[serde(default)]
    pub run: RunId,
    /// The Task state.
    pub state: StateId,
    /// The Task state's name.
    pub state_name: String,
    /// What to run.
    pub resource: Resource,
    /// The task input (after InputPath and Parameters).
    pub input: Value,
    /// The task token, for `.waitForTaskToken`.
    pub token: Option<String>,
    /// `TimeoutSeconds` in force.
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds` in force.
    pub heartbeat_seconds: Option<u64>,
    /// Retries before this attempt.
    pub retry_count: u32,
}

/// A child run to create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildSpec {
    /// The child's id.
    pub id: RunId,
    /// The parent step that starts it.
    pub generation: u64,
    /// Branch or item index.
    pub index: u32,
    /// The block the child runs.
    pub block: BlockId,
    /// The child's input.
    pub input: Value,
    /// The Map state, for Map iterations.
    pub map_state: Option<StateId>,
    /// The causal predecessor of the child's first event: the parent's
    /// `ParallelStateStarted` / `MapStateStarted`, or the sibling whose end made room for it.
    pub first_prev: crate::history::Prev,
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChildOutcome {
    /// Its output.
    Succeeded(Value),
    /// Its failure.
    Failed(Failure),
    /// It was stopped because a sibling failed (or the execution stopped).
    Aborted,
}

/// A child's report to its parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildReport {
    /// The parent run.
    pub parent: RunId,
    /// The parent step that started the child.
    pub generation: u64,
    /// The child's index.
    pub index: u32,
    /// How it ended.
    pub outcome: ChildOutcome,
    /// The child's newest event id.
    pub last_event_id: u64,
    /// The child's newest event before its closing `MapIteration…` event.
    pub last_state_event_id: u64,
}

impl ChildReport {
    /// The `ChildFinished` event this report becomes for the parent. An
    /// aborted child counts like a failed one: only a failing parent aborts
    /// its children, and it waits for every report alike.
    pub fn finished_event(&self) -> crate::event::Event {
        let failure = match &self.outcome {
            ChildOutcome::Succeeded(_) => None,
            ChildOutcome::Failed(f) => Some(f.clone()),
            ChildOutcome::Aborted => Some(Failure::new("States.Aborted", "The child run was aborted.")),
        };
        crate::event::Event::ChildFinished {
            generation: self.generation,
            index: self.index,
            failure,
            last_event_id: self.last_event_id,
            last_state_event_id: self.last_state_event_id,
        }
    }
}
