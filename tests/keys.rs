//! Generic keyspace commands over TCP: DEL, UNLINK, EXISTS, TYPE, RENAME(NX), COPY, MOVE,
//! TOUCH, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, RANDOMKEY, KEYS and OBJECT, with Redis 7.2's
//! exact replies and error texts.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{check, q, RawConn, TestServer};

/// A raw connection with database `db` selected.
fn raw_db(srv: &TestServer, db: &str) -> RawConn {
    let mut c = srv.raw();
    check(&mut c, &["SELECT", db], "+OK\r\n");
    c
}

/// A `redis` client connected to database `db` through the URL.
fn client_db(srv: &TestServer, db: u32) -> redis::Connection {
    let c = redis::Client::open(format!("redis://127.0.0.1:{}/{db}", srv.port)).expect("client");
    c.get_connection().expect("connect")
}

const NIL: &str = "$-1\r\n";
/// Lets tests switch the active expiry cycle off (DEBUG SET-ACTIVE-EXPIRE).
const DEBUG: &[&str] = &["--enable-debug-command", "yes"];
const OK: &str = "+OK\r\n";
const ZERO: &str = ":0\r\n";
const ONE: &str = ":1\r\n";

#[test]
fn del_unlink_and_exists() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    for k in ["a", "b", "c"] {
        check(&mut c, &["SET", k, "v"], OK);
    }
    check(&mut c, &["EXISTS", "a", "a", "b", "nope"], ":3\r\n");
    check(&mut c, &["DEL", "a", "nope", "a"], ONE);
    check(&mut c, &["EXISTS", "a"], ZERO);
    check(&mut c, &["UNLINK", "b", "c", "d"], ":2\r\n");
    check(&mut c, &["DEL", "b"], ZERO);
    check(&mut c, &["DBSIZE"], ZERO);
    check(&mut c, &["DEL"], "-ERR wrong number of arguments for 'del' command\r\n");
    check(&mut c, &["UNLINK"], "-ERR wrong number of arguments for 'unlink' command\r\n");
    check(&mut c, &["EXISTS"], "-ERR wrong number of arguments for 'exists' command\r\n");

    // An expired key is neither counted as existing nor as deleted.
    check(&mut c, &["SET", "gone", "v", "PX", "1"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["EXISTS", "gone"], ZERO);
    check(&mut c, &["SET", "gone2", "v", "PX", "1"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["DEL", "gone2"], ZERO);
}

#[test]
fn del_many_keys_across_shards_with_the_client_library() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    let keys: Vec<String> = (0..200).map(|i| format!("key:{i}")).collect();
    let mut pipe = redis::pipe();
    for k in &keys {
        pipe.cmd("SET").arg(k).arg("v").ignore();
    }
    pipe.query::<()>(&mut con).expect("pipeline");
    let n: i64 = redis::cmd("EXISTS").arg(&keys).query(&mut con).expect("exists");
    assert_eq!(n, 200);
    let n: i64 = redis::cmd("DEL").arg(&keys[..150]).query(&mut con).expect("del");
    assert_eq!(n, 150);
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).expect("dbsize");
    assert_eq!(n, 50);
}

#[test]
fn type_names() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "s", "hello"], OK);
    check(&mut c, &["SET", "n", "12"], OK);
    check(&mut c, &["APPEND", "a", "grown"], ":5\r\n");
    check(&mut c, &["TYPE", "s"], "+string\r\n");
    check(&mut c, &["TYPE", "n"], "+string\r\n");
    check(&mut c, &["TYPE", "a"], "+string\r\n");
    check(&mut c, &["TYPE", "missing"], "+none\r\n");
    check(&mut c, &["TYPE"], "-ERR wrong number of arguments for 'type' command\r\n");
    check(&mut c, &["TYPE", "a", "b"], "-ERR wrong number of arguments for 'type' command\r\n");
}

