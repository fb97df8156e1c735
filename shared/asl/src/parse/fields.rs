//! Typed readers for the fields of a definition object. Each reader records its
//! own errors (at the field's JSON pointer) and returns `None` when the field is
//! absent or invalid, so a caller can read every field, report every problem,
//! and only then give up.

use std::ops::RangeInclusive;

use serde_json::{Map, Value};

use crate::error::{ValidationCode, ValidationError};

/// Where errors are collected.
pub(super) type Errors = Vec<ValidationError>;

/// The largest number of seconds most ASL fields accept.
pub(super) const MAX_SECONDS: u64 = 99_999_999;

/// The pointer of field `key` inside the object at `ptr` (RFC 6901 escaping).
pub(super) fn child(ptr: &str, key: &str) -> String {
    let mut out = String::with_capacity(ptr.len() + key.len() + 1);
    out.push_str(ptr);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// The pointer of entry `index` of the array at `ptr`.
pub(super) fn item(ptr: &str, index: usize) -> String {
    format!("{ptr}/{index}")
}

/// A required field is absent from the object at `ptr`.
pub(super) fn required(ptr: &str, key: &str) -> ValidationError {
    ValidationError::schema(ptr, format!("The field '{key}' is required but was missing"))
}

/// The value at `ptr` (of field `key`) is not of the `expected` kind.
pub(super) fn wrong_type(ptr: &str, key: &str, expected: &str) -> ValidationError {
    ValidationError::schema(ptr, format!("The value of '{key}' must be {expected}"))
}

/// The value at `ptr` (of field `key`) is not one of `options`.
pub(super) fn not_one_of(ptr: &str, key: &str, options: &[&str]) -> ValidationError {
    wrong_type(ptr, key, &format!("one of {}", options.join(", ")))
}

/// Two mutually exclusive fields of the object at `ptr` are both present.
pub(super) fn both(ptr: &str, a: &str, b: &str) -> ValidationError {
    ValidationError::schema(ptr, format!("Only one of the fields '{a}' and '{b}' may be set"))
}

fn range_error(ptr: &str, key: &str, range: &RangeInclusive<u64>) -> ValidationError {
    let (min, max) = (*range.start(), *range.end());
    if max == u64::MAX {
        wrong_type(ptr, key, &format!("an integer greater than or equal to {min}"))
    } else {
        wrong_type(ptr, key, &format!("an integer between {min} and {max}"))
    }
}

/// Reads `value` (of field `key`, at `ptr`) as an integer in `range`.
pub(super) fn integer_value(
    value: &Value,
    ptr: &str,
    key: &str,
    range: RangeInclusive<u64>,
    errs: &mut Errors,
) -> Option<u64> {
    let Value::Number(n) = value else {
        errs.push(wrong_type(ptr, key, "an integer"));
        return None;
    };
    if !(n.is_u64() || n.is_i64()) {
        errs.push(wrong_type(ptr, key, "an integer"));
        return None;
    }
    match n.as_u64() {
        Some(x) if range.contains(&x) => Some(x),
        _ => {
            errs.push(range_error(ptr, key, &range));
            None
        }
    }
}

/// Reads `value` (of field `key`, at `ptr`) as a number between `min` and `max`.
pub(super) fn number_value(value: &Value, ptr: &str, key: &str, min: f64, max: f64, errs: &mut Errors) -> Option<f64> {
    let Some(x) = value.as_f64() else {
        errs.push(wrong_type(ptr, key, "a number"));
        return None;
    };
    if x >= min && x <= max {
        return Some(x);
    }
    let expected = if max.is_finite() {
        format!("a number between {min} and {max}")
    } else {
        format!("a number greater than or equal to {min}")
    };
    errs.push(wrong_type(ptr, key, &expected));
    None
}

/// An object of the definition, with its JSON pointer.
#[derive(Debug, Clone)]
pub(super) struct Obj<'a> {
    /// The object's fields.
    pub map: &'a Map<String, Value>,
    /// Its pointer (`""` for the whole definition).
    pub ptr: String,
}

impl<'a> Obj<'a> {
    /// Wraps `map`, found at `ptr`.
    pub fn new(map: &'a Map<String, Value>, ptr: String) -> Self {
        Obj { map, ptr }
    }

    /// An entry of the array field `list`, which must be an object.
    pub fn entry(value: &'a Value, ptr: String, list: &str, errs: &mut Errors) -> Option<Self> {
        match value.as_object() {
            Some(map) => Some(Obj::new(map, ptr)),
            None => {
                errs.push(ValidationError::schema(ptr, format!("Each entry of '{list}' must be an object")));
                None
            }
        }
    }

