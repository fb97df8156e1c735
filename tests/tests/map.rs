//! Map states: item order, ItemsPath, ItemSelector, concurrency, failures,
//! tolerated failures, and their history.

use serde_json::{Value, json};
use switchyard_tests::{FnInvoker, Outcome, T0_MS, fail, run, run_with, succeed};

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

/// A machine whose start state is Map `M` with `fields`, iterating with `processor`.
fn map(fields: Value, processor: Value) -> Value {
    let mut state = json!({"Type": "Map", "ItemProcessor": processor, "End": true});
    for (k, v) in fields.as_object().unwrap() {
        state[k] = v.clone();
    }
    json!({"StartAt": "M", "States": {"M": state}})
}

fn pass_processor() -> Value {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})
}

/// An iteration that waits `$.wait` seconds (or the item itself when it is a number) and outputs its input.
fn waiting_processor(path: &str) -> Value {
    json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": path, "End": true}}})
}

fn distributed(processor: Value) -> Value {
    let mut p = processor;
    p["ProcessorConfig"] = json!({"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"});
    p
}

fn failing_on_odd_items() -> Value {
    json!({"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [
            {"And": [
                {"Variable": "$.fail", "IsPresent": true},
                {"Variable": "$.fail", "BooleanEquals": true}
            ], "Next": "Boom"}
        ], "Default": "Ok"},
        "Ok": {"Type": "Pass", "InputPath": "$.v", "End": true},
        "Boom": {"Type": "Fail", "Error": "ItemError", "Cause": "bad item"}
    }})
}

fn times_of(out: &Outcome, type_name: &str) -> Vec<i64> {
    out.history
        .iter()
        .filter(|e| e.event.details.type_name() == type_name)
        .map(|e| e.event.timestamp_ms - T0_MS)
        .collect()
}

// ----- results and inputs ---------------------------------------------------------------

#[test]
fn results_come_in_item_order() {
    let def = map(json!({}), waiting_processor("$"));
    let out = run(&def, json!([3, 1, 2, 0]));
    assert_eq!(out.output(), json!([3, 1, 2, 0]));
    assert_eq!(times_of(&out, "MapStateExited"), [3000]);
}

#[test]
fn items_path_selects_the_array() {
    let def = map(json!({"ItemsPath": "$.list"}), pass_processor());
    let out = run(&def, json!({"list": [{"a": 1}, "b", [3]], "other": 0}));
    assert_eq!(out.output(), json!([{"a": 1}, "b", [3]]));
    let started = out.events_of("MapStateStarted");
    assert_eq!(started[0]["mapStateStartedEventDetails"], json!({"length": 3}));
}

#[test]
fn items_path_applies_after_input_path() {
    let def = map(json!({"InputPath": "$.in", "ItemsPath": "$.list"}), pass_processor());
    let out = run(&def, json!({"in": {"list": [1, 2]}, "list": [9]}));
    assert_eq!(out.output(), json!([1, 2]));
}

#[test]
fn item_selector_reads_the_item_its_index_and_the_state_input() {
    let def = map(
        json!({
            "ItemsPath": "$.shipped",
            "ItemSelector": {
                "value.$": "$$.Map.Item.Value",
                "index.$": "$$.Map.Item.Index",
                "partner.$": "$.partner",
                "constant": "HelloWorld"
            }
        }),
        pass_processor(),
    );
    let out = run(&def, json!({"partner": "UQS", "shipped": ["A", "B", "C"]}));
    assert_eq!(
        out.output(),
        json!([
            {"value": "A", "index": 0, "partner": "UQS", "constant": "HelloWorld"},
            {"value": "B", "index": 1, "partner": "UQS", "constant": "HelloWorld"},
            {"value": "C", "index": 2, "partner": "UQS", "constant": "HelloWorld"}
        ])
    );
}

#[test]
fn item_selector_with_limited_concurrency_builds_later_items_too() {
    let def = map(
        json!({
            "MaxConcurrency": 1,
            "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "k.$": "$.k"},
            "ItemsPath": "$.items"
        }),
        pass_processor(),
    );
    let out = run(&def, json!({"k": "K", "items": [10, 20, 30]}));
    assert_eq!(
        out.output(),
        json!([
            {"v": 10, "i": 0, "k": "K"},
            {"v": 20, "i": 1, "k": "K"},
            {"v": 30, "i": 2, "k": "K"}
        ])
    );
}

#[test]
fn legacy_parameters_and_iterator() {
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map",
        "ItemsPath": "$.items",
        "Parameters": {"item.$": "$$.Map.Item.Value", "idx.$": "$$.Map.Item.Index"},
        "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true
    }}});
    let out = run(&def, json!({"items": ["x", "y"]}));
    assert_eq!(out.output(), json!([{"item": "x", "idx": 0}, {"item": "y", "idx": 1}]));
}

