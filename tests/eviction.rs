//! maxmemory and eviction over TCP: each policy removes the keys it should, noeviction refuses
//! writes with Redis's -OOM reply, memory stays under the limit during a write storm, and
//! evictions break WATCH, publish `evicted` events and invalidate tracked keys.

mod common;

use std::time::{Duration, Instant};

use common::{info_int, q, TestServer};

const VALUE: usize = 10_000;

fn cfg(c: &mut redis::Connection, name: &str, value: &str) {
    let _: () = redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query(c).expect("config set");
}

fn used(c: &mut redis::Connection) -> i64 {
    info_int(c, "used_memory")
}

/// Writes `n` keys `<prefix><i>` of VALUE bytes (with EX `ttl` when given) in one pipeline.
fn fill(c: &mut redis::Connection, prefix: &str, range: std::ops::Range<usize>, ttl: Option<u64>) {
    let mut p = redis::pipe();
    for i in range {
        let cmd = p.cmd("SET").arg(format!("{prefix}{i}")).arg(vec![b'v'; VALUE]);
        if let Some(t) = ttl {
            cmd.arg("EX").arg(t + i as u64);
        }
        cmd.ignore();
    }
    let _: () = p.query(c).expect("fill");
}

/// Creates keys `<prefix><i>` by RESTORE with the given extra arguments (IDLETIME n, FREQ n).
fn restore_many(c: &mut redis::Connection, prefix: &str, range: std::ops::Range<usize>, extra: &[&str]) {
    let _: () = redis::cmd("SET").arg("__tmpl").arg(vec![b'v'; VALUE]).query(c).expect("set");
    let payload: Vec<u8> = redis::cmd("DUMP").arg("__tmpl").query(c).expect("dump");
    let _: () = redis::cmd("DEL").arg("__tmpl").query(c).expect("del");
    let mut p = redis::pipe();
    for i in range {
        p.cmd("RESTORE").arg(format!("{prefix}{i}")).arg(0).arg(&payload[..]).arg(extra).ignore();
    }
    let _: () = p.query(c).expect("restore");
}

fn count(c: &mut redis::Connection, prefix: &str, range: std::ops::Range<usize>) -> usize {
    let mut p = redis::pipe();
    for i in range {
        p.cmd("EXISTS").arg(format!("{prefix}{i}"));
    }
    let v: Vec<i64> = p.query(c).expect("exists");
    v.iter().filter(|&&x| x == 1).count()
}

/// Lowers maxmemory to `bytes` below current use and waits until eviction brought memory
/// under it (commands evict a bounded amount each; the cron finishes the job).
fn squeeze(c: &mut redis::Connection, bytes: i64) -> i64 {
    let limit = used(c) - bytes;
    cfg(c, "maxmemory", &limit.to_string());
    let deadline = Instant::now() + Duration::from_secs(10);
    while used(c) > limit {
        assert!(Instant::now() < deadline, "memory never went under {limit}: {}", used(c));
        std::thread::sleep(Duration::from_millis(20));
    }
    limit
}

