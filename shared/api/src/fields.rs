//! Reading a request body: required and optional members with the types the
//! API model gives them. A member of the wrong JSON type is a
//! SerializationException (the body does not fit the shape); a missing
//! required member or a value out of its bounds is a ValidationException,
//! worded as AWS words them. A member this build does not act on is refused,
//! never ignored.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The members of one request.
pub struct Fields(Map<String, Value>);

impl Fields {
    /// Parses a body (an empty body is `{}`) and refuses members outside `known`.
    pub fn parse(body: &[u8], known: &[&str]) -> Result<Fields, ApiError> {
        let text = std::str::from_utf8(body).map_err(|_| ApiError::serialization("The request body is not UTF-8"))?;
        let value: Value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str(text)
                .map_err(|e| ApiError::serialization(format!("The request body is not valid JSON: {e}")))?
        };
        let Value::Object(map) = value else {
            return Err(ApiError::serialization("The request body must be a JSON object"));
        };
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::validation(format!(
                "The member '{unknown}' is not supported by this action in Switchyard"
            )));
        }
        Ok(Fields(map))
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// An optional string member.
    pub fn string(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::serialization(format!("The member '{name}' must be a string"))),
        }
    }

    /// A required string member.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.string(name)?.ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }

    /// An optional string member no longer than `max` characters.
    pub fn bounded(&self, name: &str, max: usize) -> Result<Option<&str>, ApiError> {
        let value = self.string(name)?;
        if let Some(v) = value
            && v.chars().count() > max
        {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at '{name}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            )));
        }
        Ok(value)
    }

    /// An optional boolean member.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::serialization(format!("The member '{name}' must be a boolean"))),
        }
    }

    /// `maxResults`: 0 to 1000, where absent or 0 means `default`.
    pub fn max_results(&self, default: usize) -> Result<usize, ApiError> {
        match self.get("maxResults") {
            None => Ok(default),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(0) => Ok(default),
                Some(m @ 1..=1000) => Ok(m as usize),
                Some(m) if m > 1000 => Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{m}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
                ))),
                _ => Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0"
                ))),
            },
            Some(_) => Err(ApiError::serialization("The member 'maxResults' must be an integer")),
        }
    }

    /// An optional member that must be one of `allowed`.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<&str>, ApiError> {
        match self.string(name)? {
            Some(v) if !allowed.contains(&v) => Err(ApiError::validation(format!(
                "1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ))),
            other => Ok(other),
        }
    }
}
