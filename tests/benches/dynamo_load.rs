//! Load benchmark of durable executions on DynamoDB Local: N executions of a
//! 10-state workflow (Pass and Choice states, a ~300-byte payload) run at
//! once through the stepper — the stepper Lambda's code — each delivery
//! carried by an in-process queue. Reports transitions per second, p50/p99
//! transition latency, DynamoDB requests and capacity units per transition
//! (counted from the responses, so deterministic), and, in the same run, the
//! rate of bare conditional PutItem requests of the same item size.
//!
//! `cargo bench -p switchyard-tests --bench dynamo_load` (starts DynamoDB Local
//! through scripts/dynamodb-local.sh unless SWITCHYARD_DYNAMODB_ENDPOINT is set).
//! Options through the environment: `LOAD_CONCURRENCY` (8), `LOAD_EXECUTIONS` (400).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_adapters::DynamoStateStore;
use aws_sdk_dynamodb::types::AttributeValue;
use runtime::stepper::Stepper;
use runtime::{Clock, Delivery, NoInvoker, StateStore};
use serde_json::json;
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `count` executions, `concurrency` at a time; returns per-transition latencies and the wall time.
async fn run_executions(
    store: Arc<DynamoStateStore>,
    definition: Arc<asl::Definition>,
    text: Arc<String>,
    first: usize,
    count: usize,
    concurrency: usize,
) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for lane in 0..concurrency {
        let (store, definition, text) = (store.clone(), definition.clone(), text.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut k = first + lane;
            while k < first + count {
                let queue = Queue::default();
                let stepper = Stepper::new(store.clone(), Arc::new(NoInvoker), queue.clone(), Clock::Real);
                let info = runtime::local_execution_info("load", &format!("e{k}"), input(k), Clock::Real.now_ms());
                let arn = info.execution_arn.clone();
                store.create_execution(info, definition.clone(), text.to_string()).await.expect("create");
                queue.push(Delivery::start(&arn));
                loop {
                    let next = queue.0.lock().expect("queue").pop_front();
                    let Some(d) = next else { break };
                    let t = Instant::now();
                    let handled = stepper.handle(d).await.expect("step");
                    assert_eq!(handled.transitions, 1, "one transition per delivery");
                    latencies.push(t.elapsed());
                }
                let record = store.execution(&arn).await.expect("record");
                assert_eq!(record.summary.status, engine::RunStatus::Succeeded);
                k += concurrency;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("lane"));
    }
    (all, started.elapsed())
}

/// Bare conditional PutItem requests of `size` bytes, `concurrency` at a time, for about `duration`.
async fn bare_puts(table: &str, size: usize, concurrency: usize, duration: Duration) -> f64 {
    let client = client().await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for lane in 0..concurrency {
        let (client, table) = (client.clone(), table.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            let body = "x".repeat(size.saturating_sub(60));
            while started.elapsed() < duration {
                let mut item = HashMap::new();
                item.insert("pk".to_string(), AttributeValue::S(format!("BARE#{lane}")));
                item.insert("sk".to_string(), AttributeValue::S(format!("STEP##{n:020}")));
                item.insert("body".to_string(), AttributeValue::S(body.clone()));
                client
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .send()
                    .await
                    .expect("put");
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("lane");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let concurrency = env_usize("LOAD_CONCURRENCY", 8);
    let executions = env_usize("LOAD_EXECUTIONS", 400);
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    tokio.block_on(async {
        let store = Arc::new(fresh_store().await);
        let text = Arc::new(workflow().to_string());
        let definition = Arc::new(asl::parse_definition_str(&text).expect("valid"));
        // Warm the JVM of DynamoDB Local and our connections.
        run_executions(store.clone(), definition.clone(), text.clone(), 0, 40, concurrency).await;

        let before = store.metrics().snapshot();
        let (mut latencies, wall) =
            run_executions(store.clone(), definition.clone(), text.clone(), 1000, executions, concurrency).await;
        let after = store.metrics().snapshot();
        latencies.sort();
        let transitions = latencies.len() as f64;
        // Per execution: one META item written and read once, one SUMMARY write; the rest is per transition.
        let reads = (after.reads - before.reads) as f64;
        let writes = (after.writes - before.writes) as f64;
        let per_exec_writes = 2.0 * executions as f64;
        let per_exec_reads = 2.0 * executions as f64;
        let step_bytes = (after.bytes_written - before.bytes_written) as f64 / writes;
        let rate = transitions / wall.as_secs_f64();
        let put_rate = bare_puts(store.table(), step_bytes as usize, concurrency, Duration::from_secs(10)).await;

        println!("durable executions on DynamoDB Local, {concurrency} at a time, {executions} executions of 10 states");
        println!("  transitions                 {transitions}");
        println!("  transitions per second      {rate:.0}");
        println!("  transition latency p50      {:.2} ms", percentile(&latencies, 0.50).as_secs_f64() * 1000.0);
        println!("  transition latency p99      {:.2} ms", percentile(&latencies, 0.99).as_secs_f64() * 1000.0);
        println!("  requests per execution      {:.1} reads, {:.1} writes", reads / executions as f64, writes / executions as f64);
        println!(
            "  per transition (excl. the execution's META read/write and SUMMARY write)  {:.2} reads, {:.2} writes",
            (reads - per_exec_reads) / transitions,
            (writes - per_exec_writes) / transitions
        );
        println!(
            "  capacity per transition     {:.2} RCU, {:.2} WCU (all requests included)",
            (after.rcu - before.rcu) / transitions,
            (after.wcu - before.wcu) / transitions
        );
        println!("  average item written        {step_bytes:.0} bytes");
        println!("bare conditional PutItem of {step_bytes:.0} bytes, {concurrency} at a time: {put_rate:.0} per second");
        println!("ratio: transitions per second / bare PutItem per second = {:.2}", rate / put_rate);
    });
}
