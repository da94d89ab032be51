//! The RDB building blocks: a bounds-checked [`Reader`], length encoding, and string encoding.
//!
//! A length is one to nine bytes: the top two bits of the first byte say `00` = 6-bit length,
//! `01` = 14-bit (big-endian with the next byte), `10` = a 32-bit (`0x80`) or 64-bit (`0x81`)
//! big-endian length follows, `11` = a special string encoding in the low six bits: an 8-, 16-
//! or 32-bit little-endian integer, or an LZF-compressed string (compressed length, original
//! length, data).

use std::borrow::Cow;

use super::{lzf, RdbError, Result};
use larder_engine::util::num::parse_i64;

const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;
const ENC_VAL: u8 = 3;

/// Special string encoding: 8-bit integer.
pub const ENC_INT8: u8 = 0;
/// Special string encoding: 16-bit integer.
pub const ENC_INT16: u8 = 1;
/// Special string encoding: 32-bit integer.
pub const ENC_INT32: u8 = 2;
/// Special string encoding: LZF-compressed string.
pub const ENC_LZF: u8 = 3;

/// Strings at most this long are tried as integers (Redis: `len <= 11`).
const INT_TRY_MAX_LEN: usize = 11;
/// Strings at most this long are never compressed (Redis: `len > 20` to try LZF).
const LZF_MIN_LEN: usize = 20;

/// A cursor over bytes that fails, rather than panics, when asked for more than is left.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// True when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or(RdbError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        if n > self.remaining() as u64 {
            return Err(RdbError::Truncated);
        }
        let n = n as usize;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N as u64)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A little-endian `u64` (millisecond times, binary doubles).
    pub fn u64_le(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

/// What a length field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// A plain length or count.
    Len(u64),
    /// A special string encoding (`ENC_*`).
    Special(u8),
}

/// Reads a length field.
pub fn read_length(r: &mut Reader<'_>) -> Result<Length> {
    let b = r.u8()?;
    Ok(match b >> 6 {
        LEN_6BIT => Length::Len((b & 0x3f) as u64),
        LEN_14BIT => Length::Len((((b & 0x3f) as u64) << 8) | r.u8()? as u64),
        ENC_VAL => Length::Special(b & 0x3f),
        _ if b == LEN_32BIT => Length::Len(u32::from_be_bytes(r.array()?) as u64),
        _ if b == LEN_64BIT => Length::Len(u64::from_be_bytes(r.array()?)),
        _ => return Err(RdbError::Corrupt("unknown length encoding")),
    })
}

/// Reads a plain length (a special encoding here is an error).
pub fn read_len(r: &mut Reader<'_>) -> Result<u64> {
    match read_length(r)? {
        Length::Len(n) => Ok(n),
        Length::Special(_) => Err(RdbError::Corrupt("encoded value where a length was expected")),
    }
}

/// Appends a length in the shortest form.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push((LEN_14BIT << 6) | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(LEN_32BIT);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Reads a string in any encoding: raw bytes are borrowed, integers and LZF are decoded.
pub fn read_string<'a>(r: &mut Reader<'a>) -> Result<Cow<'a, [u8]>> {
    match read_length(r)? {
        Length::Len(n) => Ok(Cow::Borrowed(r.take(n)?)),
        Length::Special(ENC_INT8) => Ok(Cow::Owned(int_text(r.u8()? as i8 as i64))),
        Length::Special(ENC_INT16) => Ok(Cow::Owned(int_text(i16::from_le_bytes(r.array()?) as i64))),
        Length::Special(ENC_INT32) => Ok(Cow::Owned(int_text(i32::from_le_bytes(r.array()?) as i64))),
        Length::Special(ENC_LZF) => {
            let clen = read_len(r)?;
            let len = read_len(r)?;
            let data = r.take(clen)?;
            let len = usize::try_from(len).map_err(|_| RdbError::Corrupt("LZF length too large"))?;
            Ok(Cow::Owned(lzf::decompress(data, len)?))
        }
        Length::Special(_) => Err(RdbError::Corrupt("unknown string encoding")),
    }
}

fn int_text(v: i64) -> Vec<u8> {
    super::IntBuf::new().format(v).to_vec()
}

