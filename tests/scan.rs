//! SCAN over TCP: complete iterations (exactly once when quiet, at least once while the
//! keyspace grows), MATCH, TYPE and COUNT, cursor parsing and errors.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::{check, q, TestServer};

/// Lets tests switch the active expiry cycle off (DEBUG SET-ACTIVE-EXPIRE).
const DEBUG: &[&str] = &["--enable-debug-command", "yes"];

/// One SCAN call with extra options: (next cursor, keys).
fn scan_once(con: &mut redis::Connection, cursor: u64, opts: &[&str]) -> (u64, Vec<String>) {
    let mut cmd = redis::cmd("SCAN");
    cmd.arg(cursor);
    for o in opts {
        cmd.arg(*o);
    }
    cmd.query(con).expect("scan")
}

/// A whole iteration, returning every key with how many times it came back.
fn scan_all(con: &mut redis::Connection, opts: &[&str]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        let (next, keys) = scan_once(con, cursor, opts);
        for k in keys {
            *seen.entry(k).or_insert(0) += 1;
        }
        calls += 1;
        assert!(calls < 1_000_000, "the iteration ends");
        if next == 0 {
            return seen;
        }
        assert!(next < 1 << 53, "cursor {next} fits a double exactly");
        cursor = next;
    }
}

fn fill(con: &mut redis::Connection, prefix: &str, n: usize) {
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET").arg(format!("{prefix}{i}")).arg(i).ignore();
    }
    pipe.query::<()>(con).expect("fill");
}

#[test]
fn empty_database_ends_at_once() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SCAN", "0"], "*2\r\n$1\r\n0\r\n*0\r\n");
    // Any cursor on an empty database finishes the iteration.
    check(&mut c, &["SCAN", "123456789"], "*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn quiet_keyspace_returns_every_key_exactly_once() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    fill(&mut con, "key:", 5000);
    for opts in [&[][..], &["COUNT", "1"], &["COUNT", "7"], &["COUNT", "1000"], &["COUNT", "1000000"]] {
        let seen = scan_all(&mut con, opts);
        assert_eq!(seen.len(), 5000, "{opts:?}");
        assert!(seen.values().all(|&n| n == 1), "a key came back twice with {opts:?}");
        assert!((0..5000).all(|i| seen.contains_key(&format!("key:{i}"))));
    }
    // A COUNT larger than the database returns everything in one call.
    let (next, keys) = scan_once(&mut con, 0, &["COUNT", "100000"]);
    assert_eq!((next, keys.len()), (0, 5000));
}

#[test]
fn count_bounds_the_batch() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    fill(&mut con, "k", 2000);
    let (next, keys) = scan_once(&mut con, 0, &[]);
    assert_ne!(next, 0);
    // Batches end at a hash-space boundary, so a few more than COUNT may come back.
    assert!(!keys.is_empty() && keys.len() < 40, "{}", keys.len());
    let (_, keys) = scan_once(&mut con, 0, &["COUNT", "500"]);
    assert!(keys.len() >= 500 && keys.len() < 600, "{}", keys.len());
}