#[test]
fn noeviction_refuses_writes_and_keeps_every_key() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let limit = used(&mut c) + 2_000_000;
    cfg(&mut c, "maxmemory", &limit.to_string());
    let mut raw = srv.raw();
    let value = "v".repeat(VALUE);
    let mut stored = 0;
    let err = loop {
        let r = q(&mut raw, &["SET", &format!("k{stored}"), &value]);
        if r != "+OK\r\n" {
            break r;
        }
        stored += 1;
        assert!(stored < 1000, "2 MB never filled");
    };
    assert_eq!(err, "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    assert!(stored > 50, "only {stored} keys fit");
    // Every key stored is still there; reads and deletes still work, and free room again.
    let dbsize: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
    assert_eq!(dbsize, stored as i64);
    assert_eq!(count(&mut c, "k", 0..stored), stored);
    assert_eq!(q(&mut raw, &["GET", "missing"]), "$-1\r\n");
    assert_eq!(q(&mut raw, &["INCR", "n"]), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    let mut p = redis::pipe();
    for i in 0..20 {
        p.cmd("DEL").arg(format!("k{i}")).ignore();
    }
    let _: () = p.query(&mut c).expect("del");
    assert_eq!(q(&mut raw, &["SET", "again", "1"]), "+OK\r\n");
    assert_eq!(info_int(&mut c, "evicted_keys"), 0);
}

#[test]
fn oom_inside_multi_aborts_the_transaction() {
    let srv = TestServer::start();
    let mut c = srv.client();
    fill(&mut c, "k", 0..100, None);
    let limit = used(&mut c) - 200_000;
    cfg(&mut c, "maxmemory", &limit.to_string());
    let mut raw = srv.raw();
    assert_eq!(q(&mut raw, &["MULTI"]), "+OK\r\n");
    assert_eq!(q(&mut raw, &["SET", "x", "1"]), "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    assert_eq!(q(&mut raw, &["EXEC"]), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    // Reads outside a transaction still work.
    assert_eq!(q(&mut raw, &["EXISTS", "k1"]), ":1\r\n");
}

#[test]
fn allkeys_lru_evicts_idle_keys_first() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = srv.client();
    restore_many(&mut c, "cold", 0..400, &["IDLETIME", "10000"]);
    fill(&mut c, "hot", 0..100, None);
    let idle: i64 = redis::cmd("OBJECT").arg("IDLETIME").arg("cold1").query(&mut c).expect("idletime");
    assert!(idle >= 10_000);
    squeeze(&mut c, 1_000_000);
    let (hot, cold) = (count(&mut c, "hot", 0..100), count(&mut c, "cold", 0..400));
    assert!(hot >= 98, "recently used keys evicted: {hot}/100 left, {cold}/400 idle left");
    assert!(cold < 340, "idle keys kept: {cold}/400");
    assert!(info_int(&mut c, "evicted_keys") >= 60);
}

#[test]
fn allkeys_lfu_evicts_rarely_used_keys_first() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = srv.client();
    restore_many(&mut c, "rare", 0..400, &["FREQ", "0"]);
    restore_many(&mut c, "often", 0..100, &["FREQ", "200"]);
    let f: i64 = redis::cmd("OBJECT").arg("FREQ").arg("often3").query(&mut c).expect("freq");
    assert!((195..=200).contains(&f), "FREQ {f}");
    squeeze(&mut c, 1_000_000);
    let (often, rare) = (count(&mut c, "often", 0..100), count(&mut c, "rare", 0..400));
    assert!(often >= 98, "frequently used keys evicted: {often}/100 left, {rare}/400 rare left");
    assert!(rare < 340, "rare keys kept: {rare}/400");
}

#[test]
fn volatile_policies_never_touch_keys_without_ttl() {
    for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
        let srv = TestServer::start_with(&["--maxmemory-policy", policy]);
        let mut c = srv.client();
        fill(&mut c, "keep", 0..100, None);
        fill(&mut c, "tmp", 0..200, Some(1000));
        squeeze(&mut c, 1_000_000);
        assert_eq!(count(&mut c, "keep", 0..100), 100, "{policy} evicted a key without TTL");
        assert!(count(&mut c, "tmp", 0..200) < 140, "{policy} evicted too few");
        // Ask for more than the volatile keys can give: writes are refused, persistent keys stay.
        let limit = used(&mut c) - 2_000_000;
        cfg(&mut c, "maxmemory", &limit.to_string());
        let mut raw = srv.raw();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = q(&mut raw, &["SET", "new", "x"]);
            if r.starts_with("-OOM") {
                break;
            }
            assert!(Instant::now() < deadline, "{policy}: no OOM once volatile keys ran out ({r})");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(count(&mut c, "tmp", 0..200), 0, "{policy} left volatile keys while refusing writes");
        assert_eq!(count(&mut c, "keep", 0..100), 100, "{policy} evicted a key without TTL");
    }
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "volatile-ttl"]);
    let mut c = srv.client();
    // TTLs grow with the index: tmp0 expires first.
    fill(&mut c, "tmp", 0..400, Some(1000));
    squeeze(&mut c, 1_000_000);
    let soon = count(&mut c, "tmp", 0..100);
    let late = count(&mut c, "tmp", 300..400);
    assert!(late >= 98, "late-expiring keys evicted: {late}/100 left ({soon}/100 early ones left)");
    assert!(soon < 60, "early-expiring keys kept: {soon}/100");
}

#[test]
fn allkeys_random_keeps_memory_under_the_limit() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-random"]);
    let mut c = srv.client();
    fill(&mut c, "k", 0..300, None);
    squeeze(&mut c, 1_000_000);
    let left = count(&mut c, "k", 0..300);
    assert!((100..290).contains(&left), "{left} keys left");
}

#[test]
fn allkeys_tinylfu_keeps_keys_that_are_asked_for_even_while_absent() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-tinylfu"]);
    let mut c = srv.client();
    fill(&mut c, "seed", 0..200, None);
    // Bring the memory to its limit so the frequency sketch exists, then lift the limit.
    let limit = used(&mut c) - 100_000;
    cfg(&mut c, "maxmemory", &limit.to_string());
    let _: () = redis::cmd("PING").query(&mut c).expect("ping");
    cfg(&mut c, "maxmemory", "0");
    // "wanted" keys are requested (missing at first) many times before they are stored.
    let mut p = redis::pipe();
    for _ in 0..20 {
        for i in 0..100 {
            p.cmd("GET").arg(format!("wanted{i}")).ignore();
        }
    }
    let _: () = p.query(&mut c).expect("gets");
    fill(&mut c, "wanted", 0..100, None);
    fill(&mut c, "once", 0..300, None);
    squeeze(&mut c, 1_500_000);
    let wanted = count(&mut c, "wanted", 0..100);
    let once = count(&mut c, "once", 0..300);
    assert!(wanted >= 98, "frequently requested keys evicted: {wanted}/100 left, {once}/300 others");
    assert!(once < 260, "{once}/300 never-read keys kept");
}

