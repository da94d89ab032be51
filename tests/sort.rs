//! SORT and SORT_RO over TCP: lists, sets and sorted sets as input, numeric and ALPHA order,
//! ASC/DESC, LIMIT, BY patterns (keys, hash fields, nosort), GET patterns (`#`, several GETs,
//! missing keys), STORE (a list; an empty result deletes the destination; blocked clients are
//! woken), the error replies, SORT_RO's refusal of STORE and COMMAND GETKEYS.

mod common;

use std::time::{Duration, Instant};

use common::{check, q, TestServer};

/// The RESP encoding of an array of bulk strings.
fn bulks(v: &[&str]) -> String {
    let mut s = format!("*{}\r\n", v.len());
    for b in v {
        s.push_str(&format!("${}\r\n{b}\r\n", b.len()));
    }
    s
}

/// Runs a command whose reply is an array of bulk strings (or nulls, as "").
fn strings(c: &mut redis::Connection, args: &[&str]) -> Vec<String> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let v: Vec<Option<String>> = cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    v.into_iter().map(Option::unwrap_or_default).collect()
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn numeric_alpha_desc_and_limit_on_a_list() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["RPUSH", "l", "3", "10", "1", "2.5", "-4"], ":5\r\n");
    check(&mut c, &["SORT", "l"], &bulks(&["-4", "1", "2.5", "3", "10"]));
    check(&mut c, &["SORT", "l", "DESC"], &bulks(&["10", "3", "2.5", "1", "-4"]));
    check(&mut c, &["SORT", "l", "ALPHA"], &bulks(&["-4", "1", "10", "2.5", "3"]));
    check(&mut c, &["sort", "l", "alpha", "desc"], &bulks(&["3", "2.5", "10", "1", "-4"]));
    check(&mut c, &["SORT", "l", "LIMIT", "1", "2"], &bulks(&["1", "2.5"]));
    check(&mut c, &["SORT", "l", "LIMIT", "3", "-1"], &bulks(&["3", "10"]));
    check(&mut c, &["SORT", "l", "LIMIT", "-5", "2"], &bulks(&["-4", "1"]));
    check(&mut c, &["SORT", "l", "LIMIT", "5", "10"], "*0\r\n");
    check(&mut c, &["SORT", "l", "LIMIT", "0", "0"], "*0\r\n");
    check(&mut c, &["SORT", "l", "LIMIT", "2", "9223372036854775807"], &bulks(&["2.5", "3", "10"]));
    // ASC after DESC wins: the last one counts.
    check(&mut c, &["SORT", "l", "DESC", "ASC", "LIMIT", "0", "1"], &bulks(&["-4"]));
    // The list itself is untouched.
    check(&mut c, &["LRANGE", "l", "0", "-1"], &bulks(&["3", "10", "1", "2.5", "-4"]));
}

#[test]
fn equal_scores_sort_by_element_and_numbers_parse_like_strtod() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["RPUSH", "l", "b", "a", "c"], ":3\r\n");
    // Every BY key is missing: all score 0, ordered by the elements' bytes.
    check(&mut c, &["SORT", "l", "BY", "w_*"], &bulks(&["a", "b", "c"]));
    check(&mut c, &["SORT", "l", "BY", "w_*", "DESC"], &bulks(&["c", "b", "a"]));
    check(&mut c, &["RPUSH", "n", " 5", "0x10", "1e2", "-inf", "", "+3"], ":6\r\n");
    check(&mut c, &["SORT", "n"], &bulks(&["-inf", "", "+3", " 5", "0x10", "1e2"]));
}

