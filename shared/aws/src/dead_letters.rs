//! Draining the dead-letter queue (docs/architecture.md, "Nothing strands"):
//! what the stack could not deliver is handed to the stepper again, so a
//! delivery that failed every retry delays its execution but never strands it.
//!
//! Two kinds of message reach the queue:
//!
//! - **Invocation records.** The stepper's asynchronous invocations fail over
//!   to the queue (`EventInvokeConfig.DestinationConfig.OnFailure` in
//!   template.yaml) once Lambda's two retries are spent. Lambda then sends a
//!   JSON invocation record: `version`, `timestamp`, `requestContext`
//!   (`requestId`, `functionArn`, `condition` — `RetriesExhausted` or
//!   `EventAgeExceeded` —, `approximateInvokeCount`), `requestPayload` (the
//!   event the function was invoked with: our [`Delivery`]),
//!   `responseContext` and `responsePayload`. See "Capturing records of
//!   Lambda asynchronous invocations",
//!   <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>.
//! - **Timer messages.** The timer queue's redrive policy moves a timer
//!   message received too often here unchanged: its body is the
//!   [`Delivery`]'s own JSON (`timers::SqsTimers`).
//!
//! [`DeadLetters::drain`] receives in batches, hands each delivery to a
//! carrier (the sweeper: an asynchronous invocation of the stepper, as for an
//! overdue timer) and deletes a message only once its delivery was handed
//! over. A message that is no delivery — or one in a format newer than this
//! build reads — is left in the queue and logged with its message id: it is
//! never deleted here. Handing a delivery on again is harmless: the engine
//! drops one that was already applied.

use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use runtime::Delivery;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Messages per ReceiveMessage (SQS's maximum).
pub const BATCH: i32 = 10;

/// Long-polling wait per ReceiveMessage, in seconds: long enough that an
/// empty answer means an empty queue (every SQS server is asked), short
/// enough not to hold the sweeper.
pub const WAIT_SECONDS: i32 = 1;

/// How long a received message stays hidden, in seconds: longer than a
/// drain (and the sweeper's 60 s timeout), so a message left in the queue —
/// unreadable, or its hand-over failed — is not received again by the same
/// drain, and comes back for a later one.
pub const VISIBILITY_SECONDS: i32 = 120;

/// Why a drain stopped.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// A request to SQS failed.
    #[error("SQS {operation} on {queue_url} failed: {message}")]
    Sqs {
        /// The operation (`ReceiveMessage`).
        operation: &'static str,
        /// The queue.
        queue_url: String,
        /// The SDK's error, with its context.
        message: String,
    },
}

/// Why a message's body is no delivery.
#[derive(Debug, thiserror::Error)]
pub enum UnreadableBody {
    /// The body is not JSON.
    #[error("the body is not JSON: {0}")]
    NotJson(serde_json::Error),
    /// An invocation record whose `requestPayload` is no delivery.
    #[error("the invocation record's requestPayload is not a delivery: {0}")]
    Payload(serde_json::Error),
    /// Neither an invocation record nor a delivery.
    #[error("the body is neither an invocation record nor a delivery: {0}")]
    Body(serde_json::Error),
}

/// `requestContext` of an invocation record: what the log says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestContext {
    /// The failed invocation's request id.
    pub request_id: String,
    /// The function (with its version or alias).
    pub function_arn: String,
    /// Why it was given up: `RetriesExhausted`, `EventAgeExceeded`.
    pub condition: String,
    /// How many times Lambda invoked it.
    pub approximate_invoke_count: u32,
}

/// A dead letter, read.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The delivery to hand on.
    pub delivery: Delivery,
    /// The invocation record's context; `None` for a bare delivery (a timer message).
    pub record: Option<RequestContext>,
}

/// Reads a message body: an invocation record wrapping a delivery (its
/// `requestPayload`, an object or a JSON string), or a bare delivery.
pub fn parse_dead_letter(body: &str) -> Result<DeadLetter, UnreadableBody> {
    let value: Value = serde_json::from_str(body).map_err(UnreadableBody::NotJson)?;
    match value {
        Value::Object(mut record) if record.contains_key("requestPayload") && record.contains_key("requestContext") => {
            let context = record.remove("requestContext").unwrap_or_default();
            let context = serde_json::from_value(context).unwrap_or_default();
            let payload = match record.remove("requestPayload").unwrap_or_default() {
                Value::String(text) => serde_json::from_str(&text),
                other => serde_json::from_value(other),
            }
            .map_err(UnreadableBody::Payload)?;
            Ok(DeadLetter { delivery: payload, record: Some(context) })
        }
        other => {
            Ok(DeadLetter { delivery: serde_json::from_value(other).map_err(UnreadableBody::Body)?, record: None })
        }
    }
}

/// What one drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainCounts {
    /// Deliveries handed on (their messages deleted, or deletion tried).
    pub handed: usize,
    /// Deliveries whose hand-over failed: their messages stay for a later drain.
    pub failed: usize,
    /// Messages that hold no delivery: left in the queue.
    pub unreadable: usize,
}

/// The dead-letter queue.
#[derive(Clone, Debug)]
pub struct DeadLetters {
    client: Client,
    queue_url: String,
    visibility_seconds: i32,
}

