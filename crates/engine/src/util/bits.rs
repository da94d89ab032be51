//! Bitmap helpers behind `SETBIT`, `GETBIT`, `BITCOUNT`, `BITPOS`, `BITOP` and `BITFIELD`.
//!
//! A string is a bitmap whose bit 0 is the most significant bit of byte 0, bit 7 the least
//! significant bit of byte 0, bit 8 the most significant bit of byte 1, and so on (Redis's
//! layout). Everything here is a pure function over byte slices: sizing a string, range
//! arguments and the "clear bit past the end" rules are the caller's.
//!
//! Bits past the end of a slice read as 0 and writes past the end are dropped, so no offset
//! can panic; callers grow the string first, as Redis does.

/// Big-endian 64-bit word from up to 8 bytes, padded on the right with `pad`.
#[inline]
fn be_word(chunk: &[u8], pad: u8) -> u64 {
    let mut buf = [pad; 8];
    let n = chunk.len().min(8);
    buf[..n].copy_from_slice(&chunk[..n]);
    u64::from_be_bytes(buf)
}

/// Index of the byte holding bit `offset`, if addressable on this platform.
#[inline]
fn byte_index(offset: u64) -> Option<usize> {
    usize::try_from(offset / 8).ok()
}

/// Number of set bits in `bytes` (`BITCOUNT` over a range the caller has already sliced).
pub fn popcount(bytes: &[u8]) -> u64 {
    bytes.chunks(8).map(|c| u64::from(be_word(c, 0).count_ones())).sum()
}

/// Position of the first bit equal to `bit` in `bytes`, counting from bit 0 of byte 0, or
/// `None` when there is none (all clear when looking for a 1, all set when looking for a 0).
/// `BITPOS`'s rules about the implicit zero bits past the end are the caller's.
pub fn bitpos(bytes: &[u8], bit: bool) -> Option<u64> {
    let (skip, pad) = if bit { (0, 0) } else { (u64::MAX, u8::MAX) };
    bytes.chunks(8).zip((0u64..).step_by(64)).find_map(|(chunk, base)| {
        let w = be_word(chunk, pad);
        let first = if bit { w.leading_zeros() } else { w.leading_ones() };
        (w != skip).then(|| base + u64::from(first))
    })
}

/// The bit at `offset` (`GETBIT`); bits past the end of `bytes` read as 0.
pub fn get_bit(bytes: &[u8], offset: u64) -> bool {
    byte_index(offset).and_then(|i| bytes.get(i)).is_some_and(|b| b & (0x80 >> (offset % 8)) != 0)
}

/// Sets the bit at `offset` to `value` and returns its previous value (`SETBIT`). The caller
/// must have sized `bytes` to hold `offset`; an offset past the end changes nothing and
/// returns `false`.
pub fn set_bit(bytes: &mut [u8], offset: u64, value: bool) -> bool {
    let Some(b) = byte_index(offset).and_then(|i| bytes.get_mut(i)) else {
        return false;
    };
    let mask = 0x80u8 >> (offset % 8);
    let old = *b & mask != 0;
    if value {
        *b |= mask;
    } else {
        *b &= !mask;
    }
    old
}

/// A `BITOP` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// Bitwise AND of all sources.
    And,
    /// Bitwise OR of all sources.
    Or,
    /// Bitwise XOR of all sources.
    Xor,
    /// Bitwise NOT of the single source.
    Not,
}

/// Computes `BITOP op` over `srcs` (missing keys are passed as empty slices).
///
/// The result is as long as the longest source; shorter sources count as zero-padded, so
/// `And` clears every byte past the end of the shortest source. `Not` uses only the first
/// source (the caller enforces that there is exactly one). No sources give an empty result.
pub fn bitop(op: BitOp, srcs: &[&[u8]]) -> Vec<u8> {
    let Some((first, rest)) = srcs.split_first() else {
        return Vec::new();
    };
    if op == BitOp::Not {
        return first.iter().map(|b| !b).collect();
    }
    let len = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; len];
    out[..first.len()].copy_from_slice(first);
    for src in rest {
        let (head, tail) = out.split_at_mut(src.len());
        match op {
            BitOp::And => {
                head.iter_mut().zip(src.iter()).for_each(|(o, s)| *o &= s);
                tail.fill(0);
            }
            BitOp::Or => head.iter_mut().zip(src.iter()).for_each(|(o, s)| *o |= s),
            BitOp::Xor => head.iter_mut().zip(src.iter()).for_each(|(o, s)| *o ^= s),
            BitOp::Not => {}
        }
    }
    out
}

