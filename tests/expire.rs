//! Expiry commands over TCP: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX/XX/GT/LT), TTL, PTTL,
//! EXPIRETIME, PEXPIRETIME and PERSIST, plus lazy and active expiry.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{check, q, RawConn, TestServer};

/// The integer of an integer reply.
#[track_caller]
fn int(c: &mut RawConn, args: &[&str]) -> i64 {
    let r = q(c, args);
    assert!(r.starts_with(':') && r.ends_with("\r\n"), "{args:?} gave {r}");
    r[1..r.len() - 2].parse().expect("integer reply")
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis() as i64
}

/// Lets tests switch the active expiry cycle off (DEBUG SET-ACTIVE-EXPIRE).
const DEBUG: &[&str] = &["--enable-debug-command", "yes"];
const OK: &str = "+OK\r\n";
const ZERO: &str = ":0\r\n";
const ONE: &str = ":1\r\n";

#[test]
fn expire_and_ttl_family() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v"], OK);
    check(&mut c, &["TTL", "k"], ":-1\r\n");
    check(&mut c, &["PTTL", "k"], ":-1\r\n");
    check(&mut c, &["EXPIRETIME", "k"], ":-1\r\n");
    check(&mut c, &["PEXPIRETIME", "k"], ":-1\r\n");
    check(&mut c, &["TTL", "missing"], ":-2\r\n");
    check(&mut c, &["PTTL", "missing"], ":-2\r\n");
    check(&mut c, &["EXPIRETIME", "missing"], ":-2\r\n");
    check(&mut c, &["PEXPIRETIME", "missing"], ":-2\r\n");

    let before = now_ms();
    check(&mut c, &["EXPIRE", "k", "100"], ONE);
    let after = now_ms();
    let ttl = int(&mut c, &["TTL", "k"]);
    assert!((99..=100).contains(&ttl), "{ttl}");
    let pttl = int(&mut c, &["PTTL", "k"]);
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");
    let at = int(&mut c, &["PEXPIRETIME", "k"]);
    assert!(at >= before + 100_000 && at <= after + 100_000, "{at}");
    let at_s = int(&mut c, &["EXPIRETIME", "k"]);
    assert_eq!(at_s, (at + 500) / 1000, "rounded to the nearest second");

    check(&mut c, &["PEXPIRE", "k", "1800"], ONE);
    // 1.8 s left rounds to 2 s.
    check(&mut c, &["TTL", "k"], ":2\r\n");
    let pttl = int(&mut c, &["PTTL", "k"]);
    assert!(pttl > 1000 && pttl <= 1800, "{pttl}");

    let target = now_ms() / 1000 + 500;
    check(&mut c, &["EXPIREAT", "k", &target.to_string()], ONE);
    check(&mut c, &["EXPIRETIME", "k"], &format!(":{target}\r\n"));
    check(&mut c, &["PEXPIRETIME", "k"], &format!(":{}\r\n", target * 1000));
    let target_ms = now_ms() + 777_777;
    check(&mut c, &["PEXPIREAT", "k", &target_ms.to_string()], ONE);
    check(&mut c, &["PEXPIRETIME", "k"], &format!(":{target_ms}\r\n"));

    // Missing keys are not created.
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        check(&mut c, &[cmd, "missing", "100"], ZERO);
    }
    check(&mut c, &["EXISTS", "missing"], ZERO);

    // Writing the value clears the TTL; GET does not.
    check(&mut c, &["GET", "k"], "$1\r\nv\r\n");
    assert!(int(&mut c, &["TTL", "k"]) > 0);
    check(&mut c, &["SET", "k", "w"], OK);
    check(&mut c, &["TTL", "k"], ":-1\r\n");
}

#[test]
fn a_time_in_the_past_deletes_the_key() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    let cases: [&[&str]; 6] = [
        &["EXPIRE", "k", "-1"],
        &["EXPIRE", "k", "0"],
        &["PEXPIRE", "k", "-100"],
        &["PEXPIRE", "k", "0"],
        &["EXPIREAT", "k", "1"],
        &["PEXPIREAT", "k", "-9223372036854775808"],
    ];
    for args in cases {
        check(&mut c, &["SET", "k", "v"], OK);
        check(&mut c, args, ONE);
        check(&mut c, &["EXISTS", "k"], ZERO);
        check(&mut c, &["TTL", "k"], ":-2\r\n");
    }
    // Conditions still apply before the deletion.
    check(&mut c, &["SET", "k", "v"], OK);
    check(&mut c, &["EXPIRE", "k", "-1", "XX"], ZERO);
    check(&mut c, &["EXISTS", "k"], ONE);
    check(&mut c, &["EXPIRE", "k", "-1", "NX"], ONE);
    check(&mut c, &["EXISTS", "k"], ZERO);
}

