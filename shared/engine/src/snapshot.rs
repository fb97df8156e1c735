//! The snapshot of one run: where it is, the data it carries, and what it
//! waits for. This is what a store persists after every transition.

use std::fmt;

use asl::{BlockId, StateId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::history::Prev;

/// Identifies a run within its execution: `""` for the root, and
/// `<parent>/<generation>.<index>` for a child, so a child's id is derived
/// from its parent's without any lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct RunId(pub String);

impl RunId {
    /// The root run.
    pub fn root() -> RunId {
        RunId(String::new())
    }

    /// True for the root run.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The id of child `index` started by this run at step `generation`.
    pub fn child(&self, generation: u64, index: u32) -> RunId {
        RunId(format!("{}/{generation}.{index}", self.0))
    }

    /// The id of sibling `index` (same parent, same generation), `None` for the root.
    pub fn sibling(&self, index: u32) -> Option<RunId> {
        let cut = self.0.rfind('.')?;
        if self.0[cut..].contains('/') {
            return None;
        }
        Some(RunId(format!("{}.{index}", &self.0[..cut])))
    }

    /// The parent's id, `None` for the root.
    pub fn parent(&self) -> Option<RunId> {
        if self.is_root() {
            return None;
        }
        let cut = self.0.rfind('/')?;
        Some(RunId(self.0[..cut].to_string()))
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() { f.write_str("(root)") } else { f.write_str(&self.0) }
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunStatus {
    /// Still advancing.
    Running,
    /// Reached the end of its block (root: `ExecutionSucceeded`).
    Succeeded,
    /// Failed with an uncaught error.
    Failed,
    /// The execution's `TimeoutSeconds` elapsed (root only).
    TimedOut,
    /// Stopped: by StopExecution (root) or because a sibling failed (child).
    Aborted,
}

impl RunStatus {
    /// The status as DescribeExecution spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Succeeded => "SUCCEEDED",
            RunStatus::Failed => "FAILED",
            RunStatus::TimedOut => "TIMED_OUT",
            RunStatus::Aborted => "ABORTED",
        }
    }
}

/// How a child run relates to the run that started it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParentLink {
    /// The step of the parent that started this child.
    pub generation: u64,
    /// The branch index (Parallel) or item index (Map).
    pub index: u32,
    /// The Map state, when this child is a Map iteration (it then records
    /// `MapIteration*` events named after it).
    pub map_state: Option<StateId>,
    /// The parent's tally, when the child reports through it (every fan-out
    /// started by this release; `None` in snapshots of earlier releases, whose
    /// children report with one parent step each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<Tally>,
}

/// How the children of a fan-out report and start: each child's end is put
/// once as its outcome and added to an idempotent set of finished indices
/// (sharded), never written as a step of the parent; the child that
/// completes the set tells the parent once. At most `window` children run at
/// once: the first `window` start with the fan-out, and the end of child `i`
/// starts child `i + window` (docs/architecture.md, "Fan-out and fan-in").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// How many children the fan-out has.
    pub total: u32,
    /// How many run at once at most (≥ 1, ≤ `total`).
    pub window: u32,
}

impl Tally {
    /// The child whose start the end of child `index` makes room for.
    pub fn successor(&self, index: u32) -> Option<u32> {
        index.checked_add(self.window).filter(|next| *next < self.total)
    }

    /// Child `index` and every child after it in its chain
    /// (`index`, `index + window`, …): the children that never start when
    /// the fan-out fails before `index` does.
    pub fn chain(&self, index: u32) -> impl Iterator<Item = u32> + use<> {
        let (total, window) = (self.total, self.window.max(1));
        (index..total).step_by(window as usize)
    }
}

/// One run's snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// This run's id.
    pub id: RunId,
    /// Set for children.
    pub parent: Option<ParentLink>,
    /// The block of states this run walks.
    pub block: BlockId,
    /// How many transitions this run has committed.
    pub version: u64,
    /// The id of the newest history event this run recorded (ids count the
    /// events of finished children too, so a root's ids match the merged history).
    pub last_event_id: u64,
    /// Where the run stands.
    pub status: RunStatus,
    /// The current state and its data.
    pub cursor: Cursor,
    /// The execution-timeout timer, on the root when `TimeoutSeconds` is set.
    pub execution_timer: Option<u64>,
    /// Times the execution was redriven (root run only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redrive_count: u32,
}

