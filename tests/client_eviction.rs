//! Client eviction over TCP (`maxmemory-clients`, CLIENT NO-EVICT): the clients holding the
//! most memory are disconnected, and, as in Redis's maxmemory tests, big output or input
//! buffers evict clients when client eviction is on and keys (through used_memory) when off.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{info_int, q, RawConn, TestServer};

/// One worker thread: which of key eviction and client eviction acts first then does not
/// depend on how two workers' rounds interleave (with several workers, a few keys may go
/// before the buffers another worker's clients just filled are counted).
const ONE_WORKER: &[&str] = &["--io-threads", "1"];

fn cfg(c: &mut redis::Connection, name: &str, value: &str) {
    let _: () = redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query(c).expect("config set");
}

/// 50 keys of 100 KB under maxmemory 11 MB above the start, allkeys-lru; with client eviction,
/// maxmemory-clients 3 MB and this connection exempt.
fn setup(srv: &TestServer, client_eviction: bool) -> redis::Connection {
    let mut c = srv.client();
    let base = info_int(&mut c, "used_memory");
    cfg(&mut c, "maxmemory-policy", "allkeys-lru");
    cfg(&mut c, "maxmemory", &(base + 11 * 1024 * 1024).to_string());
    if client_eviction {
        cfg(&mut c, "maxmemory-clients", "3mb");
        let _: () = redis::cmd("CLIENT").arg("NO-EVICT").arg("on").query(&mut c).expect("no-evict");
    }
    for j in 0..50 {
        let _: i64 = redis::cmd("SETRANGE").arg(j).arg(100_000).arg("x").query(&mut c).expect("setrange");
    }
    c
}

/// Whether the expected kind of eviction (clients, or keys) happened and only that.
fn evicted_as_expected(c: &mut redis::Connection, client_eviction: bool) -> bool {
    let (keys, clients) = (info_int(c, "evicted_keys"), info_int(c, "evicted_clients"));
    let dbsize: i64 = redis::cmd("DBSIZE").query(c).expect("dbsize");
    if client_eviction {
        clients > 0 && keys == 0 && dbsize == 50
    } else {
        clients == 0 && keys > 0 && dbsize < 50
    }
}

fn until_evicted(c: &mut redis::Connection, client_eviction: bool, mut step: impl FnMut()) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !evicted_as_expected(c, client_eviction) {
        if Instant::now() >= deadline {
            let (keys, clients) = (info_int(c, "evicted_keys"), info_int(c, "evicted_clients"));
            let (used, cmem) = (info_int(c, "used_memory"), info_int(c, "mem_clients_normal"));
            panic!(
                "no {} eviction: evicted_keys={keys} evicted_clients={clients} used_memory={used} mem_clients_normal={cmem}",
                if client_eviction { "client" } else { "key" }
            );
        }
        step();
    }
}

#[test]
fn output_buffers_of_many_mget_clients() {
    for client_eviction in [false, true] {
        let srv = TestServer::start_with(ONE_WORKER);
        let mut c = setup(&srv, client_eviction);
        // Clients that never read their 100 KB replies.
        let mut readers: Vec<RawConn> = (0..20).map(|_| srv.raw()).collect();
        until_evicted(&mut c, client_eviction, || {
            for r in readers.iter_mut() {
                let _ = r.s.write_all(&common::encode(&[b"MGET", b"1"]));
            }
        });
        drop(readers);
    }
}

#[test]
fn input_buffers_of_dead_clients() {
    for client_eviction in [false, true] {
        let srv = TestServer::start_with(ONE_WORKER);
        let mut c = setup(&srv, client_eviction);
        // Clients that send most of a 250 KB command and then go silent.
        let mut dead: Vec<RawConn> = (0..30).map(|_| srv.raw()).collect();
        let mut partial = b"*250\r\n".to_vec();
        for _ in 0..249 {
            partial.extend_from_slice(b"$1000\r\n");
            partial.extend_from_slice(&[b'x'; 1000]);
            partial.extend_from_slice(b"\r\n");
        }
        for d in dead.iter_mut() {
            let _ = d.s.write_all(&partial);
        }
        until_evicted(&mut c, client_eviction, || std::thread::sleep(Duration::from_millis(50)));
        drop(dead);
    }
}

#[test]
fn output_buffers_of_pubsub_subscribers() {
    for client_eviction in [false, true] {
        let srv = TestServer::start_with(ONE_WORKER);
        let mut c = setup(&srv, client_eviction);
        let mut subs: Vec<RawConn> = (0..20).map(|_| srv.raw()).collect();
        for s in subs.iter_mut() {
            assert!(q(s, &["SUBSCRIBE", "bla"]).starts_with("*3"));
        }
        let big = vec![b'x'; 100_000];
        let mut publisher = srv.client();
        let _: () = redis::cmd("CLIENT").arg("NO-EVICT").arg("on").query(&mut publisher).expect("no-evict");
        until_evicted(&mut c, client_eviction, || {
            let _: Result<i64, _> = redis::cmd("PUBLISH").arg("bla").arg(&big[..]).query(&mut publisher);
        });
        drop(subs);
    }
}

#[test]
fn client_eviction_disconnects_the_biggest_client_but_not_no_evict_ones() {
    let srv = TestServer::start_with(&["--maxmemory-clients", "1500kb"]);
    let mut c = srv.client();
    // A client sending a large value slowly holds it in its query buffer.
    let partial = |conn: &mut common::RawConn| {
        conn.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000000\r\n");
        conn.send(&vec![b'x'; 1_000_000]);
    };
    let mut protected = srv.raw();
    assert_eq!(q(&mut protected, &["CLIENT", "NO-EVICT", "on"]), "+OK\r\n");
    partial(&mut protected);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(info_int(&mut c, "evicted_clients"), 0, "a NO-EVICT client was evicted");
    let mut hog = srv.raw();
    partial(&mut hog);
    let (_, closed) = hog.read_to_close(3000);
    assert!(closed, "the client over maxmemory-clients was not disconnected");
    assert_eq!(info_int(&mut c, "evicted_clients"), 1);
    // The protected client finishes its command normally.
    protected.send(&vec![b'x'; 3_000_000]);
    protected.send(b"\r\n");
    assert_eq!(protected.read_reply(), b"+OK\r\n");
    let len: i64 = redis::cmd("STRLEN").arg("k").query(&mut srv.client()).expect("strlen");
    assert_eq!(len, 4_000_000);
}
