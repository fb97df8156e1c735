//! Intrinsic functions (`States.Format`, `States.MathAdd`, …): parsing of the
//! call syntax (nested calls, quoted strings with `\'`, `\{`, `\}`, `\\`
//! escapes, path and literal arguments) and evaluation with Step Functions'
//! exact semantics. Misuse fails with `States.IntrinsicFailure`.
//!
//! A call is parsed once per definition into a small tree ([`Intrinsic`]);
//! evaluation borrows literal and path arguments instead of cloning them, so
//! e.g. `States.ArrayLength($.items)` never copies the array.
//!
//! Argument types and counts that are known when the definition is parsed
//! (literal arguments, fixed arities, the number of `{}` in a literal
//! `States.Format` template) are checked then; everything else is checked at
//! run time and fails with `States.IntrinsicFailure`. A path argument that
//! selects nothing fails with `States.Runtime`, as a missing `.$` path does.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use sha2::Digest as _;

use crate::error::Failure;
use crate::eval::{Entropy, Env, type_name};
use crate::path::Path;

/// How deeply calls may nest, counting the outermost call (Step Functions: 10).
const MAX_NESTING: usize = 10;
/// Longest result `States.ArrayRange` may produce.
const MAX_RANGE_ITEMS: i128 = 1000;
/// Longest input (in characters) of `States.Hash`, `States.Base64Encode` and `States.Base64Decode`.
const MAX_DATA_CHARS: usize = 10_000;

/// A parsed intrinsic function call.
#[derive(Debug, Clone)]
pub struct Intrinsic {
    text: String,
    call: Call,
    uses_context: bool,
}

impl Intrinsic {
    /// Parses a call such as `States.Format('{} items', $.count)`; the error
    /// says what is wrong (unknown function, wrong argument count or type where
    /// it is known statically, bad syntax).
    pub fn parse(text: &str) -> Result<Intrinsic, String> {
        let mut parser = Parser { text, pos: 0 };
        parser.skip_ws();
        let call = parser.call(1)?;
        parser.skip_ws();
        if parser.pos < text.len() {
            return Err(parser.error("unexpected text after the closing ')'"));
        }
        let uses_context = call.uses_context();
        Ok(Intrinsic { text: text.to_owned(), call, uses_context })
    }

    /// The call as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when an argument reads the context object (`$$…`).
    pub fn uses_context(&self) -> bool {
        self.uses_context
    }

    /// Evaluates the call.
    pub fn evaluate(&self, env: &mut Env<'_>) -> Result<Value, Failure> {
        let input = env.input;
        let context = env.context;
        self.call.evaluate(input, context, &mut *env.entropy)
    }
}

// ---------------------------------------------------------------------------
// Syntax tree
// ---------------------------------------------------------------------------

/// One call: a function and its arguments (arity already checked).
#[derive(Debug, Clone)]
struct Call {
    func: Func,
    args: Vec<Arg>,
}

/// One argument of a call.
#[derive(Debug, Clone)]
enum Arg {
    /// A number, `true`, `false` or `null`.
    Literal(Value),
    /// A quoted string. `value` is always a `Value::String`; `holes` are the
    /// byte offsets of the unescaped `{}` pairs in it (placeholders when the
    /// string is a `States.Format` template).
    Str { value: Value, holes: Vec<usize> },
    /// `$…` or `$$…`.
    Path(Path),
    /// A nested call.
    Call(Box<Call>),
}

impl Call {
    fn uses_context(&self) -> bool {
        self.args.iter().any(|arg| match arg {
            Arg::Path(path) => path.uses_context(),
            Arg::Call(call) => call.uses_context(),
            Arg::Literal(_) | Arg::Str { .. } => false,
        })
    }
}

/// The supported functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

/// What an argument position accepts (for static and run-time checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Any,
    Str,
    Num,
    Bool,
    Array,
    Object,
    /// String, number, boolean or null (`States.Format` values).
    Scalar,
}

impl Ty {
    fn accepts(self, value: &Value) -> bool {
        match self {
            Ty::Any => true,
            Ty::Str => value.is_string(),
            Ty::Num => value.is_number(),
            Ty::Bool => value.is_boolean(),
            Ty::Array => value.is_array(),
            Ty::Object => value.is_object(),
            Ty::Scalar => !(value.is_array() || value.is_object()),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Ty::Any => "a value",
            Ty::Str => "a string",
            Ty::Num => "a number",
            Ty::Bool => "a boolean",
            Ty::Array => "an array",
            Ty::Object => "an object",
            Ty::Scalar => "a string, number, boolean or null",
        }
    }
}

impl Func {
    const ALL: [Func; 18] = [
        Func::Format,
        Func::StringToJson,
        Func::JsonToString,
        Func::Array,
        Func::ArrayPartition,
        Func::ArrayContains,
        Func::ArrayRange,
        Func::ArrayGetItem,
        Func::ArrayLength,
        Func::ArrayUnique,
        Func::Base64Encode,
        Func::Base64Decode,
        Func::Hash,
        Func::JsonMerge,
        Func::MathRandom,
        Func::MathAdd,
        Func::StringSplit,
        Func::Uuid,
    ];

