//! Keeping used memory under `maxmemory`: evictions before each command, continued by the
//! cron thread when a command's time budget ran out (so lowering maxmemory a lot never stalls
//! one client for long).

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use larder_engine::evict::{self, Outcome, Policy};
use larder_engine::memory;
use larder_engine::shard::ShardEvents;

use super::Server;
use crate::config::MaxmemoryPolicy;

/// The state of memory after an eviction attempt (Redis's EVICT_OK/RUNNING/FAIL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Under the limit (or no limit).
    Ok,
    /// Still over, but keys are being evicted: the cron goes on, commands are not refused.
    Running,
    /// Over the limit with nothing the policy may evict: writes get -OOM.
    Fail,
}

/// The engine's policy for a `maxmemory-policy` value.
pub fn engine_policy(p: MaxmemoryPolicy) -> Policy {
    match p {
        MaxmemoryPolicy::Noeviction => Policy::NoEviction,
        MaxmemoryPolicy::AllkeysLru => Policy::AllkeysLru,
        MaxmemoryPolicy::VolatileLru => Policy::VolatileLru,
        MaxmemoryPolicy::AllkeysLfu => Policy::AllkeysLfu,
        MaxmemoryPolicy::VolatileLfu => Policy::VolatileLfu,
        MaxmemoryPolicy::AllkeysRandom => Policy::AllkeysRandom,
        MaxmemoryPolicy::VolatileRandom => Policy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl => Policy::VolatileTtl,
        MaxmemoryPolicy::AllkeysTinylfu => Policy::AllkeysTinyLfu,
    }
}

/// How long one call may evict, from `maxmemory-eviction-tenacity` (0..100): linear up to
/// 500 µs at 10 (the default), then 15% more per step, unbounded at 100 (Redis's curve).
pub fn time_limit(tenacity: u32) -> Option<Duration> {
    match tenacity {
        0..=10 => Some(Duration::from_micros(50 * tenacity as u64)),
        11..=99 => Some(Duration::from_micros((500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64)),
        _ => None,
    }
}

/// Bytes counted against `maxmemory`, flushing this thread's pending allocation count first.
pub fn used_for_eviction() -> u64 {
    memory::flush_thread();
    memory::used()
}

/// True when a limit is set and used memory is over it.
pub fn over_limit(srv: &Server) -> bool {
    let max = srv.hot.maxmemory.load(Relaxed);
    max > 0 && used_for_eviction() > max
}

/// Evicts keys until used memory is under `maxmemory`, for at most the tenacity's time limit
/// (`budget` overrides it). The caller holds its gate and no shard lock; `worker` is the
/// calling worker (for local delivery of `evicted` events), None from the cron.
pub fn perform(srv: &Server, worker: Option<usize>, budget: Option<Duration>) -> State {
    let max = srv.hot.maxmemory.load(Relaxed);
    if max == 0 || used_for_eviction() <= max {
        srv.hot.evicting.store(false, Relaxed);
        return State::Ok;
    }
    if evict::policy() == Policy::NoEviction {
        return State::Fail;
    }
    let limit = budget.or_else(|| time_limit(srv.hot.eviction_tenacity.load(Relaxed) as u32));
    let started = Instant::now();
    let mut evicted = 0u64;
    let state = loop {
        let outcome = evict::evict_one(&srv.keyspace, |db, ev| fold(srv, db, ev, worker));
        if outcome == Outcome::Nothing {
            break State::Fail;
        }
        evicted += 1;
        if used_for_eviction() <= max {
            break State::Ok;
        }
        if evicted % 16 == 0 && limit.is_some_and(|l| started.elapsed() >= l) {
            break State::Running;
        }
    };
    srv.hot.evicting.store(state == State::Running, Relaxed);
    if state == State::Fail {
        return wait_for_lazyfree(max, started, limit);
    }
    state
}

/// Nothing left to evict: values queued for the lazy-free thread may still bring memory
/// under the limit, so wait for them a little (within the same time limit).
fn wait_for_lazyfree(max: u64, started: Instant, limit: Option<Duration>) -> State {
    let limit = limit.unwrap_or(Duration::from_millis(1)).min(Duration::from_millis(10));
    while larder_engine::lazyfree::pending() > 0 && started.elapsed() < limit {
        if used_for_eviction() <= max {
            return State::Ok;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    if used_for_eviction() <= max {
        State::Ok
    } else {
        State::Fail
    }
}

/// Folds one eviction's shard events into the statistics, keyspace events and tracking
/// invalidations.
fn fold(srv: &Server, db: usize, ev: &mut ShardEvents, worker: Option<usize>) {
    srv.stats.evicted.fetch_add(std::mem::take(&mut ev.evicted), Relaxed);
    for key in std::mem::take(&mut ev.evicted_keys) {
        super::notify::notify(srv, larder_engine::notify::EVICTED, "evicted", &key, db, worker);
    }
    if !ev.modified_keys.is_empty() {
        let keys = std::mem::take(&mut ev.modified_keys);
        srv.tracking.invalidate(srv, &keys, false, 0, worker);
    }
}
