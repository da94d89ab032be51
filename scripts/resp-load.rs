// scripts/resp-load.rs - a tiny pipelined RESP load generator for scripts/bench.sh.
//
// redis-benchmark sends exactly one command per request, so it cannot measure a
// MULTI/EXEC transaction. This tool sends a *unit* of several commands (e.g.
// MULTI ; INCR k ; EXPIRE k 60 ; TTL k ; EXEC) from C clients, P units per
// write (pipelining), N units in total, and reports units per second.
// Standard library only (poll(2) is declared by hand); bench.sh compiles it
// with `rustc -O` into its temporary directory, nothing is added to the
// Cargo workspace.
//
// usage: resp-load -h HOST -p PORT [-c CLIENTS] [-n UNITS] [-P PIPELINE]
//                  [-r KEYSPACE] [--timeout SECS] CMD ARG... [';' CMD ARG...]...
//
// Every "__rand_int__" in an argument is replaced by a 12-digit random number
// below KEYSPACE; the same number is used for every command of one unit (so a
// transaction's commands address the same key), a new one for each unit.
// Output (one line on stdout):
//   units=N secs=S rps=R replies=M errors=E nested_errors=X nils=Z first_error=...
// errors: top-level error replies; nested_errors: error elements inside arrays
// (e.g. in an EXEC reply); nils: null arrays/bulks at top level (EXEC aborted).
// Exit status 0 when every reply arrived, 2 on timeout or connection failure.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::io::AsRawFd;
use std::time::{Duration, Instant};

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}
extern "C" {
    fn poll(fds: *mut PollFd, nfds: u64, timeout: i32) -> i32;
}
const POLLIN: i16 = 0x1;
const POLLOUT: i16 = 0x4;
const POLLERR: i16 = 0x8;
const POLLHUP: i16 = 0x10;

fn die(msg: &str) -> ! {
    eprintln!("resp-load: {msg}");
    std::process::exit(2);
}

struct Client {
    sock: TcpStream,
    out: Vec<u8>,
    out_pos: usize,
    inbuf: Vec<u8>,
    in_pos: usize,
    pending: usize, // replies still expected for the batch in flight
}

#[derive(Default)]
struct Tally {
    replies: u64,
    errors: u64,
    nested_errors: u64,
    nils: u64,
    first_error: Option<String>,
}

fn find_crlf(b: &[u8], from: usize) -> Option<usize> {
    if b.len() < 2 {
        return None;
    }
    (from..b.len() - 1).find(|&i| b[i] == b'\r' && b[i + 1] == b'\n')
}

fn parse_int(b: &[u8]) -> i64 {
    std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| die("bad integer in reply"))
}

/// Parses one complete RESP2 value at b[pos..]; returns the position after it,
/// or None when more bytes are needed. depth > 0 for array elements.
fn parse(b: &[u8], pos: usize, depth: u32, t: &mut Tally) -> Option<usize> {
    if pos >= b.len() {
        return None;
    }
    let eol = find_crlf(b, pos + 1)?;
    let line = &b[pos + 1..eol];
    let next = eol + 2;
    match b[pos] {
        b'+' | b':' => Some(next),
        b'-' => {
            if depth == 0 {
                t.errors += 1;
            } else {
                t.nested_errors += 1;
            }
            if t.first_error.is_none() {
                t.first_error = Some(String::from_utf8_lossy(line).into_owned());
            }
            Some(next)
        }
        b'$' => {
            let n = parse_int(line);
            if n < 0 {
                if depth == 0 {
                    t.nils += 1;
                }
                return Some(next);
            }
            let end = next + n as usize + 2;
            if end > b.len() {
                None
            } else {
                Some(end)
            }
        }
        b'*' => {
            let n = parse_int(line);
            if n < 0 {
                if depth == 0 {
                    t.nils += 1;
                }
                return Some(next);
            }
            // Parse into a scratch tally so that an incomplete array is not counted twice.
            let mut scratch = Tally::default();
            let mut p = next;
            for _ in 0..n {
                p = parse(b, p, depth + 1, &mut scratch)?;
            }
            t.nested_errors += scratch.errors + scratch.nested_errors;
            if t.first_error.is_none() {
                t.first_error = scratch.first_error;
            }
            Some(p)
        }
        c => die(&format!("unexpected reply type byte {:?}", c as char)),
    }
}

