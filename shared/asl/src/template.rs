//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`,
//! `Credentials`): JSON whose keys ending in `.$` take a path or an intrinsic
//! function, at any depth of objects and arrays.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::error::{Failure, ValidationCode, ValidationError};
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
    ///
    /// Workflow variables (`$name`) are not supported and are reported as such.
    pub fn parse(text: &str) -> Result<Expr, String> {
        if text.starts_with('$') {
            Path::parse(text).map(Expr::Path)
        } else if text.starts_with("States.") {
            Intrinsic::parse(text).map(Expr::Intrinsic)
        } else {
            Err(format!(
                "'{text}' is neither a JSONPath (starting with '$') nor an intrinsic function call (starting with \
                 'States.')"
            ))
        }
    }

    /// Compiles the value of the field `field` (e.g. `value.$` or `CausePath`)
    /// found at `pointer` in the definition: it must be a string holding a
    /// path or an intrinsic call. The error carries Step Functions' code:
    /// `SCHEMA_VALIDATION_FAILED` for a non-string, `INVALID_INTRINSIC_FUNCTION`
    /// for a bad `States.…` call, `UNSUPPORTED_FEATURE` for a workflow
    /// variable (`$name`) and `INVALID_JSON_PATH` otherwise.
    pub fn compile(value: &Value, field: &str, pointer: &str) -> Result<Expr, ValidationError> {
        let Some(text) = value.as_str() else {
            return Err(ValidationError::schema(
                pointer,
                format!(
                    "The value for the field '{field}' must be a STRING that contains a JSONPath or an intrinsic function"
                ),
            ));
        };
        Expr::parse(text).map_err(|detail| {
            let code = if text.starts_with("States.") {
                ValidationCode::InvalidIntrinsicFunction
            } else if is_variable_reference(text) {
                ValidationCode::Unsupported
            } else {
                ValidationCode::InvalidJsonPath
            };
            ValidationError::new(
                code,
                pointer,
                format!(
                    "The value for the field '{field}' must be a valid JSONPath or a valid intrinsic function call: \
                     {detail}"
                ),
            )
        })
    }

    /// The path or call as written.
    pub fn text(&self) -> &str {
        match self {
            Expr::Path(p) => p.text(),
            Expr::Intrinsic(i) => i.text(),
        }
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
        match self {
            Expr::Path(path) => match path.select(env.input, env.context) {
                Ok(value) => Ok(value.into_owned()),
                Err(_) => {
                    let doc = if path.uses_context() { env.context } else { env.input };
                    let shown = serde_json::to_string(doc).unwrap_or_default();
                    Err(Failure::runtime(format!(
                        "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{shown}'",
                        path.text()
                    )))
                }
            },
            Expr::Intrinsic(intrinsic) => intrinsic.evaluate(env),
        }
    }
}

/// True for `$name…`: a workflow variable reference rather than a path.
fn is_variable_reference(text: &str) -> bool {
    text.strip_prefix('$').and_then(|rest| rest.bytes().next()).is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
}

/// Escapes one JSON-pointer reference token (RFC 6901): `~` → `~0`, `/` → `~1`.
pub fn escape_pointer_token(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// A compiled payload template.
#[derive(Debug, Clone)]
pub struct Template {
    root: Node,
    uses_context: bool,
}

/// A node of a compiled template.
#[derive(Debug, Clone)]
enum Node {
    /// A subtree without any `.$` key, copied as is.
    Literal(Value),
    /// An object with at least one `.$` key somewhere below; output keys in order.
    Object(Vec<(String, Node)>),
    /// An array with at least one `.$` key somewhere below.
    Array(Vec<Node>),
    /// The value of a `.$` key; `field` is the key as written (with `.$`).
    Expr { field: Box<str>, expr: Expr },
}

/// True when some object key at or below `value` ends in `.$`.
fn is_dynamic(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k.ends_with(".$") || is_dynamic(v)),
        Value::Array(items) => items.iter().any(is_dynamic),
        _ => false,
    }
}

/// Collects compile results and errors while walking a template.
struct Compiler {
    errors: Vec<ValidationError>,
    uses_context: bool,
}

impl Compiler {
    fn node(&mut self, value: &Value, pointer: &str) -> Node {
        if !is_dynamic(value) {
            return Node::Literal(value.clone());
        }
        match value {
            Value::Object(map) => Node::Object(self.object(map, pointer)),
            Value::Array(items) => Node::Array(
                items.iter().enumerate().map(|(i, item)| self.node(item, &format!("{pointer}/{i}"))).collect(),
            ),
            other => Node::Literal(other.clone()),
        }
    }

