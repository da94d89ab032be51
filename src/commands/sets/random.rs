//! SPOP and SRANDMEMBER, with Redis 7.2's reply shapes: without a count a bulk string (null
//! when the key is missing); with a count, SPOP answers a set and SRANDMEMBER an array, empty
//! for a missing key or a count of 0. A negative SRANDMEMBER count allows repeats.

use larder_engine::util::num::parse_i64;
use larder_engine::{KeyRef, Object, ValueRef};
use larder_resp::{Args, Reply};

use super::super::objects;
use super::super::{int_arg, CmdError, CmdResult, Ctx};
use super::{modify_set, peek_set, read_set, reply_member};

/// SPOP key [count]
pub fn spop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        3 => return spop_count(ctx, args),
        n if n > 3 => return Err(CmdError::Syntax),
        _ => {}
    }
    let k = KeyRef::new(&args[1]);
    let Some(set) = modify_set(ctx, &k)? else {
        ctx.reply().null();
        return Ok(());
    };
    let popped = set.pop_random();
    objects::finish_write(ctx, &k);
    match popped {
        Some(m) => ctx.reply().bulk(&m),
        None => ctx.reply().null(),
    }
    Ok(())
}

fn spop_count(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    // Redis gives this one text for a negative count and for a non-integer alike.
    let count = match parse_i64(&args[2]) {
        Some(n) if n >= 0 => n as u64,
        _ => return Err(CmdError::Static("ERR value is out of range, must be positive")),
    };
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let Some(set) = modify_set(ctx, &k)? else {
        ctx.reply().set(0);
        return Ok(());
    };
    if count == 0 {
        ctx.reply().set(0);
        return Ok(());
    }
    let size = set.len();
    if count >= size as u64 {
        // Everything: take the whole value out of the keyspace and answer from it.
        let entry = ctx.shard(&k).remove(&k);
        let mut r = ctx.reply();
        match entry.as_ref().map(|e| e.value()) {
            Some(ValueRef::Obj(Object::Set(s))) => {
                r.set(s.len());
                s.iter().for_each(|m| reply_member(&mut r, m));
            }
            _ => r.set(0),
        }
        return Ok(());
    }
    let popped = set.pop_many(count as usize, &limits);
    objects::finish_write(ctx, &k);
    let mut r = ctx.reply();
    r.set(popped.len());
    for m in &popped {
        r.bulk(m);
    }
    Ok(())
}

/// SRANDMEMBER key [count]
pub fn srandmember(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        3 => return srandmember_count(ctx, args),
        n if n > 3 => return Err(CmdError::Syntax),
        _ => {}
    }
    let k = KeyRef::new(&args[1]);
    let exists = read_set(ctx, &k)?.is_some();
    let (db, now, resp3) = (ctx.sess.db, ctx.now, ctx.sess.resp3);
    let mut r = Reply::new(ctx.out, resp3);
    match exists.then(|| peek_set(ctx.keys, db, &k, now)).flatten().and_then(|s| s.random()) {
        Some(m) => reply_member(&mut r, m),
        None => r.null(),
    }
    Ok(())
}

fn srandmember_count(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let l = int_arg(&args[2])?;
    if l == i64::MIN {
        return Err(CmdError::Static(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let (count, distinct) = (l.unsigned_abs(), l >= 0);
    let k = KeyRef::new(&args[1]);
    let exists = read_set(ctx, &k)?.is_some();
    let (db, now, resp3) = (ctx.sess.db, ctx.now, ctx.sess.resp3);
    let mut r = Reply::new(ctx.out, resp3);
    let set = if exists && count > 0 { peek_set(ctx.keys, db, &k, now) } else { None };
    let Some(set) = set else {
        r.empty_array();
        return Ok(());
    };
    if !distinct || count == 1 {
        // Repeats allowed: streamed without holding the picks anywhere.
        r.array(count as usize);
        set.random_with_repeats(count, |m| reply_member(&mut r, m));
    } else {
        let picked = set.random_distinct(usize::try_from(count).unwrap_or(usize::MAX));
        r.array(picked.len());
        for m in picked {
            reply_member(&mut r, m);
        }
    }
    Ok(())
}
