//! The task Lambdas of the order-processing saga (`examples/order-saga.asl.json`),
//! one binary each, sharing the logic below: pure functions from the payload
//! the saga sends to the payload it reads back, or to a [`Failure`] whose
//! `errorType` the saga's Retry and Catch match. Every decision follows from
//! the input, so the saga's paths can be chosen by the order you start it with:
//!
//! | function | input (the state's `Payload`) | output | fails on purpose |
//! |---|---|---|---|
//! | [`validate`] | the order: `{id, customer, items: [{sku, quantity, price}], currency?}` | `{orderId, total, currency}` | `InvalidOrder`: no id, no customer, no items, a bad quantity or price |
//! | [`reserve_inventory`] | `{orderId, items}` | `{reservationId, items}` (number of lines) | `OutOfStock`: a line over [`STOCK_PER_LINE`] units |
//! | the same, releasing | `{orderId, release: true}` | `{released: true, reservationId}` | never (idempotent) |
//! | [`charge`] | `{orderId, amount, currency, idempotencyKey}` | `{paymentId, amount, currency}` | `PaymentDeclined`: amount over [`CARD_LIMIT`]; `PaymentGatewayTimeout`: the first call for an order id containing [`SLOW_GATEWAY_MARKER`] |
//! | [`refund`] | `{orderId, idempotencyKey}` | `{refundId, orderId, idempotencyKey}` | never (idempotent) |
//! | [`notify`] | `{orderId, message}` | `{messageId}` | `InvalidMessage`: no message |
//!
//! Identifiers are derived from the order id (`res-<id>`, `pay-<id>`,
//! `refund-<id>`, `msg-<id>`), so a run's output is known in advance.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Amounts above this (in any currency) are declined by [`charge`].
pub const CARD_LIMIT: f64 = 1000.0;

/// A line of more units than this is out of stock for [`reserve_inventory`].
pub const STOCK_PER_LINE: u64 = 100;

/// An order id containing this makes the payment gateway time out on the
/// first [`charge`] call for it (the saga's Retry then charges it).
pub const SLOW_GATEWAY_MARKER: &str = "slow-gateway";

/// The currency of an order that names none.
pub const DEFAULT_CURRENCY: &str = "EUR";

/// A function error: Lambda reports `error_type` as the `errorType` Step
/// Functions matches in Retry and Catch, and the message as `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The `errorType`, e.g. `InvalidOrder`.
    pub error_type: &'static str,
    /// The `errorMessage`.
    pub message: String,
}

impl Failure {
    fn new(error_type: &'static str, message: impl Into<String>) -> Failure {
        Failure { error_type, message: message.into() }
    }
}

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Diagnostic {
        Diagnostic { error_type: f.error_type.to_string(), error_message: f.message }
    }
}

/// Runs `handler` as a Lambda function: each invocation's payload in, its
/// result (or its [`Failure`], as `errorType`/`errorMessage`) out.
pub async fn serve(handler: fn(&Value) -> Result<Value, Failure>) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler(&event.payload).map_err(Diagnostic::from)
    }))
    .await
}

fn text<'v>(input: &'v Value, name: &str) -> Option<&'v str> {
    input.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

fn order_id(input: &Value, error_type: &'static str) -> Result<String, Failure> {
    text(input, "orderId")
        .map(str::to_string)
        .ok_or_else(|| Failure::new(error_type, format!("the input has no orderId: {input}")))
}

/// An amount in cents as a JSON number: an integer when it is whole (`34`,
/// not `34.0`, so `States.Format` prints it as a person would).
fn money(cents: i64) -> Value {
    if cents % 100 == 0 { json!(cents / 100) } else { json!(cents as f64 / 100.0) }
}

