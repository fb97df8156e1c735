"""`switchyard serve` killed with SIGKILL and restarted on the same DynamoDB
table (issue 11, "nothing strands"): every execution still ends, exactly as
a clean run of the same definition and input ends.

DynamoDB Local keeps its tables in files (`-dbPath`, a named instance of
scripts/dynamodb-local.sh started by scripts/crash-tests.sh), so a killed
serve leaves exactly what it had committed. Task states answer from a mock
file (`serve --mocks`); the recovery pass runs every second
(`--recovery-interval-ms`) instead of every minute.

What "exactly as a clean run" compares, per execution:
- the status and the output (DescribeExecution);
- the history as a causal tree: every event's type and details (without
  its timestamp and ids), its children the events whose previousEventId is
  its id, siblings compared as a multiset (the event ending a Map or
  Parallel — its Succeeded/Failed/Aborted, and its Exited when that follows
  a child — hangs under the state's MapStateStarted/ParallelStateStarted
  instead of under whichever child event came last). A run's (a branch's, an
  iteration's) own events form a chain in that tree, so this is the same as
  comparing each run's own event sequence exactly while letting concurrent
  branches and iterations interleave differently in the merged history;
- the number of events, and that the ids are exactly 1..n.
An event recorded twice is "duplicated"; an execution that does not end
within the deadline, or ends with fewer events, is "lost". The first three
mismatches are printed; SWITCHYARD_CRASH_DUMP=PREFIX also writes both
histories of each to PREFIX.<name>.json. SWITCHYARD_CRASH_SEED picks the
kill moments (default 11).
"""

import json
import os
import random
import signal
import threading
import time

import boto3
import pytest
from botocore.config import Config

from conftest import ACCOUNT, REGION, ROLE_ARN, Serve

LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"


def task(name, nxt=None, **extra):
    state = {"Type": "Task", "Resource": f"{LAMBDA}:{name}", **extra}
    if nxt:
        state["Next"] = nxt
    else:
        state["End"] = True
    return state


# Four kinds of execution; "wait" in the input is 1-3 seconds.
MACHINES = {
    "crash-chain": {
        "StartAt": "Prepare",
        "States": {
            "Prepare": task("prepare", "Pause", ResultPath="$.prepared"),
            "Pause": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Finish"},
            "Finish": task("finish", ResultPath="$.finished"),
        },
    },
    "crash-parallel": {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": task("left", "LeftWait"),
                                                   "LeftWait": {"Type": "Wait", "SecondsPath": "$.wait", "End": True}}},
                    {"StartAt": "Right", "States": {"Right": task("right")}},
                ],
            }
        },
    },
    "crash-map": {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ResultPath": "$.each",
                "Next": "Pause",
                "ItemProcessor": {"StartAt": "Item", "States": {"Item": task("item")}},
            },
            "Pause": {"Type": "Wait", "SecondsPath": "$.wait", "End": True},
        },
    },
    "crash-retry": {
        "StartAt": "Flaky",
        "States": {
            "Flaky": task(
                "flaky",
                "Recovered",
                Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recovered"}],
            ),
            "Recovered": {"Type": "Pass", "End": True},
        },
    },
}

# Every invocation answers the same (mock counts live in serve's memory and
# restart with it, so an answer must not depend on the invocation number).
MOCKS = {
    "StateMachines": {
        name: {"TestCases": {"crash": {state: ("AlwaysFlaky" if state == "Flaky" else "Ok") for state in states}}}
        for name, states in {
            "crash-chain": ["Prepare", "Finish"],
            "crash-parallel": ["Left", "Right"],
            "crash-map": ["Item"],
            "crash-retry": ["Flaky"],
        }.items()
    },
    "MockedResponses": {
        "Ok": {"0-1000": {"Return": {"ok": True}}},
        "AlwaysFlaky": {"0-1000": {"Throw": {"Error": "Flaky", "Cause": "always"}}},
    },
}


def client(url):
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=20),
    )


def create_machines(sfn):
    arns = {}
    for name, definition in MACHINES.items():
        arns[name] = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
    return arns


