//! Names and ARNs as Step Functions accepts them.

use crate::error::ApiError;

/// Checks a state machine or execution name: 1–80 characters, none of them
/// whitespace, brackets, wildcards, the characters `"#%\^|~`$&,;:/` or
/// control characters (the rule the CreateStateMachine and StartExecution
/// API references give).
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let bad = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
    };
    let length = name.chars().count();
    if length == 0 || length > 80 || name.chars().any(bad) {
        return Err(ApiError::new("InvalidName", format!("Invalid Name: '{name}'")));
    }
    Ok(())
}

/// The parts of a Step Functions ARN of `kind` (`stateMachine`, `execution`):
/// region, account and the resource names after the kind.
pub fn parse_arn<'a>(arn: &'a str, kind: &str) -> Result<(&'a str, &'a str, Vec<&'a str>), ApiError> {
    let invalid = || ApiError::new("InvalidArn", format!("Invalid Arn: '{arn}'"));
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 7 || parts[0] != "arn" || parts[2] != "states" || parts[5] != kind {
        return Err(invalid());
    }
    let names = parts[6..].to_vec();
    let expected = if kind == "execution" { 2 } else { 1 };
    if names.len() != expected || names.iter().any(|n| n.is_empty()) {
        return Err(invalid());
    }
    Ok((parts[3], parts[4], names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("order-saga_2").is_ok());
        for bad in ["", "has space", "a/b", "a:b", "x*", &"n".repeat(81)] {
            assert_eq!(check_name(bad).unwrap_err().kind, "InvalidName", "{bad}");
        }
    }

    #[test]
    fn arns() {
        let (region, account, names) =
            parse_arn("arn:aws:states:us-east-1:123456789012:execution:m:e", "execution").unwrap();
        assert_eq!((region, account, names), ("us-east-1", "123456789012", vec!["m", "e"]));
        assert!(parse_arn("arn:aws:states:us-east-1:123456789012:stateMachine:m", "execution").is_err());
        assert!(parse_arn("nope", "stateMachine").is_err());
        assert!(parse_arn("arn:aws:states:us-east-1:123456789012:stateMachine:m:1", "stateMachine").is_err());
    }
}
