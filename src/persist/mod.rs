//! Persistence: RDB snapshots ([`rdb`]), when they are taken (SAVE, BGSAVE, `save` points,
//! shutdown) and the state INFO persistence reports.

pub mod aof;
pub mod check;
pub mod mapped;
pub mod rdb;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::server::{log, Server};

/// Persistence state shared by the commands, the cron and the saver thread.
#[derive(Default)]
pub struct Persist {
    /// A background save is running.
    pub bgsave_running: AtomicBool,
    /// Asks a running background save to stop (shutdown).
    pub cancel_save: AtomicBool,
    /// The dirty counter when the last successful save began.
    pub dirty_at_save: AtomicU64,
    /// Unix time (s) of the last successful save.
    pub lastsave: AtomicU64,
    /// Whether the last background save succeeded.
    pub last_bgsave_failed: AtomicBool,
    /// Seconds the last background save took (-1: none yet).
    pub last_bgsave_secs: AtomicI64,
    /// Unix ms when the running background save began.
    pub bgsave_started_ms: AtomicU64,
    /// Unix s of the last background save attempt (failed saves are retried after 5 s).
    pub last_attempt: AtomicU64,
    /// Successful saves since start.
    pub saves: AtomicU64,
    /// A dataset is being loaded.
    pub loading: AtomicBool,
    /// Progress of the load in percent (f64 bits).
    pub loading_perc: AtomicU64,
    /// Bytes of the file being loaded, and bytes loaded so far.
    pub loading_total: AtomicU64,
    /// Bytes loaded so far.
    pub loading_loaded: AtomicU64,
    /// Unix time (s) the load began.
    pub loading_started: AtomicU64,
    /// Keys loaded and skipped as expired by the last load.
    pub last_load: [AtomicU64; 2],
    /// BGSAVE SCHEDULE asked for a save once nothing else runs.
    pub scheduled: AtomicBool,
}

/// Seconds before a failed background save is retried by the save points.
const RETRY_DELAY_S: u64 = 5;

fn dirty(srv: &Server) -> u64 {
    srv.stats.sum(|s| &s.dirty)
}

/// Writes since the last successful save (INFO rdb_changes_since_last_save).
pub fn changes_since_save(srv: &Server) -> u64 {
    dirty(srv).saturating_sub(srv.persist.dirty_at_save.load(Relaxed))
}

fn now_s() -> u64 {
    larder_engine::clock::now_ms() / 1000
}

fn saved(srv: &Server, dirty_at_start: u64) {
    srv.persist.dirty_at_save.store(dirty_at_start, Relaxed);
    srv.persist.lastsave.store(now_s(), Relaxed);
    srv.persist.saves.fetch_add(1, Relaxed);
}

/// SAVE: a snapshot written by the caller, who holds every gate (nothing else runs).
pub fn save_blocking(srv: &Server) -> Result<(), String> {
    if srv.persist.bgsave_running.load(Relaxed) {
        return Err("ERR Background save already in progress".into());
    }
    let d = dirty(srv);
    let started = rdb::begin(srv);
    match rdb::write(srv, started, None) {
        Ok(_) => {
            saved(srv, d);
            Ok(())
        }
        Err(e) => {
            log::warning(&e);
            Err("ERR".into())
        }
    }
}

/// BGSAVE: begins a snapshot (the caller holds every gate) and writes it on its own thread.
pub fn start_bgsave(srv: &std::sync::Arc<Server>) -> Result<(), String> {
    if srv.persist.bgsave_running.swap(true, Relaxed) {
        return Err("ERR Background save already in progress".into());
    }
    srv.persist.cancel_save.store(false, Relaxed);
    srv.persist.last_attempt.store(now_s(), Relaxed);
    srv.persist.bgsave_started_ms.store(larder_engine::clock::now_ms(), Relaxed);
    let d = dirty(srv);
    let started = rdb::begin(srv);
    let gate = srv.worker_count;
    let srv2 = srv.clone();
    let spawned = std::thread::Builder::new().name("larder-bgsave".into()).spawn(move || {
        let t0 = std::time::Instant::now();
        let r = rdb::write(&srv2, started, Some(gate));
        let p = &srv2.persist;
        p.last_bgsave_secs.store(t0.elapsed().as_secs() as i64, Relaxed);
        match r {
            Ok(_) => {
                saved(&srv2, d);
                p.last_bgsave_failed.store(false, Relaxed);
                log::notice("Background saving terminated with success");
            }
            Err(e) => {
                log::warning(&format!("Background saving error: {e}"));
                p.last_bgsave_failed.store(true, Relaxed);
            }
        }
        p.bgsave_running.store(false, Relaxed);
    });
    if let Err(e) = spawned {
        srv.keyspace.abort_snapshot();
        srv.persist.bgsave_running.store(false, Relaxed);
        return Err(format!("ERR Can't start the background save thread: {e}"));
    }
    log::notice("Background saving started");
    Ok(())
}

