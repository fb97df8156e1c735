//! Timers in AWS (docs/architecture.md): a timer is a [`Delivery`] with a
//! `notBeforeMs` that must reach the stepper Lambda no earlier than that
//! instant. Two carriers, chosen by [`route`]:
//!
//! - **SQS** ([`SqsTimers`]) for delays up to 900 s: one message whose
//!   `DelaySeconds` is the delay rounded *up* to the second, so it is never
//!   early and at most ~1 s late.
//! - **EventBridge Scheduler** ([`SchedulerTimers`]) for longer ones: a
//!   one-time schedule, which is only minute-precise, set [`LEAD_MS`] before
//!   the due time and truncated to the minute. It fires early by design; the
//!   stepper sees `notBeforeMs` still ahead and re-arms the remainder (at most
//!   `LEAD_MS` + 1 minute, well under 900 s) on SQS.
//!
//! Both carry the delivery's own JSON, so the stepper receives the same
//! [`Delivery`] it would get by direct invocation — wrapped in an SQS event
//! when it comes from the queue ([`parse_sqs_event`]).

use aws_sdk_scheduler::error::DisplayErrorContext;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};
use runtime::Delivery;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The longest delay SQS carries (its `DelaySeconds` maximum, in ms).
pub const MAX_QUEUE_DELAY_MS: i64 = 900_000;

/// How long before the due time a Scheduler schedule is set (before it is
/// truncated to the minute): room for Scheduler's lateness within its minute.
pub const LEAD_MS: i64 = 180_000;

/// Scheduler's retries of a failed target invocation (its default).
pub const SCHEDULER_MAX_RETRY_ATTEMPTS: i32 = 185;

/// How long Scheduler keeps retrying an event, in seconds (its default, one day).
pub const SCHEDULER_MAX_EVENT_AGE_SECONDS: i32 = 86_400;

/// Why a timer could not be armed, or an SQS event not read.
#[derive(Debug, thiserror::Error)]
pub enum TimerError {
    /// The delivery could not be written as JSON.
    #[error("could not encode the delivery: {0}")]
    Encode(#[from] serde_json::Error),
    /// Scheduler carries only timers: the delivery has no `notBeforeMs`.
    #[error("the delivery for {execution_arn} has no notBeforeMs: it is not a timer")]
    NotATimer {
        /// The delivery's execution.
        execution_arn: String,
    },
    /// SendMessage failed.
    #[error("SQS SendMessage to {queue_url} failed: {message}")]
    Sqs {
        /// The queue.
        queue_url: String,
        /// The SDK's error, with its context.
        message: String,
    },
    /// A request to Scheduler could not be built.
    #[error("could not build the Scheduler request: {0}")]
    Build(String),
    /// CreateSchedule failed (other than with ConflictException).
    #[error("Scheduler CreateSchedule {group}/{name} failed: {message}")]
    Scheduler {
        /// The schedule group.
        group: String,
        /// The schedule's name.
        name: String,
        /// The SDK's error, with its context.
        message: String,
    },
}

/// Why an SQS event could not be read as deliveries.
#[derive(Debug, thiserror::Error)]
pub enum SqsEventError {
    /// No `Records` array: not an SQS event.
    #[error("not an SQS event: no Records array")]
    NotSqsEvent,
    /// A record has no string `body`.
    #[error("SQS record {index} (message {message_id}) has no body")]
    NoBody {
        /// Its position in `Records`.
        index: usize,
        /// Its `messageId` (empty when absent).
        message_id: String,
    },
    /// A record's body is not a delivery.
    #[error("SQS record {index} (message {message_id}) is not a delivery: {source}")]
    Body {
        /// Its position in `Records`.
        index: usize,
        /// Its `messageId` (empty when absent).
        message_id: String,
        /// What did not parse.
        source: serde_json::Error,
    },
}

/// Where a timer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An SQS message with this `DelaySeconds` (0..=900).
    Queue {
        /// Whole seconds, the delay rounded up.
        delay_seconds: i32,
    },
    /// A one-time Scheduler schedule with this expression, `at(YYYY-MM-DDThh:mm:ss)` in UTC.
    Schedule {
        /// The schedule expression.
        at: String,
    },
}

/// Chooses the carrier of a timer due at `due_ms` when it is `now_ms`: SQS
/// when the wait is at most 900 s (a due time already past is `Queue { 0 }`),
/// Scheduler otherwise.
pub fn route(due_ms: i64, now_ms: i64) -> Route {
    route_with_limit(due_ms, now_ms, MAX_QUEUE_DELAY_MS)
}

