//! BZPOPMIN, BZPOPMAX, BZMPOP: the sorted-set pops that wait for members (served by the
//! blocked-client registry through this same code, as the blocking list commands are).

use larder_resp::Args;

use super::write::{parse_mpop, pop_first, reply_bzpop, reply_mpop, End};
use crate::commands::{CmdResult, Ctx};
use crate::server::blocking::{parse_timeout, BlockRequest, TimeoutReply};

fn bzpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>, end: End) -> CmdResult {
    let deadline = parse_timeout(&args[args.len() - 1], ctx.now)?;
    let keys: Vec<&[u8]> = args.iter().skip(1).take(args.len() - 2).collect();
    match pop_first(ctx, keys.iter().copied(), end, 1)? {
        Some((key, popped)) => {
            if let Some((member, score)) = popped.first() {
                reply_bzpop(&mut ctx.reply(), key, member, *score);
            } else {
                ctx.reply().null_array();
            }
        }
        None => ctx.block(BlockRequest {
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            deadline,
            on_timeout: TimeoutReply::NullArray,
        }),
    }
    Ok(())
}

/// BZPOPMIN key [key ...] timeout
pub fn bzpopmin(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    bzpop(ctx, args, End::Min)
}

/// BZPOPMAX key [key ...] timeout
pub fn bzpopmax(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    bzpop(ctx, args, End::Max)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
pub fn bzmpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let deadline = parse_timeout(&args[1], ctx.now)?;
    let (range, end, count) = parse_mpop(args, 2)?;
    let keys: Vec<&[u8]> = range.map(|i| &args[i]).collect();
    match pop_first(ctx, keys.iter().copied(), end, count)? {
        Some((key, popped)) => reply_mpop(&mut ctx.reply(), key, &popped),
        None => ctx.block(BlockRequest {
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            deadline,
            on_timeout: TimeoutReply::NullArray,
        }),
    }
    Ok(())
}
