//! Task states: events per resource kind, Retry (backoff, counters), Catch,
//! TimeoutSeconds and HeartbeatSeconds.

use engine::TaskOutcome;
use serde_json::{Value, json};
use switchyard_tests::{FnInvoker, T0_MS, fail, recording, run_with, seen, sequence, succeed};

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";
const INVOKE: &str = "arn:aws:states:::lambda:invoke";
const CALLBACK: &str = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";

/// A machine: Task `T` with `fields`, plus the Pass states `A`, `B`, `C` it may
/// catch into (each records which one ran in `$.via`).
fn machine(fields: Value) -> Value {
    let mut state = json!({"Type": "Task", "Resource": LAMBDA, "End": true});
    for (k, v) in fields.as_object().unwrap() {
        state[k] = v.clone();
    }
    let text = state.to_string();
    let mut states = json!({"T": state});
    for target in ["A", "B", "C"] {
        if text.contains(&format!("\"{target}\"")) {
            states[target] = json!({"Type": "Pass", "Result": target, "ResultPath": "$.via", "End": true});
        }
    }
    json!({"StartAt": "T", "States": states})
}

fn timestamps_of(out: &switchyard_tests::Outcome, type_name: &str) -> Vec<i64> {
    out.history
        .iter()
        .filter(|e| e.event.details.type_name() == type_name)
        .map(|e| e.event.timestamp_ms - T0_MS)
        .collect()
}

// ----- resource kinds and their events -------------------------------------------------

#[test]
fn lambda_function_arn_records_lambda_function_events() {
    let (invoker, requests) = recording(|req| succeed(json!({"echo": req.input.clone()})));
    let out = run_with(&machine(json!({})), json!({"x": 1}), invoker);
    assert_eq!(out.output(), json!({"echo": {"x": 1}}));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 TaskStateEntered T",
            "3 2 LambdaFunctionScheduled",
            "4 3 LambdaFunctionStarted",
            "5 4 LambdaFunctionSucceeded",
            "6 5 TaskStateExited T",
            "7 6 ExecutionSucceeded"
        ]
    );
    assert_eq!(
        out.event_json(3)["lambdaFunctionScheduledEventDetails"],
        json!({"resource": LAMBDA, "input": "{\"x\":1}", "inputDetails": {"truncated": false}})
    );
    assert_eq!(
        out.event_json(5)["lambdaFunctionSucceededEventDetails"],
        json!({"output": "{\"echo\":{\"x\":1}}", "outputDetails": {"truncated": false}})
    );
    let reqs = seen(&requests);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].resource.arn(), LAMBDA);
    assert_eq!(reqs[0].token, None);
}

#[test]
fn lambda_invoke_integration_records_task_events() {
    let def = machine(json!({
        "Resource": INVOKE,
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "TimeoutSeconds": 30
    }));
    let out = run_with(&def, json!({"k": "v"}), FnInvoker::new(|_| succeed(json!({"StatusCode": 200, "Payload": 1}))));
    assert_eq!(out.output(), json!({"StatusCode": 200, "Payload": 1}));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 TaskStateEntered T",
            "3 2 TaskScheduled",
            "4 3 TaskStarted",
            "5 4 TaskSucceeded",
            "6 5 TaskStateExited T",
            "7 6 ExecutionSucceeded"
        ]
    );
    assert_eq!(
        out.event_json(3)["taskScheduledEventDetails"],
        json!({
            "resourceType": "lambda",
            "resource": "invoke",
            "region": "us-east-1",
            "parameters": "{\"FunctionName\":\"f\",\"Payload\":{\"k\":\"v\"}}",
            "timeoutInSeconds": 30
        })
    );
    assert_eq!(out.event_json(4)["taskStartedEventDetails"], json!({"resourceType": "lambda", "resource": "invoke"}));
    assert_eq!(
        out.event_json(5)["taskSucceededEventDetails"],
        json!({
            "resourceType": "lambda",
            "resource": "invoke",
            "output": "{\"StatusCode\":200,\"Payload\":1}",
            "outputDetails": {"truncated": false}
        })
    );
}