#[test]
fn sets_and_sorted_sets() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["SADD", "ints", "5", "3", "9", "1"], ":4\r\n");
    check(&mut c, &["SORT", "ints"], &bulks(&["1", "3", "5", "9"]));
    check(&mut c, &["SADD", "words", "pear", "apple", "fig", "banana"], ":4\r\n");
    check(&mut c, &["SORT", "words", "ALPHA"], &bulks(&["apple", "banana", "fig", "pear"]));
    check(&mut c, &["SORT", "words", "ALPHA", "DESC", "LIMIT", "0", "2"], &bulks(&["pear", "fig"]));
    check(&mut c, &["ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e"], ":5\r\n");
    check(&mut c, &["SORT", "z", "ALPHA", "DESC"], &bulks(&["e", "d", "c", "b", "a"]));
    // BY nosort keeps the sorted set's own order, in either direction, with LIMIT.
    check(&mut c, &["SORT", "z", "BY", "nosort"], &bulks(&["a", "c", "e", "b", "d"]));
    check(&mut c, &["SORT", "z", "BY", "nosort", "DESC"], &bulks(&["d", "b", "e", "c", "a"]));
    check(&mut c, &["SORT", "z", "BY", "nosort", "LIMIT", "1", "2"], &bulks(&["c", "e"]));
    check(&mut c, &["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"], &bulks(&["b", "e"]));
    check(&mut c, &["SORT", "z", "BY", "nosort", "LIMIT", "-10", "100"], &bulks(&["a", "c", "e", "b", "d"]));
    check(&mut c, &["SORT", "z", "BY", "nosort", "LIMIT", "5", "10"], "*0\r\n");
    // A sorted set's members are sorted by their own value, not their score.
    check(&mut c, &["ZADD", "zn", "3", "10", "2", "20", "1", "30"], ":3\r\n");
    check(&mut c, &["SORT", "zn"], &bulks(&["10", "20", "30"]));
}

#[test]
fn by_nosort_keeps_list_order() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["LPUSH", "l", "2", "1", "4", "3", "5"], ":5\r\n");
    check(&mut c, &["SORT", "l", "BY", "nosort"], &bulks(&["5", "3", "4", "1", "2"]));
    check(&mut c, &["SORT", "l", "BY", "nosort", "DESC"], &bulks(&["2", "1", "4", "3", "5"]));
    check(&mut c, &["SORT", "l", "BY", "nosort", "LIMIT", "1", "3"], &bulks(&["3", "4", "1"]));
    check(&mut c, &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "3"], &bulks(&["1", "4", "3"]));
    check(&mut c, &["SORT", "l", "BY", "nosort", "STORE", "dst"], ":5\r\n");
    check(&mut c, &["LRANGE", "dst", "0", "-1"], &bulks(&["5", "3", "4", "1", "2"]));
}

#[test]
fn by_keys_and_hash_fields_and_get_patterns() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["RPUSH", "ids", "1", "2", "3"], ":3\r\n");
    check(&mut c, &["MSET", "w_1", "30", "w_2", "10", "w_3", "20"], "+OK\r\n");
    check(&mut c, &["HSET", "obj_1", "w", "3", "name", "one"], ":2\r\n");
    check(&mut c, &["HSET", "obj_2", "w", "1", "name", "two"], ":2\r\n");
    check(&mut c, &["HSET", "obj_3", "w", "2"], ":1\r\n");
    check(&mut c, &["SORT", "ids", "BY", "w_*"], &bulks(&["2", "3", "1"]));
    check(&mut c, &["SORT", "ids", "BY", "w_*", "DESC"], &bulks(&["1", "3", "2"]));
    check(&mut c, &["SORT", "ids", "BY", "w_*", "LIMIT", "1", "1"], &bulks(&["3"]));
    check(&mut c, &["SORT", "ids", "BY", "obj_*->w"], &bulks(&["2", "3", "1"]));
    // GET: the element (#), string keys, hash fields; missing ones are nulls.
    check(
        &mut c,
        &["SORT", "ids", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "obj_*->name"],
        "*9\r\n$1\r\n2\r\n$2\r\n10\r\n$3\r\ntwo\r\n$1\r\n3\r\n$2\r\n20\r\n$-1\r\n$1\r\n1\r\n$2\r\n30\r\n$3\r\none\r\n",
    );
    // GET of a pattern without '*' names no key: every value is null.
    check(&mut c, &["SET", "fixed", "x"], "+OK\r\n");
    check(&mut c, &["SORT", "ids", "GET", "fixed"], "*3\r\n$-1\r\n$-1\r\n$-1\r\n");
    // A pattern ending in "->" is a plain key name; a hash read as a string is null.
    check(&mut c, &["SET", "x:1->", "100"], "+OK\r\n");
    check(
        &mut c,
        &["SORT", "ids", "BY", "nosort", "GET", "x:*->", "GET", "obj_*"],
        "*6\r\n$3\r\n100\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n",
    );
    // ALPHA BY: missing BY values sort first.
    check(&mut c, &["RPUSH", "names", "a", "b", "c"], ":3\r\n");
    check(&mut c, &["MSET", "n_a", "zeta", "n_c", "alpha"], "+OK\r\n");
    check(&mut c, &["SORT", "names", "BY", "n_*", "ALPHA"], &bulks(&["b", "c", "a"]));
    // RESP3 nulls.
    assert!(q(&mut c, &["HELLO", "3"]).starts_with('%'));
    check(&mut c, &["SORT", "ids", "BY", "nosort", "GET", "nokey_*"], "*3\r\n_\r\n_\r\n_\r\n");
}

