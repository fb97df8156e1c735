//! `Type: Map`: its processor (`ItemProcessor` or the legacy `Iterator`), its
//! mode, and the fields only DISTRIBUTED mode allows.

use serde_json::Value;

use super::block::{BlockKind, Ctx, Parser, Scope};
use super::fields::{Errors, Obj, both, required};
use super::paths::{integer_field, reference, result_path, template};
use super::{recovery, state};
use crate::definition::{BlockId, MapMode, MapState, NumberField};
use crate::error::ValidationError;
use crate::path::Path;
use crate::template::Template;

/// Fields a Map state may only have in DISTRIBUTED mode.
const DISTRIBUTED_ONLY: [&str; 5] = [
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "Label",
];

/// Characters a `Label` may not contain (besides whitespace and control characters).
const LABEL_FORBIDDEN: &str = "?*<>{}[]:;,\\|^~$#%&`\"";

/// Parses the Map-specific fields of `obj`, and its processor.
pub(super) fn parse<'a>(p: &mut Parser<'a>, obj: &Obj<'a>, scope: &Scope<'_>, ctx: Ctx) -> Option<MapState> {
    let mode = mode(obj, &mut p.errors);
    let processor = processor(p, obj, mode, ctx);
    let errs = &mut p.errors;
    let items_path = items_path(obj, errs);
    let item_selector = item_selector(obj, errs);
    let max_concurrency = integer_field(obj, "MaxConcurrency", "MaxConcurrencyPath", 0..=u64::MAX, errs);
    let distributed = distributed_fields(obj, mode, errs);
    let result_selector = template(obj, "ResultSelector", errs);
    let result_path = result_path(obj, "ResultPath", errs);
    let retry = recovery::retriers(obj, errs);
    let catch = recovery::catchers(obj, scope, errs);
    let next = state::next(obj, scope, errs);
    Some(MapState {
        items_path,
        item_selector,
        processor: processor?,
        mode: mode?,
        max_concurrency: max_concurrency.unwrap_or(NumberField::Literal(0)),
        tolerated_failure_count: distributed.count,
        tolerated_failure_percentage: distributed.percentage,
        label: distributed.label,
        result_selector,
        result_path,
        retry,
        catch,
        next: next?,
    })
}

/// `ItemsPath`: a reference path; `"$"` (like absence) means the whole input.
fn items_path(obj: &Obj<'_>, errs: &mut Errors) -> Option<Path> {
    match obj.get("ItemsPath") {
        Some(Value::String(text)) if text == "$" => None,
        _ => reference(obj, "ItemsPath", errs),
    }
}

/// `ItemSelector`, or its legacy synonym `Parameters`.
fn item_selector(obj: &Obj<'_>, errs: &mut Errors) -> Option<Template> {
    if obj.exclusive("ItemSelector", "Parameters", errs) {
        return None;
    }
    let key = if obj.has("Parameters") { "Parameters" } else { "ItemSelector" };
    template(obj, key, errs)
}

/// The processor's mode, from `ItemProcessor.ProcessorConfig` (INLINE when
/// absent, and for the legacy `Iterator`). `None` when the config is invalid.
fn mode(obj: &Obj<'_>, errs: &mut Errors) -> Option<MapMode> {
    let Some(Value::Object(processor)) = obj.get("ItemProcessor") else {
        return Some(MapMode::Inline);
    };
    let processor = Obj::new(processor, obj.at("ItemProcessor"));
    if !processor.has("ProcessorConfig") {
        return Some(MapMode::Inline);
    }
    let config = processor.object("ProcessorConfig", errs)?;
    config.check_fields(&["Mode", "ExecutionType"], &[], errs);
    let has_mode = config.has("Mode");
    let mode = config.enum_string("Mode", &["INLINE", "DISTRIBUTED"], errs);
    let execution = config.enum_string("ExecutionType", &["STANDARD", "EXPRESS"], errs);
    match (has_mode, mode) {
        (false, _) | (true, Some("INLINE")) => {
            if config.has("ExecutionType") {
                errs.push(only_distributed(&config, "ExecutionType"));
                return None;
            }
            Some(MapMode::Inline)
        }
        (true, Some(_)) => {
            if !config.has("ExecutionType") {
                errs.push(required(&config.ptr, "ExecutionType"));
            }
            Some(MapMode::Distributed { express: execution? == "EXPRESS" })
        }
        (true, None) => None,
    }
}

