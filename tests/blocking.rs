//! Blocking list commands over TCP: wake-ups across connections and worker threads, FIFO
//! service, timeouts, CLIENT UNBLOCK, MULTI-free immediate paths and INFO blocked_clients.

mod common;

use std::time::{Duration, Instant};

use common::{info_int as info_field, TestServer};

fn wait_blocked(c: &mut redis::Connection, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while info_field(c, "blocked_clients") != n {
        assert!(Instant::now() < deadline, "expected {n} blocked clients");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn blpop_returns_at_once_when_data_is_there() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: () = redis::cmd("RPUSH").arg("q").arg("a").arg("b").query(&mut c).expect("rpush");
    let got: (String, String) = redis::cmd("BLPOP").arg("empty").arg("q").arg(0).query(&mut c).expect("blpop");
    assert_eq!(got, ("q".into(), "a".into()));
    let got: (String, String) = redis::cmd("BRPOP").arg("q").arg(1).query(&mut c).expect("brpop");
    assert_eq!(got, ("q".into(), "b".into()));
    let n: i64 = redis::cmd("EXISTS").arg("q").query(&mut c).expect("exists");
    assert_eq!(n, 0, "emptied list deleted");
}

#[test]
fn blocked_clients_wake_on_push_from_another_connection_in_order() {
    // Two workers, so waiters and the pusher land on different threads.
    let srv = TestServer::start_with(&["--io-threads", "2"]);
    let mut waiters = Vec::new();
    for i in 0..3 {
        let port = srv.port;
        waiters.push(std::thread::spawn(move || {
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("client");
            let mut c = client.get_connection().expect("connect");
            let got: (String, String) = redis::cmd("BLPOP").arg("jobs").arg(10).query(&mut c).expect("blpop");
            (i, got.1)
        }));
        // Arrival order decides service order.
        let mut probe = srv.client();
        wait_blocked(&mut probe, i + 1);
    }
    let mut c = srv.client();
    let _: () = redis::cmd("RPUSH").arg("jobs").arg("j0").arg("j1").arg("j2").query(&mut c).expect("rpush");
    let mut results: Vec<(i64, String)> = waiters.into_iter().map(|t| t.join().expect("waiter")).collect();
    results.sort();
    assert_eq!(results, vec![(0, "j0".into()), (1, "j1".into()), (2, "j2".into())]);
    assert_eq!(info_field(&mut c, "blocked_clients"), 0);
}

#[test]
fn timeouts_answer_null_and_fractional_timeouts_work() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let t = Instant::now();
    assert_eq!(raw.cmd(&[b"BLPOP", b"nothing", b"0.2"]), b"*-1\r\n");
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(190) && waited < Duration::from_secs(3), "waited {waited:?}");
    assert_eq!(raw.cmd(&[b"BLMOVE", b"nothing", b"dst", b"LEFT", b"RIGHT", b"0.05"]), b"$-1\r\n");
    assert_eq!(raw.cmd(&[b"BLMPOP", b"0.05", b"2", b"a", b"b", b"LEFT"]), b"*-1\r\n");
    assert_eq!(raw.cmd(&[b"HELLO", b"3"]).first(), Some(&b'%'));
    assert_eq!(raw.cmd(&[b"BRPOPLPUSH", b"nothing", b"dst", b"0.05"]), b"_\r\n");
    assert_eq!(raw.cmd(&[b"BLPOP", b"k", b"-1"]), b"-ERR timeout is negative\r\n");
    assert_eq!(raw.cmd(&[b"BLPOP", b"k", b"abc"]), b"-ERR timeout is not a float or out of range\r\n");
}

