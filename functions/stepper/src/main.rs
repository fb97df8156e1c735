//! The stepper Lambda: applies one delivery (a state of an execution) and
//! dispatches what follows — by invoking itself asynchronously when it is due
//! now, through the timer queue (SQS, up to 15 minutes) or EventBridge
//! Scheduler (longer) when it is due later. It is invoked with a delivery, or
//! by the timer queue with an SQS event of deliveries, or by its recovery
//! schedule with `{"recovery": {}}`: a recovery pass over every execution that
//! may still run (`runtime::recovery`, docs/architecture.md). Wiring only: the
//! logic is `runtime::stepper` and `runtime::recovery`.
//!
//! Environment: `TABLE_NAME` (the execution table), `AWS_REGION`, `AWS_LAMBDA_FUNCTION_NAME`
//! (set by Lambda: where deliveries go), `TIMER_QUEUE_URL`, `SCHEDULE_GROUP`
//! and `SCHEDULER_ROLE_ARN` (the timers), optional `SWITCHYARD_MOCKS`,
//! `SWITCHYARD_TEST_CASE` and `SWITCHYARD_STATE_MACHINE` (answer Task states
//! from a Step Functions Local mock file first; other states go to Lambda and
//! DynamoDB). A test setting: `SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS` (0..900,
//! default 900), the longest wait the timer queue carries — longer ones go to
//! Scheduler — so the local stack's tests take the Scheduler path in seconds.

use std::sync::Arc;

use api::{Api, ApiConfig, NestedInvoker};
use aws_adapters::timer_rows::TimerRows;
use aws_adapters::timers::{is_sqs_event, parse_sqs_event};
use aws_adapters::{
    AwsTimers, DynamoStateStore, DynamoTaskInvoker, LambdaDispatcher, LambdaInvoker, SchedulerTimers, SqsTimers,
    TaskRouter, TimedDispatcher,
};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::stepper::Stepper;
use runtime::{Clock, Delivery, MockConfig, MockInvoker, NoInvoker};
use serde_json::Value;
use tokio::sync::OnceCell;

type Tasks = NestedInvoker<DynamoStateStore, TimedDispatcher, TaskRouter<LambdaInvoker, NoInvoker>>;
type Invoker = MockInvoker<Tasks>;
type Step = Stepper<DynamoStateStore, Invoker, TimedDispatcher>;

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| Error::from(format!("the environment variable {name} is not set")))
}

/// The task invoker: Lambda and DynamoDB resources for real, nested
/// executions started on this deployment (through `api`), mocks first when configured.
fn invoker(config: &aws_config::SdkConfig, api: Arc<Api<DynamoStateStore, TimedDispatcher>>) -> Result<Invoker, Error> {
    // No SDK retries on task calls: Retry in the definition decides (with them,
    // one Invoke against `cargo lambda watch` ran the function three times).
    let lambda =
        aws_sdk_lambda::config::Builder::from(config).retry_config(aws_config::retry::RetryConfig::disabled()).build();
    let router = NestedInvoker::new(
        api,
        TaskRouter::new(
            Some(LambdaInvoker::new(aws_sdk_lambda::Client::from_conf(lambda))),
            Some(DynamoTaskInvoker::new(aws_sdk_dynamodb::Client::new(config))),
            NoInvoker,
        ),
    );
    Ok(match (std::env::var("SWITCHYARD_MOCKS"), std::env::var("SWITCHYARD_TEST_CASE")) {
        (Ok(file), Ok(case)) => {
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
            let mocks = MockConfig::parse_str(&text).map_err(|e| e.to_string())?;
            MockInvoker::with_fallback(&mocks, &env("SWITCHYARD_STATE_MACHINE")?, &case, router)?
        }
        _ => MockInvoker::passthrough(router),
    })
}

