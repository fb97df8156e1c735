//! The store port: executions, run snapshots, the history log and child
//! outcomes. Every transition is committed once: a commit names the version
//! it advances from, and a second commit of the same step is refused.

use std::future::Future;
use std::sync::Arc;

use asl::Definition;
use engine::{
    ChildMark, ChildOutcome, ChildReport, ChildSpec, Effect, ExecutionInfo, HistoryEvent, Run, RunId, RunStatus, Tally,
};

use crate::catalog::Page;
use crate::tally::TallyState;
use serde_json::Value;

/// Errors of a store adapter (I/O, throttling, corrupt items). A lost race
/// is not an error: see [`CommitOutcome`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The execution is not in the store.
    #[error("execution does not exist: {0}")]
    ExecutionDoesNotExist(String),
    /// The execution already exists.
    #[error("execution already exists: {0}")]
    ExecutionAlreadyExists(String),
    /// A page token that is not one this store gave out.
    #[error("invalid page token: {0}")]
    InvalidToken(String),
    /// The backend failed.
    #[error("store backend failed: {0}")]
    Backend(String),
}

/// One step to commit: the run's snapshot after it, the history events it
/// recorded, the effects it calls for and what caused it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    /// The run at `run.version`.
    pub run: Run,
    /// The events the step recorded.
    pub history: Vec<HistoryEvent>,
    /// The effects to perform once the step is committed (kept, so a
    /// redelivered cause can perform them again).
    pub effects: Vec<Effect>,
    /// What caused the step (see `Delivery::cause`).
    pub cause: String,
}

/// The newest committed step of one run, as the recovery pass reads it from
/// the table: enough to carry out that step's effects again.
#[derive(Debug, Clone, PartialEq)]
pub struct NewestStep {
    /// The run.
    pub run: RunId,
    /// The step's version (the run's newest).
    pub version: u64,
    /// The run's status after the step.
    pub status: RunStatus,
    /// What caused the step (see `Delivery::cause`).
    pub cause: String,
    /// The step's effects.
    pub effects: Vec<Effect>,
}

/// A run handed out for one transition, with the cause of its newest step.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkout {
    /// The run's newest snapshot.
    pub run: Run,
    /// What caused its newest step.
    pub cause: String,
    /// It came from a cache of this process, not from the table: it may be
    /// stale, so a rejection based on it is checked against the table
    /// (after [`StateStore::forget`]) before the delivery is dropped.
    pub cached: bool,
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq)]
pub enum CommitOutcome {
    /// The step is recorded.
    Committed {
        /// The events' merged `(id, previousEventId)`, in order.
        ids: Vec<(u64, u64)>,
        /// The step's events, handed back.
        history: Vec<HistoryEvent>,
        /// The step's effects, handed back.
        effects: Vec<Effect>,
    },
    /// Somebody else already committed this step (or a later one): drop the event.
    AlreadyCommitted,
}

/// One event of the merged history of an execution.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The merged, dense id (1-based).
    pub id: u64,
    /// The merged id of its causal predecessor (0 for none).
    pub previous_event_id: u64,
    /// The event.
    pub event: HistoryEvent,
}

/// How an execution stands, as DescribeExecution reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionSummary {
    /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub status: RunStatus,
    /// When it ended (ms since epoch).
    pub stop_time_ms: Option<i64>,
    /// The output (JSON text), when it succeeded.
    pub output: Option<String>,
    /// The error, when it failed, timed out or was stopped with one.
    pub error: Option<String>,
    /// The cause, likewise.
    pub cause: Option<String>,
    /// How many times it was redriven.
    pub redrive_count: u32,
    /// When it was last redriven (ms since epoch); `None` here means "unchanged" after a step.
    pub redrive_date_ms: Option<i64>,
}

