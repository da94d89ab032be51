// scripts/crashtest.rs - the crash test for scripts/crash-test.sh.
//
// Starts the server with the append-only file on, lets CONNS clients send numbered writes
// (INCR ctr:<c>, then SET last:<c> <n> in a MULTI), kills the server with SIGKILL at a random
// moment, restarts it on the same directory and checks every write that was acknowledged
// before the kill: ctr:<c> must be at least the last acknowledged count. Repeats TRIALS times
// on the same data (counters keep growing across trials).
//
// Standard library only; crash-test.sh compiles it with `rustc -O`.
//
// usage: crashtest --bin SERVER --dir DIR --policy always|everysec|no [--trials N]
//                  [--conns C] [--min-ms A] [--max-ms B] [--port P]
// Output: one line per trial, then
//   policy=P trials=N restarts_ok=R lost_writes_max=L lost_ms_max=M writes_acked=W

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Opts {
    bin: String,
    dir: String,
    policy: String,
    trials: u32,
    conns: usize,
    min_ms: u64,
    max_ms: u64,
    port: u16,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        bin: String::new(),
        dir: String::new(),
        policy: "always".into(),
        trials: 20,
        conns: 4,
        min_ms: 200,
        max_ms: 1500,
        port: 17399,
    };
    let a: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < a.len() {
        let v = a.get(i + 1).ok_or(format!("{} needs a value", a[i]))?.clone();
        let n = |v: &str| v.parse::<u64>().map_err(|_| format!("bad number {v}"));
        match a[i].as_str() {
            "--bin" => o.bin = v,
            "--dir" => o.dir = v,
            "--policy" => o.policy = v,
            "--trials" => o.trials = n(&v)? as u32,
            "--conns" => o.conns = n(&v)? as usize,
            "--min-ms" => o.min_ms = n(&v)?,
            "--max-ms" => o.max_ms = n(&v)?,
            "--port" => o.port = n(&v)? as u16,
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    if o.bin.is_empty() || o.dir.is_empty() {
        return Err("--bin and --dir are required".into());
    }
    Ok(o)
}

/// A small deterministic generator for the kill moments.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Reads one reply line (simple, integer, error, or a bulk's header and body).
fn reply(r: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed"));
    }
    let line = line.trim_end().to_string();
    if let Some(n) = line.strip_prefix('$') {
        let n: i64 = n.parse().unwrap_or(-1);
        if n < 0 {
            return Ok(String::new());
        }
        let mut body = String::new();
        r.read_line(&mut body)?;
        return Ok(body.trim_end().to_string());
    }
    if let Some(n) = line.strip_prefix('*') {
        // EXEC: read its elements, answer the first.
        let n: i64 = n.parse().unwrap_or(0);
        let mut first = String::new();
        for i in 0..n.max(0) {
            let e = reply(r)?;
            if i == 0 {
                first = e;
            }
        }
        return Ok(first);
    }
    Ok(line)
}

fn connect(port: u16) -> Option<(TcpStream, BufReader<TcpStream>)> {
    let s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let r = BufReader::new(s.try_clone().ok()?);
    Some((s, r))
}

