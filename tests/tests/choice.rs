//! Choice states end to end: operators, composites, Default, no match.

use serde_json::{Value, json};
use switchyard_tests::run;

/// A Choice `C` with `rules` (each with its own Next), targets A and B, and
/// Default D when `default` is true. Each target outputs its own name.
fn machine(rules: Value, default: bool) -> Value {
    let mut choice = json!({"Type": "Choice", "Choices": rules});
    if default {
        choice["Default"] = json!("D");
    }
    // Only reachable states may be defined: add the targets the rules name.
    let text = choice.to_string();
    let mut states = json!({"C": choice});
    for target in ["A", "B", "D"] {
        if text.contains(&format!("\"{target}\"")) {
            states[target] = json!({"Type": "Pass", "Result": target, "End": true});
        }
    }
    json!({"StartAt": "C", "States": states})
}

fn pick(rules: Value, input: Value) -> String {
    let out = run(&machine(rules, true), input);
    out.output().as_str().unwrap().to_string()
}

#[test]
fn first_matching_rule_wins() {
    let rules = json!([
        {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "A"},
        {"Variable": "$.n", "NumericGreaterThan": 5, "Next": "B"}
    ]);
    assert_eq!(pick(rules.clone(), json!({"n": 11})), "A");
    assert_eq!(pick(rules.clone(), json!({"n": 7})), "B");
    assert_eq!(pick(rules, json!({"n": 5})), "D");
}

#[test]
fn string_operators() {
    let rules = json!([
        {"Variable": "$.s", "StringEquals": "x", "Next": "A"},
        {"Variable": "$.s", "StringMatches": "log-*.txt", "Next": "B"}
    ]);
    assert_eq!(pick(rules.clone(), json!({"s": "x"})), "A");
    assert_eq!(pick(rules.clone(), json!({"s": "log-2026.txt"})), "B");
    assert_eq!(pick(rules.clone(), json!({"s": "log-2026.csv"})), "D");
    // A number is never equal to a string: false, not an error.
    assert_eq!(pick(rules, json!({"s": 1})), "D");
}

#[test]
fn path_comparisons_compare_two_fields() {
    let rules = json!([
        {"Variable": "$.a", "NumericLessThanPath": "$.b", "Next": "A"},
        {"Variable": "$.a", "StringEqualsPath": "$.c", "Next": "B"}
    ]);
    assert_eq!(pick(rules.clone(), json!({"a": 1, "b": 2, "c": "z"})), "A");
    assert_eq!(pick(rules, json!({"a": "z", "b": 0, "c": "z"})), "B");
}

#[test]
fn timestamp_and_boolean_operators() {
    let rules = json!([
        {"Variable": "$.t", "TimestampLessThan": "2026-01-01T00:00:00Z", "Next": "A"},
        {"Variable": "$.flag", "BooleanEquals": true, "Next": "B"}
    ]);
    assert_eq!(pick(rules.clone(), json!({"t": "2025-12-31T23:59:59Z", "flag": true})), "A");
    assert_eq!(pick(rules.clone(), json!({"t": "2026-01-01T00:00:01Z", "flag": true})), "B");
    // Not a timestamp: the comparison is false.
    assert_eq!(pick(rules, json!({"t": "yesterday", "flag": false})), "D");
}

#[test]
fn type_tests_and_is_present() {
    let rules = json!([
        {"Variable": "$.maybe", "IsPresent": false, "Next": "A"},
        {"Variable": "$.maybe", "IsNull": true, "Next": "B"}
    ]);
    assert_eq!(pick(rules.clone(), json!({})), "A");
    assert_eq!(pick(rules.clone(), json!({"maybe": null})), "B");
    assert_eq!(pick(rules, json!({"maybe": 0})), "D");
}

#[test]
fn and_or_not_composites() {
    let rules = json!([
        {"And": [
            {"Variable": "$.n", "NumericGreaterThanEquals": 1},
            {"Variable": "$.n", "NumericLessThanEquals": 3}
        ], "Next": "A"},
        {"Or": [
            {"Variable": "$.s", "StringEquals": "x"},
            {"Not": {"Variable": "$.n", "NumericLessThan": 100}}
        ], "Next": "B"}
    ]);
    assert_eq!(pick(rules.clone(), json!({"n": 2, "s": "q"})), "A");
    assert_eq!(pick(rules.clone(), json!({"n": 5, "s": "x"})), "B");
    assert_eq!(pick(rules.clone(), json!({"n": 500, "s": "q"})), "B");
    assert_eq!(pick(rules, json!({"n": 50, "s": "q"})), "D");
}

#[test]
fn choice_passes_its_input_through_and_records_history() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": true, "Next": "A"}]},
        "A": {"Type": "Succeed"}
    }});
    let out = run(&def, json!({"go": true, "x": [1]}));
    assert_eq!(out.output(), json!({"go": true, "x": [1]}));
    assert_eq!(
        out.lines(),
        [
            "1 0 ExecutionStarted",
            "2 0 ChoiceStateEntered C",
            "3 2 ChoiceStateExited C",
            "4 3 SucceedStateEntered A",
            "5 4 SucceedStateExited A",
            "6 5 ExecutionSucceeded"
        ]
    );
}

#[test]
fn choice_input_path_and_output_path() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "InputPath": "$.in", "OutputPath": "$.v",
              "Choices": [{"Variable": "$.v", "NumericEquals": 1, "Next": "A"}]},
        "A": {"Type": "Succeed"}
    }});
    let out = run(&def, json!({"in": {"v": 1}}));
    assert_eq!(out.output(), json!(1));
}

#[test]
fn no_match_and_no_default_fails_with_no_choice_matched() {
    let out = run(&machine(json!([{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}]), false), json!({"n": 2}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(out.error(), ("States.NoChoiceMatched".to_string(), "No Matches!".to_string()));
    assert_eq!(out.lines(), ["1 0 ExecutionStarted", "2 0 ChoiceStateEntered C", "3 2 ExecutionFailed"]);
}

#[test]
fn missing_variable_is_a_runtime_error() {
    let out = run(&machine(json!([{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}]), true), json!({"m": 2}));
    assert_eq!(out.status(), "FAILED");
    assert_eq!(
        out.error(),
        (
            "States.Runtime".to_string(),
            "An error occurred while executing the state 'C' (entered at the event id #2). Invalid path '$.n': The choice state's condition path references an invalid value.".to_string()
        )
    );
}

#[test]
fn choice_loops_until_a_counter_reaches_its_limit() {
    let def = json!({"StartAt": "Init", "States": {
        "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.i", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [
            {"Variable": "$.i", "NumericGreaterThanEquals": 3, "Next": "Done"}
        ], "Default": "Inc"},
        "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Check"},
        "Done": {"Type": "Succeed"}
    }});
    let out = run(&def, json!({}));
    assert_eq!(out.output(), json!({"i": 3}));
    let entered: Vec<_> = out.types().into_iter().filter(|t| t.ends_with("Entered")).collect();
    assert_eq!(
        entered,
        [
            "PassStateEntered",
            "ChoiceStateEntered",
            "PassStateEntered",
            "ChoiceStateEntered",
            "PassStateEntered",
            "ChoiceStateEntered",
            "PassStateEntered",
            "ChoiceStateEntered",
            "SucceedStateEntered"
        ]
    );
}

#[test]
fn choice_variable_can_read_the_context_object() {
    let rules = json!([{"Variable": "$$.Execution.Name", "StringEquals": "test", "Next": "A"}]);
    assert_eq!(pick(rules, json!({})), "A");
}
