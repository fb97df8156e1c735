//! Retry and Catch entries.

use serde_json::{Value, json};

use super::{at, codes, errors, machine, schema, single, task};
use crate::error::ValidationCode::{MissingTransitionTarget, UnreachableState, Unsupported};

fn retry(entries: Value) -> Value {
    single(task(json!({ "Retry": entries })))
}

#[test]
fn retry_must_be_an_array_of_objects() {
    assert_eq!(codes(retry(json!({}))), [schema("/States/A/Retry")]);
    assert_eq!(codes(retry(json!([5]))), [schema("/States/A/Retry/0")]);
    super::ok(retry(json!([])));
}

#[test]
fn error_equals_rules() {
    let missing = errors(retry(json!([{ "MaxAttempts": 1 }])));
    assert_eq!(super::pairs(missing.clone()), [schema("/States/A/Retry/0")]);
    assert_eq!(missing[0].message, "The field 'ErrorEquals' is required but was missing");
    let cases = [
        (json!([]), "/States/A/Retry/0/ErrorEquals"),
        (json!("E"), "/States/A/Retry/0/ErrorEquals"),
        (json!([5]), "/States/A/Retry/0/ErrorEquals/0"),
        (json!(["A", ""]), "/States/A/Retry/0/ErrorEquals/1"),
        (json!(["States.Bogus"]), "/States/A/Retry/0/ErrorEquals/0"),
        (json!(["States.all"]), "/States/A/Retry/0/ErrorEquals/0"),
        (json!(["States.ALL", "E"]), "/States/A/Retry/0/ErrorEquals"),
    ];
    for (value, pointer) in cases {
        let def = retry(json!([{ "ErrorEquals": value.clone() }]));
        assert_eq!(codes(def), [schema(pointer)], "{value}");
    }
    let errs = errors(retry(json!([{ "ErrorEquals": ["States.Bogus"] }])));
    assert_eq!(errs[0].message, "'States.Bogus' is not a predefined error name");
    let errs = errors(retry(json!([{ "ErrorEquals": ["States.ALL", "E"] }])));
    assert_eq!(errs[0].message, "'States.ALL' must appear alone in 'ErrorEquals'");
}

#[test]
fn states_all_only_in_the_last_retrier() {
    let def = retry(json!([{ "ErrorEquals": ["States.ALL"] }, { "ErrorEquals": ["E"] }]));
    let errs = errors(def);
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A/Retry/0/ErrorEquals")]);
    assert_eq!(errs[0].message, "'States.ALL' may only appear in the last retrier");
}

#[test]
fn retrier_field_values() {
    for (field, value) in [
        ("IntervalSeconds", json!(0)),
        ("IntervalSeconds", json!(100_000_000)),
        ("IntervalSeconds", json!(1.5)),
        ("MaxAttempts", json!(-1)),
        ("MaxAttempts", json!(100_000_000)),
        ("MaxAttempts", json!("3")),
        ("BackoffRate", json!(0.5)),
        ("BackoffRate", json!("2")),
        ("MaxDelaySeconds", json!(0)),
        ("MaxDelaySeconds", json!(31_622_401)),
        ("JitterStrategy", json!("PARTIAL")),
        ("JitterStrategy", json!(1)),
        ("Comment", json!(1)),
    ] {
        let mut entry = json!({ "ErrorEquals": ["E"] });
        entry[field] = value.clone();
        let pointer = format!("/States/A/Retry/0/{field}");
        assert_eq!(codes(retry(json!([entry]))), [schema(&pointer)], "{field}: {value}");
    }
    let edges = json!([{
        "ErrorEquals": ["E"], "IntervalSeconds": 99_999_999, "MaxAttempts": 99_999_999,
        "BackoffRate": 1.0, "MaxDelaySeconds": 31_622_400, "JitterStrategy": "NONE"
    }]);
    super::ok(retry(edges));
}

#[test]
fn retrier_unknown_fields() {
    let def = retry(json!([{ "ErrorEquals": ["E"], "Next": "A", "Assign": {} }]));
    assert_eq!(codes(def), [schema("/States/A/Retry/0/Next"), at(Unsupported, "/States/A/Retry/0/Assign")]);
}

#[test]
fn catchers() {
    let catch = |entries: Value| {
        machine(json!({
            "A": task(json!({ "Catch": entries })),
            "H": { "Type": "Succeed" }
        }))
    };
    super::ok(catch(json!([{ "ErrorEquals": ["E"], "Next": "H" }])));
    let missing = errors(catch(json!([{ "ErrorEquals": ["E"] }])));
    assert_eq!(super::pairs(missing.clone()), [schema("/States/A/Catch/0"), at(UnreachableState, "/States/H")]);
    assert_eq!(missing[0].message, "The field 'Next' is required but was missing");
    let unknown_target = catch(json!([{ "ErrorEquals": ["E"], "Next": "Z" }]));
    assert_eq!(
        codes(unknown_target),
        [at(MissingTransitionTarget, "/States/A/Catch/0/Next"), at(UnreachableState, "/States/H")]
    );
    let extra = catch(json!([{ "ErrorEquals": ["E"], "Next": "H", "MaxAttempts": 1, "Output": {} }]));
    assert_eq!(codes(extra), [schema("/States/A/Catch/0/MaxAttempts"), at(Unsupported, "/States/A/Catch/0/Output")]);
    let not_last = catch(json!([
        { "ErrorEquals": ["States.ALL"], "Next": "H" },
        { "ErrorEquals": ["E"], "Next": "H" }
    ]));
    let errs = errors(not_last);
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A/Catch/0/ErrorEquals")]);
    assert_eq!(errs[0].message, "'States.ALL' may only appear in the last catcher");
    let not_array = catch(json!({ "ErrorEquals": ["E"], "Next": "H" }));
    assert_eq!(codes(not_array), [schema("/States/A/Catch"), at(UnreachableState, "/States/H")]);
}

#[test]
fn catch_next_stays_in_its_block() {
    let def = json!({
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{
                    "StartAt": "T",
                    "States": { "T": task(json!({ "Catch": [{ "ErrorEquals": ["E"], "Next": "Out" }] })) }
                }],
                "Catch": [{ "ErrorEquals": ["States.ALL"], "Next": "Out" }],
                "End": true
            },
            "Out": { "Type": "Fail" }
        }
    });
    assert_eq!(codes(def), [at(MissingTransitionTarget, "/States/P/Branches/0/States/T/Catch/0/Next")]);
}
