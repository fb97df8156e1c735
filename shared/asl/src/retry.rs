//! Retry and Catch: which errors a retrier or catcher handles, and how long a
//! retrier waits before the next attempt.

use crate::definition::{ResultPath, StateId};
use crate::names;

/// `JitterStrategy` of a retrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// `NONE` (default): wait exactly the computed interval.
    #[default]
    None,
    /// `FULL`: wait a uniformly random time between 0 and the computed interval.
    Full,
}

/// One entry of `Retry`.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: u64,
    /// `MaxAttempts` (default 3; 0 means never retry).
    pub max_attempts: u64,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`: caps the computed interval.
    pub max_delay_seconds: Option<u64>,
    /// `JitterStrategy` (default NONE).
    pub jitter: Jitter,
}

impl Default for Retrier {
    fn default() -> Self {
        Retrier {
            error_equals: Vec::new(),
            interval_seconds: 1,
            max_attempts: 3,
            backoff_rate: 2.0,
            max_delay_seconds: None,
            jitter: Jitter::None,
        }
    }
}

impl Retrier {
    /// True when this retrier's `ErrorEquals` matches `error`.
    pub fn matches(&self, error: &str) -> bool {
        error_equals_matches(&self.error_equals, error)
    }

    /// The delay before retry number `retry` (0 for the first retry), in
    /// milliseconds: `IntervalSeconds × BackoffRate^retry`, capped by
    /// `MaxDelaySeconds`, then scaled by `unit` (a number in [0, 1)) when the
    /// jitter strategy is FULL. Whole-second arithmetic is kept as milliseconds
    /// so a jittered delay keeps its sub-second part.
    pub fn delay_millis(&self, retry: u32, unit: f64) -> u64 {
        let base = self.interval_seconds as f64 * self.backoff_rate.powi(retry as i32);
        let mut seconds = base;
        if let Some(max) = self.max_delay_seconds {
            seconds = seconds.min(max as f64);
        }
        // Step Functions' own ceiling on any single delay.
        seconds = seconds.min(99_999_999.0);
        let millis = seconds * 1000.0;
        let millis = match self.jitter {
            Jitter::None => millis,
            Jitter::Full => millis * unit.clamp(0.0, 1.0),
        };
        millis.round() as u64
    }
}

/// One entry of `Catch`.
#[derive(Debug, Clone)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `Next`.
    pub next: StateId,
    /// `ResultPath`: where the error output `{Error, Cause}` goes in the raw input.
    pub result_path: ResultPath,
}

impl Catcher {
    /// True when this catcher's `ErrorEquals` matches `error`.
    pub fn matches(&self, error: &str) -> bool {
        error_equals_matches(&self.error_equals, error)
    }
}

/// Step Functions' matching rules for one `ErrorEquals` list:
/// terminal errors match nothing; `States.ALL` matches everything else;
/// `States.TaskFailed` matches everything but `States.Timeout` (and the
/// heartbeat timeout, which is a `States.Timeout`); `States.Timeout` also
/// matches heartbeat timeouts; otherwise names compare exactly.
pub fn error_equals_matches(error_equals: &[String], error: &str) -> bool {
    if names::is_terminal(error) {
        return false;
    }
    error_equals.iter().any(|name| match name.as_str() {
        names::ALL => true,
        names::TASK_FAILED => error != names::TIMEOUT && error != names::HEARTBEAT_TIMEOUT,
        names::TIMEOUT => error == names::TIMEOUT || error == names::HEARTBEAT_TIMEOUT,
        other => other == error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn terminal_errors_match_nothing() {
        assert!(!error_equals_matches(&list(&["States.ALL"]), "States.Runtime"));
        assert!(!error_equals_matches(&list(&["States.Runtime"]), "States.Runtime"));
        assert!(!error_equals_matches(&list(&["States.ALL"]), "States.DataLimitExceeded"));
        assert!(!error_equals_matches(&list(&["States.DataLimitExceeded"]), "States.DataLimitExceeded"));
    }

    #[test]
    fn task_failed_matches_all_but_timeouts() {
        let tf = list(&["States.TaskFailed"]);
        assert!(error_equals_matches(&tf, "Lambda.ServiceException"));
        assert!(error_equals_matches(&tf, "CustomError"));
        assert!(error_equals_matches(&tf, "States.IntrinsicFailure"));
        assert!(!error_equals_matches(&tf, "States.Timeout"));
        assert!(!error_equals_matches(&tf, "States.HeartbeatTimeout"));
    }

    #[test]
    fn timeout_covers_heartbeat_but_not_the_reverse() {
        assert!(error_equals_matches(&list(&["States.Timeout"]), "States.HeartbeatTimeout"));
        assert!(!error_equals_matches(&list(&["States.HeartbeatTimeout"]), "States.Timeout"));
        assert!(error_equals_matches(&list(&["States.HeartbeatTimeout"]), "States.HeartbeatTimeout"));
    }

    #[test]
    fn names_compare_exactly_and_case_sensitively() {
        assert!(error_equals_matches(&list(&["A", "B"]), "B"));
        assert!(!error_equals_matches(&list(&["a"]), "A"));
        assert!(!error_equals_matches(&list(&["Err"]), "Error"));
    }

    #[test]
    fn backoff_arithmetic() {
        let r = Retrier { interval_seconds: 1, backoff_rate: 2.0, max_attempts: 3, ..Retrier::default() };
        assert_eq!(r.delay_millis(0, 0.0), 1000);
        assert_eq!(r.delay_millis(1, 0.0), 2000);
        assert_eq!(r.delay_millis(2, 0.0), 4000);
        let capped =
            Retrier { interval_seconds: 3, backoff_rate: 3.0, max_delay_seconds: Some(10), ..Retrier::default() };
        assert_eq!(capped.delay_millis(0, 0.0), 3000);
        assert_eq!(capped.delay_millis(1, 0.0), 9000);
        assert_eq!(capped.delay_millis(2, 0.0), 10000);
        let frac = Retrier { interval_seconds: 1, backoff_rate: 1.5, ..Retrier::default() };
        assert_eq!(frac.delay_millis(1, 0.0), 1500);
        let jitter = Retrier { interval_seconds: 4, backoff_rate: 2.0, jitter: Jitter::Full, ..Retrier::default() };
        assert_eq!(jitter.delay_millis(1, 0.25), 2000);
        assert_eq!(jitter.delay_millis(1, 0.0), 0);
    }
}
