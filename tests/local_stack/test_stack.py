"""The stack of template.yaml run whole (scripts/stack-local.sh): what only
the deployed wiring does — timers through the SQS event source mapping and
through EventBridge Scheduler, a stepper process killed mid-run with Lambda
retrying its invocations, a delivery that fails every retry, goes to the
dead-letter queue and is recovered by the sweeper. The API suite (tests/api)
and the saga (tests/e2e) run against the same stack (scripts/stack-tests.sh).

The stack runs with the test settings of scripts/stack-tests.sh: schedules
every 3 s, Lambda's retries after 1 and 2 s, the timer queue's visibility
timeout 5 s, and SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS=30 on the stepper
(waits over 30 s go through Scheduler).
"""

import json
import random
import threading
import time

WAIT_ONLY = ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]


def wait_machine(seconds):
    return {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": True}}}


def waited_ms(events):
    """Milliseconds between WaitStateEntered and WaitStateExited."""
    entered = next(e["timestamp"] for e in events if e["type"] == "WaitStateEntered")
    exited = next(e["timestamp"] for e in events if e["type"] == "WaitStateExited")
    return (exited - entered).total_seconds() * 1000


def test_timers_through_the_queue_and_through_scheduler(local, scheduler):
    group = local.stack["scheduleGroups"]["ScheduleGroup"]
    before = local.stats()
    short = local.start(local.create(wait_machine(20), "sqs-wait"), {"n": 1})
    long = local.start(local.create(wait_machine(40), "scheduler-wait"), {"n": 2})

    # The 40 s wait is on Scheduler now (the stepper armed it over the 30 s limit).
    deadline = time.monotonic() + 10
    while local.stats().get("schedules_fired", 0) == before.get("schedules_fired", 0):
        assert time.monotonic() < deadline, "no schedule fired: is the stack up with SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS=30?"
        time.sleep(0.1)

    for execution, seconds in ((short, 20), (long, 40)):
        d = local.wait(execution, timeout=seconds + 60)
        assert (d["status"], json.loads(d["output"])) == ("SUCCEEDED", {"n": 1 if seconds == 20 else 2})
        events = local.history(execution)
        assert [e["type"] for e in events] == WAIT_ONLY
        # Never early; late by the queue's poll and a second of DelaySeconds rounding at most.
        assert seconds * 1000 <= waited_ms(events) <= seconds * 1000 + 5000, waited_ms(events)

    after = local.stats()
    # The long wait came back from Scheduler early (at() is minute-precise,
    # 3 minutes early) and was armed again, until the rest fitted the queue.
    assert after.get("schedules_fired", 0) > before.get("schedules_fired", 0)
    # Both ended through the timer queue's event source mapping.
    assert after.get("sqs_batches", 0) >= before.get("sqs_batches", 0) + 2
    # Every one-time schedule of theirs deleted itself (other tests' long
    # timers may still wait in the group, as they would on AWS).
    left = [
        s["Name"]
        for s in scheduler.list_schedules(GroupName=group)["Schedules"]
        if any(
            arn in scheduler.get_schedule(Name=s["Name"], GroupName=group)["Target"].get("Input", "")
            for arn in (short, long)
        )
    ]
    assert left == []
    # The stepper deleted their timer rows as it handled the timers (else the
    # sweeper would hand them on again a minute later).
    rows = local.dynamodb().query(
        TableName=local.stack["tables"]["ExecutionTable"],
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": "TIMERS"}},
    )["Items"]
    assert [r["pk"]["S"] for r in rows if short in str(r) or long in str(r)] == []


PASS_CHAIN = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Pass", "Result": 2, "ResultPath": "$.b", "End": True},
    },
}
PASS_CHAIN_EVENTS = [
    "ExecutionStarted",
    "PassStateEntered",
    "PassStateExited",
    "PassStateEntered",
    "PassStateExited",
    "ExecutionSucceeded",
]


def test_a_delivery_that_fails_every_retry_is_recovered_from_the_dead_letter_queue(local, sqs):
    machine = local.create(PASS_CHAIN, "dead-letter")
    name = f"dlq-{time.time_ns()}"
    # Every attempt at the execution's start kills the stepper before the
    # event reaches it: Lambda's first try and its two retries fail
    # (Runtime.ExitError), and Lambda sends the invocation record to the
    # on-failure destination, the dead-letter queue.
    local.control("faults", {"function": local.stepper, "count": 3, "match": name, "afterMs": 0})
    before = local.stats()
    execution = local.start(machine, {"x": 1}, name=name)

    d = local.wait(execution, timeout=60)
    after = local.stats()
    assert after.get("killed", 0) - before.get("killed", 0) == 3
    assert after.get("retries", 0) - before.get("retries", 0) >= 2
    assert after.get("destination", 0) - before.get("destination", 0) == 1
    # The sweeper drained it into the stepper, which carried the start out once.
    assert (d["status"], json.loads(d["output"])) == ("SUCCEEDED", {"x": 1, "a": 1, "b": 2})
    assert [e["type"] for e in local.history(execution)] == PASS_CHAIN_EVENTS
    dlq = local.stack["queues"]["DeadLetterQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == ("0", "0")


# Pass, Map (inline, 12 items, 3 at a time), Wait, Parallel: a bit of every
# kind of step, timers and fan-in included.
CRASH_MACHINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Parameters": {"items.$": "$.items", "id.$": "$.id"}, "Next": "Each"},
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 3,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Double",
                "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": True}},
            },
            "ResultPath": "$.doubled",
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "L", "States": {"L": {"Type": "Pass", "Result": "left", "End": True}}},
                {"StartAt": "R", "States": {"R": {"Type": "Pass", "Result": "right", "End": True}}},
            ],
            "ResultPath": "$.sides",
            "End": True,
        },
    },
}


