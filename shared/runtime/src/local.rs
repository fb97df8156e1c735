//! The local runtime: drives executions in one process, in the order
//! docs/architecture.md gives for every event — load, step, commit, then effects.
//! Deliveries wait in a FIFO queue; timers in a queue ordered by due time
//! (in real time, or instantly with a virtual clock); task attempts run as
//! tasks of the async runtime unless their answer is ready at once (mocks).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use asl::{Definition, Entropy};
use engine::{Ctx, Event, ExecutionInfo, HistoryEvent, RunId};
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::driver::{self, Action, Applied, Delivery};
use crate::invoker::TaskInvoker;
use crate::store::{ExecutionFacts, ExecutionRecord, StateStore, StoreError};

/// Errors of the local runtime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing is left to do but the execution has not ended (a task waits
    /// for a callback that cannot come in this process).
    #[error("execution {0} cannot make progress: it waits for something no local component will send")]
    Stuck(String),
}

/// Sees every committed transition (progress displays, tests).
pub trait Observer: Send {
    /// Called after each commit with the transition's events and their merged `(id, previousEventId)`.
    fn on_commit(&mut self, record: &ExecutionFacts, events: &[HistoryEvent], ids: &[(u64, u64)]);
}

/// Runs executions in process on a [`StateStore`] with a [`TaskInvoker`].
pub struct LocalRuntime<S, I> {
    store: Arc<S>,
    invoker: Arc<I>,
    clock: Clock,
    entropy: Box<dyn Entropy + Send>,
    queue: VecDeque<Delivery>,
    timers: BTreeMap<(i64, u64), Delivery>,
    timer_seq: u64,
    tx: mpsc::UnboundedSender<Delivery>,
    rx: mpsc::UnboundedReceiver<Delivery>,
    in_flight: usize,
    records: HashMap<String, Arc<ExecutionFacts>>,
    closed: HashSet<String>,
    observer: Option<Box<dyn Observer>>,
    transitions: u64,
}

impl<S: StateStore, I: TaskInvoker> LocalRuntime<S, I> {
    /// A runtime over `store` and `invoker`.
    pub fn new(store: Arc<S>, invoker: Arc<I>, clock: Clock, entropy: Box<dyn Entropy + Send>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        LocalRuntime {
            store,
            invoker,
            clock,
            entropy,
            queue: VecDeque::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            tx,
            rx,
            in_flight: 0,
            records: HashMap::new(),
            closed: HashSet::new(),
            observer: None,
            transitions: 0,
        }
    }

