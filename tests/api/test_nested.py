"""Nested executions: Task states with the Resource
`arn:aws:states:::states:startExecution` (request/response, `.sync`,
`.sync:2`, `.waitForTaskToken`) start an execution of another state machine
on the same `serve`.

Shapes, as Step Functions' optimized integration returns them (README
"Nested executions"): request/response gives the StartExecution response
`{ExecutionArn, SdkHttpMetadata, SdkResponseMetadata, StartDate}` (StartDate
in epoch milliseconds); `.sync` gives the child's DescribeExecution in
PascalCase with `Input`/`Output` as JSON text, `.sync:2` the same with them
parsed; a child that does not succeed fails the task with `States.TaskFailed`
and that description as cause. The link between parent and child is the
`AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID` member of the child's input, as
AWS documents, and the child's ARN in the parent's TaskSubmitted/TaskSucceeded.
"""

import json

NESTED_SYNC_EVENTS = [
    "ExecutionStarted",
    "TaskStateEntered",
    "TaskScheduled",
    "TaskStarted",
    "TaskSubmitted",
    "TaskSucceeded",
    "TaskStateExited",
    "ExecutionSucceeded",
]

# The child: adds a field to its input.
CHILD = {"StartAt": "Add", "States": {"Add": {"Type": "Pass", "Result": "done", "ResultPath": "$.child", "End": True}}}
# A child that fails.
FAILING_CHILD = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "ChildBroke", "Cause": "on purpose"}}}


def parent(resource, child_arn, extra_input=None, name=None, catch=False, result_path=None):
    params = {
        "StateMachineArn": child_arn,
        "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id", **(extra_input or {})},
    }
    if name is not None:
        params["Name"] = name
    state = {"Type": "Task", "Resource": f"arn:aws:states:::states:{resource}", "Parameters": params, "End": True}
    if result_path is not None:
        state["ResultPath"] = result_path
    if catch:
        state.pop("End")
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]
        state["Next"] = "Done"
        return {
            "StartAt": "Call",
            "States": {"Call": state, "Done": {"Type": "Succeed"}, "Caught": {"Type": "Pass", "End": True}},
        }
    return {"StartAt": "Call", "States": {"Call": state}}


def check_start_response(api, value, child_execution):
    assert sorted(value) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    assert value["ExecutionArn"] == child_execution
    assert isinstance(value["StartDate"], int) and value["StartDate"] > 1_700_000_000_000
    meta = value["SdkHttpMetadata"]
    assert meta["HttpStatusCode"] == 200
    request_id = value["SdkResponseMetadata"]["RequestId"]
    assert meta["HttpHeaders"]["x-amzn-RequestId"] == request_id
    assert meta["AllHttpHeaders"]["x-amzn-RequestId"] == [request_id]
    assert meta["HttpHeaders"]["Content-Type"] == "application/x-amz-json-1.0"


def child_of(api, events):
    """The child's ARN, from the parent's TaskSubmitted (or TaskSucceeded) output."""
    for e in events:
        for key in ("taskSubmittedEventDetails", "taskSucceededEventDetails"):
            if key in e:
                return json.loads(e[key]["output"])["ExecutionArn"]
    raise AssertionError("no TaskSubmitted/TaskSucceeded event")


