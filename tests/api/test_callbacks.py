"""Task tokens: SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat, and the
callback URLs (`$$.Task.CallbackUrl`) answered with plain HTTP.

`serve` has no Lambda endpoint here, so a `lambda:invoke.waitForTaskToken`
task is parked until its token is answered (on the local stack, the function
`approver` is tests/functions/task-probe, which echoes its input); the token
and the URL are read from the TaskScheduled event's parameters.

Error codes, as the Step Functions API reference gives them: a token whose
task was already answered (or timed out) is `TaskTimedOut` ("the task token
has either expired or the task associated with the token has already been
closed"); a token that is not one of ours is `InvalidToken`; output that is
not JSON is `InvalidOutput`.
"""

import json
import time

import pytest
from botocore.exceptions import ClientError

# The error a missed heartbeat is recorded with. The AWS error-handling guide
# describes States.HeartbeatTimeout as a name for Retry and Catch to match; the
# failure itself is recorded as States.Timeout (README: "A heartbeat timeout is
# recorded as States.Timeout and matched by States.HeartbeatTimeout too").
HEARTBEAT_TIMEOUT_ERROR = "States.Timeout"

WAITING_TASK_EVENTS = ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted"]


def forge(token):
    """The same token with its last hex digit changed."""
    return token[:-1] + ("0" if token[-1] != "0" else "1")


def bare(response):
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def test_send_task_success(api, sfn, code):
    _, execution, token, _ = api.parked()
    assert bare(sfn.send_task_success(taskToken=token, output='{"ok":true}')) == {}
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"req": 1, "answer": {"ok": True}}

    events = api.history(execution)
    # As AWS records a Lambda waitForTaskToken task: the invocation is
    # TaskSubmitted, the callback is TaskSucceeded.
    assert [e["type"] for e in events] == WAITING_TASK_EVENTS + [
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = events[2]["taskScheduledEventDetails"]
    assert scheduled["resourceType"] == "lambda"
    assert scheduled["resource"] == "invoke.waitForTaskToken"
    assert scheduled["region"] == "us-east-1"
    parameters = json.loads(scheduled["parameters"])
    assert parameters["FunctionName"] == "approver"
    assert parameters["Payload"]["token"] == token
    succeeded = events[5]["taskSucceededEventDetails"]
    assert succeeded["resourceType"] == "lambda"
    assert succeeded["resource"] == "invoke.waitForTaskToken"
    assert json.loads(succeeded["output"]) == {"ok": True}

    # The task is closed: its token is refused.
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=token, output='{"ok":false}')
    assert code(e) == "TaskTimedOut"
    with pytest.raises(ClientError) as e:
        sfn.send_task_failure(taskToken=token, error="Late")
    assert code(e) == "TaskTimedOut"
    with pytest.raises(ClientError) as e:
        sfn.send_task_heartbeat(taskToken=token)
    assert code(e) == "TaskTimedOut"
    assert json.loads(sfn.describe_execution(executionArn=execution)["output"]) == {"req": 1, "answer": {"ok": True}}


def test_forged_and_garbage_tokens(api, sfn, code):
    _, execution, token, _ = api.parked()
    for bad in (forge(token), "abc"):
        with pytest.raises(ClientError) as e:
            sfn.send_task_success(taskToken=bad, output="{}")
        assert code(e) == "InvalidToken", bad
        with pytest.raises(ClientError) as e:
            sfn.send_task_failure(taskToken=bad, error="X")
        assert code(e) == "InvalidToken", bad
        with pytest.raises(ClientError) as e:
            sfn.send_task_heartbeat(taskToken=bad)
        assert code(e) == "InvalidToken", bad
    # Nothing happened to the execution: the real token still works.
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output='"fine"')
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"req": 1, "answer": "fine"}


