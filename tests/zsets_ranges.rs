//! Sorted sets over TCP, part two: the range family (ZRANGE with BYSCORE/BYLEX/REV/LIMIT/
//! WITHSCORES and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*), unions,
//! intersections and differences, the leaderboard and sliding-window rate limiter patterns,
//! and a sorted set of 200,000 members.

mod common;

use common::{RawConn, TestServer};
use redis::Connection;

fn q(r: &mut RawConn, line: &str) -> String {
    let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    String::from_utf8_lossy(&r.cmd(&args)).into_owned()
}

fn bulks(items: &[&str]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        s.push_str(&format!("${}\r\n{i}\r\n", i.len()));
    }
    s
}

const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const NOT_FLOAT_RANGE: &str = "-ERR min or max is not a float\r\n";
const NOT_LEX_RANGE: &str = "-ERR min or max not valid string range item\r\n";

#[test]
fn zrange_by_rank_score_and_lex() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(q(&mut r, "ZRANGE z 0 -1"), bulks(&["a", "b", "c", "d", "e"]));
    assert_eq!(q(&mut r, "ZRANGE z 1 2 WITHSCORES"), bulks(&["b", "2", "c", "3"]));
    assert_eq!(q(&mut r, "ZRANGE z -2 -1"), bulks(&["d", "e"]));
    assert_eq!(q(&mut r, "ZRANGE z -100 100"), bulks(&["a", "b", "c", "d", "e"]));
    assert_eq!(q(&mut r, "ZRANGE z 3 1"), "*0\r\n");
    assert_eq!(q(&mut r, "ZRANGE z 5 10"), "*0\r\n");
    assert_eq!(q(&mut r, "ZRANGE z 0 -1 REV"), bulks(&["e", "d", "c", "b", "a"]));
    assert_eq!(q(&mut r, "ZRANGE z 0 1 REV WITHSCORES"), bulks(&["e", "5", "d", "4"]));
    assert_eq!(q(&mut r, "ZREVRANGE z 1 -2"), bulks(&["d", "c", "b"]));
    assert_eq!(q(&mut r, "ZRANGE nokey 0 -1"), "*0\r\n");
    // By score: "(" excludes an end, -inf/+inf are open ends; REV takes <max> <min>.
    assert_eq!(q(&mut r, "ZRANGE z (1 3 BYSCORE"), bulks(&["b", "c"]));
    assert_eq!(q(&mut r, "ZRANGE z -inf +inf BYSCORE LIMIT 1 2 WITHSCORES"), bulks(&["b", "2", "c", "3"]));
    assert_eq!(q(&mut r, "ZRANGE z +inf (2 BYSCORE REV"), bulks(&["e", "d", "c"]));
    assert_eq!(q(&mut r, "ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2"), bulks(&["d", "c"]));
    assert_eq!(q(&mut r, "ZRANGE z -inf +inf BYSCORE LIMIT 2 -1"), bulks(&["c", "d", "e"]));
    assert_eq!(q(&mut r, "ZRANGE z -inf +inf BYSCORE LIMIT -1 2"), "*0\r\n");
    assert_eq!(q(&mut r, "ZRANGE z -inf +inf BYSCORE LIMIT 10 2"), "*0\r\n");
    assert_eq!(q(&mut r, "ZRANGE z 3 1 BYSCORE"), "*0\r\n");
    assert_eq!(q(&mut r, "ZRANGE z (3 (3 BYSCORE"), "*0\r\n");
    assert_eq!(q(&mut r, "ZRANGEBYSCORE z 2 4 WITHSCORES LIMIT 1 1"), bulks(&["c", "3"]));
    assert_eq!(q(&mut r, "ZREVRANGEBYSCORE z 4 (2"), bulks(&["d", "c"]));
    assert_eq!(q(&mut r, "ZRANGEBYSCORE z  3"), bulks(&["a", "b", "c"]), "an empty end reads as 0");
    // Errors and option combinations.
    assert_eq!(q(&mut r, "ZRANGE z a 1"), NOT_INT);
    assert_eq!(q(&mut r, "ZRANGE z x 1 BYSCORE"), NOT_FLOAT_RANGE);
    assert_eq!(q(&mut r, "ZRANGE z (x 1 BYSCORE"), NOT_FLOAT_RANGE);
    assert_eq!(q(&mut r, "ZRANGEBYSCORE z nan 1"), NOT_FLOAT_RANGE);
    assert_eq!(
        q(&mut r, "ZRANGE z 0 -1 LIMIT 0 1"),
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
    );
    assert_eq!(
        q(&mut r, "ZREVRANGE z 0 -1 LIMIT 0 1"),
        "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"
    );
    assert_eq!(
        q(&mut r, "ZRANGE z - + BYLEX WITHSCORES"),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(
        q(&mut r, "ZRANGEBYLEX z - + WITHSCORES"),
        "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
    );
    assert_eq!(q(&mut r, "ZRANGE z 0 -1 BYSCORE BYLEX"), SYNTAX);
    assert_eq!(q(&mut r, "ZRANGE z 0 -1 REV REV"), SYNTAX);
    assert_eq!(q(&mut r, "ZREVRANGE z 0 -1 REV"), SYNTAX);
    assert_eq!(q(&mut r, "ZRANGEBYSCORE z 0 1 BYSCORE"), SYNTAX);
    assert_eq!(q(&mut r, "ZRANGE z 0 -1 LIMIT 0"), SYNTAX);
    assert_eq!(q(&mut r, "ZRANGE z 0 1 BYSCORE LIMIT x 1"), NOT_INT);
    assert_eq!(q(&mut r, "ZRANGE z 0 -1 BOGUS"), SYNTAX);
    assert_eq!(q(&mut r, "ZRANGE z 0"), "-ERR wrong number of arguments for 'zrange' command\r\n");

    q(&mut r, "ZADD lex 0 a 0 b 0 c 0 d 0 e 0 f 0 g");
    assert_eq!(q(&mut r, "ZRANGE lex - + BYLEX"), bulks(&["a", "b", "c", "d", "e", "f", "g"]));
    assert_eq!(q(&mut r, "ZRANGE lex [b (e BYLEX"), bulks(&["b", "c", "d"]));
    assert_eq!(q(&mut r, "ZRANGE lex (e [b BYLEX REV"), bulks(&["d", "c", "b"]));
    assert_eq!(q(&mut r, "ZRANGEBYLEX lex - + LIMIT 2 3"), bulks(&["c", "d", "e"]));
    assert_eq!(q(&mut r, "ZREVRANGEBYLEX lex + - LIMIT 0 2"), bulks(&["g", "f"]));
    assert_eq!(q(&mut r, "ZRANGEBYLEX lex [c [c"), bulks(&["c"]));
    assert_eq!(q(&mut r, "ZRANGEBYLEX lex (c [c"), "*0\r\n");
    assert_eq!(q(&mut r, "ZRANGEBYLEX lex + -"), "*0\r\n");
    assert_eq!(q(&mut r, "ZRANGEBYLEX lex a +"), NOT_LEX_RANGE);
    assert_eq!(q(&mut r, "ZRANGEBYLEX lex -a +"), NOT_LEX_RANGE);
    assert_eq!(q(&mut r, "ZRANGE lex [a + BYLEX LIMIT 0 -1"), bulks(&["a", "b", "c", "d", "e", "f", "g"]));
}