#[test]
fn store_writes_a_list_and_empty_results_delete() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["RPUSH", "src", "3", "1", "2"], ":3\r\n");
    check(&mut c, &["SET", "dst", "old"], "+OK\r\n");
    check(&mut c, &["EXPIRE", "dst", "100"], ":1\r\n");
    check(&mut c, &["SORT", "src", "STORE", "dst"], ":3\r\n");
    check(&mut c, &["TYPE", "dst"], "+list\r\n");
    check(&mut c, &["TTL", "dst"], ":-1\r\n");
    check(&mut c, &["LRANGE", "dst", "0", "-1"], &bulks(&["1", "2", "3"]));
    // GET values are stored, a missing one as an empty string.
    check(&mut c, &["SET", "v_1", "one"], "+OK\r\n");
    check(&mut c, &["SORT", "src", "GET", "v_*", "GET", "#", "STORE", "dst"], ":6\r\n");
    check(&mut c, &["LRANGE", "dst", "0", "-1"], &bulks(&["one", "1", "", "2", "", "3"]));
    // Sorting onto itself.
    check(&mut c, &["SORT", "src", "DESC", "STORE", "src"], ":3\r\n");
    check(&mut c, &["LRANGE", "src", "0", "-1"], &bulks(&["3", "2", "1"]));
    // An empty result deletes the destination and creates nothing.
    check(&mut c, &["SORT", "missing", "STORE", "dst"], ":0\r\n");
    check(&mut c, &["EXISTS", "dst"], ":0\r\n");
    check(&mut c, &["SORT", "src", "LIMIT", "10", "10", "STORE", "dst"], ":0\r\n");
    check(&mut c, &["EXISTS", "dst"], ":0\r\n");
    // The last STORE wins.
    check(&mut c, &["SORT", "src", "STORE", "a", "STORE", "b"], ":3\r\n");
    check(&mut c, &["EXISTS", "a", "b"], ":1\r\n");
    check(&mut c, &["EXISTS", "b"], ":1\r\n");
    // BY nosort on a set with STORE sorts ALPHA so the stored list does not depend on layout.
    check(&mut c, &["SADD", "s", "b", "aa", "c", "a"], ":4\r\n");
    check(&mut c, &["SORT", "s", "BY", "_", "STORE", "sl"], ":4\r\n");
    check(&mut c, &["LRANGE", "sl", "0", "-1"], &bulks(&["a", "aa", "b", "c"]));
    // BY a hash field, stored.
    check(&mut c, &["HSET", "h_1", "f", "2"], ":1\r\n");
    check(&mut c, &["HSET", "h_2", "f", "1"], ":1\r\n");
    check(&mut c, &["RPUSH", "two", "1", "2"], ":2\r\n");
    check(&mut c, &["SORT", "two", "BY", "h_*->f", "STORE", "out"], ":2\r\n");
    check(&mut c, &["LRANGE", "out", "0", "-1"], &bulks(&["2", "1"]));
}

