//! Wire-level behaviour: pipelining, inline commands, protocol errors and limits, RESP3, and
//! the exact texts of unknown-command and arity errors.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{encode, RawConn, TestServer};

/// Sends `bytes` on a fresh connection and expects exactly `reply`, then the server closing
/// the connection.
fn expect_error_and_close(srv: &TestServer, bytes: &[u8], reply: &[u8]) {
    let mut c = srv.raw();
    c.send(bytes);
    let (got, closed) = c.read_to_close(3000);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(reply),
        "reply to {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
    );
    assert!(closed, "connection must be closed after {:?}", String::from_utf8_lossy(reply));
}

fn ping_ok(c: &mut RawConn) {
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
}

#[test]
fn pipeline_of_10000_commands_in_one_write() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let mut req = Vec::new();
    let mut expected = Vec::new();
    for i in 0..10_000 {
        if i % 2 == 0 {
            let v = format!("value-{i}");
            req.extend_from_slice(&encode(&[b"ECHO", v.as_bytes()]));
            expected.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
        } else {
            req.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
            expected.extend_from_slice(b"+PONG\r\n");
        }
    }
    // Write from another thread so a full socket buffer on either side cannot deadlock us.
    let mut w = c.s.try_clone().expect("clone");
    let writer = std::thread::spawn(move || w.write_all(&req).expect("write pipeline"));
    let got = c.read_exact_n(expected.len());
    writer.join().expect("writer");
    assert!(got == expected, "pipelined replies differ");
    // Nothing more than the 10,000 replies.
    assert_eq!(c.read_for(100), b"");
    ping_ok(&mut c);
}

#[test]
fn pipelined_mix_of_inline_and_multibulk() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.send(b"PING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\nECHO x\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(c.read_exact_n(7 + 9 + 7 + 7), b"+PONG\r\n$3\r\nabc\r\n$1\r\nx\r\n+PONG\r\n");
}

