//! Running executions on DynamoDB Local through the stepper — the code the
//! stepper Lambda runs — with deliveries carried by an in-test queue that can
//! duplicate, reorder, race and crash them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_adapters::DynamoStateStore;
use engine::RunId;
use runtime::stepper::{Carrier, Stepper, StepperError};
use runtime::{
    Checkout, Clock, CommitOutcome, Delivery, ExecutionFacts, ExecutionRecord, RecordedEvent, StateStore, StepRecord,
    StoreError, TaskInvoker,
};
use serde_json::Value;

use crate::{Outcome, T0_MS, definition};

/// The endpoint of DynamoDB Local: `SWITCHYARD_DYNAMODB_ENDPOINT` (set by
/// scripts/test.sh), or one started through scripts/dynamodb-local.sh.
pub fn endpoint() -> String {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| crate::local_service("SWITCHYARD_DYNAMODB_ENDPOINT", "dynamodb-local.sh", "DynamoDB Local"))
        .clone()
}

/// A DynamoDB client for DynamoDB Local.
pub async fn client() -> aws_sdk_dynamodb::Client {
    aws_adapters::store_client(&aws_adapters::local_config(&endpoint()).await)
}

/// A store on a new, empty table.
pub async fn fresh_store() -> DynamoStateStore {
    static TABLES: AtomicU64 = AtomicU64::new(0);
    let client = client().await;
    let table = format!("switchyard-test-{}-{}", std::process::id(), TABLES.fetch_add(1, Ordering::SeqCst));
    DynamoStateStore::create_table(&client, &table).await.expect("create table");
    DynamoStateStore::new(client, table)
}

/// The in-test carrier: deliveries due now, first in first out, and timers.
#[derive(Clone, Default)]
pub struct Queue(Arc<Mutex<Pending>>);

#[derive(Default)]
struct Pending {
    now: VecDeque<Delivery>,
    timers: Vec<Delivery>,
}

impl Queue {
    /// The next delivery: one due now (the first, or the one `pick` chooses
    /// among them), or — as real time would — the timer due first when only
    /// timers are left.
    fn pop(&self, pick: &mut dyn FnMut(usize) -> usize) -> Option<Delivery> {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !q.now.is_empty() {
            let i = pick(q.now.len());
            return q.now.remove(i);
        }
        let first = (0..q.timers.len()).min_by_key(|&i| q.timers[i].not_before_ms)?;
        Some(q.timers.swap_remove(first))
    }

    /// The next delivery in order.
    pub fn pop_next(&self) -> Option<Delivery> {
        self.pop(&mut |_| 0)
    }

    /// Takes every pending delivery, due now or later.
    pub fn drain(&self) -> Vec<Delivery> {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<Delivery> = q.now.drain(..).collect();
        all.append(&mut q.timers);
        all
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        let q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        q.now.is_empty() && q.timers.is_empty()
    }

    /// Adds a delivery.
    pub fn push(&self, d: Delivery) {
        let mut q = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if d.not_before_ms.is_some() { q.timers.push(d) } else { q.now.push_back(d) }
    }
}

impl Carrier for Queue {
    async fn carry(&self, delivery: Delivery) -> Result<(), String> {
        self.push(delivery);
        Ok(())
    }
}

/// How deliveries are handed to the stepper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Each once, first in first out.
    Clean,
    /// Each twice, the copy right after the original.
    Twice,
    /// In a random order (seeded), each once.
    Shuffled(u64),
    /// Each delivered to two steppers at the same time.
    Race,
    /// Each once, by this many workers at once (as Lambda runs many invocations).
    Concurrent(usize),
}

fn next_random(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *seed >> 33
}

/// Drives one execution to its end on `store` and returns its outcome.
pub async fn run_on<S: StateStore, I: TaskInvoker>(
    store: Arc<S>,
    machine: &str,
    def: &Value,
    input: Value,
    invoker: I,
    mode: Mode,
) -> Outcome {
    run_with_steppers(store, machine, def, input, invoker, mode, Memory::Warm).await
}

/// Like [`run_on`], with a new stepper for every delivery: nothing one
/// delivery's handling remembers reaches the next (with a [`ColdStore`], as if
/// each delivery landed in a new process).
pub async fn run_cold<S: StateStore + Renew, I: TaskInvoker>(
    store: Arc<S>,
    machine: &str,
    def: &Value,
    input: Value,
    invoker: I,
    mode: Mode,
) -> Outcome {
    let renewed = store.clone();
    let renew: Arc<dyn Fn() + Send + Sync> = Arc::new(move || renewed.renew());
    run_with_steppers(store, machine, def, input, invoker, mode, Memory::Fresh(renew)).await
}

