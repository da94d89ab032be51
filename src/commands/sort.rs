//! SORT and SORT_RO: sort the elements of a list, set or sorted set numerically or
//! lexicographically, optionally by the values of other keys (`BY pattern`), return other keys'
//! values in their place (`GET pattern`), page the result (`LIMIT`) and store it as a list
//! (`STORE`, SORT only).
//!
//! Patterns name keys by substituting the element for the first `*`; `key*->field` reads a
//! hash field instead, `#` (GET only) is the element itself, and a BY pattern without `*`
//! (conventionally `nosort`) skips sorting. Because patterns reach arbitrary keys, both
//! commands hold the whole keyspace (`EXCLUSIVE`) and lock shards on demand.
//!
//! Differences from Redis: ALPHA compares bytes where Redis uses `strcoll` (the same in the C
//! locale), and the sort is stable where Redis's quicksort leaves equal elements (ALPHA ties
//! under BY) in an unspecified order. SORT BY nosort of a set run from a script is not yet
//! forced into ALPHA order (Larder has no scripts yet).

use std::cmp::Ordering;

use larder_engine::types::list::{End, List};
use larder_engine::{notify, KeyRef, Object, Value, ValueRef};
use larder_resp::Args;

use super::objects;
use super::spec::{acl, cmd, flag, keys, CommandSpec, Group};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";
const A: u64 = acl::SET | acl::SORTEDSET | acl::LIST | acl::SLOW | acl::DANGEROUS;

/// Redis's reply when a numeric sort meets a value that is not a number.
const NOT_DOUBLE: CmdError = CmdError::Static("ERR One or more scores can't be converted into double");

/// The SORT family's table entries.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        movable_key: Some(store_key),
        ..cmd("sort", -2, flag::WRITE | flag::DENYOOM | flag::EXCLUSIVE, acl::WRITE | A, keys(1, 1, 1), Group::Generic, "1.0.0", COMPLEXITY, "Sorts the elements of a list, set or sorted set, optionally storing the result as a list.", sort)
    },
    cmd("sort_ro", -2, flag::READONLY | flag::EXCLUSIVE, acl::READ | A, keys(1, 1, 1), Group::Generic, "7.0.0", COMPLEXITY, "Sorts the elements of a list, set or sorted set (the read-only variant of SORT).", sort_ro),
];

/// The position of SORT's destination key (the last `STORE`), found the way Redis's key
/// extraction does: skipping the arguments of LIMIT, GET and BY.
pub fn store_key(args: Args<'_>) -> Option<usize> {
    let mut found = None;
    let mut i = 2;
    while i < args.len() {
        let a = &args[i];
        if eq_ic(a, "limit") {
            i += 2;
        } else if eq_ic(a, "get") || eq_ic(a, "by") {
            i += 1;
        } else if eq_ic(a, "store") && i + 1 < args.len() {
            found = Some(i + 1);
        }
        i += 1;
    }
    found
}

/// The parsed options.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    /// LIMIT offset and count (count -1: no limit).
    offset: i64,
    count: i64,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// BY named a pattern without `*`: keep the native order.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

