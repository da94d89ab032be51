//! MEMORY USAGE / STATS / DOCTOR / PURGE / MALLOC-STATS over TCP.

mod common;

use common::TestServer;

#[test]
fn usage_grows_with_the_value_and_is_nil_for_missing_keys() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let small: i64 = {
        let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).expect("set");
        redis::cmd("MEMORY").arg("USAGE").arg("k").query(&mut c).expect("usage")
    };
    let _: () = redis::cmd("SET").arg("big").arg(vec![b'x'; 10_000]).query(&mut c).expect("set");
    let big: i64 = redis::cmd("MEMORY").arg("USAGE").arg("big").arg("SAMPLES").arg(5).query(&mut c).expect("usage");
    assert!((1..100).contains(&small), "small key uses {small} bytes");
    assert!((10_000..12_000).contains(&big), "10 KB value uses {big} bytes");
    let missing: Option<i64> = redis::cmd("MEMORY").arg("USAGE").arg("nokey").query(&mut c).expect("usage");
    assert_eq!(missing, None);
    let mut raw = srv.raw();
    assert_eq!(raw.cmd(&[b"MEMORY", b"USAGE", b"k", b"SAMPLES"]), b"-ERR syntax error\r\n");
    assert_eq!(
        raw.cmd(&[b"MEMORY", b"USAGE", b"k", b"SAMPLES", b"x"]),
        b"-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(raw.cmd(&[b"MEMORY", b"NOPE"]), b"-ERR unknown subcommand 'NOPE'. Try MEMORY HELP.\r\n");
}

#[test]
fn stats_doctor_purge_and_malloc_stats_answer() {
    let srv = TestServer::start();
    let mut c = srv.client();
    for i in 0..1000 {
        let _: () = redis::cmd("SET").arg(format!("key:{i}")).arg("value").query(&mut c).expect("set");
    }
    let stats: Vec<redis::Value> = redis::cmd("MEMORY").arg("STATS").query(&mut c).expect("stats");
    let names: Vec<String> = stats
        .iter()
        .step_by(2)
        .filter_map(|v| match v {
            redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        })
        .collect();
    for want in ["peak.allocated", "total.allocated", "keys.count", "dataset.bytes"] {
        assert!(names.iter().any(|n| n == want), "MEMORY STATS lacks {want}: {names:?}");
    }
    let count_pos = names.iter().position(|n| n == "keys.count").expect("keys.count");
    assert_eq!(stats[count_pos * 2 + 1], redis::Value::Int(1000));
    let doctor: String = redis::cmd("MEMORY").arg("DOCTOR").query(&mut c).expect("doctor");
    assert!(!doctor.is_empty());
    let _: () = redis::cmd("MEMORY").arg("PURGE").query(&mut c).expect("purge");
    let malloc: String = redis::cmd("MEMORY").arg("MALLOC-STATS").query(&mut c).expect("malloc-stats");
    assert!(malloc.contains("allocated"));
}

#[test]
fn used_memory_follows_rss_growth_while_loading() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let (used0, rss0) = (common::info_int(&mut c, "used_memory"), common::info_int(&mut c, "used_memory_rss"));
    for batch in 0..40 {
        let mut p = redis::pipe();
        for i in 0..5_000 {
            p.cmd("SET").arg(format!("key:{batch}:{i}")).arg(vec![b'v'; 100]).ignore();
        }
        let _: () = p.query(&mut c).expect("load");
    }
    let (used1, rss1) = (common::info_int(&mut c, "used_memory"), common::info_int(&mut c, "used_memory_rss"));
    let (grew_used, grew_rss) = (used1 - used0, rss1 - rss0);
    assert!(grew_rss > 20_000_000, "RSS grew by {grew_rss} only");
    assert!(
        (grew_used - grew_rss).abs() * 10 <= grew_rss,
        "used_memory grew by {grew_used}, RSS by {grew_rss}: more than 10% apart"
    );
}

#[test]
fn unlink_returns_memory_even_to_the_connection_that_sent_a_huge_command() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let orig = common::info_int(&mut c, "used_memory");
    let members: Vec<i64> = (0..100_000).collect();
    let _: i64 = redis::cmd("SADD").arg("myset").arg(&members).query(&mut c).expect("sadd");
    let peak = common::info_int(&mut c, "used_memory");
    assert!(peak > orig + 1_000_000);
    let _: i64 = redis::cmd("UNLINK").arg("myset").query(&mut c).expect("unlink");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let used = common::info_int(&mut c, "used_memory");
        if used < peak && used < orig * 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "memory not reclaimed: {orig} -> {peak} -> {used}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn purge_returns_freed_pages_to_the_system() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let rss0 = common::info_int(&mut c, "used_memory_rss");
    for batch in 0..10 {
        let mut p = redis::pipe();
        for i in 0..4_000 {
            p.cmd("SET").arg(format!("key:{batch}:{i}")).arg(vec![b'v'; 1000]).ignore();
        }
        let _: () = p.query(&mut c).expect("load");
    }
    let rss1 = common::info_int(&mut c, "used_memory_rss");
    assert!(rss1 - rss0 > 30_000_000, "RSS grew by {} only", rss1 - rss0);
    let _: () = redis::cmd("FLUSHALL").arg("SYNC").query(&mut c).expect("flushall");
    let _: () = redis::cmd("MEMORY").arg("PURGE").query(&mut c).expect("purge");
    // jemalloc alone would hand the freed pages back over its 10 s decay time; PURGE does it now.
    let rss2 = common::info_int(&mut c, "used_memory_rss");
    assert!(rss1 - rss2 > (rss1 - rss0) / 2, "RSS {rss0} -> {rss1} after loading, {rss2} after FLUSHALL and PURGE");
}
