"""Fixtures for the tests of the whole stack on this machine: the stack that
scripts/stack-local.sh started (its state file, .tools/stack-local/stack.json,
or $SWITCHYARD_STACK_STATE), a Step Functions client signed for API
Gateway's IAM auth, the emulator's test controls, and clients of the local
SQS and Scheduler. scripts/stack-tests.sh starts the stack with the test
settings these tests need and runs them.
"""

import json
import os
import sys
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
import sfn_execute_api  # noqa: E402

ROLE_ARN = "arn:aws:iam::123456789012:role/switchyard-stack-tests"


@pytest.fixture(scope="session")
def stack():
    path = os.environ.get("SWITCHYARD_STACK_STATE") or os.path.join(REPO, ".tools", "stack-local", "stack.json")
    try:
        with open(path) as f:
            state = json.load(f)
    except OSError:
        pytest.exit(f"no local stack ({path} is missing): start it with scripts/stack-tests.sh, or scripts/stack-local.sh --test-settings", 2)
    return state


def _client(service, endpoint, region, **config):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
    )


@pytest.fixture(scope="session")
def sfn(stack):
    client = _client("stepfunctions", stack["api"], stack["region"], read_timeout=35)
    client.meta.events.register("before-sign.sfn", sfn_execute_api._sign_for_execute_api)
    return client


@pytest.fixture(scope="session")
def sqs(stack):
    return _client("sqs", stack["moto"], stack["region"])


@pytest.fixture(scope="session")
def scheduler(stack):
    return _client("scheduler", stack["moto"], stack["region"])


class Local:
    """The emulator's controls and the helpers the tests share."""

    def __init__(self, stack, sfn):
        self.stack = stack
        self.sfn = sfn
        self.stepper = stack["functions"]["StepperFunction"]

    def dynamodb(self):
        return _client("dynamodb", self.stack["dynamodb"], self.stack["region"])

    def control(self, path, body=None, method="POST"):
        data = json.dumps(body or {}).encode() if method == "POST" else None
        req = urllib.request.Request(f"{self.stack['lambda']}/_local/{path}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def stats(self, function=None):
        stats = self.control("stats", method="GET")
        return stats.get(function or self.stepper, {}) if function != "*" else stats

    def create(self, definition, name):
        return self.sfn.create_state_machine(
            name=f"{name}-{time.time_ns()}", definition=json.dumps(definition), roleArn=ROLE_ARN
        )["stateMachineArn"]

    def start(self, machine, input=None, name=None):
        kwargs = {"stateMachineArn": machine, "input": json.dumps(input if input is not None else {})}
        if name:
            kwargs["name"] = name
        return self.sfn.start_execution(**kwargs)["executionArn"]

    def wait(self, execution, timeout):
        deadline = time.monotonic() + timeout
        while True:
            d = self.sfn.describe_execution(executionArn=execution)
            if d["status"] != "RUNNING":
                return d
            if time.monotonic() > deadline:
                raise AssertionError(f"still RUNNING after {timeout} s: {execution}")
            time.sleep(0.2)

    def history(self, execution):
        events, token = [], None
        while True:
            page = self.sfn.get_execution_history(executionArn=execution, **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events


@pytest.fixture(scope="session")
def local(stack, sfn):
    return Local(stack, sfn)


@pytest.fixture(autouse=True)
def _no_faults_left(local):
    yield
    local.control("clear-faults")
