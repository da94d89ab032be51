//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT.

use larder_resp::Args;

use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};
use crate::server::client::ReplyMode;
use crate::server::{LARDER_VERSION, REDIS_VERSION};

const C: Group = Group::Connection;
const A_FC: u64 = acl::FAST | acl::CONNECTION;
const NS: u32 = flag::NOSCRIPT | flag::LOADING | flag::STALE;

/// The connection family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "ping",
        -1,
        flag::FAST,
        A_FC,
        Keys::None,
        C,
        "1.0.0",
        "O(1)",
        "Checks the connection; replies PONG or echoes its argument.",
        ping,
    ),
    cmd(
        "echo",
        2,
        flag::LOADING | flag::STALE | flag::FAST,
        A_FC,
        Keys::None,
        C,
        "1.0.0",
        "O(1)",
        "Replies with the given string.",
        echo,
    ),
    cmd(
        "quit",
        -1,
        flag::ALLOW_BUSY | NS | flag::FAST | flag::NO_AUTH,
        A_FC,
        Keys::None,
        C,
        "1.0.0",
        "O(1)",
        "Closes the connection after replying OK.",
        quit,
    ),
    cmd(
        "reset",
        1,
        NS | flag::FAST | flag::NO_AUTH | flag::ALLOW_BUSY,
        A_FC,
        Keys::None,
        C,
        "6.2.0",
        "O(1)",
        "Resets the connection's state to that of a new connection.",
        reset,
    ),
    cmd(
        "auth",
        -2,
        NS | flag::FAST | flag::NO_AUTH | flag::ALLOW_BUSY,
        A_FC,
        Keys::None,
        C,
        "1.0.0",
        "O(N) where N is the number of passwords defined for the user",
        "Authenticates the connection.",
        auth,
    ),
    cmd(
        "hello",
        -1,
        NS | flag::FAST | flag::NO_AUTH | flag::ALLOW_BUSY,
        A_FC,
        Keys::None,
        C,
        "6.0.0",
        "O(1)",
        "Negotiates the protocol version, optionally authenticating and naming the connection.",
        hello,
    ),
    cmd(
        "select",
        2,
        flag::LOADING | flag::STALE | flag::FAST,
        A_FC,
        Keys::None,
        C,
        "1.0.0",
        "O(1)",
        "Changes the selected database.",
        select,
    ),
];

fn ping(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if args.len() <= 2 && !ctx.sess.resp3 && ctx.sess.subs.any() {
        // A subscribed RESP2 client gets PING's answer in the shape of a message.
        let mut r = ctx.reply();
        r.array(2);
        r.bulk(b"pong");
        r.bulk(args.get(1).unwrap_or_default());
        return Ok(());
    }
    match args.len() {
        1 => ctx.reply().simple(b"PONG"),
        2 => ctx.reply().bulk(&args[1]),
        _ => return Err(super::arity_error("ping")),
    }
    Ok(())
}

fn echo(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ctx.reply().bulk(&args[1]);
    Ok(())
}

fn quit(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    ctx.reply().ok();
    ctx.sess.close_after_reply = true;
    Ok(())
}

fn reset(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    ctx.sess.multi = None;
    ctx.sess.shared.set_flag(crate::server::client::cflag::MULTI, false);
    super::transactions::unwatch_all(ctx.srv, ctx.sess);
    super::pubsub::unsubscribe_all(ctx.srv, ctx.sess);
    if ctx.sess.tracking.take().is_some() {
        ctx.srv.tracking.disable(ctx.sess.id);
    }
    ctx.sess.caching = None;
    ctx.sess.select(0);
    ctx.sess.resp3 = false;
    ctx.sess.shared.resp.store(2, std::sync::atomic::Ordering::Relaxed);
    ctx.sess.reply_mode = ReplyMode::On;
    ctx.sess.no_touch = false;
    ctx.sess.shared.set_flag(crate::server::client::cflag::NO_EVICT | crate::server::client::cflag::NO_TOUCH, false);
    *ctx.sess.shared.name.lock() = None;
    if ctx.sess.monitor {
        let id = ctx.sess.id;
        let mut m = ctx.srv.monitors.lock();
        m.retain(|(c, _)| *c != id);
        ctx.srv.monitoring.store(!m.is_empty(), std::sync::atomic::Ordering::Relaxed);
        ctx.sess.monitor = false;
        ctx.sess.shared.set_flag(crate::server::client::cflag::MONITOR, false);
    }
    ctx.sess.authenticated = !ctx.srv.hot.auth_required.load(std::sync::atomic::Ordering::Relaxed);
    ctx.reply().simple(b"RESET");
    Ok(())
}

