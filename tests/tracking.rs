//! Client-side caching (CLIENT TRACKING) over TCP: invalidations pushed over RESP3 or sent to a
//! redirect connection, BCAST prefixes, OPTIN/OPTOUT, NOLOOP, flushes and expiry.

mod common;

use std::time::Duration;

use common::{RawConn, TestServer};

fn resp3(srv: &TestServer) -> RawConn {
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"HELLO", b"3"]).first(), Some(&b'%'));
    c
}

fn client_id(c: &mut RawConn) -> String {
    let r = c.cmd(&[b"CLIENT", b"ID"]);
    String::from_utf8_lossy(&r[1..r.len() - 2]).to_string()
}

#[test]
fn resp3_client_gets_an_invalidation_push_after_another_client_writes() {
    let srv = TestServer::start();
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"ON"]), b"+OK\r\n");
    let mut w = srv.client();
    let _: () = redis::cmd("SET").arg("user:1").arg("alice").query(&mut w).expect("set");
    assert_eq!(cache.cmd(&[b"GET", b"user:1"]), b"$5\r\nalice\r\n");
    let _: () = redis::cmd("SET").arg("user:1").arg("bob").query(&mut w).expect("set");
    assert_eq!(cache.read_reply(), b">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nuser:1\r\n");
    // Forgotten after one invalidation: the next write sends nothing until read again.
    let _: () = redis::cmd("SET").arg("user:1").arg("carol").query(&mut w).expect("set");
    assert!(cache.read_for(150).is_empty());
    // Keys never read are not tracked.
    let _: () = redis::cmd("SET").arg("user:2").arg("x").query(&mut w).expect("set");
    assert!(cache.read_for(150).is_empty());
}

#[test]
fn redirect_sends_invalidations_to_a_resp2_subscriber() {
    let srv = TestServer::start();
    let mut inval = srv.raw();
    let redir = client_id(&mut inval);
    inval.send(b"*2\r\n$9\r\nSUBSCRIBE\r\n$20\r\n__redis__:invalidate\r\n");
    inval.read_reply();
    let mut cache = srv.raw();
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on", b"REDIRECT", redir.as_bytes()]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"CLIENT", b"GETREDIR"]), format!(":{redir}\r\n").into_bytes());
    assert_eq!(cache.cmd(&[b"GET", b"k"]), b"$-1\r\n");
    let mut w = srv.client();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut w).expect("set");
    assert_eq!(inval.read_reply(), b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n");
    // A flush invalidates everything with a null.
    assert_eq!(cache.cmd(&[b"GET", b"k"]), b"$1\r\nv\r\n");
    let _: () = redis::cmd("FLUSHALL").query(&mut w).expect("flushall");
    assert_eq!(inval.read_reply(), b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*-1\r\n");
    assert_eq!(
        cache.cmd(&[b"CLIENT", b"TRACKING", b"on", b"REDIRECT", b"999999"]),
        b"-ERR The client ID you want redirect to does not exist\r\n"
    );
}

#[test]
fn bcast_prefixes_optin_noloop_and_info() {
    let srv = TestServer::start();
    let mut b = resp3(&srv);
    assert_eq!(b.cmd(&[b"CLIENT", b"TRACKING", b"on", b"BCAST", b"PREFIX", b"cache:"]), b"+OK\r\n");
    let mut w = srv.client();
    let _: () = redis::cmd("SET").arg("cache:a").arg("1").query(&mut w).expect("set");
    assert_eq!(b.read_reply(), b">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\ncache:a\r\n");
    let _: () = redis::cmd("SET").arg("other").arg("1").query(&mut w).expect("set");
    assert!(b.read_for(150).is_empty(), "keys outside the prefix are not broadcast");
    let info = b.cmd(&[b"CLIENT", b"TRACKINGINFO"]);
    let text = String::from_utf8_lossy(&info);
    assert!(text.contains("bcast") && text.contains("cache:"), "{text}");
    assert_eq!(
        b.cmd(&[b"CLIENT", b"TRACKING", b"on"]),
        b"-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.\r\n"
    );

    let mut o = resp3(&srv);
    assert_eq!(o.cmd(&[b"CLIENT", b"TRACKING", b"on", b"OPTIN"]), b"+OK\r\n");
    assert_eq!(o.cmd(&[b"GET", b"untracked"]), b"_\r\n");
    assert_eq!(o.cmd(&[b"CLIENT", b"CACHING", b"yes"]), b"+OK\r\n");
    assert_eq!(o.cmd(&[b"GET", b"tracked"]), b"_\r\n");
    let _: () = redis::cmd("SET").arg("untracked").arg("1").query(&mut w).expect("set");
    let _: () = redis::cmd("SET").arg("tracked").arg("1").query(&mut w).expect("set");
    assert_eq!(o.read_reply(), b">2\r\n$10\r\ninvalidate\r\n*1\r\n$7\r\ntracked\r\n");
    assert_eq!(
        o.cmd(&[b"CLIENT", b"CACHING", b"no"]),
        b"-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
    );

    let mut n = resp3(&srv);
    assert_eq!(n.cmd(&[b"CLIENT", b"TRACKING", b"on", b"NOLOOP"]), b"+OK\r\n");
    assert_eq!(n.cmd(&[b"GET", b"mine"]), b"_\r\n");
    assert_eq!(n.cmd(&[b"SET", b"mine", b"1"]), b"+OK\r\n");
    assert!(n.read_for(150).is_empty(), "NOLOOP: no invalidation for the client's own write");

    let mut c = srv.client();
    let info: String = redis::cmd("INFO").arg("clients").query(&mut c).expect("info");
    assert!(info.contains("tracking_clients:3"), "{info}");
    assert_eq!(n.cmd(&[b"CLIENT", b"TRACKING", b"off"]), b"+OK\r\n");
    assert_eq!(n.cmd(&[b"CLIENT", b"GETREDIR"]), b":-1\r\n");
}

#[test]
fn expiry_invalidates_tracked_keys() {
    let srv = TestServer::start();
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"ON"]), b"+OK\r\n");
    let mut w = srv.client();
    let _: () = redis::cmd("SET").arg("session:9").arg("x").arg("PX").arg(50).query(&mut w).expect("set");
    assert_eq!(cache.cmd(&[b"GET", b"session:9"]), b"$1\r\nx\r\n");
    std::thread::sleep(Duration::from_millis(80));
    // Nobody touches the key: active expiry removes it and the cache hears about it.
    assert_eq!(cache.read_reply(), b">2\r\n$10\r\ninvalidate\r\n*1\r\n$9\r\nsession:9\r\n");
}

