//! The examples, every test case of their mock files: exact outcome, and the
//! full GetExecutionHistory output compared with a golden file in
//! tests/golden/ (run with UPDATE_GOLDEN=1 to rewrite them after a deliberate change).

use serde_json::{Value, json};
use switchyard_tests::{Outcome, run_mocked, workspace_json};

fn run_example(example: &str, case: &str) -> Outcome {
    let def = workspace_json(&format!("examples/{example}.asl.json"));
    let input = workspace_json(&format!("examples/{example}.input.json"));
    let mocks = workspace_json(&format!("examples/{example}.mocks.json"));
    run_mocked(example, &def, input, &mocks, case)
}

fn check_golden(example: &str, case: &str, outcome: &Outcome) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("golden/{example}.{case}.json"));
    let actual = json!({"describe": outcome.describe_json(), "history": outcome.history_json()});
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&actual).expect("serializable") + "\n";
        std::fs::write(&path, text).expect("write golden file");
        return;
    }
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("missing golden file {}: {e}", path.display())),
    )
    .expect("golden file is JSON");
    assert_eq!(actual["describe"], expected["describe"], "DescribeExecution of {example}/{case}");
    let (got, want) = (&actual["history"]["events"], &expected["history"]["events"]);
    let pairs = got.as_array().into_iter().flatten().zip(want.as_array().into_iter().flatten());
    for (i, (g, w)) in pairs.enumerate() {
        assert_eq!(g, w, "event #{} of {example}/{case} differs from {}", i + 1, path.display());
    }
    assert_eq!(got, want, "history of {example}/{case} differs from {}", path.display());
}

#[test]
fn order_saga_happy_path() {
    let o = run_example("order-saga", "HappyPath");
    assert_eq!(o.status(), "SUCCEEDED");
    assert_eq!(
        o.output(),
        json!({"orderId": "order-1042", "status": "CONFIRMED", "reservationId": "res-9", "paymentId": "pay-31"})
    );
    check_golden("order-saga", "HappyPath", &o);
}

#[test]
fn order_saga_retries_a_gateway_timeout_after_two_seconds() {
    let o = run_example("order-saga", "GatewayTimeoutThenCharged");
    assert_eq!(o.status(), "SUCCEEDED");
    assert_eq!(o.output()["paymentId"], "pay-32");
    let failed: Vec<_> = o.history.iter().filter(|e| e.event.details.type_name() == "TaskFailed").collect();
    assert_eq!(failed.len(), 1);
    let rescheduled = o
        .history
        .iter()
        .filter(|e| e.event.details.type_name() == "TaskScheduled" && e.id > failed[0].id)
        .find(|e| matches!(&e.event.details, engine::EventDetails::TaskScheduled { parameters, .. } if parameters.contains("charge")))
        .expect("ChargeCard scheduled again");
    assert_eq!(rescheduled.event.timestamp_ms - failed[0].event.timestamp_ms, 2000);
    check_golden("order-saga", "GatewayTimeoutThenCharged", &o);
}

#[test]
fn order_saga_compensates_a_declined_payment() {
    let o = run_example("order-saga", "PaymentDeclined");
    assert_eq!(o.status(), "FAILED");
    assert_eq!(o.error(), ("OrderFailed".to_string(), "Order order-1042 was not placed: PaymentDeclined".to_string()));
    let entered: Vec<String> = o
        .history
        .iter()
        .filter(|e| e.event.details.type_name().ends_with("StateEntered"))
        .filter_map(|e| e.event.details.state_name().map(str::to_string))
        .collect();
    assert!(entered.contains(&"RefundPayment".to_string()) && entered.contains(&"ReleaseInventory".to_string()));
    assert_eq!(entered.last().map(String::as_str), Some("OrderFailed"));
    check_golden("order-saga", "PaymentDeclined", &o);
}

#[test]
fn order_saga_rejects_an_invalid_order() {
    let o = run_example("order-saga", "InvalidOrder");
    assert_eq!(o.status(), "FAILED");
    assert_eq!(o.error(), ("OrderRejected".to_string(), "order-1042 has no shipping address".to_string()));
    check_golden("order-saga", "InvalidOrder", &o);
}

#[test]
fn human_approval_approved_at_once() {
    let o = run_example("human-approval", "Approved");
    assert_eq!(o.status(), "SUCCEEDED");
    assert_eq!(
        o.output(),
        json!({"expenseId": "exp-2291", "status": "APPROVED", "approvedBy": "dana@example.com", "attempts": 1})
    );
    check_golden("human-approval", "Approved", &o);
}

#[test]
fn human_approval_waits_for_information_then_approves() {
    let o = run_example("human-approval", "NeedsInfoThenApproved");
    assert_eq!(o.status(), "SUCCEEDED");
    assert_eq!(o.output()["attempts"], 2);
    let wait: Vec<_> =
        o.history.iter().filter(|e| e.event.details.state_name() == Some("WaitForInformation")).collect();
    assert_eq!(wait.len(), 2);
    assert_eq!(wait[1].event.timestamp_ms - wait[0].event.timestamp_ms, 2000);
    check_golden("human-approval", "NeedsInfoThenApproved", &o);
}

#[test]
fn human_approval_rejected() {
    let o = run_example("human-approval", "Rejected");
    assert_eq!(o.error(), ("ExpenseRejected".to_string(), "Expense rejected by dana@example.com".to_string()));
    check_golden("human-approval", "Rejected", &o);
}

#[test]
fn human_approval_timeout_escalates() {
    let o = run_example("human-approval", "NoAnswer");
    assert_eq!(o.error(), ("ApprovalTimedOut".to_string(), "No answer from the approver within a day.".to_string()));
    check_golden("human-approval", "NoAnswer", &o);
}

#[test]
fn batch_map_tolerates_one_invalid_record() {
    let o = run_example("batch-map", "OneInvalidRecord");
    assert_eq!(o.status(), "SUCCEEDED");
    assert_eq!(
        o.output(),
        json!({
            "batchId": "batch-17",
            "records": 8,
            "imported": ["r1", "r2", "r4", "r5", "r6", "r7", "r8"],
            "failed": ["record 2 has no valid e-mail address"]
        })
    );
    check_golden("batch-map", "OneInvalidRecord", &o);
}

#[test]
fn batch_map_retries_a_throttled_record() {
    let o = run_example("batch-map", "ThrottledThenImported");
    assert_eq!(o.status(), "SUCCEEDED");
    assert_eq!(o.output()["imported"], json!(["r1", "r2", "r4", "r5", "r6", "r7", "r8"]));
    assert_eq!(o.types().iter().filter(|t| *t == "LambdaFunctionFailed").count(), 1);
    check_golden("batch-map", "ThrottledThenImported", &o);
}

#[test]
fn batch_map_fails_past_the_tolerated_percentage() {
    let o = run_example("batch-map", "TooManyFailures");
    assert_eq!(o.status(), "FAILED");
    assert_eq!(
        o.error(),
        (
            "States.ExceedToleratedFailureThreshold".to_string(),
            "The specified tolerated failure threshold was exceeded".to_string()
        )
    );
    let types = o.types();
    assert_eq!(types.iter().filter(|t| *t == "MapStateFailed").count(), 1);
    assert_eq!(types.last().map(String::as_str), Some("ExecutionFailed"));
    check_golden("batch-map", "TooManyFailures", &o);
}
