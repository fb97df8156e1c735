//! Choice rules: every comparison operator (String/Numeric/Boolean/Timestamp
//! × Equals/LessThan/GreaterThan/LessThanEquals/GreaterThanEquals, their
//! `…Path` twins, StringMatches, the Is* type tests) and And/Or/Not.
//!
//! A rule is compiled once into a tree of [`Node`]s; literal operands are
//! type-checked and converted (numbers, timestamps, patterns) at compile time,
//! so evaluating a simple comparison reads the input without allocating.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use crate::error::{Failure, ValidationCode, ValidationError};
use crate::path::Path;
use crate::timestamp;

/// A compiled Choice rule (without its `Next`, which the definition holds).
#[derive(Debug, Clone)]
pub struct Rule {
    node: Node,
    uses_context: bool,
}

impl Rule {
    /// Compiles the rule object at `pointer`. `top_level` rules (entries of
    /// `Choices`) carry a `Next`, which is accepted here and read by the caller;
    /// nested rules (inside And/Or/Not) must not have one.
    ///
    /// Every problem found is reported, each at the pointer of the offending
    /// field (`{pointer}/Variable`, `{pointer}/And/1/NumericEquals`, …).
    pub fn compile(value: &Value, pointer: &str, top_level: bool) -> Result<Rule, Vec<ValidationError>> {
        let mut errors = Vec::new();
        match compile_node(value, pointer, top_level, &mut errors) {
            Some(node) if errors.is_empty() => {
                let uses_context = node.uses_context();
                Ok(Rule { node, uses_context })
            }
            _ => Err(errors),
        }
    }

    /// True when some path of the rule reads the context object.
    pub fn uses_context(&self) -> bool {
        self.uses_context
    }

    /// Evaluates the rule. Comparisons of the wrong type are false; a
    /// `Variable` (or `…Path` operand) that selects nothing fails with
    /// `States.Runtime`, except under `IsPresent`.
    pub fn evaluate(&self, input: &Value, context: &Value) -> Result<bool, Failure> {
        self.node.evaluate(input, context)
    }
}

// ---------------------------------------------------------------------------
// The compiled tree
// ---------------------------------------------------------------------------

/// One node of a compiled rule.
#[derive(Debug, Clone)]
enum Node {
    /// `And`: every rule holds (short-circuits on the first false).
    And(Box<[Node]>),
    /// `Or`: some rule holds (short-circuits on the first true).
    Or(Box<[Node]>),
    /// `Not`: the rule does not hold.
    Not(Box<Node>),
    /// `Variable` with one comparison operator.
    Compare {
        /// The `Variable` path.
        variable: Path,
        /// The operator and its operand.
        test: Test,
    },
}

/// A comparison operator with its compiled operand.
#[derive(Debug, Clone)]
enum Test {
    /// `String*` / `String*Path`.
    String(Relation, Operand<Box<str>>),
    /// `Numeric*` / `Numeric*Path`.
    Numeric(Relation, Operand<Num>),
    /// `BooleanEquals` / `BooleanEqualsPath`.
    Boolean(Operand<bool>),
    /// `Timestamp*` / `Timestamp*Path` (literal operands held as epoch nanoseconds).
    Timestamp(Relation, Operand<i128>),
    /// `StringMatches`.
    Matches(Pattern),
    /// A type test (`IsNull`, …) and the value it expects.
    Is(TypeTest, bool),
}

/// The operand of a comparison: a literal, or a path into the input or context.
#[derive(Debug, Clone)]
enum Operand<T> {
    /// A literal given in the definition, already converted.
    Literal(T),
    /// A `…Path` operand, read at evaluation time.
    Path(Path),
}

/// How the two sides of a comparison must relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
}

impl Relation {
    /// True when `ordering` (of variable against operand) satisfies the
    /// relation; an unordered pair satisfies none.
    fn holds(self, ordering: Option<Ordering>) -> bool {
        let Some(ordering) = ordering else {
            return false;
        };
        match self {
            Relation::Equals => ordering == Ordering::Equal,
            Relation::LessThan => ordering == Ordering::Less,
            Relation::GreaterThan => ordering == Ordering::Greater,
            Relation::LessThanEquals => ordering != Ordering::Greater,
            Relation::GreaterThanEquals => ordering != Ordering::Less,
        }
    }
}

/// The type tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

impl TypeTest {
    /// Whether `value` (known to be present) has the tested type.
    fn matches(self, value: &Value) -> bool {
        match self {
            TypeTest::Null => value.is_null(),
            TypeTest::Present => true,
            TypeTest::Numeric => value.is_number(),
            TypeTest::String => value.is_string(),
            TypeTest::Boolean => value.is_boolean(),
            TypeTest::Timestamp => value.as_str().and_then(timestamp::parse_epoch_nanos).is_some(),
        }
    }
}

impl Node {
    /// True when some path under this node reads the context object.
    fn uses_context(&self) -> bool {
        match self {
            Node::And(nodes) | Node::Or(nodes) => nodes.iter().any(Node::uses_context),
            Node::Not(node) => node.uses_context(),
            Node::Compare { variable, test } => variable.uses_context() || test.uses_context(),
        }
    }

