//! The Switchyard engine: the transition function of docs/architecture.md.
//!
//! [`step`] takes a definition, one run's snapshot and one event, and returns
//! the next snapshot, the history events the transition records and the
//! effects the caller must perform after committing it. A run is the root
//! execution or one child (a Parallel branch or a Map iteration); each run
//! has its own log and version, so children can advance in their own
//! invocations. Nothing here reads a clock, draws random numbers or does I/O:
//! time and randomness come in through [`Ctx`].

mod context;
pub mod effect;
pub mod event;
pub mod exec;
pub mod history;
pub mod snapshot;
mod step;
pub mod token;

pub use effect::{ChildMark, ChildOutcome, ChildReport, ChildSpec, Effect, TaskRequest};
pub use event::{Event, TaskOutcome};
pub use exec::{ExecutionInfo, StartedBy};
pub use history::{EventDetails, HistoryEvent, Prev, StateRef, StateType, TaskRef};
pub use snapshot::{Cursor, FanOut, Phase, Run, RunId, RunStatus, Tally};
pub use step::{Ctx, Rejected, Rejection, Transition, start_child, start_execution, step};

/// The largest payload (state input or output, task result) Step Functions
/// accepts, in bytes of UTF-8 JSON.
pub const MAX_PAYLOAD_BYTES: usize = 262_144;
