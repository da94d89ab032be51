//! Generic keyspace commands: deleting, testing, renaming, copying and moving keys, whole
//! database operations (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, RANDOMKEY, KEYS) and OBJECT
//! introspection. Expiry commands live in [`super::expire`], SCAN in [`super::scan`].
//!
//! Locking: commands naming their keys get those shards from the dispatcher. KEYS, DBSIZE and
//! RANDOMKEY visit shards one at a time (`VISITS_SHARDS`). COPY (its DB option reaches another
//! database), MOVE, SWAPDB and the flushes hold the whole keyspace (`EXCLUSIVE`) and lock
//! shards on demand.

use larder_engine::notify;
use larder_engine::util::glob::glob_match;
use larder_engine::util::num::parse_i64;
use larder_engine::{Entry, KeyRef, Keyspace, Locked, Object, Shard, Value, ValueRef, SHARDS};
use larder_resp::{Args, Reply};

use super::spec::{acl, cmd, flag, keys, CommandSpec, Group, Keys};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};
use crate::config::MaxmemoryPolicy;

const G: Group = Group::Generic;
const A_RF: u64 = acl::KEYSPACE | acl::READ | acl::FAST;
const A_RS: u64 = acl::KEYSPACE | acl::READ | acl::SLOW;
const A_WF: u64 = acl::KEYSPACE | acl::WRITE | acl::FAST;
const A_WS: u64 = acl::KEYSPACE | acl::WRITE | acl::SLOW;
const RF: u32 = flag::READONLY | flag::FAST;
const WF: u32 = flag::WRITE | flag::FAST;

/// Redis's reply when two operands of COPY or MOVE name the same object.
const SAME_OBJECT: CmdError = CmdError::Static("ERR source and destination objects are the same");
/// Redis's reply for a database index outside `0..databases`.
const DB_RANGE: CmdError = CmdError::Static("ERR DB index is out of range");
/// What OBJECT REFCOUNT reports for a value Redis would keep as a shared integer (INT_MAX).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
/// Redis shares the integers `0..SHARED_INTEGERS` between keys (OBJ_SHARED_INTEGERS).
const SHARED_INTEGERS: i64 = 10_000;

#[rustfmt::skip]
static OBJECT_SUBS: &[CommandSpec] = &[
    cmd("encoding", 3, flag::READONLY, A_RS, keys(2, 2, 1), G, "2.2.3", "O(1)", "Names the internal representation of a key's value.", object_encoding),
    cmd("freq", 3, flag::READONLY, A_RS, keys(2, 2, 1), G, "4.0.0", "O(1)", "Returns a key's logarithmic access-frequency counter (LFU policies only).", object_freq),
    cmd("idletime", 3, flag::READONLY, A_RS, keys(2, 2, 1), G, "2.2.3", "O(1)", "Returns the seconds since a key was last accessed.", object_idletime),
    cmd("refcount", 3, flag::READONLY, A_RS, keys(2, 2, 1), G, "2.2.3", "O(1)", "Returns how many references a key's value has.", object_refcount),
    cmd("help", 2, flag::LOADING | flag::STALE, acl::KEYSPACE | acl::SLOW, Keys::None, G, "6.2.0", "O(1)", "Lists the OBJECT sub-commands.", object_help),
];

