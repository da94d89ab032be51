//! APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE and LCS over TCP, checked against Redis 7.2's
//! replies and error texts.

mod common;

use std::time::Duration;

use common::{RawConn, TestServer};
use redis::Connection;

/// Sends a command on the raw socket and returns the reply as text.
fn raw(r: &mut RawConn, args: &[&[u8]]) -> String {
    String::from_utf8_lossy(&r.cmd(args)).into_owned()
}

fn int(con: &mut Connection, args: &[&[u8]]) -> i64 {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).expect("ascii name"));
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).expect("integer reply")
}

fn get(con: &mut Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query(con).expect("GET")
}

fn set(con: &mut Connection, key: &str, value: &[u8]) {
    let _: () = redis::cmd("SET").arg(key).arg(value).query(con).expect("SET");
}

fn bulk(con: &mut Connection, args: &[&str]) -> Vec<u8> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).expect("bulk reply")
}

const TOO_BIG: &str = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

#[test]
fn append_creates_and_extends() {
    let s = TestServer::start();
    let mut con = s.client();
    assert_eq!(int(&mut con, &[b"APPEND", b"a", b"Hello"]), 5);
    assert_eq!(int(&mut con, &[b"APPEND", b"a", b" World"]), 11);
    assert_eq!(get(&mut con, "a").as_deref(), Some(&b"Hello World"[..]));
    // Appending nothing still answers the length.
    assert_eq!(int(&mut con, &[b"APPEND", b"a", b""]), 11);
    assert_eq!(int(&mut con, &[b"APPEND", b"empty", b""]), 0);
    assert_eq!(get(&mut con, "empty").as_deref(), Some(&b""[..]));
    // An integer value is appended to as text.
    set(&mut con, "n", b"12");
    assert_eq!(int(&mut con, &[b"APPEND", b"n", b"34"]), 4);
    assert_eq!(get(&mut con, "n").as_deref(), Some(&b"1234"[..]));
    assert_eq!(int(&mut con, &[b"INCR", b"n"]), 1235);
    set(&mut con, "neg", b"-7");
    assert_eq!(int(&mut con, &[b"APPEND", b"neg", b"\x00\xff"]), 4);
    assert_eq!(get(&mut con, "neg").as_deref(), Some(&b"-7\x00\xff"[..]));
    // Many small appends (amortized growth of the raw string).
    let mut expected = Vec::new();
    for i in 0..2000u32 {
        let piece = format!("{i},");
        expected.extend_from_slice(piece.as_bytes());
        assert_eq!(int(&mut con, &[b"APPEND", b"log", piece.as_bytes()]), expected.len() as i64);
    }
    assert_eq!(get(&mut con, "log"), Some(expected));
    let mut r = s.raw();
    assert_eq!(raw(&mut r, &[b"APPEND", b"a"]), "-ERR wrong number of arguments for 'append' command\r\n");
}

#[test]
fn append_and_setrange_keep_the_ttl() {
    let s = TestServer::start();
    let mut con = s.client();
    let _: () = redis::cmd("SET").arg("t1").arg("abc").arg("PX").arg(300).query(&mut con).expect("SET PX");
    let _: () = redis::cmd("SET").arg("t2").arg("abc").arg("PX").arg(300).query(&mut con).expect("SET PX");
    set(&mut con, "p", b"abc");
    assert_eq!(int(&mut con, &[b"APPEND", b"t1", b"def"]), 6);
    assert_eq!(int(&mut con, &[b"SETRANGE", b"t2", b"5", b"x"]), 6);
    assert_eq!(int(&mut con, &[b"APPEND", b"p", b"def"]), 6);
    assert_eq!(get(&mut con, "t1").as_deref(), Some(&b"abcdef"[..]));
    assert_eq!(get(&mut con, "t2").as_deref(), Some(&b"abc\0\0x"[..]));
    std::thread::sleep(Duration::from_millis(450));
    assert_eq!(get(&mut con, "t1"), None, "APPEND kept the expiry");
    assert_eq!(get(&mut con, "t2"), None, "SETRANGE kept the expiry");
    assert_eq!(get(&mut con, "p").as_deref(), Some(&b"abcdef"[..]));
}

