//! Choice rules: every comparison operator (String/Numeric/Boolean/Timestamp
//! × Equals/LessThan/GreaterThan/LessThanEquals/GreaterThanEquals, their
//! `…Path` twins, StringMatches, the Is* type tests) and And/Or/Not.

use serde_json::Value;

use crate::error::{Failure, ValidationError};

/// A compiled Choice rule (without its `Next`, which the definition holds).
#[derive(Debug, Clone)]
pub struct Rule {
    uses_context: bool,
}

impl Rule {
    /// Compiles the rule object at `pointer`. `top_level` rules (entries of
    /// `Choices`) carry a `Next`, which is accepted here and read by the caller;
    /// nested rules (inside And/Or/Not) must not have one.
    pub fn compile(value: &Value, pointer: &str, top_level: bool) -> Result<Rule, Vec<ValidationError>> {
        let _ = (value, pointer, top_level);
        unimplemented!()
    }

    /// True when some path of the rule reads the context object.
    pub fn uses_context(&self) -> bool {
        self.uses_context
    }

    /// Evaluates the rule. Comparisons of the wrong type are false; a
    /// `Variable` (or `…Path` operand) that selects nothing fails with
    /// `States.Runtime`, except under `IsPresent`.
    pub fn evaluate(&self, input: &Value, context: &Value) -> Result<bool, Failure> {
        let _ = (input, context);
        unimplemented!()
    }
}
