//! Fields every state shares, the field × state matrix, Next/End, and the
//! Pass, Choice, Wait, Succeed, Fail and Parallel specifics that need no
//! path or rule compiler.

use serde_json::{Value, json};

use super::{at, codes, errors, machine, schema, single};
use crate::error::ValidationCode::{InvalidJsonPath, Unsupported};

#[test]
fn next_and_end_together() {
    let def = machine(json!({
        "A": { "Type": "Pass", "Next": "B", "End": true },
        "B": { "Type": "Succeed" }
    }));
    let errs = errors(def);
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "Only one of the fields 'Next' and 'End' may be set");
}

#[test]
fn neither_next_nor_end() {
    for ty in ["Pass", "Parallel", "Map", "Task", "Wait"] {
        let mut state = match ty {
            "Parallel" => {
                json!({ "Branches": [{ "StartAt": "x", "States": { "x": { "Type": "Succeed" } } }] })
            }
            "Map" => {
                json!({ "ItemProcessor": { "StartAt": "x", "States": { "x": { "Type": "Succeed" } } } })
            }
            "Task" => json!({ "Resource": super::LAMBDA }),
            "Wait" => json!({ "Seconds": 1 }),
            _ => json!({}),
        };
        state["Type"] = json!(ty);
        assert_eq!(codes(single(state)), [schema("/States/A")], "{ty}");
    }
}

#[test]
fn end_false_alone_and_bad_types() {
    let errs = errors(single(json!({ "Type": "Pass", "End": false })));
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A/End")]);
    assert_eq!(codes(single(json!({ "Type": "Pass", "End": "yes" }))), [schema("/States/A/End")]);
    assert_eq!(codes(single(json!({ "Type": "Pass", "Next": 5 }))), [schema("/States/A/Next")]);
}

/// Every field that belongs to no state type, or not to this one.
#[test]
fn fields_that_do_not_belong_to_the_state_type() {
    let cases: [(Value, &str); 12] = [
        (json!({ "Type": "Pass", "End": true, "Resource": super::LAMBDA }), "Resource"),
        (json!({ "Type": "Pass", "End": true, "Retry": [] }), "Retry"),
        (json!({ "Type": "Pass", "End": true, "Catch": [] }), "Catch"),
        (json!({ "Type": "Pass", "End": true, "ResultSelector": {} }), "ResultSelector"),
        (json!({ "Type": "Pass", "End": true, "TimeoutSeconds": 5 }), "TimeoutSeconds"),
        (json!({ "Type": "Wait", "Seconds": 1, "End": true, "Parameters": {} }), "Parameters"),
        (json!({ "Type": "Wait", "Seconds": 1, "End": true, "ResultPath": null }), "ResultPath"),
        (json!({ "Type": "Succeed", "End": true }), "End"),
        (json!({ "Type": "Succeed", "Result": 1 }), "Result"),
        (json!({ "Type": "Fail", "InputPath": "$" }), "InputPath"),
        (json!({ "Type": "Fail", "OutputPath": "$" }), "OutputPath"),
        (json!({ "Type": "Fail", "Foo": 1 }), "Foo"),
    ];
    for (state, field) in cases {
        let errs = errors(single(state));
        let pointer = format!("/States/A/{field}");
        assert_eq!(super::pairs(errs.clone()), [schema(&pointer)], "{field}");
        assert_eq!(errs[0].message, format!("Field '{field}' is not supported"));
    }
}

#[test]
fn succeed_and_fail_have_no_next() {
    let def = machine(json!({
        "A": { "Type": "Succeed", "Next": "B" },
        "B": { "Type": "Fail", "Next": "A" }
    }));
    assert_eq!(codes(def), [schema("/States/A/Next"), schema("/States/B/Next")]);
}

#[test]
fn choice_checks_that_need_no_rule_compiler() {
    let def = machine(json!({
        "A": { "Type": "Choice", "Choices": [], "Default": "B", "End": true, "Next": "B" },
        "B": { "Type": "Succeed" }
    }));
    assert_eq!(codes(def), [schema("/States/A/End"), schema("/States/A/Next"), schema("/States/A/Choices")]);
    let missing = machine(json!({ "A": { "Type": "Choice", "Default": "B" }, "B": { "Type": "Succeed" } }));
    let errs = errors(missing);
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "The field 'Choices' is required but was missing");
    let not_objects =
        machine(json!({ "A": { "Type": "Choice", "Choices": [1], "Default": "B" }, "B": { "Type": "Succeed" } }));
    assert_eq!(codes(not_objects), [schema("/States/A/Choices/0")]);
    let not_array =
        machine(json!({ "A": { "Type": "Choice", "Choices": {}, "Default": "B" }, "B": { "Type": "Succeed" } }));
    assert_eq!(codes(not_array), [schema("/States/A/Choices")]);
}

