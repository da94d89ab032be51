//! The list type, in Redis 7.2's two encodings, private to it:
//!
//! - **listpack**: the whole list in one packed node ([`node`]), while it stays under
//!   `list-max-listpack-size` (an entry count when positive, a byte size when negative: -2,
//!   the default, is 8 KiB).
//! - **quicklist**: a deque of such nodes ([`quick`]), each filled up to that limit, for
//!   longer lists. Pushes and pops at both ends are O(1) amortized; index access skips whole
//!   nodes by their counts.
//!
//! Every mutating method takes the [`Limits`] in force and converts the list itself: to a
//! quicklist before it would outgrow one node, and back to a listpack when a shrinking list
//! fits in one node at half the limit (so a list at the boundary does not flip on every
//! change). The checks follow Redis's `listTypeTryConversion*`, including its quirks: LSET and
//! LINSERT count the new element as an addition before looking, so they may convert a full
//! listpack even when they replace an element or find no pivot.

mod node;
mod quick;
#[cfg(test)]
mod tests;

use node::Node;
use quick::{Fill, Quick};

use super::Limits;

/// An end of a list: `Left` is the head (index 0), `Right` the tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head.
    Left,
    /// The tail.
    Right,
}

/// A list value.
#[derive(Clone)]
pub struct List {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// One node: Redis's "listpack" encoding.
    Packed(Node),
    /// Many nodes: Redis's "quicklist" encoding.
    Quick(Box<Quick>),
}

impl Default for List {
    fn default() -> Self {
        List::new()
    }
}

