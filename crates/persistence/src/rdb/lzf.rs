//! LZF, the compression Redis applies to RDB strings (`rdbcompression yes`) and quicklist
//! nodes, written from the format's description:
//!
//! - a control byte below 32 starts a literal run of `ctrl + 1` bytes that follow it;
//! - otherwise it is a back reference: the top three bits are the match length minus two (7
//!   means "7 plus the next byte"), the low five bits the high bits of the distance, and the
//!   next byte its low bits. A reference copies `len + 2` bytes starting `distance + 1` bytes
//!   back in the output, byte by byte (so it may overlap what it produces).
//!
//! The compressor is a greedy single-pass matcher over a hash of three-byte prefixes; its
//! output differs from liblzf's byte for byte but any LZF decoder reads it. The decompressor
//! checks every length and distance against the buffers and never writes past the size the
//! caller expects.

use super::{RdbError, Result};

/// Longest literal run one control byte covers.
const MAX_LIT: usize = 32;
/// Farthest a back reference reaches (13-bit distance, plus one).
const MAX_OFF: usize = 1 << 13;
/// Longest match one back reference covers (7 + 255 + 2).
const MAX_REF: usize = 264;
/// Most bits of the three-byte hash (the table is sized to the input, up to this).
const HASH_LOG_MAX: u32 = 14;
/// Fewest bits of the three-byte hash.
const HASH_LOG_MIN: u32 = 6;
/// Most bytes one input byte of LZF can expand to (a 3-byte reference yielding 264 bytes).
pub const MAX_EXPANSION: usize = 88;

#[inline]
fn hash3(p: &[u8], bits: u32) -> usize {
    let v = (p[0] as u32) << 16 | (p[1] as u32) << 8 | p[2] as u32;
    (v.wrapping_mul(2_654_435_761) >> (32 - bits)) as usize
}

/// Appends `lit` as literal runs; false when `out` would exceed `max`.
fn put_literals(out: &mut Vec<u8>, lit: &[u8], max: usize) -> bool {
    for run in lit.chunks(MAX_LIT) {
        if out.len() + 1 + run.len() > max {
            return false;
        }
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
    true
}

/// Compresses `input`, or returns `None` when the result would be longer than `max_out`
/// bytes (Redis stores a string compressed only when that saves at least four bytes).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(max_out.min(input.len()));
    // A table about the size of the input: short strings (most of what RDB compresses) do not
    // pay for clearing a large one.
    let bits = input.len().next_power_of_two().trailing_zeros().clamp(HASH_LOG_MIN, HASH_LOG_MAX);
    let mut table = vec![usize::MAX; 1 << bits];
    let mut lit_start = 0;
    let mut ip = 0;
    while ip + 2 < input.len() {
        let h = hash3(&input[ip..], bits);
        let cand = table[h];
        table[h] = ip;
        let hit = cand != usize::MAX && ip - cand <= MAX_OFF && input[cand..cand + 3] == input[ip..ip + 3];
        if !hit {
            ip += 1;
            continue;
        }
        let max_len = MAX_REF.min(input.len() - ip);
        let mut len = 3;
        while len < max_len && input[cand + len] == input[ip + len] {
            len += 1;
        }
        if !put_literals(&mut out, &input[lit_start..ip], max_out) {
            return None;
        }
        let off = ip - cand - 1;
        let code = len - 2;
        let need = if code < 7 { 2 } else { 3 };
        if out.len() + need > max_out {
            return None;
        }
        if code < 7 {
            out.push(((code as u8) << 5) | (off >> 8) as u8);
        } else {
            out.push((7 << 5) | (off >> 8) as u8);
            out.push((code - 7) as u8);
        }
        out.push((off & 0xff) as u8);
        // Index a few positions inside the match so the next ones can refer to them.
        let end = ip + len;
        let mut p = ip + 1;
        while p + 2 < input.len() && p < end && p < ip + 4 {
            table[hash3(&input[p..], bits)] = p;
            p += 1;
        }
        ip = end;
        lit_start = ip;
    }
    if !put_literals(&mut out, &input[lit_start..], max_out) {
        return None;
    }
    Some(out)
}

