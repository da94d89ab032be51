//! Connection commands (PING, ECHO, SELECT, QUIT, RESET, AUTH, HELLO) and CLIENT.

mod common;

use std::time::{Duration, Instant};

use common::{RawConn, TestServer};

const WRONGPASS: &[u8] = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";
const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";
const HELLO_NOAUTH: &[u8] = b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n";

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).expect("utf8 reply")
}

/// The value of `field=` in a CLIENT INFO / CLIENT LIST line.
fn field(line: &str, name: &str) -> String {
    let key = format!("{name}=");
    line.split([' ', '\n'])
        .find_map(|f| f.strip_prefix(key.as_str()))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        .to_string()
}

fn client_info(c: &mut RawConn) -> String {
    let r = text(c.cmd(&[b"CLIENT", b"INFO"]));
    // A bulk string: `$len\r\n<line>\n\r\n`.
    r[r.find("\r\n").unwrap() + 2..r.len() - 2].to_string()
}

fn client_id(c: &mut RawConn) -> u64 {
    let r = text(c.cmd(&[b"CLIENT", b"ID"]));
    r[1..r.len() - 2].parse().expect("id")
}

/// Waits (bounded) until `f` holds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn ping_and_echo() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&[b"ping", b"hello"]), b"$5\r\nhello\r\n");
    assert_eq!(c.cmd(&[b"PING", b""]), b"$0\r\n\r\n");
    assert_eq!(c.cmd(&[b"PING", b"a", b"b"]), b"-ERR wrong number of arguments for 'ping' command\r\n");
    assert_eq!(c.cmd(&[b"ECHO", b"bin\x00\r\nary"]), b"$9\r\nbin\x00\r\nary\r\n");
    assert_eq!(c.cmd(&[b"ECHO"]), b"-ERR wrong number of arguments for 'echo' command\r\n");
    assert_eq!(c.cmd(&[b"ECHO", b"a", b"b"]), b"-ERR wrong number of arguments for 'echo' command\r\n");
    let mut con = srv.client();
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let echoed: Vec<u8> = redis::cmd("ECHO").arg(&b"\xff\x00x"[..]).query(&mut con).unwrap();
    assert_eq!(echoed, b"\xff\x00x");
}

#[test]
fn select_ranges() {
    let srv = TestServer::start_with(&["--databases", "4"]);
    let mut c = srv.raw();
    for db in [b"0", b"1", b"2", b"3"] {
        assert_eq!(c.cmd(&[b"SELECT", db]), b"+OK\r\n");
    }
    assert_eq!(field(&client_info(&mut c), "db"), "3");
    assert_eq!(c.cmd(&[b"SELECT", b"4"]), b"-ERR DB index is out of range\r\n");
    assert_eq!(c.cmd(&[b"SELECT", b"-1"]), b"-ERR DB index is out of range\r\n");
    assert_eq!(c.cmd(&[b"SELECT", b"abc"]), b"-ERR value is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&[b"SELECT", b"1.5"]), b"-ERR value is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&[b"SELECT"]), b"-ERR wrong number of arguments for 'select' command\r\n");
    // A failed SELECT leaves the database unchanged.
    assert_eq!(field(&client_info(&mut c), "db"), "3");
    let srv16 = TestServer::start();
    let mut d = srv16.raw();
    assert_eq!(d.cmd(&[b"SELECT", b"15"]), b"+OK\r\n");
    assert_eq!(d.cmd(&[b"SELECT", b"16"]), b"-ERR DB index is out of range\r\n");
}

#[test]
fn quit_replies_then_closes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    // Commands pipelined after QUIT are not run.
    c.send(b"PING\r\nQUIT\r\nPING\r\n");
    let (got, closed) = c.read_to_close(3000);
    assert_eq!(got, b"+PONG\r\n+OK\r\n");
    assert!(closed);
    let mut d = srv.raw();
    assert_eq!(d.cmd(&[b"QUIT"]), b"+OK\r\n");
    assert!(d.read_to_close(3000).1);
    // QUIT needs no authentication.
    let auth = TestServer::start_with(&["--requirepass", "pw"]);
    let mut e = auth.raw();
    assert_eq!(e.cmd(&[b"QUIT"]), b"+OK\r\n");
    assert!(e.read_to_close(3000).1);
}

