//! Reads of single members and whole sets: ZCARD, ZSCORE, ZMSCORE, ZRANK, ZREVRANK,
//! ZRANDMEMBER and ZSCAN.

use larder_engine::util::glob::glob_match;
use larder_engine::KeyRef;
use larder_resp::{format_double, Args};

use super::{format_g17, read_zset, reply_pairs};
use crate::commands::scan::parse_cursor;
use crate::commands::strings::max_bulk_len;
use crate::commands::{arity_error, eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// ZCARD key
pub(super) fn zcard(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    read_zset(ctx, &KeyRef::new(&args[1]), |z, r| r.int(z.map_or(0, |z| z.len() as i64)))
}

/// ZSCORE key member
pub(super) fn zscore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    read_zset(ctx, &KeyRef::new(&args[1]), |z, r| match z.and_then(|z| z.score(&args[2])) {
        Some(s) => r.double(s),
        None => r.null(),
    })
}

/// ZMSCORE key member [member ...]
pub(super) fn zmscore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    read_zset(ctx, &KeyRef::new(&args[1]), |z, r| {
        r.array(args.len() - 2);
        for m in args.iter().skip(2) {
            match z.and_then(|z| z.score(m)) {
                Some(s) => r.double(s),
                None => r.null(),
            }
        }
    })
}

fn zrank_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, reverse: bool) -> CmdResult {
    if args.len() > 4 {
        return Err(arity_error(ctx.spec.name));
    }
    let withscore = match args.get(3) {
        None => false,
        Some(a) if eq_ic(a, "withscore") => true,
        Some(_) => return Err(CmdError::Syntax),
    };
    read_zset(ctx, &KeyRef::new(&args[1]), |z, r| {
        let found =
            z.and_then(|z| z.rank(&args[2]).map(|(rank, s)| (if reverse { z.len() - 1 - rank } else { rank }, s)));
        match (found, withscore) {
            (Some((rank, s)), true) => {
                r.array(2);
                r.int(rank as i64);
                r.double(s);
            }
            (Some((rank, _)), false) => r.int(rank as i64),
            (None, true) => r.null_array(),
            (None, false) => r.null(),
        }
    })
}

/// ZRANK key member [WITHSCORE]
pub(super) fn zrank(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    zrank_generic(ctx, args, false)
}

/// ZREVRANK key member [WITHSCORE]
pub(super) fn zrevrank(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    zrank_generic(ctx, args, true)
}

/// ZRANDMEMBER key [count [WITHSCORES]]
pub(super) fn zrandmember(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let Some(count_arg) = args.get(2) else {
        return read_zset(ctx, &k, |z, r| match z.and_then(|z| z.random()) {
            Some((m, _)) => r.bulk(m),
            None => r.null(),
        });
    };
    let l = int_arg(count_arg)?;
    if l == i64::MIN {
        return Err(CmdError::Static(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let withscores = match args.get(3) {
        None => false,
        Some(a) if args.len() == 4 && eq_ic(a, "withscores") => true,
        Some(_) => return Err(CmdError::Syntax),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::Static("ERR value is out of range"));
    }
    // A huge negative count is cut off once the reply passes proto-max-bulk-len bytes, and
    // the connection is closed after it, as Redis closes a client over its output limit.
    let cap = usize::try_from(max_bulk_len(ctx)).unwrap_or(usize::MAX);
    let cut = read_zset(ctx, &k, |z, r| {
        let Some(z) = z.filter(|_| l != 0) else {
            r.empty_array();
            return false;
        };
        // RESP3 pairs each member with its score; RESP2 flattens them.
        let per = if withscores && !r.resp3 { 2 } else { 1 };
        let emit = |r: &mut larder_resp::Reply<'_>, m: &[u8], s: f64| {
            if withscores && r.resp3 {
                r.array(2);
            }
            r.bulk(m);
            if withscores {
                r.double(s);
            }
        };
        if l < 0 || l == 1 {
            // Independent picks, repeats allowed, in random order.
            let n = l.unsigned_abs();
            r.array((n as usize).saturating_mul(per));
            let start = r.buf.len();
            let mut cut = false;
            z.random_with_repeats(n, |m, s| {
                emit(r, m, s);
                cut = r.buf.len() - start > cap;
                !cut
            });
            return cut;
        } else if l as u64 >= z.len() as u64 {
            // The whole set, highest first, as Redis's reverse-walking iterator returns it.
            reply_pairs(r, z.range(0..z.len(), true), withscores);
        } else {
            let picked = z.random_distinct(l as usize);
            r.array(picked.len() * per);
            for (m, s) in picked {
                emit(r, m, s);
            }
        }
        false
    })?;
    if cut {
        ctx.sess.close_after_reply = true;
    }
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
pub(super) fn zscan(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(&args[2]).ok_or(CmdError::Static("ERR invalid cursor"))?;
    read_zset(ctx, &KeyRef::new(&args[1]), |z, r| -> CmdResult {
        let Some(z) = z else {
            r.array(2);
            r.bulk(b"0");
            r.empty_array();
            return Ok(());
        };
        // Options are parsed once the key is known to hold a sorted set, as in Redis.
        let (mut count, mut pattern) = (10usize, None);
        let mut i = 3;
        while i < args.len() {
            let more = args.len() - i;
            if eq_ic(&args[i], "count") && more >= 2 {
                let n = int_arg(&args[i + 1])?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                count = usize::try_from(n).unwrap_or(usize::MAX);
            } else if eq_ic(&args[i], "match") && more >= 2 {
                pattern = Some(&args[i + 1]).filter(|p| *p != b"*");
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
        // Scores as Redis's ZSCAN prints them: the listpack's stored form for small sets,
        // "%.17g" for skiplist-encoded ones.
        let packed = z.encoding() == "listpack";
        let mut items: Vec<Vec<u8>> = Vec::new();
        let next = z.scan(cursor, count, |m, s| {
            if pattern.is_some_and(|p| !glob_match(p, m, false)) {
                return;
            }
            items.push(m.to_vec());
            let mut text = Vec::new();
            if packed {
                format_double(s, &mut text);
            } else {
                format_g17(s, &mut text);
            }
            items.push(text);
        });
        r.array(2);
        r.bulk(itoa::Buffer::new().format(next).as_bytes());
        r.array(items.len());
        for it in &items {
            r.bulk(it);
        }
        Ok(())
    })?
}