fn encode_unit(cmds: &[Vec<String>], rand: &str, out: &mut Vec<u8>) {
    for cmd in cmds {
        out.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
        for a in cmd {
            let a = a.replace("__rand_int__", rand);
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

fn main() {
    let mut host = "127.0.0.1".to_string();
    let mut port: u16 = 6379;
    let (mut clients, mut units, mut pipeline, mut keyspace, mut timeout) = (50usize, 100_000u64, 1usize, 0u64, 120u64);
    let mut args = std::env::args().skip(1);
    let mut words: Vec<String> = Vec::new();
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().unwrap_or_else(|| die(&format!("{name} needs a value")));
        match a.as_str() {
            "-h" => host = val("-h"),
            "-p" => port = val("-p").parse().unwrap_or_else(|_| die("bad -p")),
            "-c" => clients = val("-c").parse().unwrap_or_else(|_| die("bad -c")),
            "-n" => units = val("-n").parse().unwrap_or_else(|_| die("bad -n")),
            "-P" => pipeline = val("-P").parse().unwrap_or_else(|_| die("bad -P")),
            "-r" => keyspace = val("-r").parse().unwrap_or_else(|_| die("bad -r")),
            "--timeout" => timeout = val("--timeout").parse().unwrap_or_else(|_| die("bad --timeout")),
            _ => {
                words.push(a);
                words.extend(args.by_ref());
            }
        }
    }
    let cmds: Vec<Vec<String>> =
        words.split(|w| w == ";").filter(|c| !c.is_empty()).map(|c| c.to_vec()).collect();
    if cmds.is_empty() || clients == 0 || pipeline == 0 || units == 0 {
        die("usage: resp-load -h HOST -p PORT [-c C] [-n UNITS] [-P P] [-r KEYSPACE] [--timeout S] CMD ARG... [';' CMD ARG...]...");
    }
    let per_unit = cmds.len();
    let deadline = Instant::now() + Duration::from_secs(timeout);

    let mut cs: Vec<Client> = (0..clients)
        .map(|_| {
            let sock = TcpStream::connect((host.as_str(), port)).unwrap_or_else(|e| die(&format!("connect: {e}")));
            sock.set_nodelay(true).ok();
            sock.set_nonblocking(true).unwrap_or_else(|e| die(&format!("nonblocking: {e}")));
            Client { sock, out: Vec::new(), out_pos: 0, inbuf: Vec::with_capacity(16384), in_pos: 0, pending: 0 }
        })
        .collect();

    let mut seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    let mut next_rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };

    let mut issued: u64 = 0;
    let mut done_units: u64 = 0;
    let mut t = Tally::default();
    let mut buf = vec![0u8; 65536];
    let mut fds: Vec<PollFd> = Vec::with_capacity(clients);
    let start = Instant::now();

    while done_units < units {
        if Instant::now() > deadline {
            die(&format!("timeout after {timeout} s: {done_units} of {units} units done"));
        }
        // Idle clients get their next batch of units.
        for c in cs.iter_mut() {
            if c.pending == 0 && c.out_pos >= c.out.len() && issued < units {
                let batch = (pipeline as u64).min(units - issued) as usize;
                c.out.clear();
                c.out_pos = 0;
                for _ in 0..batch {
                    let r = if keyspace > 0 { next_rand() % keyspace } else { 0 };
                    encode_unit(&cmds, &format!("{r:012}"), &mut c.out);
                }
                issued += batch as u64;
                c.pending = batch * per_unit;
            }
        }
        fds.clear();
        for c in cs.iter() {
            let mut ev = 0;
            if c.out_pos < c.out.len() {
                ev |= POLLOUT;
            }
            if c.pending > 0 {
                ev |= POLLIN;
            }
            fds.push(PollFd { fd: if ev != 0 { c.sock.as_raw_fd() } else { -1 }, events: ev, revents: 0 });
        }
        let rc = unsafe { poll(fds.as_mut_ptr(), fds.len() as u64, 1000) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            die(&format!("poll: {e}"));
        }
        for (i, c) in cs.iter_mut().enumerate() {
            let rev = fds[i].revents;
            if rev == 0 {
                continue;
            }
            if rev & POLLOUT != 0 {
                match c.sock.write(&c.out[c.out_pos..]) {
                    Ok(n) => c.out_pos += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => die(&format!("write: {e}")),
                }
            }
            if rev & (POLLIN | POLLERR | POLLHUP) != 0 {
                loop {
                    match c.sock.read(&mut buf) {
                        Ok(0) => die(&format!(
                            "server closed the connection ({} replies received; first error: {})",
                            t.replies,
                            t.first_error.as_deref().unwrap_or("none")
                        )),
                        Ok(n) => {
                            c.inbuf.extend_from_slice(&buf[..n]);
                            if n < buf.len() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => die(&format!("read: {e}")),
                    }
                }
                while c.pending > 0 {
                    match parse(&c.inbuf, c.in_pos, 0, &mut t) {
                        Some(p) => {
                            c.in_pos = p;
                            c.pending -= 1;
                            t.replies += 1;
                            if t.replies % per_unit as u64 == 0 {
                                done_units = t.replies / per_unit as u64;
                            }
                        }
                        None => break,
                    }
                }
                if c.in_pos == c.inbuf.len() {
                    c.inbuf.clear();
                    c.in_pos = 0;
                } else if c.in_pos > 65536 {
                    c.inbuf.drain(..c.in_pos);
                    c.in_pos = 0;
                }
                if c.pending == 0 && c.in_pos < c.inbuf.len() {
                    die("more replies than commands sent");
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "units={} secs={:.3} rps={:.2} replies={} errors={} nested_errors={} nils={} first_error={}",
        units,
        secs,
        units as f64 / secs,
        t.replies,
        t.errors,
        t.nested_errors,
        t.nils,
        t.first_error.as_deref().unwrap_or("-").replace(' ', "_")
    );
}
