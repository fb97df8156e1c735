//! Executions on DynamoDB Local through the stepper (the stepper Lambda's
//! code), compared with the same executions on the in-memory store: the
//! examples, every state type, and exactly-once under duplicated, reordered,
//! racing and crashing deliveries.

use std::collections::BTreeMap;
use std::sync::Arc;

use engine::{TaskOutcome, TaskRequest};
use runtime::{MockConfig, MockInvoker};
use serde_json::{Value, json};
use switchyard_tests::dynamo::{ColdStore, FaultyStore, Mode, block_on, fresh_store, run_cold, run_on};
use switchyard_tests::{FnInvoker, Outcome, run_mocked, run_with, workspace_json};

/// Events without ids and timestamps, sorted: what two runs of one execution must share
/// whatever the order their branches interleaved in.
fn canonical(o: &Outcome) -> Vec<String> {
    let mut events: Vec<String> = o
        .history
        .iter()
        .map(|e| {
            let json = e.event.to_aws_json(0, 0, Value::Null, true);
            let details: BTreeMap<_, _> =
                json.as_object().into_iter().flatten().filter(|(k, _)| k.ends_with("EventDetails")).collect();
            let text =
                format!("{} {}", e.event.details.type_name(), serde_json::to_string(&details).unwrap_or_default());
            mask_tokens(&text)
        })
        .collect();
    events.sort();
    events
}

/// Task tokens name their execution and carry 128 random bits
/// (`<base64url route>.<32 hex>`): masked whole for comparison.
fn mask_tokens(text: &str) -> String {
    let route_char = |c: &char| c.is_ascii_alphanumeric() || *c == '-' || *c == '_';
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()).count();
        if run == 32 && i > 0 && chars[i - 1] == '.' {
            out.pop();
            while out.last().is_some_and(route_char) {
                out.pop();
            }
            out.extend("<token>".chars());
            i += run;
        } else {
            out.extend(&chars[i..i + run.max(1)]);
            i += run.max(1);
        }
    }
    out.into_iter().collect()
}

/// The merged history is dense and causal: ids 1..n, every previousEventId earlier.
fn assert_causal(o: &Outcome) {
    for (i, e) in o.history.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1, "ids are dense");
        assert!(e.previous_event_id < e.id, "event {} points forward to {}", e.id, e.previous_event_id);
    }
}

fn assert_equivalent(expected: &Outcome, actual: &Outcome, what: &str) {
    assert_eq!(actual.status(), expected.status(), "{what}: status");
    assert_eq!(actual.record.summary.output, expected.record.summary.output, "{what}: output");
    assert_eq!(actual.error(), expected.error(), "{what}: error");
    assert_eq!(canonical(actual), canonical(expected), "{what}: the same events");
    assert_causal(actual);
}

fn example(name: &str) -> (Value, Value, Value) {
    (
        workspace_json(&format!("examples/{name}.asl.json")),
        workspace_json(&format!("examples/{name}.input.json")),
        workspace_json(&format!("examples/{name}.mocks.json")),
    )
}

