//! Fail states and how errors end an execution.

use serde_json::{Value, json};
use switchyard_tests::run;

fn fail_state(fields: Value) -> Value {
    let mut state = json!({"Type": "Fail"});
    for (k, v) in fields.as_object().unwrap() {
        state[k] = v.clone();
    }
    json!({"StartAt": "F", "States": {"F": state}})
}

#[test]
fn literal_error_and_cause() {
    let out = run(&fail_state(json!({"Error": "MyError", "Cause": "It went wrong"})), json!({"a": 1}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("MyError".to_string(), "It went wrong".to_string()));
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 FailStateEntered F", "3 2 ExecutionFailed"]);
    assert_eq!(out.event_json(3)["executionFailedEventDetails"], json!({"error": "MyError", "cause": "It went wrong"}));
    let describe = out.describe_json();
    assert_eq!(describe["status"], "FAILED");
    assert_eq!(describe["error"], "MyError");
    assert_eq!(describe["cause"], "It went wrong");
    assert!(describe.get("output").is_none());
}

#[test]
fn error_path_and_cause_path_read_the_input() {
    let out = run(
        &fail_state(json!({"ErrorPath": "$.e", "CausePath": "$.detail.c"})),
        json!({"e": "FromInput", "detail": {"c": "cause from input"}}),
    );
    assert_eq!(out.error(), ("FromInput".to_string(), "cause from input".to_string()));
}

#[test]
fn cause_path_can_be_an_intrinsic_function() {
    let out = run(
        &fail_state(json!({
            "Error": "OrderFailed",
            "CausePath": "States.Format('Order {} failed: {}', $.id, $.reason)"
        })),
        json!({"id": 42, "reason": "out of stock"}),
    );
    assert_eq!(out.error(), ("OrderFailed".to_string(), "Order 42 failed: out of stock".to_string()));
}

#[test]
fn error_path_can_read_the_context_object() {
    let out = run(&fail_state(json!({"ErrorPath": "$$.State.Name", "Cause": "c"})), json!({}));
    assert_eq!(out.error(), ("F".to_string(), "c".to_string()));
}

#[test]
fn missing_error_path_is_a_runtime_error() {
    let out = run(&fail_state(json!({"ErrorPath": "$.ErrorX", "Cause": "c"})), json!({"Error": "E"}));
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "An error occurred while executing the state 'F' (entered at the event id #2). The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{\"Error\":\"E\"}'".to_string()
        )
    );
}

#[test]
fn fail_after_other_states_receives_their_output() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"why": "because"}, "Next": "F"},
        "F": {"Type": "Fail", "Error": "E", "CausePath": "$.why"}
    }});
    let out = run(&def, json!({}));
    assert_eq!(out.error(), ("E".to_string(), "because".to_string()));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 PassStateEntered P",
            "3 2 PassStateExited P",
            "4 3 FailStateEntered F",
            "5 4 ExecutionFailed"
        ]
    );
}

#[test]
fn fail_inside_a_map_iteration_fails_the_execution_with_its_error() {
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map",
        "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "Check", "States": {
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": false, "Next": "F"}], "Default": "Fine"},
            "Fine": {"Type": "Pass", "End": true},
            "F": {"Type": "Fail", "ErrorPath": "$.code", "CausePath": "States.Format('item {} failed', $.id)"}
        }},
        "End": true
    }}});
    let out = run(
        &def,
        json!([
            {"ok": true, "id": 0},
            {"ok": false, "id": 1, "code": "Item.Bad"},
            {"ok": true, "id": 2}
        ]),
    );
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("Item.Bad".to_string(), "item 1 failed".to_string()));
    let types = out.types();
    assert_eq!(
        types[types.len() - 4..],
        ["FailStateEntered", "MapIterationFailed", "MapStateFailed", "ExecutionFailed"]
    );
}

#[test]
fn fail_inside_a_parallel_branch_can_be_caught_by_its_error_name() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "End": true,
              "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Custom.Error", "CausePath": "$.msg"}}}],
              "Catch": [{"ErrorEquals": ["Custom.Error"], "ResultPath": "$.caught", "Next": "H"}]},
        "H": {"Type": "Pass", "End": true}
    }});
    let out = run(&def, json!({"msg": "from branch"}));
    assert_eq!(
        out.output(),
        json!({"msg": "from branch", "caught": {"Error": "Custom.Error", "Cause": "from branch"}})
    );
}

#[test]
fn succeed_state_ends_the_execution_with_its_filtered_input() {
    let def = json!({"StartAt": "S", "States": {
        "S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}
    }});
    let out = run(&def, json!({"a": {"b": [1, 2]}}));
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(out.output(), json!([1, 2]));
    assert_eq!(
        out.lines(),
        ["1 0 ExecutionStarted", "2 0 SucceedStateEntered S", "3 2 SucceedStateExited S", "4 3 ExecutionSucceeded"]
    );
}

#[test]
fn fail_without_error_or_cause_fails_with_neither() {
    let out = run(&fail_state(json!({})), json!({}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 FailStateEntered F", "3 2 ExecutionFailed"]);
}

#[test]
fn fail_without_error_or_cause_records_empty_details() {
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "HandleItemFail", "States": {"HandleItemFail": {"Type": "Fail"}}},
        "End": true
    }}});
    let out = run(&def, json!([1]));
    assert_eq!(
        out.event_json(8),
        json!({
            "timestamp": switchyard_tests::T0_MS as f64 / 1000.0,
            "type": "ExecutionFailed",
            "id": 8,
            "previousEventId": 7,
            "executionFailedEventDetails": {}
        })
    );
}
