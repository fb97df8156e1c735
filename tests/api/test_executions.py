"""StartExecution, DescribeExecution, DescribeStateMachineForExecution,
ListExecutions, GetExecutionHistory."""

import datetime
import json
import time

import pytest
from botocore.exceptions import ClientError


def test_a_pass_machine_runs_to_success(api, sfn, unique):
    machine = api.create(api.PASS_SUCCEED, prefix="run")
    machine_name = machine.rsplit(":", 1)[1]
    name = unique("exec")
    started = sfn.start_execution(stateMachineArn=machine, name=name, input='{"a":1}')
    assert started["executionArn"] == f"arn:aws:states:us-east-1:123456789012:execution:{machine_name}:{name}"
    assert isinstance(started["startDate"], datetime.datetime)

    d = api.wait(started["executionArn"])
    assert d["status"] == "SUCCEEDED"
    assert d["executionArn"] == started["executionArn"]
    assert d["stateMachineArn"] == machine
    assert d["name"] == name
    assert d["input"] == '{"a":1}'
    assert json.loads(d["output"]) == {"a": 1, "r": {"x": 1}}
    assert d["startDate"] == started["startDate"]
    assert isinstance(d["stopDate"], datetime.datetime)
    assert d["stopDate"] >= d["startDate"]
    assert "error" not in d and "cause" not in d


def test_an_execution_without_name_or_input(api, sfn):
    machine = api.create(api.PASS_SUCCEED, prefix="noname")
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    name = arn.rsplit(":", 1)[1]
    assert arn == api.execution_arn(machine.rsplit(":", 1)[1], name)
    assert len(name) > 0
    d = api.wait(arn)
    assert d["status"] == "SUCCEEDED"
    # No input is the empty object.
    assert d["input"] == "{}"
    assert json.loads(d["output"]) == {"r": {"x": 1}}


def test_start_is_idempotent_while_running(api, sfn, unique, code):
    machine = api.create(api.CALLBACK, prefix="idem")
    name = unique("same")
    first = sfn.start_execution(stateMachineArn=machine, name=name, input='{"req":1}')
    api.wait_token(first["executionArn"])
    # Same name and input while the execution is open: the same answer.
    again = sfn.start_execution(stateMachineArn=machine, name=name, input='{"req":1}')
    assert again["executionArn"] == first["executionArn"]
    assert again["startDate"] == first["startDate"]
    # Same name, another input.
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=machine, name=name, input='{"req":2}')
    assert code(e) == "ExecutionAlreadyExists"
    # Once closed, the name is taken whatever the input (AWS StartExecution
    # docs: "If the execution is closed ... it returns a 400
    # ExecutionAlreadyExists error").
    sfn.stop_execution(executionArn=first["executionArn"])
    assert api.wait(first["executionArn"])["status"] == "ABORTED"
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=machine, name=name, input='{"req":1}')
    assert code(e) == "ExecutionAlreadyExists"


def test_the_same_execution_name_on_two_machines(api, sfn, unique):
    a = api.create(api.PASS_SUCCEED, prefix="twin")
    b = api.create(api.PASS_SUCCEED, prefix="twin")
    name = unique("shared")
    ea = api.start(a, {}, name=name)
    eb = api.start(b, {}, name=name)
    assert ea != eb
    assert api.wait(ea)["status"] == "SUCCEEDED"
    assert api.wait(eb)["status"] == "SUCCEEDED"


def test_input_that_is_not_json(api, sfn, code):
    machine = api.create(api.PASS_SUCCEED, prefix="badin")
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=machine, input="not json")
    assert code(e) == "InvalidExecutionInput"
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []


@pytest.mark.parametrize("name", ["has spaces", "semi;colon", "a" * 81])
def test_an_invalid_execution_name(api, sfn, code, name):
    machine = api.create(api.PASS_SUCCEED, prefix="badname")
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=machine, name=name, input="{}")
    # Over 80 characters breaks the model's length constraint: AWS may answer
    # ValidationException there; forbidden characters are InvalidName.
    if len(name) > 80:
        assert code(e) in ("InvalidName", "ValidationException")
    else:
        assert code(e) == "InvalidName"


def test_input_over_256_kib(api, sfn, code):
    machine = api.create(api.PASS_SUCCEED, prefix="big")
    # 262,145 bytes: one over the limit of the `input` member (max 262144
    # bytes of UTF-8, botocore's model and the Step Functions quotas page).
    # Which code AWS gives is not documented: the model limit would make it
    # ValidationException, the StartExecution docs list InvalidExecutionInput
    # for bad input. Either is accepted, and the execution must not start.
    text = '"' + "x" * (262145 - 2) + '"'
    assert len(text.encode()) == 262145
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=machine, input=text)
    assert code(e) in ("InvalidExecutionInput", "ValidationException")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert sfn.list_executions(stateMachineArn=machine)["executions"] == []


def test_input_of_exactly_256_kib(api, sfn):
    machine = api.create({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, prefix="edge")
    text = '"' + "x" * (262144 - 2) + '"'
    d = api.wait(api.start(machine, text))
    assert d["status"] == "SUCCEEDED"
    assert d["output"] == text


def test_start_on_an_unknown_machine(api, sfn, unique, code):
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=api.machine_arn(unique("ghost")), input="{}")
    assert code(e) == "StateMachineDoesNotExist"