/// The generic family's table entries.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd("del", -2, flag::WRITE, A_WS, keys(1, -1, 1), G, "1.0.0", "O(N) where N is the number of keys that will be removed.", "Removes keys.", del),
    cmd("unlink", -2, WF, A_WF, keys(1, -1, 1), G, "4.0.0", "O(1) for each key removed regardless of its size.", "Removes keys, reclaiming their memory in the background.", del),
    cmd("exists", -2, RF, A_RF, keys(1, -1, 1), G, "1.0.0", "O(N) where N is the number of keys to check.", "Counts how many of the given keys exist.", exists),
    cmd("type", 2, RF, A_RF, keys(1, 1, 1), G, "1.0.0", "O(1)", "Names the type of a key's value.", type_cmd),
    cmd("rename", 3, flag::WRITE, A_WS, keys(1, 2, 1), G, "1.0.0", "O(1)", "Gives a key a new name, replacing any key already under that name.", rename),
    cmd("renamenx", 3, WF, A_WF, keys(1, 2, 1), G, "1.0.0", "O(1)", "Gives a key a new name only when no key has that name yet.", renamenx),
    cmd("copy", -3, flag::WRITE | flag::DENYOOM | flag::EXCLUSIVE, A_WS, keys(1, 2, 1), G, "6.2.0", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.", "Duplicates a key's value under another name, optionally in another database.", copy),
    cmd("move", 3, WF | flag::EXCLUSIVE, A_WF, keys(1, 1, 1), G, "1.0.0", "O(1)", "Transfers a key to another database.", move_cmd),
    cmd("touch", -2, RF, A_RF, keys(1, -1, 1), G, "3.2.1", "O(N) where N is the number of keys that will be touched.", "Marks keys as just accessed and counts the existing ones.", touch),
    cmd("dbsize", 1, RF | flag::VISITS_SHARDS, A_RF, Keys::None, G, "1.0.0", "O(1)", "Counts the keys of the selected database.", dbsize),
    cmd("flushdb", -1, flag::WRITE | flag::EXCLUSIVE, A_WS | acl::DANGEROUS, Keys::None, G, "1.0.0", "O(N) where N is the number of keys in the selected database", "Deletes every key of the selected database.", flushdb),
    cmd("flushall", -1, flag::WRITE | flag::EXCLUSIVE, A_WS | acl::DANGEROUS, Keys::None, G, "1.0.0", "O(N) where N is the total number of keys in all databases", "Deletes every key of every database.", flushall),
    cmd("swapdb", 3, WF | flag::EXCLUSIVE, A_WF | acl::DANGEROUS, Keys::None, G, "4.0.0", "O(N) where N is the count of clients watching or blocking on keys from both databases.", "Exchanges the contents of two databases.", swapdb),
    cmd("randomkey", 1, flag::READONLY | flag::VISITS_SHARDS, A_RS, Keys::None, G, "1.0.0", "O(1)", "Returns the name of a key picked at random.", randomkey),
    cmd("keys", 2, flag::READONLY | flag::VISITS_SHARDS, A_RS | acl::DANGEROUS, Keys::None, G, "1.0.0", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.", "Lists every key whose name matches a glob pattern.", keys_cmd),
    CommandSpec {
        subcommands: OBJECT_SUBS,
        flags: flag::CONTAINER,
        ..cmd("object", -2, 0, acl::SLOW, Keys::None, G, "2.2.3", "Depends on subcommand.", "Commands that inspect how a key's value is stored.", object_help)
    },
];

/// The TYPE name of an entry's value (`string`, ...).
pub(crate) fn type_name(e: &Entry) -> &'static str {
    match e.value() {
        ValueRef::Bytes(_) | ValueRef::Int(_) => "string",
        ValueRef::Obj(o) => o.type_name(),
    }
}

/// A copy of an entry's value, ready for [`Entry::new`] (heap objects are cloned).
fn value_copy(e: &Entry) -> Value<'_> {
    match e.value() {
        ValueRef::Bytes(b) => Value::Bytes(b),
        ValueRef::Int(i) => Value::Int(i),
        ValueRef::Obj(o) => Value::Obj(Box::new(o.clone())),
    }
}

/// Rebuilds an entry under another key name, keeping its value (a heap object is moved, not
/// copied), its expiry and its access metadata.
fn rekey(mut e: Entry, key: &[u8]) -> Entry {
    let value = match e.take_object() {
        Some(obj) => Value::Obj(obj),
        None => value_copy(&e),
    };
    let mut out = Entry::new(key, value, e.expire_ms());
    out.set_lru(e.lru());
    out.set_lfu(e.lfu());
    out
}

