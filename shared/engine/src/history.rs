//! History events with Step Functions' event types and detail fields, and
//! their rendering in the GetExecutionHistory shape.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The causal predecessor of an event (`previousEventId`), as seen from the
/// run that recorded it. Runs number their events on their own; the store
/// that merges the logs of an execution resolves these to merged ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Prev {
    /// `previousEventId: 0`.
    #[default]
    None,
    /// An earlier event of the same run.
    Local(u64),
    /// An event of the parent run.
    Parent(u64),
    /// An event of a sibling: another child of the same parent and generation.
    Sibling {
        /// The sibling's index.
        index: u32,
        /// The event's id in the sibling's numbering.
        id: u64,
    },
    /// An event of a child run (`<this run>/<generation>.<index>`).
    Child {
        /// The step of this run that started the child.
        generation: u64,
        /// The child's index.
        index: u32,
        /// The event's id in the child's numbering.
        id: u64,
    },
}

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// The event's id in its run's numbering.
    pub id: u64,
    /// Its causal predecessor.
    pub previous: Prev,
    /// When it happened (ms since epoch).
    pub timestamp_ms: i64,
    /// Its type and details.
    pub details: EventDetails,
}

/// A state type, as the prefix of its event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateType {
    /// `Task`.
    Task,
    /// `Pass`.
    Pass,
    /// `Choice`.
    Choice,
    /// `Wait`.
    Wait,
    /// `Succeed`.
    Succeed,
    /// `Fail`.
    Fail,
    /// `Parallel`.
    Parallel,
    /// `Map`.
    Map,
}

impl StateType {
    /// The type of a definition's state.
    pub fn of(kind: &asl::StateKind) -> StateType {
        use asl::StateKind as K;
        match kind {
            K::Task(_) => StateType::Task,
            K::Pass(_) => StateType::Pass,
            K::Choice(_) => StateType::Choice,
            K::Wait(_) => StateType::Wait,
            K::Succeed => StateType::Succeed,
            K::Fail(_) => StateType::Fail,
            K::Parallel(_) => StateType::Parallel,
            K::Map(_) => StateType::Map,
        }
    }

    /// `Task`, `Pass`, …
    pub fn as_str(self) -> &'static str {
        match self {
            StateType::Task => "Task",
            StateType::Pass => "Pass",
            StateType::Choice => "Choice",
            StateType::Wait => "Wait",
            StateType::Succeed => "Succeed",
            StateType::Fail => "Fail",
            StateType::Parallel => "Parallel",
            StateType::Map => "Map",
        }
    }
}

/// The fields of a state's Entered/Exited/Aborted event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateRef {
    /// The state type (prefix of the event type).
    pub state_type: StateType,
    /// The state's name.
    pub name: String,
}

/// The resource fields of Task events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRef {
    /// `resourceType`: `lambda`, `aws-sdk:dynamodb`, …
    pub resource_type: String,
    /// `resource`: `invoke`, `putItem.waitForTaskToken`, …
    pub resource: String,
}