#[test]
fn reset_restores_a_new_connection_state() {
    let srv = TestServer::start_with(&["--requirepass", "pw"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"RESET"]), b"+RESET\r\n");
    assert_eq!(c.cmd(&[b"AUTH", b"pw"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SELECT", b"5"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"CLIENT", b"SETNAME", b"before"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"CLIENT", b"NO-EVICT", b"on"]), b"+OK\r\n");
    let hello = c.cmd(&[b"HELLO", b"3"]);
    assert!(hello.starts_with(b"%"));
    let id = client_id(&mut c);
    assert_eq!(c.cmd(&[b"RESET"]), b"+RESET\r\n");
    // Authentication is dropped again.
    assert_eq!(c.cmd(&[b"CLIENT", b"GETNAME"]), NOAUTH);
    assert_eq!(c.cmd(&[b"AUTH", b"pw"]), b"+OK\r\n");
    // RESP2 again, no name, database 0, same id, flags cleared.
    assert_eq!(c.cmd(&[b"CLIENT", b"GETNAME"]), b"$-1\r\n");
    let info = client_info(&mut c);
    assert_eq!(field(&info, "db"), "0");
    assert_eq!(field(&info, "resp"), "2");
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "id"), id.to_string());
    assert_eq!(c.cmd(&[b"RESET", b"x"]), b"-ERR wrong number of arguments for 'reset' command\r\n");
    // RESET also turns CLIENT REPLY back on.
    c.send(b"CLIENT REPLY OFF\r\nPING\r\nRESET\r\nPING\r\n");
    assert_eq!(c.read_reply(), b"+RESET\r\n");
    assert_eq!(c.read_reply(), NOAUTH);
}

