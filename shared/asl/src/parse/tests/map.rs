//! Map states: processor, mode, DISTRIBUTED-only fields, deferred features.

use serde_json::json;

use super::{at, codes, errors, map_state, schema, single};
use crate::error::ValidationCode::{MissingTransitionTarget, Unsupported};

fn distributed(execution: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut state = map_state("I", extra);
    state["ItemProcessor"]["ProcessorConfig"] = json!({ "Mode": "DISTRIBUTED", "ExecutionType": execution });
    state
}

#[test]
fn processor_is_required_and_unique() {
    let errs = errors(single(json!({ "Type": "Map", "End": true })));
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "The field 'ItemProcessor' is required but was missing");
    let both = map_state("I", json!({ "Iterator": { "StartAt": "J", "States": { "J": { "Type": "Succeed" } } } }));
    assert_eq!(codes(single(both)), [schema("/States/A")]);
    let not_object = single(json!({ "Type": "Map", "ItemProcessor": [], "End": true }));
    assert_eq!(codes(not_object), [schema("/States/A/ItemProcessor")]);
}

#[test]
fn processor_blocks_are_checked() {
    let iterator_config = single(json!({
        "Type": "Map",
        "Iterator": { "ProcessorConfig": {}, "StartAt": "J", "States": { "J": { "Type": "Succeed" } } },
        "End": true
    }));
    assert_eq!(codes(iterator_config), [schema("/States/A/Iterator/ProcessorConfig")]);
    let mut bad_start = map_state("I", json!({}));
    bad_start["ItemProcessor"]["StartAt"] = json!("Nope");
    assert_eq!(codes(single(bad_start)), [at(MissingTransitionTarget, "/States/A/ItemProcessor/StartAt")]);
}

#[test]
fn processor_config() {
    let mut bad_mode = map_state("I", json!({}));
    bad_mode["ItemProcessor"]["ProcessorConfig"] = json!({ "Mode": "FAST" });
    assert_eq!(codes(single(bad_mode)), [schema("/States/A/ItemProcessor/ProcessorConfig/Mode")]);
    let mut no_type = map_state("I", json!({}));
    no_type["ItemProcessor"]["ProcessorConfig"] = json!({ "Mode": "DISTRIBUTED" });
    let errs = errors(single(no_type));
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A/ItemProcessor/ProcessorConfig")]);
    assert_eq!(errs[0].message, "The field 'ExecutionType' is required but was missing");
    let mut inline_type = map_state("I", json!({}));
    inline_type["ItemProcessor"]["ProcessorConfig"] = json!({ "Mode": "INLINE", "ExecutionType": "STANDARD" });
    let errs = errors(single(inline_type));
    let pointer = "/States/A/ItemProcessor/ProcessorConfig/ExecutionType";
    assert_eq!(super::pairs(errs.clone()), [schema(pointer)]);
    assert_eq!(errs[0].message, "Field 'ExecutionType' is only supported in DISTRIBUTED mode");
    let bad_type = single(distributed("FAST", json!({})));
    assert_eq!(codes(bad_type), [schema(pointer)]);
    let mut extra = map_state("I", json!({}));
    extra["ItemProcessor"]["ProcessorConfig"] = json!({ "Foo": 1 });
    assert_eq!(codes(single(extra)), [schema("/States/A/ItemProcessor/ProcessorConfig/Foo")]);
    let mut not_object = map_state("I", json!({}));
    not_object["ItemProcessor"]["ProcessorConfig"] = json!("INLINE");
    assert_eq!(codes(single(not_object)), [schema("/States/A/ItemProcessor/ProcessorConfig")]);
}

#[test]
fn distributed_only_fields_in_inline_mode() {
    for field in ["ToleratedFailureCount", "ToleratedFailurePercentage", "Label"] {
        let mut extra = json!({});
        extra[field] = if field == "Label" { json!("x") } else { json!(1) };
        let errs = errors(single(map_state("I", extra)));
        let pointer = format!("/States/A/{field}");
        assert_eq!(super::pairs(errs.clone()), [schema(&pointer)], "{field}");
        assert_eq!(errs[0].message, format!("Field '{field}' is only supported in DISTRIBUTED mode"));
    }
    let paths = map_state("I", json!({ "ToleratedFailureCountPath": "$.c", "ToleratedFailurePercentagePath": "$.p" }));
    assert_eq!(
        codes(single(paths)),
        [schema("/States/A/ToleratedFailureCountPath"), schema("/States/A/ToleratedFailurePercentagePath")]
    );
}

