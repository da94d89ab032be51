//! Sorted sets over TCP, part one: adding, removing, single-member reads, popping, random
//! members, ZSCAN, encodings and RESP3 reply shapes, checked byte for byte against Redis 7.2's
//! replies and error texts. Ranges, set algebra and the usage patterns are in
//! `zsets_ranges.rs`.

mod common;

use common::{RawConn, TestServer};

/// Sends a command given as space-separated words and returns the raw reply as text.
fn q(r: &mut RawConn, line: &str) -> String {
    let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    String::from_utf8_lossy(&r.cmd(&args)).into_owned()
}

/// A RESP array of bulk strings.
fn bulks(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&format!("${}\r\n{i}\r\n", i.len()));
    }
    s
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn zadd_options_replies_and_errors() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert_eq!(q(&mut r, "ZADD z 1 a 2 b 3 c"), ":3\r\n");
    assert_eq!(q(&mut r, "ZADD z 1 a 5 d"), ":1\r\n", "only new members count");
    assert_eq!(q(&mut r, "ZADD z CH 10 a 5 d 6 e"), ":2\r\n", "CH counts changes too");
    assert_eq!(q(&mut r, "ZADD z NX 100 a 7 f"), ":1\r\n");
    assert_eq!(q(&mut r, "ZSCORE z a"), bulk("10"));
    assert_eq!(q(&mut r, "ZADD z XX CH 11 a 8 g"), ":1\r\n");
    assert_eq!(q(&mut r, "ZSCORE z g"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZADD z GT CH 5 a 12 b"), ":1\r\n", "GT only raises");
    assert_eq!(q(&mut r, "ZMSCORE z a b"), bulks(&["11", "12"]));
    assert_eq!(q(&mut r, "ZADD z LT CH 20 a 1 b"), ":1\r\n", "LT only lowers");
    assert_eq!(q(&mut r, "ZMSCORE z a b"), bulks(&["11", "1"]));
    assert_eq!(q(&mut r, "ZADD z GT 1 newgt"), ":1\r\n", "GT still adds new members");
    assert_eq!(q(&mut r, "ZADD z XX GT CH 50 a"), ":1\r\n", "XX combines with GT");
    // INCR: the new score, or nil when a condition skipped the member.
    assert_eq!(q(&mut r, "ZADD z INCR 2.5 a"), bulk("52.5"));
    assert_eq!(q(&mut r, "ZADD z NX INCR 1 a"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZADD z XX INCR 1 nosuch"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZADD z GT INCR -1 a"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZADD z incr 0 a"), bulk("52.5"), "unchanged still answers");
    // Errors, in Redis's order of checks.
    assert_eq!(q(&mut r, "ZADD z"), "-ERR wrong number of arguments for 'zadd' command\r\n");
    assert_eq!(q(&mut r, "ZADD z 1"), "-ERR wrong number of arguments for 'zadd' command\r\n");
    assert_eq!(q(&mut r, "ZADD z NX 1"), SYNTAX);
    assert_eq!(q(&mut r, "ZADD z 1 a 2"), SYNTAX);
    assert_eq!(q(&mut r, "ZADD z NX XX 1 a"), "-ERR XX and NX options at the same time are not compatible\r\n");
    for opts in ["GT LT", "NX GT", "LT NX"] {
        assert_eq!(
            q(&mut r, &format!("ZADD z {opts} 1 a")),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
        );
    }
    assert_eq!(q(&mut r, "ZADD z INCR 1 a 2 b"), "-ERR INCR option supports a single increment-element pair\r\n");
    assert_eq!(q(&mut r, "ZADD z x a"), NOT_FLOAT);
    assert_eq!(q(&mut r, "ZADD z 1 a nan b"), NOT_FLOAT);
    assert_eq!(q(&mut r, "ZSCORE z b"), bulk("1"), "a bad score changes nothing");
    q(&mut r, "ZADD z +inf top");
    assert_eq!(q(&mut r, "ZADD z INCR -inf top"), "-ERR resulting score is not a number (NaN)\r\n");
    assert_eq!(q(&mut r, "ZSCORE z top"), bulk("inf"));
    // XX never creates the key.
    assert_eq!(q(&mut r, "ZADD nokey XX 1 a"), ":0\r\n");
    assert_eq!(q(&mut r, "EXISTS nokey"), ":0\r\n");
    assert_eq!(q(&mut r, "ZADD nokey XX INCR 1 a"), "$-1\r\n");
    assert_eq!(q(&mut r, "EXISTS nokey"), ":0\r\n");
    q(&mut r, "SET str v");
    assert_eq!(q(&mut r, "ZADD str 1 a"), WRONGTYPE);
    assert_eq!(q(&mut r, "ZADD str x a"), NOT_FLOAT, "scores are checked before the key");
}

#[test]
fn zincrby_and_score_formatting() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert_eq!(q(&mut r, "ZINCRBY z 1 a"), bulk("1"));
    assert_eq!(q(&mut r, "ZINCRBY z 0.1 b"), bulk("0.1"));
    assert_eq!(q(&mut r, "ZINCRBY z 0.2 b"), bulk("0.30000000000000004"));
    assert_eq!(q(&mut r, "ZINCRBY z -1.5 a"), bulk("-0.5"));
    assert_eq!(q(&mut r, "ZINCRBY z 1e21 c"), bulk("1e+21"));
    assert_eq!(q(&mut r, "ZINCRBY z 123456789012345678 d"), bulk("123456789012345680"));
    assert_eq!(q(&mut r, "ZINCRBY z -inf e"), bulk("-inf"));
    assert_eq!(q(&mut r, "ZINCRBY z +inf e"), "-ERR resulting score is not a number (NaN)\r\n");
    assert_eq!(q(&mut r, "ZINCRBY z abc a"), NOT_FLOAT);
    assert_eq!(q(&mut r, "ZINCRBY z 1 a b"), "-ERR wrong number of arguments for 'zincrby' command\r\n");
    // ZINCRBY goes through ZADD's option parsing, as in Redis.
    assert_eq!(q(&mut r, "ZINCRBY z nx a"), SYNTAX);
    q(&mut r, "SET str v");
    assert_eq!(q(&mut r, "ZINCRBY str 1 a"), WRONGTYPE);
    assert_eq!(
        q(&mut r, "ZRANGE z 0 -1 WITHSCORES"),
        bulks(&["e", "-inf", "a", "-0.5", "b", "0.30000000000000004", "d", "123456789012345680", "c", "1e+21"])
    );
}

#[test]
fn zrem_zcard_zscore_zmscore_and_empty_deletion() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "ZADD z 1 a 2 b 3 c");
    assert_eq!(q(&mut r, "ZCARD z"), ":3\r\n");
    assert_eq!(q(&mut r, "ZCARD nokey"), ":0\r\n");
    assert_eq!(q(&mut r, "ZREM z a x a"), ":1\r\n");
    assert_eq!(q(&mut r, "ZREM nokey a"), ":0\r\n");
    assert_eq!(q(&mut r, "ZSCORE z b"), bulk("2"));
    assert_eq!(q(&mut r, "ZSCORE z a"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZSCORE nokey a"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZMSCORE z b nope c"), "*3\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n");
    assert_eq!(q(&mut r, "ZMSCORE nokey a b"), "*2\r\n$-1\r\n$-1\r\n");
    assert_eq!(q(&mut r, "ZMSCORE z"), "-ERR wrong number of arguments for 'zmscore' command\r\n");
    assert_eq!(q(&mut r, "ZREM z b c"), ":2\r\n");
    assert_eq!(q(&mut r, "EXISTS z"), ":0\r\n", "an emptied sorted set is deleted");
    assert_eq!(q(&mut r, "TYPE z"), "+none\r\n");
    q(&mut r, "ZADD z 1 a");
    assert_eq!(q(&mut r, "TYPE z"), "+zset\r\n");
}