/// Appends `v` in the special integer encodings when it fits 32 bits; returns false otherwise.
fn write_small_int(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[(ENC_VAL << 6) | ENC_INT8, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push((ENC_VAL << 6) | ENC_INT16);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push((ENC_VAL << 6) | ENC_INT32);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends a string as Redis's `rdbSaveRawString` does: a short canonical integer in the
/// integer encodings, else LZF when `compress` is set and it saves at least four bytes, else
/// the length and the bytes.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= INT_TRY_MAX_LEN {
        if let Some(v) = parse_i64(s) {
            if write_small_int(out, v) {
                return;
            }
        }
    }
    if compress && s.len() > LZF_MIN_LEN {
        if let Some(c) = lzf::compress(s, s.len() - 4) {
            out.push((ENC_VAL << 6) | ENC_LZF);
            write_len(out, c.len() as u64);
            write_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends an integer-valued string (Redis's `rdbSaveLongLongAsStringObject`): the integer
/// encodings when it fits 32 bits, else its decimal text.
pub fn write_int_string(out: &mut Vec<u8>, v: i64) {
    if !write_small_int(out, v) {
        let mut buf = super::IntBuf::new();
        let text = buf.format(v);
        write_len(out, text.len() as u64);
        out.extend_from_slice(text);
    }
}

/// Reads a double in the old text form (`ZSET` type): a length byte, then that many bytes of
/// decimal text; 253, 254 and 255 stand for NaN, +inf and -inf.
pub fn read_text_double(r: &mut Reader<'_>) -> Result<f64> {
    let n = r.u8()?;
    match n {
        255 => Ok(f64::NEG_INFINITY),
        254 => Ok(f64::INFINITY),
        253 => Ok(f64::NAN),
        _ => {
            let text = r.take(n as u64)?;
            parse_double(text).ok_or(RdbError::Corrupt("bad double text"))
        }
    }
}

/// Parses a score written as text (old sorted-set encodings, listpack scores): what `strtod`
/// accepts, infinities included.
pub fn parse_double(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    let v: f64 = s.parse().ok()?;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_in_each_width() {
        for (n, width) in [(0u64, 1), (63, 1), (64, 2), (16383, 2), (16384, 5), (u32::MAX as u64, 5), (1 << 32, 9)] {
            let mut out = Vec::new();
            write_len(&mut out, n);
            assert_eq!(out.len(), width, "{n}");
            let mut r = Reader::new(&out);
            assert_eq!(read_len(&mut r), Ok(n));
            assert!(r.is_empty());
        }
        // Redis writes 300 as 14-bit: 0x41 0x2c.
        let mut out = Vec::new();
        write_len(&mut out, 300);
        assert_eq!(out, [0x41, 0x2c]);
    }

    #[test]
    fn strings_use_integer_encodings_like_redis() {
        let cases: [(&[u8], &[u8]); 7] = [
            (b"10", b"\xc0\x0a"),
            (b"-5", b"\xc0\xfb"),
            (b"12345", b"\xc1\x39\x30"),
            (b"-2147483648", b"\xc2\x00\x00\x00\x80"),
            (b"2147483648", b"\x0a2147483648"),
            (b"007", b"\x03007"),
            (b"", b"\x00"),
        ];
        for (s, want) in cases {
            let mut out = Vec::new();
            write_string(&mut out, s, true);
            assert_eq!(out, want, "{:?}", String::from_utf8_lossy(s));
            let mut r = Reader::new(&out);
            assert_eq!(read_string(&mut r).expect("reads").as_ref(), s);
            assert!(r.is_empty());
        }
        let mut out = Vec::new();
        write_int_string(&mut out, 9_223_372_036_854_775_807);
        assert_eq!(out, b"\x139223372036854775807");
    }

    #[test]
    fn long_repetitive_strings_are_compressed_only_when_asked() {
        let s = vec![b'z'; 500];
        let mut packed = Vec::new();
        write_string(&mut packed, &s, true);
        assert_eq!(packed[0], 0xc3);
        assert!(packed.len() < 30);
        assert_eq!(read_string(&mut Reader::new(&packed)).expect("reads").as_ref(), &s[..]);
        let mut plain = Vec::new();
        write_string(&mut plain, &s, false);
        assert_eq!(plain.len(), 502);
        // 20 bytes or fewer are never compressed.
        let mut short = Vec::new();
        write_string(&mut short, &[b'a'; 20], true);
        assert_eq!(short.len(), 21);
    }

    #[test]
    fn text_doubles() {
        let mut r = Reader::new(b"\x03100\xfe\xff\xfd\x041.50");
        assert_eq!(read_text_double(&mut r), Ok(100.0));
        assert_eq!(read_text_double(&mut r), Ok(f64::INFINITY));
        assert_eq!(read_text_double(&mut r), Ok(f64::NEG_INFINITY));
        assert!(read_text_double(&mut r).expect("nan").is_nan());
        assert_eq!(read_text_double(&mut r), Ok(1.5));
        assert!(read_text_double(&mut Reader::new(b"\x02zz")).is_err());
    }

    #[test]
    fn truncated_and_bad_input_is_an_error() {
        assert_eq!(read_len(&mut Reader::new(b"")), Err(RdbError::Truncated));
        assert_eq!(read_len(&mut Reader::new(b"\x41")), Err(RdbError::Truncated));
        assert_eq!(read_len(&mut Reader::new(b"\x80\x00\x00")), Err(RdbError::Truncated));
        assert_eq!(read_len(&mut Reader::new(b"\x81\x00")), Err(RdbError::Truncated));
        assert!(read_len(&mut Reader::new(b"\x82")).is_err());
        assert!(read_len(&mut Reader::new(b"\xc0\x01")).is_err());
        assert!(read_string(&mut Reader::new(b"\x05abc")).is_err());
        assert!(read_string(&mut Reader::new(b"\xc1\x01")).is_err());
        assert!(read_string(&mut Reader::new(b"\xc4")).is_err());
        // A huge declared length is refused without allocating.
        assert!(read_string(&mut Reader::new(b"\x81\xff\xff\xff\xff\xff\xff\xff\xffabc")).is_err());
        // LZF: lengths larger than the data, truncated data, bad data.
        assert!(read_string(&mut Reader::new(b"\xc3\x02\x81\xff\xff\xff\xff\xff\xff\xff\xff\x00a")).is_err());
        assert!(read_string(&mut Reader::new(b"\xc3\x05\x05\x00a")).is_err());
        assert!(read_string(&mut Reader::new(b"\xc3\x02\x05\x00a")).is_err());
    }
}
