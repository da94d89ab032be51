//! Sorted set commands. Adding, removing and popping are in [`write`], single-member reads,
//! ZRANDMEMBER and ZSCAN in [`read`], the range family (ZRANGE and its older forms,
//! ZRANGESTORE, ZCOUNT, ZLEXCOUNT) in [`range`], and unions, intersections and differences in
//! [`setops`]. This module holds the table and what they share: the typed lookup, range
//! argument parsing and the reply shapes of scored results.
//!
//! The pop functions in [`write`] ([`write::pop`], [`write::pop_first`] and the reply
//! writers) are what BZPOPMIN, BZPOPMAX and BZMPOP build on.

mod blocking;
mod range;
mod read;
mod setops;
pub(crate) mod write;

use larder_engine::types::zset::{LexBound, LexRange, ScoreRange, ZSet};
use larder_engine::{KeyRef, Object};
use larder_resp::Reply;

use super::spec::{acl, cmd, flag, keys, CommandSpec, Group, Keys};
use super::{CmdError, Ctx};

const G: Group = Group::SortedSet;
const K1: Keys = keys(1, 1, 1);
const RF: u32 = flag::READONLY | flag::FAST;
const R: u32 = flag::READONLY;
const WDF: u32 = flag::WRITE | flag::DENYOOM | flag::FAST;
const WD: u32 = flag::WRITE | flag::DENYOOM;
const WF: u32 = flag::WRITE | flag::FAST;
const W: u32 = flag::WRITE;
const A_RF: u64 = acl::READ | acl::SORTEDSET | acl::FAST;
const A_RS: u64 = acl::READ | acl::SORTEDSET | acl::SLOW;
const A_WF: u64 = acl::WRITE | acl::SORTEDSET | acl::FAST;
const A_WS: u64 = acl::WRITE | acl::SORTEDSET | acl::SLOW;

