//! Views of a request's arguments ([`Args`]) and an owned copy ([`OwnedArgs`]).

use std::fmt;
use std::iter::FusedIterator;

/// A borrowed view of a request's arguments: byte ranges (`(start, end)`)
/// into one base slice.
///
/// Cheap to copy; handlers receive it by value.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    base: &'a [u8],
    spans: &'a [(usize, usize)],
}

impl<'a> Args<'a> {
    /// A view whose argument `i` is `base[spans[i].0..spans[i].1]`.
    ///
    /// Every span must lie inside `base`; accessing one that does not panics
    /// (a bug in the caller, never a consequence of input bytes).
    #[inline]
    pub fn new(base: &'a [u8], spans: &'a [(usize, usize)]) -> Self {
        Args { base, spans }
    }

    /// Number of arguments (including the command name).
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are no arguments.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i`, or `None` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let &(start, end) = self.spans.get(i)?;
        self.base.get(start..end)
    }

    /// The arguments in order.
    ///
    /// Returns a named iterator (also `ExactSizeIterator` and
    /// `DoubleEndedIterator`) so callers can store it.
    #[inline]
    pub fn iter(&self) -> ArgsIter<'a> {
        ArgsIter { base: self.base, spans: self.spans.iter() }
    }

    /// The arguments from index `from` on (`args[from..]`); empty when `from`
    /// is past the end.
    #[inline]
    pub fn slice(&self, from: usize) -> Args<'a> {
        Args { base: self.base, spans: self.spans.get(from..).unwrap_or(&[]) }
    }
}

impl std::ops::Index<usize> for Args<'_> {
    type Output = [u8];

    /// Argument `i`. Panics when `i >= len()` (a caller bug: dispatch checks
    /// arity before a handler indexes).
    #[inline]
    fn index(&self, i: usize) -> &[u8] {
        let (start, end) = self.spans[i];
        &self.base[start..end]
    }
}

impl<'a> IntoIterator for Args<'a> {
    type Item = &'a [u8];
    type IntoIter = ArgsIter<'a>;

    #[inline]
    fn into_iter(self) -> ArgsIter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Args<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|a| String::from_utf8_lossy(a))).finish()
    }
}

impl PartialEq for Args<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Args<'_> {}

/// Iterator over the arguments of an [`Args`].
#[derive(Clone)]
pub struct ArgsIter<'a> {
    base: &'a [u8],
    spans: std::slice::Iter<'a, (usize, usize)>,
}

impl<'a> Iterator for ArgsIter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let &(start, end) = self.spans.next()?;
        Some(&self.base[start..end])
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl DoubleEndedIterator for ArgsIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        let &(start, end) = self.spans.next_back()?;
        Some(&self.base[start..end])
    }
}

impl ExactSizeIterator for ArgsIter<'_> {}

impl FusedIterator for ArgsIter<'_> {}

/// An owned copy of a request's arguments (for MULTI queues, scripts, AOF):
/// all argument bytes in one `Vec<u8>` plus their ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnedArgs {
    data: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl OwnedArgs {
    /// Copies the arguments of `a` (two allocations, whatever the count).
    pub fn from_args(a: Args<'_>) -> Self {
        let total = a.iter().map(<[u8]>::len).sum();
        let mut owned = OwnedArgs { data: Vec::with_capacity(total), spans: Vec::with_capacity(a.len()) };
        for arg in a.iter() {
            owned.push(arg);
        }
        owned
    }

    /// Builds arguments from anything yielding byte strings, e.g.
    /// `OwnedArgs::from_slices(["SET", "k", "v"])`.
    pub fn from_slices<I: IntoIterator<Item = impl AsRef<[u8]>>>(it: I) -> Self {
        let mut owned = OwnedArgs::default();
        for arg in it {
            owned.push(arg.as_ref());
        }
        owned
    }

    /// A borrowed view of the arguments.
    #[inline]
    pub fn args(&self) -> Args<'_> {
        Args::new(&self.data, &self.spans)
    }

    /// Appends one argument.
    pub fn push(&mut self, arg: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(arg);
        self.spans.push((start, self.data.len()));
    }

    /// Number of arguments.
    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Total bytes of the arguments.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Removes every argument, keeping the buffers for reuse.
    pub fn clear(&mut self) {
        self.data.clear();
        self.spans.clear();
    }

    /// Whether there are no arguments.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_accessors() {
        let base = b"GETkeyxx";
        let spans = [(0, 3), (3, 6), (6, 6)];
        let a = Args::new(base, &spans);
        assert_eq!(a.len(), 3);
        assert!(!a.is_empty());
        assert_eq!(a.get(0), Some(&b"GET"[..]));
        assert_eq!(a.get(2), Some(&b""[..]));
        assert_eq!(a.get(3), None);
        assert_eq!(&a[1], b"key");
        let v: Vec<&[u8]> = a.iter().collect();
        assert_eq!(v, vec![&b"GET"[..], b"key", b""]);
        let r: Vec<&[u8]> = a.iter().rev().collect();
        assert_eq!(r, vec![&b""[..], b"key", b"GET"]);
        assert_eq!(a.iter().len(), 3);
        let s = a.slice(1);
        assert_eq!(s.len(), 2);
        assert_eq!(&s[0], b"key");
        assert!(a.slice(3).is_empty());
        assert!(a.slice(10).is_empty());
        assert_eq!(format!("{a:?}"), r#"["GET", "key", ""]"#);
        assert!(Args::new(b"", &[]).is_empty());
    }

    #[test]
    #[should_panic]
    fn index_past_end_panics() {
        let spans = [(0, 1)];
        let a = Args::new(b"x", &spans);
        let _ = &a[1];
    }

    #[test]
    fn owned_round_trip() {
        let base = b"SETkv";
        let spans = [(0, 3), (3, 4), (4, 5)];
        let a = Args::new(base, &spans);
        let mut o = OwnedArgs::from_args(a);
        assert_eq!(o.args(), a);
        assert_eq!(o.len(), 3);
        o.push(b"EX");
        assert_eq!(o, OwnedArgs::from_slices(["SET", "k", "v", "EX"]));
        assert_eq!(OwnedArgs::from_slices(vec![b"a".to_vec(), Vec::new()]).args().get(1), Some(&b""[..]));
        assert!(OwnedArgs::default().is_empty());
    }
}