/// What never changes about an execution: its facts and its definition. A
/// process may keep them for the execution's life.
#[derive(Debug, Clone)]
pub struct ExecutionFacts {
    /// The facts (ARNs, name, input, start time).
    pub info: ExecutionInfo,
    /// The definition the execution runs (fixed at start).
    pub definition: Arc<Definition>,
    /// The definition's text, for DescribeStateMachineForExecution.
    pub definition_text: String,
}

/// An execution as stored: its facts, its definition and its summary.
#[derive(Debug, Clone)]
pub struct ExecutionRecord {
    /// The facts (ARNs, name, input, start time).
    pub info: ExecutionInfo,
    /// The definition the execution runs (fixed at start).
    pub definition: Arc<Definition>,
    /// The definition's text, for DescribeStateMachineForExecution.
    pub definition_text: String,
    /// Where it stands.
    pub summary: ExecutionSummary,
}

impl ExecutionRecord {
    /// The facts and definition of the record.
    pub fn facts(&self) -> ExecutionFacts {
        ExecutionFacts {
            info: self.info.clone(),
            definition: self.definition.clone(),
            definition_text: self.definition_text.clone(),
        }
    }
}

impl ExecutionSummary {
    /// The summary of a new execution.
    pub fn running() -> Self {
        ExecutionSummary {
            status: RunStatus::Running,
            stop_time_ms: None,
            output: None,
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_date_ms: None,
        }
    }

    /// The new summary a root step calls for: when it ended the execution,
    /// or redrove it; `None` for any other step.
    pub fn after_step(run: &Run, history: &[HistoryEvent]) -> Option<Self> {
        if !run.id.is_root() {
            return None;
        }
        if run.status != RunStatus::Running {
            return Some(Self::from_final(run, history.last()));
        }
        history.iter().find(|e| matches!(e.details, engine::EventDetails::ExecutionRedriven { .. })).map(|e| {
            let mut summary = Self::running();
            summary.redrive_count = run.redrive_count;
            summary.redrive_date_ms = Some(e.timestamp_ms);
            summary
        })
    }

    /// The summary after the root run's final transition.
    pub fn from_final(run: &Run, last: Option<&HistoryEvent>) -> Self {
        use engine::EventDetails as D;
        let mut summary = ExecutionSummary::running();
        summary.status = run.status;
        summary.redrive_count = run.redrive_count;
        summary.stop_time_ms = last.map(|e| e.timestamp_ms);
        match last.map(|e| &e.details) {
            Some(D::ExecutionSucceeded { output }) => summary.output = Some(output.clone()),
            Some(D::ExecutionFailed { error, cause }) | Some(D::ExecutionTimedOut { error, cause }) => {
                summary.error = (!error.is_empty()).then(|| error.clone());
                summary.cause = (!cause.is_empty()).then(|| cause.clone());
            }
            Some(D::ExecutionAborted { error, cause }) => {
                summary.error = error.clone();
                summary.cause = cause.clone();
            }
            _ => {}
        }
        summary
    }
}

