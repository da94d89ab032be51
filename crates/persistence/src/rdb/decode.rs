//! RDB bytes to engine values: every type and encoding Redis 2.x to 7.4 writes for strings,
//! lists, sets, sorted sets and hashes (streams and module values are
//! [`RdbError::UnsupportedType`]).
//!
//! Values are rebuilt through the engine types' own methods with the [`Limits`] in force, so
//! they land in the encoding Larder would give them (a small hash restored from a
//! `HASH` table becomes listpack-encoded, a big list from one listpack becomes a quicklist).
//! Beyond the structural checks of each blob format, a value is refused (as Redis does) when
//! it is an empty collection, repeats a set member, hash field or sorted-set member, or has a
//! NaN score.

use larder_engine::types::hash::Hash;
use larder_engine::types::list::{End, List};
use larder_engine::types::set::{Member, Set};
use larder_engine::types::zset::ZSet;
use larder_engine::types::Limits;
use larder_engine::util::num::parse_i64;
use larder_engine::Object;

use super::len::{parse_double, read_len, read_string, read_text_double, Reader};
use super::{intset, listpack, types, ziplist, zipmap, Elem, IntBuf, RdbError, Result};

/// Quicklist node container: one element stored as is.
const CONTAINER_PLAIN: u64 = 1;
/// Quicklist node container: a listpack.
const CONTAINER_PACKED: u64 = 2;
/// Largest field expiry time Redis 7.4 accepts (48 bits of milliseconds).
const MAX_FIELD_EXPIRE: u64 = (1 << 48) - 1;

/// A value read from RDB data.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A string.
    Str(Vec<u8>),
    /// A collection.
    Obj(Object),
}

const fn corrupt(what: &'static str) -> RdbError {
    RdbError::Corrupt(what)
}

/// A count from the data as a size hint, never more than the bytes left could hold.
fn hint(n: u64, r: &Reader<'_>) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(r.remaining())
}

/// Reads an object type byte and the value that follows it.
pub fn read_value(r: &mut Reader<'_>, limits: &Limits) -> Result<Decoded> {
    let t = r.u8()?;
    read_typed(r, t, limits)
}

