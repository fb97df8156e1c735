//! The stepper: what one invocation of the stepper Lambda does with the
//! delivery it was given, written against ports so the same code runs in the
//! Lambda and in tests. It applies the delivery (one transition), carries
//! out the step's effects — dispatching further deliveries through a
//! [`Carrier`] — and applies inline the two results that arrive within the
//! same invocation: a task's answer (docs/architecture.md: invoke, then commit the
//! result as the next step) and the collected outcomes of a fan-out.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use engine::{Ctx, Effect, RunId};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::clock::Clock;
use crate::driver::{self, Action, Applied, Delivery};
use crate::entropy::OsEntropy;
use crate::invoker::TaskInvoker;
use crate::store::{ExecutionFacts, NewestStep, StateStore, StoreError};

/// How deliveries travel between invocations (Lambda async invoke in AWS, a queue in tests).
pub trait Carrier: Clone + Send + Sync + 'static {
    /// Hands a delivery over; it is applied later, at least once.
    fn carry(&self, delivery: Delivery) -> impl Future<Output = Result<(), String>> + Send;
}

/// Errors of one invocation. Returning one makes Lambda retry the delivery;
/// the driver recognizes a step that was already made and redoes its effects.
#[derive(Debug, thiserror::Error)]
pub enum StepperError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A delivery could not be handed over.
    #[error("dispatch failed: {0}")]
    Dispatch(String),
}

/// What one invocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Handled {
    /// Steps committed.
    pub transitions: u32,
    /// Deliveries handed to the carrier.
    pub dispatched: u32,
}

/// One stepper: a store, an invoker and a carrier, plus caches shared by the
/// invocations of a warm container.
pub struct Stepper<S, I, C> {
    store: Arc<S>,
    invoker: Arc<I>,
    carrier: C,
    clock: Clock,
    /// Longest sleep an invocation spends waiting for a timer before handing it on.
    max_sleep_ms: i64,
    /// Dispatches in flight at once when a step starts many children.
    fan_out: usize,
    records: Mutex<HashMap<String, Arc<ExecutionFacts>>>,
    /// Steps whose effects this process has carried out: a duplicate that
    /// lands here again needs no redo (one that lands elsewhere redoes them,
    /// which is harmless).
    performed: Mutex<HashSet<(String, RunId, u64)>>,
    /// Runs this process is carrying a delivery for at the moment (how
    /// many): a recovery pass leaves them alone.
    busy: Busy,
    /// When this process last handled a delivery of each execution (ms): a
    /// periodic recovery pass leaves an execution that is making progress
    /// here alone, instead of reading all its steps (a large Map has tens
    /// of thousands). Saves reads only: a pass at start-up looks at everything.
    active: Mutex<HashMap<String, i64>>,
}

type Busy = Arc<Mutex<HashMap<(String, RunId), usize>>>;

/// A run marked as carried by this process (see [`Stepper::hold`]); the mark goes when this is dropped.
pub struct Hold {
    busy: Busy,
    key: (String, RunId),
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = busy.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                busy.remove(&self.key);
            }
        }
    }
}

/// Names the version of a step a delivery made or redid: the first on the
/// delivery's span (`None` returned: the span says it), a later one (made
/// inline) on its own event (`Some`).
fn next_version(span: &tracing::Span, known: &mut bool, version: u64) -> Option<u64> {
    if std::mem::replace(known, true) {
        return Some(version);
    }
    span.record("version", version);
    None
}

/// Steps remembered as performed at most; past it the memory starts afresh.
const MAX_PERFORMED: usize = 100_000;

impl<S: StateStore, I: TaskInvoker, C: Carrier> Stepper<S, I, C> {
    /// A stepper over these ports.
    pub fn new(store: Arc<S>, invoker: Arc<I>, carrier: C, clock: Clock) -> Self {
        Stepper {
            store,
            invoker,
            carrier,
            clock,
            max_sleep_ms: 60_000,
            fan_out: 32,
            records: Mutex::new(HashMap::new()),
            performed: Mutex::new(HashSet::new()),
            busy: Arc::new(Mutex::new(HashMap::new())),
            active: Mutex::new(HashMap::new()),
        }
    }

