//! The sweeper Lambda (every minute, from an EventBridge schedule): hands to
//! the stepper every timer overdue by more than a grace period — its SQS
//! message or Scheduler schedule was lost — so a lost timer delays an
//! execution but never strands it; then drains the dead-letter queue into
//! the stepper, so a delivery that failed Lambda's retries is tried again
//! instead of leaving its execution RUNNING forever. Wiring only: the logic
//! is `aws_adapters::timer_rows` and `aws_adapters::dead_letters`.
//!
//! Environment: `TABLE_NAME` (the execution table), `STEPPER_FUNCTION_NAME`,
//! `DEAD_LETTER_QUEUE_URL`.
//!
//! Output: `{"swept": <timers handed on>, "deadLetters": {"handed": n, "failed": n, "unreadable": n}}`.

use std::time::Duration;

use aws_adapters::LambdaDispatcher;
use aws_adapters::dead_letters::DeadLetters;
use aws_adapters::timer_rows::TimerRows;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::{Clock, Delivery};
use serde_json::{Value, json};

/// The longest a tick spends draining the dead-letter queue (of the 60 s timeout).
const DRAIN_BUDGET: Duration = Duration::from_secs(40);

/// What a tick leaves unspent before its deadline: the last batch's
/// hand-overs and the answer.
const DEADLINE_MARGIN_MS: u64 = 10_000;

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| Error::from(format!("the environment variable {name} is not set")))
}

/// The drain's budget: [`DRAIN_BUDGET`], less if the invocation's deadline
/// (ms since the epoch) is nearer.
fn drain_budget(deadline_ms: u64, now_ms: i64) -> Duration {
    let left = deadline_ms.saturating_sub(u64::try_from(now_ms).unwrap_or(0)).saturating_sub(DEADLINE_MARGIN_MS);
    DRAIN_BUDGET.min(Duration::from_millis(left))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let rows = TimerRows::new(aws_adapters::store_client(&config), env("TABLE_NAME")?);
    let stepper = LambdaDispatcher::new(aws_sdk_lambda::Client::new(&config), env("STEPPER_FUNCTION_NAME")?);
    let dead_letters = DeadLetters::new(aws_sdk_sqs::Client::new(&config), env("DEAD_LETTER_QUEUE_URL")?);
    lambda_runtime::run(service_fn(move |tick: LambdaEvent<Value>| {
        let (rows, stepper, dead_letters) = (rows.clone(), stepper.clone(), dead_letters.clone());
        async move {
            let carry = |delivery: Delivery| {
                let stepper = stepper.clone();
                async move { stepper.dispatch(&delivery).await.map_err(|e| e.to_string()) }
            };
            // Each independent of the other: a failing table does not keep
            // the queue from draining, nor the other way round.
            let swept = rows.sweep(Clock::Real.now_ms(), carry).await;
            let budget = drain_budget(tick.context.deadline, Clock::Real.now_ms());
            let drained = dead_letters.drain(budget, carry).await;
            if let Err(error) = &swept {
                tracing::error!(%error, "timer sweep failed");
            }
            if let Err(error) = &drained {
                tracing::error!(%error, "dead-letter drain failed");
            }
            Ok::<_, Error>(json!({"swept": swept?, "deadLetters": drained?}))
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drain_stops_well_before_the_deadline() {
        assert_eq!(drain_budget(1_000_000, 0), DRAIN_BUDGET);
        assert_eq!(drain_budget(100_000, 70_000), Duration::from_secs(20));
        assert_eq!(drain_budget(100_000, 95_000), Duration::ZERO);
        assert_eq!(drain_budget(100_000, 200_000), Duration::ZERO);
    }
}
