//! The in-memory store: the embedded default of the local runner.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use asl::Definition;
use std::collections::HashSet;

use engine::{ChildMark, ChildOutcome, ChildReport, ChildSpec, Effect, ExecutionInfo, Prev, Run, RunId, Tally};

use crate::catalog::{Catalog, ExecutionListing, Page, StateMachine, listing_key};
use crate::store::{
    Checkout, CommitOutcome, ExecutionFacts, ExecutionRecord, ExecutionSummary, NewestStep, RecordedEvent, StateStore,
    StepRecord, StoreError,
};
use crate::tally::TallyState;

/// Keeps everything in process memory, behind one lock.
#[derive(Default)]
pub struct MemoryStateStore {
    inner: Mutex<HashMap<String, Execution>>,
    machines: Mutex<BTreeMap<String, StateMachine>>,
}

/// What is kept of a run's newest step besides its snapshot.
struct Latest {
    version: u64,
    status: engine::RunStatus,
    cause: String,
    effects: Vec<Effect>,
}

struct Execution {
    record: ExecutionRecord,
    /// Snapshots not checked out at the moment.
    runs: HashMap<RunId, Run>,
    /// The newest committed step of every run (checked out or not).
    steps: HashMap<RunId, Latest>,
    history: Vec<RecordedEvent>,
    /// Per run: its local event id → merged id.
    ids: HashMap<RunId, HashMap<u64, u64>>,
    children: HashMap<RunId, (ChildOutcome, ChildMark)>,
    /// Specs of children that start later, by child id.
    staged: HashMap<RunId, ChildSpec>,
    /// Tallies by (parent, generation).
    tallies: HashMap<(RunId, u64), MemoryTally>,
}

/// A tally in memory: one set (no shards: nothing contends for an item here).
#[derive(Default)]
struct MemoryTally {
    ended: HashSet<u32>,
    failing: bool,
}

