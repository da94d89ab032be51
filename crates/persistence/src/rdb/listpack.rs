//! Redis's listpack blob: `[total bytes u32 LE][element count u16 LE][entries...][0xFF]`.
//!
//! Each entry is an encoding byte (with, for some encodings, more length bytes), the data, and
//! a "backlen": the size of encoding plus data, written in one to five bytes so it can be read
//! backwards from the entry's end (most significant seven bits first, every byte but the first
//! with its top bit set). Encodings, by their leading bits:
//!
//! | first byte | meaning                                  |
//! |------------|------------------------------------------|
//! | `0xxxxxxx` | unsigned 7-bit integer                   |
//! | `10xxxxxx` | string, 6-bit length                     |
//! | `110xxxxx` | signed 13-bit integer (with next byte)   |
//! | `1110xxxx` | string, 12-bit length (with next byte)   |
//! | `0xF0`     | string, 32-bit LE length follows         |
//! | `0xF1`..`0xF4` | signed 16/24/32/64-bit LE integer    |
//! | `0xFF`     | end of the listpack                      |
//!
//! [`parse`] checks the whole structure (header size and count, every entry inside the blob,
//! every backlen matching its entry, the terminator) before returning anything; [`Writer`]
//! builds listpacks as Redis's `lpAppend` would, storing canonical integer strings as integers.

use super::{Elem, RdbError, Result};
use larder_engine::util::num::parse_i64;

const HDR: usize = 6;
const EOF: u8 = 0xff;
/// The header's element count when the real count does not fit 16 bits.
const COUNT_UNKNOWN: u16 = u16::MAX;
/// Largest listpack Redis will build (`LISTPACK_MAX_SAFETY_SIZE`).
pub const MAX_SAFE_BYTES: usize = 1 << 30;

const fn corrupt(what: &'static str) -> RdbError {
    RdbError::Corrupt(what)
}

/// Bytes a backlen for an entry of `l` bytes takes.
fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Appends the backlen of an entry of `l` bytes.
fn put_backlen(out: &mut Vec<u8>, l: usize) {
    let n = backlen_size(l);
    for i in (0..n).rev() {
        let byte = ((l >> (7 * i)) & 0x7f) as u8;
        out.push(if i == n - 1 { byte } else { byte | 0x80 });
    }
}

