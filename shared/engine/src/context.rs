//! The context object (`$$`), built only for states whose fields read it.

use asl::timestamp::format_epoch_millis;
use serde_json::{Map, Value};

use crate::exec::ExecutionInfo;

/// What varies per state in the context object.
pub(crate) struct StateContext<'a> {
    pub name: &'a str,
    pub entered_time_ms: i64,
    /// `Some` for Task, Parallel and Map states (`$$.State.RetryCount`).
    pub retry_count: Option<u32>,
    /// `$$.Task.Token`.
    pub task_token: Option<&'a str>,
    /// `$$.Map.Item.Index` and `.Value`, inside a Map's ItemSelector.
    pub map_item: Option<(u32, &'a Value)>,
    /// `$$.Execution.RedriveCount` (a root run knows its redrives).
    pub redrive_count: u32,
}

/// Builds `{"Execution": …, "StateMachine": …, "State": …, "Task"?: …, "Map"?: …}`.
pub(crate) fn build(exec: &ExecutionInfo, state: &StateContext<'_>) -> Value {
    let mut execution = Map::new();
    execution.insert("Id".into(), Value::String(exec.execution_arn.clone()));
    execution.insert("Input".into(), exec.input.clone());
    execution.insert("StartTime".into(), Value::String(format_epoch_millis(exec.start_time_ms)));
    execution.insert("Name".into(), Value::String(exec.name.clone()));
    execution.insert("RoleArn".into(), Value::String(exec.role_arn.clone()));
    execution.insert("RedriveCount".into(), Value::from(state.redrive_count));

    let mut machine = Map::new();
    machine.insert("Id".into(), Value::String(exec.state_machine_arn.clone()));
    machine.insert("Name".into(), Value::String(exec.state_machine_name.clone()));

    let mut st = Map::new();
    st.insert("Name".into(), Value::String(state.name.to_string()));
    st.insert("EnteredTime".into(), Value::String(format_epoch_millis(state.entered_time_ms)));
    if let Some(n) = state.retry_count {
        st.insert("RetryCount".into(), Value::from(n));
    }

    let mut root = Map::new();
    root.insert("Execution".into(), Value::Object(execution));
    root.insert("StateMachine".into(), Value::Object(machine));
    root.insert("State".into(), Value::Object(st));
    if let Some(token) = state.task_token {
        let mut task = Map::new();
        task.insert("Token".into(), Value::String(token.to_string()));
        if let Some(base) = &exec.callback_base_url {
            task.insert(
                "CallbackUrl".into(),
                Value::String(format!("{}/callbacks/{token}", base.trim_end_matches('/'))),
            );
        }
        root.insert("Task".into(), Value::Object(task));
    }
    if let Some((index, value)) = state.map_item {
        let mut item = Map::new();
        item.insert("Index".into(), Value::from(index));
        item.insert("Value".into(), value.clone());
        let mut map = Map::new();
        map.insert("Item".into(), Value::Object(item));
        root.insert("Map".into(), Value::Object(map));
    }
    Value::Object(root)
}
