//! An entry as the commands that rebuild it: the form of an AOF base written with
//! `aof-use-rdb-preamble no` (Redis's AOF rewrite without the RDB preamble). Collections go
//! in commands of at most [`ITEMS_PER_COMMAND`] elements, the key's expiry last.

use larder_engine::types::set::Member;
use larder_engine::{Entry, Object, ValueRef};

/// Elements per RPUSH/SADD/ZADD/HSET (Redis's AOF_REWRITE_ITEMS_PER_CMD).
pub const ITEMS_PER_COMMAND: usize = 64;

fn command(out: &mut Vec<u8>, parts: &[&[u8]]) {
    super::encode(out, parts.iter().copied());
}

/// Appends SELECT `db` when the log is not in it.
pub fn select(out: &mut Vec<u8>, cur: &mut Option<usize>, db: usize) {
    if *cur != Some(db) {
        command(out, &[b"SELECT", itoa::Buffer::new().format(db).as_bytes()]);
        *cur = Some(db);
    }
}

/// Emits `head` (command and key) followed by items, `ITEMS_PER_COMMAND` at a time.
fn batched(out: &mut Vec<u8>, head: [&[u8]; 2], items: impl Iterator<Item = Vec<Vec<u8>>>) {
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut count = 0;
    let flush = |out: &mut Vec<u8>, batch: &mut Vec<Vec<u8>>| {
        if batch.is_empty() {
            return;
        }
        let mut parts: Vec<&[u8]> = head.to_vec();
        parts.extend(batch.iter().map(|b| &b[..]));
        command(out, &parts);
        batch.clear();
    };
    for item in items {
        batch.extend(item);
        count += 1;
        if count == ITEMS_PER_COMMAND {
            flush(out, &mut batch);
            count = 0;
        }
    }
    flush(out, &mut batch);
}

/// Appends the commands that rebuild `e`.
pub fn entry(out: &mut Vec<u8>, e: &Entry) {
    let key = e.key();
    let mut num = itoa::Buffer::new();
    match e.value() {
        ValueRef::Bytes(b) => command(out, &[b"SET", key, b]),
        ValueRef::Int(i) => command(out, &[b"SET", key, num.format(i).as_bytes()]),
        ValueRef::Obj(Object::Str(v)) => command(out, &[b"SET", key, v]),
        ValueRef::Obj(Object::List(l)) => batched(out, [b"RPUSH", key], l.iter().map(|x| vec![x.to_vec()])),
        ValueRef::Obj(Object::Set(s)) => batched(
            out,
            [b"SADD", key],
            s.iter().map(|m| match m {
                Member::Int(i) => vec![itoa::Buffer::new().format(i).as_bytes().to_vec()],
                Member::Bytes(b) => vec![b.to_vec()],
            }),
        ),
        ValueRef::Obj(Object::ZSet(z)) => batched(
            out,
            [b"ZADD", key],
            z.iter().map(|(m, score)| {
                let mut s = Vec::new();
                larder_resp::format_double(score, &mut s);
                vec![s, m.to_vec()]
            }),
        ),
        ValueRef::Obj(Object::Hash(h)) => {
            batched(out, [b"HSET", key], h.iter().map(|(f, v)| vec![f.to_vec(), v.to_vec()]));
            for (f, _) in h.iter() {
                if let Some(Some(t)) = h.expire_time(f) {
                    command(out, &[b"HPEXPIREAT", key, num.format(t).as_bytes(), b"FIELDS", b"1", f]);
                }
            }
        }
    }
    if let Some(t) = e.expire_ms() {
        command(out, &[b"PEXPIREAT", key, num.format(t).as_bytes()]);
    }
}

/// Appends the command that loads a function library.
pub fn function(out: &mut Vec<u8>, code: &[u8]) {
    command(out, &[b"FUNCTION", b"LOAD", code]);
}
