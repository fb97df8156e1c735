"""StopExecution and RedriveExecution."""

import datetime
import json

import pytest
from botocore.exceptions import ClientError


def test_stop_a_waiting_execution(api, sfn, code):
    _, execution, token, _ = api.parked()
    stopped = sfn.stop_execution(executionArn=execution, error="E", cause="C")
    assert isinstance(stopped["stopDate"], datetime.datetime)

    d = sfn.describe_execution(executionArn=execution)
    assert d["status"] == "ABORTED"
    assert d["stopDate"] == stopped["stopDate"]
    assert "output" not in d

    events = api.history(execution)
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "E", "cause": "C"}
    assert [e["type"] for e in events].count("ExecutionAborted") == 1

    # The task went with the execution.
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=token, output="{}")
    assert code(e) == "TaskTimedOut"
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"


def test_stop_without_error_or_cause(api, sfn):
    _, execution, _, _ = api.parked()
    sfn.stop_execution(executionArn=execution)
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    last = api.history(execution)[-1]
    assert last["type"] == "ExecutionAborted"
    assert "error" not in last.get("executionAbortedEventDetails", {})


def test_stop_an_unknown_execution(api, sfn, unique, code):
    machine = api.create(api.PASS_SUCCEED, prefix="stopghost")
    with pytest.raises(ClientError) as e:
        sfn.stop_execution(executionArn=api.execution_arn(machine.rsplit(":", 1)[1], unique("ghost")))
    assert code(e) == "ExecutionDoesNotExist"


def test_redrive_after_a_failed_task(api, sfn, code):
    _, execution, token, _ = api.parked()
    first = [e for e in api.history(execution) if e["type"] == "TaskScheduled"][-1]["id"]
    sfn.send_task_failure(taskToken=token, error="Flaky", cause="try again")
    d = api.wait(execution)
    assert d["status"] == "FAILED"
    assert d["redriveCount"] == 0

    redriven = sfn.redrive_execution(executionArn=execution)
    assert isinstance(redriven["redriveDate"], datetime.datetime)
    d = sfn.describe_execution(executionArn=execution)
    assert d["status"] == "RUNNING"
    assert d["redriveCount"] == 1
    assert "stopDate" not in d
    described_after_redrive = d

    new_token, _, second = api.wait_token(execution, after=first)
    assert second > first
    assert new_token != token
    types = api.types(execution)
    assert "ExecutionRedriven" in types
    last_scheduled = max(i for i, t in enumerate(types) if t == "TaskScheduled")
    assert types.index("ExecutionFailed") < types.index("ExecutionRedriven") < last_scheduled

    # The first attempt's token stays closed.
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=token, output="{}")
    assert code(e) == "TaskTimedOut"

    sfn.send_task_success(taskToken=new_token, output='{"second":"time"}')
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"req": 1, "answer": {"second": "time"}}
    assert d["redriveCount"] == 1
    assert api.types(execution)[-1] == "ExecutionSucceeded"
    # DescribeExecution: "redriveDate: The date the execution was last redriven."
    assert described_after_redrive.get("redriveDate") == redriven["redriveDate"]
    assert d.get("redriveDate") == redriven["redriveDate"]


def test_redrive_is_refused_for_succeeded_and_running_executions(api, sfn, code):
    machine = api.create(api.ROUTED, prefix="noredrive")
    done = api.start(machine, {})
    assert api.wait(done)["status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=done)
    assert code(e) == "ExecutionNotRedrivable"

    running = api.start(machine, {"wait": 1})
    api.wait_token(running)
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=running)
    assert code(e) == "ExecutionNotRedrivable"
    sfn.stop_execution(executionArn=running)


def test_redrive_an_unknown_execution(api, sfn, unique, code):
    machine = api.create(api.PASS_SUCCEED, prefix="redriveghost")
    with pytest.raises(ClientError) as e:
        sfn.redrive_execution(executionArn=api.execution_arn(machine.rsplit(":", 1)[1], unique("ghost")))
    assert code(e) == "ExecutionDoesNotExist"