#[test]
fn memory_stays_under_the_limit_during_a_write_storm() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = srv.client();
    let limit = used(&mut c) + 4_000_000;
    cfg(&mut c, "maxmemory", &limit.to_string());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let mut wc = srv.client();
            std::thread::spawn(move || {
                for round in 0..30 {
                    let start = round * 20;
                    fill(&mut wc, &format!("w{w}:"), start..start + 20, None);
                }
            })
        })
        .collect();
    let peak = common::peak_used_memory_until_done(&mut c, writers);
    // Stated slack: each writer may be one value past the limit, plus the allocation
    // counters' per-thread batching and the connections' buffers.
    let slack = 1_000_000;
    assert!(peak <= limit + slack, "used_memory peaked at {peak}, limit {limit}");
    assert!(info_int(&mut c, "evicted_keys") > 100);
    assert_eq!(info_int(&mut c, "maxmemory"), limit);
}

#[test]
fn lowering_maxmemory_a_lot_evicts_incrementally() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = srv.client();
    for round in 0..10 {
        fill(&mut c, "k", round * 200..(round + 1) * 200, None);
    }
    let before: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
    let base = used(&mut c) - 2000 * VALUE as i64;
    // CONFIG SET answers at once; commands in between keep being served while the rest of
    // the eviction proceeds in steps.
    let limit = base + 1_000_000;
    cfg(&mut c, "maxmemory", &limit.to_string());
    let mut other = srv.client();
    let pong: String = redis::cmd("PING").query(&mut other).expect("ping");
    assert_eq!(pong, "PONG");
    let deadline = Instant::now() + Duration::from_secs(10);
    while used(&mut c) > limit {
        assert!(Instant::now() < deadline, "memory never went under the new limit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let after: i64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
    assert!(after < before / 4, "{after} of {before} keys left");
}

#[test]
fn eviction_breaks_watch_and_publishes_evicted_events() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "volatile-lru", "--notify-keyspace-events", "Ee"]);
    let mut c = srv.client();
    fill(&mut c, "keep", 0..50, None);
    fill(&mut c, "victim", 0..5, Some(1000));
    let mut sub = srv.client();
    let mut ps = sub.as_pubsub();
    ps.subscribe("__keyevent@0__:evicted").expect("subscribe");
    ps.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut w = srv.raw();
    assert_eq!(q(&mut w, &["WATCH", "victim0", "victim1", "victim2", "victim3", "victim4"]), "+OK\r\n");
    squeeze(&mut c, 3 * VALUE as i64);
    let msg = ps.get_message().expect("evicted event");
    let key = msg.get_payload::<String>().expect("payload");
    assert!(key.starts_with("victim"), "evicted {key}");
    assert_eq!(count(&mut c, "victim", 0..5) as i64, 5 - info_int(&mut c, "evicted_keys"));
    assert_eq!(q(&mut w, &["MULTI"]), "+OK\r\n");
    assert_eq!(q(&mut w, &["SET", "victim0", "x"]), "+QUEUED\r\n");
    assert_eq!(q(&mut w, &["EXEC"]), "*-1\r\n", "EXEC ran although its watched key was evicted");
    assert_eq!(count(&mut c, "keep", 0..50), 50);
}

#[test]
fn eviction_invalidates_tracked_keys() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "volatile-lru"]);
    let mut c = srv.client();
    fill(&mut c, "keep", 0..50, None);
    fill(&mut c, "cached", 0..5, Some(1000));
    let mut t = srv.raw();
    assert!(q(&mut t, &["HELLO", "3"]).starts_with('%'));
    assert_eq!(q(&mut t, &["CLIENT", "TRACKING", "ON"]), "+OK\r\n");
    for i in 0..5 {
        assert!(q(&mut t, &["GET", &format!("cached{i}")]).starts_with('$'));
    }
    squeeze(&mut c, 3 * VALUE as i64);
    let push = String::from_utf8_lossy(&t.read_for(2000)).into_owned();
    assert!(push.contains("invalidate") && push.contains("cached"), "no invalidation: {push:?}");
}

