//! Cross-cutting scenarios: aborted siblings, timeouts around fan-outs,
//! JSONPath selections in templates, payload limits.

use serde_json::json;
use switchyard_tests::{FnInvoker, Outcome, T0_MS, fail, run, run_with, succeed};

fn id_of(out: &Outcome, type_name: &str, state: &str) -> u64 {
    out.history
        .iter()
        .find(|e| e.event.details.type_name() == type_name && e.event.details.state_name() == Some(state))
        .unwrap_or_else(|| panic!("no {type_name} {state} in {:#?}", out.lines()))
        .id
}

#[test]
fn a_failed_branch_aborts_its_running_sibling() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "After",
              "Branches": [
                  {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 100, "End": true}}},
                  {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}
              ],
              "Catch": [{"ErrorEquals": ["E"], "Next": "After"}]},
        "After": {"Type": "Pass", "End": true}
    }});
    let out = run(&def, json!({}));
    assert_eq!(out.output(), json!({"Error": "E", "Cause": "C"}));
    assert_eq!(out.record.summary.stop_time_ms, Some(T0_MS));
    let types = out.types();
    assert!(types.contains(&"WaitStateAborted".to_string()), "{types:?}");
    assert!(!types.contains(&"WaitStateExited".to_string()));
    let ids: Vec<u64> = out.history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=out.history.len() as u64).collect::<Vec<_>>());
    // The state after the catch chains from the Parallel's Exited event.
    let after = id_of(&out, "PassStateEntered", "After");
    assert_eq!(out.history[(after - 1) as usize].previous_event_id, id_of(&out, "ParallelStateExited", "P"));
}

#[test]
fn event_ids_in_causes_stay_right_after_an_aborted_sibling() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "Bad",
              "Branches": [
                  {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 100, "End": true}}},
                  {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}
              ],
              "Catch": [{"ErrorEquals": ["E"], "Next": "Bad"}]},
        "Bad": {"Type": "Pass", "InputPath": "$.missing", "End": true}
    }});
    let out = run(&def, json!({}));
    let entered = id_of(&out, "PassStateEntered", "Bad");
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            format!(
                "An error occurred while executing the state 'Bad' (entered at the event id #{entered}). Invalid path '$.missing' : No results for path: $['missing']"
            )
        )
    );
}

#[test]
fn event_ids_in_causes_stay_right_after_a_map() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "Next": "Bad"},
        "Bad": {"Type": "Pass", "InputPath": "$.missing", "End": true}
    }});
    let out = run(&def, json!([1, 2, 3]));
    let entered = id_of(&out, "PassStateEntered", "Bad");
    assert_eq!(entered, 3 + 3 * 4 + 3);
    assert_eq!(
        out.error().1,
        format!(
            "An error occurred while executing the state 'Bad' (entered at the event id #{entered}). Invalid path '$.missing' : No results for path: $['missing']"
        )
    );
}

#[test]
fn execution_timeout_while_a_map_runs() {
    let def = json!({"TimeoutSeconds": 5, "StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}, "End": true}
    }});
    let out = run(&def, json!([1, 2]));
    assert_eq!(out.status(), "TIMED_OUT");
    assert_eq!(out.record.summary.stop_time_ms, Some(T0_MS + 5000));
    assert_eq!(out.error().0, "States.Timeout");
    let types = out.types();
    assert!(!types.contains(&"MapStateSucceeded".to_string()), "{types:?}");
    assert!(!types.contains(&"WaitStateExited".to_string()), "{types:?}");
}

#[test]
fn execution_timeout_while_a_task_backs_off() {
    let def = json!({"TimeoutSeconds": 3, "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 5}], "End": true}
    }});
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("E", "")));
    assert_eq!(out.status(), "TIMED_OUT");
    let scheduled: Vec<i64> = out
        .history
        .iter()
        .filter(|e| e.event.details.type_name() == "LambdaFunctionScheduled")
        .map(|e| e.event.timestamp_ms - T0_MS)
        .collect();
    assert_eq!(scheduled, [0, 2000]);
    assert_eq!(out.types().last().unwrap(), "ExecutionTimedOut");
}

#[test]
fn tolerated_failures_let_later_items_run() {
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrency": 1, "ToleratedFailureCount": 5,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true}}},
        "End": true
    }}});
    let out = run_with(
        &def,
        json!([0, 1, 2, 3]),
        FnInvoker::new(|req| {
            if req.input.as_i64().unwrap() % 2 == 1 { fail("Odd", "odd item") } else { succeed(json!("even")) }
        }),
    );
    assert_eq!(
        out.output(),
        json!([
            "even",
            {"Error": "Odd", "Cause": "odd item"},
            "even",
            {"Error": "Odd", "Cause": "odd item"}
        ])
    );
}

#[test]
fn jsonpath_selections_in_parameters() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "all.$": "$.items[*].n",
        "big.$": "$.items[?(@.n > 1)].n",
        "first.$": "$.items[0].n",
        "slice.$": "$.items[0:2].n",
        "quoted.$": "$['odd key']"
    }, "End": true}}});
    let out = run(&def, json!({"items": [{"n": 1}, {"n": 2}, {"n": 3}], "odd key": "ok"}));
    assert_eq!(out.output(), json!({"all": [1, 2, 3], "big": [2, 3], "first": 1, "slice": [1, 2], "quoted": "ok"}));
}