/// Parses a database index the way MOVE and COPY ... DB do: an integer in C `int` range, then
/// an existing database.
fn db_arg(ctx: &Ctx<'_, '_>, arg: &[u8]) -> Result<usize, CmdError> {
    let v = int_arg(arg)?;
    if v < i32::MIN as i64 || v > i32::MAX as i64 {
        return Err(CmdError::Static("ERR value is out of range, value must between -2147483648 and 2147483647"));
    }
    if v < 0 || v as usize >= ctx.srv.keyspace.db_count() {
        return Err(DB_RANGE);
    }
    Ok(v as usize)
}

/// DEL and UNLINK: removes each live key (an expired one is not counted). UNLINK frees the
/// same way for now; freeing large values off-thread is a later change.
fn del(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let now = ctx.now;
    let unlink = ctx.spec.name == "unlink";
    let mut removed = 0;
    for key in args.iter().skip(1) {
        let k = KeyRef::new(key);
        let shard = ctx.shard(&k);
        if shard.get(&k, now).is_some() {
            if let Some(e) = shard.remove(&k) {
                if unlink {
                    larder_engine::lazyfree::unlink(e);
                } else {
                    larder_engine::lazyfree::release(e, larder_engine::lazyfree::Reason::UserDel);
                }
            }
            removed += 1;
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.reply().int(removed);
    Ok(())
}

fn exists(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let mut found = 0;
    for key in args.iter().skip(1) {
        let hit = ctx.get_untouched(&KeyRef::new(key)).is_some();
        ctx.count_lookup(hit);
        found += hit as i64;
    }
    ctx.reply().int(found);
    Ok(())
}

fn type_cmd(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let name = ctx.get_untouched(&KeyRef::new(&args[1])).map(|e| type_name(e));
    ctx.count_lookup(name.is_some());
    ctx.reply().simple(name.unwrap_or("none").as_bytes());
    Ok(())
}

fn rename(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// RENAME and RENAMENX: the value keeps its TTL. Renaming a key to itself succeeds without
/// doing anything (RENAMENX answers 0), but the key must still exist.
fn rename_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, nx: bool) -> CmdResult {
    let src = KeyRef::new(&args[1]);
    let dst = KeyRef::new(&args[2]);
    if ctx.get(&src).is_none() {
        return Err(CmdError::Static("ERR no such key"));
    }
    let done = |ctx: &mut Ctx<'_, '_>, renamed: bool| {
        if nx {
            ctx.reply().int(renamed as i64);
        } else {
            ctx.reply().ok();
        }
    };
    if args[1] == args[2] {
        done(ctx, false);
        return Ok(());
    }
    if nx && ctx.get(&dst).is_some() {
        done(ctx, false);
        return Ok(());
    }
    let Some(entry) = ctx.shard(&src).remove(&src) else {
        return Err(CmdError::Static("ERR no such key"));
    };
    let moved = rekey(entry, dst.key);
    ctx.shard(&dst).put_entry(&dst, moved);
    ctx.notify(notify::GENERIC, "rename_from", src.key);
    ctx.notify(notify::GENERIC, "rename_to", dst.key);
    done(ctx, true);
    Ok(())
}

/// COPY source destination [DB index] [REPLACE]. Runs with the whole keyspace held, so the
/// destination database's shard can be locked on demand.
fn copy(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let src_db = ctx.db();
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if eq_ic(&args[i], "replace") {
            replace = true;
        } else if eq_ic(&args[i], "db") && i + 1 < args.len() {
            dst_db = db_arg(ctx, &args[i + 1])?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if src_db == dst_db && args[1] == args[2] {
        return Err(SAME_OBJECT);
    }
    let (src, dst, now) = (KeyRef::new(&args[1]), KeyRef::new(&args[2]), ctx.now);
    let found = ctx.keys.get(src_db, &src, now).map(|e| {
        let mut dup = Entry::new(dst.key, value_copy(e), e.expire_ms());
        larder_engine::evict::access::stamp_new(&mut dup, dst.hash);
        dup
    });
    ctx.count_lookup(found.is_some());
    let Some(dup) = found else {
        ctx.reply().int(0);
        return Ok(());
    };
    if !replace && ctx.keys.get(dst_db, &dst, now).is_some() {
        ctx.reply().int(0);
        return Ok(());
    }
    ctx.keys.shard_for(dst_db, &dst).put_entry(&dst, dup);
    if notify::flags() & notify::GENERIC != 0 {
        crate::server::notify::notify(
            ctx.srv,
            notify::GENERIC,
            "copy_to",
            dst.key,
            dst_db,
            Some(ctx.sess.shared.worker),
        );
    }
    ctx.reply().int(1);
    Ok(())
}

/// MOVE key db: the entry moves as it is (value, TTL and access metadata).
fn move_cmd(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let src_db = ctx.db();
    let dst_db = db_arg(ctx, &args[2])?;
    if dst_db == src_db {
        return Err(SAME_OBJECT);
    }
    let (k, now) = (KeyRef::new(&args[1]), ctx.now);
    let moved = ctx.keys.get(src_db, &k, now).is_some() && ctx.keys.get(dst_db, &k, now).is_none();
    let entry = if moved { ctx.keys.shard_for(src_db, &k).remove(&k) } else { None };
    let Some(entry) = entry else {
        ctx.reply().int(0);
        return Ok(());
    };
    ctx.keys.shard_for(dst_db, &k).put_entry(&k, entry);
    if notify::flags() & notify::GENERIC != 0 {
        let w = Some(ctx.sess.shared.worker);
        crate::server::notify::notify(ctx.srv, notify::GENERIC, "move_from", k.key, src_db, w);
        crate::server::notify::notify(ctx.srv, notify::GENERIC, "move_to", k.key, dst_db, w);
    }
    ctx.reply().int(1);
    Ok(())
}

/// TOUCH stamps the access time even for a CLIENT NO-TOUCH connection, as Redis does.
fn touch(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let mut touched = 0;
    for key in args.iter().skip(1) {
        // The lookup records the access (even for a CLIENT NO-TOUCH client: TOUCH is explicit).
        let hit = ctx.get(&KeyRef::new(key)).is_some();
        ctx.count_lookup(hit);
        touched += hit as i64;
    }
    ctx.reply().int(touched);
    Ok(())
}

/// Keys in the selected database, counting ones whose TTL passed but that were not removed
/// yet (as Redis's DBSIZE does).
fn dbsize(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let db = ctx.db();
    let mut n = 0;
    for i in 0..SHARDS {
        n += ctx.keys.shard(db, i).len();
        ctx.keys.release();
    }
    ctx.reply().int(n as i64);
    Ok(())
}

/// FLUSHDB/FLUSHALL's optional argument: true to free the old keys in the background.
fn flush_async(ctx: &Ctx<'_, '_>, args: Args<'_>) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.srv.config.read().lazyfree_lazy_user_flush),
        2 if eq_ic(&args[1], "sync") => Ok(false),
        2 if eq_ic(&args[1], "async") => Ok(true),
        _ => Err(CmdError::Syntax),
    }
}

/// Empties every shard of `db` (the caller holds the keyspace exclusively).
fn flush_db(keys: &mut Locked<'_>, db: usize, lazy: bool) {
    for i in 0..SHARDS {
        let table = keys.shard(db, i).clear();
        keys.release();
        if lazy {
            Keyspace::free_later(table);
        } else {
            drop(table);
        }
    }
}

/// Tracking clients drop everything they cached after a flush (one message each, even when
/// the databases were empty, as in Redis).
fn flush_invalidates(ctx: &Ctx<'_, '_>) {
    if larder_engine::notify::tracking() {
        let worker = Some(crate::server::stats::Stats::slot()).filter(|&w| w < ctx.srv.worker_count);
        ctx.srv.tracking.invalidate(ctx.srv, &[], true, ctx.sess.id, worker);
    }
}

fn flushdb(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let lazy = flush_async(ctx, args)?;
    let db = ctx.db();
    flush_db(ctx.keys, db, lazy);
    flush_invalidates(ctx);
    ctx.reply().ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let lazy = flush_async(ctx, args)?;
    for db in 0..ctx.srv.keyspace.db_count() {
        flush_db(ctx.keys, db, lazy);
    }
    flush_invalidates(ctx);
    ctx.reply().ok();
    Ok(())
}

/// SWAPDB a b: exchanges the shards' contents pairwise (whole keyspace held).
fn swapdb(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let index = |arg: &[u8], msg: &'static str| {
        parse_i64(arg).filter(|v| *v >= i32::MIN as i64 && *v <= i32::MAX as i64).ok_or(CmdError::Static(msg))
    };
    let a = index(&args[1], "ERR invalid first DB index")?;
    let b = index(&args[2], "ERR invalid second DB index")?;
    let n = ctx.srv.keyspace.db_count() as i64;
    if !(0..n).contains(&a) || !(0..n).contains(&b) {
        return Err(DB_RANGE);
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        for i in 0..SHARDS {
            // Three swaps through an empty shard: only one shard borrow is live at a time.
            let mut tmp = Shard::default();
            ctx.keys.shard(a, i).swap_contents(&mut tmp);
            ctx.keys.shard(b, i).swap_contents(&mut tmp);
            ctx.keys.shard(a, i).swap_contents(&mut tmp);
            ctx.keys.release();
        }
    }
    ctx.reply().ok();
    Ok(())
}

/// Picks a shard with probability proportional to its size, then a key in it; keys found
/// expired are removed and the draw repeats. Every round either answers or removes at least
/// one key, so the rounds are bounded by the key count (the bound also guards against a key
/// that could not be removed).
fn randomkey(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let (db, now) = (ctx.db(), ctx.now);
    let mut rounds_left: Option<usize> = None;
    loop {
        let mut sizes = [0usize; SHARDS];
        for (i, size) in sizes.iter_mut().enumerate() {
            *size = ctx.keys.shard(db, i).len();
            ctx.keys.release();
        }
        let total: usize = sizes.iter().sum();
        let left = rounds_left.get_or_insert(total);
        if total == 0 || *left == 0 {
            ctx.reply().null();
            return Ok(());
        }
        *left -= 1;
        let mut pick = fastrand::usize(..total);
        let mut chosen = SHARDS - 1;
        for (i, &size) in sizes.iter().enumerate() {
            if pick < size {
                chosen = i;
                break;
            }
            pick -= size;
        }
        let found = random_live_key(ctx.keys.shard(db, chosen), now);
        ctx.keys.release();
        if let Some(key) = found {
            ctx.reply().bulk(&key);
            return Ok(());
        }
    }
}

/// A random live key of one shard, removing expired keys it draws on the way; None once the
/// shard is empty (or an expired key could not be removed).
fn random_live_key(shard: &mut Shard, now: u64) -> Option<Vec<u8>> {
    loop {
        let e = shard.table().random()?;
        let key = e.key().to_vec();
        if e.expire_ms().is_none_or(|t| t > now) {
            return Some(key);
        }
        // Lazy expiry removes it and counts the expiration.
        let before = shard.len();
        shard.get(&KeyRef::new(&key), now);
        if shard.len() == before {
            return None;
        }
    }
}

/// KEYS pattern: every live key matching the glob (`*` alone matches everything, the empty
/// key included, as in Redis). Expired keys are skipped, not removed.
fn keys_cmd(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let pattern = &args[1];
    let all = pattern == b"*";
    let (db, now) = (ctx.db(), ctx.now);
    let mut r = Reply::new(ctx.out, ctx.sess.resp3);
    let d = r.deferred();
    let mut n = 0;
    for i in 0..SHARDS {
        let shard = ctx.keys.shard(db, i);
        for e in shard.table().iter() {
            if (all || glob_match(pattern, e.key(), false)) && e.expire_ms().is_none_or(|t| t > now) {
                r.bulk(e.key());
                n += 1;
            }
        }
        ctx.keys.release();
    }
    r.finish_array(d, n);
    Ok(())
}

/// The live entry OBJECT inspects: no access-time update, but a keyspace hit or miss.
fn object_lookup<'c>(ctx: &'c mut Ctx<'_, '_>, key: &[u8]) -> Option<&'c mut Entry> {
    let srv = ctx.srv;
    let e = ctx.get_untouched(&KeyRef::new(key));
    srv.stats.count_lookup(e.is_some());
    e
}

