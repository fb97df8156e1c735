//! Sources of randomness for the engine: the OS generator in production, a
//! seeded one where runs must be reproducible.

use asl::Entropy;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// Random bits from a generator seeded by the operating system
/// (task tokens must be unguessable).
pub struct OsEntropy(StdRng);

impl OsEntropy {
    /// A generator seeded from the OS.
    pub fn new() -> Self {
        OsEntropy(StdRng::from_os_rng())
    }
}

impl Default for OsEntropy {
    fn default() -> Self {
        Self::new()
    }
}

impl Entropy for OsEntropy {
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

/// A deterministic generator (splitmix64) for tests and reproducible runs.
pub struct SeededEntropy(u64);

impl SeededEntropy {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        SeededEntropy(seed)
    }
}

impl Entropy for SeededEntropy {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
