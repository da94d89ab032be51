//! Engine values to RDB bytes: the object type byte followed by the value, as Redis's
//! `rdbSaveObjectType` and `rdbSaveObject` lay them out. Every encoding below is one Redis 7.0
//! loads except `SET_LISTPACK` (RDB 11, written only when [`Options::set_listpack`] is on) and
//! `HASH_METADATA` (RDB 12):
//!
//! | value                            | RDB type                         |
//! |----------------------------------|----------------------------------|
//! | string                           | `STRING` (int, LZF or raw)       |
//! | list                             | `LIST_QUICKLIST_2`, listpack nodes of up to 8 KiB (an element of 1 GiB or more in a plain node) |
//! | set, intset-encoded              | `SET_INTSET`                     |
//! | set, listpack-encoded            | `SET_LISTPACK` with `set_listpack`, else `SET` |
//! | set, otherwise                   | `SET`                            |
//! | sorted set, listpack-encoded     | `ZSET_LISTPACK`                  |
//! | sorted set, otherwise            | `ZSET_2`, highest score first as Redis writes it |
//! | hash, listpack-encoded           | `HASH_LISTPACK`                  |
//! | hash with field TTLs             | `HASH_METADATA` (Redis 7.4+ only)|
//! | hash, otherwise                  | `HASH`                           |
//!
//! A compact encoding whose blob would exceed Redis's 1 GiB listpack limit is written in the
//! plain form instead.

use larder_engine::types::hash::Hash;
use larder_engine::types::list::List;
use larder_engine::types::set::{Member, Set};
use larder_engine::types::zset::ZSet;
use larder_engine::{Object, ValueRef};

use super::len::{write_int_string, write_len, write_string};
use super::listpack::{self, Writer};
use super::{intset, types, IntBuf};

/// Target size of a list node's listpack (Redis's default `list-max-listpack-size -2`).
const NODE_BYTES: usize = 8192;
/// Elements this large go in a plain quicklist node (Redis's `packed_threshold`).
const PLAIN_THRESHOLD: usize = 1 << 30;
/// Quicklist node container: one element stored as is.
const CONTAINER_PLAIN: u64 = 1;
/// Quicklist node container: a listpack.
const CONTAINER_PACKED: u64 = 2;

/// How to write values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// LZF-compress strings and blobs longer than 20 bytes when that saves space
    /// (`rdbcompression`).
    pub compress: bool,
    /// Write listpack-encoded sets as `SET_LISTPACK` (RDB version 11 and later) instead of
    /// the plain `SET` form version 10 readers need.
    pub set_listpack: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { compress: true, set_listpack: true }
    }
}

/// Appends the RDB type byte and encoding of `value`.
pub fn write_value(out: &mut Vec<u8>, value: ValueRef<'_>, opts: &Options) {
    match value {
        ValueRef::Bytes(b) => {
            out.push(types::STRING);
            write_string(out, b, opts.compress);
        }
        ValueRef::Int(i) => {
            out.push(types::STRING);
            write_int_string(out, i);
        }
        ValueRef::Obj(o) => write_object(out, o, opts),
    }
}

/// Appends the RDB type byte and encoding of a heap object.
pub fn write_object(out: &mut Vec<u8>, o: &Object, opts: &Options) {
    match o {
        Object::Str(v) => {
            out.push(types::STRING);
            write_string(out, v, opts.compress);
        }
        Object::List(l) => write_list(out, l, opts),
        Object::Set(s) => write_set(out, s, opts),
        Object::ZSet(z) => write_zset(out, z, opts),
        Object::Hash(h) => write_hash(out, h, opts),
    }
}

fn write_list(out: &mut Vec<u8>, l: &List, opts: &Options) {
    out.push(types::LIST_QUICKLIST_2);
    let mut nodes: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut w = Writer::new();
    for v in l.iter() {
        if v.len() >= PLAIN_THRESHOLD {
            if !w.is_empty() {
                nodes.push((CONTAINER_PACKED, std::mem::take(&mut w).finish()));
            }
            nodes.push((CONTAINER_PLAIN, v.to_vec()));
            continue;
        }
        if !w.is_empty() && w.byte_len() + Writer::entry_size(v) > NODE_BYTES {
            nodes.push((CONTAINER_PACKED, std::mem::take(&mut w).finish()));
        }
        w.push(v);
    }
    if !w.is_empty() {
        nodes.push((CONTAINER_PACKED, w.finish()));
    }
    write_len(out, nodes.len() as u64);
    for (container, data) in &nodes {
        write_len(out, *container);
        write_string(out, data, opts.compress);
    }
}

fn write_set(out: &mut Vec<u8>, s: &Set, opts: &Options) {
    if s.encoding() == "intset" {
        let mut ints: Vec<i64> = s
            .iter()
            .filter_map(|m| match m {
                Member::Int(i) => Some(i),
                Member::Bytes(_) => None,
            })
            .collect();
        if ints.len() == s.len() {
            ints.sort_unstable();
            out.push(types::SET_INTSET);
            write_string(out, &intset::encode(&ints), opts.compress);
            return;
        }
    }
    if opts.set_listpack && s.encoding() == "listpack" {
        let mut w = Writer::new();
        for m in s.iter() {
            match m {
                Member::Int(i) => w.push_int(i),
                Member::Bytes(b) => w.push(b),
            }
        }
        if w.byte_len() <= listpack::MAX_SAFE_BYTES {
            out.push(types::SET_LISTPACK);
            write_string(out, &w.finish(), opts.compress);
            return;
        }
    }
    out.push(types::SET);
    write_len(out, s.len() as u64);
    let mut buf = IntBuf::new();
    for m in s.iter() {
        match m {
            Member::Int(i) => write_string(out, buf.format(i), opts.compress),
            Member::Bytes(b) => write_string(out, b, opts.compress),
        }
    }
}

