//! CLIENT and its sub-commands.

use std::sync::atomic::Ordering::Relaxed;

use larder_resp::Args;

use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};
use crate::server::client::{cflag, ClientShared, ReplyMode};
use crate::server::worker::Msg;

const C: Group = Group::Connection;
const NS: u32 = flag::NOSCRIPT | flag::LOADING | flag::STALE;
const A_SC: u64 = acl::SLOW | acl::CONNECTION;
const A_ADM: u64 = acl::ADMIN | acl::SLOW | acl::DANGEROUS | acl::CONNECTION;

static SUBS: &[CommandSpec] = &[
    cmd("id", 2, NS, A_SC, Keys::None, C, "5.0.0", "O(1)", "Returns the connection's unique id.", id),
    cmd("setname", 3, NS, A_SC, Keys::None, C, "2.6.9", "O(1)", "Names the connection.", setname),
    cmd("getname", 2, NS, A_SC, Keys::None, C, "2.6.9", "O(1)", "Returns the connection's name.", getname),
    cmd(
        "list",
        -2,
        flag::ADMIN | NS,
        A_ADM,
        Keys::None,
        C,
        "2.4.0",
        "O(N) where N is the number of client connections",
        "Lists the open connections.",
        list,
    ),
    cmd(
        "info",
        2,
        NS,
        A_SC,
        Keys::None,
        C,
        "6.2.0",
        "O(1)",
        "Describes this connection in CLIENT LIST's format.",
        info,
    ),
    cmd(
        "kill",
        -3,
        flag::ADMIN | NS,
        A_ADM,
        Keys::None,
        C,
        "2.4.0",
        "O(N) where N is the number of client connections",
        "Closes connections chosen by address, id, type, user or age.",
        kill,
    ),
    cmd(
        "setinfo",
        4,
        NS,
        A_SC,
        Keys::None,
        C,
        "7.2.0",
        "O(1)",
        "Records the client library's name or version.",
        setinfo,
    ),
    cmd(
        "no-evict",
        3,
        flag::ADMIN | NS,
        A_ADM,
        Keys::None,
        C,
        "7.0.0",
        "O(1)",
        "Exempts this connection from client eviction.",
        no_evict,
    ),
    cmd(
        "no-touch",
        3,
        NS,
        A_SC,
        Keys::None,
        C,
        "7.2.0",
        "O(1)",
        "Stops this connection's reads from updating keys' access times.",
        no_touch,
    ),
    cmd(
        "reply",
        3,
        NS,
        A_SC,
        Keys::None,
        C,
        "3.2.0",
        "O(1)",
        "Turns the server's replies to this connection on, off, or off for one command.",
        reply,
    ),
    cmd(
        "pause",
        -3,
        flag::ADMIN | NS,
        A_ADM,
        Keys::None,
        C,
        "3.0.0",
        "O(1)",
        "Suspends command processing for a while (all commands or only writes).",
        pause,
    ),
    cmd(
        "unpause",
        2,
        flag::ADMIN | NS,
        A_ADM,
        Keys::None,
        C,
        "6.2.0",
        "O(N) Where N is the number of paused clients",
        "Resumes processing of paused clients.",
        unpause,
    ),
    cmd(
        "unblock",
        -3,
        flag::ADMIN | NS,
        A_ADM,
        Keys::None,
        C,
        "5.0.0",
        "O(log N) where N is the number of client connections",
        "Unblocks a client blocked on keys, as if it timed out or with an error.",
        unblock,
    ),
    cmd(
        "tracking",
        -3,
        NS,
        A_SC,
        Keys::None,
        C,
        "6.0.0",
        "O(1). Some options may introduce additional complexity.",
        "Turns server-assisted client-side caching on or off for this connection.",
        super::client_tracking::tracking,
    ),
    cmd(
        "caching",
        3,
        NS,
        A_SC,
        Keys::None,
        C,
        "6.0.0",
        "O(1)",
        "Says whether the keys read by the next command should be tracked (OPTIN/OPTOUT modes).",
        super::client_tracking::caching,
    ),
    cmd(
        "trackinginfo",
        2,
        NS,
        A_SC,
        Keys::None,
        C,
        "6.2.0",
        "O(1)",
        "Describes this connection's client-side caching settings.",
        super::client_tracking::trackinginfo,
    ),
    cmd(
        "getredir",
        2,
        NS,
        A_SC,
        Keys::None,
        C,
        "6.0.0",
        "O(1)",
        "Returns the client id invalidations are redirected to.",
        super::client_tracking::getredir,
    ),
    cmd(
        "help",
        2,
        flag::LOADING | flag::STALE,
        A_SC,
        Keys::None,
        C,
        "5.0.0",
        "O(1)",
        "Lists the CLIENT sub-commands.",
        help,
    ),
];

