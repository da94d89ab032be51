//! The append-only file, in Redis 7's multi-part layout: `appenddirname/` holds a manifest,
//! one base file (an RDB snapshot) and incremental files of commands in RESP.
//!
//! - Logging: a write command that changed something is appended to an in-memory buffer
//!   while its shard locks are still held (so commands on the same keys are logged in the
//!   order they ran), rewritten where replay needs it ([`propagate`]); expired and evicted
//!   keys are logged as DEL, transactions and scripts inside MULTI/EXEC.
//! - Durability: a worker writes the buffer to the file before it sends any reply
//!   ([`Aof::sync_before_reply`]); with `appendfsync always` it also fsyncs first, with
//!   `everysec` a background thread fsyncs once a second, with `no` the kernel decides.
//! - Rewrite (BGREWRITEAOF, growth past `auto-aof-rewrite-*`, enabling at run time): at one
//!   instant (every gate held) logging moves to a new incremental file and a copy-on-write
//!   snapshot begins; the snapshot becomes the new base and the manifest then names the new
//!   base and the new incremental file, and the old files are deleted.

pub mod commands;
pub mod load;
pub mod manifest;
pub mod propagate;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use larder_resp::Args;
use parking_lot::Mutex;

use crate::config::Appendfsync;
use crate::server::{log, Server};
use manifest::{Kind, Manifest, Part};
use propagate::Argv;

/// Commands a transaction or script logged so far, with their databases: appended as one
/// MULTI ... EXEC block when it ends ([`end_multi`]).
pub type TxLog = Vec<(usize, Argv)>;

/// `appendfsync` values as stored in [`Aof::fsync`].
pub mod fsync {
    /// fsync before replying.
    pub const ALWAYS: u8 = 0;
    /// fsync once a second.
    pub const EVERYSEC: u8 = 1;
    /// leave it to the kernel.
    pub const NO: u8 = 2;
}

/// Append-only file state.
#[derive(Default)]
pub struct Aof {
    /// Logging is on.
    pub on: AtomicBool,
    /// `appendfsync` (see [`fsync`]).
    pub fsync: AtomicU8,
    /// `aof-timestamp-enabled`: `#TS:<unix seconds>` annotations before the first command of
    /// each second.
    pub timestamps: AtomicBool,
    buf: Mutex<Pending>,
    out: Mutex<Option<Output>>,
    /// Bytes ever appended to the buffer / written to the file / fsynced.
    appended: AtomicU64,
    written: AtomicU64,
    synced: AtomicU64,
    /// The last write to the file failed.
    pub write_failed: AtomicBool,
    /// Why it failed (for the -MISCONF reply).
    pub write_error: Mutex<String>,
    /// A rewrite is running.
    pub rewriting: AtomicBool,
    /// Rewrites completed.
    pub rewrites: AtomicU64,
    /// The last rewrite failed.
    pub rewrite_failed: AtomicBool,
    /// Size of the AOF (base + incremental files) right after the last rewrite.
    pub base_size: AtomicU64,
    /// Current size of the AOF.
    pub size: AtomicU64,
    /// CONFIG SET appendonly yes asked the cron to turn logging on.
    pub enable_requested: AtomicBool,
    /// BGREWRITEAOF was asked for while a snapshot was running.
    pub rewrite_scheduled: AtomicBool,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    db: Option<usize>,
    /// The second of the last timestamp annotation.
    stamped: u64,
}

/// Appends a `#TS:` annotation when the second changed since the last one (or always, with
/// `force`), as Redis does with `aof-timestamp-enabled`.
pub(crate) fn annotate(out: &mut Vec<u8>, last: &mut u64, force: bool) {
    let now = larder_engine::clock::now_ms() / 1000;
    if force || now > *last {
        out.extend_from_slice(b"#TS:");
        out.extend_from_slice(itoa::Buffer::new().format(now).as_bytes());
        out.extend_from_slice(b"\r\n");
        *last = now;
    }
}

/// The length of the annotation line (`#...\n`) at the start of `data`, if complete: replay
/// and check-aof skip such lines.
pub(crate) fn annotation_len(data: &[u8]) -> Option<usize> {
    if data.first() != Some(&b'#') {
        return Some(0);
    }
    data.iter().position(|&b| b == b'\n').map(|i| i + 1)
}

struct Output {
    file: File,
    manifest: Manifest,
}

