//! SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: incremental iteration over the
//! selected database, one shard at a time.
//!
//! The cursor packs a shard index and a position in that shard's hash space:
//!
//! ```text
//! cursor = (position >> POS_SHIFT) << SHARD_BITS | shard
//! ```
//!
//! Shards are visited in index order, each from position 0 until its table reports the end,
//! and a table's positions are hash-space boundaries that stay meaningful however the table
//! grows or shrinks in between (see `larder_engine::table`). A key present for the whole scan
//! lives in one shard for its whole life, so it is returned at least once; in a quiet keyspace
//! exactly once. Positions are kept to their top 47 bits (a table would need 2^47 slots for a
//! boundary to fall between two of them, and rounding down could only repeat keys): the cursor
//! then stays below 2^53, so clients that hold it as a double (JavaScript) or a signed 64-bit
//! integer round-trip it exactly.

use larder_engine::keyspace::SHARD_BITS;
use larder_engine::table::ScanNext;
use larder_engine::util::glob::glob_match;
use larder_engine::{KeyRef, SHARDS};
use larder_resp::{Args, Reply};

use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// Low bits of a hash-space position dropped from the cursor.
const POS_SHIFT: u32 = 17;
/// Mask of the shard index in a cursor.
const SHARD_MASK: u64 = (SHARDS as u64) - 1;

/// The SCAN table entry.
pub static COMMANDS: &[CommandSpec] = &[cmd(
    "scan",
    -2,
    flag::READONLY | flag::VISITS_SHARDS,
    acl::KEYSPACE | acl::READ | acl::SLOW,
    Keys::None,
    Group::Generic,
    "2.8.0",
    "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
    "Iterates over the key names of the selected database, a batch per call.",
    scan,
)];

/// Parses a cursor as Redis does (C `strtoul`, base 10): an optional sign (a negative value
/// wraps around), digits, nothing else; no leading white space; an empty string is 0; a
/// value above `u64::MAX` is refused. Like Redis, only the bytes before a zero byte count.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = arg.split(|&b| b == 0).next().unwrap_or_default();
    if s.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Splits a cursor into (shard index, hash-space position).
pub fn decode_cursor(cursor: u64) -> (usize, u64) {
    ((cursor & SHARD_MASK) as usize, (cursor >> SHARD_BITS) << POS_SHIFT)
}

/// Builds the cursor that resumes `shard` at hash-space position `pos` (rounded down).
pub fn encode_cursor(shard: usize, pos: u64) -> u64 {
    ((pos >> POS_SHIFT) << SHARD_BITS) | (shard as u64 & SHARD_MASK)
}

struct Opts<'a> {
    count: usize,
    pattern: Option<&'a [u8]>,
    type_name: Option<&'a [u8]>,
}

fn parse_opts(args: Args<'_>) -> Result<Opts<'_>, CmdError> {
    let mut o = Opts { count: 10, pattern: None, type_name: None };
    let mut i = 2;
    while i < args.len() {
        let Some(value) = args.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        let opt = &args[i];
        if eq_ic(opt, "count") {
            let n = int_arg(value)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            o.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ic(opt, "match") {
            // Exactly "*" matches everything, the empty key included: no pattern at all.
            o.pattern = (value != b"*").then_some(value);
        } else if eq_ic(opt, "type") {
            o.type_name = Some(value);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(o)
}

/// One SCAN call: visits shards from the cursor's one until `count` keys were examined (before
/// filtering, as Redis counts) or every shard is done.
fn scan(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(&args[1]).ok_or(CmdError::Static("ERR invalid cursor"))?;
    let opts = parse_opts(args)?;
    let (db, now) = (ctx.db(), ctx.now);
    let (mut shard, mut pos) = decode_cursor(cursor);
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut examined = 0usize;
    let next_cursor = loop {
        let s = ctx.keys.shard(db, shard);
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let next = s.table().scan(pos, opts.count - examined, |e| {
            examined += 1;
            if opts.pattern.is_none_or(|p| glob_match(p, e.key(), false)) {
                batch.push(e.key().to_vec());
            }
        });
        // Expired keys are removed (lazy expiry) and left out; then the TYPE filter.
        for key in batch {
            let live = match s.get(&KeyRef::new(&key), now) {
                None => false,
                Some(e) => opts.type_name.is_none_or(|t| t.eq_ignore_ascii_case(super::keys::type_name(e).as_bytes())),
            };
            if live {
                found.push(key);
            }
        }
        ctx.keys.release();
        match next {
            ScanNext::At(p) => {
                pos = p;
                if examined >= opts.count {
                    break encode_cursor(shard, pos);
                }
            }
            ScanNext::Done => {
                shard += 1;
                pos = 0;
                if shard == SHARDS {
                    break 0;
                }
                if examined >= opts.count {
                    break encode_cursor(shard, 0);
                }
            }
        }
    };
    let mut r = Reply::new(ctx.out, ctx.sess.resp3);
    r.array(2);
    r.bulk(itoa::Buffer::new().format(next_cursor).as_bytes());
    r.array(found.len());
    for key in &found {
        r.bulk(key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parsing_follows_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+12"), Some(12));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"12\x00junk"), Some(12));
        for bad in [&b" 1"[..], b"1 ", b"abc", b"-", b"+", b"1x", b"0x10"] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cursor_round_trips_and_stays_below_2_pow_53() {
        for shard in [0, 1, 37, SHARDS - 1] {
            for pos in [0u64, 1 << 40, u64::MAX << POS_SHIFT] {
                let c = encode_cursor(shard, pos);
                assert!(c < 1 << 53);
                assert_eq!(decode_cursor(c), (shard, pos));
            }
        }
        // Rounding only moves a position back.
        let (_, p) = decode_cursor(encode_cursor(3, 12345 << 20 | 999));
        assert!(p <= 12345 << 20 | 999);
        assert_eq!(encode_cursor(0, 0), 0);
    }
}
