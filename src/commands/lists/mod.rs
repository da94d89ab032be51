//! List commands: pushes, pops and moves here (the parts the blocking commands reuse),
//! reads in [`read`] (LLEN, LRANGE, LINDEX, LPOS), in-place edits in [`edit`] (LSET, LINSERT,
//! LREM, LTRIM). The encodings and their conversions live in the engine's
//! [`larder_engine::types::list`]; every handler passes it the limits in force.
//!
//! For the blocking commands: [`pop_from`] and [`pop_first`] serve BLPOP/BRPOP/BLMPOP once a
//! key has elements, [`lmove_once`] serves BLMOVE/BRPOPLPUSH, [`parse_mpop`] parses BLMPOP's
//! arguments from its `numkeys` position, [`parse_end`] parses LEFT/RIGHT, and
//! [`reply_key_values`] writes the `[key, [elements]]` reply. Each write ends in
//! [`objects::finish_write`], the hook blocked-client wake-ups hang on.

mod blocking;
mod edit;
mod read;

use larder_engine::types::list::List;
use larder_engine::{notify, KeyRef, Object};
use larder_resp::{Args, Reply};

pub(crate) use larder_engine::types::list::End;

use super::objects::{self, kind};
use super::spec::{acl, cmd, flag, keys, CommandSpec, Group};
use super::{arity_error, eq_ic, int_arg, CmdError, CmdResult, Ctx};

const G: Group = Group::List;
const RO: u32 = flag::READONLY;
const RF: u32 = flag::READONLY | flag::FAST;
const W: u32 = flag::WRITE;
const WF: u32 = flag::WRITE | flag::FAST;
const WD: u32 = flag::WRITE | flag::DENYOOM;
const WDF: u32 = flag::WRITE | flag::DENYOOM | flag::FAST;
const A_RF: u64 = acl::READ | acl::LIST | acl::FAST;
const A_RS: u64 = acl::READ | acl::LIST | acl::SLOW;
const A_WF: u64 = acl::WRITE | acl::LIST | acl::FAST;
const A_WS: u64 = acl::WRITE | acl::LIST | acl::SLOW;
const WB: u32 = flag::WRITE | flag::BLOCKING;
const A_WB: u64 = acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING;
const PUSH_N: &str =
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";

