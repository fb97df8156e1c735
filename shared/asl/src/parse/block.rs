//! Blocks (the top level, Parallel branches, Map processors): their fields,
//! their state names, and the parser state shared by the whole walk.

use std::collections::{HashMap, HashSet};

use super::fields::{Errors, Obj, child, not_one_of, wrong_type};
use super::graph::{self, RawState};
use super::state;
use crate::definition::{Block, BlockId, Definition, State, StateId};
use crate::error::{ValidationCode, ValidationError};

/// What the blocks being parsed run under.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Ctx {
    /// Inside an EXPRESS state machine or an EXPRESS distributed Map processor.
    pub express: bool,
}

/// Which kind of block an object is; decides which fields it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockKind {
    /// The definition itself.
    Top,
    /// An entry of a Parallel state's `Branches`.
    Branch,
    /// A Map state's `ItemProcessor`.
    Processor,
    /// A Map state's legacy `Iterator`.
    Iterator,
}

impl BlockKind {
    fn fields(self) -> &'static [&'static str] {
        match self {
            BlockKind::Top => &["StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"],
            BlockKind::Branch | BlockKind::Iterator => &["StartAt", "States", "Comment"],
            BlockKind::Processor => &["StartAt", "States", "Comment", "ProcessorConfig"],
        }
    }
}

/// The states of one block, by name: where `Next`, `Default`, `StartAt` and
/// a Catcher's `Next` may point.
pub(super) struct Scope<'a> {
    /// The block.
    pub block: BlockId,
    names: HashMap<&'a str, StateId>,
}

impl Scope<'_> {
    /// Resolves the optional string field `key` of `obj` to a state of this block.
    pub fn target(&self, obj: &Obj<'_>, key: &str, errs: &mut Errors) -> Option<StateId> {
        let name = obj.string(key, errs)?;
        self.resolve(name, obj.at(key), key, errs)
    }

    /// Resolves the required string field `key` of `obj` to a state of this block.
    pub fn required_target(&self, obj: &Obj<'_>, key: &str, errs: &mut Errors) -> Option<StateId> {
        let name = obj.required_string(key, errs)?;
        self.resolve(name, obj.at(key), key, errs)
    }

    fn resolve(&self, name: &str, ptr: String, key: &str, errs: &mut Errors) -> Option<StateId> {
        let id = self.names.get(name).copied();
        if id.is_none() {
            errs.push(ValidationError::new(
                ValidationCode::MissingTransitionTarget,
                ptr,
                format!("Missing '{key}' target: {name}"),
            ));
        }
        id
    }
}

/// `QueryLanguage` (top level or state): only JSONPath runs here.
pub(super) fn query_language(obj: &Obj<'_>, errs: &mut Errors) {
    match obj.string("QueryLanguage", errs) {
        None | Some("JSONPath") => {}
        Some("JSONata") => errs.push(ValidationError::new(
            ValidationCode::Unsupported,
            obj.at("QueryLanguage"),
            "JSONata is not supported yet",
        )),
        Some(_) => errs.push(not_one_of(&obj.at("QueryLanguage"), "QueryLanguage", &["JSONPath", "JSONata"])),
    }
}

/// The walk over a whole definition: every state and block found so far, and every error.
#[derive(Default)]
pub(super) struct Parser<'a> {
    /// Every problem found.
    pub errors: Errors,
    states: Vec<Option<State>>,
    blocks: Vec<Option<Block>>,
    names: HashSet<&'a str>,
}

impl<'a> Parser<'a> {
    /// Parses a block and, recursively, the blocks of its states. States get
    /// consecutive ids block by block: a block's own states first, then the
    /// states of the blocks nested in them, in document order.
    pub fn block(&mut self, obj: &Obj<'a>, kind: BlockKind, ctx: Ctx) -> BlockId {
        let id = BlockId(self.blocks.len() as u32);
        self.blocks.push(None);
        obj.check_fields(kind.fields(), &[], &mut self.errors);
        obj.string("Comment", &mut self.errors);
        let start = obj.required_string("StartAt", &mut self.errors);
        let states_ptr = obj.at("States");
        let mut scope = Scope { block: id, names: HashMap::new() };
        let mut members = Vec::new();
        let mut ids = Vec::new();
        if let Some(states) = self.states_object(obj) {
            for (name, value) in states.map {
                let ptr = child(&states_ptr, name);
                self.register(name, &ptr);
                let sid = StateId(self.states.len() as u32);
                self.states.push(None);
                scope.names.insert(name.as_str(), sid);
                ids.push(sid);
                members.push(RawState { name, value, ptr });
            }
        }
        let start_at = start.and_then(|n| scope.resolve(n, obj.at("StartAt"), "StartAt", &mut self.errors));
        for (member, sid) in members.iter().zip(&ids) {
            let parsed = state::parse(self, member, &scope, ctx);
            self.states[sid.0 as usize] = parsed;
        }
        if let (Some(start), Some(_)) = (start, start_at) {
            graph::check(&members, start, &states_ptr, &mut self.errors);
        }
        if let Some(start_at) = start_at {
            let block = Block { start_at, states: ids, pointer: obj.ptr.clone() };
            self.blocks[id.0 as usize] = Some(block);
        }
        id
    }

    /// The block's `States`: a required, non-empty object.
    fn states_object(&mut self, obj: &Obj<'a>) -> Option<Obj<'a>> {
        obj.require("States", &mut self.errors)?;
        let states = obj.object("States", &mut self.errors)?;
        if states.map.is_empty() {
            let error = wrong_type(&states.ptr, "States", "an object with at least one state");
            self.errors.push(error);
        }
        Some(states)
    }

    /// Checks a state name: its length, and that no other state has it.
    fn register(&mut self, name: &'a str, ptr: &str) {
        let len = name.chars().count();
        if !(1..=80).contains(&len) {
            let message = format!("State name '{name}' must be between 1 and 80 characters long");
            self.errors.push(ValidationError::schema(ptr, message));
        }
        if !self.names.insert(name) {
            self.errors.push(ValidationError::new(
                ValidationCode::DuplicateStateName,
                ptr,
                format!("Duplicate State name: {name}"),
            ));
        }
    }

    /// The definition, if no error was found.
    pub fn finish(self, timeout_seconds: Option<u64>, comment: Option<String>) -> Result<Definition, Errors> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let states: Option<Vec<State>> = self.states.into_iter().collect();
        let blocks: Option<Vec<Block>> = self.blocks.into_iter().collect();
        match (states, blocks) {
            (Some(states), Some(blocks)) => Ok(Definition { states, blocks, timeout_seconds, comment }),
            // Every path that leaves a state or block unbuilt records an error;
            // this is a guard against a parser bug, never a panic.
            _ => Err(vec![ValidationError::schema("", "The definition could not be parsed")]),
        }
    }
}