    fn name(self) -> &'static str {
        match self {
            Func::Format => "States.Format",
            Func::StringToJson => "States.StringToJson",
            Func::JsonToString => "States.JsonToString",
            Func::Array => "States.Array",
            Func::ArrayPartition => "States.ArrayPartition",
            Func::ArrayContains => "States.ArrayContains",
            Func::ArrayRange => "States.ArrayRange",
            Func::ArrayGetItem => "States.ArrayGetItem",
            Func::ArrayLength => "States.ArrayLength",
            Func::ArrayUnique => "States.ArrayUnique",
            Func::Base64Encode => "States.Base64Encode",
            Func::Base64Decode => "States.Base64Decode",
            Func::Hash => "States.Hash",
            Func::JsonMerge => "States.JsonMerge",
            Func::MathRandom => "States.MathRandom",
            Func::MathAdd => "States.MathAdd",
            Func::StringSplit => "States.StringSplit",
            Func::Uuid => "States.UUID",
        }
    }

    fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Minimum and maximum (`None`: unbounded) number of arguments.
    fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::Format => (1, None),
            Func::Array => (0, None),
            Func::Uuid => (0, Some(0)),
            Func::StringToJson
            | Func::JsonToString
            | Func::ArrayLength
            | Func::ArrayUnique
            | Func::Base64Encode
            | Func::Base64Decode => (1, Some(1)),
            Func::ArrayPartition
            | Func::ArrayContains
            | Func::ArrayGetItem
            | Func::Hash
            | Func::MathAdd
            | Func::StringSplit => (2, Some(2)),
            Func::ArrayRange | Func::JsonMerge => (3, Some(3)),
            Func::MathRandom => (2, Some(3)),
        }
    }

    /// What the argument at `index` (0-based) accepts.
    fn param(self, index: usize) -> Ty {
        match (self, index) {
            (Func::Format, 0) => Ty::Str,
            (Func::Format, _) => Ty::Scalar,
            (Func::StringToJson | Func::Base64Encode | Func::Base64Decode, _) => Ty::Str,
            (Func::JsonToString | Func::Array | Func::Uuid, _) => Ty::Any,
            (Func::ArrayPartition | Func::ArrayGetItem, 0) => Ty::Array,
            (Func::ArrayPartition | Func::ArrayGetItem, _) => Ty::Num,
            (Func::ArrayContains, 0) => Ty::Array,
            (Func::ArrayContains, _) => Ty::Any,
            (Func::ArrayLength | Func::ArrayUnique, _) => Ty::Array,
            (Func::ArrayRange | Func::MathRandom | Func::MathAdd, _) => Ty::Num,
            (Func::Hash | Func::StringSplit, _) => Ty::Str,
            (Func::JsonMerge, 2) => Ty::Bool,
            (Func::JsonMerge, _) => Ty::Object,
        }
    }

    fn arity_text(self) -> String {
        match self.arity() {
            (min, Some(max)) if min == max => {
                format!("exactly {min} argument{}", if min == 1 { "" } else { "s" })
            }
            (min, Some(max)) => format!("{min} to {max} arguments"),
            (0, None) => "any number of arguments".to_owned(),
            (min, None) => format!("at least {min} argument{}", if min == 1 { "" } else { "s" }),
        }
    }
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> String {
        format!("{message} (at character {} of the intrinsic function '{}')", self.pos, self.text)
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// A word made of letters, digits, `_` and `.` (function names, keywords).
    fn word(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            self.bump();
        }
        &self.text[start..self.pos]
    }

    /// `States.Name(arg, …)`; `depth` counts the calls enclosing it, itself included.
    fn call(&mut self, depth: usize) -> Result<Call, String> {
        if depth > MAX_NESTING {
            return Err(self.error(&format!("intrinsic functions cannot be nested more than {MAX_NESTING} deep")));
        }
        let start = self.pos;
        let name = self.word().to_owned();
        if name.is_empty() {
            return Err(self.error("expected an intrinsic function call such as States.Format(…)"));
        }
        let func = Func::from_name(&name).ok_or_else(|| {
            self.pos = start;
            self.error(&format!("'{name}' is not a supported intrinsic function"))
        })?;
        self.skip_ws();
        if self.bump() != Some('(') {
            return Err(self.error(&format!("expected '(' after {name}")));
        }
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                self.skip_ws();
                args.push(self.arg(func, depth)?);
                self.skip_ws();
                match self.bump() {
                    Some(',') => {}
                    Some(')') => break,
                    None => {
                        return Err(self.error(&format!("unbalanced parentheses: {name}( is never closed")));
                    }
                    Some(c) => {
                        return Err(self.error(&format!(
                            "unexpected '{c}' after argument {} of {name}; expected ',' or ')'",
                            args.len()
                        )));
                    }
                }
            }
        }
        let call = Call { func, args };
        check_static(&call).map_err(|message| {
            self.pos = start;
            self.error(&message)
        })?;
        Ok(call)
    }

    fn arg(&mut self, func: Func, depth: usize) -> Result<Arg, String> {
        match self.peek() {
            None => Err(self.error(&format!("unbalanced parentheses: {}( is never closed", func.name()))),
            Some(',' | ')') => Err(self.error(&format!("empty argument in {}", func.name()))),
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                let word = self.word();
                let literal = match word {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    "null" => Some(Value::Null),
                    _ => None,
                };
                let word = word.to_owned();
                match literal {
                    Some(value) if !matches!(self.peek(), Some('(')) => Ok(Arg::Literal(value)),
                    _ => {
                        let after = self.pos;
                        self.skip_ws();
                        if word.contains('.') || self.peek() == Some('(') {
                            self.pos = start;
                            Ok(Arg::Call(Box::new(self.call(depth + 1)?)))
                        } else {
                            self.pos = after;
                            Err(self.error(&format!(
                                "unexpected '{word}': string arguments must be quoted with single quotes"
                            )))
                        }
                    }
                }
            }
            Some(c) => Err(self.error(&format!("unexpected '{c}' where an argument was expected"))),
        }
    }

    /// `'…'` with escapes `\'`, `\{`, `\}`, `\\`.
    fn string(&mut self) -> Result<Arg, String> {
        self.bump(); // opening quote
        let mut value = String::new();
        let mut holes = Vec::new();
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated string literal: missing closing '")),
                Some('\'') => break,
                Some('\\') => match self.bump() {
                    Some(c @ ('\'' | '{' | '}' | '\\')) => value.push(c),
                    Some(c) => {
                        return Err(self.error(&format!(
                            "invalid escape '\\{c}' in a string literal; only \\', \\{{, \\}} and \\\\ are allowed"
                        )));
                    }
                    None => {
                        return Err(self.error("unterminated string literal: missing closing '"));
                    }
                },
                Some('{') if self.peek() == Some('}') => {
                    self.bump();
                    holes.push(value.len());
                    value.push_str("{}");
                }
                Some(c) => value.push(c),
            }
        }
        Ok(Arg::Str { value: Value::String(value), holes })
    }

    /// A JSON number: `-12`, `3.5`, `1e3`.
    fn number(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')) {
            self.bump();
        }
        let token = &self.text[start..self.pos];
        match serde_json::from_str::<Number>(token) {
            Ok(n) => Ok(Arg::Literal(Value::Number(n))),
            Err(_) => {
                self.pos = start;
                Err(self.error(&format!("'{token}' is not a valid number")))
            }
        }
    }

    /// `$…` or `$$…`, up to the next top-level `,`, `)` or whitespace
    /// (brackets, parentheses and quotes inside the path are skipped over).
    fn path(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        self.bump(); // `$`
        if self.peek() == Some('$') {
            self.bump();
        } else if self.peek().is_some_and(|c| c.is_alphabetic() || c == '_') {
            self.pos = start;
            return Err(self.error("workflow variables ($name) are not supported in intrinsic function arguments"));
        }
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                ',' | ')' if depth == 0 => break,
                c if depth == 0 && c.is_whitespace() => break,
                '[' | '(' => depth += 1,
                ']' | ')' => depth = depth.saturating_sub(1),
                '\'' | '"' => {
                    self.bump();
                    loop {
                        match self.bump() {
                            None => {
                                return Err(self.error("unterminated quoted name in a path argument"));
                            }
                            Some('\\') => {
                                self.bump();
                            }
                            Some(q) if q == c => break,
                            Some(_) => {}
                        }
                    }
                    continue;
                }
                _ => {}
            }
            self.bump();
        }
        if depth > 0 {
            return Err(self.error("unbalanced brackets in a path argument"));
        }
        let text = &self.text[start..self.pos];
        let path = Path::parse(text).map_err(|e| {
            let message = format!("invalid path argument '{text}': {e}");
            self.pos = start;
            self.error(&message)
        })?;
        Ok(Arg::Path(path))
    }
}