#[test]
fn rename_moves_value_and_ttl() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "src", "value", "EX", "100"], OK);
    check(&mut c, &["RENAME", "src", "dst"], OK);
    check(&mut c, &["EXISTS", "src"], ZERO);
    check(&mut c, &["GET", "dst"], "$5\r\nvalue\r\n");
    let ttl = q(&mut c, &["TTL", "dst"]);
    assert!(ttl == ":100\r\n" || ttl == ":99\r\n", "TTL kept: {ttl}");

    // Overwrites the destination, and its TTL goes with the old value.
    check(&mut c, &["SET", "x", "1"], OK);
    check(&mut c, &["SET", "y", "2", "EX", "100"], OK);
    check(&mut c, &["RENAME", "x", "y"], OK);
    check(&mut c, &["GET", "y"], "$1\r\n1\r\n");
    check(&mut c, &["TTL", "y"], ":-1\r\n");

    // Integer, embedded and grown (heap) values all survive a rename.
    check(&mut c, &["SET", "int", "12345"], OK);
    check(&mut c, &["RENAME", "int", "int2"], OK);
    check(&mut c, &["GET", "int2"], "$5\r\n12345\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "int2"], "$3\r\nint\r\n");
    check(&mut c, &["APPEND", "raw", "abc"], ":3\r\n");
    check(&mut c, &["APPEND", "raw", "def"], ":6\r\n");
    check(&mut c, &["RENAME", "raw", "raw2"], OK);
    check(&mut c, &["GET", "raw2"], "$6\r\nabcdef\r\n");
    check(&mut c, &["APPEND", "raw2", "!"], ":7\r\n");
    check(&mut c, &["GET", "raw2"], "$7\r\nabcdef!\r\n");

    // Same name: OK when the key exists, an error when it does not.
    check(&mut c, &["RENAME", "y", "y"], OK);
    check(&mut c, &["GET", "y"], "$1\r\n1\r\n");
    check(&mut c, &["RENAME", "missing", "missing"], "-ERR no such key\r\n");
    check(&mut c, &["RENAME", "missing", "other"], "-ERR no such key\r\n");
    check(&mut c, &["RENAME", "y"], "-ERR wrong number of arguments for 'rename' command\r\n");

    // An expired source is a missing source.
    check(&mut c, &["SET", "short", "v", "PX", "1"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["RENAME", "short", "long"], "-ERR no such key\r\n");
}

#[test]
fn renamenx_only_to_a_free_name() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "a", "1"], OK);
    check(&mut c, &["SET", "b", "2"], OK);
    check(&mut c, &["RENAMENX", "a", "b"], ZERO);
    check(&mut c, &["GET", "a"], "$1\r\n1\r\n");
    check(&mut c, &["RENAMENX", "a", "c"], ONE);
    check(&mut c, &["EXISTS", "a"], ZERO);
    check(&mut c, &["GET", "c"], "$1\r\n1\r\n");
    check(&mut c, &["RENAMENX", "c", "c"], ZERO);
    check(&mut c, &["RENAMENX", "missing", "z"], "-ERR no such key\r\n");
    check(&mut c, &["RENAMENX", "missing", "missing"], "-ERR no such key\r\n");
    // A destination whose TTL passed counts as free.
    check(&mut c, &["SET", "old", "x", "PX", "1"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["RENAMENX", "c", "old"], ONE);
    check(&mut c, &["GET", "old"], "$1\r\n1\r\n");
}

