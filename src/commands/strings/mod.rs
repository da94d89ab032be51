//! String commands: GET/SET and their variants. Counters are in [`counters`], substring and
//! append operations in [`ranges`].

mod counters;
mod ranges;

use larder_engine::notify;
use larder_engine::util::num::parse_i64;
use larder_engine::{Entry, KeyRef, Object, Value, ValueRef};
use larder_resp::{Args, Reply};

use super::spec::{acl, cmd, flag, keys, CommandSpec, Group};
use super::{eq_ic, CmdError, CmdResult, Ctx};

const W: u32 = flag::WRITE | flag::DENYOOM;
const RF: u32 = flag::READONLY | flag::FAST;
const WF: u32 = flag::WRITE | flag::DENYOOM | flag::FAST;
const A_R: u64 = acl::READ | acl::STRING | acl::FAST;
const A_W: u64 = acl::WRITE | acl::STRING | acl::FAST;
const A_WS: u64 = acl::WRITE | acl::STRING | acl::SLOW;
const S: Group = Group::String;

/// The string family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    cmd("get", 2, RF, A_R, keys(1, 1, 1), S, "1.0.0", "O(1)", "Returns the string value of a key.", get),
    cmd(
        "set",
        -3,
        W,
        A_WS,
        keys(1, 1, 1),
        S,
        "1.0.0",
        "O(1)",
        "Sets the string value of a key, with optional expiry and conditions; can return the old value.",
        set,
    ),
    cmd(
        "setnx",
        3,
        WF,
        A_W,
        keys(1, 1, 1),
        S,
        "1.0.0",
        "O(1)",
        "Sets a key's string value only when the key does not exist.",
        setnx,
    ),
    cmd(
        "setex",
        4,
        W,
        A_WS,
        keys(1, 1, 1),
        S,
        "2.0.0",
        "O(1)",
        "Sets a key's string value and its expiry in seconds.",
        setex,
    ),
    cmd(
        "psetex",
        4,
        W,
        A_WS,
        keys(1, 1, 1),
        S,
        "2.6.0",
        "O(1)",
        "Sets a key's string value and its expiry in milliseconds.",
        psetex,
    ),
    cmd(
        "getset",
        3,
        WF,
        A_W,
        keys(1, 1, 1),
        S,
        "1.0.0",
        "O(1)",
        "Sets a key's string value and returns the previous one.",
        getset,
    ),
    cmd(
        "getex",
        -2,
        flag::WRITE | flag::FAST,
        A_W,
        keys(1, 1, 1),
        S,
        "6.2.0",
        "O(1)",
        "Returns a key's string value after changing or removing its expiry.",
        getex,
    ),
    cmd(
        "getdel",
        2,
        flag::WRITE | flag::FAST,
        A_W,
        keys(1, 1, 1),
        S,
        "6.2.0",
        "O(1)",
        "Returns a key's string value and deletes the key.",
        getdel,
    ),
    cmd(
        "mget",
        -2,
        RF,
        A_R,
        keys(1, -1, 1),
        S,
        "1.0.0",
        "O(N) where N is the number of keys to retrieve.",
        "Returns the string values of several keys.",
        mget,
    ),
    cmd(
        "mset",
        -3,
        W,
        A_WS,
        keys(1, -1, 2),
        S,
        "1.0.1",
        "O(N) where N is the number of keys to set.",
        "Sets the string values of several keys.",
        mset,
    ),
    cmd(
        "msetnx",
        -3,
        W,
        A_WS,
        keys(1, -1, 2),
        S,
        "1.0.1",
        "O(N) where N is the number of keys to set.",
        "Sets several keys only when none of them exists.",
        msetnx,
    ),
    cmd("incr", 2, WF, A_W, keys(1, 1, 1), S, "1.0.0", "O(1)", "Adds one to a key's integer value.", counters::incr),
    cmd(
        "decr",
        2,
        WF,
        A_W,
        keys(1, 1, 1),
        S,
        "1.0.0",
        "O(1)",
        "Subtracts one from a key's integer value.",
        counters::decr,
    ),
    cmd(
        "incrby",
        3,
        WF,
        A_W,
        keys(1, 1, 1),
        S,
        "1.0.0",
        "O(1)",
        "Adds an integer to a key's integer value.",
        counters::incrby,
    ),
    cmd(
        "decrby",
        3,
        WF,
        A_W,
        keys(1, 1, 1),
        S,
        "1.0.0",
        "O(1)",
        "Subtracts an integer from a key's integer value.",
        counters::decrby,
    ),
    cmd(
        "incrbyfloat",
        3,
        WF,
        A_W,
        keys(1, 1, 1),
        S,
        "2.6.0",
        "O(1)",
        "Adds a floating-point number to a key's numeric value.",
        counters::incrbyfloat,
    ),
    cmd(
        "append",
        3,
        WF,
        A_W,
        keys(1, 1, 1),
        S,
        "2.0.0",
        "O(1) amortized.",
        "Appends a string to a key's value, creating the key if needed.",
        ranges::append,
    ),
    cmd(
        "strlen",
        2,
        RF,
        A_R,
        keys(1, 1, 1),
        S,
        "2.2.0",
        "O(1)",
        "Returns the length of a key's string value.",
        ranges::strlen,
    ),
    cmd(
        "getrange",
        4,
        flag::READONLY,
        acl::READ | acl::STRING | acl::SLOW,
        keys(1, 1, 1),
        S,
        "2.4.0",
        "O(N) where N is the length of the returned string.",
        "Returns a substring of a key's string value.",
        ranges::getrange,
    ),
    cmd(
        "substr",
        4,
        flag::READONLY,
        acl::READ | acl::STRING | acl::SLOW,
        keys(1, 1, 1),
        S,
        "1.0.0",
        "O(N) where N is the length of the returned string.",
        "Returns a substring of a key's string value (old name of GETRANGE).",
        ranges::getrange,
    ),
    cmd(
        "setrange",
        4,
        W,
        A_WS,
        keys(1, 1, 1),
        S,
        "2.2.0",
        "O(1), not counting the time to copy the new string in place.",
        "Overwrites part of a key's string value from an offset, padding with zero bytes.",
        ranges::setrange,
    ),
    cmd(
        "lcs",
        -3,
        flag::READONLY,
        acl::READ | acl::STRING | acl::SLOW,
        keys(1, 2, 1),
        S,
        "7.0.0",
        "O(N*M) where N and M are the lengths of s1 and s2.",
        "Finds the longest common subsequence of two string values.",
        ranges::lcs,
    ),
];

