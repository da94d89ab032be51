//! BITFIELD and BITFIELD_RO over TCP, checked against Redis 7.2's replies and error texts.
//! The other bitmap commands are in `tests/bitmaps.rs`.

mod common;

use common::{get_bytes as get, query as q, raw_text as raw, set_bytes as set, TestServer};
use redis::Connection;

const BAD_OFFSET: &str = "-ERR bit offset is not an integer or out of range\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const BAD_TYPE: &str =
    "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n";

#[test]
fn bitfield_get_set_incrby() {
    let s = TestServer::start();
    let mut con = s.client();
    let bf = |con: &mut Connection, args: &[&str]| -> Vec<Option<i64>> {
        let mut c = redis::cmd("BITFIELD");
        c.arg(args);
        c.query(con).expect("BITFIELD")
    };
    assert_eq!(bf(&mut con, &["k", "INCRBY", "i5", "100", "1", "GET", "u4", "0"]), [Some(1), Some(0)]);
    // Bits 100..=104 were written: 14 bytes.
    assert_eq!(q::<i64>(&mut con, "STRLEN", &[&"k"]), 14);
    // SET answers the old value, INCRBY the new one; `#n` offsets count in field widths.
    assert_eq!(
        bf(
            &mut con,
            &["f", "SET", "u8", "#0", "255", "SET", "u8", "#1", "1", "GET", "u16", "0", "INCRBY", "u8", "8", "-2"]
        ),
        [Some(0), Some(0), Some(0xff01), Some(255)]
    );
    assert_eq!(get(&mut con, "f").as_deref(), Some(&b"\xff\xff"[..]));
    assert_eq!(
        bf(&mut con, &["f", "GET", "i8", "0", "GET", "i16", "0", "GET", "u1", "15", "GET", "i4", "#3"]),
        [Some(-1), Some(-1), Some(1), Some(-1)]
    );
    // Fields straddling byte boundaries, and reads past the end.
    assert_eq!(
        bf(&mut con, &["g", "SET", "i12", "3", "-1000", "GET", "i12", "3", "GET", "u12", "3"]),
        [Some(0), Some(-1000), Some(4096 - 1000)]
    );
    assert_eq!(bf(&mut con, &["g", "GET", "u63", "1000"]), [Some(0)]);
    // Widths at the limits.
    assert_eq!(
        bf(&mut con, &["w1", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0"]),
        [Some(0), Some(i64::MIN)]
    );
    assert_eq!(
        bf(&mut con, &["w2", "SET", "i64", "3", "9223372036854775807", "GET", "i64", "3"]),
        [Some(0), Some(i64::MAX)]
    );
    assert_eq!(bf(&mut con, &["w2", "INCRBY", "i64", "3", "1"]), [Some(i64::MIN)], "wraps by default");
    assert_eq!(
        bf(&mut con, &["w3", "SET", "u63", "0", "9223372036854775807", "GET", "u63", "0"]),
        [Some(0), Some(i64::MAX)]
    );
    assert_eq!(get(&mut con, "w3").as_deref(), Some(&b"\xff\xff\xff\xff\xff\xff\xff\xfe"[..]));
    // A missing key reads as zeros; no operations give an empty reply.
    assert_eq!(bf(&mut con, &["missing", "GET", "i8", "0", "GET", "u63", "#7"]), [Some(0), Some(0)]);
    assert_eq!(bf(&mut con, &["missing"]), Vec::<Option<i64>>::new());
    assert_eq!(get(&mut con, "missing"), None);
    // Integer values are read as their text: "12" is 0x31 0x32.
    set(&mut con, "n", b"12");
    assert_eq!(bf(&mut con, &["n", "GET", "u16", "0", "GET", "u8", "4"]), [Some(0x3132), Some(0x13)]);
    assert_eq!(bf(&mut con, &["n", "SET", "u8", "#1", "51"]), [Some(0x32)]);
    assert_eq!(get(&mut con, "n").as_deref(), Some(&b"13"[..]));
}

#[test]
fn bitfield_overflow_modes() {
    let s = TestServer::start();
    let mut con = s.client();
    let bf = |con: &mut Connection, args: &[&str]| -> Vec<Option<i64>> {
        let mut c = redis::cmd("BITFIELD");
        c.arg("k").arg(args);
        c.query(con).expect("BITFIELD")
    };
    let step = ["INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"];
    assert_eq!(bf(&mut con, &step), [Some(1), Some(1)]);
    assert_eq!(bf(&mut con, &step), [Some(2), Some(2)]);
    assert_eq!(bf(&mut con, &step), [Some(3), Some(3)]);
    assert_eq!(bf(&mut con, &step), [Some(0), Some(3)]);
    // FAIL refuses the write and answers nil; the mode lasts until the next OVERFLOW.
    assert_eq!(
        bf(
            &mut con,
            &[
                "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "1", "SET", "u2", "102", "4", "OVERFLOW", "WRAP", "INCRBY",
                "u2", "102", "1"
            ]
        ),
        [None, None, Some(0)]
    );
    assert_eq!(bf(&mut con, &["overflow", "fail", "INCRBY", "u2", "102", "-1"]), [None]);
    assert_eq!(bf(&mut con, &["overflow", "sat", "INCRBY", "u2", "102", "-5", "GET", "u2", "102"]), [Some(0), Some(0)]);
    // Signed saturation and wrapping.
    assert_eq!(bf(&mut con, &["OVERFLOW", "SAT", "SET", "i8", "0", "200", "GET", "i8", "0"]), [Some(0), Some(127)]);
    assert_eq!(bf(&mut con, &["OVERFLOW", "SAT", "INCRBY", "i8", "0", "-300"]), [Some(-128)]);
    assert_eq!(bf(&mut con, &["OVERFLOW", "WRAP", "INCRBY", "i8", "0", "-1"]), [Some(127)]);
    assert_eq!(bf(&mut con, &["SET", "i8", "0", "-129", "GET", "i8", "0"]), [Some(127), Some(127)]);
    assert_eq!(
        bf(&mut con, &["OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775808", "GET", "i8", "0"]),
        [Some(127), Some(127)]
    );
    assert_eq!(
        bf(&mut con, &["OVERFLOW", "SAT", "INCRBY", "i64", "#1", "9223372036854775807", "INCRBY", "i64", "#1", "1"]),
        [Some(i64::MAX), Some(i64::MAX)]
    );
    // Unsigned: a negative SET value wraps (or saturates at the top, as in Redis).
    assert_eq!(bf(&mut con, &["SET", "u8", "#3", "-1", "GET", "u8", "#3"]), [Some(0), Some(255)]);
    assert_eq!(bf(&mut con, &["OVERFLOW", "SAT", "SET", "u8", "#3", "-1", "GET", "u8", "#3"]), [Some(255), Some(255)]);
    assert_eq!(bf(&mut con, &["OVERFLOW", "SAT", "INCRBY", "u63", "#4", "-1"]), [Some(0)]);
    assert_eq!(bf(&mut con, &["OVERFLOW", "WRAP", "INCRBY", "u63", "#4", "-1"]), [Some(i64::MAX)]);
    // A write that fails still creates (and sizes) a missing key, as in Redis.
    let mut c = redis::cmd("BITFIELD");
    c.arg("created").arg(&["OVERFLOW", "FAIL", "SET", "u2", "0", "10"]);
    assert_eq!(c.query::<Vec<Option<i64>>>(&mut con).expect("BITFIELD"), [None]);
    assert_eq!(get(&mut con, "created").as_deref(), Some(&b"\0"[..]));

    // RESP3 nil.
    let mut r = s.raw();
    let _ = r.cmd(&[b"HELLO", b"3"]);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"OVERFLOW", b"FAIL", b"INCRBY", b"i2", b"0", b"100"]), "*1\r\n_\r\n");
    let mut r = s.raw();
    assert_eq!(
        raw(&mut r, &[b"BITFIELD", b"k", b"OVERFLOW", b"FAIL", b"INCRBY", b"i2", b"0", b"100"]),
        "*1\r\n$-1\r\n"
    );
}

