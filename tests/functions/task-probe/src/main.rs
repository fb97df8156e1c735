//! `task-probe`: a Lambda function whose input `{"mode": ...}` chooses what it
//! does, for the tests of the Lambda task invoker under `cargo lambda watch`:
//!
//! - `"echo"`: returns `{"echo": <input>}`;
//! - `"fail"`: fails with errorType `CustomError`, message `failed on purpose`;
//! - `"flaky"`: fails with errorType `Flaky` on the first `failures` calls with
//!   the same `key` (counted in this process), then returns `{"key", "attempts"}`;
//! - `"sleep"`: sleeps `seconds`, then returns `{"slept": seconds}`;
//! - `"context"`: returns `{"functionArn", "functionName", "env": {<name>: <value>}}`:
//!   the invocation's function ARN, `AWS_LAMBDA_FUNCTION_NAME`, and the
//!   environment variables named in `names` (what the host gave the function).
//!
//! Anything else fails with errorType `UnknownMode`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

fn diagnostic(error_type: &str, error_message: impl Into<String>) -> Diagnostic {
    Diagnostic { error_type: error_type.to_string(), error_message: error_message.into() }
}

/// Calls so far per `key` of the flaky mode.
fn flaky_calls(key: &str) -> u64 {
    static CALLS: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    let mut calls = CALLS.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
    let count = calls.entry(key.to_string()).or_insert(0);
    *count += 1;
    *count
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let input = event.payload;
    match input.get("mode").and_then(Value::as_str) {
        Some("echo") => Ok(json!({ "echo": input })),
        Some("fail") => Err(diagnostic("CustomError", "failed on purpose")),
        Some("flaky") => {
            let key = input.get("key").and_then(Value::as_str).unwrap_or_default();
            let failures = input.get("failures").and_then(Value::as_u64).unwrap_or(1);
            let call = flaky_calls(key);
            if call <= failures {
                Err(diagnostic("Flaky", format!("call {call} of key '{key}' fails ({failures} failures asked)")))
            } else {
                Ok(json!({ "key": key, "attempts": call }))
            }
        }
        Some("sleep") => {
            let seconds = input.get("seconds").and_then(Value::as_f64).unwrap_or(1.0).clamp(0.0, 900.0);
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
            Ok(json!({ "slept": seconds }))
        }
        Some("context") => {
            let names = input.get("names").and_then(Value::as_array).cloned().unwrap_or_default();
            let env: serde_json::Map<String, Value> = names
                .iter()
                .filter_map(Value::as_str)
                .map(|name| (name.to_string(), std::env::var(name).map(Value::String).unwrap_or(Value::Null)))
                .collect();
            Ok(json!({
                "functionArn": event.context.invoked_function_arn,
                "functionName": std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
                "env": env,
            }))
        }
        other => {
            Err(diagnostic("UnknownMode", format!("unknown mode {other:?}: use echo, fail, flaky, sleep or context")))
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(handle)).await
}
