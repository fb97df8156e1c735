"""The AWS JSON 1.0 protocol itself, with raw HTTP: POST / with
`X-Amz-Target: AWSStepFunctions.<Action>`. Errors are HTTP 400 with a JSON
body whose `__type` names the error (AWS prefixes it with a namespace and
`#`, e.g. `com.amazon.coral.service#UnknownOperationException`); a client's
mistake is never a 5xx.
"""

import json

import pytest


def error_type(body):
    assert isinstance(body, dict) and isinstance(body.get("__type"), str), body
    return body["__type"].split("#")[-1]


def test_a_valid_raw_call(api):
    status, body, raw = api.call("ListStateMachines", "{}")
    assert status == 200, raw
    assert isinstance(body["stateMachines"], list)


def test_an_unknown_action(api):
    status, body, raw = api.call("Frobnicate", "{}")
    assert status == 400, raw
    assert body["__type"].endswith("UnknownOperationException"), raw


def test_no_target_header(api):
    status, body, raw = api.call(None, "{}")
    assert 400 <= status < 500, raw
    assert error_type(body), raw


def test_a_body_that_is_not_json(api):
    status, body, raw = api.call("ListStateMachines", "not json")
    assert status == 400, raw
    assert error_type(body) == "SerializationException", raw


def test_a_missing_required_field(api):
    status, body, raw = api.call("DescribeExecution", "{}")
    assert status == 400, raw
    assert error_type(body) == "ValidationException", raw
    assert "executionArn" in body.get("message", body.get("Message", "")), raw


def test_a_field_of_the_wrong_type(api):
    status, body, raw = api.call("ListStateMachines", '{"maxResults": "x"}')
    assert status == 400, raw
    assert error_type(body) in ("SerializationException", "ValidationException"), raw


def test_max_results_out_of_range(api):
    # PageSize is 0..1000 in the service model: 1001 breaks the constraint.
    status, body, raw = api.call("ListStateMachines", '{"maxResults": 1001}')
    assert status == 400, raw
    assert error_type(body) == "ValidationException", raw


@pytest.mark.parametrize("action", ["ListStateMachines", "ListExecutions", "GetExecutionHistory"])
def test_a_garbage_next_token(api, action):
    machine = api.create(api.PASS_SUCCEED, prefix="garbage")
    execution = api.start(machine, {})
    api.wait(execution)
    body = {"nextToken": "garbage-token"}
    if action == "ListExecutions":
        body["stateMachineArn"] = machine
    if action == "GetExecutionHistory":
        body["executionArn"] = execution
    status, parsed, raw = api.call(action, json.dumps(body))
    assert status == 400, raw
    # AWS: InvalidToken ("The provided token is not valid") for a nextToken
    # it did not make.
    assert error_type(parsed) in ("InvalidToken", "ValidationException"), raw


MALFORMED = [
    b"",
    b"null",
    b"[]",
    b"123",
    b'"text"',
    b"{",
    b'{"executionArn": 5}',
    b'{"executionArn": null}',
    b'{"executionArn": "arn:bad"}',
    b'{"executionArn": "arn:aws:states:us-east-1:123456789012:execution:a:b:c:d:e"}',
    b'{"stateMachineArn": []}',
    b'{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x", "input": {"not": "a string"}}',
    b'{"maxResults": -1}',
    b'{"maxResults": 1.5}',
    b'{"maxResults": 99999999999999999999999}',
    b'{"nextToken": "\\u0000"}',
    b'{"taskToken": ""}',
    b'{"taskToken": "a.b", "output": "{}"}',
    b'{"name": "x", "definition": 1, "roleArn": "r"}',
    b'{"name": "x", "definition": "{\\"StartAt\\": 1}", "roleArn": "arn:aws:iam::123456789012:role/r"}',
    b"\xff\xfe\xfd",
    b"[" * 100000 + b"]" * 100000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"executionArn": "' + b"x" * 100000 + b'"}',
]

ACTIONS = [
    "StartExecution",
    "DescribeExecution",
    "ListExecutions",
    "GetExecutionHistory",
    "StopExecution",
    "RedriveExecution",
    "SendTaskSuccess",
    "SendTaskFailure",
    "SendTaskHeartbeat",
    "CreateStateMachine",
    "UpdateStateMachine",
    "DescribeStateMachine",
    "DeleteStateMachine",
    "ListStateMachines",
    "ValidateStateMachineDefinition",
    "DescribeStateMachineForExecution",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_malformed_bodies_never_get_a_5xx(api, action):
    failures = []
    for body in MALFORMED:
        status, parsed, raw = api.call(action, body)
        shown = body[:60]
        if status >= 500:
            failures.append(f"{action} {shown!r}: HTTP {status} {raw[:200]!r}")
        elif status >= 400 and not (isinstance(parsed, dict) and isinstance(parsed.get("__type"), str)):
            failures.append(f"{action} {shown!r}: HTTP {status} without a JSON __type: {raw[:200]!r}")
        elif status < 400 and not isinstance(parsed, dict) and raw.strip():
            failures.append(f"{action} {shown!r}: HTTP {status} with a body that is not a JSON object: {raw[:200]!r}")
    assert failures == []


def test_the_server_still_answers_after_the_garbage(api, sfn):
    machine = api.create(api.PASS_SUCCEED, prefix="aftergarbage")
    assert api.wait(api.start(machine, {}))["status"] == "SUCCEEDED"


def test_a_large_body_is_refused_cleanly(api):
    body = json.dumps({"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x", "input": "x" * (2 << 20)})
    status, _, raw = api.call("StartExecution", body)
    assert 400 <= status < 500, (status, raw[:200])


BAD_VALUES = [None, 5, -1, 1.5, 10**30, True, "", "x", "\u0000", "é" * 300, "x" * 3000, [], [1], {}, {"a": 1}]


@pytest.mark.parametrize("action", ACTIONS)
def test_every_member_with_a_wrong_value_never_gets_a_5xx(api, sfn, unique, action):
    """Each member of the action's input (from botocore's service model) set
    to values of the wrong type or size, the other required members to
    plausible values naming nothing that exists."""
    ghost = unique("ghost")
    plausible = {
        "stateMachineArn": api.machine_arn(ghost),
        "executionArn": api.execution_arn(ghost, "e"),
        "name": ghost,
        "definition": api.compact(api.PASS_SUCCEED),
        "roleArn": api.role_arn,
        "taskToken": "abc",
        "output": "{}",
    }
    shape = sfn.meta.service_model.operation_model(action).input_shape
    required = [m for m in shape.required_members if m in plausible]
    failures = []
    for member in shape.members:
        for bad in BAD_VALUES:
            body = {m: plausible[m] for m in required}
            body[member] = bad
            status, parsed, raw = api.call(action, json.dumps(body))
            if status >= 500:
                failures.append(f"{action} {member}={bad!r:.40}: HTTP {status} {raw[:200]!r}")
            elif status >= 400 and not (isinstance(parsed, dict) and isinstance(parsed.get("__type"), str)):
                failures.append(f"{action} {member}={bad!r:.40}: HTTP {status} without a JSON __type: {raw[:200]!r}")
    assert failures == []