#[test]
fn task_failed_event_details() {
    let def = machine(json!({"Resource": INVOKE, "Parameters": {"FunctionName": "f"}}));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("Boom", "bad")));
    assert_eq!(out.error(), ("Boom".to_string(), "bad".to_string()));
    assert_eq!(
        out.event_json(5),
        json!({
            "timestamp": T0_MS as f64 / 1000.0,
            "type": "TaskFailed",
            "id": 5,
            "previousEventId": 4,
            "taskFailedEventDetails": {"resourceType": "lambda", "resource": "invoke", "error": "Boom", "cause": "bad"}
        })
    );
    assert_eq!(out.event_json(6)["executionFailedEventDetails"], json!({"error": "Boom", "cause": "bad"}));
}

// ----- Retry ----------------------------------------------------------------------------

#[test]
fn retry_after_an_error_then_success_does_not_reenter_the_state() {
    let (invoker, requests) = sequence(vec![fail("E", "first"), succeed(json!("ok"))]);
    let def = machine(json!({"Retry": [{"ErrorEquals": ["E"]}]}));
    let out = run_with(&def, json!({"in": 1}), invoker);
    assert_eq!(out.output(), json!("ok"));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 TaskStateEntered T",
            "3 2 LambdaFunctionScheduled",
            "4 3 LambdaFunctionStarted",
            "5 4 LambdaFunctionFailed",
            "6 5 LambdaFunctionScheduled",
            "7 6 LambdaFunctionStarted",
            "8 7 LambdaFunctionSucceeded",
            "9 8 TaskStateExited T",
            "10 9 ExecutionSucceeded"
        ]
    );
    let reqs = seen(&requests);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].input, json!({"in": 1}));
    assert_eq!(reqs[0].retry_count, 0);
    assert_eq!(reqs[1].retry_count, 1);
}

#[test]
fn retry_on_an_integration_repeats_scheduled_started_failed() {
    let (invoker, _) = sequence(vec![fail("E", "1"), fail("E", "2"), succeed(json!(3))]);
    let def = machine(json!({
        "Resource": INVOKE,
        "Parameters": {"FunctionName": "f"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2}]
    }));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.output(), json!(3));
    assert_eq!(
        out.timed_types(),
        [
            "ExecutionStarted +0",
            "TaskStateEntered +0",
            "TaskScheduled +0",
            "TaskStarted +0",
            "TaskFailed +0",
            "TaskScheduled +2000",
            "TaskStarted +2000",
            "TaskFailed +2000",
            "TaskScheduled +6000",
            "TaskStarted +6000",
            "TaskSucceeded +6000",
            "TaskStateExited +6000",
            "ExecutionSucceeded +6000"
        ]
    );
    let scheduled = out.events_of("TaskScheduled");
    assert_eq!(scheduled.len(), 3);
    for e in &scheduled {
        assert_eq!(e["taskScheduledEventDetails"]["parameters"], "{\"FunctionName\":\"f\"}");
    }
}

#[test]
fn backoff_doubles_and_exhausted_retries_fail_the_execution() {
    let def =
        machine(json!({"Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 3}]}));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("E", "always")));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("E".to_string(), "always".to_string()));
    assert_eq!(timestamps_of(&out, "LambdaFunctionScheduled"), [0, 1000, 3000, 7000]);
    assert_eq!(timestamps_of(&out, "ExecutionFailed"), [7000]);
    // No TaskStateExited when the state fails uncaught.
    assert!(!out.types().contains(&"TaskStateExited".to_string()));
    assert_eq!(out.types().len(), 2 + 4 * 3 + 1);
}

#[test]
fn default_retrier_waits_one_two_four_seconds() {
    let def = machine(json!({"Retry": [{"ErrorEquals": ["States.ALL"]}]}));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("E", "")));
    assert_eq!(timestamps_of(&out, "LambdaFunctionScheduled"), [0, 1000, 3000, 7000]);
}

#[test]
fn max_delay_seconds_caps_the_backoff() {
    let def = machine(json!({"Retry": [{
        "ErrorEquals": ["E"], "IntervalSeconds": 1, "BackoffRate": 3, "MaxAttempts": 4, "MaxDelaySeconds": 5
    }]}));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("E", "")));
    // Delays 1, 3, min(9, 5), min(27, 5).
    assert_eq!(timestamps_of(&out, "LambdaFunctionScheduled"), [0, 1000, 4000, 9000, 14000]);
}

