//! The context object (`$$`) as states see it.

use serde_json::json;
use switchyard_tests::{fail, run, run_with, seen, sequence, succeed};

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";
const EXECUTION_ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:test-machine:test";
const MACHINE_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:test-machine";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/switchyard-local";

#[test]
fn execution_fields() {
    let def = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": {
        "id.$": "$$.Execution.Id",
        "name.$": "$$.Execution.Name",
        "input.$": "$$.Execution.Input",
        "start.$": "$$.Execution.StartTime",
        "role.$": "$$.Execution.RoleArn",
        "redrives.$": "$$.Execution.RedriveCount",
        "machine.$": "$$.StateMachine.Name",
        "machineId.$": "$$.StateMachine.Id",
        "state.$": "$$.State.Name",
        "entered.$": "$$.State.EnteredTime"
    }, "End": true}}});
    let out = run(&def, json!({"orig": [1, {"x": true}]}));
    assert_eq!(
        out.output(),
        json!({
            "id": EXECUTION_ARN,
            "name": "test",
            "input": {"orig": [1, {"x": true}]},
            "start": "2026-01-01T00:00:00.000Z",
            "role": ROLE_ARN,
            "redrives": 0,
            "machine": "test-machine",
            "machineId": MACHINE_ARN,
            "state": "S",
            "entered": "2026-01-01T00:00:00.000Z"
        })
    );
}

#[test]
fn the_whole_context_object_in_a_pass_state() {
    let def = json!({"StartAt": "Start", "States": {
        "Start": {"Type": "Wait", "Seconds": 2, "Next": "Ctx"},
        "Ctx": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": true}
    }});
    let out = run(&def, json!({"k": "v"}));
    assert_eq!(
        out.output(),
        json!({"ctx": {
            "Execution": {
                "Id": EXECUTION_ARN,
                "Input": {"k": "v"},
                "StartTime": "2026-01-01T00:00:00.000Z",
                "Name": "test",
                "RoleArn": ROLE_ARN,
                "RedriveCount": 0
            },
            "StateMachine": {"Id": MACHINE_ARN, "Name": "test-machine"},
            "State": {"Name": "Ctx", "EnteredTime": "2026-01-01T00:00:02.000Z"}
        }})
    );
}

#[test]
fn entered_time_and_state_name_follow_the_state() {
    let def = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 90, "Next": "A"},
        "A": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime", "name.$": "$$.State.Name", "start.$": "$$.Execution.StartTime"}, "End": true}
    }});
    let out = run(&def, json!({}));
    assert_eq!(
        out.output(),
        json!({"at": "2026-01-01T00:01:30.000Z", "name": "A", "start": "2026-01-01T00:00:00.000Z"})
    );
}

#[test]
fn retry_count_on_a_retried_task() {
    let (invoker, requests) = sequence(vec![fail("E", ""), fail("E", ""), succeed(json!("done"))]);
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": LAMBDA,
        "Parameters": {"retry.$": "$$.State.RetryCount", "entered.$": "$$.State.EnteredTime"},
        "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1}],
        "End": true
    }}});
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.output(), json!("done"));
    let inputs: Vec<_> = seen(&requests).into_iter().map(|r| r.input).collect();
    // EnteredTime stays the time the state was entered, across retries.
    assert_eq!(
        inputs,
        [
            json!({"retry": 0, "entered": "2026-01-01T00:00:00.000Z"}),
            json!({"retry": 1, "entered": "2026-01-01T00:00:00.000Z"}),
            json!({"retry": 2, "entered": "2026-01-01T00:00:00.000Z"})
        ]
    );
}

#[test]
fn task_context_has_retry_count_and_no_token_for_plain_lambda() {
    let (invoker, requests) = sequence(vec![succeed(json!(1))]);
    let def = json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": LAMBDA, "Parameters": {"ctx.$": "$$.State"}, "End": true
    }}});
    run_with(&def, json!({}), invoker);
    assert_eq!(
        seen(&requests)[0].input,
        json!({"ctx": {"Name": "T", "EnteredTime": "2026-01-01T00:00:00.000Z", "RetryCount": 0}})
    );
}

#[test]
fn pass_context_has_no_retry_count() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"r.$": "$$.State.RetryCount"}, "End": true}}});
    let out = run(&def, json!({}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "States.Runtime");
}

#[test]
fn context_inside_a_map_iteration() {
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map",
        "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"StartAt": "Inner", "States": {"Inner": {
            "Type": "Pass",
            "Parameters": {"state.$": "$$.State.Name", "exec.$": "$$.Execution.Input", "mine.$": "$"},
            "End": true
        }}},
        "ItemsPath": "$.items",
        "End": true
    }}});
    let out = run(&def, json!({"items": ["a"]}));
    assert_eq!(out.output(), json!([{"state": "Inner", "exec": {"items": ["a"]}, "mine": {"i": 0, "v": "a"}}]));
}

#[test]
fn input_path_can_be_the_context_object() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$$.Execution", "OutputPath": "$.Name", "End": true}}});
    let out = run(&def, json!({}));
    assert_eq!(out.output(), json!("test"));
}

#[test]
fn map_item_is_absent_outside_a_map() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"i.$": "$$.Map.Item.Index"}, "End": true}}});
    let out = run(&def, json!({}));
    assert_eq!(out.error().0, "States.Runtime");
}
