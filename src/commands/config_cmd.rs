//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP.

use larder_resp::Args;

use super::client_cmd::help_lines;
use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{CmdError, CmdResult, Ctx};
use crate::config::SetAccess;

const SV: Group = Group::Server;
const A_ADM: u64 = acl::ADMIN | acl::SLOW | acl::DANGEROUS;
const F: u32 = flag::ADMIN | flag::NOSCRIPT | flag::LOADING | flag::STALE;

static SUBS: &[CommandSpec] = &[
    cmd(
        "get",
        -3,
        F,
        A_ADM,
        Keys::None,
        SV,
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "Returns the values of configuration parameters matching the patterns.",
        get,
    ),
    cmd(
        "set",
        -4,
        F | flag::MAY_REPLICATE,
        A_ADM,
        Keys::None,
        SV,
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "Sets configuration parameters at run time, all or none.",
        set,
    ),
    cmd("resetstat", 2, F, A_ADM, Keys::None, SV, "2.0.0", "O(1)", "Resets the server's statistics.", resetstat),
    cmd(
        "rewrite",
        2,
        F,
        A_ADM,
        Keys::None,
        SV,
        "2.8.0",
        "O(1)",
        "Writes the running configuration back to the configuration file.",
        rewrite,
    ),
    cmd(
        "help",
        2,
        flag::LOADING | flag::STALE,
        acl::SLOW,
        Keys::None,
        SV,
        "5.0.0",
        "O(1)",
        "Lists the CONFIG sub-commands.",
        help,
    ),
];

/// The CONFIG container.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: SUBS,
    flags: flag::CONTAINER,
    ..cmd(
        "config",
        -2,
        0,
        acl::SLOW,
        Keys::None,
        SV,
        "2.0.0",
        "Depends on subcommand.",
        "Commands that read and change the configuration.",
        help,
    )
}];

fn get(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let patterns: Vec<&[u8]> = args.iter().skip(2).collect();
    let pairs = ctx.srv.config.read().get_many(&patterns);
    let mut r = ctx.reply();
    r.map(pairs.len());
    for (k, v) in pairs {
        r.bulk(k.as_bytes());
        r.bulk(v.as_bytes());
    }
    Ok(())
}

fn set(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if args.len() % 2 != 0 {
        return Err(super::arity_error("config|set"));
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len()).step_by(2).map(|i| (&args[i], &args[i + 1])).collect();
    let local = ctx.sess.shared.addr.starts_with("127.") || ctx.sess.shared.addr.starts_with("[::1]");
    let changed = ctx
        .srv
        .config
        .write()
        .set_with(&pairs, SetAccess { client_is_local: local, loading: false })
        .map_err(CmdError::Msg)?;
    apply_changes(ctx, &changed);
    ctx.reply().ok();
    Ok(())
}

/// Side effects of changed directives.
fn apply_changes(ctx: &mut Ctx<'_, '_>, changed: &[&'static str]) {
    ctx.srv.apply_config();
    if changed.contains(&"loglevel") {
        let level = ctx.srv.config.read().loglevel.as_str();
        crate::server::log::set_level(level);
    }
}

fn resetstat(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    // As Redis: statistics only; the slow log is emptied by SLOWLOG RESET alone.
    ctx.srv.stats.reset();
    larder_engine::lazyfree::reset_stats();
    ctx.reply().ok();
    Ok(())
}

fn rewrite(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    ctx.srv.config.read().rewrite().map_err(CmdError::Msg)?;
    ctx.reply().ok();
    Ok(())
}

fn help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(
        ctx,
        "CONFIG",
        &[
            "GET <pattern> [<pattern> ...] -- Return parameters matching the glob-like patterns and their values.",
            "SET <directive> <value> [<directive> <value> ...] -- Set parameters, all or none.",
            "RESETSTAT -- Reset the statistics reported by INFO.",
            "REWRITE -- Rewrite the configuration file.",
            "HELP -- Print this help.",
        ],
    );
    Ok(())
}