/// A string value read from an entry.
#[derive(Clone, Copy)]
pub enum Str<'a> {
    /// Bytes.
    Bytes(&'a [u8]),
    /// An integer-encoded value.
    Int(i64),
}

impl<'a> Str<'a> {
    /// Writes the value as a bulk string.
    pub fn reply(self, r: &mut Reply<'_>) {
        match self {
            Str::Bytes(b) => r.bulk(b),
            Str::Int(i) => r.bulk_int(i),
        }
    }

    /// An owned copy of the bytes.
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            Str::Bytes(b) => b.to_vec(),
            Str::Int(i) => i.to_string().into_bytes(),
        }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        match self {
            Str::Bytes(b) => b.len(),
            Str::Int(i) => itoa::Buffer::new().format(i).len(),
        }
    }

    /// The bytes, formatting an integer-encoded value into `buf` (no heap allocation).
    pub fn bytes<'b>(self, buf: &'b mut itoa::Buffer) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Str::Bytes(b) => b,
            Str::Int(i) => buf.format(i).as_bytes(),
        }
    }
}

/// The string in `e`, or WRONGTYPE.
#[inline]
pub fn as_str(e: &Entry) -> Result<Str<'_>, CmdError> {
    match e.value() {
        ValueRef::Bytes(b) => Ok(Str::Bytes(b)),
        ValueRef::Int(i) => Ok(Str::Int(i)),
        ValueRef::Obj(Object::Str(v)) => Ok(Str::Bytes(v)),
        #[allow(unreachable_patterns)]
        ValueRef::Obj(_) => Err(CmdError::WrongType),
    }
}