#[test]
fn every_command_refuses_other_types() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "SET str v");
    q(&mut r, "ZADD z 1 a");
    for cmd in [
        "ZADD str 1 a",
        "ZINCRBY str 1 a",
        "ZREM str a",
        "ZCARD str",
        "ZCOUNT str 0 1",
        "ZLEXCOUNT str - +",
        "ZSCORE str a",
        "ZMSCORE str a",
        "ZRANK str a",
        "ZREVRANK str a",
        "ZRANGE str 0 -1",
        "ZRANGESTORE dst str 0 -1",
        "ZREVRANGE str 0 -1",
        "ZRANGEBYSCORE str 0 1",
        "ZREVRANGEBYSCORE str 1 0",
        "ZRANGEBYLEX str - +",
        "ZREVRANGEBYLEX str + -",
        "ZREMRANGEBYRANK str 0 1",
        "ZREMRANGEBYSCORE str 0 1",
        "ZREMRANGEBYLEX str - +",
        "ZPOPMIN str",
        "ZPOPMAX str 0",
        "ZMPOP 1 str MIN",
        "ZRANDMEMBER str",
        "ZRANDMEMBER str 2",
        "ZUNION 2 z str",
        "ZINTER 2 z str",
        "ZDIFF 2 z str",
        "ZUNIONSTORE dst 2 z str",
        "ZINTERSTORE dst 2 z str",
        "ZDIFFSTORE dst 2 z str",
        "ZINTERCARD 2 z str",
        "ZSCAN str 0",
    ] {
        assert_eq!(q(&mut r, cmd), WRONGTYPE, "{cmd}");
    }
    assert_eq!(q(&mut r, "GET str"), bulk("v"));
    // Commands that read a sorted set leave the other key alone, and vice versa.
    assert_eq!(q(&mut r, "GET z"), WRONGTYPE);
}