fn start(o: &Opts) -> Result<(Child, Duration), String> {
    let t0 = Instant::now();
    let child = Command::new(&o.bin)
        .args(["--port", &o.port.to_string(), "--dir", &o.dir, "--save", "", "--appendonly", "yes"])
        .args(["--appendfsync", &o.policy])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", o.bin))?;
    let mut child = child;
    while t0.elapsed() < Duration::from_secs(60) {
        if let Some((mut s, mut r)) = connect(o.port) {
            if s.write_all(&cmd(&["PING"])).is_ok() && reply(&mut r).map(|x| x == "+PONG").unwrap_or(false) {
                return Ok((child, t0.elapsed()));
            }
        }
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!("server exited during start-up: {st}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err("server did not answer within 60 s".into())
}

fn read_counter(port: u16, c: usize) -> Result<u64, String> {
    let (mut s, mut r) = connect(port).ok_or("cannot connect")?;
    s.write_all(&cmd(&["GET", &format!("ctr:{c}")])).map_err(|e| e.to_string())?;
    let v = reply(&mut r).map_err(|e| e.to_string())?;
    Ok(v.parse().unwrap_or(0))
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("crashtest: {e}");
            std::process::exit(1);
        }
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ o.trials as u64);
    let (mut restarts_ok, mut lost_max, mut lost_ms_max, mut acked_total) = (0u32, 0u64, 0u64, 0u64);
    let mut failed = false;
    for trial in 1..=o.trials {
        let (mut child, started_in) = match start(&o) {
            Ok(x) => x,
            Err(e) => {
                println!("trial {trial}: RESTART FAILED: {e}");
                failed = true;
                break;
            }
        };
        let acked: Vec<Arc<AtomicU64>> = (0..o.conns).map(|_| Arc::new(AtomicU64::new(0))).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let mut base = Vec::new();
        for c in 0..o.conns {
            base.push(read_counter(o.port, c).unwrap_or(0));
        }
        let writers: Vec<_> = (0..o.conns)
            .map(|c| {
                let (acked, stop, port) = (acked[c].clone(), stop.clone(), o.port);
                std::thread::spawn(move || {
                    let Some((mut s, mut r)) = connect(port) else { return (0u64, Duration::ZERO) };
                    let t0 = Instant::now();
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        // Alternate a plain INCR and a transaction that also records the count.
                        let req = if n % 2 == 0 {
                            cmd(&["INCR", &format!("ctr:{c}")])
                        } else {
                            let mut b = cmd(&["MULTI"]);
                            b.extend(cmd(&["INCR", &format!("ctr:{c}")]));
                            b.extend(cmd(&["SET", &format!("last:{c}"), "x"]));
                            b.extend(cmd(&["EXEC"]));
                            b
                        };
                        if s.write_all(&req).is_err() {
                            break;
                        }
                        let v = if n % 2 == 0 {
                            reply(&mut r)
                        } else {
                            reply(&mut r).and_then(|_| reply(&mut r)).and_then(|_| reply(&mut r)).and_then(|_| reply(&mut r))
                        };
                        match v {
                            Ok(v) => match v.trim_start_matches(':').parse::<u64>() {
                                Ok(x) => acked.store(x, Ordering::Relaxed),
                                Err(_) => break,
                            },
                            Err(_) => break,
                        }
                        n += 1;
                    }
                    (n, t0.elapsed())
                })
            })
            .collect();
        let wait = o.min_ms + rng.below(o.max_ms.saturating_sub(o.min_ms) + 1);
        std::thread::sleep(Duration::from_millis(wait));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        stop.store(true, Ordering::Relaxed);
        let mut rates = Vec::new();
        for w in writers {
            let (n, t) = w.join().unwrap_or((0, Duration::ZERO));
            rates.push(n as f64 / t.as_secs_f64().max(1e-9));
        }
        let (mut child2, restart) = match start(&o) {
            Ok(x) => x,
            Err(e) => {
                println!("trial {trial}: RESTART FAILED after SIGKILL: {e}");
                failed = true;
                break;
            }
        };
        let mut lost = 0u64;
        let mut lost_ms = 0u64;
        for c in 0..o.conns {
            let a = acked[c].load(Ordering::Relaxed);
            let got = read_counter(o.port, c).unwrap_or(0);
            acked_total += a.saturating_sub(base[c]);
            if got < a {
                let l = a - got;
                lost += l;
                let ms = (l as f64 / rates[c].max(1e-9) * 1000.0) as u64;
                lost_ms = lost_ms.max(ms);
            }
        }
        lost_max = lost_max.max(lost);
        lost_ms_max = lost_ms_max.max(lost_ms);
        restarts_ok += 1;
        println!(
            "trial {trial}: killed after {wait} ms; restart took {:.0} ms (first start {:.0} ms); lost acknowledged writes {lost} (~{lost_ms} ms of writes)",
            restart.as_secs_f64() * 1000.0,
            started_in.as_secs_f64() * 1000.0
        );
        let _ = child2.kill();
        let _ = child2.wait();
    }
    println!(
        "policy={} trials={} restarts_ok={} lost_writes_max={lost_max} lost_ms_max={lost_ms_max} writes_acked={acked_total}{}",
        o.policy,
        o.trials,
        restarts_ok,
        if failed { " FAILED" } else { "" }
    );
    if failed {
        std::process::exit(2);
    }
}
