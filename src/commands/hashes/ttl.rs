//! Per-field expiry, as Redis 7.4 has it: HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT (with
//! NX / XX / GT / LT), HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME and HPERSIST, each taking
//! `FIELDS numfields field [field ...]` and replying with one code per field.
//!
//! Codes: -2 no such field (or no such key); for the EXPIRE family 0 when the condition is not
//! met, 1 when the expiry was set, 2 when the time was already past and the field deleted; for
//! HPERSIST -1 when the field has no TTL and 1 when it was removed; for the TTL family -1 when
//! the field has no TTL, else the time.

use larder_engine::KeyRef;
use larder_resp::Args;

use super::{check_type, read_hash, write_hash};
use crate::commands::objects;
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// The largest absolute field expiry Redis accepts, in unix ms (`HFE_MAX_ABS_TIME_MSEC`:
/// 2^48 - 1 with two bits reserved).
const MAX_ABS_MS: i64 = ((1 << 48) - 1) >> 2;

const NO_FIELD: i64 = -2;
const NO_TTL: i64 = -1;

/// The NX / XX / GT / LT option of the HEXPIRE family.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cond {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

impl Cond {
    /// Whether a field whose expiry is `current` (None: no TTL, that is never) may get `at`.
    fn allows(self, current: Option<u64>, at: u64) -> bool {
        match (self, current) {
            (Cond::Always, _) => true,
            (Cond::Nx, current) => current.is_none(),
            // No TTL counts as an infinite one: never greater, always less.
            (Cond::Xx | Cond::Gt, None) => false,
            (Cond::Lt, None) => true,
            (Cond::Xx, Some(_)) => true,
            (Cond::Gt, Some(t)) => at > t,
            (Cond::Lt, Some(t)) => at < t,
        }
    }
}

/// Checks `FIELDS numfields field...` with the FIELDS keyword at `at`; returns the index of
/// the first field. `count_err` is the command's text for a bad `numfields`.
fn parse_fields(args: Args<'_>, at: usize, count_err: &'static str) -> Result<usize, CmdError> {
    if !args.get(at).is_some_and(|a| eq_ic(a, "fields")) {
        return Err(CmdError::Static("ERR Mandatory argument FIELDS is missing or not at the right position"));
    }
    let n = args
        .get(at + 1)
        .and_then(larder_engine::util::num::parse_i64)
        .filter(|&n| n >= 1)
        .ok_or(CmdError::Static(count_err))?;
    let given = args.len().saturating_sub(at + 2);
    if u64::try_from(n).ok() != Some(given as u64) {
        return Err(CmdError::Static("ERR The `numfields` parameter must match the number of arguments"));
    }
    Ok(at + 2)
}

/// Replies with `n` copies of `code` (the answer for a missing key).
fn reply_all(ctx: &mut Ctx<'_, '_>, n: usize, code: i64) {
    let mut r = ctx.reply();
    r.array(n);
    for _ in 0..n {
        r.int(code);
    }
}

