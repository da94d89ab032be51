//! Pub/Sub over TCP: RESP2 and RESP3 shapes, patterns, shard channels, subscribed-mode rules,
//! ordering, fan-out across worker threads, PUBSUB introspection, slow-subscriber limits.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{RawConn, TestServer};

fn cmd(args: &[&[u8]]) -> Vec<u8> {
    let mut req = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        req.extend_from_slice(a);
        req.extend_from_slice(b"\r\n");
    }
    req
}

fn subscribed(srv: &TestServer, verb: &[u8], names: &[&[u8]]) -> RawConn {
    let mut raw = srv.raw();
    let mut args = vec![verb];
    args.extend_from_slice(names);
    raw.send(&cmd(&args));
    for _ in names {
        raw.read_reply();
    }
    raw
}

#[test]
fn subscribe_publish_and_confirmations_in_resp2() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.send(&cmd(&[b"SUBSCRIBE", b"news", b"alerts"]));
    assert_eq!(sub.read_reply(), b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    assert_eq!(sub.read_reply(), b"*3\r\n$9\r\nsubscribe\r\n$6\r\nalerts\r\n:2\r\n");
    let mut c = srv.client();
    let n: i64 = redis::cmd("PUBLISH").arg("news").arg("hello").query(&mut c).expect("publish");
    assert_eq!(n, 1);
    assert_eq!(sub.read_reply(), b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
    let n: i64 = redis::cmd("PUBLISH").arg("nobody").arg("x").query(&mut c).expect("publish");
    assert_eq!(n, 0);
    // Subscribed RESP2 clients may only run the subscription commands, PING, QUIT and RESET.
    assert_eq!(
        sub.cmd(&[b"GET", b"k"]),
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(sub.cmd(&[b"PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(sub.cmd(&[b"PING", b"hi"]), b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    sub.send(&cmd(&[b"UNSUBSCRIBE"]));
    let a = sub.read_reply();
    let b = sub.read_reply();
    let both = [a, b].concat();
    assert!(both.windows(4).any(|w| w == b"news") && both.windows(6).any(|w| w == b"alerts"));
    assert!(both.ends_with(b":0\r\n"));
    assert_eq!(sub.cmd(&[b"UNSUBSCRIBE"]), b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
    assert_eq!(sub.cmd(&[b"GET", b"k"]), b"$-1\r\n", "out of subscribed mode again");
}

#[test]
fn resp3_clients_get_pushes_and_keep_running_commands() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    assert_eq!(sub.cmd(&[b"HELLO", b"3"]).first(), Some(&b'%'));
    assert_eq!(sub.cmd(&[b"SUBSCRIBE", b"ch"]), b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    assert_eq!(sub.cmd(&[b"SET", b"k", b"v"]), b"+OK\r\n", "RESP3 clients may run any command");
    let mut c = srv.client();
    let _: i64 = redis::cmd("PUBLISH").arg("ch").arg("m").query(&mut c).expect("publish");
    assert_eq!(sub.read_reply(), b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
}

#[test]
fn patterns_and_shard_channels() {
    let srv = TestServer::start();
    let mut p = srv.raw();
    assert_eq!(p.cmd(&[b"PSUBSCRIBE", b"cache:*"]), b"*3\r\n$10\r\npsubscribe\r\n$7\r\ncache:*\r\n:1\r\n");
    let mut s = srv.raw();
    assert_eq!(s.cmd(&[b"SSUBSCRIBE", b"orders"]), b"*3\r\n$10\r\nssubscribe\r\n$6\r\norders\r\n:1\r\n");
    let mut c = srv.client();
    let n: i64 = redis::cmd("PUBLISH").arg("cache:user:1").arg("invalidate").query(&mut c).expect("publish");
    assert_eq!(n, 1);
    assert_eq!(
        p.read_reply(),
        b"*4\r\n$8\r\npmessage\r\n$7\r\ncache:*\r\n$12\r\ncache:user:1\r\n$10\r\ninvalidate\r\n"
    );
    let n: i64 = redis::cmd("SPUBLISH").arg("orders").arg("o1").query(&mut c).expect("spublish");
    assert_eq!(n, 1);
    assert_eq!(s.read_reply(), b"*3\r\n$8\r\nsmessage\r\n$6\r\norders\r\n$2\r\no1\r\n");
    // Shard channels and plain channels are separate namespaces.
    let n: i64 = redis::cmd("PUBLISH").arg("orders").arg("o2").query(&mut c).expect("publish");
    assert_eq!(n, 0);
    let numpat: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut c).expect("numpat");
    assert_eq!(numpat, 1);
    let shards: Vec<String> = redis::cmd("PUBSUB").arg("SHARDCHANNELS").query(&mut c).expect("shardchannels");
    assert_eq!(shards, vec!["orders".to_string()]);
    let counts: Vec<redis::Value> =
        redis::cmd("PUBSUB").arg("SHARDNUMSUB").arg("orders").arg("none").query(&mut c).expect("shardnumsub");
    assert_eq!(counts.len(), 4);
    assert_eq!(p.cmd(&[b"PUNSUBSCRIBE", b"cache:*"]), b"*3\r\n$12\r\npunsubscribe\r\n$7\r\ncache:*\r\n:0\r\n");
}

#[test]
fn pubsub_introspection() {
    let srv = TestServer::start();
    let _a = subscribed(&srv, b"SUBSCRIBE", &[b"news.tech", b"news.art"]);
    let _b = subscribed(&srv, b"SUBSCRIBE", &[b"news.tech"]);
    let mut c = srv.client();
    let mut chans: Vec<String> = redis::cmd("PUBSUB").arg("CHANNELS").query(&mut c).expect("channels");
    chans.sort();
    assert_eq!(chans, vec!["news.art".to_string(), "news.tech".to_string()]);
    let only: Vec<String> = redis::cmd("PUBSUB").arg("CHANNELS").arg("*tech").query(&mut c).expect("channels");
    assert_eq!(only, vec!["news.tech".to_string()]);
    let counts: Vec<redis::Value> =
        redis::cmd("PUBSUB").arg("NUMSUB").arg("news.tech").arg("news.art").arg("none").query(&mut c).expect("numsub");
    assert_eq!(
        counts,
        vec![
            redis::Value::BulkString(b"news.tech".to_vec()),
            redis::Value::Int(2),
            redis::Value::BulkString(b"news.art".to_vec()),
            redis::Value::Int(1),
            redis::Value::BulkString(b"none".to_vec()),
            redis::Value::Int(0),
        ]
    );
    let info: String = redis::cmd("INFO").arg("stats").query(&mut c).expect("info");
    assert!(info.contains("pubsub_channels:2"), "{info}");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).expect("client list");
    assert!(list.lines().any(|l| l.contains("sub=2 psub=0") && l.contains("flags=P")), "{list}");
}

#[test]
fn invalidation_fans_out_in_publish_order_across_workers() {
    let srv = TestServer::start_with(&["--io-threads", "2"]);
    let mut subs: Vec<RawConn> = (0..6).map(|_| subscribed(&srv, b"SUBSCRIBE", &[b"invalidate"])).collect();
    let mut c = srv.client();
    for i in 0..200 {
        let n: i64 = redis::cmd("PUBLISH").arg("invalidate").arg(format!("key:{i}")).query(&mut c).expect("publish");
        assert_eq!(n, 6);
    }
    for s in &mut subs {
        for i in 0..200 {
            let want = format!("key:{i}");
            let got = s.read_reply();
            let expected = format!("*3\r\n$7\r\nmessage\r\n$10\r\ninvalidate\r\n${}\r\n{want}\r\n", want.len());
            assert_eq!(got, expected.as_bytes(), "message {i} out of order");
        }
    }
}

/// Eight connections publishing at once keep one worker busy (it lingers between polls and
/// holds its subscribers' messages for a few rounds): every message still arrives, in each
/// publisher's order, and the last ones arrive although the publishers then fall silent.
#[test]
fn busy_publishers_on_one_worker_lose_and_reorder_nothing() {
    const PUBLISHERS: usize = 8;
    const EACH: usize = 500;
    let srv = TestServer::start_with(&["--io-threads", "1"]);
    let mut subs: Vec<RawConn> = (0..3).map(|_| subscribed(&srv, b"SUBSCRIBE", &[b"feed"])).collect();
    let threads: Vec<_> = (0..PUBLISHERS)
        .map(|p| {
            let mut raw = srv.raw();
            std::thread::spawn(move || {
                for chunk in 0..EACH / 50 {
                    let mut batch = Vec::new();
                    for i in chunk * 50..(chunk + 1) * 50 {
                        batch.extend(cmd(&[b"PUBLISH", b"feed", format!("{p}:{i}").as_bytes()]));
                    }
                    raw.send(&batch);
                    for _ in 0..50 {
                        assert_eq!(raw.read_reply(), b":3\r\n");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("publisher");
    }
    for s in &mut subs {
        let mut next = [0usize; PUBLISHERS];
        for _ in 0..PUBLISHERS * EACH {
            let got = String::from_utf8(s.read_reply()).expect("utf8");
            let payload = got.rsplit("\r\n").nth(1).expect("payload");
            let (p, i) = payload.split_once(':').expect("p:i");
            let (p, i): (usize, usize) = (p.parse().expect("p"), i.parse().expect("i"));
            assert_eq!(i, next[p], "publisher {p}'s messages out of order");
            next[p] += 1;
        }
        assert_eq!(next, [EACH; PUBLISHERS]);
    }
}

#[test]
fn a_subscriber_that_does_not_read_is_disconnected_at_the_hard_limit() {
    let srv = TestServer::start_with(&["--client-output-buffer-limit", "pubsub 256kb 0 0"]);
    let mut slow = srv.raw();
    slow.send(&cmd(&[b"SUBSCRIBE", b"firehose"]));
    slow.read_reply();
    let mut c = srv.client();
    let payload = vec![b'x'; 16 * 1024];
    let deadline = Instant::now() + Duration::from_secs(20);
    // Publish until the server drops the subscriber (its socket buffers fill first).
    let mut delivered = 0;
    loop {
        let n: i64 = redis::cmd("PUBLISH").arg("firehose").arg(&payload).query(&mut c).expect("publish");
        if n == 0 {
            break;
        }
        delivered += 1;
        assert!(Instant::now() < deadline, "slow subscriber never disconnected");
    }
    // 256 KB of limit plus the kernel's socket buffers: well over ten 16 KB messages.
    assert!(delivered > 10, "the subscriber was dropped after only {delivered} messages");
    let numsub: Vec<redis::Value> = redis::cmd("PUBSUB").arg("NUMSUB").arg("firehose").query(&mut c).expect("numsub");
    assert_eq!(numsub[1], redis::Value::Int(0));
    let _ = slow.s.flush();
}

#[test]
fn client_list_and_kill_know_pubsub_clients() {
    let srv = TestServer::start();
    let mut sub = subscribed(&srv, b"SUBSCRIBE", &[b"ch"]);
    let mut c = srv.client();
    let pubsub: String = redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("pubsub").query(&mut c).expect("list");
    assert_eq!(pubsub.lines().count(), 1, "{pubsub}");
    let normal: String = redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("normal").query(&mut c).expect("list");
    assert!(!normal.contains("sub=1"), "{normal}");
    let killed: i64 = redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub").query(&mut c).expect("kill");
    assert_eq!(killed, 1);
    assert!(sub.read_to_close(2000).1, "subscriber connection closed");
}

#[test]
fn subscribe_confirmations_are_sent_even_with_client_reply_off() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.send(&cmd(&[b"CLIENT", b"REPLY", b"OFF"]));
    assert_eq!(sub.cmd(&[b"PSUBSCRIBE", b"*"]), b"*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:1\r\n");
    let mut c = srv.client();
    let _: i64 = redis::cmd("PUBLISH").arg("ch").arg("m").query(&mut c).expect("publish");
    assert_eq!(sub.read_reply(), b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$2\r\nch\r\n$1\r\nm\r\n");
}

fn confirm(kind: &str, chan: &str, n: i64) -> Vec<u8> {
    format!("*3\r\n${}\r\n{kind}\r\n${}\r\n{chan}\r\n:{n}\r\n", kind.len(), chan.len()).into_bytes()
}

fn smessage(chan: &str, msg: &str) -> Vec<u8> {
    format!("*3\r\n$8\r\nsmessage\r\n${}\r\n{chan}\r\n${}\r\n{msg}\r\n", chan.len(), msg.len()).into_bytes()
}

/// The cases of Redis's unit/pubsubshard (which its suite skips in external mode).
#[test]
fn shard_channels_behave_as_redis_pubsubshard_tests_expect() {
    let srv = TestServer::start();
    let mut r = srv.raw();
    // Basics: counts per subscription, unsubscribing one, then the other.
    let mut rd1 = srv.raw();
    assert_eq!(rd1.cmd(&[b"SSUBSCRIBE", b"chan1"]), confirm("ssubscribe", "chan1", 1));
    assert_eq!(rd1.cmd(&[b"SSUBSCRIBE", b"chan2"]), confirm("ssubscribe", "chan2", 2));
    assert_eq!(r.cmd(&[b"SPUBLISH", b"chan1", b"hello"]), b":1\r\n");
    assert_eq!(r.cmd(&[b"SPUBLISH", b"chan2", b"world"]), b":1\r\n");
    assert_eq!(rd1.read_reply(), smessage("chan1", "hello"));
    assert_eq!(rd1.read_reply(), smessage("chan2", "world"));
    assert_eq!(rd1.cmd(&[b"SUNSUBSCRIBE", b"chan1"]), confirm("sunsubscribe", "chan1", 1));
    assert_eq!(r.cmd(&[b"SPUBLISH", b"chan1", b"hello"]), b":0\r\n");
    assert_eq!(rd1.cmd(&[b"SUNSUBSCRIBE", b"chan2"]), confirm("sunsubscribe", "chan2", 0));
    assert_eq!(r.cmd(&[b"SPUBLISH", b"chan2", b"world"]), b":0\r\n");
    // SUNSUBSCRIBE without arguments leaves every shard channel.
    let mut rd2 = subscribed(&srv, b"SSUBSCRIBE", &[b"c1", b"c2", b"c3"]);
    rd2.send(&cmd(&[b"SUNSUBSCRIBE"]));
    for _ in 0..3 {
        let reply = rd2.read_reply();
        assert!(reply.starts_with(b"*3\r\n$12\r\nsunsubscribe\r\n"), "{}", String::from_utf8_lossy(&reply));
    }
    for c in [&b"c1"[..], b"c2", b"c3"] {
        assert_eq!(r.cmd(&[b"SPUBLISH", c, b"x"]), b":0\r\n");
    }
    // The same channel more than once counts once.
    let mut rd3 = srv.raw();
    rd3.send(&cmd(&[b"SSUBSCRIBE", b"chan1", b"chan1", b"chan1"]));
    for _ in 0..3 {
        assert_eq!(rd3.read_reply(), confirm("ssubscribe", "chan1", 1));
    }
    assert_eq!(r.cmd(&[b"SPUBLISH", b"chan1", b"hello"]), b":1\r\n");
    assert_eq!(rd3.read_reply(), smessage("chan1", "hello"));
    // Leaving channels never joined.
    let mut rd4 = srv.raw();
    assert_eq!(rd4.cmd(&[b"SUNSUBSCRIBE", b"foo"]), confirm("sunsubscribe", "foo", 0));
    // Introspection: shard and plain subscriptions are counted apart.
    assert_eq!(r.cmd(&[b"PUBSUB", b"SHARDNUMSUB", b"abc", b"def"]), b"*4\r\n$3\r\nabc\r\n:0\r\n$3\r\ndef\r\n:0\r\n");
    let mut plain = subscribed(&srv, b"SUBSCRIBE", &[b"chan1"]);
    assert_eq!(r.cmd(&[b"PUBSUB", b"SHARDNUMSUB", b"chan1"]), b"*2\r\n$5\r\nchan1\r\n:1\r\n");
    assert_eq!(r.cmd(&[b"PUBSUB", b"NUMSUB", b"chan1"]), b"*2\r\n$5\r\nchan1\r\n:1\r\n");
    assert_eq!(r.cmd(&[b"PUBSUB", b"SHARDCHANNELS"]), b"*1\r\n$5\r\nchan1\r\n");
    assert_eq!(r.cmd(&[b"PUBLISH", b"chan1", b"p"]), b":1\r\n");
    assert_eq!(plain.read_reply(), b"*3\r\n$7\r\nmessage\r\n$5\r\nchan1\r\n$1\r\np\r\n");
    // RESP3 with CLIENT REPLY OFF: confirmations and messages still arrive, PINGs do not answer.
    let mut rd = srv.raw();
    assert_eq!(rd.cmd(&[b"HELLO", b"3"]).first(), Some(&b'%'));
    rd.send(&[cmd(&[b"CLIENT", b"REPLY", b"OFF"]), cmd(&[b"PING"]), cmd(&[b"SSUBSCRIBE", b"channel"])].concat());
    assert_eq!(rd.read_reply(), b">3\r\n$10\r\nssubscribe\r\n$7\r\nchannel\r\n:1\r\n");
    assert_eq!(r.cmd(&[b"SPUBLISH", b"channel", b"hello"]), b":1\r\n");
    assert_eq!(rd.read_reply(), b">3\r\n$8\r\nsmessage\r\n$7\r\nchannel\r\n$5\r\nhello\r\n");
    rd.send(&[cmd(&[b"PING"]), cmd(&[b"SUNSUBSCRIBE", b"channel"])].concat());
    assert_eq!(rd.read_reply(), b">3\r\n$12\r\nsunsubscribe\r\n$7\r\nchannel\r\n:0\r\n");
}
