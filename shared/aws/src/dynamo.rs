//! The DynamoDB store: one table, the history is the log, and every step is
//! one conditional write keyed by its version (docs/architecture.md).
//!
//! Items (partition key `pk`, sort key `sk`):
//!
//! | pk | sk | holds |
//! |---|---|---|
//! | `EX#<arn>` | `META` | execution facts and definition text (large ones as payload references) |
//! | `EX#<arn>` | `SUMMARY` | status, stop time, output, error, cause — written at the end |
//! | `EX#<arn>` | `STEP#<run>#<version, 20 digits>` | the run's snapshot after the step, its events and effects (deflated JSON), its cause and time |
//! | `EX#<arn>` | `DONE#<parent run>#<generation>#<index, 10 digits>` | a child's outcome, put once |
//! | `EX#<arn>` | `BLOB#<run>#<version>#<nonce>#<part>` | the body of a step too large for one item |
//! | `RUNNING#<shard>` | `<arn>` | the execution may still be running (see [`crate::running`]) |
//! | `EX#<arn>` | `PAYLOAD#<sha-256>#<part>` | a large text kept once (a state input referenced by many snapshots, the execution input, the definition, the output), in parts below the item limit |
//!
//! A step is written with `attribute_not_exists(pk)`: the first writer of a
//! version wins, a second learns it lost (not an error). Loading a run is one
//! strongly consistent Query for its newest `STEP#` item.
//!
//! Every read works from a cold process: what this process remembers only
//! spares it reads of items that never change, and writes of items it has
//! written or read under the very key a reader looks in (a payload is
//! remembered per partition key, not per hash: the same text under another
//! execution is another item, written there too).
//!
//! Stored formats: `META`, `STEP#`, `DONE#` and `SPEC#` items carry `fmt`, the
//! format they were written in ([`ITEM_FORMAT`]; absent: format 0, before
//! formats were numbered). A reader decodes every format up to its own and
//! refuses a newer one with an error naming it. Format 1 names states in
//! snapshots, effects and staged child specs by name ([`asl::refs`]), so a
//! step stays readable when a later parser numbers the definition's states
//! differently; format 0 held the indices.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asl::Definition;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConsumedCapacity, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ReturnConsumedCapacity, ScalarAttributeType,
};
use engine::{
    ChildMark, ChildOutcome, ChildReport, ChildSpec, Effect, ExecutionInfo, HistoryEvent, Run, RunId, RunStatus, Tally,
};
use runtime::catalog::Page;
use runtime::merge::{LoggedStep, merge};
use runtime::store::{
    Checkout, CommitOutcome, ExecutionFacts, ExecutionRecord, ExecutionSummary, NewestStep, RecordedEvent, StateStore,
    StepRecord, StoreError,
};
use runtime::tally::TallyState;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Items stay below DynamoDB's 400 KB; a (deflated) step body larger than this is split into blobs.
const INLINE_LIMIT: usize = 300 * 1024;
/// A state input larger than this is stored once as a payload item and referenced.
const PAYLOAD_THRESHOLD: usize = 8 * 1024;

/// The format this build writes `META`, `STEP#`, `DONE#` and `SPEC#` items in,
/// and the newest it reads. 1: states named by name in snapshots, effects and specs.
pub const ITEM_FORMAT: u32 = 1;

/// Counts of DynamoDB requests and capacity units, read from every response
/// (`ReturnConsumedCapacity: TOTAL`): what a transition costs.
#[derive(Debug, Default)]
pub struct Metrics {
    reads: AtomicU64,
    writes: AtomicU64,
    /// Read capacity units × 1000.
    rcu_milli: AtomicU64,
    /// Write capacity units × 1000.
    wcu_milli: AtomicU64,
    /// Bytes of the items written (attribute names and values).
    bytes_written: AtomicU64,
    /// Nanoseconds spent waiting for DynamoDB's answers.
    waited_nanos: AtomicU64,
    /// Writes per partition key (issue 11 item 5: no key above 1,000 writes per second).
    keys: Mutex<HashMap<String, KeyCounter>>,
}

/// The writes one partition key took: in all, and in the busiest second.
#[derive(Debug, Default, Clone, Copy)]
struct KeyCounter {
    writes: u64,
    /// The wall-clock second (since the Unix epoch) being counted, and its writes so far.
    second: u64,
    in_second: u64,
    /// The most writes of any whole second so far.
    peak: u64,
}

/// Writes to one partition key, from [`Metrics::hottest_keys`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyWrites {
    /// The partition key (`pk`).
    pub pk: String,
    /// Write requests to it.
    pub writes: u64,
    /// The most write requests it took within one wall-clock second (counted
    /// in whole seconds, so a burst across a second's boundary counts in two).
    pub peak_per_second: u64,
}

/// A snapshot of [`Metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetricsSnapshot {
    /// Read requests (GetItem, Query).
    pub reads: u64,
    /// Write requests (PutItem, UpdateItem).
    pub writes: u64,
    /// Read capacity units consumed.
    pub rcu: f64,
    /// Write capacity units consumed.
    pub wcu: f64,
    /// Bytes of the items written (attribute names and values, as DynamoDB sizes them).
    pub bytes_written: u64,
    /// Time spent waiting for DynamoDB's answers (summed over concurrent requests).
    pub waited: Duration,
}

