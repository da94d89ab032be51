//! The frequency sketch behind `allkeys-tinylfu`: a count-min sketch of 8-bit counters,
//! four rows, that counts requests by key hash whether or not the key is stored.
//!
//! Remembering requests for absent keys is what lets a popular key that was evicted win its
//! place back on the next miss, where Redis's per-key LFU counter starts again from 5. Counts
//! are halved every `AGE_PERIOD × width` requests so the sketch follows a changing workload.
//! Increments are conservative (only the row counters at the current minimum grow), which
//! keeps keys that share counters with popular ones from inheriting their counts.
//!
//! Counter updates are relaxed loads and stores: two threads counting the same key at the
//! same instant may lose one count, which an estimate can afford.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::Relaxed};

use parking_lot::RwLock;

const ROWS: usize = 4;
const MIN_BITS: u32 = 12;
const MAX_BITS: u32 = 24;
/// Requests between halvings, per counter of a row.
const AGE_PERIOD: u64 = 64;
/// Row width per key held: a wide sketch keeps collisions between unrelated keys rare.
const WIDTH_PER_KEY: usize = 2;

/// A count-min sketch of request frequencies.
pub struct Sketch {
    bits: u32,
    counters: Box<[AtomicU8]>,
    additions: AtomicU64,
}

/// Odd multipliers giving each row its own index from one 64-bit hash.
const SEEDS: [u64; ROWS] = [0x9E37_79B9_7F4A_7C15, 0xC2B2_AE3D_27D4_EB4F, 0x1656_67B1_9E37_79F9, 0xD6E8_FEB8_6659_FD93];

impl Sketch {
    /// A sketch with rows of `1 << bits` counters.
    pub fn new(bits: u32) -> Sketch {
        let bits = bits.clamp(MIN_BITS, MAX_BITS);
        Sketch { bits, counters: (0..ROWS << bits).map(|_| AtomicU8::new(0)).collect(), additions: AtomicU64::new(0) }
    }

    /// A sketch with rows of `1 << bits` counters that starts from `old`'s counts: each new
    /// counter takes the value of the old counter whose index is its own index's leading bits,
    /// so every key's estimate is the same as before and no history is lost when widening.
    fn widened(old: &Sketch, bits: u32) -> Sketch {
        let bits = bits.clamp(old.bits, MAX_BITS);
        let shift = bits - old.bits;
        let counters = (0..ROWS << bits)
            .map(|i| {
                let (row, col) = (i >> bits, i & ((1 << bits) - 1));
                AtomicU8::new(old.counters[(row << old.bits) | (col >> shift)].load(Relaxed))
            })
            .collect();
        Sketch { bits, counters, additions: AtomicU64::new(old.additions.load(Relaxed)) }
    }

    /// Counters per row.
    pub fn width(&self) -> usize {
        1 << self.bits
    }

    /// Bytes held by the counters.
    pub fn bytes(&self) -> usize {
        self.counters.len()
    }

    #[inline]
    fn index(&self, row: usize, hash: u64) -> usize {
        // Bit 0 is not part of the hash in a table slot (it flags a TTL there).
        let hash = hash & !1;
        let h = (hash ^ (hash >> 29)).wrapping_mul(SEEDS[row]);
        (row << self.bits) | (h >> (64 - self.bits)) as usize
    }

    /// Counts one request for the key hashing to `hash`.
    pub fn record(&self, hash: u64) {
        let idx: [usize; ROWS] = std::array::from_fn(|r| self.index(r, hash));
        let vals: [u8; ROWS] = std::array::from_fn(|r| self.counters[idx[r]].load(Relaxed));
        let min = vals.iter().copied().min().unwrap_or(0);
        if min < u8::MAX {
            for r in 0..ROWS {
                if vals[r] == min {
                    self.counters[idx[r]].store(min + 1, Relaxed);
                }
            }
        }
        let n = self.additions.fetch_add(1, Relaxed) + 1;
        if n >= AGE_PERIOD << self.bits && self.additions.compare_exchange(n, n / 2, Relaxed, Relaxed).is_ok() {
            self.halve();
        }
    }

