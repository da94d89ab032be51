//! DUMP and RESTORE over TCP: round trips of every type and encoding, TTL, IDLETIME and FREQ
//! handling, every error with Redis 7.2's text, and interoperability with a real redis-server
//! (payloads from Redis restored into Larder and the other way round) when one is installed.

mod common;

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{RawConn, TestServer};
use larder_persistence::dump::seal;
use redis::{Connection, Value};

// ---- helpers ----

/// Sends a command on a raw connection and returns the reply as text.
fn q(c: &mut RawConn, args: &[&[u8]]) -> String {
    String::from_utf8_lossy(&c.cmd(args)).into_owned()
}

/// Asserts the exact raw reply of a command.
#[track_caller]
fn check(c: &mut RawConn, args: &[&[u8]], want: &str) {
    assert_eq!(q(c, args), want, "reply to {:?}", args.iter().map(|a| String::from_utf8_lossy(a)).collect::<Vec<_>>());
}

/// Runs a command given as strings with the `redis` client.
fn run<T: redis::FromRedisValue>(con: &mut Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// DUMP of `key` (None when absent).
fn dump(con: &mut Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("DUMP").arg(key).query(con).unwrap_or_else(|e| panic!("DUMP {key}: {e}"))
}

/// RESTORE `key` `ttl` `payload` with extra options; the reply or the error text.
fn restore(con: &mut Connection, key: &str, ttl: i64, payload: &[u8], opts: &[&str]) -> Result<String, String> {
    let mut cmd = redis::cmd("RESTORE");
    cmd.arg(key).arg(ttl).arg(payload);
    for o in opts {
        cmd.arg(*o);
    }
    cmd.query::<String>(con).map_err(|e| e.to_string())
}

/// A comparable description of a key's value, read with commands only (so it works the same
/// against Larder and Redis): type and contents, sets and hashes sorted, scores as numbers.
#[derive(Debug, PartialEq)]
enum Contents {
    None,
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    ZSet(Vec<(Vec<u8>, f64)>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
}

fn contents(con: &mut Connection, key: &str) -> Contents {
    let t: String = run(con, &["TYPE", key]);
    match t.as_str() {
        "none" => Contents::None,
        "string" => Contents::Str(run(con, &["GET", key])),
        "list" => Contents::List(run(con, &["LRANGE", key, "0", "-1"])),
        "set" => {
            let mut v: Vec<Vec<u8>> = run(con, &["SMEMBERS", key]);
            v.sort();
            Contents::Set(v)
        }
        "zset" => {
            let flat: Vec<Vec<u8>> = run(con, &["ZRANGE", key, "0", "-1", "WITHSCORES"]);
            let pairs = flat
                .chunks(2)
                .map(|p| {
                    let s = String::from_utf8_lossy(&p[1]).into_owned();
                    (p[0].clone(), s.parse::<f64>().unwrap_or_else(|_| panic!("score {s}")))
                })
                .collect();
            Contents::ZSet(pairs)
        }
        "hash" => {
            let flat: Vec<Vec<u8>> = run(con, &["HGETALL", key]);
            Contents::Hash(flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
        }
        other => panic!("unexpected type {other}"),
    }
}

fn encoding(con: &mut Connection, key: &str) -> String {
    run(con, &["OBJECT", "ENCODING", key])
}

/// Printable pseudo-random bytes (incompressible enough for LZF).
fn noise(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            33 + (x % 94) as u8
        })
        .collect()
}

/// Sends one command with binary arguments.
fn send(con: &mut Connection, args: &[&[u8]]) {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).expect("command name"));
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let _: Value = cmd.query(con).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])));
}

