"""Fixtures for the Step Functions API tests: one `switchyard serve` for the
whole session, a boto3 client and an AWS CLI runner pointed at it, and the
helpers the tests share (the `api` fixture).

Environment:
- SWITCHYARD_BIN: the switchyard binary (default: target/debug/switchyard of
  this checkout; scripts/api-tests.sh always sets it).
- SWITCHYARD_SERVE_ARGS: extra arguments for `serve` (shell words), e.g.
  `--dynamodb-endpoint http://127.0.0.1:8000`; empty for the in-memory store.
- SWITCHYARD_API_ENDPOINT: an API already running (the local stack of
  scripts/stack-local.sh) to test instead of starting `serve`; then
  SWITCHYARD_API_SIGNING=execute-api signs every request for API Gateway's
  IAM auth as docs/deploy.md tells users to: boto3 and the AWS CLI through
  the signing-name hook (tests/pylib/sfn_execute_api.py, the plugin of
  docs/deploy.md), raw requests with botocore's SigV4.
"""

import json
import os
import shlex
import sys
import time
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import switchyard_serve as serve  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/switchyard-api-tests"
POLL = 0.05  # seconds between two polls
TIMEOUT = 10.0  # seconds a test waits for an execution to change

# Where the server's standard error went, for the summary of a failed run.
_server = {"log": None, "exit": None}


# ----- the server ----------------------------------------------------------------------


def _binary():
    path = os.environ.get("SWITCHYARD_BIN") or os.path.join(REPO, "target", "debug", "switchyard")
    if not os.access(path, os.X_OK):
        pytest.exit(f"switchyard binary not found at {path}: build it (cargo build -p switchyard) or set SWITCHYARD_BIN", 2)
    return path


SIGNING = os.environ.get("SWITCHYARD_API_SIGNING") or None


@pytest.fixture(scope="session")
def endpoint():
    """Starts `switchyard serve --port 0 $SWITCHYARD_SERVE_ARGS`, yields its URL
    (or yields $SWITCHYARD_API_ENDPOINT, started by someone else)."""
    if os.environ.get("SWITCHYARD_API_ENDPOINT"):
        yield os.environ["SWITCHYARD_API_ENDPOINT"].rstrip("/")
        return
    args = [_binary(), "serve", "--port", "0", *shlex.split(os.environ.get("SWITCHYARD_SERVE_ARGS", ""))]
    env = dict(os.environ)
    # The server's own AWS clients (DynamoDB Local) need some credentials and a region.
    env.setdefault("AWS_ACCESS_KEY_ID", "test")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    env.setdefault("AWS_REGION", REGION)
    proc, url, _server["log"] = serve.start(args, env, "switchyard-serve-")
    _server["proc"] = proc
    yield url
    if proc.poll() is not None:
        _server["exit"] = proc.returncode
    serve.stop(proc)


@pytest.fixture(autouse=True)
def _server_alive(request):
    """Fails the test whose run the server did not survive."""
    yield
    proc = _server.get("proc")
    if proc is not None and proc.poll() is not None:
        _server["exit"] = proc.returncode
        pytest.fail(f"switchyard serve exited with code {proc.returncode} during this test")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    serve.report(terminalreporter, exitstatus, _server)


# ----- clients -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sfn(endpoint):
    # No retries: a 5xx or a throttle must show, not be retried away. (botocore's
    # `max_attempts` counts the retries after the first attempt — 1 allowed one
    # retry until the local stack's API-crash test showed it — `total_max_attempts`
    # counts every attempt.)
    client = boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )
    if SIGNING:
        import sfn_execute_api

        client.meta.events.register("before-sign.sfn", sfn_execute_api._sign_for_execute_api)
    return client


@pytest.fixture(scope="session")
def aws(endpoint):
    """Runs `aws stepfunctions ARGS` against serve (tests/pylib/switchyard_serve.py)."""
    return serve.aws_cli(endpoint, REGION, signing=SIGNING)


@pytest.fixture(scope="session")
def unique():
    """A name unique to this run (the DynamoDB table may be shared)."""

    def make(prefix="t"):
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    return make


# ----- shared helpers ------------------------------------------------------------------


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def callback_task(end=True, next_state=None, heartbeat=None, result_path="$.answer", extra=None):
    """A Task that waits for its token (serve, with no Lambda endpoint, parks it)."""
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        # "mode": on the local stack, approver is tests/functions/task-probe, which echoes.
        "Parameters": {
            "FunctionName": "approver",
            "Payload": {"mode": "echo", "token.$": "$$.Task.Token", "url.$": "$$.Task.CallbackUrl"},
        },
        "ResultPath": result_path,
    }
    if heartbeat is not None:
        state["HeartbeatSeconds"] = heartbeat
    if next_state:
        state["Next"] = next_state
    else:
        state["End"] = True
    state.update(extra or {})
    return state


