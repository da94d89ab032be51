//! Hash commands over TCP: HSET ... HSCAN, Redis 7.4's per-field expiry, encoding
//! conversions, and the cached-object pattern web applications use, with Redis's exact replies.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{check, q, RawConn, TestServer};

/// The RESP2 encoding of an array of integers.
fn ints(v: &[i64]) -> String {
    let mut s = format!("*{}\r\n", v.len());
    for i in v {
        s.push_str(&format!(":{i}\r\n"));
    }
    s
}

/// The RESP encoding of an array of bulk strings.
fn bulks(v: &[&str]) -> String {
    let mut s = format!("*{}\r\n", v.len());
    for b in v {
        s.push_str(&format!("${}\r\n{b}\r\n", b.len()));
    }
    s
}

/// OBJECT ENCODING of `key`, or `None` while OBJECT does not name collection encodings yet.
fn encoding(c: &mut RawConn, key: &str) -> Option<String> {
    let r = q(c, &["OBJECT", "ENCODING", key]);
    let name = r.split("\r\n").nth(1).unwrap_or_default().to_string();
    if name == "unknown" || r.starts_with('-') {
        eprintln!("note: OBJECT ENCODING does not name hash encodings yet ({r:?}); check skipped");
        return None;
    }
    Some(name)
}

const OK: &str = "+OK\r\n";
const NIL: &str = "$-1\r\n";
const ZERO: &str = ":0\r\n";
const ONE: &str = ":1\r\n";
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn set_get_and_delete_fields() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["HSET", "h", "a", "1", "b", "2"], ":2\r\n");
    check(&mut c, &["HSET", "h", "a", "10", "c", "3"], ONE);
    check(&mut c, &["HGET", "h", "a"], "$2\r\n10\r\n");
    check(&mut c, &["HGET", "h", "nope"], NIL);
    check(&mut c, &["HGET", "missing", "a"], NIL);
    check(&mut c, &["HMGET", "h", "a", "nope", "c"], "*3\r\n$2\r\n10\r\n$-1\r\n$1\r\n3\r\n");
    check(&mut c, &["HMGET", "missing", "a", "b"], "*2\r\n$-1\r\n$-1\r\n");
    check(&mut c, &["HLEN", "h"], ":3\r\n");
    check(&mut c, &["HLEN", "missing"], ZERO);
    check(&mut c, &["HEXISTS", "h", "b"], ONE);
    check(&mut c, &["HEXISTS", "h", "z"], ZERO);
    check(&mut c, &["HEXISTS", "missing", "z"], ZERO);
    check(&mut c, &["HSTRLEN", "h", "a"], ":2\r\n");
    check(&mut c, &["HSTRLEN", "h", "z"], ZERO);
    check(&mut c, &["HSTRLEN", "missing", "z"], ZERO);
    check(&mut c, &["HSETNX", "h", "a", "x"], ZERO);
    check(&mut c, &["HSETNX", "h", "d", "4"], ONE);
    check(&mut c, &["HSETNX", "new", "f", "v"], ONE);
    check(&mut c, &["HMSET", "h", "e", "5", "a", "11"], OK);
    check(&mut c, &["HKEYS", "missing"], "*0\r\n");
    check(&mut c, &["HVALS", "missing"], "*0\r\n");
    check(&mut c, &["HGETALL", "missing"], "*0\r\n");
    check(&mut c, &["HKEYS", "h"], &bulks(&["a", "b", "c", "d", "e"]));
    check(&mut c, &["HVALS", "h"], &bulks(&["11", "2", "3", "4", "5"]));
    check(&mut c, &["HGETALL", "new"], &bulks(&["f", "v"]));
    check(&mut c, &["TYPE", "h"], "+hash\r\n");

    check(&mut c, &["HDEL", "h", "a", "a", "nope", "b"], ":2\r\n");
    check(&mut c, &["HDEL", "missing", "a"], ZERO);
    check(&mut c, &["HDEL", "h", "c", "d", "e"], ":3\r\n");
    // The last field gone, the key goes too.
    check(&mut c, &["EXISTS", "h"], ZERO);
    check(&mut c, &["HLEN", "h"], ZERO);

    // Arity, checked once in dispatch or for the pairs by the command.
    check(&mut c, &["HSET", "h", "a"], "-ERR wrong number of arguments for 'hset' command\r\n");
    check(&mut c, &["HSET", "h", "a", "1", "b"], "-ERR wrong number of arguments for 'hset' command\r\n");
    check(&mut c, &["HMSET", "h", "a", "1", "b"], "-ERR wrong number of arguments for 'hmset' command\r\n");
    check(&mut c, &["HGET", "h"], "-ERR wrong number of arguments for 'hget' command\r\n");
    check(&mut c, &["HDEL", "h"], "-ERR wrong number of arguments for 'hdel' command\r\n");
    check(&mut c, &["HSETNX", "h", "a"], "-ERR wrong number of arguments for 'hsetnx' command\r\n");
    check(&mut c, &["EXISTS", "h"], ZERO);
}