impl MemoryStateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Execution>> {
        // A poisoned lock only means another thread panicked mid-update of a
        // test; the data itself is still consistent per operation.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// ARNs of all executions, in no particular order.
    pub fn execution_arns(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

fn missing(arn: &str) -> StoreError {
    StoreError::ExecutionDoesNotExist(arn.to_string())
}

impl Execution {
    fn resolve(&self, run: &RunId, prev: Prev) -> u64 {
        let lookup = |r: &RunId, id: u64| self.ids.get(r).and_then(|m| m.get(&id)).copied().unwrap_or(0);
        match prev {
            Prev::None => 0,
            Prev::Local(id) => lookup(run, id),
            Prev::Parent(id) => run.parent().map(|p| lookup(&p, id)).unwrap_or(0),
            Prev::Child { generation, index, id } => lookup(&run.child(generation, index), id),
            Prev::Sibling { index, id } => run.sibling(index).map(|r| lookup(&r, id)).unwrap_or(0),
        }
    }
}

impl StateStore for MemoryStateStore {
    fn create_execution(
        &self,
        info: ExecutionInfo,
        definition: Arc<Definition>,
        definition_text: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = {
            let mut all = self.lock();
            if all.contains_key(&info.execution_arn) {
                Err(StoreError::ExecutionAlreadyExists(info.execution_arn.clone()))
            } else {
                let arn = info.execution_arn.clone();
                let record =
                    ExecutionRecord { info, definition, definition_text, summary: ExecutionSummary::running() };
                all.insert(
                    arn,
                    Execution {
                        record,
                        runs: HashMap::new(),
                        steps: HashMap::new(),
                        history: Vec::new(),
                        ids: HashMap::new(),
                        children: HashMap::new(),
                        staged: HashMap::new(),
                        tallies: HashMap::new(),
                    },
                );
                Ok(())
            }
        };
        async move { result }
    }

    fn execution(&self, arn: &str) -> impl Future<Output = Result<ExecutionRecord, StoreError>> + Send {
        let result = self.lock().get(arn).map(|e| e.record.clone()).ok_or_else(|| missing(arn));
        async move { result }
    }

    fn facts(&self, arn: &str) -> impl Future<Output = Result<ExecutionFacts, StoreError>> + Send {
        let result = self.lock().get(arn).map(|e| e.record.facts()).ok_or_else(|| missing(arn));
        async move { result }
    }

    fn load_run(&self, arn: &str, run: &RunId) -> impl Future<Output = Result<Option<Run>, StoreError>> + Send {
        let result = self.lock().get(arn).map(|e| e.runs.get(run).cloned()).ok_or_else(|| missing(arn));
        async move { result }
    }

    /// Hands the snapshot itself over: the local runtime makes one
    /// transition at a time, so nobody else needs it until the commit.
    fn checkout_run(
        &self,
        arn: &str,
        run: &RunId,
    ) -> impl Future<Output = Result<Option<Checkout>, StoreError>> + Send {
        let result = (|| {
            let mut all = self.lock();
            let exec = all.get_mut(arn).ok_or_else(|| missing(arn))?;
            let Some(snapshot) = exec.runs.remove(run) else {
                return Ok(None);
            };
            let cause = exec.steps.get(run).map(|l| l.cause.clone()).unwrap_or_default();
            Ok(Some(Checkout { run: snapshot, cause, cached: false }))
        })();
        async move { result }
    }

    fn restore_run(&self, arn: &str, run: Run) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = (|| {
            let mut all = self.lock();
            let exec = all.get_mut(arn).ok_or_else(|| missing(arn))?;
            if exec.steps.get(&run.id).map(|l| l.version) == Some(run.version) {
                exec.runs.insert(run.id.clone(), run);
            }
            Ok(())
        })();
        async move { result }
    }

    /// Nothing to forget: the in-memory store is the only copy.
    async fn forget(&self, _arn: &str, _run: &RunId) {}

    fn latest_effects(
        &self,
        arn: &str,
        run: &RunId,
    ) -> impl Future<Output = Result<Option<Vec<Effect>>, StoreError>> + Send {
        let result =
            self.lock().get(arn).map(|e| e.steps.get(run).map(|l| l.effects.clone())).ok_or_else(|| missing(arn));
        async move { result }
    }

    fn commit(&self, arn: &str, step: StepRecord) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send {
        let result = (|| {
            let mut all = self.lock();
            let exec = all.get_mut(arn).ok_or_else(|| missing(arn))?;
            let StepRecord { run, history, effects, cause } = step;
            let stored = exec.steps.get(&run.id).map(|l| l.version).unwrap_or(0);
            if stored + 1 != run.version {
                return Ok(CommitOutcome::AlreadyCommitted);
            }
            let mut ids = Vec::with_capacity(history.len());
            if let Some(mut summary) = ExecutionSummary::after_step(&run, &history) {
                summary.redrive_date_ms = summary.redrive_date_ms.or(exec.record.summary.redrive_date_ms);
                exec.record.summary = summary;
            }
            for event in &history {
                let id = exec.history.len() as u64 + 1;
                let previous = exec.resolve(&run.id, event.previous);
                exec.ids.entry(run.id.clone()).or_default().insert(event.id, id);
                exec.history.push(RecordedEvent { id, previous_event_id: previous, event: event.clone() });
                ids.push((id, previous));
            }
            exec.steps.insert(
                run.id.clone(),
                Latest { version: run.version, status: run.status, cause, effects: effects.clone() },
            );
            exec.runs.insert(run.id.clone(), run);
            Ok(CommitOutcome::Committed { ids, history, effects })
        })();
        async move { result }
    }

    fn put_child_outcome(
        &self,
        arn: &str,
        child: &RunId,
        report: &ChildReport,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let result = (|| {
            let mut all = self.lock();
            let exec = all.get_mut(arn).ok_or_else(|| missing(arn))?;
            if exec.children.contains_key(child) {
                return Ok(false);
            }
            exec.children.insert(child.clone(), (report.outcome.clone(), report.mark()));
            Ok(true)
        })();
        async move { result }
    }

    fn child_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        total: u32,
    ) -> impl Future<Output = Result<Vec<ChildOutcome>, StoreError>> + Send {
        let result = (|| {
            let all = self.lock();
            let exec = all.get(arn).ok_or_else(|| missing(arn))?;
            (0..total)
                .map(|i| {
                    let id = parent.child(generation, i);
                    exec.children
                        .get(&id)
                        .map(|(outcome, _)| outcome.clone())
                        .ok_or_else(|| StoreError::Backend(format!("no outcome recorded for child run {id}")))
                })
                .collect()
        })();
        async move { result }
    }