#[test]
fn strlen_counts_bytes() {
    let s = TestServer::start();
    let mut con = s.client();
    assert_eq!(int(&mut con, &[b"STRLEN", b"missing"]), 0);
    set(&mut con, "s", b"Hello world");
    assert_eq!(int(&mut con, &[b"STRLEN", b"s"]), 11);
    set(&mut con, "i", b"-12345");
    assert_eq!(int(&mut con, &[b"STRLEN", b"i"]), 6);
    set(&mut con, "bin", b"\x00\x01\xff");
    assert_eq!(int(&mut con, &[b"STRLEN", b"bin"]), 3);
    set(&mut con, "e", b"");
    assert_eq!(int(&mut con, &[b"STRLEN", b"e"]), 0);
    assert_eq!(int(&mut con, &[b"SETRANGE", b"e", b"9", b"z"]), 10);
    assert_eq!(int(&mut con, &[b"STRLEN", b"e"]), 10);
    let mut r = s.raw();
    assert_eq!(raw(&mut r, &[b"STRLEN", b"a", b"b"]), "-ERR wrong number of arguments for 'strlen' command\r\n");
}

#[test]
fn getrange_and_substr() {
    let s = TestServer::start();
    let mut con = s.client();
    set(&mut con, "k", b"This is a string");
    for name in ["GETRANGE", "SUBSTR"] {
        let cases: &[(&str, &str, &[u8])] = &[
            ("0", "3", b"This"),
            ("-3", "-1", b"ing"),
            ("0", "-1", b"This is a string"),
            ("10", "100", b"string"),
            ("-100", "3", b"This"),
            ("-100", "-100", b"T"),
            ("5", "5", b"i"),
            ("5", "4", b""),
            ("16", "20", b""),
            ("-1", "-3", b""),
            ("3", "-100", b""),
            ("-9223372036854775808", "9223372036854775807", b"This is a string"),
        ];
        for (start, end, want) in cases {
            assert_eq!(bulk(&mut con, &[name, "k", start, end]), *want, "{name} {start} {end}");
        }
        assert_eq!(bulk(&mut con, &[name, "missing", "0", "-1"]), b"");
    }
    set(&mut con, "n", b"1234");
    assert_eq!(bulk(&mut con, &["GETRANGE", "n", "1", "2"]), b"23");
    assert_eq!(bulk(&mut con, &["GETRANGE", "n", "-1", "-1"]), b"4");
    set(&mut con, "e", b"");
    assert_eq!(bulk(&mut con, &["GETRANGE", "e", "0", "-1"]), b"");
    assert_eq!(bulk(&mut con, &["GETRANGE", "e", "0", "0"]), b"");
    let mut r = s.raw();
    assert_eq!(raw(&mut r, &[b"GETRANGE", b"k", b"x", b"1"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"GETRANGE", b"k", b"0", b"1.5"]), NOT_INT);
    // Arguments are checked before the key is looked up.
    assert_eq!(raw(&mut r, &[b"GETRANGE", b"missing", b"0", b"x"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"SUBSTR", b"k", b"99999999999999999999", b"1"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"GETRANGE", b"missing", b"0", b"-1"]), "$0\r\n\r\n");
    assert_eq!(raw(&mut r, &[b"GETRANGE", b"k", b"0"]), "-ERR wrong number of arguments for 'getrange' command\r\n");
    assert_eq!(raw(&mut r, &[b"SUBSTR", b"k", b"0"]), "-ERR wrong number of arguments for 'substr' command\r\n");
}