fn inval(key: &str) -> Vec<u8> {
    format!(">2\r\n$10\r\ninvalidate\r\n*1\r\n${}\r\n{key}\r\n", key.len()).into_bytes()
}

#[test]
fn one_invalidation_per_key_in_the_order_the_keys_changed() {
    let srv = TestServer::start();
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"ON"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"MGET", b"a{t}", b"b{t}"]), b"*2\r\n_\r\n_\r\n");
    let mut w = srv.raw();
    assert_eq!(w.cmd(&[b"MSET", b"b{t}", b"1", b"a{t}", b"1"]), b"+OK\r\n");
    assert_eq!(cache.read_reply(), inval("b{t}"));
    assert_eq!(cache.read_reply(), inval("a{t}"));
}

#[test]
fn scripts_track_their_declared_keys_once_they_read_something() {
    let srv = TestServer::start();
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"ON"]), b"+OK\r\n");
    let mut w = srv.raw();
    // A script that only writes tracks nothing.
    assert_eq!(cache.cmd(&[b"EVAL", b"redis.call('set', 'k3{t}', 'x')", b"2", b"k1{t}", b"k2{t}"]), b"_\r\n");
    assert_eq!(w.cmd(&[b"MSET", b"k2{t}", b"1", b"k1{t}", b"1"]), b"+OK\r\n");
    assert!(cache.read_for(150).is_empty());
    // One that reads tracks every declared key (not the key it read).
    assert_eq!(cache.cmd(&[b"EVAL", b"redis.call('get', 'k3{t}')", b"2", b"k1{t}", b"k2{t}"]), b"_\r\n");
    assert_eq!(w.cmd(&[b"MSET", b"k3{t}", b"1", b"k2{t}", b"2", b"k1{t}", b"2"]), b"+OK\r\n");
    assert_eq!(cache.read_reply(), inval("k2{t}"));
    assert_eq!(cache.read_reply(), inval("k1{t}"));
    // EVAL_RO's own key arguments are not tracked unless it reads.
    assert_eq!(cache.cmd(&[b"EVAL_RO", b"redis.call('ping')", b"1", b"k1{t}"]), b"_\r\n");
    assert_eq!(w.cmd(&[b"SET", b"k1{t}", b"3"]), b"+OK\r\n");
    assert!(cache.read_for(150).is_empty());
}

