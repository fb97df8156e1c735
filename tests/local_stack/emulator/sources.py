"""What invokes the functions besides the API and each other: the SQS event
source mapping, the scheduled rules, and EventBridge Scheduler's one-time
schedules (moto keeps schedules but never fires them).

- **SQS event source mapping** (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html):
  long-polls the queue, invokes the function synchronously with an SQS
  event of at most BatchSize records (each with `messageId`,
  `receiptHandle`, `body`, `attributes` — ApproximateReceiveCount,
  SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp —,
  `messageAttributes`, `md5OfBody`, `eventSource` `aws:sqs`,
  `eventSourceARN`, `awsRegion`), deletes the batch when the function
  succeeds and leaves it when it fails: the messages come back after the
  queue's visibility timeout, and the queue's redrive policy (moto applies
  it) moves one received maxReceiveCount times to its dead-letter queue.
- **Scheduled rules** (`Type: Schedule`,
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html):
  an asynchronous invocation with the rule's constant Input, or the
  "Scheduled Event" it sends without one; every `interval` seconds instead
  of the rule's rate (a test setting).
- **EventBridge Scheduler** (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
  a one-time `at(...)` schedule (in its ScheduleExpressionTimezone) fires
  once its time has come: an asynchronous invocation of its Lambda target
  with the target's Input
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html).
  ActionAfterCompletion DELETE deletes it as it fires — here before the
  invocation is handed over (the order is not documented; deleting first
  keeps a schedule re-armed under the same name from colliding with it).
"""

import datetime
import hashlib
import json
import logging
import threading
import time
import uuid

log = logging.getLogger("sources")


class SqsMapping:
    def __init__(self, host, sqs, function, queue_url, queue_arn, batch_size, region, pollers=2):
        self.host = host
        self.sqs = sqs
        self.function = function
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self.region = region
        self.pollers = pollers

    def start(self):
        for i in range(self.pollers):
            threading.Thread(target=self._poll, daemon=True, name=f"esm-{self.function.name}-{i}").start()

    def _poll(self):
        while not self.host.stopping:
            try:
                got = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception:  # noqa: BLE001 (logged; Lambda's poller retries too)
                log.exception("receive from %s failed", self.queue_url)
                time.sleep(1)
                continue
            messages = got.get("Messages") or []
            if not messages:
                continue
            event = {"Records": [self._record(m) for m in messages]}
            self.host.count(self.function.name, "sqs_batches")
            status, value = self.function.invoke(json.dumps(event).encode())
            if status != "ok":
                log.info("%s failed an SQS batch of %d (%s): left in the queue", self.function.name, len(messages), value.get("errorType"))
                self.host.count(self.function.name, "sqs_failed")
                continue
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            try:
                self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception:  # noqa: BLE001 (logged; the messages come back, as when Lambda's delete fails)
                log.exception("delete from %s failed", self.queue_url)

    def _record(self, m):
        attributes = m.get("Attributes") or {}
        return {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {
                k: attributes[k]
                for k in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
                if k in attributes
            },
            "messageAttributes": {
                name: {
                    "stringValue": a.get("StringValue"),
                    "binaryValue": a.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": a.get("DataType"),
                }
                for name, a in (m.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324 (SQS's own checksum)
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


class ScheduledRule:
    def __init__(self, host, function, rule_name, expression, constant_input, interval, account, region):
        self.host = host
        self.function = function
        self.rule_name = rule_name
        self.expression = expression
        self.constant_input = constant_input
        self.interval = interval
        self.account = account
        self.region = region

    def start(self):
        threading.Thread(target=self._run, daemon=True, name=f"rule-{self.rule_name}").start()

    def _run(self):
        while not self.host.stopping:
            time.sleep(self.interval)
            if self.constant_input is not None:
                payload = self.constant_input.encode()
            else:
                payload = json.dumps(
                    {
                        "version": "0",
                        "id": str(uuid.uuid4()),
                        "detail-type": "Scheduled Event",
                        "source": "aws.events",
                        "account": self.account,
                        "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "region": self.region,
                        "resources": [f"arn:aws:events:{self.region}:{self.account}:rule/{self.rule_name}"],
                        "detail": {},
                    }
                ).encode()
            self.host.count(self.function.name, "scheduled")
            self.host.invoke_async(self.function, payload)


def parse_at(expression, timezone):
    """The instant of `at(yyyy-mm-ddThh:mm:ss)` (UTC only: the stack's schedules say UTC)."""
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    if timezone not in (None, "", "UTC"):
        raise ValueError(f"time zone {timezone} is not emulated")
    moment = datetime.datetime.strptime(expression[3:-1], "%Y-%m-%dT%H:%M:%S")
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


class SchedulerGroup:
    def __init__(self, host, scheduler, group, interval=1.0):
        self.host = host
        self.scheduler = scheduler
        self.group = group
        self.interval = interval
        self.fired = set()

    def start(self):
        threading.Thread(target=self._run, daemon=True, name=f"scheduler-{self.group}").start()

    def _run(self):
        while not self.host.stopping:
            try:
                self._tick()
            except Exception:  # noqa: BLE001 (logged; the next tick tries again)
                log.exception("scheduler group %s", self.group)
            time.sleep(self.interval)

    def _tick(self):
        token = None
        while True:
            kwargs = {"GroupName": self.group, **({"NextToken": token} if token else {})}
            page = self.scheduler.list_schedules(**kwargs)
            for summary in page.get("Schedules") or []:
                self._maybe_fire(summary["Name"])
            token = page.get("NextToken")
            if not token:
                return

    def _maybe_fire(self, name):
        schedule = self.scheduler.get_schedule(Name=name, GroupName=self.group)
        key = (name, schedule.get("ScheduleExpression"), schedule.get("Target", {}).get("Input"))
        if key in self.fired or schedule.get("State", "ENABLED") != "ENABLED":
            return
        at = parse_at(schedule["ScheduleExpression"], schedule.get("ScheduleExpressionTimezone"))
        if at is None:
            log.error("schedule %s: %s is not a one-time schedule: not emulated", name, schedule["ScheduleExpression"])
            self.fired.add(key)
            return
        if at > time.time():
            return
        target = schedule["Target"]
        function = self.host.find(target["Arn"])
        self.fired.add(key)
        if schedule.get("ActionAfterCompletion") == "DELETE":
            self.scheduler.delete_schedule(Name=name, GroupName=self.group)
            self.fired.discard(key)
        if function is None:
            log.error("schedule %s: its target %s is no function of the stack", name, target["Arn"])
            return
        self.host.count(function.name, "schedules_fired")
        self.host.invoke_async(function, (target.get("Input") or "{}").encode())
