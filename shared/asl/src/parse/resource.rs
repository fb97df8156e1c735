//! Parsing of Task `Resource` ARNs.
//!
//! Accepted forms:
//! - `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]` (legacy Lambda);
//! - `arn:<partition>:states:::<service>:<action>[.sync|.sync:2|.waitForTaskToken]`;
//! - `arn:<partition>:states:::aws-sdk:<service>:<action>[.waitForTaskToken]`.
//!
//! Activity ARNs are recognised but not supported yet.

use crate::resource::{Pattern, Resource};

/// Why a `Resource` cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResourceError {
    /// Valid in Step Functions, not run by this build (activities).
    Unsupported(String),
    /// Not a resource Step Functions accepts.
    Invalid(String),
}

impl ResourceError {
    /// The message, for the caller to place at the field's pointer.
    pub(crate) fn into_message(self) -> String {
        match self {
            ResourceError::Unsupported(m) | ResourceError::Invalid(m) => m,
        }
    }
}

/// See [`Resource::parse`].
pub fn parse_resource(text: &str) -> Result<Resource, String> {
    classify(text).map_err(ResourceError::into_message)
}

/// Parses a `Resource`, telling unsupported resources from invalid ones.
pub(crate) fn classify(text: &str) -> Result<Resource, ResourceError> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, rest] = parts.as_slice() else {
        return Err(not_recognized(text));
    };
    if *arn != "arn" || !is_partition(partition) {
        return Err(not_recognized(text));
    }
    match *service {
        "lambda" => lambda(text, region, account, rest),
        "states" if region.is_empty() && account.is_empty() => integration(text, rest),
        "states" if rest.starts_with("activity:") => {
            Err(ResourceError::Unsupported("activities are not supported yet".to_owned()))
        }
        _ => Err(not_recognized(text)),
    }
}

/// Step Functions' wording for a resource it does not know.
fn not_recognized(text: &str) -> ResourceError {
    ResourceError::Invalid(format!(
        "The resource provided {text} is not recognized. The value is not a valid resource ARN, \
         or the resource is not available in this region."
    ))
}

/// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`, …
fn is_partition(text: &str) -> bool {
    text == "aws"
        || text
            .strip_prefix("aws-")
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
}

/// A name made of ASCII letters, digits and the given extra characters.
fn is_name(text: &str, extra: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && text.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// `arn:<p>:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
fn lambda(text: &str, region: &str, account: &str, rest: &str) -> Result<Resource, ResourceError> {
    let region_ok = is_name(region, "-", 32) && region.chars().all(|c| !c.is_ascii_uppercase());
    let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
    let function_ok = match rest.split(':').collect::<Vec<_>>().as_slice() {
        ["function", name] => is_name(name, "-_", 64),
        ["function", name, qualifier] => is_name(name, "-_", 64) && is_name(qualifier, "-_$", 128),
        _ => false,
    };
    if region_ok && account_ok && function_ok {
        Ok(Resource::LambdaFunction { arn: text.to_owned() })
    } else {
        Err(not_recognized(text))
    }
}

/// Splits the integration pattern suffix off `body`.
fn split_pattern(body: &str) -> (&str, Pattern) {
    for pattern in [Pattern::Sync2, Pattern::Sync, Pattern::WaitForTaskToken] {
        if let Some(head) = body.strip_suffix(pattern.suffix()) {
            return (head, pattern);
        }
    }
    (body, Pattern::RequestResponse)
}

/// `arn:<p>:states:::<service>:<action>[pattern]`, `aws-sdk:<service>:<action>[pattern]`.
fn integration(text: &str, rest: &str) -> Result<Resource, ResourceError> {
    let (body, pattern) = split_pattern(rest);
    let segments: Vec<&str> = body.split(':').collect();
    let (service, action, sdk) = match segments.as_slice() {
        ["aws-sdk", service, action] => (format!("aws-sdk:{service}"), *action, true),
        [service, action] if *service != "aws-sdk" => ((*service).to_owned(), *action, false),
        _ => return Err(not_recognized(text)),
    };
    let service_name = service.trim_start_matches("aws-sdk:");
    if !is_name(service_name, "-", 64) || !is_name(action, "_", 128) {
        return Err(not_recognized(text));
    }
    if sdk && matches!(pattern, Pattern::Sync | Pattern::Sync2) {
        return Err(ResourceError::Invalid(format!(
            "The resource provided {text} is not recognized: AWS SDK integrations do not support \
             the '{}' integration pattern",
            pattern.suffix()
        )));
    }
    if pattern == Pattern::Sync2 && (service != "states" || action != "startExecution") {
        return Err(ResourceError::Invalid(format!(
            "The resource provided {text} is not recognized: '.sync:2' is only supported by \
             'states:startExecution'"
        )));
    }
    Ok(Resource::Integration { arn: text.to_owned(), service, action: action.to_owned(), pattern })
}
