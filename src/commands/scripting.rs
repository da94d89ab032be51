//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD, EXISTS, FLUSH, KILL, DEBUG, HELP).
//!
//! Scripts are EXCLUSIVE: dispatch gives up the worker's gate, takes every gate and hands the
//! handler an on-demand lock set, because a script may touch keys it did not declare (Sidekiq
//! and BullMQ scripts do) or SELECT another database. The engine lives in `crate::scripting`.

use larder_resp::Args;

use super::client_cmd::help_lines;
use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, CmdError, CmdResult, Ctx};

const G: Group = Group::Scripting;
const A: u64 = acl::SLOW | acl::SCRIPTING;
/// Flags of EVAL, EVALSHA and FCALL.
pub const RUN: u32 = flag::NOSCRIPT | flag::SKIP_MONITOR | flag::MAY_REPLICATE | flag::STALE | flag::EXCLUSIVE;
/// Flags of EVAL_RO, EVALSHA_RO and FCALL_RO.
pub const RUN_RO: u32 = flag::NOSCRIPT | flag::SKIP_MONITOR | flag::STALE | flag::READONLY | flag::EXCLUSIVE;

/// The first declared key of a `<script> <numkeys> key... arg...` request (what COMMAND
/// GETKEYS reports; the lock set is on demand anyway).
pub fn first_numkeys_key(args: Args<'_>) -> Option<usize> {
    let n = super::int_arg(args.get(2)?).ok()?;
    (n >= 1 && args.len() > 3).then_some(3)
}

static SUBS: &[CommandSpec] = &[
    cmd(
        "debug",
        3,
        flag::NOSCRIPT,
        A,
        Keys::None,
        G,
        "3.2.0",
        "O(1)",
        "Sets the debug mode of server-side Lua scripts.",
        debug,
    ),
    cmd(
        "exists",
        -3,
        flag::NOSCRIPT,
        A,
        Keys::None,
        G,
        "2.6.0",
        "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
        "Determines whether server-side Lua scripts exist in the script cache.",
        exists,
    ),
    cmd(
        "flush",
        -2,
        flag::NOSCRIPT,
        A,
        Keys::None,
        G,
        "2.6.0",
        "O(N) with N being the number of scripts in cache",
        "Removes all server-side Lua scripts from the script cache.",
        flush,
    ),
    cmd(
        "help",
        2,
        flag::LOADING | flag::STALE,
        A,
        Keys::None,
        G,
        "5.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
        help,
    ),
    cmd(
        "kill",
        2,
        flag::NOSCRIPT | flag::ALLOW_BUSY,
        A,
        Keys::None,
        G,
        "2.6.0",
        "O(1)",
        "Terminates a server-side Lua script during execution.",
        kill,
    ),
    cmd(
        "load",
        3,
        flag::NOSCRIPT | flag::STALE,
        A,
        Keys::None,
        G,
        "2.6.0",
        "O(N) with N being the length in bytes of the script body.",
        "Loads a server-side Lua script to the script cache.",
        load,
    ),
];

/// The scripting family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        movable_key: Some(first_numkeys_key),
        ..cmd(
            "eval",
            -3,
            RUN,
            A,
            Keys::None,
            G,
            "2.6.0",
            "Depends on the script that is executed.",
            "Executes a server-side Lua script.",
            eval,
        )
    },
    CommandSpec {
        movable_key: Some(first_numkeys_key),
        ..cmd(
            "evalsha",
            -3,
            RUN,
            A,
            Keys::None,
            G,
            "2.6.0",
            "Depends on the script that is executed.",
            "Executes a server-side Lua script by SHA1 digest.",
            evalsha,
        )
    },
    CommandSpec {
        movable_key: Some(first_numkeys_key),
        ..cmd(
            "eval_ro",
            -3,
            RUN_RO,
            A,
            Keys::None,
            G,
            "7.0.0",
            "Depends on the script that is executed.",
            "Executes a read-only server-side Lua script.",
            eval_ro,
        )
    },
    CommandSpec {
        movable_key: Some(first_numkeys_key),
        ..cmd(
            "evalsha_ro",
            -3,
            RUN_RO,
            A,
            Keys::None,
            G,
            "7.0.0",
            "Depends on the script that is executed.",
            "Executes a read-only server-side Lua script by SHA1 digest.",
            evalsha_ro,
        )
    },
    CommandSpec {
        subcommands: SUBS,
        flags: flag::CONTAINER,
        ..cmd(
            "script",
            -2,
            0,
            acl::SLOW,
            Keys::None,
            G,
            "2.6.0",
            "Depends on subcommand.",
            "A container for Lua scripts management commands.",
            help,
        )
    },
];

fn eval(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.eval(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.eval(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.eval(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.eval(ctx, args, true, true)
}

fn load(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let sha = ctx.srv.scripting.script_load(&args[2])?;
    ctx.reply().bulk(sha.as_bytes());
    Ok(())
}

fn exists(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let found: Vec<bool> = args.iter().skip(2).map(|sha| ctx.srv.scripting.script_exists(sha)).collect();
    let mut r = ctx.reply();
    r.array(found.len());
    for f in found {
        r.int(f as i64);
    }
    Ok(())
}

fn flush(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        2 => {}
        3 if eq_ic(&args[2], "sync") || eq_ic(&args[2], "async") => {}
        _ => return Err(CmdError::Static("ERR SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
    ctx.srv.scripting.script_flush();
    ctx.reply().ok();
    Ok(())
}

fn kill(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.kill(ctx.srv, true)?;
    ctx.reply().ok();
    Ok(())
}

fn debug(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if eq_ic(&args[2], "no") {
        ctx.reply().ok();
        Ok(())
    } else if eq_ic(&args[2], "yes") || eq_ic(&args[2], "sync") {
        Err(CmdError::Static("ERR SCRIPT DEBUG (the Lua debugger) is not supported by this server"))
    } else {
        Err(CmdError::Static("ERR Use SCRIPT DEBUG YES/SYNC/NO"))
    }
}

fn help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(
        ctx,
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Print this help.",
        ],
    );
    Ok(())
}