/// `switchyard-example-validate`: checks the order and computes its total.
///
/// Fails with `InvalidOrder` when the order has no id, no customer, no items,
/// or an item without a positive whole quantity, a non-negative price or a sku.
pub fn validate(order: &Value) -> Result<Value, Failure> {
    let invalid = |why: String| Failure::new("InvalidOrder", why);
    let id = text(order, "id").ok_or_else(|| invalid("the order has no id".to_string()))?;
    if text(order, "customer").is_none() {
        return Err(invalid(format!("{id} has no customer")));
    }
    let items = order.get("items").and_then(Value::as_array).filter(|items| !items.is_empty());
    let items = items.ok_or_else(|| invalid(format!("{id} has no items")))?;
    let mut cents: i64 = 0;
    for (n, item) in items.iter().enumerate() {
        let sku = text(item, "sku").ok_or_else(|| invalid(format!("{id}: item {n} has no sku")))?;
        let quantity = item.get("quantity").and_then(Value::as_u64).filter(|q| *q > 0);
        let quantity = quantity.ok_or_else(|| invalid(format!("{id}: {sku} needs a positive whole quantity")))?;
        let price = item.get("price").and_then(Value::as_f64).filter(|p| p.is_finite() && *p >= 0.0);
        let price = price.ok_or_else(|| invalid(format!("{id}: {sku} needs a price of 0 or more")))?;
        // Prices are whole cents; rounding keeps 0.1 + 0.2 from showing.
        let line = (price * 100.0).round() as i64 * quantity as i64;
        cents = cents.saturating_add(line);
    }
    let currency = text(order, "currency").unwrap_or(DEFAULT_CURRENCY);
    Ok(json!({ "orderId": id, "total": money(cents), "currency": currency }))
}

/// `switchyard-example-reserve-inventory`: reserves the items of an order,
/// or with `"release": true` releases the order's reservation.
///
/// Reserving fails with `OutOfStock` when a line asks for more than
/// [`STOCK_PER_LINE`] units. Releasing always succeeds, whether or not
/// anything was reserved (the saga's compensation may undo what never happened).
pub fn reserve_inventory(input: &Value) -> Result<Value, Failure> {
    let id = order_id(input, "InvalidReservation")?;
    let reservation_id = format!("res-{id}");
    if input.get("release").and_then(Value::as_bool) == Some(true) {
        return Ok(json!({ "released": true, "reservationId": reservation_id }));
    }
    let items = input
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| Failure::new("InvalidReservation", format!("{id}: nothing to reserve (no items list)")))?;
    for item in items {
        let quantity = item.get("quantity").and_then(Value::as_u64).unwrap_or(0);
        if quantity > STOCK_PER_LINE {
            let sku = text(item, "sku").unwrap_or("?");
            return Err(Failure::new(
                "OutOfStock",
                format!("{id}: {quantity} x {sku} asked, {STOCK_PER_LINE} in stock"),
            ));
        }
    }
    Ok(json!({ "reservationId": reservation_id, "items": items.len() }))
}

/// `switchyard-example-charge`: [`charge_attempt`] with the number of calls
/// this process has seen for the input's `idempotencyKey`.
///
/// A Lambda function cannot tell a retry from a first call, and these
/// examples keep no storage, so the count lives in this process: `cargo
/// lambda watch` keeps one process per function warm, so the saga's retry two
/// seconds later reaches the same process and sees its second call. (On AWS a
/// retry usually reaches the same warm instance too; a cold one would time
/// out once more, which the saga's second retry absorbs.) Use a fresh order
/// id per run: a key seen before no longer times out.
pub fn charge(input: &Value) -> Result<Value, Failure> {
    static CALLS: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    let key = text(input, "idempotencyKey").unwrap_or_default().to_string();
    let call = {
        let mut calls = CALLS.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
        let count = calls.entry(key).or_insert(0);
        *count += 1;
        *count
    };
    charge_attempt(input, call)
}