#[test]
fn zrank_and_zrevrank_with_score() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "ZADD z 1 a 2 b 3 c");
    assert_eq!(q(&mut r, "ZRANK z a"), ":0\r\n");
    assert_eq!(q(&mut r, "ZRANK z c"), ":2\r\n");
    assert_eq!(q(&mut r, "ZREVRANK z a"), ":2\r\n");
    assert_eq!(q(&mut r, "ZRANK z nope"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZRANK nokey a"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZRANK z b WITHSCORE"), "*2\r\n:1\r\n$1\r\n2\r\n");
    assert_eq!(q(&mut r, "ZREVRANK z c withscore"), "*2\r\n:0\r\n$1\r\n3\r\n");
    assert_eq!(q(&mut r, "ZRANK z nope WITHSCORE"), "*-1\r\n");
    assert_eq!(q(&mut r, "ZRANK nokey a WITHSCORE"), "*-1\r\n");
    assert_eq!(q(&mut r, "ZRANK z a WITHSCORES"), SYNTAX);
    assert_eq!(q(&mut r, "ZRANK z a WITHSCORE x"), "-ERR wrong number of arguments for 'zrank' command\r\n");
    assert_eq!(q(&mut r, "ZREVRANK z a WITHSCORE x"), "-ERR wrong number of arguments for 'zrevrank' command\r\n");
    q(&mut r, "HELLO 3");
    assert_eq!(q(&mut r, "ZRANK z b WITHSCORE"), "*2\r\n:1\r\n,2\r\n");
    assert_eq!(q(&mut r, "ZRANK z nope WITHSCORE"), "_\r\n");
    assert_eq!(q(&mut r, "ZRANK z nope"), "_\r\n");
}

#[test]
fn zpopmin_zpopmax_shapes_and_errors() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(q(&mut r, "ZPOPMIN z"), bulks(&["a", "1"]));
    assert_eq!(q(&mut r, "ZPOPMAX z"), bulks(&["e", "5"]));
    assert_eq!(q(&mut r, "ZPOPMAX z 2"), bulks(&["d", "4", "c", "3"]));
    assert_eq!(q(&mut r, "ZPOPMIN z 0"), "*0\r\n");
    assert_eq!(q(&mut r, "ZPOPMIN z -1"), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(q(&mut r, "ZPOPMIN z abc"), "-ERR value is out of range, must be positive\r\n");
    assert_eq!(q(&mut r, "ZPOPMIN z 1 2"), SYNTAX);
    assert_eq!(q(&mut r, "ZPOPMIN nokey"), "*0\r\n");
    assert_eq!(q(&mut r, "ZPOPMIN nokey 3"), "*0\r\n");
    assert_eq!(q(&mut r, "ZPOPMIN z 10"), bulks(&["b", "2"]));
    assert_eq!(q(&mut r, "EXISTS z"), ":0\r\n", "popping the last member deletes the key");
    q(&mut r, "HELLO 3");
    q(&mut r, "ZADD z 1 a 2 b 3 c");
    assert_eq!(q(&mut r, "ZPOPMIN z"), "*2\r\n$1\r\na\r\n,1\r\n", "without a count: flat");
    assert_eq!(q(&mut r, "ZPOPMAX z 1"), "*1\r\n*2\r\n$1\r\nc\r\n,3\r\n", "with a count: pairs");
    assert_eq!(q(&mut r, "ZPOPMIN nokey"), "*0\r\n");
}