#[test]
fn blmove_and_blmpop_are_served_and_chains_follow() {
    let srv = TestServer::start();
    let port = srv.port;
    // A waits on "src"; B waits on "dst", which A's BLMOVE fills.
    let a = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("c").get_connection().expect("c");
        let v: String =
            redis::cmd("BLMOVE").arg("src").arg("dst").arg("LEFT").arg("RIGHT").arg(10).query(&mut c).expect("blmove");
        v
    });
    let mut probe = srv.client();
    wait_blocked(&mut probe, 1);
    let b = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("c").get_connection().expect("c");
        let v: (String, Vec<String>) = redis::cmd("BLMPOP")
            .arg(10)
            .arg(1)
            .arg("dst")
            .arg("RIGHT")
            .arg("COUNT")
            .arg(5)
            .query(&mut c)
            .expect("blmpop");
        v
    });
    wait_blocked(&mut probe, 2);
    let _: () = redis::cmd("LPUSH").arg("src").arg("x").query(&mut probe).expect("lpush");
    assert_eq!(a.join().expect("a"), "x");
    assert_eq!(b.join().expect("b"), ("dst".to_string(), vec!["x".to_string()]));
    let n: i64 = redis::cmd("EXISTS").arg("src").arg("dst").query(&mut probe).expect("exists");
    assert_eq!(n, 0);
}

#[test]
fn client_unblock_and_wrongtype_and_disconnects() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    let id_reply = waiter.cmd(&[b"CLIENT", b"ID"]);
    let id = String::from_utf8_lossy(&id_reply[1..id_reply.len() - 2]).to_string();
    waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
    let mut c = srv.client();
    wait_blocked(&mut c, 1);
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).expect("list");
    assert!(list.lines().any(|l| l.contains(&format!("id={id} ")) && l.contains("flags=b")), "{list}");
    let n: i64 = redis::cmd("CLIENT").arg("UNBLOCK").arg(&id).query(&mut c).expect("unblock");
    assert_eq!(n, 1);
    assert_eq!(waiter.read_reply(), b"*-1\r\n");
    let n: i64 = redis::cmd("CLIENT").arg("UNBLOCK").arg(&id).query(&mut c).expect("unblock again");
    assert_eq!(n, 0, "not blocked any more");
    waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
    wait_blocked(&mut c, 1);
    let _: i64 = redis::cmd("CLIENT").arg("UNBLOCK").arg(&id).arg("ERROR").query(&mut c).expect("unblock error");
    assert_eq!(waiter.read_reply(), b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    // The connection keeps working after being unblocked.
    assert_eq!(waiter.cmd(&[b"PING"]), b"+PONG\r\n");

    let _: () = redis::cmd("SET").arg("s").arg("v").query(&mut c).expect("set");
    assert_eq!(
        waiter.cmd(&[b"BLPOP", b"s", b"0"]),
        b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    // A blocked client that disconnects leaves the registry.
    waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
    wait_blocked(&mut c, 1);
    drop(waiter);
    wait_blocked(&mut c, 0);
    let _: () = redis::cmd("RPUSH").arg("q").arg("kept").query(&mut c).expect("rpush");
    let n: i64 = redis::cmd("LLEN").arg("q").query(&mut c).expect("llen");
    assert_eq!(n, 1, "nobody took the element");
}

#[test]
fn pipelined_commands_after_a_blocking_one_wait_for_it() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n");
    let mut c = srv.client();
    wait_blocked(&mut c, 1);
    let _: () = redis::cmd("RPUSH").arg("q").arg("v").query(&mut c).expect("rpush");
    assert_eq!(waiter.read_reply(), b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
    assert_eq!(waiter.read_reply(), b"+PONG\r\n");
}

#[test]
fn pushes_inside_exec_wake_blocked_clients() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$2\r\ntx\r\n$1\r\n0\r\n");
    let mut c = srv.client();
    wait_blocked(&mut c, 1);
    let _: (i64,) = redis::pipe().atomic().cmd("RPUSH").arg("tx").arg("from-exec").query(&mut c).expect("exec");
    assert_eq!(waiter.read_reply(), b"*2\r\n$2\r\ntx\r\n$9\r\nfrom-exec\r\n");
}

