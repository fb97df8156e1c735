//! The api Lambda: the Step Functions API (`POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Action>`) and the capability callback
//! URLs (`/callbacks/<token>/success|failure|heartbeat`) behind API Gateway.
//! Wiring only: the request handling is `api::route`, shared with `switchyard serve`.
//!
//! Environment: `TABLE_NAME` (the execution table) and `STEPPER_FUNCTION_NAME`
//! (where deliveries go). The region comes from `AWS_REGION`, the account
//! from the function's own ARN, the callback base URL from the first
//! request's API Gateway domain and stage.

mod gateway;

use std::sync::Arc;

use api::{Api, ApiConfig};
use aws_adapters::{DynamoStateStore, LambdaDispatcher};
use lambda_http::{Error, Request, RequestExt, service_fn};
use runtime::Clock;
use tokio::sync::OnceCell;

type Service = Api<DynamoStateStore, LambdaDispatcher>;

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| Error::from(format!("the environment variable {name} is not set")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = Arc::new(DynamoStateStore::new(aws_adapters::store_client(&config), env("TABLE_NAME")?));
    let carrier = LambdaDispatcher::new(aws_sdk_lambda::Client::new(&config), env("STEPPER_FUNCTION_NAME")?);
    let region = env("AWS_REGION")?;
    let service: Arc<OnceCell<Service>> = Arc::new(OnceCell::new());
    lambda_http::run(service_fn(move |request: Request| {
        let (service, store, carrier, region) = (service.clone(), store.clone(), carrier.clone(), region.clone());
        async move {
            let api = service
                .get_or_init(|| async {
                    let arn = request.lambda_context_ref().map(|c| c.invoked_function_arn.as_str()).unwrap_or("");
                    let account = arn.split(':').nth(4).unwrap_or("000000000000").to_string();
                    let resources = Some(api::ResourcePolicy {
                        supports: aws_adapters::router::supports,
                        described: aws_adapters::router::SUPPORTED,
                    });
                    let config =
                        ApiConfig { region, account, callback_base_url: gateway::base_url(&request), resources };
                    Api::new(store, carrier, Clock::Real, config)
                })
                .await;
            gateway::answer(api, &request).await
        }
    }))
    .await
}
