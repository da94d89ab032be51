//! The nodes of the tree: leaves (pairs and member bytes) and inner nodes (children, their
//! pair counts and separators).

use std::cmp::Ordering;

use super::{cmp_key, NodeId, LEAF_MAX, NIL};

/// A pair's score, where its member ends in the leaf's bytes (48 bits: far past any real
/// leaf) and one byte of the member's index hash, in 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub(super) score: f64,
    pub(super) end_lo: u32,
    pub(super) end_hi: u16,
    /// Finding a member by name compares only the members whose tag matches.
    pub(super) tag: u8,
}

impl Slot {
    #[inline]
    pub(super) fn new(score: f64, end: usize, tag: u8) -> Slot {
        Slot { score, end_lo: end as u32, end_hi: (end >> 32) as u16, tag }
    }

    #[inline]
    pub(super) fn end(&self) -> usize {
        self.end_lo as usize | (self.end_hi as usize) << 32
    }

    #[inline]
    pub(super) fn shifted(self, by: isize) -> Slot {
        Slot::new(self.score, self.end().wrapping_add_signed(by), self.tag)
    }
}

#[derive(Clone, Debug)]
pub(super) struct Leaf {
    pub(super) slots: Vec<Slot>,
    pub(super) bytes: Vec<u8>,
    pub(super) prev: NodeId,
    pub(super) next: NodeId,
}

impl Leaf {
    pub(super) fn new() -> Leaf {
        Leaf { slots: Vec::new(), bytes: Vec::new(), prev: NIL, next: NIL }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    pub(super) fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.slots[i - 1].end()
        }
    }

    #[inline]
    pub(super) fn member(&self, i: usize) -> &[u8] {
        &self.bytes[self.start(i)..self.slots[i].end()]
    }

    #[inline]
    pub(super) fn score(&self, i: usize) -> f64 {
        self.slots[i].score
    }

    /// Index of the first pair not satisfying `pred` (which must hold for a prefix).
    #[inline]
    pub(super) fn count_while(&self, pred: &impl Fn(f64, &[u8]) -> bool) -> usize {
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
    pub(super) fn search(&self, score: f64, member: &[u8]) -> Result<usize, usize> {
        let i = self.count_while(&|s, m| cmp_key(s, m, score, member) == Ordering::Less);
        if i < self.len() && cmp_key(self.score(i), self.member(i), score, member) == Ordering::Equal {
            Ok(i)
        } else {
            Err(i)
        }
    }

    pub(super) fn insert(&mut self, i: usize, score: f64, member: &[u8], tag: u8) {
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
    pub(super) fn remove(&mut self, i: usize, out: Option<&mut Vec<u8>>) -> f64 {
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
    pub(super) fn split_off(&mut self, at: usize) -> Leaf {
        let base = self.start(at);
        let mut slots = Vec::with_capacity((self.len() - at).max(LEAF_MAX / 2));
        slots.extend(self.slots.drain(at..).map(|s| s.shifted(-(base as isize))));
        let bytes = self.bytes.split_off(base);
        self.bytes.shrink_to(base + base / 4);
        Leaf { slots, bytes, prev: NIL, next: NIL }
    }

    /// Appends every pair of `other` (links are left to the caller).
    pub(super) fn append(&mut self, other: &Leaf) {
        let base = self.bytes.len();
        self.bytes.reserve_exact(other.bytes.len());
        self.slots.reserve_exact(other.len());
        self.bytes.extend_from_slice(&other.bytes);
        self.slots.extend(other.slots.iter().map(|s| s.shifted(base as isize)));
    }

    pub(super) fn heap_size(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>() + self.bytes.capacity()
    }
}

#[derive(Clone, Debug)]
pub(super) struct Inner {
    /// Separators: `keys[i]` lies between `children[i]` and `children[i + 1]`.
    pub(super) keys: Vec<(f64, Box<[u8]>)>,
    pub(super) children: Vec<NodeId>,
    /// Pairs below each child.
    pub(super) counts: Vec<usize>,
}

impl Inner {
    /// The child to descend into for key (score, member).
    #[inline]
    pub(super) fn child_for(&self, score: f64, member: &[u8]) -> usize {
        self.keys.partition_point(|(s, k)| cmp_key(*s, k, score, member) != Ordering::Greater)
    }

    pub(super) fn heap_size(&self) -> usize {
        self.keys.capacity() * std::mem::size_of::<(f64, Box<[u8]>)>()
            + self.keys.iter().map(|(_, k)| k.len()).sum::<usize>()
            + self.children.capacity() * std::mem::size_of::<NodeId>()
            + self.counts.capacity() * std::mem::size_of::<usize>()
    }
}
