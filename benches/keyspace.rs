//! In-process benchmarks of the hot paths below the network: RESP parsing, keyspace SET/GET,
//! and bytes of allocator memory per key. Run with `cargo bench --bench keyspace`.
//!
//! Timings are wall-clock medians of several rounds; memory is exact (the counting allocator).

use std::hint::black_box;
use std::time::Instant;

use larder_engine::{clock, memory, KeyRef, Keyspace, Value};
use larder_resp::{Parse, ParseLimits, Request, RequestParser};

#[global_allocator]
static GLOBAL: larder::alloc::CountingJemalloc = larder::alloc::CountingJemalloc;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn bench(name: &str, ops: usize, rounds: usize, mut f: impl FnMut()) {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_nanos() as f64 / ops as f64);
    }
    println!("{name:<40} {:>8.1} ns/op", median(samples));
}

fn parse_pipeline() {
    let n = 100_000;
    let mut buf = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:012}");
        buf.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes());
    }
    let limits = ParseLimits::default();
    bench("parse GET request (pipelined)", n, 7, || {
        let mut p = RequestParser::new();
        let mut req = Request::new();
        let mut off = 0;
        while off < buf.len() {
            match p.parse(&buf[off..], &limits, &mut req) {
                Ok(Parse::Complete { consumed }) => off += consumed,
                _ => break,
            }
        }
        black_box(off);
    });
}

fn keyspace_ops() {
    let n = 1_000_000;
    let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("key:{i:012}").into_bytes()).collect();
    let value = vec![b'x'; 100];
    let ks = Keyspace::new(16, 1);
    memory::flush_thread();
    let before = memory::used();
    let t = Instant::now();
    for k in &keys {
        let kr = KeyRef::new(k);
        ks.db(0).lock(kr.shard).set(&kr, Value::Bytes(&value), None);
    }
    let set_ns = t.elapsed().as_nanos() as f64 / n as f64;
    memory::flush_thread();
    let after = memory::used();
    println!("{:<40} {:>8.1} ns/op", "SET 1M new keys (100-byte values)", set_ns);
    println!("{:<40} {:>8.1} bytes/key", "allocated per key (16-byte key, 100 B)", (after - before) as f64 / n as f64);
    let now = clock::now_ms();
    bench("GET hit (random order)", n, 5, || {
        let mut found = 0usize;
        for i in 0..n {
            let k = &keys[(i * 7919) % n];
            let kr = KeyRef::new(k);
            if ks.db(0).lock(kr.shard).get(&kr, now).is_some() {
                found += 1;
            }
        }
        black_box(found);
    });
    bench("KeyRef::new (crc16 + xxh3)", n, 5, || {
        for k in &keys {
            black_box(KeyRef::new(k));
        }
    });
}

fn main() {
    parse_pipeline();
    keyspace_ops();
}
