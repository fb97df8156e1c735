//! Errors of this crate: definition validation errors (what CreateStateMachine
//! reports) and runtime failures (what a state raises, matched by Retry/Catch).

use std::fmt;

/// The diagnostic code Step Functions attaches to a definition problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationCode {
    /// The definition is not valid JSON.
    InvalidJsonDescription,
    /// A field is missing, has the wrong type or value, or does not belong to the state type.
    SchemaValidationFailed,
    /// `Next`, `Default`, `StartAt` or a Catcher's `Next` names no state in its scope.
    MissingTransitionTarget,
    /// Two states share a name.
    DuplicateStateName,
    /// A state cannot be reached from `StartAt`.
    UnreachableState,
    /// No state of a block ends the block.
    NoTerminalState,
    /// A JSONPath or reference path does not parse.
    InvalidJsonPath,
    /// An intrinsic function call does not parse or is misused.
    InvalidIntrinsicFunction,
    /// A Task `Resource` is not an ARN this build can run.
    InvalidResource,
    /// A construct Step Functions accepts but this build does not run yet.
    Unsupported,
}

impl ValidationCode {
    /// The code as Step Functions spells it in `InvalidDefinition` messages and diagnostics.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationCode::InvalidJsonDescription => "INVALID_JSON_DESCRIPTION",
            ValidationCode::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            ValidationCode::MissingTransitionTarget => "MISSING_TRANSITION_TARGET",
            ValidationCode::DuplicateStateName => "DUPLICATE_STATE_NAME",
            ValidationCode::UnreachableState => "UNREACHABLE_STATE",
            ValidationCode::NoTerminalState => "NO_TERMINAL_STATE",
            ValidationCode::InvalidJsonPath => "INVALID_JSON_PATH",
            ValidationCode::InvalidIntrinsicFunction => "INVALID_INTRINSIC_FUNCTION",
            ValidationCode::InvalidResource => "INVALID_RESOURCE",
            ValidationCode::Unsupported => "UNSUPPORTED_FEATURE",
        }
    }
}

impl fmt::Display for ValidationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a definition, located by a JSON pointer (RFC 6901) into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// What kind of problem, in Step Functions' words.
    pub code: ValidationCode,
    /// JSON pointer of the offending field, e.g. `/States/Charge/Retry/0/ErrorEquals`.
    pub pointer: String,
    /// A sentence saying what is wrong.
    pub message: String,
}

impl ValidationError {
    /// A new error at `pointer`.
    pub fn new(code: ValidationCode, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError { code, pointer: pointer.into(), message: message.into() }
    }

    /// A `SCHEMA_VALIDATION_FAILED` error at `pointer`.
    pub fn schema(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ValidationCode::SchemaValidationFailed, pointer, message)
    }
}

impl fmt::Display for ValidationError {
    /// The Step Functions wording: `CODE: message at /pointer`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{}: {} at {}", self.code, self.message, at)
    }
}

impl std::error::Error for ValidationError {}

/// A runtime failure raised while a state runs: an error name (matched by
/// Retry/Catch) and a human-readable cause.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// The error name, e.g. `States.Runtime` or a task's own error type.
    pub error: String,
    /// The cause, free text (often JSON for task errors).
    pub cause: String,
}

impl Failure {
    /// A failure with the given name and cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure { error: error.into(), cause: cause.into() }
    }

    /// A `States.Runtime` failure.
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new(crate::names::RUNTIME, cause)
    }

    /// A `States.IntrinsicFailure` failure.
    pub fn intrinsic(cause: impl Into<String>) -> Self {
        Self::new(crate::names::INTRINSIC_FAILURE, cause)
    }

    /// True when no Retry or Catch may handle this failure.
    pub fn is_terminal(&self) -> bool {
        crate::names::is_terminal(&self.error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for Failure {}
