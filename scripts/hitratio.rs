// scripts/hitratio.rs - the cache hit-ratio workload for scripts/hitratio.sh.
//
// A cache-aside client: GET a key drawn from a Zipf distribution; on a miss, SET it (the
// "database read" that refills the cache). Requests go in batches of PIPELINE GETs, then the
// SETs for that batch's misses, so the order of operations is the same for every server.
// A second connection samples INFO memory every MEM_EVERY batches and records the largest
// used_memory seen. The key sequence depends only on the seed, skew and key count, so every
// server in one run of hitratio.sh answers the identical request stream.
//
// Standard library only; hitratio.sh compiles it with `rustc -O` into a temporary
// directory (nothing is added to the Cargo workspace).
//
// usage: hitratio -p PORT [-h HOST] [-n REQUESTS] [-k KEYS] [-s SKEW] [-d VALUE_BYTES]
//                 [-P PIPELINE] [--seed N] [--mem-every BATCHES]
// Output (one line on stdout):
//   requests=N hits=H misses=M hit_ratio=R sets=S set_errors=E max_used_memory=B keys_held=K
//   ideal=I secs=T first_error=...
// ideal: the hit ratio of an oracle that always holds the K most popular keys (K = the keys
// the server holds at the end), less one compulsory miss per held key: the ceiling for any
// policy at that memory efficiency under this independent-request workload.
// lfu_exact: the hit ratio of an exact LFU cache of K keys replaying the same request stream
// (every key's request count remembered forever, stored or not; a key is stored when its
// count beats the least counted stored key's): what a policy that learns popularity from
// the requests, with unlimited memory for its statistics, reaches at that key count.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

struct Opts {
    host: String,
    port: u16,
    requests: u64,
    keys: usize,
    skew: f64,
    value: usize,
    pipeline: usize,
    seed: u64,
    mem_every: u64,
}

