//! The set type, in Redis 7.2's three encodings, private to it:
//!
//! - **intset**: a sorted vector of integers, while every member is a canonical integer (as
//!   Redis's `string2ll` decides: no `+`, no leading zero, no `-0`) and there are at most
//!   `set-max-intset-entries` of them;
//! - **listpack**: a [`Packed`] sequence in insertion order, for up to
//!   `set-max-listpack-entries` members of at most `set-max-listpack-value` bytes each;
//! - **hashtable**: a [`Table`] of [`Entry`]s whose keys are the members (values empty), which
//!   gives SSCAN cursors that survive resizing and fair random picks.
//!
//! Mutating methods take the [`Limits`] and convert exactly where Redis 7.2 does (t_set.c):
//! intset → listpack when a non-integer is added to a small intset with short members,
//! intset → hashtable when it grows past its limit or cannot become a listpack, listpack →
//! hashtable past its limits. A set never converts back, except that the results of the
//! `*STORE` commands and what SPOP leaves behind start over in the encoding Redis gives them
//! ([`Set::for_intersection`], [`Set::compact_integers`], [`Set::pop_many`]).

use std::sync::OnceLock;

use crate::entry::{Entry, Value};
use crate::table::{ScanNext, Table};
use crate::types::packed::Packed;
use crate::types::Limits;
use crate::util::num::parse_i64;

/// Redis caps intsets at 2^30 members whatever `set-max-intset-entries` says.
const INTSET_HARD_MAX: usize = 1 << 30;

/// Low bits of a hash-space position dropped from an SSCAN cursor. Table positions are home-slot
/// boundaries (multiples of `2^(64 - bits)` with far fewer than 2^53 slots), so nothing is lost,
/// and cursors stay below 2^53 for clients that hold them as doubles.
const SCAN_SHIFT: u32 = 11;

/// A set member as a set hands it out: intsets keep integers in their integer form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    /// A member stored as an integer (its canonical decimal form is the member).
    Int(i64),
    /// A member stored as bytes.
    Bytes(&'a [u8]),
}

impl<'a> Member<'a> {
    /// The member's bytes, formatting an integer into `buf` (no heap allocation).
    #[inline]
    pub fn bytes<'b>(self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Member::Int(i) => buf.format(i).as_bytes(),
            Member::Bytes(b) => b,
        }
    }

    /// An owned copy of the member's bytes.
    pub fn to_vec(self) -> Vec<u8> {
        self.bytes(&mut itoa::Buffer::new()).to_vec()
    }

    /// The member as an integer, when it is a canonical one.
    #[inline]
    fn as_int(self) -> Option<i64> {
        match self {
            Member::Int(i) => Some(i),
            Member::Bytes(b) => parse_i64(b),
        }
    }
}

/// A set value.
pub struct Set {
    repr: Repr,
}

enum Repr {
    /// Sorted, distinct integers.
    Ints(Ints),
    /// Distinct members in insertion order.
    Packed(Packed),
    /// Members as the keys of value-less entries.
    Table(Box<Table>),
}

/// The hash of a member in a hashtable-encoded set, seeded per process so that members chosen
/// by a client cannot be made to collide.
#[inline]
fn member_hash(m: &[u8]) -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    xxhash_rust::xxh3::xxh3_64_with_seed(m, *SEED.get_or_init(|| fastrand::u64(..)))
}

fn table_insert(t: &mut Table, m: &[u8]) -> bool {
    let h = member_hash(m);
    if t.get(h, m).is_some() {
        return false;
    }
    t.insert_new(h, Entry::new(m, Value::Bytes(b""), None));
    true
}

/// A uniformly chosen entry of a non-empty table: random slots until one is occupied (the
/// table keeps at least a tenth of its slots full), so, unlike [`Table::random`], no entry is
/// favoured for following a run of empty slots. Returns the slot position.
fn table_fair_pos(t: &Table) -> Option<usize> {
    if t.is_empty() {
        return None;
    }
    for _ in 0..256 {
        let pos = fastrand::usize(..t.slot_count());
        if t.at(pos).is_some() {
            return Some(pos);
        }
    }
    // Unreachable in practice; stay correct (if slightly biased) rather than loop for long.
    let start = fastrand::usize(..t.slot_count());
    (start..t.slot_count()).chain(0..start).find(|&p| t.at(p).is_some())
}

