//! The Switchyard engine.
