//! The server: shared state, start-up, listeners, worker event loops and the cron.
//!
//! A request's path: [`listener`] accepts a socket and hands it to a worker; the worker's
//! event loop ([`worker`]) reads everything available, [`conn`] parses every complete request
//! and runs each through [`dispatch`], which checks it against the command table, locks the
//! shards its keys live in and calls the handler; the replies of the whole batch go back in one
//! write.

pub mod blocking;
pub mod client;
pub mod conn;
pub mod cron;
pub mod dispatch;
pub mod evict;
pub mod listener;
pub mod log;
pub mod notify;
pub mod pubsub;
pub mod slowlog;
pub mod stats;
pub mod tracking;
pub mod worker;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use larder_engine::Keyspace;
use parking_lot::{Mutex, RwLock};

use crate::commands::table::CommandTable;
use crate::config::Config;

/// Larder's own version.
pub const LARDER_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Redis version Larder is compatible with (reported as `redis_version`).
pub const REDIS_VERSION: &str = "7.2.4";

/// Settings read on hot paths, mirrored from [`Config`] into atomics so commands never take
/// the configuration lock.
#[derive(Default)]
pub struct Hot {
    /// proto-max-bulk-len.
    pub proto_max_bulk_len: AtomicU64,
    /// client-query-buffer-limit.
    pub query_buffer_limit: AtomicU64,
    /// slowlog-log-slower-than (microseconds; negative disables).
    pub slowlog_slower_than: AtomicI64,
    /// slowlog-max-len.
    pub slowlog_max_len: AtomicU64,
    /// maxclients.
    pub maxclients: AtomicU64,
    /// timeout (seconds; 0 disables).
    pub timeout: AtomicU64,
    /// True when requirepass is set.
    pub auth_required: AtomicBool,
    /// Active expiry enabled (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: AtomicBool,
    /// hz.
    pub hz: AtomicU64,
    /// CLIENT PAUSE deadline (unix ms; 0 when not paused).
    pub pause_until: AtomicU64,
    /// CLIENT PAUSE WRITE (only writes are held back).
    pub pause_writes_only: AtomicBool,
    /// Collection encoding thresholds.
    pub limits: parking_lot::RwLock<larder_engine::types::Limits>,
    /// busy-reply-threshold (ms): a script running longer makes others answer -BUSY.
    pub busy_reply_threshold: AtomicU64,
    /// client-output-buffer-limit for Pub/Sub clients: hard bytes, soft bytes, soft seconds.
    pub pubsub_limits: [AtomicU64; 3],
    /// `maxmemory` in bytes (0: no limit).
    pub maxmemory: AtomicU64,
    /// `maxmemory-eviction-tenacity`.
    pub eviction_tenacity: AtomicU64,
    /// True while eviction is behind (the cron continues it).
    pub evicting: AtomicBool,
    /// `maxmemory-clients` (bytes, or minus a percentage of maxmemory; 0: none).
    pub maxmemory_clients: AtomicI64,
}

impl Hot {
    /// The collection encoding thresholds in force.
    #[inline]
    pub fn limits(&self) -> larder_engine::types::Limits {
        *self.limits.read()
    }
}

/// A worker's mailbox: how other threads hand it connections and signals.
pub struct WorkerHandle {
    /// Pending messages.
    pub inbox: Mutex<Vec<worker::Msg>>,
    /// Wakes the worker's poll.
    pub waker: mio::Waker,
}

impl WorkerHandle {
    /// Queues a message and wakes the worker.
    pub fn send(&self, msg: worker::Msg) {
        self.inbox.lock().push(msg);
        // A failed wake leaves the message for the worker's next periodic tick.
        let _ = self.waker.wake();
    }
}

