"""The same API through the AWS CLI (`aws stepfunctions ...`, awscli from
PyPI). Waiting is done with boto3 (one CLI call costs a Python start); what is
asserted is what the CLI printed. The CLI v1 prints timestamps as the service
sent them (cli_timestamp_format defaults to `none`), so only their presence is
checked here; the boto3 tests check their values.
"""

import json

import pytest


def test_cli_state_machine_and_a_quick_run(api, aws, unique):
    name = unique("cli")
    definition = api.compact(api.ROUTED)
    created = aws("create-state-machine", "--name", name, "--definition", definition, "--role-arn", api.role_arn)
    arn = created["stateMachineArn"]
    assert arn == f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    assert "creationDate" in created

    described = aws("describe-state-machine", "--state-machine-arn", arn)
    assert described["name"] == name
    assert described["definition"] == definition
    assert described["roleArn"] == api.role_arn
    assert described["type"] == "STANDARD"
    assert described["status"] == "ACTIVE"

    validated = aws("validate-state-machine-definition", "--definition", definition)
    assert validated["result"] == "OK"
    assert validated["diagnostics"] == []

    started = aws("start-execution", "--state-machine-arn", arn, "--name", "quick", "--input", '{"a":1}')
    execution = started["executionArn"]
    assert execution == f"arn:aws:states:us-east-1:123456789012:execution:{name}:quick"
    assert "startDate" in started
    api.wait(execution)

    d = aws("describe-execution", "--execution-arn", execution)
    assert d["status"] == "SUCCEEDED"
    assert d["name"] == "quick"
    assert d["stateMachineArn"] == arn
    assert d["input"] == '{"a":1}'
    assert json.loads(d["output"]) == {"a": 1}
    assert "stopDate" in d

    history = aws("get-execution-history", "--execution-arn", execution)
    assert [e["type"] for e in history["events"]] == [
        "ExecutionStarted",
        "ChoiceStateEntered",
        "ChoiceStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert [e["id"] for e in history["events"]] == [1, 2, 3, 4, 5, 6]
    reverse = aws("get-execution-history", "--execution-arn", execution, "--reverse-order", "--no-include-execution-data")
    assert [e["id"] for e in reverse["events"]] == [6, 5, 4, 3, 2, 1]
    assert "input" not in reverse["events"][-1]["executionStartedEventDetails"]

    with pytest.raises(aws.Error) as e:
        aws("start-execution", "--state-machine-arn", arn, "--name", "quick", "--input", '{"a":1}')
    assert e.value.code == "ExecutionAlreadyExists"


def test_cli_task_success_and_heartbeat(api, aws):
    machine, execution, token, _ = api.parked(api.ROUTED, {"wait": 1})
    assert aws("send-task-heartbeat", "--task-token", token) == {}
    assert aws("send-task-success", "--task-token", token, "--task-output", '{"ok":true}') == {}
    api.wait(execution)
    d = aws("describe-execution", "--execution-arn", execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"wait": 1, "answer": {"ok": True}}

    with pytest.raises(aws.Error) as e:
        aws("send-task-success", "--task-token", token, "--task-output", "{}")
    assert e.value.code == "TaskTimedOut"
    with pytest.raises(aws.Error) as e:
        aws("send-task-heartbeat", "--task-token", "abc")
    assert e.value.code == "InvalidToken"


def test_cli_failure_redrive_and_stop(api, aws):
    machine, execution, token, _ = api.parked(api.ROUTED, {"wait": 2})
    first = [e for e in api.history(execution) if e["type"] == "TaskScheduled"][-1]["id"]
    assert aws("send-task-failure", "--task-token", token, "--error", "No", "--cause", "because") == {}
    api.wait(execution)
    d = aws("describe-execution", "--execution-arn", execution)
    assert d["status"] == "FAILED"
    assert d["error"] == "No"
    assert d["cause"] == "because"

    redriven = aws("redrive-execution", "--execution-arn", execution)
    assert "redriveDate" in redriven
    api.wait_token(execution, after=first)
    d = aws("describe-execution", "--execution-arn", execution)
    assert d["status"] == "RUNNING"
    assert d["redriveCount"] == 1

    stopped = aws("stop-execution", "--execution-arn", execution, "--error", "Stop", "--cause", "enough")
    assert "stopDate" in stopped
    d = aws("describe-execution", "--execution-arn", execution)
    assert d["status"] == "ABORTED"
    history = aws("get-execution-history", "--execution-arn", execution, "--reverse-order", "--max-items", "1")
    assert history["events"][0]["type"] == "ExecutionAborted"
    assert history["events"][0]["executionAbortedEventDetails"] == {"error": "Stop", "cause": "enough"}

    with pytest.raises(aws.Error) as e:
        aws("redrive-execution", "--execution-arn", api.execution_arn(machine.rsplit(":", 1)[1], "nobody"))
    assert e.value.code == "ExecutionDoesNotExist"


def test_cli_list_executions(api, aws, unique):
    machine = api.create(api.ROUTED, prefix="clilist")
    quick = api.start(machine, {}, name="quick")
    api.wait(quick)
    waiting = aws("start-execution", "--state-machine-arn", machine, "--name", "waiting", "--input", '{"wait":1}')
    api.wait_token(waiting["executionArn"])

    listed = aws("list-executions", "--state-machine-arn", machine)
    assert [x["name"] for x in listed["executions"]] == ["waiting", "quick"]
    assert [x["status"] for x in listed["executions"]] == ["RUNNING", "SUCCEEDED"]
    assert [x["executionArn"] for x in listed["executions"]] == [waiting["executionArn"], quick]

    running = aws("list-executions", "--state-machine-arn", machine, "--status-filter", "RUNNING")
    assert [x["name"] for x in running["executions"]] == ["waiting"]

    # The CLI's own pagination over nextToken.
    page = aws("list-executions", "--state-machine-arn", machine, "--max-items", "1", "--page-size", "1")
    assert [x["name"] for x in page["executions"]] == ["waiting"]
    assert page["NextToken"]
    rest = aws(
        "list-executions", "--state-machine-arn", machine, "--page-size", "1", "--starting-token", page["NextToken"]
    )
    assert [x["name"] for x in rest["executions"]] == ["quick"]

    aws("stop-execution", "--execution-arn", waiting["executionArn"])
    with pytest.raises(aws.Error) as e:
        aws("list-executions", "--state-machine-arn", api.machine_arn(unique("ghost")))
    assert e.value.code == "StateMachineDoesNotExist"