#[test]
fn result_selector_result_path_and_output_path() {
    let def = map(
        json!({
            "ItemsPath": "$.items",
            "ResultSelector": {"all.$": "$", "first.$": "$[0]"},
            "ResultPath": "$.res",
            "OutputPath": "$.res"
        }),
        pass_processor(),
    );
    let out = run(&def, json!({"items": [1, 2]}));
    assert_eq!(out.output(), json!({"all": [1, 2], "first": 1}));
}

#[test]
fn iterations_run_tasks() {
    let def =
        map(json!({}), json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}}));
    let out = run_with(&def, json!([1, 2, 3]), FnInvoker::new(|req| succeed(json!(req.input.as_i64().unwrap() * 10))));
    assert_eq!(out.output(), json!([10, 20, 30]));
}

#[test]
fn nested_map() {
    let inner = json!({"StartAt": "Inner", "States": {"Inner": {
        "Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": true}}},
        "End": true
    }}});
    let def = map(json!({}), inner);
    let out = run(&def, json!([[1, 2], [], [3]]));
    assert_eq!(out.output(), json!([[{"v": 1}, {"v": 2}], [], [{"v": 3}]]));
}

// ----- concurrency ----------------------------------------------------------------------

#[test]
fn max_concurrency_one_runs_iterations_one_after_another() {
    let def = map(json!({"MaxConcurrency": 1}), waiting_processor("$"));
    let out = run(&def, json!([2, 1, 3]));
    assert_eq!(out.output(), json!([2, 1, 3]));
    assert_eq!(times_of(&out, "MapIterationStarted"), [0, 2000, 3000]);
    assert_eq!(times_of(&out, "MapIterationSucceeded"), [2000, 3000, 6000]);
    let order: Vec<String> = out
        .history
        .iter()
        .filter_map(|e| {
            let t = e.event.details.type_name();
            t.starts_with("MapIteration").then(|| {
                let d = e.event.details.aws_details(true).unwrap().1;
                format!("{t} {}", d["index"])
            })
        })
        .collect();
    assert_eq!(
        order,
        [
            "MapIterationStarted 0",
            "MapIterationSucceeded 0",
            "MapIterationStarted 1",
            "MapIterationSucceeded 1",
            "MapIterationStarted 2",
            "MapIterationSucceeded 2"
        ]
    );
}

#[test]
fn max_concurrency_two_keeps_two_iterations_running() {
    let def = map(json!({"MaxConcurrency": 2}), waiting_processor("$"));
    let out = run(&def, json!([3, 1, 1, 1]));
    assert_eq!(out.output(), json!([3, 1, 1, 1]));
    // Item 0 (3 s) and 1 start at once; the end of item i starts item i + 2
    // (MaxConcurrency): 3 starts when 1 ends (1 s), 2 when 0 ends (3 s).
    let mut started: Vec<(u64, i64)> = out
        .history
        .iter()
        .filter(|e| e.event.details.type_name() == "MapIterationStarted")
        .map(|e| {
            let d = e.event.details.aws_details(true).unwrap().1;
            (d["index"].as_u64().unwrap(), e.event.timestamp_ms - T0_MS)
        })
        .collect();
    started.sort();
    assert_eq!(started, [(0, 0), (1, 0), (2, 3000), (3, 1000)]);
    assert_eq!(times_of(&out, "MapStateSucceeded"), [4000]);
}

#[test]
fn max_concurrency_path() {
    let def = map(json!({"MaxConcurrencyPath": "$.mc", "ItemsPath": "$.items"}), waiting_processor("$"));
    let out = run(&def, json!({"mc": 1, "items": [1, 1]}));
    assert_eq!(times_of(&out, "MapIterationStarted"), [0, 1000]);
}

#[test]
fn max_concurrency_path_not_a_number_is_a_runtime_error() {
    let def = map(json!({"MaxConcurrencyPath": "$.mc", "ItemsPath": "$.items"}), pass_processor());
    let out = run(&def, json!({"mc": "NoNumber", "items": [1]}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "An error occurred while executing the state 'M' (entered at the event id #2). The MaxConcurrencyPath field refers to value \"NoNumber\" which is not a valid integer: $.mc".to_string()
        )
    );
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 MapStateEntered M", "3 2 ExecutionFailed"]);
}

// ----- history ------------------------------------------------------------------------

