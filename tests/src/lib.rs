//! A harness for end-to-end tests: runs a definition through the local
//! runtime on the in-memory store, with a virtual clock starting at a fixed
//! instant and seeded randomness, so outputs and histories are exact.

pub mod bench;
pub mod dynamo;
pub mod table;

use std::future::Future;
use std::sync::Arc;

use engine::{ExecutionInfo, TaskOutcome, TaskRequest};
use runtime::render::{self, Timestamps};
use runtime::{
    Clock, ExecutionRecord, LocalRuntime, MemoryStateStore, MockConfig, MockInvoker, NoInvoker, RecordedEvent,
    SeededEntropy, StateStore, TaskInvoker,
};
use serde_json::Value;

/// The virtual clock's start: 2026-01-01T00:00:00Z.
pub const T0_MS: i64 = 1_767_225_600_000;

/// What a test run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The execution's record (status, output, error, cause).
    pub record: ExecutionRecord,
    /// Its merged history.
    pub history: Vec<RecordedEvent>,
}

impl Outcome {
    /// The status as DescribeExecution spells it.
    pub fn status(&self) -> &'static str {
        self.record.summary.status.as_str()
    }

    /// The output, parsed (panics when the execution did not succeed).
    pub fn output(&self) -> Value {
        let text = self.record.summary.output.as_deref().unwrap_or_else(|| {
            panic!(
                "no output: status {} error {:?} cause {:?}",
                self.status(),
                self.record.summary.error,
                self.record.summary.cause
            )
        });
        serde_json::from_str(text).expect("output is JSON")
    }

    /// `(error, cause)` of a failed execution.
    pub fn error(&self) -> (String, String) {
        (self.record.summary.error.clone().unwrap_or_default(), self.record.summary.cause.clone().unwrap_or_default())
    }

    /// One line per event: `id prev Type [state]`, for compact exact assertions.
    pub fn lines(&self) -> Vec<String> {
        self.history
            .iter()
            .map(|e| match e.event.details.state_name() {
                Some(name) => format!("{} {} {} {}", e.id, e.previous_event_id, e.event.details.type_name(), name),
                None => format!("{} {} {}", e.id, e.previous_event_id, e.event.details.type_name()),
            })
            .collect()
    }

    /// Event types only, in order.
    pub fn types(&self) -> Vec<String> {
        self.history.iter().map(|e| e.event.details.type_name()).collect()
    }

    /// The GetExecutionHistory JSON (epoch-second timestamps relative to the fixed clock).
    pub fn history_json(&self) -> Value {
        render::history(&self.history, true, Timestamps::EpochSeconds)
    }

    /// The DescribeExecution JSON.
    pub fn describe_json(&self) -> Value {
        render::describe_execution(&self.record, Timestamps::EpochSeconds)
    }
}

/// An invoker answering every task with a closure of the request.
#[derive(Clone)]
pub struct FnInvoker(pub Arc<dyn Fn(&TaskRequest) -> TaskOutcome + Send + Sync>);

impl FnInvoker {
    /// Wraps `f`.
    pub fn new(f: impl Fn(&TaskRequest) -> TaskOutcome + Send + Sync + 'static) -> Self {
        FnInvoker(Arc::new(f))
    }
}

impl TaskInvoker for FnInvoker {
    fn invoke(&self, _execution: &ExecutionInfo, request: &TaskRequest) -> impl Future<Output = TaskOutcome> + Send {
        let outcome = (self.0)(request);
        async move { outcome }
    }
}

/// Parses a definition, panicking with every validation error.
pub fn definition(def: &Value) -> asl::Definition {
    match asl::parse_definition(def) {
        Ok(d) => d,
        Err(errors) => panic!("invalid definition: {errors:#?}"),
    }
}

/// Runs `def` on `input` with `invoker`; the state machine is named `machine`.
pub fn run_named(machine: &str, def: &Value, input: Value, invoker: impl TaskInvoker) -> Outcome {
    // Its own thread, so that tests already inside an async runtime can call it too.
    std::thread::scope(|scope| {
        scope.spawn(|| run_named_here(machine, def, input, invoker)).join().expect("the run's thread panicked")
    })
}

fn run_named_here(machine: &str, def: &Value, input: Value, invoker: impl TaskInvoker) -> Outcome {
    let parsed = Arc::new(definition(def));
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    tokio.block_on(async move {
        let store = Arc::new(MemoryStateStore::new());
        let clock = Clock::virtual_at(T0_MS);
        let mut rt = LocalRuntime::new(store.clone(), Arc::new(invoker), clock, Box::new(SeededEntropy::new(7)));
        let info = runtime::local_execution_info(machine, "test", input, T0_MS);
        let arn = info.execution_arn.clone();
        rt.start(info, parsed, def.to_string()).await.expect("start");
        let record = rt.run_until_closed(&arn).await.expect("run");
        let history = store.history(&arn).await.expect("history");
        Outcome { record, history }
    })
}