/// Number of bytes a `BITFIELD` window spans at most: 64 bits starting at any bit of a byte.
const WINDOW_BYTES: usize = 9;
/// Width in bits of that window.
const WINDOW_BITS: u32 = 72;

/// The 9 bytes starting at `start` as a big-endian number, zero past the end of `bytes`.
fn load_window(bytes: &[u8], start: usize) -> u128 {
    let avail = bytes.get(start..).unwrap_or(&[]);
    let mut buf = [0u8; 16];
    let n = avail.len().min(WINDOW_BYTES);
    buf[16 - WINDOW_BYTES..16 - WINDOW_BYTES + n].copy_from_slice(&avail[..n]);
    u128::from_be_bytes(buf)
}

/// Writes back the part of a window that lies inside `bytes`.
fn store_window(bytes: &mut [u8], start: usize, window: u128) {
    let buf = window.to_be_bytes();
    if let Some(dst) = bytes.get_mut(start..) {
        let n = dst.len().min(WINDOW_BYTES);
        dst[..n].copy_from_slice(&buf[16 - WINDOW_BYTES..16 - WINDOW_BYTES + n]);
    }
}

/// Mask of the low `bits` bits (`bits` in 1..=64).
#[inline]
fn low_mask(bits: u32) -> u64 {
    u64::MAX >> (64 - bits)
}

/// Reads the `bits`-wide unsigned integer whose most significant bit is bit `offset`
/// (`BITFIELD GET u<bits>`). `bits` is clamped to 1..=64 (Redis allows `u1`..`u63`); bits past
/// the end of `bytes` read as 0.
pub fn get_unsigned(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let bits = bits.clamp(1, 64);
    let Some(start) = byte_index(offset) else {
        return 0;
    };
    let shift = WINDOW_BITS - (offset % 8) as u32 - bits;
    (load_window(bytes, start) >> shift) as u64 & low_mask(bits)
}

/// Reads the `bits`-wide two's-complement integer whose most significant bit is bit
/// `offset` (`BITFIELD GET i<bits>`). `bits` is clamped to 1..=64; bits past the end of
/// `bytes` read as 0.
pub fn get_signed(bytes: &[u8], offset: u64, bits: u32) -> i64 {
    let bits = bits.clamp(1, 64);
    let raw = get_unsigned(bytes, offset, bits);
    let sign_extended = if bits < 64 && raw >> (bits - 1) & 1 == 1 { raw | (u64::MAX << bits) } else { raw };
    sign_extended as i64
}

/// Writes the low `bits` bits of `value` so that its most significant bit lands on bit
/// `offset` (`BITFIELD SET`/`INCRBY`; pass a signed value as `v as u64`). `bits` is clamped to
/// 1..=64. The caller sizes `bytes` first; bits past its end are dropped.
pub fn set_bits(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    let bits = bits.clamp(1, 64);
    let Some(start) = byte_index(offset) else {
        return;
    };
    let shift = WINDOW_BITS - (offset % 8) as u32 - bits;
    let mask = u128::from(low_mask(bits)) << shift;
    let field = u128::from(value & low_mask(bits)) << shift;
    let window = (load_window(bytes, start) & !mask) | field;
    store_window(bytes, start, window);
}

/// What `BITFIELD` does when a `SET` or `INCRBY` result does not fit its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wrap around modulo 2^bits (two's complement for signed types). The default.
    #[default]
    Wrap,
    /// Saturate at the type's minimum or maximum.
    Sat,
    /// Do nothing and reply nil.
    Fail,
}

/// Resolves an out-of-range result: `limit` for `Sat`, `wrapped` for `Wrap`, `None` for `Fail`.
#[inline]
fn resolve<T>(ov: Overflow, limit: T, wrapped: T) -> Option<T> {
    match ov {
        Overflow::Wrap => Some(wrapped),
        Overflow::Sat => Some(limit),
        Overflow::Fail => None,
    }
}

