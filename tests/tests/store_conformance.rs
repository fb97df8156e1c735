//! One conformance suite for every StateStore: the in-memory store and the
//! DynamoDB store (on DynamoDB Local) must behave the same.

use std::sync::Arc;

use engine::{ChildOutcome, ChildReport, Ctx, Effect, EventDetails, RunId, RunStatus};
use runtime::{CommitOutcome, MemoryStateStore, SeededEntropy, StateStore, StepRecord, StoreError};
use serde_json::json;
use switchyard_tests::dynamo::{block_on, fresh_store};
use switchyard_tests::{T0_MS, definition};

fn machine() -> serde_json::Value {
    json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}})
}

async fn conformance<S: StateStore>(store: S) {
    let def = Arc::new(definition(&machine()));
    let info = runtime::local_execution_info("conformance", "one", json!({"x": 1}), T0_MS);
    let arn = info.execution_arn.clone();
    store.create_execution(info.clone(), def.clone(), machine().to_string()).await.expect("create");

    // A second execution with the same ARN is refused.
    assert_eq!(
        store.create_execution(info.clone(), def.clone(), machine().to_string()).await,
        Err(StoreError::ExecutionAlreadyExists(arn.clone()))
    );
    let record = store.execution(&arn).await.expect("record");
    assert_eq!(record.info, info);
    assert_eq!(record.summary.status, RunStatus::Running);
    assert_eq!(record.definition_text, machine().to_string());

    // Nothing committed yet.
    let root = RunId::root();
    assert_eq!(store.load_run(&arn, &root).await.expect("load"), None);
    assert!(store.checkout_run(&arn, &root).await.expect("checkout").is_none());

    // Step 1.
    let mut entropy = SeededEntropy::new(1);
    let mut ctx = Ctx { now_ms: T0_MS, entropy: &mut entropy };
    let first = engine::start_execution(&def, &info, &mut ctx);
    let step1 = StepRecord {
        run: first.run.clone(),
        history: first.history.clone(),
        effects: first.effects.clone(),
        cause: "start".into(),
    };
    match store.commit(&arn, step1.clone()).await.expect("commit") {
        CommitOutcome::Committed { history, effects, .. } => {
            assert_eq!(history, first.history);
            assert_eq!(effects, first.effects);
        }
        CommitOutcome::AlreadyCommitted => panic!("first commit of step 1 must win"),
    }
    // The same step again loses, and changes nothing.
    assert_eq!(store.commit(&arn, step1).await.expect("commit"), CommitOutcome::AlreadyCommitted);
    assert_eq!(store.load_run(&arn, &root).await.expect("load"), Some(first.run.clone()));
    let checkout = store.checkout_run(&arn, &root).await.expect("checkout").expect("run");
    assert_eq!(checkout.run, first.run);
    assert_eq!(checkout.cause, "start");
    store.restore_run(&arn, checkout.run.clone()).await.expect("restore");
    assert_eq!(store.latest_effects(&arn, &root).await.expect("effects"), Some(first.effects.clone()));

    // Step 2 from step 1, and step 3 (the end): the summary follows.
    let Effect::Continue { version } = first.effects[0] else { panic!("a Pass continues") };
    let second = engine::step(&def, &info, checkout.run, engine::Event::Advance { version }, &mut ctx).expect("step");
    let step2 = StepRecord {
        run: second.run.clone(),
        history: second.history.clone(),
        effects: second.effects.clone(),
        cause: format!("advance:{version}"),
    };
    assert!(matches!(store.commit(&arn, step2).await.expect("commit"), CommitOutcome::Committed { .. }));
    assert_eq!(second.run.status, RunStatus::Succeeded);
    let record = store.execution(&arn).await.expect("record");
    assert_eq!(record.summary.status, RunStatus::Succeeded);
    assert_eq!(record.summary.output.as_deref(), Some(r#"{"x":1}"#));
    assert_eq!(record.summary.stop_time_ms, Some(T0_MS));

    // The merged history of one run is its events in order.
    let history = store.history(&arn).await.expect("history");
    let lines: Vec<String> =
        history.iter().map(|e| format!("{} {} {}", e.id, e.previous_event_id, e.event.details.type_name())).collect();
    assert_eq!(
        lines,
        [
            "1 0 ExecutionStarted",
            "2 0 PassStateEntered",
            "3 2 PassStateExited",
            "4 3 PassStateEntered",
            "5 4 PassStateExited",
            "6 5 ExecutionSucceeded"
        ]
    );
    assert!(matches!(history[5].event.details, EventDetails::ExecutionSucceeded { .. }));

    // Child outcomes: stored once, read back in index order.
    let parent = RunId::root();
    for index in [2u32, 0, 1] {
        let child = parent.child(65, index);
        let report = ChildReport {
            parent: parent.clone(),
            generation: 65,
            index,
            outcome: ChildOutcome::Succeeded(json!(index)),
            last_event_id: 3,
            last_state_event_id: 2,
        };
        assert!(store.put_child_outcome(&arn, &child, &report).await.expect("put"));
        let again = ChildReport { outcome: ChildOutcome::Succeeded(json!("changed")), ..report };
        assert!(!store.put_child_outcome(&arn, &child, &again).await.expect("put"));
    }
    assert_eq!(
        store.child_outcomes(&arn, &parent, 65, 3).await.expect("outcomes"),
        vec![ChildOutcome::Succeeded(json!(0)), ChildOutcome::Succeeded(json!(1)), ChildOutcome::Succeeded(json!(2))]
    );

    // Unknown executions.
    assert!(matches!(store.execution("arn:nope").await, Err(StoreError::ExecutionDoesNotExist(_))));
}

#[test]
fn the_memory_store_conforms() {
    block_on(conformance(MemoryStateStore::new()));
}

#[test]
fn the_dynamodb_store_conforms() {
    block_on(async { conformance(fresh_store().await).await });
}

#[test]
fn a_large_step_is_split_and_read_back_whole() {
    // A 200 KB string passes through a Pass state: the step holds it in the
    // snapshot and in two events, more than one DynamoDB item can take.
    block_on(async {
        let store = Arc::new(fresh_store().await);
        let big = "x".repeat(200 * 1024);
        let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
        let out = switchyard_tests::dynamo::run_on(
            store,
            "big",
            &def,
            json!({"big": big}),
            runtime::NoInvoker,
            switchyard_tests::dynamo::Mode::Clean,
        )
        .await;
        assert_eq!(out.status(), "SUCCEEDED");
        assert_eq!(out.output()["big"].as_str().map(str::len), Some(200 * 1024));
        assert_eq!(out.types(), ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
    });
}
