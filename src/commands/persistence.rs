//! Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE.

use std::sync::atomic::Ordering::Relaxed;

use larder_resp::Args;

use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, CmdError, CmdResult, Ctx};

const SV: Group = Group::Server;
const A_ADM: u64 = acl::ADMIN | acl::SLOW | acl::DANGEROUS;

/// The persistence commands. SAVE and BGSAVE hold every gate: SAVE for the whole save (as
/// Redis blocks), BGSAVE only while the snapshot begins.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "save",
        1,
        flag::ADMIN | flag::NOSCRIPT | flag::NO_MULTI | flag::EXCLUSIVE,
        A_ADM,
        Keys::None,
        SV,
        "1.0.0",
        "O(N) where N is the total number of keys in all databases",
        "Writes the dataset to disk, blocking until done.",
        save,
    ),
    cmd(
        "bgsave",
        -1,
        flag::ADMIN | flag::NOSCRIPT | flag::EXCLUSIVE,
        A_ADM,
        Keys::None,
        SV,
        "1.0.0",
        "O(1)",
        "Writes the dataset to disk in the background.",
        bgsave,
    ),
    cmd(
        "lastsave",
        1,
        flag::LOADING | flag::STALE | flag::FAST,
        acl::FAST | acl::DANGEROUS,
        Keys::None,
        SV,
        "1.0.0",
        "O(1)",
        "Returns the Unix time of the last successful save.",
        lastsave,
    ),
    cmd(
        "bgrewriteaof",
        1,
        flag::ADMIN | flag::NOSCRIPT | flag::EXCLUSIVE,
        A_ADM,
        Keys::None,
        SV,
        "1.0.0",
        "O(1)",
        "Rewrites the append-only file in the background.",
        bgrewriteaof,
    ),
];

fn save(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    crate::persist::save_blocking(ctx.srv).map_err(CmdError::Msg)?;
    ctx.reply().ok();
    Ok(())
}

fn bgsave(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if eq_ic(&args[1], "schedule") => true,
        _ => return Err(CmdError::Syntax),
    };
    let p = &ctx.srv.persist;
    if p.bgsave_running.load(Relaxed) {
        if schedule {
            p.scheduled.store(true, Relaxed);
            ctx.reply().simple(b"Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::Static("ERR Background save already in progress"));
    }
    let srv = ctx.srv.me.get().and_then(|w| w.upgrade()).ok_or(CmdError::Static("ERR server is shutting down"))?;
    crate::persist::start_bgsave(&srv).map_err(CmdError::Msg)?;
    ctx.reply().simple(b"Background saving started");
    Ok(())
}

fn lastsave(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let t = ctx.srv.persist.lastsave.load(Relaxed);
    ctx.reply().int(t as i64);
    Ok(())
}

fn bgrewriteaof(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let a = &ctx.srv.aof;
    if a.rewriting.load(Relaxed) {
        return Err(CmdError::Static("ERR Background append only file rewriting already in progress"));
    }
    if !a.on.load(Relaxed) {
        // Redis then writes a fresh AOF; here that is turning it on through the cron.
        return Err(CmdError::Static("ERR the append-only file is off: CONFIG SET appendonly yes starts one"));
    }
    if ctx.srv.persist.bgsave_running.load(Relaxed) {
        a.rewrite_scheduled.store(true, Relaxed);
        ctx.reply().simple(b"Background append only file rewriting scheduled");
        return Ok(());
    }
    let srv = ctx.srv.me.get().and_then(|w| w.upgrade()).ok_or(CmdError::Static("ERR server is shutting down"))?;
    crate::persist::aof::start_rewrite(&srv).map_err(CmdError::Msg)?;
    ctx.reply().simple(b"Background append only file rewriting started");
    Ok(())
}