fn only_distributed(obj: &Obj<'_>, key: &str) -> ValidationError {
    ValidationError::schema(obj.at(key), format!("Field '{key}' is only supported in DISTRIBUTED mode"))
}

/// `ItemProcessor` or the legacy `Iterator`: exactly one, an object, parsed as a block.
fn processor<'a>(p: &mut Parser<'a>, obj: &Obj<'a>, mode: Option<MapMode>, ctx: Ctx) -> Option<BlockId> {
    let errs = &mut p.errors;
    let (key, kind) = match (obj.has("ItemProcessor"), obj.has("Iterator")) {
        (true, true) => {
            errs.push(both(&obj.ptr, "ItemProcessor", "Iterator"));
            return None;
        }
        (true, false) => ("ItemProcessor", BlockKind::Processor),
        (false, true) => ("Iterator", BlockKind::Iterator),
        (false, false) => {
            errs.push(required(&obj.ptr, "ItemProcessor"));
            return None;
        }
    };
    let block = obj.object(key, errs)?;
    let express = match mode {
        Some(MapMode::Distributed { express }) => express,
        _ => ctx.express,
    };
    Some(p.block(&block, kind, Ctx { express }))
}

/// The fields only DISTRIBUTED mode allows.
#[derive(Default)]
struct Distributed {
    count: Option<NumberField<u64>>,
    percentage: Option<NumberField<f64>>,
    label: Option<String>,
}

fn distributed_fields(obj: &Obj<'_>, mode: Option<MapMode>, errs: &mut Errors) -> Distributed {
    match mode {
        Some(MapMode::Distributed { .. }) => {}
        Some(MapMode::Inline) => {
            for key in DISTRIBUTED_ONLY.into_iter().filter(|k| obj.has(k)) {
                errs.push(only_distributed(obj, key));
            }
            return Distributed::default();
        }
        // The mode is invalid (already reported): nothing sensible to check.
        None => return Distributed::default(),
    }
    let count = integer_field(obj, "ToleratedFailureCount", "ToleratedFailureCountPath", 0..=u64::MAX, errs);
    let percentage = percentage(obj, errs);
    let label = obj.string("Label", errs).filter(|label| check_label(obj, label, errs));
    Distributed { count, percentage, label: label.map(str::to_owned) }
}

/// `ToleratedFailurePercentage` (0–100) or `ToleratedFailurePercentagePath`.
fn percentage(obj: &Obj<'_>, errs: &mut Errors) -> Option<NumberField<f64>> {
    let (key, path_key) = ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath");
    if obj.exclusive(key, path_key, errs) {
        return None;
    }
    if obj.has(key) {
        return obj.number(key, 0.0, 100.0, errs).map(NumberField::Literal);
    }
    reference(obj, path_key, errs).map(NumberField::Path)
}

/// A `Label`: 1–40 characters, none of them whitespace, control or forbidden punctuation.
fn check_label(obj: &Obj<'_>, label: &str, errs: &mut Errors) -> bool {
    let message = if label.is_empty() {
        "Label cannot be empty"
    } else if label.chars().count() > 40 {
        "Label cannot exceed 40 characters"
    } else if label.chars().any(|c| c.is_whitespace() || c.is_control() || LABEL_FORBIDDEN.contains(c)) {
        "Label contains invalid character"
    } else {
        return true;
    };
    errs.push(ValidationError::schema(obj.at("Label"), message));
    false
}
