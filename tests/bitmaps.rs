//! SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP over TCP, checked against Redis 7.2's replies
//! and error texts. BITFIELD and BITFIELD_RO are in `tests/bitfield.rs`.

mod common;

use std::time::Duration;

use common::{get_bytes as get, query as q, raw_text as raw, set_bytes as set, TestServer};
use redis::Connection;

const BAD_OFFSET: &str = "-ERR bit offset is not an integer or out of range\r\n";
const BAD_BIT: &str = "-ERR bit is not an integer or out of range\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";

#[test]
fn setbit_and_getbit() {
    let s = TestServer::start();
    let mut con = s.client();
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"k", &7, &1]), 0);
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"k", &7, &1]), 1);
    assert_eq!(get(&mut con, "k").as_deref(), Some(&b"\x01"[..]));
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"k", &0, &1]), 0);
    assert_eq!(get(&mut con, "k").as_deref(), Some(&b"\x81"[..]));
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"k", &7, &0]), 1);
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"k", &7, &0]), 0);
    // Growing pads with zero bytes.
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"k", &100, &1]), 0);
    assert_eq!(q::<i64>(&mut con, "STRLEN", &[&"k"]), 13);
    assert_eq!(q::<i64>(&mut con, "GETBIT", &[&"k", &100]), 1);
    assert_eq!(q::<i64>(&mut con, "GETBIT", &[&"k", &0]), 1);
    assert_eq!(q::<i64>(&mut con, "GETBIT", &[&"k", &1]), 0);
    assert_eq!(q::<i64>(&mut con, "GETBIT", &[&"k", &101]), 0);
    assert_eq!(q::<i64>(&mut con, "GETBIT", &[&"k", &10_000]), 0, "past the end");
    assert_eq!(q::<i64>(&mut con, "GETBIT", &[&"missing", &3]), 0);
    // Clearing a bit past the end still grows the string.
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"z", &15, &0]), 0);
    assert_eq!(get(&mut con, "z").as_deref(), Some(&b"\0\0"[..]));
    // An integer value is addressed as its decimal text: "1" is 0x31.
    set(&mut con, "n", b"1");
    let bits: Vec<i64> = (0..8).map(|i| q(&mut con, "GETBIT", &[&"n", &i])).collect();
    assert_eq!(bits, [0, 0, 1, 1, 0, 0, 0, 1]);
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"n", &6, &1]), 0);
    assert_eq!(get(&mut con, "n").as_deref(), Some(&b"3"[..]));
    assert_eq!(q::<i64>(&mut con, "INCR", &[&"n"]), 4);
    // The TTL survives.
    let _: () = q(&mut con, "SET", &[&"t", &"a", &"PX", &300]);
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"t", &20, &1]), 0);
    std::thread::sleep(Duration::from_millis(450));
    assert_eq!(get(&mut con, "t"), None);

    let mut r = s.raw();
    for bad in [&b"2"[..], b"-1", b"x", b"", b"01", b"1.0", b"99999999999999999999"] {
        assert_eq!(raw(&mut r, &[b"SETBIT", b"k", b"1", bad]), BAD_BIT, "{bad:?}");
    }
    for bad in [&b"-1"[..], b"x", b"", b"1.5", b"#1", b"4294967296", b"9223372036854775808"] {
        assert_eq!(raw(&mut r, &[b"SETBIT", b"k", bad, b"1"]), BAD_OFFSET, "{bad:?}");
        assert_eq!(raw(&mut r, &[b"GETBIT", b"k", bad]), BAD_OFFSET, "{bad:?}");
    }
    // The offset is checked before the value.
    assert_eq!(raw(&mut r, &[b"SETBIT", b"k", b"-1", b"2"]), BAD_OFFSET);
    assert_eq!(raw(&mut r, &[b"GETBIT", b"missing", b"-1"]), BAD_OFFSET);
    assert_eq!(raw(&mut r, &[b"SETBIT", b"k", b"1"]), "-ERR wrong number of arguments for 'setbit' command\r\n");
    assert_eq!(raw(&mut r, &[b"GETBIT", b"k"]), "-ERR wrong number of arguments for 'getbit' command\r\n");
}