/// Charges `amount` `currency` for the order; `call` is 1 for the first call
/// with this idempotency key, 2 for the next…
///
/// Fails with `PaymentDeclined` when the amount is over [`CARD_LIMIT`], and
/// with `PaymentGatewayTimeout` on the first call for an order id containing
/// [`SLOW_GATEWAY_MARKER`].
pub fn charge_attempt(input: &Value, call: u64) -> Result<Value, Failure> {
    let id = order_id(input, "InvalidPayment")?;
    if text(input, "idempotencyKey").is_none() {
        return Err(Failure::new("InvalidPayment", format!("{id}: a charge needs an idempotencyKey")));
    }
    let amount = input.get("amount").and_then(Value::as_f64).filter(|a| a.is_finite() && *a >= 0.0);
    let amount = amount.ok_or_else(|| Failure::new("InvalidPayment", format!("{id}: no valid amount")))?;
    let currency = text(input, "currency").unwrap_or(DEFAULT_CURRENCY);
    if id.contains(SLOW_GATEWAY_MARKER) && call == 1 {
        return Err(Failure::new("PaymentGatewayTimeout", "the payment gateway did not answer in 10 s"));
    }
    if amount > CARD_LIMIT {
        return Err(Failure::new(
            "PaymentDeclined",
            format!("{id}: card declined, {amount} {currency} is over the limit of {CARD_LIMIT} {currency}"),
        ));
    }
    Ok(json!({ "paymentId": format!("pay-{id}"), "amount": input["amount"], "currency": currency }))
}

/// `switchyard-example-refund`: refunds whatever was charged under the
/// idempotency key. Idempotent, and succeeds when nothing was charged: the
/// payment provider refunds by key, and a key with no charge has nothing to refund.
pub fn refund(input: &Value) -> Result<Value, Failure> {
    let id = order_id(input, "InvalidRefund")?;
    let key = text(input, "idempotencyKey")
        .ok_or_else(|| Failure::new("InvalidRefund", format!("{id}: a refund needs the charge's idempotencyKey")))?;
    Ok(json!({ "refundId": format!("refund-{id}"), "orderId": id, "idempotencyKey": key }))
}