#[test]
fn a_resp3_client_hears_that_its_redirect_client_is_gone() {
    let srv = TestServer::start();
    let mut redir = srv.raw();
    let id = client_id(&mut redir);
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on", b"REDIRECT", id.as_bytes()]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"GET", b"k"]), b"_\r\n");
    drop(redir);
    std::thread::sleep(Duration::from_millis(100));
    let mut w = srv.raw();
    assert_eq!(w.cmd(&[b"SET", b"k", b"1"]), b"+OK\r\n");
    let push = format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n").into_bytes();
    assert_eq!(cache.read_reply(), push);
    let info = String::from_utf8_lossy(&cache.cmd(&[b"CLIENT", b"TRACKINGINFO"])).to_string();
    assert!(info.contains("broken_redirect"), "{info}");
}

#[test]
fn resp2_clients_without_redirect_get_no_invalidations() {
    let srv = TestServer::start();
    let mut cache = srv.raw();
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"GET", b"k"]), b"$-1\r\n");
    let mut w = srv.raw();
    assert_eq!(w.cmd(&[b"SET", b"k", b"1"]), b"+OK\r\n");
    assert!(cache.read_for(150).is_empty());
    assert_eq!(cache.cmd(&[b"PING"]), b"+PONG\r\n");
}

#[test]
fn switching_to_bcast_drops_keys_read_before_and_prefixes_must_not_overlap() {
    let srv = TestServer::start();
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"GET", b"key1"]), b"_\r\n");
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"off"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on", b"BCAST"]), b"+OK\r\n");
    let mut w = srv.raw();
    assert_eq!(w.cmd(&[b"INCR", b"key1"]), b":1\r\n");
    assert_eq!(cache.read_reply(), inval("key1"));
    assert!(cache.read_for(150).is_empty(), "only the broadcast message");

    let mut c = srv.raw();
    let overlap = |c: &mut RawConn, args: &[&[u8]]| String::from_utf8_lossy(&c.cmd(args)).to_string();
    let e = overlap(&mut c, &[b"CLIENT", b"TRACKING", b"ON", b"BCAST", b"PREFIX", b"FOOBAR", b"PREFIX", b"FOO"]);
    assert!(e.starts_with("-ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'."), "{e}");
    assert_eq!(c.cmd(&[b"CLIENT", b"TRACKING", b"ON", b"BCAST", b"PREFIX", b"FOO", b"PREFIX", b"BAR"]), b"+OK\r\n");
    let e = overlap(&mut c, &[b"CLIENT", b"TRACKING", b"ON", b"BCAST", b"PREFIX", b"FO"]);
    assert!(e.starts_with("-ERR Prefix 'FO' overlaps with an existing prefix 'FOO'."), "{e}");
}

#[test]
fn flushall_clears_the_table_and_invalidates_even_when_empty() {
    let srv = TestServer::start();
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"GET", b"key1"]), b"_\r\n");
    assert_eq!(cache.cmd(&[b"GET", b"key2"]), b"_\r\n");
    let mut w = srv.client();
    assert_eq!(common::info_int(&mut w, "tracking_total_keys"), 2);
    let _: () = redis::cmd("FLUSHALL").arg("ASYNC").query(&mut w).expect("flushall");
    assert_eq!(common::info_int(&mut w, "tracking_total_keys"), 0);
    assert_eq!(cache.read_reply(), b">2\r\n$10\r\ninvalidate\r\n_\r\n");
    assert!(cache.read_for(150).is_empty(), "one message for the whole flush");
}

#[test]
fn the_tracking_table_is_held_to_tracking_table_max_keys() {
    let srv = TestServer::start();
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"MGET", b"a", b"b", b"c"]), b"*3\r\n_\r\n_\r\n_\r\n");
    let mut w = srv.client();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("tracking-table-max-keys").arg("1").query(&mut w).expect("set");
    let mut dropped = Vec::new();
    for _ in 0..2 {
        let r = cache.read_reply();
        assert!(r.starts_with(b">2\r\n$10\r\ninvalidate\r\n*1\r\n"), "{}", String::from_utf8_lossy(&r));
        dropped.push(r);
    }
    assert_ne!(dropped[0], dropped[1]);
    assert_eq!(common::info_int(&mut w, "tracking_total_keys"), 1);
}