/// [`route`] with SQS carrying waits up to `queue_limit_ms` only (at most
/// 900 s): a test setting that sends short waits through Scheduler.
pub fn route_with_limit(due_ms: i64, now_ms: i64, queue_limit_ms: i64) -> Route {
    let wait_ms = due_ms.saturating_sub(now_ms);
    if wait_ms <= queue_limit_ms.min(MAX_QUEUE_DELAY_MS) {
        Route::Queue { delay_seconds: delay_seconds(wait_ms) }
    } else {
        Route::Schedule { at: at_expression(due_ms) }
    }
}

/// `DelaySeconds` for a wait: rounded up to the second, clamped to 0..=900.
fn delay_seconds(wait_ms: i64) -> i32 {
    let clamped = wait_ms.clamp(0, MAX_QUEUE_DELAY_MS);
    // 0..=900 after rounding up: fits any integer type.
    ((clamped + 999) / 1000) as i32
}

/// The Scheduler expression for a timer due at `due_ms`: `at(...)` in UTC,
/// [`LEAD_MS`] earlier and truncated to the minute.
pub fn at_expression(due_ms: i64) -> String {
    let fire_ms = due_ms.saturating_sub(LEAD_MS);
    let minute = fire_ms.div_euclid(60_000);
    let days = minute.div_euclid(24 * 60);
    let minute_of_day = minute.rem_euclid(24 * 60);
    let (year, month, day) = civil_from_days(days);
    format!("at({year:04}-{month:02}-{day:02}T{:02}:{:02}:00)", minute_of_day / 60, minute_of_day % 60)
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01);
/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// JSON with every object's keys sorted, recursively: the same delivery
/// gives the same text however its maps were built.
fn canonical_json(value: &Value) -> Result<String, serde_json::Error> {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string(&sorted(value))
}

/// The schedule name of a delivery: `sy-` and the first 40 hex digits of
/// the SHA-256 of its canonical JSON (43 characters of `[0-9a-z-]`; the
/// limit is 64 of `[0-9a-zA-Z-_.]`). Arming the same delivery twice names
/// the same schedule, which Scheduler refuses as a conflict.
pub fn schedule_name(delivery: &Delivery) -> Result<String, TimerError> {
    let canonical = canonical_json(&serde_json::to_value(delivery)?)?;
    let digest = hex::encode(Sha256::digest(canonical.as_bytes()));
    Ok(format!("sy-{}", &digest[..40]))
}

/// Short timers: SQS messages with `DelaySeconds`.
#[derive(Clone, Debug)]
pub struct SqsTimers {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsTimers {
    /// Timers on the queue `queue_url` (a standard queue: FIFO queues have no per-message delay).
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsTimers { client, queue_url: queue_url.into() }
    }

    /// The queue.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Sends the delivery with the delay until its `notBeforeMs` (none: 0),
    /// rounded up to the second and clamped to 0..=900 s. Returns the delay.
    pub async fn arm(&self, delivery: &Delivery, now_ms: i64) -> Result<i32, TimerError> {
        let delay = delay_seconds(delivery.not_before_ms.unwrap_or(now_ms).saturating_sub(now_ms));
        self.send(delivery, delay).await?;
        Ok(delay)
    }

    async fn send(&self, delivery: &Delivery, delay_seconds: i32) -> Result<(), TimerError> {
        let body = serde_json::to_string(delivery)?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_seconds)
            .send()
            .await
            .map_err(|e| TimerError::Sqs {
                queue_url: self.queue_url.clone(),
                message: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })?;
        Ok(())
    }
}

/// Long timers: one-time EventBridge Scheduler schedules invoking the stepper.
#[derive(Clone, Debug)]
pub struct SchedulerTimers {
    client: aws_sdk_scheduler::Client,
    group: String,
    target_arn: String,
    role_arn: String,
}

impl SchedulerTimers {
    /// Schedules in `group` that invoke `target_arn` (the stepper function's
    /// ARN) with the role `role_arn` (which Scheduler assumes; it needs
    /// `lambda:InvokeFunction` on the target).
    pub fn new(
        client: aws_sdk_scheduler::Client,
        group: impl Into<String>,
        target_arn: impl Into<String>,
        role_arn: impl Into<String>,
    ) -> Self {
        SchedulerTimers { client, group: group.into(), target_arn: target_arn.into(), role_arn: role_arn.into() }
    }

