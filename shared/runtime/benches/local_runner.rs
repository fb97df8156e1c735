//! Transitions per second of the local runner end to end — the same path
//! as `switchyard run`: definition parsed once, then for every execution a
//! new in-memory store and runtime, start, run to the end, read the result.
//! Timers are virtual (the workloads have none); no progress output.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine::EventDetails;
use runtime::{Clock, LocalRuntime, MemoryStateStore, NoInvoker, SeededEntropy, StateStore};
use serde_json::Value;

fn read(file: &str) -> String {
    let path = format!("{}/../../examples/workloads/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Runs one execution; returns the number of states entered.
async fn execute(definition: &Arc<asl::Definition>, text: &str, input: &Value, count: bool) -> u64 {
    let store = Arc::new(MemoryStateStore::new());
    let clock = Clock::virtual_at(1_767_225_600_000);
    let mut rt = LocalRuntime::new(store.clone(), Arc::new(NoInvoker), clock, Box::new(SeededEntropy::new(1)));
    let info = runtime::local_execution_info("bench", "bench", input.clone(), 1_767_225_600_000);
    let arn = info.execution_arn.clone();
    rt.start(info, definition.clone(), text.to_string()).await.expect("start");
    let record = rt.run_until_closed(&arn).await.expect("run");
    assert_eq!(record.summary.status, engine::RunStatus::Succeeded);
    if !count {
        return 0;
    }
    let history = store.history(&arn).await.expect("history");
    history.iter().filter(|e| matches!(e.event.details, EventDetails::StateEntered { .. })).count() as u64
}

fn bench(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    let mut group = c.benchmark_group("local-runner");
    for name in ["pass-chain-100", "choice-loop", "map-items"] {
        let text = read(&format!("{name}.asl.json"));
        let definition = Arc::new(asl::parse_definition_str(&text).expect("valid workload"));
        let input: Value = serde_json::from_str(&read(&format!("{name}.input.json"))).expect("JSON");
        let transitions = tokio.block_on(execute(&definition, &text, &input, true));
        group.throughput(Throughput::Elements(transitions));
        if name == "map-items" {
            group.sample_size(20);
        }
        group.bench_function(name, |b| b.iter(|| tokio.block_on(execute(&definition, &text, &input, false))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
