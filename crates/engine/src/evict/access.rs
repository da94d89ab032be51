//! Access stamps: what a lookup records on an entry for the eviction policy.
//!
//! LRU policies keep the LRU clock (seconds) in the entry's `lru` word. LFU policies keep, as
//! Redis does, a logarithmic counter in the `lfu` byte and the minute it was last decremented
//! in the `lru` word: the counter grows with probability
//! `1 / ((counter - 5) * lfu-log-factor + 1)` and loses one per `lfu-decay-time` minutes
//! without access. `allkeys-tinylfu` counts every request (hits and misses) in the frequency
//! sketch, and keeps an exact request count in the `lfu` byte of each stored key: a new key
//! starts from the sketch's estimate of its past requests, then counts its own hits. Its `lru`
//! word holds the recency clock in the low 24 bits and, in the high 8, the sketch's aging
//! epoch at the last count, so the count halves along with the sketch.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

use super::{lfu_decay_time, lfu_log_factor, policy, sketch, Policy};
use crate::clock;
use crate::entry::Entry;

/// The frequency sketch's aging epoch (incremented each time its counts are halved).
static EPOCH: AtomicU8 = AtomicU8::new(0);

/// Marks a halving of the sketch: every stored count halves with it (lazily, when read).
pub(crate) fn next_epoch() {
    EPOCH.fetch_add(1, Relaxed);
}

const CLOCK_MASK: u32 = 0xFF_FFFF;

#[inline]
fn tiny_stamp() -> u32 {
    ((EPOCH.load(Relaxed) as u32) << 24) | (clock::lru_clock() & CLOCK_MASK)
}

/// A stored key's request count under `allkeys-tinylfu`, aged by the halvings since it was
/// last counted.
#[inline]
pub fn tiny_count(e: &Entry) -> u8 {
    let behind = EPOCH.load(Relaxed).wrapping_sub((e.lru() >> 24) as u8);
    if behind >= 8 {
        0
    } else {
        e.lfu() >> behind
    }
}

/// The counter a new key starts with under LFU (so it is not evicted before it had a chance).
pub const LFU_INIT_VAL: u8 = 5;

/// Minutes since the epoch, the time base of the LFU decay.
#[inline]
fn minutes() -> u32 {
    clock::lru_clock() / 60
}

/// Stamps a new entry for the key hashing to `hash`: now as its last access, and the initial
/// frequency count.
#[inline]
pub fn stamp_new(e: &mut Entry, hash: u64) {
    match policy() {
        Policy::AllkeysLfu | Policy::VolatileLfu => {
            e.set_lru(minutes());
            e.set_lfu(LFU_INIT_VAL);
        }
        Policy::AllkeysTinyLfu => {
            e.set_lru(tiny_stamp());
            e.set_lfu(sketch::estimate(hash));
        }
        _ => e.set_lru(clock::lru_clock()),
    }
}

/// Sets the entry's idle time (RESTORE ... IDLETIME) under an LRU-stamping policy.
pub fn set_idle_seconds(e: &mut Entry, idle: u64) {
    let now = if policy() == Policy::AllkeysTinyLfu { tiny_stamp() } else { clock::lru_clock() };
    let back = idle.min(CLOCK_MASK as u64) as u32;
    let mask = if policy() == Policy::AllkeysTinyLfu { CLOCK_MASK } else { u32::MAX };
    e.set_lru((now & !mask) | (now.wrapping_sub(back) & mask));
}

/// Records an access to the entry whose key hashes to `hash` (a lookup by a command).
#[inline]
pub fn touch(e: &mut Entry, hash: u64) {
    match policy() {
        Policy::AllkeysLfu | Policy::VolatileLfu => {
            let counter = log_incr(decayed_counter(e));
            e.set_lru(minutes());
            e.set_lfu(counter);
        }
        Policy::AllkeysTinyLfu => {
            sketch::record(hash);
            let count = tiny_count(e).saturating_add(1);
            e.set_lru(tiny_stamp());
            e.set_lfu(count);
        }
        _ => e.set_lru(clock::lru_clock()),
    }
}

/// Records a lookup of an absent key (only the sketch remembers those).
#[inline]
pub fn miss(hash: u64) {
    if policy() == Policy::AllkeysTinyLfu {
        sketch::record(hash);
    }
}

/// The entry's LFU counter after the decay for the minutes since its last access (what
/// OBJECT FREQ reports and LFU eviction compares).
pub fn decayed_counter(e: &Entry) -> u8 {
    let decay = lfu_decay_time();
    if decay == 0 {
        return e.lfu();
    }
    let periods = minutes().wrapping_sub(e.lru()) / decay;
    e.lfu().saturating_sub(periods.min(255) as u8)
}

/// Redis's logarithmic increment: likelier the smaller the counter.
fn log_incr(counter: u8) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * lfu_log_factor() as f64 + 1.0);
    if fastrand::f64() < p {
        counter + 1
    } else {
        counter
    }
}

/// Seconds since the entry's last access under an LRU-stamping policy.
#[inline]
pub fn idle_seconds(e: &Entry) -> u64 {
    if policy() == Policy::AllkeysTinyLfu {
        (clock::lru_clock().wrapping_sub(e.lru()) & CLOCK_MASK) as u64
    } else {
        clock::lru_clock().wrapping_sub(e.lru()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Value;
    use crate::evict::configure;

    #[test]
    fn log_counter_grows_slower_as_it_grows() {
        // With factor 10 a counter needs about 10x more hits per step once past the start.
        configure(Policy::AllkeysLfu, 5, 10, 1);
        let mut c = LFU_INIT_VAL;
        for _ in 0..100 {
            c = log_incr(c);
        }
        assert!((8..=12).contains(&c), "100 hits gave {c}");
        let mut c = LFU_INIT_VAL;
        for _ in 0..100_000 {
            c = log_incr(c);
        }
        assert!((100..=200).contains(&c), "100k hits gave {c}");
        configure(Policy::NoEviction, 5, 10, 1);
    }

    #[test]
    fn counter_decays_per_period() {
        let mut e = Entry::new(b"k", Value::Int(1), None);
        e.set_lfu(20);
        e.set_lru(minutes().wrapping_sub(3));
        // lfu-decay-time defaults to 1 minute: three periods passed.
        assert_eq!(decayed_counter(&e), 17);
        e.set_lru(minutes().wrapping_sub(1000));
        assert_eq!(decayed_counter(&e), 0);
    }
}
