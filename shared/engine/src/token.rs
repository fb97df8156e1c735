//! Task tokens. A token names the task it answers — execution, run and
//! attempt — so a callback finds its way without a lookup table, and carries
//! 128 random bits that only the run's snapshot knows, so it cannot be forged
//! from the names alone. A token is good while its attempt is the run's
//! current task: once answered (or timed out) it is refused.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::snapshot::RunId;

/// Where a task token leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRoute {
    /// The execution.
    pub execution_arn: String,
    /// The run (branch or iteration) the task is in.
    pub run: RunId,
    /// The task attempt.
    pub task_id: u64,
}

/// Builds a token: `<base64url(arn \n run \n task)>.<32 hex digits of randomness>`.
/// Only URL-safe characters, so it can stand in a callback URL as it is.
pub fn encode(route: &TokenRoute, random: [u64; 2]) -> String {
    let names = format!("{}\n{}\n{}", route.execution_arn, route.run.0, route.task_id);
    format!("{}.{:016x}{:016x}", URL_SAFE_NO_PAD.encode(names), random[0], random[1])
}

/// Reads the route of a token; `None` when it is not one of ours.
pub fn decode(token: &str) -> Option<TokenRoute> {
    let (names, secret) = token.split_once('.')?;
    if secret.len() != 32 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let names = String::from_utf8(URL_SAFE_NO_PAD.decode(names).ok()?).ok()?;
    let mut parts = names.split('\n');
    let execution_arn = parts.next()?.to_string();
    let run = RunId(parts.next()?.to_string());
    let task_id = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !execution_arn.starts_with("arn:") {
        return None;
    }
    Some(TokenRoute { execution_arn, run, task_id })
}

/// Compares two tokens in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_leads_back_to_its_task() {
        let route = TokenRoute {
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:m:e".into(),
            run: RunId("/3.1".into()),
            task_id: 129,
        };
        let token = encode(&route, [1, 2]);
        assert!(token.ends_with(".00000000000000010000000000000002"));
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
        assert_eq!(decode(&token), Some(route));
    }

    #[test]
    fn strangers_are_not_tokens() {
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("abc.123"), None);
        assert_eq!(decode(&format!("!!.{}", "0".repeat(32))), None);
        let no_arn = format!("{}.{}", URL_SAFE_NO_PAD.encode("x\n\n1"), "0".repeat(32));
        assert_eq!(decode(&no_arn), None);
    }

    #[test]
    fn same_compares_whole_tokens() {
        assert!(same("a.b", "a.b"));
        assert!(!same("a.b", "a.c"));
        assert!(!same("a.b", "a.bb"));
    }
}