#[test]
fn history_of_a_sequential_two_item_map() {
    let def = map(json!({"MaxConcurrency": 1}), pass_processor());
    let out = run(&def, json!([1, 2]));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered M",
            "3 2 MapStateStarted",
            "4 3 MapIterationStarted",
            "5 4 PassStateEntered P",
            "6 5 PassStateExited P",
            "7 6 MapIterationSucceeded",
            "8 6 MapIterationStarted",
            "9 8 PassStateEntered P",
            "10 9 PassStateExited P",
            "11 10 MapIterationSucceeded",
            "12 11 MapStateSucceeded",
            "13 11 MapStateExited M",
            "14 13 ExecutionSucceeded"
        ]
    );
}

#[test]
fn event_order_of_a_sequential_two_item_map() {
    let def = map(json!({"MaxConcurrency": 1}), pass_processor());
    let out = run(&def, json!([1, 2]));
    assert_eq!(out.output(), json!([1, 2]));
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapIterationStarted",
            "PassStateEntered",
            "PassStateExited",
            "MapIterationSucceeded",
            "MapIterationStarted",
            "PassStateEntered",
            "PassStateExited",
            "MapIterationSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded"
        ]
    );
    let prevs: Vec<u64> = out.history.iter().map(|e| e.previous_event_id).collect();
    // Everything but the second MapIterationStarted (event 8; see the ignored test above).
    assert_eq!(&prevs[..7], &[0, 0, 2, 3, 4, 5, 6]);
    assert_eq!(&prevs[8..], &[8, 9, 10, 11, 11, 13]);
    assert_eq!(out.event_json(4)["mapIterationStartedEventDetails"], json!({"name": "M", "index": 0}));
    assert_eq!(out.event_json(11)["mapIterationSucceededEventDetails"], json!({"name": "M", "index": 1}));
    assert_eq!(out.event_json(5)["stateEnteredEventDetails"]["input"], "1");
}

#[test]
fn empty_array() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": pass_processor(), "Next": "Done"},
        "Done": {"Type": "Succeed"}
    }});
    let out = run(&def, json!([]));
    assert_eq!(out.output(), json!([]));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered M",
            "3 2 MapStateStarted",
            "4 3 MapStateSucceeded",
            "5 4 MapStateExited M",
            "6 5 SucceedStateEntered Done",
            "7 6 SucceedStateExited Done",
            "8 7 ExecutionSucceeded"
        ]
    );
    assert_eq!(out.event_json(3)["mapStateStartedEventDetails"], json!({"length": 0}));
}

#[test]
fn items_not_an_array_is_a_runtime_error() {
    let def = map(json!({"ItemsPath": "$.items"}), pass_processor());
    let out = run(&def, json!({"items": {"a": 1}}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "States.Runtime");
    assert_eq!(
        out.error().1,
        "An error occurred while executing the state 'M' (entered at the event id #2). Map state input must be an array but was: object"
    );
    let out = run(&map(json!({}), pass_processor()), json!("text"));
    assert_eq!(out.error().0, "States.Runtime");
}

#[test]
fn items_path_missing_is_a_runtime_error() {
    let def = map(json!({"ItemsPath": "$.items"}), pass_processor());
    let out = run(&def, json!({}));
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "An error occurred while executing the state 'M' (entered at the event id #2). Invalid path '$.items' : No results for path: $['items']".to_string()
        )
    );
}

// ----- failures -----------------------------------------------------------------------

#[test]
fn an_iteration_failure_fails_the_map_with_its_own_error() {
    let def = map(
        json!({}),
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}}}),
    );
    let out = run(&def, json!([1]));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("HandleItemFailError".to_string(), "HandleItemFailCause".to_string()));
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapIterationStarted",
            "FailStateEntered",
            "MapIterationFailed",
            "MapStateFailed",
            "ExecutionFailed"
        ]
    );
}

#[test]
fn history_of_an_iteration_failure() {
    let def = map(
        json!({}),
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}}}),
    );
    let out = run(&def, json!([1]));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("HandleItemFailError".to_string(), "HandleItemFailCause".to_string()));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered M",
            "3 2 MapStateStarted",
            "4 3 MapIterationStarted",
            "5 4 FailStateEntered F",
            "6 5 MapIterationFailed",
            "7 5 MapStateFailed",
            "8 7 ExecutionFailed"
        ]
    );
}

#[test]
fn a_failing_iteration_stops_the_map_early() {
    let def = map(json!({"MaxConcurrency": 1}), failing_on_odd_items());
    let out = run(&def, json!([{"v": 0}, {"fail": true}, {"v": 2}, {"v": 3}]));
    assert_eq!(out.error(), ("ItemError".to_string(), "bad item".to_string()));
    // Items after the failed one never start.
    assert_eq!(times_of(&out, "MapIterationStarted").len(), 2);
    assert_eq!(out.types()[out.types().len() - 3..], ["MapIterationFailed", "MapStateFailed", "ExecutionFailed"]);
}

