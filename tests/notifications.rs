//! Keyspace notifications over TCP: channels, classes, expired and new-key events.

mod common;

use std::time::Duration;

use common::{RawConn, TestServer};

fn listen(srv: &TestServer, pattern: &[u8]) -> RawConn {
    let mut sub = srv.raw();
    let r = sub.cmd(&[b"PSUBSCRIBE", pattern]);
    assert!(r.starts_with(b"*3\r\n$10\r\npsubscribe"), "{}", String::from_utf8_lossy(&r));
    sub
}

/// Reads one pmessage and returns (channel, payload).
fn next_event(sub: &mut RawConn) -> (String, String) {
    let raw = sub.read_reply();
    let text = String::from_utf8_lossy(&raw).to_string();
    let parts: Vec<&str> = text.split("\r\n").collect();
    // *4, $8, pmessage, $n, pattern, $n, channel, $n, payload
    assert_eq!(parts.get(2), Some(&"pmessage"), "{text}");
    (parts[6].to_string(), parts[8].to_string())
}

#[test]
fn keyspace_and_keyevent_channels_carry_the_events() {
    let srv = TestServer::start_with(&["--notify-keyspace-events", "KEA"]);
    let mut sub = listen(&srv, b"__key*__:*");
    let mut c = srv.client();
    let _: () = redis::cmd("SET").arg("foo").arg("bar").query(&mut c).expect("set");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:foo".into(), "set".into()));
    assert_eq!(next_event(&mut sub), ("__keyevent@0__:set".into(), "foo".into()));
    let _: i64 = redis::cmd("INCR").arg("n").query(&mut c).expect("incr");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:n".into(), "incrby".into()));
    assert_eq!(next_event(&mut sub), ("__keyevent@0__:incrby".into(), "n".into()));
    let _: i64 = redis::cmd("EXPIRE").arg("foo").arg(100).query(&mut c).expect("expire");
    assert_eq!(next_event(&mut sub).1, "expire");
    next_event(&mut sub);
    let _: () = redis::cmd("RENAME").arg("foo").arg("bar").query(&mut c).expect("rename");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:foo".into(), "rename_from".into()));
    next_event(&mut sub);
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:bar".into(), "rename_to".into()));
    next_event(&mut sub);
    let _: i64 = redis::cmd("DEL").arg("bar").arg("nokey").query(&mut c).expect("del");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:bar".into(), "del".into()));
}

#[test]
fn classes_filter_events() {
    // Only generic events on the keyevent channel: SET (a string event) publishes nothing.
    let srv = TestServer::start_with(&["--notify-keyspace-events", "Eg"]);
    let mut sub = listen(&srv, b"__key*__:*");
    let mut c = srv.client();
    let _: () = redis::cmd("SET").arg("a").arg("1").query(&mut c).expect("set");
    let _: i64 = redis::cmd("DEL").arg("a").query(&mut c).expect("del");
    assert_eq!(next_event(&mut sub), ("__keyevent@0__:del".into(), "a".into()));
    // Turned off at run time: nothing more arrives.
    let _: () = redis::cmd("CONFIG").arg("SET").arg("notify-keyspace-events").arg("").query(&mut c).expect("config");
    let _: () = redis::cmd("SET").arg("b").arg("1").query(&mut c).expect("set");
    let _: i64 = redis::cmd("DEL").arg("b").query(&mut c).expect("del");
    assert!(sub.read_for(200).is_empty());
}

#[test]
fn expired_and_new_key_events() {
    let srv = TestServer::start_with(&["--notify-keyspace-events", "Exn"]);
    let mut sub = listen(&srv, b"__keyevent@0__:*");
    let mut c = srv.client();
    let _: () = redis::cmd("SET").arg("ttl").arg("v").arg("PX").arg(50).query(&mut c).expect("set");
    assert_eq!(next_event(&mut sub), ("__keyevent@0__:new".into(), "ttl".into()));
    // Nobody touches the key: the active expiry cycle removes it and publishes the event.
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(next_event(&mut sub), ("__keyevent@0__:expired".into(), "ttl".into()));
}

