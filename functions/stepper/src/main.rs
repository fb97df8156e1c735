//! The stepper Lambda: applies one delivery (a state of an execution) and
//! dispatches what follows by invoking itself asynchronously. Wiring only:
//! the logic is `runtime::stepper`.
//!
//! Environment: `TABLE_NAME` (the execution table), `AWS_LAMBDA_FUNCTION_NAME`
//! (set by Lambda: where deliveries go), optional `SWITCHYARD_MOCKS` and
//! `SWITCHYARD_TEST_CASE` (answer Task states from a Step Functions Local mock
//! file; without them a Task fails with States.Runtime until task invokers land).

use std::sync::Arc;

use aws_adapters::{DynamoStateStore, LambdaDispatcher};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::stepper::Stepper;
use runtime::{Clock, Delivery, MockConfig, MockInvoker};

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| Error::from(format!("the environment variable {name} is not set")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = Arc::new(DynamoStateStore::new(aws_sdk_dynamodb::Client::new(&config), env("TABLE_NAME")?));
    let carrier = LambdaDispatcher::new(aws_sdk_lambda::Client::new(&config), env("AWS_LAMBDA_FUNCTION_NAME")?);
    let invoker = match (std::env::var("SWITCHYARD_MOCKS"), std::env::var("SWITCHYARD_TEST_CASE")) {
        (Ok(file), Ok(case)) => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
            let config = MockConfig::parse_str(&text).map_err(|e| e.to_string())?;
            let machine = env("SWITCHYARD_STATE_MACHINE")?;
            MockInvoker::new(&config, &machine, &case)?
        }
        _ => MockInvoker::none(),
    };
    let stepper = Arc::new(Stepper::new(store, Arc::new(invoker), carrier, Clock::Real));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Delivery>| {
        let stepper = stepper.clone();
        async move {
            let handled = stepper.handle(event.payload).await?;
            Ok::<_, Error>(serde_json::json!({"transitions": handled.transitions, "dispatched": handled.dispatched}))
        }
    }))
    .await
}