    fn stage_children(
        &self,
        arn: &str,
        _parent: &RunId,
        _generation: u64,
        specs: &[ChildSpec],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let result = self.with(arn, |exec| {
            for spec in specs {
                exec.staged.entry(spec.id.clone()).or_insert_with(|| spec.clone());
            }
        });
        async move { result }
    }

    fn staged_child(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        index: u32,
    ) -> impl Future<Output = Result<Option<ChildSpec>, StoreError>> + Send {
        let result = self.with(arn, |exec| exec.staged.get(&parent.child(generation, index)).cloned());
        async move { result }
    }

    fn tally_add(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
        indices: &[u32],
    ) -> impl Future<Output = Result<TallyState, StoreError>> + Send {
        let result = self.with(arn, |exec| {
            let t = exec.tallies.entry((parent.clone(), generation)).or_default();
            t.ended.extend(indices.iter().copied().filter(|i| *i < tally.total));
            TallyState { complete: t.ended.len() == tally.total as usize, failing: t.failing }
        });
        async move { result }
    }

    fn tally_fail(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
    ) -> impl Future<Output = Result<Vec<u32>, StoreError>> + Send {
        let result = self.with(arn, |exec| {
            let t = exec.tallies.entry((parent.clone(), generation)).or_default();
            t.failing = true;
            (0..tally.total).filter(|i| !t.ended.contains(i)).collect()
        });
        async move { result }
    }

    fn tally_failing(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        _index: u32,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let result = self.with(arn, |exec| exec.tallies.get(&(parent.clone(), generation)).is_some_and(|t| t.failing));
        async move { result }
    }

