//! Valid definitions parse to the expected typed structure.

use serde_json::json;

use super::{LAMBDA, map_state, ok, single, task};
use crate::definition::{
    BlockId, FailState, MapMode, Next, NumberField, PathField, ResultPath, StateId, StateKind, TextField, WaitState,
};
use crate::parse::parse_definition_str;
use crate::resource::{Pattern, Resource};
use crate::retry::Jitter;

fn every_state_type() -> serde_json::Value {
    json!({
        "Comment": "all state types",
        "Version": "1.0",
        "TimeoutSeconds": 60,
        "QueryLanguage": "JSONPath",
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Pass", "Comment": "first", "Result": { "a": 1 }, "ResultPath": null,
                "InputPath": "$", "OutputPath": null, "Next": "Call"
            },
            "Call": {
                "Type": "Task", "Resource": LAMBDA, "TimeoutSeconds": 10, "HeartbeatSeconds": 5,
                "Retry": [
                    {
                        "ErrorEquals": ["Lambda.ServiceException", "States.Timeout"],
                        "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 1.5,
                        "MaxDelaySeconds": 10, "JitterStrategy": "FULL", "Comment": "r"
                    },
                    { "ErrorEquals": ["States.ALL"] }
                ],
                "Catch": [{ "ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": null }],
                "ResultPath": "$",
                "Next": "Fan"
            },
            "Fan": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "Comment": "b0", "StartAt": "B1",
                        "States": {
                            "B1": { "Type": "Wait", "Seconds": 1, "Next": "B2" },
                            "B2": { "Type": "Succeed", "OutputPath": "$" }
                        }
                    },
                    { "StartAt": "C1", "States": { "C1": { "Type": "Pass", "End": true } } }
                ],
                "Retry": [{ "ErrorEquals": ["States.BranchFailed"], "MaxAttempts": 0 }],
                "Next": "Each"
            },
            "Each": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "ProcessorConfig": { "Mode": "INLINE" },
                    "StartAt": "M1",
                    "States": {
                        "M1": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                            "End": true
                        }
                    }
                },
                "Next": "Done"
            },
            "Done": { "Type": "Succeed" },
            "Failed": { "Type": "Fail", "Error": "E", "Cause": "C" }
        }
    })
}

#[test]
fn ids_blocks_and_transitions() {
    let def = ok(every_state_type());
    let names: Vec<&str> = def.states.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Start", "Call", "Fan", "Each", "Done", "Failed", "B1", "B2", "C1", "M1"]);
    let pointers: Vec<&str> = def.blocks.iter().map(|b| b.pointer.as_str()).collect();
    assert_eq!(pointers, ["", "/States/Fan/Branches/0", "/States/Fan/Branches/1", "/States/Each/ItemProcessor"]);
    let root = def.block(crate::definition::Definition::ROOT);
    assert_eq!(root.start_at, StateId(0));
    assert_eq!(root.states, (0..6).map(StateId).collect::<Vec<_>>());
    assert_eq!(def.blocks[1].start_at, StateId(6));
    assert_eq!(def.blocks[1].states, [StateId(6), StateId(7)]);
    assert_eq!(def.blocks[2].states, [StateId(8)]);
    assert_eq!(def.blocks[3].states, [StateId(9)]);
    let blocks: Vec<u32> = def.states.iter().map(|s| s.block.0).collect();
    assert_eq!(blocks, [0, 0, 0, 0, 0, 0, 1, 1, 2, 3]);
    assert_eq!(def.state_id("M1"), Some(StateId(9)));
    assert_eq!(def.timeout_seconds, Some(60));
    assert_eq!(def.comment.as_deref(), Some("all state types"));
}

#[test]
fn pass_state_fields() {
    let def = ok(every_state_type());
    let start = def.state(StateId(0));
    assert!(matches!(start.input_path, PathField::Whole));
    assert!(matches!(start.output_path, PathField::Null));
    let StateKind::Pass(pass) = &start.kind else { panic!("not a Pass: {start:?}") };
    assert_eq!(pass.result, Some(json!({ "a": 1 })));
    assert!(matches!(pass.result_path, ResultPath::Discard));
    assert!(pass.parameters.is_none());
    assert_eq!(pass.next, Next::State(StateId(1)));
}