/// HEXPIRE and friends: `unit_ms` is 1000 for seconds, 1 for milliseconds; `absolute` for the
/// *AT forms.
fn hexpire_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, unit_ms: i64, absolute: bool) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let now = ctx.now;
    check_type(ctx, &k)?;
    let v = int_arg(&args[2])?;
    if v < 0 {
        return Err(CmdError::Static("ERR invalid expire time, must be >= 0"));
    }
    let invalid = || CmdError::Msg(format!("ERR invalid expire time in '{}' command", ctx.spec.name));
    if v > MAX_ABS_MS / unit_ms {
        return Err(invalid());
    }
    let base = if absolute { 0 } else { now as i64 };
    let ms = v * unit_ms;
    if ms > MAX_ABS_MS - base {
        return Err(invalid());
    }
    let at = (ms + base) as u64;
    let opt = &args[3];
    let cond = [("nx", Cond::Nx), ("xx", Cond::Xx), ("gt", Cond::Gt), ("lt", Cond::Lt)]
        .into_iter()
        .find_map(|(name, c)| eq_ic(opt, name).then_some(c))
        .unwrap_or(Cond::Always);
    let fields_at = if cond == Cond::Always { 3 } else { 4 };
    let first = parse_fields(args, fields_at, "ERR Parameter `numFields` should be greater than 0")?;
    let n = args.len() - first;
    let Some((h, expired)) = write_hash(ctx, &k, false)? else {
        reply_all(ctx, n, NO_FIELD);
        return Ok(());
    };
    let mut changed = expired;
    let mut codes = Vec::with_capacity(n);
    for field in args.slice(first).iter() {
        let code = match h.expire_time(field) {
            None => NO_FIELD,
            Some(current) if !cond.allows(current, at) => 0,
            Some(_) if at <= now => {
                h.del(field);
                changed = true;
                2
            }
            Some(_) => {
                h.set_expire_time(field, at);
                changed = true;
                1
            }
        };
        codes.push(code);
    }
    let next = h.next_expiry();
    if changed {
        let deleted = objects::finish_write(ctx, &k);
        if let (false, Some(next)) = (deleted, next) {
            // Registers the hash for active field expiry.
            ctx.shard(&k).track_field_ttl(&k, next);
        }
    }
    let mut r = ctx.reply();
    r.array(codes.len());
    for c in codes {
        r.int(c);
    }
    Ok(())
}

/// HEXPIRE key seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
pub fn hexpire(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    hexpire_generic(ctx, args, 1000, false)
}

/// HPEXPIRE key milliseconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
pub fn hpexpire(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    hexpire_generic(ctx, args, 1, false)
}

/// HEXPIREAT key unix-time-seconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
pub fn hexpireat(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    hexpire_generic(ctx, args, 1000, true)
}

/// HPEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT] FIELDS numfields field [field ...]
pub fn hpexpireat(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    hexpire_generic(ctx, args, 1, true)
}

/// HTTL and friends: the time left (`relative`) or the absolute expiry, in seconds (rounded
/// up, as Redis does for fields) or milliseconds.
fn httl_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, seconds: bool, relative: bool) -> CmdResult {
    let base = if relative { ctx.now } else { 0 };
    read_hash(ctx, &KeyRef::new(&args[1]), |h, r| {
        let first = parse_fields(args, 2, "ERR Number of fields must be a positive integer")?;
        r.array(args.len() - first);
        for field in args.slice(first).iter() {
            let code = match h.and_then(|h| h.expire_time(field)) {
                None => NO_FIELD,
                Some(None) => NO_TTL,
                Some(Some(t)) => {
                    let left = t.saturating_sub(base);
                    (if seconds { left.saturating_add(999) / 1000 } else { left }) as i64
                }
            };
            r.int(code);
        }
        Ok(())
    })?
}

/// HTTL key FIELDS numfields field [field ...]
pub fn httl(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    httl_generic(ctx, args, true, true)
}

/// HPTTL key FIELDS numfields field [field ...]
pub fn hpttl(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    httl_generic(ctx, args, false, true)
}

/// HEXPIRETIME key FIELDS numfields field [field ...]
pub fn hexpiretime(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    httl_generic(ctx, args, true, false)
}

/// HPEXPIRETIME key FIELDS numfields field [field ...]
pub fn hpexpiretime(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    httl_generic(ctx, args, false, false)
}

/// HPERSIST key FIELDS numfields field [field ...]
pub fn hpersist(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    check_type(ctx, &k)?;
    let first = parse_fields(args, 2, "ERR Number of fields must be a positive integer")?;
    let n = args.len() - first;
    let Some((h, expired)) = write_hash(ctx, &k, false)? else {
        reply_all(ctx, n, NO_FIELD);
        return Ok(());
    };
    let mut changed = expired;
    let mut codes = Vec::with_capacity(n);
    for field in args.slice(first).iter() {
        codes.push(match h.expire_time(field) {
            None => NO_FIELD,
            Some(None) => NO_TTL,
            Some(Some(_)) => {
                h.persist(field);
                changed = true;
                1
            }
        });
    }
    if changed {
        objects::finish_write(ctx, &k);
    }
    let mut r = ctx.reply();
    r.array(codes.len());
    for c in codes {
        r.int(c);
    }
    Ok(())
}