#[test]
fn blocked_clients_are_served_after_evictions() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = srv.client();
    fill(&mut c, "k", 0..200, None);
    let mut b = srv.client();
    let waiter = std::thread::spawn(move || {
        let r: Option<(String, String)> = redis::cmd("BLPOP").arg("jobs").arg(10).query(&mut b).expect("blpop");
        r
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while info_int(&mut c, "blocked_clients") != 1 {
        assert!(Instant::now() < deadline, "client never blocked");
        std::thread::sleep(Duration::from_millis(10));
    }
    squeeze(&mut c, 1_000_000);
    let _: () = redis::cmd("RPUSH").arg("jobs").arg("j1").query(&mut c).expect("rpush");
    assert_eq!(waiter.join().expect("waiter"), Some(("jobs".into(), "j1".into())));
}

#[test]
fn metadata_commands_do_not_count_as_access() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = srv.client();
    restore_many(&mut c, "k", 0..1, &["IDLETIME", "500"]);
    for cmd in [&["TYPE", "k0"][..], &["EXISTS", "k0"], &["TTL", "k0"], &["OBJECT", "ENCODING", "k0"]] {
        let _: redis::Value = redis::cmd(cmd[0]).arg(&cmd[1..]).query(&mut c).expect("meta");
    }
    let idle: i64 = redis::cmd("OBJECT").arg("IDLETIME").arg("k0").query(&mut c).expect("idletime");
    assert!(idle >= 500, "a metadata command reset the idle time ({idle})");
    let _: () = redis::cmd("CLIENT").arg("NO-TOUCH").arg("ON").query(&mut c).expect("no-touch");
    let _: Vec<u8> = redis::cmd("GET").arg("k0").query(&mut c).expect("get");
    let idle: i64 = redis::cmd("OBJECT").arg("IDLETIME").arg("k0").query(&mut c).expect("idletime");
    assert!(idle >= 500, "GET under CLIENT NO-TOUCH reset the idle time ({idle})");
    let touched: i64 = redis::cmd("TOUCH").arg("k0").query(&mut c).expect("touch");
    assert_eq!(touched, 1);
    let idle: i64 = redis::cmd("OBJECT").arg("IDLETIME").arg("k0").query(&mut c).expect("idletime");
    assert!(idle < 5, "TOUCH did not reset the idle time ({idle})");
    // LFU: OBJECT FREQ answers under an LFU policy only, with the decayed counter.
    let mut raw = srv.raw();
    assert!(q(&mut raw, &["OBJECT", "FREQ", "k0"]).starts_with("-ERR An LFU maxmemory policy is not selected"));
    cfg(&mut c, "maxmemory-policy", "allkeys-lfu");
    assert!(q(&mut raw, &["OBJECT", "IDLETIME", "k0"]).starts_with("-ERR An LFU maxmemory policy is selected"));
}

#[test]
fn lazyfree_frees_big_values_in_the_background() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let big = |c: &mut redis::Connection, key: &str| {
        let members: Vec<String> = (0..10_000).map(|i| format!("m{i}")).collect();
        let _: () = redis::cmd("SADD").arg(key).arg(&members).query(c).expect("sadd");
    };
    let freed = |c: &mut redis::Connection, want: i64| {
        let deadline = Instant::now() + Duration::from_secs(5);
        while info_int(c, "lazyfreed_objects") != want {
            assert!(Instant::now() < deadline, "lazyfreed_objects never reached {want}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    big(&mut c, "s1");
    let _: i64 = redis::cmd("UNLINK").arg("s1").query(&mut c).expect("unlink");
    freed(&mut c, 1);
    // A plain DEL frees in place unless lazyfree-lazy-user-del is on.
    big(&mut c, "s2");
    let _: i64 = redis::cmd("DEL").arg("s2").query(&mut c).expect("del");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(info_int(&mut c, "lazyfreed_objects"), 1);
    cfg(&mut c, "lazyfree-lazy-user-del", "yes");
    big(&mut c, "s3");
    let _: i64 = redis::cmd("DEL").arg("s3").query(&mut c).expect("del");
    freed(&mut c, 2);
    // Small values are always freed in place.
    let _: i64 = redis::cmd("SADD").arg("small").arg("a").query(&mut c).expect("sadd");
    let _: i64 = redis::cmd("UNLINK").arg("small").query(&mut c).expect("unlink");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(info_int(&mut c, "lazyfreed_objects"), 2);
    // Overwriting a big value under lazyfree-lazy-server-del.
    cfg(&mut c, "lazyfree-lazy-server-del", "yes");
    big(&mut c, "s4");
    let _: () = redis::cmd("SET").arg("s4").arg("now a string").query(&mut c).expect("set");
    freed(&mut c, 3);
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).expect("resetstat");
    assert_eq!(info_int(&mut c, "lazyfreed_objects"), 0);
}