/// State shared by every thread.
pub struct Server {
    /// The databases.
    pub keyspace: Keyspace,
    /// The configuration (CONFIG GET/SET/REWRITE).
    pub config: RwLock<Config>,
    /// Hot settings.
    pub hot: Hot,
    /// The requirepass password.
    pub password: RwLock<Option<Vec<u8>>>,
    /// Statistics.
    pub stats: stats::Stats,
    /// Connected clients.
    pub clients: client::Registry,
    /// Clients blocked on keys.
    pub blocking: blocking::Blocking,
    /// Pub/Sub subscriptions.
    pub pubsub: pubsub::PubSub,
    /// Client-side caching.
    pub tracking: tracking::Tracking,
    /// The command table.
    pub commands: CommandTable,
    /// Workers' mailboxes (set once the workers start).
    pub workers: OnceLock<Vec<WorkerHandle>>,
    /// SLOWLOG.
    pub slowlog: Mutex<slowlog::SlowLog>,
    /// Clients in MONITOR mode: (client id, worker index).
    pub monitors: Mutex<Vec<(u64, usize)>>,
    /// True while at least one MONITOR client exists.
    pub monitoring: AtomicBool,
    /// Set when the server is shutting down.
    pub shutting_down: AtomicBool,
    /// Start instant (uptime).
    pub started: Instant,
    /// Random run id (40 hex chars).
    pub run_id: String,
    /// Number of worker threads.
    pub worker_count: usize,
    /// TCP port actually listened on.
    pub port: u16,
    /// Path of the executable.
    pub executable: String,
    /// Bytes allocated when the server became ready (used_memory_startup).
    pub startup_memory: u64,
    /// Unix time (seconds) at start.
    pub started_unix: u64,
    /// The running script or function.
    pub script: ScriptState,
    /// Lua scripting and function libraries.
    pub scripting: crate::scripting::Scripting,
    /// Persistence state (snapshots, loading).
    pub persist: crate::persist::Persist,
    /// The append-only file.
    pub aof: crate::persist::aof::Aof,
    /// How the requested shutdown treats the dataset (see [`ShutdownSave`]).
    pub shutdown_save: std::sync::atomic::AtomicU8,
    /// SHUTDOWN was requested (the main thread then saves and stops the workers).
    pub shutdown_requested: AtomicBool,
    /// This server, for work that outlives a command (background saves).
    pub me: OnceLock<std::sync::Weak<Server>>,
}

/// What a requested shutdown does about saving.
pub mod shutdown_save {
    /// Save when `save` points are configured (SIGTERM, plain SHUTDOWN).
    pub const DEFAULT: u8 = 0;
    /// Always save (SHUTDOWN SAVE).
    pub const SAVE: u8 = 1;
    /// Never save (SHUTDOWN NOSAVE).
    pub const NOSAVE: u8 = 2;
}

/// The script (or function) holding the keyspace, if any: others answer -BUSY once it has run
/// longer than busy-reply-threshold, and SCRIPT KILL / FUNCTION KILL ask it to stop.
#[derive(Default)]
pub struct ScriptState {
    /// Unix ms when the running script started; 0 when none runs.
    pub started_ms: AtomicU64,
    /// True while the running script is a function (FCALL).
    pub is_function: AtomicBool,
    /// True once the running script performed a write (it can then only be stopped by
    /// SHUTDOWN NOSAVE).
    pub wrote: AtomicBool,
    /// Set by SCRIPT KILL / FUNCTION KILL; the script checks it and stops.
    pub kill: AtomicBool,
}

impl Server {
    /// True when a script has run past busy-reply-threshold.
    pub fn script_busy(&self) -> bool {
        let started = self.script.started_ms.load(Relaxed);
        started != 0
            && larder_engine::clock::now_ms().saturating_sub(started) >= self.hot.busy_reply_threshold.load(Relaxed)
    }

    /// The -BUSY error other clients get while a script is busy.
    pub fn busy_error(&self) -> &'static str {
        if self.script.is_function.load(Relaxed) {
            "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
        } else {
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
        }
    }
}

impl Server {
    /// Builds the shared state for `config` with `workers` worker threads.
    pub fn new(config: Config, workers: usize) -> Server {
        let commands = CommandTable::build();
        let threads = workers + 1;
        let hot = Hot::default();
        let port = config.port;
        let password = config.requirepass.clone();
        let srv = Server {
            keyspace: Keyspace::new(config.databases, threads),
            stats: stats::Stats::new(threads, commands.len()),
            commands,
            hot,
            password: RwLock::new(password),
            clients: client::Registry::default(),
            blocking: blocking::Blocking::default(),
            pubsub: pubsub::PubSub::default(),
            tracking: tracking::Tracking::default(),
            workers: OnceLock::new(),
            slowlog: Mutex::new(slowlog::SlowLog::default()),
            monitors: Mutex::new(Vec::new()),
            monitoring: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            started: Instant::now(),
            run_id: (0..40).map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0')).collect(),
            worker_count: workers,
            port,
            executable: std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            config: RwLock::new(config),
            startup_memory: 0,
            started_unix: larder_engine::clock::now_ms() / 1000,
            script: ScriptState::default(),
            scripting: crate::scripting::Scripting::new(),
            persist: crate::persist::Persist::default(),
            aof: crate::persist::aof::Aof::default(),
            shutdown_save: std::sync::atomic::AtomicU8::new(shutdown_save::DEFAULT),
            me: OnceLock::new(),
            shutdown_requested: AtomicBool::new(false),
        };
        srv.persist.lastsave.store(srv.started_unix, Relaxed);
        srv.persist.last_bgsave_secs.store(-1, Relaxed);
        srv.hot.active_expire.store(true, Relaxed);
        srv.apply_config();
        srv
    }

