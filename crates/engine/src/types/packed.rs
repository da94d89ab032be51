//! A packed sequence of byte strings in one buffer: the compact encoding small collections
//! use (Redis calls its equivalent a listpack).
//!
//! Each element is stored as `[varint length][bytes]`, back to back. Lookups are linear, which
//! is fastest for the small sizes this encoding is used for (up to a few hundred elements);
//! collections convert themselves to a hash table or tree past their configured thresholds.
//! Positions handed out by [`Packed::cursor`] are byte offsets, valid until the next change.

/// A byte offset of an element inside a [`Packed`] buffer.
pub type Pos = usize;

/// Most elements a [`Packed`] may hold; collections convert to their big encodings well
/// before (the server clamps the `*-max-listpack-entries` settings to half of it).
pub const MAX_ELEMENTS: usize = 1 << 31;

/// A field with one valid value: enums holding a [`Packed`] can keep their tag in its unused
/// bit patterns, which keeps a set (three representations) at 24 bytes like a hash.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
#[repr(u8)]
enum Niche {
    #[default]
    Only = 0,
}

/// Packed byte strings.
///
/// The buffer is exactly as long as the encoded data (a listpack reallocates on every change
/// too), so the struct is a boxed slice plus a count: 24 bytes, which keeps an `Object` small.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Packed {
    buf: Box<[u8]>,
    len: u32,
    _niche: Niche,
}

fn varint_len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    out.reserve_exact(varint_len(v));
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Packed {
    /// An empty sequence.
    pub fn new() -> Self {
        Packed { buf: Box::default(), len: 0, _niche: Niche::Only }
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Changes the buffer as a `Vec` (whose spare capacity is given back afterwards).
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        super::edit_exact(&mut self.buf, f)
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of heap memory held.
    pub fn heap_size(&self) -> usize {
        self.buf.len()
    }

    /// Bytes of encoded data.
    pub fn encoded_len(&self) -> usize {
        self.buf.len()
    }

    /// Reads the element at `pos`: (its bytes, the position of the next element).
    #[inline]
    fn read(&self, pos: Pos) -> Option<(&[u8], Pos)> {
        let mut len = 0usize;
        let mut shift = 0;
        let mut i = pos;
        loop {
            let b = *self.buf.get(i)?;
            len |= ((b & 0x7f) as usize) << shift;
            i += 1;
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        let data = self.buf.get(i..i + len)?;
        Some((data, i + len))
    }

    /// The element at `pos` (a position obtained from this buffer since its last change).
    pub fn at(&self, pos: Pos) -> Option<&[u8]> {
        self.read(pos).map(|(d, _)| d)
    }

    /// The position after the element at `pos`.
    pub fn next(&self, pos: Pos) -> Option<Pos> {
        self.read(pos).map(|(_, n)| n).filter(|&n| n < self.buf.len())
    }

    /// Iterates over the elements in order.
    pub fn iter(&self) -> PackedIter<'_> {
        PackedIter { p: self, pos: 0 }
    }

    /// Iterates over (position, element) pairs in order.
    pub fn cursor(&self) -> impl Iterator<Item = (Pos, &[u8])> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let (d, next) = self.read(pos)?;
            let here = pos;
            pos = next;
            Some((here, d))
        })
    }

    /// The element at index `i` (O(n)).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.iter().nth(i)
    }

    /// The position of the element at index `i` (O(n)); `i == len()` gives the end position.
    pub fn pos_of_index(&self, i: usize) -> Option<Pos> {
        if i == self.len() {
            return Some(self.buf.len());
        }
        self.cursor().nth(i).map(|(p, _)| p)
    }

    /// Appends an element.
    pub fn push_back(&mut self, v: &[u8]) {
        self.edit(|buf| {
            buf.reserve_exact(varint_len(v.len()) + v.len());
            put_varint(buf, v.len());
            buf.extend_from_slice(v);
        });
        self.len += 1;
    }

    /// Prepends an element.
    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_at(0, v);
    }

    /// Inserts an element before the one at `pos` (or at the end when `pos` is the length of
    /// the encoded data).
    pub fn insert_at(&mut self, pos: Pos, v: &[u8]) {
        let enc = encode(v);
        let pos = pos.min(self.buf.len());
        self.edit(|buf| {
            buf.reserve_exact(enc.len());
            buf.splice(pos..pos, enc);
        });
        self.len += 1;
    }

    /// Removes the element at `pos`.
    pub fn remove_at(&mut self, pos: Pos) {
        if let Some((_, next)) = self.read(pos) {
            self.edit(|buf| drop(buf.drain(pos..next)));
            self.len -= 1;
        }
    }

    /// Removes `count` consecutive elements starting at `pos`.
    pub fn remove_run(&mut self, pos: Pos, count: usize) {
        let mut end = pos;
        let mut removed = 0u32;
        while (removed as usize) < count {
            match self.read(end) {
                Some((_, next)) => {
                    end = next;
                    removed += 1;
                }
                None => break,
            }
        }
        self.edit(|buf| drop(buf.drain(pos..end)));
        self.len -= removed;
    }

    /// Replaces the element at `pos` with `v`.
    pub fn replace_at(&mut self, pos: Pos, v: &[u8]) {
        if let Some((old, next)) = self.read(pos) {
            if old.len() == v.len() {
                let start = next - v.len();
                self.buf[start..next].copy_from_slice(v);
                return;
            }
            let enc = encode(v);
            self.edit(|buf| {
                buf.reserve_exact(enc.len().saturating_sub(next - pos));
                buf.splice(pos..next, enc);
            });
        }
    }

    /// The position of the first element equal to `v`, looking only at every `step`-th element
    /// starting with the first (step 2 searches the fields of field/value pairs).
    pub fn find(&self, v: &[u8], step: usize) -> Option<Pos> {
        self.cursor().step_by(step.max(1)).find(|(_, d)| *d == v).map(|(p, _)| p)
    }

    /// Removes every element.
    pub fn clear(&mut self) {
        self.buf = Box::default();
        self.len = 0;
    }
}

