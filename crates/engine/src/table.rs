//! The hash table of one shard: robin-hood linear probing kept in hash order.
//!
//! A key's home slot is its 64-bit hash scaled to the slot count (`hash * n / 2^64`, which
//! keeps hash order for any `n`), probing never wraps around (slots past the end are appended
//! as needed), and robin-hood insertion with backward-shift deletion keeps the slots sorted by
//! home slot. Three things follow:
//! - SCAN can use a position in hash space as its cursor. Growing or shrinking the table keeps
//!   every hash-space boundary meaningful, so a key present for a whole scan is returned at
//!   least once however the table is resized in between (Redis gets the same guarantee from
//!   reverse-binary iteration).
//! - Growth happens per shard, so the whole keyspace never doubles its table memory at once.
//! - The slot count need not be a power of two: tables grow by a quarter at 7/8 load, so
//!   slots cost 18-23 bytes per key instead of the 18-37 that doubling leaves.
//!
//! A slot is 16 bytes: the hash (bit 0 reused as "this key has an expiry", so active expiry
//! can sweep slots without touching entries) and the thin [`Entry`] pointer.

use crate::entry::Entry;

/// The smallest non-empty table.
const MIN_SLOTS: usize = 4;
const VOLATILE: u64 = 1;

struct Slot {
    /// Hash with bit 0 replaced by the volatile flag.
    meta: u64,
    entry: Option<Entry>,
}

impl Slot {
    const EMPTY: Slot = Slot { meta: 0, entry: None };
}

/// A robin-hood hash table of entries, ordered by hash.
pub struct Table {
    slots: Vec<Slot>,
    /// Number of home slots (the vector may hold an overflow tail past them); 0 when empty.
    homes: usize,
    len: usize,
    volatile: usize,
}

