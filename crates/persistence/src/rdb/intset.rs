//! Redis's intset blob: `[width u32 LE][count u32 LE][count integers of width bytes, LE]`,
//! where the width is 2, 4 or 8 and the integers are strictly ascending.

use super::{RdbError, Result};

const HDR: usize = 8;

/// Parses an intset, checking the width, the size, and that the members are non-empty,
/// strictly ascending (so also distinct).
pub fn parse(blob: &[u8]) -> Result<Vec<i64>> {
    if blob.len() < HDR {
        return Err(RdbError::Corrupt("intset shorter than its header"));
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(RdbError::Corrupt("bad intset encoding"));
    }
    if count.checked_mul(width).and_then(|n| n.checked_add(HDR)) != Some(blob.len()) {
        return Err(RdbError::Corrupt("intset size does not match its header"));
    }
    if count == 0 {
        return Err(RdbError::Empty);
    }
    let mut out = Vec::with_capacity(count);
    for c in blob[HDR..].chunks_exact(width) {
        let v = match width {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        };
        if out.last().is_some_and(|&prev| prev >= v) {
            return Err(RdbError::Corrupt("intset members out of order or repeated"));
        }
        out.push(v);
    }
    Ok(out)
}

/// Builds an intset of `sorted` (ascending, distinct) in the narrowest width that holds them.
pub fn encode(sorted: &[i64]) -> Vec<u8> {
    let fits = |lo: i64, hi: i64| sorted.iter().all(|&v| (lo..=hi).contains(&v));
    let width: usize = if fits(i16::MIN as i64, i16::MAX as i64) {
        2
    } else if fits(i32::MIN as i64, i32::MAX as i64) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(HDR + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_redis_intsets_of_each_width() {
        // set_zipped_1/2/3 from Redis's encodings.rdb.
        let w16 = b"\x02\x00\x00\x00\x04\x00\x00\x00\x01\x00\x02\x00\x03\x00\x04\x00";
        assert_eq!(parse(w16), Ok(vec![1, 2, 3, 4]));
        let w32 = b"\x04\x00\x00\x00\x04\x00\x00\x00\xa0\x86\x01\x00\x40\x0d\x03\x00\xe0\x93\x04\x00\x80\x1a\x06\x00";
        assert_eq!(parse(w32), Ok(vec![100000, 200000, 300000, 400000]));
        let w64 = b"\x08\x00\x00\x00\x06\x00\x00\x00\x00\xca\x9a\x3b\x00\x00\x00\x00\x00\x94\x35\x77\x00\x00\x00\x00\x00\x5e\xd0\xb2\x00\x00\x00\x00\x00\x28\x6b\xee\x00\x00\x00\x00\x00\xf2\x05\x2a\x01\x00\x00\x00\x00\xbc\xa0\x65\x01\x00\x00\x00";
        let want: Vec<i64> = (1..=6).map(|i| i * 1_000_000_000).collect();
        assert_eq!(parse(w64), Ok(want));
    }

    #[test]
    fn encodes_in_the_narrowest_width() {
        for (vals, width) in
            [(vec![-7i64, 1, 2, 3], 2u8), (vec![-100000, 1, 100000], 4), (vec![i64::MIN, 1, 5_000_000_000], 8)]
        {
            let blob = encode(&vals);
            assert_eq!(blob[0], width);
            assert_eq!(parse(&blob), Ok(vals));
        }
        // SADD s 1 2 3 -7 in redis-server 7.0 (DUMP body after the type byte and length).
        assert_eq!(encode(&[-7, 1, 2, 3]), b"\x02\x00\x00\x00\x04\x00\x00\x00\xf9\xff\x01\x00\x02\x00\x03\x00");
    }

    #[test]
    fn corrupt_intsets_are_errors() {
        let good = encode(&[1, 2, 3]);
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err(), "cut {cut}");
        }
        assert!(parse(&encode(&[3, 2])).is_err());
        assert!(parse(&encode(&[2, 2])).is_err());
        assert_eq!(parse(&encode(&[])), Err(RdbError::Empty));
        let mut bad = good.clone();
        bad[0] = 3;
        assert!(parse(&bad).is_err());
        let mut bad = good;
        bad[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse(&bad).is_err());
    }
}
