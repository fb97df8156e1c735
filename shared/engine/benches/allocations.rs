//! Heap allocations per transition of the pure engine on the benchmark
//! workloads: a deterministic count, unlike time.

mod driver;

use driver::Workload;

fn main() {
    println!(
        "{:<16} {:>12} {:>8} {:>12} {:>18} {:>17}",
        "workload", "transitions", "steps", "allocations", "allocs/transition", "bytes/transition"
    );
    for name in ["pass-chain-100", "choice-loop", "map-items"] {
        let workload = Workload::load(name);
        let info = workload.info();
        let (mut transitions, mut steps) = (0, 0);
        let counts = allocation_counter::measure(|| {
            let run = driver::run(&workload.definition, &info);
            assert!(run.output.is_some(), "{name} must succeed");
            (transitions, steps) = (run.transitions, run.steps);
        });
        println!(
            "{:<16} {:>12} {:>8} {:>12} {:>18.1} {:>17.0}",
            name,
            transitions,
            steps,
            counts.count_total,
            counts.count_total as f64 / transitions as f64,
            counts.bytes_total as f64 / transitions as f64
        );
    }
}
