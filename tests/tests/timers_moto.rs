//! The AWS timer adapters against moto's SQS and EventBridge Scheduler:
//! delayed messages arrive no earlier than due and carry the delivery
//! unchanged; schedules are created with the expected name, expression and
//! target, and arming one twice is harmless. And the sweeper's drain of the
//! dead-letter queue (`aws_adapters::dead_letters`): Lambda's invocation
//! records and bare deliveries are handed on and deleted, anything else is
//! left; a message whose hand-over failed stays for a later drain. moto
//! runs no schedule, so what happens when one fires is not tested here (see
//! the deviations below).
//!
//! moto deviations seen (moto 5.2.5; AWS per its API reference):
//! - CreateSchedule in a group that does not exist fails with HTTP 500
//!   (AWS: ResourceNotFoundException): the tests create their group first.
//! - CreateScheduleGroup of an existing name succeeds and empties the group
//!   (AWS: ConflictException): every test uses a group of its own.
//! - A standard queue returns messages in the order sent (AWS: best-effort
//!   order): the drain test relies on it to check the order of hand-overs.
//! - ScheduleExpression is not validated (`at(nonsense)` and dates in the
//!   past are accepted), schedules never fire, and ActionAfterCompletion is
//!   only stored.
//!
//! The endpoint is `SWITCHYARD_MOTO_ENDPOINT` (scripts/test.sh sets it), or a
//! moto server found or started through scripts/moto.sh.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_adapters::dead_letters::{DeadLetters, DrainCounts};
use aws_adapters::timers::{self, AwsTimers, LEAD_MS, Route, SchedulerTimers, SqsTimers};
use aws_sdk_scheduler::primitives::{DateTime, DateTimeFormat};
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode};
use engine::{Event, RunId};
use runtime::Delivery;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const STEPPER_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:switchyard-stepper";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/switchyard-scheduler";

/// The moto endpoint: `SWITCHYARD_MOTO_ENDPOINT`, or the instance
/// scripts/moto.sh knows of, or one it starts.
fn endpoint() -> String {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| switchyard_tests::local_service("SWITCHYARD_MOTO_ENDPOINT", "moto.sh", "moto")).clone()
}

async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&aws_adapters::local_config(&endpoint()).await)
}

async fn scheduler() -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(&aws_adapters::local_config(&endpoint()).await)
}

/// A name no other test (or earlier run on the same server) uses.
fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

async fn fresh_queue(client: &aws_sdk_sqs::Client) -> String {
    let created = client.create_queue().queue_name(unique("sy-timers")).send().await.expect("CreateQueue");
    created.queue_url().expect("a queue URL").to_string()
}

async fn fresh_group(client: &aws_sdk_scheduler::Client) -> String {
    let group = unique("sy-timers");
    client.create_schedule_group().name(&group).send().await.expect("CreateScheduleGroup");
    group
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).expect("after 1970")
}

fn timer_delivery(timer: u64, due_ms: i64) -> Delivery {
    let arn = format!("arn:aws:states:us-east-1:123456789012:execution:timers:{}", unique("e"));
    let mut delivery = Delivery::event(&arn, RunId::root(), Event::TimerFired { timer });
    delivery.not_before_ms = Some(due_ms);
    delivery
}

