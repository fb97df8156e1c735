//! Everything around the pure engine that a process needs to run executions:
//! the ports (a store for run snapshots and history, a task invoker, a clock,
//! a source of randomness) and their in-process adapters (an in-memory store,
//! a Step Functions Local mock-file invoker), plus the local runtime that
//! drives executions to completion in one process.

pub mod clock;
pub mod entropy;
pub mod invoker;
pub mod local;
pub mod memory;
pub mod mock;
pub mod render;
pub mod store;

pub use clock::Clock;
pub use entropy::{OsEntropy, SeededEntropy};
pub use invoker::{NoInvoker, TaskInvoker};
pub use local::{LocalRuntime, Observer, RuntimeError};
pub use memory::MemoryStateStore;
pub use mock::{MockConfig, MockInvoker};
pub use store::{CommitOutcome, ExecutionRecord, ExecutionSummary, RecordedEvent, StateStore, StoreError};
