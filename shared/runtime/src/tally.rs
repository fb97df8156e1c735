//! The tally of a fan-out's children (see [`engine::Tally`] and
//! docs/architecture.md, "Fan-out and fan-in"): what a store keeps so that a
//! child's end costs a bounded number of writes that never conflict with its
//! siblings', and the parent takes one step when all have ended instead of
//! one contended step per child.
//!
//! A child's end is (1) its outcome, put once; (2) its index added to the
//! set of ended children of its shard — a set addition, so a redelivered end
//! changes nothing, unlike a counter; (3) when that completed the shard, the
//! shard added to the fan-out's set of completed shards. The addition that
//! completes the last shard answers `complete`, and its caller tells the
//! parent once (a repeat is dropped by the parent as stale).

/// Children per shard: a shard's set of ended indices stays a few hundred
/// bytes (one write unit per addition), and its writes come from at most
/// the fan-out's window of running children.
pub const SHARD_SIZE: u32 = 100;

/// The shard of child `index`.
pub fn shard_of(index: u32) -> u32 {
    index / SHARD_SIZE
}

/// How many shards a fan-out of `total` children has.
pub fn shard_count(total: u32) -> u32 {
    total.div_ceil(SHARD_SIZE)
}

/// How many children shard `shard` of a fan-out of `total` holds.
pub fn shard_len(total: u32, shard: u32) -> u32 {
    (total - shard * SHARD_SIZE).min(SHARD_SIZE)
}

/// What a tally holds after an addition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TallyState {
    /// Every child has ended (or will never start).
    pub complete: bool,
    /// The fan-out is failing: no further child starts.
    pub failing: bool,
}