#[test]
fn setrange_overwrites_and_pads() {
    let s = TestServer::start();
    let mut con = s.client();
    set(&mut con, "k", b"Hello World");
    assert_eq!(int(&mut con, &[b"SETRANGE", b"k", b"6", b"Redis"]), 11);
    assert_eq!(get(&mut con, "k").as_deref(), Some(&b"Hello Redis"[..]));
    assert_eq!(int(&mut con, &[b"SETRANGE", b"k", b"9", b"xyz!"]), 13);
    assert_eq!(get(&mut con, "k").as_deref(), Some(&b"Hello Redxyz!"[..]));
    // A new key is zero-padded up to the offset.
    assert_eq!(int(&mut con, &[b"SETRANGE", b"new", b"6", b"Redis"]), 11);
    assert_eq!(get(&mut con, "new").as_deref(), Some(&b"\0\0\0\0\0\0Redis"[..]));
    // Writing nothing: a missing key is not created, an existing one reports its length.
    assert_eq!(int(&mut con, &[b"SETRANGE", b"none", b"10", b""]), 0);
    assert_eq!(get(&mut con, "none"), None);
    assert_eq!(int(&mut con, &[b"SETRANGE", b"k", b"100", b""]), 13);
    assert_eq!(int(&mut con, &[b"SETRANGE", b"k", b"9223372036854775807", b""]), 13);
    // Integer values are overwritten as text.
    set(&mut con, "n", b"1234");
    assert_eq!(int(&mut con, &[b"SETRANGE", b"n", b"1", b"9"]), 4);
    assert_eq!(get(&mut con, "n").as_deref(), Some(&b"1934"[..]));
    assert_eq!(int(&mut con, &[b"INCR", b"n"]), 1935);
    assert_eq!(int(&mut con, &[b"SETRANGE", b"n", b"0", b"\xff"]), 4);
    assert_eq!(get(&mut con, "n").as_deref(), Some(&b"\xff935"[..]));

    let mut r = s.raw();
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"k", b"-1", b"x"]), "-ERR offset is out of range\r\n");
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"k", b"-1", b""]), "-ERR offset is out of range\r\n");
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"k", b"x", b"x"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"k", b"9223372036854775808", b"x"]), NOT_INT);
    // Past the default proto-max-bulk-len (512 MiB).
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"k", b"536870912", b"x"]), TOO_BIG);
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"big", b"9223372036854775807", b"x"]), TOO_BIG);
    assert_eq!(get(&mut con, "big"), None);
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"k", b"1"]), "-ERR wrong number of arguments for 'setrange' command\r\n");
}

#[test]
fn size_limits_follow_proto_max_bulk_len() {
    let s = TestServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let mut con = s.client();
    let mut r = s.raw();
    const MAX: i64 = 1 << 20;
    // Exactly the limit is allowed; one byte more is not.
    assert_eq!(int(&mut con, &[b"SETRANGE", b"a", (MAX - 1).to_string().as_bytes(), b"x"]), MAX);
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"b", MAX.to_string().as_bytes(), b"x"]), TOO_BIG);
    assert_eq!(raw(&mut r, &[b"SETRANGE", b"b", (MAX - 1).to_string().as_bytes(), b"xy"]), TOO_BIG);
    assert_eq!(get(&mut con, "b"), None);
    assert_eq!(raw(&mut r, &[b"APPEND", b"a", b"y"]), TOO_BIG);
    assert_eq!(int(&mut con, &[b"STRLEN", b"a"]), MAX);
    // Writing nothing past the limit is not an error.
    assert_eq!(int(&mut con, &[b"SETRANGE", b"a", b"99999999", b""]), MAX);
    set(&mut con, "c", b"abc");
    assert_eq!(int(&mut con, &[b"SETRANGE", b"c", (MAX - 3).to_string().as_bytes(), b"abc"]), MAX);
    assert_eq!(raw(&mut r, &[b"APPEND", b"c", b"!"]), TOO_BIG);
}

/// The LCS IDX reply for "ohmytext" / "mynewtext", with or without match lengths.
fn idx_reply(with_len: bool, min4: bool) -> String {
    let m = |a0: i64, a1: i64, b0: i64, b1: i64| {
        let mut s = format!("*{}\r\n*2\r\n:{a0}\r\n:{a1}\r\n*2\r\n:{b0}\r\n:{b1}\r\n", if with_len { 3 } else { 2 });
        if with_len {
            s.push_str(&format!(":{}\r\n", a1 - a0 + 1));
        }
        s
    };
    let matches = if min4 { m(4, 7, 5, 8) } else { m(4, 7, 5, 8) + &m(2, 3, 0, 1) };
    format!("*4\r\n$7\r\nmatches\r\n*{}\r\n{matches}$3\r\nlen\r\n:6\r\n", if min4 { 1 } else { 2 })
}

