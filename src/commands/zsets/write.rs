//! Writes: ZADD, ZINCRBY, ZREM, ZREMRANGEBYRANK/SCORE/LEX, and popping (ZPOPMIN, ZPOPMAX,
//! ZMPOP). The pop logic and its reply shapes are `pub(crate)` so the blocking variants
//! (BZPOPMIN, BZPOPMAX, BZMPOP) run exactly the same code once a key has members.

use larder_engine::notify;
use larder_engine::types::zset::{AddFlags, AddResult, ZSet};
use larder_engine::util::num::parse_f64;
use larder_engine::{KeyRef, Object};
use larder_resp::{Args, Reply};

use super::super::objects::{self, kind};
use super::{as_zset, parse_lex_range, parse_score_range, rank_window};
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub(super) fn zadd(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    zadd_generic(ctx, args, false)
}

/// ZINCRBY key increment member (Redis runs it as ZADD INCR, options parsing included).
pub(super) fn zincrby(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    zadd_generic(ctx, args, true)
}

fn zadd_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, incr: bool) -> CmdResult {
    let mut flags = AddFlags { incr, ..AddFlags::default() };
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if eq_ic(a, "nx") {
            flags.nx = true;
        } else if eq_ic(a, "xx") {
            flags.xx = true;
        } else if eq_ic(a, "ch") {
            ch = true;
        } else if eq_ic(a, "incr") {
            flags.incr = true;
        } else if eq_ic(a, "gt") {
            flags.gt = true;
        } else if eq_ic(a, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let elements = args.len() - i;
    if elements == 0 || elements % 2 == 1 {
        return Err(CmdError::Syntax);
    }
    let pairs = elements / 2;
    if flags.nx && flags.xx {
        return Err(CmdError::Static("ERR XX and NX options at the same time are not compatible"));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CmdError::Static("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if flags.incr && pairs > 1 {
        return Err(CmdError::Static("ERR INCR option supports a single increment-element pair"));
    }
    // Every score is checked before anything changes: the command applies fully or not at all.
    let mut scores = smallvec::SmallVec::<[f64; 8]>::with_capacity(pairs);
    for j in 0..pairs {
        scores.push(parse_f64(&args[i + 2 * j]).ok_or(CmdError::NotFloat)?);
    }
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0usize);
    let mut last = 0.0;
    let mut nan = false;
    // XX never creates the key.
    let proceed = !flags.xx || objects::modify(ctx, &k, kind::zset)?.is_some();
    if proceed {
        let first_len = args[i + 1].len();
        let o = objects::write(ctx, &k, kind::zset, || Object::ZSet(ZSet::with_hint(pairs, first_len, &limits)))?;
        let z = as_zset(o).ok_or(CmdError::WrongType)?;
        z.prepare_for(pairs, &limits);
        for (j, &score) in scores.iter().enumerate() {
            match z.add(&args[i + 2 * j + 1], score, flags, &limits) {
                AddResult::Added(s) => {
                    added += 1;
                    processed += 1;
                    last = s;
                }
                AddResult::Updated(s) => {
                    updated += 1;
                    processed += 1;
                    last = s;
                }
                AddResult::Unchanged(s) => {
                    processed += 1;
                    last = s;
                }
                AddResult::Skipped => {}
                AddResult::NaN => {
                    nan = true;
                    break;
                }
            }
        }
        objects::finish_write(ctx, &k);
    }
    if added + updated > 0 {
        ctx.notify(notify::ZSET, if flags.incr { "zincr" } else { "zadd" }, k.key);
    }
    if nan {
        return Err(CmdError::Static("ERR resulting score is not a number (NaN)"));
    }
    let mut r = ctx.reply();
    if flags.incr {
        if processed > 0 {
            r.double(last);
        } else {
            r.null();
        }
    } else {
        r.int(if ch { added + updated } else { added });
    }
    Ok(())
}

/// ZREM key member [member ...]
pub(super) fn zrem(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let mut deleted = 0;
    if let Some(z) = objects::modify(ctx, &k, kind::zset)?.and_then(as_zset) {
        for m in args.iter().skip(2) {
            if z.remove(m) {
                deleted += 1;
            }
            if z.is_empty() {
                break;
            }
        }
        if deleted > 0 {
            written(ctx, &k, "zrem");
        }
    }
    ctx.reply().int(deleted);
    Ok(())
}

/// The write epilogue of a command that removed members from the sorted set at `k`: counts
/// the write, deletes the key if it is now empty, and publishes `event` (and `del`).
fn written(ctx: &mut Ctx<'_, '_>, k: &KeyRef<'_>, event: &str) {
    objects::finish_write_with(ctx, k, Some((notify::ZSET, event)));
}

/// Which range a ZREMRANGEBY* command removes.
enum RemRange<'a> {
    Rank(i64, i64),
    Score(larder_engine::types::zset::ScoreRange),
    Lex(larder_engine::types::zset::LexRange<'a>),
}

fn zremrange(ctx: &mut Ctx<'_, '_>, args: Args<'_>, range: RemRange<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let mut deleted = 0;
    let event = match range {
        RemRange::Rank(..) => "zremrangebyrank",
        RemRange::Score(_) => "zremrangebyscore",
        RemRange::Lex(_) => "zremrangebylex",
    };
    if let Some(z) = objects::modify(ctx, &k, kind::zset)?.and_then(as_zset) {
        let ranks = match range {
            RemRange::Rank(start, end) => match rank_window(start, end, z.len()) {
                Some((a, b)) => a..b + 1,
                None => 0..0,
            },
            RemRange::Score(r) => z.score_ranks(&r),
            RemRange::Lex(r) => z.lex_ranks(&r),
        };
        deleted = z.remove_ranks(ranks);
        if deleted > 0 {
            written(ctx, &k, event);
        }
    }
    ctx.reply().int(deleted as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
pub(super) fn zremrangebyrank(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (start, end) = (int_arg(&args[2])?, int_arg(&args[3])?);
    zremrange(ctx, args, RemRange::Rank(start, end))
}

/// ZREMRANGEBYSCORE key min max
pub(super) fn zremrangebyscore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let r = parse_score_range(&args[2], &args[3])?;
    zremrange(ctx, args, RemRange::Score(r))
}

/// ZREMRANGEBYLEX key min max
pub(super) fn zremrangebylex(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let r = parse_lex_range(&args[2], &args[3])?;
    zremrange(ctx, args, RemRange::Lex(r))
}

/// The end of a sorted set a pop takes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// Lowest scores first (ZPOPMIN, BZPOPMIN, `MIN`).
    Min,
    /// Highest scores first (ZPOPMAX, BZPOPMAX, `MAX`).
    Max,
}

/// Pairs taken out of a sorted set, in pop order.
pub(crate) type Popped = Vec<(Vec<u8>, f64)>;

/// Pops up to `count` pairs from the sorted set at `key`, lowest or highest first. An absent
/// key gives an empty list; another type gives WRONGTYPE (even with `count` 0). The key is
/// deleted when it empties, and the write is counted. Shared by ZPOPMIN/ZPOPMAX and the
/// blocking BZPOPMIN/BZPOPMAX. Publishes `zpopmin` / `zpopmax` (and `del`).
pub(crate) fn pop(ctx: &mut Ctx<'_, '_>, key: &[u8], end: End, count: usize) -> Result<Popped, CmdError> {
    let k = KeyRef::new(key);
    let Some(z) = objects::modify(ctx, &k, kind::zset)?.and_then(as_zset) else {
        return Ok(Vec::new());
    };
    let n = count.min(z.len());
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        match z.pop(end == End::Max) {
            Some(p) => out.push(p),
            None => break,
        }
    }
    if !out.is_empty() {
        written(ctx, &k, if end == End::Max { "zpopmax" } else { "zpopmin" });
    }
    Ok(out)
}