#[test]
fn fractional_backoff_rate() {
    let def = machine(json!({"Retry": [{
        "ErrorEquals": ["E"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxAttempts": 3
    }]}));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("E", "")));
    // Delays 2, 3, 4.5.
    assert_eq!(timestamps_of(&out, "LambdaFunctionScheduled"), [0, 2000, 5000, 9500]);
}

#[test]
fn full_jitter_never_waits_longer_than_the_interval() {
    let def = machine(json!({"Retry": [{
        "ErrorEquals": ["E"], "IntervalSeconds": 10, "BackoffRate": 1, "MaxAttempts": 5, "JitterStrategy": "FULL"
    }]}));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("E", "")));
    let times = timestamps_of(&out, "LambdaFunctionScheduled");
    assert_eq!(times.len(), 6);
    let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|g| (0..=10_000).contains(g)), "{gaps:?}");
    assert!(gaps.iter().any(|g| *g != 10_000), "jitter changed nothing: {gaps:?}");
}

#[test]
fn max_attempts_zero_never_retries() {
    let (invoker, requests) = sequence(vec![fail("E", "x"), succeed(json!(1))]);
    let def = machine(json!({
        "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A"}]
    }));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(seen(&requests).len(), 1);
    assert_eq!(out.output(), json!({"Error": "E", "Cause": "x", "via": "A"}));
}

#[test]
fn retriers_keep_their_own_counters() {
    // The developer guide's example: ErrorA, ErrorB, ErrorC, ErrorB.
    let (invoker, requests) = sequence(vec![
        fail("ErrorA", "1"),
        fail("ErrorB", "2"),
        fail("ErrorC", "3"),
        fail("ErrorB", "4"),
        succeed(json!("never")),
    ]);
    let def = machine(json!({
        "Retry": [
            {"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 2},
            {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5}
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A"}]
    }));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(seen(&requests).len(), 4);
    assert_eq!(timestamps_of(&out, "LambdaFunctionScheduled"), [0, 1000, 3000, 8000]);
    assert_eq!(out.output(), json!({"Error": "ErrorB", "Cause": "4", "via": "A"}));
    assert_eq!(timestamps_of(&out, "TaskStateExited"), [8000]);
}

#[test]
fn second_retrier_has_its_own_backoff_sequence() {
    let (invoker, _) =
        sequence(vec![fail("ErrorC", "1"), fail("ErrorA", "2"), fail("ErrorC", "3"), succeed(json!("ok"))]);
    let def = machine(json!({
        "Retry": [
            {"ErrorEquals": ["ErrorA"], "IntervalSeconds": 1, "MaxAttempts": 2},
            {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5, "BackoffRate": 2}
        ]
    }));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.output(), json!("ok"));
    // C waits 5, A waits 1 (its first), C waits 10 (its second).
    assert_eq!(timestamps_of(&out, "LambdaFunctionScheduled"), [0, 5000, 6000, 16000]);
}

#[test]
fn an_exhausted_retrier_goes_to_catch_not_to_a_later_retrier() {
    let (invoker, requests) = sequence(vec![fail("E", "a"), fail("E", "b"), succeed(json!(1))]);
    let def = machine(json!({
        "Retry": [
            {"ErrorEquals": ["E"], "MaxAttempts": 1},
            {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}
        ],
        "Catch": [{"ErrorEquals": ["E"], "Next": "B"}]
    }));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(seen(&requests).len(), 2);
    assert_eq!(out.output(), json!({"Error": "E", "Cause": "b", "via": "B"}));
}

#[test]
fn retry_counters_reset_when_the_state_is_entered_again() {
    let (invoker, requests) =
        sequence(vec![fail("E", "1"), succeed(json!({"n": 1})), fail("E", "2"), succeed(json!({"n": 2}))]);
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1}], "Next": "Again"},
        "Again": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 2, "Next": "T"}], "Default": "Done"},
        "Done": {"Type": "Succeed"}
    }});
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(out.output(), json!({"n": 2}));
    let reqs = seen(&requests);
    assert_eq!(reqs.iter().map(|r| r.retry_count).collect::<Vec<_>>(), [0, 1, 0, 1]);
}

