"""Checks of template.yaml that cfn-lint and `sam validate --lint` cannot make:
the functions and the crates agree, IAM grants no wildcard action, and every
function logs into a log group with a retention.

Run by scripts/stack-checks.sh (pytest from .tools/sam-venv). The template is
read with cfn-lint's own decoder, so the short intrinsic tags (!Ref, !Sub,
!GetAtt, !If, ...) parse into their long forms.
"""

import json
import re
import tomllib
from pathlib import Path

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def load_template():
    template, problems = decode(str(TEMPLATE))
    assert not problems, [str(p) for p in problems]
    return template


@pytest.fixture(scope="module")
def template():
    return load_template()


def resources(template, *types):
    return {name: r for name, r in template["Resources"].items() if not types or r["Type"] in types}


def function_properties(template, resource):
    """A function's properties with the template's Globals applied, as SAM applies them."""
    merged = dict(template.get("Globals", {}).get("Function", {}))
    merged.update(resource.get("Properties", {}))
    return merged


def crate_binaries():
    """{(crate dir relative to the root, bin name)} of every crate under functions/."""
    found = set()
    for manifest in sorted((ROOT / "functions").glob("*/Cargo.toml")):
        crate = manifest.parent
        data = tomllib.loads(manifest.read_text())
        rel = crate.relative_to(ROOT).as_posix()
        explicit = data.get("bin", [])
        paths = {(crate / b["path"]).resolve() for b in explicit if "path" in b}
        names = {b["name"] for b in explicit}
        # Cargo's automatic targets, unless turned off.
        if data.get("package", {}).get("autobins", True):
            main = crate / "src" / "main.rs"
            if main.exists() and main.resolve() not in paths and data["package"]["name"] not in names:
                names.add(data["package"]["name"])
            for source in sorted((crate / "src" / "bin").glob("*.rs")):
                if source.resolve() not in paths and source.stem not in names:
                    names.add(source.stem)
        found.update((rel, name) for name in names)
    return found


def template_binaries(template):
    """{(CodeUri, Binary)} of every AWS::Serverless::Function, checking how each is built."""
    found = set()
    for name, resource in resources(template, "AWS::Serverless::Function").items():
        props = function_properties(template, resource)
        metadata = resource.get("Metadata", {})
        assert metadata.get("BuildMethod") == "rust-cargolambda", name
        binary = metadata.get("BuildProperties", {}).get("Binary")
        assert isinstance(binary, str) and binary, f"{name}: Metadata.BuildProperties.Binary"
        assert props.get("Handler") == "bootstrap", name
        assert props.get("Runtime") == "provided.al2023", name
        assert props.get("Architectures") == ["arm64"], name
        code_uri = props.get("CodeUri")
        assert isinstance(code_uri, str) and (ROOT / code_uri / "Cargo.toml").exists(), f"{name}: CodeUri {code_uri}"
        found.add((code_uri.rstrip("/"), binary))
    return found


def test_every_function_crate_is_in_the_template_and_back(template):
    crates = crate_binaries()
    deployed = template_binaries(template)
    assert {"stepper", "api", "sweeper"} <= {b for _, b in crates}
    assert crates - deployed == set(), "binaries under functions/ that the template does not deploy"
    assert deployed - crates == set(), "template functions without a crate binary"
    # One function per binary.
    assert len(deployed) == len(resources(template, "AWS::Serverless::Function"))


def test_the_example_definition_names_the_deployed_example_functions(template):
    """examples/order-saga.asl.json invokes functions by name: the template deploys those names."""
    definition = (ROOT / "examples" / "order-saga.asl.json").read_text()
    # By name (works in any account and region) or by ARN.
    wanted = set(re.findall(r'"FunctionName": "(?:arn:aws:lambda:[^:]+:[0-9]+:function:)?([A-Za-z0-9_-]+)"', definition))
    assert wanted
    names = {
        sub_text(function_properties(template, r).get("FunctionName"))
        for r in resources(template, "AWS::Serverless::Function").values()
    }
    assert wanted <= names
    prefix = template["Parameters"]["TaskFunctionPrefix"]["Default"]
    assert all(name.startswith(prefix) for name in wanted), "the default prefix must let the stepper invoke them"


# --- IAM ------------------------------------------------------------------------


def unwrap(value):
    """The branches of Fn::If (either may be taken), else the value itself."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, yes, no = value["Fn::If"]
        return unwrap(yes) + unwrap(no)
    if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] == "AWS::NoValue":
        return []
    return [value]


def statements(node, where):
    """Every IAM statement anywhere below `node`, with where it is."""
    if isinstance(node, dict):
        if "Statement" in node and isinstance(node.get("Statement"), (list, dict)):
            listed = node["Statement"] if isinstance(node["Statement"], list) else [node["Statement"]]
            for item in listed:
                for statement in unwrap(item):
                    yield where, statement
        for key, value in node.items():
            yield from statements(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from statements(value, f"{where}/{index}")


def all_statements(template):
    found = list(statements(template["Resources"], "Resources"))
    assert found, "no IAM statements found: the walk is broken"
    return found


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_no_statement_grants_a_wildcard_action(template):
    for where, statement in all_statements(template):
        assert "NotAction" not in statement, f"{where}: NotAction grants everything else"
        actions = as_list(statement.get("Action"))
        assert actions and all(isinstance(a, str) for a in actions), f"{where}: Action {actions!r}"
        for action in actions:
            assert "*" not in action and "?" not in action, f"{where}: wildcard action {action}"
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), f"{where}: {action}"


def test_no_allow_statement_names_every_resource(template):
    for where, statement in all_statements(template):
        if statement.get("Effect") != "Allow" or "Principal" in statement:
            continue  # trust policies name principals, not resources
        resources_ = statement.get("Resource")
        assert resources_ is not None, f"{where}: no Resource"
        assert "NotResource" not in statement, where
        for resource in as_list(resources_):
            assert resource != "*", f"{where}: Resource *"
            if isinstance(resource, str):
                assert resource.startswith("arn:"), f"{where}: {resource}"


def role_statements(template, role):
    """The statements of a role's inline policies, Fn::If branches included."""
    found = []
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        for item in as_list(policy["PolicyDocument"]["Statement"]):
            found.extend(unwrap(item))
    return found