/// Reads a value of RDB type `t`.
pub fn read_typed(r: &mut Reader<'_>, t: u8, limits: &Limits) -> Result<Decoded> {
    let obj = match t {
        types::STRING => return Ok(Decoded::Str(read_string(r)?.into_owned())),
        types::LIST => {
            let n = read_len(r)?;
            let mut l = List::new();
            for _ in 0..n {
                l.push(End::Right, &read_string(r)?, limits);
            }
            Object::List(l)
        }
        types::LIST_ZIPLIST => {
            let blob = read_string(r)?;
            let mut l = List::new();
            push_elems(&mut l, &ziplist::parse(&blob)?, limits);
            Object::List(l)
        }
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => Object::List(read_quicklist(r, t, limits)?),
        types::SET => {
            let n = read_len(r)?;
            let mut set: Option<Set> = None;
            for _ in 0..n {
                let m = read_string(r)?;
                let s = set.get_or_insert_with(|| Set::for_members(&m, hint(n, r), limits));
                if !s.insert(&m, limits) {
                    return Err(corrupt("duplicate set member"));
                }
            }
            Object::Set(set.unwrap_or_default())
        }
        types::SET_INTSET => {
            let blob = read_string(r)?;
            let mut s = Set::new();
            for i in intset::parse(&blob)? {
                s.insert_member(Member::Int(i), limits);
            }
            Object::Set(s)
        }
        types::SET_LISTPACK => {
            let blob = read_string(r)?;
            let elems = listpack::parse(&blob)?;
            let mut buf = IntBuf::new();
            let first = elems.first().map(|e| e.bytes(&mut buf).to_vec()).unwrap_or_default();
            let mut s = Set::for_members(&first, elems.len(), limits);
            for e in elems {
                let m = match e {
                    Elem::Int(i) => Member::Int(i),
                    Elem::Bytes(b) => Member::Bytes(b),
                };
                if !s.insert_member(m, limits) {
                    return Err(corrupt("duplicate set member"));
                }
            }
            Object::Set(s)
        }
        types::ZSET | types::ZSET_2 => {
            let n = read_len(r)?;
            let mut pairs = Vec::with_capacity(hint(n, r));
            for _ in 0..n {
                let m = read_string(r)?.into_owned();
                let score = if t == types::ZSET_2 { f64::from_bits(r.u64_le()?) } else { read_text_double(r)? };
                pairs.push((m, score));
            }
            Object::ZSet(build_zset(pairs, limits)?)
        }
        types::ZSET_ZIPLIST | types::ZSET_LISTPACK => {
            let blob = read_string(r)?;
            let elems = if t == types::ZSET_LISTPACK { listpack::parse(&blob)? } else { ziplist::parse(&blob)? };
            if elems.len() % 2 != 0 {
                return Err(corrupt("sorted set blob with an odd number of elements"));
            }
            let mut pairs = Vec::with_capacity(elems.len() / 2);
            for pair in elems.chunks_exact(2) {
                let score = match pair[1] {
                    Elem::Int(i) => i as f64,
                    Elem::Bytes(b) => parse_double(b).ok_or(corrupt("bad score"))?,
                };
                pairs.push((pair[0].to_vec(), score));
            }
            Object::ZSet(build_zset(pairs, limits)?)
        }
        types::HASH => {
            let n = read_len(r)?;
            let mut h = Hash::new();
            for _ in 0..n {
                let f = read_string(r)?;
                let v = read_string(r)?;
                set_field(&mut h, &f, &v, limits)?;
            }
            Object::Hash(h)
        }
        types::HASH_ZIPMAP => {
            let blob = read_string(r)?;
            let mut h = Hash::new();
            for (f, v) in zipmap::parse(&blob)? {
                set_field(&mut h, f, v, limits)?;
            }
            Object::Hash(h)
        }
        types::HASH_ZIPLIST | types::HASH_LISTPACK => {
            let blob = read_string(r)?;
            let elems = if t == types::HASH_LISTPACK { listpack::parse(&blob)? } else { ziplist::parse(&blob)? };
            if elems.len() % 2 != 0 {
                return Err(corrupt("hash blob with an odd number of elements"));
            }
            let mut h = Hash::new();
            let (mut fb, mut vb) = (IntBuf::new(), IntBuf::new());
            for pair in elems.chunks_exact(2) {
                set_field(&mut h, pair[0].bytes(&mut fb), pair[1].bytes(&mut vb), limits)?;
            }
            Object::Hash(h)
        }
        types::HASH_METADATA | types::HASH_METADATA_PRE_GA => Object::Hash(read_hash_metadata(r, t, limits)?),
        types::HASH_LISTPACK_EX | types::HASH_LISTPACK_EX_PRE_GA => {
            if t == types::HASH_LISTPACK_EX {
                // The earliest field expiry, kept for Redis's own use; the fields carry theirs.
                r.u64_le()?;
            }
            let blob = read_string(r)?;
            let elems = listpack::parse(&blob)?;
            if elems.len() % 3 != 0 {
                return Err(corrupt("hash blob with fields, values and TTLs out of step"));
            }
            let mut h = Hash::new();
            let (mut fb, mut vb) = (IntBuf::new(), IntBuf::new());
            for triple in elems.chunks_exact(3) {
                let field = triple[0].bytes(&mut fb);
                set_field(&mut h, field, triple[1].bytes(&mut vb), limits)?;
                let ttl = match triple[2] {
                    Elem::Int(i) => u64::try_from(i).ok(),
                    Elem::Bytes(b) => parse_i64(b).and_then(|i| u64::try_from(i).ok()),
                };
                set_field_expiry(&mut h, field, ttl.ok_or(corrupt("bad hash field TTL"))?)?;
            }
            Object::Hash(h)
        }
        _ => return Err(RdbError::UnsupportedType(t)),
    };
    if obj.is_empty_collection() {
        return Err(RdbError::Empty);
    }
    Ok(Decoded::Obj(obj))
}