#[test]
fn catch_on_a_map() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "Next": "Done",
              "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}}},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "FinalCaught"}]},
        "FinalCaught": {"Type": "Pass", "End": true},
        "Done": {"Type": "Succeed"}
    }});
    let out = run(&def, json!([1]));
    assert_eq!(out.output(), json!({"Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}));
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapIterationStarted",
            "FailStateEntered",
            "MapIterationFailed",
            "MapStateFailed",
            "MapStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn history_of_a_caught_map_failure() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "Next": "Done",
              "ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}}},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "FinalCaught"}]},
        "FinalCaught": {"Type": "Pass", "End": true},
        "Done": {"Type": "Succeed"}
    }});
    let out = run(&def, json!([1]));
    assert_eq!(out.output(), json!({"Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered M",
            "3 2 MapStateStarted",
            "4 3 MapIterationStarted",
            "5 4 FailStateEntered F",
            "6 5 MapIterationFailed",
            "7 5 MapStateFailed",
            "8 7 MapStateExited M",
            "9 8 PassStateEntered FinalCaught",
            "10 9 PassStateExited FinalCaught",
            "11 10 ExecutionSucceeded"
        ]
    );
}

#[test]
fn retry_on_a_map_restarts_it() {
    let def = map(
        json!({"Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}]}),
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "HandleItemFailError", "Cause": "HandleItemFailCause"}}}),
    );
    let out = run(&def, json!([1]));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered M",
            "3 2 MapStateStarted",
            "4 3 MapIterationStarted",
            "5 4 FailStateEntered F",
            "6 5 MapIterationFailed",
            "7 5 MapStateStarted",
            "8 7 MapIterationStarted",
            "9 8 FailStateEntered F",
            "10 9 MapIterationFailed",
            "11 9 MapStateStarted",
            "12 11 MapIterationStarted",
            "13 12 FailStateEntered F",
            "14 13 MapIterationFailed",
            "15 13 MapStateFailed",
            "16 15 ExecutionFailed"
        ]
    );
}

#[test]
fn retry_on_a_map_reruns_the_iterations_with_backoff() {
    let def = map(
        json!({"Retry": [{"ErrorEquals": ["ItemError"], "IntervalSeconds": 1, "MaxAttempts": 2}]}),
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "ItemError", "Cause": "c"}}}),
    );
    let out = run(&def, json!([1]));
    assert_eq!(out.error(), ("ItemError".to_string(), "c".to_string()));
    assert_eq!(times_of(&out, "MapStateStarted"), [0, 1000, 3000]);
    assert_eq!(times_of(&out, "FailStateEntered"), [0, 1000, 3000]);
    assert_eq!(out.types().iter().filter(|t| *t == "MapStateEntered").count(), 1);
}

#[test]
fn an_iteration_task_failure_caught_inside_the_iteration() {
    let def = map(
        json!({}),
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": LAMBDA,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "H"}], "End": true},
            "H": {"Type": "Pass", "End": true}
        }}),
    );
    let out = run_with(
        &def,
        json!([{"i": 0}, {"i": 1}]),
        FnInvoker::new(|req| if req.input["i"] == 1 { fail("E", "one") } else { succeed(json!("fine")) }),
    );
    assert_eq!(out.output(), json!(["fine", {"i": 1, "err": {"Error": "E", "Cause": "one"}}]));
}

// ----- DISTRIBUTED mode: tolerated failures ---------------------------------------------

#[test]
fn tolerated_failure_count_under_the_threshold_succeeds() {
    let def = map(json!({"ToleratedFailureCount": 1}), distributed(failing_on_odd_items()));
    let out = run(&def, json!([{"v": 0}, {"fail": true}, {"v": 2}]));
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(out.output(), json!([0, {"Error": "ItemError", "Cause": "bad item"}, 2]));
}

#[test]
fn tolerated_failure_count_exceeded_fails_the_map() {
    let def = map(json!({"ToleratedFailureCount": 1}), distributed(failing_on_odd_items()));
    let out = run(&def, json!([{"v": 0}, {"fail": true}, {"fail": true}, {"v": 3}]));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.ExceedToleratedFailureThreshold".to_string(),
            "The specified tolerated failure threshold was exceeded".to_string()
        )
    );
}

