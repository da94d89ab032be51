//! RDB snapshots of the live keyspace (SAVE, BGSAVE, shutdown) and loading one at start.
//!
//! A snapshot begins while every gate is held (one instant of the whole keyspace), then the
//! saver walks the shards while commands go on: writers hand the old value of any entry they
//! are about to change to the [`Sink`] first (see `larder_engine::snapshot`), so the file is
//! the keyspace as it was when the snapshot began, and memory grows only by those preserved
//! entries. The file is written to a temporary name, fsynced and renamed over `dbfilename`,
//! so a crash or a full disk never leaves a half-written dump.rdb.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use larder_engine::evict::{self, access};
use larder_engine::snapshot::SnapshotSink;
use larder_engine::{clock, Entry, KeyRef, SHARDS};
use larder_persistence::rdb::decode::Decoded;
use larder_persistence::rdb::encode::Options;
use larder_persistence::rdb::file::{self, Access, FileWriter, Visitor};
use larder_persistence::rdb::RdbError;
use parking_lot::Mutex;

use crate::server::{log, Server};

/// The RDB versions Larder writes, chosen by `rdb-version`: 11 (the default, Redis 7.2's,
/// which Redis 7.2+ and Valkey load) or 10 (Redis 7.0's, which every Redis 7 and Valkey
/// loads: each refuses versions newer than its own). The two differ only in how a small set
/// of strings is written (`SET_LISTPACK` exists from 11 on). Hashes with field TTLs are
/// written in Redis 7.4's form either way, which only 7.4 and later read.
pub const FILE_VERSIONS: std::ops::RangeInclusive<u16> = 10..=11;

/// How a snapshot file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An RDB file (dump.rdb, or an AOF base with the RDB preamble).
    Rdb,
    /// Commands (an AOF base with `aof-use-rdb-preamble no`).
    Commands,
}

/// Entries the saver serializes per shard lock.
const STEP_ENTRIES: usize = 512;

/// Where preserved entries wait for the saver, already encoded.
pub struct Sink {
    buf: Mutex<SinkBuf>,
    opts: Options,
    now: u64,
    format: Format,
}

#[derive(Default)]
struct SinkBuf {
    bytes: Vec<u8>,
    db: Option<usize>,
}

impl Sink {
    fn new(opts: Options, format: Format) -> Self {
        Sink { buf: Mutex::new(SinkBuf::default()), opts, now: clock::now_ms(), format }
    }

    /// Takes what writers preserved so far.
    fn take(&self) -> Vec<u8> {
        let mut b = self.buf.lock();
        b.db = None;
        std::mem::take(&mut b.bytes)
    }
}

impl SnapshotSink for Sink {
    fn save(&self, db: usize, e: &Entry) {
        let mut b = self.buf.lock();
        let b = &mut *b;
        encode(&mut b.bytes, &mut b.db, db, e, &self.opts, self.now, self.format);
    }
}

/// The access history Redis stores for the active policy.
fn access_of(e: &Entry) -> Access {
    match evict::policy() {
        p if p.uses_lfu() => Access::Freq(access::decayed_counter(e)),
        evict::Policy::NoEviction | evict::Policy::AllkeysRandom | evict::Policy::VolatileRandom => Access::None,
        evict::Policy::VolatileTtl => Access::None,
        _ => Access::Idle(access::idle_seconds(e)),
    }
}

/// Appends `e` (database `db`) to `out`, switching database first when needed. Keys already
/// expired are left out (a load would drop them).
fn encode(out: &mut Vec<u8>, cur: &mut Option<usize>, db: usize, e: &Entry, opts: &Options, now: u64, format: Format) {
    if e.expire_ms().is_some_and(|t| t <= now) {
        return;
    }
    if format == Format::Commands {
        super::aof::commands::select(out, cur, db);
        super::aof::commands::entry(out, e);
        return;
    }
    if *cur != Some(db) {
        file::encode_select_db(out, db);
        *cur = Some(db);
    }
    file::encode_entry(out, e.key(), e.value(), e.expire_ms(), access_of(e), opts);
}

/// Why a snapshot failed.
pub type SaveError = String;

fn options(srv: &Server) -> (Options, u16, bool, PathBuf) {
    let c = srv.config.read();
    let version = c.rdb_version.clamp(*FILE_VERSIONS.start(), *FILE_VERSIONS.end());
    let opts = Options { compress: c.rdbcompression, set_listpack: version >= 11 };
    (opts, version, c.rdbchecksum, c.dbfilename.clone().into())
}

/// The file's AUX fields and function libraries.
fn preamble(srv: &Server) -> Vec<u8> {
    let mut out = Vec::new();
    file::encode_aux(&mut out, b"redis-ver", crate::server::REDIS_VERSION.as_bytes());
    file::encode_aux(&mut out, b"redis-bits", b"64");
    file::encode_aux(&mut out, b"ctime", (clock::now_ms() / 1000).to_string().as_bytes());
    larder_engine::memory::flush_thread();
    file::encode_aux(&mut out, b"used-mem", larder_engine::memory::used().to_string().as_bytes());
    file::encode_aux(&mut out, b"aof-base", b"0");
    for code in srv.scripting.library_codes() {
        file::encode_function(&mut out, &code);
    }
    out
}

