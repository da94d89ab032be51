//! Bitmap commands: strings addressed bit by bit. SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP
//! are here; BITFIELD and BITFIELD_RO in [`bitfield`]. Bit 0 is the most significant bit of
//! the first byte, as in Redis; the bit arithmetic itself is in
//! [`larder_engine::util::bits`].

mod bitfield;

use larder_engine::util::bits::{self, BitOp};
use larder_engine::util::num::parse_i64;
use larder_engine::{KeyRef, Object, Value};
use larder_resp::Args;

use super::spec::{acl, cmd, flag, keys, CommandSpec, Group};
use super::strings::{as_str, lookup_read, max_bulk_len, with_raw};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

const W: u32 = flag::WRITE | flag::DENYOOM;
const R: u32 = flag::READONLY;
const RF: u32 = flag::READONLY | flag::FAST;
const A_W: u64 = acl::WRITE | acl::BITMAP | acl::SLOW;
const A_R: u64 = acl::READ | acl::BITMAP | acl::SLOW;
const A_RF: u64 = acl::READ | acl::BITMAP | acl::FAST;
const B: Group = Group::Bitmap;

/// The bitmap family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "setbit",
        4,
        W,
        A_W,
        keys(1, 1, 1),
        B,
        "2.2.0",
        "O(1)",
        "Sets or clears one bit of a string value, creating the key when needed; returns the bit's previous value.",
        setbit,
    ),
    cmd(
        "getbit",
        3,
        RF,
        A_RF,
        keys(1, 1, 1),
        B,
        "2.2.0",
        "O(1)",
        "Returns the value of one bit of a string value.",
        getbit,
    ),
    cmd(
        "bitcount",
        -2,
        R,
        A_R,
        keys(1, 1, 1),
        B,
        "2.6.0",
        "O(N)",
        "Counts the set bits of a string value, optionally within a byte or bit range.",
        bitcount,
    ),
    cmd(
        "bitpos",
        -3,
        R,
        A_R,
        keys(1, 1, 1),
        B,
        "2.8.7",
        "O(N)",
        "Returns the position of the first set or clear bit of a string value, optionally within a range.",
        bitpos,
    ),
    cmd(
        "bitop",
        -4,
        W,
        A_W,
        keys(2, -1, 1),
        B,
        "2.6.0",
        "O(N)",
        "Combines string values bit by bit (AND, OR, XOR, NOT) and stores the result in a key.",
        bitop,
    ),
    cmd(
        "bitfield",
        -2,
        W,
        A_W,
        keys(1, 1, 1),
        B,
        "3.2.0",
        "O(1) for each subcommand specified",
        "Reads, writes and increments integers of any width at any bit offset of a string value.",
        bitfield::bitfield,
    ),
    cmd(
        "bitfield_ro",
        -2,
        RF,
        A_RF,
        keys(1, 1, 1),
        B,
        "6.0.0",
        "O(1) for each subcommand specified",
        "Reads integers of any width at any bit offset of a string value.",
        bitfield::bitfield_ro,
    ),
];

const BAD_OFFSET: CmdError = CmdError::Static("ERR bit offset is not an integer or out of range");

/// Parses a bit offset as Redis does: a non-negative integer whose byte (`offset / 8`) is
/// below proto-max-bulk-len. With `field_bits > 0` (BITFIELD), `#n` means `n * field_bits`.
///
/// Redis multiplies `#n` in 64-bit arithmetic that wraps on overflow (so a huge `#n` may
/// land on a small valid offset); this does the same, so both accept the same requests.
fn bit_offset(ctx: &Ctx<'_, '_>, arg: &[u8], field_bits: u32) -> Result<u64, CmdError> {
    let (digits, unit) = match arg.split_first() {
        Some((b'#', rest)) if field_bits > 0 => (rest, i64::from(field_bits)),
        _ => (arg, 1),
    };
    let v = parse_i64(digits).ok_or(BAD_OFFSET)?.wrapping_mul(unit);
    if v < 0 || (v as u64 >> 3) >= max_bulk_len(ctx) {
        return Err(BAD_OFFSET);
    }
    Ok(v as u64)
}

/// Bytes needed to hold bit `offset`. Offsets are bounded by proto-max-bulk-len, whose
/// range makes this fit a usize on 64-bit targets; elsewhere it saturates (and the
/// allocation then fails as Redis's would).
fn bytes_for_bit(offset: u64) -> usize {
    usize::try_from(offset / 8 + 1).unwrap_or(usize::MAX)
}

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    const BAD_BIT: CmdError = CmdError::Static("ERR bit is not an integer or out of range");
    let offset = bit_offset(ctx, &args[2], 0)?;
    let on = match parse_i64(&args[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(BAD_BIT),
    };
    let k = KeyRef::new(&args[1]);
    let old = with_raw(ctx, &k, bytes_for_bit(offset), |v, _| {
        let old = bits::set_bit(v, offset, on);
        (old, old != on)
    })?;
    ctx.notify(larder_engine::notify::STRING, "setbit", k.key);
    ctx.reply().int(i64::from(old));
    Ok(())
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let offset = bit_offset(ctx, &args[2], 0)?;
    let k = KeyRef::new(&args[1]);
    let bit = match lookup_read(ctx, &k) {
        None => false,
        Some(e) => {
            let mut buf = itoa::Buffer::new();
            bits::get_bit(as_str(e)?.bytes(&mut buf), offset)
        }
    };
    ctx.reply().int(i64::from(bit));
    Ok(())
}