#[test]
fn zcount_zlexcount_and_zremrange() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(q(&mut r, "ZCOUNT z -inf +inf"), ":5\r\n");
    assert_eq!(q(&mut r, "ZCOUNT z (1 3"), ":2\r\n");
    assert_eq!(q(&mut r, "ZCOUNT z 3 1"), ":0\r\n");
    assert_eq!(q(&mut r, "ZCOUNT nokey 0 1"), ":0\r\n");
    assert_eq!(q(&mut r, "ZCOUNT z x 1"), NOT_FLOAT_RANGE);
    q(&mut r, "ZADD lex 0 alpha 0 bar 0 cool 0 down 0 elephant 0 foo");
    assert_eq!(q(&mut r, "ZLEXCOUNT lex - +"), ":6\r\n");
    assert_eq!(q(&mut r, "ZLEXCOUNT lex [bar (foo"), ":4\r\n");
    assert_eq!(q(&mut r, "ZLEXCOUNT lex (cool +"), ":3\r\n");
    assert_eq!(q(&mut r, "ZLEXCOUNT nokey - +"), ":0\r\n");
    assert_eq!(q(&mut r, "ZLEXCOUNT lex x +"), NOT_LEX_RANGE);

    assert_eq!(q(&mut r, "ZREMRANGEBYRANK z 0 0"), ":1\r\n");
    assert_eq!(q(&mut r, "ZREMRANGEBYRANK z -1 -1"), ":1\r\n");
    assert_eq!(q(&mut r, "ZRANGE z 0 -1"), bulks(&["b", "c", "d"]));
    assert_eq!(q(&mut r, "ZREMRANGEBYRANK z 5 10"), ":0\r\n");
    assert_eq!(q(&mut r, "ZREMRANGEBYRANK z x 1"), NOT_INT);
    assert_eq!(q(&mut r, "ZREMRANGEBYSCORE z (2 3"), ":1\r\n");
    assert_eq!(q(&mut r, "ZREMRANGEBYSCORE z x 3"), NOT_FLOAT_RANGE);
    assert_eq!(q(&mut r, "ZREMRANGEBYSCORE z -inf +inf"), ":2\r\n");
    assert_eq!(q(&mut r, "EXISTS z"), ":0\r\n");
    assert_eq!(q(&mut r, "ZREMRANGEBYSCORE nokey -inf +inf"), ":0\r\n");
    assert_eq!(q(&mut r, "ZREMRANGEBYLEX lex [cool [elephant"), ":3\r\n");
    assert_eq!(q(&mut r, "ZRANGE lex 0 -1"), bulks(&["alpha", "bar", "foo"]));
    assert_eq!(q(&mut r, "ZREMRANGEBYLEX lex foo +"), NOT_LEX_RANGE);
    assert_eq!(q(&mut r, "ZREMRANGEBYLEX lex - +"), ":3\r\n");
    assert_eq!(q(&mut r, "EXISTS lex"), ":0\r\n");
    assert_eq!(
        q(&mut r, "ZREMRANGEBYRANK z 0 -1 x"),
        "-ERR wrong number of arguments for 'zremrangebyrank' command\r\n"
    );
}