/// The sorted set family's table entries (flags, arity, key positions and ACL categories as
/// Redis 7.2's COMMAND INFO reports them). Commands taking a key count declare every argument
/// from their first key on as a key, so every shard they may touch is locked.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd("zadd", -4, WDF, A_WF, K1, G, "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", write::zadd),
    cmd("zincrby", 4, WDF, A_WF, K1, G, "1.2.0", "O(log(N)) where N is the number of elements in the sorted set.", "Increments the score of a member in a sorted set.", write::zincrby),
    cmd("zrem", -3, WF, A_WF, K1, G, "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", write::zrem),
    cmd("zcard", 2, RF, A_RF, K1, G, "1.2.0", "O(1)", "Returns the number of members in a sorted set.", read::zcard),
    cmd("zcount", 4, RF, A_RF, K1, G, "2.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Returns the count of members in a sorted set that have scores within a range.", range::zcount),
    cmd("zlexcount", 4, RF, A_RF, K1, G, "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.", "Returns the number of members in a sorted set within a lexicographical range.", range::zlexcount),
    cmd("zscore", 3, RF, A_RF, K1, G, "1.2.0", "O(1)", "Returns the score of a member in a sorted set.", read::zscore),
    cmd("zmscore", -3, RF, A_RF, K1, G, "6.2.0", "O(N) where N is the number of members being requested.", "Returns the score of one or more members in a sorted set.", read::zmscore),
    cmd("zrank", -3, RF, A_RF, K1, G, "2.0.0", "O(log(N))", "Returns the index of a member in a sorted set ordered by ascending scores.", read::zrank),
    cmd("zrevrank", -3, RF, A_RF, K1, G, "2.0.0", "O(log(N))", "Returns the index of a member in a sorted set ordered by descending scores.", read::zrevrank),
    cmd("zrange", -4, R, A_RS, K1, G, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "Returns members in a sorted set within a range of indexes.", range::zrange),
    cmd("zrangestore", -5, WD, A_WS, keys(1, 2, 1), G, "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.", "Stores a range of members from sorted set in a key.", range::zrangestore),
    cmd("zrevrange", -4, R, A_RS, K1, G, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.", "Returns members in a sorted set within a range of indexes in reverse order.", range::zrevrange),
    cmd("zrangebyscore", -4, R, A_RS, K1, G, "1.0.5", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Returns members in a sorted set within a range of scores.", range::zrangebyscore),
    cmd("zrevrangebyscore", -4, R, A_RS, K1, G, "2.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Returns members in a sorted set within a range of scores in reverse order.", range::zrevrangebyscore),
    cmd("zrangebylex", -4, R, A_RS, K1, G, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Returns members in a sorted set within a lexicographical range.", range::zrangebylex),
    cmd("zrevrangebylex", -4, R, A_RS, K1, G, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).", "Returns members in a sorted set within a lexicographical range in reverse order.", range::zrevrangebylex),
    cmd("zremrangebyrank", 4, W, A_WS, K1, G, "2.0.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", write::zremrangebyrank),
    cmd("zremrangebyscore", 4, W, A_WS, K1, G, "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", write::zremrangebyscore),
    cmd("zremrangebylex", 4, W, A_WS, K1, G, "2.8.9", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", write::zremrangebylex),
    cmd("zpopmin", -2, WF, A_WF, K1, G, "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", write::zpopmin),
    cmd("zpopmax", -2, WF, A_WF, K1, G, "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", write::zpopmax),
    cmd("zmpop", -4, W, A_WS, keys(2, -1, 1), G, "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", write::zmpop),
    cmd("bzpopmin", -3, WF | flag::BLOCKING, A_WF | acl::BLOCKING, keys(1, -2, 1), G, "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Removes and returns the lowest-scoring member of the first non-empty sorted set, waiting for one when all are empty.", blocking::bzpopmin),
    cmd("bzpopmax", -3, WF | flag::BLOCKING, A_WF | acl::BLOCKING, keys(1, -2, 1), G, "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Removes and returns the highest-scoring member of the first non-empty sorted set, waiting for one when all are empty.", blocking::bzpopmax),
    // numkeys decides the keys: lock every argument after it, as ZMPOP does.
    cmd("bzmpop", -5, W | flag::BLOCKING, A_WS | acl::BLOCKING, keys(3, -1, 1), G, "7.0.0", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.", "Removes and returns members from the first non-empty sorted set, waiting for one when all are empty.", blocking::bzmpop),
    cmd("zrandmember", -2, R, A_RS, K1, G, "6.2.0", "O(N) where N is the number of members returned", "Returns one or more random members from a sorted set.", read::zrandmember),
    cmd("zunion", -3, R, A_RS, keys(2, -1, 1), G, "6.2.0", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "Returns the union of multiple sorted sets.", setops::zunion),
    cmd("zinter", -3, R, A_RS, keys(2, -1, 1), G, "6.2.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "Returns the intersect of multiple sorted sets.", setops::zinter),
    cmd("zdiff", -3, R, A_RS, keys(2, -1, 1), G, "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "Returns the difference between multiple sorted sets.", setops::zdiff),
    cmd("zunionstore", -4, WD, A_WS, keys(1, -1, 1), G, "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.", "Stores the union of multiple sorted sets in a key.", setops::zunionstore),
    cmd("zinterstore", -4, WD, A_WS, keys(1, -1, 1), G, "2.0.0", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.", "Stores the intersect of multiple sorted sets in a key.", setops::zinterstore),
    cmd("zdiffstore", -4, WD, A_WS, keys(1, -1, 1), G, "6.2.0", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.", "Stores the difference of multiple sorted sets in a key.", setops::zdiffstore),
    cmd("zintercard", -3, R, A_RS, keys(2, -1, 1), G, "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.", "Returns the number of members of the intersect of multiple sorted sets.", setops::zintercard),
    cmd("zscan", -3, R, A_RS, K1, G, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", "Iterates over members and scores of a sorted set.", read::zscan),
];

/// Runs `f` on the sorted set at `k` for a read-only command, with a reply encoder for the
/// client: `None` when the key is absent. Like [`super::objects::read`], counts a keyspace
/// hit or miss and stamps the access time; WRONGTYPE when `k` holds another type.
pub(crate) fn read_zset<T>(
    ctx: &mut Ctx<'_, '_>,
    k: &KeyRef<'_>,
    f: impl FnOnce(Option<&ZSet>, &mut Reply<'_>) -> T,
) -> Result<T, CmdError> {
    let (db, now, resp3) = (ctx.sess.db, ctx.now, ctx.sess.resp3);
    // The set borrows `keys` while the reply writes to `out`: split the context by hand.
    let e = ctx.keys.get(db, k, now);
    ctx.srv.stats.count_lookup(e.is_some());
    let z = match e {
        None => None,
        Some(e) => match e.object_mut() {
            Some(Object::ZSet(z)) => Some(&*z),
            _ => return Err(CmdError::WrongType),
        },
    };
    Ok(f(z, &mut Reply::new(ctx.out, resp3)))
}

/// The sorted set inside an object known to be one.
#[inline]
fn as_zset(o: &mut Object) -> Option<&mut ZSet> {
    match o {
        Object::ZSet(z) => Some(z),
        _ => None,
    }
}

/// Writes (member, score) pairs as ZRANGE does: members only, or with WITHSCORES a flat
/// member, score, ... array in RESP2 and an array of [member, score] pairs in RESP3 (Redis
/// avoids a map there so clients keep the order).
pub(crate) fn reply_pairs<'a>(
    r: &mut Reply<'_>,
    pairs: impl ExactSizeIterator<Item = (&'a [u8], f64)>,
    withscores: bool,
) {
    let n = pairs.len();
    r.array(if withscores && !r.resp3 { n * 2 } else { n });
    for (m, s) in pairs {
        if withscores && r.resp3 {
            r.array(2);
        }
        r.bulk(m);
        if withscores {
            r.double(s);
        }
    }
}

/// Parses a score range end as Redis's `zslParseRange` does (C `strtod` on the text after an
/// optional `(`): leading white space is skipped, an empty text reads as 0, `inf`/`-inf` are
/// allowed, NaN is not. Hexadecimal floats, which `strtod` also reads, are refused.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    // Only the bytes before a zero byte count, as for a C string.
    let arg = arg.split(|&b| b == 0).next().unwrap_or_default();
    let (text, ex) = match arg.split_first() {
        Some((b'(', rest)) => (rest, true),
        _ => (arg, false),
    };
    if text.is_empty() {
        return Some((0.0, ex));
    }
    // C's isspace: space, \t, \n, \v, \f, \r.
    let skip = text.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).count();
    let trimmed = &text[skip..];
    if trimmed.is_empty() {
        return None;
    }
    let v: f64 = std::str::from_utf8(trimmed).ok()?.parse().ok()?;
    (!v.is_nan()).then_some((v, ex))
}

/// A ZRANGEBYSCORE-style range from its two ends.
pub(crate) fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    match (parse_score_bound(min), parse_score_bound(max)) {
        (Some((min, min_ex)), Some((max, max_ex))) => Ok(ScoreRange { min, max, min_ex, max_ex }),
        _ => Err(CmdError::Static("ERR min or max is not a float")),
    }
}

fn parse_lex_bound(arg: &[u8]) -> Option<LexBound<'_>> {
    match arg.split_first() {
        Some((b'+', [])) => Some(LexBound::Max),
        Some((b'-', [])) => Some(LexBound::Min),
        Some((b'(', rest)) => Some(LexBound::Excl(rest)),
        Some((b'[', rest)) => Some(LexBound::Incl(rest)),
        _ => None,
    }
}

/// A ZRANGEBYLEX-style range from its two ends (`-`, `+`, `[member`, `(member`).
pub(crate) fn parse_lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::Static("ERR min or max not valid string range item")),
    }
}

/// Resolves ZRANGE-style start/stop indexes (negative from the end) against `len`: the
/// inclusive index range, or None when it is empty.
pub(crate) fn rank_window(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { (start + len).max(0) } else { start };
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/// Appends `v` as C's `printf("%.17g")` prints it: the form Redis's ZSCAN gives the scores
/// of a skiplist-encoded sorted set (`ld2string` in `LD_STR_AUTO` mode).
pub(crate) fn format_g17(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(if v.is_sign_negative() { b"-nan" } else { b"nan" });
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    let sci = format!("{v:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..17).contains(&exp) {
        out.extend_from_slice(strip(mantissa).as_bytes());
        out.extend_from_slice(format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()).as_bytes());
    } else {
        let fixed = format!("{v:.prec$}", prec = (16 - exp) as usize);
        out.extend_from_slice(strip(&fixed).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g17(v: f64) -> String {
        let mut out = Vec::new();
        format_g17(v, &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn g17_matches_printf() {
        assert_eq!(g17(1.5), "1.5");
        assert_eq!(g17(3.0), "3");
        assert_eq!(g17(0.1), "0.10000000000000001");
        assert_eq!(g17(1e20), "1e+20");
        assert_eq!(g17(1e16), "10000000000000000");
        assert_eq!(g17(1e17), "1e+17");
        assert_eq!(g17(0.0001), "0.0001");
        assert_eq!(g17(0.00001), "1.0000000000000001e-05");
        assert_eq!(g17(-2.5e-300), "-2.5e-300");
        assert_eq!(g17(f64::INFINITY), "inf");
        assert_eq!(g17(-0.0), "-0");
        assert_eq!(g17(123456789.123), "123456789.123");
    }

    #[test]
    fn score_bounds_follow_strtod() {
        assert_eq!(parse_score_bound(b"1.5"), Some((1.5, false)));
        assert_eq!(parse_score_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(parse_score_bound(b"-inf"), Some((f64::NEG_INFINITY, false)));
        assert_eq!(parse_score_bound(b"(+inf"), Some((f64::INFINITY, true)));
        assert_eq!(parse_score_bound(b""), Some((0.0, false)));
        assert_eq!(parse_score_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_score_bound(b" 2"), Some((2.0, false)));
        assert_eq!(parse_score_bound(b"1e400"), Some((f64::INFINITY, false)));
        for bad in [&b"nan"[..], b"(nan", b"abc", b"1 ", b" ", b"[1", b"1.5x"] {
            assert_eq!(parse_score_bound(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn lex_bounds() {
        assert_eq!(parse_lex_bound(b"-"), Some(LexBound::Min));
        assert_eq!(parse_lex_bound(b"+"), Some(LexBound::Max));
        assert_eq!(parse_lex_bound(b"[a"), Some(LexBound::Incl(b"a")));
        assert_eq!(parse_lex_bound(b"("), Some(LexBound::Excl(b"")));
        for bad in [&b""[..], b"a", b"-a", b"+a", b"{a"] {
            assert_eq!(parse_lex_bound(bad), None);
        }
    }

    #[test]
    fn rank_windows() {
        assert_eq!(rank_window(0, -1, 5), Some((0, 4)));
        assert_eq!(rank_window(-100, 100, 5), Some((0, 4)));
        assert_eq!(rank_window(2, 1, 5), None);
        assert_eq!(rank_window(5, 10, 5), None);
        assert_eq!(rank_window(0, -6, 5), None);
        assert_eq!(rank_window(0, 0, 0), None);
        assert_eq!(rank_window(i64::MIN, i64::MAX, 3), Some((0, 2)));
    }
}
