//! Eviction: which key goes when `maxmemory` is reached.
//!
//! - [`access`] keeps each entry's recency or frequency stamp (the 4 header bytes Redis calls
//!   `lru`) current on every lookup, in the form the active policy needs.
//! - [`sketch`] is the count-min frequency sketch behind `allkeys-tinylfu`: it remembers how
//!   often a key was asked for even while the key is not stored.
//! - [`pool`] samples keys and keeps the best candidates between evictions (Redis's eviction
//!   pool), then removes the best one.
//!
//! The server sets the policy with [`configure`]; the engine holds it in atomics so the hot
//! lookup path reads one relaxed byte.

pub mod access;
pub mod pool;
pub mod sketch;

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering::Relaxed};

pub use pool::{evict_one, note_write, Outcome};

/// The eviction policies (`maxmemory-policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Policy {
    /// Refuse writes that need memory.
    NoEviction = 0,
    /// Least recently used among all keys.
    AllkeysLru,
    /// Least recently used among keys with a TTL.
    VolatileLru,
    /// Least frequently used (Redis's logarithmic counter) among all keys.
    AllkeysLfu,
    /// Least frequently used among keys with a TTL.
    VolatileLfu,
    /// Any key.
    AllkeysRandom,
    /// Any key with a TTL.
    VolatileRandom,
    /// The key with the nearest expiry.
    VolatileTtl,
    /// Least frequently requested by a count-min sketch that also counts requests for absent
    /// keys, ties broken by recency (Larder's own policy).
    AllkeysTinyLfu,
}

impl Policy {
    fn from_u8(v: u8) -> Policy {
        match v {
            1 => Policy::AllkeysLru,
            2 => Policy::VolatileLru,
            3 => Policy::AllkeysLfu,
            4 => Policy::VolatileLfu,
            5 => Policy::AllkeysRandom,
            6 => Policy::VolatileRandom,
            7 => Policy::VolatileTtl,
            8 => Policy::AllkeysTinyLfu,
            _ => Policy::NoEviction,
        }
    }

    /// True when only keys with a TTL may be evicted.
    pub fn volatile_only(self) -> bool {
        matches!(self, Policy::VolatileLru | Policy::VolatileLfu | Policy::VolatileRandom | Policy::VolatileTtl)
    }

    /// True for the policies whose entries carry Redis's LFU counter instead of an LRU stamp.
    pub fn uses_lfu(self) -> bool {
        matches!(self, Policy::AllkeysLfu | Policy::VolatileLfu)
    }
}

static POLICY: AtomicU8 = AtomicU8::new(0);
static SAMPLES: AtomicU32 = AtomicU32::new(5);
static LFU_LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
static LFU_DECAY_TIME: AtomicU32 = AtomicU32::new(1);

/// Sets the policy and its parameters (`maxmemory-samples`, `lfu-log-factor`, `lfu-decay-time`).
pub fn configure(policy: Policy, samples: u32, lfu_log_factor: u32, lfu_decay_time: u32) {
    POLICY.store(policy as u8, Relaxed);
    SAMPLES.store(samples.max(1), Relaxed);
    LFU_LOG_FACTOR.store(lfu_log_factor, Relaxed);
    LFU_DECAY_TIME.store(lfu_decay_time, Relaxed);
}

/// The active policy.
#[inline]
pub fn policy() -> Policy {
    Policy::from_u8(POLICY.load(Relaxed))
}

/// Keys sampled per database for each eviction (`maxmemory-samples`).
pub fn samples() -> usize {
    SAMPLES.load(Relaxed) as usize
}

fn lfu_log_factor() -> u32 {
    LFU_LOG_FACTOR.load(Relaxed)
}

fn lfu_decay_time() -> u32 {
    LFU_DECAY_TIME.load(Relaxed)
}