#[test]
fn auth_with_requirepass() {
    let srv = TestServer::start_with(&["--requirepass", "secret"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"PING"]), NOAUTH);
    assert_eq!(c.cmd(&[b"ECHO", b"x"]), NOAUTH);
    assert_eq!(c.cmd(&[b"CLIENT", b"ID"]), NOAUTH);
    assert_eq!(c.cmd(&[b"AUTH", b"wrong"]), WRONGPASS);
    assert_eq!(c.cmd(&[b"AUTH", b"default", b"wrong"]), WRONGPASS);
    assert_eq!(c.cmd(&[b"AUTH", b"someone", b"secret"]), WRONGPASS);
    assert_eq!(c.cmd(&[b"AUTH", b"a", b"b", b"c"]), b"-ERR syntax error\r\n");
    assert_eq!(c.cmd(&[b"AUTH"]), b"-ERR wrong number of arguments for 'auth' command\r\n");
    assert_eq!(c.cmd(&[b"PING"]), NOAUTH);
    assert_eq!(c.cmd(&[b"AUTH", b"secret"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    // A failed AUTH after a successful one keeps the connection authenticated (as Redis).
    assert_eq!(c.cmd(&[b"AUTH", b"wrong"]), WRONGPASS);
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    let mut d = srv.raw();
    assert_eq!(d.cmd(&[b"AUTH", b"default", b"secret"]), b"+OK\r\n");
    assert_eq!(d.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(d.cmd(&[b"AUTH", b"DEFAULT", b"secret"]), WRONGPASS, "user names are case-sensitive");
    // The redis crate with a password in the URL.
    let client = redis::Client::open(format!("redis://:secret@127.0.0.1:{}/", srv.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
    let bad = redis::Client::open(format!("redis://:nope@127.0.0.1:{}/", srv.port)).unwrap();
    assert!(bad.get_connection().is_err());
    // Errors are counted by code.
    let info = text(d.cmd(&[b"INFO", b"errorstats"]));
    assert!(info.contains("errorstat_NOAUTH:count="), "{info}");
    assert!(info.contains("errorstat_WRONGPASS:count="), "{info}");
}

#[test]
fn auth_without_requirepass() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(
        c.cmd(&[b"AUTH", b"pw"]),
        b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
    // The default user has no password: any password is accepted with the user name form.
    assert_eq!(c.cmd(&[b"AUTH", b"default", b"anything"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"AUTH", b"other", b"anything"]), WRONGPASS);
}

#[test]
fn requirepass_set_at_run_time() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CONFIG", b"SET", b"requirepass", b"rt"]), b"+OK\r\n");
    // The connection that set it stays authenticated; a new one is not.
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    let mut d = srv.raw();
    assert_eq!(d.cmd(&[b"PING"]), NOAUTH);
    assert_eq!(d.cmd(&[b"AUTH", b"rt"]), b"+OK\r\n");
    assert_eq!(d.cmd(&[b"CONFIG", b"SET", b"requirepass", b""]), b"+OK\r\n");
    let mut e = srv.raw();
    assert_eq!(e.cmd(&[b"PING"]), b"+PONG\r\n");
}

#[test]
fn hello_negotiation_and_errors() {
    let srv = TestServer::start_with(&["--requirepass", "pw"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"HELLO", b"4"]), b"-NOPROTO unsupported protocol version\r\n");
    assert_eq!(c.cmd(&[b"HELLO", b"1"]), b"-NOPROTO unsupported protocol version\r\n");
    assert_eq!(c.cmd(&[b"HELLO", b"abc"]), b"-ERR Protocol version is not an integer or out of range\r\n");
    assert_eq!(c.cmd(&[b"HELLO", b"3"]), HELLO_NOAUTH);
    assert_eq!(c.cmd(&[b"HELLO"]), HELLO_NOAUTH);
    assert_eq!(c.cmd(&[b"HELLO", b"3", b"AUTH", b"default", b"bad"]), WRONGPASS);
    assert_eq!(c.cmd(&[b"HELLO", b"3", b"AUTH", b"default"]), b"-ERR Syntax error in HELLO option 'AUTH'\r\n");
    assert_eq!(c.cmd(&[b"HELLO", b"3", b"FOO"]), b"-ERR Syntax error in HELLO option 'FOO'\r\n");
    assert_eq!(c.cmd(&[b"HELLO", b"3", b"SETNAME"]), b"-ERR Syntax error in HELLO option 'SETNAME'\r\n");
    // The name is checked while the options are read, before authentication.
    assert_eq!(
        c.cmd(&[b"HELLO", b"3", b"SETNAME", b"a b"]),
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    // Still RESP2 and unauthenticated after all those failures.
    assert_eq!(c.cmd(&[b"PING"]), NOAUTH);
    let hello = text(c.cmd(&[b"HELLO", b"3", b"AUTH", b"default", b"pw", b"SETNAME", b"myname"]));
    assert!(hello.starts_with("%8\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), "{hello}");
    assert!(hello.contains("$5\r\nproto\r\n:3\r\n"), "{hello}");
    assert_eq!(c.cmd(&[b"CLIENT", b"GETNAME"]), b"$6\r\nmyname\r\n");
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    // Lower-case options, protocol 2, SETNAME before AUTH.
    let mut d = srv.raw();
    let hello = text(d.cmd(&[b"hello", b"2", b"setname", b"n2", b"auth", b"default", b"pw"]));
    assert!(hello.starts_with("*16\r\n"), "{hello}");
    assert!(hello.contains("$5\r\nproto\r\n:2\r\n"), "{hello}");
    assert_eq!(d.cmd(&[b"CLIENT", b"GETNAME"]), b"$2\r\nn2\r\n");
    let id = client_id(&mut d);
    assert!(hello.contains(&format!("$2\r\nid\r\n:{id}\r\n")), "{hello}");
    assert!(hello.contains("$7\r\nversion\r\n$5\r\n7.2.4\r\n"), "{hello}");
}

#[test]
fn hello_without_requirepass() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    let hello = text(c.cmd(&[b"HELLO"]));
    assert!(hello.starts_with("*16\r\n") && hello.contains("$5\r\nproto\r\n:2\r\n"), "{hello}");
    // Any password for the default user.
    let hello = text(c.cmd(&[b"HELLO", b"3", b"AUTH", b"default", b"whatever"]));
    assert!(hello.starts_with("%8\r\n"), "{hello}");
    assert!(
        hello.contains("$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"),
        "{hello}"
    );
    assert!(hello.contains("$14\r\nlarder_version\r\n"), "{hello}");
}

#[test]
fn client_id_setname_getname() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    let mut b = srv.raw();
    let ida = client_id(&mut a);
    let idb = client_id(&mut b);
    assert!(idb > ida, "ids increase");
    assert_eq!(a.cmd(&[b"CLIENT", b"GETNAME"]), b"$-1\r\n");
    assert_eq!(a.cmd(&[b"CLIENT", b"SETNAME", b"alpha"]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"client", b"getname"]), b"$5\r\nalpha\r\n");
    for bad in [&b"a b"[..], b"a\nb", b"caf\xc3\xa9"] {
        assert_eq!(
            a.cmd(&[b"CLIENT", b"SETNAME", bad]),
            b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
    }
    assert_eq!(a.cmd(&[b"CLIENT", b"GETNAME"]), b"$5\r\nalpha\r\n");
    assert_eq!(a.cmd(&[b"CLIENT", b"SETNAME", b""]), b"+OK\r\n");
    assert_eq!(a.cmd(&[b"CLIENT", b"GETNAME"]), b"$-1\r\n");
    assert_eq!(a.cmd(&[b"CLIENT", b"SETNAME"]), b"-ERR wrong number of arguments for 'client|setname' command\r\n");
}

#[test]
fn client_list_and_info() {
    let srv = TestServer::start();
    let mut a = srv.raw();
    let mut b = srv.raw();
    assert_eq!(a.cmd(&[b"CLIENT", b"SETNAME", b"lister"]), b"+OK\r\n");
    assert_eq!(b.cmd(&[b"CLIENT", b"SETNAME", b"other"]), b"+OK\r\n");
    assert_eq!(b.cmd(&[b"ECHO", b"x"]), b"$1\r\nx\r\n");
    let ida = client_id(&mut a);
    let idb = client_id(&mut b);
    let list = text(a.cmd(&[b"CLIENT", b"LIST"]));
    assert!(list.starts_with('$'), "a bulk string in RESP2");
    let body = &list[list.find("\r\n").unwrap() + 2..list.len() - 2];
    let lines: Vec<&str> = body.split_terminator('\n').collect();
    assert!(body.ends_with('\n'));
    let mine = lines.iter().find(|l| l.starts_with(&format!("id={ida} "))).expect("own line");
    let theirs = lines.iter().find(|l| l.starts_with(&format!("id={idb} "))).expect("other line");
    assert_eq!(field(mine, "name"), "lister");
    assert_eq!(field(mine, "cmd"), "client|list");
    assert_eq!(field(mine, "addr"), a.local_addr());
    assert_eq!(field(theirs, "name"), "other");
    assert_eq!(field(theirs, "cmd"), "client|id");
    assert_eq!(field(theirs, "addr"), b.local_addr());
    // Field order as Redis 7.2.
    let names: Vec<&str> = mine.split(' ').map(|f| f.split('=').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp",
            "lib-name",
            "lib-ver"
        ]
    );
    assert_eq!(field(mine, "laddr"), format!("127.0.0.1:{}", srv.port));
    assert_eq!(field(mine, "user"), "default");
    // Filters.
    let only = text(a.cmd(&[b"CLIENT", b"LIST", b"ID", idb.to_string().as_bytes()]));
    assert!(only.contains(&format!("id={idb} ")) && !only.contains(&format!("id={ida} ")), "{only}");
    let two = text(a.cmd(&[b"CLIENT", b"LIST", b"ID", idb.to_string().as_bytes(), ida.to_string().as_bytes()]));
    assert_eq!(two.matches("id=").count(), 2, "{two}");
    let normal = text(a.cmd(&[b"CLIENT", b"LIST", b"TYPE", b"normal"]));
    assert!(normal.contains(&format!("id={ida} ")), "{normal}");
    assert_eq!(a.cmd(&[b"CLIENT", b"LIST", b"TYPE", b"pubsub"]), b"$0\r\n\r\n");
    assert_eq!(a.cmd(&[b"CLIENT", b"LIST", b"TYPE", b"bogus"]), b"-ERR Unknown client type 'bogus'\r\n");
    assert_eq!(a.cmd(&[b"CLIENT", b"LIST", b"ID", b"abc"]), b"-ERR Invalid client ID\r\n");
    assert_eq!(a.cmd(&[b"CLIENT", b"LIST", b"FOO"]), b"-ERR syntax error\r\n");
    // CLIENT INFO describes this connection only.
    let info = client_info(&mut a);
    assert!(info.starts_with(&format!("id={ida} addr=")), "{info}");
    assert!(info.ends_with('\n') && info.matches('\n').count() == 1, "{info:?}");
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "resp"), "2");
    assert_eq!(field(&info, "db"), "0");
    assert_eq!(field(&info, "name"), "lister");
    // A closed connection leaves the list.
    drop(b);
    eventually("closed client to leave CLIENT LIST", || {
        !text(a.cmd(&[b"CLIENT", b"LIST"])).contains(&format!("id={idb} "))
    });
}

#[test]
fn client_kill_closes_other_connections() {
    let srv = TestServer::start();
    let mut killer = srv.raw();
    // Old form: CLIENT KILL ip:port.
    let mut victim = srv.raw();
    assert_eq!(victim.cmd(&[b"PING"]), b"+PONG\r\n");
    let addr = victim.local_addr();
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", addr.as_bytes()]), b"+OK\r\n");
    let (got, closed) = victim.read_to_close(3000);
    assert!(closed && got.is_empty(), "victim must be closed");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", addr.as_bytes()]), b"-ERR No such client\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"1.2.3.4:5"]), b"-ERR No such client\r\n");
    // New form by ID.
    let mut v2 = srv.raw();
    let id2 = client_id(&mut v2);
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ID", id2.to_string().as_bytes()]), b":1\r\n");
    assert!(v2.read_to_close(3000).1, "killed by id");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ID", id2.to_string().as_bytes()]), b":0\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ID", b"0"]), b"-ERR client-id should be greater than 0\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ID", b"x"]), b"-ERR client-id should be greater than 0\r\n");
    // New form by ADDR, and SKIPME.
    let mut v3 = srv.raw();
    assert_eq!(v3.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ADDR", v3.local_addr().as_bytes(), b"SKIPME", b"yes"]), b":1\r\n");
    assert!(v3.read_to_close(3000).1, "killed by addr");
    let myid = client_id(&mut killer);
    assert_eq!(
        killer.cmd(&[b"CLIENT", b"KILL", b"ID", myid.to_string().as_bytes()]),
        b":0\r\n",
        "skipme defaults to yes"
    );
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ID", b"1", b"SKIPME", b"maybe"]), b"-ERR syntax error\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ID", b"1", b"FOO", b"bar"]), b"-ERR syntax error\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ID", b"1", b"SKIPME"]), b"-ERR syntax error\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"TYPE", b"bogus"]), b"-ERR Unknown client type 'bogus'\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"USER", b"nobody"]), b"-ERR No such user 'nobody'\r\n");
    // USER default kills every other connection; the caller survives (SKIPME yes).
    let mut v4 = srv.raw();
    let mut v5 = srv.raw();
    assert_eq!(v4.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(v5.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"USER", b"default"]), b":2\r\n");
    assert!(v4.read_to_close(3000).1 && v5.read_to_close(3000).1);
    assert_eq!(killer.cmd(&[b"PING"]), b"+PONG\r\n");
    // Killing yourself: the reply arrives, then the connection closes.
    assert_eq!(killer.cmd(&[b"CLIENT", b"KILL", b"ID", myid.to_string().as_bytes(), b"SKIPME", b"no"]), b":1\r\n");
    assert!(killer.read_to_close(3000).1);
    // Old form on yourself too.
    let mut self_old = srv.raw();
    let a = self_old.local_addr();
    assert_eq!(self_old.cmd(&[b"CLIENT", b"KILL", a.as_bytes()]), b"+OK\r\n");
    assert!(self_old.read_to_close(3000).1);
}