#[test]
fn bitfield_errors_and_read_only_variant() {
    let s = TestServer::start();
    let mut con = s.client();
    let mut r = s.raw();
    for bad in [&b"u64"[..], b"i65", b"i0", b"u0", b"I8", b"U8", b"x8", b"8", b"", b"i", b"i-1", b"i08", b"u 8"] {
        assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"GET", bad, b"0"]), BAD_TYPE, "{bad:?}");
    }
    for bad in [&b"-1"[..], b"x", b"#", b"#-1", b"#x", b"1.5", b"##1"] {
        assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"GET", b"u8", bad]), BAD_OFFSET, "{bad:?}");
    }
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"SET", b"u8", b"0", b"x"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"INCRBY", b"u8", b"0", b"9223372036854775808"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"OVERFLOW", b"SATURATE"]), "-ERR Invalid OVERFLOW type specified\r\n");
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"OVERFLOW"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"GET", b"u8"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"SET", b"u8", b"0"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"INCRBY", b"u8", b"0"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"DEL", b"u8", b"0"]), SYNTAX);
    // Every sub-command is parsed before any runs: nothing is written.
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"k", b"SET", b"u8", b"0", b"1", b"GET", b"u64", b"0"]), BAD_TYPE);
    assert_eq!(get(&mut con, "k"), None);
    assert_eq!(raw(&mut r, &[b"BITFIELD"]), "-ERR wrong number of arguments for 'bitfield' command\r\n");

    set(&mut con, "k", b"\x80\x01");
    assert_eq!(
        raw(&mut r, &[b"BITFIELD_RO", b"k", b"GET", b"i8", b"0", b"GET", b"u8", b"#1"]),
        "*2\r\n:-128\r\n:1\r\n"
    );
    assert_eq!(raw(&mut r, &[b"BITFIELD_RO", b"missing", b"GET", b"u8", b"0"]), "*1\r\n:0\r\n");
    assert_eq!(raw(&mut r, &[b"BITFIELD_RO", b"k"]), "*0\r\n");
    let ro_err = "-ERR BITFIELD_RO only supports the GET subcommand\r\n";
    assert_eq!(raw(&mut r, &[b"BITFIELD_RO", b"k", b"SET", b"u8", b"0", b"1"]), ro_err);
    assert_eq!(raw(&mut r, &[b"BITFIELD_RO", b"k", b"GET", b"u8", b"0", b"INCRBY", b"u8", b"0", b"1"]), ro_err);
    assert_eq!(raw(&mut r, &[b"BITFIELD_RO", b"k", b"OVERFLOW", b"FAIL", b"GET", b"u8", b"0"]), "*1\r\n:128\r\n");
    // Argument errors come first, then the read-only check.
    assert_eq!(raw(&mut r, &[b"BITFIELD_RO", b"k", b"SET", b"u8", b"0", b"x"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"BITFIELD_RO", b"k", b"FOO"]), SYNTAX);
    assert_eq!(get(&mut con, "k").as_deref(), Some(&b"\x80\x01"[..]));
    assert_eq!(raw(&mut r, &[b"BITFIELD_RO"]), "-ERR wrong number of arguments for 'bitfield_ro' command\r\n");
}