#[test]
fn collection_commands_publish_their_events_and_del_when_emptied() {
    let srv = TestServer::start_with(&["--notify-keyspace-events", "KA"]);
    let mut sub = listen(&srv, b"__keyspace@0__:*");
    let mut c = srv.client();
    let _: i64 = redis::cmd("HSET").arg("h").arg("f").arg("v").query(&mut c).expect("hset");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:h".into(), "hset".into()));
    let _: i64 = redis::cmd("RPUSH").arg("l").arg("a").query(&mut c).expect("rpush");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:l".into(), "rpush".into()));
    let _: Option<String> = redis::cmd("LPOP").arg("l").query(&mut c).expect("lpop");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:l".into(), "lpop".into()));
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:l".into(), "del".into()));
    let _: i64 = redis::cmd("SADD").arg("s").arg("m").query(&mut c).expect("sadd");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:s".into(), "sadd".into()));
    // A write that changes nothing publishes nothing.
    let _: i64 = redis::cmd("SADD").arg("s").arg("m").query(&mut c).expect("sadd");
    let _: i64 = redis::cmd("ZADD").arg("z").arg(1).arg("a").query(&mut c).expect("zadd");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:z".into(), "zadd".into()));
    let _: i64 = redis::cmd("ZREM").arg("z").arg("a").query(&mut c).expect("zrem");
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:z".into(), "zrem".into()));
    assert_eq!(next_event(&mut sub), ("__keyspace@0__:z".into(), "del".into()));
}

#[test]
fn moves_multi_pops_and_sort_store_name_each_key_role() {
    let srv = TestServer::start_with(&["--notify-keyspace-events", "KA"]);
    let mut sub = listen(&srv, b"__keyspace@0__:*");
    let mut c = srv.raw();
    let ev = |k: &str, e: &str| (format!("__keyspace@0__:{k}"), e.to_string());
    assert_eq!(c.cmd(&[b"RPUSH", b"src", b"a", b"b"]), b":2\r\n");
    assert_eq!(next_event(&mut sub), ev("src", "rpush"));
    // LMOVE: the push on the destination first, then the pop on the source.
    assert_eq!(c.cmd(&[b"LMOVE", b"src", b"dst", b"RIGHT", b"LEFT"]), b"$1\r\nb\r\n");
    assert_eq!(next_event(&mut sub), ev("dst", "lpush"));
    assert_eq!(next_event(&mut sub), ev("src", "rpop"));
    assert_eq!(c.cmd(&[b"RPOPLPUSH", b"src", b"dst"]), b"$1\r\na\r\n");
    assert_eq!(next_event(&mut sub), ev("dst", "lpush"));
    assert_eq!(next_event(&mut sub), ev("src", "rpop"));
    assert_eq!(next_event(&mut sub), ev("src", "del"));
    // LMPOP names the end it popped from.
    assert_eq!(c.cmd(&[b"LMPOP", b"1", b"dst", b"RIGHT"]), b"*2\r\n$3\r\ndst\r\n*1\r\n$1\r\nb\r\n");
    assert_eq!(next_event(&mut sub), ev("dst", "rpop"));
    assert_eq!(c.cmd(&[b"LMPOP", b"1", b"dst", b"LEFT"]), b"*2\r\n$3\r\ndst\r\n*1\r\n$1\r\na\r\n");
    assert_eq!(next_event(&mut sub), ev("dst", "lpop"));
    assert_eq!(next_event(&mut sub), ev("dst", "del"));
    // SMOVE: srem on the source (del when emptied), sadd on the destination.
    assert_eq!(c.cmd(&[b"SADD", b"s1", b"m"]), b":1\r\n");
    assert_eq!(next_event(&mut sub), ev("s1", "sadd"));
    assert_eq!(c.cmd(&[b"SMOVE", b"s1", b"s2", b"m"]), b":1\r\n");
    assert_eq!(next_event(&mut sub), ev("s1", "srem"));
    assert_eq!(next_event(&mut sub), ev("s1", "del"));
    assert_eq!(next_event(&mut sub), ev("s2", "sadd"));
    // SORT ... STORE: sortstore, or del when the result is empty and the key existed.
    assert_eq!(c.cmd(&[b"SORT", b"s2", b"ALPHA", b"STORE", b"out"]), b":1\r\n");
    assert_eq!(next_event(&mut sub), ev("out", "sortstore"));
    assert_eq!(c.cmd(&[b"SORT", b"missing", b"STORE", b"out"]), b":0\r\n");
    assert_eq!(next_event(&mut sub), ev("out", "del"));
    assert_eq!(c.cmd(&[b"SORT", b"missing", b"STORE", b"out"]), b":0\r\n");
    assert_eq!(c.cmd(&[b"SET", b"done", b"1"]), b"+OK\r\n");
    assert_eq!(next_event(&mut sub), ev("done", "set"));
}