#[test]
fn errors() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["SET", "str", "x"], "+OK\r\n");
    check(&mut c, &["HSET", "h", "f", "v"], ":1\r\n");
    check(&mut c, &["SORT", "str"], WRONGTYPE);
    check(&mut c, &["SORT_RO", "h"], WRONGTYPE);
    check(&mut c, &["SORT"], "-ERR wrong number of arguments for 'sort' command\r\n");
    check(&mut c, &["SORT", "l", "FOO"], "-ERR syntax error\r\n");
    check(&mut c, &["SORT", "l", "LIMIT", "1"], "-ERR syntax error\r\n");
    check(&mut c, &["SORT", "l", "BY"], "-ERR syntax error\r\n");
    check(&mut c, &["SORT", "l", "LIMIT", "a", "1"], "-ERR value is not an integer or out of range\r\n");
    // A syntax error is found before the key's type is looked at.
    check(&mut c, &["SORT", "str", "BOGUS"], "-ERR syntax error\r\n");
    check(&mut c, &["SORT_RO", "l", "STORE", "x"], "-ERR syntax error\r\n");
    check(&mut c, &["SADD", "s", "1", "2", "not-a-double"], ":3\r\n");
    check(&mut c, &["SORT", "s"], "-ERR One or more scores can't be converted into double\r\n");
    check(&mut c, &["SORT", "s", "STORE", "d"], "-ERR One or more scores can't be converted into double\r\n");
    check(&mut c, &["EXISTS", "d"], ":0\r\n");
    check(&mut c, &["SORT", "s", "ALPHA"], &bulks(&["1", "2", "not-a-double"]));
    check(&mut c, &["SADD", "t", "1", "2"], ":2\r\n");
    check(&mut c, &["MSET", "sc:1", "10", "sc:2", "nan"], "+OK\r\n");
    check(&mut c, &["SORT", "t", "BY", "sc:*"], "-ERR One or more scores can't be converted into double\r\n");
    // Missing input: an empty array.
    check(&mut c, &["SORT", "nothing"], "*0\r\n");
    check(&mut c, &["SORT_RO", "nothing", "GET", "#"], "*0\r\n");
}