def test_send_task_success_with_output_that_is_not_json(api, sfn, code):
    _, execution, token, _ = api.parked()
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=token, output="not json")
    assert code(e) == "InvalidOutput"
    # The task still waits.
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=token, output="[1,2]")
    assert json.loads(api.wait(execution)["output"]) == {"req": 1, "answer": [1, 2]}


def test_send_task_failure_without_catch(api, sfn):
    _, execution, token, _ = api.parked()
    assert bare(sfn.send_task_failure(taskToken=token, error="Rejected", cause="no")) == {}
    d = api.wait(execution)
    assert d["status"] == "FAILED"
    assert d["error"] == "Rejected"
    assert d["cause"] == "no"
    assert "output" not in d
    events = api.history(execution)
    assert [e["type"] for e in events] == WAITING_TASK_EVENTS + ["TaskFailed", "ExecutionFailed"]
    assert events[5]["taskFailedEventDetails"]["error"] == "Rejected"
    assert events[5]["taskFailedEventDetails"]["cause"] == "no"
    assert events[6]["executionFailedEventDetails"] == {"error": "Rejected", "cause": "no"}


def test_send_task_failure_caught(api, sfn):
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": api.callback_task(
                next_state="Yes",
                extra={"Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.error", "Next": "No"}]},
            ),
            "Yes": {"Type": "Succeed"},
            "No": {"Type": "Pass", "Result": "caught", "ResultPath": "$.branch", "End": True},
        },
    }
    _, execution, token, _ = api.parked(definition)
    sfn.send_task_failure(taskToken=token, error="Rejected", cause="no")
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"req": 1, "error": {"Error": "Rejected", "Cause": "no"}, "branch": "caught"}


def test_heartbeats_keep_a_task_alive_and_their_absence_fails_it(api, sfn):
    definition = {"StartAt": "Ask", "States": {"Ask": api.callback_task(heartbeat=2)}}
    _, execution, token, _ = api.parked(definition)
    # Beat every 0.5 s for 3 s: longer than HeartbeatSeconds, still running.
    for _ in range(6):
        last_beat = time.monotonic()
        assert bare(sfn.send_task_heartbeat(taskToken=token)) == {}
        time.sleep(0.5)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    # Then silence: a heartbeat timeout 2 s after the last heartbeat.
    d = api.wait(execution, timeout=6)
    assert time.monotonic() - last_beat >= 1.9
    assert d["status"] == "FAILED"
    assert d["error"] == HEARTBEAT_TIMEOUT_ERROR
    events = api.history(execution)
    assert [e["type"] for e in events][-2:] == ["TaskTimedOut", "ExecutionFailed"]
    assert events[-2]["taskTimedOutEventDetails"]["error"] == HEARTBEAT_TIMEOUT_ERROR
    # The timed-out token is refused.
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=token, output="{}")
    assert e.value.response["Error"]["Code"] == "TaskTimedOut"


def test_a_heartbeat_timeout_without_any_heartbeat(api, sfn):
    definition = {"StartAt": "Ask", "States": {"Ask": api.callback_task(heartbeat=2)}}
    started = time.monotonic()
    _, execution, _, _ = api.parked(definition)
    d = api.wait(execution, timeout=8)
    assert d["status"] == "FAILED"
    assert d["error"] == HEARTBEAT_TIMEOUT_ERROR
    assert 1.9 <= time.monotonic() - started <= 8


