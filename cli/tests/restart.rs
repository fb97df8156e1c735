//! `switchyard serve` on DynamoDB Local, restarted on the same table: what
//! one process wrote, the next reads from cold — executions that finished
//! before the restart, and executions that go on after it.

use std::time::Duration;

use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};

mod common;
use common::{ROLE, Server, client, newest_token, unique, wait_until_done};

fn workload(name: &str) -> String {
    let path = format!("{}/../examples/workloads/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `serve` on DynamoDB Local at `table`.
fn serve(table: &str) -> Server {
    let endpoint = switchyard_tests::dynamo::endpoint();
    Server::start(&["--dynamodb-endpoint", &endpoint, "--table", table])
}

async fn history_types(sfn: &Client, arn: &str) -> Vec<String> {
    let mut types = Vec::new();
    let mut token = None;
    loop {
        let page = sfn.get_execution_history().execution_arn(arn).set_next_token(token).send().await.expect("history");
        types.extend(page.events().iter().map(|e| e.r#type().as_str().to_string()));
        match page.next_token() {
            Some(next) => token = Some(next.to_string()),
            None => return types,
        }
    }
}

/// Issue 11, failure 1: a machine whose definition is over 8 KiB, three
/// executions that succeed, then a restart. Before payloads were written
/// under every execution's own key, the new process answered every
/// DescribeExecution with `InternalFailure: unreadable item: payload … is missing`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_written_before_a_restart_are_read_after_it() {
    let table = unique("restart-table");
    let definition = workload("pass-chain-100.asl.json");
    assert!(definition.len() > 8 * 1024, "the definition must be larger than what is kept inline");
    let input = workload("pass-chain-100.input.json");

    let first = serve(&table);
    let sfn = client(&first.url).await;
    let machine = sfn
        .create_state_machine()
        .name(unique("chain"))
        .definition(&definition)
        .role_arn(ROLE)
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_string();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let started = sfn.start_execution().state_machine_arn(&machine).input(&input).send().await.expect("start");
        runs.push(started.execution_arn().to_string());
    }
    let mut before = Vec::new();
    for arn in &runs {
        let done = wait_until_done(&sfn, arn).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{arn}");
        before.push((done.output().map(str::to_string), history_types(&sfn, arn).await));
    }
    first.kill();

    let second = serve(&table);
    let sfn = client(&second.url).await;
    for (arn, (output, types)) in runs.iter().zip(&before) {
        let described = sfn.describe_execution().execution_arn(arn).send().await.expect("describe after the restart");
        assert_eq!(described.status(), &ExecutionStatus::Succeeded);
        assert_eq!(described.output().map(str::to_string), *output);
        let read: Value = serde_json::from_str(described.input().expect("an input")).expect("json");
        assert_eq!(read, serde_json::from_str::<Value>(&input).expect("json"));
        let machine_of = sfn
            .describe_state_machine_for_execution()
            .execution_arn(arn)
            .send()
            .await
            .expect("the definition after the restart");
        assert_eq!(machine_of.definition(), definition);
        assert_eq!(&history_types(&sfn, arn).await, types);
    }
    let described = sfn.describe_state_machine().state_machine_arn(&machine).send().await.expect("machine");
    assert_eq!(described.definition(), definition);
}

/// A machine that parks twice — before and after a Map — with a definition
/// and an input larger than what is kept inline.
fn parking_machine() -> String {
    let ask = |result: &str, next: &str| {
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
               "Parameters": {"FunctionName": "approver", "Payload": {"token.$": "$$.Task.Token"}},
               "ResultPath": result, "Next": next})
    };
    json!({"Comment": "c".repeat(9 * 1024), "StartAt": "First", "States": {
        "First": ask("$.first", "Each"),
        "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ResultPath": "$.doubled",
                 "ItemProcessor": {"StartAt": "Double", "States": {
                     "Double": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($, $)"}, "End": true}}},
                 "Next": "Second"},
        "Second": ask("$.second", "Done"),
        "Done": {"Type": "Succeed"}}})
    .to_string()
}

/// Runs the parking machine on `table`, answering each task through a new
/// process when `restart`; returns the output and the history's event types.
async fn park_and_answer(table: &str, restart: bool) -> (Option<String>, Vec<String>) {
    let input = json!({"items": [1, 2, 3, 4, 5], "pad": "p".repeat(9 * 1024)}).to_string();
    let mut server = serve(table);
    let sfn = client(&server.url).await;
    let machine = sfn
        .create_state_machine()
        .name(unique("parks"))
        .definition(parking_machine())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_string();
    let arn = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .input(&input)
        .send()
        .await
        .expect("start")
        .execution_arn()
        .to_string();
    for answer in ["1", "2"] {
        let sfn = client(&server.url).await;
        let token = newest_token(&sfn, &arn).await;
        if restart {
            server.kill();
            server = serve(table);
        }
        let sfn = client(&server.url).await;
        sfn.send_task_success().task_token(&token).output(answer).send().await.expect("answer after the restart");
        // The answer's steps (and, after the first, the Map's) are taken in the new process.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sfn = client(&server.url).await;
    let done = wait_until_done(&sfn, &arn).await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{arn}");
    (done.output().map(str::to_string), history_types(&sfn, &arn).await)
}

/// Restarted between steps: every step after a restart reads the execution's
/// definition, snapshot and payloads from the table in a process that never
/// saw them, and the execution ends as it does without restarts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_goes_on_across_restarts_between_its_steps() {
    let table = unique("restart-table");
    let (output, types) = park_and_answer(&table, true).await;
    let (expected_output, expected_types) = park_and_answer(&table, false).await;
    assert_eq!(types, expected_types);
    assert_eq!(output, expected_output);
    let output: Value = serde_json::from_str(output.as_deref().expect("an output")).expect("json");
    assert_eq!(output["doubled"], json!([{"n": 2}, {"n": 4}, {"n": 6}, {"n": 8}, {"n": 10}]));
    assert_eq!((&output["first"], &output["second"]), (&json!(1), &json!(2)));
}
