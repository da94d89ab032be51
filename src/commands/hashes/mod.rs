//! Hash commands: reading and writing fields here, HRANDFIELD and HSCAN in [`random`], and
//! Redis 7.4's per-field expiry (HEXPIRE, HTTL, HPERSIST, ...) in [`ttl`].
//!
//! Every command sees a hash without its expired fields: [`read_hash`] and [`write_hash`]
//! remove the fields whose TTL has passed before the command looks (lazy field expiry), and a
//! hash emptied that way is deleted, as Redis deletes empty collections.

mod random;
mod ttl;

use larder_engine::types::hash::Hash;
use larder_engine::util::num::{format_incrbyfloat, parse_f64, parse_i64};
use larder_engine::{KeyRef, Object, ValueRef};
use larder_resp::{Args, Reply};

use super::objects::{self, kind};
use super::spec::{acl, cmd, flag, keys, CommandSpec, Group};
use super::{arity_error, int_arg, CmdError, CmdResult, Ctx};

const H: Group = Group::Hash;
const RF: u32 = flag::READONLY | flag::FAST;
const R: u32 = flag::READONLY;
const WF: u32 = flag::WRITE | flag::DENYOOM | flag::FAST;
/// Writes that never grow memory (HDEL, HPERSIST): no DENYOOM.
const WFD: u32 = flag::WRITE | flag::FAST;
const A_RF: u64 = acl::READ | acl::HASH | acl::FAST;
const A_RS: u64 = acl::READ | acl::HASH | acl::SLOW;
const A_WF: u64 = acl::WRITE | acl::HASH | acl::FAST;
const N_FIELDS: &str = "O(N) where N is the number of specified fields";