#[test]
fn sort_ro_and_command_getkeys() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    check(&mut c, &["RPUSH", "l", "a"], ":1\r\n");
    check(&mut c, &["SET", "x:a", "100"], "+OK\r\n");
    check(&mut c, &["SORT_RO", "l", "BY", "nosort", "GET", "x:*"], &bulks(&["100"]));
    check(&mut c, &["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "def"], &bulks(&["abc", "def"]));
    check(&mut c, &["COMMAND", "GETKEYS", "SORT_RO", "abc"], &bulks(&["abc"]));
    check(
        &mut c,
        &["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "x", "STORE", "y", "STORE", "def"],
        &bulks(&["abc", "def"]),
    );
    check(&mut c, &["COMMAND", "GETKEYS", "SORT", "abc", "GET", "store", "BY", "store"], &bulks(&["abc"]));
    let info = q(&mut c, &["COMMAND", "INFO", "SORT"]);
    assert!(info.contains("movablekeys"), "{info}");
}

#[test]
fn store_wakes_blocked_clients() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$3\r\ndst\r\n$1\r\n5\r\n");
    let mut c = srv.client();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(&mut c).expect("info");
        if info.contains("blocked_clients:1") {
            break;
        }
        assert!(Instant::now() < deadline, "the waiter never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
    let _: i64 = redis::cmd("LPUSH").arg("src").arg("hello").arg("hola").arg("aguacate").query(&mut c).expect("lpush");
    let n: i64 = redis::cmd("SORT").arg("src").arg("ALPHA").arg("STORE").arg("dst").query(&mut c).expect("sort");
    assert_eq!(n, 3);
    assert_eq!(waiter.read_reply(), bulks(&["dst", "aguacate"]).into_bytes());
    assert_eq!(strings(&mut c, &["LRANGE", "dst", "0", "-1"]), vec!["hello", "hola"]);
}

#[test]
fn big_inputs_sort_like_a_model() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut model: Vec<(u32, f64)> = Vec::new();
    let mut pipe = redis::pipe();
    for i in 0..2000u32 {
        let w = rng.f64() * 1e6;
        model.push((i, w));
        pipe.cmd("RPUSH").arg("big").arg(i).ignore();
        pipe.cmd("SADD").arg("bigset").arg(i).ignore();
        pipe.cmd("SET").arg(format!("wt_{i}")).arg(w).ignore();
        pipe.cmd("HSET").arg(format!("ho_{i}")).arg("w").arg(w).ignore();
    }
    let _: () = pipe.query(&mut c).expect("load");
    model.sort_by(|a, b| a.1.total_cmp(&b.1));
    let want: Vec<String> = model.iter().map(|(i, _)| i.to_string()).collect();
    assert_eq!(strings(&mut c, &["SORT", "big", "BY", "wt_*"]), want);
    assert_eq!(strings(&mut c, &["SORT", "bigset", "BY", "ho_*->w"]), want);
    assert_eq!(strings(&mut c, &["SORT", "big", "BY", "wt_*", "LIMIT", "100", "10"]), want[100..110].to_vec());
    let mut nums: Vec<u32> = (0..2000).collect();
    nums.sort_by_key(|n| n.to_string());
    let alpha: Vec<String> = nums.iter().map(|n| n.to_string()).collect();
    assert_eq!(strings(&mut c, &["SORT", "bigset", "ALPHA"]), alpha);
    let n: i64 = redis::cmd("SORT").arg("big").arg("DESC").arg("STORE").arg("bigout").query(&mut c).expect("store");
    assert_eq!(n, 2000);
    let first: Vec<String> = strings(&mut c, &["LRANGE", "bigout", "0", "2"]);
    assert_eq!(first, vec!["1999", "1998", "1997"]);
}

#[test]
fn inside_multi_with_patterns_and_watch() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut other = srv.raw();
    check(&mut c, &["RPUSH", "l", "1", "2"], ":2\r\n");
    check(&mut c, &["MSET", "w_1", "9", "w_2", "3"], "+OK\r\n");
    check(&mut c, &["MULTI"], "+OK\r\n");
    check(&mut c, &["SORT", "l", "BY", "w_*", "GET", "w_*"], "+QUEUED\r\n");
    check(&mut c, &["SORT", "l", "BY", "w_*", "STORE", "dst"], "+QUEUED\r\n");
    check(&mut c, &["EXEC"], "*2\r\n*2\r\n$1\r\n3\r\n$1\r\n9\r\n:2\r\n");
    check(&mut c, &["LRANGE", "dst", "0", "-1"], &bulks(&["2", "1"]));
    // STORE is a write of the destination: a WATCH on it fails the transaction.
    check(&mut c, &["WATCH", "dst"], "+OK\r\n");
    check(&mut c, &["MULTI"], "+OK\r\n");
    check(&mut c, &["LLEN", "dst"], "+QUEUED\r\n");
    check(&mut other, &["SORT", "l", "STORE", "dst"], ":2\r\n");
    check(&mut c, &["EXEC"], "*-1\r\n");
}

/// Inside a script, SORT of a set BY a constant comes back ordered (as Redis does, so the
/// script's result does not depend on the set's layout); outside, the set's own order.
#[test]
fn sort_by_constant_of_a_set_is_ordered_inside_scripts() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let members: Vec<String> = (0..40).map(|i| format!("m{:02}", (i * 7) % 40)).collect();
    let mut args: Vec<&[u8]> = vec![b"SADD", b"myset"];
    args.extend(members.iter().map(|m| m.as_bytes()));
    c.cmd(&args);
    let mut sorted: Vec<&str> = members.iter().map(String::as_str).collect();
    sorted.sort();
    let got = c.cmd(&[b"EVAL", b"return redis.call('sort', KEYS[1], 'by', 'nosort')", b"1", b"myset"]);
    assert_eq!(String::from_utf8_lossy(&got), bulks(&sorted));
}