/// Whether the steppers of one run share what they remember.
#[derive(Clone)]
enum Memory {
    /// One stepper handles every delivery (a warm container).
    Warm,
    /// Each delivery gets a new stepper, after this renews the store.
    Fresh(Arc<dyn Fn() + Send + Sync>),
}

async fn run_with_steppers<S: StateStore, I: TaskInvoker>(
    store: Arc<S>,
    machine: &str,
    def: &Value,
    input: Value,
    invoker: I,
    mode: Mode,
    memory: Memory,
) -> Outcome {
    let queue = Queue::default();
    let steppers = Steppers::new(store.clone(), invoker, queue.clone(), memory);
    let name = format!("run-{}", next_name());
    let info = runtime::local_execution_info(machine, &name, input, T0_MS);
    let arn = info.execution_arn.clone();
    store.create_execution(info, Arc::new(definition(def)), def.to_string()).await.expect("create execution");
    queue.push(Delivery::start(&arn));
    match mode {
        Mode::Concurrent(workers) => drive_concurrently(&steppers, &queue, workers).await.expect("stepper"),
        _ => drive(&steppers, &queue, mode).await.expect("stepper"),
    }
    let record = store.execution(&arn).await.expect("record");
    let history = store.history(&arn).await.expect("history");
    Outcome { record, history }
}

/// Where the deliveries of a run get their stepper: one for all, or a new one each.
pub struct Steppers<S, I> {
    store: Arc<S>,
    invoker: Arc<I>,
    queue: Queue,
    clock: Clock,
    warm: Option<Arc<Stepper<S, I, Queue>>>,
    renew: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl<S, I> Clone for Steppers<S, I> {
    fn clone(&self) -> Self {
        Steppers {
            store: self.store.clone(),
            invoker: self.invoker.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
            warm: self.warm.clone(),
            renew: self.renew.clone(),
        }
    }
}

impl<S: StateStore, I: TaskInvoker> Steppers<S, I> {
    fn new(store: Arc<S>, invoker: I, queue: Queue, memory: Memory) -> Self {
        let clock = Clock::virtual_at(T0_MS);
        let invoker = Arc::new(invoker);
        let (warm, renew) = match memory {
            Memory::Warm => {
                (Some(Arc::new(Stepper::new(store.clone(), invoker.clone(), queue.clone(), clock.clone()))), None)
            }
            Memory::Fresh(renew) => (None, Some(renew)),
        };
        Steppers { store, invoker, queue, clock, warm, renew }
    }

    /// One stepper over a store on `queue` that remembers across deliveries.
    pub fn warm(store: Arc<S>, invoker: I, queue: Queue) -> Self {
        Self::new(store, invoker, queue, Memory::Warm)
    }

    /// A new stepper for every delivery, on `queue`.
    pub fn cold(store: Arc<S>, invoker: I, queue: Queue) -> Self
    where
        S: Renew,
    {
        let renewed = store.clone();
        Self::new(store, invoker, queue, Memory::Fresh(Arc::new(move || renewed.renew())))
    }