fn digits(i: i64) -> usize {
    itoa::Buffer::new().format(i).len()
}

impl Default for Set {
    fn default() -> Self {
        Self::new()
    }
}

/// Sorted integers in a buffer of exactly their size (an intset reallocates on every change
/// too): 16 bytes, so a set stays 24 bytes whatever its encoding.
#[derive(Clone, Default)]
struct Ints(Box<[i64]>);

impl std::ops::Deref for Ints {
    type Target = [i64];

    fn deref(&self) -> &[i64] {
        &self.0
    }
}

impl Ints {
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<i64>) -> R) -> R {
        super::edit_exact(&mut self.0, f)
    }

    fn insert(&mut self, at: usize, i: i64) {
        self.edit(|v| {
            v.reserve_exact(1);
            v.insert(at, i);
        });
    }

    fn remove(&mut self, at: usize) -> i64 {
        self.edit(|v| v.remove(at))
    }
}

impl Set {
    /// An empty set in the intset encoding (where Redis starts the results of SUNIONSTORE and
    /// SDIFFSTORE).
    pub fn new() -> Self {
        Set { repr: Repr::Ints(Ints::default()) }
    }

    /// An empty set for about `size_hint` members, the first being `first`, in the encoding
    /// Redis's `setTypeCreate` picks: intset when `first` is an integer and the hint fits an
    /// intset, listpack when the hint fits a listpack, hashtable otherwise.
    pub fn for_members(first: &[u8], size_hint: usize, limits: &Limits) -> Self {
        let repr = if parse_i64(first).is_some() && size_hint <= limits.set_intset_entries {
            Repr::Ints(Ints::default())
        } else if size_hint <= limits.set_entries {
            Repr::Packed(Packed::new())
        } else {
            Repr::Table(Box::default())
        };
        Set { repr }
    }

    /// An empty set to collect the intersection of sets whose smallest is `first`: an intset
    /// when `first` is one, a listpack otherwise (finish with [`Set::compact_integers`]).
    pub fn for_intersection(first: &Set) -> Self {
        let repr = match first.repr {
            Repr::Ints(_) => Repr::Ints(Ints::default()),
            _ => Repr::Packed(Packed::new()),
        };
        Set { repr }
    }

    /// Before adding about `size_hint` members (SADD's argument count), converts to a hashtable
    /// at once when the hint alone exceeds the current encoding's limit, as Redis does.
    pub fn prepare_for(&mut self, size_hint: usize, limits: &Limits) {
        let convert = match self.repr {
            Repr::Ints(_) => size_hint > limits.set_intset_entries,
            Repr::Packed(_) => size_hint > limits.set_entries,
            Repr::Table(_) => false,
        };
        if convert {
            self.convert_to_table();
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => v.len(),
            Repr::Packed(p) => p.len(),
            Repr::Table(t) => t.len(),
        }
    }

