//! The representation of a list too big for one node (Redis's "quicklist"): a deque of packed
//! nodes, each filled up to the `list-max-listpack-size` limit ([`Fill`]).
//!
//! Pushes and pops at either end touch only the end node (a new node is started when it is
//! full, an emptied one dropped), index access skips whole nodes by their counts, and an
//! insertion into a full node splits it and merges the pieces with their neighbours when
//! they fit, as Redis does, so the node layout (and with it the moment a shrinking list turns
//! back into a listpack) follows Redis's.

use std::collections::VecDeque;

use super::node::{Node, LP_OVERHEAD};
use super::End;

/// Largest node, in bytes, when the limit is a count of entries (Redis's `SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Node sizes for `list-max-listpack-size` -1 to -5.
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Bytes assumed per element beyond its data when deciding whether it fits a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

/// The node limit from `list-max-listpack-size`: a byte size (negative settings) or an entry
/// count (positive ones, with a byte ceiling for safety).
#[derive(Clone, Copy, Debug)]
pub(super) struct Fill {
    bytes: usize,
    count: usize,
}

impl Fill {
    /// The limit for a `list-max-listpack-size` setting (0 means 1; below -5 means -5).
    pub(super) fn new(list_size: i64) -> Fill {
        if list_size >= 0 {
            let count = usize::try_from(list_size).unwrap_or(usize::MAX).max(1);
            Fill { bytes: usize::MAX, count }
        } else {
            let level = usize::try_from(-(list_size + 1)).unwrap_or(usize::MAX).min(SIZE_LEVELS.len() - 1);
            Fill { bytes: SIZE_LEVELS[level], count: usize::MAX }
        }
    }

    /// True when a node of `size` bytes (listpack measure) and `count` entries is too big.
    pub(super) fn exceeds(self, size: usize, count: usize) -> bool {
        if self.bytes != usize::MAX {
            size > self.bytes
        } else {
            size > SIZE_SAFETY_LIMIT || count > self.count
        }
    }

    /// True when an element of `len` bytes may be added to `n`.
    fn allow_insert(self, n: &Node, len: usize) -> bool {
        !self.exceeds(n.lp_size() + len + SIZE_ESTIMATE_OVERHEAD, n.len() + 1)
    }

    /// True when `a` and `b` fit in one node.
    fn allow_merge(self, a: &Node, b: &Node) -> bool {
        !self.exceeds(a.lp_size() + b.lp_size() - LP_OVERHEAD, a.len() + b.len())
    }

    /// True when a list that is shrinking and now fits in `n` alone should become a listpack:
    /// it must be under half the limit, so a list hovering at the limit does not flip between
    /// the two representations on every change.
    pub(super) fn fits_shrunk(self, n: &Node) -> bool {
        n.lp_size() <= self.bytes / 2 && n.len() <= self.count / 2
    }
}

/// A deque of packed nodes, none of them empty.
#[derive(Clone, Default)]
pub(super) struct Quick {
    /// The nodes, head first.
    pub(super) nodes: VecDeque<Node>,
    /// Total number of elements.
    pub(super) len: usize,
}

impl Quick {
    /// A quicklist whose only node is `n` (no node when `n` is empty).
    pub(super) fn from_node(n: Node) -> Quick {
        let len = n.len();
        let mut nodes = VecDeque::new();
        if len > 0 {
            nodes.push_back(n);
        }
        Quick { nodes, len }
    }

