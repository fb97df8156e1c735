//! What evaluating a path, template or intrinsic needs from its caller: the
//! data it reads and a source of randomness (kept outside so the engine stays
//! deterministic and replayable).

use serde_json::Value;

/// A source of random bits, injected by the caller (`States.UUID`, `States.MathRandom`).
pub trait Entropy {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// The data an expression is evaluated against.
pub struct Env<'a> {
    /// What `$` refers to.
    pub input: &'a Value,
    /// What `$$` refers to: the context object (`Value::Null` when the
    /// expression does not use it, see `uses_context` on compiled expressions).
    pub context: &'a Value,
    /// Randomness for `States.UUID` and `States.MathRandom`.
    pub entropy: &'a mut dyn Entropy,
}

/// The JSON type of a value, as messages name it (`null`, `boolean`, `number`, `string`, `array`, `object`).
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
