"""Fixtures of the crash tests: `switchyard serve` on DynamoDB Local (files
under -dbPath) that a test can SIGKILL and start again on the same table.

Environment (set by scripts/crash-tests.sh):
- SWITCHYARD_BIN: the switchyard binary.
- SWITCHYARD_CRASH_DYNAMODB_ENDPOINT: the DynamoDB Local instance keeping its tables in files.
"""

import json
import os
import signal
import sys
import tempfile
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import switchyard_serve as serve  # noqa: E402

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/switchyard-crash-tests"


class Serve:
    """One serve command line; `start` runs it (on a free port), `kill` SIGKILLs it."""

    def __init__(self, args, env):
        self.args, self.env = args, env
        self.proc = self.url = None
        self.logs = []

    def start(self):
        self.proc, self.url, log = serve.start(self.args, self.env, "switchyard-crash-")
        self.logs.append(log)
        return self

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            serve.stop(self.proc)


@pytest.fixture(scope="session")
def mock_file():
    from test_crash import MOCKS

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(MOCKS, f)
    yield f.name
    os.unlink(f.name)


@pytest.fixture
def serve_factory():
    binary = os.environ["SWITCHYARD_BIN"]
    endpoint = os.environ["SWITCHYARD_CRASH_DYNAMODB_ENDPOINT"]
    env = dict(os.environ)
    env.setdefault("AWS_ACCESS_KEY_ID", "test")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    env.setdefault("AWS_REGION", REGION)
    servers = []

    def make(mocks=None, table_suffix="t"):
        table = f"crash-{uuid.uuid4().hex[:8]}-{table_suffix}"
        args = [binary, "serve", "--port", "0", "--dynamodb-endpoint", endpoint, "--table", table,
                "--recovery-interval-ms", "3000"]
        if mocks:
            args += ["--mocks", mocks, "--test-case", "crash"]
        server = Serve(args, env).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
        for log in server.logs:
            try:
                os.unlink(log)
            except OSError:
                pass