    fn object(&mut self, map: &Map<String, Value>, pointer: &str) -> Vec<(String, Node)> {
        let mut members = Vec::with_capacity(map.len());
        for (key, value) in map {
            let child = format!("{pointer}/{}", escape_pointer_token(key));
            let Some(out) = key.strip_suffix(".$") else {
                members.push((key.clone(), self.node(value, &child)));
                continue;
            };
            // `a` and `a.$` would both produce `a` (`a.$.$` produces `a.$`, which `a.$` does not).
            if !out.ends_with(".$") && map.contains_key(out) {
                self.errors.push(ValidationError::schema(
                    &child,
                    format!("The field '{out}' is given twice: as '{out}' and as '{key}'"),
                ));
                continue;
            }
            match Expr::compile(value, key, &child) {
                Ok(expr) => {
                    self.uses_context |= expr.uses_context();
                    members.push((out.to_owned(), Node::Expr { field: key.as_str().into(), expr }));
                }
                Err(error) => self.errors.push(error),
            }
        }
        members
    }
}

impl Template {
    /// Compiles the template found at `pointer` in the definition; every bad
    /// `.$` value is reported with its own pointer (the `.$` key's).
    pub fn compile(value: &Value, pointer: &str) -> Result<Template, Vec<ValidationError>> {
        let mut compiler = Compiler { errors: Vec::new(), uses_context: false };
        let root = compiler.node(value, pointer);
        if compiler.errors.is_empty() {
            Ok(Template { root, uses_context: compiler.uses_context })
        } else {
            Err(compiler.errors)
        }
    }

    /// True when some `.$` value reads the context object.
    pub fn uses_context(&self) -> bool {
        self.uses_context
    }

    /// True when the template has no `.$` key: it always yields the same value.
    pub fn is_literal(&self) -> bool {
        matches!(self.root, Node::Literal(_))
    }

    /// Builds the payload. A path that selects nothing fails with
    /// `States.Runtime` ("The JSONPath '$.x' specified for the field 'x.$'
    /// could not be found in the input '…'"); an intrinsic's failure is
    /// `States.IntrinsicFailure`.
    pub fn evaluate(&self, env: &mut Env<'_>) -> Result<Value, Failure> {
        evaluate_node(&self.root, env)
    }
}

