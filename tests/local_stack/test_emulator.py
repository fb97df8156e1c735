"""The emulator's own contract (tests/local_stack/emulator): what it promises
to behave like AWS, checked against the answers AWS documents — the Invoke
API's shapes, the functions' identity and environment, API Gateway's IAM
auth, and the resources made from template.yaml's own definitions.
"""

import json
import os
import re
import sys
import textwrap
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "tests", "local_stack"))
from emulator.template import Stack  # noqa: E402


def post(url, body=b"", headers=None):
    req = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def invoke(stack, name, payload, kind="RequestResponse", qualifier=None):
    url = f"{stack['lambda']}/2015-03-31/functions/{urllib.request.quote(name, safe='')}/invocations"
    if qualifier:
        url += f"?Qualifier={qualifier}"
    return post(url, json.dumps(payload).encode(), {"X-Amz-Invocation-Type": kind})


def test_the_invoke_api_answers_as_lambda_does(stack):
    arn = f"arn:aws:lambda:{stack['region']}:{stack['account']}:function:approver"
    status, headers, body = invoke(stack, "approver", {"mode": "echo", "n": 1})
    assert (status, json.loads(body)) == (200, {"echo": {"mode": "echo", "n": 1}})
    assert headers["X-Amz-Executed-Version"] == "$LATEST"
    # A function error: 200 with X-Amz-Function-Error, the error as the payload.
    status, headers, body = invoke(stack, arn, {"mode": "fail"})
    assert (status, headers.get("X-Amz-Function-Error")) == (200, "Unhandled")
    assert json.loads(body) == {"errorType": "CustomError", "errorMessage": "failed on purpose"}
    # Asynchronous: accepted, nothing returned; DryRun: checked only.
    assert invoke(stack, "approver", {"mode": "echo"}, kind="Event")[:1] == (202,)
    assert invoke(stack, f"{arn}:$LATEST", {}, kind="DryRun")[:1] == (204,)
    # Unknown functions, and versions or aliases (the local stack publishes none).
    for name, qualifier in (("nobody", None), ("approver", "live"), (f"{arn}:7", None)):
        status, headers, body = invoke(stack, name, {}, qualifier=qualifier)
        assert (status, headers.get("x-amzn-ErrorType")) == (404, "ResourceNotFoundException"), name
        assert json.loads(body)["message"].startswith("Function not found: arn:aws:lambda:")