def test_request_response_starts_the_child_and_goes_on(api, sfn):
    child = api.create(CHILD, prefix="child")
    machine = api.create(parent("startExecution", child, name="kid-1"), prefix="parent")
    execution = api.start(machine, {"n": 7})
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    child_execution = api.execution_arn(child.split(":")[-1], "kid-1")
    check_start_response(api, json.loads(d["output"]), child_execution)
    assert api.types(execution) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = api.history(execution)[2]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("states", "startExecution")
    kid = api.wait(child_execution)
    assert kid["status"] == "SUCCEEDED"
    assert json.loads(kid["input"]) == {"n": 7, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": execution}
    assert json.loads(kid["output"]) == {"n": 7, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": execution, "child": "done"}


def test_sync_waits_for_the_child_and_returns_its_description(api):
    child = api.create(CHILD, prefix="child")
    machine = api.create(parent("startExecution.sync", child), prefix="parent")
    execution = api.start(machine, {"n": 1})
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED", d
    events = api.history(execution)
    assert [e["type"] for e in events] == NESTED_SYNC_EVENTS
    child_execution = child_of(api, events)
    check_start_response(api, json.loads(events[4]["taskSubmittedEventDetails"]["output"]), child_execution)
    kid = api.wait(child_execution)
    out = json.loads(d["output"])
    linked = {"n": 1, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": execution}
    assert out == {
        "ExecutionArn": child_execution,
        "Input": json.dumps(linked, separators=(",", ":")),
        "InputDetails": {"Included": True},
        "Name": child_execution.split(":")[-1],
        "Output": json.dumps({**linked, "child": "done"}, separators=(",", ":")),
        "OutputDetails": {"Included": True},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "StartDate": int(round(kid["startDate"].timestamp() * 1000)),
        "StateMachineArn": child,
        "Status": "SUCCEEDED",
        "StopDate": int(round(kid["stopDate"].timestamp() * 1000)),
    }
    assert list(out) == sorted(out)
    assert events[5]["taskSucceededEventDetails"]["resource"] == "startExecution.sync"


def test_sync2_parses_input_and_output(api):
    child = api.create(CHILD, prefix="child")
    machine = api.create(parent("startExecution.sync:2", child, result_path="$.result"), prefix="parent")
    execution = api.start(machine, {"n": 2})
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED", d
    result = json.loads(d["output"])["result"]
    linked = {"n": 2, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": execution}
    assert result["Input"] == linked
    assert result["Output"] == {**linked, "child": "done"}
    assert result["Status"] == "SUCCEEDED"
    assert api.types(execution) == NESTED_SYNC_EVENTS


def test_a_failed_child_fails_a_sync_task_with_states_task_failed(api):
    child = api.create(FAILING_CHILD, prefix="child")
    machine = api.create(parent("startExecution.sync", child, catch=True), prefix="parent")
    execution = api.start(machine, {"n": 3})
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED", d
    error = json.loads(d["output"])["error"]
    assert error["Error"] == "States.TaskFailed"
    cause = json.loads(error["Cause"])
    assert cause["Status"] == "FAILED"
    assert (cause["Error"], cause["Cause"]) == ("ChildBroke", "on purpose")
    assert cause["RedriveStatus"] == "REDRIVABLE"
    assert "Output" not in cause
    assert [e["type"] for e in api.history(execution)] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskFailed",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_a_stopped_child_fails_its_sync_parent(api, sfn):
    child = api.create(api.CALLBACK, prefix="child")
    machine = api.create(parent("startExecution.sync", child), prefix="parent")
    execution = api.start(machine, {"n": 4})
    events = api.wait_for_types(execution, 5)
    child_execution = child_of(api, events)
    api.wait_token(child_execution)
    sfn.stop_execution(executionArn=child_execution, error="Halt", cause="stopped by the test")
    d = api.wait(execution)
    assert (d["status"], d["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(d["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("ABORTED", "Halt", "stopped by the test")


def test_stopping_a_parent_stops_its_sync_children_and_theirs(api, sfn):
    grandchild = api.create(api.CALLBACK, prefix="grandchild")
    child = api.create(parent("startExecution.sync", grandchild), prefix="child")
    machine = api.create(parent("startExecution.sync:2", child), prefix="parent")
    execution = api.start(machine, {"n": 10})
    child_execution = child_of(api, api.wait_for_types(execution, 5))
    grandchild_execution = child_of(api, api.wait_for_types(child_execution, 5))
    api.wait_token(grandchild_execution)
    sfn.stop_execution(executionArn=execution, error="Halt", cause="the whole tree")
    for arn in (execution, child_execution, grandchild_execution):
        d = sfn.describe_execution(executionArn=arn)
        assert (d["status"], d["error"], d["cause"]) == ("ABORTED", "Halt", "the whole tree"), arn
    assert api.types(execution) == NESTED_SYNC_EVENTS[:5] + ["ExecutionAborted"]
    assert api.types(child_execution) == NESTED_SYNC_EVENTS[:5] + ["ExecutionAborted"]


def test_stopping_a_parent_leaves_a_request_response_child_running(api, sfn):
    child = api.create(api.CALLBACK, prefix="child")
    definition = parent("startExecution", child, name=api.unique("free"))
    definition["States"]["Call"].pop("End")
    definition["States"]["Call"]["Next"] = "Hold"
    definition["States"]["Hold"] = {"Type": "Wait", "Seconds": 300, "End": True}
    execution = api.start(api.create(definition, prefix="parent"), {"n": 11})
    events = api.wait_for_types(execution, 7)
    child_execution = child_of(api, events)
    sfn.stop_execution(executionArn=execution, error="Halt")
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
    assert sfn.describe_execution(executionArn=child_execution)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=child_execution)


def test_wait_for_task_token_is_answered_by_the_child(api, sfn):
    child = api.create(api.CALLBACK, prefix="child")
    machine = api.create(
        parent("startExecution.waitForTaskToken", child, extra_input={"parentToken.$": "$$.Task.Token"}),
        prefix="parent",
    )
    execution = api.start(machine, {"n": 5})
    events = api.wait_for_types(execution, 5)
    assert [e["type"] for e in events][:5] == NESTED_SYNC_EVENTS[:5]
    child_execution = child_of(api, events)
    kid = api.wait(child_execution, until=lambda d: True)
    token = json.loads(kid["input"])["parentToken"]
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"approved": True}
    assert api.types(execution) == NESTED_SYNC_EVENTS
    # The child still waits for its own callback: a parent's token is not the child's.
    assert sfn.describe_execution(executionArn=child_execution)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=child_execution)


def test_a_missing_state_machine_is_a_catchable_step_functions_error(api):
    missing = api.machine_arn(api.unique("nothing"))
    machine = api.create(parent("startExecution.sync", missing, catch=True), prefix="parent")
    execution = api.start(machine, {"n": 6})
    d = api.wait(execution)
    assert d["status"] == "SUCCEEDED", d
    error = json.loads(d["output"])["error"]
    assert error["Error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert error["Cause"].startswith(
        f"State Machine Does Not Exist: '{missing}' (Service: AWSStepFunctions; Status Code: 400; "
        "Error Code: StateMachineDoesNotExist; Request ID: "
    )


def test_a_child_name_already_used_is_execution_already_exists(api):
    child = api.create(CHILD, prefix="child")
    api.wait(api.start(child, {"n": 0}, name="taken"))
    machine = api.create(parent("startExecution", child, name="taken", catch=True), prefix="parent")
    execution = api.start(machine, {"n": 8})
    d = api.wait(execution)
    error = json.loads(d["output"])["error"]
    assert error["Error"] == "StepFunctions.ExecutionAlreadyExistsException"


def test_unknown_parameters_are_refused(api):
    child = api.create(CHILD, prefix="child")
    definition = parent("startExecution", child)
    definition["States"]["Call"]["Parameters"]["TraceHeader"] = "x"
    execution = api.start(api.create(definition, prefix="parent"), {"n": 9})
    d = api.wait(execution)
    assert (d["status"], d["error"]) == ("FAILED", "States.Runtime")
    assert d["cause"].startswith("The field 'TraceHeader' is not supported by Step Functions")


def test_sync_children_in_a_map(api):
    child = api.create(CHILD, prefix="child")
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"n.$": "$$.Map.Item.Value"},
                "ItemProcessor": parent("startExecution.sync:2", child, result_path=None),
                "ResultSelector": {"outputs.$": "$[*].Output.child"},
                "End": True,
            }
        },
    }
    execution = api.start(api.create(definition, prefix="parent"), {"items": [1, 2, 3]})
    d = api.wait(execution, timeout=30)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"outputs": ["done", "done", "done"]}