/// Resolves an inclusive `start..=end` range over `total` units (bytes or bits) as BITCOUNT
/// and BITPOS do: negative values count from the end, then both are clamped into the string.
/// `None` when the range is empty.
fn clamp_range(start: i64, end: i64, total: i64) -> Option<(u64, u64)> {
    let start = if start < 0 { (total + start).max(0) } else { start };
    let end = if end < 0 { (total + end).max(0) } else { end }.min(total - 1);
    (start <= end).then_some((start as u64, end as u64))
}

/// Parses an optional `BYTE|BIT` unit argument: true for BIT.
fn unit_is_bit(arg: Option<&[u8]>) -> Result<bool, CmdError> {
    match arg {
        None => Ok(false),
        Some(a) if eq_ic(a, "bit") => Ok(true),
        Some(a) if eq_ic(a, "byte") => Ok(false),
        Some(_) => Err(CmdError::Syntax),
    }
}

/// Turns a resolved range into an inclusive bit range.
fn to_bits((start, end): (u64, u64), in_bits: bool) -> (u64, u64) {
    if in_bits {
        (start, end)
    } else {
        (start * 8, end * 8 + 7)
    }
}

/// Number of set bits in bits `first..=last` of `p` (both inside `p`).
fn count_bits(p: &[u8], first: u64, last: u64) -> u64 {
    let (b0, b1) = ((first / 8) as usize, (last / 8) as usize);
    let Some(span) = p.get(b0..=b1) else { return 0 };
    let mut n = bits::popcount(span);
    // Take out the bits of the edge bytes that lie outside the range.
    let head = (first % 8) as u32;
    if head > 0 {
        n -= u64::from((span[0] & !(0xffu8 >> head)).count_ones());
    }
    let tail = 7 - (last % 8) as u32;
    if tail > 0 {
        n -= u64::from((span[span.len() - 1] & ((1u8 << tail) - 1)).count_ones());
    }
    n
}

