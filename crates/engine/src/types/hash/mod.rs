//! The hash type: a map of fields to values, each field with an optional expiry time (Redis
//! 7.4's hash-field expiration).
//!
//! Two encodings, private to this type, chosen by the [`Limits`] every mutating method takes:
//! - **Packed** (`OBJECT ENCODING` "listpack"): field, value, field, value... in one
//!   [`Packed`] buffer, in insertion order. Lookups are linear, which is fastest at the sizes
//!   it is used for. It never holds a field TTL.
//! - **Table** ("hashtable"): a [`Table`] of [`Entry`] blocks, one allocation per field holding
//!   the field (as the entry key), the value and the field's expiry time; plus an index of the
//!   fields that have a TTL, ordered by expiry time, so due fields are found without a scan.
//!
//! A hash converts from packed to table once it has more than `hash_entries` fields, when a
//! field or value longer than `hash_value` bytes is stored, or when a field gets a TTL; it never
//! converts back (as in Redis). Redis 7.4 keeps small hashes with field TTLs in a third encoding
//! ("listpackex"); Larder uses the table for them.
//!
//! Expired fields stay stored until [`Hash::expire_fields`] removes them: callers run it before
//! every access (lazy expiry) and from the active expiry cycle. Its cost is O(1) when nothing is
//! due.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use crate::entry::{Entry, Value, ValueRef};
use crate::object::Object;
use crate::table::{ScanNext, Table};
use crate::types::packed::{Packed, PackedIter};
use crate::types::Limits;

/// Low bits of a table position dropped from an HSCAN cursor (keeps cursors below 2^47, so
/// clients holding them as doubles round-trip them; see the SCAN command).
const CURSOR_SHIFT: u32 = 17;

/// How many random slots [`Hash::random`] probes before falling back to a walk.
const RANDOM_PROBES: usize = 64;

/// A hash value.
pub struct Hash {
    repr: Repr,
}

enum Repr {
    Packed(Packed),
    /// Boxed: a small hash should not pay for the table's header in every key.
    Table(Box<Big>),
}

/// The table encoding.
struct Big {
    table: Table,
    /// `(expiry, field)` of every field with a TTL, earliest first. Invariant: an entry of
    /// `table` has an expiry `t` exactly when `(t, its key)` is in this set.
    ttls: BTreeSet<(u64, Box<[u8]>)>,
}

/// Whether a write keeps the field's TTL (HINCRBY) or clears it (HSET).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ttl {
    Keep,
    Clear,
}

/// The table hash of a field: xxh3 with a per-process random seed, so clients cannot choose
/// fields that collide.
#[inline]
fn field_hash(field: &[u8]) -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    xxhash_rust::xxh3::xxh3_64_with_seed(field, *SEED.get_or_init(|| fastrand::u64(..)))
}

/// The value of a field entry: bytes in the entry's block, or (a long value, see
/// [`Entry::new`]) in a string buffer of its own.
#[inline]
fn entry_value(e: &Entry) -> &[u8] {
    match e.value() {
        ValueRef::Bytes(b) => b,
        ValueRef::Obj(Object::Str(b)) => b,
        _ => &[],
    }
}

/// Iterates over the (field, value) pairs of a packed hash.
fn packed_pairs(p: &Packed) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
    let mut it: PackedIter<'_> = p.iter();
    std::iter::from_fn(move || Some((it.next()?, it.next()?)))
}

impl Big {
    fn new() -> Self {
        Big { table: Table::new(), ttls: BTreeSet::new() }
    }

    fn get(&self, field: &[u8]) -> Option<&Entry> {
        self.table.get(field_hash(field), field)
    }

    fn forget_ttl(&mut self, t: Option<u64>, field: &[u8]) {
        if let Some(t) = t {
            self.ttls.remove(&(t, Box::from(field)));
        }
    }