def test_a_function_runs_under_its_own_name_arn_and_environment(stack):
    names = ["AWS_REGION", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_RUNTIME_API", "AWS_ENDPOINT_URL_LAMBDA", "HOME"]
    status, _, body = invoke(stack, "approver", {"mode": "context", "names": names})
    assert status == 200
    context = json.loads(body)
    assert context["functionArn"] == f"arn:aws:lambda:{stack['region']}:{stack['account']}:function:approver"
    assert context["functionName"] == "approver"
    env = context["env"]
    assert (env["AWS_REGION"], env["AWS_LAMBDA_FUNCTION_VERSION"]) == (stack["region"], "$LATEST")
    assert env["AWS_ENDPOINT_URL_LAMBDA"] == stack["lambda"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    # Nothing of the emulator's own environment leaks in.
    assert env["HOME"] is None


def signed(url, body, service, secret="test", region="us-east-1"):
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.ListStateMachines"},
    )
    SigV4Auth(Credentials("test", secret), service, region).add_auth(request)
    return dict(request.headers.items())


def test_api_gateway_checks_the_signature_as_iam_auth_does(stack):
    url = stack["api"] + "/"
    body = b"{}"
    status, _, answer = post(url, body, signed(url, body, "execute-api"))
    assert status == 200 and "stateMachines" in json.loads(answer)

    refusals = [
        ({"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AWSStepFunctions.ListStateMachines"},
         "MissingAuthenticationTokenException", "Missing Authentication Token"),
        # What `aws stepfunctions --endpoint-url` sends without the plugin of docs/deploy.md.
        (signed(url, body, "states"), "InvalidSignatureException",
         "Credential should be scoped to correct service: 'execute-api'. "),
        (signed(url, body, "execute-api", region="eu-west-1"), "InvalidSignatureException",
         "Credential should be scoped to a valid region, not 'eu-west-1'. "),
        (signed(url, body, "execute-api", secret="wrong"), "InvalidSignatureException",
         "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
         "Access Key and signing method. Consult the service documentation for details."),
    ]  # fmt: skip
    for headers, error_type, message in refusals:
        status, answer_headers, answer = post(url, body, headers)
        assert (status, answer_headers.get("x-amzn-ErrorType"), json.loads(answer)) == (403, error_type, {"message": message})
    # A body changed after signing.
    headers = signed(url, body, "execute-api")
    status, _, answer = post(url, b'{"maxResults": 1}', headers)
    assert status == 403 and "does not match" in json.loads(answer)["message"]
    # No route: API Gateway's answer for an unknown resource or method.
    for path in ("/nothing", "/callbacks/t"):
        status, _, answer = post(stack["api"] + path, b"{}", signed(stack["api"] + path, b"{}", "execute-api"))
        assert (status, json.loads(answer)) == (403, {"message": "Missing Authentication Token"})


def test_the_resources_are_made_from_the_template(stack, sqs):
    import boto3

    template = Stack(os.path.join(REPO, "template.yaml"), stack["stackName"], stack["region"], stack["account"])
    table = template.resolve(template.resources["ExecutionTable"]["Properties"])
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=stack["dynamodb"], region_name=stack["region"],
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    described = dynamodb.describe_table(TableName=stack["tables"]["ExecutionTable"])["Table"]
    assert described["KeySchema"] == table["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        table["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    indexes = {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in described["GlobalSecondaryIndexes"]}
    assert indexes == {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]}
    ttl = dynamodb.describe_time_to_live(TableName=stack["tables"]["ExecutionTable"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", table["TimeToLiveSpecification"]["AttributeName"])

    timer_queue = template.resources["TimerQueue"]["Properties"]
    attributes = sqs.get_queue_attributes(QueueUrl=stack["queues"]["TimerQueue"], AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == timer_queue["RedrivePolicy"]["maxReceiveCount"]
    assert redrive["deadLetterTargetArn"].endswith(":" + stack["queues"]["DeadLetterQueue"].rsplit("/", 1)[1])


def test_the_documented_cli_plugin_is_the_one_the_tests_use():
    """docs/deploy.md's plugin is what tests/pylib/sfn_execute_api.py runs, line for line."""
    with open(os.path.join(REPO, "docs", "deploy.md"), encoding="utf-8") as f:
        docs = f.read()
    block = re.search(r"( *)```python\n *# ~/.aws/plugins/sfn_execute_api.py\n(.*?)```", docs, re.S)
    assert block, "docs/deploy.md no longer shows the plugin"
    documented = textwrap.dedent(block.group(2).rstrip(" ")).strip()
    with open(os.path.join(REPO, "tests", "pylib", "sfn_execute_api.py"), encoding="utf-8") as f:
        code = "".join(line for line in f if not line.startswith("#"))
    assert code.strip() == documented


def test_the_switchyard_cli_signs_for_execute_api_when_told(stack, local):
    """`switchyard start|describe --sign execute-api`: the CLI as a client of
    the local stack (or of an API Gateway custom domain); unsigned, refused."""
    import subprocess

    binary = os.environ.get("SWITCHYARD_BIN") or os.path.join(REPO, "target", "debug", "switchyard")
    machine = local.create({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "cli")
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION=stack["region"])
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)

    def cli(*args):
        return subprocess.run([binary, *args, "--endpoint", stack["api"]], env=env, capture_output=True, text=True, timeout=60)

    unsigned = cli("start", "--state-machine", machine)
    assert unsigned.returncode == 1
    assert unsigned.stderr.strip() == "error: MissingAuthenticationTokenException: Missing Authentication Token"
    started = cli("start", "--state-machine", machine, "--input", '{"k":1}', "--sign", "execute-api")
    assert started.returncode == 0, started.stderr
    execution = json.loads(started.stdout)["executionArn"]
    local.wait(execution, timeout=30)
    described = cli("describe", execution, "--sign", "execute-api")
    assert described.returncode == 0, described.stderr
    assert (json.loads(described.stdout)["status"], json.loads(described.stdout)["output"]) == ("SUCCEEDED", '{"k":1}')
