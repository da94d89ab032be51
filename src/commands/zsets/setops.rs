//! Set algebra over sorted sets (and plain sets, whose members score 1): ZUNION, ZINTER,
//! ZDIFF, their *STORE forms and ZINTERCARD, with WEIGHTS and AGGREGATE SUM|MIN|MAX.
//! All of them run through [`setop`], as Redis runs them through
//! `zunionInterDiffGenericCommand`: same parsing order, same errors.

use std::collections::HashMap;

use larder_engine::types::set::Set;
use larder_engine::types::zset::ZSet;
use larder_engine::util::num::parse_f64;
use larder_engine::{KeyRef, Object, ValueRef};
use larder_resp::{Args, Reply};

use super::super::objects;
use super::range::store_result;
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Folds `v` into `acc` (a SUM that gives NaN, `inf + -inf`, counts as 0, as in Redis).
    #[inline]
    fn fold(self, acc: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *acc += v;
                if acc.is_nan() {
                    *acc = 0.0;
                }
            }
            Aggregate::Min => {
                if v < *acc {
                    *acc = v;
                }
            }
            Aggregate::Max => {
                if v > *acc {
                    *acc = v;
                }
            }
        }
    }
}

/// Sorted sets and sets as inputs.
fn zset_or_set(o: &Object) -> bool {
    matches!(o, Object::ZSet(_) | Object::Set(_))
}

/// One input: a sorted set, a set (members score 1) or nothing (absent key).
#[derive(Clone, Copy)]
enum Src<'a> {
    Z(&'a ZSet),
    S(&'a Set),
    None,
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
            Src::None => 0,
        }
    }

    /// The member's score in this input.
    #[inline]
    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
            Src::None => None,
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Src::Z(z) => z.iter().for_each(|(m, s)| f(m, s)),
            Src::S(s) => {
                let mut buf = itoa::Buffer::new();
                for m in s.iter() {
                    f(m.bytes(&mut buf), 1.0);
                }
            }
            Src::None => {}
        }
    }
}