/// Where a SCAN of one table stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanNext {
    /// Continue from this hash-space position.
    At(u64),
    /// The table has been scanned to the end.
    Done,
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    /// An empty table; it allocates on first insert.
    pub const fn new() -> Self {
        Table { slots: Vec::new(), homes: 0, len: 0, volatile: 0 }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the table holds no entry.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of entries with an expiry.
    #[inline]
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    /// Number of slots (capacity including the overflow tail).
    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// Bytes held by the slot array.
    pub fn slot_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }

    #[inline]
    fn home(&self, hash: u64) -> usize {
        ((hash as u128 * self.homes as u128) >> 64) as usize
    }

    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let home = self.home(hash);
        let want = hash & !VOLATILE;
        let mut pos = home;
        while let Some(slot) = self.slots.get(pos) {
            let Some(entry) = &slot.entry else { return None };
            let slot_home = self.home(slot.meta);
            if slot_home > home {
                // Sorted by home slot: nothing with our home lies further on.
                return None;
            }
            if slot.meta & !VOLATILE == want && entry.key() == key {
                return Some(pos);
            }
            pos += 1;
        }
        None
    }

    /// The slot position of `key`, for a lookup followed by [`Table::at_mut`] or
    /// [`Table::remove_pos`] without hashing and probing twice.
    #[inline]
    pub fn position(&self, hash: u64, key: &[u8]) -> Option<usize> {
        self.find(hash, key)
    }

    /// The entry at a position returned by [`Table::position`] (no change in between).
    #[inline]
    pub fn at(&self, pos: usize) -> Option<&Entry> {
        self.slots.get(pos).and_then(|s| s.entry.as_ref())
    }

    /// Mutable form of [`Table::at`].
    #[inline]
    pub fn at_mut(&mut self, pos: usize) -> Option<&mut Entry> {
        self.slots.get_mut(pos).and_then(|s| s.entry.as_mut())
    }

    /// Removes the entry at a position returned by [`Table::position`].
    pub fn remove_pos(&mut self, pos: usize) -> Option<Entry> {
        if self.slots.get(pos).is_none_or(|s| s.entry.is_none()) {
            return None;
        }
        let e = self.remove_at(pos);
        self.maybe_shrink();
        e
    }

    /// The entry for `key`.
    #[inline]
    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&Entry> {
        let pos = self.find(hash, key)?;
        self.slots[pos].entry.as_ref()
    }

    /// Mutable access to the entry for `key`. Callers that add or remove an expiry through
    /// the returned entry must call [`Table::sync_volatile`] afterwards.
    #[inline]
    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Entry> {
        let pos = self.find(hash, key)?;
        self.slots[pos].entry.as_mut()
    }

    /// Re-reads whether `key`'s entry has an expiry, after it was changed through `get_mut`.
    pub fn sync_volatile(&mut self, hash: u64, key: &[u8]) {
        if let Some(pos) = self.find(hash, key) {
            let slot = &mut self.slots[pos];
            let now = slot.entry.as_ref().is_some_and(|e| e.has_expire());
            let was = slot.meta & VOLATILE != 0;
            if now != was {
                slot.meta ^= VOLATILE;
                if now {
                    self.volatile += 1;
                } else {
                    self.volatile -= 1;
                }
            }
        }
    }

    /// Inserts `entry`, replacing and returning any entry with the same key.
    pub fn insert(&mut self, hash: u64, entry: Entry) -> Option<Entry> {
        if let Some(pos) = self.find(hash, entry.key()) {
            let slot = &mut self.slots[pos];
            let vol = entry.has_expire();
            let old = slot.entry.replace(entry);
            let was = slot.meta & VOLATILE != 0;
            slot.meta = (hash & !VOLATILE) | vol as u64;
            match (was, vol) {
                (false, true) => self.volatile += 1,
                (true, false) => self.volatile -= 1,
                _ => {}
            }
            return old;
        }
        self.insert_new(hash, entry);
        None
    }

    /// Inserts an entry whose key is known to be absent.
    pub fn insert_new(&mut self, hash: u64, entry: Entry) {
        if (self.len + 1) * 8 > self.homes * 7 {
            self.resize((self.homes + (self.homes / 4).max(4)).max(MIN_SLOTS));
        }
        if entry.has_expire() {
            self.volatile += 1;
        }
        let meta = (hash & !VOLATILE) | entry.has_expire() as u64;
        self.place(Slot { meta, entry: Some(entry) });
        self.len += 1;
    }

    /// Robin-hood placement of a new slot, starting at its home.
    fn place(&mut self, mut carry: Slot) {
        let mut pos = self.home(carry.meta);
        loop {
            if pos == self.slots.len() {
                self.slots.push(carry);
                return;
            }
            let slot = &mut self.slots[pos];
            if slot.entry.is_none() {
                *slot = carry;
                return;
            }
            // Keep the run sorted by hash (so by home too): the larger hash moves on. Sorting
            // by home alone is not enough: `resize` relies on hash order, since two keys that
            // share a home can land in the new table in either order of their new homes.
            if (slot.meta & !VOLATILE) > (carry.meta & !VOLATILE) {
                std::mem::swap(slot, &mut carry);
            }
            pos += 1;
        }
    }

    /// Removes and returns the entry for `key`.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Entry> {
        let pos = self.find(hash, key)?;
        let entry = self.remove_at(pos);
        self.maybe_shrink();
        entry
    }

    fn remove_at(&mut self, pos: usize) -> Option<Entry> {
        let removed = std::mem::replace(&mut self.slots[pos], Slot::EMPTY);
        if removed.meta & VOLATILE != 0 {
            self.volatile -= 1;
        }
        self.len -= 1;
        // Backward shift: pull following displaced slots one step towards their homes.
        let mut hole = pos;
        loop {
            let next = hole + 1;
            let Some(slot) = self.slots.get(next) else { break };
            if slot.entry.is_none() || self.home(slot.meta) == next {
                break;
            }
            self.slots.swap(hole, next);
            hole = next;
        }
        removed.entry
    }

    fn maybe_shrink(&mut self) {
        if self.len == 0 {
            // An empty table holds no memory (whatever size it had grown to).
            if !self.slots.is_empty() {
                self.slots = Vec::new();
                self.homes = 0;
            }
        } else if self.homes > MIN_SLOTS && self.len * 10 < self.homes {
            self.resize((self.len * 2).max(MIN_SLOTS));
        }
    }

    fn resize(&mut self, homes: usize) {
        let old = std::mem::replace(&mut self.slots, Vec::with_capacity(homes + homes / 16 + 1));
        self.slots.resize_with(homes, || Slot::EMPTY);
        self.homes = homes;
        // Old slots are in hash order, so each lands at max(home, previous + 1): no probing.
        let mut next = 0usize;
        for slot in old {
            if slot.entry.is_none() {
                continue;
            }
            let pos = self.home(slot.meta).max(next);
            if pos == self.slots.len() {
                self.slots.push(slot);
            } else {
                self.slots[pos] = slot;
            }
            next = pos + 1;
        }
    }

    /// Removes every entry and returns the old table's entries for the caller to drop
    /// (possibly on another thread).
    pub fn take(&mut self) -> Table {
        std::mem::take(self)
    }

    /// Visits entries whose hash is at or after `cursor` in hash order, until at least `count`
    /// were visited, and returns where to continue: a hash with its low 32 bits clear (so
    /// callers may drop up to 32 low bits in their cursors) above every visited hash and at or
    /// below every unvisited one. Entries whose hashes share their top 32 bits are visited
    /// together, which also makes every returned position larger than `cursor`.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&Entry)) -> ScanNext {
        if self.len == 0 {
            return ScanNext::Done;
        }
        const LOW: u64 = u32::MAX as u64;
        let from = cursor & !VOLATILE;
        let start = self.home(cursor).min(self.slots.len());
        let mut seen = 0usize;
        let mut last: Option<u64> = None;
        for slot in &self.slots[start..] {
            let Some(entry) = &slot.entry else { continue };
            let hash = slot.meta & !VOLATILE;
            if hash < from {
                continue;
            }
            if seen >= count.max(1) {
                let stop = hash & !LOW;
                if last.is_some_and(|l| l < stop) {
                    return ScanNext::At(stop);
                }
            }
            f(entry);
            seen += 1;
            last = Some(hash);
        }
        ScanNext::Done
    }

    /// A uniformly chosen slot position to start a random walk from.
    fn random_pos(&self) -> usize {
        fastrand::usize(..self.slots.len())
    }

    /// Some entry, chosen at random (biased towards entries after empty runs, as Redis's is).
    pub fn random(&self) -> Option<&Entry> {
        if self.len == 0 {
            return None;
        }
        let start = self.random_pos();
        self.slots[start..].iter().chain(self.slots[..start].iter()).find_map(|s| s.entry.as_ref())
    }

    /// Iterates over every entry in hash order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().filter_map(|s| s.entry.as_ref())
    }

    /// Visits up to `budget` slots from `*pos` (wrapping to 0 at the end), and removes the
    /// volatile entries for which `expired` returns true, handing each to `on_removed`.
    /// Returns (slots visited, entries removed); `*pos` is where the next sweep continues.
    pub fn sweep_volatile(
        &mut self,
        pos: &mut usize,
        budget: usize,
        mut expired: impl FnMut(&Entry) -> bool,
        mut on_removed: impl FnMut(Entry),
    ) -> (usize, usize) {
        let mut visited = 0;
        let mut removed = 0;
        if self.volatile == 0 {
            return (0, 0);
        }
        if *pos >= self.slots.len() {
            *pos = 0;
        }
        while visited < budget && !self.slots.is_empty() {
            let i = *pos;
            visited += 1;
            let slot = &self.slots[i];
            let hit = slot.meta & VOLATILE != 0 && slot.entry.as_ref().is_some_and(&mut expired);
            if hit {
                // Backward shift moves the next slot into `i`: look at `i` again.
                if let Some(e) = self.remove_at(i) {
                    on_removed(e);
                }
                removed += 1;
                if self.volatile == 0 {
                    break;
                }
                continue;
            }
            *pos = i + 1;
            if *pos >= self.slots.len() {
                *pos = 0;
            }
        }
        if removed > 0 {
            self.maybe_shrink();
            if *pos >= self.slots.len() {
                *pos = 0;
            }
        }
        (visited, removed)
    }

    /// Visits up to `n` entries (only ones with a TTL when `volatile_only`) in a run of slots
    /// from a random position, wrapping around at most once, with each slot's hash (bit 0 is
    /// the TTL flag, which lookups ignore). Hash order is unrelated to keys or access, so a run
    /// is as good a sample as scattered picks and much cheaper (Redis's dictGetSomeKeys walks
    /// consecutive buckets the same way).
    pub fn sample_run(&self, n: usize, volatile_only: bool, mut f: impl FnMut(u64, &Entry)) {
        if self.len == 0 || (volatile_only && self.volatile == 0) {
            return;
        }
        let start = self.random_pos();
        let mut seen = 0;
        for slot in self.slots[start..].iter().chain(self.slots[..start].iter()) {
            let Some(e) = &slot.entry else { continue };
            if volatile_only && slot.meta & VOLATILE == 0 {
                continue;
            }
            f(slot.meta, e);
            seen += 1;
            if seen == n {
                return;
            }
        }
    }

    /// Up to `n` entries sampled at random positions (duplicates possible), for eviction.
    pub fn sample(&self, n: usize, mut f: impl FnMut(&Entry)) {
        if self.len == 0 {
            return;
        }
        for _ in 0..n {
            if let Some(e) = self.random() {
                f(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Entry, Value};
    use std::collections::HashSet;

    fn h(key: &[u8]) -> u64 {
        xxhash_rust::xxh3::xxh3_64(key)
    }

    fn put(t: &mut Table, k: &str) {
        t.insert(h(k.as_bytes()), Entry::new(k.as_bytes(), Value::Bytes(b"v"), None));
    }

    fn check_sorted(t: &Table) {
        let mut last = 0usize;
        for (i, s) in t.slots.iter().enumerate() {
            if s.entry.is_some() {
                let home = t.home(s.meta);
                assert!(home <= i, "slot before its home");
                assert!(home >= last, "slots out of hash order");
                last = home;
            }
        }
    }

    #[test]
    fn insert_get_remove_many() {
        let mut t = Table::new();
        for i in 0..10_000 {
            put(&mut t, &format!("key:{i}"));
        }
        assert_eq!(t.len(), 10_000);
        check_sorted(&t);
        for i in 0..10_000 {
            let k = format!("key:{i}");
            assert_eq!(t.get(h(k.as_bytes()), k.as_bytes()).map(|e| e.key()), Some(k.as_bytes()));
        }
        for i in (0..10_000).step_by(2) {
            let k = format!("key:{i}");
            assert!(t.remove(h(k.as_bytes()), k.as_bytes()).is_some());
        }
        check_sorted(&t);
        assert_eq!(t.len(), 5_000);
        for i in 0..10_000 {
            let k = format!("key:{i}");
            assert_eq!(t.get(h(k.as_bytes()), k.as_bytes()).is_some(), i % 2 == 1);
        }
        for i in 0..10_000 {
            let k = format!("key:{i}");
            t.remove(h(k.as_bytes()), k.as_bytes());
        }
        assert!(t.is_empty());
        assert_eq!(t.slot_count(), 0);
    }

    #[test]
    fn shared_homes_stay_ordered_across_resizes() {
        // Keys that share a home slot in a small table split into different homes when it
        // grows: slots must stay in hash order, not insertion order, for lookups to find them.
        let mut t = Table::new();
        let keys = ["key:7", "key:17", "key:53", "key:100"];
        for k in keys {
            put(&mut t, k);
        }
        for i in 0..2000 {
            put(&mut t, &format!("key:{i}"));
            check_sorted(&t);
        }
        for i in 0..2000 {
            let k = format!("key:{i}");
            assert!(t.get(h(k.as_bytes()), k.as_bytes()).is_some(), "lost {k}");
        }
        let mut last = 0u64;
        for s in t.slots.iter().filter(|s| s.entry.is_some()) {
            assert!(s.meta & !VOLATILE >= last, "slots out of hash order");
            last = s.meta & !VOLATILE;
        }
    }

    #[test]
    fn colliding_hashes_are_kept_apart() {
        let mut t = Table::new();
        for i in 0..100 {
            let k = format!("c{i}");
            t.insert(42, Entry::new(k.as_bytes(), Value::Int(i), None));
        }
        for i in 0..100 {
            let k = format!("c{i}");
            assert!(
                matches!(t.get(42, k.as_bytes()).map(|e| e.value()), Some(crate::entry::ValueRef::Int(v)) if v == i)
            );
        }
        assert!(t.remove(42, b"c50").is_some());
        assert!(t.get(42, b"c50").is_none());
        assert!(t.get(42, b"c51").is_some());
    }

    #[test]
    fn volatile_count_tracks_expiry() {
        let mut t = Table::new();
        t.insert(h(b"a"), Entry::new(b"a", Value::Bytes(b"1"), Some(5)));
        t.insert(h(b"b"), Entry::new(b"b", Value::Bytes(b"1"), None));
        assert_eq!(t.volatile_len(), 1);
        t.insert(h(b"a"), Entry::new(b"a", Value::Bytes(b"2"), None));
        assert_eq!(t.volatile_len(), 0);
        if let Some(e) = t.get_mut(h(b"b"), b"b") {
            e.set_expire(Some(10));
        }
        t.sync_volatile(h(b"b"), b"b");
        assert_eq!(t.volatile_len(), 1);
        t.remove(h(b"b"), b"b");
        assert_eq!(t.volatile_len(), 0);
    }

    fn full_scan(t: &Table, count: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            match t.scan(cursor, count, |e| out.push(e.key().to_vec())) {
                ScanNext::At(c) => cursor = c,
                ScanNext::Done => return out,
            }
        }
    }

    #[test]
    fn scan_returns_everything_exactly_once_without_changes() {
        let mut t = Table::new();
        for i in 0..5000 {
            put(&mut t, &format!("s{i}"));
        }
        let got = full_scan(&t, 10);
        assert_eq!(got.len(), 5000);
        assert_eq!(got.iter().collect::<HashSet<_>>().len(), 5000);
    }

    #[test]
    fn scan_cursors_survive_dropping_low_bits_and_shared_top_bits() {
        // Hashes that share their top 32 bits are visited in one call, and a cursor that
        // lost its low 32 bits (as SCAN's encoding drops 17) still makes progress.
        let mut t = Table::new();
        for i in 0..3000u64 {
            let hash = ((i / 3) << 40) | ((i % 3) << 8) | 0x10;
            let k = format!("c{i}");
            t.insert(hash, Entry::new(k.as_bytes(), Value::Bytes(b"v"), None));
        }
        let mut out = Vec::new();
        let mut cursor = 0u64;
        let mut calls = 0;
        loop {
            calls += 1;
            assert!(calls < 10_000, "scan made no progress");
            match t.scan(cursor, 1, |e| out.push(e.key().to_vec())) {
                ScanNext::At(c) => {
                    assert!(c > cursor && c & 0xffff_ffff == 0, "cursor {c:#x} after {cursor:#x}");
                    cursor = (c >> 17) << 17;
                }
                ScanNext::Done => break,
            }
        }
        assert_eq!(out.len(), 3000);
        assert_eq!(out.iter().collect::<HashSet<_>>().len(), 3000);
    }

    #[test]
    fn slots_cost_at_most_23_bytes_per_key_past_small_sizes() {
        let mut t = Table::new();
        for i in 0..200_000 {
            put(&mut t, &format!("m{i}"));
            if i >= 64 && i % 997 == 0 {
                let per_key = t.slot_count() * 16 / t.len();
                assert!(per_key <= 24, "{per_key} bytes per key at {}", t.len());
            }
        }
        check_sorted(&t);
    }

    #[test]
    fn scan_survives_growth_and_shrink_midway() {
        let mut t = Table::new();
        for i in 0..1000 {
            put(&mut t, &format!("keep{i}"));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            let next = t.scan(cursor, 7, |e| {
                seen.insert(e.key().to_vec());
            });
            step += 1;
            // Grow a lot, then shrink, while the scan is under way.
            if step == 5 {
                for i in 0..20_000 {
                    put(&mut t, &format!("tmp{i}"));
                }
            }
            if step == 40 {
                for i in 0..20_000 {
                    let k = format!("tmp{i}");
                    t.remove(h(k.as_bytes()), k.as_bytes());
                }
            }
            match next {
                ScanNext::At(c) => cursor = c,
                ScanNext::Done => break,
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("keep{i}").as_bytes()), "missed keep{i}");
        }
    }

    #[test]
    fn sweep_removes_only_matching_volatile_entries() {
        let mut t = Table::new();
        for i in 0..1000u64 {
            let k = format!("e{i}");
            let exp = if i % 3 == 0 { Some(i) } else { None };
            t.insert(h(k.as_bytes()), Entry::new(k.as_bytes(), Value::Bytes(b"x"), exp));
        }
        assert_eq!(t.volatile_len(), 334);
        let mut pos = 0;
        let mut removed = Vec::new();
        for _ in 0..100 {
            t.sweep_volatile(&mut pos, 50, |e| e.expire_ms().is_some_and(|x| x < 500), |e| removed.push(e));
        }
        assert_eq!(removed.len(), 167);
        assert_eq!(t.len(), 1000 - 167);
        assert_eq!(t.volatile_len(), 334 - 167);
        check_sorted(&t);
    }

    #[test]
    fn random_finds_entries() {
        let mut t = Table::new();
        assert!(t.random().is_none());
        put(&mut t, "only");
        assert_eq!(t.random().map(|e| e.key()), Some(&b"only"[..]));
    }
}
