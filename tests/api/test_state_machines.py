"""CreateStateMachine, DescribeStateMachine, UpdateStateMachine,
ListStateMachines, DeleteStateMachine, ValidateStateMachineDefinition."""

import datetime
import json

import pytest
from botocore.exceptions import ClientError

# Z does not exist: MISSING_TRANSITION_TARGET at /States/A/Next.
MISSING_NEXT = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}}


def test_create_then_describe_returns_the_definition_as_sent(api, sfn, unique):
    name = unique("create")
    # Pretty-printed on purpose: the definition comes back byte for byte.
    text = json.dumps(api.PASS_SUCCEED, indent=2)
    created = sfn.create_state_machine(name=name, definition=text, roleArn=api.role_arn)
    assert created["stateMachineArn"] == f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    assert isinstance(created["creationDate"], datetime.datetime)

    d = sfn.describe_state_machine(stateMachineArn=created["stateMachineArn"])
    assert d["stateMachineArn"] == created["stateMachineArn"]
    assert d["name"] == name
    assert d["definition"] == text
    assert d["roleArn"] == api.role_arn
    assert d["type"] == "STANDARD"
    assert d["status"] == "ACTIVE"
    assert d["creationDate"] == created["creationDate"]


def test_update_changes_the_definition(api, sfn):
    arn = api.create(api.PASS_SUCCEED, prefix="update")
    new = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "Result": "v2", "End": True}}}
    updated = sfn.update_state_machine(stateMachineArn=arn, definition=api.compact(new))
    assert isinstance(updated["updateDate"], datetime.datetime)
    d = sfn.describe_state_machine(stateMachineArn=arn)
    assert d["definition"] == api.compact(new)
    assert d["roleArn"] == api.role_arn
    assert d["status"] == "ACTIVE"

    # And a new execution runs the new definition.
    execution = api.start(arn, {})
    assert json.loads(api.wait(execution)["output"]) == "v2"


def test_update_with_an_invalid_definition_is_refused_and_changes_nothing(api, sfn, code):
    arn = api.create(api.PASS_SUCCEED, prefix="update-bad")
    with pytest.raises(ClientError) as e:
        sfn.update_state_machine(stateMachineArn=arn, definition=api.compact(MISSING_NEXT))
    assert code(e) == "InvalidDefinition"
    assert "/States/A/Next" in e.value.response["Error"]["Message"]
    assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == api.compact(api.PASS_SUCCEED)


def test_update_of_an_unknown_machine(api, sfn, unique, code):
    with pytest.raises(ClientError) as e:
        sfn.update_state_machine(stateMachineArn=api.machine_arn(unique("nobody")), definition=api.compact(api.PASS_SUCCEED))
    assert code(e) == "StateMachineDoesNotExist"


def test_list_state_machines_pages_one_by_one(api, sfn):
    mine = {api.create(api.PASS_SUCCEED, prefix="list") for _ in range(3)}

    first = sfn.list_state_machines(maxResults=1)
    assert len(first["stateMachines"]) == 1
    assert first["nextToken"]

    seen = []
    pages = 0
    paginator = sfn.get_paginator("list_state_machines")
    for page in paginator.paginate(PaginationConfig={"PageSize": 1}):
        pages += 1
        # AWS may answer fewer items than asked for, never more.
        assert len(page["stateMachines"]) <= 1
        for m in page["stateMachines"]:
            assert set(m) >= {"stateMachineArn", "name", "type", "creationDate"}
            assert m["stateMachineArn"] == api.machine_arn(m["name"])
            assert m["type"] == "STANDARD"
            seen.append(m["stateMachineArn"])
        if mine <= set(seen):
            break
        assert pages < 5000, "pagination does not end"
    assert mine <= set(seen)
    assert len(seen) == len(set(seen)), "a machine was listed twice"
    assert pages >= 3