#[test]
fn a_served_blmove_gets_its_reply_before_the_invalidation_of_its_own_write() {
    let srv = TestServer::start();
    let mut w = srv.raw();
    assert_eq!(w.cmd(&[b"RPUSH", b"dst{t}", b"a"]), b":1\r\n");
    let mut rd = resp3(&srv);
    assert_eq!(rd.cmd(&[b"CLIENT", b"TRACKING", b"on"]), b"+OK\r\n");
    assert_eq!(rd.cmd(&[b"LRANGE", b"dst{t}", b"0", b"-1"]), b"*1\r\n$1\r\na\r\n");
    rd.send(&common::encode(&[b"BLMOVE", b"src{t}", b"dst{t}", b"LEFT", b"LEFT", b"0"]));
    let mut c = srv.client();
    while common::info_int(&mut c, "blocked_clients") != 1 {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(w.cmd(&[b"RPUSH", b"src{t}", b"foo"]), b":1\r\n");
    assert_eq!(rd.read_reply(), b"$3\r\nfoo\r\n");
    assert_eq!(rd.read_reply(), inval("dst{t}"));
}

#[test]
fn invalidations_of_keys_evicted_for_a_command_come_before_its_reply() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "volatile-random"]);
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on"]), b"+OK\r\n");
    let mut c = srv.client();
    let used = common::info_int(&mut c, "used_memory");
    let limit = (used + 100 * 1024).to_string();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg(&limit).query(&mut c).expect("set");
    assert_eq!(cache.cmd(&[b"SETEX", b"volatile-key", b"10000", b"x"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"GET", b"volatile-key"]), b"$1\r\nx\r\n");
    assert_eq!(cache.cmd(&[b"SETBIT", b"big-key", b"1600000", b"0"]), b":0\r\n");
    cache.send(&common::encode(&[b"GETBIT", b"big-key", b"0"]));
    assert_eq!(cache.read_reply(), inval("volatile-key"));
    assert_eq!(cache.read_reply(), b":0\r\n");
}

/// With CLIENT REPLY OFF, invalidations of keys evicted for a command still arrive (pushes
/// are not replies).
#[test]
fn eviction_invalidations_reach_a_client_with_replies_off() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "volatile-random"]);
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on"]), b"+OK\r\n");
    let mut c = srv.client();
    assert_eq!(cache.cmd(&[b"SETEX", b"volatile-key", b"10000", b"x"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"GET", b"volatile-key"]), b"$1\r\nx\r\n");
    let used = common::info_int(&mut c, "used_memory");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg((used + 100 * 1024).to_string())
        .query(&mut c)
        .expect("set");
    assert_eq!(cache.cmd(&[b"SETBIT", b"big-key", b"1600000", b"0"]), b":0\r\n");
    cache.send(
        &[common::encode(&[b"CLIENT", b"REPLY", b"OFF"]), common::encode(&[b"GETBIT", b"big-key", b"0"])].concat(),
    );
    assert_eq!(cache.read_reply(), inval("volatile-key"));
    assert!(cache.read_for(150).is_empty(), "no reply with CLIENT REPLY OFF");
}

/// Keys dropped to respect tracking-table-max-keys did not change: BCAST clients hear
/// nothing of them.
#[test]
fn trimming_the_tracking_table_tells_bcast_clients_nothing() {
    let srv = TestServer::start();
    let mut b = resp3(&srv);
    assert_eq!(b.cmd(&[b"CLIENT", b"TRACKING", b"on", b"BCAST"]), b"+OK\r\n");
    let mut cache = resp3(&srv);
    assert_eq!(cache.cmd(&[b"CLIENT", b"TRACKING", b"on"]), b"+OK\r\n");
    assert_eq!(cache.cmd(&[b"MGET", b"a", b"b", b"c"]), b"*3\r\n_\r\n_\r\n_\r\n");
    let mut w = srv.client();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("tracking-table-max-keys").arg("1").query(&mut w).expect("set");
    for _ in 0..2 {
        let r = cache.read_reply();
        assert!(r.starts_with(b">2\r\n$10\r\ninvalidate\r\n*1\r\n"), "{}", String::from_utf8_lossy(&r));
    }
    assert!(b.read_for(300).is_empty(), "BCAST client told of keys nobody wrote");
}
