//! The client subcommands (`start`, `describe`, `history`, `list`, `stop`,
//! `send-success`, `send-failure`) against a real `switchyard serve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ROLE: &str = "arn:aws:iam::123456789012:role/switchyard";

/// A Pass state, then a task that waits for its token (serve parks it until a callback).
const DEFINITION: &str = r#"{
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.prepared", "Next": "Approve"},
    "Approve": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
      "End": true
    }
  }
}"#;

/// `switchyard serve --port 0`, killed when dropped.
struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// `http://127.0.0.1:PORT`.
    url: String,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("serve prints its address");
        let url = line
            .trim()
            .strip_prefix("switchyard serve: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Server { child, _stdout: stdout, url }
    }

    /// A raw HTTP POST of one API action (not through the CLI under test).
    fn post(&self, action: &str, body: &Value) -> Value {
        let address = self.url.strip_prefix("http://").expect("http URL");
        let mut stream = TcpStream::connect(address).expect("connect");
        let body = body.to_string();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-amz-json-1.0\r\n\
             X-Amz-Target: AWSStepFunctions.{action}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.1 200 "), "{action} answered {answer}");
        serde_json::from_str(body).expect("JSON")
    }

    /// Creates the waiting state machine under `name`; returns its ARN.
    fn create_machine(&self, name: &str) -> String {
        let answer = self.post("CreateStateMachine", &json!({"name": name, "definition": DEFINITION, "roleArn": ROLE}));
        answer["stateMachineArn"].as_str().expect("stateMachineArn").to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .env_remove("SWITCHYARD_ENDPOINT")
        .output()
        .expect("the binary runs")
}