/// Creates a key of every type in every encoding (small and large), with the same commands
/// on any server. Returns the keys.
fn populate(con: &mut Connection) -> Vec<&'static str> {
    let n = |i: usize| i.to_string().into_bytes();
    let mut keys = Vec::new();
    let mut add = |con: &mut Connection, key: &'static str, cmd: &[u8], items: Vec<Vec<u8>>| {
        let mut args: Vec<&[u8]> = vec![cmd, key.as_bytes()];
        args.extend(items.iter().map(Vec::as_slice));
        send(con, &args);
        if !keys.contains(&key) {
            keys.push(key);
        }
    };
    // Strings: int, embstr, raw, long compressible, long incompressible, binary, empty.
    add(con, "s:int", b"SET", vec![b"12345".to_vec()]);
    add(con, "s:negint", b"SET", vec![b"-9223372036854775808".to_vec()]);
    add(con, "s:embstr", b"SET", vec![b"hello world".to_vec()]);
    add(con, "s:raw", b"SET", vec![noise(100, 1)]);
    add(con, "s:lzf", b"SET", vec![b"abcd".repeat(250_000)]);
    add(con, "s:big", b"SET", vec![noise(200_000, 2)]);
    add(con, "s:binary", b"SET", vec![(0..=255u8).collect()]);
    add(con, "s:empty", b"SET", vec![Vec::new()]);
    // Lists: listpack, quicklist of many small elements, of big elements.
    add(con, "l:small", b"RPUSH", vec![b"a".to_vec(), b"1".to_vec(), b"-5000".to_vec(), b"x".repeat(70)]);
    add(con, "l:ints", b"RPUSH", (0..5000).map(n).collect());
    add(con, "l:big", b"RPUSH", (0..200).map(|i| noise(500, i as u32 + 7)).collect());
    add(con, "l:lzf", b"RPUSH", (0..3000).map(|i| format!("item:{i}").into_bytes()).collect());
    // Sets: intset, listpack, hashtable (strings and integers).
    add(con, "set:ints", b"SADD", vec![b"1".to_vec(), b"-70000".to_vec(), b"5000000000".to_vec()]);
    add(con, "set:small", b"SADD", vec![b"a".to_vec(), b"b".to_vec(), b"17".to_vec()]);
    add(con, "set:big", b"SADD", (0..1000).map(|i| format!("member:{i}").into_bytes()).collect());
    add(con, "set:bigints", b"SADD", (0..1000).map(|i| n(i * 3)).collect());
    // Sorted sets: listpack with odd scores, skiplist by count and by member length.
    let odd = ["1", "a", "2.5", "b", "-inf", "c", "inf", "d", "1e300", "e", "0.1", "f", "-12345", "g"];
    add(con, "z:small", b"ZADD", odd.iter().map(|s| s.as_bytes().to_vec()).collect());
    add(con, "z:big", b"ZADD", (0..500).flat_map(|i| [format!("{}", i as f64 / 7.0).into_bytes(), n(i)]).collect());
    add(con, "z:long", b"ZADD", vec![b"1".to_vec(), b"m".repeat(100), b"2".to_vec(), b"n".to_vec()]);
    // Hashes: listpack, hashtable by count and by value length.
    add(con, "h:small", b"HSET", vec![b"f1".to_vec(), b"v1".to_vec(), b"n".to_vec(), b"100".to_vec()]);
    add(con, "h:big", b"HSET", (0..1000).flat_map(|i| [format!("f{i}").into_bytes(), n(i)]).collect());
    add(con, "h:long", b"HSET", vec![b"f".to_vec(), b"v".repeat(100)]);
    keys
}

/// The encodings Larder gives the keys `populate` makes (Redis 7.2's).
const LARDER_ENCODINGS: &[(&str, &str)] = &[
    ("s:int", "int"),
    ("s:embstr", "embstr"),
    ("s:raw", "raw"),
    ("l:small", "listpack"),
    ("l:big", "quicklist"),
    ("set:ints", "intset"),
    ("set:small", "listpack"),
    ("set:big", "hashtable"),
    ("set:bigints", "hashtable"),
    ("z:small", "listpack"),
    ("z:big", "skiplist"),
    ("z:long", "skiplist"),
    ("h:small", "listpack"),
    ("h:big", "hashtable"),
    ("h:long", "hashtable"),
];