/// BITCOUNT key [start end [BYTE|BIT]]
fn bitcount(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    // Redis 7.2 looks the key up before parsing the range: a missing key counts 0 whatever
    // the other arguments are.
    let Some(e) = lookup_read(ctx, &k) else {
        ctx.reply().int(0);
        return Ok(());
    };
    let mut buf = itoa::Buffer::new();
    let p = as_str(e)?.bytes(&mut buf);
    let count = match args.len() {
        2 => bits::popcount(p),
        4 | 5 => {
            let start = int_arg(&args[2])?;
            let end = int_arg(&args[3])?;
            if start < 0 && end < 0 && start > end {
                0
            } else {
                let in_bits = unit_is_bit(args.get(4))?;
                let total = p.len() as i64 * if in_bits { 8 } else { 1 };
                match clamp_range(start, end, total) {
                    None => 0,
                    Some(r) => {
                        let (first, last) = to_bits(r, in_bits);
                        count_bits(p, first, last)
                    }
                }
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    ctx.reply().int(count as i64);
    Ok(())
}

/// Position of the first bit equal to `bit` in bits `first..=last` of `p` (both inside `p`).
fn find_bit(p: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let mut pos = first;
    // The partial first byte, bit by bit.
    while pos <= last && pos % 8 != 0 {
        if bits::get_bit(p, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    // Whole bytes up to (and including, when it is complete) the last byte.
    let from = (pos / 8) as usize;
    let to = if last % 8 == 7 { (last / 8 + 1) as usize } else { (last / 8) as usize };
    if let Some(span) = p.get(from..to) {
        if let Some(i) = bits::bitpos(span, bit) {
            return Some(from as u64 * 8 + i);
        }
        pos = pos.max(to as u64 * 8);
    }
    // The partial last byte.
    while pos <= last {
        if bits::get_bit(p, pos) == bit {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let bit = match int_arg(&args[2])? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::Static("ERR The bit argument must be 1 or 0.")),
    };
    let k = KeyRef::new(&args[1]);
    // A missing key is an endless run of clear bits (checked before the range, as in 7.2).
    let Some(e) = lookup_read(ctx, &k) else {
        ctx.reply().int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let mut buf = itoa::Buffer::new();
    let p = as_str(e)?.bytes(&mut buf);
    let (range, in_bits, end_given) = match args.len() {
        3 => (clamp_range(0, -1, p.len() as i64), false, false),
        4..=6 => {
            let start = int_arg(&args[3])?;
            let in_bits = unit_is_bit(args.get(5))?;
            let end = match args.get(4) {
                Some(a) => Some(int_arg(a)?),
                None => None,
            };
            let total = p.len() as i64 * if in_bits { 8 } else { 1 };
            (clamp_range(start, end.unwrap_or(-1), total), in_bits, end.is_some())
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = match range {
        // An empty range holds neither a 0 nor a 1.
        None => -1,
        Some(r) => {
            let (first, last) = to_bits(r, in_bits);
            match find_bit(p, first, last, bit) {
                Some(pos) => pos as i64,
                // Without an explicit end the string counts as padded with clear bits, so the
                // first clear bit is the one just past the end.
                None if !bit && !end_given => last as i64 + 1,
                None => -1,
            }
        }
    };
    ctx.reply().int(pos);
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
fn bitop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let name = &args[1];
    let op = if eq_ic(name, "and") {
        BitOp::And
    } else if eq_ic(name, "or") {
        BitOp::Or
    } else if eq_ic(name, "xor") {
        BitOp::Xor
    } else if eq_ic(name, "not") {
        BitOp::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(CmdError::Static("ERR BITOP NOT must be called with a single source key."));
    }
    // Fold the sources into the result one at a time, so no source is copied; a missing key
    // is an empty string, and shorter sources count as zero-padded.
    let mut out: Vec<u8> = Vec::new();
    for (i, key) in args.iter().skip(3).enumerate() {
        let k = KeyRef::new(key);
        let mut buf = itoa::Buffer::new();
        let src: &[u8] = match lookup_read(ctx, &k) {
            None => &[],
            Some(e) => as_str(e)?.bytes(&mut buf),
        };
        if i == 0 {
            out.extend_from_slice(src);
            if op == BitOp::Not {
                out.iter_mut().for_each(|b| *b = !*b);
            }
            continue;
        }
        if src.len() > out.len() {
            out.resize(src.len(), 0);
        }
        let (head, tail) = out.split_at_mut(src.len());
        let pairs = head.iter_mut().zip(src);
        match op {
            BitOp::And => {
                pairs.for_each(|(o, s)| *o &= s);
                tail.fill(0);
            }
            BitOp::Or => pairs.for_each(|(o, s)| *o |= s),
            BitOp::Xor => pairs.for_each(|(o, s)| *o ^= s),
            BitOp::Not => {}
        }
    }
    let len = out.len();
    let dest = KeyRef::new(&args[2]);
    let shard = ctx.shard(&dest);
    if out.is_empty() {
        if shard.remove(&dest).is_some() {
            ctx.notify(larder_engine::notify::GENERIC, "del", dest.key);
        }
    } else {
        // Stored as a plain string, replacing any value and TTL (Redis's `raw` encoding).
        shard.set(&dest, Value::Obj(Box::new(Object::Str(out))), None);
        ctx.notify(larder_engine::notify::STRING, "set", dest.key);
    }
    ctx.reply().int(len as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_clamp_like_redis() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-2, -1, 3), Some((1, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(5, 10, 3), None);
        assert_eq!(clamp_range(0, -1, 0), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
    }

    #[test]
    fn counts_bit_ranges() {
        let p = [0xffu8, 0x0f, 0xf0];
        assert_eq!(count_bits(&p, 0, 23), 16);
        assert_eq!(count_bits(&p, 1, 6), 6);
        assert_eq!(count_bits(&p, 4, 11), 4);
        assert_eq!(count_bits(&p, 12, 12), 1);
        assert_eq!(count_bits(&p, 8, 11), 0);
        for first in 0..24u64 {
            for last in first..24 {
                let slow = (first..=last).filter(|&b| bits::get_bit(&p, b)).count() as u64;
                assert_eq!(count_bits(&p, first, last), slow, "{first}..={last}");
            }
        }
    }

    #[test]
    fn finds_bits_in_ranges() {
        let p = [0x00u8, 0x00, 0x01, 0xff, 0xfe, 0xff];
        for bit in [false, true] {
            for first in 0..48u64 {
                for last in first..48 {
                    let slow = (first..=last).find(|&b| bits::get_bit(&p, b) == bit);
                    assert_eq!(find_bit(&p, first, last, bit), slow, "{bit} {first}..={last}");
                }
            }
        }
    }

    #[test]
    fn bytes_for_bits() {
        assert_eq!(bytes_for_bit(0), 1);
        assert_eq!(bytes_for_bit(7), 1);
        assert_eq!(bytes_for_bit(8), 2);
        assert_eq!(bytes_for_bit(4_294_967_295), 536_870_912);
    }
}