/// Runs a client subcommand that must succeed; returns its stdout as JSON.
fn ok(args: &[&str]) -> Value {
    let out = switchyard(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{args:?} printed {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn event_types(history: &Value) -> Vec<String> {
    history["events"].as_array().expect("events").iter().map(|e| e["type"].as_str().expect("type").into()).collect()
}

/// Polls `history` until the task waits for its token; returns the token.
fn wait_for_token(server: &Server, execution: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let history = ok(&["history", "--endpoint", &server.url, execution]);
        let events = history["events"].as_array().expect("events");
        if events.iter().any(|e| e["type"] == "TaskSubmitted") {
            let scheduled = events.iter().find(|e| e["type"] == "TaskScheduled").expect("TaskScheduled");
            let parameters = scheduled["taskScheduledEventDetails"]["parameters"].as_str().expect("parameters");
            let parameters: Value = serde_json::from_str(parameters).expect("parameters are JSON");
            return parameters["Payload"]["token"].as_str().expect("Payload.token").to_string();
        }
        assert!(Instant::now() < deadline, "the task never waited: {history}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `describe` until the execution leaves RUNNING.
fn wait_until_closed(server: &Server, execution: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let describe = ok(&["describe", "--endpoint", &server.url, execution]);
        if describe["status"] != "RUNNING" {
            return describe;
        }
        assert!(Instant::now() < deadline, "the execution never closed: {describe}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn start_describe_history_send_success_and_list_drive_a_callback_flow() {
    let server = Server::start();
    let machine = server.create_machine("approval");
    let url = server.url.as_str();

    let started =
        ok(&["start", "--endpoint", url, "--state-machine", &machine, "--name", "first", "--input", r#"{"order": 7}"#]);
    let execution = "arn:aws:states:us-east-1:123456789012:execution:approval:first";
    assert_eq!(started["executionArn"], execution);
    assert!(started["startDate"].is_number(), "{started}");

    let described = ok(&["describe", "--endpoint", url, execution]);
    assert_eq!(described["status"], "RUNNING");
    assert_eq!(described["input"], r#"{"order":7}"#);

    let token = wait_for_token(&server, execution);
    let history = ok(&["history", "--endpoint", url, execution]);
    assert_eq!(
        event_types(&history),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted"
        ]
    );
    // Pages of two events are followed to the same history; --reverse turns it around.
    assert_eq!(ok(&["history", "--endpoint", url, execution, "--page-size", "2"]), history);
    let mut reversed = event_types(&history);
    reversed.reverse();
    assert_eq!(event_types(&ok(&["history", "--endpoint", url, execution, "--reverse", "--page-size", "3"])), reversed);

    assert_eq!(ok(&["send-success", "--endpoint", url, "--token", &token, "--output", r#"{"ok":true}"#]), json!({}));
    let described = wait_until_closed(&server, execution);
    assert_eq!(described["status"], "SUCCEEDED");
    assert_eq!(described["output"], r#"{"ok":true}"#);
    let history = ok(&["history", "--endpoint", url, execution]);
    assert_eq!(
        event_types(&history)[7..],
        ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"].map(String::from)
    );

    let listed = ok(&["list", "--endpoint", url, "--state-machine", &machine, "--status", "SUCCEEDED"]);
    let arns: Vec<&str> = listed["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .map(|e| e["executionArn"].as_str().expect("arn"))
        .collect();
    assert_eq!(arns, [execution]);
    let running = ok(&["list", "--endpoint", url, "--state-machine", &machine, "--status", "RUNNING"]);
    assert_eq!(running, json!({"executions": []}));
}

#[test]
fn stop_aborts_and_send_failure_fails_with_the_given_error_and_cause() {
    let server = Server::start();
    let machine = server.create_machine("approval");
    let url = server.url.as_str();

    let second = "arn:aws:states:us-east-1:123456789012:execution:approval:second";
    ok(&["start", "--endpoint", url, "--state-machine", &machine, "--name", "second"]);
    let stopped = ok(&["stop", "--endpoint", url, second, "--error", "E", "--cause", "C"]);
    assert!(stopped["stopDate"].is_number(), "{stopped}");
    let described = ok(&["describe", "--endpoint", url, second]);
    assert_eq!(described["status"], "ABORTED");
    assert_eq!(described["error"], "E");
    assert_eq!(described["cause"], "C");

    let third = "arn:aws:states:us-east-1:123456789012:execution:approval:third";
    // The endpoint may come from the environment.
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["start", "--state-machine", &machine, "--name", "third", "--input", "{}"])
        .env("SWITCHYARD_ENDPOINT", url)
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let token = wait_for_token(&server, third);
    let answer =
        ok(&["send-failure", "--endpoint", url, "--token", &token, "--error", "Rejected", "--cause", "not approved"]);
    assert_eq!(answer, json!({}));
    let described = wait_until_closed(&server, third);
    assert_eq!(described["status"], "FAILED");
    assert_eq!(described["error"], "Rejected");
    assert_eq!(described["cause"], "not approved");

    let listed = ok(&["list", "--endpoint", url, "--state-machine", &machine, "--page-size", "1"]);
    let mut arns: Vec<&str> = listed["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .map(|e| e["executionArn"].as_str().expect("arn"))
        .collect();
    arns.sort();
    assert_eq!(arns, [second, third]);
}

#[test]
fn api_errors_exit_1_with_type_and_message() {
    let server = Server::start();
    let missing = "arn:aws:states:us-east-1:123456789012:execution:approval:missing";
    let out = switchyard(&["describe", "--endpoint", &server.url, missing]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("error: ExecutionDoesNotExist: Execution Does Not Exist: '{missing}'\n")
    );
    let out = switchyard(&["send-success", "--endpoint", &server.url, "--token", "nope", "--output", "{}"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: InvalidToken: "));
}

#[test]
fn usage_and_transport_errors_exit_2() {
    // Bad JSON is refused before any request.
    let out = switchyard(&["send-success", "--endpoint", "http://127.0.0.1:9", "--token", "t", "--output", "{nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: --output is not valid JSON: "));

    let out = switchyard(&["describe", "arn:aws:states:us-east-1:123456789012:execution:m:e"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--endpoint <ENDPOINT>"));

    let out = switchyard(&["describe", "--endpoint", "127.0.0.1:8083", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --endpoint \"127.0.0.1:8083\" must start with http:// or https://\n"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let out = switchyard(&["describe", "--endpoint", &format!("http://{closed}"), "x"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with(&format!("error: cannot reach http://{closed}/: ")), "{stderr}");
}