/// ZMPOP's core (and BZMPOP's once a key has members): pops up to `count` pairs from the
/// first of `keys` that exists. A key of another type met before it gives WRONGTYPE; `None`
/// when none of the keys exists. Returns that key with the pairs.
pub(crate) fn pop_first<'k>(
    ctx: &mut Ctx<'_, '_>,
    keys: impl IntoIterator<Item = &'k [u8]>,
    end: End,
    count: usize,
) -> Result<Option<(&'k [u8], Popped)>, CmdError> {
    for key in keys {
        if objects::modify(ctx, &KeyRef::new(key), kind::zset)?.is_some() {
            return pop(ctx, key, end, count).map(|p| Some((key, p)));
        }
    }
    Ok(None)
}

/// Writes popped pairs as ZPOPMIN/ZPOPMAX reply: a flat member, score, ... array, or with
/// `nested` (RESP3 with a COUNT argument) an array of [member, score] pairs.
pub(crate) fn reply_pop(r: &mut Reply<'_>, popped: &[(Vec<u8>, f64)], nested: bool) {
    r.array(if nested { popped.len() } else { popped.len() * 2 });
    for (m, s) in popped {
        if nested {
            r.array(2);
        }
        r.bulk(m);
        r.double(*s);
    }
}

/// Writes ZMPOP's and BZMPOP's reply in both protocols: [key, [[member, score], ...]].
pub(crate) fn reply_mpop(r: &mut Reply<'_>, key: &[u8], popped: &[(Vec<u8>, f64)]) {
    r.array(2);
    r.bulk(key);
    reply_pop(r, popped, true);
}

