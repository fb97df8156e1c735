"""A benchmark through the whole local stack (scripts/stack-bench.sh runs it):
a workload of examples/workloads/
started through API Gateway and the api function, advanced by the stepper's
asynchronous self-invocations, watched with DescribeExecution while it runs.

    python tests/local_stack/bench.py --workload pass-chain-100 --executions 8
    python tests/local_stack/bench.py --workload map-items --items 1000

Prints one JSON object: wall time, transitions per second, the Lambda
invocations per transition (deterministic: what a deployment is billed for),
DescribeExecution latency while it runs (p50, p99, max), each function's peak
memory, and the emulator's counters.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
sys.path.insert(0, HERE)

WORKLOADS = os.path.join(REPO, "examples", "workloads")


def load(name):
    with open(os.path.join(WORKLOADS, f"{name}.asl.json")) as f:
        definition = json.load(f)
    with open(os.path.join(WORKLOADS, f"{name}.input.json")) as f:
        data = json.load(f)
    return definition, data


def transitions_and_check(name, data, output):
    """(transitions of one run, whether the output is the expected one)."""
    if name == "pass-chain-100":
        return 100, output == {**data, "last": 99}
    if name == "choice-loop":
        n = data["n"]
        return 2 * n + 1, output == {"i": n, "n": n}
    if name == "map-items":
        items = data["items"]
        expected = [{"v": 2 * i["v"], "big": 2 * i["v"] > 100} for i in items]
        return 3 * len(items) + 1, output == expected
    raise SystemExit(f"unknown workload {name}")


def main():
    from conftest import Local, _client  # the stack tests' helpers
    import sfn_execute_api

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", required=True, choices=["pass-chain-100", "choice-loop", "map-items"])
    p.add_argument("--executions", type=int, default=1)
    p.add_argument("--items", type=int, help="map-items: the first N items only")
    p.add_argument("--n", type=int, help="choice-loop: count to N")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--state", default=os.path.join(REPO, ".tools", "stack-local", "stack.json"))
    args = p.parse_args()

    with open(args.state) as f:
        stack = json.load(f)
    sfn = _client("stepfunctions", stack["api"], stack["region"], read_timeout=35)
    sfn.meta.events.register("before-sign.sfn", sfn_execute_api._sign_for_execute_api)
    local = Local(stack, sfn)

    definition, data = load(args.workload)
    if args.items is not None:
        data["items"] = data["items"][: args.items]
    if args.n is not None:
        data["n"] = args.n
    per_run, _ = transitions_and_check(args.workload, data, None)
    machine = local.create(definition, f"bench-{args.workload}")
    before = local.stats("*")

    latencies = []
    done = threading.Event()
    executions = []

    def watch():
        while not done.is_set():
            for arn in list(executions):
                t = time.perf_counter()
                sfn.describe_execution(executionArn=arn)
                latencies.append((time.perf_counter() - t) * 1000)
            time.sleep(0.1)

    started = time.perf_counter()
    for _ in range(args.executions):
        executions.append(local.start(machine, data))
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    outcomes = [local.wait(arn, timeout=args.timeout) for arn in executions]
    wall = time.perf_counter() - started
    done.set()
    watcher.join()

    failures = [o["executionArn"] for o in outcomes if o["status"] != "SUCCEEDED"]
    wrong = [o["executionArn"] for o in outcomes if o["status"] == "SUCCEEDED" and not transitions_and_check(args.workload, data, json.loads(o["output"]))[1]]
    after = local.stats("*")

    def delta(function, key):
        return after.get(function, {}).get(key, 0) - before.get(function, {}).get(key, 0)

    transitions = per_run * args.executions
    functions = stack["functions"]
    invocations = {
        name: delta(name, "ok") + delta(name, "errors") for name in (functions["StepperFunction"], functions["ApiFunction"])
    }
    latencies.sort()
    result = {
        "workload": args.workload,
        "executions": args.executions,
        "items": len(data.get("items", [])) if args.workload == "map-items" else None,
        "transitions": transitions,
        "wallSeconds": round(wall, 2),
        "transitionsPerSecond": round(transitions / wall, 1),
        "stepperInvocations": invocations[functions["StepperFunction"]],
        "stepperInvocationsPerTransition": round(invocations[functions["StepperFunction"]] / transitions, 3),
        "apiInvocations": invocations[functions["ApiFunction"]],
        "describeMs": {
            "count": len(latencies),
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "p99": round(latencies[int(len(latencies) * 0.99) - 1], 1) if len(latencies) >= 100 else None,
            "max": round(latencies[-1], 1) if latencies else None,
        },
        "peakMemoryMB": {name: stats.get("max_memory_mb") for name, stats in after.items()},
        "failed": failures,
        "wrongOutput": wrong,
    }
    print(json.dumps(result, indent=2))
    if failures or wrong:
        sys.exit(1)


if __name__ == "__main__":
    main()