#[test]
fn lcs_modes() {
    let s = TestServer::start();
    let mut con = s.client();
    set(&mut con, "key1", b"ohmytext");
    set(&mut con, "key2", b"mynewtext");
    assert_eq!(bulk(&mut con, &["LCS", "key1", "key2"]), b"mytext");
    assert_eq!(int(&mut con, &[b"LCS", b"key1", b"key2", b"LEN"]), 6);
    assert_eq!(int(&mut con, &[b"LCS", b"key1", b"key2", b"len"]), 6);
    assert_eq!(bulk(&mut con, &["LCS", "key1", "missing"]), b"");
    assert_eq!(bulk(&mut con, &["LCS", "missing", "other"]), b"");
    assert_eq!(int(&mut con, &[b"LCS", b"missing", b"key2", b"LEN"]), 0);
    assert_eq!(bulk(&mut con, &["LCS", "key1", "key1"]), b"ohmytext");
    set(&mut con, "n1", b"12345");
    set(&mut con, "n2", b"1x3y5");
    assert_eq!(bulk(&mut con, &["LCS", "n1", "n2"]), b"135");

    let mut r = s.raw();
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"key2", b"IDX"]), idx_reply(false, false));
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"key2", b"IDX", b"WITHMATCHLEN"]), idx_reply(true, false));
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"key2", b"IDX", b"MINMATCHLEN", b"4"]), idx_reply(false, true));
    assert_eq!(
        raw(&mut r, &[b"LCS", b"key1", b"key2", b"idx", b"minmatchlen", b"4", b"withmatchlen"]),
        idx_reply(true, true)
    );
    // A negative minimum counts as 0; a later MINMATCHLEN replaces an earlier one.
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"key2", b"IDX", b"MINMATCHLEN", b"-5"]), idx_reply(false, false));
    assert_eq!(
        raw(&mut r, &[b"LCS", b"key1", b"key2", b"IDX", b"MINMATCHLEN", b"4", b"MINMATCHLEN", b"0"]),
        idx_reply(false, false)
    );
    // MINMATCHLEN and WITHMATCHLEN alone do not change the plain reply.
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"key2", b"MINMATCHLEN", b"4", b"WITHMATCHLEN"]), "$6\r\nmytext\r\n");
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"missing", b"IDX"]), "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n");

    assert_eq!(
        raw(&mut r, &[b"LCS", b"key1", b"key2", b"LEN", b"IDX"]),
        "-ERR If you want both the length and indexes, please just use IDX.\r\n"
    );
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"key2", b"BOGUS"]), "-ERR syntax error\r\n");
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"key2", b"MINMATCHLEN"]), "-ERR syntax error\r\n");
    assert_eq!(raw(&mut r, &[b"LCS", b"key1", b"key2", b"MINMATCHLEN", b"x"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"LCS", b"key1"]), "-ERR wrong number of arguments for 'lcs' command\r\n");

    // RESP3: the IDX reply is a map.
    let hello = r.cmd(&[b"HELLO", b"3"]);
    assert!(hello.starts_with(b"%"), "{}", String::from_utf8_lossy(&hello));
    assert_eq!(
        raw(&mut r, &[b"LCS", b"key1", b"key2", b"IDX", b"MINMATCHLEN", b"4"]),
        "%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"
    );
}

#[test]
fn lcs_transient_memory_is_bounded() {
    let s = TestServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let mut con = s.client();
    let mut r = s.raw();
    // (500 + 1) * (520 + 1) cells of 4 bytes fit in 1 MiB...
    set(&mut con, "a", &[b'a'; 500]);
    set(&mut con, "b", &[b'a'; 520]);
    assert_eq!(int(&mut con, &[b"LCS", b"a", b"b", b"LEN"]), 500);
    assert_eq!(bulk(&mut con, &["LCS", "a", "b"]), vec![b'a'; 500]);
    // ...(500 + 1) * (530 + 1) do not, whatever the mode.
    set(&mut con, "b", &[b'a'; 530]);
    let err = "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n";
    assert_eq!(raw(&mut r, &[b"LCS", b"a", b"b"]), err);
    assert_eq!(raw(&mut r, &[b"LCS", b"a", b"b", b"LEN"]), err);
    assert_eq!(raw(&mut r, &[b"LCS", b"a", b"b", b"IDX"]), err);
    // A missing key is an empty string: a single row.
    assert_eq!(int(&mut con, &[b"LCS", b"a", b"missing", b"LEN"]), 0);
}