    /// The estimated number of recent requests for the key hashing to `hash`.
    pub fn estimate(&self, hash: u64) -> u8 {
        (0..ROWS).map(|r| self.counters[self.index(r, hash)].load(Relaxed)).min().unwrap_or(0)
    }

    fn halve(&self) {
        super::access::next_epoch();
        for c in self.counters.iter() {
            let v = c.load(Relaxed);
            if v > 0 {
                c.store(v / 2, Relaxed);
            }
        }
    }
}

static SKETCH: RwLock<Option<Sketch>> = RwLock::new(None);

/// Counts a request in the process-wide sketch (a no-op until [`ensure_capacity`] made one).
#[inline]
pub fn record(hash: u64) {
    if let Some(s) = SKETCH.read().as_ref() {
        s.record(hash);
    }
}

/// The process-wide sketch's estimate for `hash` (0 when there is none).
pub fn estimate(hash: u64) -> u8 {
    SKETCH.read().as_ref().map_or(0, |s| s.estimate(hash))
}

/// Makes sure the process-wide sketch is wide enough for `keys` stored keys, replacing it by a
/// wider one (carrying over the counts) when the keyspace outgrew it.
pub fn ensure_capacity(keys: usize) {
    let want = (keys.max(1) * WIDTH_PER_KEY).next_power_of_two().trailing_zeros().clamp(MIN_BITS, MAX_BITS);
    let enough = SKETCH.read().as_ref().is_some_and(|s| s.bits >= want);
    if !enough {
        let mut w = SKETCH.write();
        match w.as_ref() {
            None => *w = Some(Sketch::new(want)),
            Some(s) if s.bits < want => *w = Some(Sketch::widened(s, want)),
            Some(_) => {}
        }
    }
}

/// Drops the process-wide sketch (when another policy is selected).
pub fn clear() {
    *SKETCH.write() = None;
}

/// Bytes held by the process-wide sketch (INFO).
pub fn bytes() -> usize {
    SKETCH.read().as_ref().map_or(0, Sketch::bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u64) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())
    }

    #[test]
    fn counts_and_ranks_frequencies() {
        let s = Sketch::new(14);
        for _ in 0..40 {
            s.record(h(1));
        }
        for _ in 0..5 {
            s.record(h(2));
        }
        for i in 100..2000 {
            s.record(h(i));
        }
        assert!(s.estimate(h(1)) >= 40);
        assert!((5..40).contains(&s.estimate(h(2))));
        assert!(s.estimate(h(3)) <= 2, "never-seen key estimated {}", s.estimate(h(3)));
    }

    #[test]
    fn halves_after_its_period() {
        let s = Sketch::new(MIN_BITS);
        for _ in 0..200 {
            s.record(h(7));
        }
        let before = s.estimate(h(7));
        for i in 0..(AGE_PERIOD << MIN_BITS) {
            s.record(h(1_000_000 + i));
        }
        assert!((s.estimate(h(7)) as u32) < before as u32 * 3 / 4, "{} then {}", before, s.estimate(h(7)));
    }

    #[test]
    fn widening_keeps_every_estimate() {
        let s = Sketch::new(MIN_BITS);
        for i in 0..5000u64 {
            for _ in 0..(i % 7) {
                s.record(h(i));
            }
        }
        let wide = Sketch::widened(&s, MIN_BITS + 3);
        assert_eq!(wide.width(), s.width() << 3);
        for i in 0..6000u64 {
            assert_eq!(wide.estimate(h(i)), s.estimate(h(i)), "key {i}");
        }
        // New counts spread over the wider rows: a fresh key no longer shares the counters
        // of the keys it collided with in the narrow sketch.
        wide.record(h(1_000_001));
        assert!(wide.estimate(h(1_000_001)) >= 1);
    }

    #[test]
    fn saturates_instead_of_wrapping() {
        let s = Sketch::new(MIN_BITS);
        for _ in 0..300 {
            s.record(h(9));
        }
        assert_eq!(s.estimate(h(9)), u8::MAX);
    }
}