#[test]
fn bit_offsets_up_to_four_giga_bits() {
    let s = TestServer::start();
    let mut con = s.client();
    let mut r = s.raw();
    // The last bit addressable with the default proto-max-bulk-len (512 MiB).
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"big", &4_294_967_295u64, &1]), 0);
    assert_eq!(q::<i64>(&mut con, "GETBIT", &[&"big", &4_294_967_295u64]), 1);
    assert_eq!(q::<i64>(&mut con, "GETBIT", &[&"big", &4_294_967_294u64]), 0);
    assert_eq!(q::<i64>(&mut con, "STRLEN", &[&"big"]), 536_870_912);
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"big", &4_294_967_295u64, &0]), 1);
    assert_eq!(raw(&mut r, &[b"SETBIT", b"big", b"4294967296", b"1"]), BAD_OFFSET);
    assert_eq!(raw(&mut r, &[b"GETBIT", b"big", b"4294967296"]), BAD_OFFSET);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"big", b"GET", b"u8", b"4294967296"]), BAD_OFFSET);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"big", b"GET", b"u8", b"#536870912"]), BAD_OFFSET);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"big", b"GET", b"u8", b"#536870911"]), "*1\r\n:0\r\n");
}

#[test]
fn bit_offsets_follow_proto_max_bulk_len() {
    let s = TestServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let mut con = s.client();
    let mut r = s.raw();
    assert_eq!(q::<i64>(&mut con, "SETBIT", &[&"k", &8_388_607, &1]), 0);
    assert_eq!(q::<i64>(&mut con, "STRLEN", &[&"k"]), 1 << 20);
    assert_eq!(raw(&mut r, &[b"SETBIT", b"k", b"8388608", b"1"]), BAD_OFFSET);
    assert_eq!(raw(&mut r, &[b"GETBIT", b"k", b"8388608"]), BAD_OFFSET);
    assert_eq!(q::<i64>(&mut con, "BITCOUNT", &[&"k"]), 1);
    assert_eq!(q::<i64>(&mut con, "BITPOS", &[&"k", &1]), 8_388_607);
    // A BITFIELD write may end a few bytes past the limit, as in Redis: only its offset is checked.
    assert_eq!(q::<Vec<i64>>(&mut con, "BITFIELD", &[&"f", &"SET", &"i64", &8_388_607, &-1]), [0]);
    assert_eq!(q::<i64>(&mut con, "STRLEN", &[&"f"]), (1 << 20) + 8);
    assert_eq!(raw(&mut r, &[b"BITFIELD", b"f", b"SET", b"u8", b"#1048576", b"1"]), BAD_OFFSET);
}