#[test]
fn copy_in_the_same_database() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "src", "hello", "EX", "100"], OK);
    check(&mut c, &["COPY", "src", "dst"], ONE);
    check(&mut c, &["GET", "dst"], "$5\r\nhello\r\n");
    check(&mut c, &["GET", "src"], "$5\r\nhello\r\n");
    let ttl = q(&mut c, &["TTL", "dst"]);
    assert!(ttl == ":100\r\n" || ttl == ":99\r\n", "TTL copied: {ttl}");

    // The copy is independent of the source.
    check(&mut c, &["APPEND", "dst", "!"], ":6\r\n");
    check(&mut c, &["GET", "src"], "$5\r\nhello\r\n");
    check(&mut c, &["APPEND", "grown", "ab"], ":2\r\n");
    check(&mut c, &["COPY", "grown", "grown2"], ONE);
    check(&mut c, &["APPEND", "grown2", "c"], ":3\r\n");
    check(&mut c, &["GET", "grown"], "$2\r\nab\r\n");

    check(&mut c, &["SET", "other", "x"], OK);
    check(&mut c, &["COPY", "src", "other"], ZERO);
    check(&mut c, &["GET", "other"], "$1\r\nx\r\n");
    check(&mut c, &["COPY", "src", "other", "REPLACE"], ONE);
    check(&mut c, &["GET", "other"], "$5\r\nhello\r\n");
    check(&mut c, &["COPY", "missing", "other"], ZERO);
    check(&mut c, &["COPY", "src", "src"], "-ERR source and destination objects are the same\r\n");
    check(&mut c, &["COPY", "src", "src", "DB", "0"], "-ERR source and destination objects are the same\r\n");
    check(&mut c, &["COPY", "src", "x", "BOGUS"], "-ERR syntax error\r\n");
    check(&mut c, &["COPY", "src", "x", "DB"], "-ERR syntax error\r\n");
    check(&mut c, &["COPY", "src", "x", "DB", "abc"], "-ERR value is not an integer or out of range\r\n");
    check(
        &mut c,
        &["COPY", "src", "x", "DB", "99999999999"],
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
    );
    check(&mut c, &["COPY", "src", "x", "DB", "16"], "-ERR DB index is out of range\r\n");
    check(&mut c, &["COPY", "src", "x", "DB", "-1"], "-ERR DB index is out of range\r\n");
    check(&mut c, &["COPY", "src"], "-ERR wrong number of arguments for 'copy' command\r\n");
    check(&mut c, &["EXISTS", "x"], ZERO);
}

#[test]
fn copy_to_another_database() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v0", "EX", "100"], OK);
    check(&mut c, &["COPY", "k", "k", "DB", "1"], ONE);
    check(&mut c, &["COPY", "k", "k", "DB", "1"], ZERO);
    check(&mut c, &["SET", "k", "v1"], OK);
    check(&mut c, &["COPY", "k", "k", "REPLACE", "DB", "1"], ONE);
    check(&mut c, &["COPY", "k", "renamed", "db", "1", "replace"], ONE);

    let mut one = client_db(&srv, 1);
    let v: String = redis::cmd("GET").arg("k").query(&mut one).expect("get");
    assert_eq!(v, "v1");
    let ttl: i64 = redis::cmd("TTL").arg("k").query(&mut one).expect("ttl");
    assert_eq!(ttl, -1, "REPLACE copied the TTL-less value");
    let v: String = redis::cmd("GET").arg("renamed").query(&mut one).expect("get");
    assert_eq!(v, "v1");
    // And back: from db 1 into db 0.
    let n: i64 = redis::cmd("COPY").arg("renamed").arg("back").arg("DB").arg(0).query(&mut one).expect("copy");
    assert_eq!(n, 1);
    check(&mut c, &["GET", "back"], "$2\r\nv1\r\n");
}

#[test]
fn move_between_databases() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v", "EX", "100"], OK);
    check(&mut c, &["MOVE", "k", "1"], ONE);
    check(&mut c, &["EXISTS", "k"], ZERO);
    let mut one = raw_db(&srv, "1");
    check(&mut one, &["GET", "k"], "$1\r\nv\r\n");
    let ttl = q(&mut one, &["TTL", "k"]);
    assert!(ttl == ":100\r\n" || ttl == ":99\r\n", "TTL moved along: {ttl}");

    // Target already has the key: nothing moves.
    check(&mut c, &["SET", "k", "new"], OK);
    check(&mut c, &["MOVE", "k", "1"], ZERO);
    check(&mut c, &["GET", "k"], "$3\r\nnew\r\n");
    check(&mut one, &["GET", "k"], "$1\r\nv\r\n");
    check(&mut c, &["MOVE", "missing", "1"], ZERO);

    check(&mut c, &["MOVE", "k", "0"], "-ERR source and destination objects are the same\r\n");
    check(&mut one, &["MOVE", "k", "1"], "-ERR source and destination objects are the same\r\n");
    check(&mut c, &["MOVE", "k", "16"], "-ERR DB index is out of range\r\n");
    check(&mut c, &["MOVE", "k", "-1"], "-ERR DB index is out of range\r\n");
    check(&mut c, &["MOVE", "k", "x"], "-ERR value is not an integer or out of range\r\n");
    check(
        &mut c,
        &["MOVE", "k", "4294967296"],
        "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
    );
    check(&mut c, &["MOVE", "k"], "-ERR wrong number of arguments for 'move' command\r\n");

    // Moving back from db 1 via the client library's database URL.
    let mut con1 = client_db(&srv, 1);
    let n: i64 = redis::cmd("MOVE").arg("k").arg(2).query(&mut con1).expect("move");
    assert_eq!(n, 1);
    let mut con2 = client_db(&srv, 2);
    let v: String = redis::cmd("GET").arg("k").query(&mut con2).expect("get");
    assert_eq!(v, "v");
}