/// The hash family's table entries.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd("hset", -4, WF, A_WF, keys(1, 1, 1), H, "2.0.0", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.", "Sets the values of one or more fields of a hash, creating the hash if needed.", hset),
    cmd("hsetnx", 4, WF, A_WF, keys(1, 1, 1), H, "2.0.0", "O(1)", "Sets a field of a hash only when the field does not exist yet.", hsetnx),
    cmd("hget", 3, RF, A_RF, keys(1, 1, 1), H, "2.0.0", "O(1)", "Returns the value of one field of a hash.", hget),
    cmd("hmget", -3, RF, A_RF, keys(1, 1, 1), H, "2.0.0", "O(N) where N is the number of fields being requested.", "Returns the values of several fields of a hash.", hmget),
    cmd("hmset", -4, WF, A_WF, keys(1, 1, 1), H, "2.0.0", "O(N) where N is the number of fields being set.", "Sets several fields of a hash (deprecated form of HSET).", hset),
    cmd("hgetall", 2, R, A_RS, keys(1, 1, 1), H, "2.0.0", "O(N) where N is the size of the hash.", "Returns every field of a hash with its value.", hgetall),
    cmd("hdel", -3, WFD, A_WF, keys(1, 1, 1), H, "2.0.0", "O(N) where N is the number of fields to be removed.", "Removes fields from a hash, deleting the hash when none remain.", hdel),
    cmd("hlen", 2, RF, A_RF, keys(1, 1, 1), H, "2.0.0", "O(1)", "Returns the number of fields of a hash.", hlen),
    cmd("hexists", 3, RF, A_RF, keys(1, 1, 1), H, "2.0.0", "O(1)", "Tells whether a hash has a field.", hexists),
    cmd("hkeys", 2, R, A_RS, keys(1, 1, 1), H, "2.0.0", "O(N) where N is the size of the hash.", "Returns the field names of a hash.", hkeys),
    cmd("hvals", 2, R, A_RS, keys(1, 1, 1), H, "2.0.0", "O(N) where N is the size of the hash.", "Returns the values of a hash.", hvals),
    cmd("hstrlen", 3, RF, A_RF, keys(1, 1, 1), H, "3.2.0", "O(1)", "Returns the length in bytes of a field's value.", hstrlen),
    cmd("hincrby", 4, WF, A_WF, keys(1, 1, 1), H, "2.0.0", "O(1)", "Adds an integer to a field's integer value, starting from 0 for a new field.", hincrby),
    cmd("hincrbyfloat", 4, WF, A_WF, keys(1, 1, 1), H, "2.6.0", "O(1)", "Adds a floating-point number to a field's value, starting from 0 for a new field.", hincrbyfloat),
    cmd("hrandfield", -2, R, A_RS, keys(1, 1, 1), H, "6.2.0", "O(N) where N is the number of fields returned", "Returns one or more fields of a hash picked at random, optionally with values.", random::hrandfield),
    cmd("hscan", -3, R, A_RS, keys(1, 1, 1), H, "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.", "Iterates over the fields and values of a hash, a batch per call.", random::hscan),
    cmd("hexpire", -6, WF, A_WF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Makes hash fields expire after a number of seconds.", ttl::hexpire),
    cmd("hpexpire", -6, WF, A_WF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Makes hash fields expire after a number of milliseconds.", ttl::hpexpire),
    cmd("hexpireat", -6, WF, A_WF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Makes hash fields expire at a unix time in seconds.", ttl::hexpireat),
    cmd("hpexpireat", -6, WF, A_WF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Makes hash fields expire at a unix time in milliseconds.", ttl::hpexpireat),
    cmd("httl", -5, RF, A_RF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Returns the seconds left before hash fields expire.", ttl::httl),
    cmd("hpttl", -5, RF, A_RF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Returns the milliseconds left before hash fields expire.", ttl::hpttl),
    cmd("hexpiretime", -5, RF, A_RF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Returns the unix time in seconds at which hash fields expire.", ttl::hexpiretime),
    cmd("hpexpiretime", -5, RF, A_RF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Returns the unix time in milliseconds at which hash fields expire.", ttl::hpexpiretime),
    cmd("hpersist", -5, WFD, A_WF, keys(1, 1, 1), H, "7.4.0", N_FIELDS, "Removes the expiry of hash fields so they live until deleted.", ttl::hpersist),
];

/// Removes `h`'s fields whose TTL passed at `now`; true when any was removed.
#[inline]
fn expire_due(h: &mut Hash, now: u64) -> bool {
    h.next_expiry().is_some_and(|t| t <= now) && h.expire_fields(now) > 0
}

/// Runs `f` on the hash at `k` for a read-only command, with a reply encoder for the client:
/// `None` when the key is absent. Fields whose TTL passed are removed first, and a hash left
/// empty is deleted and passed as absent. Like [`objects::read`], counts a keyspace hit or
/// miss and stamps the access time. WRONGTYPE when `k` holds another type.
fn read_hash<T>(
    ctx: &mut Ctx<'_, '_>,
    k: &KeyRef<'_>,
    f: impl FnOnce(Option<&Hash>, &mut Reply<'_>) -> T,
) -> Result<T, CmdError> {
    let (db, now, resp3) = (ctx.sess.db, ctx.now, ctx.sess.resp3);
    // The hash borrows `keys` while the reply writes to `out`: split the context by hand.
    let e = ctx.keys.get(db, k, now);
    ctx.srv.stats.count_lookup(e.is_some());
    let Some(e) = e else {
        return Ok(f(None, &mut Reply::new(ctx.out, resp3)));
    };
    let Some(Object::Hash(h)) = e.object_mut() else {
        return Err(CmdError::WrongType);
    };
    let expired = expire_due(h, now);
    if !h.is_empty() {
        let out = f(Some(h), &mut Reply::new(ctx.out, resp3));
        if expired {
            ctx.keys.shard_for(db, k).touch_write(k);
        }
        return Ok(out);
    }
    ctx.keys.shard_for(db, k).remove(k);
    Ok(f(None, &mut Reply::new(ctx.out, resp3)))
}

/// The hash at `k` for a write, with its expired fields removed: created empty when absent
/// and `create`, else `Ok(None)` when absent. The flag is true when fields expired (a change
/// to count even if the command changes nothing else). Every path that gets a hash here must
/// end with [`objects::finish_write`] when anything changed, which also deletes a hash the
/// command (or the expiry) left empty.
fn write_hash<'c>(
    ctx: &'c mut Ctx<'_, '_>,
    k: &KeyRef<'_>,
    create: bool,
) -> Result<Option<(&'c mut Hash, bool)>, CmdError> {
    let now = ctx.now;
    let o = if create {
        Some(objects::write(ctx, k, kind::hash, || Object::Hash(Hash::new()))?)
    } else {
        objects::modify(ctx, k, kind::hash)?
    };
    Ok(match o {
        Some(Object::Hash(h)) => {
            let expired = expire_due(h, now);
            Some((h, expired))
        }
        _ => None,
    })
}

/// WRONGTYPE unless `k` is absent or holds a hash: for commands that, as in Redis, check the
/// type before parsing the rest of their arguments.
fn check_type(ctx: &mut Ctx<'_, '_>, k: &KeyRef<'_>) -> CmdResult {
    match ctx.get(k).map(|e| e.value()) {
        None | Some(ValueRef::Obj(Object::Hash(_))) => Ok(()),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// HSET key field value [field value ...]; HMSET (same, replying OK).
fn hset(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(arity_error(ctx.spec.name));
    }
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let mut created = 0;
    if let Some((h, _)) = write_hash(ctx, &k, true)? {
        for i in (2..args.len()).step_by(2) {
            created += h.set(&args[i], &args[i + 1], &limits) as i64;
        }
    }
    objects::finish_write(ctx, &k);
    if ctx.spec.name == "hmset" {
        ctx.reply().ok();
    } else {
        ctx.reply().int(created);
    }
    Ok(())
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let set = match write_hash(ctx, &k, true)? {
        Some((h, _)) => h.set_nx(&args[2], &args[3], &limits),
        None => false,
    };
    objects::finish_write(ctx, &k);
    ctx.reply().int(set as i64);
    Ok(())
}

/// HGET key field
fn hget(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let field = &args[2];
    read_hash(ctx, &KeyRef::new(&args[1]), |h, r| match h.and_then(|h| h.get(field)) {
        Some(v) => r.bulk(v),
        None => r.null(),
    })
}

/// HMGET key field [field ...]
fn hmget(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    read_hash(ctx, &KeyRef::new(&args[1]), |h, r| {
        r.array(args.len() - 2);
        for field in args.slice(2).iter() {
            match h.and_then(|h| h.get(field)) {
                Some(v) => r.bulk(v),
                None => r.null(),
            }
        }
    })
}

/// What HGETALL, HKEYS and HVALS reply with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    Both,
    Fields,
    Values,
}

fn getall_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, parts: Parts) -> CmdResult {
    read_hash(ctx, &KeyRef::new(&args[1]), |h, r| {
        let len = h.map_or(0, Hash::len);
        if parts == Parts::Both {
            r.map(len);
        } else {
            r.array(len);
        }
        for (field, value) in h.into_iter().flat_map(Hash::iter) {
            if parts != Parts::Values {
                r.bulk(field);
            }
            if parts != Parts::Fields {
                r.bulk(value);
            }
        }
    })
}

/// HGETALL key: a map in RESP3, a flat array in RESP2.
fn hgetall(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, args, Parts::Both)
}

/// HKEYS key
fn hkeys(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, args, Parts::Fields)
}

/// HVALS key
fn hvals(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    getall_generic(ctx, args, Parts::Values)
}

/// HDEL key field [field ...]
fn hdel(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let mut deleted = 0;
    let mut changed = false;
    if let Some((h, expired)) = write_hash(ctx, &k, false)? {
        changed = expired;
        for field in args.slice(2).iter() {
            if h.del(field) {
                deleted += 1;
                if h.is_empty() {
                    break;
                }
            }
        }
    }
    if changed || deleted > 0 {
        objects::finish_write(ctx, &k);
    }
    ctx.reply().int(deleted);
    Ok(())
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    read_hash(ctx, &KeyRef::new(&args[1]), |h, r| r.int(h.map_or(0, Hash::len) as i64))
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let field = &args[2];
    read_hash(ctx, &KeyRef::new(&args[1]), |h, r| r.int(h.is_some_and(|h| h.contains(field)) as i64))
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let field = &args[2];
    read_hash(ctx, &KeyRef::new(&args[1]), |h, r| r.int(h.and_then(|h| h.get(field)).map_or(0, <[u8]>::len) as i64))
}

/// HINCRBY key field increment. The field keeps its TTL.
fn hincrby(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let by = int_arg(&args[3])?;
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let field = &args[2];
    let Some((h, _)) = write_hash(ctx, &k, true)? else { return Err(CmdError::WrongType) };
    let current = match h.get(field) {
        Some(v) => parse_i64(v).ok_or(CmdError::Static("ERR hash value is not an integer"))?,
        None => 0,
    };
    let next = current.checked_add(by).ok_or(CmdError::Overflow)?;
    h.set_keep_ttl(field, itoa::Buffer::new().format(next).as_bytes(), &limits);
    objects::finish_write(ctx, &k);
    ctx.reply().int(next);
    Ok(())
}

/// HINCRBYFLOAT key field increment. The field keeps its TTL; the result is stored as text
/// in INCRBYFLOAT's format.
fn hincrbyfloat(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let by = parse_f64(&args[3]).ok_or(CmdError::NotFloat)?;
    if !by.is_finite() {
        return Err(CmdError::Static("ERR value is NaN or Infinity"));
    }
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let field = &args[2];
    let Some((h, _)) = write_hash(ctx, &k, true)? else { return Err(CmdError::WrongType) };
    let current = match h.get(field) {
        Some(v) => parse_f64(v).ok_or(CmdError::Static("ERR hash value is not a float"))?,
        None => 0.0,
    };
    let next = current + by;
    if !next.is_finite() {
        return Err(CmdError::Static("ERR increment would produce NaN or Infinity"));
    }
    let mut text = Vec::with_capacity(24);
    format_incrbyfloat(next, &mut text);
    h.set_keep_ttl(field, &text, &limits);
    objects::finish_write(ctx, &k);
    ctx.reply().bulk(&text);
    Ok(())
}
