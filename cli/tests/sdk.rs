//! `switchyard serve` driven by aws-sdk-rust's Step Functions client, unchanged
//! but for its endpoint: on the in-memory store, and on DynamoDB Local when
//! (at `SWITCHYARD_DYNAMODB_ENDPOINT`, or started by scripts/dynamodb-local.sh).

use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::ProvideErrorMetadata;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::json;

mod common;
use common::{ROLE, Server, client, newest_token, unique, wait_until_done};

/// A machine that waits for a callback, then passes its answer on.
fn callback_machine() -> String {
    json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "approver", "Payload": {"token.$": "$$.Task.Token"}},
                "ResultPath": "$.answer", "End": true}}})
    .to_string()
}

async fn flows(sfn: &Client) {
    // Create, describe, list.
    let name = unique("sdk");
    let created = sfn
        .create_state_machine()
        .name(&name)
        .definition(callback_machine())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create");
    let machine = created.state_machine_arn().to_string();
    assert_eq!(machine, format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}"));
    let described = sfn.describe_state_machine().state_machine_arn(&machine).send().await.expect("describe machine");
    assert_eq!(described.name(), name);
    assert_eq!(described.definition(), callback_machine());
    assert_eq!(described.role_arn(), ROLE);
    assert_eq!(described.r#type().as_str(), "STANDARD");

    // Start; the task waits; success through SendTaskSuccess.
    let started = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("first")
        .input(r#"{"order":7}"#)
        .send()
        .await
        .expect("start");
    let arn = started.execution_arn().to_string();
    assert_eq!(arn, format!("arn:aws:states:us-east-1:123456789012:execution:{name}:first"));
    let again = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("first")
        .input(r#"{"order":7}"#)
        .send()
        .await
        .expect("idempotent start");
    assert_eq!(again.execution_arn(), arn);
    assert_eq!(again.start_date(), started.start_date());
    let conflict = sfn.start_execution().state_machine_arn(&machine).name("first").input("{}").send().await;
    assert_eq!(conflict.expect_err("other input").code(), Some("ExecutionAlreadyExists"));

    let token = newest_token(sfn, &arn).await;
    sfn.send_task_heartbeat().task_token(&token).send().await.expect("heartbeat");
    sfn.send_task_success().task_token(&token).output(r#"{"ok":true}"#).send().await.expect("success");
    let reused = sfn.send_task_success().task_token(&token).output("{}").send().await;
    assert_eq!(reused.expect_err("used token").code(), Some("TaskTimedOut"));
    let done = wait_until_done(sfn, &arn).await;
    assert_eq!(done.status(), &ExecutionStatus::Succeeded);
    assert_eq!(done.output(), Some(r#"{"order":7,"answer":{"ok":true}}"#));
    let types: Vec<String> = sfn
        .get_execution_history()
        .execution_arn(&arn)
        .send()
        .await
        .expect("history")
        .events()
        .iter()
        .map(|e| e.r#type().as_str().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );

    // Failure, then redrive, then success with the new token.
    let second = sfn.start_execution().state_machine_arn(&machine).name("second").send().await.expect("start");
    let second = second.execution_arn().to_string();
    let token = newest_token(sfn, &second).await;
    sfn.send_task_failure().task_token(&token).error("Rejected").cause("no").send().await.expect("failure");
    let failed = wait_until_done(sfn, &second).await;
    assert_eq!(failed.status(), &ExecutionStatus::Failed);
    assert_eq!((failed.error(), failed.cause()), (Some("Rejected"), Some("no")));
    sfn.redrive_execution().execution_arn(&second).send().await.expect("redrive");
    let redriven = sfn.describe_execution().execution_arn(&second).send().await.expect("describe");
    assert_eq!(redriven.status(), &ExecutionStatus::Running);
    assert_eq!(redriven.redrive_count(), Some(1));
    let new_token = newest_token(sfn, &second).await;
    assert_ne!(new_token, token);
    sfn.send_task_success().task_token(&new_token).output("1").send().await.expect("success");
    assert_eq!(wait_until_done(sfn, &second).await.status(), &ExecutionStatus::Succeeded);
    let again = sfn.redrive_execution().execution_arn(&second).send().await;
    assert_eq!(again.expect_err("succeeded").code(), Some("ExecutionNotRedrivable"));

    // Stop.
    let third = sfn.start_execution().state_machine_arn(&machine).name("third").send().await.expect("start");
    let third = third.execution_arn().to_string();
    let token = newest_token(sfn, &third).await;
    sfn.stop_execution().execution_arn(&third).error("Halt").cause("by test").send().await.expect("stop");
    let stopped = sfn.describe_execution().execution_arn(&third).send().await.expect("describe");
    assert_eq!(stopped.status(), &ExecutionStatus::Aborted);
    assert_eq!((stopped.error(), stopped.cause()), (Some("Halt"), Some("by test")));
    let late = sfn.send_task_success().task_token(&token).output("{}").send().await;
    assert_eq!(late.expect_err("stopped").code(), Some("TaskTimedOut"));

    // Listing, newest first, by status and in pages.
    let all = sfn.list_executions().state_machine_arn(&machine).send().await.expect("list");
    let names: Vec<&str> = all.executions().iter().map(|e| e.name()).collect();
    assert_eq!(names, ["third", "second", "first"]);
    let succeeded = sfn
        .list_executions()
        .state_machine_arn(&machine)
        .status_filter(ExecutionStatus::Succeeded)
        .send()
        .await
        .expect("list");
    let names: Vec<&str> = succeeded.executions().iter().map(|e| e.name()).collect();
    assert_eq!(names, ["second", "first"]);
    let page = sfn.list_executions().state_machine_arn(&machine).max_results(2).send().await.expect("page");
    assert_eq!(page.executions().len(), 2);
    let rest = sfn
        .list_executions()
        .state_machine_arn(&machine)
        .max_results(2)
        .next_token(page.next_token().expect("a next page"))
        .send()
        .await
        .expect("page 2");
    let names: Vec<&str> = rest.executions().iter().map(|e| e.name()).collect();
    assert_eq!(names, ["first"]);
    assert_eq!(rest.next_token(), None);

    // Errors by code.
    let code = |e: &dyn ProvideErrorMetadata| e.code().map(str::to_string);
    let bad = sfn
        .create_state_machine()
        .name(&name)
        .definition(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#)
        .role_arn(ROLE)
        .send()
        .await;
    let bad = bad.expect_err("invalid");
    assert_eq!(code(&bad).as_deref(), Some("InvalidDefinition"));
    assert!(bad.message().unwrap_or_default().contains("/States/A/Next"), "{:?}", bad.message());
    let exists = sfn
        .create_state_machine()
        .name(&name)
        .definition(r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#)
        .role_arn(ROLE)
        .send()
        .await;
    assert_eq!(code(&exists.expect_err("taken")).as_deref(), Some("StateMachineAlreadyExists"));
    let unsupported = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "Send", "States": {"Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}]}}});
    let unsupported = sfn
        .create_state_machine()
        .name(unique("unsupported"))
        .definition(unsupported.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("sqs is not run");
    assert_eq!(code(&unsupported).as_deref(), Some("InvalidDefinition"));
    let message = unsupported.message().unwrap_or_default();
    assert!(
        message.contains("UNSUPPORTED_FEATURE: The resource arn:aws:states:::sqs:sendMessage is not run"),
        "{message}"
    );
    assert!(message.ends_with(" at /States/P/Branches/0/States/Send/Resource'"), "{message}");
    let bad_name = sfn.start_execution().state_machine_arn(&machine).name("a b").send().await;
    assert_eq!(code(&bad_name.expect_err("name")).as_deref(), Some("InvalidName"));
    let bad_input = sfn.start_execution().state_machine_arn(&machine).input("{").send().await;
    assert_eq!(code(&bad_input.expect_err("input")).as_deref(), Some("InvalidExecutionInput"));
    let missing = sfn.describe_execution().execution_arn(format!("{arn}-missing")).send().await;
    assert_eq!(code(&missing.expect_err("missing")).as_deref(), Some("ExecutionDoesNotExist"));
    let no_machine = sfn.start_execution().state_machine_arn(format!("{machine}-missing")).send().await;
    assert_eq!(code(&no_machine.expect_err("missing")).as_deref(), Some("StateMachineDoesNotExist"));
    let forged = format!("{}0", &new_token[..new_token.len() - 1]);
    let forged = sfn.send_task_success().task_token(forged).output("{}").send().await;
    assert_eq!(code(&forged.expect_err("forged")).as_deref(), Some("TaskTimedOut"));
    let garbage = sfn.send_task_failure().task_token("abc").send().await;
    assert_eq!(code(&garbage.expect_err("garbage")).as_deref(), Some("InvalidToken"));

    // Delete.
    sfn.delete_state_machine().state_machine_arn(&machine).send().await.expect("delete");
    let gone = sfn.describe_state_machine().state_machine_arn(&machine).send().await;
    assert_eq!(code(&gone.expect_err("deleted")).as_deref(), Some("StateMachineDoesNotExist"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_drives_serve_in_memory() {
    let server = Server::start(&[]);
    flows(&client(&server.url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_drives_serve_on_dynamodb() {
    let endpoint = switchyard_tests::dynamo::endpoint();
    let table = unique("sdk-table");
    let server = Server::start(&["--dynamodb-endpoint", &endpoint, "--table", &table]);
    flows(&client(&server.url).await).await;
}
