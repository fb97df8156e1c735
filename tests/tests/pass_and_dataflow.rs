//! JSONPath data flow through Pass and Task states: InputPath, Parameters,
//! Result, ResultSelector, ResultPath and OutputPath, in Step Functions' order.

use serde_json::{Value, json};
use switchyard_tests::{fail, recording, run, run_with, seen, succeed};

fn pass(fields: Value) -> Value {
    let mut state = json!({"Type": "Pass", "End": true});
    for (k, v) in fields.as_object().unwrap() {
        state[k] = v.clone();
    }
    json!({"StartAt": "S", "States": {"S": state}})
}

fn task(fields: Value) -> Value {
    let mut state = json!({
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "End": true
    });
    for (k, v) in fields.as_object().unwrap() {
        state[k] = v.clone();
    }
    json!({"StartAt": "S", "States": {"S": state}})
}

const PREFIX: &str = "An error occurred while executing the state 'S' (entered at the event id #2). ";

// ----- InputPath ------------------------------------------------------------------------

#[test]
fn input_path_selects_a_field() {
    let out = run(&pass(json!({"InputPath": "$.x"})), json!({"x": {"a": 1}, "y": 2}));
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(out.output(), json!({"a": 1}));
}

#[test]
fn input_path_selects_an_array_element_and_a_scalar() {
    let out = run(&pass(json!({"InputPath": "$.x[1]"})), json!({"x": [10, 20, 30]}));
    assert_eq!(out.output(), json!(20));
}

#[test]
fn input_path_null_gives_an_empty_object() {
    let out = run(&pass(json!({"InputPath": null})), json!({"x": 1}));
    assert_eq!(out.output(), json!({}));
}

#[test]
fn input_path_missing_field_is_a_runtime_error() {
    let out = run(&pass(json!({"InputPath": "$.x"})), json!({"y": 1}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        ("States.Runtime".to_string(), format!("{PREFIX}Invalid path '$.x' : No results for path: $['x']"))
    );
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 PassStateEntered S", "3 2 ExecutionFailed"]);
}

#[test]
fn input_path_missing_on_a_task_is_not_caught_by_states_all() {
    let def = task(json!({
        "InputPath": "$.x",
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
        "End": true
    }));
    let mut def = def;
    def["States"]["Caught"] = json!({"Type": "Pass", "End": true});
    let (invoker, requests) = recording(|_| succeed(json!(1)));
    let out = run_with(&def, json!({}), invoker);
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        ("States.Runtime".to_string(), format!("{PREFIX}Invalid path '$.x' : No results for path: $['x']"))
    );
    assert!(seen(&requests).is_empty(), "the task must not run");
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 TaskStateEntered S", "3 2 ExecutionFailed"]);
}

// ----- Parameters -----------------------------------------------------------------------

#[test]
fn parameters_build_nested_objects_and_arrays() {
    let def = pass(json!({"Parameters": {
        "literal": "$.not.a.path",
        "num": 1,
        "nested": {"b.$": "$.x", "deeper": {"c.$": "$.y[0]"}},
        "arr": [1, {"d.$": "$.x"}, [2, {"e.$": "$.y"}]],
        "whole.$": "$",
        "nothing": null
    }}));
    let out = run(&def, json!({"x": "X", "y": [5, 6]}));
    assert_eq!(
        out.output(),
        json!({
            "literal": "$.not.a.path",
            "num": 1,
            "nested": {"b": "X", "deeper": {"c": 5}},
            "arr": [1, {"d": "X"}, [2, {"e": [5, 6]}]],
            "whole": {"x": "X", "y": [5, 6]},
            "nothing": null
        })
    );
}

#[test]
fn parameters_apply_after_input_path() {
    let def = pass(json!({"InputPath": "$.inner", "Parameters": {"v.$": "$.v"}}));
    let out = run(&def, json!({"inner": {"v": 42}, "v": 0}));
    assert_eq!(out.output(), json!({"v": 42}));
}

