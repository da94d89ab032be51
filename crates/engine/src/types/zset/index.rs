//! The member index of the skiplist encoding: for each member, the tree leaf that holds it.
//!
//! One 8-byte slot per member, `[32-bit member hash | leaf id]`, in an open-addressing table
//! with no allocation per member: finding a member is a probe here and a short scan of the
//! leaf named (at most a leaf's worth of byte comparisons), and the score comes from the leaf.
//! The tree reports every member it moves between leaves, and the index follows.
//!
//! Slots with equal hash and leaf are interchangeable: the index only has to hold, as a
//! multiset, the (hash, leaf) pair of every member. Relocating or removing "a" slot with the
//! right hash and leaf is therefore always correct, even for two members whose hashes collide.
//!
//! The layout is the keyspace table's ([`crate::table`]): a slot's home is the top bits of its
//! hash, probing never wraps (an overflow tail grows past the end), and robin-hood placement
//! with backward-shift deletion keeps slots sorted by hash, so by home at every table size. A position in hash space is then a
//! ZSCAN cursor that survives any resize: a member present for a whole scan is returned at
//! least once.

use std::sync::OnceLock;

/// An unused slot (a real slot never names leaf `u32::MAX`).
const EMPTY: u64 = u64::MAX;
const MIN_BITS: u32 = 2;

/// The index's hash of a member, seeded per process so clients cannot force collisions.
#[inline]
pub(crate) fn member_hash(m: &[u8]) -> u32 {
    static SEED: OnceLock<u64> = OnceLock::new();
    (xxhash_rust::xxh3::xxh3_64_with_seed(m, *SEED.get_or_init(|| fastrand::u64(..))) >> 32) as u32
}

#[inline]
fn pack(hash: u32, leaf: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(leaf)
}

#[inline]
fn hash_of(slot: u64) -> u32 {
    (slot >> 32) as u32
}

#[inline]
fn leaf_of(slot: u64) -> u32 {
    slot as u32
}

/// Member hash → leaf, as a multiset of (hash, leaf) pairs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    slots: Vec<u64>,
    bits: u32,
    len: usize,
}

impl Index {
    /// Number of members indexed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of heap memory held.
    pub(crate) fn heap_size(&self) -> usize {
        self.slots.capacity() * 8
    }

    #[inline]
    fn home(&self, hash: u32) -> usize {
        (u64::from(hash) >> (32 - self.bits)) as usize
    }

