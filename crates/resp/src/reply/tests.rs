use super::*;

/// Runs `f` on a RESP2 and a RESP3 encoder; returns both outputs as text.
fn both(f: impl Fn(&mut Reply<'_>)) -> (String, String) {
    let mut two = Vec::new();
    f(&mut Reply::new(&mut two, false));
    let mut three = Vec::new();
    f(&mut Reply::new(&mut three, true));
    (String::from_utf8(two).unwrap(), String::from_utf8(three).unwrap())
}

fn same(f: impl Fn(&mut Reply<'_>), want: &str) {
    assert_eq!(both(f), (want.to_string(), want.to_string()));
}

fn differ(f: impl Fn(&mut Reply<'_>), resp2: &str, resp3: &str) {
    assert_eq!(both(f), (resp2.to_string(), resp3.to_string()));
}

#[test]
fn simple_types() {
    same(|r| r.ok(), "+OK\r\n");
    same(|r| r.simple(b"PONG"), "+PONG\r\n");
    same(|r| r.simple(b""), "+\r\n");
    same(|r| r.int(0), ":0\r\n");
    same(|r| r.int(-42), ":-42\r\n");
    same(|r| r.int(i64::MIN), ":-9223372036854775808\r\n");
    same(|r| r.int(i64::MAX), ":9223372036854775807\r\n");
}

#[test]
fn errors() {
    same(|r| r.error(b"ERR unknown command 'foo'"), "-ERR unknown command 'foo'\r\n");
    same(
        |r| r.error(b"WRONGTYPE Operation against a key holding the wrong kind of value"),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    // CR and LF would end the error line early: Redis sends spaces instead.
    same(|r| r.error(b"ERR a\r\nb\nc\rd"), "-ERR a  b c d\r\n");
}

#[test]
fn bulks() {
    same(|r| r.bulk(b"hello"), "$5\r\nhello\r\n");
    same(|r| r.bulk(b""), "$0\r\n\r\n");
    same(|r| r.bulk(b"a\r\nb"), "$4\r\na\r\nb\r\n");
    same(|r| r.bulk_int(1234), "$4\r\n1234\r\n");
    same(|r| r.bulk_int(-1), "$2\r\n-1\r\n");
    let mut out = Vec::new();
    Reply::new(&mut out, false).bulk(&[0xff, 0x00]);
    assert_eq!(out, b"$2\r\n\xff\x00\r\n");
}

#[test]
fn nulls() {
    differ(|r| r.null(), "$-1\r\n", "_\r\n");
    differ(|r| r.null_array(), "*-1\r\n", "_\r\n");
}

#[test]
fn aggregates() {
    same(|r| r.array(3), "*3\r\n");
    same(|r| r.array(0), "*0\r\n");
    same(|r| r.empty_array(), "*0\r\n");
    differ(|r| r.map(2), "*4\r\n", "%2\r\n");
    differ(|r| r.map(0), "*0\r\n", "%0\r\n");
    differ(|r| r.set(5), "*5\r\n", "~5\r\n");
    differ(|r| r.push(3), "*3\r\n", ">3\r\n");
}

#[test]
fn doubles() {
    differ(|r| r.double(1.5), "$3\r\n1.5\r\n", ",1.5\r\n");
    differ(|r| r.double(0.0), "$1\r\n0\r\n", ",0\r\n");
    differ(|r| r.double(-0.0), "$2\r\n-0\r\n", ",-0\r\n");
    differ(|r| r.double(f64::INFINITY), "$3\r\ninf\r\n", ",inf\r\n");
    differ(|r| r.double(f64::NEG_INFINITY), "$4\r\n-inf\r\n", ",-inf\r\n");
    differ(|r| r.double(f64::NAN), "$3\r\nnan\r\n", ",nan\r\n");
    differ(|r| r.double(1.7976931348623157e308), "$23\r\n1.7976931348623157e+308\r\n", ",1.7976931348623157e+308\r\n");
    // Appends after what is already in the buffer.
    let mut out = b"*2\r\n".to_vec();
    let mut r = Reply::new(&mut out, false);
    r.double(0.1);
    r.double(1e21);
    assert_eq!(out, b"*2\r\n$3\r\n0.1\r\n$5\r\n1e+21\r\n");
}

#[test]
fn booleans() {
    differ(|r| r.boolean(true), ":1\r\n", "#t\r\n");
    differ(|r| r.boolean(false), ":0\r\n", "#f\r\n");
}

#[test]
fn verbatim_strings() {
    differ(|r| r.verbatim(b"txt", b"Some string"), "$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n");
    differ(|r| r.verbatim(b"mkd", b""), "$0\r\n\r\n", "=4\r\nmkd:\r\n");
}

#[test]
fn big_numbers() {
    differ(
        |r| r.big_number(b"3492890328409238509324850943850943825024385"),
        "$43\r\n3492890328409238509324850943850943825024385\r\n",
        "(3492890328409238509324850943850943825024385\r\n",
    );
    differ(|r| r.big_number(b"-1"), "$2\r\n-1\r\n", "(-1\r\n");
}

#[test]
fn deferred_lengths() {
    same(
        |r| {
            let d = r.deferred();
            r.bulk(b"a");
            r.bulk(b"b");
            r.finish_array(d, 2);
        },
        "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    differ(
        |r| {
            let d = r.deferred();
            r.bulk(b"k");
            r.int(1);
            r.finish_map(d, 1);
        },
        "*2\r\n$1\r\nk\r\n:1\r\n",
        "%1\r\n$1\r\nk\r\n:1\r\n",
    );
    differ(
        |r| {
            let d = r.deferred();
            r.finish_set(d, 0);
        },
        "*0\r\n",
        "~0\r\n",
    );
    // Nested, innermost finished first; a large count; text written before.
    same(
        |r| {
            r.simple(b"x");
            let outer = r.deferred();
            let inner = r.deferred();
            for _ in 0..12 {
                r.int(7);
            }
            r.finish_array(inner, 12);
            r.bulk(b"z");
            r.finish_array(outer, 2);
        },
        &format!("+x\r\n*2\r\n*12\r\n{}$1\r\nz\r\n", ":7\r\n".repeat(12)),
    );
}

#[test]
fn encoder_appends_and_exposes_fields() {
    let mut out = b"+prefix\r\n".to_vec();
    let mut r = Reply::new(&mut out, true);
    assert!(r.resp3);
    r.resp3 = false;
    r.null();
    r.buf.extend_from_slice(b"+raw\r\n");
    assert_eq!(out, b"+prefix\r\n$-1\r\n+raw\r\n");
}