    /// The stepper for the next delivery.
    pub fn get(&self) -> Arc<Stepper<S, I, Queue>> {
        match &self.warm {
            Some(stepper) => stepper.clone(),
            None => {
                if let Some(renew) = &self.renew {
                    renew();
                }
                Arc::new(Stepper::new(self.store.clone(), self.invoker.clone(), self.queue.clone(), self.clock.clone()))
            }
        }
    }
}

fn next_name() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Hands queued deliveries to `workers` tasks at once until none is left and all are idle.
pub async fn drive_concurrently<S: StateStore, I: TaskInvoker>(
    steppers: &Steppers<S, I>,
    queue: &Queue,
    workers: usize,
) -> Result<(), StepperError> {
    let busy = Arc::new(AtomicU64::new(0));
    let mut tasks: tokio::task::JoinSet<Result<(), StepperError>> = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (steppers, queue, busy) = (steppers.clone(), queue.clone(), busy.clone());
        tasks.spawn(async move {
            loop {
                busy.fetch_add(1, Ordering::SeqCst);
                let next = queue.pop_next();
                let Some(d) = next else {
                    busy.fetch_sub(1, Ordering::SeqCst);
                    if busy.load(Ordering::SeqCst) == 0 && queue.is_empty() {
                        return Ok(());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    continue;
                };
                let result = handle_with_retries(&steppers, d).await;
                busy.fetch_sub(1, Ordering::SeqCst);
                result?;
            }
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.map_err(|e| StepperError::Dispatch(e.to_string()))??;
    }
    Ok(())
}

/// Hands queued deliveries to the steppers until none is left.
pub async fn drive<S: StateStore, I: TaskInvoker>(
    stepper: &Steppers<S, I>,
    queue: &Queue,
    mode: Mode,
) -> Result<(), StepperError> {
    let mut seed = match mode {
        Mode::Shuffled(seed) => seed,
        _ => 1,
    };
    loop {
        let mut pick = |len: usize| match mode {
            Mode::Shuffled(_) => (next_random(&mut seed) as usize) % len,
            _ => 0,
        };
        let Some(d) = queue.pop(&mut pick) else { return Ok(()) };
        match mode {
            Mode::Clean | Mode::Shuffled(_) | Mode::Concurrent(_) => handle_with_retries(stepper, d).await?,
            Mode::Twice => {
                handle_with_retries(stepper, d.clone()).await?;
                handle_with_retries(stepper, d).await?;
            }
            Mode::Race => {
                let (a, b) = tokio::join!(handle_with_retries(stepper, d.clone()), handle_with_retries(stepper, d));
                a?;
                b?;
            }
        }
    }
}

/// What Lambda does with a failed asynchronous invocation: delivers the same
/// event again (up to twice more), each time to the stepper `steppers` gives.
async fn handle_with_retries<S: StateStore, I: TaskInvoker>(
    steppers: &Steppers<S, I>,
    d: Delivery,
) -> Result<(), StepperError> {
    let mut attempt = 0;
    loop {
        match steppers.get().handle(d.clone()).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt >= 2 => return Err(e),
            Err(_) => attempt += 1,
        }
    }
}

/// A store that crashes on chosen commits: before the write (so the step is
/// lost, as when a stepper dies after performing the previous step's effects)
/// or after it (so the step is written but its effects are not performed).
pub struct FaultyStore<S> {
    inner: S,
    commits: AtomicU64,
    before: Vec<u64>,
    after: Vec<u64>,
}

impl<S> FaultyStore<S> {
    /// Crashes before commits number `before` and after commits number `after` (counting from 0).
    pub fn new(inner: S, before: Vec<u64>, after: Vec<u64>) -> Self {
        FaultyStore { inner, commits: AtomicU64::new(0), before, after }
    }

    /// Commits attempted so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }
}

impl<S: StateStore> StateStore for FaultyStore<S> {
    async fn create_execution(
        &self,
        info: engine::ExecutionInfo,
        definition: Arc<asl::Definition>,
        definition_text: String,
    ) -> Result<(), StoreError> {
        self.inner.create_execution(info, definition, definition_text).await
    }

    async fn execution(&self, arn: &str) -> Result<ExecutionRecord, StoreError> {
        self.inner.execution(arn).await
    }

    async fn facts(&self, arn: &str) -> Result<ExecutionFacts, StoreError> {
        self.inner.facts(arn).await
    }

    async fn load_run(&self, arn: &str, run: &RunId) -> Result<Option<engine::Run>, StoreError> {
        self.inner.load_run(arn, run).await
    }

    async fn checkout_run(&self, arn: &str, run: &RunId) -> Result<Option<Checkout>, StoreError> {
        self.inner.checkout_run(arn, run).await
    }

    async fn restore_run(&self, arn: &str, run: engine::Run) -> Result<(), StoreError> {
        self.inner.restore_run(arn, run).await
    }

    async fn forget(&self, arn: &str, run: &RunId) {
        self.inner.forget(arn, run).await
    }

    async fn latest_effects(&self, arn: &str, run: &RunId) -> Result<Option<Vec<engine::Effect>>, StoreError> {
        self.inner.latest_effects(arn, run).await
    }

    async fn commit(&self, arn: &str, step: StepRecord) -> Result<CommitOutcome, StoreError> {
        let n = self.commits.fetch_add(1, Ordering::SeqCst);
        if self.before.contains(&n) {
            return Err(StoreError::Backend(format!("injected crash before commit {n}")));
        }
        let outcome = self.inner.commit(arn, step).await?;
        if self.after.contains(&n) {
            return Err(StoreError::Backend(format!("injected crash after commit {n}")));
        }
        Ok(outcome)
    }

    async fn put_child_outcome(
        &self,
        arn: &str,
        child: &RunId,
        report: &engine::ChildReport,
    ) -> Result<bool, StoreError> {
        self.inner.put_child_outcome(arn, child, report).await
    }

    async fn child_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        total: u32,
    ) -> Result<Vec<engine::ChildOutcome>, StoreError> {
        self.inner.child_outcomes(arn, parent, generation, total).await
    }

    async fn stage_children(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        specs: &[engine::ChildSpec],
    ) -> Result<(), StoreError> {
        self.inner.stage_children(arn, parent, generation, specs).await
    }

    async fn staged_child(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        index: u32,
    ) -> Result<Option<engine::ChildSpec>, StoreError> {
        self.inner.staged_child(arn, parent, generation, index).await
    }

    async fn tally_add(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: engine::Tally,
        indices: &[u32],
    ) -> Result<runtime::tally::TallyState, StoreError> {
        self.inner.tally_add(arn, parent, generation, tally, indices).await
    }

    async fn tally_fail(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: engine::Tally,
    ) -> Result<Vec<u32>, StoreError> {
        self.inner.tally_fail(arn, parent, generation, tally).await
    }

    async fn tally_failing(&self, arn: &str, parent: &RunId, generation: u64, index: u32) -> Result<bool, StoreError> {
        self.inner.tally_failing(arn, parent, generation, index).await
    }

    async fn tallied_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: engine::Tally,
    ) -> Result<Vec<(engine::ChildOutcome, engine::ChildMark)>, StoreError> {
        self.inner.tallied_outcomes(arn, parent, generation, tally).await
    }