#[test]
fn tolerated_failure_count_zero_fails_on_the_first_failure() {
    let def = map(json!({"ToleratedFailureCount": 0}), distributed(failing_on_odd_items()));
    let out = run(&def, json!([{"v": 0}, {"fail": true}]));
    assert_eq!(out.error().0, "States.ExceedToleratedFailureThreshold");
}

#[test]
fn tolerated_failure_percentage() {
    let def = map(json!({"ToleratedFailurePercentage": 50}), distributed(failing_on_odd_items()));
    // 2 of 4 = 50 %: tolerated.
    let out = run(&def, json!([{"fail": true}, {"v": 1}, {"fail": true}, {"v": 3}]));
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(
        out.output(),
        json!([
            {"Error": "ItemError", "Cause": "bad item"},
            1,
            {"Error": "ItemError", "Cause": "bad item"},
            3
        ])
    );
    // 3 of 4 = 75 %: not.
    let out = run(&def, json!([{"fail": true}, {"fail": true}, {"fail": true}, {"v": 3}]));
    assert_eq!(out.error().0, "States.ExceedToleratedFailureThreshold");
}

#[test]
fn an_exceeded_threshold_can_be_caught() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ToleratedFailureCount": 0, "ItemProcessor": distributed(failing_on_odd_items()),
              "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "ResultPath": "$.error", "Next": "H"}],
              "ItemsPath": "$.items", "End": true},
        "H": {"Type": "Pass", "End": true}
    }});
    let out = run(&def, json!({"items": [{"fail": true}]}));
    assert_eq!(
        out.output(),
        json!({
            "items": [{"fail": true}],
            "error": {
                "Error": "States.ExceedToleratedFailureThreshold",
                "Cause": "The specified tolerated failure threshold was exceeded"
            }
        })
    );
}

#[test]
fn tolerated_failure_count_path_negative_is_a_runtime_error() {
    let def = map(json!({"ToleratedFailureCountPath": "$.n", "ItemsPath": "$.items"}), distributed(pass_processor()));
    let out = run(&def, json!({"n": -1, "items": [1]}));
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "An error occurred while executing the state 'M' (entered at the event id #2). ToleratedFailureCount cannot be negative.".to_string()
        )
    );
}

#[test]
fn tolerated_failure_percentage_path_out_of_range_is_a_runtime_error() {
    let def =
        map(json!({"ToleratedFailurePercentagePath": "$.p", "ItemsPath": "$.items"}), distributed(pass_processor()));
    let out = run(&def, json!({"p": 101, "items": [1]}));
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "An error occurred while executing the state 'M' (entered at the event id #2). ToleratedFailurePercentage must be between 0 and 100.".to_string()
        )
    );
}

/// A DISTRIBUTED Map runs its items as child runs of the same execution and
/// records them like an inline Map (README, "Behaviour where Step Functions is
/// silent, or where we chose"); AWS records MapRunStarted/MapRunSucceeded and
/// keeps the items' events in separate child executions.
#[test]
fn distributed_map_history() {
    let def = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": distributed(pass_processor()), "Next": "Finish"},
        "Finish": {"Type": "Succeed"}
    }});
    let out = run(&def, json!(["Hello", "World"]));
    assert_eq!(out.output(), json!(["Hello", "World"]));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 MapStateEntered M",
            "3 2 MapStateStarted",
            "4 3 MapIterationStarted",
            "5 4 PassStateEntered P",
            "6 5 PassStateExited P",
            "7 6 MapIterationSucceeded",
            "8 3 MapIterationStarted",
            "9 8 PassStateEntered P",
            "10 9 PassStateExited P",
            "11 10 MapIterationSucceeded",
            "12 11 MapStateSucceeded",
            "13 11 MapStateExited M",
            "14 13 SucceedStateEntered Finish",
            "15 14 SucceedStateExited Finish",
            "16 15 ExecutionSucceeded"
        ]
    );
    assert_eq!(out.event_json(3)["mapStateStartedEventDetails"], json!({"length": 2}));
}

// ----- scale --------------------------------------------------------------------------

#[test]
fn a_thousand_items() {
    let def = map(
        json!({"ItemSelector": {"n.$": "$$.Map.Item.Value"}}),
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, 1)"}, "OutputPath": "$.v", "End": true}}}),
    );
    let items: Vec<i64> = (0..1000).collect();
    let out = run(&def, json!(items));
    let expected: Vec<i64> = (1..=1000).collect();
    assert_eq!(out.output(), json!(expected));
    assert_eq!(out.history.len(), 3 + 1000 * 4 + 3);
    let ids: Vec<u64> = out.history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=4006).collect::<Vec<u64>>());
    assert_eq!(out.event_json(3)["mapStateStartedEventDetails"], json!({"length": 1000}));
}
