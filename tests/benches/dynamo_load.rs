//! Load benchmark of durable executions on DynamoDB Local: N executions of a
//! 10-state workflow (Pass and Choice states, a ~300-byte payload) run at
//! once through the stepper — the stepper Lambda's code — each delivery
//! carried by an in-process queue. Reports transitions per second, p50/p99
//! transition latency, DynamoDB requests and capacity units per transition
//! (counted from the responses, so deterministic), and, in the same run, the
//! rate of bare conditional PutItem requests of the same item size, and the
//! hottest partition key's writes in its busiest second.
//!
//! `cargo bench -p switchyard-tests --bench dynamo_load` (starts DynamoDB Local
//! through scripts/dynamodb-local.sh unless SWITCHYARD_DYNAMODB_ENDPOINT is set).
//! Options through the environment: `LOAD_CONCURRENCY` (8), `LOAD_EXECUTIONS` (400).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_adapters::{DynamoStateStore, KeyWrites, MetricsSnapshot};
use runtime::stepper::Stepper;
use runtime::{Clock, Delivery, NoInvoker, StateStore};
use serde_json::json;
use switchyard_tests::bench::{Budget, Shape, bare_puts, env_usize, percentile};
use switchyard_tests::dynamo::{Queue, client, fresh_store};

fn workflow() -> serde_json::Value {
    json!({"Comment": "10 states: Pass and Choice", "StartAt": "S0", "States": {
        "S0": {"Type": "Pass", "Result": "received", "ResultPath": "$.status", "Next": "S1"},
        "S1": {"Type": "Choice", "Choices": [{"Variable": "$.order.total", "NumericGreaterThan": 100, "Next": "S2"}], "Default": "S3"},
        "S2": {"Type": "Pass", "Result": true, "ResultPath": "$.review", "Next": "S3"},
        "S3": {"Type": "Pass", "Parameters": {"order.$": "$.order", "status": "checked", "steps.$": "States.MathAdd($.steps, 1)"}, "Next": "S4"},
        "S4": {"Type": "Choice", "Choices": [{"Variable": "$.status", "StringEquals": "checked", "Next": "S5"}], "Default": "S9"},
        "S5": {"Type": "Pass", "Result": "packed", "ResultPath": "$.status", "Next": "S6"},
        "S6": {"Type": "Pass", "Result": "shipped", "ResultPath": "$.status", "Next": "S7"},
        "S7": {"Type": "Choice", "Choices": [{"Variable": "$.steps", "IsNumeric": true, "Next": "S8"}], "Default": "S9"},
        "S8": {"Type": "Pass", "Parameters": {"order.$": "$.order", "status.$": "$.status", "done": true}, "Next": "S9"},
        "S9": {"Type": "Succeed"}
    }})
}

fn input(k: usize) -> serde_json::Value {
    json!({"steps": 0, "order": {"id": format!("order-{k:06}"), "customer": "c-1234",
        "lines": [{"sku": "BOOK-1", "qty": 2, "price": 12.5}, {"sku": "MUG-7", "qty": 1, "price": 9.0}, {"sku": "PEN-3", "qty": 10, "price": 1.2}],
        "total": 146.0, "currency": "EUR", "address": {"street": "1 Main St", "city": "Springfield", "zip": "12345"}}})
}

/// What the executions of a run of the benchmark did.
#[derive(Default)]
struct Totals {
    latencies: Vec<Duration>,
    /// Requests and capacity of the transitions after the first of each
    /// execution (the first also reads the execution's record once per process).
    steady: MetricsSnapshot,
    steady_transitions: u64,
    /// Everything, execution-level requests included.
    all: MetricsSnapshot,
    /// The partition key with the most writes in one second (of any lane's store).
    hottest: Option<KeyWrites>,
}