/// Decompresses `input`, which must produce exactly `out_len` bytes.
pub fn decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>> {
    if out_len > input.len().saturating_mul(MAX_EXPANSION) {
        return Err(RdbError::Corrupt("LZF length larger than its data can produce"));
    }
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            let lit = input.get(ip..ip + n).ok_or(RdbError::Corrupt("LZF literal run past the end"))?;
            if out.len() + n > out_len {
                return Err(RdbError::Corrupt("LZF output longer than declared"));
            }
            out.extend_from_slice(lit);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip).ok_or(RdbError::Corrupt("LZF reference past the end"))? as usize;
                ip += 1;
            }
            let low = *input.get(ip).ok_or(RdbError::Corrupt("LZF reference past the end"))? as usize;
            ip += 1;
            let dist = ((ctrl & 0x1f) << 8) + low + 1;
            let n = len + 2;
            if dist > out.len() {
                return Err(RdbError::Corrupt("LZF reference before the start"));
            }
            if out.len() + n > out_len {
                return Err(RdbError::Corrupt("LZF output longer than declared"));
            }
            let from = out.len() - dist;
            if dist >= n {
                out.extend_from_within(from..from + n);
            } else {
                for i in 0..n {
                    let b = out[from + i];
                    out.push(b);
                }
            }
        }
    }
    if out.len() != out_len {
        return Err(RdbError::Corrupt("LZF output shorter than declared"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8]) {
        let c = compress(data, data.len() + data.len() / 16 + 64).expect("fits");
        assert_eq!(decompress(&c, data.len()).expect("decompresses"), data);
    }

    fn pseudo_random(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    #[test]
    fn round_trips_many_shapes() {
        round_trip(b"a");
        round_trip(b"abc");
        round_trip(&[b'a'; 100]);
        round_trip(&[0u8; 100_000]);
        round_trip(b"abcabcabcabcabcabcabcabcabcabcabcabcabc hello hello hello world");
        round_trip(&pseudo_random(10_000, 7));
        let text: Vec<u8> = (0..5000).flat_map(|i| format!("item:{i},").into_bytes()).collect();
        round_trip(&text);
        // Matches at the maximal distance and length boundaries.
        let mut far = pseudo_random(MAX_OFF + 300, 3);
        let head: Vec<u8> = far[..300].to_vec();
        far.extend_from_slice(&head);
        round_trip(&far);
    }

    #[test]
    fn compresses_repetitive_data_and_refuses_when_too_long() {
        let data = [b'a'; 100];
        let c = compress(&data, 96).expect("compressible");
        assert!(c.len() < 10, "{} bytes", c.len());
        assert_eq!(compress(&pseudo_random(100, 9), 96), None);
        assert_eq!(compress(b"", 10), None);
    }

    #[test]
    fn decodes_redis_output() {
        // "compressible" from Redis's encodings.rdb: 137 times 'a'.
        let c = b"\x01aa\xe0\x7c\x00\x01aa";
        assert_eq!(decompress(c, 137).expect("valid"), vec![b'a'; 137]);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let good = compress(&[b'x'; 200], 190).expect("compressible");
        assert!(decompress(&good, 199).is_err(), "declared too long");
        assert!(decompress(&good, 201).is_err(), "declared too short");
        for cut in 0..good.len() {
            assert!(decompress(&good[..cut], 200).is_err(), "cut at {cut}");
        }
        // A reference before the start of the output.
        assert!(decompress(b"\x20\x05", 3).is_err());
        // A literal run past the end of the input.
        assert!(decompress(b"\x05ab", 6).is_err());
        // An absurd declared length is refused before allocating.
        assert!(decompress(b"\x00a", usize::MAX).is_err());
        // Every byte string decodes or fails without panicking.
        for seed in 1..2000 {
            let junk = pseudo_random(seed as usize % 40, seed);
            let _ = decompress(&junk, seed as usize % 300);
        }
    }
}