/// One ReceiveMessage that does not wait: the bodies it got.
async fn receive_now(client: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<(String, String)> {
    let out = client
        .receive_message()
        .queue_url(queue_url)
        .wait_time_seconds(0)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("ReceiveMessage");
    out.messages()
        .iter()
        .map(|m| (m.message_id().unwrap_or_default().to_string(), m.body().unwrap_or_default().to_string()))
        .collect()
}

/// Asserts the queue holds nothing now, then polls until the one message
/// arrives (at most `limit`); returns it as the stepper would see it (an SQS
/// event, read back with `parse_sqs_event`) and when it was received.
async fn expect_delayed(client: &aws_sdk_sqs::Client, queue_url: &str, due_ms: i64, limit: Duration) -> Delivery {
    let early = receive_now(client, queue_url).await;
    let checked = now_ms();
    assert!(early.is_empty(), "received before due ({} ms early): {early:?}", due_ms - checked);
    assert!(checked < due_ms, "the early receive came too late to prove anything ({checked} ≥ {due_ms})");
    let started = Instant::now();
    loop {
        let got = receive_now(client, queue_url).await;
        let received_ms = now_ms();
        if !got.is_empty() {
            assert_eq!(got.len(), 1, "one message: {got:?}");
            assert!(received_ms >= due_ms, "received {} ms before due", due_ms - received_ms);
            assert!(received_ms < due_ms + 3_000, "received {} ms after due", received_ms - due_ms);
            let (message_id, body) = &got[0];
            let event = json!({"Records": [{
                "messageId": message_id,
                "body": body,
                "eventSource": "aws:sqs",
            }]});
            assert!(timers::is_sqs_event(&event));
            let mut deliveries = timers::parse_sqs_event(&event).expect("the body is a delivery");
            assert_eq!(deliveries.len(), 1);
            return deliveries.remove(0);
        }
        assert!(started.elapsed() < limit, "no message after {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// (a) A 2-second SQS timer: not there at once, there after 2 s, the same delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqs_timer_arrives_after_its_delay_unchanged() {
    let client = sqs().await;
    let queue_url = fresh_queue(&client).await;
    let timers = SqsTimers::new(client.clone(), &queue_url);
    let now = now_ms();
    let delivery = timer_delivery(7, now + 2_000);
    let delay = timers.arm(&delivery, now).await.expect("armed");
    assert_eq!(delay, 2);
    let received = expect_delayed(&client, &queue_url, now + 2_000, Duration::from_secs(10)).await;
    assert_eq!(received, delivery);
}

/// `sy-` + the first 40 hex digits of SHA-256 of the delivery's JSON with
/// sorted keys, written out here by hand.
fn expected_name(delivery: &Delivery, timer: u64, due_ms: i64) -> String {
    let canonical = format!(
        r#"{{"executionArn":{},"format":{},"kind":{{"event":{{"TimerFired":{{"timer":{timer}}}}}}},"notBeforeMs":{due_ms},"run":""}}"#,
        serde_json::to_string(&delivery.execution_arn).expect("a string"),
        runtime::driver::DELIVERY_FORMAT
    );
    let digest = hex::encode(Sha256::digest(canonical.as_bytes()));
    format!("sy-{}", &digest[..40])
}

/// `at(...)` of the minute at or before `due − 3 min`, through the SDK's own date formatting.
fn expected_at(due_ms: i64) -> String {
    let fire_ms = (due_ms - 180_000).div_euclid(60_000) * 60_000;
    let text = DateTime::from_millis(fire_ms).fmt(DateTimeFormat::DateTime).expect("formats");
    format!("at({})", text.trim_end_matches('Z'))
}

/// Reads the schedule back and checks every field the adapter sets.
async fn assert_schedule(client: &aws_sdk_scheduler::Client, group: &str, name: &str, at: &str, delivery: &Delivery) {
    let got = client.get_schedule().group_name(group).name(name).send().await.expect("GetSchedule");
    assert_eq!(got.name(), Some(name));
    assert_eq!(got.group_name(), Some(group));
    assert_eq!(got.schedule_expression(), Some(at));
    assert_eq!(got.schedule_expression_timezone(), Some("UTC"));
    let window = got.flexible_time_window().expect("a flexible time window");
    assert_eq!(window.mode(), &FlexibleTimeWindowMode::Off);
    assert_eq!(got.action_after_completion(), Some(&ActionAfterCompletion::Delete));
    let target = got.target().expect("a target");
    assert_eq!(target.arn(), STEPPER_ARN);
    assert_eq!(target.role_arn(), ROLE_ARN);
    let input = target.input().expect("an input");
    assert_eq!(input, serde_json::to_string(delivery).expect("JSON"), "the input is the delivery's JSON");
    let parsed: Delivery = serde_json::from_str(input).expect("the input is a delivery");
    assert_eq!(&parsed, delivery);
    let retry = target.retry_policy().expect("a retry policy");
    assert_eq!(retry.maximum_retry_attempts(), Some(185));
    assert_eq!(retry.maximum_event_age_in_seconds(), Some(86_400));
}

async fn schedule_names(client: &aws_sdk_scheduler::Client, group: &str) -> Vec<String> {
    let listed = client.list_schedules().group_name(group).send().await.expect("ListSchedules");
    listed.schedules().iter().filter_map(|s| s.name().map(str::to_string)).collect()
}

/// (b) An hour-long timer: a schedule 3 minutes early, on the minute; arming it again is harmless.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_timer_is_created_once_with_the_expected_fields() {
    let client = scheduler().await;
    let group = fresh_group(&client).await;
    let timers = SchedulerTimers::new(client.clone(), &group, STEPPER_ARN, ROLE_ARN);
    let due = now_ms() + 3_600_000;
    let delivery = timer_delivery(42, due);
    let name = expected_name(&delivery, 42, due);
    assert_eq!(timers::schedule_name(&delivery).expect("a name"), name);
    let at = timers.arm(&delivery).await.expect("armed");
    assert_eq!(at, expected_at(due));
    assert!(at.ends_with(":00)"), "{at}");
    assert_schedule(&client, &group, &name, &at, &delivery).await;

    // moto, like AWS, refuses a second schedule of the same name with ConflictException…
    let again = client
        .create_schedule()
        .name(&name)
        .group_name(&group)
        .schedule_expression(&at)
        .flexible_time_window(
            aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .expect("window"),
        )
        .target(
            aws_sdk_scheduler::types::Target::builder()
                .arn(STEPPER_ARN)
                .role_arn(ROLE_ARN)
                .input("{}")
                .build()
                .expect("target"),
        )
        .send()
        .await;
    let error = again.expect_err("a duplicate name is refused");
    assert!(error.as_service_error().is_some_and(|e| e.is_conflict_exception()), "{error:?}");
    // …which the adapter takes as success, leaving the one schedule as it was.
    assert_eq!(timers.arm(&delivery).await.expect("armed again"), at);
    assert_eq!(schedule_names(&client, &group).await, vec![name.clone()]);
    assert_schedule(&client, &group, &name, &at, &delivery).await;
}

/// A Scheduler failure other than a conflict is an error (here: moto's 500 for a missing group).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_errors_are_reported() {
    let client = scheduler().await;
    let timers = SchedulerTimers::new(client, unique("sy-missing"), STEPPER_ARN, ROLE_ARN);
    let delivery = timer_delivery(1, now_ms() + 3_600_000);
    let error = timers.arm(&delivery).await.expect_err("no such group");
    assert!(matches!(error, aws_adapters::TimerError::Scheduler { .. }), "{error}");
    let mut no_due = delivery.clone();
    no_due.not_before_ms = None;
    assert!(matches!(timers.arm(&no_due).await, Err(aws_adapters::TimerError::NotATimer { .. })));
}

/// (c) The remainder after Scheduler fired early: 2 s left goes to SQS and arrives after them;
/// an hour goes to Scheduler and sends nothing to the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_timers_route_the_remainder_to_sqs_and_long_waits_to_scheduler() {
    let (sqs, scheduler) = (sqs().await, scheduler().await);
    let queue_url = fresh_queue(&sqs).await;
    let group = fresh_group(&scheduler).await;
    let timers = AwsTimers::new(
        SqsTimers::new(sqs.clone(), &queue_url),
        SchedulerTimers::new(scheduler.clone(), &group, STEPPER_ARN, ROLE_ARN),
    );

    let now = now_ms();
    let remainder = timer_delivery(3, now + 2_000);
    assert_eq!(timers.arm(&remainder, now).await.expect("armed"), Route::Queue { delay_seconds: 2 });
    let received = expect_delayed(&sqs, &queue_url, now + 2_000, Duration::from_secs(10)).await;
    assert_eq!(received, remainder);
    assert!(schedule_names(&scheduler, &group).await.is_empty(), "no schedule for a short wait");

    let now = now_ms();
    let due = now + 3_600_000;
    let long = timer_delivery(4, due);
    let at = expected_at(due);
    assert_eq!(timers.arm(&long, now).await.expect("armed"), Route::Schedule { at: at.clone() });
    assert_schedule(&scheduler, &group, &expected_name(&long, 4, due), &at, &long).await;
    assert!(receive_now(&sqs, &queue_url).await.is_empty(), "nothing queued for a long wait");
    // Its expression is LEAD (3 minutes) early at least, and less than a minute more.
    let inner = at.trim_start_matches("at(").trim_end_matches(')');
    let fires = DateTime::from_str(&format!("{inner}Z"), DateTimeFormat::DateTime).expect("a date");
    let fires_ms = fires.to_millis().expect("in range");
    assert!(fires_ms <= due - LEAD_MS && fires_ms > due - LEAD_MS - 60_000, "{at} for due {due}");
}

