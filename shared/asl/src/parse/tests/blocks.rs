//! Top-level fields, block structure, state names, transitions and the graph.

use serde_json::json;

use super::{at, codes, errors, machine, schema, single};
use crate::error::ValidationCode::{
    DuplicateStateName, InvalidJsonDescription, MissingTransitionTarget, NoTerminalState, UnreachableState, Unsupported,
};
use crate::parse::parse_definition_str;

fn succeed() -> serde_json::Value {
    json!({ "Type": "Succeed" })
}

#[test]
fn definition_must_be_an_object() {
    assert_eq!(codes(json!([1])), [schema("")]);
    let errs = errors(json!("text"));
    assert_eq!(errs[0].message, "Definition must be a valid JSON object");
}

#[test]
fn invalid_json_text() {
    let errs = parse_definition_str("not a definition").expect_err("invalid");
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].code, errs[0].pointer.as_str()), (InvalidJsonDescription, ""));
}

#[test]
fn start_at_and_states_are_required() {
    let errs = errors(json!({}));
    assert_eq!(super::pairs(errs.clone()), [schema(""), schema("")]);
    assert_eq!(errs[0].message, "The field 'StartAt' is required but was missing");
    assert_eq!(errs[1].message, "The field 'States' is required but was missing");
    assert_eq!(errs[0].to_string(), "SCHEMA_VALIDATION_FAILED: The field 'StartAt' is required but was missing at /");
}

#[test]
fn unknown_top_level_field() {
    let mut def = single(succeed());
    def["Foo"] = json!(1);
    def["Assign"] = json!({});
    let errs = errors(def);
    assert_eq!(super::pairs(errs.clone()), [schema("/Foo"), schema("/Assign")]);
    assert_eq!(errs[0].message, "Field 'Foo' is not supported");
    assert_eq!(errs[0].to_string(), "SCHEMA_VALIDATION_FAILED: Field 'Foo' is not supported at /Foo");
}

#[test]
fn top_level_field_values() {
    for (field, value) in [
        ("Version", json!("2.0")),
        ("Version", json!(1)),
        ("Comment", json!(5)),
        ("TimeoutSeconds", json!(0)),
        ("TimeoutSeconds", json!(-5)),
        ("TimeoutSeconds", json!(1.0)),
        ("TimeoutSeconds", json!("1")),
        ("TimeoutSeconds", json!(100_000_000)),
        ("QueryLanguage", json!("XPath")),
        ("QueryLanguage", json!(true)),
    ] {
        let mut def = single(succeed());
        def[field] = value.clone();
        assert_eq!(codes(def), [schema(&format!("/{field}"))], "{field}: {value}");
    }
    let mut def = single(succeed());
    def["TimeoutSeconds"] = json!(1.0);
    assert_eq!(errors(def)[0].message, "The value of 'TimeoutSeconds' must be an integer");
    let mut def = single(succeed());
    def["TimeoutSeconds"] = json!(99_999_999);
    super::ok(def);
}

#[test]
fn jsonata_is_not_supported_yet() {
    let mut def = single(succeed());
    def["QueryLanguage"] = json!("JSONata");
    let errs = errors(def);
    assert_eq!(super::pairs(errs.clone()), [at(Unsupported, "/QueryLanguage")]);
    assert_eq!(errs[0].message, "JSONata is not supported yet");
}

#[test]
fn states_must_be_a_non_empty_object() {
    let empty = json!({ "StartAt": "A", "States": {} });
    assert_eq!(codes(empty), [schema("/States"), at(MissingTransitionTarget, "/StartAt")]);
    let array = json!({ "StartAt": "A", "States": [] });
    assert_eq!(codes(array), [schema("/States"), at(MissingTransitionTarget, "/StartAt")]);
}

#[test]
fn start_at_must_name_a_state() {
    let not_string = json!({ "StartAt": 5, "States": { "A": succeed() } });
    assert_eq!(codes(not_string), [schema("/StartAt")]);
    let missing = json!({ "StartAt": "Nope", "States": { "A": succeed() } });
    let errs = errors(missing);
    assert_eq!(super::pairs(errs.clone()), [at(MissingTransitionTarget, "/StartAt")]);
    assert_eq!(errs[0].message, "Missing 'StartAt' target: Nope");
}

#[test]
fn state_must_be_an_object_with_a_known_type() {
    assert_eq!(codes(single(json!(5))), [schema("/States/A")]);
    let errs = errors(single(json!({ "End": true })));
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "The field 'Type' is required but was missing");
    assert_eq!(codes(single(json!({ "Type": "Bogus", "End": true }))), [schema("/States/A/Type")]);
    assert_eq!(codes(single(json!({ "Type": 3, "End": true }))), [schema("/States/A/Type")]);
}

#[test]
fn next_must_name_a_state_of_the_block() {
    let errs = errors(single(json!({ "Type": "Pass", "Next": "Z" })));
    assert_eq!(super::pairs(errs.clone()), [at(MissingTransitionTarget, "/States/A/Next")]);
    assert_eq!(errs[0].message, "Missing 'Next' target: Z");
    assert_eq!(errs[0].to_string(), "MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at /States/A/Next");
}

