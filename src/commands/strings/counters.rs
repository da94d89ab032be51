//! INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT.

use larder_engine::util::num::{format_incrbyfloat, parse_f64, parse_i64};
use larder_engine::{KeyRef, Value};
use larder_resp::Args;

use super::as_str;
use crate::commands::{int_arg, CmdError, CmdResult, Ctx};

/// Adds `by` to the integer at `args[1]` and replies with the result. The key keeps its TTL.
fn incr_generic(ctx: &mut Ctx<'_, '_>, key: &[u8], by: i64) -> CmdResult {
    let k = KeyRef::new(key);
    let (current, expire) = match ctx.get(&k) {
        None => (0, None),
        Some(e) => {
            let v = match as_str(e)? {
                super::Str::Int(i) => i,
                super::Str::Bytes(b) => parse_i64(b).ok_or(CmdError::NotInteger)?,
            };
            (v, e.expire_ms())
        }
    };
    let next = current.checked_add(by).ok_or(CmdError::Overflow)?;
    let mut buf = itoa::Buffer::new();
    let text = buf.format(next).as_bytes();
    let shard = ctx.shard(&k);
    let in_place = shard.get(&k, 0).is_some_and(|e| e.overwrite_bytes(text));
    if in_place {
        shard.touch_write(&k);
    } else {
        shard.set(&k, Value::Bytes(text), expire);
    }
    ctx.notify(larder_engine::notify::STRING, "incrby", k.key);
    ctx.reply().int(next);
    Ok(())
}

/// INCR key
pub fn incr(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    incr_generic(ctx, &args[1], 1)
}

/// DECR key
pub fn decr(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    incr_generic(ctx, &args[1], -1)
}

/// INCRBY key increment
pub fn incrby(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let by = int_arg(&args[2])?;
    incr_generic(ctx, &args[1], by)
}

/// DECRBY key decrement
pub fn decrby(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let by = int_arg(&args[2])?;
    let neg = by.checked_neg().ok_or(CmdError::Static("ERR decrement would overflow"))?;
    incr_generic(ctx, &args[1], neg)
}

/// INCRBYFLOAT key increment
pub fn incrbyfloat(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let by = parse_f64(&args[2]).ok_or(CmdError::NotFloat)?;
    let (current, expire) = match ctx.get(&k) {
        None => (0.0, None),
        Some(e) => {
            let v = match as_str(e)? {
                super::Str::Int(i) => i as f64,
                super::Str::Bytes(b) => parse_f64(b).ok_or(CmdError::NotFloat)?,
            };
            (v, e.expire_ms())
        }
    };
    let next = current + by;
    if !next.is_finite() {
        return Err(CmdError::Static("ERR increment would produce NaN or Infinity"));
    }
    let mut text = Vec::with_capacity(24);
    format_incrbyfloat(next, &mut text);
    ctx.shard(&k).set(&k, Value::Bytes(&text), expire);
    ctx.notify(larder_engine::notify::STRING, "incrbyfloat", k.key);
    ctx.reply().bulk(&text);
    Ok(())
}