#[test]
fn retry_and_catch_of_result_path_match_failure_keep_the_raw_input() {
    let (invoker, requests) = recording(|_| succeed(json!(1)));
    let def = machine(json!({
        "ResultPath": "$.a.b",
        "Retry": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "MaxAttempts": 1}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "A"}]
    }));
    let out = run_with(&def, json!({"a": 5}), invoker);
    let reqs = seen(&requests);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].input, json!({"a": 5}));
    let output = out.output();
    assert_eq!(output["a"], 5);
    assert_eq!(output["err"]["Error"], "States.ResultPathMatchFailure");
}

#[test]
fn retry_of_result_path_match_failure_without_catch_keeps_the_input() {
    let (invoker, requests) = recording(|_| succeed(json!(1)));
    let def = machine(json!({
        "ResultPath": "$.a.b",
        "Retry": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "MaxAttempts": 1}]
    }));
    let out = run_with(&def, json!({"a": 5}), invoker);
    let reqs = seen(&requests);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].input, json!({"a": 5}));
    assert_eq!(out.error().0, "States.ResultPathMatchFailure");
    assert_eq!(
        out.error().1,
        "An error occurred while executing the state 'T' (entered at the event id #2). Unable to apply ReferencePath $.a.b to input {\"a\":5}"
    );
}

// ----- Catch ----------------------------------------------------------------------------

#[test]
fn catch_with_result_path_merges_the_error_into_the_raw_input() {
    let def = machine(json!({
        "InputPath": "$.inner",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "A"}]
    }));
    let out = run_with(&def, json!({"inner": {"v": 1}, "outer": true}), FnInvoker::new(|_| fail("Oops", "went wrong")));
    assert_eq!(
        out.output(),
        json!({
            "inner": {"v": 1},
            "outer": true,
            "error": {"Error": "Oops", "Cause": "went wrong"},
            "via": "A"
        })
    );
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 TaskStateEntered T",
            "3 2 LambdaFunctionScheduled",
            "4 3 LambdaFunctionStarted",
            "5 4 LambdaFunctionFailed",
            "6 5 TaskStateExited T",
            "7 6 PassStateEntered A",
            "8 7 PassStateExited A",
            "9 8 ExecutionSucceeded"
        ]
    );
    assert_eq!(
        out.event_json(6)["stateExitedEventDetails"]["output"],
        "{\"inner\":{\"v\":1},\"outer\":true,\"error\":{\"Error\":\"Oops\",\"Cause\":\"went wrong\"}}"
    );
}

#[test]
fn catch_without_result_path_outputs_the_error_object() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z"}], "End": true},
        "Z": {"Type": "Pass", "End": true}
    }});
    let out = run_with(&def, json!({"x": 1}), FnInvoker::new(|_| fail("E", "c")));
    assert_eq!(out.output(), json!({"Error": "E", "Cause": "c"}));
}

#[test]
fn catch_with_null_result_path_keeps_the_input() {
    let def = machine(json!({"Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": null, "Next": "A"}]}));
    let out = run_with(&def, json!({"x": 1}), FnInvoker::new(|_| fail("E", "c")));
    assert_eq!(out.output(), json!({"x": 1, "via": "A"}));
}