/// An event's type and details. Payloads (`input`, `output`, `parameters`)
/// are JSON text, as Step Functions records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EventDetails {
    /// `ExecutionStarted`.
    ExecutionStarted {
        /// The execution input.
        input: String,
        /// The execution role.
        role_arn: String,
    },
    /// `ExecutionSucceeded`.
    ExecutionSucceeded {
        /// The execution output.
        output: String,
    },
    /// `ExecutionFailed`.
    ExecutionFailed {
        /// Error name.
        error: String,
        /// Cause.
        cause: String,
    },
    /// `ExecutionAborted`.
    ExecutionAborted {
        /// Error given to StopExecution.
        error: Option<String>,
        /// Cause given to StopExecution.
        cause: Option<String>,
    },
    /// `ExecutionRedriven`: a FAILED, TIMED_OUT or ABORTED execution runs again from the state that ended it.
    ExecutionRedriven {
        /// How many times the execution has been redriven, this time included.
        redrive_count: u32,
    },
    /// `ExecutionTimedOut`.
    ExecutionTimedOut {
        /// Error name (`States.Timeout`).
        error: String,
        /// Cause.
        cause: String,
    },
    /// `<Type>StateEntered`.
    StateEntered {
        /// The state.
        state: StateRef,
        /// The state input.
        input: String,
    },
    /// `<Type>StateExited`.
    StateExited {
        /// The state.
        state: StateRef,
        /// The state output.
        output: String,
    },
    /// `<Type>StateAborted` (Task, Wait, Parallel, Map).
    StateAborted {
        /// The state.
        state: StateRef,
    },
    /// `ParallelStateStarted`.
    ParallelStateStarted,
    /// `ParallelStateSucceeded`.
    ParallelStateSucceeded,
    /// `ParallelStateFailed`.
    ParallelStateFailed,
    /// `MapStateStarted`.
    MapStateStarted {
        /// Number of items.
        length: u64,
    },
    /// `MapStateSucceeded`.
    MapStateSucceeded,
    /// `MapStateFailed`.
    MapStateFailed,
    /// `MapIterationStarted`.
    MapIterationStarted {
        /// The Map state's name.
        name: String,
        /// The item index.
        index: u32,
    },
    /// `MapIterationSucceeded`.
    MapIterationSucceeded {
        /// The Map state's name.
        name: String,
        /// The item index.
        index: u32,
    },
    /// `MapIterationFailed`.
    MapIterationFailed {
        /// The Map state's name.
        name: String,
        /// The item index.
        index: u32,
    },
    /// `MapIterationAborted`.
    MapIterationAborted {
        /// The Map state's name.
        name: String,
        /// The item index.
        index: u32,
    },
    /// `TaskScheduled`.
    TaskScheduled {
        /// The resource.
        task: TaskRef,
        /// The execution's region.
        region: String,
        /// The task input (after Parameters), JSON text.
        parameters: String,
        /// `TimeoutSeconds`, when set.
        timeout_in_seconds: Option<u64>,
        /// `HeartbeatSeconds`, when set.
        heartbeat_in_seconds: Option<u64>,
    },
    /// `TaskStarted`.
    TaskStarted {
        /// The resource.
        task: TaskRef,
    },
    /// `TaskSubmitted`.
    TaskSubmitted {
        /// The resource.
        task: TaskRef,
        /// The submit response.
        output: String,
    },
    /// `TaskSucceeded`.
    TaskSucceeded {
        /// The resource.
        task: TaskRef,
        /// The task result.
        output: String,
    },
    /// `TaskFailed`.
    TaskFailed {
        /// The resource.
        task: TaskRef,
        /// Error name.
        error: String,
        /// Cause.
        cause: String,
    },
    /// `TaskTimedOut`.
    TaskTimedOut {
        /// The resource.
        task: TaskRef,
        /// Error name.
        error: String,
        /// Cause.
        cause: String,
    },
    /// `LambdaFunctionScheduled` (a Task whose Resource is a function ARN).
    LambdaFunctionScheduled {
        /// The function ARN.
        resource: String,
        /// The function input, JSON text.
        input: String,
        /// `TimeoutSeconds`, when set.
        timeout_in_seconds: Option<u64>,
    },
    /// `LambdaFunctionStarted`.
    LambdaFunctionStarted,
    /// `LambdaFunctionSucceeded`.
    LambdaFunctionSucceeded {
        /// The function's result.
        output: String,
    },
    /// `LambdaFunctionFailed`.
    LambdaFunctionFailed {
        /// Error name.
        error: String,
        /// Cause.
        cause: String,
    },
    /// `LambdaFunctionTimedOut`.
    LambdaFunctionTimedOut {
        /// Error name.
        error: String,
        /// Cause.
        cause: String,
    },
}