#[test]
fn an_oversized_state_output_is_terminal() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "a.$": "$.s", "b.$": "$.s"
    }, "End": true}}});
    let big = "x".repeat(140_000);
    let out = run(&def, json!({"s": big}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.DataLimitExceeded".to_string(),
            "The state/task 'P' returned a result with a size exceeding the maximum number of bytes service limit."
                .to_string()
        )
    );
}

#[test]
fn a_task_answered_late_does_not_outlive_its_timeout_timer() {
    // The task succeeds at once; its 5 s timeout timer must not fire into the next state.
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "TimeoutSeconds": 5, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 10, "End": true}
    }});
    let out = run_with(&def, json!({}), FnInvoker::new(|_| succeed(json!("r"))));
    assert_eq!(out.output(), json!("r"));
    assert_eq!(out.record.summary.stop_time_ms, Some(T0_MS + 10_000));
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "WaitStateEntered",
            "WaitStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn retry_inside_a_map_iteration() {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}], "End": true
        }}},
        "End": true
    }}});
    let out = run_with(
        &def,
        json!(["a", "b"]),
        FnInvoker::new(move |req| {
            // Every item fails once, then succeeds.
            if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst).is_multiple_of(2) {
                fail("Flaky", "")
            } else {
                succeed(req.input.clone())
            }
        }),
    );
    assert_eq!(out.output(), json!(["a", "b"]));
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert_eq!(out.record.summary.stop_time_ms, Some(T0_MS + 2000));
}

#[test]
fn the_timed_out_event_is_the_last_event() {
    let def = json!({"TimeoutSeconds": 5, "StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}, "End": true}
    }});
    let out = run(&def, json!([1, 2]));
    assert_eq!(out.status(), "TIMED_OUT");
    assert_eq!(out.types().last().unwrap(), "ExecutionTimedOut");
}

#[test]
fn a_failing_iteration_aborts_the_running_ones_before_the_map_fails() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "F"}], "Default": "W"},
            "F": {"Type": "Fail", "Error": "E", "Cause": "one"},
            "W": {"Type": "Wait", "Seconds": 60, "End": true}}}, "End": true}
    }});
    let out = run(&def, json!([0, 1, 2]));
    assert_eq!(out.error(), ("E".to_string(), "one".to_string()));
    assert_eq!(out.record.summary.stop_time_ms, Some(T0_MS));
    let types = out.types();
    let count = |t: &str| types.iter().filter(|x| *x == t).count();
    assert_eq!(count("MapIterationFailed"), 1);
    assert_eq!(count("MapIterationAborted"), 2);
    assert_eq!(count("WaitStateAborted"), 2);
    assert_eq!(count("WaitStateExited"), 0);
    assert_eq!(types[types.len() - 2..], ["MapStateFailed", "ExecutionFailed"]);
}

#[test]
fn a_retried_map_rebuilds_its_items_and_selector() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrency": 1, "ItemsPath": "$.items",
        "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "tag.$": "$.tag"},
        "ItemProcessor": {"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true
        }}},
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}],
        "ResultPath": "$.out",
        "End": true
    }}});
    let out = run_with(
        &def,
        json!({"tag": "t", "items": ["a", "b", "c"]}),
        FnInvoker::new(move |req| {
            // The third call (item 2 of the first round) fails once.
            if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 2 {
                fail("Flaky", "")
            } else {
                succeed(req.input.clone())
            }
        }),
    );
    assert_eq!(
        out.output(),
        json!({"tag": "t", "items": ["a", "b", "c"], "out": [
            {"v": "a", "i": 0, "tag": "t"},
            {"v": "b", "i": 1, "tag": "t"},
            {"v": "c", "i": 2, "tag": "t"}
        ]})
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 6);
    assert_eq!(out.record.summary.stop_time_ms, Some(T0_MS + 1000));
}

#[test]
fn parallel_inside_a_map_inside_a_parallel() {
    let inner_parallel = json!({"StartAt": "IP", "States": {"IP": {
        "Type": "Parallel", "End": true,
        "Branches": [
            {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"d.$": "States.MathAdd($, $)"}, "OutputPath": "$.d", "End": true}}},
            {"StartAt": "Same", "States": {"Same": {"Type": "Pass", "End": true}}}
        ]
    }}});
    let def = json!({"StartAt": "Outer", "States": {"Outer": {
        "Type": "Parallel", "End": true,
        "Branches": [
            {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.n", "ItemProcessor": inner_parallel, "End": true}}},
            {"StartAt": "Count", "States": {"Count": {"Type": "Pass", "Parameters": {"len.$": "States.ArrayLength($.n)"}, "End": true}}}
        ]
    }}});
    let out = run(&def, json!({"n": [1, 2, 3]}));
    assert_eq!(out.output(), json!([[[2, 1], [4, 2], [6, 3]], {"len": 3}]));
    let ids: Vec<u64> = out.history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=out.history.len() as u64).collect::<Vec<_>>());
    // Every previousEventId points backwards.
    assert!(out.history.iter().all(|e| e.previous_event_id < e.id));
}