/// A snapshot that has begun: what the saver needs.
pub struct Started {
    sink: Arc<Sink>,
    preamble: Vec<u8>,
    opts: Options,
    version: u16,
    checksum: bool,
    target: PathBuf,
    started: Instant,
    format: Format,
    /// (keys, keys with a TTL) of each database when the snapshot began.
    sizes: Vec<(usize, usize)>,
}

/// Begins a snapshot. The caller holds every gate ([`larder_engine::Keyspace::exclusive`]).
pub fn begin(srv: &Server) -> Started {
    let target = options(srv).3;
    begin_to(srv, target, Format::Rdb)
}

/// Begins a snapshot to be written at `target` (an AOF base). The caller holds every gate.
pub fn begin_to(srv: &Server, target: PathBuf, format: Format) -> Started {
    let (opts, version, checksum, _) = options(srv);
    let sink = Arc::new(Sink::new(opts, format));
    srv.keyspace.begin_snapshot(sink.clone());
    let preamble = match format {
        Format::Rdb => preamble(srv),
        Format::Commands => {
            let mut out = Vec::new();
            if srv.aof.timestamps.load(std::sync::atomic::Ordering::Relaxed) {
                // A base of commands opens with the time of its snapshot, as Redis's does.
                super::aof::annotate(&mut out, &mut 0, true);
            }
            for code in srv.scripting.library_codes() {
                super::aof::commands::function(&mut out, &code);
            }
            out
        }
    };
    let sizes = (0..srv.keyspace.db_count()).map(|db| srv.keyspace.db_counts(db)).collect();
    Started { sink, preamble, opts, version, checksum, target, started: Instant::now(), format, sizes }
}

/// Writes the snapshot `s` to disk. `gate` is the gate index to hold while touching shards
/// (None when the caller already holds every gate). Returns the bytes written. On error the
/// snapshot is abandoned and any temporary file removed.
pub fn write(srv: &Server, s: Started, gate: Option<usize>) -> Result<u64, SaveError> {
    let tmp = s.target.with_file_name(format!("temp-{}.rdb", std::process::id()));
    let result = write_to(srv, &s, gate, &tmp);
    match result {
        Ok(n) => {
            if let Err(e) = fs::rename(&tmp, &s.target) {
                let _ = fs::remove_file(&tmp);
                return Err(format!(
                    "Error moving temp DB file {} on the final destination {}: {e}",
                    tmp.display(),
                    s.target.display()
                ));
            }
            sync_dir(&s.target);
            log::notice(&format!("DB saved on disk ({} bytes in {:.3} s)", n, s.started.elapsed().as_secs_f64()));
            Ok(n)
        }
        Err(e) => {
            let _g = gate.map(|g| srv.keyspace.gate(g));
            srv.keyspace.abort_snapshot();
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn sync_dir(path: &Path) {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn write_to(srv: &Server, s: &Started, gate: Option<usize>, tmp: &Path) -> Result<u64, SaveError> {
    let f = File::create(tmp).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
            tmp.display(),
            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default()
        )
    })?;
    let io = |e: std::io::Error| format!("Write error saving DB on disk: {e}");
    let buffered = BufWriter::with_capacity(1 << 20, f);
    let mut w = match s.format {
        Format::Rdb => Out::Rdb(FileWriter::new(buffered, s.version, s.checksum).map_err(io)?),
        Format::Commands => Out::Plain(buffered, 0),
    };
    w.write(&s.preamble).map_err(io)?;
    let mut chunk = Vec::with_capacity(1 << 20);
    let now = s.sink.now;
    for db in 0..srv.keyspace.db_count() {
        // Redis's size hints for each database that holds keys (as counted when the snapshot
        // began; the loader only sizes its tables with them).
        if let Some(&(keys, expires)) = s.sizes.get(db).filter(|(k, _)| *k > 0) {
            if s.format == Format::Rdb {
                let mut hint = Vec::new();
                file::encode_select_db(&mut hint, db);
                file::encode_resize_db(&mut hint, keys, expires);
                w.write(&hint).map_err(io)?;
            }
        }
        for shard in 0..SHARDS {
            loop {
                if srv.persist.cancel_save.load(Relaxed) {
                    return Err("snapshot cancelled".into());
                }
                chunk.clear();
                let done = {
                    let _g = gate.map(|g| srv.keyspace.gate(g));
                    let mut sh = srv.keyspace.db(db).lock(shard);
                    let mut cur = None;
                    sh.snapshot_step(STEP_ENTRIES, |d, e| encode(&mut chunk, &mut cur, d, e, &s.opts, now, s.format))
                };
                w.write(&chunk).map_err(io)?;
                let preserved = s.sink.take();
                w.write(&preserved).map_err(io)?;
                if done {
                    break;
                }
            }
        }
    }
    let preserved = s.sink.take();
    w.write(&preserved).map_err(io)?;
    let written = w.written();
    let buf = w.finish().map_err(io)?;
    let f = buf.into_inner().map_err(|e| io(e.into_error()))?;
    f.sync_all().map_err(io)?;
    Ok(written)
}

/// Where snapshot bytes go: an RDB file (header, checksum, EOF) or plain commands.
enum Out {
    Rdb(FileWriter<BufWriter<File>>),
    Plain(BufWriter<File>, u64),
}

impl Out {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Rdb(w) => w.write(bytes),
            Out::Plain(w, n) => {
                *n += bytes.len() as u64;
                std::io::Write::write_all(w, bytes)
            }
        }
    }

    fn written(&self) -> u64 {
        match self {
            Out::Rdb(w) => w.written() + 9,
            Out::Plain(_, n) => *n,
        }
    }

    fn finish(self) -> std::io::Result<BufWriter<File>> {
        match self {
            Out::Rdb(w) => w.finish(),
            Out::Plain(mut w, _) => {
                std::io::Write::flush(&mut w)?;
                Ok(w)
            }
        }
    }
}

