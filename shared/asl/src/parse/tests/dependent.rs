//! Tests that also run the path, template, intrinsic, Choice rule and
//! timestamp compilers (`crate::path`, `crate::template`, `crate::choice`,
//! `crate::timestamp`): they check that this module wires those compilers in.

use serde_json::json;

use super::{at, codes, errors, machine, map_state, ok, schema, single, task};
use crate::definition::{MapMode, Next, NumberField, PathField, ResultPath, StateId, StateKind, TextField, WaitState};
use crate::error::ValidationCode::{InvalidIntrinsicFunction, InvalidJsonPath, MissingTransitionTarget};

#[test]
fn every_field_with_paths_templates_and_rules() {
    let def = ok(json!({
        "StartAt": "Pick",
        "States": {
            "Pick": {
                "Type": "Choice",
                "InputPath": "$.input",
                "OutputPath": "$$.Execution.Input",
                "Choices": [
                    { "Variable": "$.kind", "StringEquals": "wait", "Next": "Pause" },
                    {
                        "And": [
                            { "Variable": "$.n", "NumericGreaterThan": 1 },
                            { "Not": { "Variable": "$.flag", "BooleanEquals": true } }
                        ],
                        "Next": "Work"
                    }
                ],
                "Default": "Boom"
            },
            "Pause": { "Type": "Wait", "Timestamp": "2030-01-02T03:04:05Z", "Next": "PauseMore" },
            "PauseMore": { "Type": "Wait", "SecondsPath": "$.seconds", "Next": "PauseUntil" },
            "PauseUntil": { "Type": "Wait", "TimestampPath": "$.until", "Next": "Work" },
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": { "FunctionName": "f", "Payload.$": "$", "Token.$": "$$.Task.Token" },
                "ResultSelector": { "body.$": "$.Payload" },
                "ResultPath": "$.result",
                "TimeoutSecondsPath": "$.timeout",
                "HeartbeatSeconds": 30,
                "Credentials": { "RoleArn.$": "$.role" },
                "Catch": [{ "ErrorEquals": ["States.ALL"], "Next": "Boom", "ResultPath": "$.error" }],
                "Next": "Each"
            },
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": { "value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index" },
                "MaxConcurrencyPath": "$.concurrency",
                "ItemProcessor": {
                    "ProcessorConfig": { "Mode": "DISTRIBUTED", "ExecutionType": "STANDARD" },
                    "StartAt": "Inner",
                    "States": { "Inner": { "Type": "Pass", "Parameters": { "x.$": "States.Format('{}', $.v)" }, "End": true } }
                },
                "ToleratedFailureCountPath": "$.count",
                "ToleratedFailurePercentagePath": "$.pct",
                "ResultSelector": { "all.$": "$" },
                "End": true
            },
            "Boom": { "Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "States.Format('bad {}', $.why)" }
        }
    }));
    let names: Vec<&str> = def.states.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Pick", "Pause", "PauseMore", "PauseUntil", "Work", "Each", "Boom", "Inner"]);
    let pick = def.state(StateId(0));
    assert!(matches!(&pick.input_path, PathField::Path(p) if p.text() == "$.input"));
    assert!(matches!(&pick.output_path, PathField::Path(p) if p.uses_context()));
    let StateKind::Choice(choice) = &pick.kind else { panic!("not a Choice") };
    let nexts: Vec<StateId> = choice.choices.iter().map(|c| c.next).collect();
    assert_eq!(nexts, [StateId(1), StateId(4)]);
    assert_eq!(choice.default, Some(StateId(6)));
    let StateKind::Wait(WaitState::Timestamp { epoch_millis, text, next }) = &def.state(StateId(1)).kind else {
        panic!("not a Wait Timestamp")
    };
    assert_eq!(
        (*epoch_millis, text.as_str(), *next),
        (1_893_553_445_000, "2030-01-02T03:04:05Z", Next::State(StateId(2)))
    );
    assert!(matches!(&def.state(StateId(2)).kind, StateKind::Wait(WaitState::SecondsPath { .. })));
    assert!(matches!(&def.state(StateId(3)).kind, StateKind::Wait(WaitState::TimestampPath { .. })));
    let StateKind::Task(work) = &def.state(StateId(4)).kind else { panic!("not a Task") };
    assert!(work.parameters.as_ref().is_some_and(|t| t.uses_context()));
    assert!(work.result_selector.is_some() && work.credentials.is_some());
    assert!(matches!(&work.result_path, ResultPath::Path(p) if p.text() == "$.result"));
    assert!(matches!(&work.timeout_seconds, Some(NumberField::Path(p)) if p.text() == "$.timeout"));
    assert!(matches!(&work.catch[0].result_path, ResultPath::Path(_)));
    let StateKind::Map(each) = &def.state(StateId(5)).kind else { panic!("not a Map") };
    assert_eq!(each.mode, MapMode::Distributed { express: false });
    assert!(each.items_path.as_ref().is_some_and(|p| p.text() == "$.items"));
    assert!(matches!(&each.max_concurrency, NumberField::Path(_)));
    assert!(matches!(&each.tolerated_failure_count, Some(NumberField::Path(_))));
    assert!(matches!(&each.tolerated_failure_percentage, Some(NumberField::Path(_))));
    let StateKind::Fail(boom) = &def.state(StateId(6)).kind else { panic!("not a Fail") };
    assert!(matches!(&boom.error, Some(TextField::Expr(_))));
    assert!(matches!(&boom.cause, Some(TextField::Expr(_))));
}