#[test]
fn zmpop_shapes_and_errors() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "ZADD z1 1 a 2 b 3 c");
    q(&mut r, "ZADD z2 10 x");
    assert_eq!(q(&mut r, "ZMPOP 2 nokey z1 MIN"), "*2\r\n$2\r\nz1\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(
        q(&mut r, "ZMPOP 2 z1 z2 max COUNT 5"),
        "*2\r\n$2\r\nz1\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    assert_eq!(q(&mut r, "EXISTS z1"), ":0\r\n");
    assert_eq!(q(&mut r, "ZMPOP 1 nokey MIN"), "*-1\r\n");
    assert_eq!(q(&mut r, "ZMPOP 0 z2 MIN"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(q(&mut r, "ZMPOP x z2 MIN"), "-ERR numkeys should be greater than 0\r\n");
    assert_eq!(q(&mut r, "ZMPOP 1 z2 MIN COUNT 0"), "-ERR count should be greater than 0\r\n");
    assert_eq!(q(&mut r, "ZMPOP 1 z2 MIN COUNT x"), "-ERR count should be greater than 0\r\n");
    assert_eq!(q(&mut r, "ZMPOP 1 z2 MIN COUNT 1 COUNT 1"), SYNTAX);
    assert_eq!(q(&mut r, "ZMPOP 1 z2 MIN COUNT"), SYNTAX);
    assert_eq!(q(&mut r, "ZMPOP 1 z2 MIDDLE"), SYNTAX);
    assert_eq!(q(&mut r, "ZMPOP 3 z2 MIN"), SYNTAX);
    assert_eq!(q(&mut r, "ZMPOP 1 z2"), "-ERR wrong number of arguments for 'zmpop' command\r\n");
    q(&mut r, "SET str v");
    assert_eq!(
        q(&mut r, "ZMPOP 2 z2 str MIN"),
        "*2\r\n$2\r\nz2\r\n*1\r\n*2\r\n$1\r\nx\r\n$2\r\n10\r\n",
        "stops at the first set"
    );
    assert_eq!(q(&mut r, "ZMPOP 2 nokey str MIN"), WRONGTYPE);
    q(&mut r, "HELLO 3");
    q(&mut r, "ZADD z 1.5 a");
    assert_eq!(q(&mut r, "ZMPOP 1 z MIN"), "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n");
    assert_eq!(q(&mut r, "ZMPOP 1 z MIN"), "_\r\n");
}

#[test]
fn zrandmember_counts_and_shapes() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert_eq!(q(&mut r, "ZRANDMEMBER nokey"), "$-1\r\n");
    assert_eq!(q(&mut r, "ZRANDMEMBER nokey 3"), "*0\r\n");
    q(&mut r, "ZADD z 1 a 2 b 3 c");
    let one = q(&mut r, "ZRANDMEMBER z");
    assert!([bulk("a"), bulk("b"), bulk("c")].contains(&one), "{one}");
    assert_eq!(q(&mut r, "ZRANDMEMBER z 0"), "*0\r\n");
    // At least the whole set: all of it, highest first (Redis walks from the tail).
    assert_eq!(q(&mut r, "ZRANDMEMBER z 3"), bulks(&["c", "b", "a"]));
    assert_eq!(q(&mut r, "ZRANDMEMBER z 10 WITHSCORES"), bulks(&["c", "3", "b", "2", "a", "1"]));
    let two = q(&mut r, "ZRANDMEMBER z 2");
    assert!(two.starts_with("*2\r\n"), "{two}");
    // Negative: that many picks, repeats allowed.
    let many = q(&mut r, "ZRANDMEMBER z -20");
    assert!(many.starts_with("*20\r\n"), "{many}");
    let ws = q(&mut r, "ZRANDMEMBER z -5 WITHSCORES");
    assert!(ws.starts_with("*10\r\n"), "{ws}");
    assert_eq!(q(&mut r, "ZRANDMEMBER z x"), NOT_INT);
    assert_eq!(q(&mut r, "ZRANDMEMBER z 1 foo"), SYNTAX);
    assert_eq!(q(&mut r, "ZRANDMEMBER z 1 WITHSCORES x"), SYNTAX);
    assert_eq!(
        q(&mut r, "ZRANDMEMBER z -9223372036854775808"),
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"
    );
    assert_eq!(q(&mut r, "ZRANDMEMBER z -9223372036854775807 WITHSCORES"), "-ERR value is out of range\r\n");
    assert_eq!(q(&mut r, "ZRANDMEMBER z 9223372036854775807 WITHSCORES"), "-ERR value is out of range\r\n");
    q(&mut r, "HELLO 3");
    assert_eq!(
        q(&mut r, "ZRANDMEMBER z 5 WITHSCORES"),
        "*3\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"
    );
    let neg = q(&mut r, "ZRANDMEMBER z -2 WITHSCORES");
    assert!(neg.starts_with("*2\r\n*2\r\n$1\r\n"), "{neg}");
    // A huge negative count is cut off past proto-max-bulk-len and the connection closed,
    // as Redis closes a client over its output limit; the server carries on.
    let mut greedy = s.raw();
    assert_eq!(q(&mut greedy, "CONFIG SET proto-max-bulk-len 1mb"), "+OK\r\n");
    greedy.send(&common::encode(&[b"ZRANDMEMBER", b"z", b"-9223372036854775807"]));
    let (got, closed) = greedy.read_to_close(5000);
    assert!(closed, "connection closed after the cut-off reply");
    assert!(got.starts_with(b"*9223372036854775807\r\n$1\r\n"));
    assert!(got.len() > 1 << 20 && got.len() < 2 << 20, "{}", got.len());
    assert_eq!(q(&mut s.raw(), "PING"), "+PONG\r\n");
    // A large set: distinct picks are distinct members.
    let mut c = s.client();
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("big");
    for i in 0..1000 {
        cmd.arg(i).arg(format!("m{i}"));
    }
    let _: i64 = cmd.query(&mut c).expect("ZADD");
    for n in [10usize, 400, 999] {
        let got: Vec<String> = redis::cmd("ZRANDMEMBER").arg("big").arg(n).query(&mut c).expect("ZRANDMEMBER");
        let distinct: std::collections::HashSet<&String> = got.iter().collect();
        assert_eq!((got.len(), distinct.len()), (n, n));
    }
}

/// Runs a whole ZSCAN iteration and returns (member, score text) pairs.
fn scan_all(c: &mut redis::Connection, key: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut cursor = 0u64;
    let mut out = Vec::new();
    loop {
        let (next, items): (u64, Vec<String>) =
            redis::cmd("ZSCAN").arg(key).arg(cursor).arg(extra).query(c).expect("ZSCAN");
        out.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())));
        if next == 0 {
            return out;
        }
        cursor = next;
    }
}