/// OBJECT ENCODING of a string entry, as Redis names it.
pub fn encoding(e: &Entry) -> &'static str {
    match e.value() {
        ValueRef::Int(_) => "int",
        ValueRef::Bytes(b) if b.len() <= 20 && parse_i64(b).is_some() => "int",
        ValueRef::Bytes(b) if b.len() <= 44 => "embstr",
        _ => "raw",
    }
}

/// Checks a new string length against proto-max-bulk-len.
pub fn check_size(ctx: &Ctx<'_, '_>, len: u64) -> CmdResult {
    let max = ctx.srv.hot.proto_max_bulk_len.load(std::sync::atomic::Ordering::Relaxed);
    if len > max {
        return Err(CmdError::Static("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
    }
    Ok(())
}

/// The configured proto-max-bulk-len: the largest string a command may build.
#[inline]
pub fn max_bulk_len(ctx: &Ctx<'_, '_>) -> u64 {
    ctx.srv.hot.proto_max_bulk_len.load(std::sync::atomic::Ordering::Relaxed)
}

/// Reserves room for `extra` more bytes the way Redis's `sdsMakeRoomFor` does: double the
/// needed length below 1 MiB, add 1 MiB above, so repeated appends are amortized O(1) without
/// doubling the memory of a big string.
pub fn reserve_greedy(v: &mut Vec<u8>, extra: usize) {
    const STEP: usize = 1 << 20;
    let need = v.len().saturating_add(extra);
    if need <= v.capacity() {
        return;
    }
    let target = if need < STEP { need * 2 } else { need.saturating_add(STEP) };
    v.reserve_exact(target - v.len());
}

/// Runs `f` on the string at `k` as a growable buffer (Redis's `raw` encoding), zero-padded
/// to at least `min_len` bytes: the helper behind APPEND, SETRANGE, SETBIT and BITFIELD.
///
/// An inline value is converted to [`Object::Str`] first, keeping its TTL; a missing key is
/// created (without a TTL) from a zeroed buffer once `f` has filled it. `f` receives the buffer
/// and whether it was created or grown (Redis's "dirty"), and returns its result with whether
/// it changed anything; the write is then counted once. WRONGTYPE when `k` is not a string.
pub fn with_raw<R>(
    ctx: &mut Ctx<'_, '_>,
    k: &KeyRef<'_>,
    min_len: usize,
    f: impl FnOnce(&mut Vec<u8>, bool) -> (R, bool),
) -> Result<R, CmdError> {
    let now = ctx.now;
    let shard = ctx.shard(k);
    let Some(e) = shard.get(k, now) else {
        let mut v = vec![0u8; min_len];
        let (r, _) = f(&mut v, true);
        shard.set(k, Value::Obj(Box::new(Object::Str(v))), None);
        return Ok(r);
    };
    if !matches!(e.value(), ValueRef::Obj(Object::Str(_))) {
        let v = as_str(e)?.to_vec();
        e.set_value(Value::Obj(Box::new(Object::Str(v))));
    }
    #[allow(unreachable_patterns)]
    let v = match e.object_mut() {
        Some(Object::Str(v)) => v,
        _ => return Err(CmdError::WrongType),
    };
    let grown = v.len() < min_len;
    if grown {
        reserve_greedy(v, min_len - v.len());
        v.resize(min_len, 0);
    }
    let (r, changed) = f(v, grown);
    if changed || grown {
        shard.touch_write(k);
    }
    Ok(r)
}

/// Reads a key for a GET-like command: counts the hit or miss, stamps the access time.
#[inline]
pub fn lookup_read<'c>(ctx: &'c mut Ctx<'_, '_>, k: &KeyRef<'_>) -> Option<&'c mut Entry> {
    let srv = ctx.srv;
    let e = ctx.get(k);
    srv.stats.count_lookup(e.is_some());
    match e {
        Some(e) => Some(e),
        None => None,
    }
}

fn get(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let resp3 = ctx.sess.resp3;
    // The reply goes to a separate borrow of `out`, so split the context by hand.
    let (db, now) = (ctx.sess.db, ctx.now);
    let e = ctx.keys.get(db, &k, now);
    ctx.srv.stats.count_lookup(e.is_some());
    let mut r = Reply::new(ctx.out, resp3);
    match e {
        None => r.null(),
        Some(e) => {
            as_str(e)?.reply(&mut r);
        }
    }
    Ok(())
}

/// When a SET-family command's key expires.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expiry {
    /// Remove any TTL.
    None,
    /// Keep the current TTL (KEEPTTL).
    Keep,
    /// Absolute unix ms.
    At(u64),
}

/// Turns a relative or absolute expiry argument into unix ms, with Redis's checks:
/// not an integer → NotInteger; ≤ 0 or overflowing → "invalid expire time in '<cmd>' command".
pub fn expiry_from(arg: &[u8], unit_ms: i64, absolute: bool, now: u64, cmd: &str) -> Result<u64, CmdError> {
    let v = super::int_arg(arg)?;
    let invalid = || CmdError::Msg(format!("ERR invalid expire time in '{cmd}' command"));
    if v <= 0 {
        return Err(invalid());
    }
    let ms = v.checked_mul(unit_ms).ok_or_else(invalid)?;
    let at = if absolute { ms } else { ms.checked_add(now as i64).ok_or_else(invalid)? };
    Ok(at as u64)
}

struct SetOpts {
    nx: bool,
    xx: bool,
    get: bool,
    expiry: Expiry,
}

fn parse_set_opts(args: Args<'_>, now: u64) -> Result<SetOpts, CmdError> {
    let mut o = SetOpts { nx: false, xx: false, get: false, expiry: Expiry::None };
    let mut has_exp = false;
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        let next = args.get(i + 1);
        if eq_ic(a, "nx") && !o.xx {
            o.nx = true;
        } else if eq_ic(a, "xx") && !o.nx {
            o.xx = true;
        } else if eq_ic(a, "get") {
            o.get = true;
        } else if eq_ic(a, "keepttl") && !has_exp {
            o.expiry = Expiry::Keep;
            has_exp = true;
        } else if (eq_ic(a, "ex") || eq_ic(a, "px") || eq_ic(a, "exat") || eq_ic(a, "pxat"))
            && !has_exp
            && next.is_some()
        {
            let unit = if eq_ic(a, "ex") || eq_ic(a, "exat") { 1000 } else { 1 };
            let abs = eq_ic(a, "exat") || eq_ic(a, "pxat");
            o.expiry = Expiry::At(expiry_from(next.unwrap_or_default(), unit, abs, now, "set")?);
            has_exp = true;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// Stores `value` under `k` with `expiry`, replacing whatever was there.
pub fn store(ctx: &mut Ctx<'_, '_>, k: &KeyRef<'_>, value: &[u8], expiry: Expiry) {
    let now = ctx.now;
    let exp = match expiry {
        Expiry::None => None,
        Expiry::At(t) => Some(t),
        Expiry::Keep => ctx.get(k).and_then(|e| e.expire_ms()),
    };
    let shard = ctx.shard(k);
    if exp.is_some_and(|t| t <= now) {
        // An absolute time already in the past: the key is gone at once, as in Redis.
        shard.remove(k);
        ctx.notify(notify::GENERIC, "del", k.key);
        return;
    }
    shard.set(k, Value::Bytes(value), exp);
    ctx.notify(notify::STRING, "set", k.key);
    if exp.is_some() && expiry != Expiry::Keep {
        ctx.notify(notify::GENERIC, "expire", k.key);
    }
}

fn set(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let opts = if args.len() == 3 {
        SetOpts { nx: false, xx: false, get: false, expiry: Expiry::None }
    } else {
        parse_set_opts(args, ctx.now)?
    };
    let old: Option<Option<Vec<u8>>> = if opts.get || opts.nx || opts.xx {
        match ctx.get(&k) {
            None => Some(None),
            Some(e) if opts.get => Some(Some(as_str(e)?.to_vec())),
            Some(_) => Some(Some(Vec::new())),
        }
    } else {
        None
    };
    let exists = matches!(old, Some(Some(_)));
    let skip = (opts.nx && exists) || (opts.xx && !exists);
    if !skip {
        store(ctx, &k, &args[2], opts.expiry);
    }
    let mut r = ctx.reply();
    if opts.get {
        match old.flatten() {
            Some(v) => r.bulk(&v),
            None => r.null(),
        }
    } else if skip {
        r.null();
    } else {
        r.ok();
    }
    Ok(())
}

fn setnx(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let created = ctx.get(&k).is_none();
    if created {
        store(ctx, &k, &args[2], Expiry::None);
    }
    ctx.reply().int(created as i64);
    Ok(())
}

fn setex_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, unit: i64, name: &str) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let at = expiry_from(&args[2], unit, false, ctx.now, name)?;
    store(ctx, &k, &args[3], Expiry::At(at));
    ctx.reply().ok();
    Ok(())
}

fn setex(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setex_generic(ctx, args, 1000, "setex")
}

fn psetex(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    setex_generic(ctx, args, 1, "psetex")
}

fn getset(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let old = match ctx.get(&k) {
        Some(e) => Some(as_str(e)?.to_vec()),
        None => None,
    };
    store(ctx, &k, &args[2], Expiry::None);
    match old {
        Some(v) => ctx.reply().bulk(&v),
        None => ctx.reply().null(),
    }
    Ok(())
}

fn getex(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let now = ctx.now;
    // None: leave the TTL; Some(None): PERSIST; Some(Some(t)): expire at t.
    let mut change: Option<Option<u64>> = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if change.is_none() && eq_ic(a, "persist") {
            change = Some(None);
        } else if change.is_none()
            && (eq_ic(a, "ex") || eq_ic(a, "px") || eq_ic(a, "exat") || eq_ic(a, "pxat"))
            && i + 1 < args.len()
        {
            let unit = if eq_ic(a, "ex") || eq_ic(a, "exat") { 1000 } else { 1 };
            let abs = eq_ic(a, "exat") || eq_ic(a, "pxat");
            change = Some(Some(expiry_from(&args[i + 1], unit, abs, now, "getex")?));
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let Some(e) = lookup_read(ctx, &k) else {
        ctx.reply().null();
        return Ok(());
    };
    let v = as_str(e)?.to_vec();
    match change {
        None => {}
        Some(Some(t)) if t <= now => {
            ctx.shard(&k).remove(&k);
            ctx.notify(notify::GENERIC, "del", k.key);
        }
        Some(t) => {
            let had = e.has_expire();
            if t.is_some() || had {
                ctx.shard(&k).set_expire(&k, t);
                ctx.notify(notify::GENERIC, if t.is_some() { "expire" } else { "persist" }, k.key);
            }
        }
    }
    ctx.reply().bulk(&v);
    Ok(())
}

fn getdel(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let Some(e) = lookup_read(ctx, &k) else {
        ctx.reply().null();
        return Ok(());
    };
    let v = as_str(e)?.to_vec();
    ctx.shard(&k).remove(&k);
    ctx.notify(notify::GENERIC, "del", k.key);
    ctx.reply().bulk(&v);
    Ok(())
}

fn mget(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let n = args.len() - 1;
    ctx.reply().array(n);
    for key in args.iter().skip(1) {
        let k = KeyRef::new(key);
        let resp3 = ctx.sess.resp3;
        let (db, now) = (ctx.sess.db, ctx.now);
        let e = ctx.keys.get(db, &k, now);
        ctx.srv.stats.count_lookup(e.is_some());
        let mut r = Reply::new(ctx.out, resp3);
        match e.map(|e| as_str(e)) {
            Some(Ok(s)) => s.reply(&mut r),
            _ => r.null(),
        }
    }
    Ok(())
}

fn mset(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(super::arity_error(ctx.spec.name));
    }
    for i in (1..args.len()).step_by(2) {
        let k = KeyRef::new(&args[i]);
        store(ctx, &k, &args[i + 1], Expiry::None);
    }
    ctx.reply().ok();
    Ok(())
}

fn msetnx(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(super::arity_error(ctx.spec.name));
    }
    for i in (1..args.len()).step_by(2) {
        if ctx.get(&KeyRef::new(&args[i])).is_some() {
            ctx.reply().int(0);
            return Ok(());
        }
    }
    for i in (1..args.len()).step_by(2) {
        let k = KeyRef::new(&args[i]);
        store(ctx, &k, &args[i + 1], Expiry::None);
    }
    ctx.reply().int(1);
    Ok(())
}
