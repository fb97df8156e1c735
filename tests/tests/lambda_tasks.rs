//! Task states invoking real Lambda functions through the Lambda task invoker:
//! the test function `tests/functions/task-probe`, served by `cargo lambda
//! watch` (`SWITCHYARD_LAMBDA_ENDPOINT`, set by scripts/test.sh, or started
//! here through scripts/cargo-lambda.sh). The functions really run, so the
//! clock is the real one: retry intervals and timeouts take their time.

use std::sync::{Arc, OnceLock};

use aws_adapters::LambdaInvoker;
use runtime::{Clock, LocalRuntime, MemoryStateStore, SeededEntropy, StateStore};
use serde_json::{Value, json};
use switchyard_tests::{Outcome, definition};

const PROBE: &str = "arn:aws:lambda:us-east-1:123456789012:function:task-probe";

/// The endpoint of `cargo lambda watch` serving task-probe.
fn endpoint() -> String {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| {
            switchyard_tests::local_service("SWITCHYARD_LAMBDA_ENDPOINT", "cargo-lambda.sh", "cargo lambda watch")
        })
        .clone()
}

/// Runs `def` on `input` with the Lambda invoker, on the real clock.
fn run(def: &Value, input: Value) -> Outcome {
    let endpoint = endpoint();
    let parsed = Arc::new(definition(def));
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    tokio.block_on(async move {
        let invoker = LambdaInvoker::for_endpoint(&endpoint).await;
        let store = Arc::new(MemoryStateStore::new());
        let clock = Clock::Real;
        let now = clock.now_ms();
        let mut rt = LocalRuntime::new(store.clone(), Arc::new(invoker), clock, Box::new(SeededEntropy::new(7)));
        let info = runtime::local_execution_info("lambda-tasks", "test", input, now);
        let arn = info.execution_arn.clone();
        rt.start(info, parsed, def.to_string()).await.expect("start");
        let record = rt.run_until_closed(&arn).await.expect("run");
        let history = store.history(&arn).await.expect("history");
        Outcome { record, history }
    })
}

fn one_task(task: Value) -> Value {
    json!({"StartAt": "Call", "States": {"Call": task}})
}

#[test]
fn a_function_arn_returns_the_payload() {
    let def = one_task(json!({"Type": "Task", "Resource": PROBE, "End": true}));
    let out = run(&def, json!({"mode": "echo", "n": [1, 2], "s": "x"}));
    assert_eq!(out.status(), "SUCCEEDED", "{:?}", out.error());
    assert_eq!(out.output(), json!({"echo": {"mode": "echo", "n": [1, 2], "s": "x"}}));
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let succeeded = &out.events_of("LambdaFunctionSucceeded")[0];
    assert_eq!(
        succeeded["lambdaFunctionSucceededEventDetails"]["output"],
        r#"{"echo":{"mode":"echo","n":[1,2],"s":"x"}}"#
    );
}

#[test]
fn lambda_invoke_returns_the_invoke_response() {
    for function in ["task-probe", PROBE] {
        let def = one_task(json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": function, "Payload.$": "$"},
            "End": true
        }));
        let out = run(&def, json!({"mode": "echo", "k": true}));
        assert_eq!(out.status(), "SUCCEEDED", "{:?}", out.error());
        let output = out.output();
        assert_eq!(output["Payload"], json!({"echo": {"mode": "echo", "k": true}}));
        assert_eq!(output["StatusCode"], 200);
        assert_eq!(output["ExecutedVersion"], "$LATEST");
        let members: Vec<&str> = output.as_object().expect("an object").keys().map(String::as_str).collect();
        assert_eq!(members, ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]);
        let request_id = output["SdkResponseMetadata"]["RequestId"].as_str().expect("a request id");
        assert_eq!(output["SdkHttpMetadata"]["HttpStatusCode"], 200);
        assert_eq!(output["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"], request_id);
        assert_eq!(output["SdkHttpMetadata"]["AllHttpHeaders"]["X-Amz-Executed-Version"], json!(["$LATEST"]));
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
}