/// Writes BZPOPMIN's and BZPOPMAX's reply in both protocols: [key, member, score].
pub(crate) fn reply_bzpop(r: &mut Reply<'_>, key: &[u8], member: &[u8], score: f64) {
    r.array(3);
    r.bulk(key);
    r.bulk(member);
    r.double(score);
}

fn zpop_command(ctx: &mut Ctx<'_, '_>, args: Args<'_>, end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match int_arg(a) {
            Ok(n) if n >= 0 => Some(n as usize),
            _ => return Err(CmdError::Static("ERR value is out of range, must be positive")),
        },
    };
    let popped = pop(ctx, &args[1], end, count.unwrap_or(1))?;
    let mut r = ctx.reply();
    // RESP3 nests pairs only when a count was given.
    let nested = r.resp3 && count.is_some();
    reply_pop(&mut r, &popped, nested);
    Ok(())
}

/// ZPOPMIN key [count]
pub(super) fn zpopmin(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    zpop_command(ctx, args, End::Min)
}

/// ZPOPMAX key [count]
pub(super) fn zpopmax(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    zpop_command(ctx, args, End::Max)
}

/// Parses the arguments of ZMPOP (`numkeys_at` 1) and BZMPOP (`numkeys_at` 2): `numkeys key
/// [key ...] MIN|MAX [COUNT count]`. Returns the index range of the keys, the end and the
/// count, with Redis's errors.
pub(crate) fn parse_mpop(args: Args<'_>, numkeys_at: usize) -> Result<(std::ops::Range<usize>, End, usize), CmdError> {
    let numkeys = match int_arg(&args[numkeys_at]) {
        Ok(n) if n >= 1 => n as usize,
        _ => return Err(CmdError::Static("ERR numkeys should be greater than 0")),
    };
    let where_at = match (numkeys_at + 1).checked_add(numkeys) {
        Some(w) if w < args.len() => w,
        _ => return Err(CmdError::Syntax),
    };
    let end = if eq_ic(&args[where_at], "min") {
        End::Min
    } else if eq_ic(&args[where_at], "max") {
        End::Max
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut j = where_at + 1;
    while j < args.len() {
        if count.is_none() && eq_ic(&args[j], "count") && j + 1 < args.len() {
            j += 1;
            match int_arg(&args[j]) {
                Ok(n) if n >= 1 => count = Some(n as usize),
                _ => return Err(CmdError::Static("ERR count should be greater than 0")),
            }
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((numkeys_at + 1..where_at, end, count.unwrap_or(1)))
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub(super) fn zmpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (keys, end, count) = parse_mpop(args, 1)?;
    let found = pop_first(ctx, keys.filter_map(|i| args.get(i)), end, count)?;
    let mut r = ctx.reply();
    match found {
        Some((key, popped)) => reply_mpop(&mut r, key, &popped),
        None => r.null_array(),
    }
    Ok(())
}