impl Metrics {
    pub(crate) fn read(&self, capacity: Option<&ConsumedCapacity>, started: Instant) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.waited(started);
        let units = capacity.and_then(|c| c.capacity_units()).unwrap_or(0.0);
        self.rcu_milli.fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
    }

    pub(crate) fn write(&self, capacity: Option<&ConsumedCapacity>, bytes: usize, started: Instant) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.waited(started);
        self.bytes_written.fetch_add(bytes as u64, Ordering::Relaxed);
        let units = capacity.and_then(|c| c.capacity_units()).unwrap_or(0.0);
        self.wcu_milli.fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
    }

    /// Counts a write request to partition key `pk` (on top of [`Metrics::write`]).
    pub(crate) fn key_written(&self, pk: &str) {
        let second =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let counter = match keys.get_mut(pk) {
            Some(counter) => counter,
            None => keys.entry(pk.to_string()).or_default(),
        };
        counter.writes += 1;
        if counter.second != second {
            counter.second = second;
            counter.in_second = 0;
        }
        counter.in_second += 1;
        counter.peak = counter.peak.max(counter.in_second);
    }

    /// The `n` partition keys with the most writes in one second, busiest first
    /// (ties: more writes in all first).
    pub fn hottest_keys(&self, n: usize) -> Vec<KeyWrites> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<KeyWrites> = keys
            .iter()
            .map(|(pk, c)| KeyWrites { pk: pk.clone(), writes: c.writes, peak_per_second: c.peak })
            .collect();
        drop(keys);
        all.sort_by(|a, b| b.peak_per_second.cmp(&a.peak_per_second).then(b.writes.cmp(&a.writes)));
        all.truncate(n);
        all
    }

    /// How many partition keys were written to.
    pub fn keys_written(&self) -> usize {
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn waited(&self, started: Instant) {
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.waited_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            rcu: self.rcu_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            wcu: self.wcu_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            waited: Duration::from_nanos(self.waited_nanos.load(Ordering::Relaxed)),
        }
    }
}

/// The DynamoDB implementation of [`StateStore`].
pub struct DynamoStateStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(crate) metrics: Arc<Metrics>,
    /// Payload items this process wrote or read, as `<pk>#<hash>`: they are
    /// immutable, and a payload is only known to exist under the partition
    /// key it was written to.
    payloads: Mutex<HashSet<String>>,
    /// Parsed state inputs read from payload items, by hash (immutable too).
    parsed: Mutex<HashMap<String, Value>>,
    /// Facts and parsed definitions by execution (immutable for an execution's life).
    facts: Mutex<HashMap<String, Arc<ExecutionFacts>>>,
    /// Executions this process created whose root run has no step yet: their
    /// first step needs no read (a stale entry is caught by the conditional write).
    unstarted: Mutex<HashSet<String>>,
    /// The newest snapshot this process committed or read, per running run:
    /// the next step of a run usually lands in the same warm container, and
    /// then costs no read. May be stale; the conditional write catches that.
    snapshots: Mutex<HashMap<(String, RunId), (Run, String)>>,
    /// Whether to remember snapshots and payloads at all (off: every step reads
    /// its run and writes its payloads).
    remember: bool,
}

/// Runs remembered at most; past it the memory starts afresh.
const MAX_REMEMBERED: usize = 20_000;

pub(crate) fn backend<E: std::error::Error + 'static>(e: E) -> StoreError {
    StoreError::Backend(DisplayErrorContext(e).to_string())
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("unreadable item: {what}"))
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn get_s<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| corrupt(format!("missing string attribute {name}")))
}

pub(crate) fn get_n(item: &HashMap<String, AttributeValue>, name: &str) -> Result<i64, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt(format!("missing number attribute {name}")))
}

/// An item's size as DynamoDB counts it: attribute names plus values.
pub fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(text) => text.len(),
                    AttributeValue::N(number) => number.len(),
                    AttributeValue::B(bytes) => bytes.as_ref().len(),
                    _ => 1,
                }
        })
        .sum()
}

pub(crate) fn pk(arn: &str) -> String {
    format!("EX#{arn}")
}

fn step_prefix(run: &RunId) -> String {
    format!("STEP#{}#", run.0)
}

/// Partitions the steps of an execution's child runs are spread over.
pub const RUN_SHARDS: u32 = 16;

/// The partition key of a run's steps: the execution's own for the root; for
/// a child run (a branch or an iteration) one of [`RUN_SHARDS`] partitions
/// chosen by a hash of its id, so that the children of a large Map, a
/// window of consecutive indices at a time, write to many keys, none near
/// DynamoDB's 1,000 writes per second per partition. Earlier releases kept
/// every run under the execution's key: reads of a child run look there
/// too when its own partition has nothing ([`DynamoStateStore::newest_step`]).
pub(crate) fn run_pk(arn: &str, run: &RunId) -> String {
    if run.is_root() {
        return pk(arn);
    }
    // FNV-1a: stable across processes and releases, unlike std's hasher.
    let hash = run.0.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x0100_0193));
    format!("EX#{arn}#R{:02}", hash % RUN_SHARDS)
}

fn step_sk(run: &RunId, version: u64) -> String {
    format!("STEP#{}#{version:020}", run.0)
}

