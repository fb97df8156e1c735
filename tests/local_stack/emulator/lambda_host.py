"""Lambda, as far as the stack relies on it: the functions' real binaries run
behind the Lambda Runtime API, and the Lambda Invoke API in front of them.

Why not `cargo lambda watch` alone: it gives every function the ARN
`function-arn` (the api takes its account from the ARN, the stepper names its
own ARN as the Scheduler target), sets AWS_LAMBDA_FUNCTION_NAME to the binary's
name, runs `InvocationType: Event` synchronously with no retries or
destination, and cannot take a per-function environment in one process. What
this module does instead, each with the documentation it follows:

- **The Runtime API** (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
  each instance (one process of the function's binary, one invocation at a
  time) gets its own `AWS_LAMBDA_RUNTIME_API`; `GET .../invocation/next`
  hands it an event with `Lambda-Runtime-Aws-Request-Id`,
  `Lambda-Runtime-Deadline-Ms` and `Lambda-Runtime-Invoked-Function-Arn`; it
  answers on `.../response` or `.../error`.
- **The execution environment** (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html):
  the template's variables plus the reserved ones Lambda sets
  (AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, AWS_LAMBDA_LOG_FORMAT, ...), nothing
  of this process's own environment but PATH and RUST_LOG/RUST_BACKTRACE.
- **Scaling**: a new instance when an invocation finds none idle, up to a
  cap (Lambda's is the account's concurrency; here `max_instances`).
- **Timeouts and crashes**: an invocation that outlives the function's
  Timeout fails with `Sandbox.Timedout` and its instance is stopped; an
  instance that exits mid-invocation fails it with `Runtime.ExitError`
  (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html).
- **The Invoke API** (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
  `RequestResponse` answers 200 with the payload, or 200 with
  `X-Amz-Function-Error: Unhandled` and `{"errorType","errorMessage"}`;
  `Event` answers 202 and queues; `DryRun` 204; an unknown function 404
  ResourceNotFoundException; payloads over 6 MB (sync) or 1 MB (async)
  413 RequestEntityTooLargeException.
- **Asynchronous invocation** (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html):
  a failed event is retried `MaximumRetryAttempts` times (2 by default),
  one and then two minutes later (`retry_delays`, shortened in tests), then
  sent to the OnFailure destination as an invocation record
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
"""

import datetime
import json
import logging
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

log = logging.getLogger("lambda")

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
# Lambda's wait before the first and the second retry of a failed event.
LAMBDA_RETRY_DELAYS = (60.0, 120.0)


class Invocation:
    """One invocation of a function: its event and, once done, its result
    (`("ok", bytes)` or `("error", {"errorType", "errorMessage"})`)."""

    def __init__(self, payload):
        self.id = str(uuid.uuid4())
        self.payload = payload
        self.done = threading.Event()
        self.result = None
        self.instance = None
        self.fault_killed = False

    def finish(self, result):
        if not self.done.is_set():
            self.result = result
            self.done.set()


class Instance:
    """One process of a function's binary, with its own Runtime API server."""

    def __init__(self, function, number):
        self.function = function
        self.number = number
        self.current = None
        self.busy = False  # False while starting or waiting in /next
        self.dead = False
        self.proc = None
        self.server = _Server(("127.0.0.1", 0), _RuntimeHandler)
        self.server.instance = self
        threading.Thread(target=self.server.serve_forever, daemon=True, name=f"rt-{function.name}-{number}").start()

    def start(self):
        f = self.function
        env = dict(f.environment)
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{self.server.server_address[1]}"
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = f"{datetime.date.today():%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        f.log_file.write(f"--- instance {self.number} starting ({time.strftime('%H:%M:%S')})\n".encode())
        f.log_file.flush()
        self.proc = subprocess.Popen(
            [f.binary_path], env=env, stdin=subprocess.DEVNULL, stdout=f.log_file, stderr=f.log_file, cwd="/"
        )
        threading.Thread(target=self._watch, daemon=True, name=f"watch-{f.name}-{self.number}").start()

    def _watch(self):
        code = self.proc.wait()
        self.dead = True
        # Fail its invocation first: shutting the server down waits out its poll interval.
        self.function.instance_exited(self, code)
        self.server.shutdown()
        self.server.server_close()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)