#[test]
fn parameters_read_the_context_object() {
    let def = pass(json!({"Parameters": {
        "name.$": "$$.Execution.Name",
        "state.$": "$$.State.Name",
        "machine.$": "$$.StateMachine.Name",
        "input.$": "$$.Execution.Input.a"
    }}));
    let out = run(&def, json!({"a": [1]}));
    assert_eq!(out.output(), json!({"name": "test", "state": "S", "machine": "test-machine", "input": [1]}));
}

#[test]
fn parameters_call_intrinsic_functions() {
    let def = pass(json!({"Parameters": {
        "greeting.$": "States.Format('Hello, {}! You are {}.', $.name, $.age)",
        "sum.$": "States.MathAdd($.age, 1)",
        "pair.$": "States.Array($.name, $.age)",
        "len.$": "States.ArrayLength($.list)",
        "parsed.$": "States.StringToJson($.text)",
        "text.$": "States.JsonToString($.list)",
        "split.$": "States.StringSplit('a,b,,c', ',')",
        "nested.$": "States.ArrayGetItem(States.Array($.age, 7), 1)"
    }}));
    let out = run(&def, json!({"name": "Ada", "age": 36, "list": [1, 2, 3], "text": "{\"k\":[true]}"}));
    assert_eq!(
        out.output(),
        json!({
            "greeting": "Hello, Ada! You are 36.",
            "sum": 37,
            "pair": ["Ada", 36],
            "len": 3,
            "parsed": {"k": [true]},
            "text": "[1,2,3]",
            "split": ["a", "b", "c"],
            "nested": 7
        })
    );
}

#[test]
fn parameters_missing_path_is_a_runtime_error() {
    let def = pass(json!({"Parameters": {"value.$": "$.x"}}));
    let out = run(&def, json!({"a": 1}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            format!(
                "{PREFIX}The JSONPath '$.x' specified for the field 'value.$' could not be found in the input '{{\"a\":1}}'"
            )
        )
    );
}

#[test]
fn intrinsic_failure_is_catchable_on_a_task() {
    let mut def = task(json!({
        "Parameters": {"v.$": "States.StringToJson($.s)"},
        "Catch": [{"ErrorEquals": ["States.IntrinsicFailure"], "ResultPath": "$.err", "Next": "Caught"}]
    }));
    def["States"]["Caught"] = json!({"Type": "Pass", "End": true});
    let (invoker, requests) = recording(|_| succeed(json!(1)));
    let out = run_with(&def, json!({"s": "not json"}), invoker);
    assert_eq!(out.status(), "SUCCEEDED");
    assert!(seen(&requests).is_empty());
    let output = out.output();
    assert_eq!(output["s"], "not json");
    assert_eq!(output["err"]["Error"], "States.IntrinsicFailure");
    // The detail after the function name is the JSON parser's message.
    let cause = output["err"]["Cause"].as_str().unwrap();
    assert!(cause.starts_with(&format!("{PREFIX}States.StringToJson: the string is not valid JSON")), "{cause}");
    assert_eq!(
        out.types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

// ----- Result and ResultPath ---------------------------------------------------------------

#[test]
fn pass_result_replaces_the_input() {
    let def = pass(json!({"Result": {"r": [1, 2]}}));
    let out = run(&def, json!({"x": 1}));
    assert_eq!(out.output(), json!({"r": [1, 2]}));
}

#[test]
fn pass_result_is_literal_even_with_dollar_keys() {
    let def = pass(json!({"Result": {"a.$": "$.x"}}));
    let out = run(&def, json!({"x": 1}));
    assert_eq!(out.output(), json!({"a.$": "$.x"}));
}

#[test]
fn result_path_dollar_replaces() {
    let def = pass(json!({"Result": "r", "ResultPath": "$"}));
    let out = run(&def, json!({"x": 1}));
    assert_eq!(out.output(), json!("r"));
}

#[test]
fn result_path_null_keeps_the_raw_input() {
    let def = pass(json!({"InputPath": "$.x", "Result": "r", "ResultPath": null}));
    let out = run(&def, json!({"x": 1, "y": 2}));
    assert_eq!(out.output(), json!({"x": 1, "y": 2}));
}

#[test]
fn result_path_creates_nested_fields() {
    let def = pass(json!({"Result": {"v": 1}, "ResultPath": "$.a.b"}));
    let out = run(&def, json!({"x": 1}));
    assert_eq!(out.output(), json!({"x": 1, "a": {"b": {"v": 1}}}));
}

#[test]
fn result_path_overwrites_an_existing_field_and_keeps_siblings() {
    let def = pass(json!({"Result": 2, "ResultPath": "$.a.b"}));
    let out = run(&def, json!({"a": {"b": 1, "c": 3}}));
    assert_eq!(out.output(), json!({"a": {"b": 2, "c": 3}}));
}

#[test]
fn result_path_combines_with_the_raw_input_not_the_effective_input() {
    let def = pass(json!({"InputPath": "$.x", "ResultPath": "$.r"}));
    let out = run(&def, json!({"x": {"v": 1}, "y": 2}));
    assert_eq!(out.output(), json!({"x": {"v": 1}, "y": 2, "r": {"v": 1}}));
}

#[test]
fn result_path_into_a_non_object_fails_with_result_path_match_failure() {
    let def = pass(json!({"Result": 1, "ResultPath": "$.a"}));
    let out = run(&def, json!("hello"));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.ResultPathMatchFailure".to_string(),
            format!("{PREFIX}Unable to apply ReferencePath $.a to input \"hello\"")
        )
    );
}