def test_describe_an_unknown_execution(api, sfn, unique, code):
    machine = api.create(api.PASS_SUCCEED, prefix="noexec")
    with pytest.raises(ClientError) as e:
        sfn.describe_execution(executionArn=api.execution_arn(machine.rsplit(":", 1)[1], unique("ghost")))
    assert code(e) == "ExecutionDoesNotExist"
    with pytest.raises(ClientError) as e:
        sfn.describe_execution(executionArn="not-an-arn")
    assert code(e) == "InvalidArn"


def test_describe_state_machine_for_execution_keeps_the_definition_it_ran(api, sfn):
    machine = api.create(api.CALLBACK, prefix="forexec")
    execution = api.start(machine, {"req": 1})
    api.wait_token(execution)
    new = {"StartAt": "Only", "States": {"Only": {"Type": "Succeed"}}}
    sfn.update_state_machine(stateMachineArn=machine, definition=api.compact(new))
    assert sfn.describe_state_machine(stateMachineArn=machine)["definition"] == api.compact(new)

    d = sfn.describe_state_machine_for_execution(executionArn=execution)
    assert d["stateMachineArn"] == machine
    assert d["name"] == machine.rsplit(":", 1)[1]
    assert d["definition"] == api.compact(api.CALLBACK)
    assert d["roleArn"] == api.role_arn
    assert isinstance(d["updateDate"], datetime.datetime)
    # A new execution runs the new definition.
    assert api.wait(api.start(machine, {}))["status"] == "SUCCEEDED"
    sfn.stop_execution(executionArn=execution)


def test_list_executions(api, sfn, unique, code):
    machine = api.create(api.ROUTED, prefix="listx")
    names = [unique("e1"), unique("e2"), unique("e3")]
    arns = []
    for i, name in enumerate(names):
        arns.append(api.start(machine, {"wait": True} if i == 2 else {}, name=name))
        if i < 2:
            assert api.wait(arns[-1])["status"] == "SUCCEEDED"
        time.sleep(0.02)  # distinct start dates
    api.wait_token(arns[2])

    listed = sfn.list_executions(stateMachineArn=machine)
    assert "nextToken" not in listed
    items = listed["executions"]
    # Newest first.
    assert [x["name"] for x in items] == names[::-1]
    assert [x["executionArn"] for x in items] == arns[::-1]
    assert [x["status"] for x in items] == ["RUNNING", "SUCCEEDED", "SUCCEEDED"]
    assert all(x["stateMachineArn"] == machine for x in items)
    assert all(isinstance(x["startDate"], datetime.datetime) for x in items)
    assert "stopDate" not in items[0]
    assert all(isinstance(x["stopDate"], datetime.datetime) for x in items[1:])

    done = sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")["executions"]
    assert [x["name"] for x in done] == [names[1], names[0]]
    running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
    assert [x["name"] for x in running] == [names[2]]
    assert sfn.list_executions(stateMachineArn=machine, statusFilter="FAILED")["executions"] == []

    # One by one, by hand and through the paginator.
    paged, token, pages = [], None, 0
    while True:
        page = sfn.list_executions(stateMachineArn=machine, maxResults=1, **({"nextToken": token} if token else {}))
        pages += 1
        assert len(page["executions"]) <= 1
        paged += [x["name"] for x in page["executions"]]
        token = page.get("nextToken")
        if not token:
            break
        assert pages < 10
    assert paged == names[::-1]
    pages = list(sfn.get_paginator("list_executions").paginate(stateMachineArn=machine, PaginationConfig={"PageSize": 1}))
    assert [x["name"] for p in pages for x in p["executions"]] == names[::-1]
    assert len(pages[0]["executions"]) == 1

    sfn.stop_execution(executionArn=arns[2])


def test_list_executions_of_an_unknown_machine(api, sfn, unique, code):
    with pytest.raises(ClientError) as e:
        sfn.list_executions(stateMachineArn=api.machine_arn(unique("ghost")))
    assert code(e) == "StateMachineDoesNotExist"


PASS_SUCCEED_EVENTS = [
    "ExecutionStarted",
    "PassStateEntered",
    "PassStateExited",
    "SucceedStateEntered",
    "SucceedStateExited",
    "ExecutionSucceeded",
]


