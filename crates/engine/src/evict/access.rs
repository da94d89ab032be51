//! Access stamps: what a lookup records on an entry for the eviction policy.
//!
//! LRU policies keep the LRU clock (seconds) in the entry's `lru` word. LFU policies keep, as
//! Redis does, a logarithmic counter in the `lfu` byte and the minute it was last decremented
//! in the `lru` word: the counter grows with probability
//! `1 / ((counter - 5) * lfu-log-factor + 1)` and loses one per `lfu-decay-time` minutes
//! without access. `allkeys-tinylfu` stamps recency like LRU and counts every request (hits
//! and misses) in the frequency sketch.

use super::{lfu_decay_time, lfu_log_factor, policy, sketch, Policy};
use crate::clock;
use crate::entry::Entry;

/// The counter a new key starts with under LFU (so it is not evicted before it had a chance).
pub const LFU_INIT_VAL: u8 = 5;

/// Minutes since the epoch, the time base of the LFU decay.
#[inline]
fn minutes() -> u32 {
    clock::lru_clock() / 60
}

/// Stamps a new entry: now as its last access, and the initial LFU counter.
#[inline]
pub fn stamp_new(e: &mut Entry) {
    if policy().uses_lfu() {
        e.set_lru(minutes());
        e.set_lfu(LFU_INIT_VAL);
    } else {
        e.set_lru(clock::lru_clock());
    }
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
            e.set_lru(clock::lru_clock());
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
    clock::lru_clock().wrapping_sub(e.lru()) as u64
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