// ---- round trips ----

#[test]
fn every_type_and_encoding_round_trips() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let keys = populate(&mut con);
    for key in keys {
        let before = contents(&mut con, key);
        let enc = encoding(&mut con, key);
        let payload = dump(&mut con, key).expect("key exists");
        let _: i64 = run(&mut con, &["DEL", key]);
        assert_eq!(restore(&mut con, key, 0, &payload, &[]), Ok("OK".into()), "{key}");
        assert_eq!(contents(&mut con, key), before, "{key}");
        assert_eq!(encoding(&mut con, key), enc, "{key}");
        let ttl: i64 = run(&mut con, &["PTTL", key]);
        assert_eq!(ttl, -1, "{key}");
        // The same payload restores under another name and dumps to the same bytes.
        let copy = format!("{key}:copy");
        assert_eq!(restore(&mut con, &copy, 0, &payload, &[]), Ok("OK".into()));
        assert_eq!(dump(&mut con, &copy), Some(payload), "{key}");
    }
    for (key, enc) in LARDER_ENCODINGS {
        assert_eq!(encoding(&mut con, key), *enc, "{key}");
    }
    // A string grown in place (the raw encoding).
    let _: i64 = run(&mut con, &["APPEND", "s:appended", "abc"]);
    let _: i64 = run(&mut con, &["APPEND", "s:appended", "def"]);
    let p = dump(&mut con, "s:appended").expect("exists");
    assert_eq!(restore(&mut con, "s:appended2", 0, &p, &[]), Ok("OK".into()));
    let v: String = run(&mut con, &["GET", "s:appended2"]);
    assert_eq!(v, "abcdef");
}

#[test]
fn dump_of_a_missing_key_is_nil_and_dump_ignores_the_ttl() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &[b"DUMP", b"nosuchkey"], "$-1\r\n");
    let mut con = srv.client();
    let _: () = run(&mut con, &["SET", "k", "v", "EX", "100"]);
    let with_ttl = dump(&mut con, "k").expect("exists");
    let _: () = run(&mut con, &["SET", "k", "v"]);
    assert_eq!(dump(&mut con, "k"), Some(with_ttl));
    // The payload's footer: RDB version 10 (Redis 7.0's, loadable everywhere), then the CRC64.
    let p = dump(&mut con, "k").expect("exists");
    assert_eq!(&p[p.len() - 10..p.len() - 8], &[10, 0]);
}

