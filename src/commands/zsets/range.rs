//! Ranges: ZRANGE (BYSCORE, BYLEX, REV, LIMIT, WITHSCORES), ZRANGESTORE, the older
//! ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX and ZREVRANGEBYLEX forms, and
//! ZCOUNT / ZLEXCOUNT. Every form runs through [`range_generic`], as Redis runs them all
//! through `zrangeGenericCommand`, so options and errors agree across them.

use std::ops::Range;

use larder_engine::types::zset::{LexRange, ScoreRange, ZSet};
use larder_engine::{notify, KeyRef, Object, Value};
use larder_resp::Args;

use super::{parse_lex_range, parse_score_range, rank_window, read_zset, reply_pairs};
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// How a range is given.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    /// Not said yet (ZRANGE / ZRANGESTORE before their options are read): index.
    Auto,
    /// Indexes.
    Rank,
    /// Scores.
    Score,
    /// Members (lexicographic).
    Lex,
}

/// Direction, `Auto` until a REV option may say otherwise.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Auto,
    Forward,
    Reverse,
}

/// A parsed range: indexes, scores or members.
enum Window<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

/// The selected part of a sorted set: ascending ranks, walked downwards when `reverse`.
/// `page` is LIMIT's (offset, count), for score and lex ranges.
fn select(z: &ZSet, w: &Window<'_>, reverse: bool, page: (i64, i64)) -> Range<usize> {
    let len = z.len();
    let within = match w {
        Window::Rank(start, end) => {
            return match rank_window(*start, *end, len) {
                Some((a, b)) if reverse => len - 1 - b..len - a,
                Some((a, b)) => a..b + 1,
                None => 0..0,
            };
        }
        Window::Score(r) => z.score_ranks(r),
        Window::Lex(r) => z.lex_ranks(r),
    };
    // LIMIT: a negative offset selects nothing, a negative count everything after it.
    let (offset, limit) = page;
    if offset < 0 {
        return 0..0;
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(within.len());
    let count = if limit < 0 { usize::MAX } else { usize::try_from(limit).unwrap_or(usize::MAX) };
    let take = count.min(within.len() - offset);
    if reverse {
        within.end - offset - take..within.end - offset
    } else {
        within.start + offset..within.start + offset + take
    }
}

/// ZRANGE and every older range form: `<src> <min> <max> [BYSCORE|BYLEX] [REV] [WITHSCORES]
/// [LIMIT offset count]` with the source key at `src`; `dst` for ZRANGESTORE.
fn range_generic(
    ctx: &mut Ctx<'_, '_>,
    args: Args<'_>,
    src: usize,
    dst: Option<&[u8]>,
    mut by: By,
    mut dir: Dir,
) -> CmdResult {
    let store = dst.is_some();
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = src + 3;
    while j < args.len() {
        let more = args.len() - j - 1;
        let a = &args[j];
        if !store && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && more >= 2 {
            offset = int_arg(&args[j + 1])?;
            limit = int_arg(&args[j + 2])?;
            j += 2;
        } else if dir == Dir::Auto && eq_ic(a, "rev") {
            dir = Dir::Reverse;
        } else if by == By::Auto && eq_ic(a, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && eq_ic(a, "byscore") {
            by = By::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let reverse = dir == Dir::Reverse;
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return Err(CmdError::Static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(CmdError::Static("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    // Reversed score and lex ranges are given as <max> <min>.
    let ends = if reverse && by != By::Rank { (src + 2, src + 1) } else { (src + 1, src + 2) };
    let (lo, hi) = (&args[ends.0], &args[ends.1]);
    let window = match by {
        By::Score => Window::Score(parse_score_range(lo, hi)?),
        By::Lex => Window::Lex(parse_lex_range(lo, hi)?),
        By::Auto | By::Rank => Window::Rank(int_arg(lo)?, int_arg(hi)?),
    };
    let k = KeyRef::new(&args[src]);
    let Some(dst) = dst else {
        return read_zset(ctx, &k, |z, r| match z {
            None => r.empty_array(),
            Some(z) => {
                let ranks = select(z, &window, reverse, (offset, limit));
                reply_pairs(r, z.range(ranks, reverse), withscores);
            }
        });
    };
    let pairs: Vec<(Vec<u8>, f64)> = read_zset(ctx, &k, |z, _| match z {
        None => Vec::new(),
        Some(z) => {
            let ranks = select(z, &window, reverse, (offset, limit));
            z.range(ranks, reverse).map(|(m, s)| (m.to_vec(), s)).collect()
        }
    })?;
    let n = store_result(ctx, dst, pairs, "zrangestore");
    ctx.reply().int(n as i64);
    Ok(())
}

/// Stores a computed sorted set at `dst` (replacing any value and TTL) and publishes `event`,
/// or deletes `dst` when `pairs` is empty (publishing `del` if it existed), as the *STORE
/// commands do. Returns the number of members stored.
pub(super) fn store_result(ctx: &mut Ctx<'_, '_>, dst: &[u8], pairs: Vec<(Vec<u8>, f64)>, event: &str) -> usize {
    let k = KeyRef::new(dst);
    let n = pairs.len();
    if n == 0 {
        if ctx.shard(&k).remove(&k).is_some() {
            ctx.notify(notify::GENERIC, "del", dst);
        }
    } else {
        let limits = ctx.srv.hot.limits();
        let z = ZSet::from_pairs(pairs, &limits);
        ctx.shard(&k).set(&k, Value::Obj(Box::new(Object::ZSet(z))), None);
        ctx.notify(notify::ZSET, event, dst);
    }
    n
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub(super) fn zrange(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, 1, None, By::Auto, Dir::Auto)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub(super) fn zrangestore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, 2, args.get(1), By::Auto, Dir::Auto)
}

/// ZREVRANGE key start stop [WITHSCORES]
pub(super) fn zrevrange(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, 1, None, By::Rank, Dir::Reverse)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub(super) fn zrangebyscore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, 1, None, By::Score, Dir::Forward)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub(super) fn zrevrangebyscore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, 1, None, By::Score, Dir::Reverse)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
pub(super) fn zrangebylex(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, 1, None, By::Lex, Dir::Forward)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub(super) fn zrevrangebylex(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    range_generic(ctx, args, 1, None, By::Lex, Dir::Reverse)
}

/// ZCOUNT key min max
pub(super) fn zcount(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let range = parse_score_range(&args[2], &args[3])?;
    read_zset(ctx, &KeyRef::new(&args[1]), |z, r| r.int(z.map_or(0, |z| z.score_ranks(&range).len() as i64)))
}

/// ZLEXCOUNT key min max
pub(super) fn zlexcount(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let range = parse_lex_range(&args[2], &args[3])?;
    read_zset(ctx, &KeyRef::new(&args[1]), |z, r| r.int(z.map_or(0, |z| z.lex_ranks(&range).len() as i64)))
}