/// The CLIENT container.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: SUBS,
    flags: flag::CONTAINER,
    ..cmd(
        "client",
        -2,
        0,
        acl::SLOW,
        Keys::None,
        C,
        "2.4.0",
        "Depends on subcommand.",
        "Commands that inspect and control client connections.",
        help,
    )
}];

fn id(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let id = ctx.sess.id as i64;
    ctx.reply().int(id);
    Ok(())
}

fn setname(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let n = &args[2];
    if !super::connection::valid_client_name(n) {
        return Err(CmdError::Static("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    *ctx.sess.shared.name.lock() = if n.is_empty() { None } else { Some(n.to_vec()) };
    ctx.reply().ok();
    Ok(())
}

fn getname(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let name = ctx.sess.shared.name.lock().clone();
    match name {
        Some(n) => ctx.reply().bulk(&n),
        None => ctx.reply().null(),
    }
    Ok(())
}

/// One CLIENT LIST line (without the trailing newline) in Redis 7.2's field order.
pub fn describe(c: &ClientShared, now_ms: u64, cmd_name: &str) -> String {
    let flags = c.flags.load(Relaxed);
    let mut f = String::new();
    if flags & cflag::MONITOR != 0 {
        f.push('O');
    }
    if flags & cflag::CLOSE_ASAP != 0 {
        f.push('A');
    }
    if flags & cflag::BLOCKED != 0 {
        f.push('b');
    }
    if flags & cflag::MULTI != 0 {
        f.push('x');
    }
    let subs: Vec<usize> = c.subs.iter().map(|n| n.load(Relaxed)).collect();
    if subs.iter().any(|&n| n > 0) {
        f.push('P');
    }
    if flags & cflag::NO_EVICT != 0 {
        f.push('e');
    }
    if flags & cflag::NO_TOUCH != 0 {
        f.push('T');
    }
    if f.is_empty() {
        f.push('N');
    }
    let name = c.name.lock().as_deref().map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default();
    let (lib_name, lib_ver) = c.lib.lock().clone();
    let qbuf = c.qbuf.load(Relaxed);
    let obuf = c.obuf.load(Relaxed);
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp=0 obl={} oll=0 omem={} tot-mem={} events=r cmd={} user={} redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        name,
        now_ms.saturating_sub(c.created_ms) / 1000,
        now_ms.saturating_sub(c.last_interaction_ms.load(Relaxed)) / 1000,
        f,
        c.db.load(Relaxed),
        subs[0],
        subs[1],
        subs[2],
        qbuf,
        16384usize.saturating_sub(qbuf),
        qbuf.max(1024),
        obuf.min(16384),
        obuf.saturating_sub(16384),
        c.memory(),
        cmd_name,
        c.user.lock(),
        c.resp.load(Relaxed),
        lib_name,
        lib_ver,
    )
}

fn last_cmd_name(ctx: &Ctx<'_, '_>, c: &ClientShared) -> String {
    match c.last_cmd.load(Relaxed) {
        0 => "NULL".to_string(),
        n => ctx.srv.commands.full_name(n as usize - 1),
    }
}

fn list(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    // As Redis 7.2: `TYPE <type>` alone, or `ID <id> [<id> ...]` (listed in the order given,
    // unknown ids skipped), or nothing.
    let clients: Vec<std::sync::Arc<ClientShared>> = if args.len() == 4 && eq_ic(&args[2], "type") {
        let t = &args[3];
        if !(eq_ic(t, "normal") || eq_ic(t, "master") || eq_ic(t, "replica") || eq_ic(t, "slave") || eq_ic(t, "pubsub"))
        {
            return Err(CmdError::Msg(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(t))));
        }
        // No replication yet: a client is either normal or pubsub.
        let pubsub = eq_ic(t, "pubsub");
        if eq_ic(t, "normal") || pubsub {
            ctx.srv.clients.all().into_iter().filter(|c| c.is_pubsub() == pubsub).collect()
        } else {
            Vec::new()
        }
    } else if args.len() > 3 && eq_ic(&args[2], "id") {
        let mut found = Vec::new();
        for a in args.iter().skip(3) {
            let id = larder_engine::util::num::parse_i64(a).ok_or(CmdError::Static("ERR Invalid client ID"))?;
            if let Some(c) = u64::try_from(id).ok().and_then(|id| ctx.srv.clients.get(id)) {
                found.push(c);
            }
        }
        found
    } else if args.len() == 2 {
        ctx.srv.clients.all()
    } else {
        return Err(CmdError::Syntax);
    };
    let now = ctx.now;
    let mut text = String::new();
    for c in clients {
        let name = if c.id == ctx.sess.id { ctx.srv.commands.full_name(ctx.id) } else { last_cmd_name(ctx, &c) };
        text.push_str(&describe(&c, now, &name));
        text.push('\n');
    }
    ctx.reply().verbatim(b"txt", text.as_bytes());
    Ok(())
}

fn info(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let mut line = describe(&ctx.sess.shared, ctx.now, "client|info");
    line.push('\n');
    ctx.reply().verbatim(b"txt", line.as_bytes());
    Ok(())
}

fn kill_one(ctx: &mut Ctx<'_, '_>, c: &ClientShared) {
    if c.id == ctx.sess.id {
        ctx.sess.close_after_reply = true;
    } else {
        c.kill.store(true, Relaxed);
        c.set_flag(cflag::CLOSE_ASAP, true);
        ctx.srv.send_to_worker(c.worker, Msg::CheckKills);
    }
}

fn kill(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if args.len() == 3 {
        // Old form: CLIENT KILL addr:port
        let addr = &args[2];
        let found = ctx.srv.clients.all().into_iter().find(|c| c.addr.as_bytes() == addr);
        return match found {
            Some(c) => {
                kill_one(ctx, &c);
                ctx.reply().ok();
                Ok(())
            }
            None => Err(CmdError::Static("ERR No such client")),
        };
    }
    if args.len() % 2 != 0 {
        return Err(CmdError::Syntax);
    }
    let (mut id, mut addr, mut laddr, mut user, mut maxage) = (None, None, None, None, None);
    let mut skipme = true;
    // Some(Some(true)): normal clients; Some(Some(false)): pubsub clients; Some(None): a type
    // that cannot exist yet (master, replica), matching nobody.
    let mut only_type: Option<Option<bool>> = None;
    for pair in (2..args.len()).step_by(2) {
        let (k, v) = (&args[pair], &args[pair + 1]);
        if eq_ic(k, "id") {
            match larder_engine::util::num::parse_i64(v) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => return Err(CmdError::Static("ERR client-id should be greater than 0")),
            }
        } else if eq_ic(k, "addr") {
            addr = Some(v.to_vec());
        } else if eq_ic(k, "laddr") {
            laddr = Some(v.to_vec());
        } else if eq_ic(k, "user") {
            // Only the default user exists.
            if v != b"default" {
                return Err(CmdError::Msg(format!("ERR No such user '{}'", String::from_utf8_lossy(v))));
            }
            user = Some(v.to_vec());
        } else if eq_ic(k, "maxage") {
            maxage = Some(int_arg(v)?);
        } else if eq_ic(k, "type") {
            if eq_ic(v, "normal") {
                only_type = Some(Some(true));
            } else if eq_ic(v, "pubsub") {
                only_type = Some(Some(false));
            } else if eq_ic(v, "master") || eq_ic(v, "replica") || eq_ic(v, "slave") {
                only_type = Some(None);
            } else {
                return Err(CmdError::Msg(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(v))));
            }
        } else if eq_ic(k, "skipme") {
            if eq_ic(v, "yes") {
                skipme = true;
            } else if eq_ic(v, "no") {
                skipme = false;
            } else {
                return Err(CmdError::Syntax);
            }
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = ctx.now;
    let mut killed = 0;
    for c in ctx.srv.clients.all() {
        let matches = id.is_none_or(|i| c.id == i)
            && addr.as_deref().is_none_or(|a| c.addr.as_bytes() == a)
            && laddr.as_deref().is_none_or(|a| c.laddr.as_bytes() == a)
            && user.as_deref().is_none_or(|u| c.user.lock().as_bytes() == u)
            && maxage.is_none_or(|m| (now.saturating_sub(c.created_ms) / 1000) as i64 >= m)
            && only_type.is_none_or(|t| t.is_some_and(|normal| normal != c.is_pubsub()))
            && !(skipme && c.id == ctx.sess.id);
        if matches {
            kill_one(ctx, &c);
            killed += 1;
        }
    }
    ctx.reply().int(killed);
    Ok(())
}

fn setinfo(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (attr, val) = (&args[2], &args[3]);
    // As Redis: the attribute is checked first, and errors name it as the client wrote it.
    let name_it = !eq_ic(attr, "lib-ver");
    if name_it && !eq_ic(attr, "lib-name") {
        return Err(CmdError::Msg(format!("ERR Unrecognized option '{}'", String::from_utf8_lossy(attr))));
    }
    if val.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::Msg(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr)
        )));
    }
    let v = String::from_utf8_lossy(val).into_owned();
    let mut lib = ctx.sess.shared.lib.lock();
    if name_it {
        lib.0 = v;
    } else {
        lib.1 = v;
    }
    drop(lib);
    ctx.reply().ok();
    Ok(())
}