#[test]
fn binary_and_empty_fields_and_values() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let field: &[u8] = b"f\x00\r\n\xff";
    let value: &[u8] = b"v\x00\xfe\r\n";
    assert_eq!(c.cmd(&[b"HSET", b"bin", field, value]), b":1\r\n");
    assert_eq!(c.cmd(&[b"HSET", b"bin", b"", b""]), b":1\r\n");
    let mut want = b"$5\r\n".to_vec();
    want.extend_from_slice(value);
    want.extend_from_slice(b"\r\n");
    assert_eq!(c.cmd(&[b"HGET", b"bin", field]), want);
    assert_eq!(c.cmd(&[b"HGET", b"bin", b""]), b"$0\r\n\r\n");
    assert_eq!(c.cmd(&[b"HSTRLEN", b"bin", field]), b":5\r\n");
}

#[test]
fn wrongtype_against_a_string() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["SET", "s", "v"], OK);
    let cmds: &[&[&str]] = &[
        &["HSET", "s", "f", "v"],
        &["HSETNX", "s", "f", "v"],
        &["HMSET", "s", "f", "v"],
        &["HGET", "s", "f"],
        &["HMGET", "s", "f"],
        &["HGETALL", "s"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HDEL", "s", "f"],
        &["HLEN", "s"],
        &["HEXISTS", "s", "f"],
        &["HSTRLEN", "s", "f"],
        &["HINCRBY", "s", "f", "1"],
        &["HINCRBYFLOAT", "s", "f", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "2"],
        &["HSCAN", "s", "0"],
        &["HEXPIRE", "s", "10", "FIELDS", "1", "f"],
        &["HPEXPIREAT", "s", "10", "FIELDS", "1", "f"],
        &["HTTL", "s", "FIELDS", "1", "f"],
        &["HPEXPIRETIME", "s", "FIELDS", "1", "f"],
        &["HPERSIST", "s", "FIELDS", "1", "f"],
        // Redis checks the type before parsing the rest of these.
        &["HEXPIRE", "s", "notanumber", "FIELDS", "1", "f"],
        &["HTTL", "s", "NOTFIELDS", "1", "f"],
        &["HSCAN", "s", "0", "BADOPTION"],
    ];
    for cmd in cmds {
        check(&mut c, cmd, WRONGTYPE);
    }
    check(&mut c, &["GET", "s"], "$1\r\nv\r\n");
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["HINCRBY", "n", "x", "5"], ":5\r\n");
    check(&mut c, &["HINCRBY", "n", "x", "-7"], ":-2\r\n");
    check(&mut c, &["HGET", "n", "x"], "$2\r\n-2\r\n");
    check(&mut c, &["HSET", "n", "s", "abc", "big", "9223372036854775807", "f", "1.5"], ":3\r\n");
    check(&mut c, &["HINCRBY", "n", "s", "1"], "-ERR hash value is not an integer\r\n");
    check(&mut c, &["HINCRBY", "n", "f", "1"], "-ERR hash value is not an integer\r\n");
    check(&mut c, &["HINCRBY", "n", "x", "1.5"], "-ERR value is not an integer or out of range\r\n");
    check(&mut c, &["HINCRBY", "n", "big", "1"], "-ERR increment or decrement would overflow\r\n");
    check(&mut c, &["HINCRBY", "n", "x", "-9223372036854775808"], "-ERR increment or decrement would overflow\r\n");

    check(&mut c, &["HINCRBYFLOAT", "n", "f", "0.25"], "$4\r\n1.75\r\n");
    check(&mut c, &["HINCRBYFLOAT", "n", "x", "2"], "$1\r\n0\r\n");
    check(&mut c, &["HINCRBYFLOAT", "n", "new", "1e2"], "$3\r\n100\r\n");
    check(&mut c, &["HINCRBYFLOAT", "n", "new", "-0.5"], "$4\r\n99.5\r\n");
    check(&mut c, &["HINCRBYFLOAT", "n", "s", "1"], "-ERR hash value is not a float\r\n");
    check(&mut c, &["HINCRBYFLOAT", "n", "f", "abc"], "-ERR value is not a valid float\r\n");
    check(&mut c, &["HINCRBYFLOAT", "n", "f", "inf"], "-ERR value is NaN or Infinity\r\n");
    check(&mut c, &["HSET", "n", "huge", "1e308"], ONE);
    check(&mut c, &["HINCRBYFLOAT", "n", "huge", "1e308"], "-ERR increment would produce NaN or Infinity\r\n");
    check(&mut c, &["HGET", "n", "huge"], "$5\r\n1e308\r\n");
    check(&mut c, &["HINCRBY", "n", "x"], "-ERR wrong number of arguments for 'hincrby' command\r\n");
}

