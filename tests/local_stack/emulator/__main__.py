"""The local stack: template.yaml's resources on DynamoDB Local and moto, its
functions' real binaries behind an emulated Lambda, API Gateway in front.
Started by scripts/stack-local.sh (read it first); test support, never part
of the product.

    python -m emulator --root REPO --bin-dir TARGET/debug --state-dir DIR \
        --dynamodb URL --moto URL [test settings]

When everything is up it writes DIR/stack.json (endpoints, table, queues,
functions) and prints `switchyard local stack: api at URL` on stdout; it
runs until SIGTERM or SIGINT.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time

import boto3
from botocore.config import Config

from .gateway import Gateway
from .lambda_host import LAMBDA_RETRY_DELAYS, Function, LambdaHost, function_environment
from .sources import ScheduledRule, SchedulerGroup, SqsMapping
from .template import FunctionSpec, Stack, samconfig_defaults

ACCOUNT = "123456789012"
CREDENTIALS = {"test": "test"}

log = logging.getLogger("stack")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="emulator", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="the repository (template.yaml, samconfig.toml)")
    p.add_argument("--bin-dir", required=True, help="where the functions' binaries are (cargo's target/debug)")
    p.add_argument("--state-dir", required=True, help="stack.json and the functions' logs go here")
    p.add_argument("--dynamodb", required=True, help="DynamoDB Local's endpoint")
    p.add_argument("--moto", required=True, help="moto's endpoint (SQS, Scheduler)")
    p.add_argument("--api-port", type=int, default=0)
    p.add_argument("--lambda-port", type=int, default=0)
    p.add_argument("--max-instances", type=int, default=4, help="instances per function at most (Lambda scales further)")
    # Test settings: each replaces one of AWS's timings by a shorter one.
    p.add_argument("--schedule-every", type=float, default=60.0, help="seconds between two firings of every scheduled rule (instead of its rate)")
    p.add_argument("--retry-delays", default=",".join(str(int(d)) for d in LAMBDA_RETRY_DELAYS), help="seconds before the first and second retry of a failed asynchronous invocation (Lambda: 60,120)")
    p.add_argument("--queue-attribute", action="append", default=[], metavar="QUEUE:NAME=VALUE", help="overrides an attribute of a template queue, e.g. TimerQueue:VisibilityTimeout=5")
    p.add_argument("--env", action="append", default=[], metavar="FUNCTION:NAME=VALUE", help="adds a variable to a function's environment (logical id), e.g. StepperFunction:SWITCHYARD_TIMER_QUEUE_LIMIT_SECONDS=10")
    p.add_argument("--extra-function", action="append", default=[], metavar="NAME=BINARY", help="a function beyond the template's (a test's task function), e.g. approver=task-probe: BINARY in --bin-dir, 30 s timeout, no environment of its own")
    return p.parse_args(argv)


def client(service, endpoint, region):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 5, "mode": "standard"}),
    )


def create_table(dynamodb, stack, logical, resource):
    props = stack.resolve(resource["Properties"])
    name = stack.physical_name(logical)
    kwargs = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    try:
        dynamodb.create_table(**kwargs)
        log.info("table %s created", name)
    except dynamodb.exceptions.ResourceInUseException:
        log.info("table %s already there", name)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        try:
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
            )
        except dynamodb.exceptions.ClientError as e:
            if "already enabled" not in str(e).lower():
                raise
    return name


def create_queues(sqs, stack, overrides):
    """Creates every queue, those others' redrive policies name first."""
    queues = stack.of_type("AWS::SQS::Queue")
    left = dict(queues)
    while left:
        progress = False
        for logical, resource in list(left.items()):
            props = resource.get("Properties") or {}
            target = ((props.get("RedrivePolicy") or {}).get("deadLetterTargetArn") or {})
            if isinstance(target, dict) and "Fn::GetAtt" in target and target["Fn::GetAtt"][0] in left:
                continue
            props = stack.resolve(props)
            attributes = {}
            for k, v in props.items():
                if k == "QueueName":
                    continue
                attributes[k] = json.dumps(v) if isinstance(v, dict) else (str(v).lower() if isinstance(v, bool) else str(v))
            attributes.update(overrides.get(logical, {}))
            name = stack.physical_name(logical)
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            stack.queue_urls[logical] = url
            log.info("queue %s: %s %s", logical, url, attributes)
            del left[logical]
            progress = True
        if not progress:
            raise SystemExit(f"queues whose redrive policies name each other: {sorted(left)}")


def pairs(items, what):
    out = {}
    for item in items:
        try:
            scope, rest = item.split(":", 1)
            key, value = rest.split("=", 1)
        except ValueError:
            raise SystemExit(f"{what} {item!r}: expected SCOPE:NAME=VALUE") from None
        out.setdefault(scope, {})[key] = value
    return out