#[test]
fn the_first_matching_catcher_wins() {
    let def = machine(json!({"Catch": [
        {"ErrorEquals": ["Other"], "Next": "A"},
        {"ErrorEquals": ["E", "Another"], "Next": "B"},
        {"ErrorEquals": ["States.ALL"], "Next": "C"}
    ]}));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("E", "")));
    assert_eq!(out.output()["via"], "B");
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("Other", "")));
    assert_eq!(out.output()["via"], "A");
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("Unknown", "")));
    assert_eq!(out.output()["via"], "C");
}

#[test]
fn error_names_match_exactly() {
    let def = machine(
        json!({"Catch": [{"ErrorEquals": ["error"], "Next": "A"}, {"ErrorEquals": ["States.TaskFailed"], "Next": "B"}]}),
    );
    let out = run_with(&def, json!({}), FnInvoker::new(|_| fail("Error", "")));
    assert_eq!(out.output()["via"], "B");
}

#[test]
fn a_terminal_runtime_error_from_the_task_is_never_caught_or_retried() {
    let (invoker, requests) = recording(|_| fail("States.Runtime", "bad"));
    let def = machine(json!({
        "Retry": [{"ErrorEquals": ["States.ALL"]}],
        "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "A"}, {"ErrorEquals": ["States.ALL"], "Next": "B"}]
    }));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(seen(&requests).len(), 1);
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("States.Runtime".to_string(), "bad".to_string()));
}

#[test]
fn a_parameters_runtime_error_is_not_caught() {
    let def = machine(json!({
        "Parameters": {"v.$": "$.missing"},
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A"}]
    }));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| succeed(json!(1))));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "States.Runtime");
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 TaskStateEntered T", "3 2 ExecutionFailed"]);
}

#[test]
fn an_oversized_task_result_is_terminal() {
    let big = "x".repeat(300_000);
    let def = machine(json!({
        "Retry": [{"ErrorEquals": ["States.ALL"]}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "A"}]
    }));
    let (invoker, requests) = recording(move |_| succeed(json!(big.clone())));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(seen(&requests).len(), 1);
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.DataLimitExceeded".to_string(),
            "The state/task 'T' returned a result with a size exceeding the maximum number of bytes service limit."
                .to_string()
        )
    );
}

// ----- timeouts -------------------------------------------------------------------------

fn callback_machine(fields: Value) -> Value {
    let mut fields = fields;
    fields["Resource"] = json!(CALLBACK);
    if fields.get("Parameters").is_none() {
        fields["Parameters"] = json!({"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}});
    }
    machine(fields)
}

fn submitted() -> FnInvoker {
    FnInvoker::new(|_| TaskOutcome::Submitted(json!({"MessageId": "m-1"})))
}

#[test]
fn timeout_seconds_times_a_callback_task_out() {
    let def = callback_machine(json!({"TimeoutSeconds": 5}));
    let out = run_with(&def, json!({}), submitted());
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "States.Timeout");
    assert_eq!(
        out.timed_types(),
        [
            "ExecutionStarted +0",
            "TaskStateEntered +0",
            "TaskScheduled +0",
            "TaskStarted +0",
            "TaskSubmitted +0",
            "TaskTimedOut +5000",
            "ExecutionFailed +5000"
        ]
    );
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 TaskStateEntered T",
            "3 2 TaskScheduled",
            "4 3 TaskStarted",
            "5 4 TaskSubmitted",
            "6 5 TaskTimedOut",
            "7 6 ExecutionFailed"
        ]
    );
    let timed_out = out.event_json(6)["taskTimedOutEventDetails"].clone();
    assert_eq!(timed_out["resourceType"], "sqs");
    assert_eq!(timed_out["resource"], "sendMessage.waitForTaskToken");
    assert_eq!(timed_out["error"], "States.Timeout");
    assert_eq!(out.event_json(5)["taskSubmittedEventDetails"]["output"], "{\"MessageId\":\"m-1\"}");
    assert_eq!(out.event_json(3)["taskScheduledEventDetails"]["timeoutInSeconds"], 5);
}

