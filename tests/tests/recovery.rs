//! Recovery from the table alone (issue 11, "nothing strands"): a process
//! dies after any number of deliveries, losing every delivery and timer it
//! held; a fresh process (a fresh stepper, and on DynamoDB a fresh store with
//! no memory) runs recovery passes and the execution ends exactly as a clean
//! run does — same status, same output, the same events, none twice.

use std::sync::Arc;

use engine::TaskOutcome;
use runtime::recovery::{self, Recovered};
use runtime::stepper::Stepper;
use runtime::{Clock, Delivery, MemoryStateStore, StateStore};
use serde_json::{Value, json};
use switchyard_tests::dynamo::{Mode, Queue, block_on, fresh_store, run_on};
use switchyard_tests::{FnInvoker, T0_MS, definition};

/// A Task whose first attempt fails (Retry), a Wait, a Parallel of two Tasks, a Map of three.
fn machine() -> Value {
    json!({
        "StartAt": "Charge",
        "States": {
            "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge",
                "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "ResultPath": "$.charged", "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Both"},
            "Both": {"Type": "Parallel", "ResultPath": "$.both", "Next": "Each", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:a", "End": true}}},
                {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:b", "End": true}}}
            ]},
            "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.each", "End": true,
                "ItemProcessor": {"StartAt": "Double", "States": {
                    "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "End": true}}}}
        }
    })
}

/// Fails a Charge's first attempt; otherwise answers from the input alone (the same every time).
fn invoker() -> FnInvoker {
    FnInvoker::new(|request| {
        if request.state_name == "Charge" && request.retry_count == 0 {
            return TaskOutcome::Failed(asl::Failure::new("Flaky", "first attempt"));
        }
        TaskOutcome::Succeeded(json!({"state": request.state_name, "input": request.input}))
    })
}

fn input() -> Value {
    json!({"items": [1, 2, 3]})
}

/// Status, output and the sorted event types (branches and iterations may
/// interleave differently; each event type's count must match) of an execution.
async fn outcome<S: StateStore>(store: &S, arn: &str) -> (String, Option<String>, Vec<String>, usize) {
    let record = store.execution(arn).await.expect("record");
    let history = store.history(arn).await.expect("history");
    let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=history.len() as u64).collect::<Vec<_>>(), "event ids are dense: none twice, none missing");
    let mut types: Vec<String> = history.iter().map(|e| e.event.details.type_name()).collect();
    types.sort();
    (record.summary.status.as_str().to_string(), record.summary.output, types, history.len())
}

/// Hands up to `limit` queued deliveries to `stepper` (all, when `None`); true when the queue ran dry.
async fn drive<S: StateStore>(stepper: &Stepper<S, FnInvoker, Queue>, queue: &Queue, limit: Option<usize>) -> bool {
    let mut handled = 0;
    while limit.is_none_or(|l| handled < l) {
        let Some(d) = queue.pop_next() else { return true };
        if let Some(due) = d.not_before_ms {
            stepper.clock().advance_to(due);
        }
        stepper.handle(d).await.expect("handle");
        handled += 1;
    }
    false
}