#[test]
fn every_example_runs_on_dynamodb_as_in_memory() {
    let cases = [
        ("order-saga", "HappyPath"),
        ("order-saga", "GatewayTimeoutThenCharged"),
        ("order-saga", "PaymentDeclined"),
        ("order-saga", "InvalidOrder"),
        ("human-approval", "Approved"),
        ("human-approval", "NeedsInfoThenApproved"),
        ("human-approval", "Rejected"),
        ("human-approval", "NoAnswer"),
        ("batch-map", "OneInvalidRecord"),
        ("batch-map", "ThrottledThenImported"),
        ("batch-map", "TooManyFailures"),
    ];
    block_on(async {
        let store = Arc::new(fresh_store().await);
        for (name, case) in cases {
            let (def, input, mocks) = example(name);
            let expected = run_mocked(name, &def, input.clone(), &mocks, case);
            let config = MockConfig::parse(&mocks).expect("mock file");
            let invoker = MockInvoker::new(&config, name, case).expect("test case");
            let actual = run_on(store.clone(), name, &def, input, invoker, Mode::Clean).await;
            if name == "batch-map" && case != "OneInvalidRecord" {
                // Mocks count invocations per state; with iterations running at once, which
                // record draws which answer (and which are still running when the Map fails)
                // depends on dispatch order, as in Step Functions Local. The outcome and the
                // kinds of events do not.
                assert_eq!(actual.record.summary.output, expected.record.summary.output, "{name}/{case}");
                let sorted = |o: &Outcome| {
                    let mut t = o.types();
                    t.sort();
                    t
                };
                assert_eq!(sorted(&actual), sorted(&expected), "{name}/{case}");
                assert_causal(&actual);
                continue;
            }
            assert_equivalent(&expected, &actual, &format!("{name}/{case}"));
            if name == "human-approval" {
                // No branches: the merged history is the one log, event for event.
                assert_eq!(actual.lines(), expected.lines(), "{name}/{case}: history");
            }
        }
    });
}

/// A task that doubles `$.n` (or echoes its input), failing with `Flaky`
/// on a first attempt when `$.flaky` is true: deterministic however often it runs.
fn task(request: &TaskRequest) -> TaskOutcome {
    let input = &request.input;
    if input["flaky"] == json!(true) && request.retry_count == 0 {
        return TaskOutcome::Failed(asl::Failure::new("Flaky", "first attempts fail"));
    }
    match input["n"].as_i64() {
        Some(n) => TaskOutcome::Succeeded(json!({"n": n * 2})),
        None => TaskOutcome::Succeeded(input.clone()),
    }
}

fn state_matrix() -> Vec<(&'static str, Value, Value)> {
    vec![
        (
            "pass-and-data-flow",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.a", "Parameters": {"x.$": "$.b", "ctx.$": "$$.State.Name"}, "ResultPath": "$.r", "OutputPath": "$.r", "End": true}}}),
            json!({"a": {"b": 7}}),
        ),
        (
            "task-retry-catch",
            json!({"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"n.$": "$.n", "flaky": true},
                      "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3, "BackoffRate": 2}], "Next": "Boom"},
                "Boom": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "Parameters": {"flaky": true},
                         "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}], "End": true},
                "Done": {"Type": "Succeed"}}}),
            json!({"n": 4}),
        ),
        (
            "choice-and-wait",
            json!({"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "W"}], "Default": "F"},
                "W": {"Type": "Wait", "Seconds": 90, "Next": "S"},
                "S": {"Type": "Succeed"},
                "F": {"Type": "Fail", "Error": "Small", "Cause": "n is small"}}}),
            json!({"n": 2}),
        ),
        (
            "fail",
            json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('code {}', $.c)"}}}),
            json!({"e": "Custom", "c": 42}),
        ),
        (
            "parallel",
            json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
                {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 5, "Next": "B2"}, "B2": {"Type": "Pass", "Result": "b", "End": true}}}
            ]}}}),
            json!({"n": 3}),
        ),
        (
            "map-with-concurrency",
            json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
                "ItemSelector": {"n.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
                "End": true}}}),
            json!({"items": [1, 2, 3, 4, 5]}),
        ),
        (
            "map-failure-caught",
            json!({"StartAt": "M", "States": {
                "M": {"Type": "Map", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                      "ItemProcessor": {"StartAt": "C", "States": {
                          "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Ok"},
                          "Bad": {"Type": "Fail", "Error": "Two"},
                          "Ok": {"Type": "Pass", "End": true}}},
                      "End": true},
                "Handled": {"Type": "Pass", "End": true}}}),
            json!([1, 2, 3]),
        ),
    ]
}