def test_delete_then_describe(api, sfn, code):
    arn = api.create(api.PASS_SUCCEED, prefix="delete")
    assert {k: v for k, v in sfn.delete_state_machine(stateMachineArn=arn).items() if k != "ResponseMetadata"} == {}
    # AWS marks the machine DELETING and removes it shortly after; with no
    # execution running, serve removes it at once.
    with pytest.raises(ClientError) as e:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert code(e) == "StateMachineDoesNotExist"
    with pytest.raises(ClientError) as e:
        sfn.start_execution(stateMachineArn=arn)
    assert code(e) == "StateMachineDoesNotExist"


def test_create_with_a_missing_transition_target(api, sfn, unique, code):
    with pytest.raises(ClientError) as e:
        sfn.create_state_machine(name=unique("bad"), definition=api.compact(MISSING_NEXT), roleArn=api.role_arn)
    assert code(e) == "InvalidDefinition"
    message = e.value.response["Error"]["Message"]
    assert "MISSING_TRANSITION_TARGET" in message
    assert "/States/A/Next" in message
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_create_with_a_definition_that_is_not_json(api, sfn, unique, code):
    name = unique("notjson")
    with pytest.raises(ClientError) as e:
        sfn.create_state_machine(name=name, definition="{not json", roleArn=api.role_arn)
    assert code(e) == "InvalidDefinition"
    with pytest.raises(ClientError) as e:
        sfn.describe_state_machine(stateMachineArn=api.machine_arn(name))
    assert code(e) == "StateMachineDoesNotExist"


def test_same_name_with_another_definition_already_exists(api, sfn, code):
    arn = api.create(api.PASS_SUCCEED, prefix="exists")
    name = arn.rsplit(":", 1)[1]
    other = {"StartAt": "Only", "States": {"Only": {"Type": "Succeed"}}}
    with pytest.raises(ClientError) as e:
        sfn.create_state_machine(name=name, definition=api.compact(other), roleArn=api.role_arn)
    assert code(e) == "StateMachineAlreadyExists"
    assert sfn.describe_state_machine(stateMachineArn=arn)["definition"] == api.compact(api.PASS_SUCCEED)


def test_create_is_idempotent_with_an_identical_definition(api, sfn):
    arn = api.create(api.PASS_SUCCEED, prefix="idem")
    name = arn.rsplit(":", 1)[1]
    again = sfn.create_state_machine(name=name, definition=api.compact(api.PASS_SUCCEED), roleArn=api.role_arn)
    assert again["stateMachineArn"] == arn


@pytest.mark.parametrize("name", ["has space", "a/b", "x" * 81, "brack[et]"])
def test_create_with_an_invalid_name(api, sfn, code, name):
    with pytest.raises(ClientError) as e:
        sfn.create_state_machine(name=name, definition=api.compact(api.PASS_SUCCEED), roleArn=api.role_arn)
    # An 81-character name breaks the model's length constraint (max 80):
    # AWS answers ValidationException for constraint violations of the model
    # and InvalidName for names with forbidden characters.
    if len(name) > 80:
        assert code(e) in ("InvalidName", "ValidationException")
    else:
        assert code(e) == "InvalidName"


def test_describe_with_an_invalid_arn(sfn, code):
    with pytest.raises(ClientError) as e:
        sfn.describe_state_machine(stateMachineArn="not-an-arn")
    assert code(e) == "InvalidArn"


def test_validate_a_valid_definition(api, sfn):
    r = sfn.validate_state_machine_definition(definition=api.compact(api.PASS_SUCCEED))
    assert r["result"] == "OK"
    assert r["diagnostics"] == []


def test_validate_an_invalid_definition(api, sfn):
    r = sfn.validate_state_machine_definition(definition=api.compact(MISSING_NEXT), type="STANDARD")
    assert r["result"] == "FAIL"
    assert len(r["diagnostics"]) == 1
    d = r["diagnostics"][0]
    assert d["severity"] == "ERROR"
    assert d["code"] == "MISSING_TRANSITION_TARGET"
    # AWS words it so, with the location apart.
    assert d["message"] == "Missing 'Next' target: Z"
    assert d["location"] == "/States/A/Next"