#[test]
fn hash_field_ttls_survive_and_expired_fields_are_left_out() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let _: i64 = run(&mut con, &["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    let _: Vec<i64> = run(&mut con, &["HPEXPIRE", "h", "100000", "FIELDS", "1", "a"]);
    let p = dump(&mut con, "h").expect("exists");
    assert_eq!(restore(&mut con, "h2", 0, &p, &[]), Ok("OK".into()));
    let ttls: Vec<i64> = run(&mut con, &["HPTTL", "h2", "FIELDS", "3", "a", "b", "c"]);
    assert!((90_000..=100_000).contains(&ttls[0]), "{ttls:?}");
    assert_eq!(&ttls[1..], &[-1, -1]);
    assert_eq!(contents(&mut con, "h2"), contents(&mut con, "h"));
    // A field about to expire is not in a later DUMP.
    let _: Vec<i64> = run(&mut con, &["HPEXPIRE", "h", "1", "FIELDS", "1", "b"]);
    std::thread::sleep(Duration::from_millis(20));
    let p = dump(&mut con, "h").expect("exists");
    assert_eq!(restore(&mut con, "h3", 0, &p, &[]), Ok("OK".into()));
    let fields: Vec<String> = run(&mut con, &["HKEYS", "h3"]);
    assert!(!fields.contains(&"b".to_string()), "{fields:?}");
}

#[test]
fn restore_wakes_a_blocked_client() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let _: i64 = run(&mut con, &["RPUSH", "src", "x", "y"]);
    let p = dump(&mut con, "src").expect("exists");
    let mut waiter = srv.raw();
    waiter.send(&common::encode(&[b"BLPOP", b"q", b"5"]));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(restore(&mut con, "q", 0, &p, &[]), Ok("OK".into()));
    assert_eq!(String::from_utf8_lossy(&waiter.read_reply()), "*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
}

// ---- TTL, IDLETIME, FREQ ----

#[test]
fn ttl_handling() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let _: () = run(&mut con, &["SET", "foo", "bar"]);
    let p = dump(&mut con, "foo").expect("exists");
    // Relative TTL in ms.
    assert_eq!(restore(&mut con, "t1", 5000, &p, &[]), Ok("OK".into()));
    let ttl: i64 = run(&mut con, &["PTTL", "t1"]);
    assert!((4000..=5000).contains(&ttl), "{ttl}");
    // Beyond 32 bits.
    assert_eq!(restore(&mut con, "t2", 2_569_591_501, &p, &[]), Ok("OK".into()));
    let ttl: i64 = run(&mut con, &["PTTL", "t2"]);
    assert!((2_569_591_501 - 3000..=2_569_591_501).contains(&ttl), "{ttl}");
    // Absolute.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64;
    assert_eq!(restore(&mut con, "t3", now + 3000, &p, &["ABSTTL"]), Ok("OK".into()));
    let ttl: i64 = run(&mut con, &["PTTL", "t3"]);
    assert!((2000..=3100).contains(&ttl), "{ttl}");
    // TTL 0 with ABSTTL: no expiry.
    assert_eq!(restore(&mut con, "t4", 0, &p, &["ABSTTL"]), Ok("OK".into()));
    let ttl: i64 = run(&mut con, &["PTTL", "t4"]);
    assert_eq!(ttl, -1);
    // Absolute time in the past: OK, nothing created; with REPLACE the old key is deleted.
    assert_eq!(restore(&mut con, "t5", now - 3000, &p, &["ABSTTL"]), Ok("OK".into()));
    let n: i64 = run(&mut con, &["EXISTS", "t5"]);
    assert_eq!(n, 0);
    let _: () = run(&mut con, &["SET", "t6", "old"]);
    assert_eq!(restore(&mut con, "t6", now - 3000, &p, &["ABSTTL", "REPLACE"]), Ok("OK".into()));
    let n: i64 = run(&mut con, &["EXISTS", "t6"]);
    assert_eq!(n, 0);
    // REPLACE replaces value and TTL.
    let _: () = run(&mut con, &["SET", "t7", "old", "EX", "100"]);
    assert_eq!(restore(&mut con, "t7", 0, &p, &["REPLACE"]), Ok("OK".into()));
    let v: String = run(&mut con, &["GET", "t7"]);
    assert_eq!(v, "bar");
    let ttl: i64 = run(&mut con, &["PTTL", "t7"]);
    assert_eq!(ttl, -1);
    // Options are case-insensitive and may repeat.
    assert_eq!(restore(&mut con, "t8", 0, &p, &["replace", "REPLACE", "absttl"]), Ok("OK".into()));
}