#[test]
fn every_state_type_runs_on_dynamodb_as_in_memory() {
    block_on(async {
        let store = Arc::new(fresh_store().await);
        for (name, def, input) in state_matrix() {
            let expected = run_with(&def, input.clone(), FnInvoker::new(task));
            let actual = run_on(store.clone(), "test-machine", &def, input, FnInvoker::new(task), Mode::Clean).await;
            assert_equivalent(&expected, &actual, name);
        }
    });
}

/// Every state type with a new stepper per delivery and no store memory at
/// all, each machine's definition and input larger than what is kept inline.
#[test]
fn every_state_type_runs_on_dynamodb_with_a_cold_process_per_delivery() {
    block_on(async {
        let store = Arc::new(ColdStore::per_delivery(&fresh_store().await));
        for (name, mut def, input) in state_matrix() {
            def["Comment"] = json!("c".repeat(9 * 1024));
            let input = match input {
                Value::Object(mut fields) => {
                    fields.insert("pad".into(), json!("p".repeat(9 * 1024)));
                    Value::Object(fields)
                }
                other => other,
            };
            let expected = run_with(&def, input.clone(), FnInvoker::new(task));
            let actual = run_cold(store.clone(), "test-machine", &def, input, FnInvoker::new(task), Mode::Clean).await;
            assert_equivalent(&expected, &actual, name);
        }
    });
}

/// The workflow of the exactly-once runs: a retried Task, a Choice, a
/// Parallel holding a Map (MaxConcurrency 2) of Tasks and a Pass.
fn mixed() -> Value {
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"n.$": "$.n", "flaky.$": "$.flaky"}, "ResultPath": "$.prepared",
                    "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}], "Next": "Route"},
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "Both"}], "Default": "Small"},
        "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.kind", "Next": "Both"},
        "Both": {"Type": "Parallel", "Next": "Done", "Branches": [
            {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
                "ItemSelector": {"n.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:work", "End": true}}},
                "End": true}}},
            {"StartAt": "Count", "States": {"Count": {"Type": "Pass", "Parameters": {"count.$": "States.ArrayLength($.items)"}, "End": true}}}
        ]},
        "Done": {"Type": "Succeed"}}})
}

fn mixed_input(k: u64) -> Value {
    let n = k % 5;
    json!({"n": n, "flaky": k.is_multiple_of(3), "items": (0..n).collect::<Vec<_>>()})
}

#[test]
fn each_delivery_twice_shuffled_or_raced_gives_the_clean_result() {
    block_on(async {
        let store = Arc::new(fresh_store().await);
        let def = mixed();
        for (i, mode) in [Mode::Twice, Mode::Shuffled(11), Mode::Shuffled(12), Mode::Race].into_iter().enumerate() {
            let input = mixed_input(3 + i as u64);
            let expected = run_with(&def, input.clone(), FnInvoker::new(task));
            let actual = run_on(store.clone(), "test-machine", &def, input, FnInvoker::new(task), mode).await;
            assert_equivalent(&expected, &actual, &format!("{mode:?}"));
        }
    });
}

#[test]
fn crashes_around_commits_are_recovered_by_redelivery() {
    block_on(async {
        let def = mixed();
        let input = mixed_input(4);
        let expected = run_with(&def, input.clone(), FnInvoker::new(task));
        let steps = {
            let store = Arc::new(FaultyStore::new(fresh_store().await, vec![], vec![]));
            run_on(store.clone(), "test-machine", &def, input.clone(), FnInvoker::new(task), Mode::Clean).await;
            store.commits()
        };
        // Every commit of the execution, once crashing before it and once after it.
        for k in 0..steps {
            for (before, after) in [(vec![k], vec![]), (vec![], vec![k])] {
                let what = format!("crash {} commit {k}", if before.is_empty() { "after" } else { "before" });
                let store = Arc::new(FaultyStore::new(fresh_store().await, before, after));
                let actual =
                    run_on(store, "test-machine", &def, input.clone(), FnInvoker::new(task), Mode::Clean).await;
                assert_equivalent(&expected, &actual, &what);
            }
        }
    });
}