/// The busier of two keys.
fn hotter(a: Option<KeyWrites>, b: Option<KeyWrites>) -> Option<KeyWrites> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.peak_per_second > a.peak_per_second { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn add(a: &mut MetricsSnapshot, before: MetricsSnapshot, after: MetricsSnapshot) {
    a.reads += after.reads - before.reads;
    a.writes += after.writes - before.writes;
    a.rcu += after.rcu - before.rcu;
    a.wcu += after.wcu - before.wcu;
    a.bytes_written += after.bytes_written - before.bytes_written;
    a.waited += after.waited - before.waited;
}

/// Runs `count` executions, `concurrency` at a time, each lane with its own
/// store (and counters) on the same table; returns what they did and the wall time.
async fn run_executions(
    cold: bool,
    table: &str,
    definition: Arc<asl::Definition>,
    text: Arc<String>,
    first: usize,
    count: usize,
    concurrency: usize,
) -> (Totals, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for lane in 0..concurrency {
        let store = DynamoStateStore::new(client().await, table);
        let store = Arc::new(if cold { store.without_memory() } else { store });
        let (definition, text) = (definition.clone(), text.clone());
        tasks.push(tokio::spawn(async move {
            let mut totals = Totals::default();
            let mut finished = Vec::new();
            let lane_start = store.metrics().snapshot();
            let mut k = first + lane;
            while k < first + count {
                let queue = Queue::default();
                let stepper = Stepper::new(store.clone(), Arc::new(NoInvoker), queue.clone(), Clock::Real);
                let info = runtime::local_execution_info("load", &format!("e{k}"), input(k), Clock::Real.now_ms());
                let arn = info.execution_arn.clone();
                store.create_execution(info, definition.clone(), text.to_string()).await.expect("create");
                queue.push(Delivery::start(&arn));
                let mut first = true;
                loop {
                    let next = queue.pop_next();
                    let Some(d) = next else { break };
                    let before = store.metrics().snapshot();
                    let t = Instant::now();
                    let handled = stepper.handle(d).await.expect("step");
                    totals.latencies.push(t.elapsed());
                    assert_eq!(handled.transitions, 1, "one transition per delivery");
                    if !first {
                        add(&mut totals.steady, before, store.metrics().snapshot());
                        totals.steady_transitions += 1;
                    }
                    first = false;
                }
                finished.push(arn);
                k += concurrency;
            }
            add(&mut totals.all, lane_start, store.metrics().snapshot());
            (totals, finished, store)
        }));
    }
    let mut sum = Totals::default();
    let mut lanes = Vec::new();
    for t in tasks {
        lanes.push(t.await.expect("lane"));
    }
    let wall = started.elapsed();
    // Checked after the clock stopped: reading the results is the benchmark's, not the engine's, work.
    for (lane, finished, store) in lanes {
        for arn in finished {
            let record = store.execution(&arn).await.expect("record");
            assert_eq!(record.summary.status, engine::RunStatus::Succeeded);
        }
        sum.latencies.extend(lane.latencies);
        add(&mut sum.steady, MetricsSnapshot::default(), lane.steady);
        add(&mut sum.all, MetricsSnapshot::default(), lane.all);
        sum.steady_transitions += lane.steady_transitions;
        sum.hottest = hotter(sum.hottest.take(), store.metrics().hottest_keys(1).pop());
    }
    (sum, wall)
}

/// Rounds the measurements are interleaved in, so that a drift of the shared
/// machine (the JVM warming up, the table growing, other load) weighs on all alike.
const ROUNDS: usize = 4;

fn main() {
    let concurrency = env_usize("LOAD_CONCURRENCY", 8);
    let executions = env_usize("LOAD_EXECUTIONS", 400);
    let per_round = executions.div_ceil(ROUNDS);
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    tokio.block_on(async {
        let table = fresh_store().await.table().to_string();
        let text = Arc::new(workflow().to_string());
        let definition = Arc::new(asl::parse_definition_str(&text).expect("valid"));
        // Warm the JVM of DynamoDB Local and our connections.
        let (warmup, _) = run_executions(false, &table, definition.clone(), text.clone(), 0, 40, concurrency).await;
        let step_bytes = warmup.steady.bytes_written as f64 / warmup.steady.writes as f64;
        let modes = [(false, "warm: the next step lands in the container that made the last"), (true, "cold: every step reads its run")];
        let mut totals: Vec<(Totals, Duration)> = modes.iter().map(|_| (Totals::default(), Duration::ZERO)).collect();
        let (mut puts, mut shaped_puts) = (0.0, 0.0);
        for round in 0..ROUNDS {
            let slice = Duration::from_millis(2500);
            let (client, size, slice) = (client().await, step_bytes as usize, Budget::For(slice));
            puts += bare_puts(&client, &table, size, concurrency, slice, Shape::Plain, round).await.expect("puts");
            shaped_puts += bare_puts(&client, &table, size, concurrency, slice, Shape::Step, round).await.expect("puts");
            for (m, (cold, _)) in modes.iter().enumerate() {
                let first = 1000 + m * 100_000 + round * per_round;
                let (part, wall) =
                    run_executions(*cold, &table, definition.clone(), text.clone(), first, per_round, concurrency).await;
                let (sum, time) = &mut totals[m];
                sum.latencies.extend(part.latencies);
                add(&mut sum.steady, MetricsSnapshot::default(), part.steady);
                add(&mut sum.all, MetricsSnapshot::default(), part.all);
                sum.steady_transitions += part.steady_transitions;
                sum.hottest = hotter(sum.hottest.take(), part.hottest);
                *time += wall;
            }
        }
        let put_rate = puts / ROUNDS as f64;
        let shaped_rate = shaped_puts / ROUNDS as f64;
        let executions = per_round * ROUNDS;
        let mut rates = Vec::new();
        for ((_, name), (mut totals, wall)) in modes.iter().zip(totals) {
            totals.latencies.sort();
            let transitions = totals.latencies.len() as f64;
            let steady = totals.steady;
            let n = totals.steady_transitions as f64;
            let step_bytes = steady.bytes_written as f64 / steady.writes as f64;
            let rate = transitions / wall.as_secs_f64();
            rates.push(rate);
            let all = totals.all;
            let per_exec = |x: f64| x / executions as f64;
            println!("{executions} executions of 10 states on DynamoDB Local, {concurrency} at a time — {name}");
            println!("  transitions                 {transitions}");
            println!("  transitions per second      {rate:.0}");
            println!("  transition latency p50      {:.2} ms", percentile(&totals.latencies, 0.50).as_secs_f64() * 1000.0);
            println!("  transition latency p99      {:.2} ms", percentile(&totals.latencies, 0.99).as_secs_f64() * 1000.0);
            println!(
                "  per Pass/Choice transition  {:.2} reads, {:.2} writes, {:.2} RCU, {:.2} WCU, {step_bytes:.0} bytes written",
                steady.reads as f64 / n,
                steady.writes as f64 / n,
                steady.rcu / n,
                steady.wcu / n
            );
            println!(
                "  waiting on DynamoDB          {:.2} ms of the mean transition's {:.2} ms",
                steady.waited.as_secs_f64() * 1000.0 / n,
                totals.latencies.iter().sum::<Duration>().as_secs_f64() * 1000.0 / transitions
            );
            println!(
                "  per execution, everything   {:.1} reads, {:.1} writes, {:.1} RCU, {:.1} WCU (record write, its first read, summary write)",
                per_exec(all.reads as f64),
                per_exec(all.writes as f64),
                per_exec(all.rcu),
                per_exec(all.wcu)
            );
            if let Some(hot) = &totals.hottest {
                println!(
                    "  hottest partition key       {} writes in its busiest second ({} in all; {})",
                    hot.peak_per_second, hot.writes, hot.pk
                );
            }
        }
        println!("bare conditional PutItem of {step_bytes:.0} bytes, {concurrency} at a time: {put_rate:.0} per second");
        println!("  the same with a step item's key, attributes and binary body, counting capacity: {shaped_rate:.0} per second");
        println!(
            "ratio of transitions per second to bare PutItem per second: warm {:.2}, cold {:.2}",
            rates[0] / put_rate,
            rates[1] / put_rate
        );
        println!("(measured in {ROUNDS} interleaved rounds of bare puts, warm and cold executions)");
    });
}
