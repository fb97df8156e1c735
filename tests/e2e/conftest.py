"""Fixtures for the end-to-end test of the order-processing saga: real task
functions under `cargo lambda watch`, `switchyard serve` on DynamoDB Local,
and the AWS CLI as the client. No mocks anywhere.

Environment (scripts/e2e-tests.sh sets all three):
- SWITCHYARD_DYNAMODB_ENDPOINT: DynamoDB Local (scripts/dynamodb-local.sh).
- SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT: `cargo lambda watch` serving the crate
  functions/examples (scripts/cargo-lambda.sh --crate functions/examples start).
- SWITCHYARD_BIN: the switchyard binary (default: target/debug/switchyard).

Or, to run the saga on the local stack (scripts/stack-local.sh, where the
example functions are the stack's own): SWITCHYARD_API_ENDPOINT, the stack's
API, with SWITCHYARD_API_SIGNING=execute-api; then nothing is started here.
"""

import os
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import switchyard_serve as serve  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/switchyard-e2e"
EXAMPLE_FUNCTIONS = [
    "switchyard-example-validate",
    "switchyard-example-reserve-inventory",
    "switchyard-example-charge",
    "switchyard-example-refund",
    "switchyard-example-notify",
]

_server = {"log": None, "proc": None}


def _required(variable, how):
    value = os.environ.get(variable)
    if not value:
        pytest.exit(f"{variable} is not set: {how} (scripts/e2e-tests.sh does it all)", 2)
    return value.rstrip("/")


STACK_ENDPOINT = os.environ.get("SWITCHYARD_API_ENDPOINT")
SIGNING = os.environ.get("SWITCHYARD_API_SIGNING") or None


@pytest.fixture(scope="session")
def lambda_endpoint():
    """The watcher serving the example functions, each started once (a
    function's first invocation starts its process, which may take seconds:
    the saga's timing should not depend on it)."""
    url = _required("SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT", "start scripts/cargo-lambda.sh --crate functions/examples")
    for name in EXAMPLE_FUNCTIONS:
        req = urllib.request.Request(
            f"{url}/2015-03-31/functions/{name}/invocations", data=b"{}", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                resp.read()
        except urllib.error.HTTPError as e:
            body = e.read()
            # Every example function refuses {} with its own error: it ran.
            assert e.code == 500 and b"errorType" in body, f"{name}: HTTP {e.code} {body!r}"
    return url


@pytest.fixture(scope="session")
def endpoint(request):
    """`switchyard serve --port 0` on DynamoDB Local, invoking the example
    functions through the watcher; yields the API's URL (or the local
    stack's, $SWITCHYARD_API_ENDPOINT)."""
    if STACK_ENDPOINT:
        yield STACK_ENDPOINT.rstrip("/")
        return
    lambda_endpoint = request.getfixturevalue("lambda_endpoint")
    binary = os.environ.get("SWITCHYARD_BIN") or os.path.join(REPO, "target", "debug", "switchyard")
    if not os.access(binary, os.X_OK):
        pytest.exit(f"switchyard binary not found at {binary}: cargo build -p switchyard, or set SWITCHYARD_BIN", 2)
    dynamodb = _required("SWITCHYARD_DYNAMODB_ENDPOINT", "start scripts/dynamodb-local.sh")
    args = [
        binary, "serve", "--port", "0",
        "--dynamodb-endpoint", dynamodb, "--table", "switchyard-e2e",
        "--lambda-endpoint", lambda_endpoint,
    ]  # fmt: skip
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION=REGION)
    proc, url, _server["log"] = serve.start(args, env, "switchyard-e2e-serve-")
    _server["proc"] = proc
    yield url
    serve.stop(proc)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    serve.report(terminalreporter, exitstatus, _server)


@pytest.fixture(scope="session")
def aws(endpoint):
    """Runs `aws stepfunctions ARGS` against serve (tests/pylib/switchyard_serve.py)."""
    return serve.aws_cli(endpoint, REGION, signing=SIGNING)
