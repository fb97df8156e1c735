//! References to states that outlive the parser that numbered them.
//!
//! [`StateId`] and [`BlockId`] are indices the parser assigns: a later
//! release whose parser walks a definition in another order (or adds a
//! state of its own) numbers the same definition differently. What is
//! stored — a run's snapshot, a step's effects — must therefore name states
//! by what the definition itself says: a state by its name (names are
//! unique across the whole machine), a block by the name of its `StartAt`
//! state (every state belongs to exactly one block, so no two blocks share
//! one).
//!
//! Serializing inside [`by_name`] writes those names; outside it, the
//! indices (for what never leaves the process). Deserializing takes either:
//! a number is an index (what an earlier stored format held), a string is a
//! name, resolved in the definition given to [`by_name`] — without one it is
//! an error, never a guess.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::definition::{BlockId, Definition, StateId};

thread_local! {
    static SCOPE: RefCell<Option<Arc<Definition>>> = const { RefCell::new(None) };
}

/// Runs `f` — a serialization or deserialization of something holding
/// state references — with states named by name in `def`.
pub fn by_name<R>(def: &Arc<Definition>, f: impl FnOnce() -> R) -> R {
    /// Puts the outer scope back, also when `f` panics.
    struct Restore(Option<Arc<Definition>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            SCOPE.with(|scope| *scope.borrow_mut() = outer);
        }
    }
    let outer = SCOPE.with(|scope| scope.borrow_mut().replace(def.clone()));
    let _restore = Restore(outer);
    f()
}

fn scope() -> Option<Arc<Definition>> {
    SCOPE.with(|scope| scope.borrow().clone())
}

impl Definition {
    /// The stored name of a block: the name of its `StartAt` state.
    pub fn block_name(&self, id: BlockId) -> Option<&str> {
        let block = self.blocks.get(id.0 as usize)?;
        self.states.get(block.start_at.0 as usize).map(|s| s.name.as_str())
    }

    /// The block whose `StartAt` state is named `name`.
    pub fn block_id(&self, name: &str) -> Option<BlockId> {
        let start = self.state_id(name)?;
        self.blocks.iter().position(|b| b.start_at == start).map(|i| BlockId(i as u32))
    }
}

impl Serialize for StateId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match scope() {
            None => serializer.serialize_u32(self.0),
            Some(def) => match def.states.get(self.0 as usize) {
                Some(state) => serializer.serialize_str(&state.name),
                None => Err(serde::ser::Error::custom(format!("state {} is not in the definition", self.0))),
            },
        }
    }
}

impl Serialize for BlockId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match scope() {
            None => serializer.serialize_u32(self.0),
            Some(def) => match def.block_name(*self) {
                Some(name) => serializer.serialize_str(name),
                None => Err(serde::ser::Error::custom(format!("block {} is not in the definition", self.0))),
            },
        }
    }
}

/// Reads an index or a name; `resolve` turns a name into an index.
struct RefVisitor {
    what: &'static str,
    resolve: fn(&Definition, &str) -> Option<u32>,
}

impl Visitor<'_> for RefVisitor {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} index or name", self.what)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| E::custom(format!("{} index {v} is out of range", self.what)))
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<u32, E> {
        let def = scope()
            .ok_or_else(|| E::custom(format!("the {} {name:?} is named, but no definition was given", self.what)))?;
        (self.resolve)(&def, name)
            .ok_or_else(|| E::custom(format!("the definition has no {} named {name:?}", self.what)))
    }
}

impl<'de> Deserialize<'de> for StateId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let visitor = RefVisitor { what: "state", resolve: |def, name| def.state_id(name).map(|id| id.0) };
        deserializer.deserialize_any(visitor).map(StateId)
    }
}

impl<'de> Deserialize<'de> for BlockId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let visitor = RefVisitor { what: "block", resolve: |def, name| def.block_id(name).map(|id| id.0) };
        deserializer.deserialize_any(visitor).map(BlockId)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: serde_json::Value) -> Arc<Definition> {
        Arc::new(crate::parse_definition(&value).expect("valid"))
    }

    /// The same machine with its states listed in two orders: the parser numbers them differently.
    fn both_orders() -> (Arc<Definition>, Arc<Definition>) {
        let a = parse(json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "P"},
            "P": {"Type": "Parallel", "Next": "Z", "Branches": [
                {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}},
                {"StartAt": "C1", "States": {"C1": {"Type": "Pass", "Next": "C2"}, "C2": {"Type": "Pass", "End": true}}}]},
            "Z": {"Type": "Succeed"}}}));
        let b = parse(json!({"StartAt": "A", "States": {
            "Z": {"Type": "Succeed"},
            "P": {"Type": "Parallel", "Next": "Z", "Branches": [
                {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}},
                {"StartAt": "C1", "States": {"C2": {"Type": "Pass", "End": true}, "C1": {"Type": "Pass", "Next": "C2"}}}]},
            "A": {"Type": "Pass", "Next": "P"}}}));
        (a, b)
    }

    #[test]
    fn names_carry_a_reference_across_numberings() {
        let (a, b) = both_orders();
        assert_ne!(a.state_id("C2"), b.state_id("C2"), "the orders must number C2 differently");
        let c2 = a.state_id("C2").expect("C2");
        let block = a.state(c2).block;
        let stored = by_name(&a, || serde_json::to_value((c2, block)).expect("serialize"));
        assert_eq!(stored, json!(["C2", "C1"]));
        let (state, read_block): (StateId, BlockId) =
            by_name(&b, || serde_json::from_value(stored.clone()).expect("deserialize"));
        assert_eq!(b.state(state).name, "C2");
        assert_eq!(read_block, b.state(state).block);
        assert_eq!(b.block_name(read_block), Some("C1"));
    }

    #[test]
    fn without_a_definition_references_are_indices() {
        let value = serde_json::to_value((StateId(3), BlockId(1))).expect("serialize");
        assert_eq!(value, json!([3, 1]));
        let back: (StateId, BlockId) = serde_json::from_value(value).expect("deserialize");
        assert_eq!(back, (StateId(3), BlockId(1)));
        let named = serde_json::from_value::<StateId>(json!("A")).expect_err("a name needs a definition");
        assert!(named.to_string().contains("no definition was given"), "{named}");
    }

    #[test]
    fn unknown_names_and_indices_are_errors() {
        let (a, _) = both_orders();
        let missing = by_name(&a, || serde_json::from_value::<StateId>(json!("Nope"))).expect_err("unknown");
        assert!(missing.to_string().contains("no state named \"Nope\""), "{missing}");
        let not_a_block = by_name(&a, || serde_json::from_value::<BlockId>(json!("C2"))).expect_err("not a start");
        assert!(not_a_block.to_string().contains("no block named \"C2\""), "{not_a_block}");
        let beyond = by_name(&a, || serde_json::to_value(StateId(99))).expect_err("out of range");
        assert!(beyond.to_string().contains("state 99 is not in the definition"), "{beyond}");
    }

    #[test]
    fn the_scope_ends_with_its_closure() {
        let (a, _) = both_orders();
        by_name(&a, || ());
        assert_eq!(serde_json::to_value(StateId(0)).expect("serialize"), json!(0));
        let nested = by_name(&a, || {
            let (b, _) = both_orders();
            by_name(&b, || ());
            serde_json::to_value(StateId(0)).expect("serialize")
        });
        assert_eq!(nested, json!("A"));
    }
}