/// Checks a user/password pair against requirepass (only the `default` user exists).
fn check_password(ctx: &Ctx<'_, '_>, user: &[u8], pass: &[u8]) -> bool {
    // User names are case-sensitive, as in Redis's ACL.
    if user != b"default" {
        return false;
    }
    match &*ctx.srv.password.read() {
        // Without requirepass, the default user accepts any password.
        None => true,
        Some(p) => constant_time_eq(p, pass),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const WRONGPASS: CmdError = CmdError::Static("WRONGPASS invalid username-password pair or user is disabled.");

fn auth(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (user, pass) = match args.len() {
        2 => {
            if ctx.srv.password.read().is_none() {
                return Err(CmdError::Static("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
            }
            (&b"default"[..], &args[1])
        }
        3 => (&args[1], &args[2]),
        _ => return Err(CmdError::Syntax),
    };
    if !check_password(ctx, user, pass) {
        return Err(WRONGPASS);
    }
    ctx.sess.authenticated = true;
    ctx.reply().ok();
    Ok(())
}

/// Validates a client name: no spaces, newlines or other special characters.
pub fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn hello(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let mut proto = None;
    let mut i = 1;
    if args.len() >= 2 {
        let v = int_arg(&args[1])
            .map_err(|_| CmdError::Static("ERR Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::Static("NOPROTO unsupported protocol version"));
        }
        proto = Some(v);
        i = 2;
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut name: Option<&[u8]> = None;
    while i < args.len() {
        let rest = args.len() - i - 1;
        if eq_ic(&args[i], "auth") && rest >= 2 {
            auth = Some((&args[i + 1], &args[i + 2]));
            i += 3;
        } else if eq_ic(&args[i], "setname") && rest >= 1 {
            // Redis checks the name while reading the options, before authenticating.
            if !valid_client_name(&args[i + 1]) {
                return Err(CmdError::Static(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                ));
            }
            name = Some(&args[i + 1]);
            i += 2;
        } else {
            return Err(CmdError::Msg(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            )));
        }
    }
    if let Some((u, p)) = auth {
        if !check_password(ctx, u, p) {
            return Err(WRONGPASS);
        }
        ctx.sess.authenticated = true;
    }
    if !ctx.sess.authenticated {
        return Err(CmdError::Static("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = name {
        *ctx.sess.shared.name.lock() = if n.is_empty() { None } else { Some(n.to_vec()) };
    }
    if let Some(p) = proto {
        ctx.sess.resp3 = p == 3;
        ctx.sess.shared.resp.store(p as u8, std::sync::atomic::Ordering::Relaxed);
    }
    let id = ctx.sess.id as i64;
    let proto_now = if ctx.sess.resp3 { 3 } else { 2 };
    let mut r = ctx.reply();
    r.map(8);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(proto_now);
    r.bulk(b"id");
    r.int(id);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.empty_array();
    r.bulk(b"larder_version");
    r.bulk(LARDER_VERSION.as_bytes());
    Ok(())
}

fn select(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let idx = int_arg(&args[1])?;
    if idx < 0 || idx as usize >= ctx.srv.keyspace.db_count() {
        return Err(CmdError::Static("ERR DB index is out of range"));
    }
    ctx.sess.select(idx as usize);
    ctx.reply().ok();
    Ok(())
}