#[test]
fn idletime_and_freq() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let _: () = run(&mut con, &["SET", "foo", "bar"]);
    let p = dump(&mut con, "foo").expect("exists");
    let _: () = run(&mut con, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    assert_eq!(restore(&mut con, "idle", 0, &p, &["IDLETIME", "1000"]), Ok("OK".into()));
    let idle: i64 = run(&mut con, &["OBJECT", "IDLETIME", "idle"]);
    assert!((1000..=1010).contains(&idle), "{idle}");
    // FREQ is ignored under an LRU policy.
    assert_eq!(restore(&mut con, "f0", 0, &p, &["FREQ", "100"]), Ok("OK".into()));
    let _: () = run(&mut con, &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    assert_eq!(restore(&mut con, "freq", 0, &p, &["FREQ", "100"]), Ok("OK".into()));
    let freq: i64 = run(&mut con, &["OBJECT", "FREQ", "freq"]);
    assert_eq!(freq, 100);
    let v: String = run(&mut con, &["GET", "freq"]);
    assert_eq!(v, "bar");
    let _: () = run(&mut con, &["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
}

// ---- errors ----

#[test]
fn errors_have_redis_texts_and_order() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut con = srv.client();
    let _: () = run(&mut con, &["SET", "foo", "bar"]);
    let p = dump(&mut con, "foo").expect("exists");
    let p = p.as_slice();
    check(&mut c, &[b"DUMP"], "-ERR wrong number of arguments for 'dump' command\r\n");
    check(&mut c, &[b"DUMP", b"a", b"b"], "-ERR wrong number of arguments for 'dump' command\r\n");
    check(&mut c, &[b"RESTORE", b"k", b"0"], "-ERR wrong number of arguments for 'restore' command\r\n");
    // BUSYKEY before anything is checked about the TTL or the payload.
    check(&mut c, &[b"RESTORE", b"foo", b"0", b"..."], "-BUSYKEY Target key name already exists.\r\n");
    check(&mut c, &[b"RESTORE", b"foo", b"x", b"..."], "-BUSYKEY Target key name already exists.\r\n");
    // Options are parsed first.
    check(&mut c, &[b"RESTORE", b"foo", b"0", b"...", b"invalid-option"], "-ERR syntax error\r\n");
    check(&mut c, &[b"RESTORE", b"k", b"0", p, b"IDLETIME"], "-ERR syntax error\r\n");
    check(&mut c, &[b"RESTORE", b"k", b"0", p, b"IDLETIME", b"1", b"FREQ", b"1"], "-ERR syntax error\r\n");
    check(&mut c, &[b"RESTORE", b"k", b"0", p, b"FREQ", b"1", b"IDLETIME", b"1"], "-ERR syntax error\r\n");
    check(&mut c, &[b"RESTORE", b"foo", b"0", p, b"IDLETIME", b"-1"], "-ERR Invalid IDLETIME value, must be >= 0\r\n");
    check(&mut c, &[b"RESTORE", b"k", b"0", p, b"IDLETIME", b"x"], "-ERR value is not an integer or out of range\r\n");
    check(
        &mut c,
        &[b"RESTORE", b"k", b"0", p, b"FREQ", b"256"],
        "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n",
    );
    check(&mut c, &[b"RESTORE", b"k", b"0", p, b"FREQ", b"-1"], "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n");
    check(&mut c, &[b"RESTORE", b"k", b"0", p, b"FREQ", b"1.5"], "-ERR value is not an integer or out of range\r\n");
    // The TTL.
    check(&mut c, &[b"RESTORE", b"k", b"abc", p], "-ERR value is not an integer or out of range\r\n");
    check(&mut c, &[b"RESTORE", b"k", b"-1", p], "-ERR Invalid TTL value, must be >= 0\r\n");
    check(&mut c, &[b"RESTORE", b"k", b"-1", b"..."], "-ERR Invalid TTL value, must be >= 0\r\n");
    // The footer: too short, bad checksum, a version newer than 12.
    const WRONG: &str = "-ERR DUMP payload version or checksum are wrong\r\n";
    check(&mut c, &[b"RESTORE", b"k", b"0", b"..."], WRONG);
    check(&mut c, &[b"RESTORE", b"k", b"0", b""], WRONG);
    let mut bad = p.to_vec();
    let n = bad.len();
    bad[n - 1] ^= 1;
    check(&mut c, &[b"RESTORE", b"k", b"0", &bad], WRONG);
    let body = &p[..p.len() - 10];
    check(&mut c, &[b"RESTORE", b"k", b"0", &seal(body.to_vec(), 13)], WRONG);
    check(&mut c, &[b"RESTORE", b"v12", b"0", &seal(body.to_vec(), 12)], "+OK\r\n");
    check(&mut c, &[b"RESTORE", b"v9", b"0", &seal(body.to_vec(), 9)], "+OK\r\n");
    // A valid footer around bad data.
    const BAD: &str = "-ERR Bad data format\r\n";
    for data in
        [&b""[..], b"\x00", b"\x00\x05abc", b"\x02\x00", b"\x02\x02\x01a\x01a", b"\x0f\x00", b"\x07\x00", b"\xff"]
    {
        check(&mut c, &[b"RESTORE", b"k", b"0", &seal(data.to_vec(), 11)], BAD);
    }
    // Nothing was created by the failures.
    check(&mut c, &[b"EXISTS", b"k"], ":0\r\n");
    // A failed RESTORE ... REPLACE leaves the old key alone.
    check(&mut c, &[b"RESTORE", b"foo", b"0", &seal(b"\x02\x00".to_vec(), 11), b"REPLACE"], BAD);
    check(&mut c, &[b"GET", b"foo"], "$3\r\nbar\r\n");
    // DUMP works on every type; RESTORE's key may hold any type with REPLACE.
    check(&mut c, &[b"RPUSH", b"list", b"a"], ":1\r\n");
    check(&mut c, &[b"RESTORE", b"list", b"0", p, b"REPLACE"], "+OK\r\n");
    check(&mut c, &[b"TYPE", b"list"], "+string\r\n");
}

#[test]
fn truncated_and_mutated_payloads_never_hurt_the_server() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let keys = populate(&mut con);
    let mut c = srv.raw();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for key in keys {
        let p = dump(&mut con, key).expect("exists");
        let body = &p[..p.len() - 10];
        for cut in [0, 1, body.len() / 2, body.len() - 1] {
            let reply = q(&mut c, &[b"RESTORE", b"cut", b"0", &seal(body[..cut].to_vec(), 11), b"REPLACE"]);
            assert_eq!(reply, "-ERR Bad data format\r\n", "{key} cut {cut}");
        }
        for _ in 0..20 {
            let mut m = body.to_vec();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x as usize) % m.len();
            m[i] ^= (x >> 32) as u8 | 1;
            let reply = q(&mut c, &[b"RESTORE", b"mutant", b"0", &seal(m, 11), b"REPLACE"]);
            assert!(reply == "+OK\r\n" || reply == "-ERR Bad data format\r\n", "{key}: {reply}");
        }
    }
    check(&mut c, &[b"PING"], "+PONG\r\n");
}