/// Reads a value whose type byte is one of Valkey 9's own (22 and up in a `VALKEY` file, where
/// they mean something else than in Redis 7.4's files).
pub fn read_valkey_typed(r: &mut Reader<'_>, t: u8, limits: &Limits) -> Result<Decoded> {
    if t != types::VALKEY_HASH_2 {
        return Err(RdbError::UnsupportedType(t));
    }
    // Field count, then per field: field, value, and its expiry as absolute unix milliseconds
    // (8 bytes, little-endian, signed; -1 when the field has none).
    let n = read_len(r)?;
    let mut h = Hash::new();
    for _ in 0..n {
        let f = read_string(r)?;
        let v = read_string(r)?;
        let at = r.u64_le()? as i64;
        if h.get(&f).is_some() {
            return Err(corrupt("duplicate hash field"));
        }
        set_field(&mut h, &f, &v, limits)?;
        match at {
            -1 => {}
            at if at < -1 => return Err(corrupt("bad hash field TTL")),
            // A time of 0 is the epoch: already past (0 means "none" to the setter below).
            at => set_field_expiry(&mut h, &f, (at as u64).max(1))?,
        }
    }
    if h.is_empty() {
        return Err(RdbError::Empty);
    }
    Ok(Decoded::Obj(Object::Hash(h)))
}

/// Appends packed elements to a list.
fn push_elems(l: &mut List, elems: &[Elem<'_>], limits: &Limits) {
    let mut buf = IntBuf::new();
    for e in elems {
        l.push(End::Right, e.bytes(&mut buf), limits);
    }
}

/// `LIST_QUICKLIST` (ziplist nodes) and `LIST_QUICKLIST_2` (container, then a listpack or a
/// plain element). Empty nodes are skipped, as Redis does.
fn read_quicklist(r: &mut Reader<'_>, t: u8, limits: &Limits) -> Result<List> {
    let n = read_len(r)?;
    let mut l = List::new();
    for _ in 0..n {
        let container = if t == types::LIST_QUICKLIST_2 { read_len(r)? } else { CONTAINER_PACKED };
        if container != CONTAINER_PACKED && container != CONTAINER_PLAIN {
            return Err(corrupt("bad quicklist node container"));
        }
        let data = read_string(r)?;
        if data.is_empty() {
            return Err(corrupt("empty quicklist node"));
        }
        if container == CONTAINER_PLAIN {
            l.push(End::Right, &data, limits);
        } else if t == types::LIST_QUICKLIST_2 {
            push_elems(&mut l, &listpack::parse(&data)?, limits);
        } else {
            push_elems(&mut l, &ziplist::parse(&data)?, limits);
        }
    }
    Ok(l)
}

/// Checks the pairs (no NaN score, no repeated member) and builds the sorted set.
fn build_zset(pairs: Vec<(Vec<u8>, f64)>, limits: &Limits) -> Result<ZSet> {
    if pairs.iter().any(|(_, s)| s.is_nan()) {
        return Err(corrupt("NaN score"));
    }
    let mut members: Vec<&[u8]> = pairs.iter().map(|(m, _)| m.as_slice()).collect();
    members.sort_unstable();
    if members.windows(2).any(|w| w[0] == w[1]) {
        return Err(corrupt("duplicate sorted set member"));
    }
    Ok(ZSet::from_pairs(pairs, limits))
}

/// Adds a field that must be new.
fn set_field(h: &mut Hash, f: &[u8], v: &[u8], limits: &Limits) -> Result<()> {
    if h.set(f, v, limits) {
        Ok(())
    } else {
        Err(corrupt("duplicate hash field"))
    }
}

/// Gives `field` the expiry `at` (unix ms; 0 means none).
fn set_field_expiry(h: &mut Hash, field: &[u8], at: u64) -> Result<()> {
    if at == 0 {
        return Ok(());
    }
    if at > MAX_FIELD_EXPIRE {
        return Err(corrupt("hash field expiry out of range"));
    }
    h.set_expire_time(field, at);
    Ok(())
}

/// `HASH_METADATA` (the earliest expiry, then per field a TTL relative to it plus one, or 0)
/// and its pre-release form (absolute TTLs, no earliest expiry).
fn read_hash_metadata(r: &mut Reader<'_>, t: u8, limits: &Limits) -> Result<Hash> {
    let min = if t == types::HASH_METADATA { Some(r.u64_le()?) } else { None };
    let n = read_len(r)?;
    let mut h = Hash::new();
    for _ in 0..n {
        let ttl = read_len(r)?;
        let at = match (ttl, min) {
            (0, _) => 0,
            (t, Some(min)) => (t - 1).checked_add(min).ok_or(corrupt("hash field expiry out of range"))?,
            (t, None) => t,
        };
        let f = read_string(r)?;
        let v = read_string(r)?;
        set_field(&mut h, &f, &v, limits)?;
        set_field_expiry(&mut h, &f, at)?;
    }
    Ok(h)
}
