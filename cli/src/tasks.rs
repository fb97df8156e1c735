//! The task invokers of `run` and `serve`: Lambda resources through a Lambda
//! Invoke endpoint (`cargo lambda watch`), DynamoDB resources through a
//! DynamoDB endpoint, everything else to `fallback`.

use aws_adapters::{DynamoTaskInvoker, LambdaInvoker, TaskRouter};
use runtime::TaskInvoker;

/// The router for the endpoints given.
pub async fn router<F: TaskInvoker>(
    lambda_endpoint: Option<&str>,
    dynamodb_endpoint: Option<&str>,
    fallback: F,
) -> TaskRouter<LambdaInvoker, F> {
    let lambda = match lambda_endpoint {
        Some(url) => Some(LambdaInvoker::for_endpoint(url).await),
        None => None,
    };
    let dynamodb = match dynamodb_endpoint {
        Some(url) => {
            Some(DynamoTaskInvoker::new(aws_sdk_dynamodb::Client::new(&aws_adapters::local_config(url).await)))
        }
        None => None,
    };
    TaskRouter::new(lambda, dynamodb, fallback)
}
