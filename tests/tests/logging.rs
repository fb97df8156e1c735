//! Operators can see it (issue 11 item 8): the stepper's `tracing` events
//! name the execution, the run and the delivery's cause. A delivery is
//! driven twice through steppers on the in-memory store, and the lines a
//! `tracing-subscriber` fmt layer writes (as `switchyard serve` writes them,
//! without colours) are read back.

use std::io::Write;
use std::sync::{Arc, Mutex};

use runtime::stepper::Stepper;
use runtime::{Clock, Delivery, MemoryStateStore, StateStore};
use serde_json::json;
use switchyard_tests::dynamo::{FaultyStore, Queue};
use switchyard_tests::{FnInvoker, T0_MS, definition};

/// Everything the subscriber wrote.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).lines().map(str::to_string).collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `body` on a current-thread runtime (so every task it spawns logs to
/// this thread's subscriber) with a debug-level fmt subscriber; returns the lines written.
fn logged<F: std::future::Future<Output = ()>>(body: F) -> Vec<String> {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime").block_on(body)
    });
    captured.lines()
}

fn machine() -> serde_json::Value {
    json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "End": true}
        }
    })
}

/// Creates an execution named `name` on `store`; its ARN.
async fn create<S: StateStore>(store: &S, name: &str) -> String {
    let def = machine();
    let info = runtime::local_execution_info("logging", name, json!({}), T0_MS);
    let arn = info.execution_arn.clone();
    store.create_execution(info, Arc::new(definition(&def)), def.to_string()).await.expect("create");
    arn
}

fn invoker() -> Arc<FnInvoker> {
    Arc::new(FnInvoker::new(|_| panic!("no task in this machine")))
}

/// Lines holding every one of `needles`.
fn with<'a>(lines: &'a [String], needles: &[&str]) -> Vec<&'a String> {
    lines.iter().filter(|l| needles.iter().all(|n| l.contains(n))).collect()
}

#[test]
fn a_duplicate_delivery_is_logged_as_redone_then_dropped_with_its_execution_and_cause() {
    let arn = Arc::new(Mutex::new(String::new()));
    let seen = arn.clone();
    let lines = logged(async move {
        let store = Arc::new(MemoryStateStore::new());
        let arn = create(&*store, "dup").await;
        *seen.lock().unwrap() = arn.clone();
        let queue = Queue::default();
        let first = Stepper::new(store.clone(), invoker(), queue.clone(), Clock::virtual_at(T0_MS));
        first.handle(Delivery::start(&arn)).await.expect("start");
        // Another process gets the same start: the step is there, its effects are redone.
        let second = Stepper::new(store.clone(), invoker(), queue.clone(), Clock::virtual_at(T0_MS));
        second.handle(Delivery::start(&arn)).await.expect("duplicate start");
        while let Some(d) = queue.pop_next() {
            second.handle(d).await.expect("handle");
        }
        // Once the run has moved on, the same start is stale: dropped.
        second.handle(Delivery::start(&arn)).await.expect("late start");
    });
    println!("{}", lines.join("\n"));
    let arn = arn.lock().unwrap().clone();
    let execution = format!("execution={arn}");
    let redo = with(&lines, &["DEBUG", "redo:", &execution, "cause=start", "version=1"]);
    assert_eq!(redo.len(), 1, "one redo, in the delivery's span: {lines:#?}");
    assert!(redo[0].contains("delivery{"), "the span is named: {}", redo[0]);
    let dropped = with(&lines, &["DEBUG", "dropped a duplicate or stale delivery", &execution, "cause=start"]);
    assert!(!dropped.is_empty(), "the late start is dropped: {lines:#?}");
    assert!(lines.iter().all(|l| !l.contains('\x1b')), "no colours");
    assert!(with(&lines, &["INFO"]).is_empty(), "routine deliveries log nothing at info: {lines:#?}");
}

#[test]
fn a_failed_delivery_is_an_error_and_its_redelivery_redoes_the_step() {
    let arn = Arc::new(Mutex::new(String::new()));
    let seen = arn.clone();
    let lines = logged(async move {
        // The first commit is written, then the store fails (a crash after the commit).
        let store = Arc::new(FaultyStore::new(MemoryStateStore::new(), vec![], vec![0]));
        let arn = create(&*store, "failed").await;
        *seen.lock().unwrap() = arn.clone();
        let queue = Queue::default();
        let stepper = Stepper::new(store.clone(), invoker(), queue.clone(), Clock::virtual_at(T0_MS));
        stepper.handle(Delivery::start(&arn)).await.expect_err("the injected failure");
        stepper.handle(Delivery::start(&arn)).await.expect("redelivered");
    });
    println!("{}", lines.join("\n"));
    let arn = arn.lock().unwrap().clone();
    let execution = format!("execution={arn}");
    let failed = with(&lines, &["ERROR", "delivery failed", &execution, "cause=start", "injected crash"]);
    assert_eq!(failed.len(), 1, "{lines:#?}");
    assert_eq!(with(&lines, &["DEBUG", "redo:", &execution, "cause=start"]).len(), 1, "{lines:#?}");
}