    fn touch(&self, arn: &str) {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if active.len() >= MAX_PERFORMED && !active.contains_key(arn) {
            active.clear();
        }
        active.insert(arn.to_string(), self.clock.now_ms());
    }

    /// When this process last handled a delivery of execution `arn` (ms since epoch).
    pub fn last_active_ms(&self, arn: &str) -> Option<i64> {
        self.active.lock().unwrap_or_else(|e| e.into_inner()).get(arn).copied()
    }

    /// The longest an invocation sleeps for a timer before passing it on (default one minute).
    pub fn with_max_sleep_ms(mut self, ms: i64) -> Self {
        self.max_sleep_ms = ms;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The carrier.
    pub fn carrier(&self) -> &C {
        &self.carrier
    }

    async fn record(&self, arn: &str) -> Result<Arc<ExecutionFacts>, StoreError> {
        if let Some(r) = self.records.lock().unwrap_or_else(|e| e.into_inner()).get(arn) {
            return Ok(r.clone());
        }
        // The facts and definition never change for an execution: a warm container reads them once.
        let record = Arc::new(self.store.facts(arn).await?);
        self.records.lock().unwrap_or_else(|e| e.into_inner()).insert(arn.to_string(), record.clone());
        Ok(record)
    }

    /// Handles one delivery, in a `delivery` span (execution, run, cause,
    /// and the version of the first step it made or redid); a failure is
    /// logged as an error before it is returned.
    pub async fn handle(&self, delivery: Delivery) -> Result<Handled, StepperError> {
        let span = tracing::info_span!(
            "delivery",
            execution = %delivery.execution_arn,
            run = %delivery.run,
            cause = %delivery.cause(),
            version = tracing::field::Empty,
        );
        async {
            let handled = self.handle_in_span(delivery).await;
            if let Err(e) = &handled {
                tracing::error!(error = %e, "delivery failed");
            }
            handled
        }
        .instrument(span)
        .await
    }

    async fn handle_in_span(&self, mut delivery: Delivery) -> Result<Handled, StepperError> {
        let _hold = self.hold(&delivery.execution_arn, &delivery.run);
        let mut handled = Handled::default();
        if let Some(due) = delivery.not_before_ms {
            let wait = due - self.clock.now_ms();
            if wait > 0 {
                if self.clock.is_virtual() {
                    self.clock.advance_to(due);
                } else if wait <= self.max_sleep_ms {
                    tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
                    while self.clock.now_ms() < due {
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                } else {
                    // Too far off to wait here: sleep what we may, then hand the timer on.
                    tracing::trace!(due, "timer too far off: handing it on");
                    tokio::time::sleep(std::time::Duration::from_millis(self.max_sleep_ms as u64)).await;
                    self.carrier.carry(delivery).await.map_err(StepperError::Dispatch)?;
                    handled.dispatched += 1;
                    return Ok(handled);
                }
            }
            delivery.not_before_ms = None;
        }
        let record = self.record(&delivery.execution_arn).await?;
        self.touch(&delivery.execution_arn);
        let delivery = match driver::resolve_staged(&*self.store, delivery).await? {
            driver::Staged::Start(delivery) => delivery,
            driver::Staged::Skipped(then) => {
                handled.dispatched += then.len() as u32;
                self.dispatch_all(then).await?;
                return Ok(handled);
            }
        };
        let origin = delivery.cause();
        let inline = VecDeque::from([(delivery, false)]);
        self.drain(&record, &origin, inline, Vec::new(), Vec::new(), handled).await
    }

    /// Carries out again the effects of a run's newest step, as a recovery
    /// pass read it from the table — unless this process is carrying that
    /// run already (a delivery in hand, a timer asleep, a task awaited) or
    /// has carried out that very step (its deliveries are on their way).
    /// `None` when it was skipped. What follows inline (a task's answer,
    /// collected outcomes) is applied as [`Stepper::handle`] applies it, with
    /// the step's first cause as origin.
    pub async fn resume(&self, arn: &str, step: NewestStep) -> Result<Option<Handled>, StepperError> {
        if step.effects.is_empty() || self.carries(arn, &step.run, step.version) {
            return Ok(None);
        }
        let _hold = self.hold(arn, &step.run);
        let span = tracing::info_span!(
            "resume",
            execution = arn,
            run = %step.run,
            cause = %step.cause,
            version = step.version,
        );
        async {
            let record = self.record(arn).await?;
            let origin = step.cause.split('|').next().unwrap_or_default().to_string();
            let (mut inline, mut outgoing) = (VecDeque::new(), Vec::new());
            let steps = vec![(step.run.clone(), step.version)];
            tracing::debug!(effects = step.effects.len(), "carrying out a step's effects again");
            self.perform(&record, &step.run, step.effects, &mut inline, &mut outgoing).await?;
            self.drain(&record, &origin, inline, outgoing, steps, Handled::default()).await.map(Some)
        }
        .instrument(span)
        .await
    }

    /// Marks `run` as carried by this process until the returned guard is
    /// dropped: a recovery pass leaves it alone meanwhile. A carrier that
    /// retries a failed delivery holds it across the retries.
    pub fn hold(&self, arn: &str, run: &RunId) -> Hold {
        let key = (arn.to_string(), run.clone());
        *self.busy.lock().unwrap_or_else(|e| e.into_inner()).entry(key.clone()).or_insert(0) += 1;
        Hold { busy: self.busy.clone(), key }
    }

    /// Whether this process is carrying `run`, or carried out its step `version`.
    fn carries(&self, arn: &str, run: &RunId, version: u64) -> bool {
        let key = (arn.to_string(), run.clone());
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&key)
            || self.performed.lock().unwrap_or_else(|e| e.into_inner()).contains(&(key.0, key.1, version))
    }

    /// Applies the queued deliveries of one invocation in order (each may
    /// queue more: a task's answer, collected outcomes), carries out the
    /// steps' effects, then hands `outgoing` over and remembers `steps` as performed.
    async fn drain(
        &self,
        record: &ExecutionFacts,
        origin: &str,
        mut inline: VecDeque<(Delivery, bool)>,
        mut outgoing: Vec<Delivery>,
        mut steps: Vec<(RunId, u64)>,
        mut handled: Handled,
    ) -> Result<Handled, StepperError> {
        let arn = record.info.execution_arn.clone();
        let mut entropy = OsEntropy::new();
        let span = tracing::Span::current();
        let mut version_known = !steps.is_empty();
        while let Some((d, made_here)) = inline.pop_front() {
            let mut ctx = Ctx { now_ms: self.clock.now_ms(), entropy: &mut entropy };
            let origin = made_here.then_some(origin);
            // A delivery made within this invocation (a task's answer, collected outcomes) has its own cause.
            let inline_cause = made_here.then(|| d.cause());
            let (run, effects) = match driver::apply(&*self.store, record, d, &mut ctx, origin).await? {
                Applied::Committed { run, effects, version, status, .. } => {
                    // The span names the first step; a later one (made inline) is named by its event.
                    let step = next_version(&span, &mut version_known, version);
                    tracing::trace!(version = step, status = ?status, inline = inline_cause.as_deref(), "step committed");
                    handled.transitions += 1;
                    steps.push((run.clone(), version));
                    (run, effects)
                }
                Applied::Redo { run, version, effects } => {
                    let step = next_version(&span, &mut version_known, version);
                    let key = (arn.clone(), run.clone(), version);
                    if self.performed.lock().unwrap_or_else(|e| e.into_inner()).contains(&key) {
                        tracing::debug!(
                            version = step,
                            inline = inline_cause.as_deref(),
                            "duplicate delivery: its step's effects were carried out here already"
                        );
                        continue;
                    }
                    tracing::debug!(
                        version = step,
                        effects = effects.len(),
                        inline = inline_cause.as_deref(),
                        "redo: the delivery's step was committed already; carrying out its effects again"
                    );
                    steps.push((run.clone(), version));
                    (run, effects)
                }
                Applied::Dropped => {
                    tracing::debug!(inline = inline_cause.as_deref(), "dropped a duplicate or stale delivery");
                    continue;
                }
            };
            self.perform(record, &run, effects, &mut inline, &mut outgoing).await?;
        }
        handled.dispatched += outgoing.len() as u32;
        self.dispatch_all(outgoing).await?;
        let mut performed = self.performed.lock().unwrap_or_else(|e| e.into_inner());
        if performed.len() + steps.len() > MAX_PERFORMED {
            performed.clear();
        }
        performed.extend(steps.into_iter().map(|(run, version)| (arn.clone(), run, version)));
        Ok(handled)
    }

    /// Carries out the effects of one step of `run` (just committed, or
    /// redone): deliveries for later go to `outgoing`; a task attempt is run
    /// here and its answer, like the collected outcomes of a fan-out, is
    /// queued in `inline` to be applied within this invocation.
    async fn perform(
        &self,
        record: &ExecutionFacts,
        run: &RunId,
        effects: Vec<Effect>,
        inline: &mut VecDeque<(Delivery, bool)>,
        outgoing: &mut Vec<Delivery>,
    ) -> Result<(), StepperError> {
        let arn = record.info.execution_arn.as_str();
        for action in driver::actions(&record.definition, arn, run, effects) {
            match action {
                Action::Deliver(d) => outgoing.push(d),
                Action::DeliverAt(due_ms, mut d) => {
                    d.not_before_ms = Some(due_ms);
                    outgoing.push(d);
                }
                Action::Invoke { run, request } => {
                    let outcome = self.invoker.invoke(&record.info, &request).await;
                    inline.push_back((driver::task_result(arn, run, request.task_id, outcome), true));
                }
                Action::Report { child, report } => {
                    outgoing.extend(driver::report(&*self.store, arn, &child, &report).await?);
                }
                Action::Stage { run, generation, specs } => {
                    self.store.stage_children(arn, &run, generation, &specs).await?;
                }
                Action::AbortTallied { run, generation, tally } => {
                    outgoing.extend(driver::abort_tallied(&*self.store, arn, &run, generation, tally).await?);
                }
                Action::Collect { run, generation, total, tally } => {
                    let collected = driver::collect(&*self.store, arn, &run, generation, total, tally).await?;
                    inline.push_back((collected, true));
                }
                Action::Close(_) => {
                    // A nested execution whose parent waits (`.sync`) answers its task.
                    if let Some(parent) = record.info.started_by.as_ref().filter(|p| p.waits()) {
                        let closed = self.store.execution(arn).await?;
                        let sync2 = parent.pattern == asl::resource::Pattern::Sync2;
                        let outcome = crate::render::nested_result(&closed, sync2);
                        outgoing.push(driver::task_result(
                            &parent.execution_arn,
                            parent.run.clone(),
                            parent.task_id,
                            outcome,
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Hands deliveries over, many at once (a Map may start thousands of children).
    async fn dispatch_all(&self, deliveries: Vec<Delivery>) -> Result<(), StepperError> {
        if deliveries.len() <= 1 {
            for d in deliveries {
                self.carrier.carry(d).await.map_err(StepperError::Dispatch)?;
            }
            return Ok(());
        }
        let mut set = JoinSet::new();
        let mut first_error = None;
        let mut note = |result: Result<Result<(), String>, tokio::task::JoinError>| match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        };
        for d in deliveries {
            if set.len() >= self.fan_out
                && let Some(result) = set.join_next().await
            {
                note(result);
            }
            let carrier = self.carrier.clone();
            set.spawn(async move { carrier.carry(d).await });
        }
        while let Some(result) = set.join_next().await {
            note(result);
        }
        match first_error {
            Some(e) => Err(StepperError::Dispatch(e)),
            None => Ok(()),
        }
    }
}
