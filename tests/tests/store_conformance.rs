//! One conformance suite for every StateStore: the in-memory store and the
//! DynamoDB store (on DynamoDB Local) must behave the same — also when every
//! read is made by a process that remembers nothing (a cold container, a
//! restarted `serve`), after writes by one that remembers everything.

use std::sync::Arc;

use engine::{
    ChildMark, ChildOutcome, ChildReport, ChildSpec, Ctx, Effect, EventDetails, Prev, RunId, RunStatus, Tally,
};
use runtime::tally::TallyState;
use runtime::{CommitOutcome, MemoryStateStore, SeededEntropy, StateStore, StepRecord, StoreError};
use serde_json::{Value, json};
use switchyard_tests::dynamo::{ColdStore, block_on, fresh_store};
use switchyard_tests::{T0_MS, definition};

/// Two Passes, with a comment that makes the definition larger than what is
/// kept inline (8 KiB): the definition is stored as a payload.
fn machine() -> Value {
    json!({"Comment": "c".repeat(9 * 1024), "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}})
}

/// An input larger than what is kept inline: the execution's facts, each
/// snapshot's state input and the output are stored as payloads.
fn big_input() -> Value {
    json!({"x": 1, "pad": "p".repeat(9 * 1024)})
}

async fn conformance<S: StateStore>(store: S) {
    // Two executions of one machine with the same input: the same payloads,
    // each readable under its own execution.
    let one = execution(&store, "one").await;
    let two = execution(&store, "two").await;
    for arn in [&one, &two] {
        let record = store.execution(arn).await.expect("record");
        assert_eq!(record.definition_text, machine().to_string());
        assert_eq!(record.info.input, big_input());
        assert_eq!(record.summary.output, Some(big_input().to_string()));
        assert_eq!(store.history(arn).await.expect("history").len(), 6);
    }
    assert_eq!(store.facts(&two).await.expect("facts").definition_text, machine().to_string());
    children(&store, &one).await;

    // Unknown executions.
    assert!(matches!(store.execution("arn:nope").await, Err(StoreError::ExecutionDoesNotExist(_))));
}

/// Creates execution `name` and commits its three steps, checking each read on the way.
async fn execution<S: StateStore>(store: &S, name: &str) -> String {
    let def = Arc::new(definition(&machine()));
    let info = runtime::local_execution_info("conformance", name, big_input(), T0_MS);
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
    assert_eq!(record.summary.output, Some(big_input().to_string()));
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
    arn
}

/// Child outcomes, staged children and tallies.
async fn children<S: StateStore>(store: &S, arn: &str) {
    let arn = arn.to_string();
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
            tally: None,
        };
        assert!(store.put_child_outcome(&arn, &child, &report).await.expect("put"));
        let again = ChildReport { outcome: ChildOutcome::Succeeded(json!("changed")), ..report };
        assert!(!store.put_child_outcome(&arn, &child, &again).await.expect("put"));
    }
    assert_eq!(
        store.child_outcomes(&arn, &parent, 65, 3).await.expect("outcomes"),
        vec![ChildOutcome::Succeeded(json!(0)), ChildOutcome::Succeeded(json!(1)), ChildOutcome::Succeeded(json!(2))]
    );

    // A tally of 250 children (three shards), window 2: staged specs read
    // back; additions are idempotent and only the one that ends the last
    // child completes it; outcomes come back with their event ids.
    let tally = Tally { total: 250, window: 2 };
    let specs: Vec<ChildSpec> = (2..250)
        .map(|index| ChildSpec {
            id: parent.child(70, index),
            generation: 70,
            index,
            block: asl::Definition::ROOT,
            input: json!({"item": index}),
            map_state: None,
            first_prev: Prev::Parent(3),
            tally: Some(tally),
        })
        .collect();
    store.stage_children(&arn, &parent, 70, &specs).await.expect("stage");
    store.stage_children(&arn, &parent, 70, &specs).await.expect("stage again");
    assert_eq!(store.staged_child(&arn, &parent, 70, 149).await.expect("staged"), Some(specs[147].clone()));
    assert_eq!(store.staged_child(&arn, &parent, 70, 0).await.expect("staged"), None);
    let all: Vec<u32> = (0..250).collect();
    let state = store.tally_add(&arn, &parent, 70, tally, &all[..249]).await.expect("add");
    assert_eq!(state, TallyState { complete: false, failing: false });
    let state = store.tally_add(&arn, &parent, 70, tally, &all[100..200]).await.expect("add again");
    assert_eq!(state, TallyState { complete: false, failing: false });
    for index in [7u32, 249] {
        let report = ChildReport {
            parent: parent.clone(),
            generation: 70,
            index,
            outcome: ChildOutcome::Succeeded(json!(index)),
            last_event_id: 4 + index as u64,
            last_state_event_id: 3,
            tally: Some(tally),
        };
        assert!(store.put_child_outcome(&arn, &parent.child(70, index), &report).await.expect("put"));
    }
    let state = store.tally_add(&arn, &parent, 70, tally, &[249]).await.expect("add last");
    assert_eq!(state, TallyState { complete: true, failing: false });
    let outcomes = store.tallied_outcomes(&arn, &parent, 70, tally).await.expect("outcomes");
    assert_eq!(outcomes.len(), 250);
    assert_eq!(
        outcomes[7],
        (ChildOutcome::Succeeded(json!(7)), ChildMark { last_event_id: 11, last_state_event_id: 3 })
    );
    assert_eq!(outcomes[249].1, ChildMark { last_event_id: 253, last_state_event_id: 3 });
    assert_eq!(outcomes[8], (ChildOutcome::Aborted, ChildMark::default()), "no outcome was put for 8");

    // A failing tally: every shard says so, and the unfinished children are named.
    let tally = Tally { total: 150, window: 10 };
    store.tally_add(&arn, &parent, 71, tally, &[0, 1, 120]).await.expect("add");
    assert!(!store.tally_failing(&arn, &parent, 71, 5).await.expect("failing?"));
    let unfinished = store.tally_fail(&arn, &parent, 71, tally).await.expect("fail");
    assert_eq!(unfinished, (2..150).filter(|i| *i != 120).collect::<Vec<u32>>());
    assert!(store.tally_failing(&arn, &parent, 71, 5).await.expect("failing?"));
    assert!(store.tally_failing(&arn, &parent, 71, 140).await.expect("failing?"));
    let state = store.tally_add(&arn, &parent, 71, tally, &[5]).await.expect("add");
    assert_eq!(state, TallyState { complete: false, failing: true });
}

