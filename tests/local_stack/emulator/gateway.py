"""API Gateway (a REST API with Lambda proxy integrations), as the template
declares it: each function's `Api` events are its routes, the Api's
DefaultAuthorizer (AWS_IAM) guards every route that does not say
`Authorizer: NONE`.

What it follows:
- The proxy event (version 1.0) and the answer's shape:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
  (`resource`, `path`, `httpMethod`, `headers`/`multiValueHeaders`,
  `queryStringParameters`, `pathParameters`, `requestContext` with `stage`,
  `domainName`, `identity`; `{"statusCode", "headers", "body", "isBase64Encoded"}`
  back). A function error or a malformed answer is 502
  `{"message": "Internal server error"}`; an integration over 29 s is 504.
- A path or method with no route is 403 `{"message":"Missing Authentication Token"}`,
  as API Gateway answers it.
- IAM authorization: the request must carry a SigV4 signature for the
  service `execute-api` and the stack's region, made with a key this stack
  knows (the test credentials); it is checked in full (botocore computes the
  expected signature), and refused with API Gateway's messages. What a real
  deployment adds — IAM policies, `execute-api:Invoke` on the caller — is
  not emulated (docs/deploy.md).
- Served like a custom domain with its base path mapped to the stage: the
  endpoint is `http://127.0.0.1:PORT` and `requestContext.stage` is the
  template's StageName. `X-Forwarded-Proto` says `http`.
"""

import base64
import datetime
import json
import logging
import re
import threading
import time
import uuid
from urllib.parse import parse_qsl, unquote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .lambda_host import _Handler, _Server

log = logging.getLogger("gateway")

INTEGRATION_TIMEOUT = 29.0
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)