/// The run and version a `STEP#<run>#<version>` key names.
fn step_key(sk: &str) -> Result<(RunId, u64), StoreError> {
    let rest = sk.strip_prefix("STEP#").ok_or_else(|| corrupt(format!("step key {sk}")))?;
    let cut = rest.rfind('#').ok_or_else(|| corrupt(format!("step key {sk}")))?;
    let version: u64 = rest[cut + 1..].parse().map_err(corrupt)?;
    Ok((RunId(rest[..cut].to_string()), version))
}

fn done_prefix(parent: &RunId, generation: u64) -> String {
    format!("DONE#{}#{generation}#", parent.0)
}

/// The body of a step item: what is inline or split into blobs.
#[derive(serde::Serialize, serde::Deserialize)]
struct StepBody {
    run: Value,
    history: Vec<HistoryEvent>,
    effects: Vec<Effect>,
}

/// A step body read for its events alone (the snapshot and effects are skipped
/// unread: no definition is needed to name their states).
#[derive(serde::Deserialize)]
struct StepEvents {
    history: Vec<HistoryEvent>,
}

/// The format an item was written in; an error when it is newer than this build reads.
pub(crate) fn item_format(item: &HashMap<String, AttributeValue>) -> Result<u32, StoreError> {
    let format = match item.get("fmt") {
        None => 0,
        Some(_) => u32::try_from(get_n(item, "fmt")?).map_err(|_| corrupt("format number"))?,
    };
    if format > ITEM_FORMAT {
        let key = optional_s(item, "sk").unwrap_or_default();
        return Err(corrupt(format!(
            "item {key} is in stored format {format}, newer than this build reads (up to {ITEM_FORMAT}): \
             it was written by a newer release, which must serve this table"
        )));
    }
    Ok(format)
}

/// The `fmt` attribute of an item this build writes.
pub(crate) fn format_attribute() -> AttributeValue {
    AttributeValue::N(ITEM_FORMAT.to_string())
}

