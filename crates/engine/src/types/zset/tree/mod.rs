//! An order-statistic B+tree of (score, member) pairs: the ordered half of the "skiplist"
//! encoding (the index of which leaf holds each member, [`super::index`], is beside it).
//!
//! - Nodes live in one arena (`Vec<Node>`) and refer to each other by index; freed slots are
//!   reused. No `unsafe`, no per-element allocation.
//! - A leaf holds up to [`LEAF_MAX`] pairs: scores, member end offsets and a byte of each
//!   member's hash in one vector (16 bytes a pair), the member bytes back to back in another.
//!   Leaves are linked both ways for range walks.
//! - An inner node holds up to [`INNER_MAX`] children, the number of pairs below each child
//!   (so rank and select-by-rank are O(log n)), and one separator per child after the first:
//!   every key in the child before a separator is smaller than it, every key in the child after
//!   it is at least as large. A separator need not be a stored key (deleting the first pair of a
//!   leaf leaves its separator in place, still a correct bound).
//! - Pairs are ordered by score (IEEE comparison: `-0` equals `0`; NaN is never stored), ties
//!   broken by member bytes, as Redis orders its skiplist.
//!
//! Appending past the last pair (or prepending before the first) splits a full leaf unevenly,
//! so sorted insertions, the common case for time-ordered scores, leave leaves full; other
//! overflows first try to hand pairs to a sibling with room (as a B*-tree does). Every member
//! a change moves from one leaf to another is reported ([`Event`]) so the member index can
//! follow.
//!
//! Node layouts are in [`leaf`], removal and rebalancing in [`remove`].

#[cfg(test)]
mod check;
mod leaf;
mod remove;

use std::cmp::Ordering;

use smallvec::SmallVec;

use self::leaf::{Inner, Leaf};

/// Index of a node in the arena.
pub(crate) type NodeId = u32;
/// No node.
const NIL: NodeId = u32::MAX;
/// Most pairs a leaf holds (with the one that triggers a split, 64 slots: a 1 KiB vector).
const LEAF_MAX: usize = 63;
/// Below this many pairs a leaf is merged with or refilled from a sibling.
const LEAF_MIN: usize = LEAF_MAX / 4;
/// Member bytes past which a leaf of two or more pairs splits (keeps inserts into leaves of
/// long members cheap).
const LEAF_BYTES: usize = 16 * 1024;
/// Most children an inner node holds.
const INNER_MAX: usize = 63;
/// Below this many children an inner node is merged with or refilled from a sibling.
const INNER_MIN: usize = INNER_MAX / 4;

/// The path from the root to a leaf: (inner node, index of the child taken).
type Path = SmallVec<[(NodeId, usize); 8]>;

/// What the tree tells its member index while it changes: where a new member was placed
/// (before any rebalancing), and every member moved from one leaf to another.
pub(crate) enum Event<'a> {
    /// The member just inserted went into this leaf.
    Placed(NodeId),
    /// This member moved from the first leaf to the second.
    Moved(&'a [u8], NodeId, NodeId),
}

/// Orders (score, member) pairs as the sorted set does.
#[inline]
pub(crate) fn cmp_key(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Less) => Ordering::Less,
        Some(Ordering::Greater) => Ordering::Greater,
        // Equal scores (and, defensively, NaN, which is never stored) compare by member.
        _ => a_member.cmp(b_member),
    }
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Leaf),
    Inner(Inner),
    Free,
}

/// A position in the tree: a leaf and an index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    leaf: NodeId,
    idx: usize,
}