    /// Stores `field` = `value`; returns true when the field is new.
    fn set(&mut self, field: &[u8], value: &[u8], ttl: Ttl) -> bool {
        let h = field_hash(field);
        let Some(e) = self.table.get_mut(h, field) else {
            self.table.insert_new(h, Entry::new(field, Value::Bytes(value), None));
            return true;
        };
        let old = e.expire_ms();
        let keep = if ttl == Ttl::Keep { old } else { None };
        if keep == old && e.overwrite_bytes(value) {
            return false;
        }
        e.set_value_and_expire(Value::Bytes(value), keep);
        self.table.sync_volatile(h, field);
        if keep != old {
            self.forget_ttl(old, field);
        }
        false
    }

    fn del(&mut self, field: &[u8]) -> bool {
        match self.table.remove(field_hash(field), field) {
            Some(e) => {
                self.forget_ttl(e.expire_ms(), field);
                true
            }
            None => false,
        }
    }

    /// Sets or clears the expiry of an existing field; false when the field is absent.
    fn set_expire(&mut self, field: &[u8], at: Option<u64>) -> bool {
        let h = field_hash(field);
        let Some(e) = self.table.get_mut(h, field) else { return false };
        let old = e.expire_ms();
        if old == at {
            return true;
        }
        e.set_expire(at);
        self.table.sync_volatile(h, field);
        self.forget_ttl(old, field);
        if let Some(t) = at {
            self.ttls.insert((t, Box::from(field)));
        }
        true
    }

    fn clone_big(&self) -> Big {
        let mut table = Table::new();
        for e in self.table.iter() {
            table.insert_new(field_hash(e.key()), Entry::new(e.key(), Value::Bytes(entry_value(e)), e.expire_ms()));
        }
        Big { table, ttls: self.ttls.clone() }
    }

    /// A field chosen uniformly at random: random slots are probed until one holds an entry
    /// (the table keeps at least a tenth of its slots full, so a few probes suffice).
    fn random(&self) -> Option<&Entry> {
        let slots = self.table.slot_count();
        if self.table.is_empty() || slots == 0 {
            return None;
        }
        for _ in 0..RANDOM_PROBES {
            if let Some(e) = self.table.at(fastrand::usize(..slots)) {
                return Some(e);
            }
        }
        self.table.random()
    }
}

impl Default for Hash {
    fn default() -> Self {
        Self::new()
    }
}

impl Hash {
    /// An empty hash in the packed encoding.
    pub fn new() -> Self {
        Hash { repr: Repr::Packed(Packed::new()) }
    }

