//! SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF and SDIFFSTORE.
//!
//! Every source key is looked up first (lazy expiry, hit/miss counting, WRONGTYPE for any key
//! holding something else, before anything is written); then the sources are borrowed all at
//! once through shared borrows of the locked shards, the result is computed without copying
//! them, and either streamed as the reply or stored. A missing key is an empty set. A stored
//! result replaces the destination whatever it held (and its TTL); an empty one deletes it.

use larder_engine::types::set::{Member, Set};
use larder_engine::util::num::parse_i64;
use larder_engine::{KeyRef, Object, Value};
use larder_resp::{Args, Reply};

use super::super::{eq_ic, CmdError, CmdResult, Ctx};
use super::{peek_set, read_set, reply_member};

/// Where a result goes.
#[derive(Clone, Copy)]
enum Out<'a> {
    /// Back to the client, as a set.
    Reply,
    /// Only its size, stopping at a limit (0: none): SINTERCARD.
    Card(u64),
    /// Stored under this key; the reply is its size.
    Store(KeyRef<'a>),
}

/// Checks every source key in argument order and returns them with whether each exists.
fn check_sources<'a>(
    ctx: &mut Ctx<'_, '_>,
    keys: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<(KeyRef<'a>, bool)>, CmdError> {
    let mut out = Vec::new();
    for key in keys {
        let k = KeyRef::new(key);
        let exists = read_set(ctx, &k)?.is_some();
        out.push((k, exists));
    }
    Ok(out)
}

/// Stores `result` under `dst` (deleting `dst` when it is empty) and replies with its size.
fn store(ctx: &mut Ctx<'_, '_>, dst: &KeyRef<'_>, result: Set) {
    let n = result.len();
    if n == 0 {
        ctx.shard(dst).remove(dst);
    } else {
        ctx.shard(dst).set(dst, Value::Obj(Box::new(Object::Set(result))), None);
    }
    ctx.reply().int(n as i64);
}

/// SINTER key [key ...]
pub fn sinter(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    intersect(ctx, args.slice(1), Out::Reply)
}

/// SINTERSTORE destination key [key ...]
pub fn sinterstore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let dst = args.get(1).map(KeyRef::new).ok_or(CmdError::Syntax)?;
    intersect(ctx, args.slice(2), Out::Store(dst))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let numkeys = match parse_i64(&args[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return Err(CmdError::Static("ERR numkeys should be greater than 0")),
    };
    let keys_end = match usize::try_from(numkeys) {
        Ok(n) if n <= args.len() - 2 => n + 2,
        _ => return Err(CmdError::Static("ERR Number of keys can't be greater than number of args")),
    };
    let mut limit = 0u64;
    let mut i = keys_end;
    while i < args.len() {
        if eq_ic(&args[i], "limit") && i + 1 < args.len() {
            i += 1;
            limit = match parse_i64(&args[i]) {
                Some(n) if n >= 0 => n as u64,
                _ => return Err(CmdError::Static("ERR LIMIT can't be negative")),
            };
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let keys = args.iter().take(keys_end).skip(2);
    intersect_keys(ctx, keys, Out::Card(limit))
}

fn intersect(ctx: &mut Ctx<'_, '_>, keys: Args<'_>, out: Out<'_>) -> CmdResult {
    intersect_keys(ctx, keys.iter(), out)
}

/// The reply (or the stored nothing) of an intersection with an empty set.
fn empty_intersection(ctx: &mut Ctx<'_, '_>, out: Out<'_>) {
    match out {
        Out::Reply => ctx.reply().set(0),
        Out::Card(_) => ctx.reply().int(0),
        Out::Store(dst) => store(ctx, &dst, Set::new()),
    }
}

fn intersect_keys<'a>(ctx: &mut Ctx<'_, '_>, keys: impl Iterator<Item = &'a [u8]>, out: Out<'_>) -> CmdResult {
    let srcs = check_sources(ctx, keys)?;
    let (db, now, resp3) = (ctx.sess.db, ctx.now, ctx.sess.resp3);
    // A missing key (or, defensively, one that cannot be borrowed) is an empty set, and so is
    // the intersection.
    if srcs.iter().any(|(k, exists)| !exists || peek_set(ctx.keys, db, k, now).is_none()) {
        empty_intersection(ctx, out);
        return Ok(());
    }
    let limits = ctx.srv.hot.limits();
    let mut sets: Vec<&Set> = srcs.iter().filter_map(|(k, _)| peek_set(ctx.keys, db, k, now)).collect();
    // Smallest first: its members are the candidates.
    sets.sort_by_key(|s| s.len());
    let Some((&first, rest)) = sets.split_first() else {
        empty_intersection(ctx, out);
        return Ok(());
    };
    let rest: Vec<&Set> = rest.iter().copied().filter(|s| !std::ptr::eq(*s, first)).collect();
    let in_all = |m: Member<'_>| rest.iter().all(|s| s.contains_member(m));
    match out {
        Out::Reply => {
            let mut r = Reply::new(ctx.out, resp3);
            let d = r.deferred();
            let mut n = 0;
            for m in first.iter().filter(|&m| in_all(m)) {
                reply_member(&mut r, m);
                n += 1;
            }
            r.finish_set(d, n);
        }
        Out::Card(limit) => {
            let mut n = 0u64;
            for _ in first.iter().filter(|&m| in_all(m)) {
                n += 1;
                if n == limit {
                    break;
                }
            }
            Reply::new(ctx.out, resp3).int(n as i64);
        }
        Out::Store(dst) => {
            let mut result = Set::for_intersection(first);
            for m in first.iter().filter(|&m| in_all(m)) {
                result.insert_member(m, &limits);
            }
            result.compact_integers(&limits);
            store(ctx, &dst, result);
        }
    }
    Ok(())
}

/// SUNION key [key ...]
pub fn sunion(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    union_or_diff(ctx, args.slice(1), false, None)
}

/// SUNIONSTORE destination key [key ...]
pub fn sunionstore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let dst = args.get(1).map(KeyRef::new).ok_or(CmdError::Syntax)?;
    union_or_diff(ctx, args.slice(2), false, Some(dst))
}

