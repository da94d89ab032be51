//! The sorted set type, in Redis 7.2's two encodings, private to it:
//!
//! - **listpack** ([`listpack`]): member/score pairs sorted by (score, member) in one packed
//!   buffer, for up to `zset-max-listpack-entries` members of at most
//!   `zset-max-listpack-value` bytes;
//! - **skiplist** (named so for `OBJECT ENCODING`; [`tree`]): an order-statistic B+tree of
//!   (score, member) pairs, giving O(log n) insert, delete, rank, select-by-rank and range
//!   bounds, beside an [`index`] of which leaf holds each member (one 8-byte slot a member,
//!   no allocation per member: O(1) ZSCORE, SCAN-safe ZSCAN cursors). Members are stored
//!   once, in the tree's leaves; a million short members take about 60 bytes each, half of
//!   what Redis's skiplist and dict take.
//!
//! Ordering is Redis's: scores compared as doubles (`-inf` and `+inf` allowed, `-0` equal to
//! `0`, NaN never stored), ties broken by member bytes. Mutating methods take the [`Limits`]
//! and convert exactly where Redis 7.2 does (t_zset.c): to the tree when a new member would
//! make the set longer than `zset_entries` or is longer than `zset_value` bytes, or when ZADD
//! brings more pairs than `zset_entries` at once. A set never converts back; the results of
//! ZRANGESTORE and Z*STORE start in the encoding their size calls for ([`ZSet::from_pairs`]).

mod index;
mod listpack;
mod range;
mod tree;

#[cfg(test)]
mod tests;

use std::ops::Range;

use self::index::{member_hash, Index};
use self::listpack::{ListPack, Pairs};
use self::tree::{Cursor, Event, Tree};
use crate::types::Limits;

pub use self::range::{LexBound, LexRange, ScoreRange};

/// A sorted set value.
#[derive(Clone)]
pub struct ZSet {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// Sorted pairs in one buffer.
    Packed(ListPack),
    /// Tree plus member index.
    Tree(Box<Sorted>),
}

/// The "skiplist" encoding: ordered pairs and the index of their leaves.
#[derive(Clone, Default)]
struct Sorted {
    tree: Tree,
    index: Index,
}

/// Keeps `index` in step with the tree's moves.
#[inline]
fn follow(index: &mut Index, ev: Event<'_>) {
    if let Event::Moved(m, from, to) = ev {
        index.relocate(member_hash(m), from, to);
    }
}

impl Sorted {
    /// Where `member` is, with its score.
    #[inline]
    fn find(&self, member: &[u8]) -> Option<(Cursor, f64)> {
        let h = member_hash(member);
        let c = self.index.candidates(h).find_map(|leaf| self.tree.find_in_leaf(leaf, member, h as u8))?;
        Some((c, self.tree.at(c).1))
    }

    #[inline]
    fn score(&self, m: &[u8]) -> Option<f64> {
        self.find(m).map(|(_, s)| s)
    }

    fn insert_new(&mut self, m: &[u8], score: f64) {
        let h = member_hash(m);
        let Sorted { tree, index } = self;
        tree.insert(score, m, h as u8, &mut |ev| match ev {
            Event::Placed(leaf) => index.insert(h, leaf),
            ev => follow(index, ev),
        });
    }

    fn remove_scored(&mut self, m: &[u8], score: f64) {
        let Sorted { tree, index } = self;
        if let Some(leaf) = tree.remove(score, m, &mut |ev| follow(index, ev)) {
            index.remove(member_hash(m), leaf);
        }
    }

    fn set_score(&mut self, m: &[u8], old: f64, new: f64) {
        self.remove_scored(m, old);
        self.insert_new(m, new);
    }

    fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let (_, score) = self.find(m)?;
        self.remove_scored(m, score);
        Some(score)
    }

    fn remove_at(&mut self, rank: usize) -> Option<(Vec<u8>, f64)> {
        let Sorted { tree, index } = self;
        let (score, m, leaf) = tree.remove_at(rank, &mut |ev| follow(index, ev))?;
        index.remove(member_hash(&m), leaf);
        Some((m, score))
    }
}

/// ZADD's conditions (`NX`, `XX`, `GT`, `LT`) and `INCR`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Only update when the new score is greater.
    pub gt: bool,
    /// Only update when the new score is less.
    pub lt: bool,
    /// Add the score to the current one (ZINCRBY).
    pub incr: bool,
}