def main(argv):
    args = parse_args(argv)
    os.makedirs(os.path.join(args.state_dir, "logs"), exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.FileHandler(os.path.join(args.state_dir, "emulator.log"))],
    )
    stack_name, region = samconfig_defaults(args.root)
    stack = Stack(os.path.join(args.root, "template.yaml"), stack_name, region, ACCOUNT)
    retry_delays = tuple(float(d) for d in args.retry_delays.split(","))

    dynamodb = client("dynamodb", args.dynamodb, region)
    sqs = client("sqs", args.moto, region)
    scheduler = client("scheduler", args.moto, region)

    tables = {logical: create_table(dynamodb, stack, logical, r) for logical, r in stack.of_type("AWS::DynamoDB::Table").items()}
    for logical in stack.of_type("AWS::DynamoDB::Table"):
        if (stack.resources[logical].get("Properties") or {}).get("PointInTimeRecoverySpecification"):
            log.info("table %s: point-in-time recovery is not emulated (DynamoDB Local has none)", logical)
    create_queues(sqs, stack, pairs(args.queue_attribute, "--queue-attribute"))
    groups = {}
    for logical in stack.of_type("AWS::Scheduler::ScheduleGroup"):
        name = stack.physical_name(logical)
        try:
            scheduler.create_schedule_group(Name=name)
        except scheduler.exceptions.ConflictException:
            pass
        groups[logical] = name

    queue_by_arn = {stack.get_att(logical, "Arn"): url for logical, url in stack.queue_urls.items()}

    def send_to_queue(arn, body):
        sqs.send_message(QueueUrl=queue_by_arn[arn], MessageBody=body)

    host = LambdaHost(ACCOUNT, region, retry_delays, send_to_queue)
    lambda_port = host.serve(args.lambda_port, workers=8)
    lambda_url = f"http://127.0.0.1:{lambda_port}"
    endpoints = {
        "AWS_ENDPOINT_URL_DYNAMODB": args.dynamodb,
        "AWS_ENDPOINT_URL_SQS": args.moto,
        "AWS_ENDPOINT_URL_SCHEDULER": args.moto,
        "AWS_ENDPOINT_URL_LAMBDA": lambda_url,
    }
    extra_env = pairs(args.env, "--env")
    specs = stack.functions()
    for item in args.extra_function:
        name, _, binary = item.partition("=")
        if not name or not binary:
            raise SystemExit(f"--extra-function {item!r}: expected NAME=BINARY")
        arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
        specs.append(FunctionSpec(f"extra:{name}", name, arn, binary, "", 30, 128, {}, None, None))
    for spec in specs:
        binary = os.path.join(args.bin_dir, spec.binary)
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{spec.logical_id}: no binary at {binary} (cargo build --bins in {spec.code_uri})")
        env = function_environment(spec, region, ACCOUNT, endpoints, {spec.name: extra_env.get(spec.logical_id, {})})
        log_path = os.path.join(args.state_dir, "logs", f"{spec.name}.log")
        host.add(Function(spec, binary, env, log_path, args.max_instances, host))
    unknown = set(extra_env) - {s.logical_id for s in specs}
    if unknown:
        raise SystemExit(f"--env names no function of the template: {sorted(unknown)}")

    for spec in specs:
        function = host.functions[spec.name]
        for source in spec.sqs_sources:
            url = queue_by_arn.get(source["queue_arn"])
            if url is None:
                raise SystemExit(f"{spec.logical_id}: event source {source['name']} names no queue of the stack")
            SqsMapping(host, sqs, function, url, source["queue_arn"], source["batch_size"], region).start()
        for rule in spec.schedules:
            ScheduledRule(
                host, function, f"{stack_name}-{spec.logical_id}{rule['name']}", rule["expression"], rule["input"],
                args.schedule_every, ACCOUNT, region,
            ).start()  # fmt: skip
    for group in groups.values():
        SchedulerGroup(host, scheduler, group).start()

    gateway = Gateway(host, stack, CREDENTIALS)
    api_port = gateway.serve(args.api_port)
    api_url = f"http://127.0.0.1:{api_port}"

    state = {
        "api": api_url,
        "lambda": lambda_url,
        "dynamodb": args.dynamodb,
        "moto": args.moto,
        "region": region,
        "account": ACCOUNT,
        "stackName": stack_name,
        "stage": stack.api_stage(),
        "tables": tables,
        "queues": dict(stack.queue_urls),
        "scheduleGroups": groups,
        "functions": {s.logical_id: s.name for s in specs},
        "logs": os.path.join(args.state_dir, "logs"),
        "pid": os.getpid(),
    }
    with open(os.path.join(args.state_dir, "stack.json.tmp"), "w") as f:
        json.dump(state, f, indent=2)
    os.replace(os.path.join(args.state_dir, "stack.json.tmp"), os.path.join(args.state_dir, "stack.json"))
    log.info("up: %s", state)
    print(f"switchyard local stack: api at {api_url}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        time.sleep(0.2)
    host.stop()
    time.sleep(0.2)
    log.info("stopped")


if __name__ == "__main__":
    main(sys.argv[1:])