    /// The schedule group.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// Creates the schedule for a timer (see [`at_expression`] and
    /// [`schedule_name`]); it deletes itself after firing. A schedule of the
    /// same name already there (ConflictException) is success: a redelivered
    /// step arms its timers again. Returns the expression.
    pub async fn arm(&self, delivery: &Delivery) -> Result<String, TimerError> {
        let due_ms = delivery
            .not_before_ms
            .ok_or_else(|| TimerError::NotATimer { execution_arn: delivery.execution_arn.clone() })?;
        let at = at_expression(due_ms);
        self.create(delivery, &at).await?;
        Ok(at)
    }

    async fn create(&self, delivery: &Delivery, at: &str) -> Result<(), TimerError> {
        let name = schedule_name(delivery)?;
        let input = serde_json::to_string(delivery)?;
        let build = |e: aws_sdk_scheduler::error::BuildError| TimerError::Build(e.to_string());
        let window = FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off).build().map_err(build)?;
        let retry = RetryPolicy::builder()
            .maximum_retry_attempts(SCHEDULER_MAX_RETRY_ATTEMPTS)
            .maximum_event_age_in_seconds(SCHEDULER_MAX_EVENT_AGE_SECONDS)
            .build();
        let target = Target::builder()
            .arn(&self.target_arn)
            .role_arn(&self.role_arn)
            .input(input)
            .retry_policy(retry)
            .build()
            .map_err(build)?;
        let sent = self
            .client
            .create_schedule()
            .name(&name)
            .group_name(&self.group)
            .schedule_expression(at)
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(target)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => Ok(()),
            Err(e) => Err(TimerError::Scheduler {
                group: self.group.clone(),
                name,
                message: DisplayErrorContext(e).to_string(),
            }),
        }
    }
}

/// Both carriers, chosen per timer by [`route`].
#[derive(Clone, Debug)]
pub struct AwsTimers {
    /// Short delays.
    pub sqs: SqsTimers,
    /// Long delays.
    pub scheduler: SchedulerTimers,
    /// The longest wait SQS carries: [`MAX_QUEUE_DELAY_MS`] unless a test lowers it.
    queue_limit_ms: i64,
}

impl AwsTimers {
    /// Both carriers.
    pub fn new(sqs: SqsTimers, scheduler: SchedulerTimers) -> Self {
        AwsTimers { sqs, scheduler, queue_limit_ms: MAX_QUEUE_DELAY_MS }
    }

    /// SQS carries waits up to `limit_ms` only (clamped to 0..=900 s), longer
    /// ones go to Scheduler: a test setting (`SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS`
    /// of the stepper), so a test can take the Scheduler path without waiting
    /// a quarter of an hour.
    pub fn with_queue_limit_ms(mut self, limit_ms: i64) -> Self {
        self.queue_limit_ms = limit_ms.clamp(0, MAX_QUEUE_DELAY_MS);
        self
    }

    /// Arms a timer for its `notBeforeMs` (none: due now) on the carrier
    /// [`route`] chooses; returns that choice.
    pub async fn arm(&self, delivery: &Delivery, now_ms: i64) -> Result<Route, TimerError> {
        let chosen = route_with_limit(delivery.not_before_ms.unwrap_or(now_ms), now_ms, self.queue_limit_ms);
        match &chosen {
            Route::Queue { delay_seconds } => self.sqs.send(delivery, *delay_seconds).await?,
            Route::Schedule { at } => self.scheduler.create(delivery, at).await?,
        }
        Ok(chosen)
    }
}

