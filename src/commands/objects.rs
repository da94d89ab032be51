//! Typed access to collection values, shared by the hash, list, set and sorted-set families:
//! the WRONGTYPE check, creating a collection on first write, and deleting it when a write
//! leaves it empty (Redis never keeps empty collections).

use larder_engine::{notify, KeyRef, Object, Value, ValueRef};

use super::{CmdError, Ctx};

/// The object at `k` for reading: `Ok(None)` when the key is absent, `WrongType` when it holds
/// a string or another kind (`is_kind` decides). Counts a hit or miss and stamps access time.
pub fn read<'c>(
    ctx: &'c mut Ctx<'_, '_>,
    k: &KeyRef<'_>,
    is_kind: fn(&Object) -> bool,
) -> Result<Option<&'c mut Object>, CmdError> {
    let srv = ctx.srv;
    let Some(e) = ctx.get(k) else {
        srv.stats.count_lookup(false);
        return Ok(None);
    };
    srv.stats.count_lookup(true);
    match e.object_mut() {
        Some(o) if is_kind(o) => Ok(Some(o)),
        _ => Err(CmdError::WrongType),
    }
}

/// The object at `k` for writing, created with `create` when the key is absent.
/// `WrongType` when the key holds something else. Creating the key signals the write; a
/// change to an existing collection is signalled by [`finish_write`], which callers call only
/// when something changed (so a no-op write breaks no WATCH and invalidates no cache).
pub fn write<'c>(
    ctx: &'c mut Ctx<'_, '_>,
    k: &KeyRef<'_>,
    is_kind: fn(&Object) -> bool,
    create: impl FnOnce() -> Object,
) -> Result<&'c mut Object, CmdError> {
    let exists = match ctx.get(k) {
        None => false,
        Some(e) => match e.value() {
            ValueRef::Obj(o) if is_kind(o) => true,
            _ => return Err(CmdError::WrongType),
        },
    };
    if !exists {
        ctx.shard(k).set(k, Value::Obj(Box::new(create())), None);
    }
    let now = ctx.now;
    let shard = ctx.shard(k);
    match shard.get(k, now).and_then(|e| e.object_mut()) {
        Some(o) => Ok(o),
        // Just stored above, under the same shard lock.
        None => Err(CmdError::WrongType),
    }
}

/// The object at `k` for an in-place write that never creates the key (HDEL, LPOP, SREM...):
/// `Ok(None)` when absent.
pub fn modify<'c>(
    ctx: &'c mut Ctx<'_, '_>,
    k: &KeyRef<'_>,
    is_kind: fn(&Object) -> bool,
) -> Result<Option<&'c mut Object>, CmdError> {
    let Some(e) = ctx.get(k) else { return Ok(None) };
    match e.object_mut() {
        Some(o) if is_kind(o) => Ok(Some(o)),
        _ => Err(CmdError::WrongType),
    }
}

/// Ends a write to the collection at `k` (callers call it only when something changed): signals
/// the modification, publishes the command's keyspace event, and deletes the key (with a `del`
/// event) if the collection is now empty. Returns true when the key was deleted.
pub fn finish_write(ctx: &mut Ctx<'_, '_>, k: &KeyRef<'_>) -> bool {
    let event = event_of(ctx.spec.name);
    finish_write_with(ctx, k, event)
}

/// [`finish_write`] with the event given by the caller (class, name) instead of derived from
/// the command's name.
pub fn finish_write_with(ctx: &mut Ctx<'_, '_>, k: &KeyRef<'_>, event: Option<(u32, &str)>) -> bool {
    let now = ctx.now;
    let shard = ctx.shard(k);
    shard.touch_write(k);
    let empty = shard.get(k, now).and_then(|e| e.object_mut()).is_some_and(|o| o.is_empty_collection());
    if empty {
        shard.remove(k);
    }
    if notify::flags() != 0 {
        if let Some((class, event)) = event {
            ctx.notify(class, event, k.key);
        }
        if empty {
            ctx.notify(notify::GENERIC, "del", k.key);
        }
    }
    empty
}

/// The keyspace event a collection command publishes for the key it changed, as Redis names
/// it. Commands whose event depends on the key's role or a direction argument (LMOVE, SMOVE,
/// LMPOP, ...) name it through [`finish_write_with`]; sorted-set commands publish their own.
fn event_of(command: &str) -> Option<(u32, &'static str)> {
    let hash = |e| Some((notify::HASH, e));
    let list = |e| Some((notify::LIST, e));
    let set = |e| Some((notify::SET, e));
    match command {
        "hset" | "hmset" | "hsetnx" => hash("hset"),
        "hdel" => hash("hdel"),
        "hincrby" => hash("hincrby"),
        "hincrbyfloat" => hash("hincrbyfloat"),
        "hexpire" | "hpexpire" | "hexpireat" | "hpexpireat" => hash("hexpire"),
        "hpersist" => hash("hpersist"),
        "lpush" | "lpushx" => list("lpush"),
        "rpush" | "rpushx" => list("rpush"),
        "lpop" | "blpop" => list("lpop"),
        "rpop" | "brpop" => list("rpop"),
        "linsert" => list("linsert"),
        "lset" => list("lset"),
        "lrem" => list("lrem"),
        "ltrim" => list("ltrim"),
        "sadd" => set("sadd"),
        "srem" => set("srem"),
        "spop" => set("spop"),
        "sinterstore" => set("sinterstore"),
        "sunionstore" => set("sunionstore"),
        "sdiffstore" => set("sdiffstore"),
        _ => None,
    }
}

/// Kind predicates for [`read`], [`write`] and [`modify`].
pub mod kind {
    use larder_engine::Object;

    /// A hash.
    pub fn hash(o: &Object) -> bool {
        matches!(o, Object::Hash(_))
    }
    /// A list.
    pub fn list(o: &Object) -> bool {
        matches!(o, Object::List(_))
    }
    /// A set.
    pub fn set(o: &Object) -> bool {
        matches!(o, Object::Set(_))
    }
    /// A sorted set.
    pub fn zset(o: &Object) -> bool {
        matches!(o, Object::ZSet(_))
    }
}