/// `value + incr` stored in a `bits`-wide unsigned field (`u1`..`u63`; `bits` is clamped to
/// 1..=64), with Redis's overflow handling: `Wrap` reduces modulo 2^bits, `Sat` clamps to
/// `0..=2^bits-1`, `Fail` returns `None`. `BITFIELD SET` is `incr_unsigned(new as u64, 0, ..)`.
///
/// As in Redis, a `value` already above the field's maximum counts as an overflow even when
/// `incr` would bring it back into range (only reachable through `SET`, where `incr` is 0).
pub fn incr_unsigned(value: u64, incr: i64, bits: u32, ov: Overflow) -> Option<u64> {
    let bits = bits.clamp(1, 64);
    let max = low_mask(bits);
    let sum = value.wrapping_add(incr as u64);
    if value > max || (incr > 0 && incr.unsigned_abs() > max - value) {
        resolve(ov, max, sum & max)
    } else if incr < 0 && incr.unsigned_abs() > value {
        resolve(ov, 0, sum & max)
    } else {
        Some(sum)
    }
}

/// `value + incr` stored in a `bits`-wide signed field (`i1`..`i64`; `bits` is clamped to
/// 1..=64), with Redis's overflow handling: `Wrap` keeps the low `bits` bits as two's
/// complement, `Sat` clamps to `-2^(bits-1)..=2^(bits-1)-1`, `Fail` returns `None`.
/// `BITFIELD SET` is `incr_signed(new, 0, ..)`.
///
/// Redis computes the headroom `max - value` in wrapping 64-bit arithmetic, and this does the
/// same so results match exactly: a `SET` of a value below the minimum but within `max` of
/// `i64::MIN` (e.g. `SET i8 -9223372036854775808`) is taken as an *overflow*, so `SAT` stores
/// the maximum (127), not the minimum.
pub fn incr_signed(value: i64, incr: i64, bits: u32, ov: Overflow) -> Option<i64> {
    let bits = bits.clamp(1, 64);
    let max: i64 = (low_mask(bits) >> 1) as i64;
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let sum = value.wrapping_add(incr);
    let wrapped = if bits < 64 {
        let raw = sum as u64;
        if raw >> (bits - 1) & 1 == 1 {
            (raw | (u64::MAX << bits)) as i64
        } else {
            (raw & low_mask(bits)) as i64
        }
    } else {
        sum
    };
    let narrow = bits != 64;
    if value > max || (narrow && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr) {
        resolve(ov, max, wrapped)
    } else if value < min || (narrow && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr) {
        resolve(ov, min, wrapped)
    } else {
        Some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit reference reader.
    fn slow_get(bytes: &[u8], offset: u64, bits: u32) -> u64 {
        (0..u64::from(bits)).fold(0, |v, j| v << 1 | u64::from(get_bit(bytes, offset + j)))
    }

    #[test]
    fn popcount_counts() {
        assert_eq!(popcount(b""), 0);
        assert_eq!(popcount(b"foobar"), 26);
        assert_eq!(popcount(&[0xff; 1001]), 8008);
        let data: Vec<u8> = (0..=255u8).cycle().take(777).collect();
        let slow: u64 = data.iter().map(|b| u64::from(b.count_ones())).sum();
        assert_eq!(popcount(&data), slow);
    }

    #[test]
    fn bitpos_finds_first() {
        assert_eq!(bitpos(b"", true), None);
        assert_eq!(bitpos(b"", false), None);
        assert_eq!(bitpos(&[0xff, 0xf0, 0x00], false), Some(12));
        assert_eq!(bitpos(&[0x00, 0xff, 0xf0], true), Some(8));
        assert_eq!(bitpos(&[0x00; 3], true), None);
        assert_eq!(bitpos(&[0x00; 3], false), Some(0));
        assert_eq!(bitpos(&[0xff; 3], false), None);
        assert_eq!(bitpos(&[0x01], true), Some(7));
        assert_eq!(bitpos(&[0xfe], false), Some(7));
        for len in [1usize, 7, 8, 9, 16, 17, 100] {
            for at in [0, len * 8 / 2, len * 8 - 1] {
                let mut ones = vec![0u8; len];
                set_bit(&mut ones, at as u64, true);
                assert_eq!(bitpos(&ones, true), Some(at as u64), "len {len} at {at}");
                let mut zeros = vec![0xffu8; len];
                set_bit(&mut zeros, at as u64, false);
                assert_eq!(bitpos(&zeros, false), Some(at as u64), "len {len} at {at}");
            }
        }
    }

    #[test]
    fn get_and_set_bit() {
        let mut b = vec![0u8; 2];
        assert!(!set_bit(&mut b, 7, true));
        assert_eq!(b, [0x01, 0x00]);
        assert!(set_bit(&mut b, 7, true));
        assert!(!set_bit(&mut b, 8, true));
        assert_eq!(b, [0x01, 0x80]);
        assert!(get_bit(&b, 7));
        assert!(get_bit(&b, 8));
        assert!(!get_bit(&b, 0));
        assert!(!get_bit(&b, 16), "past the end reads 0");
        assert!(!get_bit(&b, u64::MAX));
        assert!(!set_bit(&mut b, 100, true), "past the end is ignored");
        assert!(!set_bit(&mut b, u64::MAX, true));
        assert!(set_bit(&mut b, 7, false));
        assert_eq!(b, [0x00, 0x80]);
        // "`" is 0x60: bits 1 and 2 set.
        assert!(get_bit(b"`", 1) && get_bit(b"`", 2) && !get_bit(b"`", 3));
    }

    #[test]
    fn bitop_ops() {
        let a: &[u8] = &[0xff, 0x0f, 0xaa];
        let b: &[u8] = &[0x0f, 0xff];
        assert_eq!(bitop(BitOp::And, &[a, b]), [0x0f, 0x0f, 0x00]);
        assert_eq!(bitop(BitOp::And, &[b, a]), [0x0f, 0x0f, 0x00]);
        assert_eq!(bitop(BitOp::Or, &[a, b]), [0xff, 0xff, 0xaa]);
        assert_eq!(bitop(BitOp::Or, &[b, a]), [0xff, 0xff, 0xaa]);
        assert_eq!(bitop(BitOp::Xor, &[a, b]), [0xf0, 0xf0, 0xaa]);
        assert_eq!(bitop(BitOp::Xor, &[a, a, a]), a);
        assert_eq!(bitop(BitOp::Not, &[a]), [0x00, 0xf0, 0x55]);
        assert_eq!(bitop(BitOp::Not, &[b""]), b"");
        assert_eq!(bitop(BitOp::And, &[a, b""]), [0, 0, 0]);
        assert_eq!(bitop(BitOp::And, &[a]), a);
        assert_eq!(bitop(BitOp::Or, &[]), b"");
        assert_eq!(bitop(BitOp::Xor, &[b"", b""]), b"");
    }

    #[test]
    fn unsigned_fields() {
        let b = [0b1011_0011, 0b0101_0101, 0xff];
        assert_eq!(get_unsigned(&b, 0, 1), 1);
        assert_eq!(get_unsigned(&b, 0, 4), 0b1011);
        assert_eq!(get_unsigned(&b, 4, 8), 0b0011_0101);
        assert_eq!(get_unsigned(&b, 0, 24), 0xb355ff);
        assert_eq!(get_unsigned(&b, 20, 8), 0xf0, "zero past the end");
        assert_eq!(get_unsigned(&b, 1000, 63), 0);
        assert_eq!(get_unsigned(&b, u64::MAX, 64), 0);
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        for offset in [0u64, 1, 5, 7, 8, 13, 100, 255] {
            for bits in [1u32, 2, 7, 8, 9, 31, 32, 33, 63, 64] {
                assert_eq!(get_unsigned(&data, offset, bits), slow_get(&data, offset, bits));
            }
        }
    }

    #[test]
    fn signed_fields() {
        assert_eq!(get_signed(&[0x80], 0, 1), -1);
        assert_eq!(get_signed(&[0x80], 0, 8), -128);
        assert_eq!(get_signed(&[0x7f], 0, 8), 127);
        assert_eq!(get_signed(&[0xff; 8], 0, 64), -1);
        assert_eq!(get_signed(&[0x80, 0, 0, 0, 0, 0, 0, 0], 0, 64), i64::MIN);
        assert_eq!(get_signed(&[0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0, 64), i64::MAX);
        assert_eq!(get_signed(&[0x0f, 0x80], 4, 5), -1);
        assert_eq!(get_signed(&[0x0f, 0x80], 4, 4), -1);
        assert_eq!(get_signed(&[0x07, 0x80], 4, 5), 15);
    }

    #[test]
    fn set_fields_round_trip() {
        for offset in [0u64, 1, 3, 7, 8, 9, 15, 60] {
            for bits in [1u32, 5, 8, 13, 32, 63, 64] {
                let mut b = vec![0xa5u8; 20];
                let before = b.clone();
                let v = 0x0123_4567_89ab_cdef_u64 & low_mask(bits);
                set_bits(&mut b, offset, bits, v | !low_mask(bits));
                assert_eq!(get_unsigned(&b, offset, bits), v, "offset {offset} bits {bits}");
                for bit in (0..offset).chain(offset + u64::from(bits)..160) {
                    assert_eq!(get_bit(&b, bit), get_bit(&before, bit), "bit {bit} touched");
                }
            }
        }
        let mut b = vec![0u8; 8];
        set_bits(&mut b, 0, 64, (-2i64) as u64);
        assert_eq!(get_signed(&b, 0, 64), -2);
        set_bits(&mut b, 4, 8, (-3i64) as u64);
        assert_eq!(get_signed(&b, 4, 8), -3);
        let mut short = vec![0u8; 1];
        set_bits(&mut short, 4, 8, 0xff);
        assert_eq!(short, [0x0f], "bits past the end are dropped");
        set_bits(&mut short, u64::MAX - 3, 64, 0xff);
        assert_eq!(short, [0x0f]);
    }

    #[test]
    fn unsigned_overflow() {
        use Overflow::*;
        assert_eq!(incr_unsigned(250, 5, 8, Fail), Some(255));
        assert_eq!(incr_unsigned(250, 10, 8, Wrap), Some(4));
        assert_eq!(incr_unsigned(250, 10, 8, Sat), Some(255));
        assert_eq!(incr_unsigned(250, 10, 8, Fail), None);
        assert_eq!(incr_unsigned(5, -5, 8, Fail), Some(0));
        assert_eq!(incr_unsigned(5, -10, 8, Wrap), Some(251));
        assert_eq!(incr_unsigned(5, -10, 8, Sat), Some(0));
        assert_eq!(incr_unsigned(5, -10, 8, Fail), None);
        assert_eq!(incr_unsigned(0, i64::MIN, 8, Wrap), Some(0));
        assert_eq!(incr_unsigned(0, i64::MAX, 8, Wrap), Some(255));
        assert_eq!(incr_unsigned(1, 1, 1, Wrap), Some(0));
        assert_eq!(incr_unsigned(1, 1, 1, Sat), Some(1));
        // SET u8 -1: the value arrives as 2^64-1, above the maximum.
        assert_eq!(incr_unsigned(u64::MAX, 0, 8, Wrap), Some(255));
        assert_eq!(incr_unsigned(u64::MAX, 0, 8, Sat), Some(255));
        assert_eq!(incr_unsigned(u64::MAX, 0, 8, Fail), None);
        assert_eq!(incr_unsigned(256, 0, 8, Wrap), Some(0));
        // Redis flags an out-of-range value before looking at the increment.
        assert_eq!(incr_unsigned(300, -100, 8, Sat), Some(255));
        assert_eq!(incr_unsigned(300, -100, 8, Wrap), Some(200));
        let max63 = (1u64 << 63) - 1;
        assert_eq!(incr_unsigned(max63, 1, 63, Wrap), Some(0));
        assert_eq!(incr_unsigned(max63, 1, 63, Sat), Some(max63));
        assert_eq!(incr_unsigned(0, i64::MAX, 63, Fail), Some(max63));
        assert_eq!(incr_unsigned(max63, i64::MIN, 63, Sat), Some(0));
        assert_eq!(incr_unsigned(max63, i64::MIN, 63, Wrap), Some(max63));
    }

    #[test]
    fn signed_overflow() {
        use Overflow::*;
        assert_eq!(incr_signed(100, 27, 8, Fail), Some(127));
        assert_eq!(incr_signed(100, 28, 8, Wrap), Some(-128));
        assert_eq!(incr_signed(100, 28, 8, Sat), Some(127));
        assert_eq!(incr_signed(100, 28, 8, Fail), None);
        assert_eq!(incr_signed(-100, -28, 8, Fail), Some(-128));
        assert_eq!(incr_signed(-100, -29, 8, Wrap), Some(127));
        assert_eq!(incr_signed(-100, -29, 8, Sat), Some(-128));
        assert_eq!(incr_signed(-100, -29, 8, Fail), None);
        assert_eq!(incr_signed(0, i64::MAX, 8, Wrap), Some(-1));
        assert_eq!(incr_signed(0, i64::MIN, 8, Sat), Some(-128));
        assert_eq!(incr_signed(0, 1, 1, Wrap), Some(-1));
        assert_eq!(incr_signed(-1, 1, 1, Fail), Some(0));
        assert_eq!(incr_signed(0, 1, 1, Sat), Some(0));
        // SET i8 with out-of-range values (incr 0).
        assert_eq!(incr_signed(200, 0, 8, Wrap), Some(-56));
        assert_eq!(incr_signed(200, 0, 8, Sat), Some(127));
        assert_eq!(incr_signed(-1000, 0, 8, Sat), Some(-128));
        assert_eq!(incr_signed(-1000, 0, 8, Wrap), Some(24));
        assert_eq!(incr_signed(-1000, 0, 8, Fail), None);
        // Redis's wrapping headroom makes values near i64::MIN look like an overflow.
        assert_eq!(incr_signed(i64::MIN, 0, 8, Sat), Some(127));
        assert_eq!(incr_signed(i64::MIN, 0, 8, Wrap), Some(0));
        assert_eq!(incr_signed(i64::MIN + 127, 0, 8, Sat), Some(127));
        assert_eq!(incr_signed(i64::MIN + 128, 0, 8, Sat), Some(-128));
    }

    #[test]
    fn signed_overflow_64_bits() {
        use Overflow::*;
        assert_eq!(incr_signed(i64::MAX, 0, 64, Fail), Some(i64::MAX));
        assert_eq!(incr_signed(i64::MAX, 1, 64, Wrap), Some(i64::MIN));
        assert_eq!(incr_signed(i64::MAX, 1, 64, Sat), Some(i64::MAX));
        assert_eq!(incr_signed(i64::MAX, 1, 64, Fail), None);
        assert_eq!(incr_signed(i64::MAX, i64::MAX, 64, Wrap), Some(-2));
        assert_eq!(incr_signed(i64::MIN, -1, 64, Wrap), Some(i64::MAX));
        assert_eq!(incr_signed(i64::MIN, -1, 64, Sat), Some(i64::MIN));
        assert_eq!(incr_signed(i64::MIN, -1, 64, Fail), None);
        assert_eq!(incr_signed(i64::MIN, i64::MIN, 64, Wrap), Some(0));
        assert_eq!(incr_signed(i64::MIN, i64::MAX, 64, Fail), Some(-1));
        assert_eq!(incr_signed(i64::MAX, i64::MIN, 64, Fail), Some(-1));
        assert_eq!(incr_signed(0, i64::MIN, 64, Fail), Some(i64::MIN));
        assert_eq!(incr_signed(-1, i64::MIN, 64, Sat), Some(i64::MIN));
        assert_eq!(incr_signed(-1, i64::MIN, 64, Fail), None);
        assert_eq!(incr_signed(1, i64::MAX, 64, Sat), Some(i64::MAX));
        assert_eq!(incr_signed(-5, 3, 64, Fail), Some(-2));
        assert_eq!(incr_signed(1 << 62, 1 << 62, 64, Sat), Some(i64::MAX));
        assert_eq!(incr_signed(1 << 62, (1 << 62) - 1, 64, Fail), Some(i64::MAX));
    }

    #[test]
    fn bits_are_clamped() {
        assert_eq!(get_unsigned(&[0xff; 10], 0, 0), 1);
        assert_eq!(get_unsigned(&[0xff; 10], 0, 200), u64::MAX);
        assert_eq!(incr_signed(5, 1, 0, Overflow::Fail), None);
        assert_eq!(incr_unsigned(5, 1, 99, Overflow::Fail), Some(6));
    }
}