#[test]
fn client_setinfo() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CLIENT", b"SETINFO", b"lib-name", b"redis-py"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"CLIENT", b"SETINFO", b"LIB-VER", b"5.0.1"]), b"+OK\r\n");
    let info = client_info(&mut c);
    assert_eq!(field(&info, "lib-name"), "redis-py");
    assert_eq!(field(&info, "lib-ver"), "5.0.1");
    assert_eq!(c.cmd(&[b"CLIENT", b"SETINFO", b"badger", b"hamster"]), b"-ERR Unrecognized option 'badger'\r\n");
    // The attribute is checked before the value, and named as the client wrote it.
    assert_eq!(c.cmd(&[b"CLIENT", b"SETINFO", b"badger", b"a b"]), b"-ERR Unrecognized option 'badger'\r\n");
    assert_eq!(
        c.cmd(&[b"CLIENT", b"SETINFO", b"lib-name", b"redis py"]),
        b"-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        c.cmd(&[b"CLIENT", b"SETINFO", b"LIB-NAME", b"redis\npy"]),
        b"-ERR LIB-NAME cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        c.cmd(&[b"CLIENT", b"SETINFO", b"lib-name"]),
        b"-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    );
    // Failures left the values alone; an empty value clears.
    assert_eq!(field(&client_info(&mut c), "lib-name"), "redis-py");
    assert_eq!(c.cmd(&[b"CLIENT", b"SETINFO", b"lib-name", b""]), b"+OK\r\n");
    assert_eq!(field(&client_info(&mut c), "lib-name"), "");
}

