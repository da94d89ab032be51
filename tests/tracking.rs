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