    /// True when the set has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING name of the current representation.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Ints(_) => "intset",
            Repr::Packed(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Bytes of heap memory held (O(n) for the hashtable encoding).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Ints(v) => std::mem::size_of_val::<[i64]>(v),
            Repr::Packed(p) => p.heap_size(),
            Repr::Table(t) => t.slot_bytes() + t.iter().map(Entry::block_size).sum::<usize>(),
        }
    }

    /// True when `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        self.contains_member(Member::Bytes(m))
    }

    /// True when `m` (possibly taken from another set) is a member.
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match &self.repr {
            Repr::Ints(v) => m.as_int().is_some_and(|i| v.binary_search(&i).is_ok()),
            Repr::Packed(p) => p.find(m.bytes(&mut itoa::Buffer::new()), 1).is_some(),
            Repr::Table(t) => {
                let mut buf = itoa::Buffer::new();
                let b = m.bytes(&mut buf);
                t.get(member_hash(b), b).is_some()
            }
        }
    }

    /// Adds `m`; false when it was already a member. Converts the encoding as Redis does.
    pub fn insert(&mut self, m: &[u8], limits: &Limits) -> bool {
        self.insert_member(Member::Bytes(m), limits)
    }

    /// Adds `m` (possibly taken from another set); false when it was already a member.
    pub fn insert_member(&mut self, m: Member<'_>, limits: &Limits) -> bool {
        let mut buf = itoa::Buffer::new();
        match &mut self.repr {
            Repr::Ints(v) => {
                if let Some(i) = m.as_int() {
                    let Err(at) = v.binary_search(&i) else { return false };
                    v.insert(at, i);
                    if v.len() > limits.set_intset_entries.min(INTSET_HARD_MAX) {
                        self.convert_to_table();
                    }
                    return true;
                }
                let b = m.bytes(&mut buf);
                let widest = match (v.first(), v.last()) {
                    (Some(&lo), Some(&hi)) => digits(lo).max(digits(hi)),
                    _ => 0,
                };
                if v.len() < limits.set_entries && b.len() <= limits.set_value && widest <= limits.set_value {
                    self.convert_to_packed();
                } else {
                    self.convert_to_table();
                }
                self.push_new(b);
                true
            }
            Repr::Packed(p) => {
                let b = m.bytes(&mut buf);
                if p.find(b, 1).is_some() {
                    return false;
                }
                if p.len() >= limits.set_entries || b.len() > limits.set_value {
                    self.convert_to_table();
                }
                self.push_new(b);
                true
            }
            Repr::Table(t) => table_insert(t, m.bytes(&mut buf)),
        }
    }

    /// Appends a member known to be absent to a listpack or hashtable.
    fn push_new(&mut self, b: &[u8]) {
        match &mut self.repr {
            Repr::Packed(p) => p.push_back(b),
            Repr::Table(t) => t.insert_new(member_hash(b), Entry::new(b, Value::Bytes(b""), None)),
            // Callers convert away from the intset first.
            Repr::Ints(_) => {}
        }
    }

    /// Removes `m`; false when it was not a member. The encoding never changes.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        self.remove_member(Member::Bytes(m))
    }

    /// Removes `m` (possibly taken from another set); false when it was not a member.
    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match &mut self.repr {
            Repr::Ints(v) => match m.as_int().map(|i| v.binary_search(&i)) {
                Some(Ok(at)) => {
                    v.remove(at);
                    true
                }
                _ => false,
            },
            Repr::Packed(p) => match p.find(m.bytes(&mut itoa::Buffer::new()), 1) {
                Some(pos) => {
                    p.remove_at(pos);
                    true
                }
                None => false,
            },
            Repr::Table(t) => {
                let mut buf = itoa::Buffer::new();
                let b = m.bytes(&mut buf);
                t.remove(member_hash(b), b).is_some()
            }
        }
    }

    /// Iterates over the members: ascending for an intset, insertion order for a listpack,
    /// hash order for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Ints(v) => Iter::Ints(v.iter()),
            Repr::Packed(p) => Iter::Packed(p.iter()),
            Repr::Table(t) => Iter::Table(t, 0),
        }
    }

    /// A uniformly chosen member, or `None` when the set is empty.
    pub fn random(&self) -> Option<Member<'_>> {
        match &self.repr {
            Repr::Ints(v) if !v.is_empty() => Some(Member::Int(v[fastrand::usize(..v.len())])),
            Repr::Packed(p) if !p.is_empty() => p.get(fastrand::usize(..p.len())).map(Member::Bytes),
            Repr::Table(t) => table_fair_pos(t).and_then(|pos| t.at(pos)).map(|e| Member::Bytes(e.key())),
            _ => None,
        }
    }

    /// Calls `f` with `count` members chosen uniformly and independently (repeats allowed):
    /// SRANDMEMBER with a negative count. Nothing is allocated per pick, so a huge count only
    /// costs what `f` does with it.
    pub fn random_with_repeats(&self, count: u64, mut f: impl FnMut(Member<'_>)) {
        match &self.repr {
            Repr::Packed(p) if !p.is_empty() => {
                let all: Vec<&[u8]> = p.iter().collect();
                for _ in 0..count {
                    f(Member::Bytes(all[fastrand::usize(..all.len())]));
                }
            }
            _ if self.is_empty() => {}
            _ => {
                for _ in 0..count {
                    if let Some(m) = self.random() {
                        f(m);
                    }
                }
            }
        }
    }

    /// `count` distinct members chosen uniformly (all of them when `count` is at least the
    /// size): SRANDMEMBER with a positive count.
    pub fn random_distinct(&self, count: usize) -> Vec<Member<'_>> {
        let n = self.len();
        if count >= n {
            return self.iter().collect();
        }
        match &self.repr {
            // One pass of selection sampling (Knuth's algorithm S), as Redis does for listpacks.
            Repr::Packed(p) => {
                let mut out = Vec::with_capacity(count);
                let mut left = n;
                for m in p.iter() {
                    if out.len() == count {
                        break;
                    }
                    if fastrand::usize(..left) < count - out.len() {
                        out.push(Member::Bytes(m));
                    }
                    left -= 1;
                }
                out
            }
            // Close to the whole set: shuffle the first `count` places of a full copy.
            _ if count.saturating_mul(3) > n => {
                let mut all: Vec<Member<'_>> = self.iter().collect();
                for i in 0..count {
                    let j = fastrand::usize(i..all.len());
                    all.swap(i, j);
                }
                all.truncate(count);
                all
            }
            // Much smaller than the set: random picks until enough distinct ones.
            Repr::Ints(v) => {
                let mut seen = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let i = fastrand::usize(..n);
                    if seen.insert(i) {
                        out.push(Member::Int(v[i]));
                    }
                }
                out
            }
            Repr::Table(t) => {
                let mut seen = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let Some(pos) = table_fair_pos(t) else { break };
                    if seen.insert(pos) {
                        if let Some(e) = t.at(pos) {
                            out.push(Member::Bytes(e.key()));
                        }
                    }
                }
                out
            }
        }
    }

    /// Removes and returns a uniformly chosen member.
    pub fn pop_random(&mut self) -> Option<Vec<u8>> {
        match &mut self.repr {
            Repr::Ints(v) if !v.is_empty() => Some(v.remove(fastrand::usize(..v.len())).to_string().into_bytes()),
            Repr::Packed(p) if !p.is_empty() => {
                let pos = p.pos_of_index(fastrand::usize(..p.len()))?;
                let m = p.at(pos)?.to_vec();
                p.remove_at(pos);
                Some(m)
            }
            Repr::Table(t) => {
                let pos = table_fair_pos(t)?;
                t.remove_pos(pos).map(|e| e.key().to_vec())
            }
            _ => None,
        }
    }

    /// Removes and returns `count` distinct members chosen uniformly (SPOP with a count smaller
    /// than the set). Like Redis, when few members would remain, it picks the ones to keep
    /// instead, and they start over in a new set: an intset stays one, any other set restarts
    /// as a listpack (converting on as its members require).
    pub fn pop_many(&mut self, count: usize, limits: &Limits) -> Vec<Vec<u8>> {
        let n = self.len();
        if count >= n {
            let all = self.iter().map(Member::to_vec).collect();
            *self = Set::new();
            return all;
        }
        let remaining = n - count;
        if remaining.saturating_mul(5) > count {
            return (0..count).filter_map(|_| self.pop_random()).collect();
        }
        let mut keep = Set {
            repr: match self.repr {
                Repr::Ints(_) => Repr::Ints(Ints::default()),
                _ => Repr::Packed(Packed::new()),
            },
        };
        for _ in 0..remaining {
            if let Some(m) = self.pop_random() {
                keep.insert(&m, limits);
            }
        }
        let popped = self.iter().map(Member::to_vec).collect();
        *self = keep;
        popped
    }

    /// One SSCAN step from `cursor`: calls `f` with the members visited (at least `count` of
    /// them unless the end is reached) and returns the cursor to continue from, 0 at the end.
    /// Intsets and listpacks are small, so they hand out everything at once and return 0
    /// whatever the cursor, as Redis does. A hashtable's cursor is a position in hash order:
    /// every member present for a whole scan is returned at least once, however the table
    /// grows or shrinks in between.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
        match &self.repr {
            Repr::Table(t) => match t.scan(cursor << SCAN_SHIFT, count, |e| f(Member::Bytes(e.key()))) {
                ScanNext::At(pos) => pos >> SCAN_SHIFT,
                ScanNext::Done => 0,
            },
            _ => {
                self.iter().for_each(f);
                0
            }
        }
    }

    /// Turns a finished `*STORE` result into an intset when every member is an integer and
    /// there are few enough of them (SINTERSTORE's last step in Redis).
    pub fn compact_integers(&mut self, limits: &Limits) {
        if matches!(self.repr, Repr::Ints(_)) || self.len() > limits.set_intset_entries.min(INTSET_HARD_MAX) {
            return;
        }
        let ints: Option<Vec<i64>> = self.iter().map(Member::as_int).collect();
        if let Some(mut v) = ints {
            v.sort_unstable();
            self.repr = Repr::Ints(Ints(v.into_boxed_slice()));
        }
    }

    fn convert_to_table(&mut self) {
        if matches!(self.repr, Repr::Table(_)) {
            return;
        }
        let mut t = Table::new();
        let mut buf = itoa::Buffer::new();
        for m in self.iter() {
            let b = m.bytes(&mut buf);
            t.insert_new(member_hash(b), Entry::new(b, Value::Bytes(b""), None));
        }
        self.repr = Repr::Table(Box::new(t));
    }

    fn convert_to_packed(&mut self) {
        if let Repr::Ints(v) = &self.repr {
            let mut p = Packed::new();
            let mut buf = itoa::Buffer::new();
            for &i in v.iter() {
                p.push_back(buf.format(i).as_bytes());
            }
            self.repr = Repr::Packed(p);
        }
    }
}

