//! Task states: Resource, timeouts, Credentials, and EXPRESS restrictions.

use serde_json::json;

use super::{LAMBDA, at, codes, errors, errors_with, schema, single, task};
use crate::error::ValidationCode::{InvalidResource, Unsupported};
use crate::parse::ParseOptions;

#[test]
fn resource_is_required_and_a_string() {
    let errs = errors(single(json!({ "Type": "Task", "End": true })));
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "The field 'Resource' is required but was missing");
    assert_eq!(codes(single(task(json!({ "Resource": 5 })))), [schema("/States/A/Resource")]);
}

#[test]
fn invalid_and_unsupported_resources() {
    let errs = errors(single(task(json!({ "Resource": "arn:aws:sqs:us-east-1:1:q" }))));
    assert_eq!(super::pairs(errs.clone()), [at(InvalidResource, "/States/A/Resource")]);
    assert!(errs[0].message.contains("is not recognized"), "{}", errs[0].message);
    let activity = "arn:aws:states:us-east-1:123456789012:activity:work";
    let errs = errors(single(task(json!({ "Resource": activity }))));
    assert_eq!(super::pairs(errs.clone()), [at(Unsupported, "/States/A/Resource")]);
    assert_eq!(errs[0].message, "activities are not supported yet");
}

#[test]
fn timeout_and_heartbeat_values() {
    for field in ["TimeoutSeconds", "HeartbeatSeconds"] {
        for value in [json!(0), json!(-1), json!(2.5), json!("10"), json!(100_000_000)] {
            let mut extra = json!({});
            extra[field] = value.clone();
            let pointer = format!("/States/A/{field}");
            assert_eq!(codes(single(task(extra))), [schema(&pointer)], "{field}: {value}");
        }
    }
    super::ok(single(task(json!({ "TimeoutSeconds": 99_999_999, "HeartbeatSeconds": 99_999_998 }))));
}

#[test]
fn literal_and_path_twins_are_exclusive() {
    let timeout = single(task(json!({ "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t" })));
    let errs = errors(timeout);
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A")]);
    assert_eq!(errs[0].message, "Only one of the fields 'TimeoutSeconds' and 'TimeoutSecondsPath' may be set");
    let heartbeat = single(task(json!({ "HeartbeatSeconds": 5, "HeartbeatSecondsPath": "$.h" })));
    assert_eq!(codes(heartbeat), [schema("/States/A")]);
}

#[test]
fn heartbeat_must_be_shorter_than_timeout() {
    for heartbeat in [10, 11] {
        let def = single(task(json!({ "TimeoutSeconds": 10, "HeartbeatSeconds": heartbeat })));
        assert_eq!(codes(def), [schema("/States/A/HeartbeatSeconds")]);
    }
    super::ok(single(task(json!({ "TimeoutSeconds": 10, "HeartbeatSeconds": 9 }))));
    super::ok(single(task(json!({ "HeartbeatSeconds": 500 }))));
}

#[test]
fn credentials_need_a_role_arn() {
    let errs = errors(single(task(json!({ "Credentials": {} }))));
    assert_eq!(super::pairs(errs.clone()), [schema("/States/A/Credentials")]);
    assert_eq!(errs[0].message, "The field 'RoleArn' is required but was missing");
    assert_eq!(
        errs[0].to_string(),
        "SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/A/Credentials"
    );
    let unknown = single(task(json!({ "Credentials": { "Role": "x" } })));
    assert_eq!(codes(unknown), [schema("/States/A/Credentials/Role"), schema("/States/A/Credentials")]);
    let wrong = single(task(json!({ "Credentials": { "RoleArn": 5 } })));
    assert_eq!(codes(wrong), [schema("/States/A/Credentials/RoleArn")]);
    let both = single(task(json!({ "Credentials": { "RoleArn": "a", "RoleArn.$": "$.r" } })));
    assert_eq!(codes(both), [schema("/States/A/Credentials")]);
    let not_object = single(task(json!({ "Credentials": "arn:aws:iam::123456789012:role/r" })));
    assert_eq!(codes(not_object), [schema("/States/A/Credentials")]);
}

#[test]
fn templates_must_be_objects() {
    let def = single(task(json!({ "Parameters": [1], "ResultSelector": "x" })));
    assert_eq!(codes(def), [schema("/States/A/Parameters"), schema("/States/A/ResultSelector")]);
}

#[test]
fn express_machines_refuse_sync_and_callbacks() {
    let express = ParseOptions { express: true };
    for (resource, suffix) in [
        ("arn:aws:states:::states:startExecution.sync", ".sync"),
        ("arn:aws:states:::states:startExecution.sync:2", ".sync:2"),
        ("arn:aws:states:::sqs:sendMessage.waitForTaskToken", ".waitForTaskToken"),
    ] {
        let errs = errors_with(single(task(json!({ "Resource": resource }))), express);
        assert_eq!(super::pairs(errs.clone()), [schema("/States/A/Resource")], "{resource}");
        let expected = format!("Express state machine does not support '{suffix}' service integration");
        assert_eq!(errs[0].message, expected);
    }
    let fine = single(task(json!({ "Resource": "arn:aws:states:::lambda:invoke" })));
    crate::parse::parse_definition_with(&fine, express).expect("request/response is fine");
    let lambda = single(task(json!({ "Resource": LAMBDA })));
    crate::parse::parse_definition_with(&lambda, express).expect("a Lambda ARN is fine");
}
