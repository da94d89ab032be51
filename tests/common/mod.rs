//! Test harness: starts a real `larder` process on a free port and connects to it.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server, killed when dropped.
pub struct TestServer {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Its working directory (for files it writes).
    pub dir: PathBuf,
    /// The configuration file it was started with ([`TestServer::start_with_config`]).
    pub config_path: Option<PathBuf>,
    /// Whether `dir` is removed when the server is dropped (not for [`TestServer::start_in`]).
    owns_dir: bool,
}

thread_local! {
    /// Set while a test asks for a server that may still be loading.
    static LOADING_OK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True when the server on `conn` reports `pid` as its process id (INFO server), after AUTH
/// with `password` when the server needs one.
fn serves_pid(mut conn: TcpStream, pid: u32, password: Option<&str>) -> bool {
    if conn.set_read_timeout(Some(Duration::from_secs(5))).is_err() {
        return false;
    }
    let mut req = Vec::new();
    if let Some(p) = password {
        req.extend_from_slice(format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{p}\r\n", p.len()).as_bytes());
    }
    req.extend_from_slice(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n");
    if conn.write_all(&req).is_err() {
        return false;
    }
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    let needle = format!("process_id:{pid}\r\n");
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
        if text.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            return true;
        }
        if text.windows(13).any(|w| w == b"\r\n# Clients\r") || text.len() > 65536 {
            break;
        }
        if text.ends_with(b"\r\n\r\n") {
            break;
        }
    }
    false
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl TestServer {
    /// Starts a server with default settings.
    pub fn start() -> TestServer {
        Self::start_with(&[])
    }

    /// Starts a server with extra `--directive value` arguments.
    pub fn start_with(extra: &[&str]) -> TestServer {
        for _ in 0..5 {
            if let Some(s) = Self::try_start(None, extra) {
                return s;
            }
        }
        panic!("could not start larder");
    }

    /// Starts a server whose first argument is a configuration file holding `contents`
    /// (written as `larder.conf` in the server's directory), followed by the usual
    /// `--port`/`--dir`/`--save` flags and `extra`.
    pub fn start_with_config(contents: &str, extra: &[&str]) -> TestServer {
        for _ in 0..5 {
            if let Some(s) = Self::try_start(Some(contents), extra) {
                return s;
            }
        }
        panic!("could not start larder");
    }

    /// Like [`TestServer::start_in`], but returns as soon as the port answers, possibly while
    /// the dataset is still loading.
    pub fn start_in_loading(dir: &std::path::Path, extra: &[&str]) -> TestServer {
        LOADING_OK.with(|l| l.set(true));
        let s = Self::start_in(dir, extra);
        LOADING_OK.with(|l| l.set(false));
        s
    }

    /// Waits until the server has loaded its dataset (INFO persistence `loading:0`).
    fn wait_loaded(&self, password: Option<&str>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let Ok(mut conn) = TcpStream::connect(("127.0.0.1", self.port)) else { return };
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let mut req = Vec::new();
            if let Some(p) = password {
                req.extend_from_slice(format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{p}\r\n", p.len()).as_bytes());
            }
            req.extend_from_slice(b"*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n");
            if conn.write_all(&req).is_err() {
                return;
            }
            let mut text = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                text.extend_from_slice(&buf[..n]);
                // (Not async_loading:..., which also ends in "loading:".)
                if text.windows(13).any(|w| w == b"\r\nloading:0\r\n") {
                    return;
                }
                if text.windows(13).any(|w| w == b"\r\nloading:1\r\n") {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts a server working in `dir` (which outlives it: for restarts over the same files).
    pub fn start_in(dir: &std::path::Path, extra: &[&str]) -> TestServer {
        for _ in 0..5 {
            if let Some(s) = Self::try_start_in(None, Some(dir), extra) {
                return s;
            }
        }
        panic!("could not start larder");
    }

    fn try_start(config: Option<&str>, extra: &[&str]) -> Option<TestServer> {
        Self::try_start_in(config, None, extra)
    }

    fn try_start_in(config: Option<&str>, in_dir: Option<&std::path::Path>, extra: &[&str]) -> Option<TestServer> {
        let port = free_port();
        let owns_dir = in_dir.is_none();
        let dir = match in_dir {
            Some(d) => d.to_path_buf(),
            None => std::env::temp_dir().join(format!("larder-test-{}-{port}", std::process::id())),
        };
        std::fs::create_dir_all(&dir).ok()?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_larder"));
        let mut config_path = None;
        if let Some(text) = config {
            let path = dir.join("larder.conf");
            std::fs::write(&path, text).ok()?;
            cmd.arg(&path);
            config_path = Some(path);
        }
        cmd.arg("--port").arg(port.to_string()).arg("--dir").arg(&dir).arg("--save").arg("");
        cmd.args(extra);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let mut child = cmd.spawn().ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return None;
            }
            if let Ok(conn) = TcpStream::connect(("127.0.0.1", port)) {
                // Another test's server may have won the race for this port: only accept
                // the port when the server answering on it is the process just started.
                let password = extra.iter().position(|a| *a == "--requirepass").and_then(|i| extra.get(i + 1));
                if serves_pid(conn, child.id(), password.copied()) {
                    let srv = TestServer { child, port, dir, config_path, owns_dir };
                    if !LOADING_OK.with(|l| l.get()) {
                        srv.wait_loaded(password.copied());
                    }
                    return Some(srv);
                }
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        None
    }

    /// A `redis` crate connection.
    pub fn client(&self) -> redis::Connection {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client");
        c.get_connection().expect("connect")
    }

    /// A raw TCP connection for protocol-level tests.
    pub fn raw(&self) -> RawConn {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        RawConn { s }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the process to exit by itself, returning its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends SIGTERM and waits for exit, returning the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Encodes a command as a RESP array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut req = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        req.extend_from_slice(a);
        req.extend_from_slice(b"\r\n");
    }
    req
}

/// A raw socket speaking bytes.
pub struct RawConn {
    /// The socket.
    pub s: TcpStream,
}

impl RawConn {
    /// Sends bytes.
    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).expect("write");
    }

    /// Reads until `n` bytes arrived (or times out).
    pub fn read_exact_n(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        self.s.read_exact(&mut buf).expect("read");
        buf
    }

    /// Reads whatever arrives until the peer closes or `ms` pass without data.
    pub fn read_for(&mut self, ms: u64) -> Vec<u8> {
        self.s.set_read_timeout(Some(Duration::from_millis(ms))).expect("timeout");
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match self.s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        self.s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        out
    }

    /// Sends a command as a RESP array and reads one reply as raw bytes (whole reply).
    pub fn cmd(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(&encode(args));
        self.read_reply()
    }

    /// Reads until the peer closes the connection (EOF or reset), at most `ms` milliseconds
    /// without data. Returns what arrived and whether the connection was closed (false: it
    /// timed out still open).
    pub fn read_to_close(&mut self, ms: u64) -> (Vec<u8>, bool) {
        self.s.set_read_timeout(Some(Duration::from_millis(ms))).expect("timeout");
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        let closed = loop {
            match self.s.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => break !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
            }
        };
        self.s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        (out, closed)
    }

    /// The local address of the socket, `ip:port`, as the server sees its peer.
    pub fn local_addr(&self) -> String {
        self.s.local_addr().expect("local addr").to_string()
    }

    /// Reads exactly one RESP reply (any type, nested) and returns its raw bytes.
    pub fn read_reply(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.read_one(&mut out);
        out
    }

    fn read_line(&mut self, out: &mut Vec<u8>) -> Vec<u8> {
        let start = out.len();
        let mut b = [0u8; 1];
        loop {
            self.s.read_exact(&mut b).expect("read reply byte");
            out.push(b[0]);
            if out.len() >= start + 2 && &out[out.len() - 2..] == b"\r\n" {
                return out[start..out.len() - 2].to_vec();
            }
        }
    }

    fn read_one(&mut self, out: &mut Vec<u8>) {
        let line = self.read_line(out);
        let n: i64 = std::str::from_utf8(&line[1..]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
        match line[0] {
            b'$' | b'=' | b'!' if n >= 0 => {
                let mut body = vec![0u8; n as usize + 2];
                self.s.read_exact(&mut body).expect("read bulk");
                out.extend_from_slice(&body);
            }
            b'*' | b'~' | b'>' if n > 0 => {
                for _ in 0..n {
                    self.read_one(out);
                }
            }
            b'%' | b'|' if n > 0 => {
                for _ in 0..2 * n {
                    self.read_one(out);
                }
            }
            _ => {}
        }
    }
}

/// Sends `args` on a raw connection and returns the raw reply as text.
pub fn q(c: &mut RawConn, args: &[&str]) -> String {
    let v: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    String::from_utf8_lossy(&c.cmd(&v)).into_owned()
}

/// Asserts the exact raw reply of a command.
#[track_caller]
pub fn check(c: &mut RawConn, args: &[&str], want: &str) {
    assert_eq!(q(c, args), want, "reply to {args:?}");
}

/// A raw connection that has answered PING (within half a second; a few are tried).
pub fn free_conn(srv: &TestServer) -> RawConn {
    for _ in 0..16 {
        let mut c = srv.raw();
        c.s.set_read_timeout(Some(Duration::from_millis(500))).expect("timeout");
        c.send(&encode(&[b"PING"]));
        let mut buf = [0u8; 256];
        if let Ok(n) = c.s.read(&mut buf) {
            if n > 0 {
                c.s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
                return c;
            }
        }
    }
    panic!("no connection on a free worker");
}

/// An integer field of INFO (all sections), or -1 when absent.
pub fn info_int(c: &mut redis::Connection, field: &str) -> i64 {
    let info: String = redis::cmd("INFO").arg("everything").query(c).expect("info");
    info.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).and_then(|v| v.trim().parse().ok()).unwrap_or(-1)
}

/// The largest `used_memory` seen, sampling every 2 ms, while the `writers` run (then joined).
pub fn peak_used_memory_until_done(c: &mut redis::Connection, writers: Vec<std::thread::JoinHandle<()>>) -> i64 {
    let mut peak = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        peak = peak.max(info_int(c, "used_memory"));
        std::thread::sleep(Duration::from_millis(2));
    }
    for w in writers {
        w.join().expect("writer");
    }
    peak.max(info_int(c, "used_memory"))
}

/// A fresh scratch directory for a test that restarts servers over the same files.
pub fn scratch_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("larder-scratch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn redis_server_runs() -> bool {
    Command::new("redis-server").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// True when Debian's redis-server is installed, installing it (apt-get, once per test
/// binary) when it is absent and this user may; says loudly that `what` is skipped if it
/// still is not there.
pub fn have_redis_server(what: &str) -> bool {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    if !redis_server_runs() {
        INSTALL.call_once(|| {
            eprintln!("redis-server not found: trying apt-get install redis-server");
            let _ = Command::new("apt-get")
                .args(["install", "-y", "-q", "redis-server"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        });
    }
    let found = redis_server_runs();
    if !found {
        eprintln!(
            "!!! redis-server not found and could not be installed: {what} SKIPPED (apt-get install redis-server)"
        );
    }
    found
}

/// A TCP port nobody listens on right now.
pub fn unused_port() -> u16 {
    free_port()
}

/// Starts redis-server in `dir` on `port` with `extra` arguments (and `--save ""`), returning
/// once it answers PING (its dataset loaded).
pub fn run_redis(dir: &std::path::Path, port: u16, extra: &[&str]) -> Child {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("client");
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--save", ""])
        .args(extra)
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut c) = client.get_connection() {
            if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                break;
            }
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-server did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// A connection to a server on `port`.
pub fn connect(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("client").get_connection().expect("connect")
}

/// Sends a command on a raw socket and returns the reply as text.
pub fn raw_text(r: &mut RawConn, args: &[&[u8]]) -> String {
    String::from_utf8_lossy(&r.cmd(args)).into_owned()
}

/// Object-safe wrapper so arguments of different types fit one slice ([`query`]).
pub trait ToArgsDyn {
    /// Appends this argument to `c`.
    fn push_to(&self, c: &mut redis::Cmd);
}

impl<T: redis::ToRedisArgs> ToArgsDyn for T {
    fn push_to(&self, c: &mut redis::Cmd) {
        c.arg(self);
    }
}

/// Runs a command through the `redis` crate, panicking with its name on error.
pub fn query<T: redis::FromRedisValue>(con: &mut redis::Connection, name: &str, args: &[&dyn ToArgsDyn]) -> T {
    let mut c = redis::cmd(name);
    for a in args {
        a.push_to(&mut c);
    }
    c.query(con).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// SET through the `redis` crate.
pub fn set_bytes(con: &mut redis::Connection, key: &str, value: &[u8]) {
    let _: () = query(con, "SET", &[&key, &value]);
}

/// GET through the `redis` crate.
pub fn get_bytes(con: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    query(con, "GET", &[&key])
}
