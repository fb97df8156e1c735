//! Switchyard's AWS adapters: the DynamoDB implementation of the store port,
//! the Lambda dispatcher that continues executions by asynchronous
//! self-invocation, the timers on SQS and EventBridge Scheduler, and the
//! draining of the dead-letter queue. The pure
//! crates (`asl`, `engine`) never see these.

pub mod catalog;
pub mod dead_letters;
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

/// The DynamoDB client of the execution store: the SDK's standard retry mode
/// (exponential backoff with full jitter) with more attempts than its
/// default three, so throttling (`ProvisionedThroughputExceededException`,
/// `ThrottlingException`, `RequestLimitExceeded`), 5xx answers, timeouts and
/// connection resets are ridden out inside one request instead of failing a
/// delivery; and a timeout per attempt, so a hung connection is retried
/// rather than waited on. What still fails is retried by the carrier of the
/// delivery (Lambda's retries, serve's backoff) and by recovery.
pub fn store_client(config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    use std::time::Duration;
    let retry = RetryConfig::standard()
        .with_max_attempts(STORE_MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(25))
        .with_max_backoff(Duration::from_secs(5));
    let timeouts = TimeoutConfig::builder().operation_attempt_timeout(Duration::from_secs(10)).build();
    let conf = aws_sdk_dynamodb::config::Builder::from(config).retry_config(retry).timeout_config(timeouts).build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// Attempts per DynamoDB request of the store (see [`store_client`]).
pub const STORE_MAX_ATTEMPTS: u32 = 8;

/// SDK configuration for a local endpoint (DynamoDB Local, `cargo lambda watch`):
/// fixed test credentials, region us-east-1. Retries stay on (the default);
/// turn them off on a client that invokes tasks (`cargo lambda watch` would run the function again).
pub async fn local_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .test_credentials()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await
}