#[test]
fn bitcount_ranges() {
    let s = TestServer::start();
    let mut con = s.client();
    set(&mut con, "s", b"foobar");
    let count = |con: &mut Connection, args: &[&str]| -> i64 {
        let mut c = redis::cmd("BITCOUNT");
        c.arg("s").arg(args);
        c.query(con).expect("BITCOUNT")
    };
    assert_eq!(count(&mut con, &[]), 26);
    assert_eq!(count(&mut con, &["0", "0"]), 4);
    assert_eq!(count(&mut con, &["1", "1"]), 6);
    assert_eq!(count(&mut con, &["1", "1", "BYTE"]), 6);
    assert_eq!(count(&mut con, &["1", "1", "byte"]), 6);
    assert_eq!(count(&mut con, &["5", "30", "BIT"]), 17);
    assert_eq!(count(&mut con, &["5", "30", "bit"]), 17);
    assert_eq!(count(&mut con, &["0", "-1"]), 26);
    assert_eq!(count(&mut con, &["-2", "-1"]), 7);
    assert_eq!(count(&mut con, &["-100", "100"]), 26);
    assert_eq!(count(&mut con, &["-1", "-2"]), 0);
    assert_eq!(count(&mut con, &["4", "2"]), 0);
    assert_eq!(count(&mut con, &["6", "10"]), 0);
    assert_eq!(count(&mut con, &["0", "-1", "BIT"]), 26);
    assert_eq!(count(&mut con, &["-1", "-1", "BIT"]), 0);
    assert_eq!(count(&mut con, &["-8", "-1", "BIT"]), 4);
    assert_eq!(count(&mut con, &["1", "1", "BIT"]), 1);
    assert_eq!(count(&mut con, &["2", "2", "BIT"]), 1);
    assert_eq!(count(&mut con, &["3", "3", "BIT"]), 0);
    assert_eq!(count(&mut con, &["47", "1000", "BIT"]), 0);
    assert_eq!(q::<i64>(&mut con, "BITCOUNT", &[&"missing"]), 0);
    assert_eq!(q::<i64>(&mut con, "BITCOUNT", &[&"missing", &0, &-1, &"BIT"]), 0);
    set(&mut con, "n", b"1234");
    assert_eq!(q::<i64>(&mut con, "BITCOUNT", &[&"n"]), 13);
    assert_eq!(q::<i64>(&mut con, "BITCOUNT", &[&"n", &1, &1]), 3);
    set(&mut con, "e", b"");
    assert_eq!(q::<i64>(&mut con, "BITCOUNT", &[&"e"]), 0);
    assert_eq!(q::<i64>(&mut con, "BITCOUNT", &[&"e", &0, &-1, &"BIT"]), 0);

    let mut r = s.raw();
    assert_eq!(raw(&mut r, &[b"BITCOUNT", b"s", b"0"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITCOUNT", b"s", b"0", b"1", b"WORD"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITCOUNT", b"s", b"0", b"1", b"BIT", b"x"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITCOUNT", b"s", b"x", b"1"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"BITCOUNT", b"s", b"0", b"x"]), NOT_INT);
    // Redis 7.2 answers 0 for a missing key before looking at the other arguments, and a
    // reversed negative range before looking at the unit.
    assert_eq!(raw(&mut r, &[b"BITCOUNT", b"missing", b"0"]), ":0\r\n");
    assert_eq!(raw(&mut r, &[b"BITCOUNT", b"missing", b"x", b"y", b"z"]), ":0\r\n");
    assert_eq!(raw(&mut r, &[b"BITCOUNT", b"s", b"-1", b"-2", b"WORD"]), ":0\r\n");
    assert_eq!(raw(&mut r, &[b"BITCOUNT"]), "-ERR wrong number of arguments for 'bitcount' command\r\n");
}

#[test]
fn bitpos_finds_first_bits() {
    let s = TestServer::start();
    let mut con = s.client();
    let pos = |con: &mut Connection, key: &str, args: &[&str]| -> i64 {
        let mut c = redis::cmd("BITPOS");
        c.arg(key).arg(args);
        c.query(con).expect("BITPOS")
    };
    set(&mut con, "a", b"\xff\xf0\x00");
    assert_eq!(pos(&mut con, "a", &["0"]), 12);
    set(&mut con, "b", b"\x00\xff\xf0");
    assert_eq!(pos(&mut con, "b", &["1", "0"]), 8);
    assert_eq!(pos(&mut con, "b", &["1", "2"]), 16);
    assert_eq!(pos(&mut con, "b", &["1", "2", "-1", "BYTE"]), 16);
    assert_eq!(pos(&mut con, "b", &["1", "7", "15", "BIT"]), 8);
    assert_eq!(pos(&mut con, "b", &["1", "7", "15", "bit"]), 8);
    assert_eq!(pos(&mut con, "b", &["1", "7", "-3", "BIT"]), 8);
    assert_eq!(pos(&mut con, "b", &["0", "8", "-1", "BIT"]), 20);
    assert_eq!(pos(&mut con, "b", &["1", "-1"]), 16);
    assert_eq!(pos(&mut con, "b", &["1", "1", "0"]), -1, "empty range");
    assert_eq!(pos(&mut con, "b", &["1", "100"]), -1);
    set(&mut con, "z", b"\x00\x00\x00");
    assert_eq!(pos(&mut con, "z", &["1"]), -1);
    assert_eq!(pos(&mut con, "z", &["0"]), 0);
    assert_eq!(pos(&mut con, "z", &["1", "7", "-3", "BIT"]), -1);
    // All ones: without an explicit end the first clear bit is the one past the string...
    set(&mut con, "f", b"\xff\xff\xff");
    assert_eq!(pos(&mut con, "f", &["0"]), 24);
    assert_eq!(pos(&mut con, "f", &["0", "1"]), 24);
    assert_eq!(pos(&mut con, "f", &["1"]), 0);
    // ...with one, there is none in the range.
    assert_eq!(pos(&mut con, "f", &["0", "0", "-1"]), -1);
    assert_eq!(pos(&mut con, "f", &["0", "1", "2", "BYTE"]), -1);
    assert_eq!(pos(&mut con, "f", &["0", "3", "20", "BIT"]), -1);
    // A missing key is all clear bits; an empty string has no bits at all.
    assert_eq!(pos(&mut con, "missing", &["0"]), 0);
    assert_eq!(pos(&mut con, "missing", &["1"]), -1);
    assert_eq!(pos(&mut con, "missing", &["0", "5", "10", "BIT"]), 0);
    set(&mut con, "e", b"");
    assert_eq!(pos(&mut con, "e", &["0"]), -1);
    assert_eq!(pos(&mut con, "e", &["1"]), -1);
    // Integer value: "0" is 0x30.
    set(&mut con, "n", b"0");
    assert_eq!(pos(&mut con, "n", &["1"]), 2);
    assert_eq!(pos(&mut con, "n", &["0", "2", "3", "BIT"]), -1);

    let mut r = s.raw();
    let bit_err = "-ERR The bit argument must be 1 or 0.\r\n";
    assert_eq!(raw(&mut r, &[b"BITPOS", b"b", b"2"]), bit_err);
    assert_eq!(raw(&mut r, &[b"BITPOS", b"missing", b"-1"]), bit_err);
    assert_eq!(raw(&mut r, &[b"BITPOS", b"b", b"x"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"BITPOS", b"b", b"1", b"x"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"BITPOS", b"b", b"1", b"0", b"x"]), NOT_INT);
    assert_eq!(raw(&mut r, &[b"BITPOS", b"b", b"1", b"0", b"1", b"WORD"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITPOS", b"b", b"1", b"0", b"x", b"WORD"]), SYNTAX, "unit before end");
    assert_eq!(raw(&mut r, &[b"BITPOS", b"b", b"1", b"0", b"1", b"BIT", b"x"]), SYNTAX);
    // A missing key answers before the range is parsed (Redis 7.2).
    assert_eq!(raw(&mut r, &[b"BITPOS", b"missing", b"1", b"x", b"y", b"z"]), ":-1\r\n");
    assert_eq!(raw(&mut r, &[b"BITPOS", b"b"]), "-ERR wrong number of arguments for 'bitpos' command\r\n");
}

#[test]
fn bitop_combines_and_stores() {
    let s = TestServer::start();
    let mut con = s.client();
    set(&mut con, "a", b"\xff\x0f\xaa");
    set(&mut con, "b", b"\x0f\xff");
    let op = |con: &mut Connection, args: &[&str]| -> i64 {
        let mut c = redis::cmd("BITOP");
        c.arg(args);
        c.query(con).expect("BITOP")
    };
    assert_eq!(op(&mut con, &["AND", "d", "a", "b"]), 3);
    assert_eq!(get(&mut con, "d").as_deref(), Some(&b"\x0f\x0f\x00"[..]));
    assert_eq!(op(&mut con, &["or", "d", "a", "b"]), 3);
    assert_eq!(get(&mut con, "d").as_deref(), Some(&b"\xff\xff\xaa"[..]));
    assert_eq!(op(&mut con, &["Xor", "d", "a", "b"]), 3);
    assert_eq!(get(&mut con, "d").as_deref(), Some(&b"\xf0\xf0\xaa"[..]));
    assert_eq!(op(&mut con, &["XOR", "d", "a", "a", "a"]), 3);
    assert_eq!(get(&mut con, "d").as_deref(), Some(&b"\xff\x0f\xaa"[..]));
    assert_eq!(op(&mut con, &["NOT", "d", "a"]), 3);
    assert_eq!(get(&mut con, "d").as_deref(), Some(&b"\x00\xf0\x55"[..]));
    // A missing source is an empty string: AND with it clears everything.
    assert_eq!(op(&mut con, &["AND", "d", "a", "missing"]), 3);
    assert_eq!(get(&mut con, "d").as_deref(), Some(&b"\0\0\0"[..]));
    assert_eq!(op(&mut con, &["OR", "d", "missing", "b"]), 2);
    assert_eq!(get(&mut con, "d").as_deref(), Some(&b"\x0f\xff"[..]));
    // The destination may be a source.
    assert_eq!(op(&mut con, &["OR", "b", "b", "a"]), 3);
    assert_eq!(get(&mut con, "b").as_deref(), Some(&b"\xff\xff\xaa"[..]));
    // Integer values take part as text.
    set(&mut con, "n", b"12");
    assert_eq!(op(&mut con, &["NOT", "d", "n"]), 2);
    assert_eq!(get(&mut con, "d").as_deref(), Some(&b"\xce\xcd"[..]));
    // An empty result deletes the destination.
    assert_eq!(op(&mut con, &["OR", "d", "missing", "missing2"]), 0);
    assert_eq!(get(&mut con, "d"), None);
    set(&mut con, "e", b"");
    set(&mut con, "d", b"old");
    assert_eq!(op(&mut con, &["NOT", "d", "e"]), 0);
    assert_eq!(get(&mut con, "d"), None);
    assert_eq!(op(&mut con, &["AND", "none", "missing"]), 0);
    assert_eq!(get(&mut con, "none"), None);
    // The result replaces the destination's TTL.
    let _: () = q(&mut con, "SET", &[&"t", &"x", &"PX", &200]);
    assert_eq!(op(&mut con, &["OR", "t", "a"]), 3);
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(get(&mut con, "t").as_deref(), Some(&b"\xff\x0f\xaa"[..]));

    let mut r = s.raw();
    assert_eq!(
        raw(&mut r, &[b"BITOP", b"NOT", b"d", b"a", b"b"]),
        "-ERR BITOP NOT must be called with a single source key.\r\n"
    );
    assert_eq!(raw(&mut r, &[b"BITOP", b"NAND", b"d", b"a"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITOP", b"", b"d", b"a"]), SYNTAX);
    assert_eq!(raw(&mut r, &[b"BITOP", b"AND", b"d"]), "-ERR wrong number of arguments for 'bitop' command\r\n");
}
