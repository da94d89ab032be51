//! The cases of Redis's unit/maxmemory suite (which skips itself against an external server)
//! and the remaining eviction settings, over TCP: every policy honours the limit while
//! writing, RSS stays near maxmemory under churn, lazy freeing on eviction and expiry,
//! evictions reach the AOF as DELs after the command that caused them, and tracking
//! invalidations do not feed further evictions.

mod common;

use std::time::{Duration, Instant};

use common::{info_int, q, scratch_dir, TestServer};

fn cfg(c: &mut redis::Connection, name: &str, value: &str) {
    let _: () = redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query(c).expect("config set");
}

fn used(c: &mut redis::Connection) -> i64 {
    info_int(c, "used_memory")
}

fn dbsize(c: &mut redis::Connection) -> i64 {
    redis::cmd("DBSIZE").query(c).expect("dbsize")
}

/// Polls `done` every 10 ms for up to 10 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A big set (10,000 members): what lazy freeing hands to its thread.
fn big_set(c: &mut redis::Connection, key: &str) {
    let members: Vec<String> = (0..10_000).map(|i| format!("m{i}")).collect();
    let _: () = redis::cmd("SADD").arg(key).arg(&members).query(c).expect("sadd");
}

#[test]
fn every_policy_honours_the_limit_while_writing() {
    // Redis's "maxmemory - is the memory limit honoured?": fill to the limit, then write as
    // many keys again; used memory must never pass the limit by more than a small slack.
    for policy in [
        "allkeys-lru",
        "allkeys-lfu",
        "allkeys-random",
        "allkeys-tinylfu",
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let srv = TestServer::start_with(&["--maxmemory-policy", policy]);
        let mut c = srv.client();
        let limit = used(&mut c) + 200_000;
        cfg(&mut c, "maxmemory", &limit.to_string());
        let mut raw = srv.raw();
        let mut written = 0;
        while used(&mut c) < limit {
            assert_eq!(q(&mut raw, &["SETEX", &format!("key:{written}"), "10000", "x"]), "+OK\r\n");
            written += 1;
            assert!(written < 100_000, "{policy}: 200 KB never filled");
        }
        let mut peak = 0;
        for i in 0..written {
            assert_eq!(q(&mut raw, &["SETEX", &format!("more:{i}"), "10000", "x"]), "+OK\r\n", "{policy}");
            if i % 16 == 0 {
                peak = peak.max(used(&mut c));
            }
        }
        // Stated slack: one small key and the allocation counters' per-thread batching.
        assert!(peak <= limit + 70_000, "{policy}: used_memory reached {peak}, limit {limit}");
        assert!(info_int(&mut c, "evicted_keys") > 0, "{policy} evicted nothing");
    }
}

#[test]
fn rss_stays_near_maxmemory_under_churn() {
    // A cache replaces its contents many times over: the process must not grow past its
    // limit by fragmentation (values of mixed sizes, so freed blocks do not simply fit).
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru"]);
    let mut c = srv.client();
    let (used0, rss0) = (used(&mut c), info_int(&mut c, "used_memory_rss"));
    let budget = 32_000_000;
    cfg(&mut c, "maxmemory", &(used0 + budget).to_string());
    let mut peak_rss = 0;
    for round in 0..24u64 {
        let mut p = redis::pipe();
        for i in 0..6_000u64 {
            let size = 200 + ((i * 7919 + round * 104_729) % 2_000) as usize;
            p.cmd("SET").arg(format!("r{round}:{i}")).arg(vec![b'v'; size]).ignore();
        }
        let _: () = p.query(&mut c).expect("churn");
        peak_rss = peak_rss.max(info_int(&mut c, "used_memory_rss"));
    }
    assert!(info_int(&mut c, "evicted_keys") > 50_000, "the churn never replaced the contents");
    // 24 rounds wrote about 5 times the budget. Stated slack: 25% of the budget for the
    // allocator's partly used pages and the connection's buffers.
    assert!(
        peak_rss - rss0 <= budget + budget / 4,
        "RSS grew by {} under a maxmemory budget of {budget} (from {rss0})",
        peak_rss - rss0
    );
}