#[test]
fn transitions_cannot_cross_blocks() {
    let into_parent = json!({
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{ "StartAt": "B", "States": { "B": { "Type": "Pass", "Next": "P" } } }],
                "End": true
            }
        }
    });
    assert_eq!(codes(into_parent), [at(MissingTransitionTarget, "/States/P/Branches/0/States/B/Next")]);
    let into_branch = json!({
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{ "StartAt": "B", "States": { "B": succeed() } }],
                "Next": "B"
            }
        }
    });
    assert_eq!(codes(into_branch), [at(MissingTransitionTarget, "/States/P/Next")]);
    let start_in_parent = json!({
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{ "StartAt": "P", "States": { "B": succeed() } }],
                "End": true
            }
        }
    });
    assert_eq!(codes(start_in_parent), [at(MissingTransitionTarget, "/States/P/Branches/0/StartAt")]);
}

#[test]
fn state_names_are_unique_across_the_machine() {
    let def = json!({
        "StartAt": "X",
        "States": {
            "X": {
                "Type": "Parallel",
                "Branches": [
                    { "StartAt": "X", "States": { "X": succeed() } },
                    { "StartAt": "Y", "States": { "Y": succeed() } },
                    { "StartAt": "Y", "States": { "Y": succeed() } }
                ],
                "End": true
            }
        }
    });
    let errs = errors(def);
    assert_eq!(
        super::pairs(errs.clone()),
        [
            at(DuplicateStateName, "/States/X/Branches/0/States/X"),
            at(DuplicateStateName, "/States/X/Branches/2/States/Y"),
        ]
    );
    assert_eq!(errs[0].message, "Duplicate State name: X");
}

#[test]
fn state_name_length() {
    let long = "n".repeat(81);
    let def = json!({ "StartAt": long, "States": { long.clone(): succeed() } });
    assert_eq!(codes(def), [schema(&format!("/States/{long}"))]);
    let empty = json!({ "StartAt": "", "States": { "": succeed() } });
    assert_eq!(codes(empty), [schema("/States/")]);
}

#[test]
fn unreachable_states() {
    let def = machine(json!({
        "A": { "Type": "Pass", "Next": "C" },
        "B": { "Type": "Pass", "Next": "C" },
        "C": succeed(),
        "a/b~c": succeed()
    }));
    let errs = errors(def);
    assert_eq!(
        super::pairs(errs.clone()),
        [at(UnreachableState, "/States/B"), at(UnreachableState, "/States/a~1b~0c")]
    );
    assert_eq!(errs[0].message, "State 'B' is not reachable");
}

#[test]
fn unreachable_inside_a_branch() {
    let def = single(json!({
        "Type": "Parallel",
        "Branches": [{ "StartAt": "B", "States": { "B": succeed(), "Orphan": succeed() } }],
        "End": true
    }));
    assert_eq!(codes(def), [at(UnreachableState, "/States/A/Branches/0/States/Orphan")]);
}

#[test]
fn no_terminal_state() {
    let cycle = machine(json!({
        "A": { "Type": "Pass", "Next": "B" },
        "B": { "Type": "Pass", "Next": "A" }
    }));
    assert_eq!(codes(cycle), [at(NoTerminalState, "/States")]);
    let in_branch = single(json!({
        "Type": "Parallel",
        "Branches": [{ "StartAt": "L", "States": { "L": { "Type": "Wait", "Seconds": 1, "Next": "L" } } }],
        "End": true
    }));
    assert_eq!(codes(in_branch), [at(NoTerminalState, "/States/A/Branches/0/States")]);
}

#[test]
fn a_broken_state_does_not_cascade() {
    // The missing Type and the bad Next are reported once each; no reachability noise.
    let def = machine(json!({
        "A": { "Next": "B" },
        "B": { "Type": "Pass", "Next": "Gone" }
    }));
    assert_eq!(codes(def), [schema("/States/A"), at(MissingTransitionTarget, "/States/B/Next")]);
}

#[test]
fn many_errors_reported_together() {
    let def = json!({
        "StartAt": "A",
        "TimeoutSeconds": 0,
        "Extra": true,
        "States": {
            "A": { "Type": "Pass", "Next": "Missing", "Bogus": 1 },
            "B": { "Type": "Task", "End": true },
            "P": {
                "Type": "Parallel",
                "Branches": [{ "StartAt": "A", "States": { "A": { "Type": "Succeed", "End": true } } }],
                "End": true
            }
        }
    });
    assert_eq!(
        codes(def),
        [
            schema("/TimeoutSeconds"),
            schema("/Extra"),
            schema("/States/A/Bogus"),
            at(MissingTransitionTarget, "/States/A/Next"),
            schema("/States/B"),
            at(DuplicateStateName, "/States/P/Branches/0/States/A"),
            schema("/States/P/Branches/0/States/A/End"),
            at(UnreachableState, "/States/B"),
            at(UnreachableState, "/States/P"),
        ]
    );
}
