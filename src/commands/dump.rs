//! DUMP and RESTORE: a key's value in Redis's serialization format (RDB encoding, RDB version,
//! CRC64), so payloads move between Larder and Redis (`redis-cli --copy`-style migrations,
//! MIGRATE-like tools). The format lives in `larder_persistence`; this module parses the
//! arguments, checks what Redis 7.2 checks in the order it checks it, and stores the result.

use larder_engine::{notify, Entry, KeyRef, Object, Value};
use larder_persistence::dump::{create_payload, restore_value, verify_payload};
use larder_persistence::rdb::decode::Decoded;
use larder_persistence::rdb::encode::Options;
use larder_resp::Args;

use super::spec::{acl, cmd, flag, keys, CommandSpec, Group};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

const BUSYKEY: CmdError = CmdError::Static("BUSYKEY Target key name already exists.");
const BAD_TTL: CmdError = CmdError::Static("ERR Invalid TTL value, must be >= 0");
const BAD_PAYLOAD: CmdError = CmdError::Static("ERR DUMP payload version or checksum are wrong");
const BAD_DATA: CmdError = CmdError::Static("ERR Bad data format");
const BAD_IDLE: CmdError = CmdError::Static("ERR Invalid IDLETIME value, must be >= 0");
const BAD_FREQ: CmdError = CmdError::Static("ERR Invalid FREQ value, must be >= 0 and <= 255");

/// The DUMP/RESTORE table entries.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd("dump", 2, flag::READONLY, acl::KEYSPACE | acl::READ | acl::SLOW, keys(1, 1, 1), Group::Generic, "2.6.0", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).", "Returns a key's value serialized in Redis's DUMP format.", dump),
    cmd("restore", -4, flag::WRITE | flag::DENYOOM, acl::KEYSPACE | acl::WRITE | acl::SLOW | acl::DANGEROUS, keys(1, 1, 1), Group::Generic, "2.6.0", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", "Creates a key from a value serialized by DUMP.", restore),
];

/// DUMP key: the payload, or nil when the key is absent. Hash fields whose TTL passed are
/// removed first (a hash left empty is deleted and reported absent), as any read does.
fn dump(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let opts = Options { compress: ctx.srv.config.read().rdbcompression, ..Options::default() };
    let (now, srv) = (ctx.now, ctx.srv);
    let Some(e) = ctx.get(&k) else {
        srv.stats.count_lookup(false);
        ctx.reply().null();
        return Ok(());
    };
    srv.stats.count_lookup(true);
    let (mut fields_expired, mut emptied) = (false, false);
    if let Some(Object::Hash(h)) = e.object_mut() {
        if h.next_expiry().is_some_and(|t| t <= now) {
            fields_expired = h.expire_fields(now) > 0;
            emptied = h.is_empty();
        }
    }
    let payload = (!emptied).then(|| create_payload(e.value(), &opts));
    if emptied {
        ctx.shard(&k).remove(&k);
    } else if fields_expired {
        ctx.shard(&k).touch_write(&k);
    }
    match payload {
        Some(p) => ctx.reply().bulk(&p),
        None => ctx.reply().null(),
    }
    Ok(())
}

/// RESTORE's options.
#[derive(Default)]
struct RestoreOpts {
    replace: bool,
    absttl: bool,
    idle: Option<i64>,
    freq: Option<i64>,
}

/// Parses the options after the payload. As in Redis, IDLETIME and FREQ exclude each other
/// (the second one given is a syntax error).
fn parse_opts(args: Args<'_>) -> Result<RestoreOpts, CmdError> {
    let mut o = RestoreOpts::default();
    let mut i = 4;
    while i < args.len() {
        let a = &args[i];
        let has_value = i + 1 < args.len();
        if eq_ic(a, "replace") {
            o.replace = true;
        } else if eq_ic(a, "absttl") {
            o.absttl = true;
        } else if eq_ic(a, "idletime") && has_value && o.freq.is_none() {
            let v = int_arg(&args[i + 1])?;
            if v < 0 {
                return Err(BAD_IDLE);
            }
            o.idle = Some(v);
            i += 1;
        } else if eq_ic(a, "freq") && has_value && o.idle.is_none() {
            let v = int_arg(&args[i + 1])?;
            if !(0..=255).contains(&v) {
                return Err(BAD_FREQ);
            }
            o.freq = Some(v);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency].
///
/// Checks in Redis 7.2's order: options, then BUSYKEY, then the TTL, then the payload's
/// footer, then its contents. A TTL of 0 means no expiry; with ABSTTL the TTL is a unix time
/// in ms. A time already past creates nothing (and with REPLACE still deletes the old key),
/// answering OK. Emits the `restore` event (`del` when only the old key went). IDLETIME sets
/// the access time unless the eviction policy is an LFU one, FREQ the access frequency only
/// when it is.
fn restore(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let opts = parse_opts(args)?;
    let k = KeyRef::new(&args[1]);
    if !opts.replace && ctx.get(&k).is_some() {
        return Err(BUSYKEY);
    }
    let ttl = int_arg(&args[2])?;
    if ttl < 0 {
        return Err(BAD_TTL);
    }
    let body = verify_payload(&args[3]).ok_or(BAD_PAYLOAD)?;
    let limits = ctx.srv.hot.limits();
    let value = restore_value(body, &limits).map_err(|_| BAD_DATA)?;
    let now = ctx.now;
    let expire = match ttl {
        0 => None,
        t if opts.absttl => Some(t as u64),
        t => Some(now.saturating_add(t as u64)),
    };
    let deleted = opts.replace && ctx.get(&k).is_some();
    if deleted {
        ctx.shard(&k).remove(&k);
    }
    if expire.is_some_and(|t| t <= now) {
        if deleted {
            ctx.notify(notify::GENERIC, "del", k.key);
        }
        ctx.reply().ok();
        return Ok(());
    }
    let mut entry = match value {
        Decoded::Str(s) => Entry::new(k.key, Value::Bytes(&s), expire),
        Decoded::Obj(o) => Entry::new(k.key, Value::Obj(Box::new(o)), expire),
    };
    larder_engine::evict::access::stamp_new(&mut entry, k.hash);
    if larder_engine::evict::policy().uses_lfu() {
        if let Some(f) = opts.freq {
            entry.set_lfu(f as u8);
        }
    } else if let Some(idle) = opts.idle {
        larder_engine::evict::access::set_idle_seconds(&mut entry, idle.max(0) as u64);
    }
    ctx.shard(&k).put_entry(&k, entry);
    ctx.notify(notify::GENERIC, "restore", k.key);
    ctx.reply().ok();
    Ok(())
}