#[test]
fn result_path_match_failure_on_a_task_is_caught() {
    let mut def = task(json!({
        "ResultPath": "$.a.b",
        "Catch": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "Next": "Caught"}]
    }));
    def["States"]["Caught"] = json!({"Type": "Pass", "End": true});
    let out = run_with(&def, json!({"a": 5}), switchyard_tests::FnInvoker::new(|_| succeed(json!(1))));
    assert_eq!(out.status(), "SUCCEEDED");
    assert_eq!(
        out.output(),
        json!({
            "Error": "States.ResultPathMatchFailure",
            "Cause": format!("{PREFIX}Unable to apply ReferencePath $.a.b to input {{\"a\":5}}")
        })
    );
}

// ----- OutputPath ---------------------------------------------------------------------------

#[test]
fn output_path_dollar_keeps_everything() {
    let def = pass(json!({"OutputPath": "$"}));
    let out = run(&def, json!({"x": 1}));
    assert_eq!(out.output(), json!({"x": 1}));
}

#[test]
fn output_path_null_gives_an_empty_object() {
    let def = pass(json!({"OutputPath": null}));
    let out = run(&def, json!({"x": 1}));
    assert_eq!(out.output(), json!({}));
}

#[test]
fn output_path_applies_after_result_path() {
    let def = pass(json!({"Result": {"v": 9}, "ResultPath": "$.r", "OutputPath": "$.r.v"}));
    let out = run(&def, json!({"x": 1}));
    assert_eq!(out.output(), json!(9));
}

#[test]
fn output_path_missing_is_a_runtime_error_not_caught() {
    let mut def = task(json!({
        "OutputPath": "$.missing",
        "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "Caught"}, {"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
    }));
    def["States"]["Caught"] = json!({"Type": "Pass", "End": true});
    let out = run_with(&def, json!({}), switchyard_tests::FnInvoker::new(|_| succeed(json!({"a": 1}))));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        ("States.Runtime".to_string(), format!("{PREFIX}Invalid path '$.missing' : No results for path: $['missing']"))
    );
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 TaskStateEntered S",
            "3 2 LambdaFunctionScheduled",
            "4 3 LambdaFunctionStarted",
            "5 4 LambdaFunctionSucceeded",
            "6 5 ExecutionFailed"
        ]
    );
}

