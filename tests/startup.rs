//! Start-up and process behaviour: the command line, configuration errors, signals, bind and
//! maxclients.

mod common;

use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;

fn larder() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_larder"));
    c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Runs `larder args...` expecting it to exit by itself within 10 s.
fn run(args: &[&str]) -> Output {
    let child = larder().args(args).spawn().expect("spawn larder");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: killing our own child that did not exit in time.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("larder {args:?} did not exit");
        }
    }
}

fn all_output(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn temp_path(name: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("larder-startup-{}-{n}-{name}", std::process::id()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn version_flag() {
    for flag in ["--version", "-v"] {
        let out = run(&[flag]);
        assert!(out.status.success(), "{flag}: {:?}", out.status);
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(s.contains("v=") && s.contains("7.2.4"), "{s}");
    }
}

#[test]
fn unknown_directive_as_flag() {
    let out = run(&["--port", "0", "--no-such-directive", "1"]);
    assert!(!out.status.success());
    let msg = all_output(&out);
    assert!(msg.contains("no-such-directive"), "{msg}");
    assert!(msg.contains("Bad directive or wrong number of arguments"), "{msg}");
}

#[test]
fn unknown_directive_in_file() {
    let path = temp_path("bad.conf");
    std::fs::write(&path, "# comment\nport 0\nfrobnicate yes\n").unwrap();
    let out = run(&[path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    let msg = all_output(&out);
    assert!(msg.contains("*** FATAL CONFIG FILE ERROR"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    assert!(msg.contains(">>> 'frobnicate yes'"), "{msg}");
    assert!(msg.contains("Bad directive or wrong number of arguments"), "{msg}");
}

#[test]
fn malformed_directives() {
    let out = run(&["--maxmemory", "lots"]);
    assert!(!out.status.success());
    let msg = all_output(&out);
    assert!(msg.contains("maxmemory") && msg.contains("argument must be a memory value"), "{msg}");
    let out = run(&["--port", "1", "2"]);
    assert!(!out.status.success());
    let msg = all_output(&out);
    assert!(msg.contains("port") && msg.contains("wrong number of arguments"), "{msg}");
    let out = run(&["--appendonly", "maybe"]);
    assert!(!out.status.success());
    assert!(all_output(&out).contains("argument must be 'yes' or 'no'"));
    // Redis's minimum for proto-max-bulk-len is 1mb.
    let out = run(&["--proto-max-bulk-len", "1000"]);
    assert!(!out.status.success());
    assert!(all_output(&out).contains("proto-max-bulk-len"), "{}", all_output(&out));
    let missing = temp_path("missing.conf");
    let out = run(&[missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(all_output(&out).contains("can't open config file"), "{}", all_output(&out));
}

#[test]
fn save_empty_and_save_points() {
    // The harness itself passes `--save ""` (an empty argument).
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"save"]), b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    // Save points as flags: the first replaces the defaults, later ones add.
    let srv = TestServer::start_with(&["--save", "900 1", "--save", "300", "10"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"save"]), b"*2\r\n$4\r\nsave\r\n$12\r\n900 1 300 10\r\n");
    // `save ""` in a file.
    let srv = TestServer::start_with_config("save \"\"\n", &[]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"save"]), b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
}

#[test]
fn sigterm_exits_cleanly_and_logs() {
    let log = temp_path("sigterm.log");
    let mut srv = TestServer::start_with(&["--logfile", log.to_str().unwrap()]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(srv.terminate(), Some(0), "exit code after SIGTERM");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(text.contains("bye bye"), "{text}");
    assert!(text.contains("Received SIGTERM"), "{text}");
    // The banner names the version, port, pid and threads.
    assert!(text.contains(&format!("port={}", srv.port)), "{text}");
    assert!(text.contains(&format!("pid={}", srv.pid())), "{text}");
    assert!(text.contains("threads"), "{text}");
    assert!(text.contains("Ready to accept connections"), "{text}");
    // The client was disconnected.
    assert!(c.read_to_close(3000).1);
}

#[test]
fn sigint_exits_cleanly() {
    let srv = TestServer::start();
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(srv.pid() as i32, libc::SIGINT) };
    let mut srv = srv;
    let deadline = Instant::now() + Duration::from_secs(10);
    while srv.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!srv.alive(), "SIGINT stops the server");
}

#[test]
fn port_and_bind() {
    let srv = TestServer::start_with(&["--bind", "127.0.0.1"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"bind"]), b"*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n");
    let port = srv.port.to_string();
    assert_eq!(
        text(c.cmd(&[b"CONFIG", b"GET", b"port"])),
        format!("*2\r\n$4\r\nport\r\n${}\r\n{port}\r\n", port.len())
    );
    // Several addresses, one optional.
    let srv = TestServer::start_with(&["--bind", "127.0.0.1", "-::1"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"PING"]), b"+PONG\r\n");
    // An address this host does not have stops start-up.
    let p = free_port().to_string();
    let out = run(&["--port", &p, "--bind", "192.0.2.1"]);
    assert!(!out.status.success());
    let msg = all_output(&out);
    assert!(msg.contains("192.0.2.1"), "{msg}");
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap()
}

#[test]
fn maxclients_rejects_extra_connections() {
    let srv = TestServer::start_with(&["--maxclients", "1"]);
    // The harness's readiness probe may still count for a moment: retry until we hold the slot.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut first = loop {
        let mut c = srv.raw();
        c.send(b"PING\r\n");
        let got = c.read_for(300);
        if got == b"+PONG\r\n" {
            break c;
        }
        assert!(Instant::now() < deadline, "never got a connection slot: {:?}", String::from_utf8_lossy(&got));
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut second = srv.raw();
    let (got, closed) = second.read_to_close(3000);
    assert_eq!(got, b"-ERR max number of clients reached\r\n");
    assert!(closed, "the rejected connection is closed");
    assert_eq!(first.cmd(&[b"PING"]), b"+PONG\r\n");
    let stats = text(first.cmd(&[b"INFO", b"stats"]));
    let rejected: u64 = stats
        .split("\r\n")
        .find_map(|l| l.strip_prefix("rejected_connections:"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(rejected >= 1, "{stats}");
    // Once the first leaves, a new connection gets in.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = srv.raw();
        c.send(b"PING\r\n");
        if c.read_for(300) == b"+PONG\r\n" {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn io_threads_one_and_databases() {
    let srv = TestServer::start_with(&["--io-threads", "1", "--databases", "2"]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"SELECT", b"1"]), b"+OK\r\n");
    assert_eq!(c.cmd(&[b"SELECT", b"2"]), b"-ERR DB index is out of range\r\n");
    let info = text(c.cmd(&[b"INFO", b"server"]));
    assert!(info.contains("worker_threads:1\r\n"), "{info}");
    // Still reachable by a second connection.
    assert!(TcpStream::connect(("127.0.0.1", srv.port)).is_ok());
}

#[test]
fn idle_timeout_closes_clients() {
    let srv = TestServer::start_with(&["--timeout", "1"]);
    let mut idle = srv.raw();
    assert_eq!(idle.cmd(&[b"PING"]), b"+PONG\r\n");
    let t = Instant::now();
    let (got, closed) = idle.read_to_close(5000);
    assert!(closed && got.is_empty(), "idle client closed");
    let waited = t.elapsed();
    assert!(waited >= Duration::from_millis(800) && waited < Duration::from_secs(5), "{waited:?}");
    // Timeout 0 (the default) never closes.
    let srv = TestServer::start();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&[b"CONFIG", b"GET", b"timeout"]), b"*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n");
    assert_eq!(c.read_to_close(300), (Vec::new(), false));
}

#[test]
fn relative_logfile_is_inside_dir() {
    // As redis-server, which opens the log after changing to `dir`.
    let mut srv = TestServer::start_with(&["--logfile", "relative.log"]);
    let path = srv.dir.join("relative.log");
    assert_eq!(srv.terminate(), Some(0));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(text.contains("Ready to accept connections"), "log not in dir: {path:?}");
    let stray = std::env::current_dir().unwrap().join("relative.log");
    assert!(!stray.exists(), "log written to the launch directory");
}

#[test]
fn sigterm_right_after_start_is_clean() {
    // The port opens only once the signal handlers are in place.
    for _ in 0..3 {
        let mut srv = TestServer::start();
        assert_eq!(srv.terminate(), Some(0));
    }
}
