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
/// Messages on their way to another worker's clients (or waiting in this worker's queue) are
/// left out: Redis's single loop writes such messages to their clients before it reads the
/// next command, and counting them here would let the invalidations sent for evicted keys
/// cause further evictions. Once delivered, what a client has not read counts again.
pub fn used_for_eviction() -> u64 {
    memory::flush_thread();
    memory::used().saturating_sub(super::pubsub::in_transit())
}

/// True when a limit is set and used memory is over it.
pub fn over_limit(srv: &Server) -> bool {
    let max = srv.hot.maxmemory.load(Relaxed);
    max > 0 && used_for_eviction() > max
}

/// Evicts keys until the memory over `maxmemory` at the start has been freed, for at most the
/// tenacity's time limit (`budget` overrides it). As in Redis, only what the deletions
/// themselves free counts: the notifications and invalidations an eviction sends allocate
/// too, and counting them could make one call evict everything. The caller holds its gate and
/// no shard lock; `worker` is the calling worker (for local delivery of `evicted` events),
/// None from the cron.
pub fn perform(srv: &Server, worker: Option<usize>, budget: Option<Duration>) -> State {
    let max = srv.hot.maxmemory.load(Relaxed);
    let mut used = if max == 0 { 0 } else { used_for_eviction() };
    if used > max && srv.hot.maxmemory_clients.load(Relaxed) != 0 {
        // As Redis: clients over their own limit go before any key does, and clients already
        // evicted hold memory only until their worker closes them.
        evict_clients(srv);
        // Memory that client eviction answers for is not the keys' to give back: clients
        // being closed, and what live clients hold beyond maxmemory-clients (another worker
        // may be evicting them right now).
        let (closing, live) = clients_memory(srv);
        let excess = live.saturating_sub(client_limit(srv));
        used = used_for_eviction().saturating_sub(closing + excess);
    }
    if used <= max {
        srv.hot.evicting.store(false, Relaxed);
        return State::Ok;
    }
    if evict::policy() == Policy::NoEviction {
        return State::Fail;
    }
    let to_free = (used - max) as i64;
    let limit = budget.or_else(|| time_limit(srv.hot.eviction_tenacity.load(Relaxed) as u32));
    let started = Instant::now();
    let (mut evicted, mut freed) = (0u64, 0i64);
    let mut events: Vec<(usize, ShardEvents)> = Vec::new();
    let state = loop {
        let outcome = evict::evict_one(&srv.keyspace, |db, ev| events.push((db, std::mem::take(ev))));
        for (db, mut ev) in events.drain(..) {
            fold(srv, db, &mut ev, worker);
        }
        let Outcome::Evicted { freed: bytes, .. } = outcome else {
            break State::Fail;
        };
        freed += bytes;
        evicted += 1;
        if freed >= to_free {
            break State::Ok;
        }
        if evicted % 16 == 0 {
            // Values freed on the lazy-free thread do not show in this thread's count.
            if used_for_eviction() <= max {
                break State::Ok;
            }
            if limit.is_some_and(|l| started.elapsed() >= l) {
                break State::Running;
            }
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

/// The client memory limit in bytes (`maxmemory-clients`: bytes, or a percentage of
/// maxmemory given as a negative number); 0 when there is none.
pub fn client_limit(srv: &Server) -> u64 {
    let v = srv.hot.maxmemory_clients.load(Relaxed);
    if v >= 0 {
        v as u64
    } else {
        srv.hot.maxmemory.load(Relaxed) * v.unsigned_abs() / 100
    }
}

/// Client eviction: while the clients together hold more than `maxmemory-clients`,
/// disconnects the ones holding the most (never a CLIENT NO-EVICT one). Returns how many.
pub fn evict_clients(srv: &Server) -> usize {
    let limit = client_limit(srv);
    if limit == 0 || srv.clients.memory_total() <= limit {
        return 0;
    }
    let mut clients = srv.clients.all();
    // Clients already being closed are not counted: their memory is about to go.
    clients.retain(|c| !closing(c));
    let mut total: u64 = clients.iter().map(|c| c.memory() as u64).sum();
    if total <= limit {
        return 0;
    }
    clients.retain(|c| c.flags.load(Relaxed) & super::client::cflag::NO_EVICT == 0);
    clients.sort_by_key(|c| std::cmp::Reverse(c.memory()));
    let mut evicted = 0;
    for c in clients {
        if total <= limit {
            break;
        }
        total = total.saturating_sub(c.memory() as u64);
        c.kill.store(true, Relaxed);
        c.set_flag(super::client::cflag::CLOSE_ASAP, true);
        srv.send_to_worker(c.worker, super::worker::Msg::CheckKills);
        super::log::verbose(&format!(
            "Evicting client: id={} addr={} (maxmemory-clients {limit} exceeded)",
            c.id, c.addr
        ));
        evicted += 1;
    }
    srv.stats.evicted_clients.fetch_add(evicted as u64, Relaxed);
    evicted
}

fn closing(c: &super::client::ClientShared) -> bool {
    c.kill.load(Relaxed) || c.flags.load(Relaxed) & super::client::cflag::CLOSE_ASAP != 0
}

/// Memory held by clients being closed (client eviction disconnected them, their worker has
/// not closed them yet), and by the other clients.
fn clients_memory(srv: &Server) -> (u64, u64) {
    srv.clients.all().iter().fold((0, 0), |(closing_mem, live), c| {
        let m = c.memory() as u64;
        if closing(c) {
            (closing_mem + m, live)
        } else {
            (closing_mem, live + m)
        }
    })
}

/// Folds one eviction's shard events into the statistics, keyspace events and tracking
/// invalidations.
fn fold(srv: &Server, db: usize, ev: &mut ShardEvents, worker: Option<usize>) {
    srv.stats.evicted.fetch_add(std::mem::take(&mut ev.evicted), Relaxed);
    if srv.aof.on.load(Relaxed) {
        crate::persist::aof::log_dels(srv, db, &ev.evicted_keys);
    }
    for key in std::mem::take(&mut ev.evicted_keys) {
        super::notify::notify(srv, larder_engine::notify::EVICTED, "evicted", &key, db, worker);
    }
    if !ev.modified_keys.is_empty() {
        let keys = std::mem::take(&mut ev.modified_keys);
        srv.tracking.invalidate(srv, &keys, false, 0, worker);
    }
}
