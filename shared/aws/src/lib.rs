//! Switchyard's AWS adapters: the DynamoDB implementation of the store port,
//! the Lambda dispatcher that continues executions by asynchronous
//! self-invocation, and the timers on SQS and EventBridge Scheduler. The pure
//! crates (`asl`, `engine`) never see these.

pub mod catalog;
pub mod dispatch;
pub mod dynamo;
pub mod dynamodb_invoker;
pub mod lambda_invoker;
pub mod router;
pub mod running;
mod tally;
pub mod timer_rows;
pub mod timers;

pub use dispatch::{LambdaDispatcher, TimedDispatcher};
pub use dynamo::{DynamoStateStore, KeyWrites, Metrics, MetricsSnapshot};
pub use dynamodb_invoker::DynamoTaskInvoker;
pub use lambda_invoker::LambdaInvoker;
pub use router::TaskRouter;
pub use timers::{AwsTimers, Route, SchedulerTimers, SqsTimers, TimerError};

/// SDK configuration for a local endpoint (DynamoDB Local, `cargo lambda watch`):
/// fixed test credentials, region us-east-1. Retries stay on (the default);
/// turn them off on a client that invokes tasks (see CONVENTIONS.md).
pub async fn local_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .test_credentials()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await
}