    fn evaluate(&self, input: &Value, context: &Value) -> Result<bool, Failure> {
        match self {
            Node::And(nodes) => {
                for node in nodes.iter() {
                    if !node.evaluate(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Node::Or(nodes) => {
                for node in nodes.iter() {
                    if node.evaluate(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Node::Not(node) => Ok(!node.evaluate(input, context)?),
            Node::Compare { variable, test } => match variable.select(input, context) {
                Ok(value) => test.evaluate(&value, input, context),
                Err(_) => match test {
                    Test::Is(TypeTest::Present, expected) => Ok(!*expected),
                    _ => Err(invalid_path(variable)),
                },
            },
        }
    }
}

impl Test {
    /// True when some operand path reads the context object.
    fn uses_context(&self) -> bool {
        match self {
            Test::String(_, operand) => operand.uses_context(),
            Test::Numeric(_, operand) => operand.uses_context(),
            Test::Boolean(operand) => operand.uses_context(),
            Test::Timestamp(_, operand) => operand.uses_context(),
            Test::Matches(_) | Test::Is(..) => false,
        }
    }

    /// Applies the test to the (present) value of the `Variable`. A `…Path`
    /// operand is read even when the variable has the wrong type, so that a
    /// missing operand always fails.
    fn evaluate(&self, value: &Value, input: &Value, context: &Value) -> Result<bool, Failure> {
        Ok(match self {
            Test::String(relation, operand) => {
                let selected;
                let right = match operand {
                    Operand::Literal(text) => Some(&**text),
                    Operand::Path(path) => {
                        selected = select(path, input, context)?;
                        selected.as_str()
                    }
                };
                match (value.as_str(), right) {
                    (Some(left), Some(right)) => relation.holds(Some(left.cmp(right))),
                    _ => false,
                }
            }
            Test::Numeric(relation, operand) => {
                let right = operand.read(input, context, |v| v.as_number().map(Num::from))?;
                match (value.as_number().map(Num::from), right) {
                    (Some(left), Some(right)) => relation.holds(left.compare(right)),
                    _ => false,
                }
            }
            Test::Boolean(operand) => {
                let right = operand.read(input, context, Value::as_bool)?;
                match (value.as_bool(), right) {
                    (Some(left), Some(right)) => left == right,
                    _ => false,
                }
            }
            Test::Timestamp(relation, operand) => {
                let right = operand.read(input, context, |v| v.as_str().and_then(timestamp::parse_epoch_nanos))?;
                match (value.as_str().and_then(timestamp::parse_epoch_nanos), right) {
                    (Some(left), Some(right)) => relation.holds(Some(left.cmp(&right))),
                    _ => false,
                }
            }
            Test::Matches(pattern) => value.as_str().is_some_and(|text| pattern.matches(text)),
            Test::Is(test, expected) => test.matches(value) == *expected,
        })
    }
}

impl<T> Operand<T> {
    fn uses_context(&self) -> bool {
        match self {
            Operand::Literal(_) => false,
            Operand::Path(path) => path.uses_context(),
        }
    }
}

impl<T: Copy> Operand<T> {
    /// The operand's value: the literal, or the value its path selects,
    /// converted by `convert` (`None` when of the wrong type).
    fn read(
        &self,
        input: &Value,
        context: &Value,
        convert: impl FnOnce(&Value) -> Option<T>,
    ) -> Result<Option<T>, Failure> {
        match self {
            Operand::Literal(literal) => Ok(Some(*literal)),
            Operand::Path(path) => Ok(convert(&*select(path, input, context)?)),
        }
    }
}

/// The value `path` selects; a path that selects nothing is a `States.Runtime` failure.
fn select<'v>(path: &Path, input: &'v Value, context: &'v Value) -> Result<Cow<'v, Value>, Failure> {
    path.select(input, context).map_err(|_| invalid_path(path))
}

/// The `States.Runtime` failure of a path that selects nothing.
fn invalid_path(path: &Path) -> Failure {
    Failure::runtime(format!(
        "Invalid path '{}': The choice state's condition path references an invalid value.",
        path.text()
    ))
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/// A JSON number, kept exact: integers compare exactly with each other and
/// with floats, whatever their magnitude.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
}

/// 2^63 as a float: the first float above every `i64`.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
/// 2^64 as a float: the first float above every `u64`.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

impl From<&Number> for Num {
    fn from(number: &Number) -> Num {
        if let Some(int) = number.as_i64() {
            Num::Int(int)
        } else if let Some(uint) = number.as_u64() {
            Num::UInt(uint)
        } else {
            Num::Float(number.as_f64().unwrap_or(f64::NAN))
        }
    }
}

impl Num {
    /// How `self` orders against `other`; `None` only for NaN.
    fn compare(self, other: Num) -> Option<Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (Num::UInt(a), Num::UInt(b)) => Some(a.cmp(&b)),
            (Num::Int(a), Num::UInt(b)) => Some(compare_int_uint(a, b)),
            (Num::UInt(a), Num::Int(b)) => Some(compare_int_uint(b, a).reverse()),
            (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b),
            (Num::Int(a), Num::Float(b)) => compare_int_float(a, b),
            (Num::Float(a), Num::Int(b)) => compare_int_float(b, a).map(Ordering::reverse),
            (Num::UInt(a), Num::Float(b)) => compare_uint_float(a, b),
            (Num::Float(a), Num::UInt(b)) => compare_uint_float(b, a).map(Ordering::reverse),
        }
    }
}

fn compare_int_uint(a: i64, b: u64) -> Ordering {
    match u64::try_from(a) {
        Ok(a) => a.cmp(&b),
        Err(_) => Ordering::Less,
    }
}

/// Exact comparison of an integer with a float (no rounding of the integer).
fn compare_int_float(a: i64, b: f64) -> Option<Ordering> {
    if b.is_nan() {
        return None;
    }
    if b >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if b < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let whole = b.trunc();
    // In range and integral: the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    let whole_int = whole as i64;
    Some(a.cmp(&whole_int).then_with(|| 0.0f64.partial_cmp(&(b - whole)).unwrap_or(Ordering::Equal)))
}

/// Exact comparison of an unsigned integer with a float.
fn compare_uint_float(a: u64, b: f64) -> Option<Ordering> {
    if b.is_nan() {
        return None;
    }
    if b < 0.0 {
        return Some(Ordering::Greater);
    }
    if b >= TWO_POW_64 {
        return Some(Ordering::Less);
    }
    let whole = b.trunc();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole_uint = whole as u64;
    Some(a.cmp(&whole_uint).then_with(|| 0.0f64.partial_cmp(&(b - whole)).unwrap_or(Ordering::Equal)))
}

// ---------------------------------------------------------------------------
// StringMatches
// ---------------------------------------------------------------------------

/// A compiled `StringMatches` pattern: literal characters and `*` wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    tokens: Box<[Token]>,
}

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// Exactly this character.
    Char(char),
    /// Zero or more characters.
    Star,
}

impl Pattern {
    /// Compiles a pattern: `*` is a wildcard, `\*` a literal star, `\\` a
    /// literal backslash; any other escape is an error (the message says which).
    fn compile(text: &str) -> Result<Pattern, String> {
        let mut tokens = Vec::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    // Consecutive stars match the same as one.
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                '\\' => match chars.next() {
                    Some(escaped @ ('*' | '\\')) => tokens.push(Token::Char(escaped)),
                    Some(other) => return Err(format!("invalid escape sequence '\\{other}'")),
                    None => return Err("a trailing '\\' escapes nothing".to_owned()),
                },
                other => tokens.push(Token::Char(other)),
            }
        }
        Ok(Pattern { tokens: tokens.into_boxed_slice() })
    }

    /// Whether the whole of `text` matches. Greedy two-pointer matching:
    /// on a mismatch, only the most recent star is widened, so the time is
    /// O(pattern × text) at worst, never exponential.
    fn matches(&self, text: &str) -> bool {
        let tokens = &self.tokens;
        let mut token = 0;
        let mut at = 0;
        // The last star seen and the text position its match currently ends at.
        let mut backtrack: Option<(usize, usize)> = None;
        while let Some(c) = text[at..].chars().next() {
            match tokens.get(token) {
                Some(Token::Char(expected)) if *expected == c => {
                    token += 1;
                    at += c.len_utf8();
                }
                Some(Token::Star) => {
                    backtrack = Some((token, at));
                    token += 1;
                }
                _ => match backtrack {
                    Some((star, star_end)) => {
                        // Let the star swallow one more character and retry.
                        let widened = star_end + text[star_end..].chars().next().map_or(0, char::len_utf8);
                        backtrack = Some((star, widened));
                        token = star + 1;
                        at = widened;
                    }
                    None => return false,
                },
            }
        }
        tokens[token..].iter().all(|t| *t == Token::Star)
    }
}

// ---------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------

/// The operand family of a comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String,
    Numeric,
    Boolean,
    Timestamp,
    Matches,
    Is(TypeTest),
}

/// What a comparison operator's name means.
#[derive(Debug, Clone, Copy)]
struct Operator {
    family: Family,
    relation: Relation,
    /// The `…Path` twin: the operand is a path.
    path: bool,
}

/// Recognises a comparison operator name (`NumericLessThanPath`, `IsNull`, …).
fn operator(name: &str) -> Option<Operator> {
    let is = |test| Some(Operator { family: Family::Is(test), relation: Relation::Equals, path: false });
    match name {
        "IsNull" => return is(TypeTest::Null),
        "IsPresent" => return is(TypeTest::Present),
        "IsNumeric" => return is(TypeTest::Numeric),
        "IsString" => return is(TypeTest::String),
        "IsBoolean" => return is(TypeTest::Boolean),
        "IsTimestamp" => return is(TypeTest::Timestamp),
        "StringMatches" => {
            return Some(Operator { family: Family::Matches, relation: Relation::Equals, path: false });
        }
        _ => {}
    }
    let (base, path) = match name.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let (family, relation) = if let Some(rest) = base.strip_prefix("String") {
        (Family::String, relation(rest)?)
    } else if let Some(rest) = base.strip_prefix("Numeric") {
        (Family::Numeric, relation(rest)?)
    } else if let Some(rest) = base.strip_prefix("Timestamp") {
        (Family::Timestamp, relation(rest)?)
    } else if base == "BooleanEquals" {
        (Family::Boolean, Relation::Equals)
    } else {
        return None;
    };
    Some(Operator { family, relation, path })
}

