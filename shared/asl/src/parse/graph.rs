//! Reachability and termination of one block. Read from the raw JSON of its
//! states, so that a state with other problems still contributes its
//! transitions and does not make its successors look unreachable.

use std::collections::HashMap;

use serde_json::Value;

use super::fields::Errors;
use crate::error::{ValidationCode, ValidationError};

/// One state of the block, as written.
pub(super) struct RawState<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its JSON.
    pub value: &'a Value,
    /// Its pointer.
    pub ptr: String,
}

/// The names a state may transition to, and whether it may end the block.
/// A state whose transition is broken (no `Next` where one is needed; the
/// error is reported elsewhere) counts as ending the block, so that one
/// mistake is not reported twice.
fn successors(value: &Value) -> (Vec<&str>, bool) {
    let mut names = Vec::new();
    for key in ["Next", "Default"] {
        if let Some(name) = value.get(key).and_then(Value::as_str) {
            names.push(name);
        }
    }
    for list in ["Choices", "Catch"] {
        let entries = value.get(list).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        names.extend(entries.iter().filter_map(|e| e.get("Next").and_then(Value::as_str)));
    }
    let ends = match value.get("Type").and_then(Value::as_str) {
        Some("Choice") => false,
        Some("Succeed" | "Fail") => true,
        _ => value.get("End") == Some(&Value::Bool(true)) || value.get("Next").and_then(Value::as_str).is_none(),
    };
    (names, ends)
}

/// Reports the states not reachable from `start` and a block with no
/// reachable terminal state. Skipped when `start` names no state of the block
/// (that error is reported elsewhere).
pub(super) fn check(states: &[RawState<'_>], start: &str, states_ptr: &str, errs: &mut Errors) {
    let index: HashMap<&str, usize> = states.iter().enumerate().map(|(i, s)| (s.name, i)).collect();
    let Some(&first) = index.get(start) else {
        return;
    };
    let mut seen = vec![false; states.len()];
    let mut ends = false;
    let mut stack = vec![first];
    seen[first] = true;
    while let Some(at) = stack.pop() {
        let (next, terminal) = successors(states[at].value);
        ends |= terminal;
        for name in next {
            match index.get(name) {
                Some(&to) if !seen[to] => {
                    seen[to] = true;
                    stack.push(to);
                }
                Some(_) => {}
                // A missing target (reported elsewhere) might have been a way out.
                None => ends = true,
            }
        }
    }
    for (state, reached) in states.iter().zip(&seen) {
        if !reached {
            errs.push(ValidationError::new(
                ValidationCode::UnreachableState,
                state.ptr.clone(),
                format!("State '{}' is not reachable", state.name),
            ));
        }
    }
    if !ends {
        errs.push(ValidationError::new(
            ValidationCode::NoTerminalState,
            states_ptr,
            "No terminal state: no path from 'StartAt' reaches a state with 'End': true, \
             a Succeed state or a Fail state",
        ));
    }
}