def expected_output(i):
    items = list(range(12))
    return {"items": items, "id": i, "doubled": [{"v": v} for v in items], "sides": ["left", "right"]}


def type_counts(events):
    counts = {}
    for e in events:
        counts[e["type"]] = counts.get(e["type"], 0) + 1
    return counts


def test_the_stepper_killed_mid_run_loses_and_repeats_nothing(local):
    machine = local.create(CRASH_MACHINE, "crash")
    reference = local.start(machine, {"items": list(range(12)), "id": -1})
    assert local.wait(reference, timeout=60)["status"] == "SUCCEEDED"
    expected_counts = type_counts(local.history(reference))

    before = local.stats()
    rng = random.Random(20261207)
    # A third of the stepper's next invocations are killed at a random moment
    # (0-40 ms after the instance took the event: before, during or after its
    # write), and every instance is killed outright now and then.
    local.control("faults", {"function": local.stepper, "count": 40, "match": "", "afterMs": 1})
    for _ in range(4):
        local.control("faults", {"function": local.stepper, "count": 10, "match": "", "afterMs": rng.randint(2, 40)})
    stop = threading.Event()

    def killer():
        while not stop.wait(rng.uniform(0.5, 1.5)):
            local.control("kill", {"function": local.stepper})

    thread = threading.Thread(target=killer, daemon=True)
    executions = [local.start(machine, {"items": list(range(12)), "id": i}) for i in range(8)]
    thread.start()
    time.sleep(8)
    stop.set()
    thread.join()
    local.control("clear-faults")

    for i, execution in enumerate(executions):
        d = local.wait(execution, timeout=120)
        assert (d["status"], json.loads(d["output"])) == ("SUCCEEDED", expected_output(i)), execution
        # Nothing recorded twice, nothing missing: the same events as the undisturbed run.
        assert type_counts(local.history(execution)) == expected_counts, execution
    after = local.stats()
    assert after.get("killed", 0) - before.get("killed", 0) >= 10
    assert after.get("retries", 0) - before.get("retries", 0) >= 1
    # Every function stayed within the memory the template gives it (the
    # emulator reads each instance's peak resident memory after each invocation).
    for function, stats in local.stats("*").items():
        assert stats.get("over_memory", 0) == 0, (function, stats)


def test_the_api_killed_mid_start_execution_loses_no_execution(local, sfn):
    """The api function's process killed at points through StartExecution
    (before it reads the request, during its writes, around its invocation of
    the stepper): API Gateway answers 502, the client calls again, and every
    execution runs once — the same ARN for the same name and input, its start
    carried out by the second call or by the stepper's recovery pass."""
    from botocore.exceptions import ClientError

    machine = local.create(PASS_CHAIN, "api-crash")
    api = local.stack["functions"]["ApiFunction"]
    before = local.stats(api)
    executions = []
    for after_ms in (0, 1, 2, 4, 8, 16, 32):
        name = f"api-crash-{after_ms}-{time.time_ns()}"
        local.control("faults", {"function": api, "count": 1, "match": name, "afterMs": after_ms})
        try:
            first = local.start(machine, {"x": after_ms}, name=name)
        except ClientError as e:
            # API Gateway's answer when the integration fails.
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 502, e.response
            first = None
        local.control("clear-faults")
        arn = machine.replace(":stateMachine:", ":execution:") + ":" + name
        try:
            # Idempotent for the same name and input while the execution runs.
            again = local.start(machine, {"x": after_ms}, name=name)
            assert first in (None, again)
        except ClientError as e:
            # It has ended already (started by the first call, whether that
            # call's answer was lost or not): as Step Functions answers a
            # start of an ended execution's name.
            assert e.response["Error"]["Code"] == "ExecutionAlreadyExists", e.response
            assert arn in e.response["Error"]["Message"]
            assert first in (None, arn)
            again = arn
        assert again == arn
        executions.append((again, after_ms))
    assert local.stats(api).get("killed", 0) - before.get("killed", 0) >= 1

    for execution, after_ms in executions:
        d = local.wait(execution, timeout=60)
        assert (d["status"], json.loads(d["output"])) == ("SUCCEEDED", {"x": after_ms, "a": 1, "b": 2}), execution
        assert [e["type"] for e in local.history(execution)] == PASS_CHAIN_EVENTS, execution