/// Persistence of executions. Implementations: [`crate::MemoryStateStore`]
/// here; DynamoDB in the AWS adapters.
pub trait StateStore: Send + Sync + 'static {
    /// Records a new execution; `ExecutionAlreadyExists` if its ARN is taken.
    fn create_execution(
        &self,
        info: ExecutionInfo,
        definition: Arc<Definition>,
        definition_text: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The execution's record.
    fn execution(&self, arn: &str) -> impl Future<Output = Result<ExecutionRecord, StoreError>> + Send;

    /// The execution's facts and definition, without its summary (what a
    /// stepper needs; cheaper than the record).
    fn facts(&self, arn: &str) -> impl Future<Output = Result<ExecutionFacts, StoreError>> + Send;

    /// The newest snapshot of a run, `None` before its first commit.
    fn load_run(&self, arn: &str, run: &RunId) -> impl Future<Output = Result<Option<Run>, StoreError>> + Send;

    /// The newest snapshot of a run and the cause of its step, for the one
    /// transition about to be made from it: a store that can hand over the
    /// snapshot itself instead of a copy (the in-memory store) does, and takes
    /// it back through [`StateStore::commit`] or [`StateStore::restore_run`].
    fn checkout_run(&self, arn: &str, run: &RunId)
    -> impl Future<Output = Result<Option<Checkout>, StoreError>> + Send;

    /// Gives back a checked-out snapshot whose event was rejected.
    fn restore_run(&self, arn: &str, run: Run) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Drops what this process remembers of a run, so the next checkout reads the table.
    fn forget(&self, arn: &str, run: &RunId) -> impl Future<Output = ()> + Send;

    /// The effects of the run's newest step.
    fn latest_effects(
        &self,
        arn: &str,
        run: &RunId,
    ) -> impl Future<Output = Result<Option<Vec<Effect>>, StoreError>> + Send;

    /// Commits a step — the run's snapshot at `run.version`, its history
    /// events, effects and cause — if the stored run is still at the version
    /// before it. Exactly one commit of each step succeeds.
    fn commit(&self, arn: &str, step: StepRecord) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;

    /// Stores a child's outcome once; true the first time.
    fn put_child_outcome(
        &self,
        arn: &str,
        child: &RunId,
        report: &ChildReport,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The outcomes of children `0..total` of `parent` at `generation`, in index order.
    fn child_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        total: u32,
    ) -> impl Future<Output = Result<Vec<ChildOutcome>, StoreError>> + Send;

    /// Keeps the specs of the children of `parent`'s fan-out `generation`
    /// that start later (idempotent: the same specs may be staged again).
    fn stage_children(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        specs: &[ChildSpec],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The staged spec of child `index`, `None` when none was staged.
    fn staged_child(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        index: u32,
    ) -> impl Future<Output = Result<Option<ChildSpec>, StoreError>> + Send;

    /// Adds ended children (by index) to the tally of `parent`'s fan-out
    /// `generation`; idempotent. Says whether every child has now ended and
    /// whether the fan-out is failing.
    fn tally_add(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
        indices: &[u32],
    ) -> impl Future<Output = Result<TallyState, StoreError>> + Send;

    /// Marks the tally failing (no child starts after this) and returns the
    /// children not ended yet, in index order.
    fn tally_fail(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
    ) -> impl Future<Output = Result<Vec<u32>, StoreError>> + Send;

    /// Whether the tally is failing, as the shard of child `index` knows it.
    fn tally_failing(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        index: u32,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The outcomes and event ids of every child of a tallied fan-out, in
    /// index order; a child that never started (its fan-out failed first)
    /// is `Aborted` with no events.
    fn tallied_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
    ) -> impl Future<Output = Result<Vec<(ChildOutcome, ChildMark)>, StoreError>> + Send;

    /// The newest step of every run of the execution that has one, read
    /// from the table (never from a cache): what a recovery pass redoes.
    fn newest_steps(&self, arn: &str) -> impl Future<Output = Result<Vec<NewestStep>, StoreError>> + Send;

    /// The ARNs of executions that may still be running, at most `limit` at
    /// a time (`next` continues), in an order of the store's choosing: every
    /// RUNNING execution is listed; one that ended may be listed until
    /// [`StateStore::retire`] drops it (a crash between its last step and its
    /// removal from the list leaves it there).
    fn running_executions(
        &self,
        limit: usize,
        token: Option<&str>,
    ) -> impl Future<Output = Result<Page<String>, StoreError>> + Send;

    /// Drops an execution whose root run has ended from
    /// [`StateStore::running_executions`], after making sure its summary
    /// says how it ended (a crash may have come between the final step and
    /// the summary); idempotent.
    fn retire(&self, arn: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The merged history, oldest first.
    fn history(&self, arn: &str) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send;
}

/// Parses an execution input given as text, for callers that hold text.
pub fn parse_input(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(text)
}