class Function:
    """A function of the template: its spec, its instances, its queue of
    invocations waiting for an instance."""

    def __init__(self, spec, binary_path, environment, log_path, max_instances, host):
        self.spec = spec
        self.name = spec.name
        self.arn = spec.arn
        self.binary_path = binary_path
        self.environment = environment
        self.max_instances = max_instances
        self.host = host
        self.pending = queue.Queue()
        self.lock = threading.Lock()
        self.instances = []
        self.numbers = 0
        self.faults = []  # [{"match", "count", "after_ms"}]
        self.log_file = open(log_path, "ab", buffering=0)  # noqa: SIM115 (open for the process's life)

    def invoke(self, payload):
        """Runs one invocation to its end; returns its result."""
        inv = Invocation(payload)
        self.pending.put(inv)
        self._scale()
        if not inv.done.wait(self.spec.timeout + 5):
            # The instance that took it overran the timeout: Lambda stops it.
            holder = inv.instance
            inv.finish(
                (
                    "error",
                    {
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"RequestId: {inv.id} Error: Task timed out after {self.spec.timeout:.2f} seconds",
                    },
                )
            )
            if holder:
                holder.kill()
        self.host.count(self.name, "errors" if inv.result[0] == "error" else "ok")
        return inv.result

    def _scale(self):
        with self.lock:
            free = sum(1 for i in self.instances if not i.busy and not i.dead)
            if free == 0 and len(self.instances) < self.max_instances:
                self.numbers += 1
                instance = Instance(self, self.numbers)
                self.instances.append(instance)
                self.host.count(self.name, "instances")
            else:
                return
        instance.start()

    def next_for(self, instance):
        """Blocks until an invocation is pending (None when the instance died)."""
        while not instance.dead and not self.host.stopping:
            try:
                inv = self.pending.get(timeout=0.2)
            except queue.Empty:
                continue
            if inv.done.is_set():  # timed out while it waited
                continue
            with self.lock:
                instance.busy = True
                instance.current = inv
                inv.instance = instance
                inv.started = time.monotonic()
                fault = self._take_fault(inv.payload)
            self._platform("platform.start", {"requestId": inv.id, "version": "$LATEST"})
            if fault == 0:
                # Killed before the event reaches it: a crash at the very start.
                inv.fault_killed = True
                self._crash(instance, inv)
            elif fault is not None:
                timer = threading.Timer(fault / 1000.0, self._crash, (instance, inv))
                timer.daemon = True
                timer.start()
            # More waiting than instances free: scale out.
            if not self.pending.empty():
                self._scale()
            return inv
        return None

    def release(self, instance, inv, result):
        with self.lock:
            if instance.current is inv:
                instance.current = None
                instance.busy = False
        inv.finish(result)
        self._report(instance, inv)

    def _platform(self, kind, record):
        """A platform event in the function's log, in the shape Lambda's JSON
        log format gives it (https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html)."""
        line = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"), "type": kind, "record": record}
        self.log_file.write((json.dumps(line) + "\n").encode())

    def _report(self, instance, inv):
        duration = (time.monotonic() - getattr(inv, "started", time.monotonic())) * 1000
        used = None
        try:
            with open(f"/proc/{instance.proc.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        used = int(line.split()[1]) // 1024
        except (OSError, AttributeError, ValueError):
            pass
        metrics = {"durationMs": round(duration, 2), "billedDurationMs": int(duration) + 1, "memorySizeMB": self.spec.memory}
        if used is not None:
            metrics["maxMemoryUsedMB"] = used
            with self.host.stats_lock:
                per = self.host.stats.setdefault(self.name, {})
                per["max_memory_mb"] = max(per.get("max_memory_mb", 0), used)
            if used > self.spec.memory:
                # Lambda would have stopped the instance (Runtime.OutOfMemory): say so loudly.
                log.warning("%s instance %d used %d MB of its %d MB", self.name, instance.number, used, self.spec.memory)
                self.host.count(self.name, "over_memory")
        status = "success" if inv.result and inv.result[0] == "ok" else "error"
        self._platform("platform.report", {"requestId": inv.id, "metrics": metrics, "status": status})

    def _take_fault(self, payload):
        text = payload.decode("utf-8", "replace")
        for fault in self.faults:
            if fault["count"] > 0 and (not fault.get("match") or fault["match"] in text):
                fault["count"] -= 1
                return int(fault.get("after_ms", 0))
        return None

    def _crash(self, instance, inv):
        if instance.current is inv and not inv.done.is_set():
            log.info("fault: killing %s instance %d during %s", self.name, instance.number, inv.id)
            self.host.count(self.name, "killed")
            instance.kill()

    def kill_all(self):
        with self.lock:
            instances = list(self.instances)
        for instance in instances:
            instance.kill()
        self.host.count(self.name, "killed", len(instances))
        return len(instances)

    def instance_exited(self, instance, code):
        with self.lock:
            if instance in self.instances:
                self.instances.remove(instance)
            inv = instance.current
            instance.current = None
        log.info("%s instance %d exited with %s", self.name, instance.number, code)
        if inv is not None:
            self._platform("platform.runtimeDone", {"requestId": inv.id, "status": "failure", "errorType": "Runtime.ExitError"})
            reason = f"signal: {signal.Signals(-code).name.lower()[3:]}" if code < 0 else f"exit status {code}"
            inv.finish(
                (
                    "error",
                    {
                        "errorType": "Runtime.ExitError",
                        "errorMessage": f"RequestId: {inv.id} Error: Runtime exited with error: {reason}",
                    },
                )
            )
        # Invocations still pending get an instance of their own.
        if not self.pending.empty() and not self.host.stopping:
            self._scale()

    def stop(self):
        with self.lock:
            instances = list(self.instances)
        for instance in instances:
            instance.kill()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        log.debug("%s %s", self.address_string(), format % args)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, body=b"", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class _RuntimeHandler(_Handler):
    """The Runtime API of one instance."""

    def do_GET(self):
        instance = self.server.instance
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self.reply(404, {"errorType": "NotFound", "errorMessage": self.path})
        inv = instance.function.next_for(instance)
        if inv is None:
            return self.reply(410, {"errorType": "Gone", "errorMessage": "the instance is stopping"})
        f = instance.function
        deadline = int(time.time() * 1000) + f.spec.timeout * 1000
        try:
            self.reply(
                200,
                inv.payload,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": inv.id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": f.arn,
                    "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                },
            )
        except OSError:
            if inv.done.is_set() or getattr(inv, "fault_killed", False):
                return  # its instance's death already failed it (Runtime.ExitError)
            # The instance went away before it read the event: another takes it.
            with f.lock:
                if instance.current is inv:
                    instance.current = None
                    instance.busy = False
            inv.instance = None
            f.pending.put(inv)

    def do_POST(self):
        instance = self.server.instance
        body = self.body()
        parts = self.path.strip("/").split("/")
        # 2018-06-01/runtime/invocation/<id>/response|error, 2018-06-01/runtime/init/error
        if parts[:3] == ["2018-06-01", "runtime", "init"]:
            log.error("%s instance %d init error: %s", instance.function.name, instance.number, body[:2000])
            return self.reply(202, {"status": "OK"})
        if len(parts) != 5 or parts[:3] != ["2018-06-01", "runtime", "invocation"]:
            return self.reply(404, {"errorType": "NotFound", "errorMessage": self.path})
        inv = instance.current
        if inv is None or inv.id != parts[3]:
            return self.reply(400, {"errorType": "InvalidRequestID", "errorMessage": parts[3]})
        if parts[4] == "response":
            if len(body) > SYNC_PAYLOAD_LIMIT:
                result = ("error", {"errorType": "Function.ResponseSizeTooLarge", "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes)."})
            else:
                result = ("ok", body)
        elif parts[4] == "error":
            try:
                error = json.loads(body or b"{}")
            except ValueError:
                error = {}
            error_type = error.get("errorType") or self.headers.get("Lambda-Runtime-Function-Error-Type") or "Unhandled"
            result = ("error", {"errorType": error_type, "errorMessage": error.get("errorMessage", "")})
        else:
            return self.reply(404, {"errorType": "NotFound", "errorMessage": self.path})
        self.reply(202, {"status": "OK"})
        instance.function.release(instance, inv, result)


class LambdaHost:
    """Every function of the stack, the Invoke API and the asynchronous event queue."""

    def __init__(self, account, region, retry_delays=LAMBDA_RETRY_DELAYS, send_to_queue=None):
        self.account = account
        self.region = region
        self.retry_delays = retry_delays
        self.send_to_queue = send_to_queue  # (queue ARN, body) -> None: the OnFailure destination
        self.functions = {}
        self.by_binary = {}
        self.stopping = False
        self.stats = {}
        self.stats_lock = threading.Lock()
        self.events = queue.Queue()  # (function, payload, attempt, request id)
        self.server = None

    def count(self, function, what, n=1):
        with self.stats_lock:
            per = self.stats.setdefault(function, {})
            per[what] = per.get(what, 0) + n

    def add(self, function):
        self.functions[function.name] = function

    def find(self, name_or_arn, qualifier=None):
        """The function a FunctionName names (name, ARN or partial ARN, with
        an optional qualifier); None when there is none (or the qualifier is
        a version or alias: the local stack publishes none)."""
        name = name_or_arn
        if name.startswith("arn:"):
            parts = name.split(":")
            if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
                return None
            name = parts[6]
            if len(parts) > 7:
                qualifier = qualifier or parts[7]
        elif ":function:" in name:
            rest = name.split(":function:", 1)[1].split(":")
            name = rest[0]
            if len(rest) > 1:
                qualifier = qualifier or rest[1]
        elif ":" in name:
            name, q = name.split(":", 1)
            qualifier = qualifier or q
        if qualifier not in (None, "", "$LATEST"):
            return None
        return self.functions.get(name)

    # ----- asynchronous invocation ----------------------------------------------------

    def invoke_async(self, function, payload):
        request_id = str(uuid.uuid4())
        self.count(function.name, "async")
        self.events.put((function, payload, 1, request_id))
        return request_id

    def _event_worker(self):
        while not self.stopping:
            try:
                function, payload, attempt, request_id = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            status, value = function.invoke(payload)
            if status == "ok":
                continue
            if attempt <= function.spec.max_retry_attempts:
                delay = self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)]
                log.info("%s: event %s failed (%s), retry %d in %.1f s", function.name, request_id, value.get("errorType"), attempt, delay)
                self.count(function.name, "retries")
                timer = threading.Timer(delay, self.events.put, ((function, payload, attempt + 1, request_id),))
                timer.daemon = True
                timer.start()
                continue
            self._give_up(function, payload, attempt, request_id, value)

    def _give_up(self, function, payload, attempts, request_id, error):
        destination = function.spec.on_failure_arn
        log.warning("%s: event %s failed %d times (%s)%s", function.name, request_id, attempts, error.get("errorType"),
                    f", sent to {destination}" if destination else ", dropped (no destination)")
        self.count(function.name, "given_up")
        if not destination or not self.send_to_queue:
            return
        try:
            request_payload = json.loads(payload)
        except ValueError:
            request_payload = payload.decode("utf-8", "replace")
        record = {
            "version": "1.0",
            "timestamp": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "requestContext": {
                "requestId": request_id,
                "functionArn": f"{function.arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": request_payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": error,
        }
        try:
            self.send_to_queue(destination, json.dumps(record))
            self.count(function.name, "destination")
        except Exception:  # noqa: BLE001 (logged: the record is what is lost, as when Lambda cannot deliver it)
            log.exception("%s: cannot send the invocation record of %s to %s", function.name, request_id, destination)

    # ----- the Invoke API -------------------------------------------------------------

    def serve(self, port, workers):
        self.server = _Server(("127.0.0.1", port), _InvokeHandler)
        self.server.host = self
        threading.Thread(target=self.server.serve_forever, daemon=True, name="invoke-api").start()
        for i in range(workers):
            threading.Thread(target=self._event_worker, daemon=True, name=f"events-{i}").start()
        return self.server.server_address[1]

    def stop(self):
        self.stopping = True
        for function in self.functions.values():
            function.stop()


def _error(status, error_type, message):
    return status, {"Type": "User", "message": message}, {"x-amzn-ErrorType": error_type}


class _InvokeHandler(_Handler):
    def do_POST(self):
        host = self.server.host
        body = self.body()
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        if path.startswith("/_local/"):
            return self.reply(*control(host, parts[1:], body))
        if len(parts) != 4 or parts[0] != "2015-03-31" or parts[1] != "functions" or parts[3] != "invocations":
            return self.reply(*_error(404, "UnknownOperationException", f"no operation at {self.path}"))
        qualifier = None
        for pair in query.split("&"):
            if pair.startswith("Qualifier="):
                qualifier = pair.split("=", 1)[1]
        name = unquote(parts[2])
        function = host.find(name, qualifier)
        request_id = str(uuid.uuid4())
        if function is None:
            arn = name if name.startswith("arn:") else f"arn:aws:lambda:{host.region}:{host.account}:function:{name}"
            return self.reply(*_error(404, "ResourceNotFoundException", f"Function not found: {arn}"))
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "DryRun":
            return self.reply(204, b"", {"x-amzn-RequestId": request_id})
        if kind == "Event":
            if len(body) > ASYNC_PAYLOAD_LIMIT:
                return self.reply(*_error(413, "RequestEntityTooLargeException", f"Request must be smaller than {ASYNC_PAYLOAD_LIMIT} bytes for the InvokeAsync operation"))
            request_id = host.invoke_async(function, body or b"{}")
            return self.reply(202, b"", {"x-amzn-RequestId": request_id})
        if kind != "RequestResponse":
            return self.reply(*_error(400, "InvalidParameterValueException", f"invalid InvocationType {kind}"))
        if len(body) > SYNC_PAYLOAD_LIMIT:
            return self.reply(*_error(413, "RequestEntityTooLargeException", f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} bytes for the Invoke operation"))
        host.count(function.name, "sync")
        status, value = function.invoke(body or b"{}")
        headers = {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
        if status == "ok":
            return self.reply(200, value, headers)
        headers["X-Amz-Function-Error"] = "Unhandled"
        return self.reply(200, value, headers)

    def do_GET(self):
        host = self.server.host
        path = self.path.split("?")[0]
        if path == "/_local/stats":
            with host.stats_lock:
                return self.reply(200, host.stats)
        return self.reply(*_error(404, "UnknownOperationException", f"no operation at {self.path}"))


def control(host, parts, body):
    """The test controls (`/_local/...`, not part of any AWS API)."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return 400, {"message": "the body is not JSON"}
    function = host.find(request.get("function", "")) if request.get("function") else None
    if parts == ["faults"]:
        # {"function", "count", "match"?, "afterMs"?}: the next `count`
        # invocations whose event contains `match` have their instance
        # killed (SIGKILL) `afterMs` after it took the event.
        if function is None:
            return 404, {"message": f"no function {request.get('function')!r}"}
        with function.lock:
            function.faults.append(
                {"match": request.get("match"), "count": int(request.get("count", 1)), "after_ms": int(request.get("afterMs", 0))}
            )
        return 200, {"faults": len(function.faults)}
    if parts == ["kill"]:
        if function is None:
            return 404, {"message": f"no function {request.get('function')!r}"}
        return 200, {"killed": function.kill_all()}
    if parts == ["clear-faults"]:
        for f in host.functions.values():
            with f.lock:
                f.faults.clear()
        return 200, {}
    return 404, {"message": f"no control {'/'.join(parts)}"}


def function_environment(spec, region, account, endpoints, extra):
    """The environment Lambda gives a function's process: the template's
    variables, the reserved ones, the local endpoints, test settings (`extra`)."""
    env = dict(spec.environment)
    env.update(extra.get(spec.name, {}))
    for name in ("RUST_LOG", "RUST_BACKTRACE"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    env.update(
        {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "_HANDLER": "bootstrap",
            "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    if spec.log_group:
        env["AWS_LAMBDA_LOG_GROUP_NAME"] = spec.log_group
    if spec.log_format:
        env["AWS_LAMBDA_LOG_FORMAT"] = spec.log_format
    env.update(endpoints)
    return env