    /// The leaves of the slots with `hash` (candidates to scan for a member).
    pub(crate) fn candidates(&self, hash: u32) -> impl Iterator<Item = u32> + '_ {
        let home = self.home(hash);
        self.slots
            .get(home..)
            .unwrap_or_default()
            .iter()
            .take_while(move |&&s| s != EMPTY && self.home(hash_of(s)) <= home)
            .filter(move |&&s| hash_of(s) == hash)
            .map(|&s| leaf_of(s))
    }

    fn position(&self, hash: u32, leaf: u32) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let home = self.home(hash);
        let want = pack(hash, leaf);
        let mut pos = home;
        while let Some(&s) = self.slots.get(pos) {
            if s == EMPTY || self.home(hash_of(s)) > home {
                return None;
            }
            if s == want {
                return Some(pos);
            }
            pos += 1;
        }
        None
    }

    /// Records a member with `hash` in `leaf`.
    pub(crate) fn insert(&mut self, hash: u32, leaf: u32) {
        if self.bits == 0 || (self.len + 1) * 8 > (1usize << self.bits) * 7 {
            self.resize(if self.bits == 0 { MIN_BITS } else { self.bits + 1 });
        }
        let mut carry = pack(hash, leaf);
        let mut pos = self.home(hash);
        loop {
            if pos == self.slots.len() {
                self.slots.push(carry);
                break;
            }
            let s = self.slots[pos];
            if s == EMPTY {
                self.slots[pos] = carry;
                break;
            }
            // Keep runs sorted by hash (so by home too, for any table size: `resize` relies on
            // it); a newcomer goes after residents with the same hash.
            if hash_of(s) > hash_of(carry) {
                self.slots[pos] = carry;
                carry = s;
            }
            pos += 1;
        }
        self.len += 1;
    }

    /// Moves one member with `hash` from leaf `from` to leaf `to`; false if none is indexed.
    pub(crate) fn relocate(&mut self, hash: u32, from: u32, to: u32) -> bool {
        match self.position(hash, from) {
            Some(pos) => {
                self.slots[pos] = pack(hash, to);
                true
            }
            None => false,
        }
    }

    /// Forgets one member with `hash` in `leaf`; false if none is indexed.
    pub(crate) fn remove(&mut self, hash: u32, leaf: u32) -> bool {
        let Some(pos) = self.position(hash, leaf) else { return false };
        self.slots[pos] = EMPTY;
        self.len -= 1;
        // Backward shift: pull displaced followers one step towards their homes.
        let mut hole = pos;
        while let Some(&s) = self.slots.get(hole + 1) {
            if s == EMPTY || self.home(hash_of(s)) == hole + 1 {
                break;
            }
            self.slots.swap(hole, hole + 1);
            hole += 1;
        }
        if self.len == 0 {
            *self = Index::default();
        } else if self.bits > MIN_BITS && self.len * 10 < (1usize << self.bits) {
            let mut bits = self.bits;
            while bits > MIN_BITS && self.len * 4 < (1usize << (bits - 1)) {
                bits -= 1;
            }
            self.resize(bits);
        }
        true
    }

    fn resize(&mut self, bits: u32) {
        let bits = bits.min(32);
        let cap = 1usize << bits;
        let old = std::mem::replace(&mut self.slots, Vec::with_capacity(cap + cap / 16 + 1));
        self.slots.resize(cap, EMPTY);
        self.bits = bits;
        // Old slots are in home order, so each lands at max(home, previous + 1).
        let mut next = 0usize;
        for s in old.into_iter().filter(|&s| s != EMPTY) {
            let pos = self.home(hash_of(s)).max(next);
            if pos == self.slots.len() {
                self.slots.push(s);
            } else {
                self.slots[pos] = s;
            }
            next = pos + 1;
        }
    }

    /// Visits the (hash, leaf) slots at or after hash-space position `cursor` (a 32-bit
    /// position) until at least `count` were visited and a home boundary is reached. Returns
    /// the position to continue from, or `None` at the end. Slots of one home are never split
    /// between two calls.
    pub(crate) fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(u32, u32)) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let shift = 32 - self.bits;
        let start = (cursor.min(u64::from(u32::MAX)) >> shift) as usize;
        let mut seen = 0usize;
        let mut current = start;
        for &s in &self.slots[start.min(self.slots.len())..] {
            if s == EMPTY {
                continue;
            }
            let home = self.home(hash_of(s));
            if home < start {
                continue;
            }
            if home != current {
                if seen >= count {
                    return Some((home as u64) << shift);
                }
                current = home;
            }
            if home == start && u64::from(hash_of(s)) < cursor {
                continue;
            }
            f(hash_of(s), leaf_of(s));
            seen += 1;
        }
        None
    }

    /// Every (hash, leaf) slot, sorted (tests).
    #[cfg(test)]
    pub(crate) fn all_sorted(&self) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> =
            self.slots.iter().filter(|&&s| s != EMPTY).map(|&s| (hash_of(s), leaf_of(s))).collect();
        v.sort_unstable();
        let mut last = 0;
        for (i, &s) in self.slots.iter().enumerate() {
            if s != EMPTY {
                assert!(self.home(hash_of(s)) <= i, "index slot before its home");
                assert!(hash_of(s) >= last, "index slots out of hash order");
                last = hash_of(s);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_relocate_remove() {
        let mut ix = Index::default();
        for i in 0..10_000u32 {
            ix.insert(member_hash(&i.to_be_bytes()), i % 97);
        }
        assert_eq!(ix.len(), 10_000);
        for i in 0..10_000u32 {
            let h = member_hash(&i.to_be_bytes());
            assert!(ix.candidates(h).any(|l| l == i % 97));
        }
        for i in (0..10_000u32).step_by(2) {
            let h = member_hash(&i.to_be_bytes());
            assert!(ix.relocate(h, i % 97, 1000));
            assert!(ix.candidates(h).any(|l| l == 1000));
        }
        for i in 0..10_000u32 {
            let h = member_hash(&i.to_be_bytes());
            let leaf = if i % 2 == 0 { 1000 } else { i % 97 };
            assert!(ix.remove(h, leaf));
            assert!(!ix.remove(h, 5000));
        }
        assert_eq!(ix.len(), 0);
        assert!(ix.candidates(7).next().is_none());
    }

    #[test]
    fn colliding_hashes_are_interchangeable() {
        let mut ix = Index::default();
        ix.insert(42, 1);
        ix.insert(42, 1);
        ix.insert(42, 2);
        assert_eq!(ix.candidates(42).filter(|&l| l == 1).count(), 2);
        assert!(ix.relocate(42, 1, 3));
        assert_eq!(ix.all_sorted(), vec![(42, 1), (42, 2), (42, 3)]);
        assert!(ix.remove(42, 1));
        assert!(!ix.remove(42, 1));
    }

    #[test]
    fn scan_survives_resizes() {
        let mut ix = Index::default();
        for i in 0..2000u32 {
            ix.insert(member_hash(&i.to_le_bytes()), i);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            let next = ix.scan(cursor, 7, |_, leaf| {
                seen.insert(leaf);
            });
            step += 1;
            if step == 10 {
                for i in 10_000..30_000u32 {
                    ix.insert(member_hash(&i.to_le_bytes()), i);
                }
            }
            if step == 60 {
                for i in 10_000..30_000u32 {
                    ix.remove(member_hash(&i.to_le_bytes()), i);
                }
            }
            match next {
                Some(c) => cursor = c,
                None => break,
            }
        }
        assert!((0..2000).all(|i| seen.contains(&i)));
    }
}