#[test]
fn deferred_features_are_unsupported() {
    for field in ["Assign", "Output", "Arguments", "Items"] {
        let mut state = json!({ "Type": "Pass", "End": true });
        state[field] = json!({});
        let errs = errors(single(state));
        let pointer = format!("/States/A/{field}");
        assert_eq!(super::pairs(errs.clone()), [at(Unsupported, &pointer)], "{field}");
    }
    let errs = errors(single(json!({ "Type": "Pass", "End": true, "Assign": {} })));
    assert_eq!(errs[0].message, "Field 'Assign' is not supported: workflow variables are not supported yet");
    let errs = errors(single(json!({ "Type": "Pass", "End": true, "Output": {} })));
    assert_eq!(errs[0].message, "Field 'Output' is not supported: JSONata is not supported yet");
    let errs = errors(single(json!({ "Type": "Pass", "End": true, "QueryLanguage": "JSONata" })));
    assert_eq!(super::pairs(errs.clone()), [at(Unsupported, "/States/A/QueryLanguage")]);
    assert_eq!(errs[0].message, "JSONata is not supported yet");
    let bad = single(json!({ "Type": "Pass", "End": true, "QueryLanguage": "SQL" }));
    assert_eq!(codes(bad), [schema("/States/A/QueryLanguage")]);
}

#[test]
fn common_field_types() {
    let comment = single(json!({ "Type": "Succeed", "Comment": 1 }));
    assert_eq!(codes(comment), [schema("/States/A/Comment")]);
    let input = single(json!({ "Type": "Succeed", "InputPath": 1 }));
    assert_eq!(codes(input), [schema("/States/A/InputPath")]);
    let output = single(json!({ "Type": "Succeed", "OutputPath": [] }));
    assert_eq!(codes(output), [schema("/States/A/OutputPath")]);
    let result_path = single(json!({ "Type": "Pass", "End": true, "ResultPath": 2 }));
    assert_eq!(codes(result_path), [schema("/States/A/ResultPath")]);
    let parameters = single(json!({ "Type": "Pass", "End": true, "Parameters": "x" }));
    assert_eq!(codes(parameters), [schema("/States/A/Parameters")]);
}

#[test]
fn result_path_cannot_use_the_context_object() {
    let def = single(json!({ "Type": "Pass", "End": true, "ResultPath": "$$.Execution" }));
    assert_eq!(codes(def), [at(InvalidJsonPath, "/States/A/ResultPath")]);
}

#[test]
fn wait_needs_exactly_one_duration() {
    let none = errors(single(json!({ "Type": "Wait", "End": true })));
    assert_eq!(super::pairs(none), [schema("/States/A")]);
    let two = single(json!({ "Type": "Wait", "Seconds": 1, "Timestamp": "2024-01-01T00:00:00Z", "End": true }));
    let errs = errors(two);
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "Only one of the fields 'Seconds', 'Timestamp' may be set");
    let paths = single(json!({ "Type": "Wait", "SecondsPath": "$.a", "TimestampPath": "$.b", "End": true }));
    assert_eq!(codes(paths), [schema("/States/A")]);
}

#[test]
fn wait_seconds_values() {
    for value in [json!(-1), json!(1.5), json!("5"), json!(100_000_000), json!(null)] {
        let def = single(json!({ "Type": "Wait", "Seconds": value.clone(), "End": true }));
        assert_eq!(codes(def), [schema("/States/A/Seconds")], "{value}");
    }
    let def = single(json!({ "Type": "Wait", "Seconds": 99_999_999, "End": true }));
    super::ok(def);
}

#[test]
fn fail_fields() {
    let both = single(json!({ "Type": "Fail", "Error": "E", "ErrorPath": "$.e" }));
    let errs = errors(both);
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "Only one of the fields 'Error' and 'ErrorPath' may be set");
    let causes = single(json!({ "Type": "Fail", "Cause": "C", "CausePath": "$.c" }));
    assert_eq!(codes(causes), [schema("/States/A")]);
    let not_string = single(json!({ "Type": "Fail", "Error": 5, "Cause": {} }));
    assert_eq!(codes(not_string), [schema("/States/A/Error"), schema("/States/A/Cause")]);
}

#[test]
fn parallel_branches() {
    let missing = single(json!({ "Type": "Parallel", "End": true }));
    assert_eq!(codes(missing), [schema("/States/A")]);
    let empty = single(json!({ "Type": "Parallel", "Branches": [], "End": true }));
    assert_eq!(codes(empty), [schema("/States/A/Branches")]);
    let not_object = single(json!({ "Type": "Parallel", "Branches": [5], "End": true }));
    assert_eq!(codes(not_object), [schema("/States/A/Branches/0")]);
    let no_start = single(json!({
        "Type": "Parallel",
        "Branches": [{ "States": { "x": { "Type": "Succeed" } } }],
        "End": true
    }));
    assert_eq!(codes(no_start), [schema("/States/A/Branches/0")]);
    let extra = single(json!({
        "Type": "Parallel",
        "Branches": [{ "StartAt": "x", "States": { "x": { "Type": "Succeed" } }, "TimeoutSeconds": 5 }],
        "End": true
    }));
    assert_eq!(codes(extra), [schema("/States/A/Branches/0/TimeoutSeconds")]);
    let no_states = single(json!({ "Type": "Parallel", "Branches": [{ "StartAt": "x" }], "End": true }));
    assert_eq!(
        codes(no_states),
        [
            schema("/States/A/Branches/0"),
            at(crate::error::ValidationCode::MissingTransitionTarget, "/States/A/Branches/0/StartAt")
        ]
    );
}