/// Starts the execution in process A, lets A handle `crash_after`
/// deliveries, drops A with everything it held, then lets process B (fresh
/// stepper, store from `fresh`) recover until the execution ends. Returns
/// the outcome and what the recovery passes did.
async fn crash_and_recover<S: StateStore>(
    store: Arc<S>,
    fresh: impl Fn() -> Arc<S>,
    crash_after: usize,
    (def, input): (&Value, &Value),
) -> ((String, Option<String>, Vec<String>, usize), Recovered) {
    let clock = Clock::virtual_at(T0_MS);
    let name = format!("crash-{crash_after}-{}", std::process::id());
    let info = runtime::local_execution_info("recovering", &name, input.clone(), T0_MS);
    let arn = info.execution_arn.clone();
    store.create_execution(info, Arc::new(definition(def)), def.to_string()).await.expect("create");
    let queue = Queue::default();
    queue.push(Delivery::start(&arn));
    let a = Stepper::new(store.clone(), Arc::new(invoker()), queue.clone(), clock.clone());
    if drive(&a, &queue, Some(crash_after)).await {
        return (outcome(&*store, &arn).await, Recovered::default());
    }
    drop(a);
    // Process B: no queue, no timers, no memory; only the table.
    let store = fresh();
    let queue = Queue::default();
    let b = Arc::new(Stepper::new(store.clone(), Arc::new(invoker()), queue.clone(), clock.clone()));
    let mut total = Recovered::default();
    for _ in 0..50 {
        let done = recovery::recover_all(b.clone(), 4, None).await.expect("recovery pass");
        total.redone += done.redone;
        total.retired += done.retired;
        assert_eq!(done.failed, 0, "no execution fails to recover");
        drive(&b, &queue, None).await;
        if store.execution(&arn).await.expect("record").summary.status != engine::RunStatus::Running {
            // One more pass retires it (a no-op when its last step already did).
            recovery::recover_all(b.clone(), 4, None).await.expect("recovery pass");
            let listed = store.running_executions(100, None).await.expect("running list");
            assert!(!listed.items.contains(&arn), "an ended execution leaves the running list");
            return (outcome(&*store, &arn).await, total);
        }
    }
    panic!("execution {arn} (crash after {crash_after} deliveries) still runs after 50 recovery passes");
}

/// How many deliveries a clean run takes, and its outcome.
async fn clean<S: StateStore>(
    store: Arc<S>,
    (def, input): (&Value, &Value),
) -> (usize, (String, Option<String>, Vec<String>, usize)) {
    let clean = run_on(store.clone(), "recovering", def, input.clone(), invoker(), Mode::Clean).await;
    let arn = clean.record.info.execution_arn.clone();
    let out = outcome(&*store, &arn).await;
    assert_eq!(out.0, "SUCCEEDED", "the clean run succeeds: {:?}", clean.record.summary);
    // Count its deliveries by running it again step by step.
    let info = runtime::local_execution_info("recovering", "count", input.clone(), T0_MS);
    let arn = info.execution_arn.clone();
    store.create_execution(info, Arc::new(definition(def)), def.to_string()).await.expect("create");
    let queue = Queue::default();
    queue.push(Delivery::start(&arn));
    let stepper = Stepper::new(store.clone(), Arc::new(invoker()), queue.clone(), Clock::virtual_at(T0_MS));
    let mut n = 0;
    while !drive(&stepper, &queue, Some(1)).await {
        n += 1;
    }
    (n, out)
}

#[test]
fn memory_store_every_crash_point_recovers_to_the_clean_outcome() {
    block_on(async {
        let workload = (&machine(), &input());
        let (deliveries, expected) = clean(Arc::new(MemoryStateStore::new()), workload).await;
        assert!(deliveries > 10, "the machine takes many deliveries ({deliveries})");
        for crash_after in 1..deliveries {
            let store = Arc::new(MemoryStateStore::new());
            let same = store.clone();
            let (got, done) = crash_and_recover(store, move || same.clone(), crash_after, workload).await;
            assert_eq!(got, expected, "crash after {crash_after} deliveries");
            assert!(done.redone > 0, "crash after {crash_after}: something was redone");
        }
    })
}

#[test]
fn dynamodb_every_crash_point_recovers_from_a_cold_store() {
    block_on(async {
        let workload = (&machine(), &input());
        let (deliveries, expected) = clean(Arc::new(fresh_store().await), workload).await;
        for crash_after in 1..deliveries {
            let store = Arc::new(fresh_store().await);
            let (client, table) = (store.client().clone(), store.table().to_string());
            let fresh = move || Arc::new(aws_adapters::DynamoStateStore::new(client.clone(), table.clone()));
            let (got, done) = crash_and_recover(store, fresh, crash_after, workload).await;
            assert_eq!(got, expected, "crash after {crash_after} deliveries");
            assert!(done.redone > 0, "crash after {crash_after}: something was redone");
        }
    })
}