/// True when `value` looks like an SQS event (a `Records` array whose first
/// record's `eventSource` is `aws:sqs`), as opposed to a direct delivery.
pub fn is_sqs_event(value: &Value) -> bool {
    value
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .is_some_and(|record| record.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
}

/// The deliveries of an SQS event (`{"Records":[{"messageId", "body", ...}]}`),
/// in record order; the bodies are deliveries' JSON as [`SqsTimers`] sends them.
pub fn parse_sqs_event(value: &Value) -> Result<Vec<Delivery>, SqsEventError> {
    let records = value.get("Records").and_then(Value::as_array).ok_or(SqsEventError::NotSqsEvent)?;
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let message_id = || record.get("messageId").and_then(Value::as_str).unwrap_or_default().to_string();
            let body = record
                .get("body")
                .and_then(Value::as_str)
                .ok_or_else(|| SqsEventError::NoBody { index, message_id: message_id() })?;
            serde_json::from_str(body).map_err(|source| SqsEventError::Body { index, message_id: message_id(), source })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_scheduler::primitives::{DateTime, DateTimeFormat};
    use engine::{Event, RunId};

    /// 2026-01-01T00:00:00Z.
    const T0: i64 = 1_767_225_600_000;

    /// The instant an `at(...)` expression names, in ms.
    fn at_ms(at: &str) -> i64 {
        let inner = at.strip_prefix("at(").and_then(|s| s.strip_suffix(')')).expect("at(...)");
        let parsed = DateTime::from_str(&format!("{inner}Z"), DateTimeFormat::DateTime).expect("a date-time");
        parsed.to_millis().expect("in range")
    }

    fn queue(delay_seconds: i32) -> Route {
        Route::Queue { delay_seconds }
    }

    /// The invariants every route keeps: SQS never before due, at most a
    /// second after it; Scheduler at or before due − LEAD, less than a
    /// minute before it, on a whole minute, in the future.
    fn check(due: i64, now: i64) {
        match route(due, now) {
            Route::Queue { delay_seconds } => {
                assert!(due - now <= MAX_QUEUE_DELAY_MS, "{due} {now}");
                assert!((0..=900).contains(&delay_seconds));
                let arrives = now + i64::from(delay_seconds) * 1000;
                assert!(arrives >= due, "early: {arrives} < {due}");
                assert!(arrives < due.max(now) + 1000, "more than a second late: {arrives} vs {due}");
            }
            Route::Schedule { at } => {
                assert!(due - now > MAX_QUEUE_DELAY_MS, "{due} {now}");
                let fires = at_ms(&at);
                assert_eq!(fires % 60_000, 0, "{at}");
                assert!(fires <= due - LEAD_MS, "{at} after due − LEAD");
                assert!(fires > due - LEAD_MS - 60_000, "{at} more than a minute before due − LEAD");
                assert!(fires > now, "{at} in the past");
                // The remainder when it fires fits SQS.
                assert!(due - fires <= MAX_QUEUE_DELAY_MS);
            }
        }
    }

    #[test]
    fn boundaries() {
        let now = T0 + 12_345; // not on a second
        assert_eq!(route(now, now), queue(0));
        assert_eq!(route(now + 1, now), queue(1));
        assert_eq!(route(now + 1_000, now), queue(1));
        assert_eq!(route(now + 1_001, now), queue(2));
        assert_eq!(route(now + 2_000, now), queue(2));
        assert_eq!(route(now + 899_500, now), queue(900));
        assert_eq!(route(now + 900_000, now), queue(900));
        // A lowered limit (a test setting) sends shorter waits to Scheduler; never above 900 s.
        assert_eq!(route_with_limit(now + 10_000, now, 10_000), queue(10));
        assert!(matches!(route_with_limit(now + 10_001, now, 10_000), Route::Schedule { .. }));
        assert!(matches!(route_with_limit(now + 900_001, now, 2_000_000), Route::Schedule { .. }));
        // 900.001 s: Scheduler, 3 minutes earlier, truncated to the minute.
        // due = T0 + 912.346 s = 00:15:12.346; − 3 min = 00:12:12.346 → 00:12:00.
        assert_eq!(route(now + 900_001, now), Route::Schedule { at: "at(2026-01-01T00:12:00)".into() });
        // A year (2026 is not a leap year): 2027-01-01T00:00:12.345 − 3 min.
        assert_eq!(route(now + 365 * 86_400_000, now), Route::Schedule { at: "at(2026-12-31T23:57:00)".into() });
        for wait in [0, 1, 999, 1_000, 1_001, 899_500, 900_000, 900_001, 3_600_000, 365 * 86_400_000] {
            check(now + wait, now);
        }
    }

    #[test]
    fn past_due_is_queue_zero() {
        assert_eq!(route(T0 - 1, T0), queue(0));
        assert_eq!(route(T0 - 86_400_000, T0), queue(0));
        assert_eq!(route(i64::MIN, T0), queue(0));
        assert_eq!(route(T0, i64::MAX), queue(0));
    }

    #[test]
    fn never_early_over_a_sweep() {
        // Waits around both boundaries and far beyond, at sub-second offsets of now.
        let mut waits: Vec<i64> = (-3..=3).map(|d| MAX_QUEUE_DELAY_MS + d).collect();
        waits.extend((0..2_000).map(|i| i * 997)); // 0 .. ~33 min, every ~1 s
        waits.extend((0..500).map(|i| 900_000 + i * 7_919_993)); // up to ~46 days
        for offset in [0, 1, 499, 999] {
            for &wait in &waits {
                check(T0 + offset + wait, T0 + offset);
            }
        }
    }

    #[test]
    fn at_expression_dates() {
        let cases = [
            (0, "at(1969-12-31T23:57:00)"),
            (LEAD_MS, "at(1970-01-01T00:00:00)"),
            (T0, "at(2025-12-31T23:57:00)"),
            (T0 + LEAD_MS + 59_999, "at(2026-01-01T00:00:00)"),
            (T0 + LEAD_MS + 60_000, "at(2026-01-01T00:01:00)"),
        ];
        for (due, at) in cases {
            assert_eq!(at_expression(due), at, "{due}");
        }
        // Against the SDK's own formatter: leap days, century years, far ahead.
        let mut due = 946_684_800_000 + LEAD_MS; // 2000-01-01T00:03:00Z
        while due < 4_102_444_800_000 {
            // until 2100
            let fire = DateTime::from_millis(due - LEAD_MS).fmt(DateTimeFormat::DateTime).expect("formats");
            let expected = format!("at({})", fire.trim_end_matches('Z'));
            assert_eq!(at_expression(due), expected);
            due += 86_400_000 + 60_000; // a day and a minute
        }
        assert_eq!(at_expression(951_782_400_000 + LEAD_MS), "at(2000-02-29T00:00:00)");
        assert_eq!(at_expression(4_107_542_400_000 + LEAD_MS), "at(2100-03-01T00:00:00)");
        assert_eq!(at_expression(4_107_542_400_000 + LEAD_MS - 1), "at(2100-02-28T23:59:00)");
    }

    fn timer(arn: &str, timer: u64, due: i64) -> Delivery {
        let mut d = Delivery::event(arn, RunId::root(), Event::TimerFired { timer });
        d.not_before_ms = Some(due);
        d
    }

    #[test]
    fn schedule_names() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:m:e";
        let a = schedule_name(&timer(arn, 1, T0)).expect("name");
        assert_eq!(a.len(), 43);
        assert!(a.starts_with("sy-"));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
        assert_eq!(a, schedule_name(&timer(arn, 1, T0)).expect("name"), "deterministic");
        assert_ne!(a, schedule_name(&timer(arn, 2, T0)).expect("name"));
        assert_ne!(a, schedule_name(&timer(arn, 1, T0 + 1)).expect("name"));
        assert_ne!(a, schedule_name(&timer(&format!("{arn}2"), 1, T0)).expect("name"));
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = serde_json::json!({"b": 1, "a": {"d": [{"y": 1, "x": 2}], "c": null}});
        let b = serde_json::json!({"a": {"c": null, "d": [{"x": 2, "y": 1}]}, "b": 1});
        assert_eq!(canonical_json(&a).expect("json"), canonical_json(&b).expect("json"));
        assert_eq!(canonical_json(&a).expect("json"), r#"{"a":{"c":null,"d":[{"x":2,"y":1}]},"b":1}"#);
    }

    #[test]
    fn sqs_events() {
        let arn = "arn:aws:states:us-east-1:123456789012:execution:m:e";
        let (one, two) = (timer(arn, 1, T0), Delivery::start(arn));
        let event = serde_json::json!({"Records": [
            {"messageId": "m1", "body": serde_json::to_string(&one).expect("json"), "eventSource": "aws:sqs"},
            {"messageId": "m2", "body": serde_json::to_string(&two).expect("json"), "eventSource": "aws:sqs"},
        ]});
        assert!(is_sqs_event(&event));
        assert_eq!(parse_sqs_event(&event).expect("parses"), vec![one.clone(), two]);
        let direct = serde_json::to_value(&one).expect("json");
        assert!(!is_sqs_event(&direct));
        assert!(matches!(parse_sqs_event(&direct), Err(SqsEventError::NotSqsEvent)));
        let bad = serde_json::json!({"Records": [{"messageId": "m9", "body": "{}"}]});
        match parse_sqs_event(&bad) {
            Err(SqsEventError::Body { index: 0, message_id, .. }) => assert_eq!(message_id, "m9"),
            other => panic!("{other:?}"),
        }
        let no_body = serde_json::json!({"Records": [{"messageId": "m8"}]});
        assert!(matches!(parse_sqs_event(&no_body), Err(SqsEventError::NoBody { index: 0, .. })));
        assert_eq!(parse_sqs_event(&serde_json::json!({"Records": []})).expect("empty").len(), 0);
    }
}