/// A past-due delivery goes to the queue with no delay and is there at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_due_timers_are_queued_without_delay() {
    let (sqs, scheduler) = (sqs().await, scheduler().await);
    let queue_url = fresh_queue(&sqs).await;
    let timers = AwsTimers::new(
        SqsTimers::new(sqs.clone(), &queue_url),
        SchedulerTimers::new(scheduler, unique("sy-unused"), STEPPER_ARN, ROLE_ARN),
    );
    let now = now_ms();
    let late = timer_delivery(5, now - 5_000);
    assert_eq!(timers.arm(&late, now).await.expect("armed"), Route::Queue { delay_seconds: 0 });
    let got = receive_now(&sqs, &queue_url).await;
    assert_eq!(got.len(), 1);
    let value: Value = serde_json::from_str(&got[0].1).expect("JSON");
    assert_eq!(serde_json::from_value::<Delivery>(value).expect("a delivery"), late);
}

// --- the dead-letter queue ------------------------------------------------------

/// (visible, hidden) messages in a queue.
async fn queue_depth(client: &aws_sdk_sqs::Client, queue_url: &str) -> (u64, u64) {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("GetQueueAttributes");
    let count = |name: A| {
        out.attributes().and_then(|a| a.get(&name)).map(|v| v.parse::<u64>().expect("a count")).expect("the attribute")
    };
    (count(A::ApproximateNumberOfMessages), count(A::ApproximateNumberOfMessagesNotVisible))
}

