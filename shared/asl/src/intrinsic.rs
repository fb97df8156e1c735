//! Intrinsic functions (`States.Format`, `States.MathAdd`, …): parsing of the
//! call syntax (nested calls, quoted strings with `\'`, `\{`, `\}`, `\\`
//! escapes, path and literal arguments) and evaluation with Step Functions'
//! exact semantics. Misuse fails with `States.IntrinsicFailure`.

use serde_json::Value;

use crate::error::Failure;
use crate::eval::Env;

/// A parsed intrinsic function call.
#[derive(Debug, Clone)]
pub struct Intrinsic {
    text: String,
}

impl Intrinsic {
    /// Parses a call such as `States.Format('{} items', $.count)`; the error
    /// says what is wrong (unknown function, wrong argument count or type where
    /// it is known statically, bad syntax).
    pub fn parse(text: &str) -> Result<Intrinsic, String> {
        let _ = text;
        unimplemented!()
    }

    /// The call as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when an argument reads the context object (`$$…`).
    pub fn uses_context(&self) -> bool {
        unimplemented!()
    }

    /// Evaluates the call.
    pub fn evaluate(&self, env: &mut Env<'_>) -> Result<Value, Failure> {
        let _ = env;
        unimplemented!()
    }
}