/// Checks what the parser can know: arity, literal argument types and the
/// placeholder count of a literal `States.Format` template.
fn check_static(call: &Call) -> Result<(), String> {
    let func = call.func;
    let count = call.args.len();
    let (min, max) = func.arity();
    if count < min || max.is_some_and(|max| count > max) {
        return Err(format!("{} takes {}, but {count} were given", func.name(), func.arity_text()));
    }
    for (index, arg) in call.args.iter().enumerate() {
        let value = match arg {
            Arg::Literal(value) | Arg::Str { value, .. } => value,
            Arg::Path(_) | Arg::Call(_) => continue,
        };
        let ty = func.param(index);
        if !ty.accepts(value) {
            return Err(format!(
                "{}: argument {} must be {}, but the literal {value} is {}",
                func.name(),
                index + 1,
                ty.describe(),
                type_name(value)
            ));
        }
    }
    if func == Func::Format
        && let Some(Arg::Str { holes, .. }) = call.args.first()
        && holes.len() != count - 1
    {
        return Err(format!(
            "States.Format: the template has {} placeholder(s) {{}} but {} value argument(s) were given",
            holes.len(),
            count - 1
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

impl Call {
    fn evaluate(&self, input: &Value, context: &Value, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        let mut args = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            args.push(arg.evaluate(self.func, input, context, entropy)?);
        }
        apply(self, args, entropy)
    }
}

impl Arg {
    fn evaluate<'v>(
        &'v self,
        func: Func,
        input: &'v Value,
        context: &'v Value,
        entropy: &mut dyn Entropy,
    ) -> Result<Cow<'v, Value>, Failure> {
        match self {
            Arg::Literal(value) | Arg::Str { value, .. } => Ok(Cow::Borrowed(value)),
            Arg::Path(path) => path.select(input, context).map_err(|_| {
                Failure::runtime(format!(
                    "The JsonPath argument '{}' of {} could not be found in the input",
                    path.text(),
                    func.name()
                ))
            }),
            Arg::Call(call) => call.evaluate(input, context, entropy).map(Cow::Owned),
        }
    }
}

fn fail(func: Func, problem: impl std::fmt::Display) -> Failure {
    Failure::intrinsic(format!("{}: {problem}", func.name()))
}

fn wrong_type(func: Func, index: usize, value: &Value) -> Failure {
    let ty = func.param(index);
    fail(func, format_args!("argument {} must be {}, but got {}", index + 1, ty.describe(), type_name(value)))
}

fn wrong_arity(func: Func, count: usize) -> Failure {
    fail(func, format_args!("takes {}, but {count} were given", func.arity_text()))
}

fn string_arg(func: Func, index: usize, value: &Value) -> Result<&str, Failure> {
    value.as_str().ok_or_else(|| wrong_type(func, index, value))
}

fn array_arg(func: Func, index: usize, value: &Value) -> Result<&Vec<Value>, Failure> {
    value.as_array().ok_or_else(|| wrong_type(func, index, value))
}

fn object_arg(func: Func, index: usize, value: &Value) -> Result<&Map<String, Value>, Failure> {
    value.as_object().ok_or_else(|| wrong_type(func, index, value))
}

fn number_arg(func: Func, index: usize, value: &Value) -> Result<&Number, Failure> {
    match value {
        Value::Number(n) => Ok(n),
        _ => Err(wrong_type(func, index, value)),
    }
}

/// An integer argument; floats with no fractional part (`3.0`) count as integers.
fn int_arg(func: Func, index: usize, value: &Value) -> Result<i64, Failure> {
    let n = number_arg(func, index, value)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    let as_int = n.as_f64().filter(|f| f.fract() == 0.0).and_then(f64_to_i64);
    as_int.ok_or_else(|| fail(func, format_args!("argument {} must be an integer, but got {n}", index + 1)))
}

/// `f` as an `i64` when it is an integral value in range.
fn f64_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; every f64 in [-2^63, 2^63) converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

/// A number rounded as Java's `Math.round(double)`: `floor(x + 0.5)`, computed
/// without the addition's rounding error (so 0.49999999999999994 → 0).
fn java_round(n: &Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None; // above i64::MAX
    }
    let x = n.as_f64()?;
    let floor = x.floor();
    let rounded = if x - floor >= 0.5 { floor + 1.0 } else { floor };
    f64_to_i64(rounded)
}

/// A number truncated toward zero to an integer (`States.MathRandom`).
fn truncate(func: Func, index: usize, value: &Value) -> Result<i64, Failure> {
    let n = number_arg(func, index, value)?;
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    n.as_f64()
        .map(f64::trunc)
        .and_then(f64_to_i64)
        .ok_or_else(|| fail(func, format_args!("argument {} is out of range: {n}", index + 1)))
}

fn check_len(func: Func, index: usize, text: &str) -> Result<(), Failure> {
    let chars = text.chars().count();
    if chars > MAX_DATA_CHARS {
        return Err(fail(
            func,
            format_args!("argument {} is {chars} characters long; the maximum is {MAX_DATA_CHARS}", index + 1),
        ));
    }
    Ok(())
}

fn apply(call: &Call, args: Vec<Cow<'_, Value>>, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
    let func = call.func;
    if func == Func::Array {
        // Values computed by nested calls are moved, not cloned.
        return Ok(Value::Array(args.into_iter().map(Cow::into_owned).collect()));
    }
    match (func, args.as_slice()) {
        (Func::Format, [template, rest @ ..]) => format(call, template, rest),
        (Func::StringToJson, [text]) => {
            let text = string_arg(func, 0, text)?;
            serde_json::from_str(text).map_err(|e| fail(func, format_args!("the string is not valid JSON: {e}")))
        }
        (Func::JsonToString, [value]) => serde_json::to_string(value)
            .map(Value::String)
            .map_err(|e| fail(func, format_args!("cannot serialize the value: {e}"))),
        (Func::ArrayPartition, [array, size]) => {
            let array = array_arg(func, 0, array)?;
            let size = int_arg(func, 1, size)?;
            let size = usize::try_from(size)
                .ok()
                .filter(|&s| s > 0)
                .ok_or_else(|| fail(func, format_args!("the chunk size must be greater than 0, but got {size}")))?;
            Ok(Value::Array(array.chunks(size).map(|chunk| Value::Array(chunk.to_vec())).collect()))
        }
        (Func::ArrayContains, [array, value]) => {
            let array = array_arg(func, 0, array)?;
            Ok(Value::Bool(array.iter().any(|item| item == &**value)))
        }
        (Func::ArrayRange, [start, end, step]) => {
            let start = int_arg(func, 0, start)?;
            let end = int_arg(func, 1, end)?;
            let step = int_arg(func, 2, step)?;
            array_range(start, end, step)
        }
        (Func::ArrayGetItem, [array, index]) => {
            let array = array_arg(func, 0, array)?;
            let index = int_arg(func, 1, index)?;
            usize::try_from(index).ok().and_then(|i| array.get(i)).cloned().ok_or_else(|| {
                fail(func, format_args!("index {index} is out of bounds for an array of length {}", array.len()))
            })
        }
        (Func::ArrayLength, [array]) => Ok(Value::from(array_arg(func, 0, array)?.len())),
        (Func::ArrayUnique, [array]) => {
            let array = array_arg(func, 0, array)?;
            let mut seen = HashSet::with_capacity(array.len());
            let unique = array.iter().filter(|item| seen.insert(Deep(item))).cloned().collect();
            Ok(Value::Array(unique))
        }
        (Func::Base64Encode, [text]) => {
            let text = string_arg(func, 0, text)?;
            check_len(func, 0, text)?;
            Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(text)))
        }
        (Func::Base64Decode, [text]) => {
            let text = string_arg(func, 0, text)?;
            check_len(func, 0, text)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| fail(func, format_args!("the argument is not valid base64: {e}")))?;
            String::from_utf8(bytes).map(Value::String).map_err(|_| fail(func, "the decoded data is not valid UTF-8"))
        }
        (Func::Hash, [data, algorithm]) => {
            let data = string_arg(func, 0, data)?;
            check_len(func, 0, data)?;
            let algorithm = string_arg(func, 1, algorithm)?;
            hash(data.as_bytes(), algorithm).map(Value::String)
        }
        (Func::JsonMerge, [first, second, deep]) => {
            let first = object_arg(func, 0, first)?;
            let second = object_arg(func, 1, second)?;
            match &**deep {
                Value::Bool(false) => {}
                Value::Bool(true) => {
                    return Err(fail(func, "deep merge not supported: the third argument must be false"));
                }
                other => return Err(wrong_type(func, 2, other)),
            }
            let mut merged = first.clone();
            for (key, value) in second {
                merged.insert(key.clone(), value.clone());
            }
            Ok(Value::Object(merged))
        }
        (Func::MathRandom, [start, end, seed @ ..]) => {
            let start = truncate(func, 0, start)?;
            let end = truncate(func, 1, end)?;
            if end <= start {
                return Err(fail(func, format_args!("the end ({end}) must be greater than the start ({start})")));
            }
            let bits = match seed {
                [] => entropy.next_u64(),
                [seed] => splitmix64(truncate(func, 2, seed)? as u64),
                _ => return Err(wrong_arity(func, args.len())),
            };
            Ok(Value::from(random_in(start, end, bits)))
        }
        (Func::MathAdd, [a, b]) => {
            let round = |index: usize, value: &Value| {
                let n = number_arg(func, index, value)?;
                java_round(n).ok_or_else(|| fail(func, format_args!("argument {} is out of range: {n}", index + 1)))
            };
            let (a, b) = (round(0, a)?, round(1, b)?);
            a.checked_add(b)
                .map(Value::from)
                .ok_or_else(|| fail(func, format_args!("the sum of {a} and {b} is out of range")))
        }
        (Func::StringSplit, [text, delimiters]) => {
            let text = string_arg(func, 0, text)?;
            let delimiters = string_arg(func, 1, delimiters)?;
            let pieces = text
                .split(|c: char| delimiters.contains(c))
                .filter(|piece| !piece.is_empty())
                .map(|piece| Value::String(piece.to_owned()))
                .collect();
            Ok(Value::Array(pieces))
        }
        (Func::Uuid, []) => Ok(Value::String(uuid_v4(entropy.next_u64(), entropy.next_u64()))),
        _ => Err(wrong_arity(func, args.len())),
    }
}

