//! The clock port: real time, or virtual time that jumps to the next timer
//! (deterministic tests and instant local runs of long waits).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where "now" comes from.
#[derive(Debug, Clone)]
pub enum Clock {
    /// The system clock; timers wait in real time.
    Real,
    /// A virtual clock: it stands still while work is pending and jumps to
    /// the due time of the next timer when nothing else is left to do.
    Virtual(Arc<AtomicI64>),
}

impl Clock {
    /// A virtual clock starting at `start_ms` (ms since the Unix epoch).
    pub fn virtual_at(start_ms: i64) -> Clock {
        Clock::Virtual(Arc::new(AtomicI64::new(start_ms)))
    }

    /// Now, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::Real => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0),
            Clock::Virtual(now) => now.load(Ordering::SeqCst),
        }
    }

    /// Moves a virtual clock forward to `ms` (never backward); no-op on the real clock.
    pub fn advance_to(&self, ms: i64) {
        if let Clock::Virtual(now) = self {
            now.fetch_max(ms, Ordering::SeqCst);
        }
    }

    /// True for the virtual clock.
    pub fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual(_))
    }
}