/// Reads a backlen ending at `end` (exclusive), walking backwards; `None` if malformed.
fn read_backlen(data: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut val = 0usize;
    let mut shift = 0;
    let mut p = end;
    loop {
        p = p.checked_sub(1)?;
        let b = *data.get(p)?;
        val |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return Some((val, end - p));
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
}

/// Decodes the entry at `pos`: the element and the size of encoding plus data.
fn entry_at(data: &[u8], pos: usize) -> Result<(Elem<'_>, usize)> {
    let at = |i: usize| data.get(pos + i).copied().ok_or(corrupt("listpack entry past the end"));
    let int_le = |n: usize| -> Result<i64> {
        let bytes = data.get(pos + 1..pos + 1 + n).ok_or(corrupt("listpack entry past the end"))?;
        let mut v: u64 = 0;
        for (i, &b) in bytes.iter().enumerate() {
            v |= (b as u64) << (8 * i);
        }
        // Sign-extend from n bytes.
        let shift = 64 - 8 * n as u32;
        Ok(((v << shift) as i64) >> shift)
    };
    let string = |hdr: usize, len: usize| -> Result<(Elem<'_>, usize)> {
        let s = data.get(pos + hdr..pos + hdr + len).ok_or(corrupt("listpack string past the end"))?;
        Ok((Elem::Bytes(s), hdr + len))
    };
    let b = at(0)?;
    match b {
        0x00..=0x7f => Ok((Elem::Int(b as i64), 1)),
        0x80..=0xbf => string(1, (b & 0x3f) as usize),
        0xc0..=0xdf => {
            let v = (((b & 0x1f) as i64) << 8) | at(1)? as i64;
            // 13-bit two's complement.
            Ok((Elem::Int(if v >= 1 << 12 { v - (1 << 13) } else { v }), 2))
        }
        0xe0..=0xef => string(2, (((b & 0x0f) as usize) << 8) | at(1)? as usize),
        0xf0 => {
            let len = u32::from_le_bytes([at(1)?, at(2)?, at(3)?, at(4)?]) as usize;
            string(5, len)
        }
        0xf1 => Ok((Elem::Int(int_le(2)?), 3)),
        0xf2 => Ok((Elem::Int(int_le(3)?), 4)),
        0xf3 => Ok((Elem::Int(int_le(4)?), 5)),
        0xf4 => Ok((Elem::Int(int_le(8)?), 9)),
        _ => Err(corrupt("bad listpack encoding")),
    }
}

/// Parses a whole listpack, checking its structure, and returns its elements in order.
pub fn parse(blob: &[u8]) -> Result<Vec<Elem<'_>>> {
    if blob.len() < HDR + 1 {
        return Err(corrupt("listpack shorter than its header"));
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if total != blob.len() {
        return Err(corrupt("listpack size does not match its header"));
    }
    if blob[blob.len() - 1] != EOF {
        return Err(corrupt("listpack without terminator"));
    }
    let count = u16::from_le_bytes([blob[4], blob[5]]);
    let end = blob.len() - 1;
    // Every entry takes at least two bytes.
    let mut out = Vec::with_capacity((count as usize).min((end - HDR) / 2));
    let mut pos = HDR;
    while pos < end {
        if blob[pos] == EOF {
            return Err(corrupt("listpack terminator before the end"));
        }
        let (elem, size) = entry_at(&blob[..end], pos)?;
        let next = pos + size + backlen_size(size);
        if next > end {
            return Err(corrupt("listpack entry past the end"));
        }
        match read_backlen(blob, next) {
            Some((v, n)) if v == size && n == backlen_size(size) => {}
            _ => return Err(corrupt("listpack backlen does not match its entry")),
        }
        out.push(elem);
        pos = next;
    }
    if count != COUNT_UNKNOWN && count as usize != out.len() {
        return Err(corrupt("listpack count does not match its entries"));
    }
    Ok(out)
}

/// Builds a listpack.
#[derive(Debug, Clone)]
pub struct Writer {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    /// An empty listpack.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HDR]);
        Writer { buf, count: 0 }
    }

    /// Number of elements so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no element was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes the finished listpack will take.
    pub fn byte_len(&self) -> usize {
        self.buf.len() + 1
    }

    /// Bytes an element would add (encoding, data and backlen), as `lpEncodeGetType` sizes it.
    pub fn entry_size(v: &[u8]) -> usize {
        let enc = match parse_i64(v) {
            Some(i) => int_size(i),
            None if v.len() < 64 => 1 + v.len(),
            None if v.len() < 4096 => 2 + v.len(),
            None => 5 + v.len(),
        };
        enc + backlen_size(enc)
    }

    /// Appends a byte string, stored as an integer when it is a canonical one (as Redis does).
    pub fn push(&mut self, v: &[u8]) {
        if let Some(i) = parse_i64(v) {
            return self.push_int(i);
        }
        let start = self.buf.len();
        let len = v.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf.push(0xe0 | (len >> 8) as u8);
            self.buf.push(len as u8);
        } else {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(v);
        self.finish_entry(start);
    }

    /// Appends an integer in the smallest integer encoding.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        match int_size(v) {
            1 => b.push(v as u8),
            2 => {
                let u = (v as u64) & 0x1fff;
                b.push(0xc0 | (u >> 8) as u8);
                b.push(u as u8);
            }
            3 => {
                b.push(0xf1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            4 => {
                b.push(0xf2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            5 => {
                b.push(0xf3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                b.push(0xf4);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.finish_entry(start);
    }

    /// Appends an element.
    pub fn push_elem(&mut self, e: Elem<'_>) {
        match e {
            Elem::Bytes(b) => self.push(b),
            Elem::Int(i) => self.push_int(i),
        }
    }

    fn finish_entry(&mut self, start: usize) {
        let size = self.buf.len() - start;
        put_backlen(&mut self.buf, size);
        self.count += 1;
    }

    /// The finished listpack (header filled in, terminator appended).
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        let count = if self.count < COUNT_UNKNOWN as usize { self.count as u16 } else { COUNT_UNKNOWN };
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Bytes of the integer encoding of `v` (encoding byte included).
fn int_size(v: i64) -> usize {
    match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlen_round_trips() {
        for l in [0, 1, 127, 128, 16382, 16383, 2_097_150, 2_097_151, 268_435_454, 268_435_455, 1 << 30] {
            let mut out = vec![0xaa];
            put_backlen(&mut out, l);
            assert_eq!(out.len() - 1, backlen_size(l), "{l}");
            assert_eq!(read_backlen(&out, out.len()), Some((l, backlen_size(l))), "{l}");
        }
    }

    #[test]
    fn builds_what_redis_builds() {
        // The node of `RPUSH l a b c 1 2` in redis-server 7.0's DUMP.
        let redis = b"\x14\x00\x00\x00\x05\x00\x81a\x02\x81b\x02\x81c\x02\x01\x01\x02\x01\xff";
        let mut w = Writer::new();
        for v in [&b"a"[..], b"b", b"c", b"1", b"2"] {
            w.push(v);
        }
        assert_eq!(w.byte_len(), redis.len());
        assert_eq!(w.finish(), redis);
    }

    #[test]
    fn every_encoding_round_trips() {
        let long = vec![b'q'; 5000];
        let mid = vec![b'm'; 100];
        let vals: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"4096".to_vec(),
            b"-32768".to_vec(),
            b"32767".to_vec(),
            b"-8388608".to_vec(),
            b"8388607".to_vec(),
            b"8388608".to_vec(),
            b"-2147483648".to_vec(),
            b"2147483648".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-0".to_vec(),
            b"007".to_vec(),
            b"".to_vec(),
            b"hello".to_vec(),
            mid.clone(),
            long.clone(),
        ];
        let mut w = Writer::new();
        let mut expect_size = super::HDR + 1;
        for v in &vals {
            expect_size += Writer::entry_size(v);
            w.push(v);
        }
        assert_eq!(w.byte_len(), expect_size);
        let lp = w.finish();
        let got: Vec<Vec<u8>> = parse(&lp).expect("valid").into_iter().map(Elem::to_vec).collect();
        assert_eq!(got, vals);
        // Integers come back as integers, other strings as bytes.
        let elems = parse(&lp).expect("valid");
        assert_eq!(elems[4], Elem::Int(-4096));
        assert_eq!(elems[16], Elem::Bytes(b"-0"));
    }

    #[test]
    fn many_elements_use_the_unknown_count() {
        let mut w = Writer::new();
        for i in 0..70_000 {
            w.push_int(i % 100);
        }
        let lp = w.finish();
        assert_eq!(&lp[4..6], &[0xff, 0xff]);
        assert_eq!(parse(&lp).expect("valid").len(), 70_000);
    }

    #[test]
    fn corrupt_listpacks_are_errors() {
        let mut w = Writer::new();
        for v in [&b"abc"[..], b"12", b"-5000", &[b'x'; 200]] {
            w.push(v);
        }
        let good = w.finish();
        assert!(parse(&good).is_ok());
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err(), "cut {cut}");
        }
        // Wrong total, wrong count, missing terminator, bad backlen, bad encoding.
        let mut bad = good.clone();
        bad[0] ^= 1;
        assert!(parse(&bad).is_err());
        let mut bad = good.clone();
        bad[4] = 9;
        assert!(parse(&bad).is_err());
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 1] = 0;
        assert!(parse(&bad).is_err());
        let mut bad = good.clone();
        bad[HDR + 4] = 7; // backlen of "abc" (4 bytes of entry)
        assert!(parse(&bad).is_err());
        let mut bad = good.clone();
        bad[HDR] = 0xf7;
        assert!(parse(&bad).is_err());
        // A 32-bit string length running past the end.
        let mut bad = good.clone();
        bad[HDR..HDR + 5].copy_from_slice(&[0xf0, 0xff, 0xff, 0xff, 0x7f]);
        assert!(parse(&bad).is_err());
        // Every single-byte corruption fails or parses, never panics.
        for i in 0..good.len() {
            for b in [0u8, 0x7f, 0x80, 0xc0, 0xe0, 0xf0, 0xf4, 0xff] {
                let mut m = good.clone();
                m[i] = b;
                let _ = parse(&m);
            }
        }
    }
}