pub(super) fn on_off(arg: &[u8]) -> Result<bool, CmdError> {
    if eq_ic(arg, "on") {
        Ok(true)
    } else if eq_ic(arg, "off") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

fn no_evict(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let on = on_off(&args[2])?;
    ctx.sess.shared.set_flag(cflag::NO_EVICT, on);
    ctx.reply().ok();
    Ok(())
}

fn no_touch(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let on = on_off(&args[2])?;
    ctx.sess.no_touch = on;
    ctx.sess.shared.set_flag(cflag::NO_TOUCH, on);
    ctx.reply().ok();
    Ok(())
}

fn reply(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let a = &args[2];
    if eq_ic(a, "on") {
        ctx.sess.reply_mode = ReplyMode::On;
        ctx.reply().ok();
    } else if eq_ic(a, "off") {
        ctx.sess.reply_mode = ReplyMode::Off;
    } else if eq_ic(a, "skip") {
        if ctx.sess.reply_mode != ReplyMode::Off {
            // This command's own reply is dropped too (it writes none).
            ctx.sess.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(CmdError::Syntax);
    }
    Ok(())
}

/// Parses a timeout in milliseconds as Redis's `getTimeoutFromObjectOrReply` does (CLIENT
/// PAUSE, WAIT), with its error texts.
pub(crate) fn timeout_ms_arg(arg: &[u8], now: u64) -> Result<u64, CmdError> {
    let ms = larder_engine::util::num::parse_i64(arg)
        .ok_or(CmdError::Static("ERR timeout is not an integer or out of range"))?;
    if ms < 0 {
        return Err(CmdError::Static("ERR timeout is negative"));
    }
    if ms > 0 && ms > i64::MAX - now as i64 {
        return Err(CmdError::Static("ERR timeout is out of range"));
    }
    Ok(ms as u64)
}

fn pause(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    // The mode is checked before the timeout, as Redis does.
    let writes_only = match args.len() {
        3 => false,
        4 if eq_ic(&args[3], "write") => true,
        4 if eq_ic(&args[3], "all") => false,
        4 => return Err(CmdError::Static("ERR CLIENT PAUSE mode must be WRITE or ALL")),
        _ => return Err(CmdError::Syntax),
    };
    let ms = timeout_ms_arg(&args[2], ctx.now)?;
    let until = ctx.now.saturating_add(ms);
    let hot = &ctx.srv.hot;
    let current = hot.pause_until.load(Relaxed);
    // A pause in force is extended, and a pause of everything wins over one of writes only.
    if current > ctx.now {
        hot.pause_until.store(current.max(until), Relaxed);
        if !writes_only {
            hot.pause_writes_only.store(false, Relaxed);
        }
    } else {
        hot.pause_writes_only.store(writes_only, Relaxed);
        hot.pause_until.store(until, Relaxed);
    }
    ctx.reply().ok();
    Ok(())
}

fn unblock(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let id = larder_engine::util::num::parse_i64(&args[2]).ok_or(CmdError::NotInteger)?;
    let with_error = match args.len() {
        3 => false,
        4 if eq_ic(&args[3], "timeout") => false,
        4 if eq_ic(&args[3], "error") => true,
        _ => return Err(CmdError::Static("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    let Some(w) = (if id > 0 { ctx.srv.blocking.remove(id as u64) } else { None }) else {
        ctx.reply().int(0);
        return Ok(());
    };
    let reply = if with_error {
        let mut out = Vec::new();
        larder_resp::Reply::new(&mut out, w.resp3).error(b"UNBLOCKED client unblocked via CLIENT UNBLOCK");
        out
    } else {
        crate::server::dispatch::timeout_reply(w.resp3, w.req.on_timeout)
    };
    ctx.srv.send_to_worker(w.worker, Msg::Unblocked(w.client, reply));
    ctx.reply().int(1);
    Ok(())
}

fn unpause(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    ctx.srv.hot.pause_until.store(0, Relaxed);
    if let Some(ws) = ctx.srv.workers.get() {
        for w in ws {
            let _ = w.waker.wake();
        }
    }
    ctx.reply().ok();
    Ok(())
}

/// Writes a HELP reply: a header line then one line per entry.
pub fn help_lines(ctx: &mut Ctx<'_, '_>, name: &str, lines: &[&str]) {
    let mut r = ctx.reply();
    r.array(lines.len() + 1);
    r.simple(format!("{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes());
    for l in lines {
        r.simple(l.as_bytes());
    }
}

fn help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(
        ctx,
        "CLIENT",
        &[
            "ID -- Return the id of this connection.",
            "GETNAME / SETNAME <name> -- Read or set this connection's name.",
            "INFO -- Describe this connection.",
            "LIST [TYPE normal|master|replica|pubsub] [ID <id> ...] -- Describe open connections.",
            "KILL <ip:port> | <filter> <value> ... -- Close connections (filters: ID, ADDR, LADDR, USER, TYPE, MAXAGE, SKIPME).",
            "SETINFO LIB-NAME|LIB-VER <value> -- Record the client library's name or version.",
            "NO-EVICT ON|OFF -- Exempt this connection from client eviction.",
            "NO-TOUCH ON|OFF -- Do not update keys' access time on this connection's reads.",
            "REPLY ON|OFF|SKIP -- Turn replies on, off, or off for the next command.",
            "PAUSE <ms> [WRITE|ALL] -- Suspend processing of commands (or only writes).",
            "UNPAUSE -- Resume processing.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR] -- Unblock a client blocked on keys.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> ...] [OPTIN] [OPTOUT] [NOLOOP] -- Client-side caching.",
            "CACHING (YES|NO) -- Track (or not) the keys the next command reads (OPTIN/OPTOUT).",
            "TRACKINGINFO -- Describe this connection's tracking settings.",
            "GETREDIR -- Return the client id tracking invalidations go to (-1: tracking off).",
            "HELP -- Print this help.",
        ],
    );
    Ok(())
}