/// SDIFF key [key ...]
pub fn sdiff(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    union_or_diff(ctx, args.slice(1), true, None)
}

/// SDIFFSTORE destination key [key ...]
pub fn sdiffstore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let dst = args.get(1).map(KeyRef::new).ok_or(CmdError::Syntax)?;
    union_or_diff(ctx, args.slice(2), true, Some(dst))
}

/// The union (or the difference: the first set minus all the others) of the sets at `keys`,
/// built as Redis builds it, from an empty intset, so a stored result gets the encoding Redis
/// gives it.
fn union_or_diff(ctx: &mut Ctx<'_, '_>, keys: Args<'_>, diff: bool, dst: Option<KeyRef<'_>>) -> CmdResult {
    let srcs = check_sources(ctx, keys.iter())?;
    let limits = ctx.srv.hot.limits();
    let (db, now, resp3) = (ctx.sess.db, ctx.now, ctx.sess.resp3);
    let sets: Vec<Option<&Set>> =
        srcs.iter().map(|(k, exists)| if *exists { peek_set(ctx.keys, db, k, now) } else { None }).collect();
    let mut result = Set::new();
    match sets.split_first() {
        Some((_, _)) if !diff => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    result.insert_member(m, &limits);
                }
            }
        }
        Some((&Some(first), rest)) => difference(first, rest, &mut result, &limits),
        _ => {}
    }
    match dst {
        Some(dst) => store(ctx, &dst, result),
        None => {
            let mut r = Reply::new(ctx.out, resp3);
            r.set(result.len());
            result.iter().for_each(|m| reply_member(&mut r, m));
        }
    }
    Ok(())
}

/// `first` minus every set in `rest`, into `result`, with the algorithm Redis would pick (it
/// decides which conversions the result goes through, so a stored result's encoding).
fn difference(first: &Set, rest: &[Option<&Set>], result: &mut Set, limits: &larder_engine::types::Limits) {
    // The same set named again: nothing is left.
    if rest.iter().flatten().any(|s| std::ptr::eq(*s, first)) {
        return;
    }
    let present = 1 + rest.iter().flatten().count();
    let per_member_work = first.len().saturating_mul(present) / 2;
    let whole_work = first.len() + rest.iter().flatten().map(|s| s.len()).sum::<usize>();
    if per_member_work <= whole_work {
        // Test each member of the first set against the others, biggest first.
        let mut others: Vec<&Set> = rest.iter().flatten().copied().collect();
        others.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for m in first.iter() {
            if !others.iter().any(|s| s.contains_member(m)) {
                result.insert_member(m, limits);
            }
        }
    } else {
        // Copy the first set, then remove every member of the others.
        for m in first.iter() {
            result.insert_member(m, limits);
        }
        for s in rest.iter().flatten() {
            if result.is_empty() {
                break;
            }
            for m in s.iter() {
                result.remove_member(m);
            }
        }
    }
}
