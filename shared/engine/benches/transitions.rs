//! Transitions per second of the pure engine on the three benchmark
//! workloads (examples/workloads): a 100-state Pass chain, a Choice loop
//! counting to 5,000 with States.MathAdd, an inline Map over 10,000 items.

mod driver;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use driver::Workload;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    for name in ["pass-chain-100", "choice-loop", "map-items"] {
        let workload = Workload::load(name);
        let info = workload.info();
        let counts = driver::run(&workload.definition, &info);
        assert!(counts.output.is_some(), "{name} must succeed");
        group.throughput(Throughput::Elements(counts.transitions));
        if name == "map-items" {
            group.sample_size(20);
        }
        group.bench_function(name, |b| b.iter(|| driver::run(&workload.definition, &info)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