def execution_input(kind, i):
    return {"wait": 1 + i % 3, "items": [1, 2, 3], "n": i % 3}


FAN_OUT = {"MapStateStarted", "ParallelStateStarted"}
FAN_IN = {
    "MapStateSucceeded", "MapStateFailed", "MapStateAborted",
    "ParallelStateSucceeded", "ParallelStateFailed", "ParallelStateAborted",
}


def canonical(events):
    """The history as a causal tree of (type, details), siblings sorted: see
    the module doc. The one link between runs that depends on timing — the
    events that end a Map or Parallel (…Succeeded/Failed/Aborted, and
    …Exited when it follows a child) name the child event that happened
    last — is replaced by a link to the state's own MapStateStarted or
    ParallelStateStarted, so the parent run's chain stays its own."""
    by_id = {e["id"]: e for e in events}

    def parent(e):
        previous = by_id.get(e["previousEventId"])
        ends_fan_in = e["type"] in FAN_IN or (
            e["type"] in ("MapStateExited", "ParallelStateExited") and previous and previous["type"] not in FAN_IN
        )
        if not ends_fan_in:
            return e["previousEventId"]
        depth, at = 0, previous
        while at is not None:
            if at["type"] in FAN_IN:
                depth += 1
            elif at["type"] in FAN_OUT:
                if depth == 0:
                    return at["id"]
                depth -= 1
            at = by_id.get(at["previousEventId"])
        return e["previousEventId"]

    children = {}
    for e in events:
        children.setdefault(parent(e), []).append(e)

    def node(e):
        details = {k: v for k, v in e.items() if k not in ("timestamp", "id", "previousEventId")}
        return json.dumps([details, sorted(node(c) for c in children.get(e["id"], []))], sort_keys=True, default=str)

    return sorted(node(e) for e in children.get(0, []))


def history(sfn, arn):
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def outcome(sfn, arn):
    d = sfn.describe_execution(executionArn=arn)
    events = history(sfn, arn)
    return {"status": d["status"], "output": d.get("output"), "events": events}


def wait_ended(get_client, arns, deadline):
    """Polls until every execution ended or the deadline passed; the ARNs still running."""
    running = set(arns)
    while running and time.monotonic() < deadline:
        for arn in list(running):
            try:
                if get_client().describe_execution(executionArn=arn)["status"] != "RUNNING":
                    running.discard(arn)
            except Exception:
                pass  # serve is down for a moment
        if running:
            time.sleep(0.25)
    return running


def test_a_wait_survives_a_kill_of_serve(serve_factory):
    """Failure 2 of issue 11: a Wait of 4 s, serve killed after 1 s and
    restarted on the same table: the execution goes on at its due time."""
    server = serve_factory()
    sfn = client(server.url)
    machine = sfn.create_state_machine(
        name="crash-wait4",
        definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 4, "End": True}}}),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="wait4", input="{}")["executionArn"]
    started = time.monotonic()
    time.sleep(1)
    server.kill()
    server.start()
    sfn = client(server.url)
    deadline = started + 4 + 4
    status = "RUNNING"
    while time.monotonic() < deadline:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            break
        time.sleep(0.1)
    ended_after = time.monotonic() - started
    assert status == "SUCCEEDED", f"still {status} {ended_after:.1f} s after the start"
    assert ended_after >= 4
    types = [e["type"] for e in history(sfn, arn)]
    assert types == ["ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"]


