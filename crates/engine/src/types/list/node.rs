//! One packed run of list elements: the listpack of a small list, and each node of a big one.
//!
//! Elements are stored back to back in one buffer as `[length][bytes][length reversed]`, the
//! length a little-endian base-128 varint. The trailing copy, written byte-reversed, lets the
//! node be walked from either end (Redis's listpack keeps a "backlen" for the same reason), so
//! popping or reading at the tail is as cheap as at the head.
//!
//! The live bytes are `buf[head..]`: popping at the head only moves `head`, and pushing at the
//! head reuses that room, so a node used as a queue does not shift its contents on every
//! operation. Room at the head is given back when it grows larger than the data.

/// Bytes Redis's listpack spends on its header and terminator; added to [`Node::bytes`] so
/// size thresholds compare like `lpBytes`.
pub(super) const LP_OVERHEAD: usize = 7;

/// Room at the head worth giving back (see [`Node::compact`]).
const HEAD_SLACK: usize = 256;

/// Bytes of `n` as a varint.
#[inline]
fn vlen(n: usize) -> usize {
    let mut len = 1;
    let mut v = n >> 7;
    while v != 0 {
        v >>= 7;
        len += 1;
    }
    len
}

/// Bytes an element of `len` bytes takes in a node.
#[inline]
pub(super) fn entry_size(len: usize) -> usize {
    2 * vlen(len) + len
}

/// `n` as a varint: the bytes and how many are used.
#[inline]
fn varint(mut n: usize) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8 & 0x7f) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
    (out, i + 1)
}

/// Appends the encoding of `v` to `out`.
#[inline]
fn encode(out: &mut Vec<u8>, v: &[u8]) {
    let (len, n) = varint(v.len());
    out.extend_from_slice(&len[..n]);
    out.extend_from_slice(v);
    out.extend(len[..n].iter().rev());
}

/// Writes the encoding of `v` into `dst`, which is exactly `entry_size(v.len())` long.
#[inline]
fn encode_into(dst: &mut [u8], v: &[u8]) {
    let (len, n) = varint(v.len());
    dst[..n].copy_from_slice(&len[..n]);
    dst[n..n + v.len()].copy_from_slice(v);
    for (d, s) in dst[n + v.len()..].iter_mut().zip(len[..n].iter().rev()) {
        *d = *s;
    }
}

/// A packed run of elements.
#[derive(Clone, Default)]
pub(super) struct Node {
    buf: Vec<u8>,
    /// Start of the live bytes; u32 keeps a small list's `Object` small. A node grows past
    /// 4 GiB only around one huge element, and [`Node::set_head`] then gives the room back.
    head_at: u32,
    /// Number of elements (nodes hold at most 64 KiB of elements, or a single one).
    elems: u32,
}

impl Node {
    /// A node holding just `v`.
    pub(super) fn with(v: &[u8]) -> Node {
        let mut buf = Vec::with_capacity(entry_size(v.len()));
        encode(&mut buf, v);
        Node { buf, head_at: 0, elems: 1 }
    }