#[test]
fn a_function_error_is_caught_by_its_error_type() {
    let def = json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": PROBE,
                "Catch": [
                    {"ErrorEquals": ["OtherError"], "Next": "Wrong"},
                    {"ErrorEquals": ["CustomError"], "ResultPath": "$.error", "Next": "Caught"}
                ],
                "Next": "Wrong"
            },
            "Wrong": {"Type": "Fail", "Error": "Wrong"},
            "Caught": {"Type": "Pass", "End": true}
        }
    });
    let out = run(&def, json!({"mode": "fail"}));
    assert_eq!(out.status(), "SUCCEEDED", "{:?}", out.error());
    let cause = r#"{"errorType":"CustomError","errorMessage":"failed on purpose"}"#;
    assert_eq!(out.output(), json!({"mode": "fail", "error": {"Error": "CustomError", "Cause": cause}}));
    assert!(cause.contains(r#""errorMessage":"failed on purpose""#));
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    let failed = &out.events_of("LambdaFunctionFailed")[0]["lambdaFunctionFailedEventDetails"];
    assert_eq!(failed["error"], "CustomError");
    assert_eq!(failed["cause"], cause);
}

#[test]
fn a_flaky_function_succeeds_on_retry() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let key = format!("flaky-{}-{nanos}", std::process::id());
    let def = one_task(json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "task-probe", "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}],
        "End": true
    }));
    let started = std::time::Instant::now();
    let out = run(&def, json!({"mode": "flaky", "key": key, "failures": 2}));
    assert_eq!(out.status(), "SUCCEEDED", "{:?}", out.error());
    assert_eq!(out.output(), json!({"key": key, "attempts": 3}));
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    for failed in out.events_of("TaskFailed") {
        let details = &failed["taskFailedEventDetails"];
        assert_eq!(details["error"], "Flaky");
        assert_eq!((&details["resource"], &details["resourceType"]), (&json!("invoke"), &json!("lambda")));
        let cause: Value = serde_json::from_str(details["cause"].as_str().expect("a cause")).expect("JSON cause");
        assert_eq!(cause["errorType"], "Flaky");
    }
    // Retry intervals of 1 s and 2 s (BackoffRate 2.0), in real time.
    assert!(started.elapsed() >= std::time::Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[test]
fn a_function_slower_than_the_task_timeout_times_out() {
    let def = one_task(json!({"Type": "Task", "Resource": PROBE, "TimeoutSeconds": 1, "End": true}));
    let started = std::time::Instant::now();
    let out = run(&def, json!({"mode": "sleep", "seconds": 3}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "States.Timeout");
    // As Step Functions records it: the function was started, then timed out
    // (the engine records the Started event at the timeout, as no answer came).
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionTimedOut",
            "ExecutionFailed"
        ]
    );
    // The engine's timer ended it, not the function's answer.
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[test]
fn a_missing_function_is_resource_not_found() {
    let def = one_task(json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "no-such-function", "Payload": {"mode": "echo"}},
        "End": true
    }));
    let out = run(&def, json!({}));
    assert_eq!(out.status(), "FAILED");
    let (error, cause) = out.error();
    assert_eq!(error, "Lambda.ResourceNotFoundException");
    let prefix = "Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function:$LATEST \
                  (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ";
    assert!(cause.starts_with(prefix) && cause.ends_with("; Proxy: null)"), "{cause}");
    assert_eq!(
        out.types(),
        ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "ExecutionFailed"]
    );
}

#[test]
fn a_callback_task_is_submitted_with_the_invoke_response() {
    let def = one_task(json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "task-probe", "Payload": {"mode": "echo", "token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 2,
        "End": true
    }));
    let out = run(&def, json!({}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error().0, "States.Timeout");
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskTimedOut",
            "ExecutionFailed"
        ]
    );
    let submitted = &out.events_of("TaskSubmitted")[0]["taskSubmittedEventDetails"];
    let output: Value = serde_json::from_str(submitted["output"].as_str().expect("an output")).expect("JSON");
    assert_eq!(output["StatusCode"], 200);
    assert_eq!(output["Payload"]["echo"]["mode"], "echo");
    assert!(output["Payload"]["echo"]["token"].as_str().is_some_and(|t| !t.is_empty()), "{output}");
}