#[test]
fn zrangestore_forms() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(q(&mut r, "ZRANGESTORE dst z 1 -1"), ":3\r\n");
    assert_eq!(q(&mut r, "ZRANGE dst 0 -1 WITHSCORES"), bulks(&["b", "2", "c", "3", "d", "4"]));
    assert_eq!(q(&mut r, "ZRANGESTORE dst z +inf (2 BYSCORE REV LIMIT 0 1"), ":1\r\n");
    assert_eq!(q(&mut r, "ZRANGE dst 0 -1 WITHSCORES"), bulks(&["d", "4"]));
    assert_eq!(q(&mut r, "ZRANGESTORE dst z [b [c BYLEX"), ":2\r\n");
    assert_eq!(q(&mut r, "ZRANGE dst 0 -1"), bulks(&["b", "c"]));
    assert_eq!(q(&mut r, "ZRANGESTORE dst z 0 -1 REV"), ":4\r\n");
    assert_eq!(q(&mut r, "ZRANGE dst 0 -1"), bulks(&["a", "b", "c", "d"]), "stored in score order");
    // An empty result deletes the destination, whatever it held.
    q(&mut r, "SET other v");
    assert_eq!(q(&mut r, "ZRANGESTORE other z 10 20"), ":0\r\n");
    assert_eq!(q(&mut r, "EXISTS other"), ":0\r\n");
    assert_eq!(q(&mut r, "ZRANGESTORE dst nokey 0 -1"), ":0\r\n");
    assert_eq!(q(&mut r, "EXISTS dst"), ":0\r\n");
    // The destination's old value and TTL are replaced.
    q(&mut r, "SET dst v EX 100");
    assert_eq!(q(&mut r, "ZRANGESTORE dst z 0 0"), ":1\r\n");
    assert_eq!(q(&mut r, "TTL dst"), ":-1\r\n");
    assert_eq!(q(&mut r, "TYPE dst"), "+zset\r\n");
    assert_eq!(q(&mut r, "ZRANGESTORE z z 0 1"), ":2\r\n", "the source may be the destination");
    assert_eq!(q(&mut r, "ZRANGE z 0 -1"), bulks(&["a", "b"]));
    assert_eq!(q(&mut r, "ZRANGESTORE dst z 0 -1 WITHSCORES"), SYNTAX);
    assert_eq!(q(&mut r, "ZRANGESTORE dst z 0"), "-ERR wrong number of arguments for 'zrangestore' command\r\n");
}