#[test]
fn timeout_seconds_path() {
    let def = callback_machine(json!({"TimeoutSecondsPath": "$.t"}));
    let out = run_with(&def, json!({"t": 7}), submitted());
    assert_eq!(timestamps_of(&out, "TaskTimedOut"), [7000]);
}

#[test]
fn timeout_seconds_path_missing_is_a_runtime_error() {
    let def = callback_machine(json!({"TimeoutSecondsPath": "$.t"}));
    let out = run_with(&def, json!({}), submitted());
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "An error occurred while executing the state 'T' (entered at the event id #2). Invalid path '$.t' : No results for path: $['t']".to_string()
        )
    );
}

#[test]
fn task_failed_does_not_match_a_timeout() {
    let def = callback_machine(json!({
        "TimeoutSeconds": 5,
        "Catch": [
            {"ErrorEquals": ["States.TaskFailed"], "Next": "A"},
            {"ErrorEquals": ["States.Timeout"], "Next": "B"}
        ]
    }));
    let out = run_with(&def, json!({}), submitted());
    assert_eq!(out.output()["via"], "B");
    assert_eq!(out.output()["Error"], "States.Timeout");
}

#[test]
fn task_failed_alone_leaves_a_timeout_uncaught() {
    let def = callback_machine(json!({
        "TimeoutSeconds": 5,
        "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "A"}]
    }));
    let out = run_with(&def, json!({}), submitted());
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "States.Timeout");
}

#[test]
fn a_timed_out_attempt_is_retried() {
    let (invoker, requests) = sequence(vec![TaskOutcome::Submitted(json!({})), succeed(json!({"late": false}))]);
    let def = callback_machine(json!({
        "TimeoutSeconds": 5,
        "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 2}]
    }));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.output(), json!({"late": false}));
    assert_eq!(
        out.timed_types(),
        [
            "ExecutionStarted +0",
            "TaskStateEntered +0",
            "TaskScheduled +0",
            "TaskStarted +0",
            "TaskSubmitted +0",
            "TaskTimedOut +5000",
            "TaskScheduled +7000",
            "TaskStarted +7000",
            "TaskSucceeded +7000",
            "TaskStateExited +7000",
            "ExecutionSucceeded +7000"
        ]
    );
    let reqs = seen(&requests);
    // A new token per attempt.
    assert_ne!(reqs[0].token, reqs[1].token);
}

#[test]
fn heartbeat_timeout_is_caught_as_heartbeat_timeout_and_recorded_as_timeout() {
    let def = callback_machine(json!({
        "TimeoutSeconds": 100,
        "HeartbeatSeconds": 3,
        "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.err", "Next": "A"}]
    }));
    let out = run_with(&def, json!({"x": 1}), submitted());
    assert_eq!(out.status(), "SUCCEEDED");
    let output = out.output();
    assert_eq!(output["x"], 1);
    assert_eq!(output["via"], "A");
    assert_eq!(output["err"]["Error"], "States.Timeout");
    assert_eq!(timestamps_of(&out, "TaskTimedOut"), [3000]);
    let timed_out = out.events_of("TaskTimedOut");
    assert_eq!(timed_out[0]["taskTimedOutEventDetails"]["error"], "States.Timeout");
    let scheduled = out.event_json(3)["taskScheduledEventDetails"].clone();
    assert_eq!(scheduled["timeoutInSeconds"], 100);
    assert_eq!(scheduled["heartbeatInSeconds"], 3);
}

#[test]
fn heartbeat_timeout_is_also_matched_by_states_timeout() {
    let def = callback_machine(json!({
        "HeartbeatSeconds": 3,
        "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "A"}]
    }));
    let out = run_with(&def, json!({}), submitted());
    assert_eq!(out.output()["via"], "A");
}

