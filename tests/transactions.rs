//! MULTI/EXEC/DISCARD/WATCH over TCP, including the cache-aside patterns web apps run.

mod common;

use std::time::Duration;

use common::TestServer;

#[test]
fn multi_exec_runs_queued_commands_and_keeps_runtime_errors() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    assert_eq!(raw.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"SET", b"a", b"1"]), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&[b"LPUSH", b"a", b"x"]), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&[b"INCR", b"a"]), b"+QUEUED\r\n");
    assert_eq!(
        raw.cmd(&[b"EXEC"]),
        b"*3\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:2\r\n".to_vec()
    );
    assert_eq!(raw.cmd(&[b"EXEC"]), b"-ERR EXEC without MULTI\r\n");
    assert_eq!(raw.cmd(&[b"DISCARD"]), b"-ERR DISCARD without MULTI\r\n");
    assert_eq!(raw.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"MULTI"]), b"-ERR MULTI calls can not be nested\r\n");
    assert_eq!(raw.cmd(&[b"WATCH", b"a"]), b"-ERR WATCH inside MULTI is not allowed\r\n");
    assert_eq!(raw.cmd(&[b"SET", b"a", b"2"]), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&[b"DISCARD"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"GET", b"a"]), b"$1\r\n2\r\n");
}

#[test]
fn queueing_errors_abort_the_transaction() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    assert_eq!(raw.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"SET", b"k", b"v"]), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&[b"NOSUCH"]), b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    assert_eq!(raw.cmd(&[b"GET"]), b"-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(raw.cmd(&[b"EXEC"]), b"-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert_eq!(raw.cmd(&[b"EXISTS", b"k"]), b":0\r\n");
    // Commands that cannot run inside MULTI abort it too.
    assert_eq!(raw.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"SHUTDOWN"]), b"-ERR Command not allowed inside a transaction\r\n");
    assert_eq!(raw.cmd(&[b"EXEC"]), b"-EXECABORT Transaction discarded because of previous errors.\r\n");
}

#[test]
fn watch_fails_exec_after_another_client_writes() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    let mut b = srv.client();
    let _: () = redis::cmd("SET").arg("w").arg("1").query(&mut b).expect("set");
    assert_eq!(a.cmd(&[b"WATCH", b"w"]), b"+OK\r\n");
    let _: () = redis::cmd("SET").arg("w").arg("2").query(&mut b).expect("set");
    assert_eq!(a.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"SET", b"w", b"3"]), b"+QUEUED\r\n");
    assert_eq!(a.cmd(&[b"EXEC"]), b"*-1\r\n");
    let v: String = redis::cmd("GET").arg("w").query(&mut b).expect("get");
    assert_eq!(v, "2");
    // After EXEC the key is no longer watched: the next transaction succeeds.
    assert_eq!(a.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"SET", b"w", b"4"]), b"+QUEUED\r\n");
    assert_eq!(a.cmd(&[b"EXEC"]), b"*1\r\n+OK\r\n");
    // UNWATCH forgets keys.
    assert_eq!(a.cmd(&[b"WATCH", b"w"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"UNWATCH"]), b"+OK\r\n");
    let _: () = redis::cmd("SET").arg("w").arg("5").query(&mut b).expect("set");
    assert_eq!(a.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"GET", b"w"]), b"+QUEUED\r\n");
    assert_eq!(a.cmd(&[b"EXEC"]), b"*1\r\n$1\r\n5\r\n");
}

#[test]
fn watch_is_broken_by_expiry_flush_swapdb_but_not_by_unrelated_flush() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    let mut b = srv.client();
    // Expiry of a key that was live when watched.
    let _: () = redis::cmd("SET").arg("e").arg("1").arg("PX").arg(50).query(&mut b).expect("set");
    assert_eq!(a.cmd(&[b"WATCH", b"e"]), b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(a.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"GET", b"e"]), b"+QUEUED\r\n");
    assert_eq!(a.cmd(&[b"EXEC"]), b"*-1\r\n");
    // FLUSHALL touches watched keys that exist...
    let _: () = redis::cmd("SET").arg("f").arg("1").query(&mut b).expect("set");
    assert_eq!(a.cmd(&[b"WATCH", b"f"]), b"+OK\r\n");
    let _: () = redis::cmd("FLUSHALL").query(&mut b).expect("flushall");
    assert_eq!(a.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"PING"]), b"+QUEUED\r\n");
    assert_eq!(a.cmd(&[b"EXEC"]), b"*-1\r\n");
    // ...but not ones that did not exist.
    assert_eq!(a.cmd(&[b"WATCH", b"absent"]), b"+OK\r\n");
    let _: () = redis::cmd("FLUSHALL").query(&mut b).expect("flushall");
    assert_eq!(a.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"PING"]), b"+QUEUED\r\n");
    assert_eq!(a.cmd(&[b"EXEC"]), b"*1\r\n+PONG\r\n");
    // SWAPDB brings a value into the watched key's database.
    let mut other =
        redis::Client::open(format!("redis://127.0.0.1:{}/1", srv.port)).expect("c").get_connection().expect("c");
    let _: () = redis::cmd("SET").arg("s").arg("db1").query(&mut other).expect("set");
    assert_eq!(a.cmd(&[b"WATCH", b"s"]), b"+OK\r\n");
    let _: () = redis::cmd("SWAPDB").arg(0).arg(1).query(&mut b).expect("swapdb");
    assert_eq!(a.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"GET", b"s"]), b"+QUEUED\r\n");
    assert_eq!(a.cmd(&[b"EXEC"]), b"*-1\r\n");
}