#[test]
fn maxmemory_samples_decides_how_well_lru_picks() {
    // With one sample per eviction, allkeys-lru evicts almost at random; with 64 it finds the
    // idle keys. 400 idle keys, 100 just used, about 100 evicted.
    let mut hot_left = Vec::new();
    for samples in ["64", "1"] {
        let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru", "--maxmemory-samples", samples]);
        let mut c = srv.client();
        let _: () = redis::cmd("SET").arg("tmpl").arg(vec![b'v'; 10_000]).query(&mut c).expect("set");
        let payload: Vec<u8> = redis::cmd("DUMP").arg("tmpl").query(&mut c).expect("dump");
        let mut p = redis::pipe();
        for i in 0..400 {
            p.cmd("RESTORE").arg(format!("cold{i}")).arg(0).arg(&payload[..]).arg("IDLETIME").arg(10_000).ignore();
        }
        for i in 0..100 {
            p.cmd("SET").arg(format!("hot{i}")).arg(vec![b'v'; 10_000]).ignore();
        }
        p.cmd("DEL").arg("tmpl").ignore();
        let _: () = p.query(&mut c).expect("fill");
        let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("maxmemory-samples").query(&mut c).expect("get");
        assert_eq!(got, ["maxmemory-samples", samples]);
        let limit = used(&mut c) - 1_000_000;
        cfg(&mut c, "maxmemory", &limit.to_string());
        wait_until("memory is under the limit", || used(&mut c) <= limit);
        let mut p = redis::pipe();
        for i in 0..100 {
            p.cmd("EXISTS").arg(format!("hot{i}"));
        }
        let v: Vec<i64> = p.query(&mut c).expect("exists");
        hot_left.push(v.iter().sum::<i64>());
    }
    assert!(hot_left[0] >= 98, "64 samples evicted recently used keys: {hot_left:?}");
    assert!(hot_left[1] < 95, "1 sample still found the idle keys: {hot_left:?}");
}

#[test]
fn lfu_settings_change_the_counter() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lfu"]);
    let mut c = srv.client();
    // lfu-log-factor 0: every access counts.
    cfg(&mut c, "lfu-log-factor", "0");
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).expect("set");
    let start: i64 = redis::cmd("OBJECT").arg("FREQ").arg("k").query(&mut c).expect("freq");
    for _ in 0..10 {
        let _: String = redis::cmd("GET").arg("k").query(&mut c).expect("get");
    }
    let after: i64 = redis::cmd("OBJECT").arg("FREQ").arg("k").query(&mut c).expect("freq");
    assert_eq!(after, start + 10);
    // lfu-decay-time 0: the counter never decays, however long ago the access was.
    cfg(&mut c, "lfu-decay-time", "0");
    let _: () = redis::cmd("SET").arg("tmpl").arg("v").query(&mut c).expect("set");
    let payload: Vec<u8> = redis::cmd("DUMP").arg("tmpl").query(&mut c).expect("dump");
    let _: () =
        redis::cmd("RESTORE").arg("old").arg(0).arg(payload).arg("FREQ").arg(50).query(&mut c).expect("restore");
    let freq: i64 = redis::cmd("OBJECT").arg("FREQ").arg("old").query(&mut c).expect("freq");
    assert_eq!(freq, 50);
    let mut raw = srv.raw();
    assert!(q(&mut raw, &["CONFIG", "SET", "lfu-log-factor", "-1"]).starts_with("-ERR"));
    assert!(q(&mut raw, &["CONFIG", "SET", "lfu-decay-time", "x"]).starts_with("-ERR"));
}