def test_catch_tells_a_heartbeat_timeout_from_a_task_timeout(api, sfn):
    """A Catch on States.HeartbeatTimeout catches a missed heartbeat, not a
    TimeoutSeconds timeout (which States.Timeout catches)."""
    catch = [
        {"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.caught", "Next": "Heartbeat"},
        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.caught", "Next": "Timeout"},
    ]
    states = {
        "Heartbeat": {"Type": "Pass", "Result": "heartbeat", "ResultPath": "$.by", "End": True},
        "Timeout": {"Type": "Pass", "Result": "timeout", "ResultPath": "$.by", "End": True},
    }
    missed_beat = {"StartAt": "Ask", "States": {"Ask": api.callback_task(next_state="Heartbeat", heartbeat=1, extra={"Catch": catch}), **states}}
    too_long = {"StartAt": "Ask", "States": {"Ask": api.callback_task(next_state="Heartbeat", extra={"Catch": catch, "TimeoutSeconds": 1}), **states}}
    _, beat_execution, _, _ = api.parked(missed_beat)
    _, long_execution, _, _ = api.parked(too_long)
    beat = api.wait(beat_execution, timeout=6)
    long = api.wait(long_execution, timeout=6)
    assert beat["status"] == "SUCCEEDED"
    assert json.loads(beat["output"])["by"] == "heartbeat"
    assert json.loads(beat["output"])["caught"]["Error"] == HEARTBEAT_TIMEOUT_ERROR
    assert long["status"] == "SUCCEEDED"
    assert json.loads(long["output"])["by"] == "timeout"
    assert json.loads(long["output"])["caught"]["Error"] == "States.Timeout"


# ----- callback URLs -------------------------------------------------------------------


def test_callback_url_names_the_token(api, sfn):
    _, execution, token, url = api.parked()
    assert url is not None, "$$.Task.CallbackUrl is missing"
    assert url.startswith(api.endpoint + "/")
    assert url.endswith("/" + token)
    sfn.stop_execution(executionArn=execution)


def test_callback_url_success(api, sfn):
    _, execution, token, url = api.parked()
    status, body, raw = api.post(url + "/success", '{"approved": true}', {"Content-Type": "application/json"})
    assert status == 200, raw
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"req": 1, "answer": {"approved": True}}

    # Used once: refused the second time, as SendTaskSuccess would.
    status, body, raw = api.post(url + "/success", '{"approved": false}', {"Content-Type": "application/json"})
    assert 400 <= status < 500, (status, raw)
    assert body is not None and body["__type"].split("#")[-1] == "TaskTimedOut", raw
    assert json.loads(sfn.describe_execution(executionArn=execution)["output"])["answer"] == {"approved": True}


def test_callback_url_with_a_forged_token(api, sfn):
    _, execution, token, url = api.parked()
    forged = url[: -len(token)] + forge(token)
    for action, payload in (("success", "{}"), ("failure", '{"error":"X"}'), ("heartbeat", "")):
        status, body, raw = api.post(f"{forged}/{action}", payload, {"Content-Type": "application/json"})
        assert 400 <= status < 500, (action, status, raw)
        assert body is not None and body["__type"].split("#")[-1] == "InvalidToken", (action, raw)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=execution)


def test_callback_url_with_output_that_is_not_json(api, sfn):
    _, execution, token, url = api.parked()
    status, body, raw = api.post(url + "/success", "not json", {"Content-Type": "application/json"})
    assert 400 <= status < 500, (status, raw)
    assert body is not None and body["__type"].split("#")[-1] == "InvalidOutput", raw
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=execution)


def test_callback_url_failure(api, sfn):
    _, execution, token, url = api.parked()
    status, _, raw = api.post(url + "/failure", '{"error":"Denied","cause":"by mail"}', {"Content-Type": "application/json"})
    assert status == 200, raw
    d = api.wait(execution)
    assert d["status"] == "FAILED"
    assert d["error"] == "Denied"
    assert d["cause"] == "by mail"


def test_callback_url_heartbeat(api, sfn):
    definition = {"StartAt": "Ask", "States": {"Ask": api.callback_task(heartbeat=60)}}
    _, execution, token, url = api.parked(definition)
    status, _, raw = api.post(url + "/heartbeat")
    assert status == 200, raw
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    # The token is still good after a heartbeat.
    sfn.send_task_success(taskToken=token, output='{"after":"beat"}')
    assert json.loads(api.wait(execution)["output"]) == {"req": 1, "answer": {"after": "beat"}}