#[test]
fn distributed_field_values() {
    for (field, value) in [
        ("ToleratedFailureCount", json!(-1)),
        ("ToleratedFailureCount", json!(1.5)),
        ("ToleratedFailurePercentage", json!(101)),
        ("ToleratedFailurePercentage", json!(-0.5)),
        ("ToleratedFailurePercentage", json!("5")),
        ("Label", json!(7)),
    ] {
        let mut extra = json!({});
        extra[field] = value.clone();
        let pointer = format!("/States/A/{field}");
        assert_eq!(codes(single(distributed("STANDARD", extra))), [schema(&pointer)], "{field}: {value}");
    }
    let twins = distributed("STANDARD", json!({ "ToleratedFailureCount": 1, "ToleratedFailureCountPath": "$.c" }));
    assert_eq!(codes(single(twins)), [schema("/States/A")]);
}

#[test]
fn labels() {
    for (label, message) in [
        ("", "Label cannot be empty"),
        (&"x".repeat(41), "Label cannot exceed 40 characters"),
        ("a b", "Label contains invalid character"),
        ("a$b", "Label contains invalid character"),
        ("tab\there", "Label contains invalid character"),
        ("nul\u{0}", "Label contains invalid character"),
        ("c1\u{85}", "Label contains invalid character"),
        ("quote\"", "Label contains invalid character"),
        ("back`tick", "Label contains invalid character"),
    ] {
        let errs = errors(single(distributed("STANDARD", json!({ "Label": label }))));
        assert_eq!(super::pairs(errs.clone()), [schema("/States/A/Label")], "{label:?}");
        assert_eq!(errs[0].message, message, "{label:?}");
    }
    super::ok(single(distributed("STANDARD", json!({ "Label": "x".repeat(40) }))));
    super::ok(single(distributed("STANDARD", json!({ "Label": "émoji-ok_1.2" }))));
}

#[test]
fn max_concurrency_values() {
    for value in [json!(-1), json!(1.5), json!("2")] {
        let def = single(map_state("I", json!({ "MaxConcurrency": value.clone() })));
        assert_eq!(codes(def), [schema("/States/A/MaxConcurrency")], "{value}");
    }
    let twins = map_state("I", json!({ "MaxConcurrency": 1, "MaxConcurrencyPath": "$.m" }));
    assert_eq!(codes(single(twins)), [schema("/States/A")]);
}

#[test]
fn item_selector_and_parameters_are_exclusive() {
    let def = single(map_state("I", json!({ "ItemSelector": {}, "Parameters": {} })));
    let errs = errors(def);
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "Only one of the fields 'ItemSelector' and 'Parameters' may be set");
}

#[test]
fn distributed_readers_and_writers_are_unsupported() {
    for (field, what) in [
        ("ItemReader", "distributed Map reading from S3"),
        ("ItemBatcher", "distributed Map batching"),
        ("ResultWriter", "distributed Map writing results to S3"),
    ] {
        let mut extra = json!({});
        extra[field] = json!({});
        let errs = errors(single(distributed("STANDARD", extra)));
        let pointer = format!("/States/A/{field}");
        assert_eq!(super::pairs(errs.clone()), [at(Unsupported, &pointer)], "{field}");
        assert_eq!(errs[0].message, format!("Field '{field}' is not supported yet ({what})"));
    }
}

#[test]
fn express_processor_refuses_sync_and_callbacks() {
    let mut state = distributed("EXPRESS", json!({}));
    state["ItemProcessor"]["States"]["I"] = json!({
        "Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync", "End": true
    });
    let errs = errors(single(state.clone()));
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A/ItemProcessor/States/I/Resource")]);
    assert_eq!(errs[0].message, "Express state machine does not support '.sync' service integration");
    // Deeper: an inline Map inside the EXPRESS processor is EXPRESS too.
    state["ItemProcessor"]["States"]["I"] = map_state("Deep", json!({}));
    state["ItemProcessor"]["States"]["I"]["ItemProcessor"]["States"]["Deep"] = json!({
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true
    });
    let pointer = "/States/A/ItemProcessor/States/I/ItemProcessor/States/Deep/Resource";
    assert_eq!(codes(single(state.clone())), [schema(pointer)]);
    // A STANDARD processor may use them.
    state["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = json!("STANDARD");
    super::ok(single(state));
}