#[test]
fn volatile_lru_and_lfu_pick_among_keys_with_a_ttl_by_their_rule() {
    for (policy, cold, warm) in
        [("volatile-lru", "IDLETIME 10000", "IDLETIME 0"), ("volatile-lfu", "FREQ 0", "FREQ 200")]
    {
        let srv = TestServer::start_with(&["--maxmemory-policy", policy]);
        let mut c = srv.client();
        let _: () = redis::cmd("SET").arg("tmpl").arg(vec![b'v'; 10_000]).query(&mut c).expect("set");
        let payload: Vec<u8> = redis::cmd("DUMP").arg("tmpl").query(&mut c).expect("dump");
        let _: () = redis::cmd("DEL").arg("tmpl").query(&mut c).expect("del");
        let mut p = redis::pipe();
        for (prefix, extra, n) in [("cold", cold, 300), ("warm", warm, 100), ("plain", "", 100)] {
            for i in 0..n {
                let ttl = if prefix == "plain" { 0 } else { 1_000_000 };
                let cmd = p.cmd("RESTORE").arg(format!("{prefix}{i}")).arg(ttl).arg(&payload[..]);
                cmd.arg(extra.split_whitespace().collect::<Vec<_>>()).ignore();
            }
        }
        let _: () = p.query(&mut c).expect("restore");
        let limit = used(&mut c) - 1_000_000;
        cfg(&mut c, "maxmemory", &limit.to_string());
        wait_until("memory is under the limit", || used(&mut c) <= limit);
        let left = |c: &mut redis::Connection, prefix: &str, n: usize| {
            let mut p = redis::pipe();
            for i in 0..n {
                p.cmd("EXISTS").arg(format!("{prefix}{i}"));
            }
            p.query::<Vec<i64>>(c).expect("exists").iter().sum::<i64>()
        };
        assert_eq!(left(&mut c, "plain", 100), 100, "{policy} evicted a key without TTL");
        let warm_left = left(&mut c, "warm", 100);
        assert!(warm_left >= 98, "{policy} evicted {} of the keys its rule keeps", 100 - warm_left);
        assert!(left(&mut c, "cold", 300) < 240, "{policy} evicted too few of the others");
    }
}

#[test]
fn small_integers_are_shared_unless_an_lru_or_lfu_policy_needs_per_key_stamps() {
    for (policy, shared) in [
        ("noeviction", true),
        ("volatile-ttl", true),
        ("allkeys-random", true),
        ("allkeys-lru", false),
        ("volatile-lru", false),
        ("allkeys-lfu", false),
    ] {
        let srv = TestServer::start_with(&["--maxmemory", "100mb", "--maxmemory-policy", policy]);
        let mut c = srv.client();
        let _: () = redis::cmd("SET").arg("n").arg("42").query(&mut c).expect("set");
        let refcount: i64 = redis::cmd("OBJECT").arg("REFCOUNT").arg("n").query(&mut c).expect("refcount");
        assert_eq!(refcount == i32::MAX as i64, shared, "{policy}: OBJECT REFCOUNT {refcount}");
    }
}

#[test]
fn table_growth_does_not_push_memory_over_the_limit() {
    // Redis's "Don't rehash if used memory exceeds maxmemory after rehash": a write just
    // under the limit must not evict keys because the keyspace's table grew.
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-random"]);
    let mut c = srv.client();
    let mut p = redis::pipe();
    for i in 0..4096 {
        p.cmd("SET").arg(format!("key:{i}")).arg(1).ignore();
    }
    let _: () = p.query(&mut c).expect("fill");
    let limit = used(&mut c) + 10 * 1024;
    cfg(&mut c, "maxmemory", &limit.to_string());
    let _: () = redis::cmd("SET").arg("k1").arg("v1").query(&mut c).expect("set");
    let _: () = redis::cmd("SET").arg("k2").arg("v2").query(&mut c).expect("set");
    assert_eq!(dbsize(&mut c), 4098);
    assert_eq!(info_int(&mut c, "evicted_keys"), 0);
}