#[test]
fn output_path_can_read_the_context_object() {
    let def = pass(json!({"OutputPath": "$$.Execution.Input"}));
    let out = run(&def, json!({"orig": true}));
    assert_eq!(out.output(), json!({"orig": true}));
}

// ----- the whole pipeline on a Task -----------------------------------------------------

#[test]
fn task_pipeline_runs_in_order() {
    let def = task(json!({
        "InputPath": "$.req",
        "Parameters": {"id.$": "$.id", "fixed": "f"},
        "ResultSelector": {"v.$": "$.Payload.value", "code.$": "$.StatusCode"},
        "ResultPath": "$.res",
        "OutputPath": "$.res"
    }));
    let (invoker, requests) = recording(|req| {
        succeed(json!({"Payload": {"value": req.input["id"].as_i64().unwrap() * 2}, "StatusCode": 200}))
    });
    let out = run_with(&def, json!({"req": {"id": 21, "other": 0}, "keep": 1}), invoker);
    assert_eq!(out.output(), json!({"v": 42, "code": 200}));
    let reqs = seen(&requests);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].input, json!({"id": 21, "fixed": "f"}));
    assert_eq!(reqs[0].state_name, "S");
    assert_eq!(reqs[0].retry_count, 0);
}

#[test]
fn task_result_path_keeps_the_raw_input_around_the_result() {
    let def = task(json!({"InputPath": "$.a", "ResultPath": "$.out"}));
    let out = run_with(
        &def,
        json!({"a": 1, "b": 2}),
        switchyard_tests::FnInvoker::new(|req| succeed(json!({"got": req.input.clone()}))),
    );
    assert_eq!(out.output(), json!({"a": 1, "b": 2, "out": {"got": 1}}));
}

#[test]
fn result_selector_missing_path_is_a_runtime_error() {
    let def = task(json!({"ResultSelector": {"v.$": "$.nope"}}));
    let out = run_with(&def, json!({}), switchyard_tests::FnInvoker::new(|_| succeed(json!({"a": 1}))));
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            format!(
                "{PREFIX}The JSONPath '$.nope' specified for the field 'v.$' could not be found in the input '{{\"a\":1}}'"
            )
        )
    );
}

#[test]
fn task_failure_without_catch_fails_the_execution_with_its_error() {
    let def = task(json!({}));
    let out = run_with(&def, json!({}), switchyard_tests::FnInvoker::new(|_| fail("MyError", "it broke")));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("MyError".to_string(), "it broke".to_string()));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 TaskStateEntered S",
            "3 2 LambdaFunctionScheduled",
            "4 3 LambdaFunctionStarted",
            "5 4 LambdaFunctionFailed",
            "6 5 ExecutionFailed"
        ]
    );
}

#[test]
fn state_entered_and_exited_events_carry_input_and_output_text() {
    let def = pass(json!({"Result": {"b": 2}, "ResultPath": "$.r"}));
    let out = run(&def, json!({"a": 1}));
    assert_eq!(
        out.event_json(2)["stateEnteredEventDetails"],
        json!({"name": "S", "input": "{\"a\":1}", "inputDetails": {"truncated": false}})
    );
    assert_eq!(
        out.event_json(3)["stateExitedEventDetails"],
        json!({"name": "S", "output": "{\"a\":1,\"r\":{\"b\":2}}", "outputDetails": {"truncated": false}})
    );
    assert_eq!(
        out.event_json(4)["executionSucceededEventDetails"],
        json!({"output": "{\"a\":1,\"r\":{\"b\":2}}", "outputDetails": {"truncated": false}})
    );
}

#[test]
fn scalar_and_array_inputs_flow_through() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"},
        "B": {"Type": "Pass", "InputPath": "$[0]", "End": true}
    }});
    let out = run(&def, json!([[1], 2]));
    assert_eq!(out.output(), json!([1]));
    let out = run(&json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}), json!("s"));
    assert_eq!(out.output(), json!("s"));
}