#[test]
fn an_execution_whose_start_was_lost_is_started_once_old_enough() {
    block_on(async {
        let store = Arc::new(MemoryStateStore::new());
        let def = machine();
        let info = runtime::local_execution_info("recovering", "unstarted", input(), T0_MS);
        let arn = info.execution_arn.clone();
        store.create_execution(info, Arc::new(definition(&def)), def.to_string()).await.expect("create");
        let clock = Clock::virtual_at(T0_MS + 1_000);
        let queue = Queue::default();
        let b = Arc::new(Stepper::new(store.clone(), Arc::new(invoker()), queue.clone(), clock.clone()));
        let young = recovery::recover_all(b.clone(), 4, None).await.expect("pass");
        assert_eq!((young.executions, young.redone, young.skipped), (1, 0, 1), "a young execution is left alone");
        clock.advance_to(T0_MS + recovery::START_GRACE_MS);
        let old = recovery::recover_all(b.clone(), 4, None).await.expect("pass");
        assert_eq!((old.executions, old.redone), (1, 1));
        drive(&b, &queue, None).await;
        let mut passes = 0;
        while store.execution(&arn).await.expect("record").summary.status == engine::RunStatus::Running {
            recovery::recover_all(b.clone(), 4, None).await.expect("pass");
            drive(&b, &queue, None).await;
            passes += 1;
            assert!(passes < 20, "the execution ends");
        }
        assert_eq!(outcome(&*store, &arn).await.0, "SUCCEEDED");
    })
}

/// A Map of six items two at a time (each child's end starts the child two
/// further on), then a long Wait: a tallied fan-out whose children end while
/// the parent still runs.
fn windowed() -> (Value, Value) {
    let def = json!({
        "StartAt": "Each",
        "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.each", "Next": "Later",
                "ItemProcessor": {"StartAt": "Double", "States": {
                    "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "End": true}}}},
            "Later": {"Type": "Wait", "Seconds": 3600, "End": true}
        }
    });
    (def, json!({"items": [1, 2, 3, 4, 5, 6]}))
}

#[test]
fn memory_store_every_crash_point_of_a_windowed_map_recovers_to_the_clean_outcome() {
    block_on(async {
        let (def, input) = windowed();
        let (deliveries, expected) = clean(Arc::new(MemoryStateStore::new()), (&def, &input)).await;
        for crash_after in 1..deliveries {
            let store = Arc::new(MemoryStateStore::new());
            let same = store.clone();
            let (got, _) = crash_and_recover(store, move || same.clone(), crash_after, (&def, &input)).await;
            assert_eq!(got, expected, "crash after {crash_after} deliveries");
        }
    })
}

/// A pass over an execution past its Map redoes the parent's Wait and the
/// two children whose ends started no sibling — not the four whose
/// successors run (before, all six: an invocation and two writes each, per
/// pass, for every finished child of a long Map).
#[test]
fn a_pass_leaves_alone_the_children_whose_report_started_their_successor() {
    block_on(async {
        let (def, input) = windowed();
        let store = Arc::new(MemoryStateStore::new());
        let info = runtime::local_execution_info("recovering", "windowed", input, T0_MS);
        let arn = info.execution_arn.clone();
        store.create_execution(info, Arc::new(definition(&def)), def.to_string()).await.expect("create");
        let queue = Queue::default();
        queue.push(Delivery::start(&arn));
        let clock = Clock::virtual_at(T0_MS);
        let a = Stepper::new(store.clone(), Arc::new(invoker()), queue.clone(), clock.clone());
        // Everything but the Wait's timer.
        while let Some(d) = queue.pop_next() {
            if d.not_before_ms.is_some() {
                break;
            }
            a.handle(d).await.expect("handle");
        }
        let types: Vec<String> =
            store.history(&arn).await.expect("history").iter().map(|e| e.event.details.type_name()).collect();
        assert_eq!(types.last().map(String::as_str), Some("WaitStateEntered"), "{types:?}");
        drop(a);
        let b = Arc::new(Stepper::new(store.clone(), Arc::new(invoker()), Queue::default(), clock));
        let pass = recovery::recover_all(b, 4, None).await.expect("pass");
        assert_eq!((pass.executions, pass.redone, pass.skipped, pass.failed), (1, 3, 4, 0), "{pass:?}");
    })
}
