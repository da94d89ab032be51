//! Redis's ziplist blob (read-only: Redis stopped writing it in 7.0, but older RDB files and
//! DUMP payloads hold it): `[total bytes u32 LE][tail offset u32 LE][count u16 LE][entries]
//! [0xFF]`.
//!
//! Each entry is the previous entry's size (one byte below 254, else `0xFE` and a u32 LE),
//! an encoding, and the data. Encodings, by the first byte:
//!
//! | first byte   | meaning                                          |
//! |--------------|--------------------------------------------------|
//! | `00xxxxxx`   | string, 6-bit length                             |
//! | `01xxxxxx`   | string, 14-bit big-endian length (with next byte)|
//! | `10000000`   | string, 32-bit big-endian length follows         |
//! | `0xC0`       | int16 LE                                         |
//! | `0xD0`       | int32 LE                                         |
//! | `0xE0`       | int64 LE                                         |
//! | `0xF0`       | int24 LE                                         |
//! | `0xFE`       | int8                                             |
//! | `0xF1..0xFD` | the integer 0..12 in the low four bits, minus one|
//!
//! [`parse`] checks the header, that every entry lies inside the blob, that each entry's
//! previous-size field matches, that the tail offset points at the last entry and that the
//! count matches (when it is not the "unknown" 65535).

use super::{Elem, RdbError, Result};

const HDR: usize = 10;
const END: u8 = 0xff;
const BIG_PREVLEN: u8 = 0xfe;

const fn corrupt(what: &'static str) -> RdbError {
    RdbError::Corrupt(what)
}

/// Decodes the entry at `pos` of `data` (which ends before the terminator): the previous
/// entry's size, the element, and this entry's total size.
fn entry_at(data: &[u8], pos: usize) -> Result<(usize, Elem<'_>, usize)> {
    let past = || corrupt("ziplist entry past the end");
    let byte = |i: usize| data.get(i).copied().ok_or(past());
    let (prevlen, mut p) = if byte(pos)? < BIG_PREVLEN {
        (byte(pos)? as usize, pos + 1)
    } else {
        let b = data.get(pos + 1..pos + 5).ok_or(past())?;
        (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, pos + 5)
    };
    let enc = byte(p)?;
    let int = |p: usize, n: usize| -> Result<i64> {
        let b = data.get(p..p + n).ok_or(past())?;
        let mut v: u64 = 0;
        for (i, &x) in b.iter().enumerate() {
            v |= (x as u64) << (8 * i);
        }
        let shift = 64 - 8 * n as u32;
        Ok(((v << shift) as i64) >> shift)
    };
    let (elem, end) = match enc >> 6 {
        0 => {
            let len = (enc & 0x3f) as usize;
            p += 1;
            (Elem::Bytes(data.get(p..p + len).ok_or(past())?), p + len)
        }
        1 => {
            let len = (((enc & 0x3f) as usize) << 8) | byte(p + 1)? as usize;
            p += 2;
            (Elem::Bytes(data.get(p..p + len).ok_or(past())?), p + len)
        }
        2 if enc == 0x80 => {
            let b = data.get(p + 1..p + 5).ok_or(past())?;
            let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            p += 5;
            (Elem::Bytes(data.get(p..p + len).ok_or(past())?), p + len)
        }
        2 => return Err(corrupt("bad ziplist string encoding")),
        _ => match enc {
            0xc0 => (Elem::Int(int(p + 1, 2)?), p + 3),
            0xd0 => (Elem::Int(int(p + 1, 4)?), p + 5),
            0xe0 => (Elem::Int(int(p + 1, 8)?), p + 9),
            0xf0 => (Elem::Int(int(p + 1, 3)?), p + 4),
            0xfe => (Elem::Int(int(p + 1, 1)?), p + 2),
            0xf1..=0xfd => (Elem::Int((enc & 0x0f) as i64 - 1), p + 1),
            _ => return Err(corrupt("bad ziplist integer encoding")),
        },
    };
    Ok((prevlen, elem, end - pos))
}