#[test]
fn tracking_invalidations_do_not_feed_more_evictions() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru", "--maxmemory-eviction-tenacity", "100"]);
    let mut c = srv.client();
    let mut trackers: Vec<_> = (0..10)
        .map(|_| {
            let mut t = srv.raw();
            assert!(q(&mut t, &["HELLO", "3"]).starts_with('%'));
            assert_eq!(q(&mut t, &["CLIENT", "TRACKING", "ON"]), "+OK\r\n");
            t
        })
        .collect();
    // 300 keys with 1 KB names and one-byte values, each read (and so tracked) by every client.
    for j in 0..300 {
        let key = format!("{j}{}", "x".repeat(1000));
        let _: () = redis::cmd("SET").arg(&key).arg("x").query(&mut c).expect("set");
        for t in trackers.iter_mut() {
            assert_eq!(q(t, &["GET", &key]), "$1\r\nx\r\n");
        }
    }
    let limit = used(&mut c) - 40_000;
    cfg(&mut c, "maxmemory", &limit.to_string());
    let evicted = info_int(&mut c, "evicted_keys");
    let left = dbsize(&mut c);
    assert!((200..=300).contains(&left), "{left} keys left: the invalidations fed the eviction");
    assert!((10..=50).contains(&evicted), "{evicted} keys evicted");
    for t in trackers.iter_mut() {
        let push = t.read_for(100);
        assert!(String::from_utf8_lossy(&push).contains("invalidate"), "a tracking client got no invalidation");
    }
}

/// The commands of an AOF file, as lists of strings.
fn aof_commands(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split("\r\n");
    let mut out = Vec::new();
    while let Some(head) = lines.next() {
        let Some(n) = head.strip_prefix('*').and_then(|n| n.parse::<usize>().ok()) else { continue };
        let cmd = (0..n).filter_map(|_| lines.nth(1).map(str::to_lowercase)).collect();
        out.push(cmd);
    }
    out
}