    /// Bytes of heap memory held.
    pub(super) fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.nodes.iter().map(Node::heap_size).sum::<usize>()
    }

    /// The node holding element `index` and the element's offset in it.
    pub(super) fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        if index < self.len / 2 {
            let mut i = index;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.len() {
                    return Some((ni, i));
                }
                i -= n.len();
            }
        } else {
            // Counted from the tail: 1 is the last element.
            let mut rem = self.len - index;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if rem <= n.len() {
                    return Some((ni, n.len() - rem));
                }
                rem -= n.len();
            }
        }
        None
    }

    /// Adds `v` at one end.
    pub(super) fn push(&mut self, end: End, v: &[u8], fill: Fill) {
        let edge = match end {
            End::Left => self.nodes.front_mut(),
            End::Right => self.nodes.back_mut(),
        };
        match edge {
            Some(n) if fill.allow_insert(n, v.len()) => match end {
                End::Left => n.push_front(v),
                End::Right => n.push_back(v),
            },
            other => {
                // The edge node is full and will not grow again soon: give back its slack.
                if let Some(n) = other {
                    n.seal();
                }
                match end {
                    End::Left => self.nodes.push_front(Node::with(v)),
                    End::Right => self.nodes.push_back(Node::with(v)),
                }
            }
        }
        self.len += 1;
    }

    /// Removes up to `n` elements from one end, handing each to `f` first (from the end
    /// inwards). Returns how many were removed.
    pub(super) fn pop_each(&mut self, end: End, n: usize, f: &mut impl FnMut(&[u8])) -> usize {
        let mut done = 0;
        while done < n {
            let edge = match end {
                End::Left => self.nodes.front_mut(),
                End::Right => self.nodes.back_mut(),
            };
            let Some(node) = edge else { break };
            let k = (n - done).min(node.len());
            let whole = k == node.len();
            match end {
                End::Left => {
                    for (_, v) in node.cursor().take(k) {
                        f(v);
                    }
                    if !whole {
                        node.remove_front(k);
                    }
                }
                End::Right => {
                    let mut pos = node.end();
                    for _ in 0..k {
                        let (v, start) = node.read_bwd(pos);
                        f(v);
                        pos = start;
                    }
                    if !whole {
                        node.remove_back(k);
                    }
                }
            }
            if whole {
                match end {
                    End::Left => self.nodes.pop_front(),
                    End::Right => self.nodes.pop_back(),
                };
            }
            done += k;
        }
        self.len -= done;
        done
    }

    /// Replaces element `index` with `v` (in place, as Redis does, even past the limit).
    pub(super) fn replace(&mut self, index: usize, v: &[u8]) -> bool {
        let Some((ni, off)) = self.locate(index) else { return false };
        let Some(node) = self.nodes.get_mut(ni) else { return false };
        let pos = node.pos_of(off);
        node.replace_at(pos, v);
        true
    }

    /// The first element equal to `v`: its node, position and offset in the node.
    pub(super) fn find(&self, v: &[u8]) -> Option<(usize, usize, usize)> {
        for (ni, n) in self.nodes.iter().enumerate() {
            if let Some((off, (pos, _))) = n.cursor().enumerate().find(|(_, (_, e))| *e == v) {
                return Some((ni, pos, off));
            }
        }
        None
    }

    /// Inserts `v` before or after the element at (`ni`, `pos`, `off`): into that node when it
    /// has room, else into the neighbour on that side, else into a new node, splitting the
    /// node when the element is in its middle.
    pub(super) fn insert(&mut self, ni: usize, pos: usize, off: usize, after: bool, v: &[u8], fill: Fill) {
        let Some(node) = self.nodes.get(ni) else { return };
        let full = !fill.allow_insert(node, v.len());
        let at_tail = after && off + 1 == node.len();
        let at_head = !after && off == 0;
        let avail_next = at_tail && self.nodes.get(ni + 1).is_some_and(|n| fill.allow_insert(n, v.len()));
        let avail_prev = at_head && ni > 0 && self.nodes.get(ni - 1).is_some_and(|n| fill.allow_insert(n, v.len()));
        self.len += 1;
        if !full {
            if let Some(node) = self.nodes.get_mut(ni) {
                let at = if after { node.read_fwd(pos).1 } else { pos };
                node.insert_at(at, v);
            }
        } else if avail_next {
            if let Some(next) = self.nodes.get_mut(ni + 1) {
                next.push_front(v);
            }
        } else if avail_prev {
            if let Some(prev) = self.nodes.get_mut(ni - 1) {
                prev.push_back(v);
            }
        } else if at_tail || at_head {
            self.nodes.insert(if after { ni + 1 } else { ni }, Node::with(v));
        } else if let Some(node) = self.nodes.get_mut(ni) {
            if after {
                let mut tail = node.split_off(off + 1);
                tail.push_front(v);
                self.nodes.insert(ni + 1, tail);
                self.merge_around(ni, fill);
            } else {
                let mut front = node.split_front(off);
                front.push_back(v);
                self.nodes.insert(ni, front);
                self.merge_around(ni + 1, fill);
            }
        }
    }

    /// True when nodes `i` and `i + 1` fit in one.
    fn can_merge(&self, i: usize, fill: Fill) -> bool {
        match (self.nodes.get(i), self.nodes.get(i + 1)) {
            (Some(a), Some(b)) => fill.allow_merge(a, b),
            _ => false,
        }
    }

    /// Moves node `i + 1` into node `i`.
    fn merge(&mut self, i: usize) {
        if let Some(right) = self.nodes.remove(i + 1) {
            if let Some(left) = self.nodes.get_mut(i) {
                left.append(right);
            }
        }
    }

    /// Merges the nodes around `center` where they fit, as Redis's `_quicklistMergeNodes`:
    /// the two before it, the two after it, then the center with each neighbour.
    fn merge_around(&mut self, center: usize, fill: Fill) {
        let mut c = center;
        if c >= 2 && self.can_merge(c - 2, fill) {
            self.merge(c - 2);
            c -= 1;
        }
        if self.can_merge(c + 1, fill) {
            self.merge(c + 1);
        }
        if c >= 1 && self.can_merge(c - 1, fill) {
            self.merge(c - 1);
            c -= 1;
        }
        if self.can_merge(c, fill) {
            self.merge(c);
        }
    }

    /// Removes up to `limit` elements equal to `v`, from the head (or the tail when `rev`).
    pub(super) fn remove_matching(&mut self, v: &[u8], limit: usize, rev: bool) -> usize {
        let mut removed = 0;
        let mut visit = |n: &mut Node| {
            if removed < limit {
                removed += n.remove_matching(v, limit - removed, rev);
            }
        };
        if rev {
            self.nodes.iter_mut().rev().for_each(&mut visit);
        } else {
            self.nodes.iter_mut().for_each(&mut visit);
        }
        if removed > 0 {
            self.nodes.retain(|n| n.len() > 0);
            self.len -= removed;
        }
        removed
    }

    /// Removes `count` elements starting at `start` (clamped to the list).
    pub(super) fn remove_range(&mut self, start: usize, count: usize) {
        let count = count.min(self.len.saturating_sub(start));
        if count == 0 {
            return;
        }
        let Some((mut ni, off)) = self.locate(start) else { return };
        let mut left = count;
        if off > 0 {
            if let Some(n) = self.nodes.get_mut(ni) {
                let take = left.min(n.len() - off);
                n.remove_range(off, take);
                left -= take;
            }
            ni += 1;
        }
        let mut end = ni;
        while left > 0 {
            match self.nodes.get(end) {
                Some(n) if n.len() <= left => {
                    left -= n.len();
                    end += 1;
                }
                _ => break,
            }
        }
        self.nodes.drain(ni..end);
        if left > 0 {
            if let Some(n) = self.nodes.get_mut(ni) {
                n.remove_front(left);
            }
        }
        self.len -= count;
    }
}