#[test]
fn touch_counts_existing_keys_and_resets_idle_time() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "a", "1"], OK);
    check(&mut c, &["SET", "b", "1"], OK);
    check(&mut c, &["TOUCH", "a", "b", "c", "a"], ":3\r\n");
    check(&mut c, &["TOUCH", "c"], ZERO);
    check(&mut c, &["OBJECT", "IDLETIME", "a"], ZERO);
    check(&mut c, &["TOUCH"], "-ERR wrong number of arguments for 'touch' command\r\n");
}

#[test]
fn dbsize_flushdb_and_flushall() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    let mut one = raw_db(&srv, "1");
    check(&mut c, &["DBSIZE"], ZERO);
    for i in 0..100 {
        check(&mut c, &["SET", &format!("k{i}"), "v"], OK);
    }
    for i in 0..7 {
        check(&mut one, &["SET", &format!("k{i}"), "v"], OK);
    }
    check(&mut c, &["DBSIZE"], ":100\r\n");
    check(&mut one, &["DBSIZE"], ":7\r\n");
    check(&mut c, &["DBSIZE", "x"], "-ERR wrong number of arguments for 'dbsize' command\r\n");

    check(&mut one, &["FLUSHDB"], OK);
    check(&mut one, &["DBSIZE"], ZERO);
    check(&mut c, &["DBSIZE"], ":100\r\n");
    check(&mut c, &["FLUSHDB", "SYNC"], OK);
    check(&mut c, &["DBSIZE"], ZERO);
    check(&mut c, &["FLUSHDB", "bogus"], "-ERR syntax error\r\n");
    check(&mut c, &["FLUSHDB", "ASYNC", "SYNC"], "-ERR syntax error\r\n");
    check(&mut c, &["FLUSHALL", "now"], "-ERR syntax error\r\n");
    check(&mut c, &["FLUSHALL", "sync", "async"], "-ERR syntax error\r\n");

    // ASYNC with enough keys in a shard to be freed off-thread.
    let mut con = srv.client();
    let mut pipe = redis::pipe();
    for i in 0..100_000 {
        pipe.cmd("SET").arg(format!("big:{i}")).arg("v").ignore();
    }
    pipe.query::<()>(&mut con).expect("fill");
    check(&mut one, &["SET", "x", "y"], OK);
    check(&mut c, &["DBSIZE"], ":100000\r\n");
    check(&mut c, &["FLUSHDB", "async"], OK);
    check(&mut c, &["DBSIZE"], ZERO);
    check(&mut one, &["DBSIZE"], ONE);
    check(&mut c, &["SET", "again", "v"], OK);
    check(&mut c, &["FLUSHALL", "ASYNC"], OK);
    check(&mut c, &["DBSIZE"], ZERO);
    check(&mut one, &["DBSIZE"], ZERO);
    check(&mut c, &["SET", "again", "v"], OK);
    check(&mut c, &["FLUSHALL"], OK);
    check(&mut c, &["DBSIZE"], ZERO);
    check(&mut c, &["GET", "again"], NIL);
}

#[test]
fn lazyfree_lazy_user_flush_picks_async_by_default() {
    let srv = TestServer::start_with(&["--lazyfree-lazy-user-flush", "yes"]);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v"], OK);
    check(&mut c, &["FLUSHALL"], OK);
    check(&mut c, &["DBSIZE"], ZERO);
}