/// Loads `path` into the (empty) keyspace and function libraries. Returns (keys loaded,
/// keys skipped as expired).
pub fn load(srv: &Server, path: &Path) -> Result<(u64, u64), String> {
    let data = super::mapped::Mapped::open(path).map_err(|e| format!("Error reading {}: {e}", path.display()))?;
    let started = Instant::now();
    let (limits, databases, checksum) = {
        let c = srv.config.read();
        (srv.hot.limits(), c.databases, c.rdbchecksum)
    };
    let delay_us = srv.config.read().key_load_delay.max(0) as u64;
    let mut v = Loader { srv, now: clock::now_ms(), loaded: 0, expired: 0, started, delay_us };
    srv.persist.loading_total.store(data.len() as u64, Relaxed);
    let r = file::load(&data, &limits, databases, checksum, &mut v);
    let info = r.map_err(|e: RdbError| format!("Error loading {}: {e}", path.display()))?;
    log::notice(&format!(
        "Done loading RDB (version {}), keys loaded: {}, keys expired: {}, in {:.3} seconds",
        info.version,
        v.loaded,
        v.expired,
        started.elapsed().as_secs_f64()
    ));
    Ok((v.loaded, v.expired))
}

struct Loader<'a> {
    srv: &'a Server,
    now: u64,
    loaded: u64,
    expired: u64,
    started: Instant,
    delay_us: u64,
}

impl Visitor for Loader<'_> {
    fn aux(&mut self, name: &[u8], value: &[u8]) {
        if name == b"redis-ver" {
            log::notice(&format!("Loading RDB produced by version {}", String::from_utf8_lossy(value)));
        }
    }

    fn function(&mut self, code: Vec<u8>) -> larder_persistence::rdb::Result<()> {
        self.srv
            .scripting
            .function_load(&code, false, None)
            .map(|_| ())
            .map_err(|_| RdbError::Corrupt("a function library failed to load"))
    }

    fn entry(
        &mut self,
        db: usize,
        key: Vec<u8>,
        value: Decoded,
        expire_ms: Option<u64>,
        access_info: Access,
    ) -> larder_persistence::rdb::Result<()> {
        if expire_ms.is_some_and(|t| t <= self.now) {
            self.expired += 1;
            return Ok(());
        }
        let k = KeyRef::new(&key);
        let mut entry = match value {
            Decoded::Str(s) => Entry::new(&key, larder_engine::Value::Bytes(&s), expire_ms),
            Decoded::Obj(o) => Entry::new(&key, larder_engine::Value::Obj(Box::new(o)), expire_ms),
        };
        access::stamp_new(&mut entry, k.hash);
        match access_info {
            Access::Idle(s) if !evict::policy().uses_lfu() => access::set_idle_seconds(&mut entry, s),
            Access::Freq(f) if evict::policy().uses_lfu() => entry.set_lfu(f),
            _ => {}
        }
        let mut shard = self.srv.keyspace.db(db).lock(k.shard);
        if shard.table().get(k.hash, &key).is_some() {
            return Err(RdbError::Corrupt("duplicate key in the RDB file"));
        }
        shard.put_entry(&k, entry);
        shard.events = Default::default();
        drop(shard);
        self.loaded += 1;
        if self.delay_us > 0 {
            // `key-load-delay` (a testing aid, as in Redis): microseconds per key.
            std::thread::sleep(std::time::Duration::from_micros(self.delay_us));
        }
        Ok(())
    }

    fn progress(&mut self, done: usize, total: usize) {
        let perc = if total > 0 { done as f64 * 100.0 / total as f64 } else { 100.0 };
        self.srv.persist.loading_perc.store(perc.to_bits(), Relaxed);
        self.srv.persist.loading_loaded.store(done as u64, Relaxed);
        if done < total {
            log::verbose(&format!(
                "Loading RDB: {perc:.1}% ({} keys, {:.1} s)",
                self.loaded,
                self.started.elapsed().as_secs_f64()
            ));
        }
    }
}