/// What [`ZSet::add`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddResult {
    /// A new member was added with this score.
    Added(f64),
    /// An existing member's score changed to this.
    Updated(f64),
    /// The member exists and already had this score.
    Unchanged(f64),
    /// A condition (NX, XX, GT, LT) skipped the member.
    Skipped,
    /// The score (or the incremented score) is not a number; nothing changed.
    NaN,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl ZSet {
    /// An empty sorted set in the listpack encoding.
    pub fn new() -> Self {
        ZSet { repr: Repr::Packed(ListPack::new()) }
    }

    /// An empty sorted set for about `size_hint` members, the first `member_len` bytes long,
    /// in the encoding Redis's `zsetTypeCreate` picks.
    pub fn with_hint(size_hint: usize, member_len: usize, limits: &Limits) -> Self {
        if size_hint <= limits.zset_entries && member_len <= limits.zset_value {
            ZSet::new()
        } else {
            ZSet { repr: Repr::Tree(Box::default()) }
        }
    }

    /// A sorted set of `pairs` (distinct members, any order), encoded as Redis encodes the
    /// result of ZRANGESTORE or ZUNIONSTORE: listpack when it has at most `zset_entries`
    /// members, none longer than `zset_value` bytes.
    pub fn from_pairs(mut pairs: Vec<(Vec<u8>, f64)>, limits: &Limits) -> Self {
        pairs.sort_by(|a, b| tree::cmp_key(a.1, &a.0, b.1, &b.0));
        let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        if pairs.len() <= limits.zset_entries && longest <= limits.zset_value {
            let mut lp = ListPack::new();
            for (m, s) in &pairs {
                lp.push_sorted(m, *s);
            }
            ZSet { repr: Repr::Packed(lp) }
        } else {
            let mut s = Sorted::default();
            for (m, score) in &pairs {
                s.insert_new(m, *score);
            }
            ZSet { repr: Repr::Tree(Box::new(s)) }
        }
    }

    /// Before adding `size_hint` pairs (ZADD's count), converts to the tree at once when the
    /// count alone exceeds `zset_entries`, as Redis's `zsetTypeMaybeConvert` does.
    pub fn prepare_for(&mut self, size_hint: usize, limits: &Limits) {
        if matches!(self.repr, Repr::Packed(_)) && size_hint > limits.zset_entries {
            self.convert_to_tree();
        }
    }

    /// Number of members.
    #[inline]
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(lp) => lp.len(),
            Repr::Tree(s) => s.tree.len(),
        }
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING name of the current representation.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Tree(_) => "skiplist",
        }
    }

    /// Bytes of heap memory held (O(n) for the skiplist encoding).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(lp) => lp.heap_size(),
            Repr::Tree(s) => s.tree.heap_size() + s.index.heap_size(),
        }
    }

    /// The score of `member`.
    #[inline]
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Packed(lp) => lp.score(member),
            Repr::Tree(s) => s.score(member),
        }
    }

    /// The 0-based ascending rank of `member`, with its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Packed(lp) => lp.rank(member),
            Repr::Tree(s) => {
                let score = s.score(member)?;
                Some((s.tree.rank_of(score, member), score))
            }
        }
    }

    /// The pair at ascending `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Packed(lp) => lp.get(rank),
            Repr::Tree(s) => s.tree.locate(rank).map(|c| s.tree.at(c)),
        }
    }

    /// Adds or updates `member` as ZADD does with `flags` (Redis's `zsetAdd`), converting to
    /// the tree when a new member does not fit the listpack limits.
    pub fn add(&mut self, member: &[u8], score: f64, flags: AddFlags, limits: &Limits) -> AddResult {
        if score.is_nan() {
            return AddResult::NaN;
        }
        match self.score(member) {
            Some(cur) => {
                if flags.nx {
                    return AddResult::Skipped;
                }
                let new = if flags.incr { score + cur } else { score };
                if new.is_nan() {
                    return AddResult::NaN;
                }
                if (flags.lt && new >= cur) || (flags.gt && new <= cur) {
                    return AddResult::Skipped;
                }
                if new == cur {
                    return AddResult::Unchanged(new);
                }
                match &mut self.repr {
                    Repr::Packed(lp) => {
                        lp.remove(member);
                        lp.insert(member, new);
                    }
                    Repr::Tree(s) => s.set_score(member, cur, new),
                }
                AddResult::Updated(new)
            }
            None if flags.xx => AddResult::Skipped,
            None => {
                self.insert_new(member, score, limits);
                AddResult::Added(score)
            }
        }
    }

    /// Sets `member`'s score (plain ZADD); true when the member is new.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: &Limits) -> bool {
        matches!(self.add(member, score, AddFlags::default(), limits), AddResult::Added(_))
    }

    fn insert_new(&mut self, member: &[u8], score: f64, limits: &Limits) {
        if let Repr::Packed(lp) = &self.repr {
            if lp.len() + 1 > limits.zset_entries || member.len() > limits.zset_value {
                self.convert_to_tree();
            }
        }
        match &mut self.repr {
            Repr::Packed(lp) => lp.insert(member, score),
            Repr::Tree(s) => s.insert_new(member, score),
        }
    }

    /// Removes `member`; false when absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Packed(lp) => lp.remove(member).is_some(),
            Repr::Tree(s) => s.remove(member).is_some(),
        }
    }

    /// Removes the members at ascending ranks `ranks`, returning how many were removed.
    pub fn remove_ranks(&mut self, ranks: Range<usize>) -> usize {
        let hi = ranks.end.min(self.len());
        if ranks.start >= hi {
            return 0;
        }
        let n = hi - ranks.start;
        match &mut self.repr {
            Repr::Packed(lp) => lp.remove_ranks(ranks.start, hi),
            Repr::Tree(s) => {
                for _ in 0..n {
                    s.remove_at(ranks.start);
                }
            }
        }
        n
    }

    /// Removes and returns the lowest (`max` false) or highest pair.
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let rank = if max { len - 1 } else { 0 };
        match &mut self.repr {
            Repr::Packed(lp) => {
                let (m, s) = lp.get(rank).map(|(m, s)| (m.to_vec(), s))?;
                lp.remove_ranks(rank, rank + 1);
                Some((m, s))
            }
            Repr::Tree(s) => s.remove_at(rank),
        }
    }

    /// Number of leading pairs for which `pred(score, member)` holds; `pred` must hold for a
    /// prefix of the order.
    fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Packed(lp) => lp.count_while(pred),
            Repr::Tree(s) => s.tree.count_while(pred),
        }
    }

    /// The ascending ranks of the members whose scores are in `r`.
    pub fn score_ranks(&self, r: &ScoreRange) -> Range<usize> {
        if r.is_empty() {
            return 0..0;
        }
        let lo = self.count_while(|s, _| !r.above_min(s));
        let hi = self.count_while(|s, _| r.below_max(s));
        lo..hi.max(lo)
    }

    /// The ascending ranks of the members in the lexicographic range `r` (assuming, as Redis
    /// does, that every member has the same score).
    pub fn lex_ranks(&self, r: &LexRange<'_>) -> Range<usize> {
        if r.is_empty() {
            return 0..0;
        }
        let lo = self.count_while(|_, m| !r.above_min(m));
        let hi = self.count_while(|_, m| r.below_max(m));
        lo..hi.max(lo)
    }

    /// The pairs in ascending order.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0..self.len(), false)
    }

    /// The pairs at ascending ranks `ranks`, lowest first, or highest first when `reverse`.
    pub fn range(&self, ranks: Range<usize>, reverse: bool) -> Iter<'_> {
        let end = ranks.end.min(self.len());
        let start = ranks.start.min(end);
        let left = end - start;
        let inner = match &self.repr {
            Repr::Packed(lp) if !reverse => {
                let mut it = lp.iter();
                if start > 0 {
                    it.nth(start - 1);
                }
                IterRepr::Packed(it)
            }
            Repr::Packed(lp) => {
                let mut v: Vec<(&[u8], f64)> = lp.iter().skip(start).take(left).collect();
                v.reverse();
                IterRepr::Buffered(v.into_iter())
            }
            Repr::Tree(s) => {
                let at = if reverse { end.checked_sub(1) } else { Some(start) };
                IterRepr::Tree { tree: &s.tree, cur: at.and_then(|r| s.tree.locate(r)), reverse }
            }
        };
        Iter { inner, left }
    }

    /// A member chosen uniformly, with its score.
    pub fn random(&self) -> Option<(&[u8], f64)> {
        match self.len() {
            0 => None,
            n => self.get(fastrand::usize(..n)),
        }
    }

    /// Calls `f` with `count` pairs chosen uniformly and independently (repeats allowed):
    /// ZRANDMEMBER with a negative count. Stops early when `f` returns false.
    pub fn random_with_repeats(&self, count: u64, mut f: impl FnMut(&[u8], f64) -> bool) {
        match &self.repr {
            Repr::Packed(lp) if lp.len() > 0 => {
                let all: Vec<(&[u8], f64)> = lp.iter().collect();
                for _ in 0..count {
                    let (m, s) = all[fastrand::usize(..all.len())];
                    if !f(m, s) {
                        return;
                    }
                }
            }
            Repr::Tree(t) if t.tree.len() > 0 => {
                for _ in 0..count {
                    if let Some(c) = t.tree.locate(fastrand::usize(..t.tree.len())) {
                        let (m, s) = t.tree.at(c);
                        if !f(m, s) {
                            return;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// `count` distinct pairs chosen uniformly (all of them, in order, when `count` is at
    /// least the size): ZRANDMEMBER with a positive count.
    pub fn random_distinct(&self, count: usize) -> Vec<(&[u8], f64)> {
        let n = self.len();
        if count >= n {
            return self.iter().collect();
        }
        match &self.repr {
            // One pass of selection sampling (Knuth's algorithm S), in set order.
            Repr::Packed(lp) => {
                let mut out = Vec::with_capacity(count);
                let mut left = n;
                for pair in lp.iter() {
                    if out.len() == count {
                        break;
                    }
                    if fastrand::usize(..left) < count - out.len() {
                        out.push(pair);
                    }
                    left -= 1;
                }
                out
            }
            // Close to the whole set: shuffle the first `count` places of all ranks.
            Repr::Tree(_) if count.saturating_mul(3) > n => {
                let mut ranks: Vec<usize> = (0..n).collect();
                for i in 0..count {
                    let j = fastrand::usize(i..n);
                    ranks.swap(i, j);
                }
                ranks[..count].iter().filter_map(|&r| self.get(r)).collect()
            }
            Repr::Tree(_) => {
                let mut seen = std::collections::HashSet::with_capacity(count);
                let mut out = Vec::with_capacity(count);
                while out.len() < count {
                    let r = fastrand::usize(..n);
                    if seen.insert(r) {
                        match self.get(r) {
                            Some(p) => out.push(p),
                            None => break,
                        }
                    }
                }
                out
            }
        }
    }

    /// One ZSCAN step from `cursor`: calls `f` with the pairs visited (at least `count` of
    /// them unless the end is reached) and returns the cursor to continue from, 0 at the end.
    /// A listpack hands out everything at once, as Redis does. The skiplist encoding's cursor
    /// is a position in the member index's hash order (below 2^32): every member present for
    /// a whole scan is returned at least once, however the index grows or shrinks in between.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Packed(lp) => {
                lp.iter().for_each(|(m, s)| f(m, s));
                0
            }
            Repr::Tree(s) => {
                let mut slots = Vec::new();
                let next = s.index.scan(cursor, count, |h, leaf| slots.push((h, leaf)));
                // Members whose hashes collide share a slot value: visit each leaf once per
                // hash and hand out every member of it with that hash.
                slots.sort_unstable();
                slots.dedup();
                for (h, leaf) in slots {
                    for (m, score) in s.tree.leaf_pairs(leaf) {
                        if member_hash(m) == h {
                            f(m, score);
                        }
                    }
                }
                next.unwrap_or(0)
            }
        }
    }

    fn convert_to_tree(&mut self) {
        if let Repr::Packed(lp) = &self.repr {
            let mut s = Sorted::default();
            for (m, score) in lp.iter() {
                s.insert_new(m, score);
            }
            self.repr = Repr::Tree(Box::new(s));
        }
    }
}

/// Iterator over pairs of a [`ZSet`] (see [`ZSet::range`]); knows its exact length.
pub struct Iter<'a> {
    inner: IterRepr<'a>,
    left: usize,
}

enum IterRepr<'a> {
    Packed(Pairs<'a>),
    Buffered(std::vec::IntoIter<(&'a [u8], f64)>),
    Tree { tree: &'a Tree, cur: Option<Cursor>, reverse: bool },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    #[inline]
    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        match &mut self.inner {
            IterRepr::Packed(it) => it.next(),
            IterRepr::Buffered(it) => it.next(),
            IterRepr::Tree { tree, cur, reverse } => {
                let c = cur.as_mut()?;
                let item = tree.at(*c);
                let moved = if *reverse { tree.step_back(c) } else { tree.step_forward(c) };
                if !moved {
                    *cur = None;
                }
                Some(item)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl PartialEq for ZSet {
    /// Same pairs, whatever the encodings.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        for (m, s) in self.iter() {
            l.entry(&(String::from_utf8_lossy(m), s));
        }
        l.finish()
    }
}