    /// The raw value of a field.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// True when the field is present (whatever its value).
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The pointer of a field.
    pub fn at(&self, key: &str) -> String {
        child(&self.ptr, key)
    }

    /// The raw value of a required field; its absence is an error.
    pub fn require(&self, key: &str, errs: &mut Errors) -> Option<&'a Value> {
        let value = self.get(key);
        if value.is_none() {
            errs.push(required(&self.ptr, key));
        }
        value
    }

    /// A string field.
    pub fn string(&self, key: &str, errs: &mut Errors) -> Option<&'a str> {
        let value = self.get(key)?;
        self.as_str(key, value, errs)
    }

    /// A required string field.
    pub fn required_string(&self, key: &str, errs: &mut Errors) -> Option<&'a str> {
        let value = self.require(key, errs)?;
        self.as_str(key, value, errs)
    }

    fn as_str(&self, key: &str, value: &'a Value, errs: &mut Errors) -> Option<&'a str> {
        let text = value.as_str();
        if text.is_none() {
            errs.push(wrong_type(&self.at(key), key, "a string"));
        }
        text
    }

    /// A string field whose value must be one of `options`.
    pub fn enum_string(&self, key: &str, options: &[&str], errs: &mut Errors) -> Option<&'a str> {
        let text = self.string(key, errs)?;
        if options.contains(&text) {
            Some(text)
        } else {
            errs.push(not_one_of(&self.at(key), key, options));
            None
        }
    }

    /// A boolean field.
    pub fn boolean(&self, key: &str, errs: &mut Errors) -> Option<bool> {
        let value = self.get(key)?;
        let flag = value.as_bool();
        if flag.is_none() {
            errs.push(wrong_type(&self.at(key), key, "a boolean"));
        }
        flag
    }

    /// An integer field whose value must lie in `range`.
    pub fn integer(&self, key: &str, range: RangeInclusive<u64>, errs: &mut Errors) -> Option<u64> {
        let value = self.get(key)?;
        integer_value(value, &self.at(key), key, range, errs)
    }

    /// A number field whose value must lie between `min` and `max`.
    pub fn number(&self, key: &str, min: f64, max: f64, errs: &mut Errors) -> Option<f64> {
        let value = self.get(key)?;
        number_value(value, &self.at(key), key, min, max, errs)
    }

    /// An object field.
    pub fn object(&self, key: &str, errs: &mut Errors) -> Option<Obj<'a>> {
        let value = self.get(key)?;
        match value.as_object() {
            Some(map) => Some(Obj::new(map, self.at(key))),
            None => {
                errs.push(wrong_type(&self.at(key), key, "an object"));
                None
            }
        }
    }

    /// An array field.
    pub fn array(&self, key: &str, errs: &mut Errors) -> Option<&'a [Value]> {
        let value = self.get(key)?;
        match value.as_array() {
            Some(list) => Some(list),
            None => {
                errs.push(wrong_type(&self.at(key), key, "an array"));
                None
            }
        }
    }

    /// A required array field that must have at least one entry.
    pub fn non_empty_array(&self, key: &str, errs: &mut Errors) -> Option<&'a [Value]> {
        self.require(key, errs)?;
        let list = self.array(key, errs)?;
        if list.is_empty() {
            errs.push(wrong_type(&self.at(key), key, "a non-empty array"));
            return None;
        }
        Some(list)
    }

    /// True (and an error) when the mutually exclusive fields `a` and `b` are both present.
    pub fn exclusive(&self, a: &str, b: &str, errs: &mut Errors) -> bool {
        let clash = self.has(a) && self.has(b);
        if clash {
            errs.push(both(&self.ptr, a, b));
        }
        clash
    }

    /// Rejects every field not in `allowed`. A field listed in `deferred` (with
    /// the rest of its message) is valid ASL this build does not run yet.
    pub fn check_fields(&self, allowed: &[&str], deferred: &[(&str, &str)], errs: &mut Errors) {
        self.check_fields_by(|key| allowed.contains(&key), deferred, errs);
    }

    /// Like [`Obj::check_fields`], with the allowed fields given by a predicate.
    pub fn check_fields_by(&self, allowed: impl Fn(&str) -> bool, deferred: &[(&str, &str)], errs: &mut Errors) {
        for key in self.map.keys() {
            if allowed(key) {
                continue;
            }
            let ptr = self.at(key);
            match deferred.iter().find(|(name, _)| name == key) {
                Some((_, rest)) => errs.push(ValidationError::new(
                    ValidationCode::Unsupported,
                    ptr,
                    format!("Field '{key}' is not supported{rest}"),
                )),
                None => errs.push(ValidationError::schema(ptr, format!("Field '{key}' is not supported"))),
            }
        }
    }
}