impl EventDetails {
    /// The event type as Step Functions names it (`PassStateEntered`, `TaskScheduled`, …).
    pub fn type_name(&self) -> String {
        use EventDetails::*;
        let fixed = match self {
            StateEntered { state, .. } => {
                return format!("{}StateEntered", state.state_type.as_str());
            }
            StateExited { state, .. } => {
                return format!("{}StateExited", state.state_type.as_str());
            }
            StateAborted { state } => return format!("{}StateAborted", state.state_type.as_str()),
            ExecutionStarted { .. } => "ExecutionStarted",
            ExecutionSucceeded { .. } => "ExecutionSucceeded",
            ExecutionFailed { .. } => "ExecutionFailed",
            ExecutionAborted { .. } => "ExecutionAborted",
            ExecutionTimedOut { .. } => "ExecutionTimedOut",
            ExecutionRedriven { .. } => "ExecutionRedriven",
            ParallelStateStarted => "ParallelStateStarted",
            ParallelStateSucceeded => "ParallelStateSucceeded",
            ParallelStateFailed => "ParallelStateFailed",
            MapStateStarted { .. } => "MapStateStarted",
            MapStateSucceeded => "MapStateSucceeded",
            MapStateFailed => "MapStateFailed",
            MapIterationStarted { .. } => "MapIterationStarted",
            MapIterationSucceeded { .. } => "MapIterationSucceeded",
            MapIterationFailed { .. } => "MapIterationFailed",
            MapIterationAborted { .. } => "MapIterationAborted",
            TaskScheduled { .. } => "TaskScheduled",
            TaskStarted { .. } => "TaskStarted",
            TaskSubmitted { .. } => "TaskSubmitted",
            TaskSucceeded { .. } => "TaskSucceeded",
            TaskFailed { .. } => "TaskFailed",
            TaskTimedOut { .. } => "TaskTimedOut",
            LambdaFunctionScheduled { .. } => "LambdaFunctionScheduled",
            LambdaFunctionStarted => "LambdaFunctionStarted",
            LambdaFunctionSucceeded { .. } => "LambdaFunctionSucceeded",
            LambdaFunctionFailed { .. } => "LambdaFunctionFailed",
            LambdaFunctionTimedOut { .. } => "LambdaFunctionTimedOut",
        };
        fixed.to_string()
    }

    /// The state name for Entered/Exited/Aborted events.
    pub fn state_name(&self) -> Option<&str> {
        match self {
            EventDetails::StateEntered { state, .. }
            | EventDetails::StateExited { state, .. }
            | EventDetails::StateAborted { state } => Some(&state.name),
            _ => None,
        }
    }

