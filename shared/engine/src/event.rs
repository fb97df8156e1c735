//! What can happen to a run: the inputs of the transition function. Each
//! event names what it expects (a version, a task, a timer, a generation of
//! children), so a duplicated, late or reordered delivery is recognized and
//! rejected instead of applied twice.

use asl::Failure;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::effect::ChildOutcome;

/// How a task attempt ended (or progressed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskOutcome {
    /// The task's result.
    Succeeded(Value),
    /// The task failed with this error and cause.
    Failed(Failure),
    /// A `.sync` or `.waitForTaskToken` task was submitted; its result comes later.
    Submitted(Value),
}

/// An input to [`crate::step`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// Enter and run the current state; valid when the run is at `version`.
    Advance {
        /// The run version the sender saw.
        version: u64,
    },
    /// A task attempt's outcome.
    TaskResult {
        /// The attempt (from [`crate::TaskRequest::task_id`]).
        task_id: u64,
        /// What happened.
        outcome: TaskOutcome,
    },
    /// A heartbeat for a running task (SendTaskHeartbeat): restarts its heartbeat timer.
    TaskHeartbeat {
        /// The attempt.
        task_id: u64,
    },
    /// A timer this run started has fired.
    TimerFired {
        /// The timer id (from [`crate::Effect::StartTimer`]).
        timer: u64,
    },
    /// A child reported that it finished.
    ChildFinished {
        /// The parent step that started the child.
        generation: u64,
        /// The child's index.
        index: u32,
        /// Its failure, or `None` when it succeeded (results are collected later).
        failure: Option<asl::Failure>,
        /// The child's newest event id.
        last_event_id: u64,
        /// The child's newest event before its closing `MapIteration…` event.
        last_state_event_id: u64,
    },
    /// Every child of a tallied fan-out has ended (sent once by the child
    /// whose end completed the tally; a repeat is stale).
    ChildrenDone {
        /// The parent step that started the children.
        generation: u64,
        /// The child whose end completed the tally.
        index: u32,
        /// Its newest event id.
        last_event_id: u64,
    },
    /// The results of all children, in index order (answer to [`crate::Effect::CollectChildren`]).
    ChildrenCollected {
        /// The parent step that started the children.
        generation: u64,
        /// Each child's outcome.
        results: Vec<ChildOutcome>,
        /// Each child's event ids, in index order (tallied fan-outs only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        marks: Vec<crate::effect::ChildMark>,
    },
    /// Stop this child run because its parent no longer needs it.
    Abort,
    /// RedriveExecution on the root run of a FAILED, TIMED_OUT or ABORTED execution.
    Redrive,
    /// StopExecution on the root run.
    Stop {
        /// The error given to StopExecution.
        error: Option<String>,
        /// The cause given to StopExecution.
        cause: Option<String>,
    },
}
