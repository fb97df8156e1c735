//! Wait states on the virtual clock (T0 = 2026-01-01T00:00:00Z).

use serde_json::{Value, json};
use switchyard_tests::{T0_MS, run};

fn wait(fields: Value) -> Value {
    let mut state = json!({"Type": "Wait", "End": true});
    for (k, v) in fields.as_object().unwrap() {
        state[k] = v.clone();
    }
    json!({"StartAt": "W", "States": {"W": state}})
}

fn exited_at(out: &switchyard_tests::Outcome) -> i64 {
    let e = out.history.iter().find(|e| e.event.details.type_name() == "WaitStateExited").expect("WaitStateExited");
    e.event.timestamp_ms
}

const PREFIX: &str = "An error occurred while executing the state 'W' (entered at the event id #2). ";

#[test]
fn seconds_waits_that_long() {
    let out = run(&wait(json!({"Seconds": 5})), json!({"a": 1}));
    assert_eq!(out.output(), json!({"a": 1}));
    assert_eq!(exited_at(&out), T0_MS + 5000);
    assert_eq!(
        out.lines(),
        ["1 0 ExecutionStarted", "2 0 WaitStateEntered W", "3 2 WaitStateExited W", "4 3 ExecutionSucceeded"]
    );
    assert_eq!(
        out.timed_types(),
        ["ExecutionStarted +0", "WaitStateEntered +0", "WaitStateExited +5000", "ExecutionSucceeded +5000"]
    );
    assert_eq!(out.record.summary.stop_time_ms, Some(T0_MS + 5000));
}

#[test]
fn seconds_zero_does_not_wait() {
    let out = run(&wait(json!({"Seconds": 0})), json!({}));
    assert_eq!(exited_at(&out), T0_MS);
}

#[test]
fn seconds_path_reads_the_input() {
    let out = run(&wait(json!({"SecondsPath": "$.s"})), json!({"s": 3}));
    assert_eq!(out.output(), json!({"s": 3}));
    assert_eq!(exited_at(&out), T0_MS + 3000);
}

#[test]
fn seconds_path_applies_after_input_path() {
    let def = wait(json!({"InputPath": "$.in", "SecondsPath": "$.s"}));
    let out = run(&def, json!({"in": {"s": 2}, "s": 100}));
    assert_eq!(exited_at(&out), T0_MS + 2000);
    assert_eq!(out.output(), json!({"s": 2}));
}

#[test]
fn timestamp_in_the_future_waits_until_then() {
    let out = run(&wait(json!({"Timestamp": "2026-01-01T00:01:00Z"})), json!({}));
    assert_eq!(exited_at(&out), T0_MS + 60_000);
}

#[test]
fn timestamp_with_an_offset() {
    let out = run(&wait(json!({"Timestamp": "2026-01-01T01:00:05+01:00"})), json!({}));
    assert_eq!(exited_at(&out), T0_MS + 5000);
}

#[test]
fn timestamp_in_the_past_continues_at_once() {
    let out = run(&wait(json!({"Timestamp": "2016-03-14T01:59:00Z"})), json!({"x": 1}));
    assert_eq!(out.output(), json!({"x": 1}));
    assert_eq!(exited_at(&out), T0_MS);
    assert_eq!(out.types(), ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]);
}

#[test]
fn timestamp_path_future_and_past() {
    let def = wait(json!({"TimestampPath": "$.t"}));
    let out = run(&def, json!({"t": "2026-01-01T00:00:42Z"}));
    assert_eq!(exited_at(&out), T0_MS + 42_000);
    let out = run(&def, json!({"t": "2025-12-31T23:59:59Z"}));
    assert_eq!(exited_at(&out), T0_MS);
}

#[test]
fn waits_add_up() {
    let def = json!({"StartAt": "W1", "States": {
        "W1": {"Type": "Wait", "Seconds": 2, "Next": "W2"},
        "W2": {"Type": "Wait", "Seconds": 3, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime"}, "End": true}
    }});
    let out = run(&def, json!({}));
    assert_eq!(out.output(), json!({"at": "2026-01-01T00:00:05.000Z"}));
    assert_eq!(
        out.timed_types(),
        [
            "ExecutionStarted +0",
            "WaitStateEntered +0",
            "WaitStateExited +2000",
            "WaitStateEntered +2000",
            "WaitStateExited +5000",
            "PassStateEntered +5000",
            "PassStateExited +5000",
            "ExecutionSucceeded +5000"
        ]
    );
}

#[test]
fn wait_output_path() {
    let out = run(&wait(json!({"Seconds": 1, "OutputPath": "$.keep"})), json!({"keep": [1], "drop": 2}));
    assert_eq!(out.output(), json!([1]));
}

#[test]
fn negative_seconds_path_is_a_runtime_error() {
    let out = run(&wait(json!({"SecondsPath": "$.x"})), json!({"x": -1}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            format!("{PREFIX}The SecondsPath parameter references a negative value: $.x == -1")
        )
    );
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 WaitStateEntered W", "3 2 ExecutionFailed"]);
}

#[test]
fn fractional_seconds_path_is_a_runtime_error() {
    let out = run(&wait(json!({"SecondsPath": "$.x"})), json!({"x": 1.5}));
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            format!("{PREFIX}The SecondsPath parameter cannot be parsed as a long value: $.x == 1.5")
        )
    );
}

#[test]
fn missing_seconds_path_is_a_runtime_error() {
    let out = run(&wait(json!({"SecondsPath": "$.x"})), json!({}));
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            format!("{PREFIX}The SecondsPath parameter does not reference an input value: $.x")
        )
    );
}

#[test]
fn timestamp_path_without_a_zone_is_a_runtime_error() {
    let out = run(&wait(json!({"TimestampPath": "$.t"})), json!({"t": "2016-12-05T21:29:29"}));
    assert_eq!(out.status(), "FAILED");
    let (error, cause) = out.error();
    assert_eq!(error, "States.Runtime");
    assert_eq!(
        cause,
        format!(
            "{PREFIX}The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.t == \"2016-12-05T21:29:29\""
        )
    );
}

#[test]
fn execution_timeout_during_a_long_wait() {
    let def = json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 3600, "End": true}
    }});
    let out = run(&def, json!({}));
    assert_eq!(out.status(), "TIMED_OUT");
    assert_eq!(
        out.error(),
        ("States.Timeout".to_string(), "The execution ran longer than the state machine's TimeoutSeconds.".to_string())
    );
    assert_eq!(out.timed_types(), ["ExecutionStarted +0", "WaitStateEntered +0", "ExecutionTimedOut +10000"]);
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 WaitStateEntered W", "3 2 ExecutionTimedOut"]);
    assert_eq!(out.describe_json()["status"], "TIMED_OUT");
}

#[test]
fn execution_timeout_not_reached_succeeds() {
    let def = json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 9, "End": true}
    }});
    let out = run(&def, json!({}));
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(out.record.summary.stop_time_ms, Some(T0_MS + 9000));
}
