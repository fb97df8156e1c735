//! Step Functions Local MockConfigFile test cases through `run_mocked`.

use runtime::MockConfig;
use serde_json::{Value, json};
use switchyard_tests::{T0_MS, run_mocked};

const MACHINE: &str = "orders";

fn task_machine(fields: Value) -> Value {
    let mut state = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "End": true
    });
    for (k, v) in fields.as_object().unwrap() {
        state[k] = v.clone();
    }
    json!({"StartAt": "Call", "States": {"Call": state}})
}

fn mocks(case_states: Value, responses: Value) -> Value {
    json!({
        "StateMachines": {MACHINE: {"TestCases": {"Case": case_states}}},
        "MockedResponses": responses
    })
}

#[test]
fn return_answers_the_task() {
    let m =
        mocks(json!({"Call": "Ok"}), json!({"Ok": {"0": {"Return": {"StatusCode": 200, "Payload": {"body": "hi"}}}}}));
    let def = task_machine(json!({"OutputPath": "$.Payload"}));
    let out = run_mocked(MACHINE, &def, json!({}), &m, "Case");
    assert_eq!(out.output(), json!({"body": "hi"}));
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[test]
fn throw_fails_the_task() {
    let m = mocks(
        json!({"Call": "Boom"}),
        json!({"Boom": {"0": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}}}}),
    );
    let out = run_mocked(MACHINE, &task_machine(json!({})), json!({}), &m, "Case");
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("Lambda.TimeoutException".to_string(), "Lambda timed out.".to_string()));
    let failed = out.events_of("TaskFailed");
    assert_eq!(
        failed[0]["taskFailedEventDetails"],
        json!({"resourceType": "lambda", "resource": "invoke", "error": "Lambda.TimeoutException", "cause": "Lambda timed out."})
    );
}

#[test]
fn ranges_answer_successive_attempts_across_retries() {
    let m = mocks(
        json!({"Call": "Flaky"}),
        json!({"Flaky": {
            "0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "first"}},
            "1-2": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "again"}},
            "3": {"Return": {"StatusCode": 200, "Payload": "finally"}}
        }}),
    );
    let def = task_machine(json!({
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 3}],
        "ResultSelector": {"p.$": "$.Payload"}
    }));
    let out = run_mocked(MACHINE, &def, json!({}), &m, "Case");
    assert_eq!(out.output(), json!({"p": "finally"}));
    let errors: Vec<Value> =
        out.events_of("TaskFailed").into_iter().map(|e| e["taskFailedEventDetails"]["error"].clone()).collect();
    assert_eq!(
        errors,
        ["Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.TooManyRequestsException"]
    );
    let scheduled: Vec<i64> = out
        .history
        .iter()
        .filter(|e| e.event.details.type_name() == "TaskScheduled")
        .map(|e| e.event.timestamp_ms - T0_MS)
        .collect();
    assert_eq!(scheduled, [0, 1000, 2000, 3000]);
}

#[test]
fn a_missing_invocation_number_is_a_runtime_error_naming_the_state() {
    let m = mocks(json!({"Call": "Once"}), json!({"Once": {"0": {"Throw": {"Error": "E", "Cause": "c"}}}}));
    let def = task_machine(json!({
        "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]
    }));
    let mut def = def;
    def["States"]["H"] = json!({"Type": "Pass", "End": true});
    let out = run_mocked(MACHINE, &def, json!({}), &m, "Case");
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "The mock for the Task state 'Call' has no response for invocation 1 (invocations count from 0, retries included).".to_string()
        )
    );
}

#[test]
fn a_state_without_a_mock_is_a_runtime_error_naming_state_and_resource() {
    let m = mocks(json!({"Call": "Ok"}), json!({"Ok": {"0": {"Return": 1}}}));
    let def = json!({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"}, "Next": "Other"},
        "Other": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "Parameters": {"QueueUrl": "q", "MessageBody": "m"},
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}], "End": true},
        "H": {"Type": "Pass", "End": true}
    }});
    let out = run_mocked(MACHINE, &def, json!({}), &m, "Case");
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "No invoker for the Task state 'Other' (resource 'arn:aws:states:::sqs:sendMessage'): give a mock for it (--mocks FILE --test-case NAME) or a task endpoint.".to_string()
        )
    );
}