/// The encoding of one element: its varint length, then its bytes.
fn encode(v: &[u8]) -> Vec<u8> {
    let mut enc = Vec::with_capacity(varint_len(v.len()) + v.len());
    put_varint(&mut enc, v.len());
    enc.extend_from_slice(v);
    enc
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(String::from_utf8_lossy)).finish()
    }
}

/// Iterator over a [`Packed`] sequence.
pub struct PackedIter<'a> {
    p: &'a Packed,
    pos: Pos,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (d, next) = self.p.read(self.pos)?;
        self.pos = next;
        Some(d)
    }
}

impl<'a> IntoIterator for &'a Packed {
    type Item = &'a [u8];
    type IntoIter = PackedIter<'a>;

    fn into_iter(self) -> PackedIter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_insert_remove_replace() {
        let mut p = Packed::new();
        p.push_back(b"b");
        p.push_back(&[b'x'; 300]);
        p.push_front(b"a");
        assert_eq!(p.len(), 3);
        assert_eq!(p.get(0), Some(&b"a"[..]));
        assert_eq!(p.get(2).map(|v| v.len()), Some(300));
        let pos = p.find(b"b", 1).expect("b");
        p.replace_at(pos, b"bbb");
        assert_eq!(p.iter().map(|v| v.len()).collect::<Vec<_>>(), vec![1, 3, 300]);
        p.replace_at(pos, b"c");
        assert_eq!(p.get(1), Some(&b"c"[..]));
        let end = p.pos_of_index(3).expect("end");
        p.insert_at(end, b"z");
        assert_eq!(p.get(3), Some(&b"z"[..]));
        p.remove_at(pos);
        assert_eq!(p.iter().collect::<Vec<_>>().len(), 3);
        assert_eq!(p.get(1).map(|v| v.len()), Some(300));
        let first = p.pos_of_index(0).expect("first");
        p.remove_run(first, 2);
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![&b"z"[..]]);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn find_with_step_skips_values() {
        let mut p = Packed::new();
        for (f, v) in [("f1", "f2"), ("f2", "v2")] {
            p.push_back(f.as_bytes());
            p.push_back(v.as_bytes());
        }
        let pos = p.find(b"f2", 2).expect("field f2");
        assert_eq!(p.next(pos).and_then(|n| p.at(n)), Some(&b"v2"[..]));
    }
}