class Route:
    def __init__(self, method, path, function, iam):
        self.method = method
        self.path = path
        self.function = function
        self.iam = iam
        self.segments = path.strip("/").split("/") if path.strip("/") else []

    def match(self, method, segments):
        if method != self.method or len(segments) != len(self.segments):
            return None
        params = {}
        for pattern, value in zip(self.segments, segments, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                if not value:
                    return None
                params[pattern[1:-1]] = unquote(value)
            elif pattern != value:
                return None
        return params


class Gateway:
    def __init__(self, host, stack, credentials):
        self.host = host
        self.region = stack.region
        self.account = stack.account
        self.stage = stack.api_stage()
        self.credentials = credentials  # access key id -> secret
        default_iam = stack.api_default_authorizer() == "AWS_IAM"
        self.routes = []
        for spec in stack.functions():
            for r in spec.api_routes:
                iam = r["auth"] == "AWS_IAM" or (r["auth"] == "DEFAULT" and default_iam)
                self.routes.append(Route(r["method"], r["path"], host.functions[spec.name], iam))
        self.server = None

    def serve(self, port):
        self.server = _Server(("127.0.0.1", port), _GatewayHandler)
        self.server.gateway = self
        threading.Thread(target=self.server.serve_forever, daemon=True, name="gateway").start()
        return self.server.server_address[1]

    def authorize(self, method, raw_path, headers, body):
        """None when the request is signed right; else (status, message, error type)."""
        authorization = headers.get("authorization")
        if not authorization:
            return 403, "Missing Authentication Token", "MissingAuthenticationTokenException"
        m = AUTHORIZATION.fullmatch(authorization.strip())
        if not m:
            return 403, "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.", "IncompleteSignatureException"
        if m["service"] != "execute-api":
            return 403, "Credential should be scoped to correct service: 'execute-api'. ", "InvalidSignatureException"
        if m["region"] != self.region:
            return 403, f"Credential should be scoped to a valid region, not '{m['region']}'. ", "InvalidSignatureException"
        secret = self.credentials.get(m["key"])
        if secret is None:
            return 403, "The security token included in the request is invalid.", "UnrecognizedClientException"
        amz_date = headers.get("x-amz-date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            return 403, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", "IncompleteSignatureException"
        if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 300:
            return 403, "Signature expired: the request's X-Amz-Date is more than 5 minutes from now.", "InvalidSignatureException"
        signed = m["signed"].split(";")
        missing = [h for h in signed if h not in headers]
        if missing:
            return 403, f"The request signature names headers it does not carry: {', '.join(missing)}", "InvalidSignatureException"
        request = AWSRequest(
            method=method,
            url=f"http://{headers.get('host', '')}{raw_path}",
            data=body,
            headers={h: headers[h] for h in signed},
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(m["key"], secret), "execute-api", self.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != m["signature"]:
            return (
                403,
                "The request signature we calculated does not match the signature you provided. Check your AWS "
                "Secret Access Key and signing method. Consult the service documentation for details.",
                "InvalidSignatureException",
            )
        return None


def _proxy_event(gateway, route, params, method, path, query, headers_list, body, client_ip, access_key):
    headers, multi = {}, {}
    for k, v in headers_list:
        headers[k] = v
        multi.setdefault(k, []).append(v)
    host = headers.get("Host") or headers.get("host") or "127.0.0.1"
    for k, v in (("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", host.rsplit(":", 1)[-1]), ("X-Forwarded-For", client_ip)):
        headers[k] = v
        multi[k] = [v]
    pairs = parse_qsl(query, keep_blank_values=True)
    qs, mqs = {}, {}
    for k, v in pairs:
        qs[k] = v
        mqs.setdefault(k, []).append(v)
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        text = body.decode("utf-8") if body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    identity = {"sourceIp": client_ip, "userAgent": headers.get("User-Agent") or headers.get("user-agent")}
    if access_key:
        identity.update({"accessKey": access_key, "accountId": gateway.account, "caller": access_key, "user": access_key})
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": qs or None,
        "multiValueQueryStringParameters": mqs or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.path,
            "httpMethod": method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": path,
            "accountId": gateway.account,
            "protocol": "HTTP/1.1",
            "stage": gateway.stage,
            "domainPrefix": host.split(".")[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": identity,
            "domainName": host,
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class _GatewayHandler(_Handler):
    def _answer(self, method):
        gateway = self.server.gateway
        body = self.body()
        split = urlsplit(self.path)
        path = split.path or "/"
        segments = path.strip("/").split("/") if path.strip("/") else []
        route, params = None, None
        for candidate in gateway.routes:
            params = candidate.match(method, segments)
            if params is not None:
                route = candidate
                break
        if route is None:
            return self._json(403, {"message": "Missing Authentication Token"}, "MissingAuthenticationTokenException")
        access_key = None
        if route.iam:
            lower = {k.lower(): v for k, v in self.headers.items()}
            refused = gateway.authorize(method, self.path, lower, body)
            if refused:
                status, message, error_type = refused
                return self._json(status, {"message": message}, error_type)
            access_key = AUTHORIZATION.fullmatch(lower["authorization"].strip())["key"]
        event = _proxy_event(
            gateway, route, params, method, path, split.query, list(self.headers.items()), body, self.client_address[0], access_key
        )
        started = time.monotonic()
        status, value = route.function.invoke(json.dumps(event).encode())
        if time.monotonic() - started > INTEGRATION_TIMEOUT:
            return self._json(504, {"message": "Endpoint request timed out"}, None)
        if status != "ok":
            log.warning("%s %s: the function failed: %s", method, path, value)
            return self._json(502, {"message": "Internal server error"}, None)
        try:
            answer = json.loads(value)
            code = int(answer["statusCode"])
            out = answer.get("body") or ""
            data = base64.b64decode(out) if answer.get("isBase64Encoded") else out.encode()
        except (ValueError, KeyError, TypeError):
            log.warning("%s %s: malformed Lambda proxy response: %r", method, path, value[:500])
            return self._json(502, {"message": "Internal server error"}, None)
        headers = dict(answer.get("headers") or {})
        for k, vs in (answer.get("multiValueHeaders") or {}).items():
            headers[k] = ", ".join(vs)
        headers.setdefault("x-amzn-RequestId", event["requestContext"]["requestId"])
        headers.pop("content-length", None)
        headers.pop("Content-Length", None)
        self.reply(code, data, headers)

    def _json(self, status, body, error_type):
        headers = {"Content-Type": "application/json"}
        if error_type:
            headers["x-amzn-ErrorType"] = error_type
        self.reply(status, json.dumps(body).encode(), headers)

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def do_PUT(self):
        self._answer("PUT")

    def do_DELETE(self):
        self._answer("DELETE")