#[test]
fn nx_xx_gt_lt_conditions() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v"], OK);
    // No TTL yet: XX and GT fail (no TTL counts as infinite), NX and LT succeed.
    check(&mut c, &["EXPIRE", "k", "100", "XX"], ZERO);
    check(&mut c, &["EXPIRE", "k", "100", "GT"], ZERO);
    check(&mut c, &["TTL", "k"], ":-1\r\n");
    check(&mut c, &["EXPIRE", "k", "100", "NX"], ONE);
    check(&mut c, &["EXPIRE", "k", "200", "NX"], ZERO);
    assert!(int(&mut c, &["TTL", "k"]) <= 100);
    check(&mut c, &["EXPIRE", "k", "200", "xx"], ONE);
    assert!(int(&mut c, &["TTL", "k"]) > 100);
    check(&mut c, &["EXPIRE", "k", "100", "GT"], ZERO);
    check(&mut c, &["EXPIRE", "k", "300", "gt"], ONE);
    assert!(int(&mut c, &["TTL", "k"]) > 200);
    check(&mut c, &["EXPIRE", "k", "400", "LT"], ZERO);
    check(&mut c, &["EXPIRE", "k", "300", "LT"], ZERO);
    check(&mut c, &["EXPIRE", "k", "50", "lt"], ONE);
    assert!(int(&mut c, &["TTL", "k"]) <= 50);
    check(&mut c, &["EXPIRE", "k", "60", "XX", "GT"], ONE);
    check(&mut c, &["EXPIRE", "k", "10", "XX", "LT"], ONE);
    check(&mut c, &["EXPIRE", "k", "10", "XX", "XX", "LT", "LT"], ZERO);

    check(&mut c, &["SET", "n", "v"], OK);
    check(&mut c, &["PEXPIRE", "n", "5000", "LT"], ONE);
    check(&mut c, &["PEXPIREAT", "n", &(now_ms() + 100_000).to_string(), "LT"], ZERO);
    check(&mut c, &["EXPIREAT", "n", &(now_ms() / 1000 + 100).to_string(), "GT"], ONE);
    check(&mut c, &["PERSIST", "n"], ONE);
    check(&mut c, &["PEXPIREAT", "n", &(now_ms() + 100_000).to_string(), "LT"], ONE);
}

#[test]
fn option_and_value_errors() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v"], OK);
    let nx = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
    let gtlt = "-ERR GT and LT options at the same time are not compatible\r\n";
    for cmd in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        check(&mut c, &[cmd, "k", "100", "NX", "XX"], nx);
        check(&mut c, &[cmd, "k", "100", "NX", "GT"], nx);
        check(&mut c, &[cmd, "k", "100", "LT", "NX"], nx);
        check(&mut c, &[cmd, "k", "100", "GT", "LT"], gtlt);
        check(&mut c, &[cmd, "k", "100", "FOO"], "-ERR Unsupported option FOO\r\n");
        check(&mut c, &[cmd, "k", "abc"], "-ERR value is not an integer or out of range\r\n");
        check(&mut c, &[cmd, "k", "1.5"], "-ERR value is not an integer or out of range\r\n");
        check(&mut c, &[cmd, "k"], &format!("-ERR wrong number of arguments for '{}' command\r\n", cmd.to_lowercase()));
        // Options are checked before the number, and both before the key is looked up.
        check(&mut c, &[cmd, "missing", "abc", "BAR"], "-ERR Unsupported option BAR\r\n");
        check(&mut c, &[cmd, "missing", "abc"], "-ERR value is not an integer or out of range\r\n");
    }
    check(&mut c, &["EXPIRE", "k", "9223372036854775807"], "-ERR invalid expire time in 'expire' command\r\n");
    check(&mut c, &["EXPIRE", "k", "-9223372036854775808"], "-ERR invalid expire time in 'expire' command\r\n");
    check(&mut c, &["EXPIREAT", "k", "9223372036854775807"], "-ERR invalid expire time in 'expireat' command\r\n");
    check(&mut c, &["PEXPIRE", "k", "9223372036854775807"], "-ERR invalid expire time in 'pexpire' command\r\n");
    check(&mut c, &["EXPIRE", "k", "9223372036854775"], "-ERR invalid expire time in 'expire' command\r\n");
    // A missing key still gets the overflow error (the time is checked first).
    check(&mut c, &["PEXPIRE", "missing", "9223372036854775807"], "-ERR invalid expire time in 'pexpire' command\r\n");
    // PEXPIREAT has nothing to add, so even the largest time is accepted.
    check(&mut c, &["PEXPIREAT", "k", "9223372036854775807"], ONE);
    check(&mut c, &["PEXPIRETIME", "k"], ":9223372036854775807\r\n");
    check(&mut c, &["EXISTS", "k"], ONE);
    let ttl = int(&mut c, &["TTL", "k"]);
    let expected = (i64::MAX - now_ms() + 500) / 1000;
    assert!((ttl - expected).abs() <= 1, "{ttl} vs {expected}");
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"] {
        check(&mut c, &[cmd], &format!("-ERR wrong number of arguments for '{}' command\r\n", cmd.to_lowercase()));
        check(
            &mut c,
            &[cmd, "a", "b"],
            &format!("-ERR wrong number of arguments for '{}' command\r\n", cmd.to_lowercase()),
        );
    }
}