/// The cron's check of the `save <seconds> <changes>` points (and BGSAVE SCHEDULE). The cron
/// holds no gate here.
pub fn cron(srv: &std::sync::Arc<Server>) {
    let p = &srv.persist;
    if p.bgsave_running.load(Relaxed) {
        return;
    }
    let now = now_s();
    let due = p.scheduled.load(Relaxed) || {
        let points = srv.config.read().save.clone();
        let changes = changes_since_save(srv);
        let since = now.saturating_sub(p.lastsave.load(Relaxed));
        let retry_ok =
            !p.last_bgsave_failed.load(Relaxed) || now.saturating_sub(p.last_attempt.load(Relaxed)) > RETRY_DELAY_S;
        retry_ok && points.iter().any(|&(secs, n)| changes >= n && since >= secs)
    };
    if due {
        p.scheduled.store(false, Relaxed);
        log::notice("Saving the dataset: a save point was reached");
        let _x = srv.keyspace.exclusive();
        if let Err(e) = start_bgsave(srv) {
            log::warning(&e);
        }
    }
}

/// The snapshot taken on shutdown (SHUTDOWN, SIGTERM): stops a running background save and
/// saves synchronously. The caller holds no gate.
pub fn save_on_shutdown(srv: &Server) -> Result<(), String> {
    if srv.persist.bgsave_running.load(Relaxed) {
        log::notice("There is a background save in progress: stopping it to save synchronously");
        srv.persist.cancel_save.store(true, Relaxed);
        while srv.persist.bgsave_running.load(Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        srv.persist.cancel_save.store(false, Relaxed);
    }
    log::notice("Saving the final RDB snapshot before exiting.");
    let _x = srv.keyspace.exclusive();
    save_blocking(srv).map_err(|_| "Error trying to save the DB, can't exit.".to_string())
}

/// Empties every database and the function libraries, then loads the dump file (DEBUG
/// RELOAD). The caller holds every gate.
pub fn reload(srv: &Server) -> Result<(), String> {
    let ks = &srv.keyspace;
    for db in 0..ks.db_count() {
        for shard in 0..larder_engine::SHARDS {
            let mut s = ks.db(db).lock(shard);
            let table = s.clear();
            s.events = Default::default();
            drop(s);
            larder_engine::Keyspace::free_later(table);
        }
    }
    srv.scripting.function_flush();
    let path: PathBuf = srv.config.read().dbfilename.clone().into();
    let r = rdb::load(srv, &path);
    if let Err(e) = &r {
        log::warning(e);
    }
    r.map(|_| ())
}

/// Loads the configured dump file at start, if there is one. An unreadable or corrupt file
/// stops start-up (as Redis does), with the reason.
pub fn load_at_start(srv: &Server) -> Result<(), String> {
    srv.persist.loading_started.store(now_s(), Relaxed);
    // With the append-only file on, it alone is the dataset (as in Redis).
    if srv.config.read().appendonly {
        aof::load::load_at_start(srv)?;
        srv.persist.dirty_at_save.store(dirty(srv), Relaxed);
        return Ok(());
    }
    let path: PathBuf = srv.config.read().dbfilename.clone().into();
    if !path.exists() {
        return Ok(());
    }
    let (loaded, expired) = rdb::load(srv, &path)?;
    srv.persist.last_load[0].store(loaded, Relaxed);
    srv.persist.last_load[1].store(expired, Relaxed);
    srv.persist.dirty_at_save.store(dirty(srv), Relaxed);
    Ok(())
}