    /// Sets the observer of commits.
    pub fn set_observer(&mut self, observer: Box<dyn Observer>) {
        self.observer = Some(observer);
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Transitions committed so far.
    pub fn transitions(&self) -> u64 {
        self.transitions
    }

    /// Records a new execution and queues its start.
    pub async fn start(
        &mut self,
        info: ExecutionInfo,
        definition: Arc<Definition>,
        definition_text: String,
    ) -> Result<(), RuntimeError> {
        let arn = info.execution_arn.clone();
        self.store.create_execution(info, definition, definition_text).await?;
        self.queue.push_back(Delivery::start(&arn));
        Ok(())
    }

    /// Queues a StopExecution for `arn`.
    pub fn stop(&mut self, arn: &str, error: Option<String>, cause: Option<String>) {
        self.queue.push_back(Delivery::event(arn, RunId::root(), Event::Stop { error, cause }));
    }

    /// Runs until execution `arn` has ended and nothing it queued is left
    /// (timers of states it left are not waited for). Returns its record.
    pub async fn run_until_closed(&mut self, arn: &str) -> Result<ExecutionRecord, RuntimeError> {
        loop {
            while let Some(d) = self.queue.pop_front() {
                self.process(d).await?;
            }
            if self.closed.contains(arn) {
                return Ok(self.store.execution(arn).await?);
            }
            if !self.wait_for_work().await {
                return Err(RuntimeError::Stuck(arn.to_string()));
            }
        }
    }

    /// Waits for the next task result or timer; false when there is none.
    async fn wait_for_work(&mut self) -> bool {
        let next_timer = self.timers.keys().next().copied();
        if self.in_flight > 0 {
            match (next_timer, self.clock.is_virtual()) {
                (Some((due, _)), false) => {
                    let wait = (due - self.clock.now_ms()).max(0) as u64;
                    tokio::select! {
                        Some(d) = self.rx.recv() => self.received(d),
                        _ = tokio::time::sleep(std::time::Duration::from_millis(wait)) => self.fire_next_timer(),
                    }
                }
                _ => {
                    if let Some(d) = self.rx.recv().await {
                        self.received(d);
                    }
                }
            }
            return true;
        }
        let Some((due, _)) = next_timer else {
            return false;
        };
        if !self.clock.is_virtual() {
            let wait = due - self.clock.now_ms();
            if wait > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
            }
            // Never early: sleep granularity can wake us a hair before the due millisecond.
            while self.clock.now_ms() < due {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
        self.fire_next_timer();
        true
    }

    fn received(&mut self, d: Delivery) {
        self.in_flight -= 1;
        self.queue.push_back(d);
    }

    fn fire_next_timer(&mut self) {
        if let Some(((due, _), d)) = self.timers.pop_first() {
            self.clock.advance_to(due);
            self.queue.push_back(d);
        }
    }

    async fn record(&mut self, arn: &str) -> Result<Arc<ExecutionFacts>, RuntimeError> {
        if let Some(r) = self.records.get(arn) {
            return Ok(r.clone());
        }
        let record = Arc::new(self.store.facts(arn).await?);
        self.records.insert(arn.to_string(), record.clone());
        Ok(record)
    }

    async fn process(&mut self, d: Delivery) -> Result<(), RuntimeError> {
        if self.closed.contains(&d.execution_arn) {
            // The execution ended: its children stop with it, late events are dropped.
            return Ok(());
        }
        let record = self.record(&d.execution_arn).await?;
        let d = match driver::resolve_staged(&*self.store, d).await? {
            driver::Staged::Start(d) => d,
            driver::Staged::Skipped(then) => {
                self.queue.extend(then);
                return Ok(());
            }
        };
        let mut ctx = Ctx { now_ms: self.clock.now_ms(), entropy: &mut *self.entropy };
        let (run, effects) = match driver::apply(&*self.store, &record, d, &mut ctx, None).await? {
            Applied::Committed { run, history, ids, effects, .. } => {
                self.transitions += 1;
                if let Some(observer) = self.observer.as_mut() {
                    observer.on_commit(&record, &history, &ids);
                }
                (run, effects)
            }
            Applied::Redo { run, effects, .. } => (run, effects),
            Applied::Dropped => return Ok(()),
        };
        let arn = record.info.execution_arn.as_str();
        for action in driver::actions(&record.definition, arn, &run, effects) {
            self.perform(action, &record).await?;
        }
        Ok(())
    }

    async fn perform(&mut self, action: Action, record: &Arc<ExecutionFacts>) -> Result<(), RuntimeError> {
        let arn = record.info.execution_arn.as_str();
        match action {
            Action::Deliver(d) => self.queue.push_back(d),
            Action::DeliverAt(due_ms, d) => {
                self.timer_seq += 1;
                self.timers.insert((due_ms, self.timer_seq), d);
            }
            Action::Invoke { run, request } => {
                let invoker = self.invoker.clone();
                let owned = record.clone();
                let task_id = request.task_id;
                let mut attempt = Box::pin(async move { invoker.invoke(&owned.info, &request).await });
                // Mocks answer at once: keep their results in queue order (deterministic runs).
                match attempt.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                    Poll::Ready(outcome) => self.queue.push_back(driver::task_result(arn, run, task_id, outcome)),
                    Poll::Pending => {
                        self.in_flight += 1;
                        let tx = self.tx.clone();
                        let arn = arn.to_string();
                        tokio::spawn(async move {
                            let outcome = attempt.await;
                            // The receiver lives as long as the runtime; a send after it is gone has nobody to tell.
                            let _ = tx.send(driver::task_result(&arn, run, task_id, outcome));
                        });
                    }
                }
            }
            Action::Report { child, report } => {
                let then = driver::report(&*self.store, arn, &child, &report).await?;
                self.queue.extend(then);
            }
            Action::Stage { run, generation, specs } => {
                self.store.stage_children(arn, &run, generation, &specs).await?;
            }
            Action::AbortTallied { run, generation, tally } => {
                let then = driver::abort_tallied(&*self.store, arn, &run, generation, tally).await?;
                self.queue.extend(then);
            }
            Action::Collect { run, generation, total, tally } => {
                let d = driver::collect(&*self.store, arn, &run, generation, total, tally).await?;
                self.queue.push_back(d);
            }
            Action::Close(_) => {
                self.closed.insert(arn.to_string());
            }
        }
        Ok(())
    }
}