    /// Number of fields (including expired ones not yet removed by [`Hash::expire_fields`]).
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.len() / 2,
            Repr::Table(b) => b.table.len(),
        }
    }

    /// True when the hash has no field.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING name of the current representation.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Bytes of heap memory held (O(n) for the table encoding: every field block is counted).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(p) => p.heap_size(),
            Repr::Table(b) => {
                let blocks: usize = b.table.iter().map(Entry::block_size).sum();
                let index: usize = b.ttls.iter().map(|(_, f)| f.len() + 32).sum();
                std::mem::size_of::<Big>() + b.table.slot_bytes() + blocks + index
            }
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Packed(p) => {
                let pos = p.find(field, 2)?;
                p.next(pos).and_then(|v| p.at(v))
            }
            Repr::Table(b) => b.get(field).map(entry_value),
        }
    }

    /// True when `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.repr {
            Repr::Packed(p) => p.find(field, 2).is_some(),
            Repr::Table(b) => b.get(field).is_some(),
        }
    }

    /// Converts a packed hash to the table encoding (no-op for a table).
    fn convert(&mut self) {
        if let Repr::Packed(p) = &self.repr {
            let mut big = Big::new();
            for (f, v) in packed_pairs(p) {
                big.table.insert_new(field_hash(f), Entry::new(f, Value::Bytes(v), None));
            }
            self.repr = Repr::Table(Box::new(big));
        }
    }

    fn set_generic(&mut self, field: &[u8], value: &[u8], limits: &Limits, ttl: Ttl) -> bool {
        if matches!(self.repr, Repr::Packed(_)) && (field.len() > limits.hash_value || value.len() > limits.hash_value)
        {
            self.convert();
        }
        match &mut self.repr {
            Repr::Packed(p) => {
                let new = match p.find(field, 2) {
                    Some(pos) => {
                        if let Some(vpos) = p.next(pos) {
                            p.replace_at(vpos, value);
                        }
                        false
                    }
                    None => {
                        p.push_back(field);
                        p.push_back(value);
                        true
                    }
                };
                if p.len() / 2 > limits.hash_entries {
                    self.convert();
                }
                new
            }
            Repr::Table(b) => b.set(field, value, ttl),
        }
    }

    /// Sets `field` to `value`, removing any TTL the field had (as HSET does). Returns true when
    /// the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        self.set_generic(field, value, limits, Ttl::Clear)
    }

    /// Sets `field` to `value`, keeping the field's TTL (as HINCRBY does). Returns true when
    /// the field is new.
    pub fn set_keep_ttl(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        self.set_generic(field, value, limits, Ttl::Keep)
    }

    /// Sets `field` only when it does not exist; returns true when it was set.
    pub fn set_nx(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        if self.contains(field) {
            return false;
        }
        self.set(field, value, limits)
    }

    /// Removes `field`; returns true when it existed.
    pub fn del(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Packed(p) => match p.find(field, 2) {
                Some(pos) => {
                    p.remove_run(pos, 2);
                    true
                }
                None => false,
            },
            Repr::Table(b) => b.del(field),
        }
    }

    /// Iterates over (field, value) pairs: insertion order when packed, hash order otherwise.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let (packed, table) = match &self.repr {
            Repr::Packed(p) => (Some(packed_pairs(p)), None),
            Repr::Table(b) => (None, Some(b.table.iter().map(|e| (e.key(), entry_value(e))))),
        };
        packed.into_iter().flatten().chain(table.into_iter().flatten())
    }

    /// A (field, value) pair chosen uniformly at random; `None` when empty.
    pub fn random(&self) -> Option<(&[u8], &[u8])> {
        match &self.repr {
            Repr::Packed(p) => {
                let n = p.len() / 2;
                if n == 0 {
                    return None;
                }
                packed_pairs(p).nth(fastrand::usize(..n))
            }
            Repr::Table(b) => b.random().map(|e| (e.key(), entry_value(e))),
        }
    }

    /// HRANDFIELD's sampling: calls `f` with `count` random pairs. With `unique`, no field is
    /// repeated and at most [`Hash::len`] pairs are produced (all of them when `count` is at
    /// least the length); otherwise exactly `count` pairs, with repeats. Sampling stops early
    /// when `f` returns false.
    pub fn random_pairs(&self, count: usize, unique: bool, mut f: impl FnMut(&[u8], &[u8]) -> bool) {
        let len = self.len();
        if len == 0 || count == 0 {
            return;
        }
        if unique && count >= len {
            for (k, v) in self.iter() {
                if !f(k, v) {
                    return;
                }
            }
            return;
        }
        match &self.repr {
            Repr::Packed(p) => {
                let pairs: Vec<(&[u8], &[u8])> = packed_pairs(p).collect();
                if unique {
                    // Selection sampling (Knuth's algorithm S): a uniform subset, in order.
                    let mut need = count;
                    for (i, (k, v)) in pairs.iter().enumerate() {
                        if fastrand::usize(..pairs.len() - i) < need {
                            need -= 1;
                            if !f(k, v) || need == 0 {
                                return;
                            }
                        }
                    }
                } else {
                    for _ in 0..count {
                        let (k, v) = pairs[fastrand::usize(..pairs.len())];
                        if !f(k, v) {
                            return;
                        }
                    }
                }
            }
            Repr::Table(b) => {
                if !unique {
                    for _ in 0..count {
                        let Some(e) = b.random() else { return };
                        if !f(e.key(), entry_value(e)) {
                            return;
                        }
                    }
                } else if count * 3 > len {
                    // Most of the hash is wanted: drop random entries from a full copy.
                    let mut all: Vec<&Entry> = b.table.iter().collect();
                    while all.len() > count {
                        all.swap_remove(fastrand::usize(..all.len()));
                    }
                    for e in all {
                        if !f(e.key(), entry_value(e)) {
                            return;
                        }
                    }
                } else {
                    let mut seen = std::collections::HashSet::with_capacity(count);
                    while seen.len() < count {
                        let Some(e) = b.random() else { return };
                        if seen.insert(e.key().as_ptr() as usize) && !f(e.key(), entry_value(e)) {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// One HSCAN step from `cursor`: calls `f` for at least `count` pairs (every pair when
    /// packed, as Redis returns a small encoding whole) and returns the next cursor, 0 at the
    /// end. A field present for a whole scan is returned at least once, however the table is
    /// resized in between.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Packed(p) => {
                for (k, v) in packed_pairs(p) {
                    f(k, v);
                }
                0
            }
            Repr::Table(b) => {
                if cursor >> (64 - CURSOR_SHIFT) != 0 {
                    // Past the end of hash space: nothing left.
                    return 0;
                }
                match b.table.scan(cursor << CURSOR_SHIFT, count.max(1), |e| f(e.key(), entry_value(e))) {
                    ScanNext::At(next) => (next >> CURSOR_SHIFT).max(1),
                    ScanNext::Done => 0,
                }
            }
        }
    }

    /// The expiry of `field`: `None` when the field is absent, `Some(None)` when it has no TTL,
    /// else the unix time in ms (possibly past, when not yet removed).
    pub fn expire_time(&self, field: &[u8]) -> Option<Option<u64>> {
        match &self.repr {
            Repr::Packed(p) => p.find(field, 2).map(|_| None),
            Repr::Table(b) => b.get(field).map(Entry::expire_ms),
        }
    }

    /// Gives `field` the expiry time `at` (unix ms), converting the hash to the table encoding.
    /// Returns false (changing nothing) when the field is absent.
    pub fn set_expire_time(&mut self, field: &[u8], at: u64) -> bool {
        if !self.contains(field) {
            return false;
        }
        self.convert();
        match &mut self.repr {
            Repr::Table(b) => b.set_expire(field, Some(at)),
            Repr::Packed(_) => false,
        }
    }

    /// Removes `field`'s TTL; returns true when it had one.
    pub fn persist(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Packed(_) => false,
            Repr::Table(b) => b.get(field).is_some_and(|e| e.has_expire()) && b.set_expire(field, None),
        }
    }

    /// Number of fields with a TTL.
    pub fn volatile_len(&self) -> usize {
        match &self.repr {
            Repr::Packed(_) => 0,
            Repr::Table(b) => b.ttls.len(),
        }
    }

    /// The earliest field expiry time, if any field has a TTL: what an active expiry index
    /// would register the hash under.
    pub fn next_expiry(&self) -> Option<u64> {
        match &self.repr {
            Repr::Packed(_) => None,
            Repr::Table(b) => b.ttls.first().map(|(t, _)| *t),
        }
    }

    /// Removes every field whose TTL is at or before `now`; returns how many were removed.
    /// O(1) when none is due.
    pub fn expire_fields(&mut self, now: u64) -> usize {
        self.expire_fields_max(now, usize::MAX, |_| {})
    }

    /// Removes up to `max` due fields, earliest first, handing each removed field to
    /// `on_removed` (for HDEL propagation); returns how many were removed. Active expiry calls
    /// this with a budget.
    pub fn expire_fields_max(&mut self, now: u64, max: usize, mut on_removed: impl FnMut(&[u8])) -> usize {
        let Repr::Table(b) = &mut self.repr else { return 0 };
        let mut removed = 0;
        while removed < max {
            match b.ttls.first() {
                Some((t, _)) if *t <= now => {}
                _ => break,
            }
            let Some((_, field)) = b.ttls.pop_first() else { break };
            b.table.remove(field_hash(&field), &field);
            on_removed(&field);
            removed += 1;
        }
        removed
    }
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        let repr = match &self.repr {
            Repr::Packed(p) => Repr::Packed(p.clone()),
            Repr::Table(b) => Repr::Table(Box::new(b.clone_big())),
        };
        Hash { repr }
    }
}

impl PartialEq for Hash {
    /// Same fields, values and field TTLs, whatever the encodings.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.iter().all(|(f, v)| other.get(f) == Some(v) && other.expire_time(f) == self.expire_time(f))
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))))
            .finish()
    }
}

#[cfg(test)]
mod tests;
