//! FUNCTION (LOAD, LIST, DELETE, FLUSH, DUMP, RESTORE, STATS, KILL, HELP), FCALL and FCALL_RO.
//! The library registry and the interpreter live in `crate::scripting`.

use larder_resp::Args;

use super::client_cmd::help_lines;
use super::scripting::{first_numkeys_key, RUN, RUN_RO};
use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, CmdError, CmdResult, Ctx};
use crate::scripting::library::LOAD_TIMEOUT;
use crate::scripting::RestorePolicy;

const G: Group = Group::Scripting;
const A: u64 = acl::SLOW | acl::SCRIPTING;
const AW: u64 = acl::WRITE | acl::SLOW | acl::SCRIPTING;

static SUBS: &[CommandSpec] = &[
    cmd(
        "delete",
        3,
        flag::NOSCRIPT | flag::WRITE,
        AW,
        Keys::None,
        G,
        "7.0.0",
        "O(1)",
        "Deletes a library and its functions.",
        delete,
    ),
    cmd(
        "dump",
        2,
        flag::NOSCRIPT,
        A,
        Keys::None,
        G,
        "7.0.0",
        "O(N) where N is the number of functions",
        "Dumps all libraries into a serialized binary payload.",
        dump,
    ),
    cmd(
        "flush",
        -2,
        flag::NOSCRIPT | flag::WRITE,
        AW,
        Keys::None,
        G,
        "7.0.0",
        "O(N) where N is the number of functions deleted",
        "Deletes all libraries and functions.",
        flush,
    ),
    cmd(
        "help",
        2,
        flag::LOADING | flag::STALE,
        A,
        Keys::None,
        G,
        "7.0.0",
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
        "7.0.0",
        "O(1)",
        "Terminates a function during execution.",
        kill,
    ),
    cmd(
        "list",
        -2,
        flag::NOSCRIPT,
        A,
        Keys::None,
        G,
        "7.0.0",
        "O(N) where N is the number of functions",
        "Returns information about all libraries.",
        list,
    ),
    cmd(
        "load",
        -3,
        flag::NOSCRIPT | flag::WRITE | flag::DENYOOM,
        AW,
        Keys::None,
        G,
        "7.0.0",
        "O(1) (considering compilation time is redundant)",
        "Creates a library.",
        load,
    ),
    cmd(
        "restore",
        -3,
        flag::NOSCRIPT | flag::WRITE | flag::DENYOOM,
        AW,
        Keys::None,
        G,
        "7.0.0",
        "O(N) where N is the number of functions on the payload",
        "Restores all libraries from a payload.",
        restore,
    ),
    cmd(
        "stats",
        2,
        flag::NOSCRIPT | flag::ALLOW_BUSY,
        A,
        Keys::None,
        G,
        "7.0.0",
        "O(1)",
        "Returns information about a function during execution.",
        stats,
    ),
];

/// FUNCTION, FCALL and FCALL_RO.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        subcommands: SUBS,
        flags: flag::CONTAINER,
        ..cmd(
            "function",
            -2,
            0,
            acl::SLOW,
            Keys::None,
            G,
            "7.0.0",
            "Depends on subcommand.",
            "A container for function commands.",
            help,
        )
    },
    CommandSpec {
        movable_key: Some(first_numkeys_key),
        ..cmd(
            "fcall",
            -3,
            RUN,
            A,
            Keys::None,
            G,
            "7.0.0",
            "Depends on the function that is executed.",
            "Invokes a function.",
            fcall,
        )
    },
    CommandSpec {
        movable_key: Some(first_numkeys_key),
        ..cmd(
            "fcall_ro",
            -3,
            RUN_RO,
            A,
            Keys::None,
            G,
            "7.0.0",
            "Depends on the function that is executed.",
            "Invokes a read-only function.",
            fcall_ro,
        )
    },
];

fn fcall(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.fcall(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.fcall(ctx, args, true)
}

fn load(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if eq_ic(&args[i], "replace") {
            replace = true;
            i += 1;
            continue;
        }
        return Err(CmdError::err(format!("Unknown option given: {}", String::from_utf8_lossy(&args[i]))));
    }
    let name = ctx.srv.scripting.function_load(&args[i], replace, Some(LOAD_TIMEOUT))?;
    ctx.reply().bulk(name.as_bytes());
    Ok(())
}

fn delete(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.function_delete(&args[2])?;
    ctx.reply().ok();
    Ok(())
}

fn flush(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        2 => {}
        3 if eq_ic(&args[2], "async") || eq_ic(&args[2], "sync") => {}
        3 => return Err(CmdError::Static("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")),
        _ => return Err(subcommand_syntax("flush")),
    }
    ctx.srv.scripting.function_flush();
    ctx.reply().ok();
    Ok(())
}

fn subcommand_syntax(sub: &str) -> CmdError {
    CmdError::err(format!("unknown subcommand or wrong number of arguments for '{sub}'. Try FUNCTION HELP."))
}

fn list(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (mut with_code, mut pattern) = (false, None);
    let mut i = 2;
    while i < args.len() {
        if !with_code && eq_ic(&args[i], "withcode") {
            with_code = true;
        } else if pattern.is_none() && eq_ic(&args[i], "libraryname") {
            if i + 1 >= args.len() {
                return Err(CmdError::Static("ERR library name argument was not given"));
            }
            pattern = Some(args[i + 1].to_vec());
            i += 1;
        } else {
            return Err(CmdError::err(format!("Unknown argument {}", String::from_utf8_lossy(&args[i]))));
        }
        i += 1;
    }
    let resp3 = ctx.sess.resp3;
    let out = &mut *ctx.out;
    ctx.srv.scripting.function_list(out, resp3, pattern.as_deref(), with_code)
}

fn dump(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let payload = ctx.srv.scripting.function_dump()?;
    ctx.reply().bulk(&payload);
    Ok(())
}

fn restore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if args.len() > 4 {
        return Err(subcommand_syntax(&String::from_utf8_lossy(&args[1])));
    }
    let policy = match args.get(3) {
        None => RestorePolicy::Append,
        Some(p) if eq_ic(p, "append") => RestorePolicy::Append,
        Some(p) if eq_ic(p, "replace") => RestorePolicy::Replace,
        Some(p) if eq_ic(p, "flush") => RestorePolicy::Flush,
        Some(_) => {
            return Err(CmdError::Static(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ))
        }
    };
    ctx.srv.scripting.function_restore(&args[2], policy)?;
    ctx.reply().ok();
    Ok(())
}

fn stats(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let resp3 = ctx.sess.resp3;
    let out = &mut *ctx.out;
    ctx.srv.scripting.function_stats(out, resp3)
}

fn kill(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    ctx.srv.scripting.kill(ctx.srv, false)?;
    ctx.reply().ok();
    Ok(())
}

fn help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(
        ctx,
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
            "HELP",
            "    Print this help.",
        ],
    );
    Ok(())
}