    async fn history(&self, arn: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.history(arn).await
    }

    async fn newest_steps(&self, arn: &str) -> Result<Vec<runtime::NewestStep>, StoreError> {
        self.inner.newest_steps(arn).await
    }

    async fn running_executions(
        &self,
        limit: usize,
        token: Option<&str>,
    ) -> Result<runtime::catalog::Page<String>, StoreError> {
        self.inner.running_executions(limit, token).await
    }

    async fn retire(&self, arn: &str) -> Result<(), StoreError> {
        self.inner.retire(arn).await
    }
}

/// A store that can start afresh, as the store of a new process would: what
/// a test calls between two deliveries to leave nothing remembered.
pub trait Renew {
    /// Forgets everything (nothing, for a store that keeps no memory apart from its data).
    fn renew(&self) {}
}

impl Renew for DynamoStateStore {}
impl Renew for runtime::MemoryStateStore {}

impl<S: Renew> Renew for FaultyStore<S> {
    fn renew(&self) {
        self.inner.renew();
    }
}

/// A DynamoDB store with no memory of any kind: every call goes through a new
/// [`DynamoStateStore`] on the same table, as if each were made by another
/// process — or, [`ColdStore::per_delivery`], every call until the next
/// [`Renew::renew`]. With a warm writer, the writes go through that one
/// long-lived store instead (a warm container that handled other executions
/// before), and every read stays cold.
pub struct ColdStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    warm: Option<Arc<DynamoStateStore>>,
    /// The store of the current delivery, when renewed per delivery.
    current: Option<Mutex<Arc<DynamoStateStore>>>,
}

impl ColdStore {
    /// Cold reads and writes on `store`'s table, each call through a new store.
    pub fn on(store: &DynamoStateStore) -> Self {
        ColdStore { client: store.client().clone(), table: store.table().to_string(), warm: None, current: None }
    }

    /// Cold reads and writes on `store`'s table, through a new store after every [`Renew::renew`].
    pub fn per_delivery(store: &DynamoStateStore) -> Self {
        let cold = Self::on(store);
        ColdStore { current: Some(Mutex::new(Arc::new(cold.fresh()))), ..cold }
    }

    /// Writes through `writer`, cold reads of its table.
    pub fn reading_after(writer: Arc<DynamoStateStore>) -> Self {
        ColdStore { warm: Some(writer.clone()), ..Self::on(&writer) }
    }

    /// A store that remembers nothing.
    pub fn fresh(&self) -> DynamoStateStore {
        DynamoStateStore::new(self.client.clone(), self.table.clone()).without_memory()
    }