#[test]
fn hrandfield_shapes_and_errors() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["HRANDFIELD", "missing"], NIL);
    check(&mut c, &["HRANDFIELD", "missing", "5"], "*0\r\n");
    check(&mut c, &["HRANDFIELD", "missing", "-5", "WITHVALUES"], "*0\r\n");
    check(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"], ":3\r\n");
    let one = q(&mut c, &["HRANDFIELD", "h"]);
    assert!(["$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n"].contains(&one.as_str()), "{one}");
    check(&mut c, &["HRANDFIELD", "h", "0"], "*0\r\n");
    check(&mut c, &["HRANDFIELD", "h", "0", "WITHVALUES"], "*0\r\n");

    let mut con = srv.client();
    let all: Vec<String> = redis::cmd("HRANDFIELD").arg("h").arg(10).query(&mut con).expect("hrandfield");
    assert_eq!(all.iter().map(String::as_str).collect::<HashSet<_>>(), HashSet::from(["a", "b", "c"]));
    let two: Vec<String> = redis::cmd("HRANDFIELD").arg("h").arg(2).query(&mut con).expect("hrandfield");
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let many: Vec<String> = redis::cmd("HRANDFIELD").arg("h").arg(-50).query(&mut con).expect("hrandfield");
    assert_eq!(many.len(), 50);
    assert_eq!(many.iter().collect::<HashSet<_>>().len(), 3, "negative counts repeat fields");
    let pairs: Vec<String> =
        redis::cmd("HRANDFIELD").arg("h").arg(-7).arg("WITHVALUES").query(&mut con).expect("hrandfield");
    assert_eq!(pairs.len(), 14);
    for p in pairs.chunks(2) {
        let want = match p[0].as_str() {
            "a" => "1",
            "b" => "2",
            _ => "3",
        };
        assert_eq!(p[1], want);
    }

    // RESP3: WITHVALUES gives a pair per field.
    check(&mut c, &["HSET", "one", "f", "v"], ONE);
    assert!(q(&mut c, &["HELLO", "3"]).starts_with('%'));
    check(&mut c, &["HRANDFIELD", "one", "1", "WITHVALUES"], "*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
    check(
        &mut c,
        &["HRANDFIELD", "one", "-2", "WITHVALUES"],
        "*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
    );
    check(&mut c, &["HRANDFIELD", "one", "-2"], "*2\r\n$1\r\nf\r\n$1\r\nf\r\n");
    check(&mut c, &["HRANDFIELD", "missing"], "_\r\n");
    assert!(q(&mut c, &["HELLO", "2"]).starts_with('*'));
    check(&mut c, &["HRANDFIELD", "one", "1", "WITHVALUES"], "*2\r\n$1\r\nf\r\n$1\r\nv\r\n");

    let range = "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n";
    check(&mut c, &["HRANDFIELD", "h", "-9223372036854775808"], range);
    check(&mut c, &["HRANDFIELD", "h", "-9223372036854770000", "WITHVALUES"], "-ERR value is out of range\r\n");
    check(&mut c, &["HRANDFIELD", "h", "-9223372036854775808", "WITHVALUES"], range);
    check(&mut c, &["HRANDFIELD", "h", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut c, &["HRANDFIELD", "h", "1", "WITHSCORES"], "-ERR syntax error\r\n");
    check(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUES", "x"], "-ERR syntax error\r\n");
    // Parse errors come before the key lookup.
    check(&mut c, &["HRANDFIELD", "missing", "1", "bad"], "-ERR syntax error\r\n");
}

#[test]
fn hscan_small_and_large() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["HSCAN", "missing", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    // As in Redis, options are only parsed for an existing hash.
    check(&mut c, &["HSCAN", "missing", "0", "COUNT", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    check(&mut c, &["HSET", "small", "a", "1", "b", "2", "key:1", "3"], ":3\r\n");
    check(
        &mut c,
        &["HSCAN", "small", "0"],
        "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$5\r\nkey:1\r\n$1\r\n3\r\n",
    );
    check(&mut c, &["HSCAN", "small", "0", "MATCH", "key:*"], "*2\r\n$1\r\n0\r\n*2\r\n$5\r\nkey:1\r\n$1\r\n3\r\n");
    check(
        &mut c,
        &["HSCAN", "small", "0", "NOVALUES", "COUNT", "1"],
        "*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$5\r\nkey:1\r\n",
    );
    check(&mut c, &["HSCAN", "small", "x"], "-ERR invalid cursor\r\n");
    check(&mut c, &["HSCAN", "small", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    check(&mut c, &["HSCAN", "small", "0", "COUNT", "x"], "-ERR value is not an integer or out of range\r\n");
    check(&mut c, &["HSCAN", "small", "0", "COUNT"], "-ERR syntax error\r\n");
    check(&mut c, &["HSCAN", "small", "0", "TYPE", "hash"], "-ERR syntax error\r\n");
    check(&mut c, &["HSCAN", "small", "0", "BOGUS"], "-ERR syntax error\r\n");

    // A table-encoded hash is walked with a cursor, each field exactly once.
    let mut con = srv.client();
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("HSET").arg("big").arg(format!("field:{i}")).arg(i).ignore();
    }
    pipe.query::<()>(&mut con).expect("fill");
    let mut cursor = 0u64;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut calls = 0;
    loop {
        let (next, items): (u64, Vec<String>) =
            redis::cmd("HSCAN").arg("big").arg(cursor).arg("COUNT").arg(50).query(&mut con).expect("hscan");
        calls += 1;
        for p in items.chunks(2) {
            assert!(seen.insert(p[0].clone(), p[1].clone()).is_none(), "{} returned twice", p[0]);
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(seen["field:7"], "7");
    assert!(calls > 5, "a large hash takes several calls ({calls})");

    let mut cursor = 0u64;
    let mut names = HashSet::new();
    loop {
        let (next, items): (u64, Vec<String>) = redis::cmd("HSCAN")
            .arg("big")
            .arg(cursor)
            .arg("MATCH")
            .arg("field:1*")
            .arg("NOVALUES")
            .query(&mut con)
            .expect("hscan");
        names.extend(items);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert_eq!(names.len(), 111);
    assert!(names.iter().all(|n| n.starts_with("field:1")));
}

#[test]
fn encoding_conversions() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "4"], OK);
    check(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"], ":4\r\n");
    if let Some(enc) = encoding(&mut c, "h") {
        assert_eq!(enc, "listpack");
    }
    check(&mut c, &["HSET", "h", "e", "5"], ONE);
    if let Some(enc) = encoding(&mut c, "h") {
        assert_eq!(enc, "hashtable");
    }
    // Never back, even when small again.
    check(&mut c, &["HDEL", "h", "a", "b", "c", "d"], ":4\r\n");
    if let Some(enc) = encoding(&mut c, "h") {
        assert_eq!(enc, "hashtable");
    }
    check(&mut c, &["HGETALL", "h"], &bulks(&["e", "5"]));

    check(&mut c, &["CONFIG", "SET", "hash-max-listpack-value", "8"], OK);
    check(&mut c, &["HSET", "v", "f", "12345678"], ONE);
    if let Some(enc) = encoding(&mut c, "v") {
        assert_eq!(enc, "listpack");
    }
    check(&mut c, &["HSET", "v", "g", "123456789"], ONE);
    if let Some(enc) = encoding(&mut c, "v") {
        assert_eq!(enc, "hashtable");
    }
    check(&mut c, &["HMGET", "v", "f", "g"], &bulks(&["12345678", "123456789"]));
    check(&mut c, &["HSET", "k", "a-field-longer-than-8", "x"], ONE);
    if let Some(enc) = encoding(&mut c, "k") {
        assert_eq!(enc, "hashtable");
    }
    // A field TTL moves a small hash to the table too.
    check(&mut c, &["HSET", "t", "f", "v"], ONE);
    check(&mut c, &["HEXPIRE", "t", "100", "FIELDS", "1", "f"], &ints(&[1]));
    if let Some(enc) = encoding(&mut c, "t") {
        assert_eq!(enc, "hashtable");
    }
}

#[test]
fn resp3_hgetall_is_a_map() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["HSET", "h", "f", "v"], ONE);
    assert!(q(&mut c, &["HELLO", "3"]).starts_with('%'));
    check(&mut c, &["HGETALL", "h"], "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    check(&mut c, &["HGETALL", "missing"], "%0\r\n");
    check(&mut c, &["HKEYS", "missing"], "*0\r\n");
    check(&mut c, &["HGET", "missing", "f"], "_\r\n");
    check(&mut c, &["HSCAN", "h", "0"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n");
}

#[test]
fn field_expiry_commands() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    // Missing key: every field is -2.
    check(&mut c, &["HEXPIRE", "missing", "10", "FIELDS", "2", "a", "b"], &ints(&[-2, -2]));
    check(&mut c, &["HTTL", "missing", "FIELDS", "1", "a"], &ints(&[-2]));
    check(&mut c, &["HPERSIST", "missing", "FIELDS", "1", "a"], &ints(&[-2]));
    check(&mut c, &["EXISTS", "missing"], ZERO);

    check(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"], ":4\r\n");
    check(&mut c, &["HTTL", "h", "FIELDS", "2", "a", "zz"], &ints(&[-1, -2]));
    check(&mut c, &["HEXPIRE", "h", "100", "FIELDS", "2", "a", "zz"], &ints(&[1, -2]));
    check(&mut c, &["HTTL", "h", "FIELDS", "1", "a"], &ints(&[100]));
    let pttl = q(&mut c, &["HPTTL", "h", "FIELDS", "1", "a"]);
    let ms: i64 = pttl.trim_start_matches("*1\r\n:").trim_end().parse().expect("pttl");
    assert!((99_000..=100_000).contains(&ms), "{pttl}");
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let at = q(&mut c, &["HEXPIRETIME", "h", "FIELDS", "2", "a", "b"]);
    let parts: Vec<&str> = at.split("\r\n").collect();
    let t: i64 = parts[1].trim_start_matches(':').parse().expect("expiretime");
    assert!((now_s + 99..=now_s + 101).contains(&t), "{at}");
    assert_eq!(parts[2], ":-1");

    // NX / XX / GT / LT against a field with a TTL (a) and one without (b).
    check(&mut c, &["HEXPIRE", "h", "200", "NX", "FIELDS", "2", "a", "b"], &ints(&[0, 1]));
    check(&mut c, &["HEXPIRE", "h", "300", "XX", "FIELDS", "2", "a", "c"], &ints(&[1, 0]));
    check(&mut c, &["HEXPIRE", "h", "50", "GT", "FIELDS", "2", "a", "c"], &ints(&[0, 0]));
    check(&mut c, &["HEXPIRE", "h", "400", "gt", "FIELDS", "1", "a"], &ints(&[1]));
    check(&mut c, &["HEXPIRE", "h", "500", "LT", "FIELDS", "2", "a", "c"], &ints(&[0, 1]));
    check(&mut c, &["HEXPIRE", "h", "10", "lt", "FIELDS", "1", "a"], &ints(&[1]));
    check(&mut c, &["HTTL", "h", "FIELDS", "3", "a", "b", "c"], &ints(&[10, 200, 500]));
    check(&mut c, &["HPEXPIREAT", "h", "70000000000000", "FIELDS", "1", "c"], &ints(&[1]));
    check(&mut c, &["HPEXPIRETIME", "h", "FIELDS", "1", "c"], &ints(&[70000000000000]));
    check(&mut c, &["HEXPIRETIME", "h", "FIELDS", "1", "c"], &ints(&[70000000000]));

    // HPERSIST: 1 removed, -1 no TTL, -2 no field.
    check(&mut c, &["HPERSIST", "h", "FIELDS", "4", "a", "d", "zz", "a"], &ints(&[1, -1, -2, -1]));
    // HSET drops a field's TTL, HINCRBY keeps it.
    check(&mut c, &["HSET", "h", "b", "20"], ZERO);
    check(&mut c, &["HINCRBY", "h", "c", "1"], ":4\r\n");
    let ttls = q(&mut c, &["HTTL", "h", "FIELDS", "2", "b", "c"]);
    let ttls: Vec<i64> = ttls.split("\r\n").skip(1).filter_map(|l| l.strip_prefix(':')?.parse().ok()).collect();
    assert_eq!(ttls[0], -1);
    assert!(ttls[1] > 60_000_000_000, "{ttls:?}");

    // A time already past deletes the field (2); the last field takes the key with it.
    check(&mut c, &["HEXPIRE", "h", "0", "FIELDS", "2", "a", "a"], &ints(&[2, -2]));
    check(&mut c, &["HPEXPIREAT", "h", "1", "FIELDS", "1", "b"], &ints(&[2]));
    check(&mut c, &["HLEN", "h"], ":2\r\n");
    // The condition is checked before the deletion.
    check(&mut c, &["HEXPIRE", "h", "0", "XX", "FIELDS", "1", "d"], &ints(&[0]));
    check(&mut c, &["HEXPIREAT", "h", "1", "FIELDS", "2", "c", "d"], &ints(&[2, 2]));
    check(&mut c, &["EXISTS", "h"], ZERO);
}

#[test]
fn field_expiry_errors() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["HSET", "h", "a", "1"], ONE);
    let fields = "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n";
    let numfields = "-ERR Parameter `numFields` should be greater than 0\r\n";
    let positive = "-ERR Number of fields must be a positive integer\r\n";
    let mismatch = "-ERR The `numfields` parameter must match the number of arguments\r\n";
    check(&mut c, &["HEXPIRE", "h", "10", "FIELD", "1", "a"], fields);
    check(&mut c, &["HEXPIRE", "h", "10", "XX", "1", "a"], fields);
    check(&mut c, &["HEXPIRE", "h", "10", "FIELDS", "0", "a"], numfields);
    check(&mut c, &["HEXPIRE", "h", "10", "FIELDS", "x", "a"], numfields);
    check(&mut c, &["HEXPIRE", "h", "10", "FIELDS", "2", "a"], mismatch);
    check(&mut c, &["HEXPIRE", "h", "10", "NX", "FIELDS", "1"], mismatch);
    check(&mut c, &["HEXPIRE", "h", "10", "FIELDS", "1", "a", "b"], mismatch);
    check(&mut c, &["HEXPIRE", "h", "x", "FIELDS", "1", "a"], "-ERR value is not an integer or out of range\r\n");
    check(&mut c, &["HEXPIRE", "h", "-1", "FIELDS", "1", "a"], "-ERR invalid expire time, must be >= 0\r\n");
    check(
        &mut c,
        &["HEXPIRE", "h", "70368744177664", "FIELDS", "1", "a"],
        "-ERR invalid expire time in 'hexpire' command\r\n",
    );
    check(
        &mut c,
        &["HPEXPIRE", "h", "70368744177663", "FIELDS", "1", "a"],
        "-ERR invalid expire time in 'hpexpire' command\r\n",
    );
    check(
        &mut c,
        &["HPEXPIREAT", "h", "70368744177664", "FIELDS", "1", "a"],
        "-ERR invalid expire time in 'hpexpireat' command\r\n",
    );
    check(&mut c, &["HPEXPIREAT", "h", "70368744177663", "FIELDS", "1", "a"], &ints(&[1]));
    check(
        &mut c,
        &["HEXPIREAT", "h", "9223372036854775807", "FIELDS", "1", "a"],
        "-ERR invalid expire time in 'hexpireat' command\r\n",
    );
    check(&mut c, &["HTTL", "h", "1", "1", "a"], fields);
    check(&mut c, &["HTTL", "h", "FIELDS", "0", "a"], positive);
    check(&mut c, &["HTTL", "h", "FIELDS", "-1", "a"], positive);
    check(&mut c, &["HPTTL", "h", "FIELDS", "2", "a"], mismatch);
    check(&mut c, &["HPERSIST", "h", "FIELDS", "x", "a"], positive);
    check(&mut c, &["HPERSIST", "h", "FIELDS", "3", "a"], mismatch);
    check(&mut c, &["HEXPIRE", "h", "10", "FIELDS", "1"], "-ERR wrong number of arguments for 'hexpire' command\r\n");
    check(&mut c, &["HTTL", "h", "FIELDS", "1"], "-ERR wrong number of arguments for 'httl' command\r\n");
    // Errors change nothing.
    check(&mut c, &["HGET", "h", "a"], "$1\r\n1\r\n");
}

#[test]
fn fields_expire_lazily() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["HSET", "h", "keep", "1", "gone", "2", "also", "3"], ":3\r\n");
    check(&mut c, &["HPEXPIRE", "h", "50", "FIELDS", "2", "gone", "also"], &ints(&[1, 1]));
    std::thread::sleep(Duration::from_millis(100));
    check(&mut c, &["HGET", "h", "gone"], NIL);
    check(&mut c, &["HLEN", "h"], ONE);
    check(&mut c, &["HGETALL", "h"], &bulks(&["keep", "1"]));
    check(&mut c, &["HTTL", "h", "FIELDS", "2", "also", "keep"], &ints(&[-2, -1]));

    // When every field expires, the key goes with them.
    check(&mut c, &["HSET", "all", "a", "1", "b", "2"], ":2\r\n");
    check(&mut c, &["HPEXPIRE", "all", "30", "FIELDS", "2", "a", "b"], &ints(&[1, 1]));
    std::thread::sleep(Duration::from_millis(80));
    check(&mut c, &["HLEN", "all"], ZERO);
    check(&mut c, &["EXISTS", "all"], ZERO);

    // A write sees the expiry too: the field is new again.
    check(&mut c, &["HSET", "w", "f", "old", "other", "x"], ":2\r\n");
    check(&mut c, &["HPEXPIRE", "w", "30", "FIELDS", "1", "f"], &ints(&[1]));
    std::thread::sleep(Duration::from_millis(80));
    check(&mut c, &["HSETNX", "w", "f", "new"], ONE);
    check(&mut c, &["HINCRBY", "w", "n", "1"], ONE);
    check(&mut c, &["HGET", "w", "f"], "$3\r\nnew\r\n");
}

#[test]
fn cached_product_pattern() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let key = "cache:product:p-001";
    let _: i64 = redis::cmd("HSET")
        .arg(key)
        .arg(&["name", "Espresso machine", "price", "249.90", "currency", "EUR", "stock", "12"])
        .query(&mut con)
        .expect("hset");
    let product: HashMap<String, String> = redis::cmd("HGETALL").arg(key).query(&mut con).expect("hgetall");
    assert_eq!(product.len(), 4);
    assert_eq!(product["name"], "Espresso machine");
    assert_eq!(product["price"], "249.90");
    let set: i64 = redis::cmd("EXPIRE").arg(key).arg(300).query(&mut con).expect("expire");
    assert_eq!(set, 1);
    let ttl: i64 = redis::cmd("TTL").arg(key).query(&mut con).expect("ttl");
    assert!((299..=300).contains(&ttl), "ttl {ttl}");
    let stock: i64 = redis::cmd("HINCRBY").arg(key).arg("stock").arg(-1).query(&mut con).expect("hincrby");
    assert_eq!(stock, 11);
    let price: String = redis::cmd("HINCRBYFLOAT").arg(key).arg("price").arg("-50").query(&mut con).expect("float");
    assert_eq!(price, "199.9");
    // Writes to the fields keep the key's TTL.
    let ttl: i64 = redis::cmd("TTL").arg(key).query(&mut con).expect("ttl");
    assert!((299..=300).contains(&ttl), "ttl {ttl}");
    let got: Vec<Option<String>> =
        redis::cmd("HMGET").arg(key).arg("name").arg("missing").arg("stock").query(&mut con).expect("hmget");
    assert_eq!(got, vec![Some("Espresso machine".to_string()), None, Some("11".to_string())]);
    let _: () = redis::cmd("PEXPIRE").arg(key).arg(30).query(&mut con).expect("pexpire");
    std::thread::sleep(Duration::from_millis(80));
    let gone: HashMap<String, String> = redis::cmd("HGETALL").arg(key).query(&mut con).expect("hgetall");
    assert!(gone.is_empty());
}

#[test]
fn fields_expire_actively_without_being_touched() {
    let srv = common::TestServer::start();
    let mut c = srv.client();
    for i in 0..50 {
        let key = format!("h:{i}");
        let _: () = redis::cmd("HSET").arg(&key).arg("keep").arg("1").arg("gone").arg("2").query(&mut c).expect("hset");
        let _: Vec<i64> =
            redis::cmd("HPEXPIRE").arg(&key).arg(50).arg("FIELDS").arg(1).arg("gone").query(&mut c).expect("hpexpire");
    }
    let _: () = redis::cmd("HSET").arg("solo").arg("f").arg("v").query(&mut c).expect("hset");
    let _: Vec<i64> =
        redis::cmd("HPEXPIRE").arg("solo").arg(50).arg("FIELDS").arg(1).arg("f").query(&mut c).expect("hpexpire");
    // Nothing reads these hashes, so only the active cycle can remove their fields; DBSIZE
    // (which reads no value) drops once "solo" loses its only field and is deleted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
        if n == 50 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the emptied hash was not removed actively (dbsize {n})");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let n: i64 = redis::cmd("HLEN").arg("h:7").query(&mut c).expect("hlen");
    assert_eq!(n, 1);
}

/// A hashtable-encoded hash with long values (kept in buffers of their own) returns every
/// value whole through HGET, HGETALL, HSTRLEN, HRANDFIELD WITHVALUES and DUMP/RESTORE.
#[test]
fn long_values_survive_in_a_large_hash() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut want: HashMap<String, String> = HashMap::new();
    for i in 0..300 {
        let v = "v".repeat(40 + (i * 53) % 3000);
        let _: i64 = redis::cmd("HSET").arg("h").arg(format!("f{i}")).arg(&v).query(&mut c).expect("hset");
        want.insert(format!("f{i}"), v);
    }
    let enc: String = redis::cmd("OBJECT").arg("ENCODING").arg("h").query(&mut c).expect("encoding");
    assert_eq!(enc, "hashtable");
    for (f, v) in &want {
        let got: String = redis::cmd("HGET").arg("h").arg(f).query(&mut c).expect("hget");
        assert_eq!(&got, v, "HGET {f}");
        let n: usize = redis::cmd("HSTRLEN").arg("h").arg(f).query(&mut c).expect("hstrlen");
        assert_eq!(n, v.len());
    }
    let all: HashMap<String, String> = redis::cmd("HGETALL").arg("h").query(&mut c).expect("hgetall");
    assert_eq!(all, want);
    let sample: Vec<String> =
        redis::cmd("HRANDFIELD").arg("h").arg(5).arg("WITHVALUES").query(&mut c).expect("hrandfield");
    for pair in sample.chunks(2) {
        assert_eq!(want.get(&pair[0]), Some(&pair[1]));
    }
    let dump: Vec<u8> = redis::cmd("DUMP").arg("h").query(&mut c).expect("dump");
    let _: () = redis::cmd("RESTORE").arg("h2").arg(0).arg(dump).query(&mut c).expect("restore");
    let all: HashMap<String, String> = redis::cmd("HGETALL").arg("h2").query(&mut c).expect("hgetall");
    assert_eq!(all, want);
}