/// `switchyard-example-notify`: sends the customer `message` about the
/// order; returns the message's id. Fails with `InvalidMessage` without one.
pub fn notify(input: &Value) -> Result<Value, Failure> {
    let id = order_id(input, "InvalidMessage")?;
    if text(input, "message").is_none() {
        return Err(Failure::new("InvalidMessage", format!("{id}: nothing to send")));
    }
    Ok(json!({ "messageId": format!("msg-{id}") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Value {
        serde_json::from_str(include_str!("../../../examples/order-saga.input.json")).expect("example input")
    }

    #[test]
    fn validate_prices_the_example_order() {
        let out = validate(&order()["order"]).expect("valid");
        assert_eq!(out, json!({"orderId": "order-1042", "total": 34, "currency": "EUR"}));
        assert_eq!(out.to_string(), r#"{"orderId":"order-1042","total":34,"currency":"EUR"}"#);
    }

    #[test]
    fn validate_keeps_cents_and_the_currency() {
        let o = json!({"id": "o", "customer": "c", "currency": "USD",
            "items": [{"sku": "A", "quantity": 3, "price": 0.1}, {"sku": "B", "quantity": 1, "price": 0.2}]});
        assert_eq!(validate(&o).expect("valid"), json!({"orderId": "o", "total": 0.5, "currency": "USD"}));
    }

    #[test]
    fn validate_rejects_orders_it_cannot_accept() {
        let cases = [
            (json!({"customer": "c", "items": [{"sku": "A", "quantity": 1, "price": 1}]}), "the order has no id"),
            (json!({"id": "o", "items": [{"sku": "A", "quantity": 1, "price": 1}]}), "o has no customer"),
            (json!({"id": "o", "customer": "c", "items": []}), "o has no items"),
            (json!({"id": "o", "customer": "c"}), "o has no items"),
            (
                json!({"id": "o", "customer": "c", "items": [{"sku": "A", "quantity": 0, "price": 1}]}),
                "o: A needs a positive whole quantity",
            ),
            (
                json!({"id": "o", "customer": "c", "items": [{"sku": "A", "quantity": 1, "price": -1}]}),
                "o: A needs a price of 0 or more",
            ),
            (json!({"id": "o", "customer": "c", "items": [{"quantity": 1, "price": 1}]}), "o: item 0 has no sku"),
        ];
        for (input, message) in cases {
            assert_eq!(validate(&input), Err(Failure::new("InvalidOrder", message)), "{input}");
        }
    }

    #[test]
    fn reserve_and_release() {
        let input = json!({"orderId": "o-1", "items": order()["order"]["items"]});
        assert_eq!(reserve_inventory(&input), Ok(json!({"reservationId": "res-o-1", "items": 2})));
        let release = json!({"orderId": "o-1", "release": true});
        assert_eq!(reserve_inventory(&release), Ok(json!({"released": true, "reservationId": "res-o-1"})));
        assert_eq!(reserve_inventory(&release), reserve_inventory(&release));
        let big = json!({"orderId": "o-2", "items": [{"sku": "MUG-7", "quantity": 101, "price": 9}]});
        assert_eq!(reserve_inventory(&big), Err(Failure::new("OutOfStock", "o-2: 101 x MUG-7 asked, 100 in stock")));
        assert_eq!(reserve_inventory(&json!({})).map_err(|f| f.error_type), Err("InvalidReservation"));
    }

    fn payment(id: &str, amount: Value) -> Value {
        json!({"orderId": id, "amount": amount, "currency": "EUR", "idempotencyKey": format!("{id}-charge")})
    }

    #[test]
    fn charge_succeeds_under_the_limit() {
        let out = charge_attempt(&payment("o-1", json!(34)), 1);
        assert_eq!(out, Ok(json!({"paymentId": "pay-o-1", "amount": 34, "currency": "EUR"})));
        assert_eq!(charge_attempt(&payment("o-1", json!(1000)), 3).map(|_| ()), Ok(()));
    }

    #[test]
    fn charge_declines_over_the_limit_on_every_call() {
        for call in 1..=3 {
            assert_eq!(
                charge_attempt(&payment("o-2", json!(1500.5)), call),
                Err(Failure::new("PaymentDeclined", "o-2: card declined, 1500.5 EUR is over the limit of 1000 EUR"))
            );
        }
    }

    #[test]
    fn a_slow_gateway_times_out_on_the_first_call_only() {
        let input = payment("o-slow-gateway-1", json!(34));
        assert_eq!(charge_attempt(&input, 1).map_err(|f| f.error_type), Err("PaymentGatewayTimeout"));
        assert_eq!(charge_attempt(&input, 2).map(|p| p["paymentId"].clone()), Ok(json!("pay-o-slow-gateway-1")));
        // Counted per idempotency key in the process.
        let fresh = payment("o-slow-gateway-counted", json!(34));
        assert_eq!(charge(&fresh).map_err(|f| f.error_type), Err("PaymentGatewayTimeout"));
        assert_eq!(charge(&fresh).map(|_| ()), Ok(()));
    }

    #[test]
    fn charge_needs_a_key_and_an_amount() {
        let no_key = json!({"orderId": "o", "amount": 1});
        assert_eq!(charge_attempt(&no_key, 1).map_err(|f| f.error_type), Err("InvalidPayment"));
        let no_amount = json!({"orderId": "o", "idempotencyKey": "k"});
        assert_eq!(charge_attempt(&no_amount, 1).map_err(|f| f.error_type), Err("InvalidPayment"));
    }

    #[test]
    fn refund_is_idempotent() {
        let input = json!({"orderId": "o-1", "idempotencyKey": "o-1-charge"});
        let out = json!({"refundId": "refund-o-1", "orderId": "o-1", "idempotencyKey": "o-1-charge"});
        assert_eq!(refund(&input), Ok(out.clone()));
        assert_eq!(refund(&input), Ok(out));
        assert_eq!(refund(&json!({"orderId": "o-1"})).map_err(|f| f.error_type), Err("InvalidRefund"));
    }

    #[test]
    fn notify_returns_a_message_id() {
        assert_eq!(notify(&json!({"orderId": "o-1", "message": "hi"})), Ok(json!({"messageId": "msg-o-1"})));
        assert_eq!(notify(&json!({"orderId": "o-1"})).map_err(|f| f.error_type), Err("InvalidMessage"));
    }

    #[test]
    fn a_failure_becomes_the_lambda_error_type() {
        let d = Diagnostic::from(Failure::new("InvalidOrder", "o has no items"));
        assert_eq!((d.error_type.as_str(), d.error_message.as_str()), ("InvalidOrder", "o has no items"));
    }
}