/// Weight times score, with NaN (`0 * inf`) counted as 0.
#[inline]
fn weighted(w: f64, s: f64) -> f64 {
    let v = w * s;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// What a set operation produces.
enum Output<'a> {
    /// Reply with the members (and scores).
    Reply { withscores: bool },
    /// Store at this key.
    Store(&'a [u8]),
    /// Reply with the intersection's size, stopping at `limit` (0: no limit).
    Card { limit: usize },
}

fn setop(
    ctx: &mut Ctx<'_, '_>,
    args: Args<'_>,
    numkeys_at: usize,
    op: Op,
    dst: Option<&[u8]>,
    card_only: bool,
) -> CmdResult {
    let setnum = int_arg(&args[numkeys_at])?;
    if setnum < 1 {
        return Err(CmdError::Msg(format!("ERR at least 1 input key is needed for '{}' command", ctx.spec.name)));
    }
    let first = numkeys_at + 1;
    if setnum as u64 > (args.len() - first) as u64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    // As Redis: the inputs' types are checked before the options are parsed.
    for i in first..first + setnum {
        objects::read(ctx, &KeyRef::new(&args[i]), zset_or_set)?;
    }
    let mut weights = vec![1.0f64; setnum];
    let (mut aggregate, mut withscores, mut limit) = (Aggregate::Sum, false, 0usize);
    let mut j = first + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if op != Op::Diff && !card_only && remaining > setnum && eq_ic(a, "weights") {
            for (w, arg) in weights.iter_mut().zip(args.iter().skip(j + 1)) {
                *w = parse_f64(arg).ok_or(CmdError::Static("ERR weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != Op::Diff && !card_only && remaining >= 2 && eq_ic(a, "aggregate") {
            let v = &args[j + 1];
            aggregate = if eq_ic(v, "sum") {
                Aggregate::Sum
            } else if eq_ic(v, "min") {
                Aggregate::Min
            } else if eq_ic(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if dst.is_none() && !card_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(a, "limit") {
            match int_arg(&args[j + 1]) {
                Ok(n) if n >= 0 => limit = usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err(CmdError::Static("ERR LIMIT can't be negative")),
            }
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let output = match (dst, card_only) {
        (Some(d), _) => Output::Store(d),
        (None, true) => Output::Card { limit },
        (None, false) => Output::Reply { withscores },
    };
    compute_and_answer(ctx, args, first..first + setnum, op, &weights, aggregate, output)
}

/// A computed result.
enum Computed {
    Pairs(Vec<(Vec<u8>, f64)>),
    Card(usize),
}

/// Reads the inputs (already type-checked), computes the result and answers.
fn compute_and_answer(
    ctx: &mut Ctx<'_, '_>,
    args: Args<'_>,
    keys: std::ops::Range<usize>,
    op: Op,
    weights: &[f64],
    aggregate: Aggregate,
    output: Output<'_>,
) -> CmdResult {
    let (db, now) = (ctx.sess.db, ctx.now);
    let result = {
        // Shared borrows of every input at once.
        let locked = &*ctx.keys;
        let mut srcs: Vec<(Src<'_>, f64)> = keys
            .zip(weights)
            .map(|(i, &w)| {
                let src = match locked.peek(db, &KeyRef::new(&args[i]), now).map(|e| e.value()) {
                    Some(ValueRef::Obj(Object::ZSet(z))) => Src::Z(z),
                    Some(ValueRef::Obj(Object::Set(s))) => Src::S(s),
                    _ => Src::None,
                };
                (src, w)
            })
            .collect();
        if op != Op::Diff {
            // Smallest first, as Redis orders them (a stable sort, where Redis's qsort is not).
            srcs.sort_by_key(|(s, _)| s.len());
        }
        match (op, &output) {
            (Op::Inter, Output::Card { limit }) => Computed::Card(intersection_card(&srcs, *limit)),
            (Op::Inter, _) => Computed::Pairs(intersection(&srcs, aggregate)),
            (Op::Union, _) => Computed::Pairs(union(&srcs, aggregate)),
            (Op::Diff, _) => Computed::Pairs(difference(&srcs)),
        }
    };
    match (result, output) {
        (Computed::Card(n), _) => ctx.reply().int(n as i64),
        (Computed::Pairs(pairs), Output::Store(dst)) => {
            let event = match op {
                Op::Union => "zunionstore",
                Op::Inter => "zinterstore",
                Op::Diff => "zdiffstore",
            };
            let n = store_result(ctx, dst, pairs, event);
            ctx.reply().int(n as i64);
        }
        (Computed::Pairs(mut pairs), Output::Reply { withscores }) => {
            pairs
                .sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
            let mut r: Reply<'_> = ctx.reply();
            super::reply_pairs(&mut r, pairs.iter().map(|(m, s)| (&m[..], *s)), withscores);
        }
        (Computed::Pairs(pairs), Output::Card { .. }) => ctx.reply().int(pairs.len() as i64),
    }
    Ok(())
}

fn intersection(srcs: &[(Src<'_>, f64)], aggregate: Aggregate) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    let Some(((first, w0), rest)) = srcs.split_first() else { return out };
    first.for_each(|m, s| {
        let mut score = weighted(*w0, s);
        for (src, w) in rest {
            match src.score(m) {
                // Unlike the first input's, these products are folded as they are, NaN
                // included (a SUM then resets to 0), as Redis does.
                Some(v) => aggregate.fold(&mut score, *w * v),
                None => return,
            }
        }
        out.push((m.to_vec(), score));
    });
    out
}

fn intersection_card(srcs: &[(Src<'_>, f64)], limit: usize) -> usize {
    let Some(((first, _), rest)) = srcs.split_first() else { return 0 };
    let mut n = 0;
    // Walk until the limit; `for_each` cannot stop early, so a limit reached skips the rest.
    first.for_each(|m, _| {
        if limit > 0 && n >= limit {
            return;
        }
        if rest.iter().all(|(src, _)| src.score(m).is_some()) {
            n += 1;
        }
    });
    n
}

fn union(srcs: &[(Src<'_>, f64)], aggregate: Aggregate) -> Vec<(Vec<u8>, f64)> {
    let largest = srcs.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
    let mut acc: HashMap<Vec<u8>, f64> = HashMap::with_capacity(largest);
    for (src, w) in srcs {
        src.for_each(|m, s| {
            let v = weighted(*w, s);
            match acc.get_mut(m) {
                Some(cur) => aggregate.fold(cur, v),
                None => {
                    acc.insert(m.to_vec(), v);
                }
            }
        });
    }
    acc.into_iter().collect()
}

fn difference(srcs: &[(Src<'_>, f64)]) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    let Some(((first, _), rest)) = srcs.split_first() else { return out };
    first.for_each(|m, s| {
        if rest.iter().all(|(src, _)| src.score(m).is_none()) {
            out.push((m.to_vec(), s));
        }
    });
    out
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(super) fn zunion(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setop(ctx, args, 1, Op::Union, None, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(super) fn zinter(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setop(ctx, args, 1, Op::Inter, None, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub(super) fn zdiff(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setop(ctx, args, 1, Op::Diff, None, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE ...]
pub(super) fn zunionstore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setop(ctx, args, 2, Op::Union, args.get(1), false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE ...]
pub(super) fn zinterstore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setop(ctx, args, 2, Op::Inter, args.get(1), false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
pub(super) fn zdiffstore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setop(ctx, args, 2, Op::Diff, args.get(1), false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub(super) fn zintercard(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setop(ctx, args, 1, Op::Inter, None, true)
}