fn relation(suffix: &str) -> Option<Relation> {
    match suffix {
        "Equals" => Some(Relation::Equals),
        "LessThan" => Some(Relation::LessThan),
        "GreaterThan" => Some(Relation::GreaterThan),
        "LessThanEquals" => Some(Relation::LessThanEquals),
        "GreaterThanEquals" => Some(Relation::GreaterThanEquals),
        _ => None,
    }
}

/// `pointer` extended by one object key, escaped as RFC 6901 requires.
fn child(pointer: &str, key: &str) -> String {
    if key.contains(['~', '/']) {
        format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
    } else {
        format!("{pointer}/{key}")
    }
}

/// The message for a field of the wrong JSON type.
fn wrong_type(field: &str, expected: &str) -> String {
    format!("The value for the field '{field}' must be a {expected}")
}

/// Compiles the rule at `pointer`, pushing every problem onto `errors`.
/// Returns a node only when this rule (and everything under it) is valid.
fn compile_node(value: &Value, pointer: &str, top_level: bool, errors: &mut Vec<ValidationError>) -> Option<Node> {
    let Some(object) = value.as_object() else {
        errors.push(ValidationError::schema(pointer, "The Choice Rule must be an OBJECT"));
        return None;
    };
    let before = errors.len();
    let node = compile_object(object, pointer, top_level, errors);
    if errors.len() == before { node } else { None }
}

fn compile_object(
    object: &Map<String, Value>,
    pointer: &str,
    top_level: bool,
    errors: &mut Vec<ValidationError>,
) -> Option<Node> {
    let mut variable = None;
    let mut composites: Vec<(&str, &Value)> = Vec::new();
    let mut operators: Vec<(&str, Operator, &Value)> = Vec::new();

    for (key, value) in object {
        match key.as_str() {
            "Comment" => {
                if !value.is_string() {
                    errors.push(ValidationError::schema(child(pointer, key), wrong_type(key, "STRING")));
                }
            }
            "Next" => {
                if !top_level {
                    errors.push(ValidationError::schema(
                        child(pointer, key),
                        "Field 'Next' is not supported: nested Choice Rules have no 'Next'",
                    ));
                }
            }
            "Variable" => variable = Some(value),
            "And" | "Or" | "Not" => composites.push((key, value)),
            _ => match operator(key) {
                Some(op) => operators.push((key, op, value)),
                None => {
                    errors
                        .push(ValidationError::schema(child(pointer, key), format!("Field '{key}' is not supported")));
                }
            },
        }
    }
    if top_level && !object.contains_key("Next") {
        errors.push(ValidationError::schema(pointer, "The field 'Next' is required but was missing"));
    }

    if let Some(&(first, first_value)) = composites.first() {
        for &(other, _) in &composites[1..] {
            errors.push(ValidationError::schema(
                child(pointer, other),
                format!("Field '{other}' is not supported together with '{first}'"),
            ));
        }
        if variable.is_some() {
            errors.push(ValidationError::schema(
                child(pointer, "Variable"),
                format!("Field 'Variable' is not supported together with '{first}'"),
            ));
        }
        for &(name, _, _) in &operators {
            errors.push(ValidationError::schema(
                child(pointer, name),
                format!("Field '{name}' is not supported together with '{first}'"),
            ));
        }
        return compile_composite(first, first_value, &child(pointer, first), errors);
    }

    let variable = match variable {
        None => {
            let message = if operators.is_empty() {
                "The Choice Rule must have a 'Variable' and a comparison operator, or one of 'And', 'Or', 'Not'"
            } else {
                "The field 'Variable' is required but was missing"
            };
            errors.push(ValidationError::schema(pointer, message));
            None
        }
        Some(value) => compile_path("Variable", value, &child(pointer, "Variable"), errors),
    };
    let test = match operators.as_slice() {
        [] => {
            if variable.is_some() {
                errors.push(ValidationError::schema(
                    pointer,
                    "The Choice Rule must have exactly one comparison operator",
                ));
            }
            None
        }
        [(name, op, value)] => compile_test(name, *op, value, &child(pointer, name), errors),
        [(first, ..), rest @ ..] => {
            for (name, ..) in rest {
                errors.push(ValidationError::schema(
                    child(pointer, name),
                    format!("The Choice Rule must have exactly one comparison operator, found '{first}' and '{name}'"),
                ));
            }
            None
        }
    };
    Some(Node::Compare { variable: variable?, test: test? })
}

/// Compiles the value of `And`, `Or` (non-empty arrays of rules) or `Not` (a rule) at `pointer`.
fn compile_composite(name: &str, value: &Value, pointer: &str, errors: &mut Vec<ValidationError>) -> Option<Node> {
    if name == "Not" {
        return compile_node(value, pointer, false, errors).map(|node| Node::Not(Box::new(node)));
    }
    let rules = match value.as_array() {
        Some(rules) if !rules.is_empty() => rules,
        _ => {
            errors.push(ValidationError::schema(pointer, wrong_type(name, "non-empty ARRAY")));
            return None;
        }
    };
    let mut nodes = Vec::with_capacity(rules.len());
    for (index, rule) in rules.iter().enumerate() {
        if let Some(node) = compile_node(rule, &format!("{pointer}/{index}"), false, errors) {
            nodes.push(node);
        }
    }
    if nodes.len() != rules.len() {
        return None;
    }
    let nodes = nodes.into_boxed_slice();
    Some(if name == "And" { Node::And(nodes) } else { Node::Or(nodes) })
}

/// Compiles a path-valued field (`Variable` or a `…Path` operand).
fn compile_path(field: &str, value: &Value, pointer: &str, errors: &mut Vec<ValidationError>) -> Option<Path> {
    let Some(text) = value.as_str() else {
        errors.push(ValidationError::schema(pointer, wrong_type(field, "STRING")));
        return None;
    };
    match Path::parse_reference(text) {
        Ok(path) => Some(path),
        Err(reason) => {
            errors.push(ValidationError::new(
                ValidationCode::InvalidJsonPath,
                pointer,
                format!("The value for the field '{field}' must be a valid JSONPath: {reason}"),
            ));
            None
        }
    }
}