fn evaluate_node(node: &Node, env: &mut Env<'_>) -> Result<Value, Failure> {
    match node {
        Node::Literal(value) => Ok(value.clone()),
        Node::Object(members) => {
            let mut map = Map::with_capacity(members.len());
            for (key, member) in members {
                map.insert(key.clone(), evaluate_node(member, env)?);
            }
            Ok(Value::Object(map))
        }
        Node::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(evaluate_node(item, env)?);
            }
            Ok(Value::Array(out))
        }
        Node::Expr { field, expr } => expr.evaluate(field, env),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Entropy;
    use serde_json::json;

    struct NoEntropy;

    impl Entropy for NoEntropy {
        fn next_u64(&mut self) -> u64 {
            4
        }
    }

    fn run(template: &Value, input: &Value, context: &Value) -> Result<Value, Failure> {
        let t = Template::compile(template, "/States/A/Parameters").expect("compiles");
        let mut entropy = NoEntropy;
        let mut env = Env { input, context, entropy: &mut entropy };
        t.evaluate(&mut env)
    }

    fn errors(template: &Value) -> Vec<(ValidationCode, String, String)> {
        Template::compile(template, "/States/A/Parameters")
            .expect_err("should not compile")
            .into_iter()
            .map(|e| (e.code, e.pointer, e.message))
            .collect()
    }

    #[test]
    fn paths_and_literals() {
        let input = json!({"a": {"b": [1, 2, 3]}, "name": "x", "n": null});
        let template = json!({
            "lit": "$.not.a.path",
            "num": 3,
            "b.$": "$.a.b",
            "first.$": "$.a.b[0]",
            "all.$": "$",
            "nul.$": "$.n",
            "many.$": "$.a.b[1:]",
            "none.$": "$.a.b[?(@ > 5)]",
            "nested": {"deep": {"name.$": "$.name", "keep": [1, "$"]}},
            "list": [{"x.$": "$.name"}, "plain", [{"y.$": "$.a.b[-1]"}], {"z": 1}]
        });
        let out = run(&template, &input, &Value::Null).unwrap();
        assert_eq!(
            out,
            json!({
                "lit": "$.not.a.path",
                "num": 3,
                "b": [1, 2, 3],
                "first": 1,
                "all": input,
                "nul": null,
                "many": [2, 3],
                "none": [],
                "nested": {"deep": {"name": "x", "keep": [1, "$"]}},
                "list": [{"x": "x"}, "plain", [{"y": 3}], {"z": 1}]
            })
        );
        // Key order is the template's.
        let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["lit", "num", "b", "first", "all", "nul", "many", "none", "nested", "list"]);
    }

    #[test]
    fn context_paths() {
        let input = json!({"x": 1});
        let context = json!({"Execution": {"Id": "arn:aws:states:x"}, "Map": {"Item": {"Index": 2, "Value": "v"}}});
        let template = json!({"id.$": "$$.Execution.Id", "i.$": "$$.Map.Item.Index", "x.$": "$.x"});
        let t = Template::compile(&template, "").unwrap();
        assert!(t.uses_context());
        assert!(!t.is_literal());
        let out = run(&template, &input, &context).unwrap();
        assert_eq!(out, json!({"id": "arn:aws:states:x", "i": 2, "x": 1}));
        let plain = Template::compile(&json!({"x.$": "$.x", "l": [{"y.$": "$"}]}), "").unwrap();
        assert!(!plain.uses_context());
    }

    #[test]
    fn literal_templates() {
        for template in [json!({"a": 1, "b": {"c": ["$.x"]}}), json!("$.x"), json!([1, 2]), json!(null), json!({})] {
            let t = Template::compile(&template, "").unwrap();
            assert!(t.is_literal());
            assert!(!t.uses_context());
            assert_eq!(run(&template, &json!({"x": 1}), &Value::Null).unwrap(), template);
        }
        let array = json!([{"a.$": "$.x"}, 2]);
        assert_eq!(run(&array, &json!({"x": "v"}), &Value::Null).unwrap(), json!([{"a": "v"}, 2]));
    }

    #[test]
    fn missing_path_is_states_runtime() {
        let input = json!({"a": 1});
        let failure = run(&json!({"ok.$": "$.a", "value.$": "$.missing"}), &input, &Value::Null).unwrap_err();
        assert_eq!(failure.error, "States.Runtime");
        assert_eq!(
            failure.cause,
            r#"The JSONPath '$.missing' specified for the field 'value.$' could not be found in the input '{"a":1}'"#
        );
        let nested = run(&json!({"o": [{"deep.$": "$.a.b"}]}), &input, &Value::Null).unwrap_err();
        assert_eq!(
            nested.cause,
            r#"The JSONPath '$.a.b' specified for the field 'deep.$' could not be found in the input '{"a":1}'"#
        );
        // A context path prints the context object.
        let context = json!({"State": {"Name": "A"}});
        let failure = run(&json!({"t.$": "$$.Task.Token"}), &input, &context).unwrap_err();
        assert_eq!(
            failure.cause,
            r#"The JSONPath '$$.Task.Token' specified for the field 't.$' could not be found in the input '{"State":{"Name":"A"}}'"#
        );
    }

    #[test]
    fn expr_parse_and_evaluate() {
        let e = Expr::parse("$.a[0]").unwrap();
        assert_eq!(e.text(), "$.a[0]");
        assert!(!e.uses_context());
        assert!(Expr::parse("$$.Execution.Input").unwrap().uses_context());
        assert_eq!(
            Expr::parse("hello").unwrap_err(),
            "'hello' is neither a JSONPath (starting with '$') nor an intrinsic function call (starting with 'States.')"
        );
        assert!(Expr::parse("$myVar").unwrap_err().starts_with("workflow variables ($name) are not supported"));
        assert!(Expr::parse("$.").is_err());
        let input = json!({"a": [7]});
        let mut entropy = NoEntropy;
        let mut env = Env { input: &input, context: &Value::Null, entropy: &mut entropy };
        assert_eq!(e.evaluate("f.$", &mut env).unwrap(), json!(7));
        let missing = Expr::parse("$.b").unwrap().evaluate("CausePath", &mut env).unwrap_err();
        assert_eq!(
            missing.cause,
            r#"The JSONPath '$.b' specified for the field 'CausePath' could not be found in the input '{"a":[7]}'"#
        );
        assert!(missing.is_terminal());
    }

    #[test]
    fn compile_errors_have_exact_pointers() {
        let template = json!({
            "ok.$": "$.fine",
            "bad.$": "$.a[",
            "num.$": 5,
            "obj.$": {"x": 1},
            "word.$": "hello",
            "var.$": "$myVariable",
            "nested": {"list": [0, {"deep.$": "$..", "fine.$": "$.x"}]},
            "a/b~c.$": "$.",
            "dup": 1,
            "dup.$": "$.x",
        });
        let got = errors(&template);
        let p = "/States/A/Parameters";
        let want = vec![
            (
                ValidationCode::InvalidJsonPath,
                format!("{p}/bad.$"),
                "The value for the field 'bad.$' must be a valid JSONPath or a valid intrinsic function call: \
                 unclosed bracket: the '[' at position 3 in path '$.a[' has no matching ']'"
                    .to_owned(),
            ),
            (
                ValidationCode::SchemaValidationFailed,
                format!("{p}/num.$"),
                "The value for the field 'num.$' must be a STRING that contains a JSONPath or an intrinsic function"
                    .to_owned(),
            ),
            (
                ValidationCode::SchemaValidationFailed,
                format!("{p}/obj.$"),
                "The value for the field 'obj.$' must be a STRING that contains a JSONPath or an intrinsic function"
                    .to_owned(),
            ),
            (
                ValidationCode::InvalidJsonPath,
                format!("{p}/word.$"),
                "The value for the field 'word.$' must be a valid JSONPath or a valid intrinsic function call: \
                 'hello' is neither a JSONPath (starting with '$') nor an intrinsic function call (starting with \
                 'States.')"
                    .to_owned(),
            ),
            (
                ValidationCode::Unsupported,
                format!("{p}/var.$"),
                "The value for the field 'var.$' must be a valid JSONPath or a valid intrinsic function call: \
                 workflow variables ($name) are not supported: '$myVariable' is neither '$' nor '$$' followed by \
                 '.' or '['"
                    .to_owned(),
            ),
            (
                ValidationCode::InvalidJsonPath,
                format!("{p}/nested/list/1/deep.$"),
                "The value for the field 'deep.$' must be a valid JSONPath or a valid intrinsic function call: \
                 the path '$..' must not end with a '.' or '..'"
                    .to_owned(),
            ),
            (
                ValidationCode::InvalidJsonPath,
                format!("{p}/a~1b~0c.$"),
                "The value for the field 'a/b~c.$' must be a valid JSONPath or a valid intrinsic function call: \
                 the path '$.' must not end with a '.' or '..'"
                    .to_owned(),
            ),
            (
                ValidationCode::SchemaValidationFailed,
                format!("{p}/dup.$"),
                "The field 'dup' is given twice: as 'dup' and as 'dup.$'".to_owned(),
            ),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn compile_error_in_top_level_array() {
        let got = errors(&json!([{"a.$": "nope"}, {"b": [{"c.$": 1}]}]));
        let pointers: Vec<_> = got.iter().map(|(_, p, _)| p.as_str()).collect();
        assert_eq!(pointers, ["/States/A/Parameters/0/a.$", "/States/A/Parameters/1/b/0/c.$"]);
    }

    #[test]
    fn dollar_suffix_edge_cases() {
        // `a.$.$` outputs `a.$`, which does not collide with `a.$` (output `a`).
        let template = json!({"a.$": "$.x", "a.$.$": "$.y"});
        let out = run(&template, &json!({"x": 1, "y": 2}), &Value::Null).unwrap();
        assert_eq!(out, json!({"a": 1, "a.$": 2}));
        // Only keys ending in `.$` are dynamic.
        let template = json!({"$": "$.x", "a$": "$.x", "a.$b": "$.x"});
        assert!(Template::compile(&template, "").unwrap().is_literal());
    }

    #[test]
    fn pointer_escaping() {
        assert_eq!(escape_pointer_token("plain"), "plain");
        assert_eq!(escape_pointer_token("a/b"), "a~1b");
        assert_eq!(escape_pointer_token("~/"), "~0~1");
        assert_eq!(escape_pointer_token("~1"), "~01");
    }

    #[test]
    fn compiled_objects_have_unique_keys() {
        let t = Template::compile(&json!({"a.$": "$.x", "b": 1, "c": [{"d.$": "$"}]}), "").unwrap();
        let Node::Object(members) = &t.root else { panic!("object expected") };
        let mut seen = std::collections::HashSet::new();
        assert!(members.iter().all(|(k, _)| seen.insert(k.as_str())));
    }
}
