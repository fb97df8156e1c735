"""Fixtures for the end-to-end test of the order-processing saga: real task
functions under `cargo lambda watch`, `switchyard serve` on DynamoDB Local,
and the AWS CLI as the client. No mocks anywhere.

Environment (scripts/e2e-tests.sh sets all three):
- SWITCHYARD_DYNAMODB_ENDPOINT: DynamoDB Local (scripts/dynamodb-local.sh).
- SWITCHYARD_EXAMPLES_LAMBDA_ENDPOINT: `cargo lambda watch` serving the crate
  functions/examples (scripts/cargo-lambda.sh --crate functions/examples start).
- SWITCHYARD_BIN: the switchyard binary (default: target/debug/switchyard).
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import queue
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/switchyard-e2e"
LISTENING = re.compile(r"switchyard serve: listening on (http://127\.0\.0\.1:[0-9]+)")
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


def _tail(path, lines=150):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


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
def endpoint(lambda_endpoint):
    """`switchyard serve --port 0` on DynamoDB Local, invoking the example
    functions through the watcher; yields the API's URL."""
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
    log = tempfile.NamedTemporaryFile(prefix="switchyard-e2e-serve-", suffix=".log", delete=False)
    _server["log"] = log.name
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=env, text=True)
    _server["proc"] = proc
    lines = queue.Queue()

    def drain():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        first = lines.get(timeout=60)
    except queue.Empty:
        first = None
    match = LISTENING.fullmatch((first or "").rstrip("\n"))
    if not match:
        proc.kill()
        proc.wait()
        pytest.exit(f"`{shlex.join(args)}` did not start (first line {first!r}); stderr:\n{_tail(log.name)}", 2)
    yield match.group(1)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    path = _server.get("log")
    if not path:
        return
    if exitstatus != 0:
        terminalreporter.section("switchyard serve: standard error (last 150 lines)")
        terminalreporter.write(_tail(path) or "(empty)\n")
    try:
        os.unlink(path)
    except OSError:
        pass


@pytest.fixture(scope="session")
def aws(endpoint):
    """Runs `aws stepfunctions ARGS` (the awscli package of this virtualenv,
    i.e. .tools/venv/bin/aws) against serve; returns its parsed JSON output."""
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_PAGER="",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)

    def run(*args):
        command = [
            sys.executable, "-m", "awscli", "stepfunctions",
            "--endpoint-url", endpoint, "--region", REGION, "--output", "json", *args,
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"aws stepfunctions {shlex.join(args)} exited {done.returncode}: {done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip() else {}

    return run