/// 500 executions of the mixed workflow, eight at a time, each under one of
/// the ways deliveries go wrong: duplicated, shuffled, raced, or a crash
/// before or after one of its commits followed by Lambda's redelivery. Each
/// must end exactly as its clean in-memory run: same output, same events,
/// none recorded twice.
#[test]
fn five_hundred_executions_under_faults_end_as_clean_runs() {
    executions_under_faults(500, false);
}

/// The same executions with no memory of any kind: a new stepper for every
/// delivery, and every store call through a new store (as when each delivery
/// lands in a new container). 144 of them: every way of going wrong with
/// every crash point twice (each cold delivery reads everything again, so
/// 500 would take most of CI's time).
#[test]
fn executions_under_faults_end_as_clean_runs_with_a_cold_process_per_delivery() {
    executions_under_faults(144, true);
}

fn executions_under_faults(count: u64, cold: bool) {
    let mut def = mixed();
    if cold {
        // Larger than what is kept inline: every execution's definition is a payload item.
        def["Comment"] = json!("c".repeat(9 * 1024));
    }
    let expected: Vec<Outcome> = (0..15).map(|k| run_with(&def, mixed_input(k), FnInvoker::new(task))).collect();
    let expected = Arc::new(expected);
    block_on(async move {
        let table = fresh_store().await.table().to_string();
        let client = switchyard_tests::dynamo::client().await;
        let mut lanes = Vec::new();
        for lane in 0..8u64 {
            let (client, table, def, expected) = (client.clone(), table.clone(), def.clone(), expected.clone());
            lanes.push(tokio::spawn(async move {
                let mut checked = 0;
                for k in (lane..count).step_by(8) {
                    let input = mixed_input(k);
                    let crash = (k / 6) % 12;
                    let (mode, before, after) = match k % 6 {
                        0 => (Mode::Clean, vec![], vec![]),
                        1 => (Mode::Twice, vec![], vec![]),
                        2 => (Mode::Shuffled(k), vec![], vec![]),
                        3 => (Mode::Race, vec![], vec![]),
                        4 => (Mode::Clean, vec![crash], vec![]),
                        _ => (Mode::Clean, vec![], vec![crash]),
                    };
                    let store = aws_adapters::DynamoStateStore::new(client.clone(), table.clone());
                    let actual = if cold {
                        let store = Arc::new(FaultyStore::new(ColdStore::per_delivery(&store), before, after));
                        run_cold(store, "test-machine", &def, input, FnInvoker::new(task), mode).await
                    } else {
                        let store = Arc::new(FaultyStore::new(store, before, after));
                        run_on(store, "test-machine", &def, input, FnInvoker::new(task), mode).await
                    };
                    assert_equivalent(&expected[(k % 15) as usize], &actual, &format!("execution {k} ({mode:?})"));
                    checked += 1;
                }
                checked
            }));
        }
        let mut total = 0;
        for lane in lanes {
            total += lane.await.expect("lane");
        }
        assert_eq!(total, count);
    });
}

/// A Map over 10,000 items (the map-items workload) completes on DynamoDB:
/// 10,000 child runs report to one parent, whose output (~220 KB) is larger
/// than what one item may hold alongside its events.
#[test]
fn a_map_over_ten_thousand_items_completes() {
    let def = workspace_json("examples/workloads/map-items.asl.json");
    let input = workspace_json("examples/workloads/map-items.input.json");
    block_on(async move {
        let store = Arc::new(fresh_store().await);
        let out = run_on(store, "map-items", &def, input, runtime::NoInvoker, Mode::Clean).await;
        assert_eq!(out.status(), "SUCCEEDED");
        let output = out.output();
        let items = output.as_array().expect("an array");
        assert_eq!(items.len(), 10_000);
        for (k, item) in items.iter().enumerate() {
            assert_eq!(item, &json!({"v": 2 * k, "big": 2 * k > 100}));
        }
        assert_eq!(out.history.len(), 3 + 10_000 * 8 + 3);
        assert_causal(&out);
    });
}