/// The ordered pairs of a sorted set.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    free: Vec<NodeId>,
    root: NodeId,
    first: NodeId,
    last: NodeId,
    len: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// An empty tree.
    pub(crate) const fn new() -> Tree {
        Tree { nodes: Vec::new(), free: Vec::new(), root: NIL, first: NIL, last: NIL, len: 0 }
    }

    /// Number of pairs.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of heap memory held (O(number of nodes)).
    pub(crate) fn heap_size(&self) -> usize {
        let own = self.nodes.capacity() * std::mem::size_of::<Node>() + self.free.capacity() * 4;
        own + self
            .nodes
            .iter()
            .map(|n| match n {
                Node::Leaf(l) => l.heap_size(),
                Node::Inner(i) => i.heap_size(),
                Node::Free => 0,
            })
            .sum::<usize>()
    }

    fn alloc(&mut self, node: Node) -> NodeId {
        match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as NodeId
            }
        }
    }

    fn release(&mut self, id: NodeId) {
        self.nodes[id as usize] = Node::Free;
        self.free.push(id);
    }

    #[inline]
    fn leaf(&self, id: NodeId) -> &Leaf {
        match &self.nodes[id as usize] {
            Node::Leaf(l) => l,
            _ => unreachable!("zset tree: node {id} is not a leaf"),
        }
    }

    #[inline]
    fn leaf_mut(&mut self, id: NodeId) -> &mut Leaf {
        match &mut self.nodes[id as usize] {
            Node::Leaf(l) => l,
            _ => unreachable!("zset tree: node {id} is not a leaf"),
        }
    }

    #[inline]
    fn inner_mut(&mut self, id: NodeId) -> &mut Inner {
        match &mut self.nodes[id as usize] {
            Node::Inner(n) => n,
            _ => unreachable!("zset tree: node {id} is not an inner node"),
        }
    }

    /// Two distinct nodes borrowed mutably at once.
    fn pair_mut(&mut self, a: NodeId, b: NodeId) -> (&mut Node, &mut Node) {
        let (a, b) = (a as usize, b as usize);
        debug_assert_ne!(a, b);
        if a < b {
            let (x, y) = self.nodes.split_at_mut(b);
            (&mut x[a], &mut y[0])
        } else {
            let (x, y) = self.nodes.split_at_mut(a);
            (&mut y[0], &mut x[b])
        }
    }

    // ---- lookups -------------------------------------------------------------------------

    /// Number of leading pairs (in order) for which `pred` holds; `pred` must hold for a
    /// prefix of the order (e.g. "score below the range's minimum").
    pub(crate) fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        if self.root == NIL {
            return 0;
        }
        let mut id = self.root;
        let mut acc = 0;
        loop {
            match &self.nodes[id as usize] {
                Node::Inner(n) => {
                    let j = n.keys.partition_point(|(s, k)| pred(*s, k));
                    acc += n.counts[..j].iter().sum::<usize>();
                    id = n.children[j];
                }
                Node::Leaf(l) => return acc + l.count_while(&pred),
                Node::Free => return acc,
            }
        }
    }

    /// Number of pairs ordered before (score, member).
    pub(crate) fn rank_of(&self, score: f64, member: &[u8]) -> usize {
        self.count_while(|s, m| cmp_key(s, m, score, member) == Ordering::Less)
    }

    /// The position of the pair at `rank` (0-based, ascending).
    pub(crate) fn locate(&self, mut rank: usize) -> Option<Cursor> {
        if rank >= self.len {
            return None;
        }
        if rank == 0 {
            return Some(Cursor { leaf: self.first, idx: 0 });
        }
        let mut id = self.root;
        loop {
            match &self.nodes[id as usize] {
                Node::Inner(n) => {
                    let mut i = 0;
                    while i + 1 < n.counts.len() && rank >= n.counts[i] {
                        rank -= n.counts[i];
                        i += 1;
                    }
                    id = n.children[i];
                }
                Node::Leaf(l) => return (rank < l.len()).then_some(Cursor { leaf: id, idx: rank }),
                Node::Free => return None,
            }
        }
    }

    /// The position of `member` (whose tag is `tag`) in leaf `leaf`, if it is there.
    pub(crate) fn find_in_leaf(&self, leaf: NodeId, member: &[u8], tag: u8) -> Option<Cursor> {
        let l = match self.nodes.get(leaf as usize) {
            Some(Node::Leaf(l)) => l,
            _ => return None,
        };
        let idx = l
            .slots
            .iter()
            .enumerate()
            .filter(|&(_, s)| s.tag == tag)
            .map(|(i, _)| i)
            .find(|&i| l.member(i) == member)?;
        Some(Cursor { leaf, idx })
    }

    /// The pairs of leaf `leaf` (none when it is not a leaf).
    pub(crate) fn leaf_pairs(&self, leaf: NodeId) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let l = match self.nodes.get(leaf as usize) {
            Some(Node::Leaf(l)) => Some(l),
            _ => None,
        };
        (0..l.map_or(0, Leaf::len)).filter_map(move |i| l.map(|l| (l.member(i), l.score(i))))
    }

    /// The leaves in order, each with its pairs (tests).
    #[cfg(test)]
    pub(crate) fn leaves(&self) -> Vec<(NodeId, Vec<Vec<u8>>)> {
        let mut out = Vec::new();
        let mut id = if self.len == 0 { NIL } else { self.first };
        while id != NIL {
            let l = self.leaf(id);
            out.push((id, (0..l.len()).map(|i| l.member(i).to_vec()).collect()));
            id = l.next;
        }
        out
    }

    /// The pair at a cursor.
    #[inline]
    pub(crate) fn at(&self, c: Cursor) -> (&[u8], f64) {
        let l = self.leaf(c.leaf);
        (l.member(c.idx), l.score(c.idx))
    }

    /// Moves a cursor to the next pair; false at the end.
    #[inline]
    pub(crate) fn step_forward(&self, c: &mut Cursor) -> bool {
        let l = self.leaf(c.leaf);
        if c.idx + 1 < l.len() {
            c.idx += 1;
            return true;
        }
        if l.next == NIL {
            return false;
        }
        *c = Cursor { leaf: l.next, idx: 0 };
        true
    }

    /// Moves a cursor to the previous pair; false at the start.
    #[inline]
    pub(crate) fn step_back(&self, c: &mut Cursor) -> bool {
        if c.idx > 0 {
            c.idx -= 1;
            return true;
        }
        let prev = self.leaf(c.leaf).prev;
        if prev == NIL {
            return false;
        }
        *c = Cursor { leaf: prev, idx: self.leaf(prev).len() - 1 };
        true
    }

    // ---- insertion -----------------------------------------------------------------------

    /// Inserts (score, member), which must not be present, reporting its leaf and every
    /// member that rebalancing moves to `ev`.
    /// `tag` is kept beside the member for [`Tree::find_in_leaf`].
    pub(crate) fn insert(&mut self, score: f64, member: &[u8], tag: u8, ev: &mut impl FnMut(Event<'_>)) {
        if self.root == NIL {
            let id = self.alloc(Node::Leaf(Leaf::new()));
            (self.root, self.first, self.last) = (id, id, id);
        }
        let mut path = Path::new();
        let mut id = self.root;
        let at = loop {
            match &mut self.nodes[id as usize] {
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    n.counts[i] += 1;
                    path.push((id, i));
                    id = n.children[i];
                }
                Node::Leaf(l) => {
                    let at = match l.search(score, member) {
                        Ok(i) | Err(i) => i,
                    };
                    l.insert(at, score, member, tag);
                    break at;
                }
                Node::Free => unreachable!("zset tree: free node on a path"),
            }
        };
        self.len += 1;
        ev(Event::Placed(id));
        let l = self.leaf(id);
        let n = l.len();
        if n > LEAF_MAX || (l.bytes.len() > LEAF_BYTES && n > 1) {
            // Appending past the end (or prepending) splits off a nearly empty leaf, keeping
            // this one full; otherwise a sibling with room takes some pairs before a split
            // is considered (as a B*-tree does), which keeps leaves fuller.
            let edge = (at == n - 1 && l.next == NIL) || (at == 0 && l.prev == NIL);
            if edge || l.bytes.len() > LEAF_BYTES || !self.spill(id, &path, ev) {
                self.split_leaf(id, at, &path, ev);
            }
        }
    }

    /// Moves pairs from the overfull leaf `id` to an adjacent sibling under the same parent
    /// that has room; false when neither has.
    fn spill(&mut self, id: NodeId, path: &[(NodeId, usize)], ev: &mut impl FnMut(Event<'_>)) -> bool {
        let Some(&(pid, ci)) = path.last() else { return false };
        let (left, right) = match &self.nodes[pid as usize] {
            Node::Inner(p) => (ci.checked_sub(1).map(|i| p.children[i]), p.children.get(ci + 1).copied()),
            _ => return false,
        };
        let (n, half_bytes) = (self.leaf(id).len(), self.leaf(id).bytes.len() / 2);
        let room = |t: &Tree, sib: NodeId| {
            let s = t.leaf(sib);
            s.len() + 1 < LEAF_MAX && s.bytes.len() + half_bytes <= LEAF_BYTES
        };
        if let Some(lid) = left.filter(|&l| room(self, l)) {
            let k = (n - self.leaf(lid).len()) / 2;
            let to_len = self.leaf(lid).len();
            let (Node::Leaf(from), Node::Leaf(to)) = self.pair_mut(id, lid) else { return false };
            let mut rest = from.split_off(k);
            to.append(from);
            (rest.prev, rest.next) = (from.prev, from.next);
            *from = rest;
            let sep = (from.score(0), Box::<[u8]>::from(from.member(0)));
            let p = self.inner_mut(pid);
            p.keys[ci - 1] = sep;
            p.counts[ci - 1] += k;
            p.counts[ci] -= k;
            self.report(lid, to_len..to_len + k, id, ev);
            return true;
        }
        if let Some(rid) = right.filter(|&r| room(self, r)) {
            let k = (n - self.leaf(rid).len()) / 2;
            let (Node::Leaf(from), Node::Leaf(to)) = self.pair_mut(id, rid) else { return false };
            let mut moved = from.split_off(n - k);
            moved.append(to);
            (moved.prev, moved.next) = (to.prev, to.next);
            *to = moved;
            let sep = (to.score(0), Box::<[u8]>::from(to.member(0)));
            let p = self.inner_mut(pid);
            p.keys[ci] = sep;
            p.counts[ci] -= k;
            p.counts[ci + 1] += k;
            self.report(rid, 0..k, id, ev);
            return true;
        }
        false
    }

    fn split_leaf(&mut self, id: NodeId, inserted_at: usize, path: &[(NodeId, usize)], ev: &mut impl FnMut(Event<'_>)) {
        let l = self.leaf(id);
        let n = l.len();
        let at = if inserted_at == n - 1 && l.next == NIL {
            n - 1
        } else if inserted_at == 0 && l.prev == NIL {
            1
        } else if l.bytes.len() > LEAF_BYTES {
            // Split where the member bytes are halved.
            let half = l.bytes.len() / 2;
            l.slots.partition_point(|s| s.end() <= half).clamp(1, n - 1)
        } else {
            n / 2
        };
        let old_next = l.next;
        let mut right = self.leaf_mut(id).split_off(at);
        right.prev = id;
        right.next = old_next;
        let sep = (right.score(0), Box::<[u8]>::from(right.member(0)));
        let right_len = right.len();
        let rid = self.alloc(Node::Leaf(right));
        self.leaf_mut(id).next = rid;
        if old_next == NIL {
            self.last = rid;
        } else {
            self.leaf_mut(old_next).prev = rid;
        }
        self.report(rid, 0..right_len, id, ev);
        self.insert_child(path, sep, rid, at, right_len);
    }

    /// Reports the members at `range` of leaf `to` as moved there from `from`.
    fn report(&self, to: NodeId, range: std::ops::Range<usize>, from: NodeId, ev: &mut impl FnMut(Event<'_>)) {
        let l = self.leaf(to);
        for i in range {
            ev(Event::Moved(l.member(i), from, to));
        }
    }

    /// After the node under the last step of `path` split into itself (`left_n` pairs) and
    /// `right` (`right_n` pairs) with separator `sep`, records the new child in the parents,
    /// splitting them as needed.
    fn insert_child(
        &mut self,
        path: &[(NodeId, usize)],
        mut sep: (f64, Box<[u8]>),
        mut right: NodeId,
        mut left_n: usize,
        mut right_n: usize,
    ) {
        for &(pid, ci) in path.iter().rev() {
            let p = self.inner_mut(pid);
            p.counts[ci] = left_n;
            p.keys.insert(ci, sep);
            p.children.insert(ci + 1, right);
            p.counts.insert(ci + 1, right_n);
            if p.children.len() <= INNER_MAX {
                return;
            }
            let mid = p.children.len() / 2;
            let r_children = p.children.split_off(mid);
            let r_counts = p.counts.split_off(mid);
            let r_keys = p.keys.split_off(mid);
            let Some(up) = p.keys.pop() else { unreachable!("zset tree: inner split without keys") };
            left_n = p.counts.iter().sum();
            right_n = r_counts.iter().sum();
            sep = up;
            right = self.alloc(Node::Inner(Inner { keys: r_keys, children: r_children, counts: r_counts }));
        }
        // The root split: grow a level.
        let left = self.root;
        self.root = self.alloc(Node::Inner(Inner {
            keys: vec![sep],
            children: vec![left, right],
            counts: vec![left_n, right_n],
        }));
    }
}