/// The list family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    cmd("lpush", -3, WDF, A_WF, keys(1, 1, 1), G, "1.0.0", PUSH_N, "Prepends one or more elements to a list. Creates the key if it doesn't exist.", lpush),
    cmd("rpush", -3, WDF, A_WF, keys(1, 1, 1), G, "1.0.0", PUSH_N, "Appends one or more elements to a list. Creates the key if it doesn't exist.", rpush),
    cmd("lpushx", -3, WDF, A_WF, keys(1, 1, 1), G, "2.2.0", PUSH_N, "Prepends one or more elements to a list only when the list exists.", lpushx),
    cmd("rpushx", -3, WDF, A_WF, keys(1, 1, 1), G, "2.2.0", PUSH_N, "Appends an element to a list only when the list exists.", rpushx),
    cmd("lpop", -2, WF, A_WF, keys(1, 1, 1), G, "1.0.0", "O(N) where N is the number of elements returned", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", lpop),
    cmd("rpop", -2, WF, A_WF, keys(1, 1, 1), G, "1.0.0", "O(N) where N is the number of elements returned", "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", rpop),
    cmd("llen", 2, RF, A_RF, keys(1, 1, 1), G, "1.0.0", "O(1)", "Returns the length of a list.", read::llen),
    cmd("lrange", 4, RO, A_RS, keys(1, 1, 1), G, "1.0.0", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.", "Returns a range of elements from a list.", read::lrange),
    cmd("lindex", 3, RO, A_RS, keys(1, 1, 1), G, "1.0.0", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).", "Returns an element from a list by its index.", read::lindex),
    cmd("lpos", -3, RO, A_RS, keys(1, 1, 1), G, "6.0.6", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.", "Returns the index of matching elements in a list.", read::lpos),
    cmd("lset", 4, WD, A_WS, keys(1, 1, 1), G, "1.0.0", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", "Sets the value of an element in a list by its index.", edit::lset),
    cmd("linsert", 5, WD, A_WS, keys(1, 1, 1), G, "2.2.0", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).", "Inserts an element before or after another element in a list.", edit::linsert),
    cmd("lrem", 4, W, A_WS, keys(1, 1, 1), G, "1.0.0", "O(N+M) where N is the length of the list and M is the number of elements removed.", "Removes elements from a list. Deletes the list if the last element was removed.", edit::lrem),
    cmd("ltrim", 4, W, A_WS, keys(1, 1, 1), G, "1.0.0", "O(N) where N is the number of elements to be removed by the operation.", "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", edit::ltrim),
    cmd("lmove", 5, WD, A_WS, keys(1, 2, 1), G, "6.2.0", "O(1)", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", lmove),
    cmd("rpoplpush", 3, WD, A_WS, keys(1, 2, 1), G, "1.2.0", "O(1)", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", rpoplpush),
    // numkeys decides which arguments are keys: lock every argument after it (the others
    // cost nothing but a shard lock).
    cmd("lmpop", -4, W, A_WS, keys(2, -1, 1), G, "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", lmpop),
    cmd("blpop", -3, WB, A_WB, keys(1, -2, 1), G, "2.0.0", "O(N) where N is the number of provided keys.", "Removes and returns the first element of the first non-empty list, waiting for one when all are empty.", blocking::blpop),
    cmd("brpop", -3, WB, A_WB, keys(1, -2, 1), G, "2.0.0", "O(N) where N is the number of provided keys.", "Removes and returns the last element of the first non-empty list, waiting for one when all are empty.", blocking::brpop),
    cmd("blmove", 6, WB | flag::DENYOOM, A_WB, keys(1, 2, 1), G, "6.2.0", "O(1)", "Moves an element from one list to another and returns it, waiting for one when the source is empty.", blocking::blmove),
    cmd("brpoplpush", 4, WB | flag::DENYOOM, A_WB, keys(1, 2, 1), G, "2.2.0", "O(1)", "Moves the last element of a list to the head of another and returns it, waiting for one when the source is empty.", blocking::brpoplpush),
    // numkeys decides the keys: lock every argument after it, as LMPOP does.
    cmd("blmpop", -5, WB, A_WB, keys(3, -1, 1), G, "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned.", "Removes and returns elements from the first non-empty list, waiting for one when all are empty.", blocking::blmpop),
];

/// Elements popped from a list, in pop order.
pub(crate) type Elements = Vec<Vec<u8>>;

/// The list in a list-kind object.
fn as_list(o: &mut Object) -> Result<&mut List, CmdError> {
    match o {
        Object::List(l) => Ok(l),
        _ => Err(CmdError::WrongType),
    }
}

/// Runs `f` on the list at `k` with the reply encoder beside it, so elements are written
/// straight from the list without copies. The lookup is [`objects::read`] (hit/miss counted)
/// or, when `write`, [`objects::modify`]; WRONGTYPE for another kind. `f` gets `None` when the
/// key is absent. The caller runs the write epilogue afterwards.
fn with_list<R>(
    ctx: &mut Ctx<'_, '_>,
    k: &KeyRef<'_>,
    write: bool,
    f: impl FnOnce(Option<&mut List>, &mut Reply<'_>) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    let resp3 = ctx.sess.resp3;
    // Borrow the output apart from the keyspace for the duration (moving a Vec is free).
    let mut out = std::mem::take(&mut *ctx.out);
    let found = if write { objects::modify(ctx, k, kind::list) } else { objects::read(ctx, k, kind::list) };
    let r = match found.and_then(|o| o.map(as_list).transpose()) {
        Ok(list) => f(list, &mut Reply::new(&mut out, resp3)),
        Err(e) => Err(e),
    };
    *ctx.out = out;
    r
}

/// Parses LEFT or RIGHT (any case); a syntax error otherwise.
pub(crate) fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if eq_ic(arg, "left") {
        Ok(End::Left)
    } else if eq_ic(arg, "right") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

fn lpush(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    push(ctx, args, End::Left, false)
}

fn rpush(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    push(ctx, args, End::Right, false)
}

fn lpushx(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    push(ctx, args, End::Left, true)
}

fn rpushx(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    push(ctx, args, End::Right, true)
}

/// LPUSH/RPUSH (creating the list) and LPUSHX/RPUSHX (`only_existing`): the new length.
fn push(ctx: &mut Ctx<'_, '_>, args: Args<'_>, end: End, only_existing: bool) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let obj = if only_existing {
        match objects::modify(ctx, &k, kind::list)? {
            Some(o) => o,
            None => {
                ctx.reply().int(0);
                return Ok(());
            }
        }
    } else {
        objects::write(ctx, &k, kind::list, || Object::List(List::new()))?
    };
    let list = as_list(obj)?;
    list.extend(end, args.slice(2), &limits);
    let len = list.len();
    objects::finish_write(ctx, &k);
    ctx.reply().int(len as i64);
    Ok(())
}

fn lpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    pop(ctx, args, End::Left)
}

fn rpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    pop(ctx, args, End::Right)
}

/// LPOP/RPOP `key [count]`: without a count one bulk string (nil when absent); with one an
/// array (nil array when absent, empty for count 0).
fn pop(ctx: &mut Ctx<'_, '_>, args: Args<'_>, end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(arity_error(ctx.spec.name));
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => Some(
            int_arg(a)
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(CmdError::Static("ERR value is out of range, must be positive"))?,
        ),
    };
    let k = KeyRef::new(&args[1]);
    let limits = ctx.srv.hot.limits();
    let popped = with_list(ctx, &k, true, |list, r| {
        let Some(list) = list else {
            if count.is_some() {
                r.null_array();
            } else {
                r.null();
            }
            return Ok(false);
        };
        match count {
            None => {
                if list.pop_each(end, 1, &limits, |v| r.bulk(v)) == 0 {
                    r.null();
                }
            }
            Some(0) => {
                r.empty_array();
                return Ok(false);
            }
            Some(n) => {
                r.array(n.min(list.len()));
                list.pop_each(end, n, &limits, |v| r.bulk(v));
            }
        }
        Ok(true)
    })?;
    if popped {
        objects::finish_write(ctx, &k);
    }
    Ok(())
}

/// Pops up to `count` elements from `end` of the list at `key`, deleting the key when it
/// empties (with the write epilogue). `Ok(None)` when the key does not exist (or holds an empty
/// list); WRONGTYPE when it is not a list. The elements come in pop order.
pub(crate) fn pop_from(
    ctx: &mut Ctx<'_, '_>,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<Option<Elements>, CmdError> {
    let k = KeyRef::new(key);
    let limits = ctx.srv.hot.limits();
    let Some(obj) = objects::modify(ctx, &k, kind::list)? else { return Ok(None) };
    let list = as_list(obj)?;
    if list.is_empty() || count == 0 {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(count.min(list.len()));
    list.pop_each(end, count, &limits, |v| out.push(v.to_vec()));
    objects::finish_write_with(ctx, &k, Some(pop_event(end)));
    Ok(Some(out))
}

/// Pops from the first of `keys` holding a non-empty list, as LMPOP, BLPOP and BRPOP do:
/// (the key's index in `keys`, the elements). Keys are examined in order, so WRONGTYPE is
/// reported for the first existing non-list key met before a list with elements.
pub(crate) fn pop_first(
    ctx: &mut Ctx<'_, '_>,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<Option<(usize, Elements)>, CmdError> {
    for (i, key) in keys.iter().enumerate() {
        if let Some(vals) = pop_from(ctx, key, end, count)? {
            return Ok(Some((i, vals)));
        }
    }
    Ok(None)
}

/// Writes LMPOP's (and BLPOP-style) reply: `[key, [elements...]]`.
pub(crate) fn reply_key_values(r: &mut Reply<'_>, key: &[u8], vals: &[Vec<u8>]) {
    r.array(2);
    r.bulk(key);
    r.array(vals.len());
    for v in vals {
        r.bulk(v);
    }
}

/// One LMOVE: pops at `from` of `src` and pushes at `to` of `dst`, returning the element;
/// `Ok(None)` (nothing changes) when `src` does not exist. WRONGTYPE, before anything
/// moves, when either key holds something else. `src` is deleted when it empties; `dst` is
/// created when absent. Both writes run the write epilogue.
pub(crate) fn lmove_once(
    ctx: &mut Ctx<'_, '_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Vec<u8>>, CmdError> {
    let (sk, dk) = (KeyRef::new(src), KeyRef::new(dst));
    let limits = ctx.srv.hot.limits();
    let has_elements = match objects::modify(ctx, &sk, kind::list)? {
        Some(o) => !as_list(o)?.is_empty(),
        None => false,
    };
    if !has_elements {
        return Ok(None);
    }
    if src != dst {
        objects::modify(ctx, &dk, kind::list)?;
    }
    let popped = match objects::modify(ctx, &sk, kind::list)? {
        Some(o) => as_list(o)?.pop(from, &limits),
        None => None,
    };
    let Some(v) = popped else { return Ok(None) };
    let target = as_list(objects::write(ctx, &dk, kind::list, || Object::List(List::new()))?)?;
    target.push(to, &v, &limits);
    // As Redis: the push on the destination is announced first, then the pop.
    let push = if to == End::Left { "lpush" } else { "rpush" };
    objects::finish_write_with(ctx, &dk, Some((notify::LIST, push)));
    objects::finish_write_with(ctx, &sk, Some(pop_event(from)));
    Ok(Some(v))
}

/// The keyspace event of a pop at `end`.
fn pop_event(end: End) -> (u32, &'static str) {
    (notify::LIST, if end == End::Left { "lpop" } else { "rpop" })
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let from = parse_end(&args[3])?;
    let to = parse_end(&args[4])?;
    move_reply(ctx, args, from, to)
}

/// RPOPLPUSH source destination (LMOVE source destination RIGHT LEFT)
fn rpoplpush(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    move_reply(ctx, args, End::Right, End::Left)
}

fn move_reply(ctx: &mut Ctx<'_, '_>, args: Args<'_>, from: End, to: End) -> CmdResult {
    match lmove_once(ctx, &args[1], &args[2], from, to)? {
        Some(v) => ctx.reply().bulk(&v),
        None => ctx.reply().null(),
    }
    Ok(())
}

/// LMPOP's arguments (BLMPOP's from its `numkeys`).
pub(crate) struct Mpop<'a> {
    /// The keys, in order.
    pub keys: Vec<&'a [u8]>,
    /// Which end to pop from.
    pub end: End,
    /// How many elements at most (1 without COUNT).
    pub count: usize,
}

/// Parses `numkeys key [key ...] LEFT|RIGHT [COUNT count]` starting at `args[numkeys_idx]`
/// (1 for LMPOP, 2 for BLMPOP), with Redis's errors.
pub(crate) fn parse_mpop(args: Args<'_>, numkeys_idx: usize) -> Result<Mpop<'_>, CmdError> {
    let numkeys = args
        .get(numkeys_idx)
        .and_then(|a| int_arg(a).ok())
        .filter(|&n| n >= 1)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(CmdError::Static("ERR numkeys should be greater than 0"))?;
    let where_idx = numkeys.checked_add(numkeys_idx + 1).filter(|&i| i < args.len()).ok_or(CmdError::Syntax)?;
    let end = parse_end(&args[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = j + 1 < args.len();
        if count.is_none() && eq_ic(&args[j], "count") && more {
            j += 1;
            let n = int_arg(&args[j])
                .ok()
                .filter(|&n| n >= 1)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(CmdError::Static("ERR count should be greater than 0"))?;
            count = Some(n);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let keys = args.iter().skip(numkeys_idx + 1).take(numkeys).collect();
    Ok(Mpop { keys, end, count: count.unwrap_or(1) })
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let m = parse_mpop(args, 1)?;
    match pop_first(ctx, &m.keys, m.end, m.count)? {
        Some((i, vals)) => reply_key_values(&mut ctx.reply(), m.keys[i], &vals),
        None => ctx.reply().null_array(),
    }
    Ok(())
}