fn parse_opts() -> Result<Opts, String> {
    let mut o = Opts {
        host: "127.0.0.1".into(),
        port: 6379,
        requests: 10_000_000,
        keys: 1_000_000,
        skew: 1.0,
        value: 1000,
        pipeline: 64,
        seed: 42,
        mem_every: 50,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = args.get(i + 1).ok_or_else(|| format!("{} needs a value", args[i]))?;
        let bad = |_: std::num::ParseIntError| format!("bad value for {}: {val}", args[i]);
        match args[i].as_str() {
            "-h" => o.host = val.clone(),
            "-p" => o.port = val.parse().map_err(bad)?,
            "-n" => o.requests = val.parse().map_err(bad)?,
            "-k" => o.keys = val.parse().map_err(bad)?,
            "-s" => o.skew = val.parse().map_err(|_| format!("bad value for -s: {val}"))?,
            "-d" => o.value = val.parse().map_err(bad)?,
            "-P" => o.pipeline = val.parse().map_err(bad)?,
            "--seed" => o.seed = val.parse().map_err(bad)?,
            "--mem-every" => o.mem_every = val.parse().map_err(bad)?,
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    if o.keys == 0 || o.pipeline == 0 {
        return Err("-k and -P must be positive".into());
    }
    Ok(o)
}

/// xorshift64*: fast, deterministic from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Zipf over ranks 0..n with exponent s, by inverse transform over the cumulative weights.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// Probability mass of the `k` most popular ranks.
    fn top_mass(&self, k: usize) -> f64 {
        if k == 0 {
            0.0
        } else {
            self.cdf[k.min(self.cdf.len()) - 1]
        }
    }
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for r in 1..=n {
            total += 1.0 / (r as f64).powf(s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Zipf { cdf }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// Spreads ranks over key names (a bijection on 0..n), so popularity is unrelated to names.
fn key_of(rank: usize, n: usize) -> String {
    let id = (rank as u64).wrapping_mul(2_654_435_761) % n as u64;
    format!("key:{id:07}")
}

fn push_cmd(buf: &mut Vec<u8>, args: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Reads one reply; Ok(Some(bytes)) for a bulk string, Ok(None) for a null bulk, Err(text)
/// for an error reply; simple strings and integers come back as Some(their text).
fn read_reply(r: &mut BufReader<TcpStream>) -> std::io::Result<Result<Option<Vec<u8>>, String>> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)?;
    if line.len() < 3 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
    }
    let body = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    Ok(match line[0] {
        b'$' => {
            let n: i64 = body.parse().unwrap_or(-1);
            if n < 0 {
                Ok(None)
            } else {
                let mut data = vec![0u8; n as usize + 2];
                r.read_exact(&mut data)?;
                data.truncate(n as usize);
                Ok(Some(data))
            }
        }
        b'-' => Err(body),
        _ => Ok(Some(body.into_bytes())),
    })
}

fn connect(o: &Opts) -> std::io::Result<(TcpStream, BufReader<TcpStream>)> {
    let s = TcpStream::connect((o.host.as_str(), o.port))?;
    s.set_nodelay(true)?;
    let r = BufReader::with_capacity(1 << 20, s.try_clone()?);
    Ok((s, r))
}

fn used_memory(w: &mut TcpStream, r: &mut BufReader<TcpStream>) -> std::io::Result<u64> {
    let mut buf = Vec::new();
    push_cmd(&mut buf, &[b"INFO", b"memory"]);
    w.write_all(&buf)?;
    let text = match read_reply(r)? {
        Ok(Some(b)) => String::from_utf8_lossy(&b).into_owned(),
        _ => String::new(),
    };
    Ok(text.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0))
}

fn run(o: &Opts) -> std::io::Result<()> {
    let zipf = Zipf::new(o.keys, o.skew);
    let mut rng = Rng(o.seed.max(1));
    let (mut w, mut r) = connect(o)?;
    let (mut mw, mut mr) = connect(o)?;
    let value = vec![b'x'; o.value];
    let (mut hits, mut misses, mut sets, mut set_errors, mut max_used) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut first_error = String::new();
    let started = Instant::now();
    let mut done = 0u64;
    let mut batch_no = 0u64;
    let mut buf = Vec::with_capacity(1 << 20);
    let mut keys = Vec::with_capacity(o.pipeline);
    while done < o.requests {
        let n = (o.requests - done).min(o.pipeline as u64) as usize;
        buf.clear();
        keys.clear();
        for _ in 0..n {
            let k = key_of(zipf.sample(&mut rng), o.keys);
            push_cmd(&mut buf, &[b"GET", k.as_bytes()]);
            keys.push(k);
        }
        w.write_all(&buf)?;
        buf.clear();
        let mut missed = 0;
        for k in &keys {
            match read_reply(&mut r)? {
                Ok(Some(_)) => hits += 1,
                Ok(None) => {
                    misses += 1;
                    missed += 1;
                    push_cmd(&mut buf, &[b"SET", k.as_bytes(), &value]);
                }
                Err(e) => return Err(std::io::Error::other(format!("GET failed: {e}"))),
            }
        }
        if missed > 0 {
            w.write_all(&buf)?;
            for _ in 0..missed {
                sets += 1;
                if let Err(e) = read_reply(&mut r)? {
                    set_errors += 1;
                    if first_error.is_empty() {
                        first_error = e;
                    }
                }
            }
        }
        done += n as u64;
        batch_no += 1;
        if batch_no % o.mem_every == 0 {
            max_used = max_used.max(used_memory(&mut mw, &mut mr)?);
        }
    }
    max_used = max_used.max(used_memory(&mut mw, &mut mr)?);
    let secs = started.elapsed().as_secs_f64();
    buf.clear();
    push_cmd(&mut buf, &[b"DBSIZE"]);
    mw.write_all(&buf)?;
    let held: usize = match read_reply(&mut mr)? {
        Ok(Some(b)) => String::from_utf8_lossy(&b).parse().unwrap_or(0),
        _ => 0,
    };
    let ideal = zipf.top_mass(held) - held as f64 / done.max(1) as f64;
    let lfu_exact = exact_lfu(&zipf, o, done, held);
    println!(
        "requests={done} hits={hits} misses={misses} hit_ratio={:.4} sets={sets} set_errors={set_errors} max_used_memory={max_used} keys_held={held} ideal={ideal:.4} lfu_exact={lfu_exact:.4} secs={secs:.1} first_error={}",
        hits as f64 / done.max(1) as f64,
        if first_error.is_empty() { "-".to_string() } else { first_error.replace(' ', "_") }
    );
    Ok(())
}

/// Replays the run's request stream (same seed) through an exact LFU cache of `capacity`
/// keys and returns its hit ratio (see `lfu_exact` above). Ties keep the stored key.
fn exact_lfu(zipf: &Zipf, o: &Opts, requests: u64, capacity: usize) -> f64 {
    if capacity == 0 || requests == 0 {
        return 0.0;
    }
    let mut rng = Rng(o.seed.max(1));
    let mut count = vec![0u32; o.keys];
    let mut stored = vec![false; o.keys];
    // (count, last request, rank) of every stored key: the first is the one to give up.
    let mut by_count: BTreeSet<(u32, u64, u32)> = BTreeSet::new();
    let mut last = vec![0u64; o.keys];
    let mut hits = 0u64;
    for t in 0..requests {
        let k = zipf.sample(&mut rng);
        if stored[k] {
            hits += 1;
            by_count.remove(&(count[k], last[k], k as u32));
        }
        count[k] += 1;
        last[k] = t;
        if stored[k] {
            by_count.insert((count[k], t, k as u32));
        } else if by_count.len() < capacity {
            stored[k] = true;
            by_count.insert((count[k], t, k as u32));
        } else if let Some(&(c, l, v)) = by_count.first() {
            if count[k] > c {
                by_count.remove(&(c, l, v));
                stored[v as usize] = false;
                stored[k] = true;
                by_count.insert((count[k], t, k as u32));
            }
        }
    }
    hits as f64 / requests as f64
}

fn main() {
    let o = match parse_opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hitratio: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = run(&o) {
        eprintln!("hitratio: {e}");
        std::process::exit(2);
    }
}
