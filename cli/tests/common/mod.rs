#![allow(dead_code)] // each test file uses its own part of it
//! What the tests that drive `switchyard serve` share: starting and stopping
//! it, and an aws-sdk-rust Step Functions client pointed at it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEventType};
use serde_json::Value;

/// A running `switchyard serve`, stopped on drop.
pub struct Server {
    child: Child,
    /// Its endpoint.
    pub url: String,
}

impl Server {
    /// Starts `switchyard serve --port 0 EXTRA…` and waits for its listening line.
    pub fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
        let url = line.trim().strip_prefix("switchyard serve: listening on ").expect("the listening line").to_string();
        Server { child, url }
    }

    /// Kills the process (SIGKILL: nothing of it survives but what it wrote).
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Step Functions client for `url`, unchanged but for its endpoint.
pub async fn client(url: &str) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .region(aws_sdk_sfn::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sfn::config::Credentials::new("test", "test", None, None, "test"))
        .endpoint_url(url)
        .build();
    Client::from_conf(config)
}

/// The role every test machine names.
pub const ROLE: &str = "arn:aws:iam::123456789012:role/switchyard-test";

/// A name unique to this run (tables and machines may be shared).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Polls DescribeExecution until the execution is no longer RUNNING (at most 10 s).
pub async fn wait_until_done(
    sfn: &Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = sfn.describe_execution().execution_arn(arn).send().await.expect("describe");
        if d.status() != &ExecutionStatus::Running || Instant::now() > deadline {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// The token of the newest TaskScheduled event.
pub async fn newest_token(sfn: &Client, arn: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let h = sfn.get_execution_history().execution_arn(arn).reverse_order(true).send().await.expect("history");
        let scheduled = h.events().iter().find(|e| e.r#type() == &HistoryEventType::TaskScheduled);
        if let Some(e) = scheduled {
            let parameters = e.task_scheduled_event_details().expect("details").parameters();
            let parameters: Value = serde_json::from_str(parameters).expect("json");
            if h.events()[0].r#type() == &HistoryEventType::TaskSubmitted {
                return parameters["Payload"]["token"].as_str().expect("token").to_string();
            }
        }
        assert!(Instant::now() < deadline, "no task waits in {arn}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}
