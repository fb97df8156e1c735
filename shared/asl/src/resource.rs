//! Task `Resource` ARNs: which kind of work a Task state does, and the
//! `resourceType` / `resource` pair its history events report.

/// How a service integration waits (the suffix of its ARN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Pattern {
    /// No suffix: the call's response is the result.
    RequestResponse,
    /// `.sync`: run a job and wait for it to finish.
    Sync,
    /// `.sync:2` (nested executions): like `.sync`, output parsed as JSON.
    Sync2,
    /// `.waitForTaskToken`: wait for SendTaskSuccess/Failure with `$$.Task.Token`.
    WaitForTaskToken,
}

impl Pattern {
    /// The ARN suffix, including its leading dot (empty for request/response).
    pub fn suffix(self) -> &'static str {
        match self {
            Pattern::RequestResponse => "",
            Pattern::Sync => ".sync",
            Pattern::Sync2 => ".sync:2",
            Pattern::WaitForTaskToken => ".waitForTaskToken",
        }
    }
}

/// A parsed Task `Resource`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Resource {
    /// A Lambda function ARN used directly (legacy form): the result is the function's payload
    /// and history uses `LambdaFunction*` events.
    LambdaFunction {
        /// The ARN as written.
        arn: String,
    },
    /// `arn:aws:states:::<service>:<action>[.pattern]`, including `aws-sdk:<service>:<action>`.
    Integration {
        /// The ARN as written.
        arn: String,
        /// `lambda`, `dynamodb`, `states`, `http`, `aws-sdk:dynamodb`, … (the history's `resourceType`).
        service: String,
        /// `invoke`, `putItem`, `startExecution`, … (without the pattern suffix).
        action: String,
        /// The integration pattern.
        pattern: Pattern,
    },
}

impl Resource {
    /// Whether this is the service integration `arn:aws:states:::<service>:<action>`
    /// (any pattern).
    pub fn is_integration(&self, service: &str, action: &str) -> bool {
        matches!(self, Resource::Integration { service: s, action: a, .. } if s == service && a == action)
    }

    /// The resource ARN as written in the definition.
    pub fn arn(&self) -> &str {
        match self {
            Resource::LambdaFunction { arn } | Resource::Integration { arn, .. } => arn,
        }
    }

    /// The integration pattern (request/response for a plain Lambda ARN).
    pub fn pattern(&self) -> Pattern {
        match self {
            Resource::LambdaFunction { .. } => Pattern::RequestResponse,
            Resource::Integration { pattern, .. } => *pattern,
        }
    }

    /// The `resourceType` field of `TaskScheduled` etc. (`lambda`, `aws-sdk:dynamodb`, …).
    pub fn resource_type(&self) -> &str {
        match self {
            Resource::LambdaFunction { .. } => "lambda",
            Resource::Integration { service, .. } => service,
        }
    }

    /// The `resource` field of `TaskScheduled` etc.: the action with its pattern
    /// suffix (`invoke`, `startExecution.sync:2`), or the ARN of a plain Lambda function.
    pub fn resource_name(&self) -> String {
        match self {
            Resource::LambdaFunction { arn } => arn.clone(),
            Resource::Integration { action, pattern, .. } => format!("{action}{}", pattern.suffix()),
        }
    }

    /// The region named in the ARN, if any (`TaskScheduled.region`).
    pub fn region(&self) -> Option<&str> {
        let arn = self.arn();
        let region = arn.split(':').nth(3)?;
        if region.is_empty() { None } else { Some(region) }
    }

    /// Parses and checks a `Resource` string. Errors say what is wrong, for the
    /// caller to place at the field's pointer.
    pub fn parse(text: &str) -> Result<Resource, String> {
        crate::parse::resource::parse_resource(text)
    }
}
