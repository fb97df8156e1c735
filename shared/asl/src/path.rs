//! JSONPath as Step Functions evaluates it (Jayway flavour): `$`, `.name`,
//! `['name']`, `[n]`, `[*]`, `..`, slices, unions and filters such as
//! `[?(@.price > 10)]`, over the state input (`$`) or the context object (`$$`).
//! Reference Paths (single node: names and indices only) for ResultPath,
//! ItemsPath, Choice Variable and the `*Path` fields.
//!
//! Written here rather than taken from a crate because no crate matches ASL's
//! semantics: the `$$` root, Jayway's rule that a definite path yields one
//! value while an indefinite one yields an array of matches, and ResultPath
//! writes that create missing fields.
//!
//! Jayway details kept on purpose:
//! - a name after a dot runs to the next `.` or `[` (`$.foo-bar`, `$.a:b` and
//!   `$.été` are plain fields); a blank inside it is an error;
//! - `['a','b']` as the *last* step merges the named fields that exist into
//!   one object (a definite result); elsewhere it iterates over them;
//! - a filter applied to an object tests the object itself, applied to an
//!   array it tests each element;
//! - `..x` visits a node before its descendants, objects in key order.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Number, Value};

use crate::error::Failure;
use crate::names;

/// Which document a path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `$…`: the state's data.
    Input,
    /// `$$…`: the context object.
    Context,
}

/// A compiled JSONPath.
#[derive(Debug, Clone)]
pub struct Path {
    text: String,
    root: Root,
    segments: Vec<Segment>,
    /// Every segment is a single name or a single index: selection is a plain walk.
    simple: bool,
    /// Selects at most one node (Jayway's `isDefinite`).
    definite: bool,
}

/// One step of a compiled path.
#[derive(Debug, Clone)]
enum Segment {
    /// `.name` / `['name']`.
    Field(Box<str>),
    /// `[n]`; negative counts from the end.
    Index(i64),
    /// `['a','b']`.
    Fields(Box<[Box<str>]>),
    /// `[0,1]`.
    Indexes(Box<[i64]>),
    /// `.*` / `[*]`.
    Wildcard,
    /// `[start:end:step]`.
    Slice(Slice),
    /// `[?(…)]`.
    Filter(Box<Filter>),
    /// `..` followed by the inner selector (never itself a `Descend`).
    Descend(Box<Segment>),
}

/// `[start:end:step]`, each part optional.
#[derive(Debug, Clone, Copy)]
struct Slice {
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
}

/// A filter expression.
#[derive(Debug, Clone)]
enum Filter {
    Or(Vec<Filter>),
    And(Vec<Filter>),
    Not(Box<Filter>),
    /// `@.x` alone: true when the path selects something.
    Exists(FilterPath),
    Compare(Operand, CmpOp, Operand),
}

/// A path inside a filter: relative to the current item (`@`) or to the document (`$`).
#[derive(Debug, Clone)]
struct FilterPath {
    relative: bool,
    segments: Vec<Segment>,
    definite: bool,
}

/// One side of a filter comparison.
#[derive(Debug, Clone)]
enum Operand {
    Path(FilterPath),
    Literal(Value),
}

/// Filter comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Why a path selected nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound;

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the path selects nothing")
    }
}

impl std::error::Error for NotFound {}

impl Path {
    /// Parses any path Step Functions accepts where a Path is allowed.
    pub fn parse(text: &str) -> Result<Path, String> {
        let body = text.trim_end();
        let (root, start) = if body.starts_with("$$") {
            (Root::Context, 2)
        } else if body.starts_with('$') {
            (Root::Input, 1)
        } else if body.is_empty() {
            return Err("a path must not be empty: it starts with '$' or '$$'".to_owned());
        } else {
            return Err(format!("the path '{text}' must start with '$' or '$$'"));
        };
        let mut parser = Parser { text: body, pos: start, depth: 0 };
        match parser.peek() {
            None | Some(b'.' | b'[') => {}
            Some(b) if root == Root::Input && (b.is_ascii_alphabetic() || b == b'_') => {
                return Err(format!(
                    "workflow variables ($name) are not supported: '{text}' is neither '$' nor '$$' \
                     followed by '.' or '['"
                ));
            }
            Some(_) => return Err(parser.unexpected("expected '.' or '['")),
        }
        let segments = parser.segments(Mode::Top)?;
        let simple = segments.iter().all(|s| matches!(s, Segment::Field(_) | Segment::Index(_)));
        let definite = is_definite(&segments);
        Ok(Path { text: text.to_owned(), root, segments, simple, definite })
    }

    /// Parses a Reference Path: `$` or `$$` followed only by `.name`, `['name']` and `[n]`.
    pub fn parse_reference(text: &str) -> Result<Path, String> {
        let invalid = |why: &str| format!("'{text}' is not a valid Reference Path: {why}");
        let path = Path::parse(text).map_err(|e| invalid(&e))?;
        for segment in &path.segments {
            let why = match segment {
                Segment::Field(_) => continue,
                Segment::Index(i) if *i >= 0 => continue,
                Segment::Index(_) => "negative indexes are not allowed",
                Segment::Fields(_) | Segment::Indexes(_) => "unions ('[a,b]') are not allowed",
                Segment::Wildcard => "wildcards ('*') are not allowed",
                Segment::Slice(_) => "slices ('[start:end]') are not allowed",
                Segment::Filter(_) => "filters ('[?(...)]') are not allowed",
                Segment::Descend(_) => "recursive descent ('..') is not allowed",
            };
            return Err(invalid(why));
        }
        Ok(path)
    }

    /// The path as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Which document the path reads.
    pub fn root(&self) -> Root {
        self.root
    }

    /// True for `$$…` paths.
    pub fn uses_context(&self) -> bool {
        self.root == Root::Context
    }

    /// True when the path can select at most one node (no wildcard, slice,
    /// union, filter or `..`): it then yields that node, not an array of matches.
    ///
    /// As in Jayway, a name union (`['a','b']`) as the last step is definite:
    /// it yields one object holding those of the named fields that exist.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// True when the path is `$` or `$$` alone.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The path in Jayway's normalized bracket form, as Step Functions prints it
    /// in error causes: `$.a.b[0]` → `$['a']['b'][0]`.
    pub fn normalized(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 4 * self.segments.len());
        out.push_str(match self.root {
            Root::Input => "$",
            Root::Context => "$$",
        });
        for segment in &self.segments {
            segment.write_fragment(&mut out);
        }
        out
    }

    /// The cause Step Functions gives when an InputPath or OutputPath selects
    /// nothing: `Invalid path '$.x' : No results for path: $['x']`.
    pub fn no_results_message(&self) -> String {
        format!("Invalid path '{}' : No results for path: {}", self.text, self.normalized())
    }

    /// Selects from `input` (or `context` for `$$` paths). A definite path
    /// yields its node or `NotFound`; an indefinite path yields an array of
    /// every match (possibly empty).
    pub fn select<'v>(&self, input: &'v Value, context: &'v Value) -> Result<Cow<'v, Value>, NotFound> {
        let doc = match self.root {
            Root::Input => input,
            Root::Context => context,
        };
        if self.simple {
            let mut node = doc;
            for segment in &self.segments {
                node = match segment {
                    Segment::Field(name) => node.as_object().and_then(|m| m.get(&**name)),
                    Segment::Index(i) => node.as_array().and_then(|a| element(a, *i)),
                    _ => None,
                }
                .ok_or(NotFound)?;
            }
            return Ok(Cow::Borrowed(node));
        }
        let mut out = Vec::new();
        collect(&self.segments, doc, doc, &mut out);
        if self.definite {
            out.into_iter().next().ok_or(NotFound)
        } else {
            Ok(Cow::Owned(Value::Array(out.into_iter().map(Cow::into_owned).collect())))
        }
    }

    /// Writes `value` at this reference path inside `target` (ResultPath):
    /// `$` replaces the whole document; missing object fields are created;
    /// a path that crosses a non-object (or an index outside an array) fails
    /// with `States.ResultPathMatchFailure`.
    pub fn write(&self, mut target: Value, value: Value) -> Result<Value, Failure> {
        if self.root == Root::Input {
            if self.segments.is_empty() {
                return Ok(value);
            }
            if write_into(&mut target, &self.segments, value).is_ok() {
                return Ok(target);
            }
        }
        let shown = serde_json::to_string(&target).unwrap_or_default();
        Err(Failure::new(
            names::RESULT_PATH_MATCH_FAILURE,
            format!("Unable to apply ReferencePath {} to input {shown}", self.text),
        ))
    }
}

