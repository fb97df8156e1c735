"""The order-processing saga (examples/order-saga.asl.json) end to end, for
real: its task functions are the Rust Lambdas of functions/examples under
`cargo lambda watch`, the executions live in DynamoDB Local, and the AWS CLI
drives `switchyard serve`. Which path an order takes follows from the order
itself (functions/examples/src/lib.rs):

- an order id containing `slow-gateway`: the payment gateway times out on the
  first charge, and ChargeCard's Retry charges it 2 s later;
- a total over 1000: the card is declined, and the saga compensates;
- no customer: validation rejects the order.

Every order id is fresh (the charge function counts calls per order in its
process, which stays warm between runs).

In a Parallel the two branches' events interleave in whatever order their
functions answer, so histories are compared per branch (events grouped by
their previousEventId chain) and, outside the branches, as one exact sequence.
"""

import json
import os
import time
import uuid

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFINITION = os.path.join(REPO, "examples", "order-saga.asl.json")
INPUT = os.path.join(REPO, "examples", "order-saga.input.json")
ACCOUNT = "123456789012"

TASK_OK = ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited"]


@pytest.fixture(scope="module")
def machine(aws):
    """The saga, created from the example file as a user would."""
    name = f"order-saga-{uuid.uuid4().hex[:8]}"
    created = aws(
        "create-state-machine", "--name", name, "--definition", f"file://{DEFINITION}",
        "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/switchyard-e2e",
    )  # fmt: skip
    assert created["stateMachineArn"] == f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{name}"
    return created["stateMachineArn"]


def order(prefix, **changes):
    """The example order under a fresh id, with `changes` applied to it."""
    with open(INPUT) as f:
        data = json.load(f)
    data["order"]["id"] = f"{prefix}-{uuid.uuid4().hex[:8]}"
    data["order"].update(changes)
    return data


