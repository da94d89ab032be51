//! Set commands. Membership and the basic reads and writes are here; SPOP and SRANDMEMBER in
//! [`random`]; SINTER, SUNION, SDIFF and their CARD/STORE forms in [`algebra`]. The encodings
//! (intset, listpack, hashtable) and their conversions live in `larder_engine::types::set`.

mod algebra;
mod random;

use larder_engine::types::set::{Member, Set};
use larder_engine::util::glob::glob_match;
use larder_engine::{notify, KeyRef, Locked, Object, ValueRef};
use larder_resp::{Args, Reply};

use super::objects::{self, kind};
use super::spec::{acl, cmd, flag, keys, CommandSpec, Group};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

const S: Group = Group::Set;
const R: u32 = flag::READONLY;
const RF: u32 = flag::READONLY | flag::FAST;
const WF: u32 = flag::WRITE | flag::FAST;
const W: u32 = flag::WRITE | flag::DENYOOM;
const A_R: u64 = acl::READ | acl::SET | acl::SLOW;
const A_RF: u64 = acl::READ | acl::SET | acl::FAST;
const A_W: u64 = acl::WRITE | acl::SET | acl::SLOW;
const A_WF: u64 = acl::WRITE | acl::SET | acl::FAST;
const SCAN_COMPLEXITY: &str = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.";
const INTER_COMPLEXITY: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const UNION_COMPLEXITY: &str = "O(N) where N is the total number of elements in all given sets.";

/// The set family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    cmd("sadd", -3, flag::WRITE | flag::DENYOOM | flag::FAST, A_WF, keys(1, 1, 1), S, "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", "Adds one or more members to a set. Creates the key if it doesn't exist.", sadd),
    cmd("srem", -3, WF, A_WF, keys(1, 1, 1), S, "1.0.0", "O(N) where N is the number of members to be removed.", "Removes one or more members from a set. Deletes the set if the last member was removed.", srem),
    cmd("smembers", 2, R, A_R, keys(1, 1, 1), S, "1.0.0", "O(N) where N is the set cardinality.", "Returns all members of a set.", smembers),
    cmd("sismember", 3, RF, A_RF, keys(1, 1, 1), S, "1.0.0", "O(1)", "Determines whether a member belongs to a set.", sismember),
    cmd("smismember", -3, RF, A_RF, keys(1, 1, 1), S, "6.2.0", "O(N) where N is the number of elements being checked for membership", "Determines whether multiple members belong to a set.", smismember),
    cmd("scard", 2, RF, A_RF, keys(1, 1, 1), S, "1.0.0", "O(1)", "Returns the number of members in a set.", scard),
    cmd("spop", -2, WF, A_WF, keys(1, 1, 1), S, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", random::spop),
    cmd("srandmember", -2, R, A_R, keys(1, 1, 1), S, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", "Get one or multiple random members from a set", random::srandmember),
    cmd("smove", 4, WF, A_WF, keys(1, 2, 1), S, "1.0.0", "O(1)", "Moves a member from one set to another.", smove),
    cmd("sinter", -2, R, A_R, keys(1, -1, 1), S, "1.0.0", INTER_COMPLEXITY, "Returns the intersect of multiple sets.", algebra::sinter),
    // The keys follow numkeys; every argument after it is locked (a LIMIT and its value too,
    // which is harmless).
    cmd("sintercard", -3, R, A_R, keys(2, -1, 1), S, "7.0.0", INTER_COMPLEXITY, "Returns the number of members of the intersect of multiple sets.", algebra::sintercard),
    cmd("sinterstore", -3, W, A_W, keys(1, -1, 1), S, "1.0.0", INTER_COMPLEXITY, "Stores the intersect of multiple sets in a key.", algebra::sinterstore),
    cmd("sunion", -2, R, A_R, keys(1, -1, 1), S, "1.0.0", UNION_COMPLEXITY, "Returns the union of multiple sets.", algebra::sunion),
    cmd("sunionstore", -3, W, A_W, keys(1, -1, 1), S, "1.0.0", UNION_COMPLEXITY, "Stores the union of multiple sets in a key.", algebra::sunionstore),
    cmd("sdiff", -2, R, A_R, keys(1, -1, 1), S, "1.0.0", UNION_COMPLEXITY, "Returns the difference of multiple sets.", algebra::sdiff),
    cmd("sdiffstore", -3, W, A_W, keys(1, -1, 1), S, "1.0.0", UNION_COMPLEXITY, "Stores the difference of multiple sets in a key.", algebra::sdiffstore),
    cmd("sscan", -3, R, A_R, keys(1, 1, 1), S, "2.8.0", SCAN_COMPLEXITY, "Iterates over members of a set.", sscan),
];

/// The set in an object the typed accessors returned (they already checked its kind).
fn as_set(o: &mut Object) -> Option<&mut Set> {
    match o {
        Object::Set(s) => Some(s),
        _ => None,
    }
}

/// The set at `k` for reading (hit/miss counted, access time stamped); WRONGTYPE otherwise.
fn read_set<'c>(ctx: &'c mut Ctx<'_, '_>, k: &KeyRef<'_>) -> Result<Option<&'c mut Set>, CmdError> {
    Ok(objects::read(ctx, k, kind::set)?.and_then(as_set))
}

/// The set at `k` for an in-place write that never creates it.
fn modify_set<'c>(ctx: &'c mut Ctx<'_, '_>, k: &KeyRef<'_>) -> Result<Option<&'c mut Set>, CmdError> {
    Ok(objects::modify(ctx, k, kind::set)?.and_then(as_set))
}

/// A shared borrow of the set at `k`, once [`read_set`] has checked it: several sets can be
/// borrowed at once, and the reply written while they are.
fn peek_set<'a>(keys: &'a Locked<'_>, db: usize, k: &KeyRef<'_>, now: u64) -> Option<&'a Set> {
    match keys.peek(db, k, now)?.value() {
        ValueRef::Obj(Object::Set(s)) => Some(s),
        _ => None,
    }
}