fn parse<'a>(args: Args<'a>, readonly: bool) -> Result<Options<'a>, CmdError> {
    // `get` keeps the arguments' own lifetime (indexing would borrow `args`).
    let at = |i: usize| args.get(i).unwrap_or_default();
    let mut o = Options {
        desc: false,
        alpha: false,
        offset: 0,
        count: -1,
        store: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < args.len() {
        let a = &args[j];
        let left = args.len() - j - 1;
        if eq_ic(a, "asc") {
            o.desc = false;
        } else if eq_ic(a, "desc") {
            o.desc = true;
        } else if eq_ic(a, "alpha") {
            o.alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            o.offset = int_arg(&args[j + 1])?;
            o.count = int_arg(&args[j + 2])?;
            j += 2;
        } else if eq_ic(a, "store") && left >= 1 && !readonly {
            o.store = Some(at(j + 1));
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            let p = at(j + 1);
            o.by = Some(p);
            o.dontsort = !p.contains(&b'*');
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            o.gets.push(at(j + 1));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]
fn sort(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    run(ctx, args, false)
}

/// SORT_RO: SORT without STORE.
fn sort_ro(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    run(ctx, args, true)
}

/// The kind of value being sorted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// One element with what it sorts by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// The BY value for ALPHA sorts by pattern (`None`: the key was missing, sorts first).
    by: Option<Vec<u8>>,
}

fn run(ctx: &mut Ctx<'_, '_>, args: Args<'_>, readonly: bool) -> CmdResult {
    let mut o = parse(args, readonly)?;
    let k = KeyRef::new(&args[1]);
    let in_script = ctx.sess.script;
    let found = objects::read(ctx, &k, |v| matches!(v, Object::List(_) | Object::Set(_) | Object::ZSet(_)))?;
    let (kind, len) = match found.as_deref() {
        Some(Object::List(l)) => (Kind::List, l.len()),
        Some(Object::Set(s)) => (Kind::Set, s.len()),
        Some(Object::ZSet(z)) => (Kind::ZSet, z.len()),
        _ => (Kind::List, 0),
    };
    // A set has no order of its own: a stored result, or one a script sees, must not depend
    // on its layout.
    if o.dontsort && kind == Kind::Set && (o.store.is_some() || in_script) {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    // LIMIT, clamped to the length as Redis does (so that nothing overflows).
    let n = len as i64;
    let mut start = o.offset.clamp(0, n);
    let count = o.count.clamp(-1, n);
    let mut end = if count < 0 { n - 1 } else { start + count - 1 };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    end = end.min(n - 1);

    // Lists and sorted sets left unsorted keep their own order: load only the range.
    let native = o.dontsort && kind != Kind::Set;
    let mut elems: Vec<Vec<u8>> = Vec::new();
    match found {
        _ if native && end < start => {}
        Some(Object::List(l)) if native => {
            let first = if o.desc { n - start - 1 } else { start };
            elems.extend(l.iter_at(first as usize, o.desc).take((end - start + 1) as usize).map(<[u8]>::to_vec));
        }
        Some(Object::ZSet(z)) if native => {
            let ranks =
                if o.desc { (n - 1 - end) as usize..(n - start) as usize } else { start as usize..(end + 1) as usize };
            elems.extend(z.range(ranks, o.desc).map(|(m, _)| m.to_vec()));
        }
        Some(Object::List(l)) => elems.extend(l.iter().map(<[u8]>::to_vec)),
        Some(Object::Set(s)) => elems.extend(s.iter().map(|m| m.to_vec())),
        Some(Object::ZSet(z)) => elems.extend(z.iter().map(|(m, _)| m.to_vec())),
        _ => {}
    }
    if native {
        end -= start;
        start = 0;
    }

    let mut items: Vec<Item> = elems.into_iter().map(|elem| Item { elem, score: 0.0, by: None }).collect();
    if !o.dontsort {
        let mut bad_number = false;
        for it in items.iter_mut() {
            let looked;
            let val: &[u8] = match o.by {
                Some(p) => match lookup(ctx, p, &it.elem) {
                    Some(v) => {
                        looked = v;
                        &looked
                    }
                    None => continue,
                },
                None => &it.elem,
            };
            if o.alpha {
                if o.by.is_some() {
                    it.by = Some(val.to_vec());
                }
            } else {
                match strtod(val) {
                    Some(s) => it.score = s,
                    None => bad_number = true,
                }
            }
        }
        if bad_number {
            return Err(NOT_DOUBLE);
        }
        let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
        items.sort_by(|a, b| {
            let c = compare(a, b, alpha, by);
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }

    let range = if end >= start { start as usize..(end + 1) as usize } else { 0..0 };
    let picked = items.get(range).unwrap_or(&[]);
    let per = o.gets.len().max(1);
    match o.store {
        None => {
            ctx.reply().array(picked.len() * per);
            for it in picked {
                if o.gets.is_empty() {
                    ctx.reply().bulk(&it.elem);
                }
                for p in &o.gets {
                    match lookup(ctx, p, &it.elem) {
                        Some(v) => ctx.reply().bulk(&v),
                        None => ctx.reply().null(),
                    }
                }
            }
        }
        Some(dst) => {
            let limits = ctx.srv.hot.limits();
            let mut list = List::new();
            for it in picked {
                if o.gets.is_empty() {
                    list.push(End::Right, &it.elem, &limits);
                }
                for p in &o.gets {
                    let v = lookup(ctx, p, &it.elem).unwrap_or_default();
                    list.push(End::Right, &v, &limits);
                }
            }
            let stored = list.len();
            let d = KeyRef::new(dst);
            let shard = ctx.shard(&d);
            if stored > 0 {
                shard.set(&d, Value::Obj(Box::new(Object::List(list))), None);
                ctx.notify(notify::LIST, "sortstore", dst);
            } else if shard.remove(&d).is_some() {
                ctx.notify(notify::GENERIC, "del", dst);
            }
            ctx.reply().int(stored as i64);
        }
    }
    Ok(())
}

/// Redis's order: numbers by score, equal scores by element bytes; ALPHA by the BY value
/// (missing ones first) or by the element bytes.
fn compare(a: &Item, b: &Item, alpha: bool, by: bool) -> Ordering {
    if !alpha {
        return a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.elem.cmp(&b.elem));
    }
    if by {
        return match (&a.by, &b.by) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
        };
    }
    a.elem.cmp(&b.elem)
}

/// The value a BY or GET pattern names for element `elem`: `#` is the element itself;
/// otherwise the first `*` is replaced by the element and the key's string value read, or with
/// `->field` after the `*`, that field of the hash at the key. `None` when the pattern has no
/// `*`, the key is missing or holds another type, or the field is missing.
fn lookup(ctx: &mut Ctx<'_, '_>, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let rest = &pattern[star + 1..];
    let (suffix, field) = match rest.windows(2).position(|w| w == b"->") {
        Some(i) if i + 2 < rest.len() => (&rest[..i], Some(&rest[i + 2..])),
        _ => (rest, None),
    };
    let mut key = Vec::with_capacity(star + elem.len() + suffix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(suffix);
    let k = KeyRef::new(&key);
    let (srv, now) = (ctx.srv, ctx.now);
    let e = ctx.get(&k);
    srv.stats.count_lookup(e.is_some());
    let e = e?;
    match (e.value(), field) {
        (ValueRef::Bytes(b), None) => Some(b.to_vec()),
        (ValueRef::Int(i), None) => Some(itoa::Buffer::new().format(i).as_bytes().to_vec()),
        (ValueRef::Obj(Object::Str(s)), None) => Some(s.clone()),
        (ValueRef::Obj(Object::Hash(h)), Some(f)) => match h.expire_time(f) {
            Some(Some(t)) if t <= now => None,
            _ => h.get(f).map(<[u8]>::to_vec),
        },
        _ => None,
    }
}

/// A sort score as Redis reads one with C's `strtod`: leading whitespace, decimal or
/// hexadecimal notation, `inf`/`infinity`; the text must be used up to its end (or to a NUL
/// byte, where C stops reading). NaN, values out of `f64`'s range and trailing text are errors;
/// an empty string reads as 0 (strtod converts nothing and stops at the terminator).
pub fn strtod(b: &[u8]) -> Option<f64> {
    let b = &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())];
    if b.is_empty() {
        return Some(0.0);
    }
    let t = &b[b.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?..];
    let (neg, u) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let hex = u.len() > 2 && u[0] == b'0' && (u[1] | 0x20) == b'x';
    let (v, mantissa) = if hex {
        let body = &u[2..];
        let h = hex_float(body)?;
        (if neg { -h } else { h }, body.split(|&c| c | 0x20 == b'p').next().unwrap_or(&[]))
    } else {
        // Rust's grammar is strtod's decimal and inf/nan grammar.
        let v = std::str::from_utf8(t).ok()?.parse::<f64>().ok()?;
        (v, u.split(|&c| c | 0x20 == b'e').next().unwrap_or(&[]))
    };
    let is_inf_literal = matches!(u.first(), Some(b'i' | b'I'));
    if v.is_nan() || (v.is_infinite() && !is_inf_literal) {
        return None;
    }
    // Underflow: strtod reports ERANGE for a non-zero value too small for a normal double.
    let nonzero = mantissa.iter().any(|&c| c.is_ascii_hexdigit() && c != b'0');
    if (v == 0.0 && nonzero) || (v != 0.0 && v.abs() < f64::MIN_POSITIVE) {
        return None;
    }
    Some(v)
}

/// The value of a hexadecimal float body (after `0x`): `h[.h]` with an optional binary
/// exponent `p[+-]d`, which must end the text.
fn hex_float(s: &[u8]) -> Option<f64> {
    let mut v = 0.0f64;
    let mut digits = 0;
    let mut scale = 0i64;
    let mut i = 0;
    let mut dot = false;
    while i < s.len() {
        let c = s[i];
        if c == b'.' && !dot {
            dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            v = v * 16.0 + d as f64;
            digits += 1;
            if dot {
                scale -= 4;
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() {
        if s[i] | 0x20 != b'p' {
            return None;
        }
        let e = std::str::from_utf8(&s[i + 1..]).ok()?;
        if e.is_empty() || e.starts_with("++") || e.starts_with("+-") {
            return None;
        }
        let e: i64 = e.parse().ok()?;
        scale = scale.saturating_add(e);
    }
    let scale = scale.clamp(-2200, 2200) as i32;
    Some(v * 2f64.powi(scale))
}

#[cfg(test)]
mod tests {
    use super::strtod;

    #[test]
    fn strtod_accepts_what_c_accepts() {
        assert_eq!(strtod(b"1.5"), Some(1.5));
        assert_eq!(strtod(b"  -2e3"), Some(-2000.0));
        assert_eq!(strtod(b""), Some(0.0));
        assert_eq!(strtod(b"0x10"), Some(16.0));
        assert_eq!(strtod(b"0x1p4"), Some(16.0));
        assert_eq!(strtod(b"-0x.8"), Some(-0.5));
        assert_eq!(strtod(b"inf"), Some(f64::INFINITY));
        assert_eq!(strtod(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod(b"7\0junk"), Some(7.0));
        assert_eq!(strtod(b".5"), Some(0.5));
        assert_eq!(strtod(b"5."), Some(5.0));
        assert_eq!(strtod(b"0"), Some(0.0));
        assert_eq!(strtod(b"0e10"), Some(0.0));
    }

    #[test]
    fn strtod_rejects_what_c_rejects() {
        for bad in [&b"abc"[..], b"1x", b"  ", b"1 ", b"nan", b"1e400", b"1e-400", b"0x", b"0x1p", b"1e", b"--1"] {
            assert_eq!(strtod(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
