"""What the Python test suites (tests/api, tests/e2e) share: starting and
stopping `switchyard serve`, the tail of its log, and the AWS CLI pointed at
it. Each suite's conftest.py puts this folder on sys.path."""

import json
import os
import queue
import re
import shlex
import subprocess
import sys
import tempfile
import threading

import pytest

LISTENING = re.compile(r"switchyard serve: listening on (http://127\.0\.0\.1:[0-9]+)")


def tail(path, lines=150):
    """The last lines of a log file ("" when it cannot be read)."""
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def report(terminalreporter, exitstatus, server):
    """For `pytest_terminal_summary`: shows the tail of serve's standard
    error when the session failed or serve exited on its own (`server`:
    the suite's dict with "log" and, once known, "exit"), then removes the log."""
    path = server.get("log")
    if not path:
        return
    if exitstatus != 0 or server.get("exit") is not None:
        terminalreporter.section("switchyard serve: standard error (last 150 lines)")
        if server.get("exit") is not None:
            terminalreporter.write_line(f"serve exited on its own with code {server['exit']}")
        terminalreporter.write(tail(path) or "(empty)\n")
    try:
        os.unlink(path)
    except OSError:
        pass


def start(args, env, log_prefix):
    """Starts `args` (a `switchyard serve --port 0 …` command line) with its
    standard error in a temporary log; returns (process, URL, log path) once
    it printed `switchyard serve: listening on URL`, or ends the test session
    saying why it did not."""
    log = tempfile.NamedTemporaryFile(prefix=log_prefix, suffix=".log", delete=False)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=env, text=True)
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
        pytest.exit(
            f"`{shlex.join(args)}` did not start: its first stdout line is {first!r}, not "
            f"'switchyard serve: listening on http://127.0.0.1:PORT' (exit code {proc.returncode}); "
            f"its stderr:\n{tail(log.name)}",
            2,
        )
    return proc, match.group(1), log.name


def stop(proc):
    """Stops the server (terminate, then kill after 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class AwsCliError(Exception):
    """A non-zero exit of the AWS CLI."""

    def __init__(self, args, returncode, stdout, stderr):
        super().__init__(f"aws {shlex.join(args)} exited {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def code(self):
        """The error code in `An error occurred (CODE) when calling ...`."""
        m = re.search(r"An error occurred \(([^)]+)\)", self.stderr)
        return m.group(1) if m else None


def aws_cli(endpoint, region, signing=None):
    """A function running `aws stepfunctions ARGS` (the awscli package of this
    virtualenv) against `endpoint` with test credentials and no retries; it
    returns the parsed JSON output ({} when there is none) and raises
    AwsCliError on a non-zero exit."""
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_PAGER="",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    if signing == "execute-api":
        # docs/deploy.md's plugin (AWS CLI v1: the module on PYTHONPATH, named in [plugins]).
        config = tempfile.NamedTemporaryFile("w", prefix="aws-config-", suffix=".ini", delete=False)
        config.write("[plugins]\nsfn_execute_api = sfn_execute_api\n")
        config.close()
        env["AWS_CONFIG_FILE"] = config.name
        here = os.path.dirname(os.path.abspath(__file__))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    elif signing:
        raise ValueError(f"signing for {signing!r}: only execute-api is known")

    def run(*args):
        command = [
            sys.executable, "-m", "awscli", "stepfunctions",
            "--endpoint-url", endpoint, "--region", region, "--output", "json", *args,
        ]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise AwsCliError(list(args), done.returncode, done.stdout, done.stderr)
        return json.loads(done.stdout) if done.stdout.strip() else {}

    run.Error = AwsCliError
    return run