#[test]
fn invocations_are_counted_per_state() {
    let m =
        mocks(json!({"A": "Seq", "B": "Seq"}), json!({"Seq": {"0": {"Return": "first"}, "1": {"Return": "second"}}}));
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:a", "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:b", "ResultPath": "$.b", "End": true}
    }});
    let out = run_mocked(MACHINE, &def, json!({}), &m, "Case");
    assert_eq!(out.output(), json!({"a": "first", "b": "first"}));
}

#[test]
fn map_iterations_share_a_state_counter() {
    let m = mocks(
        json!({"Item": "PerItem"}),
        json!({"PerItem": {"0": {"Return": "r0"}, "1": {"Return": "r1"}, "2": {"Throw": {"Error": "Third", "Cause": "x"}}}}),
    );
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "MaxConcurrency": 1,
        "ItemProcessor": {"StartAt": "Item", "States": {"Item": {
            "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "Catch": [{"ErrorEquals": ["Third"], "Next": "Skip"}], "End": true
        }, "Skip": {"Type": "Pass", "Result": "skipped", "End": true}}},
        "End": true
    }}});
    let out = run_mocked(MACHINE, &def, json!([1, 2, 3]), &m, "Case");
    assert_eq!(out.output(), json!(["r0", "r1", "skipped"]));
}

#[test]
fn mock_file_errors_point_at_the_problem() {
    let e = MockConfig::parse(&json!({
        "StateMachines": {"m": {"TestCases": {"c": {"S": "Missing"}}}},
        "MockedResponses": {}
    }))
    .unwrap_err();
    assert_eq!(e.pointer, "/StateMachines/m/TestCases/c/S");
    assert_eq!(e.message, "no mocked response named 'Missing' in MockedResponses");
    let e = MockConfig::parse(&json!({
        "MockedResponses": {"R": {"0": {"Return": 1, "Throw": {"Error": "E"}}}}
    }))
    .unwrap_err();
    assert_eq!(e.pointer, "/MockedResponses/R/0");
    assert_eq!(e.message, "expected exactly one of 'Return' or 'Throw'");
    let e = MockConfig::parse(&json!({
        "MockedResponses": {"R": {"0-2": {"Return": 1}, "2": {"Return": 2}}}
    }))
    .unwrap_err();
    assert_eq!(e.pointer, "/MockedResponses/R");
    assert_eq!(e.message, "invocation 2 is mocked twice");
    let e = MockConfig::parse(&json!({"MockedResponses": {"R": {"first": {"Return": 1}}}})).unwrap_err();
    assert_eq!(e.pointer, "/MockedResponses/R/first");
}

#[test]
fn unknown_test_case_is_reported() {
    let config = MockConfig::parse(&mocks(json!({}), json!({}))).unwrap();
    assert_eq!(
        config.test_case(MACHINE, "Nope").unwrap_err(),
        "state machine 'orders' has no test case 'Nope' in the mock file (it has: Case)"
    );
    assert_eq!(
        config.test_case("other", "Case").unwrap_err(),
        "the mock file has no state machine 'other' (it has: orders)"
    );
}

#[test]
fn the_example_mock_file_format_from_the_docs() {
    let text = r#"{
      "StateMachines": {"orders": {"TestCases": {"HappyPath": {"Call": "MockedLambdaSuccess"}}}},
      "MockedResponses": {
        "MockedLambdaSuccess": {
          "0": {"Return": {"StatusCode": 200, "Payload": {"StatusCode": 200, "body": "Hello from Lambda!"}}}
        }
      }
    }"#;
    let m: Value = serde_json::from_str(text).unwrap();
    let def = task_machine(json!({"ResultSelector": {"body.$": "$.Payload.body"}}));
    let out = run_mocked(MACHINE, &def, json!({"name": "x"}), &m, "HappyPath");
    assert_eq!(out.output(), json!({"body": "Hello from Lambda!"}));
}