#[test]
fn invalid_paths() {
    let input = single(json!({ "Type": "Succeed", "InputPath": "no dollar" }));
    assert_eq!(codes(input), [at(InvalidJsonPath, "/States/A/InputPath")]);
    let result = single(json!({ "Type": "Pass", "End": true, "ResultPath": "$.a[*]" }));
    assert_eq!(codes(result), [at(InvalidJsonPath, "/States/A/ResultPath")]);
    let items = single(map_state("I", json!({ "ItemsPath": "$..x" })));
    assert_eq!(codes(items), [at(InvalidJsonPath, "/States/A/ItemsPath")]);
    let seconds = single(json!({ "Type": "Wait", "SecondsPath": "x", "End": true }));
    assert_eq!(codes(seconds), [at(InvalidJsonPath, "/States/A/SecondsPath")]);
    let timeout = single(task(json!({ "TimeoutSecondsPath": "$.a[?(@.b)]" })));
    assert_eq!(codes(timeout), [at(InvalidJsonPath, "/States/A/TimeoutSecondsPath")]);
}

#[test]
fn invalid_fail_expressions() {
    let intrinsic = single(json!({ "Type": "Fail", "CausePath": "States.Bogus($.x)" }));
    assert_eq!(codes(intrinsic), [at(InvalidIntrinsicFunction, "/States/A/CausePath")]);
    let path = single(json!({ "Type": "Fail", "ErrorPath": "error" }));
    assert_eq!(codes(path), [at(InvalidJsonPath, "/States/A/ErrorPath")]);
}

#[test]
fn invalid_timestamp() {
    let def = single(json!({ "Type": "Wait", "Timestamp": "2016-12-05 21:29:29Z", "End": true }));
    assert_eq!(codes(def), [schema("/States/A/Timestamp")]);
}

#[test]
fn template_errors_keep_their_pointers() {
    let def = single(task(json!({ "Parameters": { "nested": { "bad.$": "not a path" } } })));
    let errs = errors(def);
    assert!(!errs.is_empty());
    assert!(errs.iter().all(|e| e.pointer.starts_with("/States/A/Parameters")), "{errs:?}");
}

#[test]
fn choice_targets() {
    let def = machine(json!({
        "A": {
            "Type": "Choice",
            "Choices": [
                { "Variable": "$.x", "IsPresent": true, "Next": "Gone" },
                { "Variable": "$.x", "IsNull": true }
            ],
            "Default": "Missing"
        },
        "B": { "Type": "Succeed" }
    }));
    let errs = errors(def);
    let mut pairs = super::pairs(errs);
    pairs.sort_by_key(|(code, pointer)| (pointer.clone(), code.as_str()));
    let mut expected = vec![
        at(MissingTransitionTarget, "/States/A/Choices/0/Next"),
        schema("/States/A/Choices/1"),
        at(MissingTransitionTarget, "/States/A/Default"),
        at(crate::error::ValidationCode::UnreachableState, "/States/B"),
    ];
    expected.sort_by_key(|(code, pointer)| (pointer.clone(), code.as_str()));
    assert_eq!(pairs, expected);
}