#[test]
fn a_task_timeout_is_not_a_heartbeat_timeout() {
    let def = callback_machine(json!({
        "TimeoutSeconds": 4,
        "HeartbeatSeconds": 3,
        "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "A"}, {"ErrorEquals": ["States.ALL"], "Next": "B"}]
    }));
    // The heartbeat (3 s) expires first.
    let out = run_with(&def, json!({}), submitted());
    assert_eq!(out.output()["via"], "A");
    let def = callback_machine(json!({
        "TimeoutSeconds": 4,
        "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "A"}, {"ErrorEquals": ["States.ALL"], "Next": "B"}]
    }));
    let out = run_with(&def, json!({}), submitted());
    assert_eq!(out.output()["via"], "B");
    assert_eq!(timestamps_of(&out, "TaskTimedOut"), [4000]);
}

#[test]
fn wait_for_task_token_puts_a_token_in_the_parameters() {
    let (invoker, requests) =
        recording(|req| succeed(json!({"token_seen": req.input["MessageBody"]["token"].clone()})));
    let def = callback_machine(json!({}));
    let out = run_with(&def, json!({}), invoker);
    let reqs = seen(&requests);
    let token = reqs[0].token.clone().expect("a task token");
    let (_, secret) = token.split_once('.').expect("route.secret");
    assert_eq!(secret.len(), 32);
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    let route = engine::token::decode(&token).expect("a token of ours");
    assert_eq!(route.execution_arn, out.record.info.execution_arn);
    assert_eq!(route.run, engine::RunId::root());
    assert_eq!(route.task_id, reqs[0].task_id);
    assert_eq!(reqs[0].input["MessageBody"]["token"], json!(token));
    assert_eq!(out.output(), json!({"token_seen": token}));
    let parameters = out.event_json(3)["taskScheduledEventDetails"]["parameters"].clone();
    let parameters: Value = serde_json::from_str(parameters.as_str().unwrap()).unwrap();
    assert_eq!(parameters, json!({"QueueUrl": "q", "MessageBody": {"token": token}}));
    assert_eq!(out.event_json(3)["taskScheduledEventDetails"]["resource"], "sendMessage.waitForTaskToken");
}

#[test]
fn task_token_is_absent_for_request_response_tasks() {
    let def = machine(json!({"Resource": INVOKE, "Parameters": {"t.$": "$$.Task.Token"}}));
    let out = run_with(&def, json!({}), FnInvoker::new(|_| succeed(json!(1))));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "States.Runtime");
}

#[test]
fn a_callback_failure_is_caught() {
    let def = callback_machine(json!({"Catch": [{"ErrorEquals": ["Rejected"], "Next": "A"}]}));
    let (invoker, _) = sequence(vec![fail("Rejected", "no")]);
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.output(), json!({"Error": "Rejected", "Cause": "no", "via": "A"}));
}

/// A task is submitted once: a second submission of the same attempt (a
/// redelivered invocation run again) is rejected, not recorded twice.
#[test]
fn a_second_submission_of_one_attempt_is_rejected() {
    let def = switchyard_tests::definition(&callback_machine(json!({})));
    let info = runtime::local_execution_info("m", "e", json!({}), T0_MS);
    let mut entropy = runtime::SeededEntropy::new(1);
    let mut ctx = engine::Ctx { now_ms: T0_MS, entropy: &mut entropy };
    let started = engine::start_execution(&def, &info, &mut ctx);
    let engine::Phase::Task { task_id, .. } = started.run.cursor.phase.clone() else {
        panic!("the task runs: {:?}", started.run.cursor.phase)
    };
    let submitted = || engine::Event::TaskResult { task_id, outcome: TaskOutcome::Submitted(json!({})) };
    let first = engine::step(&def, &info, started.run, submitted(), &mut ctx).expect("the first submission");
    let types: Vec<String> = first.history.iter().map(|e| e.details.type_name()).collect();
    assert_eq!(types, ["TaskStarted", "TaskSubmitted"]);
    let again = engine::step(&def, &info, first.run, submitted(), &mut ctx).expect_err("a second submission");
    assert_eq!(again.reason, engine::Rejected::Stale("the task was already submitted"));
}