#[test]
fn task_state_fields() {
    let def = ok(every_state_type());
    let StateKind::Task(call) = &def.state(StateId(1)).kind else { panic!("not a Task") };
    assert_eq!(call.resource, Resource::LambdaFunction { arn: LAMBDA.to_owned() });
    assert!(matches!(call.timeout_seconds, Some(NumberField::Literal(10))));
    assert!(matches!(call.heartbeat_seconds, Some(NumberField::Literal(5))));
    assert!(matches!(call.result_path, ResultPath::Replace));
    assert_eq!(call.retry.len(), 2);
    let first = &call.retry[0];
    assert_eq!(first.error_equals, ["Lambda.ServiceException", "States.Timeout"]);
    assert_eq!(
        (first.interval_seconds, first.max_attempts, first.backoff_rate, first.max_delay_seconds),
        (2, 4, 1.5, Some(10))
    );
    assert_eq!(first.jitter, Jitter::Full);
    let second = &call.retry[1];
    assert_eq!(second.error_equals, ["States.ALL"]);
    assert_eq!((second.interval_seconds, second.max_attempts, second.backoff_rate), (1, 3, 2.0));
    assert_eq!((second.max_delay_seconds, second.jitter), (None, Jitter::None));
    assert_eq!(call.catch.len(), 1);
    assert_eq!(call.catch[0].next, StateId(5));
    assert!(matches!(call.catch[0].result_path, ResultPath::Discard));
    assert_eq!(call.next, Next::State(StateId(2)));
}

#[test]
fn parallel_wait_and_succeed() {
    let def = ok(every_state_type());
    let StateKind::Parallel(fan) = &def.state(StateId(2)).kind else { panic!("not a Parallel") };
    assert_eq!(fan.branches, [BlockId(1), BlockId(2)]);
    assert_eq!(fan.retry[0].max_attempts, 0);
    assert_eq!(fan.next, Next::State(StateId(3)));
    let StateKind::Wait(WaitState::Seconds { seconds: 1, next }) = &def.state(StateId(6)).kind else {
        panic!("not a Wait")
    };
    assert_eq!(*next, Next::State(StateId(7)));
    assert!(matches!(def.state(StateId(7)).kind, StateKind::Succeed));
    let StateKind::Pass(c1) = &def.state(StateId(8)).kind else { panic!("not a Pass") };
    assert_eq!(c1.next, Next::End);
}

#[test]
fn map_and_fail() {
    let def = ok(every_state_type());
    let StateKind::Map(each) = &def.state(StateId(3)).kind else { panic!("not a Map") };
    assert_eq!(each.processor, BlockId(3));
    assert_eq!(each.mode, MapMode::Inline);
    assert!(matches!(each.max_concurrency, NumberField::Literal(2)));
    assert!(each.items_path.is_none() && each.item_selector.is_none() && each.label.is_none());
    assert_eq!(each.next, Next::State(StateId(4)));
    let StateKind::Task(m1) = &def.state(StateId(9)).kind else { panic!("not a Task") };
    let expected = Resource::Integration {
        arn: "arn:aws:states:::sqs:sendMessage.waitForTaskToken".to_owned(),
        service: "sqs".to_owned(),
        action: "sendMessage".to_owned(),
        pattern: Pattern::WaitForTaskToken,
    };
    assert_eq!(m1.resource, expected);
    let StateKind::Fail(FailState { error, cause }) = &def.state(StateId(5)).kind else { panic!("not a Fail") };
    assert!(matches!(error, Some(TextField::Literal(e)) if e == "E"));
    assert!(matches!(cause, Some(TextField::Literal(c)) if c == "C"));
}

#[test]
fn parses_from_text() {
    let text = every_state_type().to_string();
    let def = parse_definition_str(&text).expect("valid");
    assert_eq!(def.states.len(), 10);
}

#[test]
fn nested_ids_follow_their_blocks() {
    // Blocks nest: a Map inside a Parallel branch inside the top level.
    let def = ok(json!({
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{
                    "StartAt": "M",
                    "States": {
                        "M": map_state("Inner", json!({ "End": null, "Next": "After" })),
                        "After": { "Type": "Succeed" }
                    }
                }],
                "Next": "Last"
            },
            "Last": { "Type": "Succeed" }
        }
    }));
    let names: Vec<&str> = def.states.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["P", "Last", "M", "After", "Inner"]);
    let pointers: Vec<&str> = def.blocks.iter().map(|b| b.pointer.as_str()).collect();
    assert_eq!(pointers, ["", "/States/P/Branches/0", "/States/P/Branches/0/States/M/ItemProcessor"]);
    assert_eq!(def.state(StateId(4)).block, BlockId(2));
}