#[test]
fn a_key_replaced_by_another_type_keeps_the_client_blocked() {
    let srv = TestServer::start();
    let mut waiter = srv.raw();
    waiter.send(b"*3\r\n$5\r\nBLPOP\r\n$4\r\nlist\r\n$1\r\n0\r\n");
    let mut c = srv.client();
    wait_blocked(&mut c, 1);
    // Pushed, deleted and replaced by a string in one transaction: the waiter sees a string.
    let _: (i64, i64, String) = redis::pipe()
        .atomic()
        .cmd("LPUSH")
        .arg("list")
        .arg("a")
        .cmd("DEL")
        .arg("list")
        .cmd("SET")
        .arg("list")
        .arg("foo")
        .query(&mut c)
        .expect("exec");
    wait_blocked(&mut c, 1);
    let _: i64 = redis::cmd("DEL").arg("list").query(&mut c).expect("del");
    let _: i64 = redis::cmd("LPUSH").arg("list").arg("b").query(&mut c).expect("lpush");
    assert_eq!(waiter.read_reply(), b"*2\r\n$4\r\nlist\r\n$1\r\nb\r\n");
}

#[test]
fn swapdb_and_move_wake_blocked_clients() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let _: () = redis::cmd("SELECT").arg(1).query(&mut c).expect("select");
    let _: i64 = redis::cmd("RPUSH").arg("k").arg("hello").query(&mut c).expect("rpush");
    let _: () = redis::cmd("SELECT").arg(0).query(&mut c).expect("select");
    let mut waiter = srv.raw();
    waiter.send(b"*3\r\n$5\r\nBRPOP\r\n$1\r\nk\r\n$1\r\n5\r\n");
    wait_blocked(&mut c, 1);
    let _: () = redis::cmd("SWAPDB").arg(1).arg(0).query(&mut c).expect("swapdb");
    assert_eq!(waiter.read_reply(), b"*2\r\n$1\r\nk\r\n$5\r\nhello\r\n");

    // MOVE into the waiter's database.
    waiter.send(b"*3\r\n$5\r\nBRPOP\r\n$1\r\nm\r\n$1\r\n5\r\n");
    wait_blocked(&mut c, 1);
    let _: () = redis::cmd("SELECT").arg(2).query(&mut c).expect("select");
    let _: i64 = redis::cmd("RPUSH").arg("m").arg("moved").query(&mut c).expect("rpush");
    let moved: i64 = redis::cmd("MOVE").arg("m").arg(0).query(&mut c).expect("move");
    assert_eq!(moved, 1);
    assert_eq!(waiter.read_reply(), b"*2\r\n$1\r\nm\r\n$5\r\nmoved\r\n");
}

#[test]
fn sorted_set_blocking_pops() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let _: () = {
        let mut c = srv.client();
        redis::cmd("ZADD").arg("z").arg(1).arg("a").arg(2).arg("b").query(&mut c).expect("zadd")
    };
    assert_eq!(raw.cmd(&[b"BZPOPMIN", b"none", b"z", b"0"]), b"*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n");
    assert_eq!(raw.cmd(&[b"BZPOPMAX", b"z", b"0"]), b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assert_eq!(raw.cmd(&[b"BZPOPMIN", b"z", b"0.05"]), b"*-1\r\n");
    assert_eq!(raw.cmd(&[b"BZMPOP", b"0.05", b"1", b"z", b"MIN"]), b"*-1\r\n");
    // A waiter is served when ZADD lands.
    raw.send(b"*5\r\n$6\r\nBZMPOP\r\n$1\r\n0\r\n$1\r\n1\r\n$5\r\nboard\r\n$3\r\nMAX\r\n");
    let mut c = srv.client();
    wait_blocked(&mut c, 1);
    let _: i64 = redis::cmd("ZADD").arg("board").arg(10).arg("x").arg(20).arg("y").query(&mut c).expect("zadd");
    assert_eq!(raw.read_reply(), b"*2\r\n$5\r\nboard\r\n*1\r\n*2\r\n$1\r\ny\r\n$2\r\n20\r\n");
    let left: i64 = redis::cmd("ZCARD").arg("board").query(&mut c).expect("zcard");
    assert_eq!(left, 1);
}
