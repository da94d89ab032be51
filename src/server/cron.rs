//! The background thread: LRU clock, active expiry, rate sampling, memory peak.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use larder_engine::{clock, memory, SHARDS};

use super::stats::{Stats, ThreadStats};
use super::{log, Server};

/// Slots an active-expiry step visits in one shard before moving on.
const STEP_SLOTS: usize = 1024;

/// Starts the cron thread.
pub fn start(srv: &Arc<Server>) {
    let srv = srv.clone();
    let spawned = std::thread::Builder::new().name("larder-cron".into()).spawn(move || {
        let slot = srv.worker_count;
        Stats::bind_thread(slot);
        clock::refresh_lru_clock();
        while !srv.shutting_down.load(Relaxed) {
            let hz = srv.hot.hz.load(Relaxed).clamp(1, 500);
            let period = Duration::from_millis(1000 / hz);
            let started = Instant::now();
            clock::refresh_lru_clock();
            if srv.hot.active_expire.load(Relaxed) {
                // Redis bounds this work to a quarter of each period.
                active_expire(&srv, slot, period / 4);
            }
            super::evict::evict_clients(&srv);
            if srv.hot.evicting.load(Relaxed) || super::evict::over_limit(&srv) {
                // Eviction a command left unfinished (or memory that grew while idle):
                // continue it within the same quarter-period budget as active expiry.
                let _gate = srv.keyspace.gate(slot);
                super::evict::perform(&srv, None, Some(period / 4));
            }
            let table_max = srv.config.read().tracking_table_max_keys;
            srv.tracking.limit_keys(&srv, table_max);
            crate::persist::cron(&srv);
            crate::persist::aof::cron(&srv);
            srv.stats.sample(clock::now_ms());
            memory::flush_thread();
            srv.stats.peak_memory.fetch_max(memory::used(), Relaxed);
            if let Some(rest) = period.checked_sub(started.elapsed()) {
                std::thread::sleep(rest);
            }
        }
    });
    if let Err(e) = spawned {
        log::warning(&format!("Cannot start the cron thread: {e}"));
    }
}

/// One active-expiry cycle over every database: each shard with keys that have a TTL is swept
/// step by step while more than 10% of what a step visits turns out expired, within `budget`.
pub fn active_expire(srv: &Server, gate_index: usize, budget: Duration) {
    let started = Instant::now();
    let ks = &srv.keyspace;
    let stats = &srv.stats.threads[gate_index.min(srv.stats.threads.len() - 1)];
    for db in 0..ks.db_count() {
        for shard in 0..SHARDS {
            loop {
                let now = clock::now_ms();
                let (visited, removed) = {
                    let _gate = ks.gate(gate_index);
                    let mut s = ks.db(db).lock(shard);
                    let fields = if s.has_field_ttls() { s.expire_fields_step(now, STEP_SLOTS) } else { 0 };
                    // A full step of expired fields counts as "mostly expired": go on.
                    let (visited, removed) = if s.volatile_len() == 0 {
                        (fields, fields)
                    } else {
                        let (v, r) = s.expire_step(now, STEP_SLOTS);
                        (v + fields, r + fields)
                    };
                    ThreadStats::add(&stats.expired, std::mem::take(&mut s.events.expired));
                    ThreadStats::add(&stats.dirty, std::mem::take(&mut s.events.dirty));
                    if srv.aof.on.load(Relaxed) {
                        crate::persist::aof::log_dels(srv, db, &s.events.expired_keys);
                    }
                    if !s.events.expired_keys.is_empty() || !s.events.new_keys.is_empty() {
                        super::notify::shard_events(srv, db, &mut s.events, None);
                    }
                    if !s.events.modified_keys.is_empty() {
                        let keys = std::mem::take(&mut s.events.modified_keys);
                        srv.tracking.invalidate(srv, &keys, false, 0, None);
                    }
                    (visited, removed)
                };
                if started.elapsed() >= budget {
                    return;
                }
                if visited == 0 || removed * 10 < visited {
                    break;
                }
            }
        }
    }
}