#[test]
fn zscan_both_encodings() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert_eq!(q(&mut r, "ZSCAN nokey 0"), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(q(&mut r, "ZSCAN nokey 0 BADOPT"), "*2\r\n$1\r\n0\r\n*0\r\n", "options are read only for a set");
    q(&mut r, "ZADD small 1 a 0.1 b 1e20 c");
    assert_eq!(
        q(&mut r, "ZSCAN small 0"),
        "*2\r\n$1\r\n0\r\n*6\r\n$1\r\nb\r\n$3\r\n0.1\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$5\r\n1e+20\r\n"
    );
    assert_eq!(q(&mut r, "ZSCAN small 0 MATCH a*"), "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(q(&mut r, "ZSCAN small 0 COUNT 0"), SYNTAX);
    assert_eq!(q(&mut r, "ZSCAN small 0 COUNT x"), NOT_INT);
    assert_eq!(q(&mut r, "ZSCAN small 0 TYPE zset"), SYNTAX);
    assert_eq!(q(&mut r, "ZSCAN small 0 MATCH"), SYNTAX);
    assert_eq!(q(&mut r, "ZSCAN small x"), "-ERR invalid cursor\r\n");
    let mut c = s.client();
    let mut cmd = redis::cmd("ZADD");
    cmd.arg("big");
    for i in 0..2000 {
        cmd.arg(i as f64 + 0.5).arg(format!("m{i}"));
    }
    cmd.arg(0.1).arg("tenth");
    let _: i64 = cmd.query(&mut c).expect("ZADD");
    assert_eq!(q(&mut r, "OBJECT ENCODING big"), bulk("skiplist"));
    let all = scan_all(&mut c, "big", &["COUNT", "50"]);
    let set: std::collections::HashMap<String, String> = all.into_iter().collect();
    assert_eq!(set.len(), 2001);
    assert_eq!(set["m7"], "7.5");
    // Skiplist-encoded scores are printed with 17 significant digits, as Redis does.
    assert_eq!(set["tenth"], "0.10000000000000001");
    let matched = scan_all(&mut c, "big", &["MATCH", "m1???", "COUNT", "100"]);
    assert_eq!(matched.len(), 1000);
}

#[test]
fn encoding_conversions() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert_eq!(q(&mut r, "CONFIG SET zset-max-listpack-entries 4"), "+OK\r\n");
    q(&mut r, "ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(q(&mut r, "OBJECT ENCODING z"), bulk("listpack"));
    q(&mut r, "ZADD z 10 a");
    assert_eq!(q(&mut r, "OBJECT ENCODING z"), bulk("listpack"), "updates never convert");
    q(&mut r, "ZADD z 5 e");
    assert_eq!(q(&mut r, "OBJECT ENCODING z"), bulk("skiplist"));
    q(&mut r, "ZREM z a b c d");
    assert_eq!(q(&mut r, "OBJECT ENCODING z"), bulk("skiplist"), "never converts back");
    // More pairs than the limit in one ZADD: the tree from the start.
    q(&mut r, "ZADD many 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(q(&mut r, "OBJECT ENCODING many"), bulk("skiplist"));
    q(&mut r, "ZADD few 1 a");
    q(&mut r, "ZADD few 1 b 2 c 3 d 4 e 5 f");
    assert_eq!(q(&mut r, "OBJECT ENCODING few"), bulk("skiplist"));
    // Long members.
    assert_eq!(q(&mut r, "CONFIG SET zset-max-listpack-value 8"), "+OK\r\n");
    q(&mut r, "ZADD long 1 short");
    assert_eq!(q(&mut r, "OBJECT ENCODING long"), bulk("listpack"));
    q(&mut r, "ZADD long 2 much-longer-member");
    assert_eq!(q(&mut r, "OBJECT ENCODING long"), bulk("skiplist"));
    q(&mut r, "ZADD longfirst 1 much-longer-member");
    assert_eq!(q(&mut r, "OBJECT ENCODING longfirst"), bulk("skiplist"));
    // Stored results start over in the encoding their size calls for.
    assert_eq!(q(&mut r, "ZRANGESTORE dst many 0 2"), ":3\r\n");
    assert_eq!(q(&mut r, "OBJECT ENCODING dst"), bulk("listpack"));
    assert_eq!(q(&mut r, "ZRANGESTORE dst many 0 -1"), ":5\r\n");
    assert_eq!(q(&mut r, "OBJECT ENCODING dst"), bulk("skiplist"));
    assert_eq!(q(&mut r, "ZRANGESTORE dst long 0 -1"), ":2\r\n");
    assert_eq!(q(&mut r, "OBJECT ENCODING dst"), bulk("skiplist"), "a long member keeps it a skiplist");
    assert_eq!(q(&mut r, "ZUNIONSTORE u 1 z"), ":1\r\n");
    assert_eq!(q(&mut r, "OBJECT ENCODING u"), bulk("listpack"));
    assert_eq!(q(&mut r, "ZUNIONSTORE u 2 many few"), ":6\r\n");
    assert_eq!(q(&mut r, "OBJECT ENCODING u"), bulk("skiplist"));
    assert_eq!(q(&mut r, "ZINTERSTORE u 2 many few"), ":5\r\n");
    assert_eq!(q(&mut r, "OBJECT ENCODING u"), bulk("skiplist"));
    assert_eq!(q(&mut r, "ZRANGE u 0 -1 WITHSCORES"), bulks(&["a", "2", "b", "3", "c", "5", "d", "7", "e", "9"]));
    assert_eq!(q(&mut r, "ZINTERSTORE u 2 many z"), ":1\r\n");
    assert_eq!(q(&mut r, "OBJECT ENCODING u"), bulk("listpack"));
    assert_eq!(q(&mut r, "ZRANGE u 0 -1 WITHSCORES"), bulks(&["e", "10"]));
    assert_eq!(q(&mut r, "CONFIG SET zset-max-listpack-entries 0"), "+OK\r\n");
    q(&mut r, "ZADD zero 1 a");
    assert_eq!(q(&mut r, "OBJECT ENCODING zero"), bulk("skiplist"));
}

#[test]
fn resp3_reply_shapes() {
    let s = TestServer::start();
    let mut r = s.raw();
    assert!(q(&mut r, "HELLO 3").starts_with('%'));
    assert_eq!(q(&mut r, "ZADD z 1 a 2.5 b"), ":2\r\n");
    assert_eq!(q(&mut r, "ZADD z INCR 1 a"), ",2\r\n");
    assert_eq!(q(&mut r, "ZADD z NX INCR 1 a"), "_\r\n");
    assert_eq!(q(&mut r, "ZINCRBY z 0.5 b"), ",3\r\n");
    assert_eq!(q(&mut r, "ZSCORE z a"), ",2\r\n");
    assert_eq!(q(&mut r, "ZSCORE z nope"), "_\r\n");
    assert_eq!(q(&mut r, "ZMSCORE z a nope"), "*2\r\n,2\r\n_\r\n");
    assert_eq!(q(&mut r, "ZRANGE z 0 -1"), bulks(&["a", "b"]));
    assert_eq!(q(&mut r, "ZRANGE z 0 -1 WITHSCORES"), "*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,3\r\n");
    assert_eq!(q(&mut r, "ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 0 1"), "*1\r\n*2\r\n$1\r\nb\r\n,3\r\n");
    assert_eq!(q(&mut r, "ZUNION 1 z WITHSCORES"), "*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,3\r\n");
    assert_eq!(q(&mut r, "ZRANGE nokey 0 -1"), "*0\r\n");
    q(&mut r, "ZADD inf -inf lo +inf hi");
    assert_eq!(q(&mut r, "ZRANGE inf 0 -1 WITHSCORES"), "*2\r\n*2\r\n$2\r\nlo\r\n,-inf\r\n*2\r\n$2\r\nhi\r\n,inf\r\n");
    assert_eq!(q(&mut r, "ZSCAN z 0"), "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n3\r\n");
}

/// Reads one pmessage and returns (channel, payload).
fn next_event(sub: &mut RawConn) -> (String, String) {
    let text = String::from_utf8_lossy(&sub.read_reply()).into_owned();
    let parts: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(parts.get(2), Some(&"pmessage"), "{text}");
    (parts[6].to_string(), parts[8].to_string())
}

#[test]
fn keyspace_events() {
    let s = TestServer::start_with(&["--notify-keyspace-events", "Egz"]);
    let mut sub = s.raw();
    assert!(q(&mut sub, "PSUBSCRIBE __keyevent@0__:*").starts_with("*3\r\n"));
    let mut r = s.raw();
    let mut expect = |r: &mut RawConn, cmd: &str, events: &[(&str, &str)]| {
        q(r, cmd);
        for (event, key) in events {
            assert_eq!(next_event(&mut sub), (format!("__keyevent@0__:{event}"), key.to_string()), "{cmd}");
        }
    };
    expect(&mut r, "ZADD z 1 a 2 b 3 c", &[("zadd", "z")]);
    expect(&mut r, "ZADD z NX 5 a", &[]);
    expect(&mut r, "ZINCRBY z 1 a", &[("zincr", "z")]);
    expect(&mut r, "ZREM z nope", &[]);
    expect(&mut r, "ZREM z a", &[("zrem", "z")]);
    expect(&mut r, "ZREMRANGEBYSCORE z 2 2", &[("zremrangebyscore", "z")]);
    expect(&mut r, "ZADD z 10 x", &[("zadd", "z")]);
    expect(&mut r, "ZUNIONSTORE u 1 z", &[("zunionstore", "u")]);
    expect(&mut r, "ZRANGESTORE r z 0 0", &[("zrangestore", "r")]);
    expect(&mut r, "ZINTERSTORE r 2 z nokey", &[("del", "r")]);
    expect(&mut r, "ZPOPMIN z", &[("zpopmin", "z")]);
    // Popping the last member deletes the key.
    expect(&mut r, "ZMPOP 1 z MAX", &[("zpopmax", "z"), ("del", "z")]);
    expect(&mut r, "ZREMRANGEBYRANK u 0 -1", &[("zremrangebyrank", "u"), ("del", "u")]);
    assert!(sub.read_for(100).is_empty(), "no other events");
}