#[test]
fn legacy_iterator_is_an_inline_processor() {
    let def = ok(single(json!({
        "Type": "Map",
        "Iterator": { "StartAt": "I", "States": { "I": { "Type": "Succeed" } } },
        "MaxConcurrency": 0,
        "End": true
    })));
    assert_eq!(def.blocks[1].pointer, "/States/A/Iterator");
    let StateKind::Map(map) = &def.state(StateId(0)).kind else { panic!("not a Map") };
    assert_eq!(map.mode, MapMode::Inline);
    assert_eq!(map.next, Next::End);
}

#[test]
fn distributed_map_fields() {
    let def = ok(single(map_state(
        "I",
        json!({
            "ItemProcessor": {
                "ProcessorConfig": { "Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS" },
                "StartAt": "I",
                "States": { "I": { "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true } }
            },
            "ToleratedFailureCount": 3,
            "ToleratedFailurePercentage": 12.5,
            "Label": "items-1"
        }),
    )));
    let StateKind::Map(map) = &def.state(StateId(0)).kind else { panic!("not a Map") };
    assert_eq!(map.mode, MapMode::Distributed { express: true });
    assert!(matches!(map.tolerated_failure_count, Some(NumberField::Literal(3))));
    assert!(matches!(map.tolerated_failure_percentage, Some(NumberField::Literal(p)) if p == 12.5));
    assert_eq!(map.label.as_deref(), Some("items-1"));
    assert!(matches!(map.max_concurrency, NumberField::Literal(0)));
}

#[test]
fn optional_forms_accepted() {
    // Next with End: false, Seconds 0, an empty Fail, MaxAttempts 0, integer BackoffRate,
    // state-level QueryLanguage JSONPath, a Choice-free machine with Catch-only reachability.
    let def = ok(json!({
        "StartAt": "W",
        "States": {
            "W": { "Type": "Wait", "Seconds": 0, "Next": "T", "End": false, "QueryLanguage": "JSONPath" },
            "T": task(json!({
                "Retry": [{ "ErrorEquals": ["E"], "MaxAttempts": 0, "BackoffRate": 1 }],
                "Catch": [{ "ErrorEquals": ["States.TaskFailed"], "Next": "F", "Comment": "c" }]
            })),
            "F": { "Type": "Fail" }
        }
    }));
    let StateKind::Task(t) = &def.state(StateId(1)).kind else { panic!("not a Task") };
    assert_eq!(t.retry[0].backoff_rate, 1.0);
    assert!(matches!(def.state(StateId(2)).kind, StateKind::Fail(FailState { error: None, cause: None })));
}

#[test]
fn every_predefined_error_name_is_accepted() {
    let names = [
        "States.ALL",
        "States.HeartbeatTimeout",
        "States.Timeout",
        "States.TaskFailed",
        "States.Permissions",
        "States.ResultPathMatchFailure",
        "States.ParameterPathFailure",
        "States.BranchFailed",
        "States.NoChoiceMatched",
        "States.IntrinsicFailure",
        "States.ExceedToleratedFailureThreshold",
        "States.ItemReaderFailed",
        "States.ResultWriterFailed",
        "States.DataLimitExceeded",
        "States.Runtime",
        "States.QueryEvaluationError",
    ];
    let retry: Vec<_> = names[1..].iter().map(|n| json!({ "ErrorEquals": [n] })).collect();
    ok(single(task(json!({ "Retry": retry }))));
    ok(single(task(json!({ "Retry": [{ "ErrorEquals": [names[0]] }] }))));
}

#[test]
fn state_names_may_hold_pointer_characters() {
    let def = ok(json!({
        "StartAt": "a/b~c",
        "States": { "a/b~c": { "Type": "Pass", "Next": "x" }, "x": { "Type": "Succeed" } }
    }));
    assert_eq!(def.state(StateId(0)).name, "a/b~c");
    let long = "n".repeat(80);
    ok(json!({ "StartAt": long, "States": { long.clone(): { "Type": "Succeed" } } }));
}
