//! DEBUG: the sub-commands tests and operators use (SLEEP, SET-ACTIVE-EXPIRE, OBJECT, LOG).
//! Allowed per `enable-debug-command` (no / yes / local), as in Redis.

use std::sync::atomic::Ordering::Relaxed;

use larder_engine::util::num::parse_f64;
use larder_engine::KeyRef;
use larder_resp::Args;

use super::client_cmd::help_lines;
use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, CmdError, CmdResult, Ctx};

/// The DEBUG entry (sub-commands are parsed by the handler, as Redis does).
pub static COMMANDS: &[CommandSpec] = &[cmd(
    "debug",
    -2,
    flag::ADMIN | flag::NOSCRIPT | flag::LOADING | flag::STALE | flag::EXCLUSIVE,
    acl::ADMIN | acl::SLOW | acl::DANGEROUS,
    Keys::None,
    Group::Server,
    "1.0.0",
    "Depends on subcommand.",
    "Debugging and testing helpers.",
    debug,
)];

fn allowed(ctx: &Ctx<'_, '_>) -> bool {
    let local = ctx.sess.shared.addr.starts_with("127.") || ctx.sess.shared.addr.starts_with("[::1]");
    ctx.srv.config.read().enable_debug_command.allows(local)
}

fn debug(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if !allowed(ctx) {
        return Err(CmdError::Static("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = &args[1];
    if eq_ic(sub, "help") {
        help_lines(
            ctx,
            "DEBUG",
            &[
                "SLEEP <seconds> -- Stop serving this connection's thread for <seconds> (may be fractional).",
                "SET-ACTIVE-EXPIRE <0|1> -- Turn the active expiry cycle off or on.",
                "OBJECT <key> -- Show low-level information about a key.",
                "LOG <message> -- Write a message to the server log.",
                "CHANGE-REPL-ID -- Change the replication id.",
                "HELP -- Print this help.",
            ],
        );
    } else if eq_ic(sub, "sleep") && args.len() == 3 {
        let secs = parse_f64(&args[2]).filter(|v| v.is_finite() && *v >= 0.0).ok_or(CmdError::NotFloat)?;
        std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        ctx.reply().ok();
    } else if eq_ic(sub, "set-active-expire") && args.len() == 3 {
        let on = super::int_arg(&args[2])? != 0;
        ctx.srv.hot.active_expire.store(on, Relaxed);
        ctx.reply().ok();
    } else if eq_ic(sub, "object") && args.len() == 3 {
        let k = KeyRef::new(&args[2]);
        let Some(e) = ctx.get_untouched(&k) else { return Err(CmdError::Static("ERR no such key")) };
        let encoding = super::strings::encoding(e);
        let lru = e.lru();
        let len = super::strings::as_str(e).map(|s| s.len()).unwrap_or(0);
        let line = format!(
            "Value at:0x{:x} refcount:1 encoding:{encoding} serializedlength:{} lru:{} lru_seconds_idle:{}",
            e as *const _ as usize,
            len + 1,
            lru & 0xFF_FFFF,
            larder_engine::evict::access::idle_seconds(e)
        );
        ctx.reply().simple(line.as_bytes());
    } else if eq_ic(sub, "reload") {
        // Save, empty the dataset, load it back (DEBUG RELOAD [NOSAVE]); DEBUG holds every gate.
        let nosave = args.iter().skip(2).any(|a| eq_ic(a, "nosave"));
        if !nosave {
            crate::persist::save_blocking(ctx.srv).map_err(|_| CmdError::Static("ERR Error trying to save the DB"))?;
        }
        crate::persist::reload(ctx.srv)
            .map_err(|_| CmdError::Static("ERR Error trying to load the RDB dump, check server logs."))?;
        ctx.reply().ok();
    } else if eq_ic(sub, "log") && args.len() == 3 {
        crate::server::log::warning(&format!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2])));
        ctx.reply().ok();
    } else if eq_ic(sub, "change-repl-id") && args.len() == 2 {
        ctx.reply().ok();
    } else {
        return Err(CmdError::Msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(sub)
        )));
    }
    Ok(())
}
