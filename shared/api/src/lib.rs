//! The Step Functions API of Switchyard: the AWS JSON 1.0 protocol
//! (`X-Amz-Target: AWSStepFunctions.<Action>`) and the capability callback
//! URLs, over the store, catalog and carrier ports. The api Lambda (behind
//! API Gateway) and `switchyard serve` answer through the same [`http::route`].

pub mod error;
pub mod fields;
pub mod http;
pub mod names;
pub mod nested;
pub mod service;

pub use error::ApiError;
pub use http::{HttpRequest, HttpResponse, route};
pub use nested::NestedInvoker;
pub use service::{Api, ApiConfig, ResourcePolicy, StartRequest, Started};