fn object_encoding(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let enc = object_lookup(ctx, &args[2]).map(|e| match e.value() {
        // Collections name their own encoding; strings are named by the string layer.
        ValueRef::Obj(o) if !matches!(o, Object::Str(_)) => o.encoding(),
        _ => super::strings::encoding(e),
    });
    match enc {
        Some(enc) => ctx.reply().bulk(enc.as_bytes()),
        None => ctx.reply().null(),
    }
    Ok(())
}

/// True for the policies that track access frequency instead of recency.
fn lfu_policy(p: MaxmemoryPolicy) -> bool {
    crate::server::evict::engine_policy(p).uses_lfu()
}

fn object_freq(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let lfu = lfu_policy(ctx.srv.config.read().maxmemory_policy);
    let Some(e) = object_lookup(ctx, &args[2]) else {
        ctx.reply().null();
        return Ok(());
    };
    if !lfu {
        return Err(CmdError::Static("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let freq = larder_engine::evict::access::decayed_counter(e) as i64;
    ctx.reply().int(freq);
    Ok(())
}

fn object_idletime(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let lfu = lfu_policy(ctx.srv.config.read().maxmemory_policy);
    let Some(e) = object_lookup(ctx, &args[2]) else {
        ctx.reply().null();
        return Ok(());
    };
    if lfu {
        return Err(CmdError::Static("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let idle = larder_engine::evict::access::idle_seconds(e) as i64;
    ctx.reply().int(idle);
    Ok(())
}

/// Larder never shares values, so every count is 1, except where Redis 7.2 would hold the
/// value as one of its shared integers (0..9999 stored as `int`, unless maxmemory is set with
/// an LRU or LFU policy): there Redis reports INT_MAX, and so does Larder.
fn object_refcount(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let sharing = {
        let c = ctx.srv.config.read();
        let per_key_lru = matches!(
            c.maxmemory_policy,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::AllkeysLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::AllkeysLfu
        );
        c.maxmemory == 0 || !per_key_lru
    };
    let Some(e) = object_lookup(ctx, &args[2]) else {
        ctx.reply().null();
        return Ok(());
    };
    let small_int = |i: i64| (0..SHARED_INTEGERS).contains(&i);
    let shared = sharing
        && match e.value() {
            ValueRef::Int(i) => small_int(i),
            ValueRef::Bytes(b) => b.len() <= 20 && parse_i64(b).is_some_and(small_int),
            ValueRef::Obj(_) => false,
        };
    ctx.reply().int(if shared { SHARED_REFCOUNT } else { 1 });
    Ok(())
}

fn object_help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    super::client_cmd::help_lines(
        ctx,
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Name the internal representation of the value stored at <key>.",
            "FREQ <key>",
            "    Return the logarithmic access-frequency counter of <key> (LFU maxmemory",
            "    policies only).",
            "IDLETIME <key>",
            "    Return the seconds elapsed since <key> was last read or written (not with",
            "    LFU maxmemory policies).",
            "REFCOUNT <key>",
            "    Return how many references the value stored at <key> has.",
            "HELP",
            "    Print this help.",
        ],
    );
    Ok(())
}
