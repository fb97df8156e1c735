//! Task `Resource` ARNs.

use crate::parse::resource::{ResourceError, classify, parse_resource};
use crate::resource::{Pattern, Resource};

fn integration(arn: &str, service: &str, action: &str, pattern: Pattern) -> Resource {
    Resource::Integration { arn: arn.to_owned(), service: service.to_owned(), action: action.to_owned(), pattern }
}

#[test]
fn lambda_function_arns() {
    for arn in [
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn",
        "arn:aws:lambda:eu-west-3:000000000000:function:my_fn:prod",
        "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
        "arn:aws:lambda:us-east-1:123456789012:function:f:7",
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f",
    ] {
        assert_eq!(parse_resource(arn), Ok(Resource::LambdaFunction { arn: arn.to_owned() }), "{arn}");
    }
}

#[test]
fn service_integrations() {
    let cases = [
        ("arn:aws:states:::lambda:invoke", "lambda", "invoke", Pattern::RequestResponse),
        ("arn:aws:states:::lambda:invoke.waitForTaskToken", "lambda", "invoke", Pattern::WaitForTaskToken),
        ("arn:aws:states:::states:startExecution.sync", "states", "startExecution", Pattern::Sync),
        ("arn:aws:states:::states:startExecution.sync:2", "states", "startExecution", Pattern::Sync2),
        ("arn:aws:states:::dynamodb:putItem", "dynamodb", "putItem", Pattern::RequestResponse),
        ("arn:aws:states:::http:invoke", "http", "invoke", Pattern::RequestResponse),
        ("arn:aws:states:::emr-containers:startJobRun.sync", "emr-containers", "startJobRun", Pattern::Sync),
        ("arn:aws:states:::aws-sdk:s3:listObjectsV2", "aws-sdk:s3", "listObjectsV2", Pattern::RequestResponse),
        (
            "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            "aws-sdk:dynamodb",
            "putItem",
            Pattern::WaitForTaskToken,
        ),
        ("arn:aws-cn:states:::sqs:sendMessage", "sqs", "sendMessage", Pattern::RequestResponse),
    ];
    for (arn, service, action, pattern) in cases {
        assert_eq!(parse_resource(arn), Ok(integration(arn, service, action, pattern)), "{arn}");
    }
    let parsed = parse_resource("arn:aws:states:::states:startExecution.sync:2").expect("valid");
    assert_eq!((parsed.resource_type(), parsed.resource_name().as_str()), ("states", "startExecution.sync:2"));
}

#[test]
fn activities_are_unsupported() {
    let arn = "arn:aws:states:us-east-1:123456789012:activity:work";
    assert_eq!(classify(arn), Err(ResourceError::Unsupported("activities are not supported yet".to_owned())));
    assert_eq!(parse_resource(arn), Err("activities are not supported yet".to_owned()));
}

#[test]
fn pattern_restrictions() {
    for arn in [
        "arn:aws:states:::aws-sdk:s3:getObject.sync",
        "arn:aws:states:::aws-sdk:sfn:startExecution.sync:2",
        "arn:aws:states:::lambda:invoke.sync:2",
        "arn:aws:states:::states:startSyncExecution.sync:2",
    ] {
        assert!(matches!(classify(arn), Err(ResourceError::Invalid(_))), "{arn}");
    }
}

#[test]
fn invalid_resources() {
    for text in [
        "",
        "my-function",
        "arn:aws:lambda:us-east-1:123456789012:function",
        "arn:aws:lambda:us-east-1:123456789012:function:",
        "arn:aws:lambda:us-east-1:12345:function:f",
        "arn:aws:lambda::123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:layer:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f:a:b",
        "arn:aws:lambda:us-east-1:123456789012:function:bad name",
        "arn:azure:lambda:us-east-1:123456789012:function:f",
        "ARN:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:states:::",
        "arn:aws:states:::lambda",
        "arn:aws:states:::lambda:",
        "arn:aws:states:::lambda:invoke.sync:1",
        "arn:aws:states:::lambda:invoke.bogus",
        "arn:aws:states:::aws-sdk:s3",
        "arn:aws:states:::aws-sdk:s3:a:b",
        "arn:aws:states:us-east-1:123456789012:stateMachine:m",
        "arn:aws:sqs:us-east-1:123456789012:queue",
    ] {
        let result = classify(text);
        assert!(matches!(result, Err(ResourceError::Invalid(_))), "{text}: {result:?}");
    }
    let message = parse_resource("nope").expect_err("invalid");
    assert_eq!(
        message,
        "The resource provided nope is not recognized. The value is not a valid resource ARN, or the \
         resource is not available in this region."
    );
}
