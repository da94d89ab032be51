//! Server commands: TIME, SHUTDOWN, SLOWLOG, MONITOR, WAIT, ROLE.

use std::sync::atomic::Ordering::Relaxed;

use larder_resp::Args;

use super::client_cmd::help_lines;
use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};
use crate::server::client::cflag;

const SV: Group = Group::Server;
const A_ADM: u64 = acl::ADMIN | acl::SLOW | acl::DANGEROUS;

static SLOWLOG_SUBS: &[CommandSpec] = &[
    cmd(
        "get",
        -2,
        flag::ADMIN | flag::LOADING | flag::STALE,
        A_ADM,
        Keys::None,
        SV,
        "2.2.12",
        "O(N) where N is the number of entries returned",
        "Returns the slow log's entries, newest first.",
        slowlog_get,
    ),
    cmd(
        "len",
        2,
        flag::ADMIN | flag::LOADING | flag::STALE,
        A_ADM,
        Keys::None,
        SV,
        "2.2.12",
        "O(1)",
        "Returns the number of entries in the slow log.",
        slowlog_len,
    ),
    cmd(
        "reset",
        2,
        flag::ADMIN | flag::LOADING | flag::STALE,
        A_ADM,
        Keys::None,
        SV,
        "2.2.12",
        "O(N) where N is the number of entries in the slowlog",
        "Empties the slow log.",
        slowlog_reset,
    ),
    cmd(
        "help",
        2,
        flag::LOADING | flag::STALE,
        acl::SLOW,
        Keys::None,
        SV,
        "6.2.0",
        "O(1)",
        "Lists the SLOWLOG sub-commands.",
        slowlog_help,
    ),
];

/// The server family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "time",
        1,
        flag::LOADING | flag::STALE | flag::FAST,
        acl::FAST,
        Keys::None,
        SV,
        "2.6.0",
        "O(1)",
        "Returns the server's time as seconds and microseconds.",
        time,
    ),
    cmd(
        "shutdown",
        -1,
        flag::ADMIN | flag::NOSCRIPT | flag::LOADING | flag::STALE | flag::NO_MULTI | flag::ALLOW_BUSY,
        A_ADM,
        Keys::None,
        SV,
        "1.0.0",
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
        "Stops the server.",
        shutdown,
    ),
    CommandSpec {
        subcommands: SLOWLOG_SUBS,
        flags: flag::CONTAINER,
        ..cmd(
            "slowlog",
            -2,
            0,
            acl::SLOW,
            Keys::None,
            SV,
            "2.2.12",
            "Depends on subcommand.",
            "Commands that read and reset the slow log.",
            slowlog_help,
        )
    },
    cmd(
        "monitor",
        1,
        flag::ADMIN | flag::NOSCRIPT | flag::LOADING | flag::STALE,
        A_ADM,
        Keys::None,
        SV,
        "1.0.0",
        "",
        "Streams every command the server receives to this connection.",
        monitor,
    ),
    cmd(
        "wait",
        3,
        flag::NOSCRIPT,
        acl::SLOW | acl::CONNECTION,
        Keys::None,
        Group::Generic,
        "3.0.0",
        "O(1)",
        "Waits for earlier writes to reach a number of replicas; returns how many acknowledged.",
        wait,
    ),
    cmd(
        "role",
        1,
        flag::NOSCRIPT | flag::LOADING | flag::STALE | flag::FAST,
        acl::ADMIN | acl::FAST | acl::DANGEROUS,
        Keys::None,
        SV,
        "2.8.12",
        "O(1)",
        "Returns the replication role.",
        role,
    ),
];

fn time(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let us = larder_engine::clock::now_us();
    let mut r = ctx.reply();
    r.array(2);
    r.bulk_int((us / 1_000_000) as i64);
    r.bulk_int((us % 1_000_000) as i64);
    Ok(())
}

fn shutdown(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (mut abort, mut save, mut nosave, mut other) = (false, false, false, false);
    for a in args.iter().skip(1) {
        if eq_ic(a, "abort") {
            abort = true;
        } else if eq_ic(a, "nosave") {
            nosave = true;
        } else if eq_ic(a, "save") {
            save = true;
        } else if eq_ic(a, "now") || eq_ic(a, "force") {
            other = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    // Illegal combinations, as Redis: ABORT with anything else, SAVE with NOSAVE.
    if (abort && (save || nosave || other)) || (save && nosave) {
        return Err(CmdError::Syntax);
    }
    if abort {
        return Err(CmdError::Static("ERR No shutdown in progress."));
    }
    crate::server::log::warning("User requested shutdown...");
    use crate::server::shutdown_save as mode;
    let m = if nosave {
        mode::NOSAVE
    } else if save {
        mode::SAVE
    } else {
        mode::DEFAULT
    };
    ctx.srv.shutdown_save.store(m, std::sync::atomic::Ordering::Relaxed);
    ctx.srv.request_shutdown();
    // Like Redis, a successful SHUTDOWN sends no reply: the connection just closes.
    ctx.sess.close_after_reply = true;
    Ok(())
}

fn slowlog_get(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let count = match args.len() {
        2 => 10,
        3 => {
            let n =
                int_arg(&args[2]).map_err(|_| CmdError::Static("ERR count should be greater than or equal to -1"))?;
            if n < -1 {
                return Err(CmdError::Static("ERR count should be greater than or equal to -1"));
            }
            if n == -1 {
                usize::MAX
            } else {
                n as usize
            }
        }
        _ => return Err(super::arity_error("slowlog|get")),
    };
    let log = ctx.srv.slowlog.lock();
    let entries: Vec<_> = log.newest(count).collect();
    let mut r = larder_resp::Reply::new(ctx.out, ctx.sess.resp3);
    r.array(entries.len());
    for e in entries {
        r.array(6);
        r.int(e.id as i64);
        r.int(e.time as i64);
        r.int(e.micros as i64);
        r.array(e.args.len());
        for a in &e.args {
            r.bulk(a);
        }
        r.bulk(e.addr.as_bytes());
        r.bulk(&e.name);
    }
    Ok(())
}

fn slowlog_len(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let n = ctx.srv.slowlog.lock().len();
    ctx.reply().int(n as i64);
    Ok(())
}

fn slowlog_reset(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    ctx.srv.slowlog.lock().reset();
    ctx.reply().ok();
    Ok(())
}

fn slowlog_help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(
        ctx,
        "SLOWLOG",
        &[
            "GET [<count>] -- Return the newest <count> entries (default 10, -1 for all).",
            "LEN -- Return the number of entries.",
            "RESET -- Remove every entry.",
            "HELP -- Print this help.",
        ],
    );
    Ok(())
}

fn monitor(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    if !ctx.sess.monitor {
        ctx.sess.monitor = true;
        ctx.sess.shared.set_flag(cflag::MONITOR, true);
        let w = ctx.sess.shared.worker;
        ctx.srv.monitors.lock().push((ctx.sess.id, w));
        ctx.srv.monitoring.store(true, Relaxed);
    }
    ctx.reply().ok();
    Ok(())
}

fn wait(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    int_arg(&args[1])?;
    super::client_cmd::timeout_ms_arg(&args[2], ctx.now)?;
    // No replicas exist yet, so none can acknowledge.
    ctx.reply().int(0);
    Ok(())
}

fn role(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let mut r = ctx.reply();
    r.array(3);
    r.bulk(b"master");
    r.int(0);
    r.array(0);
    Ok(())
}