def test_racing_answers_to_one_token_one_wins(api, sfn):
    """Eight concurrent SendTaskSuccess calls with one token: exactly one is
    accepted, the others are told the task is closed, and the output is the
    winner's."""
    from concurrent.futures import ThreadPoolExecutor

    _, execution, token, _ = api.parked()

    def answer(i):
        try:
            sfn.send_task_success(taskToken=token, output=api.compact({"by": i}))
            return ("ok", i)
        except ClientError as e:
            return (e.response["Error"]["Code"], i)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(answer, range(8)))
    winners = [i for outcome, i in results if outcome == "ok"]
    assert len(winners) == 1, results
    assert sorted(outcome for outcome, _ in results if outcome != "ok") == ["TaskTimedOut"] * 7, results
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"req": 1, "answer": {"by": winners[0]}}
    assert api.types(execution).count("TaskSucceeded") == 1


def _scheduled_payloads(api, execution, count):
    """Waits for `count` TaskScheduled events; returns their payloads."""
    deadline = time.monotonic() + 10
    while True:
        payloads = [
            json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]
            for e in api.history(execution)
            if e["type"] == "TaskScheduled"
        ]
        if len(payloads) >= count:
            return payloads
        assert time.monotonic() < deadline, f"{len(payloads)} of {count} tasks scheduled after 10 s"
        time.sleep(0.05)


def _labelled_task(label_path):
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": "approver",
            "Payload": {"mode": "echo", "token.$": "$$.Task.Token", "label.$": label_path},
        },
        "End": True,
    }
    return task


def test_tokens_of_parallel_branches(api, sfn):
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": _labelled_task("$.left")}},
                    {"StartAt": "Right", "States": {"Right": _labelled_task("$.right")}},
                ],
                "End": True,
            }
        },
    }
    machine = api.create(definition, prefix="par")
    execution = api.start(machine, {"left": "L", "right": "R"})
    tokens = {p["label"]: p["token"] for p in _scheduled_payloads(api, execution, 2)}
    assert set(tokens) == {"L", "R"}
    assert tokens["L"] != tokens["R"]
    # Answered in the other order: the output keeps the branches' order.
    sfn.send_task_success(taskToken=tokens["R"], output='"right answer"')
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    sfn.send_task_success(taskToken=tokens["L"], output='"left answer"')
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == ["left answer", "right answer"]


def test_tokens_of_map_iterations(api, sfn):
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": _labelled_task("$")}},
                "End": True,
            }
        },
    }
    machine = api.create(definition, prefix="map")
    execution = api.start(machine, {"items": ["a", "b", "c"]})
    tokens = {p["label"]: p["token"] for p in _scheduled_payloads(api, execution, 3)}
    assert set(tokens) == {"a", "b", "c"}
    sfn.send_task_success(taskToken=tokens["c"], output='"C"')
    sfn.send_task_success(taskToken=tokens["a"], output='"A"')
    sfn.send_task_success(taskToken=tokens["b"], output='"B"')
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == ["A", "B", "C"]
    # A token of a finished iteration is closed.
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=tokens["a"], output='"again"')
    assert e.value.response["Error"]["Code"] == "TaskTimedOut"


def test_a_failed_iteration_fails_the_map_and_closes_the_other_tokens(api, sfn):
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": _labelled_task("$")}},
                "End": True,
            }
        },
    }
    machine = api.create(definition, prefix="mapfail")
    execution = api.start(machine, {"items": ["a", "b"]})
    tokens = {p["label"]: p["token"] for p in _scheduled_payloads(api, execution, 2)}
    sfn.send_task_failure(taskToken=tokens["a"], error="Nope", cause="a refused")
    d = api.wait(execution)
    assert d["status"] == "FAILED"
    assert d["error"] == "Nope"
    assert d["cause"] == "a refused"
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=tokens["b"], output="{}")
    assert e.value.response["Error"]["Code"] == "TaskTimedOut"