impl List {
    /// An empty list (listpack-encoded).
    pub fn new() -> List {
        List { repr: Repr::Packed(Node::default()) }
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed(n) => n.len(),
            Repr::Quick(q) => q.len,
        }
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING name of the current representation.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Packed(_) => "listpack",
            Repr::Quick(_) => "quicklist",
        }
    }

    /// Bytes of heap memory held.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Packed(n) => n.heap_size(),
            Repr::Quick(q) => q.heap_size(),
        }
    }

    /// Node `i` (the listpack is node 0).
    #[inline]
    fn node(&self, i: usize) -> Option<&Node> {
        match &self.repr {
            Repr::Packed(n) => (i == 0).then_some(n),
            Repr::Quick(q) => q.nodes.get(i),
        }
    }

    /// The node holding element `index` and its offset there.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        match &self.repr {
            Repr::Packed(n) => (index < n.len()).then_some((0, index)),
            Repr::Quick(q) => q.locate(index),
        }
    }

    /// Turns a listpack that would outgrow its node with `add_count` more elements of
    /// `add_bytes` bytes in total into a quicklist (Redis: growing conversion).
    fn grow(&mut self, add_bytes: usize, add_count: usize, fill: Fill) {
        if let Repr::Packed(n) = &mut self.repr {
            if fill.exceeds(n.lp_size().saturating_add(add_bytes), n.len() + add_count) {
                let n = std::mem::take(n);
                self.repr = Repr::Quick(Box::new(Quick::from_node(n)));
            }
        }
    }

    /// Turns a quicklist that now fits in one node at half the limit back into a listpack
    /// (Redis: shrinking conversion).
    fn shrink(&mut self, fill: Fill) {
        if let Repr::Quick(q) = &mut self.repr {
            let single = q.nodes.len() == 1 && q.nodes.front().is_some_and(|n| fill.fits_shrunk(n));
            if single || q.nodes.is_empty() {
                let n = q.nodes.pop_front().unwrap_or_default();
                self.repr = Repr::Packed(n);
            }
        }
    }

    /// Adds `v` at `end`.
    pub fn push(&mut self, end: End, v: &[u8], limits: &Limits) {
        self.extend(end, std::iter::once(v), limits);
    }

    /// Adds each of `vals` at `end`, in order (so pushing `a b c` at the left gives `c b a`).
    /// As in Redis, whether a listpack must become a quicklist is decided once, from the total
    /// size of the new elements, before any is added.
    pub fn extend<'v, I>(&mut self, end: End, vals: I, limits: &Limits)
    where
        I: IntoIterator<Item = &'v [u8]> + Clone,
    {
        let fill = Fill::new(limits.list_size);
        let (bytes, count, encoded) = vals.clone().into_iter().fold((0usize, 0usize, 0usize), |(b, c, e), v| {
            (b.saturating_add(v.len()), c + 1, e.saturating_add(node::entry_size(v.len())))
        });
        self.grow(bytes, count, fill);
        match &mut self.repr {
            Repr::Packed(n) => {
                if count > 1 {
                    n.reserve_exact(end == End::Left, encoded);
                }
                match end {
                    End::Left => vals.into_iter().for_each(|v| n.push_front(v)),
                    End::Right => vals.into_iter().for_each(|v| n.push_back(v)),
                }
            }
            Repr::Quick(q) => vals.into_iter().for_each(|v| q.push(end, v, fill)),
        }
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End, limits: &Limits) -> Option<Vec<u8>> {
        let mut out = None;
        self.pop_each(end, 1, limits, |v| out = Some(v.to_vec()));
        out
    }

    /// Removes up to `n` elements at `end`, handing each to `f` before it goes (from the end
    /// inwards, so RPOP order at the right). Returns how many were removed.
    pub fn pop_each(&mut self, end: End, n: usize, limits: &Limits, mut f: impl FnMut(&[u8])) -> usize {
        let done = match &mut self.repr {
            Repr::Packed(node) => {
                let k = n.min(node.len());
                match end {
                    End::Left => {
                        node.cursor().take(k).for_each(|(_, v)| f(v));
                        node.remove_front(k);
                    }
                    End::Right => {
                        let mut pos = node.end();
                        for _ in 0..k {
                            let (v, start) = node.read_bwd(pos);
                            f(v);
                            pos = start;
                        }
                        node.remove_back(k);
                    }
                }
                k
            }
            Repr::Quick(q) => q.pop_each(end, n, &mut f),
        };
        if done > 0 {
            self.shrink(Fill::new(limits.list_size));
        }
        done
    }

    /// The index `i` refers to (negative: from the tail), if it is in the list.
    #[inline]
    pub fn index(&self, i: i64) -> Option<usize> {
        let len = self.len();
        let idx = if i < 0 { (len as i64).checked_add(i)? } else { i };
        usize::try_from(idx).ok().filter(|&x| x < len)
    }

    /// The element at index `i` (negative: from the tail).
    pub fn get(&self, i: i64) -> Option<&[u8]> {
        let (ni, off) = self.locate(self.index(i)?)?;
        self.node(ni)?.get(off)
    }

    /// The first element.
    pub fn first(&self) -> Option<&[u8]> {
        self.node(0)?.first()
    }

    /// Iterates over the elements, head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_at(0, false)
    }

    /// Iterates from element `index` towards the tail, or towards the head when `rev`.
    pub fn iter_at(&self, index: usize, rev: bool) -> Iter<'_> {
        let empty = Iter { list: self, node: 0, pos: 0, left: 0, rev };
        let Some((ni, off)) = self.locate(index) else { return empty };
        let Some(n) = self.node(ni) else { return empty };
        if rev {
            Iter { list: self, node: ni, pos: n.pos_of(off + 1), left: index + 1, rev }
        } else {
            Iter { list: self, node: ni, pos: n.pos_of(off), left: self.len() - index, rev }
        }
    }

    /// Redis's range normalization (LRANGE, LTRIM): negative indexes count from the tail,
    /// `stop` is inclusive and clamped. Returns (first index, count), or None when empty.
    pub fn range(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        let len = self.len() as i64;
        let start = if start < 0 { (start + len).max(0) } else { start };
        let stop = if stop < 0 { stop + len } else { stop };
        if start > stop || start >= len {
            return None;
        }
        let stop = stop.min(len - 1);
        Some((start as usize, (stop - start + 1) as usize))
    }

    /// Replaces the element at index `i` (negative: from the tail); false when out of range.
    pub fn set(&mut self, i: i64, v: &[u8], limits: &Limits) -> bool {
        let fill = Fill::new(limits.list_size);
        // Redis checks the new element as an addition first, even though it replaces one.
        self.grow(v.len(), 1, fill);
        let Some(idx) = self.index(i) else { return false };
        let done = match &mut self.repr {
            Repr::Packed(n) => {
                let pos = n.pos_of(idx);
                n.replace_at(pos, v);
                true
            }
            Repr::Quick(q) => q.replace(idx, v),
        };
        self.shrink(fill);
        done
    }

    /// Inserts `v` before (or `after`) the first element equal to `pivot` (LINSERT): the new
    /// length, or None when there is no such element.
    pub fn insert(&mut self, pivot: &[u8], v: &[u8], after: bool, limits: &Limits) -> Option<usize> {
        let fill = Fill::new(limits.list_size);
        // As Redis: assume the insertion happens and convert before looking for the pivot.
        self.grow(v.len(), 1, fill);
        match &mut self.repr {
            Repr::Packed(n) => {
                let (pos, _) = n.cursor().find(|(_, e)| *e == pivot)?;
                let at = if after { n.read_fwd(pos).1 } else { pos };
                n.insert_at(at, v);
            }
            Repr::Quick(q) => {
                let (ni, pos, off) = q.find(pivot)?;
                q.insert(ni, pos, off, after, v, fill);
            }
        }
        Some(self.len())
    }

    /// Removes elements equal to `v` (LREM): the first `count` from the head when `count` is
    /// positive, the last `-count` from the tail when negative, all when zero. Returns how
    /// many were removed.
    pub fn remove(&mut self, v: &[u8], count: i64, limits: &Limits) -> usize {
        let limit = if count == 0 { usize::MAX } else { usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX) };
        let rev = count < 0;
        let removed = match &mut self.repr {
            Repr::Packed(n) => n.remove_matching(v, limit, rev),
            Repr::Quick(q) => q.remove_matching(v, limit, rev),
        };
        if removed > 0 {
            self.shrink(Fill::new(limits.list_size));
        }
        removed
    }

    /// Removes `count` elements starting at index `start` (clamped to the list).
    pub fn remove_range(&mut self, start: usize, count: usize, limits: &Limits) {
        if count == 0 {
            return;
        }
        match &mut self.repr {
            Repr::Packed(n) => n.remove_range(start, count),
            Repr::Quick(q) => q.remove_range(start, count),
        }
        self.shrink(Fill::new(limits.list_size));
    }

    /// Keeps only the elements from `start` to `stop` (LTRIM, with its index rules). Returns
    /// how many elements were removed.
    pub fn trim(&mut self, start: i64, stop: i64, limits: &Limits) -> usize {
        let len = self.len();
        let (ltrim, rtrim) = match self.range(start, stop) {
            None => (len, 0),
            Some((first, count)) => (first, len - first - count),
        };
        self.remove_range(len - rtrim, rtrim, limits);
        self.remove_range(0, ltrim, limits);
        self.shrink(Fill::new(limits.list_size));
        ltrim + rtrim
    }
}

impl PartialEq for List {
    /// Lists are equal when they hold the same elements, whatever their encodings.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(String::from_utf8_lossy)).finish()
    }
}

/// Iterator over a list's elements from some index, in either direction.
pub struct Iter<'a> {
    list: &'a List,
    node: usize,
    /// Forward: where the next element starts; reverse: where it ends.
    pos: usize,
    left: usize,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        let mut n = self.list.node(self.node)?;
        let v = if self.rev {
            while self.pos <= n.start() {
                self.node = self.node.checked_sub(1)?;
                n = self.list.node(self.node)?;
                self.pos = n.end();
            }
            let (v, start) = n.read_bwd(self.pos);
            self.pos = start;
            v
        } else {
            while self.pos >= n.end() {
                self.node += 1;
                n = self.list.node(self.node)?;
                self.pos = n.start();
            }
            let (v, next) = n.read_fwd(self.pos);
            self.pos = next;
            v
        };
        self.left -= 1;
        Some(v)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Iter<'_> {}
