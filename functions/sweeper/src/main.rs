//! The sweeper Lambda (every minute, from an EventBridge schedule): hands to
//! the stepper every timer overdue by more than a grace period — its SQS
//! message or Scheduler schedule was lost — so a lost timer delays an
//! execution but never strands it. Wiring only: the logic is
//! `aws_adapters::timer_rows`.
//!
//! Environment: `TABLE_NAME` (the execution table), `STEPPER_FUNCTION_NAME`.

use aws_adapters::LambdaDispatcher;
use aws_adapters::timer_rows::TimerRows;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::Clock;
use serde_json::{Value, json};

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| Error::from(format!("the environment variable {name} is not set")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let rows = TimerRows::new(aws_adapters::store_client(&config), env("TABLE_NAME")?);
    let stepper = LambdaDispatcher::new(aws_sdk_lambda::Client::new(&config), env("STEPPER_FUNCTION_NAME")?);
    lambda_runtime::run(service_fn(move |_tick: LambdaEvent<Value>| {
        let (rows, stepper) = (rows.clone(), stepper.clone());
        async move {
            let swept = rows
                .sweep(Clock::Real.now_ms(), |delivery| {
                    let stepper = stepper.clone();
                    async move { stepper.dispatch(&delivery).await.map_err(|e| e.to_string()) }
                })
                .await?;
            Ok::<_, Error>(json!({"swept": swept}))
        }
    }))
    .await
}
