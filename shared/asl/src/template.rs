//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`,
//! `Credentials`): JSON whose keys ending in `.$` take a path or an intrinsic
//! function, at any depth of objects and arrays.

use serde_json::Value;

use crate::error::{Failure, ValidationError};
use crate::eval::Env;
use crate::intrinsic::Intrinsic;
use crate::path::Path;

/// The value of a `.$` field (and of `ErrorPath`/`CausePath`): a path or an intrinsic call.
#[derive(Debug, Clone)]
pub enum Expr {
    /// `$…` or `$$…`.
    Path(Path),
    /// `States.…(…)`.
    Intrinsic(Intrinsic),
}

impl Expr {
    /// Parses a path (`$…`, `$$…`) or an intrinsic call (`States.…`).
    pub fn parse(text: &str) -> Result<Expr, String> {
        let _ = text;
        unimplemented!()
    }

    /// True when it reads the context object.
    pub fn uses_context(&self) -> bool {
        match self {
            Expr::Path(p) => p.uses_context(),
            Expr::Intrinsic(i) => i.uses_context(),
        }
    }

    /// Evaluates it; `field` is the template key (e.g. `value.$`) used in error causes.
    pub fn evaluate(&self, field: &str, env: &mut Env<'_>) -> Result<Value, Failure> {
        let _ = (field, env);
        unimplemented!()
    }
}

/// A compiled payload template.
#[derive(Debug, Clone)]
pub struct Template {
    uses_context: bool,
}

impl Template {
    /// Compiles the template found at `pointer` in the definition; every bad
    /// `.$` value is reported with its own pointer.
    pub fn compile(value: &Value, pointer: &str) -> Result<Template, Vec<ValidationError>> {
        let _ = (value, pointer);
        unimplemented!()
    }

    /// True when some `.$` value reads the context object.
    pub fn uses_context(&self) -> bool {
        self.uses_context
    }

    /// Builds the payload. A path that selects nothing fails with
    /// `States.Runtime` ("The JSONPath '$.x' specified for the field 'x.$'
    /// could not be found in the input '…'"); an intrinsic's failure is
    /// `States.IntrinsicFailure`.
    pub fn evaluate(&self, env: &mut Env<'_>) -> Result<Value, Failure> {
        let _ = env;
        unimplemented!()
    }
}