#[test]
fn the_memory_store_conforms() {
    block_on(conformance(MemoryStateStore::new()));
}

#[test]
fn the_dynamodb_store_conforms() {
    block_on(async { conformance(fresh_store().await).await });
}

/// Every call through a new store: nothing any call remembers helps the next.
#[test]
fn the_dynamodb_store_conforms_with_no_memory_at_all() {
    block_on(async { conformance(ColdStore::on(&fresh_store().await)).await });
}

/// Writes through one store that remembers what it wrote (a warm container
/// that ran other executions of the machine), every read through a new one.
/// Before payloads were remembered per execution, the second execution's
/// definition, input and output were never written under its own key, and a
/// cold reader answered `payload … is missing`.
#[test]
fn the_dynamodb_store_conforms_when_a_cold_process_reads_what_a_warm_one_wrote() {
    block_on(async { conformance(ColdStore::reading_after(Arc::new(fresh_store().await))).await });
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

/// What a fake DynamoDB answers, request by request (see the test below).
enum Answer {
    Status(u16, &'static str),
    Reset,
}

/// Throttling (`ProvisionedThroughputExceededException`, `ThrottlingException`),
/// a 5xx answer and a connection reset are retried inside one request by the
/// store's client (the SDK's standard retry mode with the store's attempts),
/// so the store call succeeds and no delivery fails for them.
#[test]
fn throttling_5xx_and_resets_are_retried_inside_one_request() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    block_on(async {
        let answers = Arc::new(vec![
            Answer::Status(400, "ProvisionedThroughputExceededException"),
            Answer::Status(400, "ThrottlingException"),
            Answer::Status(500, "InternalServerError"),
            Answer::Reset,
            Answer::Status(200, ""),
        ]);
        let served = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (answers_, served_) = (answers.clone(), served.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let (answers, served) = (answers_.clone(), served_.clone());
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    loop {
                        // One request: headers, then Content-Length bytes of body.
                        let mut chunk = [0u8; 4096];
                        let head_end = loop {
                            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                                break i + 4;
                            }
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        while buffer.len() < head_end + length {
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buffer.drain(..head_end + length);
                        let n = served.fetch_add(1, Ordering::SeqCst);
                        let (status, body) = match answers.get(n) {
                            Some(Answer::Reset) => return, // dropped without an answer
                            Some(Answer::Status(200, _)) | None => {
                                (200, r#"{"Attributes":{"ended":{"NS":["0"]}}}"#.to_string())
                            }
                            Some(Answer::Status(status, code)) => (
                                *status,
                                format!(
                                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"injected"}}"#
                                ),
                            ),
                        };
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if socket.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let client = aws_adapters::store_client(&aws_adapters::local_config(&url).await);
        let store = aws_adapters::DynamoStateStore::new(client, "throttled");
        let tally = Tally { total: 1, window: 1 };
        let state = store.tally_add("arn:x", &RunId::root(), 1, tally, &[0]).await.expect("retried to success");
        assert_eq!(state, TallyState { complete: true, failing: false });
        assert_eq!(served.load(Ordering::SeqCst), answers.len(), "every injected failure was retried");
    });
}

/// An execution an earlier release started kept its child runs' steps under
/// the execution's own key, and marked no step `fanOut`; this release writes
/// a child's next steps to the child partitions. The history and the newest
/// steps (what recovery carries on) read both: nothing is lost in an upgrade.
#[test]
fn a_child_run_begun_under_the_execution_key_is_read_across_both_layouts() {
    use aws_sdk_dynamodb::types::AttributeValue;
    block_on(async {
        let store = fresh_store().await;
        let client = switchyard_tests::dynamo::client().await;
        let machine = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}]}}});
        let def = Arc::new(definition(&machine));
        let info = runtime::local_execution_info("layouts", "one", json!({"x": 1}), T0_MS);
        let arn = info.execution_arn.clone();
        store.create_execution(info.clone(), def.clone(), machine.to_string()).await.expect("create");
        let mut entropy = SeededEntropy::new(1);
        let mut ctx = Ctx { now_ms: T0_MS, entropy: &mut entropy };
        let commit = |t: engine::Transition, cause: &str| StepRecord {
            run: t.run,
            history: t.history,
            effects: t.effects,
            cause: cause.to_string(),
        };
        let root = engine::start_execution(&def, &info, &mut ctx);
        let Some(Effect::StartChildren(specs)) =
            root.effects.iter().find(|e| matches!(e, Effect::StartChildren(_))).cloned()
        else {
            panic!("the Parallel starts its branch: {:?}", root.effects)
        };
        store.commit(&arn, commit(root, "start")).await.expect("root step");
        let first = engine::start_child(&def, &info, specs[0].clone(), &mut ctx);
        let child = first.run.id.clone();
        store.commit(&arn, commit(first, "start")).await.expect("child step 1");
        // Make the table look as an earlier release left it: the child's first step under
        // the execution's key, no fanOut mark on the root's step.
        let table = store.table().to_string();
        let scan = client.scan().table_name(&table).send().await.expect("scan");
        for item in scan.items() {
            let (pk, sk) = (item["pk"].as_s().unwrap().clone(), item["sk"].as_s().unwrap().clone());
            if sk.starts_with(&format!("STEP#{}#", child.0)) {
                let mut moved = item.clone();
                moved.insert("pk".to_string(), AttributeValue::S(format!("EX#{arn}")));
                client.put_item().table_name(&table).set_item(Some(moved)).send().await.expect("move");
                client
                    .delete_item()
                    .table_name(&table)
                    .key("pk", AttributeValue::S(pk))
                    .key("sk", AttributeValue::S(sk))
                    .send()
                    .await
                    .expect("delete");
            } else if item.contains_key("fanOut") {
                client
                    .update_item()
                    .table_name(&table)
                    .key("pk", AttributeValue::S(pk))
                    .key("sk", AttributeValue::S(sk))
                    .update_expression("REMOVE fanOut")
                    .send()
                    .await
                    .expect("unmark");
            }
        }
        // This release goes on with the child from a cold store.
        let cold = aws_adapters::DynamoStateStore::new(client.clone(), table.clone());
        let mut events = 0;
        let mut version = 1;
        loop {
            let run = cold.load_run(&arn, &child).await.expect("load").expect("the child is found");
            assert_eq!(run.version, version);
            if run.status != RunStatus::Running {
                break;
            }
            let t = engine::step(&def, &info, run, engine::Event::Advance { version }, &mut ctx).expect("advance");
            events += t.history.len();
            cold.commit(&arn, commit(t, &format!("advance:{version}"))).await.expect("child step");
            version += 1;
        }
        assert_eq!(version, 2, "the child's second step is in the new layout");
        let history = cold.history(&arn).await.expect("history");
        let types: Vec<String> = history.iter().map(|e| e.event.details.type_name()).collect();
        assert_eq!(
            types,
            [
                "ExecutionStarted",
                "ParallelStateEntered",
                "ParallelStateStarted",
                "PassStateEntered",
                "PassStateExited",
                "PassStateEntered",
                "PassStateExited"
            ]
        );
        assert_eq!(events, 2, "the step in the new layout recorded B's two events");
        let newest = cold.newest_steps(&arn).await.expect("newest steps");
        let of_child: Vec<u64> = newest.iter().filter(|s| s.run == child).map(|s| s.version).collect();
        assert_eq!(of_child, [version], "one newest step per run: the highest version");
    });
}