#[test]
fn persist_removes_the_ttl() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["SET", "k", "v", "EX", "100"], OK);
    check(&mut c, &["PERSIST", "k"], ONE);
    check(&mut c, &["TTL", "k"], ":-1\r\n");
    check(&mut c, &["PERSIST", "k"], ZERO);
    check(&mut c, &["PERSIST", "missing"], ZERO);
    // Works on every value representation.
    check(&mut c, &["SET", "n", "42", "PX", "100000"], OK);
    check(&mut c, &["APPEND", "g", "x"], ONE);
    check(&mut c, &["PEXPIRE", "g", "100000"], ONE);
    check(&mut c, &["PERSIST", "n"], ONE);
    check(&mut c, &["PERSIST", "g"], ONE);
    check(&mut c, &["GET", "n"], "$2\r\n42\r\n");
    check(&mut c, &["GET", "g"], "$1\r\nx\r\n");
    check(&mut c, &["PTTL", "g"], ":-1\r\n");
}

#[test]
fn ttl_of_an_expired_key_is_minus_two() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    check(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"], OK);
    check(&mut c, &["SET", "k", "v", "PX", "1"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["TTL", "k"], ":-2\r\n");
    check(&mut c, &["SET", "k", "v", "PX", "1"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["EXPIRE", "k", "100"], ZERO);
    check(&mut c, &["SET", "k", "v", "PX", "1"], OK);
    std::thread::sleep(Duration::from_millis(20));
    check(&mut c, &["PERSIST", "k"], ZERO);
    check(&mut c, &["DBSIZE"], ZERO);
}

#[test]
fn lazy_expiry_on_access() {
    let srv = TestServer::start_with(DEBUG);
    let mut c = srv.raw();
    // With the active cycle off, only an access can remove the key.
    check(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"], OK);
    check(&mut c, &["SET", "k", "v"], OK);
    check(&mut c, &["PEXPIRE", "k", "50"], ONE);
    check(&mut c, &["GET", "k"], "$1\r\nv\r\n");
    std::thread::sleep(Duration::from_millis(100));
    check(&mut c, &["DBSIZE"], ONE);
    check(&mut c, &["GET", "k"], "$-1\r\n");
    check(&mut c, &["DBSIZE"], ZERO);

    // The same with the client library.
    let mut con = srv.client();
    redis::cmd("SET").arg("k2").arg("v").query::<()>(&mut con).expect("set");
    let set: i64 = redis::cmd("PEXPIRE").arg("k2").arg(50).query(&mut con).expect("pexpire");
    assert_eq!(set, 1);
    std::thread::sleep(Duration::from_millis(100));
    let v: Option<String> = redis::cmd("GET").arg("k2").query(&mut con).expect("get");
    assert_eq!(v, None);
}

#[test]
fn active_expiry_removes_untouched_keys() {
    let srv = TestServer::start_with(DEBUG);
    let mut con = srv.client();
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        pipe.cmd("SET").arg(format!("volatile:{i}")).arg("v").arg("PX").arg(100).ignore();
    }
    pipe.cmd("SET").arg("stays").arg("v").ignore();
    pipe.query::<()>(&mut con).expect("fill");
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut size: i64 = -1;
    while Instant::now() < deadline {
        size = redis::cmd("DBSIZE").query(&mut con).expect("dbsize");
        if size == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(size, 1, "the active cycle removed every expired key");
    let v: String = redis::cmd("GET").arg("stays").query(&mut con).expect("get");
    assert_eq!(v, "v");
}