#[test]
fn keys_present_throughout_are_returned_while_the_table_grows() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    fill(&mut con, "keep:", 2000);
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut writer = None;
    let mut calls = 0;
    loop {
        let (next, keys) = scan_once(&mut con, cursor, &["COUNT", "20"]);
        seen.extend(keys);
        calls += 1;
        if calls == 5 {
            // Another connection adds 20k keys while the scan is under way.
            let mut other = srv.client();
            writer = Some(std::thread::spawn(move || fill(&mut other, "grow:", 20_000)));
        }
        if writer.is_some() {
            // Slow the scan down so that it overlaps the writer's inserts and table growth.
            std::thread::sleep(Duration::from_millis(2));
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    if let Some(w) = writer {
        w.join().expect("writer");
    }
    let missed: Vec<_> = (0..2000).map(|i| format!("keep:{i}")).filter(|k| !seen.contains(k)).collect();
    assert!(missed.is_empty(), "missed {} keys, e.g. {:?}", missed.len(), missed.first());

    // And while it shrinks again.
    let mut seen = HashSet::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        let (next, keys) = scan_once(&mut con, cursor, &["COUNT", "50"]);
        seen.extend(keys);
        calls += 1;
        if calls == 5 {
            let grow: Vec<String> = (0..20_000).map(|i| format!("grow:{i}")).collect();
            let n: i64 = redis::cmd("DEL").arg(&grow).query(&mut srv.client()).expect("del");
            assert_eq!(n, 20_000);
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    assert!((0..2000).all(|i| seen.contains(&format!("keep:{i}"))), "a kept key was missed while shrinking");
}

#[test]
fn match_filters_by_glob() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    fill(&mut con, "user:", 300);
    fill(&mut con, "session:", 300);
    let seen = scan_all(&mut con, &["MATCH", "user:*"]);
    assert_eq!(seen.len(), 300);
    assert!(seen.keys().all(|k| k.starts_with("user:")));
    let seen = scan_all(&mut con, &["MATCH", "user:1?", "COUNT", "50"]);
    let want: HashSet<String> = (10..20).map(|i| format!("user:{i}")).collect();
    assert_eq!(seen.keys().cloned().collect::<HashSet<_>>(), want);
    assert!(scan_all(&mut con, &["MATCH", "nothing*"]).is_empty());
    // A filtered call may come back empty with a non-zero cursor.
    let (next, keys) = scan_once(&mut con, 0, &["MATCH", "nothing*", "COUNT", "5"]);
    assert!(next != 0 && keys.is_empty());

    // MATCH * matches the empty key name too, as it does in Redis.
    redis::cmd("SET").arg("").arg("v").query::<()>(&mut con).expect("set");
    let seen = scan_all(&mut con, &["MATCH", "*"]);
    assert_eq!(seen.len(), 601);
    assert!(seen.contains_key(""));
    assert!(!scan_all(&mut con, &["MATCH", "?*"]).contains_key(""));
}

#[test]
fn type_filters_by_value_type() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    fill(&mut con, "s", 100);
    redis::cmd("APPEND").arg("grown").arg("x").query::<()>(&mut con).expect("append");
    assert_eq!(scan_all(&mut con, &["TYPE", "string"]).len(), 101);
    assert_eq!(scan_all(&mut con, &["TYPE", "STRING", "COUNT", "3"]).len(), 101);
    assert!(scan_all(&mut con, &["TYPE", "list"]).is_empty());
    assert!(scan_all(&mut con, &["TYPE", "hash"]).is_empty());
    assert!(scan_all(&mut con, &["TYPE", "zset"]).is_empty());
    assert!(scan_all(&mut con, &["TYPE", "no-such-type"]).is_empty());
    assert!(scan_all(&mut con, &["TYPE", "none"]).is_empty());
    let seen = scan_all(&mut con, &["MATCH", "s1*", "TYPE", "string", "COUNT", "10"]);
    assert_eq!(seen.len(), 11);

    // Collections are told apart from strings.
    redis::cmd("HSET").arg("h").arg("f").arg("v").query::<()>(&mut con).expect("hset");
    redis::cmd("RPUSH").arg("l").arg("a").query::<()>(&mut con).expect("rpush");
    redis::cmd("SADD").arg("set").arg("m").query::<()>(&mut con).expect("sadd");
    let only = |con: &mut redis::Connection, t: &str| scan_all(con, &["TYPE", t]).into_keys().collect::<Vec<_>>();
    assert_eq!(only(&mut con, "hash"), ["h"]);
    assert_eq!(only(&mut con, "list"), ["l"]);
    assert_eq!(only(&mut con, "SET"), ["set"]);
    assert_eq!(scan_all(&mut con, &["TYPE", "string"]).len(), 101);
    assert_eq!(scan_all(&mut con, &[]).len(), 104);
}