fn incr_aof(dir: &std::path::Path) -> Vec<Vec<String>> {
    aof_commands(&std::fs::read(dir.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap_or_default())
}

#[test]
fn evictions_reach_the_aof_as_dels() {
    let dir = scratch_dir("evict-aof");
    let srv = TestServer::start_in(&dir, &["--appendonly", "yes"]);
    let mut c = srv.client();
    for i in 1..=3 {
        let _: () = redis::cmd("SET").arg(format!("asdf{i}")).arg(i).query(&mut c).expect("set");
    }
    cfg(&mut c, "maxmemory-policy", "allkeys-lru");
    cfg(&mut c, "maxmemory", "1");
    wait_until("every key is evicted", || dbsize(&mut c) == 0);
    cfg(&mut c, "maxmemory", "0");
    cfg(&mut c, "maxmemory-policy", "noeviction");
    let _: () = redis::cmd("SET").arg("asdf4").arg(4).query(&mut c).expect("set");
    wait_until("the AOF has the last SET", || incr_aof(&dir).last().is_some_and(|l| l[0] == "set"));
    let cmds: Vec<Vec<String>> = incr_aof(&dir).into_iter().filter(|c| c[0] != "select").collect();
    assert_eq!(cmds.len(), 7, "{cmds:?}");
    for (i, cmd) in cmds[..3].iter().enumerate() {
        assert_eq!(cmd, &["set".to_string(), format!("asdf{}", i + 1), format!("{}", i + 1)]);
    }
    let mut deleted: Vec<&str> = cmds[3..6]
        .iter()
        .map(|c| {
            assert_eq!((c[0].as_str(), c.len()), ("del", 2), "{cmds:?}");
            c[1].as_str()
        })
        .collect();
    deleted.sort_unstable();
    assert_eq!(deleted, ["asdf1", "asdf2", "asdf3"]);
    assert_eq!(cmds[6], ["set", "asdf4", "4"]);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_eviction_caused_inside_multi_follows_its_exec() {
    let dir = scratch_dir("evict-multi");
    let srv = TestServer::start_in(&dir, &["--appendonly", "yes", "--maxmemory-policy", "allkeys-lru"]);
    let mut raw = srv.raw();
    assert_eq!(q(&mut raw, &["MULTI"]), "+OK\r\n");
    assert_eq!(q(&mut raw, &["INCR", "x"]), "+QUEUED\r\n");
    assert_eq!(q(&mut raw, &["CONFIG", "SET", "maxmemory", "1"]), "+QUEUED\r\n");
    assert_eq!(q(&mut raw, &["INCR", "x"]), "+QUEUED\r\n");
    assert_eq!(q(&mut raw, &["EXEC"]), "*3\r\n:1\r\n+OK\r\n:2\r\n");
    let mut c = srv.client();
    wait_until("x is evicted", || dbsize(&mut c) == 0);
    wait_until("the AOF has the DEL", || incr_aof(&dir).last().is_some_and(|l| l[0] == "del"));
    let cmds: Vec<Vec<String>> = incr_aof(&dir).into_iter().filter(|c| c[0] != "select").collect();
    let names: Vec<&str> = cmds.iter().map(|c| c[0].as_str()).collect();
    assert_eq!(names, ["multi", "incr", "incr", "exec", "del"], "{cmds:?}");
    assert_eq!(cmds[4], ["del", "x"]);
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lazyfree_lazy_eviction_frees_evicted_values_in_the_background() {
    for lazy in ["no", "yes"] {
        let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru", "--lazyfree-lazy-eviction", lazy]);
        let mut c = srv.client();
        for i in 0..4 {
            big_set(&mut c, &format!("s{i}"));
        }
        let limit = used(&mut c) / 2;
        cfg(&mut c, "maxmemory", &limit.to_string());
        wait_until("memory is under the limit", || used(&mut c) <= limit);
        let evicted = info_int(&mut c, "evicted_keys");
        assert!(evicted >= 2, "{evicted} big sets evicted");
        if lazy == "yes" {
            wait_until("the evicted sets are freed lazily", || info_int(&mut c, "lazyfreed_objects") == evicted);
        } else {
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(info_int(&mut c, "lazyfreed_objects"), 0, "freed in the background although the setting is off");
        }
    }
}

#[test]
fn lazyfree_lazy_expire_frees_expired_values_in_the_background() {
    for lazy in ["no", "yes"] {
        let srv = TestServer::start_with(&["--lazyfree-lazy-expire", lazy]);
        let mut c = srv.client();
        big_set(&mut c, "s");
        let _: i64 = redis::cmd("PEXPIRE").arg("s").arg(10).query(&mut c).expect("pexpire");
        wait_until("the set expires", || info_int(&mut c, "expired_keys") == 1);
        if lazy == "yes" {
            wait_until("the expired set is freed lazily", || info_int(&mut c, "lazyfreed_objects") == 1);
        } else {
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(info_int(&mut c, "lazyfreed_objects"), 0);
        }
    }
}

#[test]
fn flushdb_async_reclaims_the_memory() {
    // Redis's lazyfree "FLUSHDB ASYNC can reclaim memory in background".
    let srv = TestServer::start();
    let mut c = srv.client();
    let before = used(&mut c);
    for i in 0..10 {
        big_set(&mut c, &format!("s{i}"));
    }
    assert!(used(&mut c) > before + 2_000_000);
    let _: () = redis::cmd("FLUSHDB").arg("ASYNC").query(&mut c).expect("flushdb");
    assert_eq!(dbsize(&mut c), 0);
    wait_until("the memory is back", || used(&mut c) < before * 2);
}

#[test]
fn a_script_writing_under_noeviction_at_the_limit_gets_oom() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let limit = used(&mut c) + 500_000;
    let mut p = redis::pipe();
    for i in 0..100 {
        p.cmd("SET").arg(format!("k{i}")).arg(vec![b'v'; 10_000]).ignore();
    }
    let _: () = p.query(&mut c).expect("fill");
    cfg(&mut c, "maxmemory", &limit.to_string());
    let mut raw = srv.raw();
    // Without flags a script runs, and its first write fails with the OOM error (Redis 7.0's
    // reply, checked against redis-server); with a shebang and no `no-writes` flag it is
    // refused before it runs; read-only scripts run.
    let sha = "71e6319f97b0fe8bdfa1c5df3ce4489946dda479";
    assert_eq!(
        q(&mut raw, &["EVAL", "return redis.call('set','x','y')", "0"]),
        format!("-OOM command not allowed when used memory > 'maxmemory'. script: {sha}, on @user_script:1.\r\n")
    );
    assert_eq!(
        q(&mut raw, &["EVAL", "#!lua\nreturn redis.call('set','x','y')", "0"]),
        "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
    );
    assert_eq!(q(&mut raw, &["EVAL_RO", "return redis.call('exists','k1')", "0"]), ":1\r\n");
    assert_eq!(q(&mut raw, &["EVAL", "#!lua flags=no-writes\nreturn redis.call('exists','k1')", "0"]), ":1\r\n");
    assert_eq!(q(&mut raw, &["EXISTS", "x"]), ":0\r\n");
}

#[test]
fn keyspace_channels_report_evictions() {
    let srv = TestServer::start_with(&["--maxmemory-policy", "volatile-lru", "--notify-keyspace-events", "Ke"]);
    let mut c = srv.client();
    let mut p = redis::pipe();
    for i in 0..20 {
        p.cmd("SET").arg(format!("keep{i}")).arg(vec![b'v'; 10_000]).ignore();
    }
    p.cmd("SET").arg("victim").arg(vec![b'v'; 10_000]).arg("EX").arg(1000).ignore();
    let _: () = p.query(&mut c).expect("fill");
    let mut sub = srv.client();
    let mut ps = sub.as_pubsub();
    ps.psubscribe("__keyspace@0__:*").expect("psubscribe");
    ps.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let limit = used(&mut c) - 5_000;
    cfg(&mut c, "maxmemory", &limit.to_string());
    wait_until("the victim is evicted", || info_int(&mut c, "evicted_keys") == 1);
    let msg = ps.get_message().expect("keyspace event");
    assert_eq!(msg.get_channel_name(), "__keyspace@0__:victim");
    assert_eq!(msg.get_payload::<String>().expect("payload"), "evicted");
}

#[test]
fn every_worker_evicts_under_a_write_storm() {
    // hz 1: the cron rarely runs, so the workers serving the writers must do the evicting.
    let srv = TestServer::start_with(&["--maxmemory-policy", "allkeys-lru", "--io-threads", "4", "--hz", "1"]);
    let mut c = srv.client();
    let limit = used(&mut c) + 8_000_000;
    cfg(&mut c, "maxmemory", &limit.to_string());
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let mut wc = srv.client();
            std::thread::spawn(move || {
                for round in 0..20 {
                    let mut p = redis::pipe();
                    for i in 0..50 {
                        p.cmd("SET").arg(format!("w{w}:{round}:{i}")).arg(vec![b'v'; 5_000]).ignore();
                    }
                    let _: () = p.query(&mut wc).expect("write");
                }
            })
        })
        .collect();
    let peak = common::peak_used_memory_until_done(&mut c, writers);
    // 8 writers wrote 40 MB into 8 MB. Stated slack: one value per writer past the limit,
    // plus each thread's unpublished allocation count and the connections' buffers.
    assert!(peak <= limit + 1_500_000, "used_memory peaked at {peak}, limit {limit}");
    assert!(info_int(&mut c, "evicted_keys") > 5_000, "{} evicted", info_int(&mut c, "evicted_keys"));
}