/// The current state of a run and what it is doing there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The current state.
    pub state: StateId,
    /// The state's raw input.
    pub input: Value,
    /// The `…StateEntered` event of the current state (0 before it is entered).
    pub entered_event_id: u64,
    /// When the current state was entered (ms since epoch).
    pub entered_time_ms: i64,
    /// Attempts used per retrier of the current state.
    pub retry_counts: Vec<u32>,
    /// Retries so far in the current state (`$$.State.RetryCount`).
    pub retry_count: u32,
    /// The causal predecessor of the next event this run records.
    pub prev: Prev,
    /// What the run waits for.
    pub phase: Phase,
}

impl Cursor {
    /// A cursor about to enter `state` with `input`.
    pub fn ready(state: StateId, input: Value, prev: Prev) -> Cursor {
        Cursor {
            state,
            input,
            entered_event_id: 0,
            entered_time_ms: 0,
            retry_counts: Vec::new(),
            retry_count: 0,
            prev,
            phase: Phase::Ready,
        }
    }
}

/// What a run waits for in its current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Phase {
    /// The state is not entered yet: an `Advance` enters and runs it.
    Ready,
    /// A task attempt is out.
    Task {
        /// Correlates the result with this attempt.
        task_id: u64,
        /// The task token of a `.waitForTaskToken` attempt.
        token: Option<String>,
        /// `TaskStarted` (or `LambdaFunctionStarted`) was recorded.
        started: bool,
        /// The `TimeoutSeconds` timer.
        timeout_timer: Option<u64>,
        /// The `HeartbeatSeconds` timer, and its length in seconds.
        heartbeat: Option<(u64, u64)>,
    },
    /// A Wait state's timer.
    Waiting {
        /// The timer that ends the wait.
        timer: u64,
    },
    /// Waiting out a retry interval before the next attempt.
    Backoff {
        /// The timer that starts the next attempt.
        timer: u64,
    },
    /// A Parallel or Map state waits for its children.
    FanOut(Box<FanOut>),
}

/// A Parallel or Map state's children: how many, which finished, which wait to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanOut {
    /// The step that started the children (part of their ids).
    pub generation: u64,
    /// The `ParallelStateStarted` / `MapStateStarted` event.
    pub started_event_id: u64,
    /// Number of children.
    pub total: u32,
    /// Children started so far (they start in index order).
    pub started: u32,
    /// One bit per child: finished.
    pub finished: Vec<u64>,
    /// Children finished.
    pub finished_count: u32,
    /// Children failed.
    pub failed_count: u32,
    /// At most this many children run at once (0: no limit).
    pub max_concurrency: u32,
    /// Map: failures tolerated (count).
    pub tolerated_count: Option<u64>,
    /// Map: failures tolerated (percentage of items).
    pub tolerated_percentage: Option<f64>,
    /// Map items not started yet (only kept when concurrency is limited).
    pub pending_items: Vec<Value>,
    /// The Map's effective input, kept for `ItemSelector` when items start later.
    pub selector_input: Option<Value>,
    /// The newest event of the last child to finish.
    pub last_child_event: Prev,
    /// Where the failure that stops the state happened (the failing child's last state event).
    pub failure_prev: Prev,
    /// All children finished; their results were requested.
    pub collecting: bool,
    /// The state is failing with this error; it waits for the started children to stop.
    pub aborting: Option<asl::Failure>,
    /// Set when the children report through a tally (see [`Tally`]): then
    /// `finished` marks only the failures reported so far, and `started`,
    /// `pending_items` and `selector_input` are unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tally: Option<Tally>,
}

impl FanOut {
    /// True when child `index` already reported.
    pub fn is_finished(&self, index: u32) -> bool {
        self.finished.get((index / 64) as usize).is_some_and(|word| word & (1u64 << (index % 64)) != 0)
    }

    /// Records that child `index` reported.
    pub fn mark_finished(&mut self, index: u32) {
        let word = (index / 64) as usize;
        if self.finished.len() <= word {
            self.finished.resize(word + 1, 0);
        }
        self.finished[word] |= 1u64 << (index % 64);
        self.finished_count += 1;
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
