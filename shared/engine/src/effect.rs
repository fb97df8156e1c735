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
    /// Keep the specs of the children that start later, as earlier ones end
    /// (a tallied fan-out with more children than its window): the end of
    /// child `i` starts child `i + window` from its stored spec.
    StageChildren {
        /// The step that starts them.
        generation: u64,
        /// Their specs, in index order.
        specs: Vec<ChildSpec>,
    },
    /// Start staged child `index` of `generation` after the sibling `after`
    /// points at — or, when the fan-out is failing by then, count it and the
    /// rest of its chain as ended without starting them.
    StartStaged {
        /// The step that started the fan-out.
        generation: u64,
        /// The child to start.
        index: u32,
        /// The fan-out's tally.
        tally: crate::snapshot::Tally,
        /// The causal predecessor of its first event.
        after: crate::history::Prev,
    },
    /// Deliver `Event::Abort` to this run's still-running children of `generation`.
    AbortChildren {
        /// The step that started them.
        generation: u64,
        /// How many children that step has.
        total: u32,
        /// The children report through this tally: mark it failing first, so
        /// that no further child starts, and abort only the unfinished ones.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tally: Option<crate::snapshot::Tally>,
    },
    /// Read the outcomes of the `total` children of `generation` and deliver
    /// them as `Event::ChildrenCollected`.
    CollectChildren {
        /// The step that started them.
        generation: u64,
        /// How many children.
        total: u32,
        /// The outcomes are in the fan-out's tally (with each child's event ids).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tally: Option<crate::snapshot::Tally>,
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
    /// The fan-out's tally, when the child reports through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<crate::snapshot::Tally>,
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
    /// The fan-out's tally, when the child reports through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<crate::snapshot::Tally>,
}

/// A child's event ids, as its tallied outcome keeps them: the parent adds
/// them up and points its closing events at them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChildMark {
    /// The child's newest event id.
    pub last_event_id: u64,
    /// The child's newest event before its closing `MapIteration…` event.
    pub last_state_event_id: u64,
}

impl ChildReport {
    /// The ids the parent needs of this child.
    pub fn mark(&self) -> ChildMark {
        ChildMark { last_event_id: self.last_event_id, last_state_event_id: self.last_state_event_id }
    }

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
