//! The predefined error names of Step Functions, spelled exactly as AWS spells them.

/// Wildcard that matches any error name except the terminal ones.
pub const ALL: &str = "States.ALL";
/// Matches any error except `States.Timeout` (and the terminal ones).
pub const TASK_FAILED: &str = "States.TaskFailed";
/// A task or execution ran longer than its `TimeoutSeconds`, or missed a heartbeat.
pub const TIMEOUT: &str = "States.Timeout";
/// A task missed its heartbeat; only used for matching in Retry/Catch.
pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
/// Insufficient privileges.
pub const PERMISSIONS: &str = "States.Permissions";
/// `ResultPath` could not be applied to the state input.
pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
/// A `.$` field's path failed (named by the spec; AWS reports most as States.Runtime).
pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
/// A Parallel branch failed (named by the spec; AWS surfaces the branch's own error).
pub const BRANCH_FAILED: &str = "States.BranchFailed";
/// A Choice state matched no rule and has no Default.
pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
/// An intrinsic function call failed.
pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
/// A Map state's failures exceeded its tolerated threshold.
pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
/// A payload exceeded 256 KiB. Terminal: never retried or caught.
pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
/// The execution could not be processed (bad paths, bad Wait values, ...). Terminal.
pub const RUNTIME: &str = "States.Runtime";

/// Errors that no Retry or Catch ever matches, not even one naming them.
pub fn is_terminal(error: &str) -> bool {
    error == RUNTIME || error == DATA_LIMIT_EXCEEDED
}