    /// Re-reads the hot settings from the configuration (after start-up and CONFIG SET).
    pub fn apply_config(&self) {
        let c = self.config.read();
        let h = &self.hot;
        h.proto_max_bulk_len.store(c.proto_max_bulk_len, Relaxed);
        h.query_buffer_limit.store(c.client_query_buffer_limit, Relaxed);
        h.slowlog_slower_than.store(c.slowlog_log_slower_than, Relaxed);
        h.slowlog_max_len.store(c.slowlog_max_len, Relaxed);
        h.maxclients.store(c.maxclients as u64, Relaxed);
        h.timeout.store(c.timeout as u64, Relaxed);
        h.hz.store(c.hz.clamp(1, 500) as u64, Relaxed);
        h.busy_reply_threshold.store(c.busy_reply_threshold, Relaxed);
        larder_engine::notify::set(larder_engine::notify::parse(&c.notify_keyspace_events));
        h.maxmemory.store(c.maxmemory, Relaxed);
        self.aof.fsync.store(crate::persist::aof::fsync_code(c.appendfsync), Relaxed);
        self.aof.timestamps.store(c.aof_timestamp_enabled, Relaxed);
        if c.appendonly != self.aof.on.load(Relaxed) && self.me.get().is_some() {
            if c.appendonly {
                // Turned on at run time: the cron starts the AOF with a base of this moment.
                self.aof.enable_requested.store(true, Relaxed);
            } else {
                crate::persist::aof::stop(self);
            }
        }
        h.maxmemory_clients.store(c.maxmemory_clients, Relaxed);
        h.eviction_tenacity.store(c.maxmemory_eviction_tenacity as u64, Relaxed);
        let policy = evict::engine_policy(c.maxmemory_policy);
        larder_engine::evict::configure(policy, c.maxmemory_samples, c.lfu_log_factor, c.lfu_decay_time);
        if policy != larder_engine::evict::Policy::AllkeysTinyLfu {
            larder_engine::evict::sketch::clear();
        }
        larder_engine::lazyfree::configure(
            c.lazyfree_lazy_user_del,
            c.lazyfree_lazy_server_del,
            c.lazyfree_lazy_expire,
            c.lazyfree_lazy_eviction,
        );
        let ps = &c.client_output_buffer_limit.pubsub;
        h.pubsub_limits[0].store(ps.hard, Relaxed);
        h.pubsub_limits[1].store(ps.soft, Relaxed);
        h.pubsub_limits[2].store(ps.soft_seconds, Relaxed);
        h.auth_required.store(c.requirepass.is_some(), Relaxed);
        *self.password.write() = c.requirepass.clone();
        // A packed encoding holds at most MAX_ELEMENTS elements (two per hash field or
        // sorted-set member): larger settings mean "as many as fit".
        let packed_max = larder_engine::types::packed::MAX_ELEMENTS / 2;
        *h.limits.write() = larder_engine::types::Limits {
            hash_entries: c.hash_max_listpack_entries.min(packed_max),
            hash_value: c.hash_max_listpack_value,
            list_size: c.list_max_listpack_size as i64,
            set_intset_entries: c.set_max_intset_entries,
            set_entries: c.set_max_listpack_entries.min(packed_max),
            set_value: c.set_max_listpack_value,
            zset_entries: c.zset_max_listpack_entries.min(packed_max),
            zset_value: c.zset_max_listpack_value,
        };
        self.slowlog.lock().trim(c.slowlog_max_len as usize);
    }

    /// Server uptime in seconds.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Sends a message to worker `w`.
    pub fn send_to_worker(&self, w: usize, msg: worker::Msg) {
        if let Some(ws) = self.workers.get() {
            if let Some(h) = ws.get(w) {
                h.send(msg);
            }
        }
    }

    /// Asks every thread to stop.
    pub fn request_shutdown(&self) {
        self.shutdown_requested.store(true, Relaxed);
        // The main thread waits for signals; wake it with one of its own. It saves if needed,
        // then stops the workers.
        // SAFETY: raising a signal on our own process has no memory-safety implications.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGTERM);
        }
    }
}

