//! A minimal synchronous driver of the pure engine for benchmarks: runs,
//! child outcomes and a FIFO of pending events in plain collections, no
//! store, no async, no I/O — so what is measured is the transition function.

use std::collections::{HashMap, VecDeque};

use asl::{Definition, Entropy};
use engine::{ChildOutcome, ChildSpec, Ctx, Effect, Event, ExecutionInfo, Prev, Run, RunId, RunStatus};
use serde_json::Value;

/// A benchmark workload: a parsed definition and its input.
pub struct Workload {
    pub name: &'static str,
    pub definition: Definition,
    pub input: Value,
}

fn read(file: &str) -> String {
    let path = format!("{}/../../examples/workloads/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

impl Workload {
    /// Loads `examples/workloads/<name>.asl.json` and its input.
    pub fn load(name: &'static str) -> Workload {
        let definition = asl::parse_definition_str(&read(&format!("{name}.asl.json"))).expect("valid workload");
        let input = serde_json::from_str(&read(&format!("{name}.input.json"))).expect("JSON input");
        Workload { name, definition, input }
    }

    /// The execution facts for one run of the workload.
    pub fn info(&self) -> ExecutionInfo {
        ExecutionInfo {
            execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:{}:bench", self.name),
            name: "bench".into(),
            state_machine_arn: format!("arn:aws:states:us-east-1:123456789012:stateMachine:{}", self.name),
            state_machine_name: self.name.into(),
            role_arn: "arn:aws:iam::123456789012:role/bench".into(),
            input: self.input.clone(),
            start_time_ms: 1_767_225_600_000,
            redrive_count: 0,
            callback_base_url: None,
            started_by: None,
        }
    }
}

struct Counter(u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }
}

enum Item {
    Child(ChildSpec),
    Event(RunId, Event),
}

/// What a run did.
pub struct Counts {
    /// States entered: state transitions as Step Functions bills them.
    pub transitions: u64,
    /// Calls of the transition function (children's reports to their parent included).
    #[allow(dead_code, reason = "read by the allocations bench, not by the timing bench")]
    pub steps: u64,
    /// The execution output.
    pub output: Option<Value>,
}

/// Runs the workload to its end.
pub fn run(def: &Definition, info: &ExecutionInfo) -> Counts {
    let mut entropy = Counter(1);
    let mut ctx = Ctx { now_ms: info.start_time_ms, entropy: &mut entropy };
    let mut runs: HashMap<RunId, Run> = HashMap::new();
    let mut outcomes: HashMap<RunId, (ChildOutcome, engine::ChildMark)> = HashMap::new();
    let mut staged: HashMap<RunId, engine::ChildSpec> = HashMap::new();
    let mut tallies: HashMap<(RunId, u64), u32> = HashMap::new();
    let mut queue: VecDeque<Item> = VecDeque::new();
    let mut transitions = 0;
    let mut steps = 0;
    let mut output = None;
    let mut t = engine::start_execution(def, info, &mut ctx);
    loop {
        steps += 1;
        transitions +=
            t.history.iter().filter(|e| matches!(e.details, engine::EventDetails::StateEntered { .. })).count() as u64;
        let id = t.run.id.clone();
        if id.is_root()
            && t.run.status == RunStatus::Succeeded
            && let Some(engine::EventDetails::ExecutionSucceeded { output: text }) =
                t.history.last().map(|e| &e.details)
        {
            output = serde_json::from_str(text).ok();
        }
        for effect in t.effects {
            match effect {
                Effect::Continue { version } => queue.push_back(Item::Event(id.clone(), Event::Advance { version })),
                Effect::StartChildren(specs) => queue.extend(specs.into_iter().map(Item::Child)),
                Effect::StageChildren { specs, .. } => staged.extend(specs.into_iter().map(|s| (s.id.clone(), s))),
                Effect::ReportToParent(report) => {
                    outcomes.insert(id.clone(), (report.outcome.clone(), report.mark()));
                    let Some(tally) = report.tally else {
                        queue.push_back(Item::Event(report.parent.clone(), report.finished_event()));
                        continue;
                    };
                    // The tally, as a store keeps it: ended children counted, the next one started.
                    let ended = tallies.entry((report.parent.clone(), report.generation)).or_insert(0u32);
                    *ended += 1;
                    if let Some(next) = tally.successor(report.index) {
                        let mut spec = staged.remove(&report.parent.child(report.generation, next)).expect("staged");
                        spec.first_prev = Prev::Sibling { index: report.index, id: report.last_state_event_id };
                        queue.push_back(Item::Child(spec));
                    }
                    if *ended == tally.total {
                        let done = Event::ChildrenDone {
                            generation: report.generation,
                            index: report.index,
                            last_event_id: report.last_event_id,
                        };
                        queue.push_back(Item::Event(report.parent.clone(), done));
                    }
                }
                Effect::CollectChildren { generation, total, tally } => {
                    let (results, marks): (Vec<_>, Vec<_>) =
                        (0..total).map(|i| outcomes.remove(&id.child(generation, i)).expect("outcome")).unzip();
                    let marks = if tally.is_some() { marks } else { Vec::new() };
                    queue.push_back(Item::Event(id.clone(), Event::ChildrenCollected { generation, results, marks }));
                }
                Effect::Close { .. } => {}
                other => panic!("the benchmark workloads have no tasks or timers: {other:?}"),
            }
        }
        runs.insert(id, t.run);
        t = loop {
            match queue.pop_front() {
                None => {
                    return Counts { transitions, steps, output };
                }
                Some(Item::Child(spec)) => break engine::start_child(def, info, spec, &mut ctx),
                Some(Item::Event(run_id, event)) => {
                    let run = runs.remove(&run_id).expect("known run");
                    match engine::step(def, info, run, event, &mut ctx) {
                        Ok(t) => break t,
                        Err(rejection) => {
                            runs.insert(run_id, rejection.run);
                        }
                    }
                }
            }
        };
    }
}