#[test]
fn swapdb_exchanges_contents() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    let mut one = raw_db(&srv, "1");
    check(&mut c, &["SET", "in0", "zero", "EX", "100"], OK);
    check(&mut one, &["SET", "in1", "one"], OK);
    check(&mut one, &["SET", "also1", "one"], OK);
    check(&mut c, &["SWAPDB", "0", "1"], OK);
    // Connections stay on their index and see the other contents.
    check(&mut c, &["GET", "in1"], "$3\r\none\r\n");
    check(&mut c, &["DBSIZE"], ":2\r\n");
    check(&mut one, &["GET", "in0"], "$4\r\nzero\r\n");
    let ttl = q(&mut one, &["TTL", "in0"]);
    assert!(ttl == ":100\r\n" || ttl == ":99\r\n", "TTL swapped along: {ttl}");
    check(&mut one, &["EXISTS", "in1"], ZERO);
    check(&mut c, &["SWAPDB", "1", "1"], OK);
    check(&mut one, &["DBSIZE"], ONE);

    check(&mut c, &["SWAPDB", "x", "1"], "-ERR invalid first DB index\r\n");
    check(&mut c, &["SWAPDB", "0", "x"], "-ERR invalid second DB index\r\n");
    check(&mut c, &["SWAPDB", "99999999999", "0"], "-ERR invalid first DB index\r\n");
    check(&mut c, &["SWAPDB", "0", "16"], "-ERR DB index is out of range\r\n");
    check(&mut c, &["SWAPDB", "-1", "0"], "-ERR DB index is out of range\r\n");
    check(&mut c, &["SWAPDB", "0"], "-ERR wrong number of arguments for 'swapdb' command\r\n");

    // With the client library, through database URLs.
    let mut con0 = client_db(&srv, 0);
    let mut con3 = client_db(&srv, 3);
    redis::cmd("SET").arg("three").arg("3").query::<()>(&mut con3).expect("set");
    redis::cmd("SWAPDB").arg(0).arg(3).query::<()>(&mut con0).expect("swapdb");
    let v: String = redis::cmd("GET").arg("three").query(&mut con0).expect("get");
    assert_eq!(v, "3");
    let n: i64 = redis::cmd("DBSIZE").query(&mut con3).expect("dbsize");
    assert_eq!(n, 2);
}