/// `States.Format`: each `{}` of the template takes the next value.
fn format(call: &Call, template: &Value, values: &[Cow<'_, Value>]) -> Result<Value, Failure> {
    let func = Func::Format;
    let template = string_arg(func, 0, template)?;
    // A literal template knows which braces were escaped; a computed one does not.
    let holes: Cow<'_, [usize]> = match call.args.first() {
        Some(Arg::Str { holes, .. }) => Cow::Borrowed(holes),
        _ => Cow::Owned(template.match_indices("{}").map(|(i, _)| i).collect()),
    };
    if holes.len() != values.len() {
        return Err(fail(
            func,
            format_args!(
                "the template has {} placeholder(s) {{}} but {} value argument(s) were given",
                holes.len(),
                values.len()
            ),
        ));
    }
    let mut out = String::with_capacity(template.len() + 8 * values.len());
    let mut last = 0;
    for (index, (&hole, value)) in holes.iter().zip(values).enumerate() {
        out.push_str(&template[last..hole]);
        match &**value {
            Value::String(s) => out.push_str(s),
            Value::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Null => out.push_str("null"),
            Value::Array(_) | Value::Object(_) => return Err(wrong_type(func, index + 1, value)),
        }
        last = hole + 2;
    }
    out.push_str(&template[last..]);
    Ok(Value::String(out))
}