/// Writes one member as a bulk string.
#[inline]
fn reply_member(r: &mut Reply<'_>, m: Member<'_>) {
    match m {
        Member::Int(i) => r.bulk_int(i),
        Member::Bytes(b) => r.bulk(b),
    }
}

fn sadd(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    // Redis sizes a new set, or converts an existing one, from the argument count.
    let hint = args.len() - 2;
    let mut created = false;
    let o = objects::write(ctx, &k, kind::set, || {
        created = true;
        Object::Set(Set::for_members(&args[2], hint, &limits))
    })?;
    let set = as_set(o).ok_or(CmdError::WrongType)?;
    if !created {
        set.prepare_for(hint, &limits);
    }
    let added = args.iter().skip(2).filter(|m| set.insert(m, &limits)).count();
    if added > 0 {
        objects::finish_write(ctx, &k);
    }
    ctx.reply().int(added as i64);
    Ok(())
}

fn srem(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let Some(set) = modify_set(ctx, &k)? else {
        ctx.reply().int(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in args.iter().skip(2) {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    if removed > 0 {
        objects::finish_write(ctx, &k);
    }
    ctx.reply().int(removed);
    Ok(())
}

fn smembers(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    if read_set(ctx, &k)?.is_none() {
        ctx.reply().set(0);
        return Ok(());
    }
    let (db, now, resp3) = (ctx.sess.db, ctx.now, ctx.sess.resp3);
    let mut r = Reply::new(ctx.out, resp3);
    match peek_set(ctx.keys, db, &k, now) {
        Some(s) => {
            r.set(s.len());
            s.iter().for_each(|m| reply_member(&mut r, m));
        }
        None => r.set(0),
    }
    Ok(())
}

fn sismember(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let found = read_set(ctx, &k)?.is_some_and(|s| s.contains(&args[2]));
    ctx.reply().int(found as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let exists = read_set(ctx, &k)?.is_some();
    let (db, now, resp3) = (ctx.sess.db, ctx.now, ctx.sess.resp3);
    let set = if exists { peek_set(ctx.keys, db, &k, now) } else { None };
    let mut r = Reply::new(ctx.out, resp3);
    r.array(args.len() - 2);
    for m in args.iter().skip(2) {
        r.int(set.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

fn scard(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let n = read_set(ctx, &k)?.map_or(0, |s| s.len());
    ctx.reply().int(n as i64);
    Ok(())
}

fn smove(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (src, dst, member) = (KeyRef::new(&args[1]), KeyRef::new(&args[2]), &args[3]);
    // As Redis: a missing source answers 0 before the destination's type is looked at.
    if modify_set(ctx, &src)?.is_none() {
        ctx.reply().int(0);
        return Ok(());
    }
    objects::modify(ctx, &dst, kind::set)?;
    if src.key == dst.key {
        let found = modify_set(ctx, &src)?.is_some_and(|s| s.contains(member));
        ctx.reply().int(found as i64);
        return Ok(());
    }
    if !modify_set(ctx, &src)?.is_some_and(|s| s.remove(member)) {
        ctx.reply().int(0);
        return Ok(());
    }
    objects::finish_write_with(ctx, &src, Some((notify::SET, "srem")));
    // A destination that already has the member is not modified (WATCH on it stays clean):
    // `objects::write` would count a write before the insert is known to change anything.
    if modify_set(ctx, &dst)?.is_some_and(|s| s.contains(member)) {
        ctx.reply().int(1);
        return Ok(());
    }
    let limits = ctx.srv.hot.limits();
    let o = objects::write(ctx, &dst, kind::set, || Object::Set(Set::for_members(member, 1, &limits)))?;
    if as_set(o).is_some_and(|s| s.insert(member, &limits)) {
        objects::finish_write_with(ctx, &dst, Some((notify::SET, "sadd")));
    }
    ctx.reply().int(1);
    Ok(())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]. As in Redis 7.2, the cursor is checked
/// first, then the key, and the options only for an existing set.
fn sscan(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let cursor = super::scan::parse_cursor(&args[2]).ok_or(CmdError::Static("ERR invalid cursor"))?;
    let k = KeyRef::new(&args[1]);
    if read_set(ctx, &k)?.is_none() {
        let mut r = ctx.reply();
        r.array(2);
        r.bulk(b"0");
        r.array(0);
        return Ok(());
    }
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < args.len() {
        let Some(value) = args.get(i + 1) else { return Err(CmdError::Syntax) };
        if eq_ic(&args[i], "count") {
            let n = int_arg(value)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if eq_ic(&args[i], "match") {
            // Exactly "*" matches everything, the empty member included.
            pattern = (value != b"*").then_some(value);
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let (db, now) = (ctx.sess.db, ctx.now);
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut next = 0;
    if let Some(s) = peek_set(ctx.keys, db, &k, now) {
        let mut buf = itoa::Buffer::new();
        next = s.scan(cursor, count, |m| {
            let b = m.bytes(&mut buf);
            if pattern.is_none_or(|p| glob_match(p, b, false)) {
                found.push(b.to_vec());
            }
        });
    }
    let mut r = ctx.reply();
    r.array(2);
    r.bulk(itoa::Buffer::new().format(next).as_bytes());
    r.array(found.len());
    for m in &found {
        r.bulk(m);
    }
    Ok(())
}