impl fmt::Display for Path {
    /// The path as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Jayway's `isDefinite`: only single names and indexes, plus a name union as the last step.
fn is_definite(segments: &[Segment]) -> bool {
    let last = segments.len().saturating_sub(1);
    segments.iter().enumerate().all(|(i, s)| match s {
        Segment::Field(_) | Segment::Index(_) => true,
        Segment::Fields(_) => i == last,
        _ => false,
    })
}

impl Segment {
    /// Appends Jayway's normalized form of this step.
    fn write_fragment(&self, out: &mut String) {
        match self {
            Segment::Field(name) => {
                out.push_str("['");
                out.push_str(name);
                out.push_str("']");
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            Segment::Fields(names) => {
                out.push('[');
                for (k, name) in names.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push('\'');
                    out.push_str(name);
                    out.push('\'');
                }
                out.push(']');
            }
            Segment::Indexes(list) => {
                out.push('[');
                for (k, i) in list.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(&i.to_string());
                }
                out.push(']');
            }
            Segment::Wildcard => out.push_str("[*]"),
            Segment::Slice(s) => {
                out.push('[');
                if let Some(start) = s.start {
                    out.push_str(&start.to_string());
                }
                out.push(':');
                if let Some(end) = s.end {
                    out.push_str(&end.to_string());
                }
                if let Some(step) = s.step {
                    out.push(':');
                    out.push_str(&step.to_string());
                }
                out.push(']');
            }
            Segment::Filter(_) => out.push_str("[?]"),
            Segment::Descend(inner) => {
                out.push_str("..");
                inner.write_fragment(out);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

/// The element at index `i` (negative counts from the end).
fn element(array: &[Value], i: i64) -> Option<&Value> {
    let k = if i < 0 { i.checked_add(i64::try_from(array.len()).ok()?)? } else { i };
    array.get(usize::try_from(k).ok()?)
}

/// Pushes onto `out` every node that `segments` selects from `node`.
fn collect<'v>(segments: &[Segment], node: &'v Value, root: &'v Value, out: &mut Vec<Cow<'v, Value>>) {
    match segments.split_first() {
        None => out.push(Cow::Borrowed(node)),
        Some((segment, rest)) => apply(segment, rest, node, root, out),
    }
}

/// Applies one step to `node`, then the `rest` to each child it selects.
fn apply<'v>(segment: &Segment, rest: &[Segment], node: &'v Value, root: &'v Value, out: &mut Vec<Cow<'v, Value>>) {
    match segment {
        Segment::Field(name) => {
            if let Some(child) = node.as_object().and_then(|m| m.get(&**name)) {
                collect(rest, child, root, out);
            }
        }
        Segment::Index(i) => {
            if let Some(child) = node.as_array().and_then(|a| element(a, *i)) {
                collect(rest, child, root, out);
            }
        }
        Segment::Fields(names) => {
            let Value::Object(map) = node else { return };
            if rest.is_empty() {
                // Jayway's "multi-property merge": one object with the fields that exist.
                let mut merged = Map::new();
                for name in names.iter() {
                    if let Some(v) = map.get(&**name) {
                        merged.insert(name.to_string(), v.clone());
                    }
                }
                out.push(Cow::Owned(Value::Object(merged)));
            } else {
                for name in names.iter() {
                    if let Some(child) = map.get(&**name) {
                        collect(rest, child, root, out);
                    }
                }
            }
        }
        Segment::Indexes(list) => {
            if let Value::Array(array) = node {
                for i in list.iter() {
                    if let Some(child) = element(array, *i) {
                        collect(rest, child, root, out);
                    }
                }
            }
        }
        Segment::Wildcard => match node {
            Value::Object(map) => map.values().for_each(|child| collect(rest, child, root, out)),
            Value::Array(array) => array.iter().for_each(|child| collect(rest, child, root, out)),
            _ => {}
        },
        Segment::Slice(slice) => {
            if let Value::Array(array) = node {
                slice.for_each_index(array.len(), |k| {
                    if let Some(child) = array.get(k) {
                        collect(rest, child, root, out);
                    }
                });
            }
        }
        Segment::Filter(filter) => match node {
            Value::Object(_) if filter.test(node, root) => collect(rest, node, root, out),
            Value::Array(array) => {
                for child in array {
                    if filter.test(child, root) {
                        collect(rest, child, root, out);
                    }
                }
            }
            _ => {}
        },
        Segment::Descend(inner) => descend(inner, rest, node, root, out),
    }
}

/// `..inner rest`: applies `inner` to `node` and to every descendant container
/// that it can apply to, parents before children (Jayway's scan).
fn descend<'v>(inner: &Segment, rest: &[Segment], node: &'v Value, root: &'v Value, out: &mut Vec<Cow<'v, Value>>) {
    let applies = match (inner, node) {
        (Segment::Field(name), Value::Object(map)) => map.contains_key(&**name),
        (Segment::Fields(names), Value::Object(map)) => {
            !rest.is_empty() || names.iter().all(|n| map.contains_key(&**n))
        }
        (Segment::Index(_) | Segment::Indexes(_) | Segment::Slice(_), Value::Array(_)) => true,
        (Segment::Wildcard, Value::Object(_) | Value::Array(_)) => true,
        (Segment::Filter(filter), Value::Object(_) | Value::Array(_)) => filter.test(node, root),
        _ => false,
    };
    if applies {
        apply(inner, rest, node, root, out);
    }
    match node {
        Value::Object(map) => map.values().for_each(|child| descend(inner, rest, child, root, out)),
        Value::Array(array) => array.iter().for_each(|child| descend(inner, rest, child, root, out)),
        _ => {}
    }
}

impl Slice {
    /// Calls `f` with each selected index, in selection order (RFC 9535 slice
    /// semantics, which agree with Jayway's for a step of 1).
    fn for_each_index(self, len: usize, mut f: impl FnMut(usize)) {
        let len = i128::try_from(len).unwrap_or(i128::MAX);
        let step = i128::from(self.step.unwrap_or(1));
        let normalize = |i: i64| {
            let i = i128::from(i);
            if i >= 0 { i } else { len + i }
        };
        let mut emit = |i: i128| {
            if let Ok(k) = usize::try_from(i) {
                f(k);
            }
        };
        match step.cmp(&0) {
            Ordering::Equal => {}
            Ordering::Greater => {
                let lower = self.start.map_or(0, normalize).clamp(0, len);
                let upper = self.end.map_or(len, normalize).clamp(0, len);
                let mut i = lower;
                while i < upper {
                    emit(i);
                    i += step;
                }
            }
            Ordering::Less => {
                let upper = self.start.map_or(len - 1, normalize).clamp(-1, len - 1);
                let lower = self.end.map_or(-len - 1, normalize).clamp(-1, len - 1);
                let mut i = upper;
                while lower < i {
                    emit(i);
                    i += step;
                }
            }
        }
    }
}

impl FilterPath {
    /// Evaluates the path for a filter: `None` when a definite path selects
    /// nothing (Jayway's "undefined"), an array of matches for an indefinite one.
    fn evaluate<'v>(&self, current: &'v Value, root: &'v Value) -> Option<Cow<'v, Value>> {
        let doc = if self.relative { current } else { root };
        let mut out = Vec::new();
        collect(&self.segments, doc, root, &mut out);
        if self.definite {
            out.into_iter().next()
        } else {
            Some(Cow::Owned(Value::Array(out.into_iter().map(Cow::into_owned).collect())))
        }
    }

    /// True when the path selects at least one node.
    fn exists(&self, current: &Value, root: &Value) -> bool {
        let doc = if self.relative { current } else { root };
        let mut out = Vec::new();
        collect(&self.segments, doc, root, &mut out);
        !out.is_empty()
    }
}

impl Operand {
    fn evaluate<'v>(&'v self, current: &'v Value, root: &'v Value) -> Option<Cow<'v, Value>> {
        match self {
            Operand::Path(path) => path.evaluate(current, root),
            Operand::Literal(value) => Some(Cow::Borrowed(value)),
        }
    }
}

impl Filter {
    /// True when `current` (the item being filtered) passes.
    fn test(&self, current: &Value, root: &Value) -> bool {
        match self {
            Filter::Or(items) => items.iter().any(|f| f.test(current, root)),
            Filter::And(items) => items.iter().all(|f| f.test(current, root)),
            Filter::Not(inner) => !inner.test(current, root),
            Filter::Exists(path) => path.exists(current, root),
            Filter::Compare(left, op, right) => {
                let l = left.evaluate(current, root);
                let r = right.evaluate(current, root);
                compare(l.as_deref(), *op, r.as_deref())
            }
        }
    }
}

