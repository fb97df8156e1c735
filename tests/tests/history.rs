//! History ids, previousEventId chaining and the GetExecutionHistory shape.

use serde_json::json;
use switchyard_tests::{FnInvoker, T0_MS, run, run_with, succeed};

fn pass_task_choice_succeed() -> serde_json::Value {
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 2}, "ResultPath": "$.cfg", "Next": "Work"},
        "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "f", "Payload.$": "$.cfg"},
                 "ResultSelector": {"doubled.$": "$.Payload"},
                 "ResultPath": "$.result", "Next": "Decide"},
        "Decide": {"Type": "Choice", "Choices": [
            {"Variable": "$.result.doubled", "NumericEquals": 4, "Next": "Done"}
        ]},
        "Done": {"Type": "Succeed"}
    }})
}

fn doubling() -> FnInvoker {
    FnInvoker::new(|req| {
        succeed(json!({"StatusCode": 200, "Payload": req.input["Payload"]["n"].as_i64().unwrap() * 2}))
    })
}

#[test]
fn pass_task_choice_succeed_exact_history() {
    let out = run_with(&pass_task_choice_succeed(), json!({"id": "a"}), doubling());
    assert_eq!(out.output(), json!({"id": "a", "cfg": {"n": 2}, "result": {"doubled": 4}}));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 PassStateEntered Prepare",
            "3 2 PassStateExited Prepare",
            "4 3 TaskStateEntered Work",
            "5 4 TaskScheduled",
            "6 5 TaskStarted",
            "7 6 TaskSucceeded",
            "8 7 TaskStateExited Work",
            "9 8 ChoiceStateEntered Decide",
            "10 9 ChoiceStateExited Decide",
            "11 10 SucceedStateEntered Done",
            "12 11 SucceedStateExited Done",
            "13 12 ExecutionSucceeded"
        ]
    );
}

#[test]
fn get_execution_history_shape() {
    let out = run_with(&pass_task_choice_succeed(), json!({"id": "a"}), doubling());
    let t0 = T0_MS as f64 / 1000.0;
    assert_eq!(
        out.event_json(1),
        json!({
            "timestamp": t0,
            "type": "ExecutionStarted",
            "id": 1,
            "previousEventId": 0,
            "executionStartedEventDetails": {
                "input": "{\"id\":\"a\"}",
                "inputDetails": {"truncated": false},
                "roleArn": "arn:aws:iam::123456789012:role/switchyard-local"
            }
        })
    );
    assert_eq!(
        out.event_json(4),
        json!({
            "timestamp": t0,
            "type": "TaskStateEntered",
            "id": 4,
            "previousEventId": 3,
            "stateEnteredEventDetails": {
                "name": "Work",
                "input": "{\"id\":\"a\",\"cfg\":{\"n\":2}}",
                "inputDetails": {"truncated": false}
            }
        })
    );
    assert_eq!(
        out.event_json(5)["taskScheduledEventDetails"],
        json!({
            "resourceType": "lambda",
            "resource": "invoke",
            "region": "us-east-1",
            "parameters": "{\"FunctionName\":\"f\",\"Payload\":{\"n\":2}}"
        })
    );
    // Events without details have none.
    assert_eq!(
        out.event_json(6),
        json!({
            "timestamp": t0,
            "type": "TaskStarted",
            "id": 6,
            "previousEventId": 5,
            "taskStartedEventDetails": {"resourceType": "lambda", "resource": "invoke"}
        })
    );
    assert_eq!(
        out.event_json(13)["executionSucceededEventDetails"],
        json!({
            "output": "{\"id\":\"a\",\"cfg\":{\"n\":2},\"result\":{\"doubled\":4}}",
            "outputDetails": {"truncated": false}
        })
    );
}

#[test]
fn history_without_execution_data() {
    let out = run_with(&pass_task_choice_succeed(), json!({"id": "a"}), doubling());
    let history = runtime::render::history(&out.history, false, runtime::render::Timestamps::EpochSeconds);
    let events = history["events"].as_array().unwrap();
    assert_eq!(
        events[0]["executionStartedEventDetails"],
        json!({"roleArn": "arn:aws:iam::123456789012:role/switchyard-local"})
    );
    assert_eq!(
        events[4]["taskScheduledEventDetails"],
        json!({"resourceType": "lambda", "resource": "invoke", "region": "us-east-1"})
    );
    assert_eq!(events[1]["stateEnteredEventDetails"], json!({"name": "Prepare"}));
}

#[test]
fn describe_execution_of_a_success() {
    let out = run_with(&pass_task_choice_succeed(), json!({"id": "a"}), doubling());
    assert_eq!(
        out.describe_json(),
        json!({
            "executionArn": "arn:aws:states:us-east-1:123456789012:execution:test-machine:test",
            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:test-machine",
            "name": "test",
            "status": "SUCCEEDED",
            "startDate": T0_MS as f64 / 1000.0,
            "stopDate": T0_MS as f64 / 1000.0,
            "input": "{\"id\":\"a\"}",
            "inputDetails": {"included": true},
            "output": "{\"id\":\"a\",\"cfg\":{\"n\":2},\"result\":{\"doubled\":4}}",
            "outputDetails": {"included": true},
            "redriveCount": 0
        })
    );
}

#[test]
fn ids_are_dense_and_prev_is_the_causal_predecessor() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Wait", "Seconds": 1, "Next": "C"},
        "C": {"Type": "Pass", "End": true}
    }});
    let out = run(&def, json!({}));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 PassStateEntered A",
            "3 2 PassStateExited A",
            "4 3 WaitStateEntered B",
            "5 4 WaitStateExited B",
            "6 5 PassStateEntered C",
            "7 6 PassStateExited C",
            "8 7 ExecutionSucceeded"
        ]
    );
}

#[test]
fn a_state_machine_name_other_than_the_default() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"m.$": "$$.StateMachine.Name", "id.$": "$$.Execution.Id"}, "End": true}}});
    let out = switchyard_tests::run_named("orders", &def, json!({}), runtime::NoInvoker);
    assert_eq!(
        out.output(),
        json!({"m": "orders", "id": "arn:aws:states:us-east-1:123456789012:execution:orders:test"})
    );
}