def run(aws, machine, data, timeout=60):
    """Starts an execution with `data`, waits for its end; returns
    (DescribeExecution, the history's events)."""
    arn = aws("start-execution", "--state-machine-arn", machine, "--input", json.dumps(data))["executionArn"]
    deadline = time.monotonic() + timeout
    while True:
        described = aws("describe-execution", "--execution-arn", arn)
        if described["status"] != "RUNNING":
            break
        assert time.monotonic() < deadline, f"{arn} still RUNNING after {timeout} s"
        time.sleep(0.3)
    events = aws("get-execution-history", "--execution-arn", arn)["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    return described, events


def split(events):
    """(the types of the events outside Parallel branches, {first state of a
    branch: the types of that branch's events}), every event in exactly one,
    and each branch's events between its ParallelStateStarted and the
    Parallel's end."""
    by_id = {e["id"]: e for e in events}

    def branch(event):
        if event["type"].startswith(("Parallel", "Execution")):
            return None
        while event["previousEventId"]:
            prev = by_id[event["previousEventId"]]
            if prev["type"] == "ParallelStateStarted":
                return event["stateEnteredEventDetails"]["name"]
            if prev["type"].startswith("Parallel"):
                return None
            event = prev
        return None

    main, branches, open_parallel = [], {}, None
    for e in events:
        name = branch(e)
        if name is None:
            main.append(e["type"])
            if e["type"] == "ParallelStateStarted":
                open_parallel = e["id"]
            elif e["type"] in ("ParallelStateSucceeded", "ParallelStateFailed"):
                open_parallel = None
        else:
            assert open_parallel is not None, f"event {e['id']} of branch {name} outside its Parallel"
            branches.setdefault(name, []).append(e["type"])
    return main, branches


def entered(events):
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def scheduled(events, function):
    """The TaskScheduled events invoking `function`, their parameters parsed."""
    found = []
    for e in events:
        if e["type"] == "TaskScheduled":
            params = json.loads(e["taskScheduledEventDetails"]["parameters"])
            # A plain name or a function ARN: both reach the same binary.
            if params["FunctionName"].split(":function:")[-1] == function:
                found.append((e, params))
    return found


def following(events, event, type_):
    """The first event of `type_` caused, directly or not, by `event`."""
    ids = {event["id"]}
    for e in events:
        if e["previousEventId"] in ids:
            if e["type"] == type_:
                return e
            ids.add(e["id"])
    raise AssertionError(f"no {type_} after event {event['id']}")


def payload(event):
    return json.loads(event["taskSucceededEventDetails"]["output"])["Payload"]


def test_an_order_succeeds_after_a_payment_gateway_timeout(aws, machine):
    data = order("order-slow-gateway")
    oid = data["order"]["id"]
    described, events = run(aws, machine, data)

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {
        "orderId": oid,
        "status": "CONFIRMED",
        "reservationId": f"res-{oid}",
        "paymentId": f"pay-{oid}",
    }
    main, branches = split(events)
    assert main == [
        "ExecutionStarted",
        *TASK_OK,  # ValidateOrder
        "ParallelStateEntered", "ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateExited",
        *TASK_OK,  # NotifyCustomer
        "PassStateEntered", "PassStateExited",
        "ExecutionSucceeded",
    ]  # fmt: skip
    assert branches == {
        "ReserveInventory": TASK_OK,
        "ChargeCard": [
            "TaskStateEntered",
            "TaskScheduled", "TaskStarted", "TaskFailed",  # the gateway timed out
            "TaskScheduled", "TaskStarted", "TaskSucceeded",  # Retry, 2 s later
            "TaskStateExited",
        ],
    }  # fmt: skip
    assert [n for n in entered(events) if n not in ("ReserveInventory", "ChargeCard")] == [
        "ValidateOrder", "ReserveAndCharge", "NotifyCustomer", "OrderConfirmed",
    ]  # fmt: skip

    # What the functions were sent, and what they answered.
    (first, params), (second, again) = scheduled(events, "switchyard-example-charge")
    assert params == again
    assert params["Payload"] == {"orderId": oid, "amount": 34, "currency": "EUR", "idempotencyKey": f"{oid}-charge"}
    failed = following(events, first, "TaskFailed")["taskFailedEventDetails"]
    assert failed["error"] == "PaymentGatewayTimeout"
    assert json.loads(failed["cause"]) == {
        "errorType": "PaymentGatewayTimeout",
        "errorMessage": "the payment gateway did not answer in 10 s",
    }
    waited = second["timestamp"] - following(events, first, "TaskFailed")["timestamp"]
    assert 2.0 <= waited < 5.0, f"the retry came {waited} s after the failure (IntervalSeconds 2)"
    assert payload(following(events, second, "TaskSucceeded")) == {
        "paymentId": f"pay-{oid}", "amount": 34, "currency": "EUR",
    }  # fmt: skip
    ((validate, _),) = scheduled(events, "switchyard-example-validate")
    assert payload(following(events, validate, "TaskSucceeded")) == {"orderId": oid, "total": 34, "currency": "EUR"}
    ((notify, notified),) = scheduled(events, "switchyard-example-notify")
    assert notified["Payload"] == {"orderId": oid, "message": f"Order {oid} confirmed: 34 EUR charged."}
    assert payload(following(events, notify, "TaskSucceeded")) == {"messageId": f"msg-{oid}"}


def test_a_declined_payment_is_compensated(aws, machine):
    # 90 books make 1,134 EUR: over the card's limit of 1,000. The slow
    # gateway (a first call that times out, retried 2 s later) gives
    # ReserveInventory the time to finish, so there is a reservation to
    # release whatever order the functions answer in.
    data = order("order-slow-gateway")
    data["order"]["items"][0]["quantity"] = 90
    oid = data["order"]["id"]
    described, events = run(aws, machine, data)

    assert described["status"] == "FAILED", described
    assert described["error"] == "OrderFailed"
    assert described["cause"] == f"Order {oid} was not placed: PaymentDeclined"
    assert "output" not in described
    main, branches = split(events)
    assert main == [
        "ExecutionStarted",
        *TASK_OK,  # ValidateOrder
        "ParallelStateEntered", "ParallelStateStarted", "ParallelStateFailed", "ParallelStateExited",
        "ParallelStateEntered", "ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateExited",  # Compensate
        "FailStateEntered",
        "ExecutionFailed",
    ]  # fmt: skip
    assert branches == {
        "ReserveInventory": TASK_OK,
        "ChargeCard": [
            "TaskStateEntered",
            "TaskScheduled", "TaskStarted", "TaskFailed",  # the gateway timed out: retried
            "TaskScheduled", "TaskStarted", "TaskFailed",  # declined: not retried, the Parallel fails
        ],
        "RefundPayment": TASK_OK,
        "ReleaseInventory": TASK_OK,
    }  # fmt: skip
    assert [n for n in entered(events) if n not in branches] == [
        "ValidateOrder", "ReserveAndCharge", "Compensate", "OrderFailed",
    ]  # fmt: skip

    declined = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"][-1]
    assert declined["error"] == "PaymentDeclined"
    assert json.loads(declined["cause"]) == {
        "errorType": "PaymentDeclined",
        "errorMessage": f"{oid}: card declined, 1134 EUR is over the limit of 1000 EUR",
    }
    execution_failed = next(e for e in events if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
    assert execution_failed == {"error": "OrderFailed", "cause": f"Order {oid} was not placed: PaymentDeclined"}

    ((refund, refund_params),) = scheduled(events, "switchyard-example-refund")
    assert refund_params["Payload"] == {"orderId": oid, "idempotencyKey": f"{oid}-charge"}
    assert payload(following(events, refund, "TaskSucceeded")) == {
        "refundId": f"refund-{oid}", "orderId": oid, "idempotencyKey": f"{oid}-charge",
    }  # fmt: skip
    reserve, release = scheduled(events, "switchyard-example-reserve-inventory")
    assert payload(following(events, reserve[0], "TaskSucceeded")) == {"reservationId": f"res-{oid}", "items": 2}
    assert release[1]["Payload"] == {"orderId": oid, "release": True}
    assert payload(following(events, release[0], "TaskSucceeded")) == {"released": True, "reservationId": f"res-{oid}"}


def test_an_order_without_a_customer_is_rejected(aws, machine):
    data = order("order")
    del data["order"]["customer"]
    oid = data["order"]["id"]
    described, events = run(aws, machine, data)

    cause = json.dumps({"errorType": "InvalidOrder", "errorMessage": f"{oid} has no customer"}, separators=(",", ":"))
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "OrderRejected", cause)
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "TaskStateExited",  # caught
        "FailStateEntered",
        "ExecutionFailed",
    ]  # fmt: skip
    failed = events[4]["taskFailedEventDetails"]
    assert (failed["error"], failed["cause"]) == ("InvalidOrder", cause)