/// Compiles one comparison operator and its operand, type-checking literals.
fn compile_test(
    name: &str,
    op: Operator,
    value: &Value,
    pointer: &str,
    errors: &mut Vec<ValidationError>,
) -> Option<Test> {
    if op.path {
        let path = compile_path(name, value, pointer, errors)?;
        return Some(match op.family {
            Family::String => Test::String(op.relation, Operand::Path(path)),
            Family::Numeric => Test::Numeric(op.relation, Operand::Path(path)),
            Family::Boolean => Test::Boolean(Operand::Path(path)),
            Family::Timestamp => Test::Timestamp(op.relation, Operand::Path(path)),
            // `operator` never marks these as path operators; report rather than panic.
            Family::Matches | Family::Is(_) => {
                errors.push(ValidationError::schema(pointer, format!("Field '{name}' is not supported")));
                return None;
            }
        });
    }
    let mut fail = |message: String| {
        errors.push(ValidationError::schema(pointer, message));
        None
    };
    match op.family {
        Family::String => match value.as_str() {
            Some(text) => Some(Test::String(op.relation, Operand::Literal(text.into()))),
            None => fail(wrong_type(name, "STRING")),
        },
        Family::Numeric => match value.as_number() {
            Some(number) => Some(Test::Numeric(op.relation, Operand::Literal(Num::from(number)))),
            None => fail(wrong_type(name, "NUMBER")),
        },
        Family::Boolean => match value.as_bool() {
            Some(flag) => Some(Test::Boolean(Operand::Literal(flag))),
            None => fail(wrong_type(name, "BOOLEAN")),
        },
        Family::Timestamp => match value.as_str().and_then(timestamp::parse_epoch_nanos) {
            Some(nanos) => Some(Test::Timestamp(op.relation, Operand::Literal(nanos))),
            None => fail(wrong_type(name, "valid ISO-8601 extended offset date-time format string")),
        },
        Family::Matches => match value.as_str() {
            Some(text) => match Pattern::compile(text) {
                Ok(pattern) => Some(Test::Matches(pattern)),
                Err(reason) => fail(format!("The value for the field '{name}' is not a valid pattern: {reason}")),
            },
            None => fail(wrong_type(name, "STRING")),
        },
        Family::Is(test) => match value.as_bool() {
            Some(expected) => Some(Test::Is(test, expected)),
            None => fail(wrong_type(name, "BOOLEAN")),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const AT: &str = "/States/C/Choices/0";

    /// Compiles `rule` as a top-level Choice rule (adding a `Next`).
    fn compile(mut rule: Value) -> Rule {
        rule["Next"] = json!("Target");
        match Rule::compile(&rule, AT, true) {
            Ok(rule) => rule,
            Err(errors) => panic!("{rule} does not compile: {errors:?}"),
        }
    }

    fn eval(rule: Value, input: Value) -> Result<bool, Failure> {
        compile(rule).evaluate(&input, &Value::Null)
    }

    fn check(rule: Value, input: Value) -> bool {
        match eval(rule.clone(), input.clone()) {
            Ok(result) => result,
            Err(failure) => panic!("{rule} on {input} failed: {failure}"),
        }
    }

    /// `{"Variable": "$.v", op: operand}` on `{"v": value}`.
    fn op(op: &str, operand: Value, value: Value) -> bool {
        check(json!({"Variable": "$.v", op: operand}), json!({"v": value}))
    }

    /// `{"Variable": "$.v", opPath: "$.w"}` on `{"v": value, "w": other}`.
    fn op_path(op: &str, value: Value, other: Value) -> bool {
        check(json!({"Variable": "$.v", op: "$.w"}), json!({"v": value, "w": other}))
    }

    /// The (pointer, code) of every error of `rule` compiled at `AT`.
    fn errors(rule: Value, top_level: bool) -> Vec<(String, ValidationCode)> {
        match Rule::compile(&rule, AT, top_level) {
            Ok(_) => panic!("{rule} compiled"),
            Err(errors) => errors.into_iter().map(|e| (e.pointer, e.code)).collect(),
        }
    }

    fn schema(suffix: &str) -> (String, ValidationCode) {
        (format!("{AT}{suffix}"), ValidationCode::SchemaValidationFailed)
    }

    fn messages(rule: Value, top_level: bool) -> Vec<String> {
        match Rule::compile(&rule, AT, top_level) {
            Ok(_) => panic!("{rule} compiled"),
            Err(errors) => errors.into_iter().map(|e| e.message).collect(),
        }
    }

    fn runtime(path: &str) -> Failure {
        Failure::runtime(format!(
            "Invalid path '{path}': The choice state's condition path references an invalid value."
        ))
    }

    // --- String ------------------------------------------------------------

    #[test]
    fn string_equals() {
        assert!(op("StringEquals", json!("abc"), json!("abc")));
        assert!(!op("StringEquals", json!("abc"), json!("abd")));
        assert!(!op("StringEquals", json!("abc"), json!("ABC")));
        assert!(op("StringEquals", json!(""), json!("")));
        assert!(op("StringEquals", json!("ünï ✓"), json!("ünï ✓")));
    }

    #[test]
    fn string_ordering() {
        assert!(op("StringLessThan", json!("b"), json!("a")));
        assert!(!op("StringLessThan", json!("a"), json!("a")));
        assert!(!op("StringLessThan", json!("a"), json!("b")));
        assert!(op("StringGreaterThan", json!("a"), json!("b")));
        assert!(!op("StringGreaterThan", json!("b"), json!("b")));
        assert!(op("StringLessThanEquals", json!("a"), json!("a")));
        assert!(op("StringLessThanEquals", json!("b"), json!("a")));
        assert!(!op("StringLessThanEquals", json!("a"), json!("b")));
        assert!(op("StringGreaterThanEquals", json!("a"), json!("a")));
        assert!(op("StringGreaterThanEquals", json!("a"), json!("b")));
        assert!(!op("StringGreaterThanEquals", json!("b"), json!("a")));
        // Code point order: upper case before lower case, prefixes first.
        assert!(op("StringLessThan", json!("a"), json!("Z")));
        assert!(op("StringLessThan", json!("abc"), json!("ab")));
        assert!(op("StringGreaterThan", json!("é"), json!("\u{1F600}")));
    }

    #[test]
    fn string_wrong_type_is_false() {
        for name in
            ["StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals", "StringGreaterThanEquals"]
        {
            for value in [json!(null), json!(1), json!(true), json!(["a"]), json!({"a": 1})] {
                assert!(!op(name, json!("a"), value.clone()), "{name} on {value}");
            }
        }
        assert!(!op("StringEquals", json!("1"), json!(1)));
    }

    #[test]
    fn string_path_variants() {
        assert!(op_path("StringEqualsPath", json!("a"), json!("a")));
        assert!(!op_path("StringEqualsPath", json!("a"), json!("b")));
        assert!(op_path("StringLessThanPath", json!("a"), json!("b")));
        assert!(!op_path("StringLessThanPath", json!("b"), json!("b")));
        assert!(op_path("StringGreaterThanPath", json!("b"), json!("a")));
        assert!(!op_path("StringGreaterThanPath", json!("a"), json!("a")));
        assert!(op_path("StringLessThanEqualsPath", json!("a"), json!("a")));
        assert!(!op_path("StringLessThanEqualsPath", json!("b"), json!("a")));
        assert!(op_path("StringGreaterThanEqualsPath", json!("b"), json!("b")));
        assert!(!op_path("StringGreaterThanEqualsPath", json!("a"), json!("b")));
        // Either side of the wrong type → false.
        assert!(!op_path("StringEqualsPath", json!("1"), json!(1)));
        assert!(!op_path("StringEqualsPath", json!(1), json!("1")));
        assert!(!op_path("StringEqualsPath", json!(null), json!(null)));
    }

    // --- StringMatches -------------------------------------------------------

    fn matches(pattern: &str, text: &str) -> bool {
        op("StringMatches", json!(pattern), json!(text))
    }

    #[test]
    fn string_matches_suffix_and_infix() {
        assert!(matches("*.log", "app.log"));
        assert!(matches("*.log", ".log"));
        assert!(!matches("*.log", "app.log.1"));
        assert!(!matches("*.log", "app.txt"));
        assert!(matches("log-*-2024", "log-jan-2024"));
        assert!(matches("log-*-2024", "log--2024"));
        assert!(matches("log-*-2024", "log-a-b-2024"));
        assert!(!matches("log-*-2024", "log-jan-2023"));
        assert!(!matches("log-*-2024", "log-2024"));
        assert!(!matches("log-*-2024", "xlog-jan-2024"));
    }

    #[test]
    fn string_matches_star_alone_and_empty() {
        assert!(matches("*", ""));
        assert!(matches("*", "anything at all"));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
        assert!(matches("abc", "abc"));
        assert!(!matches("abc", "abcd"));
        assert!(!matches("abc", "ab"));
    }

    #[test]
    fn string_matches_multiple_stars() {
        assert!(matches("a*b*c", "abc"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(matches("a*b*c", "abbbcbc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("*a*", "banana"));
        assert!(!matches("*a*", "xyz"));
        assert!(matches("**", ""));
        assert!(matches("*ab*ab*", "xxabyyabzz"));
        assert!(!matches("*ab*ab*", "xxabyyzz"));
        assert!(matches("ü*✓", "üñï✓"));
    }

    #[test]
    fn string_matches_escapes() {
        // JSON "\\*" is the two characters \* : a literal star.
        assert!(matches("a\\*b", "a*b"));
        assert!(!matches("a\\*b", "axb"));
        assert!(!matches("a\\*b", "ab"));
        assert!(matches("\\**", "*anything"));
        assert!(!matches("\\**", "anything"));
        // JSON "\\\\" is \\ : a literal backslash.
        assert!(matches("C:\\\\*", "C:\\Users"));
        assert!(!matches("C:\\\\*", "C:/Users"));
        assert!(matches("\\\\\\*", "\\*"));
    }

    #[test]
    fn string_matches_wrong_type_is_false() {
        assert!(!op("StringMatches", json!("*"), json!(1)));
        assert!(!op("StringMatches", json!("*"), json!(null)));
        assert!(!op("StringMatches", json!("*"), json!(["a"])));
    }

    #[test]
    fn string_matches_is_not_exponential() {
        let text = "a".repeat(5_000);
        let pattern = Pattern::compile(&format!("{}b", "*a".repeat(50))).unwrap();
        assert!(!pattern.matches(&text));
        let pattern = Pattern::compile(&"*a".repeat(50)).unwrap();
        assert!(pattern.matches(&text));
    }

    #[test]
    fn pattern_compile_rejects_bad_escapes() {
        assert!(Pattern::compile("a\\b").is_err());
        assert!(Pattern::compile("a\\").is_err());
        assert!(Pattern::compile("\\n").is_err());
        assert_eq!(
            Pattern::compile("a**\\*\\\\").unwrap().tokens.as_ref(),
            &[Token::Char('a'), Token::Star, Token::Char('*'), Token::Char('\\')]
        );
    }

    // --- Numeric -------------------------------------------------------------

    #[test]
    fn numeric_equals() {
        assert!(op("NumericEquals", json!(1), json!(1)));
        assert!(!op("NumericEquals", json!(1), json!(2)));
        assert!(op("NumericEquals", json!(0), json!(0.0)));
        assert!(op("NumericEquals", json!(0.0), json!(0)));
        assert!(op("NumericEquals", json!(-0.0), json!(0)));
        assert!(op("NumericEquals", json!(1.5), json!(1.5)));
        assert!(!op("NumericEquals", json!(1), json!(1.0000001)));
        assert!(op("NumericEquals", json!(-3), json!(-3)));
        assert!(op("NumericEquals", json!(u64::MAX), json!(u64::MAX)));
    }

    #[test]
    fn numeric_large_integers_compare_exactly() {
        // 2^53 + 1 is not representable as f64: compared as f64 these would be equal.
        assert!(!op("NumericEquals", json!(9_007_199_254_740_993_i64), json!(9_007_199_254_740_992_i64)));
        assert!(op("NumericGreaterThan", json!(9_007_199_254_740_992_i64), json!(9_007_199_254_740_993_i64)));
        assert!(!op("NumericEquals", json!(9_007_199_254_740_992.0), json!(9_007_199_254_740_993_i64)));
        assert!(op("NumericGreaterThan", json!(9_007_199_254_740_992.0), json!(9_007_199_254_740_993_i64)));
        assert!(op("NumericLessThan", json!(9_007_199_254_740_994.0), json!(9_007_199_254_740_993_i64)));
        assert!(op("NumericGreaterThan", json!(-1), json!(u64::MAX)));
        assert!(op("NumericLessThan", json!(u64::MAX), json!(i64::MIN)));
        assert!(op("NumericLessThan", json!(1e300), json!(u64::MAX)));
        assert!(op("NumericGreaterThan", json!(-1e300), json!(i64::MIN)));
    }

    #[test]
    fn numeric_ordering() {
        assert!(op("NumericLessThan", json!(2), json!(1)));
        assert!(op("NumericLessThan", json!(1.5), json!(1)));
        assert!(!op("NumericLessThan", json!(1), json!(1)));
        assert!(!op("NumericLessThan", json!(1), json!(1.5)));
        assert!(op("NumericGreaterThan", json!(1), json!(1.5)));
        assert!(op("NumericGreaterThan", json!(-2), json!(-1.5)));
        assert!(!op("NumericGreaterThan", json!(1), json!(1.0)));
        assert!(op("NumericLessThanEquals", json!(1), json!(1.0)));
        assert!(op("NumericLessThanEquals", json!(1), json!(0)));
        assert!(!op("NumericLessThanEquals", json!(1), json!(1.01)));
        assert!(op("NumericGreaterThanEquals", json!(1.0), json!(1)));
        assert!(op("NumericGreaterThanEquals", json!(1), json!(2)));
        assert!(!op("NumericGreaterThanEquals", json!(1), json!(0.99)));
        assert!(op("NumericLessThan", json!(-1.5), json!(-2)));
        assert!(!op("NumericLessThan", json!(-1.5), json!(-1)));
    }

    #[test]
    fn numeric_wrong_type_is_false() {
        for name in [
            "NumericEquals",
            "NumericLessThan",
            "NumericGreaterThan",
            "NumericLessThanEquals",
            "NumericGreaterThanEquals",
        ] {
            for value in [json!(null), json!("1"), json!(true), json!([1]), json!({"n": 1})] {
                assert!(!op(name, json!(1), value.clone()), "{name} on {value}");
            }
        }
    }

    #[test]
    fn numeric_path_variants() {
        assert!(op_path("NumericEqualsPath", json!(3), json!(3.0)));
        assert!(!op_path("NumericEqualsPath", json!(3), json!(4)));
        assert!(op_path("NumericLessThanPath", json!(3), json!(4)));
        assert!(!op_path("NumericLessThanPath", json!(4), json!(4)));
        assert!(op_path("NumericGreaterThanPath", json!(5), json!(4)));
        assert!(!op_path("NumericGreaterThanPath", json!(4), json!(4)));
        assert!(op_path("NumericLessThanEqualsPath", json!(4), json!(4)));
        assert!(!op_path("NumericLessThanEqualsPath", json!(5), json!(4)));
        assert!(op_path("NumericGreaterThanEqualsPath", json!(4), json!(4)));
        assert!(!op_path("NumericGreaterThanEqualsPath", json!(3), json!(4)));
        assert!(!op_path("NumericEqualsPath", json!(3), json!("3")));
        assert!(!op_path("NumericEqualsPath", json!("3"), json!(3)));
    }

    #[test]
    fn num_compare_helpers() {
        assert_eq!(Num::Int(3).compare(Num::Float(3.5)), Some(Ordering::Less));
        assert_eq!(Num::Int(-3).compare(Num::Float(-3.5)), Some(Ordering::Greater));
        assert_eq!(Num::Int(i64::MAX).compare(Num::Float(TWO_POW_63)), Some(Ordering::Less));
        assert_eq!(Num::Int(i64::MIN).compare(Num::Float(-TWO_POW_63)), Some(Ordering::Equal));
        assert_eq!(Num::UInt(u64::MAX).compare(Num::Float(TWO_POW_64)), Some(Ordering::Less));
        assert_eq!(Num::Float(0.5).compare(Num::UInt(0)), Some(Ordering::Greater));
        assert_eq!(Num::Float(f64::NAN).compare(Num::Int(0)), None);
        assert_eq!(Num::UInt(1).compare(Num::Int(-1)), Some(Ordering::Greater));
    }

    // --- Boolean -------------------------------------------------------------

    #[test]
    fn boolean_equals() {
        assert!(op("BooleanEquals", json!(true), json!(true)));
        assert!(op("BooleanEquals", json!(false), json!(false)));
        assert!(!op("BooleanEquals", json!(true), json!(false)));
        assert!(!op("BooleanEquals", json!(false), json!(true)));
        for value in [json!(null), json!("true"), json!(1), json!(0), json!([])] {
            assert!(!op("BooleanEquals", json!(true), value.clone()), "{value}");
            assert!(!op("BooleanEquals", json!(false), value.clone()), "{value}");
        }
    }

    #[test]
    fn boolean_equals_path() {
        assert!(op_path("BooleanEqualsPath", json!(true), json!(true)));
        assert!(!op_path("BooleanEqualsPath", json!(true), json!(false)));
        assert!(!op_path("BooleanEqualsPath", json!(true), json!("true")));
        assert!(!op_path("BooleanEqualsPath", json!(0), json!(false)));
    }

    // --- Timestamp -----------------------------------------------------------

    const T0: &str = "2016-12-05T21:29:29Z";
    const T0_PLUS_ONE: &str = "2016-12-05T22:29:29+01:00";
    const T1: &str = "2016-12-05T21:29:29.001Z";

    #[test]
    fn timestamp_operators() {
        assert!(op("TimestampEquals", json!(T0), json!(T0)));
        assert!(op("TimestampEquals", json!(T0), json!(T0_PLUS_ONE)));
        assert!(op("TimestampEquals", json!(T0), json!("2016-12-05T21:29:29.000000000Z")));
        assert!(!op("TimestampEquals", json!(T0), json!(T1)));
        assert!(op("TimestampLessThan", json!(T1), json!(T0)));
        assert!(!op("TimestampLessThan", json!(T0), json!(T0_PLUS_ONE)));
        assert!(op("TimestampGreaterThan", json!(T0), json!(T1)));
        assert!(!op("TimestampGreaterThan", json!(T1), json!(T0)));
        assert!(op("TimestampLessThanEquals", json!(T0), json!(T0_PLUS_ONE)));
        assert!(!op("TimestampLessThanEquals", json!(T0), json!(T1)));
        assert!(op("TimestampGreaterThanEquals", json!(T0_PLUS_ONE), json!(T0)));
        assert!(!op("TimestampGreaterThanEquals", json!(T1), json!(T0)));
        assert!(op("TimestampLessThan", json!("2016-12-05T21:29:29-00:30"), json!(T0_PLUS_ONE)));
    }

    #[test]
    fn timestamp_wrong_type_or_shape_is_false() {
        for name in [
            "TimestampEquals",
            "TimestampLessThan",
            "TimestampGreaterThan",
            "TimestampLessThanEquals",
            "TimestampGreaterThanEquals",
        ] {
            for value in [
                json!(null),
                json!(1_480_973_369),
                json!("2016-12-05T21:29:29"),
                json!("2016-12-05 21:29:29Z"),
                json!("2016-12-05t21:29:29z"),
                json!("2016-13-05T21:29:29Z"),
                json!("not a date"),
            ] {
                assert!(!op(name, json!(T0), value.clone()), "{name} on {value}");
            }
        }
    }

    #[test]
    fn timestamp_path_variants() {
        assert!(op_path("TimestampEqualsPath", json!(T0), json!(T0_PLUS_ONE)));
        assert!(!op_path("TimestampEqualsPath", json!(T0), json!(T1)));
        assert!(op_path("TimestampLessThanPath", json!(T0), json!(T1)));
        assert!(!op_path("TimestampLessThanPath", json!(T1), json!(T0)));
        assert!(op_path("TimestampGreaterThanPath", json!(T1), json!(T0)));
        assert!(!op_path("TimestampGreaterThanPath", json!(T0), json!(T0)));
        assert!(op_path("TimestampLessThanEqualsPath", json!(T0), json!(T0)));
        assert!(!op_path("TimestampLessThanEqualsPath", json!(T1), json!(T0)));
        assert!(op_path("TimestampGreaterThanEqualsPath", json!(T0), json!(T0)));
        assert!(!op_path("TimestampGreaterThanEqualsPath", json!(T0), json!(T1)));
        assert!(!op_path("TimestampEqualsPath", json!(T0), json!("2016-12-05T21:29:29")));
        assert!(!op_path("TimestampEqualsPath", json!("2016-12-05T21:29:29"), json!(T0)));
        assert!(!op_path("TimestampEqualsPath", json!(T0), json!(0)));
    }

    // --- Type tests ----------------------------------------------------------

    #[test]
    fn type_test_truth_table() {
        // value, IsNull, IsNumeric, IsString, IsBoolean, IsTimestamp
        let table = [
            (json!(null), [true, false, false, false, false]),
            (json!(0), [false, true, false, false, false]),
            (json!(0.0), [false, true, false, false, false]),
            (json!(1), [false, true, false, false, false]),
            (json!(1.1), [false, true, false, false, false]),
            (json!(-7), [false, true, false, false, false]),
            (json!("1"), [false, false, true, false, false]),
            (json!(""), [false, false, true, false, false]),
            (json!("null"), [false, false, true, false, false]),
            (json!("2012-10-09T19:00:55Z"), [false, false, true, false, true]),
            (json!("2012-10-09T19:00:55.123+05:00"), [false, false, true, false, true]),
            (json!("2012-10-09T19:00:55"), [false, false, true, false, false]),
            (json!(true), [false, false, false, true, false]),
            (json!(false), [false, false, false, true, false]),
            (json!([]), [false, false, false, false, false]),
            (json!({}), [false, false, false, false, false]),
        ];
        let names = ["IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"];
        for (value, expected) in table {
            for (name, expected) in names.iter().zip(expected) {
                assert_eq!(op(name, json!(true), value.clone()), expected, "{name}: true on {value}");
                assert_eq!(op(name, json!(false), value.clone()), !expected, "{name}: false on {value}");
            }
            assert!(op("IsPresent", json!(true), value.clone()), "IsPresent on {value}");
            assert!(!op("IsPresent", json!(false), value.clone()), "IsPresent: false on {value}");
        }
    }

    #[test]
    fn is_present_on_missing_variable() {
        assert_eq!(eval(json!({"Variable": "$.missing", "IsPresent": true}), json!({})), Ok(false));
        assert_eq!(eval(json!({"Variable": "$.missing", "IsPresent": false}), json!({})), Ok(true));
        assert_eq!(eval(json!({"Variable": "$.a.b.c", "IsPresent": true}), json!({"a": 1})), Ok(false));
        assert_eq!(eval(json!({"Variable": "$.a[3]", "IsPresent": true}), json!({"a": [1]})), Ok(false));
        assert_eq!(eval(json!({"Variable": "$.a", "IsPresent": true}), json!({"a": null})), Ok(true));
    }

    // --- Missing paths -------------------------------------------------------

    #[test]
    fn missing_variable_is_a_runtime_failure() {
        for (name, operand) in [
            ("StringEquals", json!("a")),
            ("StringMatches", json!("*")),
            ("NumericEquals", json!(1)),
            ("BooleanEquals", json!(true)),
            ("TimestampEquals", json!(T0)),
            ("IsNull", json!(true)),
            ("IsNull", json!(false)),
            ("IsString", json!(false)),
            ("IsTimestamp", json!(true)),
            ("StringEqualsPath", json!("$.w")),
        ] {
            let result = eval(json!({"Variable": "$.type", name: operand}), json!({"w": "a"}));
            assert_eq!(result, Err(runtime("$.type")), "{name}");
        }
        let failure = eval(json!({"Variable": "$.type", "StringEquals": "a"}), json!({})).unwrap_err();
        assert_eq!(failure.error, "States.Runtime");
        assert_eq!(
            failure.cause,
            "Invalid path '$.type': The choice state's condition path references an invalid value."
        );
        assert!(failure.is_terminal());
    }

    #[test]
    fn missing_operand_path_is_a_runtime_failure() {
        for name in ["StringEqualsPath", "NumericLessThanPath", "BooleanEqualsPath", "TimestampGreaterThanPath"] {
            let result = eval(json!({"Variable": "$.v", name: "$.other"}), json!({"v": 1}));
            assert_eq!(result, Err(runtime("$.other")), "{name}");
            // Even when the variable has the wrong type for the comparison.
            let result = eval(json!({"Variable": "$.v", name: "$.other"}), json!({"v": null}));
            assert_eq!(result, Err(runtime("$.other")), "{name}");
        }
    }

    // --- Composites ----------------------------------------------------------

    #[test]
    fn and_or_not() {
        let in_twenties = json!({"And": [
            {"Variable": "$.value", "NumericGreaterThanEquals": 20},
            {"Variable": "$.value", "NumericLessThan": 30}
        ]});
        assert!(check(in_twenties.clone(), json!({"value": 22})));
        assert!(!check(in_twenties.clone(), json!({"value": 30})));
        assert!(!check(in_twenties, json!({"value": 19})));

        let either = json!({"Or": [
            {"Variable": "$.type", "StringEquals": "a"},
            {"Variable": "$.type", "StringEquals": "b"}
        ]});
        assert!(check(either.clone(), json!({"type": "a"})));
        assert!(check(either.clone(), json!({"type": "b"})));
        assert!(!check(either, json!({"type": "c"})));

        let not_private = json!({"Not": {"Variable": "$.type", "StringEquals": "Private"}});
        assert!(check(not_private.clone(), json!({"type": "Public"})));
        assert!(!check(not_private, json!({"type": "Private"})));

        let single = json!({"And": [{"Variable": "$.x", "BooleanEquals": true}]});
        assert!(check(single, json!({"x": true})));
    }

    #[test]
    fn nested_composites() {
        let rule = json!({"Or": [
            {"And": [
                {"Variable": "$.kind", "StringEquals": "file"},
                {"Not": {"Variable": "$.name", "StringMatches": "*.tmp"}}
            ]},
            {"Not": {"Not": {"Variable": "$.force", "BooleanEquals": true}}}
        ]});
        assert!(check(rule.clone(), json!({"kind": "file", "name": "a.txt", "force": false})));
        assert!(!check(rule.clone(), json!({"kind": "file", "name": "a.tmp", "force": false})));
        assert!(check(rule.clone(), json!({"kind": "file", "name": "a.tmp", "force": true})));
        assert!(!check(rule, json!({"kind": "dir", "name": "a.txt", "force": false})));
    }

    #[test]
    fn composites_short_circuit() {
        // The second rule would fail (missing variable) if it were evaluated.
        let and = json!({"And": [
            {"Variable": "$.x", "IsPresent": true},
            {"Variable": "$.x", "StringEquals": "a"}
        ]});
        assert_eq!(eval(and.clone(), json!({})), Ok(false));
        assert_eq!(eval(and, json!({"x": "a"})), Ok(true));
        let or = json!({"Or": [
            {"Variable": "$.x", "IsPresent": false},
            {"Variable": "$.x", "NumericEquals": 1}
        ]});
        assert_eq!(eval(or.clone(), json!({})), Ok(true));
        assert_eq!(eval(or, json!({"x": 2})), Ok(false));
        let failing = json!({"And": [
            {"Variable": "$.x", "IsPresent": false},
            {"Variable": "$.x", "NumericEquals": 1}
        ]});
        assert_eq!(eval(failing, json!({})), Err(runtime("$.x")));
        let not = json!({"Not": {"Variable": "$.x", "NumericEquals": 1}});
        assert_eq!(eval(not, json!({})), Err(runtime("$.x")));
    }

    // --- Paths and context ---------------------------------------------------

    #[test]
    fn variables_may_read_the_context_object() {
        let rule = compile(json!({"Variable": "$$.Execution.Name", "StringEquals": "run-1"}));
        assert!(rule.uses_context());
        let context = json!({"Execution": {"Name": "run-1"}});
        assert_eq!(rule.evaluate(&json!({}), &context), Ok(true));
        assert_eq!(rule.evaluate(&json!({}), &json!({"Execution": {"Name": "run-2"}})), Ok(false));

        let nested = compile(json!({"Not": {"Variable": "$.n", "NumericLessThanPath": "$$.Map.Item.Index"}}));
        assert!(nested.uses_context());
        let context = json!({"Map": {"Item": {"Index": 3}}});
        assert_eq!(nested.evaluate(&json!({"n": 5}), &context), Ok(true));

        let plain = compile(
            json!({"And": [{"Variable": "$.a", "IsNull": true}, {"Variable": "$.b", "StringEqualsPath": "$.c"}]}),
        );
        assert!(!plain.uses_context());
    }

    #[test]
    fn variables_follow_nested_paths() {
        let input = json!({"order": {"items": [{"price": 5}, {"price": 12}]}});
        assert!(check(json!({"Variable": "$.order.items[1].price", "NumericGreaterThan": 10}), input.clone()));
        assert!(check(json!({"Variable": "$['order']['items'][0]['price']", "NumericEquals": 5}), input));
        assert!(check(json!({"Variable": "$", "StringEquals": "whole"}), json!("whole")));
    }

    // --- Compile errors ------------------------------------------------------

    #[test]
    fn compiles_comment_and_next() {
        let rule = json!({"Comment": "c", "Variable": "$.x", "IsNull": true, "Next": "N"});
        assert!(Rule::compile(&rule, AT, true).is_ok());
        let nested = json!({"Comment": "c", "Variable": "$.x", "IsNull": true});
        assert!(Rule::compile(&nested, AT, false).is_ok());
        let composite =
            json!({"Comment": "c", "Not": {"Comment": "d", "Variable": "$.x", "IsNull": true}, "Next": "N"});
        assert!(Rule::compile(&composite, AT, true).is_ok());
    }

    #[test]
    fn every_operator_compiles() {
        let literal = [
            ("StringEquals", json!("a")),
            ("StringLessThan", json!("a")),
            ("StringGreaterThan", json!("a")),
            ("StringLessThanEquals", json!("a")),
            ("StringGreaterThanEquals", json!("a")),
            ("StringMatches", json!("a*")),
            ("NumericEquals", json!(1)),
            ("NumericLessThan", json!(1.5)),
            ("NumericGreaterThan", json!(-1)),
            ("NumericLessThanEquals", json!(0)),
            ("NumericGreaterThanEquals", json!(1e10)),
            ("BooleanEquals", json!(false)),
            ("TimestampEquals", json!(T0)),
            ("TimestampLessThan", json!(T0)),
            ("TimestampGreaterThan", json!(T0)),
            ("TimestampLessThanEquals", json!(T0)),
            ("TimestampGreaterThanEquals", json!(T0)),
            ("IsNull", json!(true)),
            ("IsPresent", json!(true)),
            ("IsNumeric", json!(true)),
            ("IsString", json!(true)),
            ("IsBoolean", json!(true)),
            ("IsTimestamp", json!(false)),
        ];
        for (name, operand) in literal {
            let rule = json!({"Variable": "$.v", name: operand});
            assert!(Rule::compile(&rule, AT, false).is_ok(), "{name}");
            if !name.starts_with("Is") && name != "StringMatches" {
                let rule = json!({"Variable": "$.v", format!("{name}Path"): "$.w"});
                assert!(Rule::compile(&rule, AT, false).is_ok(), "{name}Path");
            }
        }
    }

    #[test]
    fn top_level_rule_needs_next() {
        assert_eq!(errors(json!({"Variable": "$.x", "IsNull": true}), true), vec![schema("")]);
        assert_eq!(
            messages(json!({"Variable": "$.x", "IsNull": true}), true),
            vec!["The field 'Next' is required but was missing"]
        );
    }

    #[test]
    fn nested_rule_must_not_have_next() {
        let rule = json!({"Variable": "$.x", "IsNull": true, "Next": "N"});
        assert_eq!(errors(rule, false), vec![schema("/Next")]);
        let rule = json!({"And": [
            {"Variable": "$.x", "IsNull": true},
            {"Variable": "$.x", "IsNull": true, "Next": "N"}
        ], "Next": "N"});
        assert_eq!(errors(rule, true), vec![schema("/And/1/Next")]);
        let rule = json!({"Not": {"Variable": "$.x", "IsNull": true, "Next": "N"}, "Next": "N"});
        assert_eq!(errors(rule, true), vec![schema("/Not/Next")]);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let rule = json!({"Variable": "$.x", "IsNull": true, "Bogus": 1, "a/b": 2});
        assert_eq!(errors(rule.clone(), false), vec![schema("/Bogus"), schema("/a~1b")]);
        assert_eq!(messages(rule, false)[0], "Field 'Bogus' is not supported");
        // StringMatches has no Path twin; lower case is not an operator.
        let rule = json!({"Variable": "$.x", "StringMatchesPath": "$.y"});
        assert_eq!(errors(rule, false), vec![schema("/StringMatchesPath"), schema("")]);
        let rule = json!({"Variable": "$.x", "stringEquals": "y", "StringEquals": "y"});
        assert_eq!(errors(rule, false), vec![schema("/stringEquals")]);
        let rule = json!({"Variable": "$.x", "IsNullPath": "$.y"});
        assert_eq!(errors(rule, false), vec![schema("/IsNullPath"), schema("")]);
    }

    #[test]
    fn variable_and_operator_counts() {
        assert_eq!(errors(json!({"StringEquals": "a"}), false), vec![schema("")]);
        assert_eq!(
            messages(json!({"StringEquals": "a"}), false),
            vec!["The field 'Variable' is required but was missing"]
        );
        assert_eq!(errors(json!({"Variable": "$.x"}), false), vec![schema("")]);
        assert_eq!(errors(json!({}), false), vec![schema("")]);
        assert_eq!(errors(json!({"Next": "N"}), true), vec![schema("")]);
        let two = json!({"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1});
        assert_eq!(errors(two, false), vec![schema("/NumericEquals")]);
        let three = json!({"Variable": "$.x", "IsNull": true, "IsString": true, "IsBoolean": false});
        assert_eq!(errors(three, false), vec![schema("/IsString"), schema("/IsBoolean")]);
    }

    #[test]
    fn composites_exclude_comparisons() {
        let rule = json!({"Variable": "$.x", "IsNull": true, "Not": {"Variable": "$.x", "IsNull": true}});
        assert_eq!(errors(rule, false), vec![schema("/Variable"), schema("/IsNull")]);
        let rule = json!({
            "And": [{"Variable": "$.x", "IsNull": true}],
            "Or": [{"Variable": "$.x", "IsNull": true}]
        });
        assert_eq!(errors(rule, false), vec![schema("/Or")]);
    }

    #[test]
    fn composite_shapes() {
        assert_eq!(errors(json!({"And": []}), false), vec![schema("/And")]);
        assert_eq!(errors(json!({"Or": []}), false), vec![schema("/Or")]);
        assert_eq!(errors(json!({"And": {"Variable": "$.x", "IsNull": true}}), false), vec![schema("/And")]);
        assert_eq!(errors(json!({"Not": []}), false), vec![schema("/Not")]);
        assert_eq!(errors(json!({"Not": "x"}), false), vec![schema("/Not")]);
        assert_eq!(errors(json!({"And": [1, {"Variable": "$.x", "IsNull": true}]}), false), vec![schema("/And/0")]);
        assert_eq!(errors(json!("rule"), false), vec![schema("")]);
        assert_eq!(errors(json!({"Not": {}}), false), vec![schema("/Not")]);
    }

    #[test]
    fn literal_operands_are_type_checked() {
        let cases = [
            ("StringEquals", json!(1)),
            ("StringLessThan", json!(null)),
            ("StringGreaterThanEquals", json!(["a"])),
            ("StringMatches", json!(1)),
            ("StringMatches", json!("a\\b")),
            ("StringMatches", json!("trailing\\")),
            ("NumericEquals", json!("1")),
            ("NumericLessThan", json!(true)),
            ("NumericGreaterThanEquals", json!(null)),
            ("BooleanEquals", json!("true")),
            ("BooleanEquals", json!(1)),
            ("TimestampEquals", json!(1_480_973_369)),
            ("TimestampEquals", json!("2016-12-05T21:29:29")),
            ("TimestampLessThan", json!("2016-12-05 21:29:29Z")),
            ("TimestampGreaterThan", json!("2016-13-05T21:29:29Z")),
            ("IsNull", json!("true")),
            ("IsPresent", json!(1)),
            ("IsNumeric", json!(null)),
            ("IsString", json!("yes")),
            ("IsBoolean", json!(0)),
            ("IsTimestamp", json!([])),
        ];
        for (name, operand) in cases {
            let rule = json!({"Variable": "$.v", name: operand});
            assert_eq!(errors(rule, false), vec![schema(&format!("/{name}"))], "{name}: {operand}");
        }
        assert_eq!(
            messages(json!({"Variable": "$.v", "NumericEquals": "1"}), false),
            vec!["The value for the field 'NumericEquals' must be a NUMBER"]
        );
    }

    #[test]
    fn paths_are_checked() {
        let invalid = |suffix: &str| (format!("{AT}{suffix}"), ValidationCode::InvalidJsonPath);
        assert_eq!(errors(json!({"Variable": "x", "IsNull": true}), false), vec![invalid("/Variable")]);
        assert_eq!(errors(json!({"Variable": "$.", "IsNull": true}), false), vec![invalid("/Variable")]);
        assert_eq!(errors(json!({"Variable": 1, "IsNull": true}), false), vec![schema("/Variable")]);
        assert_eq!(
            errors(json!({"Variable": "$.x", "StringEqualsPath": "y"}), false),
            vec![invalid("/StringEqualsPath")]
        );
        assert_eq!(
            errors(json!({"Variable": "$.x", "NumericEqualsPath": 1}), false),
            vec![schema("/NumericEqualsPath")]
        );
        assert_eq!(
            errors(json!({"Variable": "nope", "TimestampEqualsPath": "also nope"}), false),
            vec![invalid("/Variable"), invalid("/TimestampEqualsPath")]
        );
        // Variable and the …Path operands are Reference Paths: one node, no filters or wildcards.
        assert_eq!(errors(json!({"Variable": "$.items[?(@.x)]", "IsNull": true}), false), vec![invalid("/Variable")]);
        assert_eq!(
            errors(json!({"Variable": "$.a", "NumericEqualsPath": "$.b[*]"}), false),
            vec![invalid("/NumericEqualsPath")]
        );
        assert!(Rule::compile(&json!({"Variable": "$$.Execution.Input['a b'][0]", "IsNull": true}), AT, false).is_ok());
    }

    #[test]
    fn every_error_is_collected_with_its_pointer() {
        let rule = json!({
            "Or": [
                {"Variable": "$.a", "NumericEquals": "one"},
                {"And": [
                    {"Variable": "$.b", "IsNull": true},
                    {"Variable": "bad", "StringEquals": 2, "Next": "X"}
                ]},
                {"Not": {"Variable": "$.c"}},
                {"Variable": "$.d", "BooleanEquals": true, "Extra": 0}
            ],
            "Comment": 5
        });
        assert_eq!(
            errors(rule, true),
            vec![
                schema("/Comment"),
                schema(""),
                schema("/Or/0/NumericEquals"),
                schema("/Or/1/And/1/Next"),
                (format!("{AT}/Or/1/And/1/Variable"), ValidationCode::InvalidJsonPath),
                schema("/Or/1/And/1/StringEquals"),
                schema("/Or/2/Not"),
                schema("/Or/3/Extra"),
            ]
        );
    }
}
