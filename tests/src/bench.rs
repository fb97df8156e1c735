//! What the benchmarks in tests/benches share: options from the environment,
//! percentiles, and the rate of bare conditional PutItem requests a DynamoDB
//! endpoint takes (the yardstick durable executions are measured against).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

/// The value of the environment variable `name` as a number, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.trim().replace(['_', ','], "").parse().ok()).unwrap_or(default)
}

/// The `p` quantile (0 to 1) of sorted durations, nearest rank; zero when there are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// How much a run of [`bare_puts`] does.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// As many requests as fit in this time.
    For(Duration),
    /// This many requests in all.
    Count(u64),
}

/// The shape of the items [`bare_puts`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `pk`, `sk` and a string body.
    Plain,
    /// A step item's key, attributes and binary body, with `ReturnConsumedCapacity: TOTAL`.
    Step,
}

/// Bare conditional PutItem requests (`attribute_not_exists(pk)`) of about
/// `size` bytes to `table`, `concurrency` at a time, until `budget` is spent;
/// returns the requests per second. `round` keeps each call's keys apart.
pub async fn bare_puts(
    client: &Client,
    table: &str,
    size: usize,
    concurrency: usize,
    budget: Budget,
    shape: Shape,
    round: usize,
) -> Result<f64, String> {
    let started = Instant::now();
    let claimed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for lane in 0..concurrency.max(1) {
        let (client, table, claimed) = (client.clone(), table.to_string(), claimed.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            let body = "x".repeat(size.saturating_sub(60));
            loop {
                let more = match budget {
                    Budget::For(duration) => started.elapsed() < duration,
                    Budget::Count(count) => claimed.fetch_add(1, Ordering::Relaxed) < count,
                };
                if !more {
                    return Ok::<u64, String>(n);
                }
                let mut item = HashMap::new();
                let mut capacity = None;
                match shape {
                    Shape::Step => {
                        item.insert(
                            "pk".to_string(),
                            AttributeValue::S(format!(
                                "EX#arn:aws:states:us-east-1:123456789012:execution:load:shaped-{round}-{lane}"
                            )),
                        );
                        item.insert("sk".to_string(), AttributeValue::S(format!("STEP##{n:020}")));
                        item.insert("cause".to_string(), AttributeValue::S(format!("event|{n}")));
                        item.insert("at".to_string(), AttributeValue::N("1763776000000".to_string()));
                        let bytes: Vec<u8> = (0..size.saturating_sub(160)).map(|i| (i * 7919 % 251) as u8).collect();
                        item.insert("body".to_string(), AttributeValue::B(Blob::new(bytes)));
                        capacity = Some(ReturnConsumedCapacity::Total);
                    }
                    Shape::Plain => {
                        item.insert("pk".to_string(), AttributeValue::S(format!("BARE#{round}#{lane}")));
                        item.insert("sk".to_string(), AttributeValue::S(format!("STEP##{n:020}")));
                        item.insert("body".to_string(), AttributeValue::S(body.clone()));
                    }
                }
                client
                    .put_item()
                    .table_name(&table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .set_return_consumed_capacity(capacity)
                    .send()
                    .await
                    .map_err(|e| format!("bare PutItem: {}", DisplayErrorContext(e)))?;
                n += 1;
            }
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.map_err(|e| e.to_string())??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