async fn send(client: &aws_sdk_sqs::Client, queue_url: &str, body: &str) {
    client.send_message().queue_url(queue_url).message_body(body).send().await.expect("SendMessage");
}

/// What Lambda sends to an OnFailure SQS destination when an asynchronous
/// invocation of the stepper with `delivery` failed its retries.
fn invocation_record(delivery: &Delivery) -> String {
    json!({
        "version": "1.0",
        "timestamp": "2026-01-05T10:00:00.000Z",
        "requestContext": {
            "requestId": "2f1b8d0e-5c7a-4d3e-9a61-0c4b7d2e8f10",
            "functionArn": format!("{STEPPER_ARN}:$LATEST"),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": delivery,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "Error", "errorMessage": "the store is unavailable"}
    })
    .to_string()
}

/// What a [`recorder`] was handed, in order.
type Handed = Arc<Mutex<Vec<Delivery>>>;

/// A carrier that records what it is handed, in order.
fn recorder() -> (Handed, impl Fn(Delivery) -> std::future::Ready<Result<(), String>>) {
    let handed = Arc::new(Mutex::new(Vec::new()));
    let sink = handed.clone();
    (handed, move |delivery| {
        sink.lock().expect("not poisoned").push(delivery);
        std::future::ready(Ok(()))
    })
}

/// An invocation record and a bare delivery are handed on in the order
/// received and deleted; a message that holds no delivery stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_letter_drain_hands_on_deliveries_and_leaves_the_rest() {
    let sqs = sqs().await;
    let queue_url = fresh_queue(&sqs).await;
    let (wrapped, bare) = (
        timer_delivery(1, now_ms()),
        Delivery::start(&format!("arn:aws:states:us-east-1:123456789012:execution:dlq:{}", unique("e"))),
    );
    send(&sqs, &queue_url, &invocation_record(&wrapped)).await;
    send(&sqs, &queue_url, &serde_json::to_string(&bare).expect("encode")).await;
    send(&sqs, &queue_url, "not a delivery {").await;
    let (handed, carry) = recorder();
    let counts =
        DeadLetters::new(sqs.clone(), &queue_url).drain(Duration::from_secs(20), carry).await.expect("drained");
    assert_eq!(counts, DrainCounts { handed: 2, failed: 0, unreadable: 1 });
    assert_eq!(*handed.lock().expect("not poisoned"), vec![wrapped, bare]);
    // The garbage only: hidden by the drain's receive, not deleted.
    assert_eq!(queue_depth(&sqs, &queue_url).await, (0, 1));
}

/// A delivery whose hand-over fails stays in the queue and is handed on by a
/// later drain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_whose_hand_over_fails_stays_for_a_later_drain() {
    let sqs = sqs().await;
    let queue_url = fresh_queue(&sqs).await;
    let delivery = timer_delivery(2, now_ms());
    send(&sqs, &queue_url, &invocation_record(&delivery)).await;
    let letters = DeadLetters::new(sqs.clone(), &queue_url).with_visibility_seconds(2);
    // Hidden for 2 s: the drain's second receive (after 1 s at most) finds nothing.
    let failing = |_: Delivery| std::future::ready(Err::<(), String>("Lambda is throttling".to_string()));
    let counts = letters.drain(Duration::from_millis(300), failing).await.expect("drained");
    assert_eq!(counts, DrainCounts { handed: 0, failed: 1, unreadable: 0 });
    assert_eq!(queue_depth(&sqs, &queue_url).await, (0, 1), "it stays");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (handed, carry) = recorder();
    let counts = letters.drain(Duration::from_secs(20), carry).await.expect("drained");
    assert_eq!(counts, DrainCounts { handed: 1, failed: 0, unreadable: 0 });
    assert_eq!(*handed.lock().expect("not poisoned"), vec![delivery]);
    assert_eq!(queue_depth(&sqs, &queue_url).await, (0, 0));
}