#[test]
fn inline_commands() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.send(b"PING\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    // A bare LF ends a line too.
    c.send(b"PING\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    c.send(b"ping hello\r\n");
    assert_eq!(c.read_reply(), b"$5\r\nhello\r\n");
    c.send(b"ECHO \"hello world\"\r\n");
    assert_eq!(c.read_reply(), b"$11\r\nhello world\r\n");
    c.send(b"ECHO 'single quoted'\r\n");
    assert_eq!(c.read_reply(), b"$13\r\nsingle quoted\r\n");
    // Escapes inside double quotes (\x hex, \n), none inside single quotes.
    c.send(b"ECHO \"a\\x41\\n\"\r\n");
    assert_eq!(c.read_reply(), b"$3\r\naA\n\r\n");
    c.send(b"ECHO 'a\\nb'\r\n");
    assert_eq!(c.read_reply(), b"$4\r\na\\nb\r\n");
    // Extra blanks between arguments are ignored.
    c.send(b"  ECHO    spaced   \r\n");
    assert_eq!(c.read_reply(), b"$6\r\nspaced\r\n");
    // Empty lines are skipped without a reply.
    c.send(b"\r\n\r\n   \r\nPING\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    // Empty multibulk requests are skipped too.
    c.send(b"*0\r\n*-1\r\nPING\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    // An inline request with an unknown command gets the usual error and the connection stays.
    c.send(b"FOO bar\r\n");
    assert_eq!(c.read_reply(), b"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n");
    ping_ok(&mut c);
}

#[test]
fn request_split_into_single_byte_writes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.s.set_nodelay(true).expect("nodelay");
    let mut req = encode(&[b"ECHO", b"split-into-bytes"]);
    req.extend_from_slice(b"ECHO \"inline too\"\r\n");
    req.extend_from_slice(&encode(&[b"PING"]));
    for (i, b) in req.iter().enumerate() {
        c.send(std::slice::from_ref(b));
        if i % 4 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert_eq!(c.read_reply(), b"$16\r\nsplit-into-bytes\r\n");
    assert_eq!(c.read_reply(), b"$10\r\ninline too\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
}

#[test]
fn large_bulk_argument_in_pieces() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let big = vec![b'z'; 300_000];
    let req = encode(&[b"ECHO", &big]);
    for chunk in req.chunks(7_001) {
        c.send(chunk);
    }
    let reply = c.read_reply();
    assert_eq!(&reply[..10], b"$300000\r\nz");
    assert_eq!(reply.len(), 9 + 300_000 + 2);
}

#[test]
fn protocol_errors_close_the_connection() {
    let srv = TestServer::start();
    // Another client connected the whole time keeps working.
    let mut other = srv.raw();
    ping_ok(&mut other);

    let cases: Vec<(Vec<u8>, &[u8])> = vec![
        (b"*abc\r\n".to_vec(), b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*3000000000\r\n".to_vec(), b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*+1\r\n".to_vec(), b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\nx\r\n".to_vec(), b"-ERR Protocol error: expected '$', got 'x'\r\n"),
        (b"*2\r\n$4\r\nECHO\r\n:1\r\n".to_vec(), b"-ERR Protocol error: expected '$', got ':'\r\n"),
        // A CR where the `$` should be is shown as a space (replies stay one line).
        (b"*1\r\n\r\n".to_vec(), b"-ERR Protocol error: expected '$', got ' '\r\n"),
        (b"*1\r\n$abc\r\n".to_vec(), b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$-1\r\n".to_vec(), b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$01\r\n".to_vec(), b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"ECHO \"unbalanced\r\n".to_vec(), b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        (b"ECHO 'x'y\r\n".to_vec(), b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        // More than 64 KiB without a line end (exactly one byte more, so that the server has
        // read everything when it closes and the close is a clean FIN, not a reset).
        (vec![b'a'; 64 * 1024 + 1], b"-ERR Protocol error: too big inline request\r\n"),
        ([b"*".as_slice(), &vec![b'1'; 64 * 1024]].concat(), b"-ERR Protocol error: too big mbulk count string\r\n"),
        (
            [b"*1\r\n$".as_slice(), &vec![b'1'; 64 * 1024]].concat(),
            b"-ERR Protocol error: too big bulk count string\r\n",
        ),
        // Commands before the bad one in the same packet still run.
        (b"PING\r\n*x\r\nPING\r\n".to_vec(), b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"),
    ];
    for (bytes, reply) in &cases {
        expect_error_and_close(&srv, bytes, reply);
        ping_ok(&mut other);
    }
    // The errors are counted in errorstats.
    let info = String::from_utf8(other.cmd(&[b"INFO", b"errorstats"])).expect("utf8");
    assert!(info.contains("errorstat_ERR:count="), "{info}");
}

#[test]
fn unauthenticated_limits() {
    let srv = TestServer::start_with(&["--requirepass", "x"]);
    // More than 10 arguments before AUTH: a protocol error.
    expect_error_and_close(&srv, b"*11\r\n", b"-ERR Protocol error: unauthenticated multibulk length\r\n");
    let many: Vec<&[u8]> = std::iter::once(&b"ECHO"[..]).chain(std::iter::repeat_n(&b"a"[..], 10)).collect();
    // A bulk longer than 16 KiB before AUTH: a protocol error (its header is enough).
    expect_error_and_close(
        &srv,
        b"*2\r\n$4\r\nAUTH\r\n$16385\r\n",
        b"-ERR Protocol error: unauthenticated bulk length\r\n",
    );
    // Ten arguments are fine at the protocol level: the command is refused with NOAUTH.
    let mut c = srv.raw();
    let ten: Vec<&[u8]> = std::iter::once(&b"ECHO"[..]).chain(std::iter::repeat_n(&b"a"[..], 9)).collect();
    assert_eq!(c.cmd(&ten), b"-ERR wrong number of arguments for 'echo' command\r\n");
    assert_eq!(c.cmd(&[b"ECHO", &[b'b'; 16384]]), b"-NOAUTH Authentication required.\r\n");
    // After AUTH the limits are gone.
    assert_eq!(c.cmd(&[b"AUTH", b"x"]), b"+OK\r\n");
    assert_eq!(c.cmd(&many), b"-ERR wrong number of arguments for 'echo' command\r\n");
    // AUTH and a long request pipelined in one packet: the limit is lifted for the second.
    let mut d = srv.raw();
    let mut req = encode(&[b"AUTH", b"x"]);
    req.extend_from_slice(&encode(&many));
    d.send(&req);
    assert_eq!(d.read_reply(), b"+OK\r\n");
    assert_eq!(d.read_reply(), b"-ERR wrong number of arguments for 'echo' command\r\n");
    let big = vec![b'c'; 20_000];
    let reply = c.cmd(&[b"ECHO", &big]);
    assert_eq!(reply.len(), 8 + 20_000 + 2);
}

#[test]
fn proto_max_bulk_len() {
    // Redis's minimum for proto-max-bulk-len is 1mb.
    let srv = TestServer::start_with(&["--proto-max-bulk-len", "1mb"]);
    let mut other = srv.raw();
    expect_error_and_close(&srv, b"*2\r\n$4\r\nECHO\r\n$1048577\r\n", b"-ERR Protocol error: invalid bulk length\r\n");
    ping_ok(&mut other);
    // Exactly the limit is accepted.
    let big = vec![b'q'; 1024 * 1024];
    let reply = other.cmd(&[b"ECHO", &big]);
    assert_eq!(reply.len(), 10 + 1024 * 1024 + 2);
    // CONFIG SET raises it at run time.
    assert_eq!(other.cmd(&[b"CONFIG", b"SET", b"proto-max-bulk-len", b"2mb"]), b"+OK\r\n");
    let mut c = srv.raw();
    c.send(b"*2\r\n$4\r\nECHO\r\n$1048577\r\n");
    c.send(&vec![b'r'; 1048577]);
    c.send(b"\r\n");
    let reply = c.read_reply();
    assert_eq!(reply.len(), 10 + 1048577 + 2);
}

#[test]
fn client_query_buffer_limit_closes_the_client() {
    let srv = TestServer::start_with(&["--client-query-buffer-limit", "1mb"]);
    let mut other = srv.raw();
    ping_ok(&mut other);
    let mut c = srv.raw();
    // Announce a 3 MB bulk and send 2 MB of it: the query buffer passes 1 MB.
    let _ = c.s.write_all(b"*2\r\n$4\r\nECHO\r\n$3000000\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..32 {
        if c.s.write_all(&chunk).is_err() {
            break; // the server already closed it
        }
    }
    let (got, closed) = c.read_to_close(3000);
    assert!(closed, "client over the query buffer limit must be closed");
    assert_eq!(got, b"", "no reply is sent");
    ping_ok(&mut other);
    // A big pipeline that is consumed as it arrives is not limited.
    let mut p = srv.raw();
    let mut req = Vec::new();
    for _ in 0..40_000 {
        req.extend_from_slice(b"*2\r\n$4\r\nECHO\r\n$40\r\n0123456789012345678901234567890123456789\r\n");
    }
    let mut w = p.s.try_clone().expect("clone");
    let writer = std::thread::spawn(move || w.write_all(&req).is_ok());
    let got = p.read_exact_n(40_000 * 47);
    assert!(writer.join().expect("writer"));
    assert_eq!(&got[..47], b"$40\r\n0123456789012345678901234567890123456789\r\n");
}

#[test]
fn resp3_via_hello() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let id = c.cmd(&[b"CLIENT", b"ID"]);
    let id = std::str::from_utf8(&id[1..id.len() - 2]).expect("utf8").to_string();
    let hello = c.cmd(&[b"HELLO", b"3"]);
    let head = format!(
        "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.2.4\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    );
    assert_eq!(hello[0], b'%', "{}", String::from_utf8_lossy(&hello));
    let text = String::from_utf8_lossy(&hello).into_owned();
    let body = &text[text.find("\r\n").unwrap() + 2..];
    assert!(body.starts_with(&head), "{text}");
    assert!(text.contains("$14\r\nlarder_version\r\n"), "{text}");
    // Nulls are `_`.
    assert_eq!(c.cmd(&[b"CLIENT", b"GETNAME"]), b"_\r\n");
    // CONFIG GET is a map.
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"maxclients"]), b"%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
    // INFO and CLIENT INFO are verbatim strings.
    let info = c.cmd(&[b"INFO", b"server"]);
    let info = String::from_utf8_lossy(&info).into_owned();
    assert!(info.starts_with('='), "{info}");
    assert!(info.contains("\r\ntxt:# Server\r\n"), "{info}");
    let ci = c.cmd(&[b"CLIENT", b"INFO"]);
    let ci = String::from_utf8_lossy(&ci).into_owned();
    assert!(ci.starts_with('=') && ci.contains("\r\ntxt:id=") && ci.contains(" resp=3 "), "{ci}");
    // Errors are the same.
    assert_eq!(c.cmd(&[b"GET"]), b"-ERR wrong number of arguments for 'get' command\r\n");
    // HELLO with no version answers without switching.
    let again = c.cmd(&[b"HELLO"]);
    assert!(again.starts_with(b"%") && String::from_utf8_lossy(&again).contains("$5\r\nproto\r\n:3\r\n"));
    // Back to RESP2: a flat array, and nulls are `$-1`.
    let two = c.cmd(&[b"HELLO", b"2"]);
    assert!(two.starts_with(b"*16\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), "{}", String::from_utf8_lossy(&two));
    assert!(String::from_utf8_lossy(&two).contains("$5\r\nproto\r\n:2\r\n"));
    assert_eq!(c.cmd(&[b"CLIENT", b"GETNAME"]), b"$-1\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"maxclients"]), b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
    let info = c.cmd(&[b"INFO", b"server"]);
    assert!(info.starts_with(b"$") && String::from_utf8_lossy(&info).contains("\r\n# Server\r\n"));
}

#[test]
fn resp3_with_redis_crate() {
    let srv = TestServer::start();
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", srv.port)).expect("client");
    let mut con = client.get_connection().expect("connect");
    let pong: String = redis::cmd("PING").query(&mut con).expect("ping");
    assert_eq!(pong, "PONG");
    let v: redis::Value = redis::cmd("CONFIG").arg("GET").arg("databases").query(&mut con).expect("config get");
    match v {
        redis::Value::Map(pairs) => {
            assert_eq!(pairs.len(), 1);
            assert_eq!(pairs[0].1, redis::Value::BulkString(b"16".to_vec()));
        }
        other => panic!("expected a map, got {other:?}"),
    }
    let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).expect("getname");
    assert_eq!(name, None);
    // Every kind of reply these commands send parses as well-formed RESP3.
    for args in [
        &["COMMAND"][..],
        &["COMMAND", "INFO", "get", "nosuch", "config|get"],
        &["COMMAND", "DOCS"],
        &["COMMAND", "GETKEYSANDFLAGS", "MSET", "a", "1"],
        &["INFO", "everything"],
        &["CLIENT", "LIST"],
        &["CLIENT", "INFO"],
        &["SLOWLOG", "GET"],
        &["TIME"],
        &["HELLO"],
        &["CONFIG", "GET", "*"],
        &["CONFIG", "HELP"],
    ] {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let v: redis::Value = cmd.query(&mut con).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(!matches!(v, redis::Value::ServerError(_)), "{args:?}: {v:?}");
    }
    let info: redis::Value = redis::cmd("INFO").arg("server").query(&mut con).expect("info");
    assert!(matches!(info, redis::Value::VerbatimString { .. }), "{info:?}");
}

#[test]
fn many_clients_in_parallel() {
    let srv = TestServer::start();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let mut c = srv.raw();
            std::thread::spawn(move || {
                let mut req = Vec::new();
                let mut expected = Vec::new();
                for i in 0..500 {
                    let v = format!("t{t}-{i}");
                    req.extend_from_slice(&encode(&[b"ECHO", v.as_bytes()]));
                    expected.extend_from_slice(format!("${}\r\n{v}\r\n", v.len()).as_bytes());
                }
                c.send(&req);
                let got = c.read_exact_n(expected.len());
                assert!(got == expected, "client {t} got other replies");
                let id = c.cmd(&[b"CLIENT", b"ID"]);
                String::from_utf8(id).unwrap()
            })
        })
        .collect();
    let mut ids: Vec<String> = threads.into_iter().map(|h| h.join().expect("client thread")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16, "client ids are unique");
}

#[test]
fn slow_reader_does_not_stall_others() {
    // One worker thread, so both connections share an event loop.
    let srv = TestServer::start_with(&["--io-threads", "1"]);
    let mut slow = srv.raw();
    let mut fast = srv.raw();
    let value = vec![b'v'; 10_000];
    let one = encode(&[b"ECHO", &value]);
    let mut req = Vec::new();
    for _ in 0..2000 {
        req.extend_from_slice(&one);
    }
    // About 20 MB of replies that nobody reads for now.
    slow.send(&req);
    std::thread::sleep(Duration::from_millis(200));
    let t = std::time::Instant::now();
    assert_eq!(fast.cmd(&[b"PING"]), b"+PONG\r\n");
    assert!(t.elapsed() < Duration::from_secs(2), "PING waited {:?}", t.elapsed());
    let list = String::from_utf8(fast.cmd(&[b"CLIENT", b"LIST"])).unwrap();
    assert!(list.contains(" obl="), "{list}");
    // The slow client still gets every reply once it reads.
    let per = 8 + 10_000 + 2;
    let got = slow.read_exact_n(per * 2000);
    assert_eq!(&got[..8], b"$10000\r\n");
    assert_eq!(&got[got.len() - per..got.len() - per + 8], b"$10000\r\n");
}

#[test]
fn unknown_command_and_arity_texts() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"foo", b"a", b"b"]), b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
    assert_eq!(c.cmd(&[b"foo"]), b"-ERR unknown command 'foo', with args beginning with: \r\n");
    assert_eq!(c.cmd(&[b"FOO", b"x"]), b"-ERR unknown command 'FOO', with args beginning with: 'x' \r\n");
    // Newlines in the echoed arguments become spaces.
    assert_eq!(c.cmd(&[b"foo", b"a\r\nb"]), b"-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n");
    // The argument list stops at 128 bytes.
    let long = vec![b'x'; 200];
    let expected = format!("-ERR unknown command 'foo', with args beginning with: '{}' \r\n", "x".repeat(128));
    assert_eq!(String::from_utf8(c.cmd(&[b"foo", &long, b"next"])).unwrap(), expected);
    let a100 = vec![b'a'; 100];
    let expected = format!(
        "-ERR unknown command 'foo', with args beginning with: '{}' '{}' \r\n",
        "a".repeat(100),
        "b".repeat(25)
    );
    assert_eq!(String::from_utf8(c.cmd(&[b"foo", &a100, &[b'b'; 50], b"c"])).unwrap(), expected);
    assert_eq!(c.cmd(&[b"GET"]), b"-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(c.cmd(&[b"get", b"a", b"b"]), b"-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(c.cmd(&[b"ECHO"]), b"-ERR wrong number of arguments for 'echo' command\r\n");
    assert_eq!(c.cmd(&[b"PING", b"a", b"b"]), b"-ERR wrong number of arguments for 'ping' command\r\n");
    // Containers.
    assert_eq!(c.cmd(&[b"CONFIG", b"x"]), b"-ERR unknown subcommand 'x'. Try CONFIG HELP.\r\n");
    assert_eq!(c.cmd(&[b"config", b"x"]), b"-ERR unknown subcommand 'x'. Try CONFIG HELP.\r\n");
    assert_eq!(c.cmd(&[b"client", b"nope", b"1"]), b"-ERR unknown subcommand 'nope'. Try CLIENT HELP.\r\n");
    assert_eq!(c.cmd(&[b"SLOWLOG", b"x"]), b"-ERR unknown subcommand 'x'. Try SLOWLOG HELP.\r\n");
    assert_eq!(c.cmd(&[b"COMMAND", b"x"]), b"-ERR unknown subcommand 'x'. Try COMMAND HELP.\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"GET"]), b"-ERR wrong number of arguments for 'config|get' command\r\n");
    assert_eq!(
        c.cmd(&[b"CONFIG", b"SET", b"maxmemory"]),
        b"-ERR wrong number of arguments for 'config|set' command\r\n"
    );
    assert_eq!(c.cmd(&[b"CONFIG"]), b"-ERR wrong number of arguments for 'config' command\r\n");
    assert_eq!(c.cmd(&[b"CLIENT"]), b"-ERR wrong number of arguments for 'client' command\r\n");
    assert_eq!(c.cmd(&[b"CLIENT", b"ID", b"extra"]), b"-ERR wrong number of arguments for 'client|id' command\r\n");
    // HELP of a container works.
    let help = c.cmd(&[b"CONFIG", b"HELP"]);
    assert!(help.starts_with(b"*"), "{}", String::from_utf8_lossy(&help));
    // Errors leave the connection usable and are counted.
    ping_ok(&mut c);
    let stats = String::from_utf8(c.cmd(&[b"INFO", b"commandstats"])).unwrap();
    let get = stats.lines().find(|l| l.starts_with("cmdstat_get:")).unwrap_or_else(|| panic!("{stats}"));
    assert!(get.starts_with("cmdstat_get:calls=0,") && get.contains(",rejected_calls=2,failed_calls=0"), "{get}");
}

#[test]
fn unknown_command_checked_before_auth() {
    let srv = TestServer::start_with(&["--requirepass", "pw"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"foo"]), b"-ERR unknown command 'foo', with args beginning with: \r\n");
    assert_eq!(c.cmd(&[b"GET"]), b"-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(c.cmd(&[b"PING"]), b"-NOAUTH Authentication required.\r\n");
}