def test_history_of_pass_then_succeed(api, sfn):
    machine = api.create(api.PASS_SUCCEED, prefix="hist")
    execution = api.start(machine, {"a": 1})
    assert api.wait(execution)["status"] == "SUCCEEDED"

    page = sfn.get_execution_history(executionArn=execution)
    assert "nextToken" not in page
    events = page["events"]
    assert [e["type"] for e in events] == PASS_SUCCEED_EVENTS
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5, 6]
    # As AWS numbers them: the first state's entry points back to 0, not to
    # ExecutionStarted (as in the golden histories of tests/golden).
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3, 4, 5]
    assert all(isinstance(e["timestamp"], datetime.datetime) for e in events)
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)

    started = events[0]["executionStartedEventDetails"]
    assert started["input"] == '{"a":1}'
    assert started["inputDetails"] == {"truncated": False}
    assert started["roleArn"] == api.role_arn
    assert events[1]["stateEnteredEventDetails"]["name"] == "P"
    assert json.loads(events[1]["stateEnteredEventDetails"]["input"]) == {"a": 1}
    assert events[2]["stateExitedEventDetails"]["name"] == "P"
    assert json.loads(events[2]["stateExitedEventDetails"]["output"]) == {"a": 1, "r": {"x": 1}}
    assert events[3]["stateEnteredEventDetails"]["name"] == "Done"
    assert json.loads(events[5]["executionSucceededEventDetails"]["output"]) == {"a": 1, "r": {"x": 1}}


def test_history_in_reverse_and_in_pages(api, sfn):
    machine = api.create(api.PASS_SUCCEED, prefix="histpage")
    execution = api.start(machine, {"a": 1})
    assert api.wait(execution)["status"] == "SUCCEEDED"
    forward = sfn.get_execution_history(executionArn=execution)["events"]

    backward = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
    assert [e["type"] for e in backward] == PASS_SUCCEED_EVENTS[::-1]
    assert [e["id"] for e in backward] == [6, 5, 4, 3, 2, 1]
    assert backward == forward[::-1]

    for reverse in (False, True):
        pages, token = [], None
        while True:
            page = sfn.get_execution_history(
                executionArn=execution, maxResults=2, reverseOrder=reverse, **({"nextToken": token} if token else {})
            )
            pages.append([e["id"] for e in page["events"]])
            token = page.get("nextToken")
            if not token:
                break
            assert len(pages) < 10
        expected = [1, 2, 3, 4, 5, 6][::-1] if reverse else [1, 2, 3, 4, 5, 6]
        assert pages[:3] == [expected[0:2], expected[2:4], expected[4:6]]
        # A last, empty page is allowed after a full one.
        assert pages[3:] in ([], [[]])

    via_paginator = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, PaginationConfig={"PageSize": 2}
    )
    assert [e["id"] for p in via_paginator for e in p["events"]] == [1, 2, 3, 4, 5, 6]


def test_history_without_execution_data(api, sfn):
    machine = api.create(api.PASS_SUCCEED, prefix="histnodata")
    execution = api.start(machine, {"secret": 42})
    assert api.wait(execution)["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)["events"]
    assert [e["type"] for e in events] == PASS_SUCCEED_EVENTS
    started = events[0]["executionStartedEventDetails"]
    assert "input" not in started
    # Whether AWS keeps `inputDetails` here is not documented: not asserted.
    assert started["roleArn"] == api.role_arn
    for e in events:
        for key, details in e.items():
            if key.endswith("EventDetails"):
                assert "input" not in details and "output" not in details, (e["type"], details)
    # The names of states are not execution data.
    assert events[1]["stateEnteredEventDetails"]["name"] == "P"


def test_history_of_an_unknown_execution(api, sfn, unique, code):
    machine = api.create(api.PASS_SUCCEED, prefix="histghost")
    with pytest.raises(ClientError) as e:
        sfn.get_execution_history(executionArn=api.execution_arn(machine.rsplit(":", 1)[1], unique("ghost")))
    assert code(e) == "ExecutionDoesNotExist"


def test_racing_starts_with_one_name_make_one_execution(api, sfn, unique):
    from concurrent.futures import ThreadPoolExecutor

    machine = api.create(api.CALLBACK, prefix="race")
    name = unique("once")

    def start(_):
        return sfn.start_execution(stateMachineArn=machine, name=name, input='{"req":1}')["executionArn"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        arns = list(pool.map(start, range(6)))
    assert set(arns) == {api.execution_arn(machine.rsplit(":", 1)[1], name)}
    api.wait_token(arns[0])
    assert [x["name"] for x in sfn.list_executions(stateMachineArn=machine)["executions"]] == [name]
    assert api.types(arns[0]).count("ExecutionStarted") == 1
    sfn.stop_execution(executionArn=arns[0])


def test_a_wait_state_waits_in_real_time(api, sfn):
    machine = api.create({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}, prefix="wait")
    started = time.monotonic()
    execution = api.start(machine, {"k": "v"})
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    d = api.wait(execution)
    assert time.monotonic() - started >= 0.9
    assert d["status"] == "SUCCEEDED"
    assert d["output"] == '{"k":"v"}'
    assert api.types(execution) == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]


def test_an_execution_timeout(api, sfn, code):
    definition = {"TimeoutSeconds": 1, "StartAt": "Ask", "States": {"Ask": api.callback_task()}}
    machine = api.create(definition, prefix="timeout")
    execution = api.start(machine, {"req": 1})
    token, _, _ = api.wait_token(execution)
    d = api.wait(execution, timeout=6)
    assert d["status"] == "TIMED_OUT"
    assert api.types(execution)[-1] == "ExecutionTimedOut"
    with pytest.raises(ClientError) as e:
        sfn.send_task_success(taskToken=token, output="{}")
    assert code(e) == "TaskTimedOut"
