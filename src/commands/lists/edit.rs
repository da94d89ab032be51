//! In-place list edits: LSET, LINSERT, LREM, LTRIM. Each ends with the write epilogue when it
//! changed the list (LTRIM whenever the key exists, as Redis signals it regardless).

use larder_engine::KeyRef;
use larder_resp::Args;

use super::with_list;
use crate::commands::objects;
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// LSET key index element
pub(super) fn lset(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    with_list(ctx, &k, true, |list, r| {
        let Some(list) = list else { return Err(CmdError::Static("ERR no such key")) };
        let index = int_arg(&args[2])?;
        if !list.set(index, &args[3], &limits) {
            return Err(CmdError::Static("ERR index out of range"));
        }
        r.ok();
        Ok(())
    })?;
    objects::finish_write(ctx, &k);
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, 0 when the key is absent, -1 when
/// the pivot is not found.
pub(super) fn linsert(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let after = if eq_ic(&args[2], "after") {
        true
    } else if eq_ic(&args[2], "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let inserted = with_list(ctx, &k, true, |list, r| {
        let Some(list) = list else {
            r.int(0);
            return Ok(false);
        };
        match list.insert(&args[3], &args[4], after, &limits) {
            Some(len) => {
                r.int(len as i64);
                Ok(true)
            }
            None => {
                r.int(-1);
                Ok(false)
            }
        }
    })?;
    if inserted {
        objects::finish_write(ctx, &k);
    }
    Ok(())
}

/// LREM key count element: how many were removed.
pub(super) fn lrem(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let count = int_arg(&args[2])?;
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let removed = with_list(ctx, &k, true, |list, r| {
        let removed = list.map_or(0, |l| l.remove(&args[3], count, &limits));
        r.int(removed as i64);
        Ok(removed)
    })?;
    if removed > 0 {
        objects::finish_write(ctx, &k);
    }
    Ok(())
}

/// LTRIM key start stop
pub(super) fn ltrim(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let start = int_arg(&args[2])?;
    let stop = int_arg(&args[3])?;
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let existed = with_list(ctx, &k, true, |list, r| {
        r.ok();
        Ok(list.map(|l| l.trim(start, stop, &limits)).is_some())
    })?;
    if existed {
        objects::finish_write(ctx, &k);
    }
    Ok(())
}
