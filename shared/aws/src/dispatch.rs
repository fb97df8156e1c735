//! The dispatcher of the deployed stepper: a delivery is an asynchronous
//! invocation (InvocationType Event) of the stepper function itself. Lambda
//! retries asynchronous invocations on error, which is what makes a crashed
//! step's effects happen again (see `runtime::driver`).

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use runtime::Delivery;

/// Why a delivery could not be handed to Lambda.
#[derive(Debug, thiserror::Error)]
#[error("could not dispatch to {function}: {message}")]
pub struct DispatchError {
    function: String,
    message: String,
}

/// Delivers by invoking a function asynchronously.
#[derive(Clone)]
pub struct LambdaDispatcher {
    client: Client,
    function: String,
}

impl LambdaDispatcher {
    /// Dispatches to `function` (a name or ARN; in the stepper, its own name).
    pub fn new(client: Client, function: impl Into<String>) -> Self {
        LambdaDispatcher { client, function: function.into() }
    }

    /// Hands one delivery to Lambda.
    pub async fn dispatch(&self, delivery: &Delivery) -> Result<(), DispatchError> {
        let fail = |message: String| DispatchError { function: self.function.clone(), message };
        let payload = serde_json::to_vec(delivery).map_err(|e| fail(e.to_string()))?;
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| fail(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

impl runtime::stepper::Carrier for LambdaDispatcher {
    async fn carry(&self, delivery: Delivery) -> Result<(), String> {
        self.dispatch(&delivery).await.map_err(|e| e.to_string())
    }
}

/// The deployed stepper's carrier: a delivery due now is an asynchronous
/// self-invocation; a timer (due later) goes to SQS or EventBridge Scheduler,
/// so no Lambda waits for it.
#[derive(Clone)]
pub struct TimedDispatcher {
    now: LambdaDispatcher,
    timers: std::sync::Arc<crate::timers::AwsTimers>,
    rows: crate::timer_rows::TimerRows,
}

/// Deliveries due within this many milliseconds are dispatched at once: the
/// receiving invocation sleeps the rest (a queue message could not be sooner).
pub const DISPATCH_HORIZON_MS: i64 = 1_000;

impl TimedDispatcher {
    /// Dispatches through `now`, arms timers through `timers`, each with a
    /// row in `rows` for the sweeper.
    pub fn new(now: LambdaDispatcher, timers: crate::timers::AwsTimers, rows: crate::timer_rows::TimerRows) -> Self {
        TimedDispatcher { now, timers: std::sync::Arc::new(timers), rows }
    }

    /// The timer rows.
    pub fn rows(&self) -> &crate::timer_rows::TimerRows {
        &self.rows
    }
}

impl runtime::stepper::Carrier for TimedDispatcher {
    async fn carry(&self, delivery: Delivery) -> Result<(), String> {
        let now_ms = runtime::Clock::Real.now_ms();
        match delivery.not_before_ms {
            Some(due) if due - now_ms > DISPATCH_HORIZON_MS => {
                // The row first: a crash before the arm leaves the sweeper something to find.
                self.rows.record(&delivery).await.map_err(|e| e.to_string())?;
                self.timers.arm(&delivery, now_ms).await.map(|_| ()).map_err(|e| e.to_string())
            }
            _ => self.now.dispatch(&delivery).await.map_err(|e| e.to_string()),
        }
    }
}
