//! Key expiry commands: setting a TTL (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT),
//! reading it (TTL, PTTL, EXPIRETIME, PEXPIRETIME) and removing it (PERSIST).
//!
//! Times are unix milliseconds, compared with the command's own clock (`ctx.now`) so a whole
//! command sees one instant. Setting a time that has already passed deletes the key at once.

use larder_engine::notify;
use larder_engine::KeyRef;
use larder_resp::Args;

use super::spec::{acl, cmd, flag, keys, CommandSpec, Group};
use super::{int_arg, CmdError, CmdResult, Ctx};

const G: Group = Group::Generic;
const RF: u32 = flag::READONLY | flag::FAST;
const WF: u32 = flag::WRITE | flag::FAST;
const A_R: u64 = acl::KEYSPACE | acl::READ | acl::FAST;
const A_W: u64 = acl::KEYSPACE | acl::WRITE | acl::FAST;

/// The expiry family's table entries.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd("expire", -3, WF, A_W, keys(1, 1, 1), G, "1.0.0", "O(1)", "Makes a key expire after a number of seconds.", expire),
    cmd("pexpire", -3, WF, A_W, keys(1, 1, 1), G, "2.6.0", "O(1)", "Makes a key expire after a number of milliseconds.", pexpire),
    cmd("expireat", -3, WF, A_W, keys(1, 1, 1), G, "1.2.0", "O(1)", "Makes a key expire at a unix time in seconds.", expireat),
    cmd("pexpireat", -3, WF, A_W, keys(1, 1, 1), G, "2.6.0", "O(1)", "Makes a key expire at a unix time in milliseconds.", pexpireat),
    cmd("ttl", 2, RF, A_R, keys(1, 1, 1), G, "1.0.0", "O(1)", "Returns the seconds left before a key expires.", ttl),
    cmd("pttl", 2, RF, A_R, keys(1, 1, 1), G, "2.6.0", "O(1)", "Returns the milliseconds left before a key expires.", pttl),
    cmd("expiretime", 2, RF, A_R, keys(1, 1, 1), G, "7.0.0", "O(1)", "Returns the unix time in seconds at which a key expires.", expiretime),
    cmd("pexpiretime", 2, RF, A_R, keys(1, 1, 1), G, "7.0.0", "O(1)", "Returns the unix time in milliseconds at which a key expires.", pexpiretime),
    cmd("persist", 2, WF, A_W, keys(1, 1, 1), G, "2.2.0", "O(1)", "Removes a key's expiry so it lives until deleted.", persist),
];

/// The NX / XX / GT / LT conditions of the EXPIRE family.
#[derive(Default, Clone, Copy)]
struct Cond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Cond {
    /// Parses the options after the time argument, then checks their combination.
    fn parse(args: Args<'_>) -> Result<Cond, CmdError> {
        let mut c = Cond::default();
        for opt in args.iter().skip(3) {
            match opt.to_ascii_lowercase().as_slice() {
                b"nx" => c.nx = true,
                b"xx" => c.xx = true,
                b"gt" => c.gt = true,
                b"lt" => c.lt = true,
                _ => {
                    // Redis prints the option as a C string: it ends at the first zero byte.
                    let shown = opt.split(|&b| b == 0).next().unwrap_or_default();
                    return Err(CmdError::err(format!("Unsupported option {}", String::from_utf8_lossy(shown))));
                }
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::Static("ERR NX and XX, GT or LT options at the same time are not compatible"));
        }
        if c.gt && c.lt {
            return Err(CmdError::Static("ERR GT and LT options at the same time are not compatible"));
        }
        Ok(c)
    }

    /// Whether a key whose current expiry is `current` (None: no TTL, i.e. infinite) may get
    /// the new expiry `when`.
    fn allows(self, current: Option<i64>, when: i64) -> bool {
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        if self.gt && current.is_none_or(|cur| when <= cur) {
            return false;
        }
        if self.lt && current.is_some_and(|cur| when >= cur) {
            return false;
        }
        true
    }
}

fn expire(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now as i64;
    expire_generic(ctx, args, now, 1000)
}

fn pexpire(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now as i64;
    expire_generic(ctx, args, now, 1)
}

fn expireat(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, 0, 1000)
}

fn pexpireat(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    expire_generic(ctx, args, 0, 1)
}

/// The EXPIRE family: options first, then the time (`base + value * unit_ms`, with Redis's
/// overflow checks; negative values are allowed and mean "already expired"), then the key.
fn expire_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, base: i64, unit_ms: i64) -> CmdResult {
    let cond = Cond::parse(args)?;
    let value = int_arg(&args[2])?;
    let invalid = || CmdError::Msg(format!("ERR invalid expire time in '{}' command", ctx.spec.name));
    let when = value.checked_mul(unit_ms).ok_or_else(invalid)?;
    if when > i64::MAX - base {
        return Err(invalid());
    }
    let when = when + base;

    let k = KeyRef::new(&args[1]);
    let now = ctx.now;
    let current = match ctx.get(&k) {
        None => {
            ctx.reply().int(0);
            return Ok(());
        }
        Some(e) => e.expire_ms().map(|t| t.min(i64::MAX as u64) as i64),
    };
    if !cond.allows(current, when) {
        ctx.reply().int(0);
        return Ok(());
    }
    let shard = ctx.shard(&k);
    if when <= now as i64 {
        // Already in the past: the key goes now, as a deletion (not counted as an expiry).
        shard.remove(&k);
        ctx.notify(notify::GENERIC, "del", k.key);
    } else {
        shard.set_expire(&k, Some(when as u64));
        ctx.notify(notify::GENERIC, "expire", k.key);
    }
    ctx.reply().int(1);
    Ok(())
}

fn ttl(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

fn pttl(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

fn expiretime(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

fn pexpiretime(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// TTL and friends: -2 for a missing key, -1 for a key without expiry, otherwise the time
/// left (or the absolute time), in ms or in seconds rounded to the nearest second.
fn ttl_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, ms: bool, absolute: bool) -> CmdResult {
    let now = ctx.now;
    let srv = ctx.srv;
    let e = ctx.get_untouched(&KeyRef::new(&args[1]));
    srv.stats.count_lookup(e.is_some());
    let reply = match e {
        None => -2,
        Some(e) => match e.expire_ms() {
            None => -1,
            Some(t) => {
                let t = if absolute { t } else { t.saturating_sub(now) };
                let t = t.min(i64::MAX as u64) as i64;
                if ms {
                    t
                } else {
                    t.saturating_add(500) / 1000
                }
            }
        },
    };
    ctx.reply().int(reply);
    Ok(())
}

fn persist(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let had = ctx.get(&k).is_some_and(|e| e.has_expire());
    if had {
        ctx.shard(&k).set_expire(&k, None);
        ctx.notify(notify::GENERIC, "persist", k.key);
    }
    ctx.reply().int(had as i64);
    Ok(())
}