impl Clone for Set {
    fn clone(&self) -> Self {
        let repr = match &self.repr {
            Repr::Ints(v) => Repr::Ints(v.clone()),
            Repr::Packed(p) => Repr::Packed(p.clone()),
            Repr::Table(t) => {
                let mut copy = Table::new();
                for e in t.iter() {
                    copy.insert_new(member_hash(e.key()), Entry::new(e.key(), Value::Bytes(b""), None));
                }
                Repr::Table(Box::new(copy))
            }
        };
        Set { repr }
    }
}

impl PartialEq for Set {
    /// Same members, whatever the encodings.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains_member(m))
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = itoa::Buffer::new();
        let mut s = f.debug_set();
        for m in self.iter() {
            s.entry(&String::from_utf8_lossy(m.bytes(&mut buf)));
        }
        s.finish()
    }
}

/// Iterator over a set's members (see [`Set::iter`]).
pub enum Iter<'a> {
    /// Over an intset.
    Ints(std::slice::Iter<'a, i64>),
    /// Over a listpack.
    Packed(crate::types::packed::PackedIter<'a>),
    /// Over a hashtable: the table and the next slot position.
    Table(&'a Table, usize),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    #[inline]
    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Ints(it) => it.next().map(|&i| Member::Int(i)),
            Iter::Packed(it) => it.next().map(Member::Bytes),
            Iter::Table(t, pos) => {
                while *pos < t.slot_count() {
                    let here = *pos;
                    *pos += 1;
                    if let Some(e) = t.at(here) {
                        return Some(Member::Bytes(e.key()));
                    }
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