// ---- interoperability with redis-server ----

/// A redis-server on a free port, stopped when dropped.
struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts Debian's (or any) redis-server from PATH; None when there is none.
    fn start() -> Option<RedisServer> {
        Command::new("redis-server").arg("--version").output().ok().filter(|o| o.status.success())?;
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
            let dir = std::env::temp_dir().join(format!("larder-dump-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).ok()?;
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--enable-debug-command", "yes"])
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(RedisServer { child, port, dir });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        None
    }

    fn client(&self) -> Connection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client");
        c.get_connection().expect("connect to redis-server")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The redis-server, or a loud message explaining why the test does nothing.
fn redis_or_skip(test: &str) -> Option<RedisServer> {
    let r = RedisServer::start();
    if r.is_none() {
        eprintln!("\n!!!!!!!! SKIPPED {test}: no redis-server on PATH (apt-get install redis-server) !!!!!!!!\n");
    }
    r
}

/// The RDB version a server writes in its DUMP payloads.
fn dump_version(con: &mut Connection) -> u16 {
    let _: () = run(con, &["SET", "__version_probe", "x"]);
    let p = dump(con, "__version_probe").expect("exists");
    let _: i64 = run(con, &["DEL", "__version_probe"]);
    u16::from_le_bytes([p[p.len() - 10], p[p.len() - 9]])
}

/// Redis-only encodings worth covering too: compressed quicklist nodes and a plain node.
fn populate_redis_extras(con: &mut Connection) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let _: () = run(con, &["CONFIG", "SET", "list-compress-depth", "1"]);
    let mut cmd = redis::cmd("RPUSH");
    cmd.arg("x:compressed");
    for i in 0..5000 {
        cmd.arg(format!("element:{i}"));
    }
    let _: i64 = cmd.query(con).expect("rpush");
    keys.push("x:compressed");
    let _: () = run(con, &["CONFIG", "SET", "list-compress-depth", "0"]);
    let plain: redis::RedisResult<Value> = redis::cmd("DEBUG").arg("QUICKLIST-PACKED-THRESHOLD").arg(100).query(con);
    if plain.is_ok() {
        let _: i64 = run(con, &["RPUSH", "x:plain", "small", &"P".repeat(300), "tail"]);
        let _: Value = redis::cmd("DEBUG").arg("QUICKLIST-PACKED-THRESHOLD").arg(1 << 30).query(con).expect("reset");
        keys.push("x:plain");
    } else {
        eprintln!("note: DEBUG QUICKLIST-PACKED-THRESHOLD unavailable; plain quicklist nodes not covered");
    }
    keys
}

#[test]
fn interop_redis_to_larder() {
    let Some(redis) = redis_or_skip("interop_redis_to_larder") else { return };
    let srv = TestServer::start();
    let mut r = redis.client();
    let mut l = srv.client();
    let mut keys = populate(&mut r);
    keys.extend(populate_redis_extras(&mut r));
    for key in keys {
        let payload = dump(&mut r, key).expect("exists in redis");
        assert_eq!(restore(&mut l, key, 0, &payload, &[]), Ok("OK".into()), "{key}");
        assert_eq!(contents(&mut l, key), contents(&mut r, key), "{key}");
    }
    // Restored values take Larder's encodings, as if built by commands.
    for (key, enc) in LARDER_ENCODINGS {
        assert_eq!(encoding(&mut l, key), *enc, "{key}");
    }
    // With a TTL, as migration tools send it.
    let payload = dump(&mut r, "h:small").expect("exists");
    assert_eq!(restore(&mut l, "ttl", 60_000, &payload, &[]), Ok("OK".into()));
    let ttl: i64 = run(&mut l, &["PTTL", "ttl"]);
    assert!((50_000..=60_000).contains(&ttl), "{ttl}");
}

#[test]
fn interop_larder_to_redis() {
    let Some(redis) = redis_or_skip("interop_larder_to_redis") else { return };
    let srv = TestServer::start();
    let mut r = redis.client();
    let mut l = srv.client();
    let keys = populate(&mut l);
    let redis_version = dump_version(&mut r);
    for key in keys {
        let payload = dump(&mut l, key).expect("exists in larder");
        // Larder stamps payloads with Redis 7.0's version, so they restore as they are.
        assert!(redis_version >= 10, "redis-server older than 7.0");
        assert_eq!(restore(&mut r, key, 0, &payload, &["REPLACE"]), Ok("OK".into()), "{key}");
        assert_eq!(contents(&mut r, key), contents(&mut l, key), "{key}");
    }
}

#[test]
fn restore_emits_keyspace_events() {
    let srv = TestServer::start();
    let mut con = srv.client();
    let _: () = run(&mut con, &["CONFIG", "SET", "notify-keyspace-events", "KEg"]);
    let _: () = run(&mut con, &["SET", "foo", "bar"]);
    let p = dump(&mut con, "foo").expect("exists");
    let mut sub = srv.raw();
    sub.cmd(&[b"PSUBSCRIBE", b"__keyevent@0__:*"]);
    assert_eq!(restore(&mut con, "k", 0, &p, &[]), Ok("OK".into()));
    let msg = String::from_utf8_lossy(&sub.read_reply()).into_owned();
    assert!(msg.contains("__keyevent@0__:restore") && msg.ends_with("$1\r\nk\r\n"), "{msg}");
    assert_eq!(restore(&mut con, "k", 1, &p, &["ABSTTL", "REPLACE"]), Ok("OK".into()));
    let msg = String::from_utf8_lossy(&sub.read_reply()).into_owned();
    assert!(msg.contains("__keyevent@0__:del"), "{msg}");
}
