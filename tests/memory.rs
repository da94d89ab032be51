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

#[test]
fn info_memory_fields_agree_with_each_other() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let mut p = redis::pipe();
    for i in 0..5_000 {
        p.cmd("SET").arg(format!("key:{i}")).arg(vec![b'v'; 500]).ignore();
    }
    let _: () = p.query(&mut c).expect("load");
    let f = |c: &mut redis::Connection, name: &str| {
        let v = common::info_int(c, name);
        assert!(v >= 0, "INFO lacks {name}");
        v
    };
    let used = f(&mut c, "used_memory");
    assert!(used > 2_500_000, "used_memory {used}");
    let dataset = f(&mut c, "used_memory_dataset");
    assert!(dataset > 2_500_000 && dataset <= used, "dataset {dataset}, used {used}");
    assert!(f(&mut c, "used_memory_peak") >= used);
    assert!(f(&mut c, "used_memory_startup") < used);
    let allocated = f(&mut c, "allocator_allocated");
    let active = f(&mut c, "allocator_active");
    let resident = f(&mut c, "allocator_resident");
    assert!(allocated >= used / 2 && active >= allocated && resident >= active, "{allocated} {active} {resident}");
    let info: String = redis::cmd("INFO").arg("memory").query(&mut c).expect("info");
    let ratio: f64 = info
        .lines()
        .find_map(|l| l.strip_prefix("mem_fragmentation_ratio:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("mem_fragmentation_ratio");
    assert!(ratio > 0.5 && ratio < 10.0, "mem_fragmentation_ratio {ratio}");
    assert!(info.contains("mem_allocator:jemalloc"), "{info}");
}

#[test]
fn doctor_reports_what_it_finds() {
    let srv = TestServer::start();
    let mut c = srv.client();
    let doctor = |c: &mut redis::Connection| -> String { redis::cmd("MEMORY").arg("DOCTOR").query(c).expect("doctor") };
    assert!(doctor(&mut c).contains("small"), "{}", doctor(&mut c));
    let load = |c: &mut redis::Connection, prefix: &str, n: usize| {
        for batch in 0..n / 1000 {
            let mut p = redis::pipe();
            for i in 0..1000 {
                p.cmd("SET").arg(format!("{prefix}:{batch}:{i}")).arg(vec![b'v'; 1000]).ignore();
            }
            let _: () = p.query(c).expect("load");
        }
    };
    load(&mut c, "a", 6_000);
    load(&mut c, "b", 12_000);
    // Near the limit.
    let used = common::info_int(&mut c, "used_memory");
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg(used + used / 20).query(&mut c).expect("set");
    let text = doctor(&mut c);
    assert!(text.contains("above 90% of maxmemory"), "{text}");
    let _: () = redis::cmd("CONFIG").arg("SET").arg("maxmemory").arg(0).query(&mut c).expect("set");
    // Well below the peak after deleting two thirds.
    let keys: Vec<String> = redis::cmd("KEYS").arg("b:*").query(&mut c).expect("keys");
    for chunk in keys.chunks(1000) {
        let _: i64 = redis::cmd("DEL").arg(chunk).query(&mut c).expect("del");
    }
    let text = doctor(&mut c);
    assert!(text.contains("Peak memory"), "{text}");
    assert!(!text.contains("maxmemory"), "{text}");
}