async fn stepper(config: &aws_config::SdkConfig, own_arn: &str) -> Result<Step, Error> {
    let store = Arc::new(DynamoStateStore::new(aws_adapters::store_client(config), env("TABLE_NAME")?));
    let mut timers = AwsTimers::new(
        SqsTimers::new(aws_sdk_sqs::Client::new(config), env("TIMER_QUEUE_URL")?),
        SchedulerTimers::new(
            aws_sdk_scheduler::Client::new(config),
            env("SCHEDULE_GROUP")?,
            own_arn,
            env("SCHEDULER_ROLE_ARN")?,
        ),
    );
    if let Ok(limit) = std::env::var("SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS") {
        let seconds: i64 = limit
            .parse()
            .map_err(|_| format!("SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS must be a number of seconds, not {limit:?}"))?;
        lambda_runtime::tracing::warn!(seconds, "test setting: the timer queue carries waits up to this only");
        timers = timers.with_queue_limit_ms(seconds.saturating_mul(1000));
    }
    let now = LambdaDispatcher::new(aws_sdk_lambda::Client::new(config), env("AWS_LAMBDA_FUNCTION_NAME")?);
    let rows = TimerRows::new(aws_adapters::store_client(config), env("TABLE_NAME")?);
    let carrier = TimedDispatcher::new(now, timers, rows);
    // Nested executions are started as StartExecution starts them; their
    // callback URLs come from the parent execution.
    let account = own_arn.split(':').nth(4).unwrap_or_default().to_string();
    let api_config = ApiConfig { region: env("AWS_REGION")?, account, callback_base_url: None, resources: None };
    let api = Arc::new(Api::new(store.clone(), carrier.clone(), Clock::Real, api_config));
    // A timer that arrives early (Scheduler fires minutes ahead) is armed again
    // for the rest; only the last second is slept here.
    Ok(Stepper::new(store, Arc::new(invoker(config, api)?), carrier, Clock::Real)
        .with_max_sleep_ms(aws_adapters::dispatch::DISPATCH_HORIZON_MS))
}

/// Executions a recovery pass carries on at once.
const RECOVERY_CONCURRENCY: usize = 4;

/// The recovery schedule's event (`{"recovery": {}}` in template.yaml).
fn is_recovery_event(payload: &Value) -> bool {
    payload.get("recovery").is_some()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Arc::new(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
    let cell: Arc<OnceCell<Arc<Step>>> = Arc::new(OnceCell::new());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (cell, config) = (cell.clone(), config.clone());
        async move {
            let own_arn = event.context.invoked_function_arn.clone();
            let stepper = cell.get_or_try_init(|| async { stepper(&config, &own_arn).await.map(Arc::new) }).await?;
            if is_recovery_event(&event.payload) {
                // This process carries nothing else: every listed execution is looked at.
                let done = runtime::recovery::recover_all(stepper.clone(), RECOVERY_CONCURRENCY, None).await?;
                return Ok(serde_json::json!({"recovery": {
                    "executions": done.executions, "redone": done.redone, "transitions": done.transitions,
                    "retired": done.retired, "failed": done.failed,
                }}));
            }
            let deliveries: Vec<Delivery> = if is_sqs_event(&event.payload) {
                parse_sqs_event(&event.payload)?
            } else {
                vec![serde_json::from_value(event.payload)?]
            };
            let (mut transitions, mut dispatched) = (0, 0);
            // An error fails the whole batch: SQS delivers it again, and what was applied is recognized.
            for delivery in deliveries {
                // A timer that is due is applied (or found stale) here: its row goes. One
                // that came early is armed again for the rest and keeps its row.
                let now = Clock::Real.now_ms();
                let due = delivery.not_before_ms.filter(|due| due - now <= aws_adapters::dispatch::DISPATCH_HORIZON_MS);
                let timer = due.map(|_| delivery.clone());
                let handled = stepper.handle(delivery).await?;
                if let Some(timer) = timer {
                    stepper.carrier().rows().handled(&timer).await?;
                }
                transitions += handled.transitions;
                dispatched += handled.dispatched;
            }
            Ok::<_, Error>(serde_json::json!({"transitions": transitions, "dispatched": dispatched}))
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recovery_schedule_event_is_told_from_deliveries_and_sqs_events() {
        assert!(is_recovery_event(&serde_json::json!({"recovery": {}})));
        let delivery = serde_json::to_value(Delivery::start("arn:aws:states:us-east-1:1:execution:m:e")).expect("json");
        assert!(!is_recovery_event(&delivery));
        assert!(!is_recovery_event(&serde_json::json!({"Records": []})));
    }
}