#[test]
fn randomkey_returns_live_keys() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["RANDOMKEY"], NIL);
    check(&mut c, &["SET", "only", "v"], OK);
    check(&mut c, &["RANDOMKEY"], "$4\r\nonly\r\n");
    let mut con = srv.client();
    for i in 0..50 {
        redis::cmd("SET").arg(format!("k{i}")).arg(i).query::<()>(&mut con).expect("set");
    }
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let k: String = redis::cmd("RANDOMKEY").query(&mut con).expect("randomkey");
        assert!(k == "only" || k.starts_with('k'), "{k}");
        seen.insert(k);
    }
    assert!(seen.len() > 10, "random keys vary: {}", seen.len());
    check(&mut c, &["RANDOMKEY", "x"], "-ERR wrong number of arguments for 'randomkey' command\r\n");

    // Only expired keys left: they are skipped (and removed), and the reply is nil.
    check(&mut c, &["FLUSHALL"], OK);
    check(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"], OK);
    for i in 0..20 {
        check(&mut c, &["SET", &format!("e{i}"), "v", "PX", "1"], OK);
    }
    check(&mut c, &["SET", "live", "v"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["RANDOMKEY"], "$4\r\nlive\r\n");
    check(&mut c, &["DEL", "live"], ONE);
    check(&mut c, &["RANDOMKEY"], NIL);
    check(&mut c, &["DBSIZE"], ZERO);
}

#[test]
fn keys_matches_glob_patterns() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "user:1", "user:2", "x"] {
        redis::cmd("SET").arg(k).arg("v").query::<()>(&mut con).expect("set");
    }
    let sorted = |pat: &str, con: &mut redis::Connection| {
        let mut v: Vec<String> = redis::cmd("KEYS").arg(pat).query(con).expect("keys");
        v.sort();
        v
    };
    assert_eq!(sorted("h?llo", &mut con), ["hallo", "hello", "hxllo"]);
    assert_eq!(sorted("h*llo", &mut con), ["hallo", "heeeello", "hello", "hllo", "hxllo"]);
    assert_eq!(sorted("h[ae]llo", &mut con), ["hallo", "hello"]);
    assert_eq!(sorted("h[^e]llo", &mut con), ["hallo", "hxllo"]);
    assert_eq!(sorted("h[a-b]llo", &mut con), ["hallo"]);
    assert_eq!(sorted("user:*", &mut con), ["user:1", "user:2"]);
    assert!(sorted("nothing*", &mut con).is_empty());
    assert_eq!(sorted("*", &mut con).len(), 8);

    let mut c = srv.raw();
    // "*" alone also matches the empty key name (Redis special-cases it).
    check(&mut c, &["SET", "", "empty"], OK);
    let all = q(&mut c, &["KEYS", "*"]);
    assert!(all.starts_with("*9\r\n") && all.contains("$0\r\n\r\n"), "{all}");
    check(&mut c, &["KEYS", "x"], "*1\r\n$1\r\nx\r\n");
    check(&mut c, &["KEYS"], "-ERR wrong number of arguments for 'keys' command\r\n");

    // Expired keys are not listed.
    check(&mut c, &["FLUSHALL"], OK);
    check(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"], OK);
    check(&mut c, &["SET", "dead", "v", "PX", "1"], OK);
    check(&mut c, &["SET", "alive", "v"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["KEYS", "*"], "*1\r\n$5\r\nalive\r\n");
}

#[test]
fn object_encoding_refcount_idletime() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "int", "12345"], OK);
    check(&mut c, &["SET", "small", "100"], OK);
    check(&mut c, &["SET", "neg", "-5"], OK);
    check(&mut c, &["SET", "emb", "hello"], OK);
    check(&mut c, &["SET", "long", &"x".repeat(45)], OK);
    // APPEND to a missing key stores the argument as SET would; appending again grows it.
    check(&mut c, &["APPEND", "grown", "ab"], ":2\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "grown"], "$6\r\nembstr\r\n");
    check(&mut c, &["APPEND", "grown", "c"], ":3\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "int"], "$3\r\nint\r\n");
    check(&mut c, &["OBJECT", "encoding", "emb"], "$6\r\nembstr\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "long"], "$3\r\nraw\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "grown"], "$3\r\nraw\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "missing"], NIL);

    // Redis 7.2 shares the integers 0..9999 and reports INT_MAX for them.
    check(&mut c, &["OBJECT", "REFCOUNT", "small"], ":2147483647\r\n");
    check(&mut c, &["OBJECT", "REFCOUNT", "int"], ONE);
    check(&mut c, &["OBJECT", "REFCOUNT", "neg"], ONE);
    check(&mut c, &["OBJECT", "REFCOUNT", "emb"], ONE);
    check(&mut c, &["OBJECT", "REFCOUNT", "missing"], NIL);

    check(&mut c, &["OBJECT", "IDLETIME", "emb"], ZERO);
    check(&mut c, &["OBJECT", "IDLETIME", "missing"], NIL);
    check(
        &mut c,
        &["OBJECT", "FREQ", "emb"],
        "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
    );
    check(&mut c, &["OBJECT", "FREQ", "missing"], NIL);

    check(&mut c, &["OBJECT"], "-ERR wrong number of arguments for 'object' command\r\n");
    check(&mut c, &["OBJECT", "ENCODING"], "-ERR wrong number of arguments for 'object|encoding' command\r\n");
    check(
        &mut c,
        &["OBJECT", "REFCOUNT", "a", "b"],
        "-ERR wrong number of arguments for 'object|refcount' command\r\n",
    );
    check(&mut c, &["OBJECT", "FREQ"], "-ERR wrong number of arguments for 'object|freq' command\r\n");
    check(&mut c, &["OBJECT", "IDLETIME"], "-ERR wrong number of arguments for 'object|idletime' command\r\n");
    check(&mut c, &["OBJECT", "HELP", "x"], "-ERR wrong number of arguments for 'object|help' command\r\n");
    check(&mut c, &["OBJECT", "nope", "k"], "-ERR unknown subcommand 'nope'. Try OBJECT HELP.\r\n");

    let help = q(&mut c, &["OBJECT", "HELP"]);
    assert!(help.starts_with("*13\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"), "{help}");
    for sub in ["ENCODING <key>", "FREQ <key>", "IDLETIME <key>", "REFCOUNT <key>", "+HELP\r\n"] {
        assert!(help.contains(sub), "help lists {sub}: {help}");
    }
}

#[test]
fn object_freq_and_idletime_under_lfu_and_lru_policies() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v"], OK);
    let freq = q(&mut c, &["OBJECT", "FREQ", "k"]);
    assert!(freq.starts_with(':'), "{freq}");
    check(
        &mut c,
        &["OBJECT", "IDLETIME", "k"],
        "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n",
    );
    // With maxmemory set and an LRU/LFU policy, Redis gives each key its own integer.
    check(&mut c, &["SET", "small", "7"], OK);
    check(&mut c, &["OBJECT", "REFCOUNT", "small"], ":2147483647\r\n");
    check(&mut c, &["CONFIG", "SET", "maxmemory", "1gb"], OK);
    check(&mut c, &["OBJECT", "REFCOUNT", "small"], ONE);
    check(&mut c, &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"], OK);
    check(&mut c, &["OBJECT", "REFCOUNT", "small"], ":2147483647\r\n");
    // As in Redis, a key keeps its LFU stamp until it is next accessed under the LRU policy.
    check(&mut c, &["GET", "k"], "$1\r\nv\r\n");
    check(&mut c, &["OBJECT", "IDLETIME", "k"], ZERO);
}

#[test]
fn resp3_nulls_for_missing_keys() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    let hello = q(&mut c, &["HELLO", "3"]);
    assert!(hello.starts_with('%'), "{hello}");
    check(&mut c, &["RANDOMKEY"], "_\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "missing"], "_\r\n");
    check(&mut c, &["TYPE", "missing"], "+none\r\n");
}

#[test]
fn collections_through_generic_commands() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["HSET", "h", "f", "v"], ONE);
    check(&mut c, &["RPUSH", "l", "a", "b"], ":2\r\n");
    check(&mut c, &["SADD", "s", "1", "2"], ":2\r\n");
    check(&mut c, &["TYPE", "h"], "+hash\r\n");
    check(&mut c, &["TYPE", "l"], "+list\r\n");
    check(&mut c, &["TYPE", "s"], "+set\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "h"], "$8\r\nlistpack\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "l"], "$8\r\nlistpack\r\n");
    check(&mut c, &["OBJECT", "ENCODING", "s"], "$6\r\nintset\r\n");
    check(&mut c, &["OBJECT", "REFCOUNT", "h"], ONE);

    // COPY duplicates the collection: changing the copy leaves the source alone.
    check(&mut c, &["COPY", "h", "h2"], ONE);
    check(&mut c, &["HSET", "h2", "f", "changed"], ZERO);
    check(&mut c, &["HGET", "h", "f"], "$1\r\nv\r\n");
    check(&mut c, &["HGET", "h2", "f"], "$7\r\nchanged\r\n");
    check(&mut c, &["COPY", "l", "l", "DB", "1"], ONE);

    // RENAME and MOVE carry the collection and its TTL over.
    check(&mut c, &["EXPIRE", "l", "100"], ONE);
    check(&mut c, &["RENAME", "l", "l2"], OK);
    check(&mut c, &["LRANGE", "l2", "0", "-1"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    let ttl = q(&mut c, &["TTL", "l2"]);
    assert!(ttl == ":100\r\n" || ttl == ":99\r\n", "TTL kept: {ttl}");
    check(&mut c, &["MOVE", "s", "1"], ONE);
    let mut one = raw_db(&srv, "1");
    check(&mut one, &["SCARD", "s"], ":2\r\n");
    check(&mut one, &["LRANGE", "l", "0", "-1"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    check(&mut one, &["KEYS", "s"], "*1\r\n$1\r\ns\r\n");

    // A collection that expires is gone for every command.
    check(&mut c, &["PEXPIRE", "h2", "1"], ONE);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["TYPE", "h2"], "+none\r\n");
    check(&mut c, &["DEL", "h", "l2", "h2"], ":2\r\n");
    check(&mut c, &["DBSIZE"], ZERO);
}
