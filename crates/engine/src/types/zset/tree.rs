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
//! so sorted insertions, the common case for time-ordered scores, leave leaves full.

use std::cmp::Ordering;

use smallvec::SmallVec;

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

/// A pair's score, where its member ends in the leaf's bytes (48 bits: far past any real
/// leaf) and one byte of the member's index hash, in 16 bytes.
#[derive(Clone, Copy, Debug)]
struct Slot {
    score: f64,
    end_lo: u32,
    end_hi: u16,
    /// Finding a member by name compares only the members whose tag matches.
    tag: u8,
}

impl Slot {
    #[inline]
    fn new(score: f64, end: usize, tag: u8) -> Slot {
        Slot { score, end_lo: end as u32, end_hi: (end >> 32) as u16, tag }
    }

    #[inline]
    fn end(&self) -> usize {
        self.end_lo as usize | (self.end_hi as usize) << 32
    }

    #[inline]
    fn shifted(self, by: isize) -> Slot {
        Slot::new(self.score, self.end().wrapping_add_signed(by), self.tag)
    }
}

#[derive(Clone, Debug)]
struct Leaf {
    slots: Vec<Slot>,
    bytes: Vec<u8>,
    prev: NodeId,
    next: NodeId,
}

impl Leaf {
    fn new() -> Leaf {
        Leaf { slots: Vec::new(), bytes: Vec::new(), prev: NIL, next: NIL }
    }