def test_200_executions_survive_five_kills(serve_factory, mock_file):
    executions, kills = 200, 5
    rng = random.Random(int(os.environ.get("SWITCHYARD_CRASH_SEED", "11")))
    began = time.monotonic()

    # The clean reference: one run of each (machine, input) on a serve that is never killed.
    clean_server = serve_factory(mocks=mock_file, table_suffix="clean")
    clean = client(clean_server.url)
    clean_arns = create_machines(clean)
    reference = {}
    for kind in MACHINES:
        for i in range(3):
            arn = clean.start_execution(
                stateMachineArn=clean_arns[kind], name=f"{kind}-{i}", input=json.dumps(execution_input(kind, i))
            )["executionArn"]
            reference[(kind, i)] = arn
    assert not wait_ended(lambda: clean, reference.values(), time.monotonic() + 30), "the clean runs end"
    expected = {key: outcome(clean, arn) for key, arn in reference.items()}
    print(f"\nclean runs took {time.monotonic() - began:.1f} s")
    clean_server.stop()

    # The crash run: 200 executions while serve is killed five times.
    server = serve_factory(mocks=mock_file, table_suffix="crash")
    current = {"sfn": client(server.url)}
    lock = threading.Lock()

    def sfn():
        with lock:
            return current["sfn"]

    machines = create_machines(sfn())
    kinds = list(MACHINES)
    plan = [(f"x{n:03d}", kinds[n % len(kinds)], n % 3) for n in range(executions)]
    started, errors = {}, {}

    def start_all():
        for name, kind, i in plan:
            while name not in started:
                try:
                    arn = sfn().start_execution(
                        stateMachineArn=machines[kind], name=name, input=json.dumps(execution_input(kind, i))
                    )["executionArn"]
                except sfn().exceptions.ExecutionAlreadyExists:
                    arn = machines[kind].replace(":stateMachine:", ":execution:") + f":{name}"
                except Exception as e:  # serve is down: the same name again
                    errors[name] = repr(e)
                    time.sleep(0.05)
                    continue
                started[name] = (arn, kind, i)

    starter = threading.Thread(target=start_all, daemon=True)
    starter.start()
    for _ in range(kills):
        time.sleep(rng.uniform(0.3, 2.0))
        server.kill()
        time.sleep(rng.uniform(0.0, 0.3))
        server.start()
        with lock:
            current["sfn"] = client(server.url)
    starter.join(timeout=120)
    print(f"\nstarted {len(started)} executions in {time.monotonic() - began:.1f} s")
    assert len(started) == executions, f"not started: {[(n, errors.get(n)) for n, _, _ in plan if n not in started][:3]}"

    running = wait_ended(sfn, [arn for arn, _, _ in started.values()], time.monotonic() + 90)
    print(f"ended after {time.monotonic() - began:.1f} s")
    for arn in sorted(running)[:3]:
        print(f"\nstill running: {arn}: {[e['type'] for e in history(sfn(), arn)]}")
    lost, duplicated, mismatched = len(running), 0, []
    for name, (arn, kind, i) in sorted(started.items()):
        if arn in running:
            continue
        got, want = outcome(sfn(), arn), expected[(kind, i)]
        ids = [e["id"] for e in got["events"]]
        duplicated += max(0, len(ids) - len(want["events"])) + (len(ids) - len(set(ids)))
        if len(ids) < len(want["events"]):
            lost += 1
        same = (
            got["status"] == want["status"]
            and got["output"] == want["output"]
            and ids == list(range(1, len(ids) + 1))
            and canonical(got["events"]) == canonical(want["events"])
        )
        if not same:
            mismatched.append(name)
            if len(mismatched) <= 3:
                print(f"\n{name} ({kind}, input {i}): {got['status']} vs {want['status']}, "
                      f"output {got['output']} vs {want['output']}\n  got:  {[e['type'] for e in got['events']]}"
                      f"\n  want: {[e['type'] for e in want['events']]}")
                if os.environ.get("SWITCHYARD_CRASH_DUMP"):
                    with open(os.environ["SWITCHYARD_CRASH_DUMP"] + f".{name}.json", "w") as f:
                        json.dump({"got": got["events"], "want": want["events"]}, f, default=str, indent=0)
                if len(got["events"]) == len(want["events"]):
                    for a, b in zip(got["events"], want["events"]):
                        a = {k: v for k, v in a.items() if k not in ("timestamp",)}
                        b = {k: v for k, v in b.items() if k not in ("timestamp",)}
                        if a != b:
                            print(f"  first difference: {a} vs {b}")
                            break
    wall = time.monotonic() - began
    print(
        f"\ncrash test: executions: {executions}, kills: {kills}, lost: {lost}, duplicated: {duplicated}, "
        f"mismatched: {len(mismatched)}, wall time: {wall:.1f} s"
    )
    assert (lost, duplicated, mismatched) == (0, 0, [])