/// Parses a whole ziplist, checking its structure, and returns its elements in order.
pub fn parse(blob: &[u8]) -> Result<Vec<Elem<'_>>> {
    if blob.len() < HDR + 1 {
        return Err(corrupt("ziplist shorter than its header"));
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let tail = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    let count = u16::from_le_bytes([blob[8], blob[9]]);
    if total != blob.len() {
        return Err(corrupt("ziplist size does not match its header"));
    }
    let end = blob.len() - 1;
    if blob[end] != END {
        return Err(corrupt("ziplist without terminator"));
    }
    if tail > end {
        return Err(corrupt("ziplist tail offset past the end"));
    }
    let data = &blob[..end];
    let mut out = Vec::with_capacity((count as usize).min((end - HDR) / 2));
    let mut pos = HDR;
    let mut prev_size = 0;
    let mut last = None;
    while pos < end {
        if blob[pos] == END {
            return Err(corrupt("ziplist terminator before the end"));
        }
        let (prevlen, elem, size) = entry_at(data, pos)?;
        if prevlen != prev_size {
            return Err(corrupt("ziplist previous-entry size does not match"));
        }
        out.push(elem);
        last = Some(pos);
        prev_size = size;
        pos += size;
    }
    if last.unwrap_or(HDR) != tail {
        return Err(corrupt("ziplist tail offset does not point at the last entry"));
    }
    if count != u16::MAX && count as usize != out.len() {
        return Err(corrupt("ziplist count does not match its entries"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `list_zipped` from Redis's encodings.rdb (written by Redis 2.x).
    const LIST: &[u8] = b"0\x00\x00\x00\x25\x00\x00\x00\x08\x00\x00\xc0\x01\x00\x04\xc0\x02\x00\x04\xc0\x03\x00\x04\x01a\x03\x01b\x03\x01c\x03\xd0\xa0\x86\x01\x00\x06\xe0\x00\xbc\xa0\x65\x01\x00\x00\x00\xff";

    #[test]
    fn reads_redis_ziplists() {
        let got: Vec<Vec<u8>> = parse(LIST).expect("valid").into_iter().map(Elem::to_vec).collect();
        let want: Vec<&[u8]> = vec![b"1", b"2", b"3", b"a", b"b", b"c", b"100000", b"6000000000"];
        assert_eq!(got, want);
        // hash-ziplist.rdb: f1 v1 f2 v2.
        let hash = b"\x1b\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02f1\x04\x02v1\x04\x02f2\x04\x02v2\xff";
        let got: Vec<Vec<u8>> = parse(hash).expect("valid").into_iter().map(Elem::to_vec).collect();
        assert_eq!(got, vec![b"f1".to_vec(), b"v1".to_vec(), b"f2".to_vec(), b"v2".to_vec()]);
        // zset-ziplist.rdb: one 1 two 2, scores as immediate integers.
        let zset = b"\x19\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x03one\x05\xf2\x02\x03two\x05\xf3\xff";
        assert_eq!(parse(zset).expect("valid")[1], Elem::Int(1));
        // list-quicklist.rdb: one node holding 7.
        let node = b"\x0d\x00\x00\x00\x0a\x00\x00\x00\x01\x00\x00\xf8\xff";
        assert_eq!(parse(node).expect("valid"), vec![Elem::Int(7)]);
    }

    #[test]
    fn every_integer_width_and_long_strings() {
        // Build a ziplist by hand: int8 -3, int24 -100000, int16 300, 14-bit string of 100
        // bytes, 32-bit string of 70 bytes, with a big prevlen after the 100-byte entry.
        let mut body = Vec::new();
        let mut sizes = Vec::new();
        let push = |body: &mut Vec<u8>, prev: usize, entry: &[u8]| {
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(0xfe);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(entry);
            body.len()
        };
        let s100 = [&[0x40u8, 100][..], &[b'x'; 100][..]].concat();
        let s70 = [&[0x80u8, 0, 0, 0, 70][..], &[b'y'; 70][..]].concat();
        let entries: Vec<Vec<u8>> = vec![
            vec![0xfe, 0xfd],
            [&[0xf0u8][..], &(-100000i32).to_le_bytes()[..3]].concat(),
            [&[0xc0u8][..], &300i16.to_le_bytes()[..]].concat(),
            s100,
            s70,
        ];
        let mut prev = 0;
        let mut starts = Vec::new();
        for e in &entries {
            let start = body.len();
            starts.push(start);
            let end = push(&mut body, prev, e);
            prev = end - start;
            sizes.push(prev);
        }
        let total = HDR + body.len() + 1;
        let mut zl = Vec::new();
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        zl.extend_from_slice(&((HDR + starts[4]) as u32).to_le_bytes());
        zl.extend_from_slice(&5u16.to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(0xff);
        let got = parse(&zl).expect("valid");
        assert_eq!(got[0], Elem::Int(-3));
        assert_eq!(got[1], Elem::Int(-100000));
        assert_eq!(got[2], Elem::Int(300));
        assert_eq!(got[3], Elem::Bytes(&[b'x'; 100]));
        assert_eq!(got[4], Elem::Bytes(&[b'y'; 70]));
        assert!(sizes[3] > 100);
    }

    #[test]
    fn corrupt_ziplists_are_errors() {
        for cut in 0..LIST.len() {
            assert!(parse(&LIST[..cut]).is_err(), "cut {cut}");
        }
        let mut bad = LIST.to_vec();
        bad[4] = 0x20; // tail offset
        assert!(parse(&bad).is_err());
        let mut bad = LIST.to_vec();
        bad[8] = 7; // count
        assert!(parse(&bad).is_err());
        let mut bad = LIST.to_vec();
        bad[HDR + 4] = 9; // prevlen of the second entry
        assert!(parse(&bad).is_err());
        let mut bad = LIST.to_vec();
        bad[HDR + 1] = 0x81; // bad encoding
        assert!(parse(&bad).is_err());
        for i in 0..LIST.len() {
            for b in [0u8, 0x3f, 0x40, 0x80, 0xc0, 0xfe, 0xff] {
                let mut m = LIST.to_vec();
                m[i] = b;
                let _ = parse(&m);
            }
        }
    }
}
