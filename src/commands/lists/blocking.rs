//! BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP: the list commands that wait for elements.
//!
//! Each tries once like its non-blocking form; when nothing is there it asks to block on its
//! keys (`Ctx::block`). The blocked-client registry re-runs the same handler after a write to
//! one of those keys (see `server::blocking`), so the serving path is this code too.

use larder_resp::Args;

use super::{lmove_once, parse_end, parse_mpop, pop_first, reply_key_values, End};
use crate::commands::{CmdResult, Ctx};
use crate::server::blocking::{parse_timeout, BlockRequest, TimeoutReply};

fn bpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>, end: End) -> CmdResult {
    let deadline = parse_timeout(&args[args.len() - 1], ctx.now)?;
    let keys: Vec<&[u8]> = args.iter().skip(1).take(args.len() - 2).collect();
    match pop_first(ctx, &keys, end, 1)? {
        Some((i, vals)) => {
            let mut r = ctx.reply();
            r.array(2);
            r.bulk(keys[i]);
            r.bulk(vals.first().map(Vec::as_slice).unwrap_or_default());
        }
        None => ctx.block(BlockRequest {
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            deadline,
            on_timeout: TimeoutReply::NullArray,
        }),
    }
    Ok(())
}

/// BLPOP key [key ...] timeout
pub fn blpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    bpop(ctx, args, End::Left)
}

/// BRPOP key [key ...] timeout
pub fn brpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    bpop(ctx, args, End::Right)
}

fn bmove(ctx: &mut Ctx<'_, '_>, args: Args<'_>, from: End, to: End, timeout: &[u8]) -> CmdResult {
    let deadline = parse_timeout(timeout, ctx.now)?;
    match lmove_once(ctx, &args[1], &args[2], from, to)? {
        Some(v) => ctx.reply().bulk(&v),
        None => ctx.block(BlockRequest { keys: vec![args[1].to_vec()], deadline, on_timeout: TimeoutReply::NullBulk }),
    }
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
pub fn blmove(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    bmove(ctx, args, from, to, &args[5])
}

/// BRPOPLPUSH source destination timeout
pub fn brpoplpush(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    bmove(ctx, args, End::Right, End::Left, &args[3])
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
pub fn blmpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let deadline = parse_timeout(&args[1], ctx.now)?;
    let m = parse_mpop(args, 2)?;
    match pop_first(ctx, &m.keys, m.end, m.count)? {
        Some((i, vals)) => reply_key_values(&mut ctx.reply(), m.keys[i], &vals),
        None => ctx.block(BlockRequest {
            keys: m.keys.iter().map(|k| k.to_vec()).collect(),
            deadline,
            on_timeout: TimeoutReply::NullArray,
        }),
    }
    Ok(())
}