/// The api container creates an execution and remembers that its root run
/// has not started (a start then costs no read); the stepper, another
/// process, starts it; a StopExecution (or a task's callback) then reaches
/// the api container again. It must ask the table, not its memory: before,
/// the event was dropped, so StopExecution did nothing and SendTaskSuccess
/// answered TaskTimedOut. Found by the local stack (scripts/stack-local.sh),
/// where the api and the stepper are separate processes.
#[test]
fn the_process_that_created_an_execution_applies_events_after_another_started_it() {
    use engine::Event;
    use runtime::Delivery;
    use runtime::driver::{self, Applied};

    block_on(async {
        let creator = fresh_store().await;
        let stepper = aws_adapters::DynamoStateStore::new(creator.client().clone(), creator.table().to_string());
        let machine = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}});
        let def = Arc::new(definition(&machine));
        let info = runtime::local_execution_info("created-here", "e", json!({}), T0_MS);
        let arn = info.execution_arn.clone();
        creator.create_execution(info, def, machine.to_string()).await.expect("create");

        let mut entropy = SeededEntropy::new(1);
        let mut ctx = Ctx { now_ms: T0_MS, entropy: &mut entropy };
        let facts = stepper.facts(&arn).await.expect("facts");
        let started = driver::apply(&stepper, &facts, Delivery::start(&arn), &mut ctx, None).await.expect("start");
        assert!(matches!(started, Applied::Committed { .. }), "{started:?}");

        let facts = creator.facts(&arn).await.expect("facts");
        let stop = Delivery::event(&arn, RunId::root(), Event::Stop { error: Some("E".into()), cause: None });
        let stopped = driver::apply(&creator, &facts, stop, &mut ctx, None).await.expect("stop");
        assert!(matches!(stopped, Applied::Committed { status: RunStatus::Aborted, .. }), "{stopped:?}");
        assert_eq!(creator.execution(&arn).await.expect("record").summary.status, RunStatus::Aborted);
    });
}