    #[inline]
    fn len(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.slots[i - 1].end()
        }
    }

    #[inline]
    fn member(&self, i: usize) -> &[u8] {
        &self.bytes[self.start(i)..self.slots[i].end()]
    }

    #[inline]
    fn score(&self, i: usize) -> f64 {
        self.slots[i].score
    }

    /// Index of the first pair not satisfying `pred` (which must hold for a prefix).
    #[inline]
    fn count_while(&self, pred: &impl Fn(f64, &[u8]) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if pred(self.score(mid), self.member(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// `Ok(index)` of the pair equal to (score, member), or `Err(index)` where it would go.
    fn search(&self, score: f64, member: &[u8]) -> Result<usize, usize> {
        let i = self.count_while(&|s, m| cmp_key(s, m, score, member) == Ordering::Less);
        if i < self.len() && cmp_key(self.score(i), self.member(i), score, member) == Ordering::Equal {
            Ok(i)
        } else {
            Err(i)
        }
    }

    fn insert(&mut self, i: usize, score: f64, member: &[u8], tag: u8) {
        if self.slots.len() == self.slots.capacity() {
            // Double up to the most a leaf ever holds (plus the pair that triggers a split).
            let want = (self.slots.capacity() * 2).clamp(4, LEAF_MAX + 1).max(self.slots.len() + 1);
            self.slots.reserve_exact(want - self.slots.len());
        }
        if self.bytes.capacity() - self.bytes.len() < member.len() {
            // Grow by a quarter rather than doubling: leaves are many and small.
            self.bytes.reserve_exact(member.len() + self.bytes.len() / 4);
        }
        let at = self.start(i);
        self.bytes.splice(at..at, member.iter().copied());
        for s in &mut self.slots[i..] {
            *s = s.shifted(member.len() as isize);
        }
        self.slots.insert(i, Slot::new(score, at + member.len(), tag));
    }

    /// Removes pair `i`, appending its member to `out` when given.
    fn remove(&mut self, i: usize, out: Option<&mut Vec<u8>>) -> f64 {
        let (start, end) = (self.start(i), self.slots[i].end());
        match out {
            Some(v) => v.extend(self.bytes.drain(start..end)),
            None => {
                self.bytes.drain(start..end);
            }
        }
        let len = end - start;
        let slot = self.slots.remove(i);
        for s in &mut self.slots[i..] {
            *s = s.shifted(-(len as isize));
        }
        slot.score
    }

    /// Moves pairs `at..` into a new leaf (links are left to the caller).
    fn split_off(&mut self, at: usize) -> Leaf {
        let base = self.start(at);
        let mut slots = Vec::with_capacity((self.len() - at).max(LEAF_MAX / 2));
        slots.extend(self.slots.drain(at..).map(|s| s.shifted(-(base as isize))));
        let bytes = self.bytes.split_off(base);
        self.bytes.shrink_to(base + base / 4);
        Leaf { slots, bytes, prev: NIL, next: NIL }
    }

    /// Appends every pair of `other` (links are left to the caller).
    fn append(&mut self, other: &Leaf) {
        let base = self.bytes.len();
        self.bytes.reserve_exact(other.bytes.len());
        self.slots.reserve_exact(other.len());
        self.bytes.extend_from_slice(&other.bytes);
        self.slots.extend(other.slots.iter().map(|s| s.shifted(base as isize)));
    }

    fn heap_size(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>() + self.bytes.capacity()
    }
}

#[derive(Clone, Debug)]
struct Inner {
    /// Separators: `keys[i]` lies between `children[i]` and `children[i + 1]`.
    keys: Vec<(f64, Box<[u8]>)>,
    children: Vec<NodeId>,
    /// Pairs below each child.
    counts: Vec<usize>,
}

impl Inner {
    /// The child to descend into for key (score, member).
    #[inline]
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        self.keys.partition_point(|(s, k)| cmp_key(*s, k, score, member) != Ordering::Greater)
    }

    fn heap_size(&self) -> usize {
        self.keys.capacity() * std::mem::size_of::<(f64, Box<[u8]>)>()
            + self.keys.iter().map(|(_, k)| k.len()).sum::<usize>()
            + self.children.capacity() * std::mem::size_of::<NodeId>()
            + self.counts.capacity() * std::mem::size_of::<usize>()
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
        let idx =
            l.slots.iter().enumerate().filter(|&(_, s)| s.tag == tag).map(|(i, _)| i).find(|&i| l.member(i) == member)?;
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

    // ---- removal -------------------------------------------------------------------------

    /// Removes (score, member), returning the leaf it was in (None when absent); members
    /// moved by rebalancing are reported to `ev`.
    pub(crate) fn remove(&mut self, score: f64, member: &[u8], ev: &mut impl FnMut(Event<'_>)) -> Option<NodeId> {
        if self.root == NIL {
            return None;
        }
        let mut path = Path::new();
        let mut id = self.root;
        loop {
            match &self.nodes[id as usize] {
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    path.push((id, i));
                    id = n.children[i];
                }
                Node::Leaf(l) => match l.search(score, member) {
                    Ok(i) => {
                        self.leaf_mut(id).remove(i, None);
                        self.after_remove(id, &path, ev);
                        return Some(id);
                    }
                    Err(_) => return None,
                },
                Node::Free => return None,
            }
        }
    }

    /// Removes the pair at `rank`, returning its score, member and former leaf; members moved
    /// by rebalancing are reported to `ev`.
    pub(crate) fn remove_at(&mut self, mut rank: usize, ev: &mut impl FnMut(Event<'_>)) -> Option<(f64, Vec<u8>, NodeId)> {
        if rank >= self.len {
            return None;
        }
        let mut path = Path::new();
        let mut id = self.root;
        loop {
            match &self.nodes[id as usize] {
                Node::Inner(n) => {
                    let mut i = 0;
                    while i + 1 < n.counts.len() && rank >= n.counts[i] {
                        rank -= n.counts[i];
                        i += 1;
                    }
                    path.push((id, i));
                    id = n.children[i];
                }
                Node::Leaf(l) => {
                    if rank >= l.len() {
                        return None;
                    }
                    let mut member = Vec::with_capacity(l.slots[rank].end() - l.start(rank));
                    let score = self.leaf_mut(id).remove(rank, Some(&mut member));
                    self.after_remove(id, &path, ev);
                    return Some((score, member, id));
                }
                Node::Free => return None,
            }
        }
    }

    /// Bookkeeping after a pair was removed from leaf `id` reached through `path`: counts,
    /// then merging or refilling nodes that became small.
    fn after_remove(&mut self, id: NodeId, path: &[(NodeId, usize)], ev: &mut impl FnMut(Event<'_>)) {
        self.len -= 1;
        for &(pid, ci) in path {
            self.inner_mut(pid).counts[ci] -= 1;
        }
        if self.len == 0 {
            *self = Tree::new();
            return;
        }
        let Some(&(pid, ci)) = path.last() else { return };
        let l = self.leaf(id);
        if l.len() >= LEAF_MIN && !l.slots.is_empty() {
            return;
        }
        let p = match &self.nodes[pid as usize] {
            Node::Inner(p) => p,
            _ => return,
        };
        let (li, ri) = if ci > 0 { (ci - 1, ci) } else { (ci, ci + 1) };
        let (lid, rid) = (p.children[li], p.children[ri]);
        let (ln, rn) = (self.leaf(lid), self.leaf(rid));
        let fits = ln.len() + rn.len() <= LEAF_MAX && ln.bytes.len() + rn.bytes.len() <= LEAF_BYTES;
        if ln.len() == 0 || rn.len() == 0 || fits {
            self.merge_leaves(pid, li, lid, rid, ev);
            self.rebalance_inner(&path[..path.len() - 1], pid);
        } else if ln.len() + rn.len() >= 2 * LEAF_MIN {
            self.redistribute_leaves(pid, li, lid, rid, ev);
        }
    }

    /// Moves leaf `rid` (child `li + 1` of `pid`) into leaf `lid` (child `li`).
    fn merge_leaves(&mut self, pid: NodeId, li: usize, lid: NodeId, rid: NodeId, ev: &mut impl FnMut(Event<'_>)) {
        let Node::Leaf(right) = std::mem::replace(&mut self.nodes[rid as usize], Node::Free) else {
            unreachable!("zset tree: merging a non-leaf")
        };
        let left = self.leaf_mut(lid);
        let base = left.len();
        left.append(&right);
        left.next = right.next;
        if right.next == NIL {
            self.last = lid;
        } else {
            self.leaf_mut(right.next).prev = lid;
        }
        self.free.push(rid);
        let p = self.inner_mut(pid);
        p.counts[li] += p.counts[li + 1];
        p.keys.remove(li);
        p.children.remove(li + 1);
        p.counts.remove(li + 1);
        self.report(lid, base..base + right.len(), rid, ev);
    }

    /// Evens out the pairs of adjacent leaves `lid` and `rid` (children `li`, `li + 1`).
    fn redistribute_leaves(&mut self, pid: NodeId, li: usize, lid: NodeId, rid: NodeId, ev: &mut impl FnMut(Event<'_>)) {
        let (Node::Leaf(left), Node::Leaf(right)) = self.pair_mut(lid, rid) else {
            unreachable!("zset tree: redistributing non-leaves")
        };
        let (total, left_before) = (left.len() + right.len(), left.len());
        let (links_prev, links_next) = (right.prev, right.next);
        left.append(right);
        let mut rest = left.split_off(total / 2);
        rest.prev = links_prev;
        rest.next = links_next;
        *right = rest;
        let (ln, rn) = (left.len(), right.len());
        let sep = (right.score(0), Box::<[u8]>::from(right.member(0)));
        let p = self.inner_mut(pid);
        p.keys[li] = sep;
        p.counts[li] = ln;
        p.counts[li + 1] = rn;
        if ln > left_before {
            self.report(lid, left_before..ln, rid, ev);
        } else {
            self.report(rid, 0..left_before - ln, lid, ev);
        }
    }

    /// Merges or refills inner node `id` (reached through `path`) if it became small, and so
    /// on up; collapses a root left with a single child.
    fn rebalance_inner(&mut self, path: &[(NodeId, usize)], id: NodeId) {
        let mut path = path;
        let mut id = id;
        loop {
            let n_children = match &self.nodes[id as usize] {
                Node::Inner(n) => n.children.len(),
                _ => return,
            };
            let Some((&(pid, ci), up)) = path.split_last() else {
                if n_children == 1 {
                    let child = self.inner_mut(id).children[0];
                    self.release(id);
                    self.root = child;
                }
                return;
            };
            if n_children >= INNER_MIN {
                return;
            }
            let p = self.inner_mut(pid);
            let li = if ci > 0 { ci - 1 } else { ci };
            let (lid, rid) = (p.children[li], p.children[li + 1]);
            let sep = p.keys[li].clone();
            let (Node::Inner(left), Node::Inner(right)) = self.pair_mut(lid, rid) else {
                unreachable!("zset tree: inner siblings of different kinds")
            };
            if left.children.len() + right.children.len() <= INNER_MAX {
                left.keys.push(sep);
                left.keys.append(&mut right.keys);
                left.children.append(&mut right.children);
                left.counts.append(&mut right.counts);
                self.release(rid);
                let p = self.inner_mut(pid);
                p.counts[li] += p.counts[li + 1];
                p.keys.remove(li);
                p.children.remove(li + 1);
                p.counts.remove(li + 1);
                path = up;
                id = pid;
                continue;
            }
            // Refill: lay both nodes end to end (separator between) and cut in the middle.
            let total = left.children.len() + right.children.len();
            left.keys.push(sep);
            left.keys.append(&mut right.keys);
            left.children.append(&mut right.children);
            left.counts.append(&mut right.counts);
            let t = total / 2;
            right.children = left.children.split_off(t);
            right.counts = left.counts.split_off(t);
            right.keys = left.keys.split_off(t);
            let Some(new_sep) = left.keys.pop() else { unreachable!("zset tree: refill without keys") };
            let (ln, rn) = (left.counts.iter().sum(), right.counts.iter().sum());
            let p = self.inner_mut(pid);
            p.keys[li] = new_sep;
            p.counts[li] = ln;
            p.counts[li + 1] = rn;
            return;
        }
    }

    /// Prints leaf fill statistics (tests).
    #[cfg(test)]
    pub(crate) fn stats(&self) {
        let (mut leaves, mut pairs, mut cap, mut bytes, mut bcap, mut inner) = (0, 0, 0, 0, 0, 0);
        for n in &self.nodes {
            match n {
                Node::Leaf(l) => {
                    leaves += 1;
                    pairs += l.len();
                    cap += l.slots.capacity();
                    bytes += l.bytes.len();
                    bcap += l.bytes.capacity();
                }
                Node::Inner(_) => inner += 1,
                Node::Free => {}
            }
        }
        println!("leaves {leaves} inner {inner} pairs/leaf {:.1} slot cap/leaf {:.1} bytes {bytes} cap {bcap} node size {}",
            pairs as f64 / leaves as f64, cap as f64 / leaves as f64, std::mem::size_of::<Node>());
    }

    /// Checks every structural invariant (tests).
    #[cfg(test)]
    pub(crate) fn check(&self) {
        if self.root == NIL {
            assert_eq!(self.len, 0);
            return;
        }
        let mut leaves = Vec::new();
        let n = self.check_node(self.root, None, None, &mut leaves, true);
        assert_eq!(n, self.len, "total count");
        assert_eq!(leaves.first().copied(), Some(self.first));
        assert_eq!(leaves.last().copied(), Some(self.last));
        for w in leaves.windows(2) {
            assert_eq!(self.leaf(w[0]).next, w[1]);
            assert_eq!(self.leaf(w[1]).prev, w[0]);
        }
        let mut prev: Option<(f64, Vec<u8>)> = None;
        for &id in &leaves {
            let l = self.leaf(id);
            for i in 0..l.len() {
                if let Some((s, m)) = &prev {
                    assert_eq!(cmp_key(*s, m, l.score(i), l.member(i)), Ordering::Less, "order");
                }
                prev = Some((l.score(i), l.member(i).to_vec()));
            }
        }
    }

    #[cfg(test)]
    fn check_node(
        &self,
        id: NodeId,
        lo: Option<&(f64, Box<[u8]>)>,
        hi: Option<&(f64, Box<[u8]>)>,
        leaves: &mut Vec<NodeId>,
        root: bool,
    ) -> usize {
        match &self.nodes[id as usize] {
            Node::Leaf(l) => {
                assert!(root || l.len() > 0, "empty non-root leaf");
                assert!(l.len() <= LEAF_MAX);
                for i in 0..l.len() {
                    if let Some((s, k)) = lo {
                        assert_ne!(cmp_key(l.score(i), l.member(i), *s, k), Ordering::Less, "below separator");
                    }
                    if let Some((s, k)) = hi {
                        assert_eq!(cmp_key(l.score(i), l.member(i), *s, k), Ordering::Less, "not below separator");
                    }
                }
                leaves.push(id);
                l.len()
            }
            Node::Inner(n) => {
                assert_eq!(n.keys.len() + 1, n.children.len());
                assert_eq!(n.counts.len(), n.children.len());
                assert!(n.children.len() >= 2 && n.children.len() <= INNER_MAX);
                let mut total = 0;
                for (i, &c) in n.children.iter().enumerate() {
                    let clo = if i == 0 { lo } else { Some(&n.keys[i - 1]) };
                    let chi = if i == n.keys.len() { hi } else { Some(&n.keys[i]) };
                    let got = self.check_node(c, clo, chi, leaves, false);
                    assert_eq!(got, n.counts[i], "subtree count");
                    total += got;
                }
                total
            }
            Node::Free => panic!("free node reachable"),
        }
    }
}
