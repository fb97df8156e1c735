//! The errors of the API, as Step Functions' JSON protocol writes them:
//! HTTP 400 (409 for a conflict) and `{"__type": <shape>, "message": …}`.

use runtime::StoreError;
use serde_json::{Value, json};

/// One error answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct ApiError {
    /// The exception shape, e.g. `ExecutionDoesNotExist`.
    pub kind: &'static str,
    /// The message, in Step Functions' words where they are known.
    pub message: String,
}

impl ApiError {
    /// An error of shape `kind`.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        ApiError { kind, message: message.into() }
    }

    /// A `ValidationException`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }

    /// A `SerializationException` (the body is not the JSON the action takes).
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    /// The HTTP status the error is answered with.
    pub fn status(&self) -> u16 {
        match self.kind {
            "ConflictException" => 409,
            "InternalFailure" => 500,
            _ => 400,
        }
    }

    /// The response body.
    pub fn body(&self) -> Value {
        json!({"__type": self.kind, "message": self.message})
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ExecutionDoesNotExist(arn) => {
                ApiError::new("ExecutionDoesNotExist", format!("Execution Does Not Exist: '{arn}'"))
            }
            StoreError::ExecutionAlreadyExists(arn) => {
                ApiError::new("ExecutionAlreadyExists", format!("Execution Already Exists: '{arn}'"))
            }
            StoreError::InvalidToken(token) => ApiError::new("InvalidToken", format!("Invalid Token: '{token}'")),
            StoreError::Backend(message) => ApiError::new("InternalFailure", message),
        }
    }
}
