//! DescribeExecution and GetExecutionHistory shapes, for the CLI and the API.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::store::{ExecutionRecord, RecordedEvent};

/// How timestamps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamps {
    /// Epoch seconds as a number (the JSON wire protocol).
    EpochSeconds,
    /// ISO 8601 text with microseconds, as the AWS CLI prints them
    /// (`2026-11-21T23:39:11.123000+00:00`).
    Iso,
}

/// A timestamp in the chosen style.
pub fn timestamp(ms: i64, style: Timestamps) -> Value {
    match style {
        Timestamps::EpochSeconds => {
            serde_json::Number::from_f64(ms as f64 / 1000.0).map(Value::Number).unwrap_or(Value::Null)
        }
        Timestamps::Iso => Value::String(iso(ms)),
    }
}

fn iso(ms: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        ),
        Err(_) => ms.to_string(),
    }
}

/// The DescribeExecution response for a record.
pub fn describe_execution(record: &ExecutionRecord, style: Timestamps) -> Value {
    let info = &record.info;
    let summary = &record.summary;
    let mut m = Map::new();
    m.insert("executionArn".into(), Value::String(info.execution_arn.clone()));
    m.insert("stateMachineArn".into(), Value::String(info.state_machine_arn.clone()));
    m.insert("name".into(), Value::String(info.name.clone()));
    m.insert("status".into(), Value::String(summary.status.as_str().to_string()));
    m.insert("startDate".into(), timestamp(info.start_time_ms, style));
    if let Some(stop) = summary.stop_time_ms {
        m.insert("stopDate".into(), timestamp(stop, style));
    }
    m.insert("input".into(), Value::String(info.input.to_string()));
    m.insert("inputDetails".into(), serde_json::json!({"included": true}));
    if let Some(output) = &summary.output {
        m.insert("output".into(), Value::String(output.clone()));
        m.insert("outputDetails".into(), serde_json::json!({"included": true}));
    }
    if let Some(error) = &summary.error {
        m.insert("error".into(), Value::String(error.clone()));
    }
    if let Some(cause) = &summary.cause {
        m.insert("cause".into(), Value::String(cause.clone()));
    }
    m.insert("redriveCount".into(), Value::from(summary.redrive_count));
    if let Some(date) = summary.redrive_date_ms {
        m.insert("redriveDate".into(), timestamp(date, style));
    }
    Value::Object(m)
}

/// What a `.sync` / `.sync:2` nested-execution Task receives when its child
/// closes: the child's DescribeExecution in the SDK's PascalCase shape, dates
/// in epoch milliseconds, `Input`/`Output` as JSON text (`.sync`) or parsed
/// (`.sync:2`). A child that did not succeed fails the task with
/// `States.TaskFailed` and that same object, as JSON text, for cause.
pub fn nested_result(record: &ExecutionRecord, parsed: bool) -> engine::TaskOutcome {
    let info = &record.info;
    let summary = &record.summary;
    let data = |text: String| -> Value {
        if parsed { serde_json::from_str(&text).unwrap_or(Value::String(text)) } else { Value::String(text) }
    };
    let succeeded = summary.status == engine::RunStatus::Succeeded;
    let mut m = Map::new();
    if let Some(cause) = &summary.cause {
        m.insert("Cause".into(), Value::String(cause.clone()));
    }
    if let Some(error) = &summary.error {
        m.insert("Error".into(), Value::String(error.clone()));
    }
    m.insert("ExecutionArn".into(), Value::String(info.execution_arn.clone()));
    m.insert("Input".into(), data(info.input.to_string()));
    m.insert("InputDetails".into(), serde_json::json!({"Included": true}));
    m.insert("Name".into(), Value::String(info.name.clone()));
    if let Some(output) = &summary.output {
        m.insert("Output".into(), data(output.clone()));
        m.insert("OutputDetails".into(), serde_json::json!({"Included": true}));
    }
    m.insert("RedriveCount".into(), Value::from(summary.redrive_count));
    if succeeded {
        m.insert("RedriveStatus".into(), Value::from("NOT_REDRIVABLE"));
        m.insert("RedriveStatusReason".into(), Value::from("Execution is SUCCEEDED and cannot be redriven"));
    } else {
        m.insert("RedriveStatus".into(), Value::from("REDRIVABLE"));
    }
    m.insert("StartDate".into(), Value::from(info.start_time_ms));
    m.insert("StateMachineArn".into(), Value::String(info.state_machine_arn.clone()));
    m.insert("Status".into(), Value::from(summary.status.as_str()));
    if let Some(stop) = summary.stop_time_ms {
        m.insert("StopDate".into(), Value::from(stop));
    }
    let described = Value::Object(m);
    if succeeded {
        engine::TaskOutcome::Succeeded(described)
    } else {
        engine::TaskOutcome::Failed(asl::Failure::new("States.TaskFailed", described.to_string()))
    }
}

/// One history event in the GetExecutionHistory shape.
pub fn history_event(event: &RecordedEvent, include_data: bool, style: Timestamps) -> Value {
    event.event.to_aws_json(event.id, event.previous_event_id, timestamp(event.event.timestamp_ms, style), include_data)
}

/// The GetExecutionHistory response for a whole history.
pub fn history(events: &[RecordedEvent], include_data: bool, style: Timestamps) -> Value {
    let list = events.iter().map(|e| history_event(e, include_data, style)).collect();
    let mut m = Map::new();
    m.insert("events".into(), Value::Array(list));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps_look_like_the_aws_cli() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(iso(1_795_304_351_123), "2026-11-21T23:39:11.123000+00:00");
        assert_eq!(timestamp(1500, Timestamps::EpochSeconds), serde_json::json!(1.5));
    }
}