    /// The store to read through.
    fn reader(&self) -> Arc<DynamoStateStore> {
        match &self.current {
            Some(current) => current.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            None => Arc::new(self.fresh()),
        }
    }

    /// The store to write through: the warm writer, or the reader.
    fn writer(&self) -> Arc<DynamoStateStore> {
        self.warm.clone().unwrap_or_else(|| self.reader())
    }
}

impl Renew for ColdStore {
    fn renew(&self) {
        if let Some(current) = &self.current {
            *current.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(self.fresh());
        }
    }
}

impl StateStore for ColdStore {
    async fn create_execution(
        &self,
        info: engine::ExecutionInfo,
        definition: Arc<asl::Definition>,
        definition_text: String,
    ) -> Result<(), StoreError> {
        self.writer().create_execution(info, definition, definition_text).await
    }

    async fn execution(&self, arn: &str) -> Result<ExecutionRecord, StoreError> {
        self.reader().execution(arn).await
    }

    async fn facts(&self, arn: &str) -> Result<ExecutionFacts, StoreError> {
        self.reader().facts(arn).await
    }

    async fn load_run(&self, arn: &str, run: &RunId) -> Result<Option<engine::Run>, StoreError> {
        self.reader().load_run(arn, run).await
    }

    async fn checkout_run(&self, arn: &str, run: &RunId) -> Result<Option<Checkout>, StoreError> {
        self.reader().checkout_run(arn, run).await
    }

    async fn restore_run(&self, arn: &str, run: engine::Run) -> Result<(), StoreError> {
        self.writer().restore_run(arn, run).await
    }

    async fn forget(&self, arn: &str, run: &RunId) {
        self.writer().forget(arn, run).await
    }

    async fn latest_effects(&self, arn: &str, run: &RunId) -> Result<Option<Vec<engine::Effect>>, StoreError> {
        self.reader().latest_effects(arn, run).await
    }

    async fn commit(&self, arn: &str, step: StepRecord) -> Result<CommitOutcome, StoreError> {
        self.writer().commit(arn, step).await
    }

    async fn put_child_outcome(
        &self,
        arn: &str,
        child: &RunId,
        report: &engine::ChildReport,
    ) -> Result<bool, StoreError> {
        self.writer().put_child_outcome(arn, child, report).await
    }

    async fn child_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        total: u32,
    ) -> Result<Vec<engine::ChildOutcome>, StoreError> {
        self.reader().child_outcomes(arn, parent, generation, total).await
    }

    async fn history(&self, arn: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        self.reader().history(arn).await
    }

    async fn stage_children(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        specs: &[engine::ChildSpec],
    ) -> Result<(), StoreError> {
        self.writer().stage_children(arn, parent, generation, specs).await
    }

    async fn staged_child(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        index: u32,
    ) -> Result<Option<engine::ChildSpec>, StoreError> {
        self.reader().staged_child(arn, parent, generation, index).await
    }

    async fn tally_add(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: engine::Tally,
        indices: &[u32],
    ) -> Result<runtime::tally::TallyState, StoreError> {
        self.writer().tally_add(arn, parent, generation, tally, indices).await
    }

    async fn tally_fail(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: engine::Tally,
    ) -> Result<Vec<u32>, StoreError> {
        self.writer().tally_fail(arn, parent, generation, tally).await
    }

    async fn tally_failing(&self, arn: &str, parent: &RunId, generation: u64, index: u32) -> Result<bool, StoreError> {
        self.reader().tally_failing(arn, parent, generation, index).await
    }

    async fn tallied_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: engine::Tally,
    ) -> Result<Vec<(engine::ChildOutcome, engine::ChildMark)>, StoreError> {
        self.reader().tallied_outcomes(arn, parent, generation, tally).await
    }

    async fn newest_steps(&self, arn: &str) -> Result<Vec<runtime::NewestStep>, StoreError> {
        self.reader().newest_steps(arn).await
    }

    async fn running_executions(
        &self,
        limit: usize,
        token: Option<&str>,
    ) -> Result<runtime::catalog::Page<String>, StoreError> {
        self.reader().running_executions(limit, token).await
    }

    async fn retire(&self, arn: &str) -> Result<(), StoreError> {
        self.writer().retire(arn).await
    }
}

/// Runs `f` on a multi-threaded tokio runtime (the SDK's clients need one).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}
