//! Redis's zipmap blob, the hash encoding of Redis 2.4 and older (read-only):
//! `[count u8][entries][0xFF]`, each entry `[len][field][len][free u8][value][free bytes]`.
//! A length is one byte below 254, or `0xFE` and a u32 (little-endian, as every Redis that
//! wrote zipmaps ran on). A count of 254 or more means "count the entries".

use super::{RdbError, Result};

const END: u8 = 0xff;
const BIG_LEN: u8 = 0xfe;

/// A field and its value.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

const fn corrupt(what: &'static str) -> RdbError {
    RdbError::Corrupt(what)
}

fn read_len(blob: &[u8], p: &mut usize) -> Result<usize> {
    let b = *blob.get(*p).ok_or(corrupt("zipmap entry past the end"))?;
    if b == END {
        return Err(corrupt("zipmap ends inside an entry"));
    }
    if b < BIG_LEN {
        *p += 1;
        return Ok(b as usize);
    }
    let x = blob.get(*p + 1..*p + 5).ok_or(corrupt("zipmap entry past the end"))?;
    *p += 5;
    Ok(u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize)
}

fn take<'a>(blob: &'a [u8], p: &mut usize, n: usize) -> Result<&'a [u8]> {
    let s = blob.get(*p..*p + n).ok_or(corrupt("zipmap entry past the end"))?;
    *p += n;
    Ok(s)
}

/// Parses a zipmap, checking that every entry lies inside it, that it ends with the
/// terminator, is not empty, and that the count matches.
pub fn parse(blob: &[u8]) -> Result<Vec<Pair<'_>>> {
    if blob.len() < 2 || blob[blob.len() - 1] != END {
        return Err(corrupt("zipmap without terminator"));
    }
    let body = &blob[..blob.len() - 1];
    let mut out = Vec::new();
    let mut p = 1;
    while p < body.len() {
        let flen = read_len(body, &mut p)?;
        let field = take(body, &mut p, flen)?;
        let vlen = read_len(body, &mut p)?;
        let free = *body.get(p).ok_or(corrupt("zipmap entry past the end"))? as usize;
        p += 1;
        let value = take(body, &mut p, vlen)?;
        take(body, &mut p, free)?;
        out.push((field, value));
    }
    if out.is_empty() {
        return Err(RdbError::Empty);
    }
    if blob[0] < BIG_LEN && blob[0] as usize != out.len() {
        return Err(corrupt("zipmap count does not match its entries"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash of Redis's hash-zipmap.rdb: f1 v1 f2 v2.
    const MAP: &[u8] = b"\x02\x02f1\x02\x00v1\x02f2\x02\x00v2\xff";

    #[test]
    fn reads_redis_zipmaps() {
        let want: Vec<Pair<'_>> = vec![(b"f1", b"v1"), (b"f2", b"v2")];
        assert_eq!(parse(MAP), Ok(want));
        // Free bytes after a value and a 5-byte length.
        let mut m = vec![0xfe, 0x01, b'k', 0xfe];
        m.extend_from_slice(&300u32.to_le_bytes());
        m.push(2);
        m.extend_from_slice(&[b'v'; 300]);
        m.extend_from_slice(b"..\xff");
        let got = parse(&m).expect("valid");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1.len(), 300);
    }

    #[test]
    fn corrupt_zipmaps_are_errors() {
        for cut in 0..MAP.len() {
            assert!(parse(&MAP[..cut]).is_err(), "cut {cut}");
        }
        assert!(parse(b"\x00\xff").is_err());
        assert!(parse(b"\x03\x02f1\x02\x00v1\xff").is_err());
        assert!(parse(b"\x01\x02f1\x02\x05v1\xff").is_err());
        assert!(parse(b"\x01\xfe\xff\xff\xff\x7fab\xff").is_err());
        for i in 0..MAP.len() {
            for b in [0u8, 1, 0xfd, 0xfe, 0xff] {
                let mut m = MAP.to_vec();
                m[i] = b;
                let _ = parse(&m);
            }
        }
    }
}