def test_the_sweeper_drains_the_dead_letter_queue(template):
    """The sweeper is told the dead-letter queue and may receive and delete
    its messages (and read its attributes), on that queue only; the stepper
    fails over to that same queue."""
    sweeper = function_properties(template, template["Resources"]["SweeperFunction"])
    variables = sweeper["Environment"]["Variables"]
    assert variables.get("DEAD_LETTER_QUEUE_URL") == {"Ref": "DeadLetterQueue"}
    dlq_arn = {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    stepper = function_properties(template, template["Resources"]["StepperFunction"])
    assert stepper["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] == dlq_arn
    drain = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    granted = set()
    for statement in role_statements(template, "SweeperRole"):
        actions = set(as_list(statement["Action"]))
        sqs = {a for a in actions if a.startswith("sqs:")}
        if not sqs:
            continue
        assert statement["Effect"] == "Allow"
        assert sqs <= drain, f"the sweeper needs no {sqs - drain}"
        assert as_list(statement["Resource"]) == [dlq_arn], "SQS actions on the dead-letter queue only"
        granted |= sqs
    assert granted == drain


def test_every_function_runs_with_a_role_of_this_template(template):
    """No SAM-generated role (it would carry a managed policy this test cannot read)."""
    roles = resources(template, "AWS::IAM::Role")
    for name, resource in resources(template, "AWS::Serverless::Function", "AWS::Lambda::Function").items():
        props = function_properties(template, resource)
        assert "Policies" not in props, f"{name}: put its permissions on its role"
        role = props.get("Role")
        assert isinstance(role, dict) and "Fn::GetAtt" in role, f"{name}: Role must be !GetAtt <Role>.Arn"
        target = role["Fn::GetAtt"]
        target = target.split(".")[0] if isinstance(target, str) else target[0]
        assert target in roles, f"{name}: {target} is not a role of this template"
    for name, role in roles.items():
        assert "ManagedPolicyArns" not in role["Properties"], f"{name}: managed policies are not checked here"


# --- logs -----------------------------------------------------------------------


def sub_text(value):
    """The text of a literal or of an Fn::Sub without variables map, for comparing names."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"]
    raise AssertionError(f"a name that is neither a literal nor a plain !Sub: {json.dumps(value, default=str)}")


def test_every_function_logs_to_its_log_group_with_a_retention(template):
    groups = resources(template, "AWS::Logs::LogGroup")
    functions = resources(template, "AWS::Serverless::Function", "AWS::Lambda::Function")
    assert functions
    for name, resource in functions.items():
        props = function_properties(template, resource)
        assert "FunctionName" in props, f"{name}: name it, so its log group can be named before it exists"
        group_ref = props.get("LoggingConfig", {}).get("LogGroup")
        assert isinstance(group_ref, dict) and "Ref" in group_ref, f"{name}: LoggingConfig.LogGroup !Ref <LogGroup>"
        group = groups.get(group_ref["Ref"])
        assert group is not None, f"{name}: {group_ref['Ref']} is not a log group of this template"
        group_props = group["Properties"]
        assert sub_text(group_props["LogGroupName"]) == "/aws/lambda/" + sub_text(props["FunctionName"]), name
        assert "RetentionInDays" in group_props, f"{group_ref['Ref']}: no retention"
        assert group.get("Condition") == resource.get("Condition"), f"{name}: the log group's condition differs"


def test_every_function_logs_json_lines(template):
    """JSON log format: Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON, and the
    functions' tracing subscriber (lambda_runtime's default) then writes one
    JSON object per event, with its span's fields (execution, run, cause,
    version), for CloudWatch Logs Insights to query."""
    functions = resources(template, "AWS::Serverless::Function", "AWS::Lambda::Function")
    for name in ("StepperFunction", "ApiFunction", "SweeperFunction"):
        assert name in functions, f"{name} is in the template"
    for name, resource in functions.items():
        props = function_properties(template, resource)
        assert props.get("LoggingConfig", {}).get("LogFormat") == "JSON", f"{name}: LoggingConfig.LogFormat: JSON"


def test_the_stepper_runs_a_recovery_pass_on_a_schedule(template):
    events = template["Resources"]["StepperFunction"]["Properties"]["Events"]
    recovery = events["Recovery"]
    assert recovery["Type"] == "Schedule"
    assert recovery["Properties"]["Schedule"].startswith("rate(")
    assert json.loads(recovery["Properties"]["Input"]) == {"recovery": {}}