    /// Number of elements.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.count()
    }

    #[inline]
    fn count(&self) -> usize {
        self.elems as usize
    }

    #[inline]
    fn set_count(&mut self, n: usize) {
        // Bounded by the node size limits (see the field).
        self.elems = n as u32;
    }

    #[inline]
    fn head(&self) -> usize {
        self.head_at as usize
    }

    /// Moves the start of the live bytes; a start past what u32 holds is made 0 by dropping
    /// the room before it.
    #[inline]
    fn set_head(&mut self, at: usize) {
        match u32::try_from(at) {
            Ok(h) => self.head_at = h,
            Err(_) => {
                self.buf.drain(..at);
                self.head_at = 0;
            }
        }
    }

    /// Bytes of encoded elements.
    #[inline]
    pub(super) fn bytes(&self) -> usize {
        self.buf.len() - self.head()
    }

    /// The size Redis would give this node's listpack (what the size limits compare).
    #[inline]
    pub(super) fn lp_size(&self) -> usize {
        self.bytes() + LP_OVERHEAD
    }

    /// Bytes of heap memory held.
    pub(super) fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// Position of the first element.
    #[inline]
    pub(super) fn start(&self) -> usize {
        self.head()
    }

    /// Position just past the last element.
    #[inline]
    pub(super) fn end(&self) -> usize {
        self.buf.len()
    }

    /// The element starting at `pos` and the position of the next one.
    #[inline]
    pub(super) fn read_fwd(&self, pos: usize) -> (&[u8], usize) {
        let mut len = 0usize;
        let mut shift = 0;
        let mut i = pos;
        loop {
            let b = self.buf[i];
            i += 1;
            len |= ((b & 0x7f) as usize) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        let next = i + len + (i - pos);
        (&self.buf[i..i + len], next)
    }

    /// The element ending at `end` (exclusive) and the position where it starts.
    #[inline]
    pub(super) fn read_bwd(&self, end: usize) -> (&[u8], usize) {
        let mut len = 0usize;
        let mut shift = 0;
        let mut i = end;
        loop {
            i -= 1;
            let b = self.buf[i];
            len |= ((b & 0x7f) as usize) << shift;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        let data_start = i - len;
        (&self.buf[data_start..i], data_start - (end - i))
    }

    /// The first element.
    #[inline]
    pub(super) fn first(&self) -> Option<&[u8]> {
        (self.count() > 0).then(|| self.read_fwd(self.head()).0)
    }

    /// The position of element `offset` (`len()` gives [`Node::end`]), walking from the nearer end.
    pub(super) fn pos_of(&self, offset: usize) -> usize {
        if offset <= self.count() / 2 {
            let mut pos = self.head();
            for _ in 0..offset {
                pos = self.read_fwd(pos).1;
            }
            pos
        } else {
            let mut pos = self.buf.len();
            for _ in offset..self.count() {
                pos = self.read_bwd(pos).1;
            }
            pos
        }
    }

    /// The element at `offset`.
    pub(super) fn get(&self, offset: usize) -> Option<&[u8]> {
        (offset < self.count()).then(|| self.read_fwd(self.pos_of(offset)).0)
    }

    /// Iterates over (position, element) from the first element.
    pub(super) fn cursor(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        let mut pos = self.head();
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let (v, next) = self.read_fwd(pos);
            let here = pos;
            pos = next;
            Some((here, v))
        })
    }

    /// Makes sure `extra` bytes can be appended without moving the data twice.
    fn reserve_back(&mut self, extra: usize) {
        if self.buf.capacity() - self.buf.len() >= extra {
            return;
        }
        if self.head() > 0 && self.head() >= self.bytes() {
            self.buf.drain(..self.head());
            self.set_head(0);
            if self.buf.capacity() - self.buf.len() >= extra {
                return;
            }
        }
        let slack = (self.bytes() / 4).max(16);
        self.buf.reserve_exact(extra + slack);
    }

    /// Makes at least `need` bytes of room before the head.
    fn reserve_front(&mut self, need: usize) {
        if self.head() >= need {
            return;
        }
        let data = self.bytes();
        // Bounded slack keeps the head offset within u32 for any element under 4 GiB.
        let shift = need - self.head() + (data / 4).clamp(16, 1 << 20);
        let old_len = self.buf.len();
        if self.buf.capacity() - old_len >= shift {
            self.buf.resize(old_len + shift, 0);
            let head = self.head();
            self.buf.copy_within(head..old_len, head + shift);
            self.set_head(self.head() + shift);
        } else {
            let room = self.head() + shift;
            let mut nb = Vec::with_capacity(room + data);
            nb.resize(room, 0);
            nb.extend_from_slice(&self.buf[self.head()..]);
            self.buf = nb;
            self.set_head(room);
        }
    }

    /// Appends an element.
    pub(super) fn push_back(&mut self, v: &[u8]) {
        self.reserve_back(entry_size(v.len()));
        encode(&mut self.buf, v);
        self.set_count(self.count() + 1);
    }

    /// Prepends an element.
    pub(super) fn push_front(&mut self, v: &[u8]) {
        let sz = entry_size(v.len());
        self.reserve_front(sz);
        self.set_head(self.head() - sz);
        let head = self.head();
        encode_into(&mut self.buf[head..head + sz], v);
        self.set_count(self.count() + 1);
    }

    /// Inserts `v` at `pos` (an element's position, or [`Node::end`]).
    pub(super) fn insert_at(&mut self, pos: usize, v: &[u8]) {
        if pos <= self.head() {
            self.push_front(v);
        } else if pos >= self.buf.len() {
            self.push_back(v);
        } else {
            let mut enc = Vec::with_capacity(entry_size(v.len()));
            encode(&mut enc, v);
            self.buf.splice(pos..pos, enc);
            self.set_count(self.count() + 1);
        }
    }

    /// Replaces the element at `pos` with `v`.
    pub(super) fn replace_at(&mut self, pos: usize, v: &[u8]) {
        let (old, next) = self.read_fwd(pos);
        if old.len() == v.len() {
            let start = pos + (next - pos - old.len()) / 2;
            self.buf[start..start + v.len()].copy_from_slice(v);
            return;
        }
        let mut enc = Vec::with_capacity(entry_size(v.len()));
        encode(&mut enc, v);
        self.buf.splice(pos..next, enc);
    }

    /// Removes the `n` elements stored in `start..end`.
    fn remove_span(&mut self, start: usize, end: usize, n: usize) {
        if start <= self.head() {
            self.set_head(end);
        } else if end >= self.buf.len() {
            self.buf.truncate(start);
        } else {
            self.buf.drain(start..end);
        }
        self.set_count(self.count() - n);
        self.compact();
    }

    /// Gives back room that grew larger than the data (after removals).
    fn compact(&mut self) {
        if self.count() == 0 {
            self.buf = Vec::new();
            self.set_head(0);
            return;
        }
        let data = self.bytes();
        if self.head() > HEAD_SLACK && self.head() > data {
            self.buf.drain(..self.head());
            self.set_head(0);
        }
        if self.buf.capacity() > 2 * self.buf.len() + HEAD_SLACK {
            self.buf.shrink_to(self.buf.len() + self.buf.len() / 4);
        }
    }

    /// Releases all spare room (a full node that will not grow soon): one copy per node,
    /// after which it sits in the allocator's size class of its data.
    pub(super) fn seal(&mut self) {
        if self.buf.capacity() > self.bytes() {
            if self.head() > 0 {
                self.buf.drain(..self.head());
                self.set_head(0);
            }
            self.buf.shrink_to_fit();
        }
    }

    /// Makes room for `bytes` more bytes at `end` with no slack (a batch of known size).
    pub(super) fn reserve_exact(&mut self, front: bool, bytes: usize) {
        if front {
            if self.head() < bytes {
                let data = self.bytes();
                let mut nb = Vec::with_capacity(bytes + data);
                nb.resize(bytes, 0);
                nb.extend_from_slice(&self.buf[self.head()..]);
                self.buf = nb;
                self.set_head(bytes);
            }
        } else if self.buf.capacity() - self.buf.len() < bytes {
            if self.head() > 0 {
                self.buf.drain(..self.head());
                self.set_head(0);
            }
            self.buf.reserve_exact(bytes);
        }
    }

    /// Removes the first `n` elements (at most all of them).
    pub(super) fn remove_front(&mut self, n: usize) {
        let n = n.min(self.count());
        let end = if n == self.count() { self.buf.len() } else { self.pos_of(n) };
        let start = self.head();
        self.remove_span(start, end, n);
    }

    /// Removes the last `n` elements (at most all of them).
    pub(super) fn remove_back(&mut self, n: usize) {
        let n = n.min(self.count());
        let start = if n == self.count() { self.head() } else { self.pos_of(self.count() - n) };
        let end = self.buf.len();
        self.remove_span(start, end, n);
    }

    /// Removes `n` elements starting at element `offset`.
    pub(super) fn remove_range(&mut self, offset: usize, n: usize) {
        let n = n.min(self.count().saturating_sub(offset));
        if n == 0 {
            return;
        }
        let start = self.pos_of(offset);
        let mut end = start;
        for _ in 0..n {
            end = self.read_fwd(end).1;
        }
        self.remove_span(start, end, n);
    }

    /// Removes up to `limit` elements equal to `v`, scanning from the head (or from the tail
    /// when `rev`). Returns how many were removed.
    pub(super) fn remove_matching(&mut self, v: &[u8], limit: usize, rev: bool) -> usize {
        let mut spans: smallvec::SmallVec<[(usize, usize); 8]> = smallvec::SmallVec::new();
        if rev {
            let mut end = self.buf.len();
            while end > self.head() && spans.len() < limit {
                let (d, start) = self.read_bwd(end);
                if d == v {
                    spans.push((start, end));
                }
                end = start;
            }
            spans.reverse();
        } else {
            let mut pos = self.head();
            while pos < self.buf.len() && spans.len() < limit {
                let (d, next) = self.read_fwd(pos);
                if d == v {
                    spans.push((pos, next));
                }
                pos = next;
            }
        }
        let Some(&(first, _)) = spans.first() else { return 0 };
        let mut write = first;
        for (i, &(_, keep_from)) in spans.iter().enumerate() {
            let keep_to = spans.get(i + 1).map_or(self.buf.len(), |s| s.0);
            self.buf.copy_within(keep_from..keep_to, write);
            write += keep_to - keep_from;
        }
        self.buf.truncate(write);
        self.set_count(self.count() - spans.len());
        self.compact();
        spans.len()
    }

    /// Splits off the elements from `offset` on into a new node.
    pub(super) fn split_off(&mut self, offset: usize) -> Node {
        let pos = self.pos_of(offset);
        let tail = Node { buf: self.buf[pos..].to_vec(), head_at: 0, elems: (self.count() - offset) as u32 };
        self.buf.truncate(pos);
        self.set_count(offset);
        self.compact();
        tail
    }

    /// Splits off the elements before `offset` into a new node.
    pub(super) fn split_front(&mut self, offset: usize) -> Node {
        let pos = self.pos_of(offset);
        let front = Node { buf: self.buf[self.head()..pos].to_vec(), head_at: 0, elems: offset as u32 };
        self.set_head(pos);
        self.set_count(self.count() - offset);
        self.compact();
        front
    }

    /// Moves every element of `other` to the end of this node.
    pub(super) fn append(&mut self, other: Node) {
        self.reserve_back(other.bytes());
        self.buf.extend_from_slice(&other.buf[other.head()..]);
        self.set_count(self.count() + other.count());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elems(n: &Node) -> Vec<Vec<u8>> {
        n.cursor().map(|(_, v)| v.to_vec()).collect()
    }

    fn elems_rev(n: &Node) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut end = n.end();
        while end > n.start() {
            let (v, start) = n.read_bwd(end);
            out.push(v.to_vec());
            end = start;
        }
        out.reverse();
        out
    }

    #[test]
    fn varint_sizes() {
        assert_eq!(entry_size(0), 2);
        assert_eq!(entry_size(127), 129);
        assert_eq!(entry_size(128), 132);
        assert_eq!(entry_size(20000), 20006);
    }

    #[test]
    fn both_directions_agree_for_all_lengths() {
        let mut n = Node::default();
        let lens = [0usize, 1, 5, 127, 128, 300, 16383, 16384, 70000];
        for (i, &l) in lens.iter().enumerate() {
            let v = vec![b'a' + i as u8; l];
            if i % 2 == 0 {
                n.push_back(&v);
            } else {
                n.push_front(&v);
            }
        }
        assert_eq!(n.len(), lens.len());
        assert_eq!(elems(&n), elems_rev(&n));
        assert_eq!(n.first().map(|v| v.len()), Some(16384));
        assert_eq!(n.read_bwd(n.end()).0.len(), 70000);
        for i in 0..n.len() {
            let p = n.pos_of(i);
            assert_eq!(n.read_fwd(p).0, elems(&n)[i].as_slice());
        }
        assert_eq!(n.pos_of(n.len()), n.end());
    }

    #[test]
    fn queue_use_keeps_memory_bounded() {
        let mut n = Node::default();
        for i in 0..100_000u32 {
            n.push_back(&i.to_le_bytes());
            if n.len() > 10 {
                n.remove_front(1);
            }
        }
        assert_eq!(n.len(), 10);
        assert!(n.heap_size() < 2048, "capacity {}", n.heap_size());
        for i in 0..100_000u32 {
            n.push_front(&i.to_le_bytes());
            n.remove_back(1);
        }
        assert!(n.heap_size() < 2048, "capacity {}", n.heap_size());
        assert_eq!(n.first(), Some(&99_999u32.to_le_bytes()[..]));
    }

    #[test]
    fn edits() {
        let mut n = Node::default();
        for v in ["a", "b", "c", "b", "d", "b"] {
            n.push_back(v.as_bytes());
        }
        n.replace_at(n.pos_of(0), b"AA");
        n.replace_at(n.pos_of(1), b"B");
        assert_eq!(elems(&n), [&b"AA"[..], b"B", b"c", b"b", b"d", b"b"]);
        assert_eq!(n.remove_matching(b"b", usize::MAX, true), 2);
        assert_eq!(elems(&n), [&b"AA"[..], b"B", b"c", b"d"]);
        n.insert_at(n.pos_of(2), b"x");
        assert_eq!(elems(&n), [&b"AA"[..], b"B", b"x", b"c", b"d"]);
        let tail = n.split_off(3);
        assert_eq!(elems(&tail), [&b"c"[..], b"d"]);
        let front = n.split_front(1);
        assert_eq!(elems(&front), [&b"AA"[..]]);
        assert_eq!(elems(&n), [&b"B"[..], b"x"]);
        n.append(tail);
        n.remove_range(1, 2);
        assert_eq!(elems(&n), [&b"B"[..], b"d"]);
        assert_eq!(elems(&n), elems_rev(&n));
        n.remove_front(1);
        n.remove_back(5);
        assert_eq!(n.len(), 0);
        assert_eq!(n.bytes(), 0);
    }
}
