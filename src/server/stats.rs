//! Server statistics: per-thread counters (written by one thread, summed by INFO) and the few
//! global ones.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use parking_lot::Mutex;

/// Counters owned by one worker (or the background thread). Only the owner writes them, so
/// relaxed atomics cost no cache-line traffic between cores.
#[derive(Default)]
#[repr(align(128))]
pub struct ThreadStats {
    /// Commands executed.
    pub commands: AtomicU64,
    /// Reads that found their key.
    pub hits: AtomicU64,
    /// Reads that did not.
    pub misses: AtomicU64,
    /// Keys removed because they expired.
    pub expired: AtomicU64,
    /// Writes (Redis's dirty counter).
    pub dirty: AtomicU64,
    /// Bytes read from clients.
    pub net_in: AtomicU64,
    /// Bytes written to clients.
    pub net_out: AtomicU64,
}

impl ThreadStats {
    /// Adds `n` to a counter this thread owns.
    #[inline]
    pub fn add(c: &AtomicU64, n: u64) {
        c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
    }
}

/// Per-command counters of one thread (COMMANDSTATS).
#[derive(Default)]
pub struct CmdCounters {
    /// Calls that ran.
    pub calls: AtomicU64,
    /// Microseconds spent.
    pub usec: AtomicU64,
    /// Calls refused before running (arity, auth, OOM...).
    pub rejected: AtomicU64,
    /// Calls that ran and replied with an error.
    pub failed: AtomicU64,
}

/// Server-wide statistics.
pub struct Stats {
    /// One slot per worker plus one for background work.
    pub threads: Box<[ThreadStats]>,
    /// Per thread, per command id.
    pub per_cmd: Box<[Box<[CmdCounters]>]>,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections refused (maxclients).
    pub rejected_connections: AtomicU64,
    /// Error replies by error code (errorstats).
    pub errors: Mutex<BTreeMap<String, u64>>,
    /// Total error replies.
    pub total_errors: AtomicU64,
    /// Evicted keys.
    pub evicted: AtomicU64,
    /// Clients disconnected by client eviction (maxmemory-clients).
    pub evicted_clients: AtomicU64,
    /// Peak of used memory seen by the cron.
    pub peak_memory: AtomicU64,
    /// Ring of (ms, commands) samples for instantaneous_ops_per_sec.
    pub ops_samples: Mutex<OpsSamples>,
}

/// Samples for the instantaneous rates.
#[derive(Default)]
pub struct OpsSamples {
    last_ms: u64,
    last_ops: u64,
    last_in: u64,
    last_out: u64,
    ring: [(f64, f64, f64); 16],
    idx: usize,
}

thread_local! {
    static THREAD_SLOT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Stats {
    /// Statistics for `threads` threads and `commands` command ids.
    pub fn new(threads: usize, commands: usize) -> Self {
        Stats {
            threads: (0..threads).map(|_| ThreadStats::default()).collect(),
            per_cmd: (0..threads).map(|_| (0..commands).map(|_| CmdCounters::default()).collect()).collect(),
            connections: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            total_errors: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            evicted_clients: AtomicU64::new(0),
            peak_memory: AtomicU64::new(0),
            ops_samples: Mutex::new(OpsSamples::default()),
        }
    }

    /// Binds the calling thread to stats slot `slot`.
    pub fn bind_thread(slot: usize) {
        THREAD_SLOT.with(|s| s.set(slot));
    }

    /// The calling thread's slot.
    #[inline]
    pub fn slot() -> usize {
        THREAD_SLOT.with(|s| s.get())
    }

    /// The calling thread's counters.
    #[inline]
    pub fn mine(&self) -> &ThreadStats {
        &self.threads[Self::slot().min(self.threads.len() - 1)]
    }

    /// Counts a read hit or miss.
    #[inline]
    pub fn count_lookup(&self, hit: bool) {
        let t = self.mine();
        ThreadStats::add(if hit { &t.hits } else { &t.misses }, 1);
    }

    /// Sum of one counter over all threads.
    pub fn sum(&self, f: impl Fn(&ThreadStats) -> &AtomicU64) -> u64 {
        self.threads.iter().map(|t| f(t).load(Relaxed)).sum()
    }

    /// Counts an error reply by its code (the first word).
    pub fn count_error(&self, text: &str) {
        let code = text.split(' ').next().unwrap_or("ERR");
        self.total_errors.fetch_add(1, Relaxed);
        let mut m = self.errors.lock();
        if let Some(v) = m.get_mut(code) {
            *v += 1;
        } else if m.len() < 128 {
            m.insert(code.to_string(), 1);
        } else {
            *m.entry("ERRORSTATS_DISABLED".to_string()).or_insert(0) += 1;
        }
    }

    /// (calls, usec, rejected, failed) of a command id summed over threads.
    pub fn command(&self, id: usize) -> (u64, u64, u64, u64) {
        self.per_cmd.iter().fold((0, 0, 0, 0), |a, t| {
            let c = &t[id];
            (
                a.0 + c.calls.load(Relaxed),
                a.1 + c.usec.load(Relaxed),
                a.2 + c.rejected.load(Relaxed),
                a.3 + c.failed.load(Relaxed),
            )
        })
    }

    /// Clears the counters CONFIG RESETSTAT clears.
    pub fn reset(&self) {
        for t in self.threads.iter() {
            for c in [&t.commands, &t.hits, &t.misses, &t.expired, &t.net_in, &t.net_out] {
                c.store(0, Relaxed);
            }
        }
        for t in self.per_cmd.iter() {
            for c in t.iter() {
                for x in [&c.calls, &c.usec, &c.rejected, &c.failed] {
                    x.store(0, Relaxed);
                }
            }
        }
        self.connections.store(0, Relaxed);
        self.rejected_connections.store(0, Relaxed);
        self.total_errors.store(0, Relaxed);
        self.evicted.store(0, Relaxed);
        self.evicted_clients.store(0, Relaxed);
        self.errors.lock().clear();
        *self.ops_samples.lock() = OpsSamples::default();
    }

    /// Takes a sample for the instantaneous rates (called by the cron).
    pub fn sample(&self, now_ms: u64) {
        let ops = self.sum(|t| &t.commands);
        let net_in = self.sum(|t| &t.net_in);
        let net_out = self.sum(|t| &t.net_out);
        let mut s = self.ops_samples.lock();
        if s.last_ms != 0 && now_ms > s.last_ms {
            let dt = (now_ms - s.last_ms) as f64 / 1000.0;
            let idx = s.idx;
            s.ring[idx] = (
                ops.saturating_sub(s.last_ops) as f64 / dt,
                net_in.saturating_sub(s.last_in) as f64 / dt,
                net_out.saturating_sub(s.last_out) as f64 / dt,
            );
            s.idx = (idx + 1) % s.ring.len();
        }
        s.last_ms = now_ms;
        s.last_ops = ops;
        s.last_in = net_in;
        s.last_out = net_out;
    }

    /// (ops/sec, input bytes/sec, output bytes/sec), averaged over the recent samples.
    pub fn instantaneous(&self) -> (f64, f64, f64) {
        let s = self.ops_samples.lock();
        let n = s.ring.len() as f64;
        let sum = s.ring.iter().fold((0.0, 0.0, 0.0), |a, r| (a.0 + r.0, a.1 + r.1, a.2 + r.2));
        (sum.0 / n, sum.1 / n, sum.2 / n)
    }
}
