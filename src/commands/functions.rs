//! FUNCTION: the library registry. Libraries arrive with Lua scripting; until then the
//! registry is always empty, so FLUSH has nothing to remove.

use larder_resp::Args;

use super::client_cmd::help_lines;
use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, CmdError, CmdResult, Ctx};

const SC: Group = Group::Server;

static SUBS: &[CommandSpec] = &[
    cmd("flush", -2, flag::WRITE | flag::NOSCRIPT, acl::WRITE | acl::SLOW | acl::SCRIPTING, Keys::None, SC, "7.0.0", "O(N) where N is the number of functions deleted", "Deletes every library.", flush),
    cmd("help", 2, flag::LOADING | flag::STALE, acl::SLOW | acl::SCRIPTING, Keys::None, SC, "7.0.0", "O(1)", "Lists the FUNCTION sub-commands.", help),
];

/// The FUNCTION container.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: SUBS,
    flags: flag::CONTAINER,
    ..cmd("function", -2, 0, acl::SLOW, Keys::None, SC, "7.0.0", "Depends on subcommand.", "Commands that manage function libraries.", help)
}];

fn flush(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        2 => {}
        3 if eq_ic(&args[2], "async") || eq_ic(&args[2], "sync") => {}
        3 => return Err(CmdError::Static("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")),
        _ => return Err(CmdError::Syntax),
    }
    ctx.reply().ok();
    Ok(())
}

fn help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(ctx, "FUNCTION", &["FLUSH [ASYNC|SYNC] -- Delete every library.", "HELP -- Print this help."]);
    Ok(())
}
