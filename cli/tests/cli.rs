//! The `switchyard` binary as a user runs it: exit codes, output streams, messages.

use std::process::{Command, Output};

use serde_json::Value;

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("the binary runs")
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn validate_prints_ok_for_a_valid_definition() {
    let out = switchyard(&["validate", "examples/order-saga.asl.json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "examples/order-saga.asl.json: OK\n");
}

#[test]
fn validate_prints_every_error_with_its_pointer() {
    let dir = std::env::temp_dir().join(format!("switchyard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.asl.json");
    std::fs::write(
        &file,
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}, "B": {"Type": "Succeed"}}}"#,
    )
    .expect("write");
    let out = switchyard(&["validate", file.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next\n\
         UNREACHABLE_STATE: State 'B' is not reachable at /States/B\n"
    );
}

#[test]
fn run_prints_progress_lines_when_piped_and_the_result_as_describe_execution() {
    let out = switchyard(&[
        "run",
        "examples/order-saga.asl.json",
        "--input",
        "@examples/order-saga.input.json",
        "--mocks",
        "examples/order-saga.mocks.json",
        "--test-case",
        "HappyPath",
        "--execution-name",
        "cli-test",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], "[    1] ExecutionStarted");
    assert_eq!(lines[1], "[    2] TaskStateEntered         ValidateOrder");
    assert_eq!(lines.last().copied(), Some("[   28] ExecutionSucceeded"));
    let result = stdout_json(&out);
    assert_eq!(result["status"], "SUCCEEDED");
    assert_eq!(result["executionArn"], "arn:aws:states:us-east-1:123456789012:execution:order-saga:cli-test");
    assert_eq!(
        serde_json::from_str::<Value>(result["output"].as_str().expect("output")).expect("JSON"),
        serde_json::json!({"orderId": "order-1042", "status": "CONFIRMED", "reservationId": "res-9", "paymentId": "pay-31"})
    );
}

#[test]
fn run_exits_1_for_a_failed_execution_and_prints_error_and_cause() {
    let out = switchyard(&[
        "run",
        "examples/order-saga.asl.json",
        "--input",
        "@examples/order-saga.input.json",
        "--mocks",
        "examples/order-saga.mocks.json",
        "--test-case",
        "InvalidOrder",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "--quiet prints no progress");
    let result = stdout_json(&out);
    assert_eq!(result["status"], "FAILED");
    assert_eq!(result["error"], "OrderRejected");
    assert_eq!(result["cause"], "order-1042 has no shipping address");
}

#[test]
fn run_without_mocks_fails_tasks_with_a_message_naming_state_and_resource() {
    let out = switchyard(&["run", "examples/order-saga.asl.json", "--input", "@examples/order-saga.input.json", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let result = stdout_json(&out);
    assert_eq!(result["error"], "States.Runtime");
    assert_eq!(
        result["cause"],
        "No invoker for the Task state 'ValidateOrder' (resource 'arn:aws:states:::lambda:invoke'): give a mock for it (--mocks FILE --test-case NAME) or a task endpoint."
    );
}

#[test]
fn run_with_history_prints_the_history_first() {
    let out = switchyard(&[
        "run",
        "examples/workloads/choice-loop.asl.json",
        "--input",
        r#"{"i": 0, "n": 1}"#,
        "--history",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut docs = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    let history = docs.next().expect("history").expect("JSON");
    let describe = docs.next().expect("describe").expect("JSON");
    let types: Vec<&str> =
        history["events"].as_array().expect("events").iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(describe["output"], r#"{"i":1,"n":1}"#);
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let out = switchyard(&["run", "examples/order-saga.asl.json", "--input", "{not json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --input is not valid JSON: "));
    let out = switchyard(&[
        "run",
        "examples/order-saga.asl.json",
        "--mocks",
        "examples/order-saga.mocks.json",
        "--test-case",
        "NoSuchCase",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: state machine 'order-saga' has no test case 'NoSuchCase' in the mock file (it has: GatewayTimeoutThenCharged, HappyPath, InvalidOrder, PaymentDeclined)\n"
    );
}

/// Wait precision in real time: Step Functions waits to the second; a
/// 2-second Wait ends between 2 and 3 seconds after it started, and a
/// Timestamp in the past goes on at once.
#[test]
fn a_two_second_wait_takes_two_to_three_seconds_of_real_time() {
    let dir = std::env::temp_dir().join(format!("switchyard-wait-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("wait.asl.json");
    std::fs::write(
        &file,
        r#"{"StartAt": "Past", "States": {
            "Past": {"Type": "Wait", "Timestamp": "2001-01-01T00:00:00Z", "Next": "Two"},
            "Two": {"Type": "Wait", "Seconds": 2, "End": true}}}"#,
    )
    .expect("write");
    let out = switchyard(&["run", file.to_str().expect("utf-8 path"), "--history", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    // Two JSON documents: the history, then the execution.
    let mut documents = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    let history = documents.next().expect("history").expect("json");
    let ms = |event: &Value| {
        let t = event["timestamp"].as_str().expect("ISO timestamp");
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .expect("parse")
            .unix_timestamp_nanos()
            / 1_000_000
    };
    let events = history["events"].as_array().expect("events");
    let at = |type_name: &str, name: &str| {
        events
            .iter()
            .find(|e| e["type"] == type_name && e["stateEnteredEventDetails"]["name"].as_str().unwrap_or(name) == name)
            .map(ms)
            .unwrap_or_else(|| panic!("no {type_name} {name}"))
    };
    let past = at("WaitStateEntered", "Past");
    let two = at("WaitStateEntered", "Two");
    let end = at("ExecutionSucceeded", "");
    assert!(two - past < 500, "a past Timestamp waited {} ms", two - past);
    assert!((2000..3000).contains(&(end - two)), "a 2-second Wait took {} ms", end - two);
}

#[test]
fn serve_logs_one_plain_line_per_event_on_stderr_filtered_by_rust_log() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--port", "0"])
        .env("RUST_LOG", "runtime=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut listening = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut listening).expect("first line");
    assert!(listening.starts_with("switchyard serve: listening on "), "stdout keeps the listening line: {listening}");
    // The start-up recovery pass on an empty store logs its end at debug.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = loop {
        match rx.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(line) if line.contains("recovery pass ended") => break line,
            Ok(_) => continue,
            Err(e) => {
                let _ = child.kill();
                panic!("no recovery line on stderr within 10 s: {e}");
            }
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("DEBUG") && line.contains("runtime::recovery"), "{line}");
    assert!(!line.contains('\x1b'), "no colours when stderr is not a terminal: {line:?}");
}