#[test]
fn union_inter_diff_and_stores() {
    let s = TestServer::start();
    let mut r = s.raw();
    q(&mut r, "ZADD a 1 x 2 y 3 z");
    q(&mut r, "ZADD b 10 y 20 z 30 w");
    q(&mut r, "SADD s y w q");
    assert_eq!(q(&mut r, "ZUNION 2 a b WITHSCORES"), bulks(&["x", "1", "y", "12", "z", "23", "w", "30"]));
    assert_eq!(q(&mut r, "ZUNION 2 a b"), bulks(&["x", "y", "z", "w"]));
    assert_eq!(
        q(&mut r, "ZUNION 2 a b WEIGHTS 2 -1 WITHSCORES"),
        bulks(&["w", "-30", "z", "-14", "y", "-6", "x", "2"])
    );
    assert_eq!(q(&mut r, "ZUNION 2 a b AGGREGATE MIN WITHSCORES"), bulks(&["x", "1", "y", "2", "z", "3", "w", "30"]));
    assert_eq!(q(&mut r, "ZUNION 2 a b AGGREGATE max WITHSCORES"), bulks(&["x", "1", "y", "10", "z", "20", "w", "30"]));
    // Plain sets take part with score 1.
    assert_eq!(q(&mut r, "ZUNION 2 a s WITHSCORES"), bulks(&["q", "1", "w", "1", "x", "1", "y", "3", "z", "3"]));
    assert_eq!(q(&mut r, "ZINTER 3 a b s WITHSCORES"), bulks(&["y", "13"]));
    assert_eq!(q(&mut r, "ZINTER 2 a b WITHSCORES"), bulks(&["y", "12", "z", "23"]));
    assert_eq!(q(&mut r, "ZINTER 2 a nokey"), "*0\r\n");
    assert_eq!(q(&mut r, "ZDIFF 2 a b WITHSCORES"), bulks(&["x", "1"]));
    assert_eq!(q(&mut r, "ZDIFF 2 b s WITHSCORES"), bulks(&["z", "20"]));
    assert_eq!(q(&mut r, "ZDIFF 2 a a"), "*0\r\n");
    assert_eq!(q(&mut r, "ZDIFF 1 nokey"), "*0\r\n");
    // inf + -inf sums to 0; 0 * inf weights to 0.
    q(&mut r, "ZADD pinf +inf m");
    q(&mut r, "ZADD ninf -inf m");
    assert_eq!(q(&mut r, "ZUNION 2 pinf ninf WITHSCORES"), bulks(&["m", "0"]));
    assert_eq!(q(&mut r, "ZUNION 1 pinf WEIGHTS 0 WITHSCORES"), bulks(&["m", "0"]));
    // Stores.
    assert_eq!(q(&mut r, "ZUNIONSTORE dst 2 a b"), ":4\r\n");
    assert_eq!(q(&mut r, "ZRANGE dst 0 -1 WITHSCORES"), bulks(&["x", "1", "y", "12", "z", "23", "w", "30"]));
    assert_eq!(q(&mut r, "ZINTERSTORE dst 2 a b WEIGHTS 1 0.5"), ":2\r\n");
    assert_eq!(q(&mut r, "ZRANGE dst 0 -1 WITHSCORES"), bulks(&["y", "7", "z", "13"]));
    assert_eq!(q(&mut r, "ZDIFFSTORE dst 2 b a"), ":1\r\n");
    assert_eq!(q(&mut r, "ZRANGE dst 0 -1 WITHSCORES"), bulks(&["w", "30"]));
    assert_eq!(q(&mut r, "ZINTERSTORE dst 2 a nokey"), ":0\r\n");
    assert_eq!(q(&mut r, "EXISTS dst"), ":0\r\n", "an empty result deletes the destination");
    assert_eq!(q(&mut r, "ZUNIONSTORE a 2 a b"), ":4\r\n", "a source may be the destination");
    assert_eq!(q(&mut r, "ZCARD a"), ":4\r\n");
    // ZINTERCARD.
    q(&mut r, "ZADD c 1 x 2 y 3 z");
    assert_eq!(q(&mut r, "ZINTERCARD 2 c b"), ":2\r\n");
    assert_eq!(q(&mut r, "ZINTERCARD 2 c b LIMIT 1"), ":1\r\n");
    assert_eq!(q(&mut r, "ZINTERCARD 2 c b LIMIT 0"), ":2\r\n");
    assert_eq!(q(&mut r, "ZINTERCARD 3 c b s"), ":1\r\n");
    assert_eq!(q(&mut r, "ZINTERCARD 2 c nokey"), ":0\r\n");
    assert_eq!(q(&mut r, "ZINTERCARD 2 c b LIMIT -1"), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(q(&mut r, "ZINTERCARD 2 c b LIMIT x"), "-ERR LIMIT can't be negative\r\n");
    assert_eq!(q(&mut r, "ZINTERCARD 2 c b WEIGHTS 1 1"), SYNTAX);
    assert_eq!(q(&mut r, "ZINTERCARD 0 c"), "-ERR at least 1 input key is needed for 'zintercard' command\r\n");
    // Errors.
    assert_eq!(q(&mut r, "ZUNION 0 a"), "-ERR at least 1 input key is needed for 'zunion' command\r\n");
    assert_eq!(q(&mut r, "ZUNIONSTORE dst 0 a"), "-ERR at least 1 input key is needed for 'zunionstore' command\r\n");
    assert_eq!(q(&mut r, "ZUNION x a"), NOT_INT);
    assert_eq!(q(&mut r, "ZUNION 3 a b"), SYNTAX);
    assert_eq!(q(&mut r, "ZUNION 2 a b WEIGHTS 1"), SYNTAX);
    assert_eq!(q(&mut r, "ZUNION 2 a b WEIGHTS 1 x"), "-ERR weight value is not a float\r\n");
    assert_eq!(q(&mut r, "ZUNION 2 a b AGGREGATE avg"), SYNTAX);
    assert_eq!(q(&mut r, "ZUNION 2 a b AGGREGATE"), SYNTAX);
    assert_eq!(q(&mut r, "ZDIFF 2 a b WEIGHTS 1 1"), SYNTAX);
    assert_eq!(q(&mut r, "ZDIFF 2 a b AGGREGATE sum"), SYNTAX);
    assert_eq!(q(&mut r, "ZUNIONSTORE dst 2 a b WITHSCORES"), SYNTAX);
    q(&mut r, "SET str v");
    // Input types are checked before the options.
    assert_eq!(
        q(&mut r, "ZUNION 2 a str WEIGHTS x x"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    q(&mut r, "HELLO 3");
    assert_eq!(q(&mut r, "ZINTER 2 c b WITHSCORES"), "*2\r\n*2\r\n$1\r\ny\r\n,12\r\n*2\r\n$1\r\nz\r\n,23\r\n");
    assert_eq!(q(&mut r, "ZDIFF 2 c b"), bulks(&["x"]));
}

fn zadd(c: &mut Connection, key: &str, score: f64, member: &str) {
    let _: i64 = redis::cmd("ZADD").arg(key).arg(score).arg(member).query(c).expect("ZADD");
}

#[test]
fn leaderboard_pattern() {
    let s = TestServer::start();
    let mut c = s.client();
    let players = ["alice", "bob", "carol", "dave", "erin", "frank"];
    for (i, p) in players.iter().enumerate() {
        zadd(&mut c, "board", (i * 10) as f64, p);
    }
    // Points come in.
    let bob: f64 = redis::cmd("ZINCRBY").arg("board").arg(100).arg("bob").query(&mut c).expect("ZINCRBY");
    assert_eq!(bob, 110.0);
    let _: f64 = redis::cmd("ZINCRBY").arg("board").arg(5.5).arg("alice").query(&mut c).expect("ZINCRBY");
    let top: Vec<(String, f64)> =
        redis::cmd("ZREVRANGE").arg("board").arg(0).arg(2).arg("WITHSCORES").query(&mut c).expect("ZREVRANGE");
    assert_eq!(top, vec![("bob".to_string(), 110.0), ("frank".to_string(), 50.0), ("erin".to_string(), 40.0)]);
    let rank: Option<i64> = redis::cmd("ZREVRANK").arg("board").arg("alice").query(&mut c).expect("ZREVRANK");
    assert_eq!(rank, Some(5));
    let rank: Option<i64> = redis::cmd("ZREVRANK").arg("board").arg("nobody").query(&mut c).expect("ZREVRANK");
    assert_eq!(rank, None);
    let around: Vec<String> = redis::cmd("ZRANGE")
        .arg("board")
        .arg("+inf")
        .arg("20")
        .arg("BYSCORE")
        .arg("REV")
        .arg("LIMIT")
        .arg(1)
        .arg(2)
        .query(&mut c)
        .expect("ZRANGE");
    assert_eq!(around, vec!["frank", "erin"]);
    let score: Option<f64> = redis::cmd("ZSCORE").arg("board").arg("alice").query(&mut c).expect("ZSCORE");
    assert_eq!(score, Some(5.5));
    let n: i64 = redis::cmd("ZCOUNT").arg("board").arg(30).arg("+inf").query(&mut c).expect("ZCOUNT");
    assert_eq!(n, 4);
}

#[test]
fn sliding_window_rate_limiter_pattern() {
    let s = TestServer::start();
    let mut c = s.client();
    let window_ms = 1000u64;
    let limit = 5usize;
    // Requests at simulated times; each one trims the window, records itself, and counts.
    let mut allowed = Vec::new();
    for (i, now) in [0u64, 100, 200, 300, 400, 500, 600, 1150, 1450, 1650, 2500].iter().enumerate() {
        let (_, _, count): (i64, i64, usize) = redis::pipe()
            .cmd("ZREMRANGEBYSCORE")
            .arg("rl:user1")
            .arg("-inf")
            .arg(format!("({}", now.saturating_sub(window_ms)))
            .cmd("ZADD")
            .arg("rl:user1")
            .arg(*now)
            .arg(format!("req-{i}"))
            .cmd("ZCARD")
            .arg("rl:user1")
            .query(&mut c)
            .expect("pipeline");
        allowed.push(count <= limit);
    }
    assert_eq!(allowed, [true, true, true, true, true, false, false, false, true, true, true]);
    let oldest: Vec<(String, u64)> =
        redis::cmd("ZRANGE").arg("rl:user1").arg(0).arg(0).arg("WITHSCORES").query(&mut c).expect("ZRANGE");
    assert_eq!(oldest, vec![("req-9".to_string(), 1650)]);
}

#[test]
fn two_hundred_thousand_members() {
    let s = TestServer::start();
    let mut c = s.client();
    let n = 200_000u64;
    // Inserted out of order, in batches.
    for batch in 0..20u64 {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg("big");
        for j in 0..n / 20 {
            let k = ((batch * (n / 20) + j) * 7919) % n;
            cmd.arg(k).arg(format!("member:{k:06}"));
        }
        let _: i64 = cmd.query(&mut c).expect("ZADD batch");
    }
    let card: u64 = redis::cmd("ZCARD").arg("big").query(&mut c).expect("ZCARD");
    assert_eq!(card, n);
    let mut r = s.raw();
    assert_eq!(q(&mut r, "OBJECT ENCODING big"), "$8\r\nskiplist\r\n");
    for k in [0, 1, n / 2, n - 2, n - 1] {
        let m = format!("member:{k:06}");
        let rank: i64 = redis::cmd("ZRANK").arg("big").arg(&m).query(&mut c).expect("ZRANK");
        assert_eq!(rank as u64, k);
        let rev: i64 = redis::cmd("ZREVRANK").arg("big").arg(&m).query(&mut c).expect("ZREVRANK");
        assert_eq!(rev as u64, n - 1 - k);
        let at: Vec<String> = redis::cmd("ZRANGE").arg("big").arg(k).arg(k).query(&mut c).expect("ZRANGE");
        assert_eq!(at, vec![m]);
    }
    let first: Vec<(String, u64)> =
        redis::cmd("ZRANGE").arg("big").arg(0).arg(2).arg("WITHSCORES").query(&mut c).expect("ZRANGE");
    assert_eq!(first.iter().map(|p| p.1).collect::<Vec<_>>(), [0, 1, 2]);
    let last: Vec<String> = redis::cmd("ZREVRANGE").arg("big").arg(0).arg(1).query(&mut c).expect("ZREVRANGE");
    assert_eq!(last, vec![format!("member:{:06}", n - 1), format!("member:{:06}", n - 2)]);
    let mid: Vec<String> = redis::cmd("ZRANGE").arg("big").arg(-100_001).arg(-99_999).query(&mut c).expect("ZRANGE");
    assert_eq!(mid, vec!["member:099999", "member:100000", "member:100001"]);
    let count: u64 = redis::cmd("ZCOUNT").arg("big").arg(1000).arg("(2000").query(&mut c).expect("ZCOUNT");
    assert_eq!(count, 1000);
    let page: Vec<String> = redis::cmd("ZRANGEBYSCORE")
        .arg("big")
        .arg("(150000")
        .arg("+inf")
        .arg("LIMIT")
        .arg(10)
        .arg(2)
        .query(&mut c)
        .expect("ZRANGEBYSCORE");
    assert_eq!(page, vec!["member:150011", "member:150012"]);
    let removed: u64 =
        redis::cmd("ZREMRANGEBYRANK").arg("big").arg(0).arg(49_999).query(&mut c).expect("ZREMRANGEBYRANK");
    assert_eq!(removed, 50_000);
    let removed: u64 =
        redis::cmd("ZREMRANGEBYSCORE").arg("big").arg("(189999").arg("+inf").query(&mut c).expect("ZREMRANGEBYSCORE");
    assert_eq!(removed, 10_000);
    let rank: i64 = redis::cmd("ZRANK").arg("big").arg("member:100000").query(&mut c).expect("ZRANK");
    assert_eq!(rank, 50_000);
    let popped: Vec<(String, u64)> = redis::cmd("ZPOPMAX").arg("big").arg(2).query(&mut c).expect("ZPOPMAX");
    assert_eq!(popped, vec![("member:189999".to_string(), 189_999), ("member:189998".to_string(), 189_998)]);
    let card: u64 = redis::cmd("ZCARD").arg("big").query(&mut c).expect("ZCARD");
    assert_eq!(card, n - 60_002);
}