#[test]
fn client_no_evict_and_no_touch() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CLIENT", b"NO-EVICT", b"on"]), b"+OK\r\n");
    assert_eq!(field(&client_info(&mut c), "flags"), "e");
    assert_eq!(c.cmd(&[b"CLIENT", b"NO-TOUCH", b"ON"]), b"+OK\r\n");
    assert_eq!(field(&client_info(&mut c), "flags"), "eT");
    assert_eq!(c.cmd(&[b"CLIENT", b"NO-EVICT", b"off"]), b"+OK\r\n");
    assert_eq!(field(&client_info(&mut c), "flags"), "T");
    assert_eq!(c.cmd(&[b"CLIENT", b"NO-TOUCH", b"off"]), b"+OK\r\n");
    assert_eq!(field(&client_info(&mut c), "flags"), "N");
    assert_eq!(c.cmd(&[b"CLIENT", b"NO-EVICT", b"maybe"]), b"-ERR syntax error\r\n");
    assert_eq!(c.cmd(&[b"CLIENT", b"NO-TOUCH", b"1"]), b"-ERR syntax error\r\n");
}

#[test]
fn client_reply_modes() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    c.send(b"CLIENT REPLY OFF\r\nPING\r\nECHO hidden\r\nCLIENT REPLY ON\r\nPING\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    // SKIP drops the reply of the next command only.
    c.send(b"CLIENT REPLY SKIP\r\nECHO a\r\nECHO b\r\n");
    assert_eq!(c.read_reply(), b"$1\r\nb\r\n");
    // Errors are suppressed too while OFF.
    c.send(b"CLIENT REPLY OFF\r\nNOSUCHCMD\r\nGET\r\nCLIENT REPLY ON\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"CLIENT", b"REPLY", b"MAYBE"]), b"-ERR syntax error\r\n");
    assert_eq!(c.read_for(100), b"");
}

/// Sends a command on a connection in a background thread and measures how long its reply
/// takes.
fn timed(mut c: RawConn, args: Vec<Vec<u8>>) -> std::thread::JoinHandle<(Vec<u8>, Duration)> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let a: Vec<&[u8]> = args.iter().map(|v| v.as_slice()).collect();
        let r = c.cmd(&a);
        (r, start.elapsed())
    })
}