/// Appends a score as Redis stores it in a sorted-set listpack: an integer when the double is
/// one of magnitude below 2^52, else its text (shortest form that reads back exactly).
fn push_score(w: &mut Writer, score: f64) {
    const LIMIT: f64 = 4_503_599_627_370_496.0; // 2^52
    if score.is_infinite() {
        w.push(if score > 0.0 { b"inf" } else { b"-inf" });
    } else if score == score.trunc() && score.abs() < LIMIT && !(score == 0.0 && score.is_sign_negative()) {
        w.push_int(score as i64);
    } else {
        let a = score.abs();
        let text = if (1e-4..1e16).contains(&a) { format!("{score}") } else { format!("{score:e}") };
        w.push(text.as_bytes());
    }
}

fn write_zset(out: &mut Vec<u8>, z: &ZSet, opts: &Options) {
    if z.encoding() == "listpack" {
        let mut w = Writer::new();
        for (m, s) in z.iter() {
            w.push(m);
            push_score(&mut w, s);
        }
        if w.byte_len() <= listpack::MAX_SAFE_BYTES {
            out.push(types::ZSET_LISTPACK);
            write_string(out, &w.finish(), opts.compress);
            return;
        }
    }
    out.push(types::ZSET_2);
    write_len(out, z.len() as u64);
    for (m, s) in z.range(0..z.len(), true) {
        write_string(out, m, opts.compress);
        out.extend_from_slice(&s.to_le_bytes());
    }
}

fn write_hash(out: &mut Vec<u8>, h: &Hash, opts: &Options) {
    let min_expire = h.next_expiry();
    if h.encoding() == "listpack" && min_expire.is_none() {
        let mut w = Writer::new();
        for (f, v) in h.iter() {
            w.push(f);
            w.push(v);
        }
        if w.byte_len() <= listpack::MAX_SAFE_BYTES {
            out.push(types::HASH_LISTPACK);
            write_string(out, &w.finish(), opts.compress);
            return;
        }
    }
    match min_expire {
        Some(min) => {
            out.push(types::HASH_METADATA);
            out.extend_from_slice(&min.to_le_bytes());
            write_len(out, h.len() as u64);
            for (f, v) in h.iter() {
                // 0: no TTL; otherwise the expiry relative to the earliest one, plus one.
                let ttl = match h.expire_time(f) {
                    Some(Some(t)) => t.saturating_sub(min).saturating_add(1),
                    _ => 0,
                };
                write_len(out, ttl);
                write_string(out, f, opts.compress);
                write_string(out, v, opts.compress);
            }
        }
        None => {
            out.push(types::HASH);
            write_len(out, h.len() as u64);
            for (f, v) in h.iter() {
                write_string(out, f, opts.compress);
                write_string(out, v, opts.compress);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdb::decode::{read_value, Decoded};
    use crate::rdb::len::Reader;
    use crate::rdb::Elem;
    use larder_engine::types::Limits;

    /// A listpack set goes out as `SET_LISTPACK` only when asked, and reads back the same
    /// either way, still listpack-encoded.
    #[test]
    fn listpack_sets_use_type_20_only_when_asked() {
        let limits = Limits::default();
        let mut s = Set::for_members(b"a", 3, &limits);
        for m in [&b"a"[..], b"-7", b"bcd"] {
            assert!(s.insert(m, &limits));
        }
        assert_eq!(s.encoding(), "listpack");
        let o = Object::Set(s);
        for (set_listpack, ty) in [(true, types::SET_LISTPACK), (false, types::SET)] {
            let mut out = Vec::new();
            write_object(&mut out, &o, &Options { compress: false, set_listpack });
            assert_eq!(out[0], ty);
            match read_value(&mut Reader::new(&out), &limits).expect("reads back") {
                Decoded::Obj(back) => {
                    assert_eq!(back, o);
                    assert_eq!(back.encoding(), "listpack");
                }
                Decoded::Str(_) => panic!("a string"),
            }
        }
    }

    #[test]
    fn scores_read_back_exactly() {
        let scores = [
            0.0,
            -0.0,
            1.0,
            -12345.0,
            2.5,
            0.1,
            1e300,
            -1e-300,
            4_503_599_627_370_495.0,
            4_503_599_627_370_496.0,
            1.0 / 3.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
        ];
        let mut w = Writer::new();
        for s in scores {
            push_score(&mut w, s);
        }
        let lp = w.finish();
        let elems = crate::rdb::listpack::parse(&lp).expect("valid");
        for (e, want) in elems.into_iter().zip(scores) {
            let got = match e {
                Elem::Int(i) => i as f64,
                Elem::Bytes(b) => crate::rdb::len::parse_double(b).expect("parses"),
            };
            assert_eq!(got.to_bits(), want.to_bits(), "{want}");
            if let Elem::Bytes(b) = e {
                assert!(b.len() < 30, "{}", String::from_utf8_lossy(b));
            }
        }
    }
}