#[test]
fn watch_retry_loop_under_a_conflicting_writer_converges() {
    // The field-update pattern: WATCH, read, MULTI, HSET + EXPIRE, EXEC; retried on nil.
    let srv = TestServer::start_with(&["--io-threads", "2"]);
    let port = srv.port;
    let writer = std::thread::spawn(move || {
        let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("c").get_connection().expect("c");
        for i in 0..300 {
            let _: () = redis::cmd("HSET").arg("cache:user:1").arg("noise").arg(i).query(&mut c).expect("hset");
        }
    });
    let mut c = srv.client();
    let mut successes = 0;
    let mut attempts = 0;
    while successes < 50 && attempts < 10_000 {
        attempts += 1;
        let _: () = redis::cmd("WATCH").arg("cache:user:1").query(&mut c).expect("watch");
        let n: Option<i64> = redis::cmd("HGET").arg("cache:user:1").arg("count").query(&mut c).expect("hget");
        let r: Option<(i64, i64)> = redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg("cache:user:1")
            .arg("count")
            .arg(n.unwrap_or(0) + 1)
            .cmd("EXPIRE")
            .arg("cache:user:1")
            .arg(3600)
            .query(&mut c)
            .expect("exec");
        if r.is_some() {
            successes += 1;
        }
    }
    writer.join().expect("writer");
    let count: i64 = redis::cmd("HGET").arg("cache:user:1").arg("count").query(&mut c).expect("hget");
    assert_eq!(count, 50, "every successful transaction incremented exactly once");
}

#[test]
fn exec_is_atomic_across_worker_threads() {
    // Readers on other threads never see one key of the pair updated without the other.
    let srv = TestServer::start_with(&["--io-threads", "2"]);
    let mut c = srv.client();
    let _: () = redis::cmd("MSET").arg("x").arg(0).arg("y").arg(0).query(&mut c).expect("mset");
    let port = srv.port;
    let reader = std::thread::spawn(move || {
        let mut r = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("c").get_connection().expect("c");
        for _ in 0..2000 {
            let (x, y): (i64, i64) = redis::cmd("MGET").arg("x").arg("y").query(&mut r).expect("mget");
            assert_eq!(x, y, "saw half a transaction");
        }
    });
    for _ in 0..2000 {
        let _: (i64, i64) =
            redis::pipe().atomic().cmd("INCR").arg("x").cmd("INCR").arg("y").query(&mut c).expect("exec");
    }
    reader.join().expect("reader");
}

#[test]
fn blocking_commands_inside_multi_do_not_block() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    assert_eq!(raw.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(raw.cmd(&[b"BLPOP", b"nothing", b"0"]), b"+QUEUED\r\n");
    assert_eq!(raw.cmd(&[b"EXEC"]), b"*1\r\n*-1\r\n");
}

#[test]
fn writes_that_change_nothing_do_not_break_a_watch() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    let mut b = srv.client();
    let _: i64 = redis::cmd("SADD").arg("tags").arg("rust").query(&mut b).expect("sadd");
    assert_eq!(a.cmd(&[b"WATCH", b"tags"]), b"+OK\r\n");
    let added: i64 = redis::cmd("SADD").arg("tags").arg("rust").query(&mut b).expect("sadd");
    assert_eq!(added, 0);
    assert_eq!(a.cmd(&[b"MULTI"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"SCARD", b"tags"]), b"+QUEUED\r\n");
    assert_eq!(a.cmd(&[b"EXEC"]), b"*1\r\n:1\r\n", "SADD of an existing member modifies nothing");
}
