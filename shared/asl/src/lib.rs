//! Amazon States Language (ASL), JSONPath mode: the typed definition of a state
//! machine, its parser and validator, and the evaluation of everything a state
//! does with data (paths, payload templates, intrinsic functions, Choice rules,
//! Retry/Catch matching). Pure: no clock, no randomness of its own, no I/O.

pub mod choice;
pub mod definition;
pub mod error;
pub mod eval;
pub mod intrinsic;
pub mod names;
pub mod parse;
pub mod path;
pub mod refs;
pub mod resource;
pub mod retry;
pub mod template;
pub mod timestamp;

pub use definition::{BlockId, Definition, State, StateId, StateKind};
pub use error::{Failure, ValidationCode, ValidationError};
pub use eval::{Entropy, Env};
pub use parse::{parse_definition, parse_definition_str};
