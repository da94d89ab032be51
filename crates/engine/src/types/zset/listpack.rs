//! The compact encoding of a small sorted set ("listpack"): member, score, member, score...
//! in one [`Packed`] buffer, sorted by (score, member). Every operation is a linear walk,
//! which is what the small sizes this encoding is used for call for.
//!
//! A score is stored as the big-endian bits of its `f64` with trailing zero bytes dropped:
//! 0 takes no byte, small integers and round fractions two or three, any other value at most
//! eight, and it reads back exactly. As in Redis's listpack (which stores integral scores as
//! integers), `-0` is stored as `0`.

use std::cmp::Ordering;

use super::tree::cmp_key;
use crate::types::packed::{Packed, Pos};

/// A score's stored bytes (at most 8, in a caller-provided buffer).
#[inline]
fn encode_score(score: f64, buf: &mut [u8; 8]) -> &[u8] {
    let score = if score == 0.0 { 0.0 } else { score };
    *buf = score.to_bits().to_be_bytes();
    let used = 8 - buf.iter().rev().take_while(|&&b| b == 0).count();
    &buf[..used]
}

/// The score stored as `b`.
#[inline]
fn decode_score(b: &[u8]) -> f64 {
    let mut bits = [0u8; 8];
    let n = b.len().min(8);
    bits[..n].copy_from_slice(&b[..n]);
    f64::from_bits(u64::from_be_bytes(bits))
}

/// Sorted (member, score) pairs in one buffer.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct ListPack {
    p: Packed,
}

/// Iterator over the pairs of a [`ListPack`], in order.
pub(crate) struct Pairs<'a> {
    it: crate::types::packed::PackedIter<'a>,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], f64);

    #[inline]
    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        let m = self.it.next()?;
        let s = self.it.next()?;
        Some((m, decode_score(s)))
    }
}

impl ListPack {
    /// An empty listpack.
    pub(crate) fn new() -> ListPack {
        ListPack { p: Packed::new() }
    }

    /// Number of pairs.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.p.len() / 2
    }

    /// Bytes of heap memory held.
    pub(crate) fn heap_size(&self) -> usize {
        self.p.heap_size()
    }

    /// The pairs in order.
    #[inline]
    pub(crate) fn iter(&self) -> Pairs<'_> {
        Pairs { it: self.p.iter() }
    }

    /// The pairs with the position of each member.
    fn cursor(&self) -> impl Iterator<Item = (Pos, &[u8], f64)> + '_ {
        let mut c = self.p.cursor();
        std::iter::from_fn(move || {
            let (pos, m) = c.next()?;
            let (_, s) = c.next()?;
            Some((pos, m, decode_score(s)))
        })
    }

    /// The position and score of `member`.
    pub(crate) fn find(&self, member: &[u8]) -> Option<(Pos, f64)> {
        self.cursor().find(|(_, m, _)| *m == member).map(|(p, _, s)| (p, s))
    }

    /// The score of `member`.
    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|(_, s)| s)
    }

    /// The ascending rank and score of `member`.
    pub(crate) fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        self.iter().enumerate().find(|(_, (m, _))| *m == member).map(|(i, (_, s))| (i, s))
    }

    /// Inserts a pair whose member is not present, at its place in the order.
    pub(crate) fn insert(&mut self, member: &[u8], score: f64) {
        let stored = if score == 0.0 { 0.0 } else { score };
        let pos = self
            .cursor()
            .find(|(_, m, s)| cmp_key(*s, m, stored, member) == Ordering::Greater)
            .map(|(p, _, _)| p)
            .unwrap_or(self.p.encoded_len());
        let mut buf = [0u8; 8];
        // Score first, then the member before it: both land at `pos`, in pair order.
        self.p.insert_at(pos, encode_score(stored, &mut buf));
        self.p.insert_at(pos, member);
    }

    /// Removes the pair whose member is at `pos`.
    pub(crate) fn remove_at(&mut self, pos: Pos) {
        self.p.remove_run(pos, 2);
    }

    /// Removes `member`, returning its score.
    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (pos, s) = self.find(member)?;
        self.remove_at(pos);
        Some(s)
    }

    /// The pair at ascending `rank`.
    pub(crate) fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.iter().nth(rank)
    }

    /// Number of leading pairs for which `pred` holds (it must hold for a prefix).
    pub(crate) fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.iter().take_while(|(m, s)| pred(*s, m)).count()
    }

    /// Removes the pairs at ranks `lo..hi`.
    pub(crate) fn remove_ranks(&mut self, lo: usize, hi: usize) {
        let hi = hi.min(self.len());
        if lo >= hi {
            return;
        }
        if let Some(pos) = self.p.pos_of_index(2 * lo) {
            self.p.remove_run(pos, 2 * (hi - lo));
        }
    }

    /// Appends a pair that sorts after every stored one (building from sorted input).
    pub(crate) fn push_sorted(&mut self, member: &[u8], score: f64) {
        let mut buf = [0u8; 8];
        self.p.push_back(member);
        self.p.push_back(encode_score(score, &mut buf));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_compactly() {
        let mut buf = [0u8; 8];
        for s in [0.0, 1.0, -1.0, 0.5, 1e300, -1e-300, f64::INFINITY, f64::NEG_INFINITY, 0.1, 1_700_000_000.0, 5e-324] {
            let b = encode_score(s, &mut buf).to_vec();
            assert_eq!(decode_score(&b).to_bits(), s.to_bits(), "{s}");
        }
        assert_eq!(encode_score(0.0, &mut buf).len(), 0);
        assert_eq!(encode_score(1.0, &mut buf).len(), 2);
        assert_eq!(encode_score(-0.0, &mut buf).len(), 0, "-0 is stored as 0");
        assert!(encode_score(1_700_000_000.0, &mut buf).len() <= 5);
    }

    #[test]
    fn insert_keeps_order_and_finds() {
        let mut lp = ListPack::new();
        lp.insert(b"b", 2.0);
        lp.insert(b"a", 2.0);
        lp.insert(b"z", -1.0);
        lp.insert(b"m", 0.0);
        lp.insert(b"big", 1e10);
        let all: Vec<_> = lp.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        let want: Vec<(Vec<u8>, f64)> = vec![
            (b"z".to_vec(), -1.0),
            (b"m".to_vec(), 0.0),
            (b"a".to_vec(), 2.0),
            (b"b".to_vec(), 2.0),
            (b"big".to_vec(), 1e10),
        ];
        assert_eq!(all, want);
        assert_eq!(lp.rank(b"a"), Some((2, 2.0)));
        assert_eq!(lp.score(b"big"), Some(1e10));
        assert_eq!(lp.count_while(|s, _| s < 2.0), 2);
        assert_eq!(lp.remove(b"m"), Some(0.0));
        assert_eq!(lp.remove(b"m"), None);
        lp.remove_ranks(1, 3);
        let all: Vec<_> = lp.iter().map(|(m, _)| m.to_vec()).collect();
        assert_eq!(all, vec![b"z".to_vec(), b"big".to_vec()]);
        assert_eq!(lp.get(1), Some((&b"big"[..], 1e10)));
    }
}