/// `States.ArrayRange`: start, start+step, … up to and including `end` when hit.
fn array_range(start: i64, end: i64, step: i64) -> Result<Value, Failure> {
    let func = Func::ArrayRange;
    if step == 0 {
        return Err(fail(func, "the step must not be 0"));
    }
    let (start, end, step) = (i128::from(start), i128::from(end), i128::from(step));
    let span = end - start;
    let count = if span != 0 && (span < 0) != (step < 0) { 0 } else { span / step + 1 };
    if count > MAX_RANGE_ITEMS {
        return Err(fail(func, format_args!("the result would have {count} items; the maximum is {MAX_RANGE_ITEMS}")));
    }
    let items = (0..count)
        .map(|i| {
            let item = start + i * step;
            // Between start and end, both i64.
            i64::try_from(item).map(Value::from).map_err(|_| fail(func, "range item out of range"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::Array(items))
}

fn hash(data: &[u8], algorithm: &str) -> Result<String, Failure> {
    Ok(match algorithm {
        "MD5" => hex::encode(md5::Md5::digest(data)),
        "SHA-1" => hex::encode(sha1::Sha1::digest(data)),
        "SHA-256" => hex::encode(sha2::Sha256::digest(data)),
        "SHA-384" => hex::encode(sha2::Sha384::digest(data)),
        "SHA-512" => hex::encode(sha2::Sha512::digest(data)),
        other => {
            return Err(fail(
                Func::Hash,
                format_args!("unsupported hash algorithm '{other}'; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"),
            ));
        }
    })
}

/// One output of the SplitMix64 generator (Steele, Lea and Flood 2014) whose
/// state is `seed`: a fixed, well-mixed function of the seed, so
/// `States.MathRandom(start, end, seed)` always returns the same number for
/// the same arguments.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Maps 64 random bits onto `[start, end)` (multiply-shift, Lemire 2019).
fn random_in(start: i64, end: i64, bits: u64) -> i64 {
    let span = (i128::from(end) - i128::from(start)) as u128; // 1 ..= 2^64 - 1
    let offset = (u128::from(bits) * span) >> 64; // < span
    let value = i128::from(start) + offset as i128; // in [start, end)
    value as i64
}

/// A version 4 (random), variant 1 UUID from 128 random bits, lowercase 8-4-4-4-12.
fn uuid_v4(high: u64, low: u64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high.to_be_bytes());
    bytes[8..].copy_from_slice(&low.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// A JSON value hashed and compared by deep equality (object key order
/// ignored, as `Value`'s own equality does), for `States.ArrayUnique`.
struct Deep<'a>(&'a Value);

impl PartialEq for Deep<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Deep<'_> {}

impl Hash for Deep<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(deep_hash(self.0));
    }
}

/// A hash consistent with `Value`'s equality.
fn deep_hash(value: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    match value {
        Value::Null => 0u8.hash(&mut h),
        Value::Bool(b) => (1u8, b).hash(&mut h),
        Value::Number(n) => {
            2u8.hash(&mut h);
            if let Some(u) = n.as_u64() {
                (0u8, u).hash(&mut h);
            } else if let Some(i) = n.as_i64() {
                (1u8, i).hash(&mut h);
            } else if let Some(f) = n.as_f64() {
                // 0.0 == -0.0: hash them alike.
                let f = if f == 0.0 { 0.0 } else { f };
                (2u8, f.to_bits()).hash(&mut h);
            }
        }
        Value::String(s) => (3u8, s).hash(&mut h),
        Value::Array(items) => {
            (4u8, items.len()).hash(&mut h);
            for item in items {
                deep_hash(item).hash(&mut h);
            }
        }
        Value::Object(map) => {
            (5u8, map.len()).hash(&mut h);
            // Order-independent: sum of the entries' hashes.
            let mut sum = 0u64;
            for (key, item) in map {
                let mut entry = DefaultHasher::new();
                (key, deep_hash(item)).hash(&mut entry);
                sum = sum.wrapping_add(entry.finish());
            }
            sum.hash(&mut h);
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Entropy that replays a fixed sequence (cycling).
    struct Fixed {
        values: Vec<u64>,
        next: usize,
    }

    impl Fixed {
        fn new(values: &[u64]) -> Self {
            Fixed { values: values.to_vec(), next: 0 }
        }
    }

    impl Entropy for Fixed {
        fn next_u64(&mut self) -> u64 {
            let value = self.values[self.next % self.values.len()];
            self.next += 1;
            value
        }
    }

    fn run_with(text: &str, input: &Value, context: &Value, entropy: &mut Fixed) -> Result<Value, Failure> {
        let intrinsic = Intrinsic::parse(text).unwrap_or_else(|e| panic!("{text} should parse: {e}"));
        let mut env = Env { input, context, entropy };
        intrinsic.evaluate(&mut env)
    }

    fn run(text: &str) -> Result<Value, Failure> {
        run_with(text, &json!({}), &Value::Null, &mut Fixed::new(&[0]))
    }

    fn eval(text: &str) -> Value {
        run(text).unwrap_or_else(|f| panic!("{text} should succeed: {f}"))
    }

    /// Asserts that `text` fails with `States.IntrinsicFailure`; returns the cause.
    fn fails(text: &str) -> String {
        match run(text) {
            Ok(v) => panic!("{text} should fail, got {v}"),
            Err(f) => {
                assert_eq!(f.error, "States.IntrinsicFailure", "{text}: {f}");
                f.cause
            }
        }
    }

    fn parse_error(text: &str) -> String {
        match Intrinsic::parse(text) {
            Ok(i) => panic!("{text} should not parse, got {i:?}"),
            Err(e) => e,
        }
    }

    // ---- parsing ----------------------------------------------------------

    #[test]
    fn parse_keeps_text_and_allows_whitespace() {
        let text = "  States.MathAdd( 1 ,\t2 )  ";
        assert_eq!(Intrinsic::parse(text).unwrap().text(), text);
        assert_eq!(eval(text), json!(3));
        assert_eq!(eval("States.Array( )"), json!([]));
    }

    #[test]
    fn parse_literals() {
        assert_eq!(
            eval("States.Array('a', -1, 2.5, -0.25, 1e2, true, false, null, '')"),
            json!(["a", -1, 2.5, -0.25, 100.0, true, false, null, ""])
        );
        assert!(eval("States.Array(7)")[0].is_i64());
    }

    #[test]
    fn parse_rejects_unknown_functions() {
        for text in ["States.Foo(1)", "states.Format('x')", "Format('x')", "States.Array(States.Nope())", "Foo.Bar()"] {
            let e = parse_error(text);
            assert!(e.contains("is not a supported intrinsic function"), "{text}: {e}");
        }
        assert!(parse_error("States.Array(Foo(1))").contains("'Foo' is not a supported intrinsic function"));
    }

    #[test]
    fn parse_rejects_bad_escapes_and_strings() {
        for text in [r"States.Format('a\nb')", r"States.Format('a\\\x')", r"States.Format('a\')", "States.Format('abc)"]
        {
            parse_error(text);
        }
        assert!(parse_error(r"States.Format('a\nb')").contains("invalid escape"));
        assert!(parse_error("States.Format('abc)").contains("unterminated string"));
    }

    #[test]
    fn parse_rejects_unbalanced_parentheses() {
        for text in [
            "States.Array(1, 2",
            "States.Array(1))",
            "States.Array(States.Array(1)",
            "States.Array",
            "States.UUID(",
            "States.Array(1 2)",
        ] {
            parse_error(text);
        }
        assert!(parse_error("States.Array(1, 2").contains("never closed"));
    }

    #[test]
    fn parse_rejects_bad_arguments() {
        for text in [
            "States.Array(1,,2)",
            "States.Array(1,)",
            "States.Array(,1)",
            "States.Array(abc)",
            "States.Array(True)",
            "States.Array(1.2.3)",
            "States.Array(-)",
            "States.Array(01)",
            "States.Array(\"x\")",
            "States.Array(#)",
            "States.UUID() extra",
        ] {
            parse_error(text);
        }
        assert!(parse_error("States.Array(abc)").contains("single quotes"));
    }

    #[test]
    fn parse_rejects_workflow_variables() {
        let e = parse_error("States.Array($foo)");
        assert!(e.contains("variables"), "{e}");
    }

    #[test]
    fn parse_nesting_limit_is_ten() {
        let nested = |n: usize| format!("{}{}", "States.Array(".repeat(n), ")".repeat(n));
        assert_eq!(eval(&nested(10)), json!([[[[[[[[[[]]]]]]]]]]));
        let e = parse_error(&nested(11));
        assert!(e.contains("nested more than 10"), "{e}");
    }

    #[test]
    fn parse_checks_arity() {
        for text in [
            "States.MathAdd(1)",
            "States.MathAdd(1, 2, 3)",
            "States.UUID(1)",
            "States.MathRandom(1)",
            "States.MathRandom(1, 2, 3, 4)",
            "States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'))",
            "States.Format()",
            "States.ArrayRange(1, 2)",
            "States.ArrayLength()",
            "States.StringToJson('1', '2')",
            "States.Hash('a')",
        ] {
            let e = parse_error(text);
            assert!(e.contains("takes"), "{text}: {e}");
        }
        assert!(
            parse_error("States.MathAdd(1)").contains("States.MathAdd takes exactly 2 arguments, but 1 were given")
        );
    }

    #[test]
    fn parse_checks_literal_types() {
        for text in [
            "States.MathAdd('a', 1)",
            "States.ArrayLength('x')",
            "States.ArrayLength(1)",
            "States.Format(1)",
            "States.Hash(1, 'MD5')",
            "States.Hash('a', null)",
            "States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), 'false')",
            "States.ArrayRange(0, '5', 1)",
            "States.StringSplit('a', 1)",
        ] {
            let e = parse_error(text);
            assert!(e.contains("must be"), "{text}: {e}");
        }
        assert!(parse_error("States.MathAdd(1, 'a')").contains("argument 2 must be a number"));
    }

    #[test]
    fn parse_checks_literal_format_placeholders() {
        assert!(parse_error("States.Format('{} {}', 1)").contains("2 placeholder(s)"));
        parse_error("States.Format('{}')");
        parse_error("States.Format('no placeholder', 1)");
        // Escaped braces are not placeholders.
        parse_error(r"States.Format('\{}', 1)");
    }

    #[test]
    fn literal_only_calls_do_not_use_context() {
        assert!(!Intrinsic::parse("States.Format('{}', States.UUID())").unwrap().uses_context());
    }

    // ---- States.Format ----------------------------------------------------

    #[test]
    fn format_basic() {
        assert_eq!(eval("States.Format('Hello, my name is {}.', 'Jane')"), json!("Hello, my name is Jane."));
        assert_eq!(eval("States.Format('plain')"), json!("plain"));
        assert_eq!(eval("States.Format('')"), json!(""));
        assert_eq!(
            eval("States.Format('{}|{}|{}|{}|{}|{}', 'a', 1, -2.5, true, false, null)"),
            json!("a|1|-2.5|true|false|null")
        );
        assert_eq!(eval("States.Format('{}{}', 'x', 'y')"), json!("xy"));
    }

    #[test]
    fn format_escapes() {
        assert_eq!(eval(r"States.Format('\{\} {} \'q\' \\', 'x')"), json!(r"{} x 'q' \"));
        assert_eq!(eval(r"States.Format('\{{}\}', 5)"), json!("{5}"));
        assert_eq!(eval(r"States.Format('{\}')"), json!("{}"));
        // A lone unescaped brace is literal text.
        assert_eq!(eval("States.Format('{ {} }', 1)"), json!("{ 1 }"));
    }

    #[test]
    fn format_inserts_values_raw() {
        // A `{}` inside an inserted value is not a placeholder.
        assert_eq!(eval("States.Format('{}{}', '{}', 'b')"), json!("{}b"));
        assert_eq!(eval(r"States.Format('{}', 'it\'s')"), json!("it's"));
    }

    #[test]
    fn format_rejects_objects_and_arrays() {
        let cause = fails(r#"States.Format('{}', States.StringToJson('{"a":1}'))"#);
        assert!(cause.contains("States.Format") && cause.contains("argument 2"), "{cause}");
        fails("States.Format('{} {}', 1, States.Array(1))");
    }

    #[test]
    fn format_computed_template() {
        assert_eq!(eval(r#"States.Format(States.StringToJson('"{} and {}"'), 1, 'b')"#), json!("1 and b"));
        let cause = fails(r#"States.Format(States.StringToJson('"{} and {}"'), 1)"#);
        assert!(cause.contains("placeholder"), "{cause}");
        let cause = fails("States.Format(States.Array())");
        assert!(cause.contains("argument 1 must be a string"), "{cause}");
    }

    #[test]
    fn format_nested_calls() {
        assert_eq!(eval("States.Format('{}', States.ArrayLength(States.Array(1,2)))"), json!("2"));
        assert_eq!(eval("States.Format('{}-{}', States.MathAdd(1, 2), States.Format('<{}>', 'x'))"), json!("3-<x>"));
    }

    // ---- JSON -------------------------------------------------------------

    #[test]
    fn string_to_json() {
        assert_eq!(eval(r#"States.StringToJson('{"number": 20}')"#), json!({"number": 20}));
        assert_eq!(eval("States.StringToJson(' [1, \"a\", null] ')"), json!([1, "a", null]));
        assert_eq!(eval("States.StringToJson('3')"), json!(3));
        let cause = fails("States.StringToJson('{not json')");
        assert!(cause.contains("States.StringToJson") && cause.contains("not valid JSON"), "{cause}");
        fails("States.StringToJson('')");
        fails("States.StringToJson(States.Array())");
    }

    #[test]
    fn json_to_string() {
        assert_eq!(
            eval(r#"States.JsonToString(States.StringToJson('{ "a" : [1, 2.5, "x", {"b": null}] }'))"#),
            json!(r#"{"a":[1,2.5,"x",{"b":null}]}"#)
        );
        assert_eq!(eval("States.JsonToString('abc')"), json!("\"abc\""));
        assert_eq!(eval("States.JsonToString(12)"), json!("12"));
        assert_eq!(eval("States.JsonToString(null)"), json!("null"));
        // Key order is preserved.
        assert_eq!(eval(r#"States.JsonToString(States.StringToJson('{"z":1,"a":2}'))"#), json!(r#"{"z":1,"a":2}"#));
    }

    // ---- arrays -----------------------------------------------------------

    #[test]
    fn array() {
        assert_eq!(eval("States.Array()"), json!([]));
        assert_eq!(eval("States.Array('a', 1, true, null, States.Array(2))"), json!(["a", 1, true, null, [2]]));
    }

    #[test]
    fn array_partition() {
        assert_eq!(eval("States.ArrayPartition(States.Array(1,2,3,4,5,6,7), 4)"), json!([[1, 2, 3, 4], [5, 6, 7]]));
        assert_eq!(eval("States.ArrayPartition(States.Array(1,2), 2)"), json!([[1, 2]]));
        assert_eq!(eval("States.ArrayPartition(States.Array(1,2), 5.0)"), json!([[1, 2]]));
        assert_eq!(eval("States.ArrayPartition(States.Array(), 3)"), json!([]));
        assert!(fails("States.ArrayPartition(States.Array(1), 0)").contains("greater than 0"));
        fails("States.ArrayPartition(States.Array(1), -1)");
        assert!(fails("States.ArrayPartition(States.Array(1), 2.5)").contains("integer"));
        let cause = fails("States.ArrayPartition(States.StringToJson('\"abc\"'), 2)");
        assert!(cause.contains("States.ArrayPartition: argument 1 must be an array, but got string"), "{cause}");
    }

    #[test]
    fn array_contains() {
        assert_eq!(eval("States.ArrayContains(States.Array(1,2,3,4,5,6,7,8,9), 5)"), json!(true));
        assert_eq!(eval("States.ArrayContains(States.Array(1,2,3), 4)"), json!(false));
        assert_eq!(eval("States.ArrayContains(States.Array(1,'2'), 2)"), json!(false));
        assert_eq!(
            eval(
                r#"States.ArrayContains(States.StringToJson('[{"a":1,"b":[2]}]'), States.StringToJson('{"b":[2],"a":1}'))"#
            ),
            json!(true)
        );
        assert_eq!(
            eval("States.ArrayContains(States.Array(States.Array(1, null)), States.Array(1, null))"),
            json!(true)
        );
        assert_eq!(eval("States.ArrayContains(States.Array(), null)"), json!(false));
        fails("States.ArrayContains(States.StringToJson('{}'), 1)");
    }

    #[test]
    fn array_range() {
        assert_eq!(eval("States.ArrayRange(1, 9, 2)"), json!([1, 3, 5, 7, 9]));
        assert_eq!(eval("States.ArrayRange(0, 9, 3)"), json!([0, 3, 6, 9]));
        assert_eq!(eval("States.ArrayRange(0, 10, 3)"), json!([0, 3, 6, 9]));
        assert_eq!(eval("States.ArrayRange(1, 9, 9)"), json!([1]));
        assert_eq!(eval("States.ArrayRange(1, 1, 5)"), json!([1]));
        assert_eq!(eval("States.ArrayRange(10, 0, -3)"), json!([10, 7, 4, 1]));
        assert_eq!(eval("States.ArrayRange(0, -9, -3)"), json!([0, -3, -6, -9]));
        assert_eq!(eval("States.ArrayRange(5, 1, 1)"), json!([]));
        assert_eq!(eval("States.ArrayRange(1, 5, -1)"), json!([]));
        assert_eq!(eval("States.ArrayRange(0, 999, 1)").as_array().map(Vec::len), Some(1000));
        assert!(fails("States.ArrayRange(0, 1000, 1)").contains("1001 items"));
        assert!(fails("States.ArrayRange(1, 9, 0)").contains("step"));
        assert!(fails("States.ArrayRange(0.5, 9, 1)").contains("integer"));
        assert_eq!(eval("States.ArrayRange(0, 4.0, 2)"), json!([0, 2, 4]));
        // Extremes do not overflow.
        fails("States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)");
        assert_eq!(
            eval("States.ArrayRange(9223372036854775806, 9223372036854775807, 1)"),
            json!([9223372036854775806i64, 9223372036854775807i64])
        );
    }

    #[test]
    fn array_get_item() {
        assert_eq!(eval("States.ArrayGetItem(States.Array(1,2,3,4,5,6,7,8,9), 5)"), json!(6));
        assert_eq!(eval("States.ArrayGetItem(States.Array('a', States.Array(1)), 1)"), json!([1]));
        assert!(fails("States.ArrayGetItem(States.Array(1,2,3), 3)").contains("out of bounds"));
        fails("States.ArrayGetItem(States.Array(1,2,3), -1)");
        fails("States.ArrayGetItem(States.Array(1,2,3), 1.5)");
        fails("States.ArrayGetItem(States.Array(), 0)");
    }

    #[test]
    fn array_length() {
        assert_eq!(eval("States.ArrayLength(States.Array(1,2,3,4,5,6,7,8,9))"), json!(9));
        assert_eq!(eval("States.ArrayLength(States.Array())"), json!(0));
        let cause = fails("States.ArrayLength(States.StringToJson('{}'))");
        assert!(cause.contains("States.ArrayLength: argument 1 must be an array, but got object"), "{cause}");
    }

    #[test]
    fn array_unique() {
        assert_eq!(eval("States.ArrayUnique(States.Array(1,2,3,3,3,3,3,3,4))"), json!([1, 2, 3, 4]));
        assert_eq!(
            eval(
                r#"States.ArrayUnique(States.StringToJson('[3, 1, "1", 1, {"a":1,"b":2}, {"b":2,"a":1}, [1], [1], null, null, 3, 0.0, -0.0, 1.0]'))"#
            ),
            json!([3, 1, "1", {"a": 1, "b": 2}, [1], null, 0.0, 1.0])
        );
        assert_eq!(eval("States.ArrayUnique(States.Array())"), json!([]));
        fails("States.ArrayUnique(States.StringToJson('\"x\"'))");
    }

    // ---- encoding and hashing ---------------------------------------------

    #[test]
    fn base64() {
        assert_eq!(eval("States.Base64Encode('Data to encode')"), json!("RGF0YSB0byBlbmNvZGU="));
        assert_eq!(eval("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')"), json!("Data to encode"));
        assert_eq!(eval("States.Base64Encode('héllo')"), json!("aMOpbGxv"));
        assert_eq!(eval("States.Base64Decode('aMOpbGxv')"), json!("héllo"));
        assert_eq!(eval("States.Base64Encode('')"), json!(""));
        assert!(fails("States.Base64Decode('not base64!')").contains("not valid base64"));
        assert!(fails("States.Base64Decode('//4=')").contains("UTF-8"));
        fails("States.Base64Decode('RGF0YSB0byBlbmNvZGU')"); // padding required
        fails("States.Base64Encode(States.Array())");
    }

    #[test]
    fn base64_input_limit() {
        // The limit counts characters, not bytes.
        let ok = format!("States.Base64Encode('{}')", "é".repeat(10_000));
        assert!(eval(&ok).is_string());
        let cause = fails(&format!("States.Base64Encode('{}')", "a".repeat(10_001)));
        assert!(cause.contains("10001 characters"), "{cause}");
        fails(&format!("States.Base64Decode('{}')", "A".repeat(10_004)));
    }

    #[test]
    fn hash_vectors() {
        let cases = [
            ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
            ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
            ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
            (
                "SHA-384",
                "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
            ),
            (
                "SHA-512",
                "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
            ),
        ];
        for (algorithm, expected) in cases {
            assert_eq!(eval(&format!("States.Hash('input data', '{algorithm}')")), json!(expected), "{algorithm}");
        }
        assert_eq!(
            eval("States.Hash('héllo', 'SHA-256')"),
            json!("3c48591d8d098a4538f5e013dfcf406e948eac4d3277b10bf614e295d6068179")
        );
    }

    #[test]
    fn hash_errors() {
        assert!(fails("States.Hash('x', 'SHA-2')").contains("unsupported hash algorithm 'SHA-2'"));
        fails("States.Hash('x', 'md5')");
        fails("States.Hash(States.Array(), 'MD5')");
        assert!(eval(&format!("States.Hash('{}', 'MD5')", "a".repeat(10_000))).is_string());
        fails(&format!("States.Hash('{}', 'MD5')", "a".repeat(10_001)));
    }

    // ---- JsonMerge --------------------------------------------------------

    #[test]
    fn json_merge_is_shallow() {
        let merged = eval(
            r#"States.JsonMerge(States.StringToJson('{"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3}'), States.StringToJson('{"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}'), false)"#,
        );
        assert_eq!(merged, json!({"a": {"a3": 1, "a4": 2}, "b": 2, "d": 4, "c": 3}));
        assert_eq!(serde_json::to_string(&merged).unwrap(), r#"{"a":{"a3":1,"a4":2},"b":2,"d":4,"c":3}"#);
    }

    #[test]
    fn json_merge_errors() {
        let cause = fails("States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), true)");
        assert!(cause.contains("deep merge not supported"), "{cause}");
        let cause = fails("States.JsonMerge(States.Array(), States.StringToJson('{}'), false)");
        assert!(cause.contains("argument 1 must be an object"), "{cause}");
        fails("States.JsonMerge(States.StringToJson('{}'), States.StringToJson('1'), false)");
        fails("States.JsonMerge(States.StringToJson('{}'), States.StringToJson('{}'), States.StringToJson('0'))");
    }

    // ---- math -------------------------------------------------------------

    #[test]
    fn math_add_rounds_half_up() {
        let cases = [
            ("1.49", "1.5", 3),
            ("1.5", "1.51", 4),
            ("-1.5", "0", -1),
            ("-2.5", "0", -2),
            ("2.5", "0", 3),
            ("-0.5", "0.5", 1),
            ("111", "-1", 110),
            ("0.49999999999999994", "0", 0),
            ("-3.7", "1.2", -3),
        ];
        for (a, b, expected) in cases {
            let text = format!("States.MathAdd({a}, {b})");
            let result = eval(&text);
            assert_eq!(result, json!(expected), "{text}");
            assert!(result.is_i64(), "{text}");
        }
    }

    #[test]
    fn math_add_errors() {
        let cause = fails("States.MathAdd(States.StringToJson('\"1\"'), 1)");
        assert!(cause.contains("States.MathAdd: argument 1 must be a number, but got string"), "{cause}");
        assert!(fails("States.MathAdd(9223372036854775807, 1)").contains("out of range"));
        fails("States.MathAdd(1e19, 0)");
        fails("States.MathAdd(18446744073709551615, 0)");
        assert_eq!(eval("States.MathAdd(9223372036854775807, -1)"), json!(9223372036854775806i64));
        assert_eq!(eval("States.MathAdd(-9223372036854775808, 0)"), json!(i64::MIN));
    }

    #[test]
    fn math_random_uses_entropy() {
        let input = json!({});
        let mut low = Fixed::new(&[0]);
        assert_eq!(run_with("States.MathRandom(1, 999)", &input, &Value::Null, &mut low).unwrap(), json!(1));
        let mut high = Fixed::new(&[u64::MAX]);
        assert_eq!(run_with("States.MathRandom(1, 999)", &input, &Value::Null, &mut high).unwrap(), json!(998));
        let mut mid = Fixed::new(&[1 << 63]);
        assert_eq!(run_with("States.MathRandom(0, 10)", &input, &Value::Null, &mut mid).unwrap(), json!(5));
        let mut neg = Fixed::new(&[u64::MAX]);
        assert_eq!(run_with("States.MathRandom(-10, -5)", &input, &Value::Null, &mut neg).unwrap(), json!(-6));
        // Floats are truncated toward zero: [12, 44).
        let mut f = Fixed::new(&[0, u64::MAX]);
        assert_eq!(run_with("States.MathRandom(12.5, 44.51)", &input, &Value::Null, &mut f).unwrap(), json!(12));
        assert_eq!(run_with("States.MathRandom(12.5, 44.51)", &input, &Value::Null, &mut f).unwrap(), json!(43));
        // The full i64 range does not overflow.
        let mut full = Fixed::new(&[u64::MAX]);
        let r =
            run_with("States.MathRandom(-9223372036854775808, 9223372036854775807)", &input, &Value::Null, &mut full);
        assert_eq!(r.unwrap(), json!(9223372036854775806i64));
    }

    #[test]
    fn math_random_with_seed_is_deterministic() {
        let input = json!({});
        let mut a = Fixed::new(&[1]);
        let mut b = Fixed::new(&[u64::MAX]);
        let x = run_with("States.MathRandom(1, 100, 7)", &input, &Value::Null, &mut a).unwrap();
        let y = run_with("States.MathRandom(1, 100, 7)", &input, &Value::Null, &mut b).unwrap();
        assert_eq!(x, y);
        // splitmix64(7) = 0x63cbe1e459320dd7 → 1 + (bits * 99 >> 64) = 39.
        assert_eq!(x, json!(39));
        assert_eq!(a.next, 0, "a seeded call draws no entropy");
        assert_eq!(eval("States.MathRandom(1, 100, 0)"), json!(88));
        assert_eq!(eval("States.MathRandom(1, 100, -1)"), json!(89));
        assert_eq!(eval("States.MathRandom(1, 100, 7.9)"), json!(39));
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn math_random_errors() {
        assert!(fails("States.MathRandom(5, 5)").contains("must be greater than the start"));
        fails("States.MathRandom(5, 1)");
        fails("States.MathRandom(1.2, 1.9)"); // both truncate to 1
        fails("States.MathRandom(States.Array(), 5)");
        fails("States.MathRandom(1, 5, States.StringToJson('\"seed\"'))");
        fails("States.MathRandom(1e300, 5)");
    }

    // ---- strings and UUID -------------------------------------------------

    #[test]
    fn string_split() {
        assert_eq!(eval("States.StringSplit('1,2,3,4,5', ',')"), json!(["1", "2", "3", "4", "5"]));
        assert_eq!(eval("States.StringSplit(',,,,', ',')"), json!([]));
        assert_eq!(eval("States.StringSplit(' , ', ',')"), json!([" ", " "]));
        assert_eq!(
            eval("States.StringSplit('This.is+a,test=string', '.+,=')"),
            json!(["This", "is", "a", "test", "string"])
        );
        assert_eq!(eval("States.StringSplit('a;;b', ';;')"), json!(["a", "b"]));
        assert_eq!(eval("States.StringSplit('abc', '')"), json!(["abc"]));
        assert_eq!(eval("States.StringSplit('', ',')"), json!([]));
        assert_eq!(eval("States.StringSplit('aébéc', 'é')"), json!(["a", "b", "c"]));
        fails("States.StringSplit(States.Array(), ',')");
        fails("States.StringSplit('a', States.Array())");
    }

    #[test]
    fn uuid_v4_from_entropy() {
        let input = json!({});
        let mut e = Fixed::new(&[0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210]);
        assert_eq!(
            run_with("States.UUID()", &input, &Value::Null, &mut e).unwrap(),
            json!("01234567-89ab-4def-bedc-ba9876543210")
        );
        let mut ones = Fixed::new(&[u64::MAX]);
        assert_eq!(
            run_with("States.UUID()", &input, &Value::Null, &mut ones).unwrap(),
            json!("ffffffff-ffff-4fff-bfff-ffffffffffff")
        );
        assert_eq!(eval("States.UUID()"), json!("00000000-0000-4000-8000-000000000000"));
    }

    #[test]
    fn failures_are_catchable_intrinsic_failures() {
        let f = run("States.ArrayGetItem(States.Array(), 0)").unwrap_err();
        assert_eq!(f.error, crate::names::INTRINSIC_FAILURE);
        assert!(!f.is_terminal());
    }

    // ---- path arguments (need crate::path) ---------------------------------

    /// These tests parse `$…` arguments with `crate::path::Path`.
    mod path_args {
        use serde_json::json;

        use super::*;

        fn eval_on(text: &str, input: Value) -> Result<Value, Failure> {
            let context = json!({"Execution": {"Id": "exec-1"}, "State": {"Name": "S"}});
            run_with(text, &input, &context, &mut Fixed::new(&[0]))
        }

        #[test]
        fn path_arguments() {
            let input = json!({"name": "Jane", "a": 1.5, "b": 1.51, "items": [1, 2, 3], "x,y": "comma"});
            assert_eq!(eval_on("States.Format('Hello {}', $.name)", input.clone()).unwrap(), json!("Hello Jane"));
            assert_eq!(eval_on("States.MathAdd($.a, $.b)", input.clone()).unwrap(), json!(4));
            assert_eq!(eval_on("States.MathAdd( $.a ,$.b )", input.clone()).unwrap(), json!(4));
            assert_eq!(eval_on("States.ArrayLength($.items)", input.clone()).unwrap(), json!(3));
            assert_eq!(eval_on("States.Array($['x,y'], $.name)", input.clone()).unwrap(), json!(["comma", "Jane"]));
            assert_eq!(eval_on("States.JsonToString($)", json!({"k": [1]})).unwrap(), json!(r#"{"k":[1]}"#));
        }

        #[test]
        fn filter_path_arguments() {
            let input = json!({"items": [{"p": 5}, {"p": 20}, {"p": 30}]});
            assert_eq!(eval_on("States.ArrayLength($.items[?(@.p > 10)])", input.clone()).unwrap(), json!(2));
            assert_eq!(eval_on("States.Array($.items[0].p, $.items[2].p)", input).unwrap(), json!([5, 30]));
        }

        #[test]
        fn context_paths() {
            let i = Intrinsic::parse("States.Format('{}/{}', $$.Execution.Id, $.x)").unwrap();
            assert!(i.uses_context());
            let i = Intrinsic::parse("States.Array(States.Format('{}', $$.State.Name))").unwrap();
            assert!(i.uses_context());
            assert!(!Intrinsic::parse("States.Array($.a)").unwrap().uses_context());
            assert_eq!(
                eval_on("States.Format('{}/{}', $$.Execution.Id, $$.State.Name)", json!({})).unwrap(),
                json!("exec-1/S")
            );
        }

        #[test]
        fn missing_path_is_a_runtime_error() {
            let f = eval_on("States.Format('{}', $.nope)", json!({})).unwrap_err();
            assert_eq!(f.error, "States.Runtime");
            assert!(f.cause.contains("$.nope"), "{}", f.cause);
        }

        #[test]
        fn path_type_errors() {
            let f = eval_on("States.ArrayLength($.s)", json!({"s": "abc"})).unwrap_err();
            assert_eq!(f.error, "States.IntrinsicFailure");
            let f = eval_on("States.MathAdd($.s, 1)", json!({"s": "abc"})).unwrap_err();
            assert_eq!(f.error, "States.IntrinsicFailure");
        }

        #[test]
        fn invalid_paths_do_not_parse() {
            assert!(Intrinsic::parse("States.Array($.a[)").is_err());
            assert!(Intrinsic::parse("States.Array($.a['x)").is_err());
        }
    }
}
