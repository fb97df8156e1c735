//! The safety net under the timers (docs/architecture.md): every armed timer also has
//! a row in the execution table, deleted once the stepper has handled the
//! timer. The sweeper (every minute) hands on each timer overdue by more than
//! a grace period — its message or schedule was lost — so a lost timer delays
//! an execution but never strands it. A timer handed on twice is harmless: the
//! engine rejects the second.
//!
//! | pk | sk | item |
//! |---|---|---|
//! | `TIMER#<schedule name>` | `TIMER` | the delivery (JSON); `gsi1pk = TIMERS`, `gsi1sk = <due ms, 15 digits>#<name>` |

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use runtime::Delivery;

use crate::timers::{TimerError, schedule_name};

/// How late a timer may be before the sweeper hands it on (the SQS path can
/// be a second late, a Scheduler path a few; a minute covers retries).
pub const GRACE_MS: i64 = 60_000;

const PARTITION: &str = "TIMERS";

/// Why a timer row could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TimerRowError {
    /// The delivery could not be named or encoded.
    #[error(transparent)]
    Timer(#[from] TimerError),
    /// DynamoDB failed.
    #[error("timer rows: {0}")]
    Backend(String),
    /// A row holds no readable delivery.
    #[error("timer row {0} holds no delivery")]
    Corrupt(String),
}

fn backend<E: std::error::Error + 'static>(e: E) -> TimerRowError {
    TimerRowError::Backend(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string())
}

/// The timer rows of one table.
#[derive(Clone, Debug)]
pub struct TimerRows {
    client: Client,
    table: String,
}

fn key(name: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("TIMER#{name}"))),
        ("sk".to_string(), AttributeValue::S("TIMER".to_string())),
    ])
}

impl TimerRows {
    /// The rows in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        TimerRows { client, table: table.into() }
    }

    /// Records a pending timer (idempotent: the row is keyed by the timer).
    pub async fn record(&self, delivery: &Delivery) -> Result<(), TimerRowError> {
        let name = schedule_name(delivery)?;
        let due = delivery.not_before_ms.unwrap_or(0);
        let mut item = key(&name);
        item.insert("gsi1pk".into(), AttributeValue::S(PARTITION.into()));
        item.insert("gsi1sk".into(), AttributeValue::S(format!("{due:015}#{name}")));
        item.insert("delivery".into(), AttributeValue::S(serde_json::to_string(delivery).map_err(TimerError::from)?));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    /// Forgets a timer that was handled.
    pub async fn handled(&self, delivery: &Delivery) -> Result<(), TimerRowError> {
        let name = schedule_name(delivery)?;
        self.client.delete_item().table_name(&self.table).set_key(Some(key(&name))).send().await.map_err(backend)?;
        Ok(())
    }

    /// The timers due before `before_ms`, oldest first (at most `limit`).
    pub async fn overdue(&self, before_ms: i64, limit: i32) -> Result<Vec<Delivery>, TimerRowError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(crate::catalog::INDEX)
            .key_condition_expression("gsi1pk = :p AND gsi1sk < :before")
            .expression_attribute_values(":p", AttributeValue::S(PARTITION.into()))
            .expression_attribute_values(":before", AttributeValue::S(format!("{before_ms:015}")))
            .limit(limit)
            .send()
            .await
            .map_err(backend)?;
        out.items()
            .iter()
            .map(|item| {
                let text = item.get("delivery").and_then(|v| v.as_s().ok());
                let name = item.get("gsi1sk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                text.and_then(|t| serde_json::from_str(t).ok()).ok_or(TimerRowError::Corrupt(name))
            })
            .collect()
    }

    /// One sweep: hands every timer overdue by more than [`GRACE_MS`] at
    /// `now_ms` to `carry` (the stepper), due now. Rows stay until the stepper
    /// has handled their timer. Returns how many were handed on.
    pub async fn sweep<F, Fut>(&self, now_ms: i64, carry: F) -> Result<usize, TimerRowError>
    where
        F: Fn(Delivery) -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let overdue = self.overdue(now_ms - GRACE_MS, 1000).await?;
        let count = overdue.len();
        for delivery in overdue {
            carry(delivery).await.map_err(TimerRowError::Backend)?;
        }
        Ok(count)
    }
}