/// Starts the server with command-line arguments (without the program name) and runs until
/// shutdown. Returns the process exit code.
pub fn run(argv: &[String]) -> i32 {
    let config = match Config::load(argv) {
        Ok(c) => c,
        Err(crate::config::StartupError::Version) => {
            println!("Larder server v={LARDER_VERSION} redis_version={REDIS_VERSION} bits=64");
            return 0;
        }
        Err(crate::config::StartupError::Help) => {
            println!("Usage: larder [/path/to/redis.conf] [--directive value ...]");
            println!("       larder --port 7777");
            println!("       larder /etc/redis/6379.conf --loglevel verbose");
            println!("       larder -v | --version");
            return 0;
        }
        Err(crate::config::StartupError::Fatal(msg)) => {
            eprintln!("{msg}");
            return 1;
        }
    };
    let threads = match config.io_threads {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        n => n,
    };
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        log::warning(&format!("Can't chdir to '{}': {e}", config.dir.display()));
        return 1;
    }
    // After the chdir: a relative logfile lives in `dir`, as with redis-server.
    log::init(config.loglevel.as_str(), &config.logfile);
    let mut srv = Server::new(config, threads);
    larder_engine::memory::flush_thread();
    srv.startup_memory = larder_engine::memory::used();
    let srv = Arc::new(srv);
    let _ = srv.me.set(Arc::downgrade(&srv));
    log::notice(&format!(
        "Larder {LARDER_VERSION} (redis_version {REDIS_VERSION}) starting, pid={}, port={}, worker threads={threads}",
        std::process::id(),
        srv.port
    ));
    // Before the port opens: a SIGTERM that arrives as soon as a client can connect must
    // still be a clean shutdown, not the default action (killed by the signal).
    let signals = install_signals();
    let listeners = match listener::bind_all(&srv) {
        Ok(l) => l,
        Err(e) => {
            log::warning(&e);
            return 1;
        }
    };
    let handles = match worker::start_workers(&srv) {
        Ok(h) => h,
        Err(e) => {
            log::warning(&format!("Could not start worker threads: {e}"));
            return 1;
        }
    };
    // Clients may connect while the dataset loads: they get -LOADING (INFO shows progress).
    srv.persist.loading.store(true, Relaxed);
    for l in listeners {
        listener::spawn_acceptor(&srv, l);
    }
    let loaded = crate::persist::load_at_start(&srv).and_then(|_| {
        if srv.config.read().appendonly {
            crate::persist::aof::open_at_start(&srv)?;
        }
        Ok(())
    });
    srv.persist.loading.store(false, Relaxed);
    if let Err(e) = loaded {
        log::warning(&e);
        log::warning("Fatal error loading the DB, check the file or remove it. Exiting.");
        srv.shutting_down.store(true, Relaxed);
        for w in srv.workers.get().into_iter().flatten() {
            let _ = w.waker.wake();
        }
        for h in handles {
            let _ = h.join();
        }
        return 1;
    }
    cron::start(&srv);
    crate::persist::aof::start_fsync_thread(&srv);
    log::notice("Ready to accept connections tcp");
    let mut signals = signals;
    loop {
        signals = wait_for_signal(&srv, signals);
        if let Err(e) = save_before_exit(&srv) {
            log::warning(&e);
            srv.shutdown_save.store(shutdown_save::DEFAULT, Relaxed);
            continue;
        }
        break;
    }
    crate::persist::aof::flush_at_exit(&srv);
    log::notice("Received shutdown request, Larder is now ready to exit, bye bye...");
    srv.shutting_down.store(true, Relaxed);
    for w in srv.workers.get().into_iter().flatten() {
        let _ = w.waker.wake();
    }
    for h in handles {
        let _ = h.join();
    }
    0
}

/// The final snapshot, when the shutdown asks for one (SHUTDOWN SAVE, or `save` points set
/// and not SHUTDOWN NOSAVE).
fn save_before_exit(srv: &Server) -> Result<(), String> {
    let mode = srv.shutdown_save.load(Relaxed);
    let wanted = match mode {
        shutdown_save::SAVE => true,
        shutdown_save::NOSAVE => false,
        _ => !srv.config.read().save.is_empty(),
    };
    if wanted {
        crate::persist::save_on_shutdown(srv)
    } else {
        Ok(())
    }
}

fn install_signals() -> Option<signal_hook::iterator::Signals> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(s) => Some(s),
        Err(e) => {
            log::warning(&format!("Cannot install signal handlers: {e}"));
            None
        }
    }
}

fn wait_for_signal(
    srv: &Server,
    signals: Option<signal_hook::iterator::Signals>,
) -> Option<signal_hook::iterator::Signals> {
    let Some(mut signals) = signals else {
        while !srv.shutdown_requested.swap(false, Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        return None;
    };
    if let Some(sig) = signals.forever().next() {
        if !srv.shutdown_requested.swap(false, Relaxed) {
            let name = if sig == signal_hook::consts::SIGINT { "SIGINT" } else { "SIGTERM" };
            log::warning(&format!("Received {name} scheduling shutdown..."));
        }
    }
    Some(signals)
}