    /// The `<x>EventDetails` member name and its value in the
    /// GetExecutionHistory shape; `None` for events without details.
    /// `include_data` false drops payloads, as `includeExecutionData=false` does.
    pub fn aws_details(&self, include_data: bool) -> Option<(&'static str, Value)> {
        use EventDetails::*;
        let mut m = Map::new();
        let payload = |m: &mut Map<String, Value>, key: &str, text: &str| {
            if include_data {
                m.insert(key.to_string(), Value::String(text.to_string()));
                m.insert(format!("{key}Details"), json!({"truncated": false}));
            }
        };
        let task = |m: &mut Map<String, Value>, t: &TaskRef| {
            m.insert("resourceType".into(), Value::String(t.resource_type.clone()));
            m.insert("resource".into(), Value::String(t.resource.clone()));
        };
        let error_cause = |m: &mut Map<String, Value>, error: &str, cause: &str| {
            m.insert("error".into(), Value::String(error.to_string()));
            m.insert("cause".into(), Value::String(cause.to_string()));
        };
        let key = match self {
            ExecutionStarted { input, role_arn } => {
                payload(&mut m, "input", input);
                m.insert("roleArn".into(), Value::String(role_arn.clone()));
                "executionStartedEventDetails"
            }
            ExecutionSucceeded { output } => {
                payload(&mut m, "output", output);
                "executionSucceededEventDetails"
            }
            ExecutionFailed { error, cause } => {
                // A Fail state without Error/Cause records neither field.
                if !error.is_empty() {
                    m.insert("error".into(), Value::String(error.clone()));
                }
                if !cause.is_empty() {
                    m.insert("cause".into(), Value::String(cause.clone()));
                }
                "executionFailedEventDetails"
            }
            ExecutionAborted { error, cause } => {
                if let Some(e) = error {
                    m.insert("error".into(), Value::String(e.clone()));
                }
                if let Some(c) = cause {
                    m.insert("cause".into(), Value::String(c.clone()));
                }
                "executionAbortedEventDetails"
            }
            ExecutionTimedOut { error, cause } => {
                error_cause(&mut m, error, cause);
                "executionTimedOutEventDetails"
            }
            ExecutionRedriven { redrive_count } => {
                m.insert("redriveCount".into(), Value::from(*redrive_count));
                "executionRedrivenEventDetails"
            }
            StateEntered { state, input } => {
                m.insert("name".into(), Value::String(state.name.clone()));
                payload(&mut m, "input", input);
                "stateEnteredEventDetails"
            }
            StateExited { state, output } => {
                m.insert("name".into(), Value::String(state.name.clone()));
                payload(&mut m, "output", output);
                "stateExitedEventDetails"
            }
            MapStateStarted { length } => {
                m.insert("length".into(), Value::from(*length));
                "mapStateStartedEventDetails"
            }
            MapIterationStarted { name, index } => {
                return Some(("mapIterationStartedEventDetails", iteration(name, *index)));
            }
            MapIterationSucceeded { name, index } => {
                return Some(("mapIterationSucceededEventDetails", iteration(name, *index)));
            }
            MapIterationFailed { name, index } => {
                return Some(("mapIterationFailedEventDetails", iteration(name, *index)));
            }
            MapIterationAborted { name, index } => {
                return Some(("mapIterationAbortedEventDetails", iteration(name, *index)));
            }
            TaskScheduled { task: t, region, parameters, timeout_in_seconds, heartbeat_in_seconds } => {
                task(&mut m, t);
                m.insert("region".into(), Value::String(region.clone()));
                if include_data {
                    m.insert("parameters".into(), Value::String(parameters.clone()));
                }
                if let Some(s) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), Value::from(*s));
                }
                if let Some(s) = heartbeat_in_seconds {
                    m.insert("heartbeatInSeconds".into(), Value::from(*s));
                }
                "taskScheduledEventDetails"
            }
            TaskStarted { task: t } => {
                task(&mut m, t);
                "taskStartedEventDetails"
            }
            TaskSubmitted { task: t, output } => {
                task(&mut m, t);
                payload(&mut m, "output", output);
                "taskSubmittedEventDetails"
            }
            TaskSucceeded { task: t, output } => {
                task(&mut m, t);
                payload(&mut m, "output", output);
                "taskSucceededEventDetails"
            }
            TaskFailed { task: t, error, cause } => {
                task(&mut m, t);
                error_cause(&mut m, error, cause);
                "taskFailedEventDetails"
            }
            TaskTimedOut { task: t, error, cause } => {
                task(&mut m, t);
                error_cause(&mut m, error, cause);
                "taskTimedOutEventDetails"
            }
            LambdaFunctionScheduled { resource, input, timeout_in_seconds } => {
                m.insert("resource".into(), Value::String(resource.clone()));
                payload(&mut m, "input", input);
                if let Some(s) = timeout_in_seconds {
                    m.insert("timeoutInSeconds".into(), Value::from(*s));
                }
                "lambdaFunctionScheduledEventDetails"
            }
            LambdaFunctionSucceeded { output } => {
                payload(&mut m, "output", output);
                "lambdaFunctionSucceededEventDetails"
            }
            LambdaFunctionFailed { error, cause } => {
                error_cause(&mut m, error, cause);
                "lambdaFunctionFailedEventDetails"
            }
            LambdaFunctionTimedOut { error, cause } => {
                error_cause(&mut m, error, cause);
                "lambdaFunctionTimedOutEventDetails"
            }
            StateAborted { .. }
            | ParallelStateStarted
            | ParallelStateSucceeded
            | ParallelStateFailed
            | MapStateSucceeded
            | MapStateFailed
            | LambdaFunctionStarted => return None,
        };
        Some((key, Value::Object(m)))
    }
}

fn iteration(name: &str, index: u32) -> Value {
    json!({"name": name, "index": index})
}

impl HistoryEvent {
    /// Renders the event as GetExecutionHistory returns it, with ids already
    /// resolved to the merged history. `timestamp` is whatever the caller's
    /// protocol wants (epoch seconds for the API, ISO text for the CLI).
    pub fn to_aws_json(&self, id: u64, previous_event_id: u64, timestamp: Value, include_data: bool) -> Value {
        let mut m = Map::new();
        m.insert("timestamp".into(), timestamp);
        m.insert("type".into(), Value::String(self.details.type_name()));
        m.insert("id".into(), Value::from(id));
        m.insert("previousEventId".into(), Value::from(previous_event_id));
        if let Some((key, details)) = self.details.aws_details(include_data) {
            m.insert(key.into(), details);
        }
        Value::Object(m)
    }
}
