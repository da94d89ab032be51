//! EXEC and the commands it runs: a transaction's queued commands run under one lock set (or
//! every gate), and `run_locked` runs one command under locks its caller holds (EXEC, scripts).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use larder_engine::keyspace::shard_of;
use larder_engine::Locked;
use larder_resp::{Args, Reply};
use parking_lot::RwLockReadGuard;
use smallvec::SmallVec;

use super::{fold_events, reject, resolve, serve_ready, CmdError, Ctx, WrittenKeys};
use crate::commands::spec::{flag, CommandSpec};
use crate::server::client::Session;
use crate::server::stats::ThreadStats;
use crate::server::Server;

/// Commands that act on a transaction rather than being queued in it.
pub(super) fn is_tx_control(spec: &CommandSpec) -> bool {
    matches!(spec.name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

/// A command refused while queueing makes the later EXEC abort.
pub(super) fn abort_multi(sess: &mut Session) {
    if let Some(m) = sess.multi.as_mut() {
        m.aborted = true;
    }
}

/// EXEC: runs the queued commands atomically. Their shards are locked together (in lock
/// order) for the whole transaction; when one of them needs the whole keyspace or changes the
/// database, every gate is taken instead. WATCHed keys are checked once the locks are held.
#[allow(clippy::too_many_arguments)]
pub(super) fn exec<'s>(
    srv: &'s Server,
    sess: &mut Session,
    out: &mut Vec<u8>,
    gate: &mut Option<RwLockReadGuard<'s, ()>>,
    worker: usize,
    id: usize,
    now: u64,
) {
    let start = Instant::now();
    sess.shared.set_flag(crate::server::client::cflag::MULTI, false);
    let Some(multi) = sess.multi.take() else { return };
    if multi.aborted {
        crate::commands::transactions::unwatch_all(srv, sess);
        reject(
            srv,
            sess,
            out,
            Some(id),
            CmdError::Static("EXECABORT Transaction discarded because of previous errors."),
        );
        return;
    }
    let mut whole = false;
    let mut wanted: SmallVec<[(u32, u16); 4]> = SmallVec::new();
    for q in &multi.queued {
        let args = q.args();
        match resolve(srv, args) {
            Ok((_, spec)) if spec.has(flag::EXCLUSIVE) || spec.has(flag::VISITS_SHARDS) || spec.name == "select" => {
                whole = true;
            }
            Ok((_, spec)) => {
                wanted.extend(spec.key_positions(args.len()).map(|i| (sess.db as u32, shard_of(&args[i]) as u16)));
            }
            Err(_) => {}
        }
    }
    let ks = &srv.keyspace;
    let mut written: WrittenKeys = Vec::new();
    {
        let excl = if whole {
            *gate = None;
            Some(ks.exclusive())
        } else {
            None
        };
        let mut locked = if whole { ks.lock_on_demand() } else { ks.lock_set(wanted) };
        let dirty = sess.watch.as_ref().is_some_and(|w| w.dirty.load(Relaxed));
        if dirty {
            Reply::new(out, sess.resp3).null_array();
        } else {
            Reply::new(out, sess.resp3).array(multi.queued.len());
            sess.aof_tx = Some(Vec::new());
            for q in &multi.queued {
                let args = q.args();
                let db = sess.db;
                if run_locked(srv, sess, args, out, &mut locked, now, false) {
                    written.extend(write_keys(srv, args).into_iter().map(|k| (db, k)));
                }
            }
            crate::persist::aof::end_multi(srv, sess.aof_tx.take().unwrap_or_default());
        }
        fold_events(srv, &mut locked, sess.id);
        drop(locked);
        if excl.is_some() {
            drop(excl);
            *gate = Some(ks.gate(worker));
        }
    }
    crate::commands::transactions::unwatch_all(srv, sess);
    let slot = crate::server::stats::Stats::slot().min(srv.stats.per_cmd.len() - 1);
    ThreadStats::add(&srv.stats.per_cmd[slot][id].calls, 1);
    ThreadStats::add(&srv.stats.per_cmd[slot][id].usec, start.elapsed().as_micros() as u64);
    if srv.blocking.count() > 0 && !written.is_empty() {
        serve_ready(srv, written);
    }
}

/// The keys a write command named (for waking blocked clients); empty for reads.
fn write_keys(srv: &Server, args: Args<'_>) -> Vec<Vec<u8>> {
    match resolve(srv, args) {
        Ok((_, spec)) if spec.has(flag::WRITE) => spec.key_args(args).map(|i| args[i].to_vec()).collect(),
        _ => Vec::new(),
    }
}

/// Runs one command under locks the caller already holds (EXEC, scripts), appending its reply
/// or error to `out`. Blocking commands answer at once as if timed out. Returns true when the
/// command ran (whatever its reply).
pub fn run_locked(
    srv: &Server,
    sess: &mut Session,
    args: Args<'_>,
    out: &mut Vec<u8>,
    locked: &mut Locked<'_>,
    now: u64,
    may_block: bool,
) -> bool {
    let (id, spec) = match resolve(srv, args) {
        Ok(x) => x,
        Err(e) => {
            reject(srv, sess, out, None, e);
            return false;
        }
    };
    if !spec.arity_ok(args.len()) {
        let name = srv.commands.full_name(id);
        reject(srv, sess, out, Some(id), crate::commands::arity_error(&name));
        return false;
    }
    let start = Instant::now();
    locked.set_touch(!sess.no_touch || spec.name == "touch");
    locked.set_writing(spec.has(flag::WRITE));
    // What the append-only file needs to know of the command (nothing when it is off).
    let logging = srv.aof.on.load(Relaxed);
    let (db, mark, dirty_before) = (sess.db, out.len(), if logging { locked.dirty() } else { 0 });
    let mut ctx = Ctx { srv, sess, keys: locked, out, now, spec, id, blocked: None, may_block };
    let result = (spec.handler)(&mut ctx, args);
    if logging && (result.is_ok() || locked.dirty() > dirty_before) {
        let worker = Some(crate::server::stats::Stats::slot()).filter(|&w| w < srv.worker_count);
        let tx = sess.aof_tx.as_mut();
        crate::persist::aof::log_effects(srv, db, locked, spec, args, &out[mark..], dirty_before, tx, worker);
    }
    let slot = crate::server::stats::Stats::slot().min(srv.stats.per_cmd.len() - 1);
    let counters = &srv.stats.per_cmd[slot][id];
    ThreadStats::add(&counters.calls, 1);
    ThreadStats::add(&counters.usec, start.elapsed().as_micros() as u64);
    if let Err(e) = result {
        let text = e.text();
        Reply::new(out, sess.resp3).error(text.as_bytes());
        srv.stats.count_error(&text);
        ThreadStats::add(&counters.failed, 1);
    }
    true
}
