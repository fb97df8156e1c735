//! The typed, validated form of a state machine. Built once by [`crate::parse`];
//! transitions are resolved to indices so the engine never looks a name up.

use serde_json::Value;

use crate::choice::Rule;
use crate::path::Path;
use crate::resource::Resource;
use crate::retry::{Catcher, Retrier};
use crate::template::{Expr, Template};

/// Index of a state in [`Definition::states`]. State names are unique across
/// the whole machine (branches and Map processors included), so one index space serves all.
/// Stored by name: see [`crate::refs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub u32);

/// Index of a block (the top level, a Parallel branch or a Map processor) in [`Definition::blocks`].
/// Stored by the name of its `StartAt` state: see [`crate::refs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);

/// A validated state machine definition.
#[derive(Debug, Clone)]
pub struct Definition {
    /// Every state of the machine, in every block.
    pub states: Vec<State>,
    /// Every block; `blocks[0]` is the top level.
    pub blocks: Vec<Block>,
    /// Top-level `TimeoutSeconds`: the execution times out after this many seconds.
    pub timeout_seconds: Option<u64>,
    /// Top-level `Comment`.
    pub comment: Option<String>,
}

impl Definition {
    /// The top-level block.
    pub const ROOT: BlockId = BlockId(0);

    /// The state with this id.
    pub fn state(&self, id: StateId) -> &State {
        &self.states[id.0 as usize]
    }

    /// The block with this id.
    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.0 as usize]
    }

    /// Looks a state up by name (for tools; the engine uses ids).
    pub fn state_id(&self, name: &str) -> Option<StateId> {
        self.states.iter().position(|s| s.name == name).map(|i| StateId(i as u32))
    }
}

/// A set of states with its own `StartAt`: the top level, a Parallel branch, or a Map's processor.
#[derive(Debug, Clone)]
pub struct Block {
    /// The first state.
    pub start_at: StateId,
    /// The states of this block (not of nested blocks), in definition order.
    pub states: Vec<StateId>,
    /// JSON pointer of the block's object in the definition (`""` for the top level).
    pub pointer: String,
}

/// One state: the fields every state type shares, and its type-specific part.
#[derive(Debug, Clone)]
pub struct State {
    /// The state's name.
    pub name: String,
    /// The block the state belongs to.
    pub block: BlockId,
    /// `InputPath` (Task, Pass, Choice, Wait, Succeed, Parallel, Map).
    pub input_path: PathField,
    /// `OutputPath` (Task, Pass, Choice, Wait, Succeed, Parallel, Map).
    pub output_path: PathField,
    /// What the state does.
    pub kind: StateKind,
}

impl State {
    /// The state type as Step Functions spells it in history event names (`Task`, `Pass`, …).
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            StateKind::Task(_) => "Task",
            StateKind::Pass(_) => "Pass",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// `InputPath` / `OutputPath`: absent means `$`, `null` means `{}`.
#[derive(Debug, Clone, Default)]
pub enum PathField {
    /// Field absent or `"$"`: the whole document.
    #[default]
    Whole,
    /// Field is `null`: an empty object.
    Null,
    /// A path (may start with `$$` to read the context object).
    Path(Path),
}

/// `ResultPath`: absent means `$` (the result replaces the input), `null` discards the result.
#[derive(Debug, Clone, Default)]
pub enum ResultPath {
    /// Absent or `"$"`: the result becomes the output.
    #[default]
    Replace,
    /// `null`: the result is discarded, the output is the raw input.
    Discard,
    /// A reference path into the raw input where the result is written.
    Path(Path),
}

/// Where a state goes when it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// `Next`: continue with this state.
    State(StateId),
    /// `End: true`: the block ends with this state's output.
    End,
}

/// The type-specific part of a state.
#[derive(Debug, Clone)]
pub enum StateKind {
    /// `Type: Task`.
    Task(Box<TaskState>),
    /// `Type: Pass`.
    Pass(PassState),
    /// `Type: Choice`.
    Choice(ChoiceState),
    /// `Type: Wait`.
    Wait(WaitState),
    /// `Type: Succeed`.
    Succeed,
    /// `Type: Fail`.
    Fail(FailState),
    /// `Type: Parallel`.
    Parallel(Box<ParallelState>),
    /// `Type: Map`.
    Map(Box<MapState>),
}

/// `Type: Pass`.
#[derive(Debug, Clone)]
pub struct PassState {
    /// `Parameters`.
    pub parameters: Option<Template>,
    /// `Result`: a literal that becomes the result.
    pub result: Option<Value>,
    /// `ResultPath`.
    pub result_path: ResultPath,
    /// `Next` / `End`.
    pub next: Next,
}

/// A number given literally or by a reference path (`TimeoutSeconds` / `TimeoutSecondsPath`, …).
#[derive(Debug, Clone)]
pub enum NumberField<T> {
    /// The literal value.
    Literal(T),
    /// A reference path into the effective input.
    Path(Path),
}