/// Jayway's evaluators. `None` is an undefined operand (a path that selected
/// nothing): it equals nothing, so `!=` is true and orderings are false.
fn compare(left: Option<&Value>, op: CmpOp, right: Option<&Value>) -> bool {
    match op {
        CmpOp::Eq => loose_equals(left, right),
        CmpOp::Ne => !loose_equals(left, right),
        CmpOp::StrictEq => strict_equals(left, right),
        CmpOp::StrictNe => !strict_equals(left, right),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ordering = match (left, right) {
                (Some(Value::Number(a)), Some(Value::Number(b))) => number_cmp(a, b),
                (Some(Value::String(a)), Some(Value::String(b))) => Some(java_string_cmp(a, b)),
                _ => None,
            };
            ordering.is_some_and(|o| match op {
                CmpOp::Lt => o == Ordering::Less,
                CmpOp::Le => o != Ordering::Greater,
                CmpOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        }
    }
}

/// Jayway's `==`: numbers compare by value, and a number equals a string that
/// spells it (left number: the string is read as a number; left string: the
/// number is written as text).
fn loose_equals(left: Option<&Value>, right: Option<&Value>) -> bool {
    match (left, right) {
        (Some(Value::Number(a)), Some(Value::String(s))) => {
            s.parse::<Number>().ok().is_some_and(|b| number_cmp(a, &b) == Some(Ordering::Equal))
        }
        (Some(Value::String(s)), Some(Value::Number(n))) => *s == n.to_string(),
        _ => strict_equals(left, right),
    }
}

/// Jayway's `===`: same type and equal value (numbers by value).
fn strict_equals(left: Option<&Value>, right: Option<&Value>) -> bool {
    match (left, right) {
        (Some(Value::Number(a)), Some(Value::Number(b))) => number_cmp(a, b) == Some(Ordering::Equal),
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Compares two JSON numbers by value (exactly for integers).
fn number_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Java's `String.compareTo`: UTF-16 code unit order.
fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

// ---------------------------------------------------------------------------
// ResultPath writes
// ---------------------------------------------------------------------------

/// Writes `value` at `segments` (names and indexes only) inside `target`,
/// creating missing object fields. Fails without changing `target`.
fn write_into(target: &mut Value, segments: &[Segment], value: Value) -> Result<(), ()> {
    let Some((last, parents)) = segments.split_last() else {
        *target = value;
        return Ok(());
    };
    let mut node = target;
    for (k, segment) in parents.iter().enumerate() {
        node = match segment {
            Segment::Field(name) => {
                let Value::Object(map) = node else {
                    return Err(());
                };
                if !map.contains_key(&**name) {
                    // Everything from here on is created: only names can be.
                    let rest = &segments[k..];
                    let mut built = value;
                    for segment in rest.iter().rev() {
                        let Segment::Field(name) = segment else {
                            return Err(());
                        };
                        let mut map = Map::with_capacity(1);
                        map.insert(name.to_string(), built);
                        built = Value::Object(map);
                    }
                    if let Value::Object(built) = built {
                        map.extend(built);
                    }
                    return Ok(());
                }
                map.get_mut(&**name).ok_or(())?
            }
            Segment::Index(i) => {
                let Value::Array(array) = node else {
                    return Err(());
                };
                index_mut(array, *i)?
            }
            _ => return Err(()),
        };
    }
    match last {
        Segment::Field(name) => {
            let Value::Object(map) = node else {
                return Err(());
            };
            if let Some(slot) = map.get_mut(&**name) {
                *slot = value;
            } else {
                map.insert(name.to_string(), value);
            }
            Ok(())
        }
        Segment::Index(i) => {
            let Value::Array(array) = node else {
                return Err(());
            };
            *index_mut(array, *i)? = value;
            Ok(())
        }
        _ => Err(()),
    }
}

/// The element at index `i` (negative counts from the end), for writing.
fn index_mut(array: &mut [Value], i: i64) -> Result<&mut Value, ()> {
    let len = i64::try_from(array.len()).map_err(|_| ())?;
    let k = if i < 0 { i + len } else { i };
    array.get_mut(usize::try_from(k).map_err(|_| ())?).ok_or(())
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Where a path is being parsed: at the top level, or inside a filter (where
/// blanks, `)`, `]` and operator characters end a name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Top,
    Filter,
}

/// Characters that end a dotted name (and a path) inside a filter.
fn ends_filter_path(b: u8) -> bool {
    matches!(b, b')' | b']' | b'=' | b'!' | b'<' | b'>' | b'~' | b'&' | b'|' | b',') || b.is_ascii_whitespace()
}

/// The deepest filter nesting accepted (keeps recursion bounded).
const MAX_DEPTH: usize = 64;

/// Four hex digits of a `\u` escape.
fn hex4(chars: &mut impl Iterator<Item = (usize, char)>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.1.to_digit(16)?;
    }
    Some(v)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// Current filter nesting (parentheses, `!`, filters inside filters).
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + offset).copied()
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    /// Character (not byte) position of byte offset `at`, for messages.
    fn column(&self, at: usize) -> usize {
        self.text.get(..at).map_or(at, |s| s.chars().count())
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// "Unexpected character 'x' at position N in path '…': {expected}".
    fn unexpected(&self, expected: &str) -> String {
        match self.rest().chars().next() {
            Some(c) => format!(
                "unexpected character '{c}' at position {} in path '{}': {expected}",
                self.column(self.pos),
                self.text
            ),
            None => format!("the path '{}' ends too early: {expected}", self.text),
        }
    }

    fn unclosed_bracket(&self, open: usize) -> String {
        format!(
            "unclosed bracket: the '[' at position {} in path '{}' has no matching ']'",
            self.column(open),
            self.text
        )
    }

    /// Steps until the end of the text (top level) or of a filter operand.
    fn segments(&mut self, mode: Mode) -> Result<Vec<Segment>, String> {
        let mut segments = Vec::new();
        while let Some(b) = self.peek() {
            match b {
                b'.' => {
                    let descend = self.peek_at(1) == Some(b'.');
                    self.pos += if descend { 2 } else { 1 };
                    let segment = self.after_dot(mode)?;
                    segments.push(if descend { Segment::Descend(Box::new(segment)) } else { segment });
                }
                b'[' => segments.push(self.bracket()?),
                _ if mode == Mode::Filter && ends_filter_path(b) => break,
                _ => return Err(self.unexpected("expected '.' or '['")),
            }
        }
        Ok(segments)
    }

    /// What follows `.` or `..`: a name, `*` or a bracket.
    fn after_dot(&mut self, mode: Mode) -> Result<Segment, String> {
        match self.peek() {
            None => Err(format!("the path '{}' must not end with a '.' or '..'", self.text)),
            Some(b'.') => {
                Err(format!("character '.' at position {} in path '{}' is not valid", self.column(self.pos), self.text))
            }
            Some(b'[') => self.bracket(),
            Some(b'*') => {
                self.pos += 1;
                match self.peek() {
                    None | Some(b'.' | b'[') => Ok(Segment::Wildcard),
                    Some(b) if mode == Mode::Filter && ends_filter_path(b) => Ok(Segment::Wildcard),
                    Some(_) => Err(self.unexpected("expected '.' or '[' after '*'")),
                }
            }
            Some(_) => self.dotted_name(mode),
        }
    }

    /// A name after a dot: everything up to the next `.` or `[` (Jayway).
    fn dotted_name(&mut self, mode: Mode) -> Result<Segment, String> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b'.' || b == b'[' || (mode == Mode::Filter && ends_filter_path(b)) {
                break;
            }
            if b.is_ascii_whitespace() {
                return Err(format!(
                    "blank character at position {} in path '{}': use bracket notation ['my name'] \
                     for a name that contains blanks",
                    self.column(self.pos),
                    self.text
                ));
            }
            if b == b'(' {
                return Err(format!(
                    "path functions such as '{}()' are not supported (path '{}')",
                    &self.text[start..self.pos],
                    self.text
                ));
            }
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("empty name after '.' at position {} in path '{}'", self.column(start), self.text));
        }
        Ok(Segment::Field(self.text[start..self.pos].into()))
    }

    /// `[…]`: quoted names, indexes, a slice, `*` or a filter.
    fn bracket(&mut self) -> Result<Segment, String> {
        let open = self.pos;
        self.pos += 1;
        self.skip_blanks();
        let segment = match self.peek() {
            None => return Err(self.unclosed_bracket(open)),
            Some(b'*') => {
                self.pos += 1;
                Segment::Wildcard
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_blanks();
                if !self.eat(b'(') {
                    return Err(self.unexpected("a filter is written '[?(expression)]'"));
                }
                let filter = self.filter_or()?;
                self.skip_blanks();
                if !self.eat(b')') {
                    return Err(self.unexpected("expected ')' closing the filter expression"));
                }
                Segment::Filter(Box::new(filter))
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_blanks();
                    if !self.eat(b',') {
                        break;
                    }
                    self.skip_blanks();
                    match self.peek() {
                        Some(b'\'' | b'"') => names.push(self.quoted()?),
                        None => return Err(self.unclosed_bracket(open)),
                        Some(_) => return Err(self.unexpected("expected a quoted name after ','")),
                    }
                }
                if names.len() == 1 {
                    Segment::Field(names.remove(0).into())
                } else {
                    Segment::Fields(names.into_iter().map(String::into_boxed_str).collect())
                }
            }
            Some(b'-' | b'0'..=b'9' | b':') => self.indexes_or_slice()?,
            Some(b']') => {
                return Err(format!("empty brackets '[]' at position {} in path '{}'", self.column(open), self.text));
            }
            Some(_) => {
                return Err(self.unexpected("expected a quoted name, an index, a slice, '*' or a filter '?(...)'"));
            }
        };
        self.skip_blanks();
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                Ok(segment)
            }
            None => Err(self.unclosed_bracket(open)),
            Some(_) => Err(self.unexpected("expected ']'")),
        }
    }

    /// `n`, `n,m,…` or `start:end:step`.
    fn indexes_or_slice(&mut self) -> Result<Segment, String> {
        let first = self.int_opt()?;
        self.skip_blanks();
        if self.eat(b':') {
            self.skip_blanks();
            let end = self.int_opt()?;
            self.skip_blanks();
            let step = if self.eat(b':') {
                self.skip_blanks();
                self.int_opt()?
            } else {
                None
            };
            return Ok(Segment::Slice(Slice { start: first, end, step }));
        }
        let Some(first) = first else {
            return Err(self.unexpected("expected an index"));
        };
        let mut list = vec![first];
        while self.eat(b',') {
            self.skip_blanks();
            match self.int_opt()? {
                Some(i) => list.push(i),
                None => return Err(self.unexpected("expected an index after ','")),
            }
            self.skip_blanks();
        }
        Ok(if list.len() == 1 { Segment::Index(first) } else { Segment::Indexes(list.into()) })
    }

    /// An optional integer (`-` and digits).
    fn int_opt(&mut self) -> Result<Option<i64>, String> {
        let start = self.pos;
        self.eat(b'-');
        let digits = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits {
            if self.pos == start {
                return Ok(None);
            }
            return Err(self.unexpected("expected digits after '-'"));
        }
        self.text[start..self.pos].parse::<i64>().map(Some).map_err(|_| {
            format!(
                "the index '{}' at position {} in path '{}' is too large",
                &self.text[start..self.pos],
                self.column(start),
                self.text
            )
        })
    }

    /// A `'…'` or `"…"` string with backslash escapes.
    fn quoted(&mut self) -> Result<String, String> {
        let open = self.pos;
        let text = self.text;
        let unterminated =
            || format!("unterminated quoted string starting at position {} in path '{text}'", self.column(open));
        let bad_unicode = || format!("invalid \\u escape in a quoted name in path '{text}'");
        let mut chars = text.get(open..).unwrap_or("").char_indices();
        let quote = chars.next().map(|(_, c)| c).ok_or_else(unterminated)?;
        let mut out = String::new();
        loop {
            let (at, c) = chars.next().ok_or_else(unterminated)?;
            if c == quote {
                self.pos = open + at + 1;
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let (_, e) = chars.next().ok_or_else(unterminated)?;
            out.push(match e {
                '\'' | '"' | '\\' | '/' => e,
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let high = hex4(&mut chars).ok_or_else(bad_unicode)?;
                    let code = if (0xD800..0xDC00).contains(&high) {
                        let backslash = chars.next().map(|(_, c)| c);
                        let u = chars.next().map(|(_, c)| c);
                        let low = hex4(&mut chars).ok_or_else(bad_unicode)?;
                        if backslash != Some('\\') || u != Some('u') || !(0xDC00..0xE000).contains(&low) {
                            return Err(bad_unicode());
                        }
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        high
                    };
                    char::from_u32(code).ok_or_else(bad_unicode)?
                }
                other => {
                    return Err(format!("invalid escape '\\{other}' in a quoted name in path '{text}'"));
                }
            });
        }
    }

    // -- filters ------------------------------------------------------------

    fn filter_or(&mut self) -> Result<Filter, String> {
        let mut items = vec![self.filter_and()?];
        loop {
            self.skip_blanks();
            if !self.eat_str("||") {
                break;
            }
            items.push(self.filter_and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Filter::Or(items) })
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        let mut items = vec![self.filter_unary()?];
        loop {
            self.skip_blanks();
            if !self.eat_str("&&") {
                break;
            }
            items.push(self.filter_unary()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Filter::And(items) })
    }

    /// Every nested construct of a filter passes here, so this bounds the recursion.
    fn filter_unary(&mut self) -> Result<Filter, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("the filter in path '{}' is nested too deeply", self.text));
        }
        let filter = self.filter_unary_inner();
        self.depth -= 1;
        filter
    }

    fn filter_unary_inner(&mut self) -> Result<Filter, String> {
        self.skip_blanks();
        if self.eat(b'!') {
            return Ok(Filter::Not(Box::new(self.filter_unary()?)));
        }
        if self.eat(b'(') {
            let inner = self.filter_or()?;
            self.skip_blanks();
            if !self.eat(b')') {
                return Err(self.unexpected("expected ')' closing a parenthesized filter expression"));
            }
            return Ok(inner);
        }
        let left = self.operand()?;
        self.skip_blanks();
        match self.operator()? {
            Some(op) => {
                self.skip_blanks();
                let right = self.operand()?;
                Ok(Filter::Compare(left, op, right))
            }
            None => match left {
                Operand::Path(path) => Ok(Filter::Exists(path)),
                Operand::Literal(_) => {
                    Err(self.unexpected("a literal alone is not a condition: compare it with ==, !=, <, <=, > or >="))
                }
            },
        }
    }

    fn operator(&mut self) -> Result<Option<CmpOp>, String> {
        const OPERATORS: [(&str, CmpOp); 8] = [
            ("===", CmpOp::StrictEq),
            ("!==", CmpOp::StrictNe),
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ];
        for (text, op) in OPERATORS {
            if self.eat_str(text) {
                return Ok(Some(op));
            }
        }
        if self.rest().starts_with("=~") {
            return Err(format!("the regular-expression filter operator '=~' is not supported (path '{}')", self.text));
        }
        if self.rest().starts_with('=') {
            return Err(self.unexpected("'=' is not a comparison: use '=='"));
        }
        let word: String = self.rest().chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        if matches!(word.as_str(), "in" | "nin" | "subsetof" | "anyof" | "noneof" | "size" | "empty" | "contains") {
            return Err(format!(
                "the filter operator '{word}' is not supported (path '{}'); use ==, !=, <, <=, >, >=, \
                 &&, || and !",
                self.text
            ));
        }
        Ok(None)
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.skip_blanks();
        match self.peek() {
            Some(b'@') => {
                self.pos += 1;
                Ok(Operand::Path(self.filter_path(true)?))
            }
            Some(b'$') => {
                if self.peek_at(1) == Some(b'$') {
                    return Err(self.unexpected("'$$' cannot be used inside a filter"));
                }
                self.pos += 1;
                Ok(Operand::Path(self.filter_path(false)?))
            }
            Some(b'\'' | b'"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while self.peek().is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')) {
                    self.pos += 1;
                }
                let text = &self.text[start..self.pos];
                text.parse::<Number>().map(|n| Operand::Literal(Value::Number(n))).map_err(|_| {
                    format!("invalid number '{text}' at position {} in path '{}'", self.column(start), self.text)
                })
            }
            Some(b) if b.is_ascii_alphabetic() => {
                let word: String = self.rest().chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                let value = match word.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => {
                        return Err(self.unexpected("expected @, $, a number, a quoted string, true, false or null"));
                    }
                };
                self.pos += word.len();
                Ok(Operand::Literal(value))
            }
            Some(b'[' | b'{') => Err(self.unexpected("JSON array and object literals are not supported in filters")),
            _ => Err(self.unexpected("expected @, $, a number, a quoted string, true, false or null")),
        }
    }

    fn filter_path(&mut self, relative: bool) -> Result<FilterPath, String> {
        let segments = self.segments(Mode::Filter)?;
        let definite = is_definite(&segments);
        Ok(FilterPath { relative, segments, definite })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store() -> Value {
        json!({
            "store": {
                "book": [
                    {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
                    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
                    {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
                    {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
                ],
                "bicycle": {"color": "red", "price": 19.95}
            },
            "expensive": 10
        })
    }

    fn sel(path: &str, doc: &Value) -> Result<Value, NotFound> {
        let p = Path::parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        p.select(doc, &Value::Null).map(Cow::into_owned)
    }

    fn ok(path: &str, doc: &Value) -> Value {
        sel(path, doc).unwrap_or_else(|_| panic!("{path} selected nothing"))
    }

    fn err(path: &str) -> String {
        Path::parse(path).err().unwrap_or_else(|| panic!("{path} should not parse"))
    }

    #[test]
    fn root_selects_whole_document() {
        let doc = json!({"a": 1});
        assert_eq!(ok("$", &doc), doc);
        let ctx = json!({"Execution": {"Id": "arn"}});
        let p = Path::parse("$$").unwrap();
        assert_eq!(p.select(&doc, &ctx).unwrap().into_owned(), ctx);
        assert!(p.uses_context());
        assert!(p.is_root());
        assert_eq!(p.root(), Root::Context);
    }

    #[test]
    fn definite_paths_borrow() {
        let doc = json!({"a": {"b": [10, 20, {"c": true}]}});
        let p = Path::parse("$.a.b[2].c").unwrap();
        assert!(p.is_definite());
        let got = p.select(&doc, &Value::Null).unwrap();
        assert!(matches!(got, Cow::Borrowed(_)));
        assert_eq!(*got, json!(true));
        assert_eq!(ok("$['a']['b'][0]", &doc), json!(10));
        assert_eq!(ok("$[\"a\"].b[1]", &doc), json!(20));
        assert_eq!(ok("$.a.b[-1]", &doc), json!({"c": true}));
        assert_eq!(ok("$.a.b[-3]", &doc), json!(10));
    }

    #[test]
    fn context_paths_read_the_context() {
        let input = json!({"Execution": "wrong"});
        let ctx = json!({"Execution": {"Id": "arn:x", "Input": {"k": 1}}});
        let p = Path::parse("$$.Execution.Id").unwrap();
        assert_eq!(*p.select(&input, &ctx).unwrap(), json!("arn:x"));
        let p = Path::parse("$$.Execution.Input.k").unwrap();
        assert_eq!(*p.select(&input, &ctx).unwrap(), json!(1));
        let p = Path::parse("$.Execution").unwrap();
        assert_eq!(*p.select(&input, &ctx).unwrap(), json!("wrong"));
        assert!(!p.uses_context());
    }

    #[test]
    fn permissive_dotted_names() {
        let doc = json!({"foo-bar": 1, "a:b": 2, "été": {"x y": 3}, "a'b": 4, "n1": 5, "$x": 6});
        assert_eq!(ok("$.foo-bar", &doc), json!(1));
        assert_eq!(ok("$.a:b", &doc), json!(2));
        assert_eq!(ok("$.été['x y']", &doc), json!(3));
        assert_eq!(ok("$.a'b", &doc), json!(4));
        assert_eq!(ok("$.n1", &doc), json!(5));
        assert_eq!(ok("$.$x", &doc), json!(6));
        // Jayway trims trailing blanks.
        assert_eq!(ok("$.n1  ", &doc), json!(5));
    }

    #[test]
    fn quoted_names_with_escapes() {
        let doc = json!({"it's": 1, "a\"b": 2, "back\\slash": 3, "dot.ted": 4, "": 5, "é": 6, "[x]": 7});
        assert_eq!(ok(r"$['it\'s']", &doc), json!(1));
        assert_eq!(ok(r#"$["it's"]"#, &doc), json!(1));
        assert_eq!(ok(r#"$["a\"b"]"#, &doc), json!(2));
        assert_eq!(ok(r"$['back\\slash']", &doc), json!(3));
        assert_eq!(ok("$['dot.ted']", &doc), json!(4));
        assert_eq!(ok("$['']", &doc), json!(5));
        assert_eq!(ok(r"$['\u00e9']", &doc), json!(6));
        assert_eq!(ok("$[ '[x]' ]", &doc), json!(7));
    }

    #[test]
    fn not_found_cases() {
        let doc = json!({"a": {"b": 1}, "arr": [1, 2], "n": null, "s": "str"});
        for path in [
            "$.missing",
            "$.a.missing",
            "$.a.b.c",
            "$.arr[2]",
            "$.arr[-3]",
            "$.a[0]",
            "$.arr.x",
            "$.n.x",
            "$.s.length",
            "$.s[0]",
            "$['a','b'].x",
        ] {
            if Path::parse(path).unwrap().is_definite() {
                assert_eq!(sel(path, &doc), Err(NotFound), "{path}");
            }
        }
        assert_eq!(ok("$.n", &doc), Value::Null);
        assert_eq!(sel("$.x", &json!("scalar")), Err(NotFound));
        assert_eq!(sel("$[0]", &json!({"0": 1})), Err(NotFound));
    }

    #[test]
    fn wildcards() {
        let doc = json!({"a": {"x": 1, "y": [2, 3], "z": {"k": 4}}, "s": "str"});
        assert_eq!(ok("$.a.*", &doc), json!([1, [2, 3], {"k": 4}]));
        assert_eq!(ok("$.a[*]", &doc), json!([1, [2, 3], {"k": 4}]));
        assert_eq!(ok("$.a.y[*]", &doc), json!([2, 3]));
        assert_eq!(ok("$.a.*.k", &doc), json!([4]));
        assert_eq!(ok("$.a.*[0]", &doc), json!([2]));
        assert_eq!(ok("$.s.*", &doc), json!([]));
        assert_eq!(ok("$.missing[*]", &doc), json!([]));
        assert_eq!(ok("$[*]", &json!([1, 2])), json!([1, 2]));
        assert!(!Path::parse("$.a.*").unwrap().is_definite());
        let store = store();
        assert_eq!(
            ok("$.store.book[*].author", &store),
            json!(["Nigel Rees", "Evelyn Waugh", "Herman Melville", "J. R. R. Tolkien"])
        );
        assert_eq!(ok("$.store.book[*].isbn", &store), json!(["0-553-21311-3", "0-395-19395-8"]));
    }

    #[test]
    fn unions() {
        let doc = json!({"arr": [10, 20, 30, 40], "o": {"a": 1, "b": 2, "c": 3}, "l": [{"a": 1, "b": 2}, {"a": 3}]});
        assert_eq!(ok("$.arr[0,2]", &doc), json!([10, 30]));
        assert_eq!(ok("$.arr[ 3 , -4, 9 ]", &doc), json!([40, 10]));
        assert_eq!(ok("$.arr[1,1]", &doc), json!([20, 20]));
        // Jayway: a name union as the last step merges into one object (definite).
        let p = Path::parse("$.o['a','c']").unwrap();
        assert!(p.is_definite());
        assert_eq!(ok("$.o['a','c']", &doc), json!({"a": 1, "c": 3}));
        assert_eq!(ok("$.o['c','zz','a']", &doc), json!({"c": 3, "a": 1}));
        assert_eq!(ok("$.o['x','y']", &doc), json!({}));
        assert_eq!(sel("$.arr['a','b']", &doc), Err(NotFound));
        assert_eq!(ok("$.l[*]['a','b']", &doc), json!([{"a": 1, "b": 2}, {"a": 3}]));
        // Elsewhere it iterates.
        let p = Path::parse("$['o','l'].a").unwrap();
        assert!(!p.is_definite());
        assert_eq!(ok("$['o','l'].a", &doc), json!([1]));
        assert_eq!(ok("$['o','o'].b", &doc), json!([2, 2]));
    }

    #[test]
    fn slices() {
        let doc = json!({"a": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]});
        let cases = [
            ("$.a[2:5]", json!([2, 3, 4])),
            ("$.a[:3]", json!([0, 1, 2])),
            ("$.a[7:]", json!([7, 8, 9])),
            ("$.a[-2:]", json!([8, 9])),
            ("$.a[:-8]", json!([0, 1])),
            ("$.a[-3:-1]", json!([7, 8])),
            ("$.a[:]", json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])),
            ("$.a[::3]", json!([0, 3, 6, 9])),
            ("$.a[1:8:2]", json!([1, 3, 5, 7])),
            ("$.a[::-1]", json!([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])),
            ("$.a[8:2:-3]", json!([8, 5])),
            ("$.a[-1:-4:-1]", json!([9, 8, 7])),
            ("$.a[5:2]", json!([])),
            ("$.a[0:100]", json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])),
            ("$.a[20:]", json!([])),
            ("$.a[-100:2]", json!([0, 1])),
            ("$.a[::0]", json!([])),
            ("$.a[ 1 : 3 ]", json!([1, 2])),
        ];
        for (path, want) in cases {
            assert_eq!(ok(path, &doc), want, "{path}");
        }
        assert_eq!(ok("$.missing[1:2]", &doc), json!([]));
        assert_eq!(ok("$[0:1]", &json!({"a": 1})), json!([]));
        assert_eq!(ok("$.store.book[-1:].title", &store()), json!(["The Lord of the Rings"]));
    }

    #[test]
    fn recursive_descent() {
        let s = store();
        assert_eq!(ok("$..author", &s), json!(["Nigel Rees", "Evelyn Waugh", "Herman Melville", "J. R. R. Tolkien"]));
        assert_eq!(ok("$..price", &s), json!([8.95, 12.99, 8.99, 22.99, 19.95]));
        assert_eq!(ok("$.store..price", &s), json!([8.95, 12.99, 8.99, 22.99, 19.95]));
        assert_eq!(ok("$..book[2].title", &s), json!(["Moby Dick"]));
        assert_eq!(ok("$..book[-1].title", &s), json!(["The Lord of the Rings"]));
        assert_eq!(ok("$..book[0,1].price", &s), json!([8.95, 12.99]));
        assert_eq!(ok("$..book[:2].price", &s), json!([8.95, 12.99]));
        assert_eq!(ok("$..['bicycle']", &s), json!([{"color": "red", "price": 19.95}]));
        assert_eq!(ok("$..nothing", &s), json!([]));
        let doc = json!({"a": {"b": 1}, "c": [2, {"b": 3}]});
        assert_eq!(ok("$..*", &doc), json!([{"b": 1}, [2, {"b": 3}], 1, 2, {"b": 3}, 3]));
        assert_eq!(ok("$..b", &doc), json!([1, 3]));
        assert_eq!(ok("$..[0]", &doc), json!([2]));
        assert_eq!(ok("$..[*]", &json!([[1], 2])), json!([[1], 2, 1]));
        // Parents before children, and the root itself is visited.
        let nested = json!({"x": {"x": {"x": 1}}});
        assert_eq!(ok("$..x", &nested), json!([{"x": {"x": 1}}, {"x": 1}, 1]));
        assert_eq!(ok("$..x", &json!(5)), json!([]));
        // A name union inside a scan merges on objects holding every name.
        let pairs = json!([{"a": 1, "b": 2}, {"a": 3}, {"in": {"a": 5, "b": 6}}]);
        assert_eq!(ok("$..['a','b']", &pairs), json!([{"a": 1, "b": 2}, {"a": 5, "b": 6}]));
    }

    #[test]
    fn filters_numbers_and_strings() {
        let s = store();
        assert_eq!(ok("$.store.book[?(@.price < 10)].title", &s), json!(["Sayings of the Century", "Moby Dick"]));
        assert_eq!(ok("$.store.book[?(@.price <= 8.99)].price", &s), json!([8.95, 8.99]));
        assert_eq!(ok("$.store.book[?(@.price > 20)].title", &s), json!(["The Lord of the Rings"]));
        assert_eq!(ok("$.store.book[?(@.price >= 12.99)].price", &s), json!([12.99, 22.99]));
        assert_eq!(ok("$.store.book[?(@.price == 8.95)].author", &s), json!(["Nigel Rees"]));
        assert_eq!(ok("$.store.book[?(@.price != 8.95)].price", &s), json!([12.99, 8.99, 22.99]));
        assert_eq!(ok("$.store.book[?(@.category == 'reference')].author", &s), json!(["Nigel Rees"]));
        assert_eq!(ok("$.store.book[?(@.author == \"Herman Melville\")].price", &s), json!([8.99]));
        assert_eq!(ok("$.store.book[?(@.author < 'F')].author", &s), json!(["Evelyn Waugh"]));
        assert_eq!(ok("$.store.book[?(@.price > $.expensive)].price", &s), json!([12.99, 22.99]));
        assert_eq!(ok("$.store.book[?($.expensive < @.price)].price", &s), json!([12.99, 22.99]));
        assert_eq!(ok("$..book[?(@.isbn)].title", &s), json!(["Moby Dick", "The Lord of the Rings"]));
        assert_eq!(ok("$..book[?(!@.isbn)].title", &s), json!(["Sayings of the Century", "Sword of Honour"]));
        assert_eq!(ok("$.store.book[?(@.price>10)].price", &s), json!([12.99, 22.99]));
    }

    #[test]
    fn filters_logic_and_literals() {
        let doc = json!({"items": [
            {"id": 1, "ok": true, "tag": null, "n": 5},
            {"id": 2, "ok": false, "n": "5"},
            {"id": 3, "ok": true, "tag": "x", "n": 15},
            {"id": 4, "n": -2.5, "sub": {"v": [1, 2]}}
        ]});
        let ids = |p: &str| ok(&format!("$.items[?({p})].id"), &doc);
        assert_eq!(ids("@.ok == true"), json!([1, 3]));
        assert_eq!(ids("@.ok == false"), json!([2]));
        assert_eq!(ids("@.ok != true"), json!([2, 4]));
        assert_eq!(ids("@.tag == null"), json!([1]));
        assert_eq!(ids("@.tag"), json!([1, 3]));
        assert_eq!(ids("!@.tag"), json!([2, 4]));
        assert_eq!(ids("@.ok && @.n > 10"), json!([3]));
        assert_eq!(ids("@.id == 1 || @.id == 4"), json!([1, 4]));
        assert_eq!(ids("@.id == 1 || @.id == 2 && @.ok == true"), json!([1]));
        assert_eq!(ids("(@.id == 1 || @.id == 2) && @.ok == false"), json!([2]));
        assert_eq!(ids("!(@.id > 1)"), json!([1]));
        assert_eq!(ids("!(@.id > 1 && @.id < 4)"), json!([1, 4]));
        assert_eq!(ids("@.n < 0"), json!([4]));
        assert_eq!(ids("@.n == -2.5"), json!([4]));
        assert_eq!(ids("@.n > -3e0"), json!([1, 3, 4]));
        assert_eq!(ids("@.id == 1.0"), json!([1]));
        // Jayway coerces between numbers and strings for ==, not for ===.
        assert_eq!(ids("@.n == 5"), json!([1, 2]));
        assert_eq!(ids("@.n === 5"), json!([1]));
        assert_eq!(ids("@.n !== 5"), json!([2, 3, 4]));
        assert_eq!(ids("@.n == '5'"), json!([1, 2]));
        // Comparisons of different types (or with a missing value) are false.
        assert_eq!(ids("@.n > '1'"), json!([2]));
        assert_eq!(ids("@.missing < 1 || @.missing >= 1"), json!([]));
        assert_eq!(ids("@.missing == null"), json!([]));
        assert_eq!(ids("@.missing != 1"), json!([1, 2, 3, 4]));
        assert_eq!(ids("@.sub.v[1] == 2"), json!([4]));
        assert_eq!(ids("@['sub']['v'][0]"), json!([4]));
        assert_eq!(ids("@.sub.v[?(@ > 1)]"), json!([4]));
        assert_eq!(ids("@.sub.v[?(@ > 5)]"), json!([]));
        assert_eq!(ids(" @.id==3 "), json!([3]));
    }

    #[test]
    fn filters_on_scalars_and_objects() {
        assert_eq!(ok("$[?(@ > 2)]", &json!([1, 2, 3, 4])), json!([3, 4]));
        assert_eq!(ok("$[?(@ == 'b')]", &json!(["a", "b"])), json!(["b"]));
        // A filter applied to an object tests the object itself (Jayway).
        let doc = json!({"o": {"a": 1}});
        assert_eq!(ok("$.o[?(@.a == 1)]", &doc), json!([{"a": 1}]));
        assert_eq!(ok("$.o[?(@.a == 2)]", &doc), json!([]));
        assert_eq!(ok("$.o.a[?(@ == 1)]", &doc), json!([]));
        // In a scan, every object that passes is selected, parents first.
        let nested = json!({"k": 1, "in": {"k": 2, "deep": [{"k": 3}, {"j": 4}]}});
        assert_eq!(ok("$..[?(@.k)].k", &nested), json!([1, 2, 3]));
        assert_eq!(ok("$..[?(@.k > 1)].k", &nested), json!([2, 3]));
    }

    #[test]
    fn normalized_forms() {
        let cases = [
            ("$", "$"),
            ("$$", "$$"),
            ("$.a.b[0]", "$['a']['b'][0]"),
            ("$['a'][\"b\"][-1]", "$['a']['b'][-1]"),
            ("$$.Execution.Id", "$$['Execution']['Id']"),
            ("$.a.*", "$['a'][*]"),
            ("$.a[*]", "$['a'][*]"),
            ("$..name", "$..['name']"),
            ("$..*", "$..[*]"),
            ("$..[0]", "$..[0]"),
            ("$.a[1:3]", "$['a'][1:3]"),
            ("$.a[:3]", "$['a'][:3]"),
            ("$.a[1:]", "$['a'][1:]"),
            ("$.a[::2]", "$['a'][::2]"),
            ("$.a[0, 1]", "$['a'][0,1]"),
            ("$['a','b']", "$['a','b']"),
            ("$.a[?(@.x > 1)].y", "$['a'][?]['y']"),
            ("$.foo-bar", "$['foo-bar']"),
        ];
        for (path, want) in cases {
            assert_eq!(Path::parse(path).unwrap().normalized(), want, "{path}");
        }
        assert_eq!(
            Path::parse("$.x").unwrap().no_results_message(),
            "Invalid path '$.x' : No results for path: $['x']"
        );
    }

    #[test]
    fn definiteness() {
        for path in ["$", "$$", "$.a", "$.a[0]", "$['a'][-1]", "$.a['b','c']", "$$.Map.Item.Value"] {
            assert!(Path::parse(path).unwrap().is_definite(), "{path}");
        }
        for path in ["$.*", "$[*]", "$..a", "$.a[1:2]", "$.a[0,1]", "$['a','b'].c", "$[?(@.a)]"] {
            assert!(!Path::parse(path).unwrap().is_definite(), "{path}");
        }
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(err(""), "a path must not be empty: it starts with '$' or '$$'");
        assert_eq!(err("a.b"), "the path 'a.b' must start with '$' or '$$'");
        assert_eq!(err(" $.a"), "the path ' $.a' must start with '$' or '$$'");
        assert_eq!(err("$."), "the path '$.' must not end with a '.' or '..'");
        assert_eq!(err("$.a."), "the path '$.a.' must not end with a '.' or '..'");
        assert_eq!(err("$.."), "the path '$..' must not end with a '.' or '..'");
        assert_eq!(err("$...a"), "character '.' at position 3 in path '$...a' is not valid");
        assert_eq!(err("$['a'"), "unclosed bracket: the '[' at position 1 in path '$['a'' has no matching ']'");
        assert_eq!(err("$.a[0"), "unclosed bracket: the '[' at position 3 in path '$.a[0' has no matching ']'");
        assert_eq!(err("$.a["), "unclosed bracket: the '[' at position 3 in path '$.a[' has no matching ']'");
        assert_eq!(err("$['a"), "unterminated quoted string starting at position 2 in path '$['a'");
        assert_eq!(err("$[]"), "empty brackets '[]' at position 1 in path '$[]'");
        assert_eq!(
            err("$.a b"),
            "blank character at position 3 in path '$.a b': use bracket notation ['my name'] for a name that \
             contains blanks"
        );
        assert_eq!(err("$.a.length()"), "path functions such as 'length()' are not supported (path '$.a.length()')");
        assert_eq!(err("$1"), "unexpected character '1' at position 1 in path '$1': expected '.' or '['");
        assert_eq!(
            err("$abc"),
            "workflow variables ($name) are not supported: '$abc' is neither '$' nor '$$' followed by '.' or '['"
        );
        assert_eq!(err("$['a']x"), "unexpected character 'x' at position 6 in path '$['a']x': expected '.' or '['");
        assert_eq!(
            err("$[a]"),
            "unexpected character 'a' at position 2 in path '$[a]': expected a quoted name, an index, a slice, '*' or a filter '?(...)'"
        );
        assert_eq!(err("$[0 1]"), "unexpected character '1' at position 4 in path '$[0 1]': expected ']'");
        assert_eq!(err("$[-]"), "unexpected character ']' at position 3 in path '$[-]': expected digits after '-'");
        assert_eq!(err("$[1,]"), "unexpected character ']' at position 4 in path '$[1,]': expected an index after ','");
        assert_eq!(err("$.*x"), "unexpected character 'x' at position 3 in path '$.*x': expected '.' or '[' after '*'");
        assert_eq!(err(r"$['\q']"), r"invalid escape '\q' in a quoted name in path '$['\q']'");
        assert!(err("$[99999999999999999999]").contains("too large"));
    }

    #[test]
    fn filter_syntax_errors() {
        assert_eq!(
            err("$[?@.a]"),
            "unexpected character '@' at position 3 in path '$[?@.a]': a filter is written '[?(expression)]'"
        );
        assert_eq!(
            err("$[?(@.a == 1]"),
            "unexpected character ']' at position 12 in path '$[?(@.a == 1]': expected ')' closing the filter expression"
        );
        assert_eq!(
            err("$[?(@.a == 1)"),
            "unclosed bracket: the '[' at position 1 in path '$[?(@.a == 1)' has no matching ']'"
        );
        assert_eq!(
            err("$[?(@.a = 1)]"),
            "unexpected character '=' at position 8 in path '$[?(@.a = 1)]': '=' is not a comparison: use '=='"
        );
        assert_eq!(
            err("$[?(@.a =~ /x/)]"),
            "the regular-expression filter operator '=~' is not supported (path '$[?(@.a =~ /x/)]')"
        );
        assert_eq!(
            err("$[?(@.a in [1])]"),
            "the filter operator 'in' is not supported (path '$[?(@.a in [1])]'); use ==, !=, <, <=, >, >=, &&, || and !"
        );
        assert_eq!(
            err("$[?(1)]"),
            "unexpected character ')' at position 5 in path '$[?(1)]': a literal alone is not a condition: compare it with ==, !=, <, <=, > or >="
        );
        assert_eq!(
            err("$[?(@.a == )]"),
            "unexpected character ')' at position 11 in path '$[?(@.a == )]': expected @, $, a number, a quoted string, true, false or null"
        );
        assert_eq!(
            err("$[?(@.a == yes)]"),
            "unexpected character 'y' at position 11 in path '$[?(@.a == yes)]': expected @, $, a number, a quoted string, true, false or null"
        );
        assert_eq!(
            err("$[?((@.a)]"),
            "unexpected character ']' at position 9 in path '$[?((@.a)]': expected ')' closing the filter expression"
        );
        assert_eq!(err("$[?(@.a == 1.2.3)]"), "invalid number '1.2.3' at position 11 in path '$[?(@.a == 1.2.3)]'");
        assert_eq!(err("$[?(@. == 1)]"), "empty name after '.' at position 6 in path '$[?(@. == 1)]'");
        assert_eq!(
            err("$[?(@.a == $$.b)]"),
            "unexpected character '$' at position 11 in path '$[?(@.a == $$.b)]': '$$' cannot be used inside a filter"
        );
        assert_eq!(
            err("$[?(@.a == [1])]"),
            "unexpected character '[' at position 11 in path '$[?(@.a == [1])]': JSON array and object literals are not supported in filters"
        );
        assert!(err(&format!("$[?({}@.a{})]", "(".repeat(100), ")".repeat(100))).contains("nested too deeply"));
    }

    #[test]
    fn reference_paths() {
        for path in ["$", "$$", "$.a", "$.a.b[0]", "$['a b'][3].c", "$$.Execution.Input", "$.foo-bar"] {
            assert!(Path::parse_reference(path).is_ok(), "{path}");
        }
        let cases = [
            ("$.a[*]", "'$.a[*]' is not a valid Reference Path: wildcards ('*') are not allowed"),
            ("$.*", "'$.*' is not a valid Reference Path: wildcards ('*') are not allowed"),
            ("$..a", "'$..a' is not a valid Reference Path: recursive descent ('..') is not allowed"),
            ("$.a[1:2]", "'$.a[1:2]' is not a valid Reference Path: slices ('[start:end]') are not allowed"),
            ("$.a[0,1]", "'$.a[0,1]' is not a valid Reference Path: unions ('[a,b]') are not allowed"),
            ("$['a','b']", "'$['a','b']' is not a valid Reference Path: unions ('[a,b]') are not allowed"),
            ("$.a[?(@.b)]", "'$.a[?(@.b)]' is not a valid Reference Path: filters ('[?(...)]') are not allowed"),
            ("$.a[-1]", "'$.a[-1]' is not a valid Reference Path: negative indexes are not allowed"),
            ("$.", "'$.' is not a valid Reference Path: the path '$.' must not end with a '.' or '..'"),
            ("x", "'x' is not a valid Reference Path: the path 'x' must start with '$' or '$$'"),
        ];
        for (path, want) in cases {
            assert_eq!(Path::parse_reference(path).unwrap_err(), want);
        }
    }

    fn write(path: &str, target: Value, value: Value) -> Result<Value, Failure> {
        Path::parse_reference(path).unwrap().write(target, value)
    }

    #[test]
    fn write_creates_and_replaces() {
        assert_eq!(write("$", json!({"a": 1}), json!(5)).unwrap(), json!(5));
        assert_eq!(write("$", json!("s"), json!({"r": 1})).unwrap(), json!({"r": 1}));
        assert_eq!(write("$.r", json!({"a": 1}), json!(5)).unwrap(), json!({"a": 1, "r": 5}));
        assert_eq!(write("$.a.b.c", json!({}), json!(1)).unwrap(), json!({"a": {"b": {"c": 1}}}));
        assert_eq!(write("$.a.b.c", json!({"a": {"x": 0}}), json!(1)).unwrap(), json!({"a": {"x": 0, "b": {"c": 1}}}));
        // Replacing keeps the key's position.
        let out = write("$.a", json!({"a": 1, "b": 2}), json!([9])).unwrap();
        assert_eq!(serde_json::to_string(&out).unwrap(), r#"{"a":[9],"b":2}"#);
        assert_eq!(write("$.a.b", json!({"a": {"b": {"old": 1}}}), json!(null)).unwrap(), json!({"a": {"b": null}}));
        assert_eq!(write("$.l[1]", json!({"l": [1, 2, 3]}), json!("x")).unwrap(), json!({"l": [1, "x", 3]}));
        assert_eq!(write("$.l[0].k", json!({"l": [{"k": 1}, 2]}), json!("x")).unwrap(), json!({"l": [{"k": "x"}, 2]}));
        assert_eq!(write("$[0]", json!([1, 2]), json!(0)).unwrap(), json!([0, 2]));
        assert_eq!(write("$['a b']['c.d']", json!({}), json!(1)).unwrap(), json!({"a b": {"c.d": 1}}));
    }

    #[test]
    fn write_failures() {
        let fail = |path: &str, target: Value| {
            let failure = write(path, target, json!("v")).unwrap_err();
            assert_eq!(failure.error, "States.ResultPathMatchFailure");
            failure.cause
        };
        assert_eq!(fail("$.a", json!("str")), r#"Unable to apply ReferencePath $.a to input "str""#);
        assert_eq!(fail("$.a", json!(12)), "Unable to apply ReferencePath $.a to input 12");
        assert_eq!(fail("$.a", json!([1, 2])), "Unable to apply ReferencePath $.a to input [1,2]");
        assert_eq!(fail("$.a.b", json!({"a": 1})), r#"Unable to apply ReferencePath $.a.b to input {"a":1}"#);
        assert_eq!(fail("$.a.b", json!({"a": null})), r#"Unable to apply ReferencePath $.a.b to input {"a":null}"#);
        assert_eq!(fail("$.l[3]", json!({"l": [1]})), r#"Unable to apply ReferencePath $.l[3] to input {"l":[1]}"#);
        assert_eq!(
            fail("$.l[0]", json!({"l": {"0": 1}})),
            r#"Unable to apply ReferencePath $.l[0] to input {"l":{"0":1}}"#
        );
        // A missing field followed by an index cannot be created; the input is left untouched.
        assert_eq!(fail("$.a.b[0]", json!({"x": 1})), r#"Unable to apply ReferencePath $.a.b[0] to input {"x":1}"#);
        assert_eq!(fail("$$.Execution", json!({})), "Unable to apply ReferencePath $$.Execution to input {}");
        assert_eq!(fail("$$", json!({})), "Unable to apply ReferencePath $$ to input {}");
        // Not a reference path (never produced by the definition parser).
        let p = Path::parse("$.a[*]").unwrap();
        assert_eq!(p.write(json!({"a": [1]}), json!(0)).unwrap_err().error, "States.ResultPathMatchFailure");
    }

    /// For indefinite paths where Jayway and RFC 9535 agree, the matches are
    /// those of `serde_json_path`.
    #[test]
    fn agrees_with_rfc9535_oracle() {
        let docs = [
            store(),
            json!({"a": [1, 2, 3, 4, 5, 6, 7], "b": [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}, {"x": 3}, 4, "s", null]}),
            json!([{"k": [1, {"k": 2}]}, {"z": {"k": 3}}, [[{"k": 4}]]]),
        ];
        let paths = [
            ("$.store.book[*].author", "$.store.book[*].author"),
            ("$.store.book[?(@.price < 10)].title", "$.store.book[?@.price < 10].title"),
            ("$.store.book[?(@.isbn)].title", "$.store.book[?@.isbn].title"),
            (
                "$.store.book[?(@.category == 'fiction' && @.price > 10)]",
                "$.store.book[?@.category == 'fiction' && @.price > 10]",
            ),
            ("$.store.book[?(@.price > 20 || @.price < 9)].price", "$.store.book[?@.price > 20 || @.price < 9].price"),
            ("$.store.book[?(!(@.price > 9))].price", "$.store.book[?!(@.price > 9)].price"),
            ("$.store.book[?(@.price > $.expensive)].title", "$.store.book[?@.price > $.expensive].title"),
            ("$..price", "$..price"),
            ("$..author", "$..author"),
            ("$..book[1:3].title", "$..book[1:3].title"),
            ("$.a[1:6:2]", "$.a[1:6:2]"),
            ("$.a[::-2]", "$.a[::-2]"),
            ("$.a[-3:]", "$.a[-3:]"),
            ("$.a[5:1:-1]", "$.a[5:1:-1]"),
            ("$.a[0,3,-1]", "$.a[0,3,-1]"),
            ("$.b[?(@.x >= 2)].x", "$.b[?@.x >= 2].x"),
            ("$.b[?(@.y == 'a' || @.x == 3)]", "$.b[?@.y == 'a' || @.x == 3]"),
            ("$.b[?(@.y != 'a')]", "$.b[?@.y != 'a']"),
            ("$.b[?(@ == 4)]", "$.b[?@ == 4]"),
            ("$.b[?(@ == null)]", "$.b[?@ == null]"),
            ("$.b[*].x", "$.b[*].x"),
            ("$..k", "$..k"),
            ("$..x", "$..x"),
            ("$[*].k[*]", "$[*].k[*]"),
        ];
        for doc in &docs {
            for (ours, rfc) in paths {
                let p = Path::parse(ours).unwrap();
                assert!(!p.is_definite(), "{ours}");
                let got = p.select(doc, &Value::Null).unwrap().into_owned();
                let oracle = serde_json_path::JsonPath::parse(rfc).unwrap();
                let want = Value::Array(oracle.query(doc).all().into_iter().cloned().collect());
                assert_eq!(got, want, "{ours} on {doc}");
            }
        }
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Slices and index unions match RFC 9535 on arrays of any length.
            #[test]
            fn slices_match_oracle(
                len in 0usize..12,
                start in proptest::option::of(-15i64..15),
                end in proptest::option::of(-15i64..15),
                step in proptest::option::of(-4i64..5),
                idx in proptest::collection::vec(-14i64..14, 2..4),
            ) {
                let doc = Value::Array((0..len).map(|i| json!(i)).collect());
                let part = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                let mut text = format!("$[{}:{}", part(start), part(end));
                if let Some(step) = step {
                    text.push_str(&format!(":{step}"));
                }
                text.push(']');
                let union = format!("$[{}]", idx.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
                for text in [text, union] {
                    let got = Path::parse(&text).unwrap().select(&doc, &Value::Null).unwrap().into_owned();
                    let oracle = serde_json_path::JsonPath::parse(&text).unwrap();
                    let want = Value::Array(oracle.query(&doc).all().into_iter().cloned().collect());
                    prop_assert_eq!(got, want, "{}", text);
                }
            }

            /// Numeric filters match RFC 9535 over arrays of numbers.
            #[test]
            fn numeric_filters_match_oracle(
                values in proptest::collection::vec(-5i64..5, 0..8),
                bound in -5i64..5,
                op in prop_oneof![Just("<"), Just("<="), Just(">"), Just(">="), Just("=="), Just("!=")],
            ) {
                let doc = json!({"v": values.iter().map(|v| json!({"n": v})).collect::<Vec<_>>()});
                let ours = format!("$.v[?(@.n {op} {bound})].n");
                let rfc = format!("$.v[?@.n {op} {bound}].n");
                let got = Path::parse(&ours).unwrap().select(&doc, &Value::Null).unwrap().into_owned();
                let oracle = serde_json_path::JsonPath::parse(&rfc).unwrap();
                let want = Value::Array(oracle.query(&doc).all().into_iter().cloned().collect());
                prop_assert_eq!(got, want);
            }

            /// Parsing never panics, whatever the text.
            #[test]
            fn parse_never_panics(text in "\\$[\\$\\.\\[\\]\\(\\)\\?@'\"a-c0-9:,*=<>!&| \\\\-]{0,20}") {
                let _ = Path::parse(&text);
                let _ = Path::parse_reference(&text);
            }
        }
    }
}