    fn tallied_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
    ) -> impl Future<Output = Result<Vec<(ChildOutcome, ChildMark)>, StoreError>> + Send {
        let result = self.with(arn, |exec| {
            (0..tally.total)
                .map(|i| {
                    let id = parent.child(generation, i);
                    exec.children.get(&id).cloned().unwrap_or((ChildOutcome::Aborted, ChildMark::default()))
                })
                .collect()
        });
        async move { result }
    }

    fn history(&self, arn: &str) -> impl Future<Output = Result<Vec<RecordedEvent>, StoreError>> + Send {
        let result = self.lock().get(arn).map(|e| e.history.clone()).ok_or_else(|| missing(arn));
        async move { result }
    }

    fn newest_steps(&self, arn: &str) -> impl Future<Output = Result<Vec<NewestStep>, StoreError>> + Send {
        let result = self
            .lock()
            .get(arn)
            .map(|e| {
                let mut steps: Vec<NewestStep> = e
                    .steps
                    .iter()
                    .map(|(run, l)| NewestStep {
                        run: run.clone(),
                        version: l.version,
                        status: l.status,
                        cause: l.cause.clone(),
                        effects: l.effects.clone(),
                    })
                    .collect();
                steps.sort_by(|a, b| a.run.cmp(&b.run));
                steps
            })
            .ok_or_else(|| missing(arn));
        async move { result }
    }

    /// Lists the executions whose summary says RUNNING (the list is derived, so never stale).
    fn running_executions(
        &self,
        limit: usize,
        token: Option<&str>,
    ) -> impl Future<Output = Result<Page<String>, StoreError>> + Send {
        let mut arns: Vec<String> = self
            .lock()
            .values()
            .filter(|e| e.record.summary.status == engine::RunStatus::Running)
            .map(|e| e.record.info.execution_arn.clone())
            .filter(|arn| token.is_none_or(|t| arn.as_str() > t))
            .collect();
        arns.sort();
        let next = (arns.len() > limit).then(|| {
            arns.truncate(limit);
            arns.last().cloned().unwrap_or_default()
        });
        std::future::ready(Ok(Page { items: arns, next }))
    }

    /// Nothing to drop: the running list is derived from the summaries.
    async fn retire(&self, _arn: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

impl MemoryStateStore {
    /// Runs `f` on execution `arn` under the lock.
    fn with<T>(&self, arn: &str, f: impl FnOnce(&mut Execution) -> T) -> Result<T, StoreError> {
        let mut all = self.lock();
        let exec = all.get_mut(arn).ok_or_else(|| missing(arn))?;
        Ok(f(exec))
    }

    fn machines(&self) -> MutexGuard<'_, BTreeMap<String, StateMachine>> {
        self.machines.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Catalog for MemoryStateStore {
    fn create_machine(&self, machine: &StateMachine) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let mut all = self.machines();
        let created = !all.contains_key(&machine.arn);
        if created {
            all.insert(machine.arn.clone(), machine.clone());
        }
        async move { Ok(created) }
    }

    fn machine(&self, arn: &str) -> impl Future<Output = Result<Option<StateMachine>, StoreError>> + Send {
        let found = self.machines().get(arn).cloned();
        async move { Ok(found) }
    }

    fn put_machine(&self, machine: &StateMachine) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.machines().insert(machine.arn.clone(), machine.clone());
        async move { Ok(()) }
    }

    fn delete_machine(&self, arn: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.machines().remove(arn);
        async move { Ok(()) }
    }

    fn list_machines(
        &self,
        limit: usize,
        token: Option<&str>,
    ) -> impl Future<Output = Result<Page<StateMachine>, StoreError>> + Send {
        if let Some(t) = token
            && !t.starts_with("arn:aws:states:")
        {
            return std::future::ready(Err(StoreError::InvalidToken(t.to_string())));
        }
        let all = self.machines();
        let after = |arn: &String| token.is_none_or(|t| arn.as_str() > t);
        let mut items: Vec<StateMachine> = all.values().filter(|m| after(&m.arn)).take(limit + 1).cloned().collect();
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items.last().map(|m| m.arn.clone()).unwrap_or_default()
        });
        std::future::ready(Ok(Page { items, next }))
    }

    fn list_executions(
        &self,
        machine_arn: &str,
        status: Option<engine::RunStatus>,
        limit: usize,
        token: Option<&str>,
    ) -> impl Future<Output = Result<Page<ExecutionListing>, StoreError>> + Send {
        // Tokens are listing keys: `<15 digits>#<name>`.
        if let Some(t) = token
            && !(t.len() > 16 && t.as_bytes()[..15].iter().all(u8::is_ascii_digit) && t.as_bytes()[15] == b'#')
        {
            return std::future::ready(Err(StoreError::InvalidToken(t.to_string())));
        }
        let mut keyed: Vec<(String, ExecutionListing)> = self
            .lock()
            .values()
            .map(|e| &e.record)
            .filter(|r| r.info.state_machine_arn == machine_arn && status.is_none_or(|s| r.summary.status == s))
            .map(|r| {
                let listing = ExecutionListing {
                    execution_arn: r.info.execution_arn.clone(),
                    state_machine_arn: r.info.state_machine_arn.clone(),
                    name: r.info.name.clone(),
                    status: r.summary.status,
                    start_ms: r.info.start_time_ms,
                    stop_ms: r.summary.stop_time_ms,
                    redrive_count: r.summary.redrive_count,
                };
                (listing_key(r.info.start_time_ms, &r.info.name), listing)
            })
            .filter(|(key, _)| token.is_none_or(|t| key.as_str() < t))
            .collect();
        keyed.sort_by(|a, b| b.0.cmp(&a.0));
        let next = (keyed.len() > limit).then(|| keyed[limit - 1].0.clone());
        let items = keyed.into_iter().take(limit).map(|(_, l)| l).collect();
        std::future::ready(Ok(Page { items, next }))
    }
}
