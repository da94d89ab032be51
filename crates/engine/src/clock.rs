//! Wall-clock time in milliseconds and the coarse LRU clock stamped on entries.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
#[inline]
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Microseconds since the Unix epoch.
#[inline]
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Resolution of the LRU clock in milliseconds (as Redis's LRU_CLOCK_RESOLUTION).
pub const LRU_RESOLUTION_MS: u64 = 1000;

static LRU_CLOCK: AtomicU32 = AtomicU32::new(0);

/// The current LRU clock (seconds, wrapping), refreshed by the server cron.
#[inline]
pub fn lru_clock() -> u32 {
    LRU_CLOCK.load(Ordering::Relaxed)
}

/// Refreshes the LRU clock from the wall clock; called by the cron and at start-up.
pub fn refresh_lru_clock() {
    LRU_CLOCK.store((now_ms() / LRU_RESOLUTION_MS) as u32, Ordering::Relaxed);
}

/// Seconds elapsed since an entry's LRU stamp (OBJECT IDLETIME).
pub fn idle_seconds(stamp: u32) -> u64 {
    lru_clock().wrapping_sub(stamp) as u64
}