#[test]
fn client_pause_write_holds_writes_not_reads() {
    let srv = TestServer::start();
    let mut admin = srv.raw();
    let mut reader = srv.raw();
    assert_eq!(admin.cmd(&[b"SET", b"k", b"before"]), b"+OK\r\n");
    let writer = srv.raw();
    let paused_at = Instant::now();
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"1500", b"WRITE"]), b"+OK\r\n");
    let w = timed(writer, vec![b"SET".to_vec(), b"k".to_vec(), b"after".to_vec()]);
    std::thread::sleep(Duration::from_millis(100));
    // Reads and non-writes go through at once.
    let t = Instant::now();
    assert_eq!(reader.cmd(&[b"GET", b"k"]), b"$6\r\nbefore\r\n");
    assert_eq!(reader.cmd(&[b"PING"]), b"+PONG\r\n");
    assert!(t.elapsed() < Duration::from_millis(900), "reads are not held: {:?}", t.elapsed());
    let (reply, _) = w.join().unwrap();
    assert_eq!(reply, b"+OK\r\n");
    let waited = paused_at.elapsed();
    assert!(waited >= Duration::from_millis(1400), "write completed too early: {waited:?}");
    assert!(waited < Duration::from_secs(4), "write held too long: {waited:?}");
    assert_eq!(reader.cmd(&[b"GET", b"k"]), b"$5\r\nafter\r\n");
}