/// `Type: Task`.
#[derive(Debug, Clone)]
pub struct TaskState {
    /// `Resource`, parsed.
    pub resource: Resource,
    /// `Parameters`.
    pub parameters: Option<Template>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `ResultPath`.
    pub result_path: ResultPath,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout_seconds: Option<NumberField<u64>>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat_seconds: Option<NumberField<u64>>,
    /// `Credentials` (a payload template producing `{"RoleArn": ...}`).
    pub credentials: Option<Template>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
    /// `Next` / `End`.
    pub next: Next,
}

/// One entry of a Choice state's `Choices`.
#[derive(Debug, Clone)]
pub struct ChoiceBranch {
    /// The rule (with its comparisons and boolean composition).
    pub rule: Rule,
    /// Where to go when the rule matches.
    pub next: StateId,
}

/// `Type: Choice`.
#[derive(Debug, Clone)]
pub struct ChoiceState {
    /// `Choices`, in order: the first match wins.
    pub choices: Vec<ChoiceBranch>,
    /// `Default`.
    pub default: Option<StateId>,
}

/// `Type: Wait`: exactly one of the four ways to say how long.
#[derive(Debug, Clone)]
pub enum WaitState {
    /// `Seconds`.
    Seconds {
        /// How long to wait.
        seconds: u64,
        /// `Next` / `End`.
        next: Next,
    },
    /// `SecondsPath`.
    SecondsPath {
        /// Reference path to a non-negative integer in the effective input.
        path: Path,
        /// `Next` / `End`.
        next: Next,
    },
    /// `Timestamp`.
    Timestamp {
        /// The instant, in milliseconds since the Unix epoch.
        epoch_millis: i64,
        /// The text as written in the definition.
        text: String,
        /// `Next` / `End`.
        next: Next,
    },
    /// `TimestampPath`.
    TimestampPath {
        /// Reference path to an RFC 3339 timestamp string in the effective input.
        path: Path,
        /// `Next` / `End`.
        next: Next,
    },
}

impl WaitState {
    /// Where the Wait state goes next.
    pub fn next(&self) -> Next {
        match self {
            WaitState::Seconds { next, .. }
            | WaitState::SecondsPath { next, .. }
            | WaitState::Timestamp { next, .. }
            | WaitState::TimestampPath { next, .. } => *next,
        }
    }
}

/// A Fail state's `Error`/`Cause`: a literal or a path/intrinsic (`ErrorPath`/`CausePath`).
#[derive(Debug, Clone)]
pub enum TextField {
    /// The literal string.
    Literal(String),
    /// A path or intrinsic function evaluated against the state input.
    Expr(Expr),
}

/// `Type: Fail`.
#[derive(Debug, Clone)]
pub struct FailState {
    /// `Error` / `ErrorPath`.
    pub error: Option<TextField>,
    /// `Cause` / `CausePath`.
    pub cause: Option<TextField>,
}

/// `Type: Parallel`.
#[derive(Debug, Clone)]
pub struct ParallelState {
    /// `Branches`, each its own block.
    pub branches: Vec<BlockId>,
    /// `Parameters`.
    pub parameters: Option<Template>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `ResultPath`.
    pub result_path: ResultPath,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
    /// `Next` / `End`.
    pub next: Next,
}

/// Map processor mode (`ItemProcessor.ProcessorConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMode {
    /// `INLINE` (the default, and the legacy `Iterator`).
    Inline,
    /// `DISTRIBUTED`, with items from state data (ItemReader is not supported yet).
    Distributed {
        /// `ExecutionType`: true for `EXPRESS`, false for `STANDARD`.
        express: bool,
    },
}

/// `Type: Map`.
#[derive(Debug, Clone)]
pub struct MapState {
    /// `ItemsPath` (reference path; absent means `$`).
    pub items_path: Option<Path>,
    /// `ItemSelector` (or the legacy `Parameters`).
    pub item_selector: Option<Template>,
    /// The block each item runs (`ItemProcessor` or the legacy `Iterator`).
    pub processor: BlockId,
    /// `ProcessorConfig.Mode`.
    pub mode: MapMode,
    /// `MaxConcurrency` / `MaxConcurrencyPath`; 0 means no limit.
    pub max_concurrency: NumberField<u64>,
    /// `ToleratedFailureCount` / `ToleratedFailureCountPath` (DISTRIBUTED only).
    pub tolerated_failure_count: Option<NumberField<u64>>,
    /// `ToleratedFailurePercentage` / `ToleratedFailurePercentagePath` (DISTRIBUTED only).
    pub tolerated_failure_percentage: Option<NumberField<f64>>,
    /// `Label` (DISTRIBUTED only).
    pub label: Option<String>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `ResultPath`.
    pub result_path: ResultPath,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
    /// `Next` / `End`.
    pub next: Next,
}