/// Appends one command in RESP (an array of bulk strings).
pub(crate) fn encode<'a>(out: &mut Vec<u8>, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
    let mut n = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(n.format(argv.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(n.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends the SELECT that makes `db` current in the log, if it is not.
fn select(p: &mut Pending, db: usize) {
    if p.db != Some(db) {
        let mut n = itoa::Buffer::new();
        encode(&mut p.bytes, [&b"SELECT"[..], n.format(db).as_bytes()].into_iter());
        p.db = Some(db);
    }
}

impl Aof {
    /// Appends argument lists executed in database `db` (a SELECT first when needed).
    pub fn append(&self, db: usize, argvs: &[Argv]) {
        if argvs.is_empty() {
            return;
        }
        let items: Vec<(Option<usize>, &Argv)> = argvs.iter().map(|a| (Some(db), a)).collect();
        self.append_block(&items);
    }

    /// Appends commands, each in its database (None: whatever database the log is in), as one
    /// uninterrupted block: a transaction's MULTI ... EXEC never interleaves with other writes.
    fn append_block(&self, items: &[(Option<usize>, &Argv)]) {
        let mut p = self.buf.lock();
        let before = p.bytes.len();
        self.stamp(&mut p);
        for (db, argv) in items {
            if let Some(db) = *db {
                select(&mut p, db);
            }
            encode(&mut p.bytes, argv.iter().map(|a| &a[..]));
        }
        let grew = (p.bytes.len() - before) as u64;
        self.appended.fetch_add(grew, Relaxed);
    }

    /// Appends one command as the client sent it, in database `db`.
    pub fn append_args(&self, db: usize, args: Args<'_>) {
        let mut p = self.buf.lock();
        let before = p.bytes.len();
        self.stamp(&mut p);
        select(&mut p, db);
        encode(&mut p.bytes, args.iter());
        let grew = (p.bytes.len() - before) as u64;
        self.appended.fetch_add(grew, Relaxed);
    }

    fn stamp(&self, p: &mut Pending) {
        if self.timestamps.load(Relaxed) {
            let Pending { bytes, stamped, .. } = p;
            annotate(bytes, stamped, false);
        }
    }

    /// Makes what was appended so far reach the file (and the disk, under `appendfsync
    /// always`) before a reply is sent.
    #[inline]
    pub fn sync_before_reply(&self) {
        if !self.on.load(Relaxed) {
            return;
        }
        let always = self.fsync.load(Relaxed) == fsync::ALWAYS;
        let target = self.appended.load(Relaxed);
        if self.written.load(Relaxed) >= target && (!always || self.synced.load(Relaxed) >= target) {
            return;
        }
        self.flush(always, target);
    }

    fn flush(&self, fsync_now: bool, target: u64) {
        let mut out = self.out.lock();
        let Some(o) = out.as_mut() else { return };
        if self.written.load(Relaxed) < target {
            let (bytes, end) = {
                let mut p = self.buf.lock();
                (std::mem::take(&mut p.bytes), self.appended.load(Relaxed))
            };
            let mut done = 0;
            while done < bytes.len() {
                match o.file.write(&bytes[done..]) {
                    Ok(0) => break,
                    Ok(n) => done += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        *self.write_error.lock() = e.to_string();
                        if !self.write_failed.swap(true, Relaxed) {
                            log::warning(&format!("Error writing to the AOF file: {e}"));
                        }
                        break;
                    }
                }
            }
            self.size.fetch_add(done as u64, Relaxed);
            if done < bytes.len() {
                // Keep what did not reach the file at the front of the buffer: the cron retries.
                let mut p = self.buf.lock();
                let mut rest = bytes[done..].to_vec();
                rest.extend_from_slice(&p.bytes);
                p.bytes = rest;
                self.written.store(end - (bytes.len() - done) as u64, Relaxed);
                return;
            }
            if self.write_failed.swap(false, Relaxed) {
                log::notice("AOF write error looks solved: writes are accepted again.");
            }
            self.written.store(end, Relaxed);
        }
        if fsync_now && self.synced.load(Relaxed) < self.written.load(Relaxed) {
            let w = self.written.load(Relaxed);
            if let Err(e) = o.file.sync_data() {
                log::warning(&format!("Can't fsync the AOF file: {e}"));
                *self.write_error.lock() = e.to_string();
                self.write_failed.store(true, Relaxed);
            }
            self.synced.store(w, Relaxed);
        }
    }

    /// The `everysec` fsync: writes what is buffered and fsyncs it.
    pub fn fsync_tick(&self) {
        if !self.on.load(Relaxed) || self.fsync.load(Relaxed) != fsync::EVERYSEC {
            return;
        }
        // Write out the buffer under the lock, fsync outside it (through a second handle of
        // the same file), so workers writing replies never wait for the disk.
        self.flush(false, self.appended.load(Relaxed));
        let (handle, upto) = {
            let out = self.out.lock();
            let Some(o) = out.as_ref() else { return };
            (o.file.try_clone(), self.written.load(Relaxed))
        };
        if self.synced.load(Relaxed) >= upto {
            return;
        }
        match handle.and_then(|f| f.sync_data()) {
            Ok(()) => self.synced.store(upto, Relaxed),
            Err(e) => {
                log::warning(&format!("Can't fsync the AOF file: {e}"));
                *self.write_error.lock() = e.to_string();
                self.write_failed.store(true, Relaxed);
            }
        }
    }

    /// Writes what is buffered without fsync (cron, for keys expired in the background).
    pub fn write_pending(&self) {
        if self.on.load(Relaxed) {
            self.flush(self.fsync.load(Relaxed) == fsync::ALWAYS, self.appended.load(Relaxed));
        }
    }
}

/// The `appendfsync` setting as stored.
pub fn fsync_code(p: Appendfsync) -> u8 {
    match p {
        Appendfsync::Always => fsync::ALWAYS,
        Appendfsync::Everysec => fsync::EVERYSEC,
        Appendfsync::No => fsync::NO,
    }
}

/// Logs a write command that ran in database `db` (`reply` is what it answered).
pub fn log_command(srv: &Server, db: usize, name: &str, args: Args<'_>, reply: &[u8], now: u64) {
    let argvs = propagate::for_command(name, args, reply, now);
    srv.aof.append(db, &argvs);
}

/// What a command run under `locked` leaves in the log, written while its locks are held:
/// DELs for keys it found expired (published as `expired` events too), then the command
/// itself if it wrote something (`dirty_before` is `locked.dirty()` before it ran) or is a
/// keyless write that succeeded (FUNCTION LOAD, FLUSHALL). Inside a transaction or script
/// (`tx` is Some) the entries are collected there instead, for [`end_multi`].
#[allow(clippy::too_many_arguments)]
pub fn log_effects(
    srv: &Server,
    db: usize,
    locked: &mut larder_engine::Locked<'_>,
    spec: &crate::commands::spec::CommandSpec,
    args: Args<'_>,
    reply: &[u8],
    dirty_before: u64,
    mut tx: Option<&mut TxLog>,
    worker: Option<usize>,
) {
    use crate::commands::spec::flag;
    // Called only while the log is on; expired keys taken here are published here too.
    let expired = locked.take_expired_keys();
    for (kdb, key) in &expired {
        super::super::server::notify::notify(srv, larder_engine::notify::EXPIRED, "expired", key, *kdb, worker);
    }
    for (kdb, key) in expired {
        let del = vec![b"DEL".to_vec(), key.to_vec()];
        match tx.as_deref_mut() {
            Some(t) => t.push((kdb, del)),
            None => srv.aof.append(kdb, &[del]),
        }
    }
    if !spec.has(flag::WRITE) {
        return;
    }
    let changed = locked.dirty() > dirty_before;
    let keyless_ok = spec.key_args(args).next().is_none() && !reply.starts_with(b"-");
    if !changed && !keyless_ok {
        return;
    }
    let argvs = propagate::for_command(spec.name, args, reply, larder_engine::clock::now_ms());
    match tx {
        Some(t) => t.extend(argvs.into_iter().map(|a| (db, a))),
        None => srv.aof.append(db, &argvs),
    }
}

/// Ends a transaction or script: what it logged goes in as one MULTI ... EXEC block (nothing
/// when it wrote nothing). Called while its locks are still held.
pub fn end_multi(srv: &Server, tx: TxLog) {
    if tx.is_empty() || !srv.aof.on.load(Relaxed) {
        return;
    }
    let (multi, exec) = (vec![b"MULTI".to_vec()], vec![b"EXEC".to_vec()]);
    let mut items: Vec<(Option<usize>, &Argv)> = Vec::with_capacity(tx.len() + 2);
    items.push((Some(tx[0].0), &multi));
    items.extend(tx.iter().map(|(db, a)| (Some(*db), a)));
    items.push((None, &exec));
    srv.aof.append_block(&items);
}

/// Logs the removal of expired or evicted keys.
pub fn log_dels(srv: &Server, db: usize, keys: &[Box<[u8]>]) {
    if keys.is_empty() {
        return;
    }
    let argvs: Vec<Vec<Vec<u8>>> = keys.iter().map(|k| vec![b"DEL".to_vec(), k.to_vec()]).collect();
    srv.aof.append(db, &argvs);
}

/// Paths of the AOF directory and manifest from the configuration.
pub fn paths(srv: &Server) -> (PathBuf, String, PathBuf) {
    let c = srv.config.read();
    let dir = PathBuf::from(&c.appenddirname);
    let name = c.appendfilename.clone();
    let manifest = dir.join(format!("{name}.manifest"));
    (dir, name, manifest)
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

fn dir_size(dir: &Path, m: &Manifest) -> u64 {
    m.base
        .iter()
        .chain(m.incrs.iter())
        .filter_map(|p| std::fs::metadata(dir.join(&p.name)).ok())
        .map(|md| md.len())
        .sum()
}

/// The form of a new base (`aof-use-rdb-preamble`) and its file extension.
fn base_format(srv: &Server) -> (crate::persist::rdb::Format, &'static str) {
    if srv.config.read().aof_use_rdb_preamble {
        (crate::persist::rdb::Format::Rdb, "rdb")
    } else {
        (crate::persist::rdb::Format::Commands, "aof")
    }
}

/// Opens the AOF for appending after start-up (the dataset is loaded): the last incremental
/// file of an existing manifest, or a new AOF (base written now from the dataset, then an
/// empty incremental file). Turns logging on.
pub fn open_at_start(srv: &Server) -> Result<(), String> {
    let (dir, name, mpath) = paths(srv);
    std::fs::create_dir_all(&dir).map_err(|e| format!("Can't create the AOF directory {}: {e}", dir.display()))?;
    let mut m = Manifest::read(&mpath)?.unwrap_or_default();
    if m.base.is_none() && m.incrs.is_empty() {
        // A new AOF: its base is the dataset as it is now.
        let (format, ext) = base_format(srv);
        let base = Part { name: format!("{name}.1.base.{ext}"), seq: 1, kind: Kind::Base };
        let _x = srv.keyspace.exclusive();
        let started = crate::persist::rdb::begin_to(srv, dir.join(&base.name), format);
        crate::persist::rdb::write(srv, started, None)?;
        m.base = Some(base);
    }
    if m.incrs.is_empty() {
        let seq = m.next_seq(Kind::Incr);
        m.incrs.push(Part { name: format!("{name}.{seq}.incr.aof"), seq, kind: Kind::Incr });
        m.write(&mpath).map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
    }
    let last = m.incrs.last().map(|p| p.name.clone()).unwrap_or_default();
    let file = open_append(&dir.join(&last)).map_err(|e| format!("Can't open the append-only file {last}: {e}"))?;
    let size = dir_size(&dir, &m);
    srv.aof.size.store(size, Relaxed);
    srv.aof.base_size.store(size, Relaxed);
    *srv.aof.out.lock() = Some(Output { file, manifest: m });
    *srv.aof.buf.lock() = Pending::default();
    srv.aof.on.store(true, Relaxed);
    larder_engine::notify::set_logging(true);
    Ok(())
}

/// Turns logging off (CONFIG SET appendonly no): what is buffered is written and fsynced.
pub fn stop(srv: &Server) {
    srv.aof.fsync_tick();
    srv.aof.flush(true, srv.aof.appended.load(Relaxed));
    srv.aof.on.store(false, Relaxed);
    larder_engine::notify::set_logging(false);
    *srv.aof.out.lock() = None;
}

/// Starts a rewrite: logging moves to a new incremental file, and a snapshot of this instant
/// is written as the new base on its own thread. The caller holds every gate.
pub fn start_rewrite(srv: &Arc<Server>) -> Result<(), String> {
    if srv.persist.bgsave_running.load(Relaxed) || srv.aof.rewriting.load(Relaxed) {
        srv.aof.rewrite_scheduled.store(true, Relaxed);
        return Ok(());
    }
    let (dir, name, mpath) = paths(srv);
    // Move logging to a new incremental file (after writing out the buffer).
    let new_incr = {
        srv.aof.flush(true, srv.aof.appended.load(Relaxed));
        let mut out = srv.aof.out.lock();
        let Some(o) = out.as_mut() else { return Err("ERR the append-only file is off".into()) };
        let seq = o.manifest.next_seq(Kind::Incr);
        let part = Part { name: format!("{name}.{seq}.incr.aof"), seq, kind: Kind::Incr };
        let file = open_append(&dir.join(&part.name)).map_err(|e| format!("ERR Can't open a new AOF file: {e}"))?;
        let _ = o.file.sync_data();
        o.file = file;
        o.manifest.incrs.push(part.clone());
        o.manifest.write(&mpath).map_err(|e| format!("ERR Can't write the AOF manifest: {e}"))?;
        part
    };
    let base_seq = srv.aof.out.lock().as_ref().map_or(1, |o| o.manifest.next_seq(Kind::Base));
    let (format, ext) = base_format(srv);
    let base = Part { name: format!("{name}.{base_seq}.base.{ext}"), seq: base_seq, kind: Kind::Base };
    srv.aof.rewriting.store(true, Relaxed);
    srv.persist.bgsave_running.store(true, Relaxed);
    let started = crate::persist::rdb::begin_to(srv, dir.join(&base.name), format);
    let srv2 = srv.clone();
    let gate = srv.worker_count;
    let spawned = std::thread::Builder::new().name("larder-aofrw".into()).spawn(move || {
        let r = crate::persist::rdb::write(&srv2, started, Some(gate));
        let r = r.and_then(|_| finish_rewrite(&srv2, base, new_incr, &dir, &mpath));
        match r {
            Ok(()) => {
                srv2.aof.rewrites.fetch_add(1, Relaxed);
                srv2.aof.rewrite_failed.store(false, Relaxed);
                log::notice("Background AOF rewrite finished successfully");
            }
            Err(e) => {
                srv2.aof.rewrite_failed.store(true, Relaxed);
                log::warning(&format!("Background AOF rewrite failed: {e}"));
            }
        }
        srv2.persist.bgsave_running.store(false, Relaxed);
        srv2.aof.rewriting.store(false, Relaxed);
    });
    if let Err(e) = spawned {
        srv.keyspace.abort_snapshot();
        srv.persist.bgsave_running.store(false, Relaxed);
        srv.aof.rewriting.store(false, Relaxed);
        return Err(format!("ERR Can't start the AOF rewrite thread: {e}"));
    }
    log::notice("Background append only file rewriting started");
    Ok(())
}

/// The new base is on disk: the manifest now names it and the incremental files opened since
/// the rewrite began; the files it replaced are deleted.
fn finish_rewrite(srv: &Server, base: Part, first_incr: Part, dir: &Path, mpath: &Path) -> Result<(), String> {
    let mut out = srv.aof.out.lock();
    let Some(o) = out.as_mut() else { return Err("the append-only file was turned off".into()) };
    let keep_from = first_incr.seq;
    let mut old: Vec<Part> = o.manifest.base.take().into_iter().collect();
    old.extend(o.manifest.incrs.iter().filter(|p| p.seq < keep_from).cloned());
    o.manifest.incrs.retain(|p| p.seq >= keep_from);
    o.manifest.base = Some(base);
    o.manifest.write(mpath).map_err(|e| format!("Can't write the AOF manifest: {e}"))?;
    for p in old {
        let _ = std::fs::remove_file(dir.join(&p.name));
    }
    let size = dir_size(dir, &o.manifest);
    srv.aof.size.store(size, Relaxed);
    srv.aof.base_size.store(size, Relaxed);
    Ok(())
}

/// The cron's AOF work: turning logging on when asked, scheduled and automatic rewrites,
/// writing out keys expired in the background. Holds no gate when called.
pub fn cron(srv: &Arc<Server>) {
    let a = &srv.aof;
    if a.enable_requested.swap(false, Relaxed) && !a.on.load(Relaxed) {
        if let Err(e) = open_at_start(srv) {
            log::warning(&e);
        }
    }
    if !a.on.load(Relaxed) {
        return;
    }
    a.write_pending();
    if a.rewriting.load(Relaxed) || srv.persist.bgsave_running.load(Relaxed) {
        return;
    }
    let due = a.rewrite_scheduled.swap(false, Relaxed) || {
        let (pct, min) = {
            let c = srv.config.read();
            (c.auto_aof_rewrite_percentage as u64, c.auto_aof_rewrite_min_size)
        };
        let (size, base) = (a.size.load(Relaxed), a.base_size.load(Relaxed).max(1));
        pct > 0 && size >= min && (size - base.min(size)) * 100 / base >= pct
    };
    if due {
        let _x = srv.keyspace.exclusive();
        if let Err(e) = start_rewrite(srv) {
            log::warning(&e);
        }
    }
}

/// Starts the `everysec` fsync thread.
pub fn start_fsync_thread(srv: &Arc<Server>) {
    let srv = srv.clone();
    let _ = std::thread::Builder::new().name("larder-aof-fsync".into()).spawn(move || {
        while !srv.shutting_down.load(Relaxed) {
            std::thread::sleep(Duration::from_secs(1));
            srv.aof.fsync_tick();
        }
    });
}

/// Writes and fsyncs everything before exit.
pub fn flush_at_exit(srv: &Server) {
    if srv.aof.on.load(Relaxed) {
        srv.aof.flush(true, srv.aof.appended.load(Relaxed));
    }
}
