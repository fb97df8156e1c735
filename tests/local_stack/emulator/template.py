"""template.yaml read as CloudFormation and SAM read it, for the local stack.

The template is the single description of the stack: the table's keys,
indexes and TTL, the queues and their redrive policy, the Scheduler group,
each function's binary, environment, timeout, memory, asynchronous
invocation config and event sources all come from it. What is resolved here
is what the local stack needs: the intrinsic functions the template uses
(Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Split, Fn::Select, Fn::If and the
condition functions), parameters with their defaults, pseudo parameters
(AWS::StackName, AWS::Region, AWS::AccountId, AWS::Partition,
AWS::NoValue), conditions, and SAM's Globals. Anything else is refused by
name (TemplateError), never guessed.
"""

import os
import re
from dataclasses import dataclass, field

import yaml


class TemplateError(Exception):
    """The template uses something the local stack cannot resolve."""


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (`!Ref x` → `{"Ref": "x"}`)."""


def _short_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)

NO_VALUE = object()  # AWS::NoValue: the property or list element is removed


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)


@dataclass
class FunctionSpec:
    """One AWS::Serverless::Function, resolved."""

    logical_id: str
    name: str  # FunctionName
    arn: str
    binary: str  # Metadata.BuildProperties.Binary
    code_uri: str
    timeout: int  # seconds
    memory: int  # MB
    environment: dict
    log_group: str | None
    log_format: str | None
    # EventInvokeConfig
    max_retry_attempts: int = 2
    on_failure_arn: str | None = None
    # Events, by type
    sqs_sources: list = field(default_factory=list)  # [{"queue_arn", "batch_size", "window"}]
    schedules: list = field(default_factory=list)  # [{"name", "expression", "input"}]
    api_routes: list = field(default_factory=list)  # [{"path", "method", "auth"}]


class Stack:
    """The template's resources with their physical names, ARNs and URLs.

    `queue_urls` (logical id → URL) must be filled in as the queues are
    created (a queue's Ref is its URL, which the SQS endpoint makes).
    """

    def __init__(self, path, stack_name, region, account, parameters=None):
        self.path = path
        self.template = load(path)
        self.stack_name = stack_name
        self.region = region
        self.account = account
        self.partition = "aws"
        self.queue_urls = {}
        self.parameters = {}
        for name, spec in (self.template.get("Parameters") or {}).items():
            if parameters and name in parameters:
                self.parameters[name] = parameters[name]
            elif "Default" in spec:
                self.parameters[name] = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default: give it a value")
            if spec.get("Type") == "CommaDelimitedList" and isinstance(self.parameters[name], str):
                self.parameters[name] = self.parameters[name].split(",")
        self.resources = self.template.get("Resources") or {}
        self._conditions = {}

    # ----- resources ------------------------------------------------------------------

    def of_type(self, kind):
        """{logical id: resource} of one type whose condition holds."""
        return {
            name: r
            for name, r in self.resources.items()
            if r.get("Type") == kind and (not r.get("Condition") or self.condition(r["Condition"]))
        }

    def physical_name(self, logical_id):
        """The name CloudFormation would generate (`<stack>-<logical id>`,
        without its random suffix) or the one the template gives."""
        r = self.resources[logical_id]
        props = r.get("Properties") or {}
        kind = r["Type"]
        named = {
            "AWS::SQS::Queue": "QueueName",
            "AWS::DynamoDB::Table": "TableName",
            "AWS::Scheduler::ScheduleGroup": "Name",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::IAM::Role": "RoleName",
        }.get(kind)
        if named and named in props:
            return self.resolve(props[named])
        return f"{self.stack_name}-{logical_id}"

    def ref(self, logical_id):
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id not in self.resources:
            raise TemplateError(f"Ref to {logical_id}: no such parameter or resource")
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::SQS::Queue":
            if logical_id not in self.queue_urls:
                raise TemplateError(f"Ref to the queue {logical_id} before it was created")
            return self.queue_urls[logical_id]
        if kind == "AWS::Serverless::Api":
            return "local"
        return self.physical_name(logical_id)

    def get_att(self, logical_id, attribute):
        if logical_id not in self.resources:
            raise TemplateError(f"Fn::GetAtt of {logical_id}: no such resource")
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        p, r, a = self.partition, self.region, self.account
        arns = {
            "AWS::SQS::Queue": f"arn:{p}:sqs:{r}:{a}:{name}",
            "AWS::DynamoDB::Table": f"arn:{p}:dynamodb:{r}:{a}:table/{name}",
            "AWS::Scheduler::ScheduleGroup": f"arn:{p}:scheduler:{r}:{a}:schedule-group/{name}",
            "AWS::Serverless::Function": f"arn:{p}:lambda:{r}:{a}:function:{name}",
            "AWS::Logs::LogGroup": f"arn:{p}:logs:{r}:{a}:log-group:{name}:*",
            "AWS::IAM::Role": f"arn:{p}:iam::{a}:role/{name}",
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]
        if attribute == "QueueName" and kind == "AWS::SQS::Queue":
            return name
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} ({kind}) is not known to the local stack")

    # ----- intrinsic functions --------------------------------------------------------

    def condition(self, name):
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise TemplateError(f"no condition named {name}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    def resolve(self, value):
        """The value with every intrinsic function evaluated; AWS::NoValue
        removes a key or element."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
        out = {}
        for k, v in value.items():
            v = self.resolve(v)
            if v is not NO_VALUE:
                out[k] = v
        return out

    def _function(self, name, arg):
        if name == "Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return re.sub(r"\$\{([^}!][^}]*)\}", lambda m: self._sub_var(m.group(1), variables), text)
        if name == "GetAtt":
            return self.get_att(arg[0], arg[1])
        if name == "Join":
            sep, items = arg[0], self.resolve(arg[1])
            return sep.join(str(i) for i in items)
        if name == "Split":
            sep, text = arg[0], self.resolve(arg[1])
            return text.split(sep)
        if name == "Select":
            index, items = self.resolve(arg[0]), self.resolve(arg[1])
            return items[int(index)]
        if name == "If":
            return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if name == "Equals":
            return self.resolve(arg[0]) == self.resolve(arg[1])
        if name == "Not":
            return not self.resolve(arg[0])
        if name == "And":
            return all(self.resolve(a) for a in arg)
        if name == "Or":
            return any(self.resolve(a) for a in arg)
        raise TemplateError(f"Fn::{name} is not supported by the local stack")

    def _sub_var(self, name, variables):
        if name in variables:
            return str(variables[name])
        if "." in name:
            logical, attribute = name.split(".", 1)
            return str(self.get_att(logical, attribute))
        value = self.ref(name)
        if value is NO_VALUE:
            raise TemplateError(f"${{{name}}} in Fn::Sub is AWS::NoValue")
        return str(value)

    # ----- functions ------------------------------------------------------------------

    def functions(self):
        """Every function of the stack (its condition holding), Globals applied as SAM applies them."""
        globals_ = (self.template.get("Globals") or {}).get("Function") or {}
        specs = []
        for logical, resource in self.of_type("AWS::Serverless::Function").items():
            props = dict(globals_)
            props.update(resource.get("Properties") or {})
            props = self.resolve(props)
            binary = (((resource.get("Metadata") or {}).get("BuildProperties")) or {}).get("Binary")
            if not binary:
                raise TemplateError(f"{logical}: no Metadata.BuildProperties.Binary")
            name = props.get("FunctionName") or f"{self.stack_name}-{logical}"
            logging = props.get("LoggingConfig") or {}
            spec = FunctionSpec(
                logical_id=logical,
                name=name,
                arn=f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{name}",
                binary=binary,
                code_uri=props.get("CodeUri", ""),
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                environment={k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()},
                log_group=logging.get("LogGroup"),
                log_format=logging.get("LogFormat"),
            )
            invoke = props.get("EventInvokeConfig") or {}
            spec.max_retry_attempts = int(invoke.get("MaximumRetryAttempts", 2))
            failure = (invoke.get("DestinationConfig") or {}).get("OnFailure") or {}
            if failure:
                if failure.get("Type") != "SQS":
                    raise TemplateError(f"{logical}: OnFailure destination type {failure.get('Type')} is not emulated")
                spec.on_failure_arn = failure["Destination"]
            for event_name, event in (props.get("Events") or {}).items():
                kind, eprops = event.get("Type"), event.get("Properties") or {}
                if kind == "SQS":
                    spec.sqs_sources.append(
                        {
                            "name": event_name,
                            "queue_arn": eprops["Queue"],
                            "batch_size": int(eprops.get("BatchSize", 10)),
                            "window": int(eprops.get("MaximumBatchingWindowInSeconds", 0)),
                        }
                    )
                elif kind == "Schedule":
                    spec.schedules.append(
                        {"name": event_name, "expression": eprops["Schedule"], "input": eprops.get("Input")}
                    )
                elif kind == "Api":
                    auth = (eprops.get("Auth") or {}).get("Authorizer")
                    spec.api_routes.append(
                        {"path": eprops["Path"], "method": eprops["Method"].upper(), "auth": auth or "DEFAULT"}
                    )
                else:
                    raise TemplateError(f"{logical}: event source type {kind} ({event_name}) is not emulated")
            specs.append(spec)
        return specs

    def api_default_authorizer(self):
        """The Api's DefaultAuthorizer (AWS_IAM in ours), None without one."""
        for resource in self.of_type("AWS::Serverless::Api").values():
            auth = ((resource.get("Properties") or {}).get("Auth")) or {}
            return auth.get("DefaultAuthorizer")
        return None

    def api_stage(self):
        for resource in self.of_type("AWS::Serverless::Api").values():
            return self.resolve((resource.get("Properties") or {}).get("StageName", "Prod"))
        return "Prod"


def samconfig_defaults(root):
    """(stack name, region) of samconfig.toml's default deploy parameters."""
    import tomllib

    path = os.path.join(root, "samconfig.toml")
    with open(path, "rb") as f:
        data = tomllib.load(f)
    default = data.get("default", {})
    params = dict(default.get("global", {}).get("parameters", {}))
    params.update(default.get("deploy", {}).get("parameters", {}))
    return params.get("stack_name", "switchyard"), params.get("region", "us-east-1")