impl DynamoStateStore {
    /// A store on `table` (which must exist: see [`DynamoStateStore::create_table`]).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStateStore {
            client,
            table: table.into(),
            metrics: Arc::new(Metrics::default()),
            payloads: Mutex::new(HashSet::new()),
            parsed: Mutex::new(HashMap::new()),
            facts: Mutex::new(HashMap::new()),
            unstarted: Mutex::new(HashSet::new()),
            snapshots: Mutex::new(HashMap::new()),
            remember: true,
        }
    }

    /// A store that reads every run from the table (as a cold container does): for measurements.
    pub fn without_memory(mut self) -> Self {
        self.remember = false;
        self
    }

    /// Request and capacity counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The DynamoDB client (a second store on the same table, as another process would have it).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table unless it exists (as `create_table` makes it).
    pub async fn ensure_table(client: &Client, table: &str) -> Result<(), StoreError> {
        match client.describe_table().table_name(table).send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {
                Self::create_table(client, table).await
            }
            Err(e) => Err(backend(e)),
        }
    }

    /// Creates the table (on-demand billing, `pk`/`sk` string keys) and waits until it is active.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(backend)
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(backend)
        };
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .attribute_definitions(attr("gsi1pk")?)
            .attribute_definitions(attr("gsi1sk")?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(crate::catalog::INDEX)
                    .key_schema(key("gsi1pk", KeyType::Hash)?)
                    .key_schema(key("gsi1sk", KeyType::Range)?)
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()
                    .map_err(backend)?,
            )
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    /// Puts an item only if no item has its key; false when one had.
    pub(crate) async fn put_if_absent(&self, item: HashMap<String, AttributeValue>) -> Result<bool, StoreError> {
        self.put_item(item, true).await
    }

    /// Puts an item, replacing any with its key.
    pub(crate) async fn put(&self, item: HashMap<String, AttributeValue>) -> Result<(), StoreError> {
        self.put_item(item, false).await.map(|_| ())
    }

    pub(crate) async fn put_item(
        &self,
        item: HashMap<String, AttributeValue>,
        only_new: bool,
    ) -> Result<bool, StoreError> {
        let bytes = item_size(&item);
        if let Some(AttributeValue::S(key)) = item.get("pk") {
            self.metrics.key_written(key);
        }
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if only_new {
            request = request.condition_expression("attribute_not_exists(pk)");
        }
        let started = Instant::now();
        match request.send().await {
            Ok(out) => {
                self.metrics.write(out.consumed_capacity(), bytes, started);
                Ok(true)
            }
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                self.metrics.write(None, 0, started);
                Ok(false)
            }
            Err(e) => Err(backend(e)),
        }
    }

    pub(crate) async fn get(&self, arn: &str, sk: &str) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        self.get_key(pk(arn), sk).await
    }

    /// The item with partition key `pk` and sort key `sk` (strongly consistent).
    pub(crate) async fn get_key(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let request = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let started = Instant::now();
        let out = request.send().await.map_err(backend)?;
        self.metrics.read(out.consumed_capacity(), started);
        Ok(out.item)
    }

    /// Every item of the execution whose sort key starts with `prefix`, in key order.
    async fn query_prefix(&self, arn: &str, prefix: &str) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        self.query_key_prefix(&pk(arn), prefix).await
    }

    /// Every item under partition key `pk` whose sort key starts with `prefix`, in key order.
    pub(crate) async fn query_key_prefix(
        &self,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self.query_page(pk, prefix, false, start).await?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// The newest step item of a run.
    async fn newest_step(&self, arn: &str, run: &RunId) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let own = run_pk(arn, run);
        let out = self.query_page(&own, &step_prefix(run), true, None).await?;
        if let Some(item) = out.items.unwrap_or_default().into_iter().next() {
            return Ok(Some(item));
        }
        if run.is_root() {
            return Ok(None);
        }
        // A child run of an execution an earlier release started: under the execution's key.
        let out = self.query_page(&pk(arn), &step_prefix(run), true, None).await?;
        Ok(out.items.unwrap_or_default().into_iter().next())
    }

    /// Every step item of an execution: the root's partition (which holds
    /// the child runs of executions earlier releases started too), and the
    /// child runs' partitions when the root ever fanned out.
    async fn step_items(&self, arn: &str) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut items = self.query_prefix(arn, "STEP#").await?;
        // A step that started children says so (`fanOut`): only then are there child partitions
        // to read. An execution an earlier release started has its children's first steps here,
        // under its own key, and their later steps in the child partitions.
        let children_here = |item: &HashMap<String, AttributeValue>| {
            item.get("sk").and_then(|v| v.as_s().ok()).is_some_and(|sk| !sk.starts_with("STEP##"))
        };
        if items.iter().any(|item| item.contains_key("fanOut") || children_here(item)) {
            for shard in 0..RUN_SHARDS {
                let shard_pk = format!("EX#{arn}#R{shard:02}");
                items.extend(self.query_key_prefix(&shard_pk, "STEP#").await?);
            }
        }
        Ok(items)
    }

    /// One strongly consistent page of the execution's items whose sort key starts
    /// with `prefix`: in key order, or only the last one when `newest_only`.
    async fn query_page(
        &self,
        pk: &str,
        prefix: &str,
        newest_only: bool,
        start: Option<HashMap<String, AttributeValue>>,
    ) -> Result<QueryOutput, StoreError> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if newest_only {
            request = request.scan_index_forward(false).limit(1);
        }
        let started = Instant::now();
        let out = request.send().await.map_err(backend)?;
        self.metrics.read(out.consumed_capacity(), started);
        Ok(out)
    }

    /// The body of a step item, with the states in its snapshot and effects
    /// resolved in the execution's definition.
    async fn body(&self, arn: &str, item: &HashMap<String, AttributeValue>) -> Result<StepBody, StoreError> {
        let text = self.body_text(arn, item).await?;
        let definition = self.definition(arn).await?;
        asl::refs::by_name(&definition, || serde_json::from_slice(&text)).map_err(corrupt)
    }

    /// The JSON text of a step item's body, reassembled from blobs when it was split.
    async fn body_text(&self, arn: &str, item: &HashMap<String, AttributeValue>) -> Result<Vec<u8>, StoreError> {
        item_format(item)?;
        let packed = match item.get("body").and_then(|v| v.as_b().ok()) {
            Some(bytes) => bytes.as_ref().to_vec(),
            None => {
                let prefix = get_s(item, "blob")?;
                // The blobs are under the step's own partition key.
                let parts = match item.get("pk").and_then(|v| v.as_s().ok()) {
                    Some(key) => self.query_key_prefix(key, prefix).await?,
                    None => self.query_prefix(arn, prefix).await?,
                };
                let mut packed = Vec::new();
                for part in &parts {
                    let data = part.get("data").and_then(|v| v.as_b().ok()).ok_or_else(|| corrupt("blob part"))?;
                    packed.extend_from_slice(data.as_ref());
                }
                packed
            }
        };
        let mut text = Vec::new();
        flate2::read::DeflateDecoder::new(packed.as_slice()).read_to_end(&mut text).map_err(corrupt)?;
        Ok(text)
    }

    /// The execution's definition (its facts are kept for the execution's life).
    pub(crate) async fn definition(&self, arn: &str) -> Result<Arc<Definition>, StoreError> {
        if let Some(facts) = self.facts.lock().unwrap_or_else(|e| e.into_inner()).get(arn) {
            return Ok(facts.definition.clone());
        }
        Ok(self.facts(arn).await?.definition)
    }

    /// Stores `text` once (content-addressed, in parts) and returns its reference.
    async fn put_payload(&self, arn: &str, text: &str) -> Result<String, StoreError> {
        let hash = hex::encode(Sha256::digest(text.as_bytes()));
        let key = pk(arn);
        // Known only under this key: a reader of this execution looks nowhere else.
        let known = format!("{key}#{hash}");
        if !self.payloads.lock().unwrap_or_else(|e| e.into_inner()).contains(&known) {
            for (part, chunk) in chunks(text).enumerate() {
                let mut item = HashMap::new();
                item.insert("pk".to_string(), s(&key));
                item.insert("sk".to_string(), s(format!("PAYLOAD#{hash}#{part:04}")));
                item.insert("data".to_string(), s(chunk));
                // Content-addressed: writing the same part again changes nothing.
                self.put(item).await?;
            }
            self.payload_known(known);
        }
        Ok(hash)
    }

    /// Remembers that a payload item exists under its key (`<pk>#<hash>`).
    fn payload_known(&self, known: String) {
        if !self.remember {
            return;
        }
        let mut payloads = self.payloads.lock().unwrap_or_else(|e| e.into_inner());
        if payloads.len() >= MAX_REMEMBERED {
            payloads.clear();
        }
        payloads.insert(known);
    }

    /// The text of a payload reference.
    async fn get_payload(&self, arn: &str, hash: &str) -> Result<String, StoreError> {
        let parts = self.query_prefix(arn, &format!("PAYLOAD#{hash}#")).await?;
        if parts.is_empty() {
            return Err(corrupt(format!("payload {hash} is missing")));
        }
        let mut text = String::new();
        for part in &parts {
            text.push_str(get_s(part, "data")?);
        }
        self.payload_known(format!("{}#{hash}", pk(arn)));
        Ok(text)
    }

    /// A text attribute: inline when small, else a payload reference (`<name>Ref`).
    pub(crate) async fn put_text(
        &self,
        arn: &str,
        item: &mut HashMap<String, AttributeValue>,
        name: &str,
        text: String,
    ) -> Result<(), StoreError> {
        if text.len() <= PAYLOAD_THRESHOLD {
            item.insert(name.to_string(), s(text));
        } else {
            let hash = self.put_payload(arn, &text).await?;
            item.insert(format!("{name}Ref"), s(hash));
        }
        Ok(())
    }

    /// Reads back what [`Self::put_text`] wrote; `None` when neither form is there.
    pub(crate) async fn get_text(
        &self,
        arn: &str,
        item: &HashMap<String, AttributeValue>,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        if let Some(text) = optional_s(item, name) {
            return Ok(Some(text));
        }
        match optional_s(item, &format!("{name}Ref")) {
            Some(hash) => Ok(Some(self.get_payload(arn, &hash).await?)),
            None => Ok(None),
        }
    }

    /// A snapshot with its large state input replaced by a payload reference
    /// (a Map's parent keeps its input while every child's report rewrites its snapshot).
    async fn externalize(&self, arn: &str, definition: &Arc<Definition>, run: &Run) -> Result<Value, StoreError> {
        let mut value = asl::refs::by_name(definition, || serde_json::to_value(run)).map_err(corrupt)?;
        let Some(input) = value.pointer_mut("/cursor/input") else {
            return Ok(value);
        };
        let text = input.to_string();
        if text.len() <= PAYLOAD_THRESHOLD {
            return Ok(value);
        }
        let hash = self.put_payload(arn, &text).await?;
        *input = serde_json::json!({"$payload": hash});
        Ok(value)
    }

    /// The snapshot back from its stored form.
    async fn internalize(&self, arn: &str, mut value: Value) -> Result<Run, StoreError> {
        let reference = value.pointer("/cursor/input/$payload").and_then(Value::as_str).map(str::to_string);
        if let Some(hash) = reference {
            let known = self.parsed.lock().unwrap_or_else(|e| e.into_inner()).get(&hash).cloned();
            let input = match known {
                Some(input) => input,
                None => {
                    let input: Value = serde_json::from_str(&self.get_payload(arn, &hash).await?).map_err(corrupt)?;
                    let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
                    if parsed.len() >= 64 {
                        parsed.clear();
                    }
                    parsed.insert(hash.clone(), input.clone());
                    input
                }
            };
            if let Some(slot) = value.pointer_mut("/cursor/input") {
                *slot = input;
            }
        }
        let definition = self.definition(arn).await?;
        asl::refs::by_name(&definition, || serde_json::from_value(value)).map_err(corrupt)
    }

    /// Remembers a running run's newest snapshot (a finished run is forgotten: it takes no more steps).
    fn remember(&self, key: (String, RunId), run: &Run, cause: &str) {
        if key.1.is_root() {
            self.unstarted.lock().unwrap_or_else(|e| e.into_inner()).remove(&key.0);
        }
        let mut snapshots = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        if !self.remember || run.status != RunStatus::Running {
            snapshots.remove(&key);
            return;
        }
        if snapshots.len() >= MAX_REMEMBERED {
            snapshots.clear();
        }
        snapshots.insert(key, (run.clone(), cause.to_string()));
    }

    fn keep_facts(&self, facts: ExecutionFacts) {
        let mut all = self.facts.lock().unwrap_or_else(|e| e.into_inner());
        if all.len() >= MAX_REMEMBERED {
            all.clear();
        }
        all.insert(facts.info.execution_arn.clone(), Arc::new(facts));
    }

    async fn put_summary(&self, arn: &str, summary: &ExecutionSummary) -> Result<(), StoreError> {
        let mut item = HashMap::new();
        item.insert("pk".to_string(), s(pk(arn)));
        item.insert("sk".to_string(), s("SUMMARY"));
        item.insert("status".to_string(), s(summary.status.as_str()));
        item.insert("stopTime".to_string(), AttributeValue::N(summary.stop_time_ms.unwrap_or(0).to_string()));
        item.insert("redriveCount".to_string(), AttributeValue::N(summary.redrive_count.to_string()));
        if let Some(date) = summary.redrive_date_ms {
            item.insert("redriveDate".to_string(), AttributeValue::N(date.to_string()));
        }
        if let Some(output) = &summary.output {
            self.put_text(arn, &mut item, "output", output.clone()).await?;
        }
        if let Some(error) = &summary.error {
            item.insert("error".to_string(), s(error));
        }
        if let Some(cause) = &summary.cause {
            self.put_text(arn, &mut item, "cause", cause.clone()).await?;
        }
        self.update(item).await
    }

    /// Sets the attributes of `item` on the item with its key, keeping the others.
    async fn update(&self, mut item: HashMap<String, AttributeValue>) -> Result<(), StoreError> {
        let key_pk = item.remove("pk").ok_or_else(|| corrupt("update without pk"))?;
        let key_sk = item.remove("sk").ok_or_else(|| corrupt("update without sk"))?;
        let bytes = item_size(&item);
        if let AttributeValue::S(key) = &key_pk {
            self.metrics.key_written(key);
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", key_pk)
            .key("sk", key_sk)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let mut sets = Vec::new();
        // What an earlier end of the execution left (a redriven execution ends again).
        let stale: Vec<&str> = ["output", "outputRef", "error", "cause", "causeRef"]
            .into_iter()
            .filter(|n| !item.contains_key(*n))
            .collect();
        for (i, (name, value)) in item.into_iter().enumerate() {
            sets.push(format!("#a{i} = :a{i}"));
            request = request
                .expression_attribute_names(format!("#a{i}"), name)
                .expression_attribute_values(format!(":a{i}"), value);
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !stale.is_empty() {
            let mut removes = Vec::new();
            for (i, name) in stale.into_iter().enumerate() {
                removes.push(format!("#r{i}"));
                request = request.expression_attribute_names(format!("#r{i}"), name);
            }
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let started = Instant::now();
        let out = request.update_expression(expression).send().await.map_err(backend)?;
        self.metrics.write(out.consumed_capacity(), bytes, started);
        Ok(())
    }
}

/// Pieces of `text` below the item size limit, cut at character boundaries.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(INLINE_LIMIT);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        rest = tail;
        Some(head)
    })
}