#[test]
fn client_pause_all_and_unpause() {
    let srv = TestServer::start();
    let mut admin = srv.raw();
    let paused_at = Instant::now();
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"400"]), b"+OK\r\n");
    let r = timed(srv.raw(), vec![b"PING".to_vec()]);
    let (reply, _) = r.join().unwrap();
    assert_eq!(reply, b"+PONG\r\n");
    let waited = paused_at.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(4), "{waited:?}");
    // A long pause lifted by UNPAUSE.
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"20000", b"WRITE"]), b"+OK\r\n");
    let w = timed(srv.raw(), vec![b"SET".to_vec(), b"x".to_vec(), b"1".to_vec()]);
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    assert_eq!(admin.cmd(&[b"CLIENT", b"UNPAUSE"]), b"+OK\r\n");
    let (reply, _) = w.join().unwrap();
    assert_eq!(reply, b"+OK\r\n");
    assert!(t.elapsed() < Duration::from_secs(3), "UNPAUSE releases held writes: {:?}", t.elapsed());
    // Argument errors.
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"abc"]), b"-ERR timeout is not an integer or out of range\r\n");
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"-1"]), b"-ERR timeout is negative\r\n");
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"9223372036854775807"]), b"-ERR timeout is out of range\r\n");
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"100", b"BOGUS"]), b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"abc", b"BOGUS"]), b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n");
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE"]), b"-ERR wrong number of arguments for 'client|pause' command\r\n");
    assert_eq!(admin.cmd(&[b"CLIENT", b"PAUSE", b"0"]), b"+OK\r\n");
    assert_eq!(admin.cmd(&[b"CLIENT", b"UNPAUSE"]), b"+OK\r\n");
    assert_eq!(admin.cmd(&[b"SET", b"x", b"2"]), b"+OK\r\n");
}