/// Runs `def` with a task invoker.
pub fn run_with(def: &Value, input: Value, invoker: impl TaskInvoker) -> Outcome {
    run_named("test-machine", def, input, invoker)
}

/// Runs `def` with no task invoker (Tasks fail with States.Runtime).
pub fn run(def: &Value, input: Value) -> Outcome {
    run_with(def, input, NoInvoker)
}

/// Runs `def` with a test case of a MockConfigFile; the state machine is named `machine`.
pub fn run_mocked(machine: &str, def: &Value, input: Value, mocks: &Value, case: &str) -> Outcome {
    let config = MockConfig::parse(mocks).expect("valid mock file");
    let invoker = MockInvoker::new(&config, machine, case).expect("test case exists");
    run_named(machine, def, input, invoker)
}

/// A path relative to the workspace root.
pub fn workspace_path(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// Reads a file relative to the workspace root.
pub fn workspace_file(path: &str) -> String {
    std::fs::read_to_string(workspace_path(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Reads a JSON file relative to the workspace root.
pub fn workspace_json(path: &str) -> Value {
    serde_json::from_str(&workspace_file(path)).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

impl Outcome {
    /// `Type +ms` per event, the timestamp relative to [`T0_MS`] (exact timing assertions).
    pub fn timed_types(&self) -> Vec<String> {
        self.history
            .iter()
            .map(|e| format!("{} +{}", e.event.details.type_name(), e.event.timestamp_ms - T0_MS))
            .collect()
    }

    /// Event `id` (1-based) in the GetExecutionHistory shape.
    pub fn event_json(&self, id: u64) -> Value {
        let history = self.history_json();
        history["events"][(id - 1) as usize].clone()
    }

    /// The GetExecutionHistory events of one type, in order.
    pub fn events_of(&self, type_name: &str) -> Vec<Value> {
        let history = self.history_json();
        history["events"]
            .as_array()
            .map(|events| events.iter().filter(|e| e["type"] == type_name).cloned().collect())
            .unwrap_or_default()
    }
}

/// A task result.
pub fn succeed(value: Value) -> TaskOutcome {
    TaskOutcome::Succeeded(value)
}

/// A task failure with `error` and `cause`.
pub fn fail(error: &str, cause: &str) -> TaskOutcome {
    TaskOutcome::Failed(asl::Failure::new(error, cause))
}

/// Every task request an invoker saw, in order.
pub type Requests = Arc<std::sync::Mutex<Vec<TaskRequest>>>;

/// An [`FnInvoker`] that also records the requests it answers.
pub fn recording(f: impl Fn(&TaskRequest) -> TaskOutcome + Send + Sync + 'static) -> (FnInvoker, Requests) {
    let seen: Requests = Arc::default();
    let log = seen.clone();
    let invoker = FnInvoker::new(move |req| {
        log.lock().unwrap_or_else(|e| e.into_inner()).push(req.clone());
        f(req)
    });
    (invoker, seen)
}

/// The requests seen so far.
pub fn seen(requests: &Requests) -> Vec<TaskRequest> {
    requests.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// An invoker answering the n-th call (0-based, over the whole execution) with `answers[n]`
/// (the last answer repeats).
pub fn sequence(answers: Vec<TaskOutcome>) -> (FnInvoker, Requests) {
    let count = std::sync::atomic::AtomicUsize::new(0);
    recording(move |_| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        answers[n.min(answers.len() - 1)].clone()
    })
}

/// The endpoint of a local service the tests need: `$variable` (set by
/// scripts/test.sh), else the one `scripts/<script>` knows of, else one it
/// starts. Panics, naming the service, when none can be had.
pub fn local_service(variable: &str, script: &str, service: &str) -> String {
    if let Ok(e) = std::env::var(variable) {
        return e;
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts").join(script);
    for command in ["endpoint", "start"] {
        let out = std::process::Command::new("bash").arg(&script).arg(command).output();
        if let Ok(out) = out
            && out.status.success()
        {
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(line) = text.lines().last().filter(|l| l.starts_with("http")) {
                return line.trim().to_string();
            }
        }
    }
    panic!("{service} is not running and could not be started: run scripts/test.sh")
}