impl DeadLetters {
    /// The queue `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        DeadLetters { client, queue_url: queue_url.into(), visibility_seconds: VISIBILITY_SECONDS }
    }

    /// Hides a received message for `seconds` instead of [`VISIBILITY_SECONDS`]
    /// (tests: a message left comes back sooner). Shorter than a drain, a
    /// message left may be received again by the same drain.
    pub fn with_visibility_seconds(mut self, seconds: i32) -> Self {
        self.visibility_seconds = seconds;
        self
    }

    /// The queue.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    fn sqs<E: std::error::Error + Send + Sync + 'static>(&self, operation: &'static str, e: E) -> DeadLetterError {
        DeadLetterError::Sqs {
            operation,
            queue_url: self.queue_url.clone(),
            message: DisplayErrorContext(e).to_string(),
        }
    }

    /// Hands every delivery in the queue to `carry`, in the order received,
    /// batch after batch until a receive finds nothing or `budget` is spent
    /// (checked before each receive). A message is deleted only after
    /// `carry` accepted its delivery; an unreadable one or one whose
    /// hand-over failed stays, hidden for [`VISIBILITY_SECONDS`] (the
    /// drain goes on with the others). Fails only when ReceiveMessage does.
    pub async fn drain<F, Fut>(&self, budget: Duration, carry: F) -> Result<DrainCounts, DeadLetterError>
    where
        F: Fn(Delivery) -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let started = Instant::now();
        let mut counts = DrainCounts::default();
        while started.elapsed() < budget {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(BATCH)
                .wait_time_seconds(WAIT_SECONDS)
                .visibility_timeout(self.visibility_seconds)
                .send()
                .await
                .map_err(|e| self.sqs("ReceiveMessage", e))?;
            let messages = out.messages();
            if messages.is_empty() {
                break;
            }
            for message in messages {
                let message_id = message.message_id().unwrap_or_default();
                let letter = match parse_dead_letter(message.body().unwrap_or_default()) {
                    Ok(letter) => letter,
                    Err(error) => {
                        tracing::warn!(message_id, %error, queue = %self.queue_url,
                            "dead letter holds no delivery: left in the queue");
                        counts.unreadable += 1;
                        continue;
                    }
                };
                let execution = letter.delivery.execution_arn.clone();
                let (condition, request_id) =
                    letter.record.as_ref().map(|r| (r.condition.as_str(), r.request_id.as_str())).unwrap_or_default();
                if let Err(error) = carry(letter.delivery).await {
                    tracing::warn!(message_id, execution, %error, "dead letter not handed on: it stays for a later drain");
                    counts.failed += 1;
                    continue;
                }
                counts.handed += 1;
                tracing::info!(message_id, execution, condition, request_id, "dead letter handed on");
                let Some(receipt) = message.receipt_handle() else {
                    tracing::warn!(message_id, "dead letter has no receipt handle: it will be handed on again");
                    continue;
                };
                // Handed on already: a failed delete only hands it on again later (harmless).
                if let Err(e) =
                    self.client.delete_message().queue_url(&self.queue_url).receipt_handle(receipt).send().await
                {
                    let error = self.sqs("DeleteMessage", e);
                    tracing::error!(message_id, %error, "dead letter handed on but not deleted: it will be handed on again");
                }
            }
        }
        if counts != DrainCounts::default() {
            tracing::info!(
                handed = counts.handed,
                failed = counts.failed,
                unreadable = counts.unreadable,
                "dead letters drained"
            );
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::{Event, RunId};
    use serde_json::json;

    fn delivery() -> Delivery {
        Delivery::event("arn:aws:states:us-east-1:1:execution:m:e", RunId::root(), Event::TimerFired { timer: 3 })
    }

    #[test]
    fn an_invocation_record_gives_its_request_payload() {
        let record = json!({
            "version": "1.0",
            "timestamp": "2019-11-24T21:52:47.333Z",
            "requestContext": {
                "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:sy-stepper:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 3
            },
            "requestPayload": delivery(),
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "boom", "errorType": "Error"}
        });
        let letter = parse_dead_letter(&record.to_string()).expect("a record");
        assert_eq!(letter.delivery, delivery());
        let context = letter.record.expect("its context");
        assert_eq!(context.condition, "RetriesExhausted");
        assert_eq!(context.approximate_invoke_count, 3);
    }

    #[test]
    fn a_payload_as_a_json_string_is_read_too() {
        let text = serde_json::to_string(&delivery()).expect("encode");
        let record = json!({"requestContext": {}, "requestPayload": text});
        assert_eq!(parse_dead_letter(&record.to_string()).expect("a record").delivery, delivery());
    }

    #[test]
    fn a_bare_delivery_is_read() {
        let text = serde_json::to_string(&delivery()).expect("encode");
        let letter = parse_dead_letter(&text).expect("a delivery");
        assert_eq!((letter.delivery, letter.record), (delivery(), None));
    }

    #[test]
    fn other_bodies_are_unreadable() {
        assert!(matches!(parse_dead_letter("not json"), Err(UnreadableBody::NotJson(_))));
        assert!(matches!(parse_dead_letter(r#"{"hello": 1}"#), Err(UnreadableBody::Body(_))));
        let record = json!({"requestContext": {}, "requestPayload": {"hello": 1}});
        assert!(matches!(parse_dead_letter(&record.to_string()), Err(UnreadableBody::Payload(_))));
        let mut newer = serde_json::to_value(delivery()).expect("encode");
        newer["format"] = json!(runtime::driver::DELIVERY_FORMAT + 1);
        assert!(matches!(parse_dead_letter(&newer.to_string()), Err(UnreadableBody::Body(_))));
    }
}