def sign(url, data, headers, service):
    """`headers` with a SigV4 signature of a POST to `url` for `service` (test keys)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=url, data=data, headers=headers)
    SigV4Auth(Credentials("test", "test"), service, REGION).add_auth(request)
    return dict(request.headers.items())


class Api:
    """The helpers the tests share; every waiting loop polls every 50 ms."""

    region = REGION
    account = ACCOUNT
    role_arn = ROLE_ARN
    compact = staticmethod(compact)
    callback_task = staticmethod(callback_task)

    # Pass -> Succeed: {"a":1} becomes {"a":1,"r":{"x":1}}.
    PASS_SUCCEED = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    # One parked task: the answer lands in $.answer.
    CALLBACK = {"StartAt": "Ask", "States": {"Ask": callback_task()}}
    # Parks when the input has "wait", succeeds at once otherwise.
    ROUTED = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.wait", "IsPresent": True, "Next": "Ask"}],
                "Default": "Done",
            },
            "Ask": callback_task(),
            "Done": {"Type": "Succeed"},
        },
    }

    def __init__(self, sfn, unique, endpoint):
        self.sfn = sfn
        self.unique = unique
        self.endpoint = endpoint

    def machine_arn(self, name):
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"

    def execution_arn(self, machine, name):
        return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{name}"

    def create(self, definition, prefix="sm", name=None):
        """Creates a state machine; returns its ARN."""
        name = name or self.unique(prefix)
        text = definition if isinstance(definition, str) else compact(definition)
        arn = self.sfn.create_state_machine(name=name, definition=text, roleArn=ROLE_ARN)["stateMachineArn"]
        assert arn == self.machine_arn(name)
        return arn

    def start(self, machine_arn, input=None, name=None):
        """Starts an execution; returns its ARN."""
        kwargs = {"stateMachineArn": machine_arn}
        if input is not None:
            kwargs["input"] = input if isinstance(input, str) else compact(input)
        if name is not None:
            kwargs["name"] = name
        return self.sfn.start_execution(**kwargs)["executionArn"]

    def wait(self, execution_arn, timeout=TIMEOUT, until=lambda d: d["status"] != "RUNNING"):
        """Polls DescribeExecution until `until` holds; returns the description."""
        deadline = time.monotonic() + timeout
        while True:
            d = self.sfn.describe_execution(executionArn=execution_arn)
            if until(d):
                return d
            if time.monotonic() > deadline:
                raise AssertionError(f"execution still {d['status']} after {timeout} s: {execution_arn}")
            time.sleep(POLL)

    def history(self, execution_arn, **kwargs):
        """Every event of the execution (pages followed)."""
        events, token = [], None
        while True:
            page = self.sfn.get_execution_history(executionArn=execution_arn, **kwargs, **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def types(self, execution_arn, **kwargs):
        return [e["type"] for e in self.history(execution_arn, **kwargs)]

    def wait_for_types(self, execution_arn, count, timeout=TIMEOUT):
        """Waits until the history has at least `count` events; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            events = self.history(execution_arn)
            if len(events) >= count:
                return events
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} events after {timeout} s: {execution_arn}")
            time.sleep(POLL)

    def wait_token(self, execution_arn, after=0, timeout=TIMEOUT):
        """Waits for a TaskScheduled event with id > `after`; returns
        (token, callback URL, event id) read from its parameters."""
        deadline = time.monotonic() + timeout
        while True:
            for e in reversed(self.history(execution_arn)):
                if e["type"] == "TaskScheduled" and e["id"] > after:
                    payload = json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]
                    return payload["token"], payload.get("url"), e["id"]
            if time.monotonic() > deadline:
                raise AssertionError(f"no TaskScheduled event after id {after} within {timeout} s: {execution_arn}")
            time.sleep(POLL)

    def parked(self, definition=None, input=None, prefix="cb"):
        """Creates a callback machine, starts it and waits for its token:
        returns (machine ARN, execution ARN, token, callback URL)."""
        machine = self.create(definition or self.CALLBACK, prefix=prefix)
        execution = self.start(machine, input if input is not None else {"req": 1})
        token, url, _ = self.wait_token(execution)
        return machine, execution, token, url

    def post(self, url, body=b"", headers=None, timeout=30):
        """A plain HTTP POST: returns (status, parsed JSON body or None, raw body)."""
        data = body.encode() if isinstance(body, str) else body
        headers = dict(headers or {})
        if SIGNING and url.startswith(self.endpoint + "/") and "/callbacks/" not in url:
            headers = sign(url, data, headers, SIGNING)
        req = urllib.request.Request(url, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            parsed = json.loads(raw) if raw.strip() else None
        except ValueError:
            parsed = None
        return status, parsed, raw

    def call(self, action, body):
        """A raw Step Functions JSON call: returns (status, parsed body, raw)."""
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        if action is not None:
            headers["X-Amz-Target"] = f"AWSStepFunctions.{action}"
        return self.post(self.endpoint + "/", body, headers)


@pytest.fixture(scope="session")
def api(sfn, unique, endpoint):
    return Api(sfn, unique, endpoint)


def error_code(excinfo):
    """The error code of a botocore ClientError caught by pytest.raises."""
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture(scope="session")
def code():
    return error_code