pub(crate) fn optional_s(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub(crate) fn status_of(text: &str) -> Result<RunStatus, StoreError> {
    Ok(match text {
        "RUNNING" => RunStatus::Running,
        "SUCCEEDED" => RunStatus::Succeeded,
        "FAILED" => RunStatus::Failed,
        "TIMED_OUT" => RunStatus::TimedOut,
        "ABORTED" => RunStatus::Aborted,
        other => return Err(corrupt(format!("status {other}"))),
    })
}

impl StateStore for DynamoStateStore {
    async fn create_execution(
        &self,
        info: ExecutionInfo,
        definition: Arc<Definition>,
        definition_text: String,
    ) -> Result<(), StoreError> {
        let arn = info.execution_arn.clone();
        let mut item = HashMap::new();
        item.insert("pk".to_string(), s(pk(&arn)));
        item.insert("sk".to_string(), s("META"));
        item.insert("fmt".to_string(), format_attribute());
        self.put_text(&arn, &mut item, "info", serde_json::to_string(&info).map_err(corrupt)?).await?;
        self.put_text(&arn, &mut item, "definition", definition_text.clone()).await?;
        // The listing entry, RUNNING until the last step updates it.
        let mut summary = HashMap::new();
        summary.insert("pk".to_string(), s(pk(&arn)));
        summary.insert("sk".to_string(), s("SUMMARY"));
        summary.insert("gsi1pk".to_string(), s(crate::catalog::executions_partition(&info.state_machine_arn)));
        summary.insert("gsi1sk".to_string(), s(runtime::catalog::listing_key(info.start_time_ms, &info.name)));
        summary.insert("name".to_string(), s(&info.name));
        summary.insert("startTime".to_string(), AttributeValue::N(info.start_time_ms.to_string()));
        summary.insert("status".to_string(), s(RunStatus::Running.as_str()));
        summary.insert("redriveCount".to_string(), AttributeValue::N(info.redrive_count.to_string()));
        // Both at once, both only if new: an execution that exists keeps its
        // record and its summary, whichever of the two answers first.
        // The running-list marker first: an execution whose record is written
        // is always found by recovery, even when this process dies right after
        // (a marker without a record is skipped; one of an execution that
        // existed already is retired once recovery sees its end).
        self.mark_running(&arn).await?;
        let (record, listed) = tokio::join!(self.put_if_absent(item), self.put_if_absent(summary));
        if !record? {
            return Err(StoreError::ExecutionAlreadyExists(arn));
        }
        listed?;
        if self.remember {
            self.unstarted.lock().unwrap_or_else(|e| e.into_inner()).insert(arn.clone());
            self.keep_facts(ExecutionFacts { info, definition, definition_text });
        }
        Ok(())
    }

    async fn facts(&self, arn: &str) -> Result<ExecutionFacts, StoreError> {
        if let Some(facts) = self.facts.lock().unwrap_or_else(|e| e.into_inner()).get(arn) {
            return Ok((**facts).clone());
        }
        let item = self.get(arn, "META").await?.ok_or_else(|| StoreError::ExecutionDoesNotExist(arn.to_string()))?;
        item_format(&item)?;
        let info = self.get_text(arn, &item, "info").await?.ok_or_else(|| corrupt("execution facts"))?;
        let info: ExecutionInfo = serde_json::from_str(&info).map_err(corrupt)?;
        let definition_text = self.get_text(arn, &item, "definition").await?.ok_or_else(|| corrupt("definition"))?;
        let definition = asl::parse_definition_str(&definition_text)
            .map_err(|errors| corrupt(format!("stored definition is invalid: {}", errors.len())))?;
        let facts = ExecutionFacts { info, definition: Arc::new(definition), definition_text };
        self.keep_facts(facts.clone());
        Ok(facts)
    }

    async fn execution(&self, arn: &str) -> Result<ExecutionRecord, StoreError> {
        let ExecutionFacts { info, definition, definition_text } = self.facts(arn).await?;
        let summary = match self.get(arn, "SUMMARY").await? {
            None => ExecutionSummary::running(),
            Some(item) => ExecutionSummary {
                status: status_of(get_s(&item, "status")?)?,
                stop_time_ms: get_n(&item, "stopTime").ok().filter(|t| *t > 0),
                output: self.get_text(arn, &item, "output").await?,
                error: optional_s(&item, "error"),
                cause: self.get_text(arn, &item, "cause").await?,
                redrive_count: get_n(&item, "redriveCount").ok().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
                redrive_date_ms: get_n(&item, "redriveDate").ok(),
            },
        };
        Ok(ExecutionRecord { info, definition, definition_text, summary })
    }

    async fn load_run(&self, arn: &str, run: &RunId) -> Result<Option<Run>, StoreError> {
        let Some(item) = self.newest_step(arn, run).await? else {
            return Ok(None);
        };
        let body = self.body(arn, &item).await?;
        Ok(Some(self.internalize(arn, body.run).await?))
    }

    async fn checkout_run(&self, arn: &str, run: &RunId) -> Result<Option<Checkout>, StoreError> {
        let key = (arn.to_string(), run.clone());
        if let Some((snapshot, cause)) = self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(Some(Checkout { run: snapshot.clone(), cause: cause.clone(), cached: true }));
        }
        if run.is_root() && self.unstarted.lock().unwrap_or_else(|e| e.into_inner()).contains(arn) {
            return Ok(None);
        }
        let Some(item) = self.newest_step(arn, run).await? else {
            return Ok(None);
        };
        let cause = get_s(&item, "cause")?.to_string();
        let body = self.body(arn, &item).await?;
        let run = self.internalize(arn, body.run).await?;
        self.remember(key, &run, &cause);
        Ok(Some(Checkout { run, cause, cached: false }))
    }

    async fn restore_run(&self, _arn: &str, _run: Run) -> Result<(), StoreError> {
        // Checkouts are copies; the table (and the memory of it) still holds the run.
        Ok(())
    }

    async fn forget(&self, arn: &str, run: &RunId) {
        if run.is_root() {
            self.unstarted.lock().unwrap_or_else(|e| e.into_inner()).remove(arn);
        }
        self.snapshots.lock().unwrap_or_else(|e| e.into_inner()).remove(&(arn.to_string(), run.clone()));
    }

    async fn latest_effects(&self, arn: &str, run: &RunId) -> Result<Option<Vec<Effect>>, StoreError> {
        let Some(item) = self.newest_step(arn, run).await? else {
            return Ok(None);
        };
        Ok(Some(self.body(arn, &item).await?.effects))
    }

    async fn commit(&self, arn: &str, step: StepRecord) -> Result<CommitOutcome, StoreError> {
        let StepRecord { run, history, effects, cause } = step;
        let at = history.first().map(|e| e.timestamp_ms).unwrap_or(0);
        let definition = self.definition(arn).await?;
        let stored_run = self.externalize(arn, &definition, &run).await?;
        let body = StepBody { run: stored_run, history, effects };
        let text = asl::refs::by_name(&definition, || serde_json::to_vec(&body)).map_err(corrupt)?;
        // Deflated: a step repeats its payload (input, output, snapshot), which compresses
        // away, and write capacity is billed per KB.
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&text).map_err(corrupt)?;
        let packed = encoder.finish().map_err(corrupt)?;
        let sk = step_sk(&run.id, run.version);
        let own_pk = run_pk(arn, &run.id);
        let mut item = HashMap::new();
        item.insert("pk".to_string(), s(&own_pk));
        item.insert("sk".to_string(), s(&sk));
        if body.effects.iter().any(|e| matches!(e, Effect::StartChildren(_))) {
            // Readers of the whole history look in the child runs' partitions only after such a step.
            item.insert("fanOut".to_string(), AttributeValue::Bool(true));
        }
        let cause_text = cause.clone();
        item.insert("fmt".to_string(), format_attribute());
        item.insert("cause".to_string(), s(cause));
        item.insert("at".to_string(), AttributeValue::N(at.to_string()));
        if packed.len() <= INLINE_LIMIT {
            item.insert("body".to_string(), AttributeValue::B(Blob::new(packed)));
        } else {
            // Split the body; the nonce keeps a losing racer's parts apart from the winner's.
            let nonce = hex::encode(&Sha256::digest(&packed)[..8]);
            let prefix = format!("BLOB#{}#{}#{nonce}#", run.id.0, run.version);
            for (part, chunk) in packed.chunks(INLINE_LIMIT).enumerate() {
                let mut blob = HashMap::new();
                blob.insert("pk".to_string(), s(&own_pk));
                blob.insert("sk".to_string(), s(format!("{prefix}{part:06}")));
                blob.insert("data".to_string(), AttributeValue::B(Blob::new(chunk.to_vec())));
                self.put(blob).await?;
            }
            item.insert("blob".to_string(), s(prefix));
        }
        if !self.put_if_absent(item).await? {
            return Ok(CommitOutcome::AlreadyCommitted);
        }
        self.remember((arn.to_string(), run.id.clone()), &run, &cause_text);
        if let Some(summary) = ExecutionSummary::after_step(&run, &body.history) {
            self.put_summary(arn, &summary).await?;
            // Off the running list once ended, back on it when redriven.
            if summary.status == RunStatus::Running {
                self.mark_running(arn).await?;
            } else {
                self.unmark_running(arn).await?;
            }
        }
        Ok(CommitOutcome::Committed { ids: Vec::new(), history: body.history, effects: body.effects })
    }

    async fn put_child_outcome(&self, arn: &str, child: &RunId, report: &ChildReport) -> Result<bool, StoreError> {
        if report.tally.is_some() {
            return self.put_tallied_outcome(arn, child, report).await;
        }
        let mut item = HashMap::new();
        item.insert("pk".to_string(), s(pk(arn)));
        item.insert(
            "sk".to_string(),
            s(format!("{}{:010}", done_prefix(&report.parent, report.generation), report.index)),
        );
        item.insert("fmt".to_string(), format_attribute());
        item.insert("child".to_string(), s(child.0.clone()));
        item.insert("outcome".to_string(), s(serde_json::to_string(&report.outcome).map_err(corrupt)?));
        self.put_if_absent(item).await
    }

    async fn child_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        total: u32,
    ) -> Result<Vec<ChildOutcome>, StoreError> {
        let items = self.query_prefix(arn, &done_prefix(parent, generation)).await?;
        if items.len() != total as usize {
            return Err(StoreError::Backend(format!(
                "{} of {total} child outcomes of {parent} generation {generation} are recorded",
                items.len()
            )));
        }
        items
            .iter()
            .map(|item| {
                item_format(item)?;
                serde_json::from_str(get_s(item, "outcome")?).map_err(corrupt)
            })
            .collect()
    }

    async fn stage_children(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        specs: &[ChildSpec],
    ) -> Result<(), StoreError> {
        self.stage(arn, parent, generation, specs).await
    }

    async fn staged_child(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        index: u32,
    ) -> Result<Option<ChildSpec>, StoreError> {
        self.staged(arn, parent, generation, index).await
    }

    async fn tally_add(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
        indices: &[u32],
    ) -> Result<TallyState, StoreError> {
        self.add_to_tally(arn, parent, generation, tally, indices).await
    }

    async fn tally_fail(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
    ) -> Result<Vec<u32>, StoreError> {
        self.fail_tally(arn, parent, generation, tally).await
    }

    async fn tally_failing(&self, arn: &str, parent: &RunId, generation: u64, index: u32) -> Result<bool, StoreError> {
        self.tally_is_failing(arn, parent, generation, index).await
    }

    async fn tallied_outcomes(
        &self,
        arn: &str,
        parent: &RunId,
        generation: u64,
        tally: Tally,
    ) -> Result<Vec<(ChildOutcome, ChildMark)>, StoreError> {
        self.outcomes_of_tally(arn, parent, generation, tally).await
    }

    async fn newest_steps(&self, arn: &str) -> Result<Vec<NewestStep>, StoreError> {
        // A run's steps may lie in two partitions (an earlier release's child run, continued by
        // this one): keep the highest version of each run, in the order runs were first seen.
        let items = self.step_items(arn).await?;
        let mut newest: Vec<(RunId, u64, &HashMap<String, AttributeValue>)> = Vec::new();
        let mut at: HashMap<RunId, usize> = HashMap::new();
        for item in &items {
            let (run, version) = step_key(get_s(item, "sk")?)?;
            match at.get(&run) {
                Some(&i) if newest[i].1 < version => newest[i] = (run, version, item),
                Some(_) => {}
                None => {
                    at.insert(run.clone(), newest.len());
                    newest.push((run, version, item));
                }
            }
        }
        let mut steps = Vec::with_capacity(newest.len());
        for (run, version, item) in newest {
            let body = self.body(arn, item).await?;
            let status = body.run.get("status").cloned().ok_or_else(|| corrupt(format!("status of run {run}")))?;
            steps.push(NewestStep {
                run,
                version,
                status: serde_json::from_value(status).map_err(corrupt)?,
                cause: get_s(item, "cause")?.to_string(),
                effects: body.effects,
            });
        }
        Ok(steps)
    }

    async fn running_executions(&self, limit: usize, token: Option<&str>) -> Result<Page<String>, StoreError> {
        self.running_page(limit, token).await
    }

    /// Also writes the summary the root's final step calls for: a crash
    /// between that step's commit and its summary leaves the summary RUNNING.
    async fn retire(&self, arn: &str) -> Result<(), StoreError> {
        if let Some(item) = self.newest_step(arn, &RunId::root()).await? {
            let body = self.body(arn, &item).await?;
            let run = self.internalize(arn, body.run).await?;
            if let Some(summary) = ExecutionSummary::after_step(&run, &body.history)
                && summary.status != RunStatus::Running
            {
                self.put_summary(arn, &summary).await?;
            }
        }
        self.unmark_running(arn).await
    }

    async fn history(&self, arn: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        let items = self.step_items(arn).await?;
        let mut steps = Vec::with_capacity(items.len());
        for item in &items {
            let sk = get_s(item, "sk")?;
            let rest = &sk["STEP#".len()..];
            let cut = rest.rfind('#').ok_or_else(|| corrupt(format!("step key {sk}")))?;
            let version: u64 = rest[cut + 1..].parse().map_err(corrupt)?;
            let text = self.body_text(arn, item).await?;
            let body: StepEvents = serde_json::from_slice(&text).map_err(corrupt)?;
            steps.push(LoggedStep {
                run: RunId(rest[..cut].to_string()),
                version,
                at_ms: get_n(item, "at")?,
                events: body.history,
            });
        }
        Ok(merge(steps))
    }
}