#[test]
fn expired_keys_are_left_out() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"], "+OK\r\n");
    let mut con = srv.client();
    let mut pipe = redis::pipe();
    for i in 0..100 {
        pipe.cmd("SET").arg(format!("dead:{i}")).arg("v").arg("PX").arg(1).ignore();
    }
    pipe.query::<()>(&mut con).expect("fill");
    fill(&mut con, "live:", 50);
    std::thread::sleep(Duration::from_millis(20));
    let seen = scan_all(&mut con, &[]);
    assert_eq!(seen.len(), 50);
    assert!(seen.keys().all(|k| k.starts_with("live:")));
    // SCAN removed the expired keys it met.
    check(&mut c, &["DBSIZE"], ":50\r\n");
}

#[test]
fn scans_the_selected_database_only() {
    let srv = TestServer::start_with(DEBUG);
    let mut zero = srv.client();
    fill(&mut zero, "zero:", 10);
    let mut one = redis::Client::open(format!("redis://127.0.0.1:{}/1", srv.port))
        .expect("client")
        .get_connection()
        .expect("connect");
    fill(&mut one, "one:", 20);
    let seen = scan_all(&mut one, &[]);
    assert_eq!(seen.len(), 20);
    assert!(seen.keys().all(|k| k.starts_with("one:")));
    assert_eq!(scan_all(&mut zero, &[]).len(), 10);
}

#[test]
fn the_client_library_iterator_sees_everything() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    fill(&mut con, "it:", 1234);
    let keys: HashSet<String> = redis::cmd("SCAN").cursor_arg(0).clone().iter(&mut con).expect("iter").collect();
    assert_eq!(keys.len(), 1234);
}

#[test]
fn cursor_and_option_errors() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v"], "+OK\r\n");
    let bad_cursor = "-ERR invalid cursor\r\n";
    for cur in ["abc", " 1", "1 ", "1x", "-", "+", "18446744073709551616", "0x10", "1.0"] {
        check(&mut c, &["SCAN", cur], bad_cursor);
    }
    // strtoul's leniency, as in Redis: a sign, leading zeros, the empty string.
    let full = "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n";
    check(&mut c, &["SCAN", ""], full);
    check(&mut c, &["SCAN", "+0"], full);
    check(&mut c, &["SCAN", "000"], full);
    check(&mut c, &["SCAN", "-0"], full);
    let r = q(&mut c, &["SCAN", "-1"]);
    assert!(r.starts_with("*2\r\n"), "{r}");

    // The cursor is checked before the options.
    check(&mut c, &["SCAN", "x", "COUNT", "0"], bad_cursor);
    check(&mut c, &["SCAN", "0", "COUNT", "0"], "-ERR syntax error\r\n");
    check(&mut c, &["SCAN", "0", "COUNT", "-5"], "-ERR syntax error\r\n");
    check(&mut c, &["SCAN", "0", "COUNT", "abc"], "-ERR value is not an integer or out of range\r\n");
    check(&mut c, &["SCAN", "0", "COUNT"], "-ERR syntax error\r\n");
    check(&mut c, &["SCAN", "0", "MATCH"], "-ERR syntax error\r\n");
    check(&mut c, &["SCAN", "0", "TYPE"], "-ERR syntax error\r\n");
    check(&mut c, &["SCAN", "0", "BOGUS", "1"], "-ERR syntax error\r\n");
    check(&mut c, &["SCAN", "0", "COUNT", "10", "MATCH"], "-ERR syntax error\r\n");
    check(&mut c, &["SCAN"], "-ERR wrong number of arguments for 'scan' command\r\n");
    // Options may repeat; the last one wins.
    check(&mut c, &["SCAN", "0", "MATCH", "zzz", "MATCH", "k", "count", "5", "COUNT", "100"], full);
}
