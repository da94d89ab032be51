//! Running one command: table lookup, the checks Redis makes before a command runs (arity,
//! authentication), locking the shards its keys live in, the call, and the bookkeeping after
//! it (statistics, slow log, MONITOR, CLIENT REPLY). EXEC lives in `transaction`, the serving
//! of blocked clients in `unblock`, the MONITOR feed in `monitor`.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use larder_engine::keyspace::shard_of;
use larder_engine::{clock, Locked};
use larder_resp::{Args, OwnedArgs, Reply};
use parking_lot::RwLockReadGuard;
use smallvec::SmallVec;

use super::blocking::BlockRequest;
use super::Server;
use crate::commands::spec::{flag, CommandSpec};
use crate::commands::{CmdError, Ctx};
use crate::server::client::{ReplyMode, Session};
use crate::server::stats::ThreadStats;

mod monitor;
mod transaction;
mod unblock;

use monitor::{feed_monitors, redacted_positions, REDACTED};
pub use transaction::run_locked;
use transaction::{abort_multi, exec, is_tx_control};
use unblock::{block, WrittenKeys};
pub use unblock::{serve_ready, timeout_reply};

/// Looks up the command named by `args[0]` (and its sub-command), or builds Redis's error.
pub fn resolve(srv: &Server, args: Args<'_>) -> Result<(usize, &'static CommandSpec), CmdError> {
    let name = &args[0];
    let Some((id, spec)) = srv.commands.lookup(name) else {
        let mut rest = String::new();
        for a in args.iter().skip(1) {
            if rest.len() >= 128 {
                break;
            }
            let room = 128 - rest.len();
            let s = String::from_utf8_lossy(a);
            let s: String = s.chars().take(room).collect();
            rest.push_str(&format!("'{s}' "));
        }
        let shown: String = String::from_utf8_lossy(name).chars().take(128).collect();
        return Err(CmdError::Msg(format!("ERR unknown command '{shown}', with args beginning with: {rest}")));
    };
    if spec.has(flag::CONTAINER) {
        if args.len() < 2 {
            // COMMAND runs on its own; other containers need a sub-command.
            if spec.arity_ok(1) {
                return Ok((id, spec));
            }
            return Err(crate::commands::arity_error(spec.name));
        }
        return match srv.commands.lookup_sub(id, &args[1]) {
            Some(found) => Ok(found),
            None => {
                let sub: String = String::from_utf8_lossy(&args[1]).chars().take(128).collect();
                Err(CmdError::Msg(format!(
                    "ERR unknown subcommand '{sub}'. Try {} HELP.",
                    spec.name.to_ascii_uppercase()
                )))
            }
        };
    }
    Ok((id, spec))
}

/// True when CLIENT PAUSE holds back this request now.
#[inline]
pub fn paused(srv: &Server, args: Args<'_>) -> bool {
    let until = srv.hot.pause_until.load(Relaxed);
    if until == 0 || clock::now_ms() >= until {
        return false;
    }
    match resolve(srv, args) {
        // CLIENT sub-commands stay available so a pause can be lifted.
        Ok((_, spec)) if srv.commands.is_client_command(spec) => false,
        Ok((_, spec)) => !srv.hot.pause_writes_only.load(Relaxed) || spec.has(flag::WRITE),
        Err(_) => !srv.hot.pause_writes_only.load(Relaxed),
    }
}

/// True when the request may run while a busy script holds the keyspace (ALLOW_BUSY
/// commands such as SCRIPT KILL, FUNCTION KILL, SHUTDOWN, AUTH, HELLO, QUIT).
pub fn allowed_when_busy(srv: &Server, args: Args<'_>) -> bool {
    matches!(resolve(srv, args), Ok((_, spec)) if spec.has(flag::ALLOW_BUSY))
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It ran (or was refused) and its reply is in the output.
    Done,
    /// It blocked: no reply yet; the connection waits until the deadline (None: forever).
    Blocked(Option<u64>),
}

/// Executes one request and appends its reply to `out`.
pub fn execute<'s>(
    srv: &'s Server,
    sess: &mut Session,
    args: Args<'_>,
    out: &mut Vec<u8>,
    gate: &mut Option<RwLockReadGuard<'s, ()>>,
    worker: usize,
) -> Outcome {
    let mut mark = out.len();
    let mut outcome = Outcome::Done;
    let now = clock::now_ms();
    sess.shared.last_interaction_ms.store(now, Relaxed);
    let tstats = srv.stats.mine();
    let in_multi = sess.multi.is_some();
    if srv.hot.maxmemory_clients.load(Relaxed) != 0 && client_evicted(srv, sess, out) {
        return Outcome::Done;
    }
    match resolve(srv, args) {
        Err(e) => {
            abort_multi(sess);
            reject(srv, sess, out, None, e)
        }
        Ok((id, spec)) => {
            if !spec.arity_ok(args.len()) {
                abort_multi(sess);
                let name = srv.commands.full_name(id);
                reject(srv, sess, out, Some(id), crate::commands::arity_error(&name));
            } else if !sess.authenticated && !spec.has(flag::NO_AUTH) && srv.hot.auth_required.load(Relaxed) {
                abort_multi(sess);
                reject(srv, sess, out, Some(id), CmdError::Static("NOAUTH Authentication required."));
            } else if srv.persist.loading.load(Relaxed) && !spec.has(flag::LOADING) {
                reject(srv, sess, out, Some(id), CmdError::Static("LOADING Redis is loading the dataset in memory"));
            } else if srv.hot.maxmemory.load(Relaxed) > 0
                // No eviction while a busy script holds the keyspace (allowed commands then
                // run without a gate): it would change keys under the script.
                && gate.is_some()
                && {
                    let oom = out_of_memory(srv, sess, spec, worker, out);
                    // Invalidation pushes it put before the reply are not part of the reply
                    // (CLIENT REPLY OFF/SKIP keep them).
                    mark = out.len();
                    oom
                }
            {
                abort_multi(sess);
                reject(
                    srv,
                    sess,
                    out,
                    Some(id),
                    CmdError::Static("OOM command not allowed when used memory > 'maxmemory'."),
                );
            } else if spec.has(flag::WRITE) && too_few_replicas(srv) {
                abort_multi(sess);
                reject(srv, sess, out, Some(id), CmdError::Static(NOREPLICAS));
            } else if spec.has(flag::WRITE) && bgsave_failed_stops_writes(srv) {
                abort_multi(sess);
                reject(srv, sess, out, Some(id), CmdError::Static(MISCONF));
            } else if spec.has(flag::WRITE) && srv.aof.write_failed.load(Relaxed) && srv.aof.on.load(Relaxed) {
                // As Redis: writes stop while the append-only file cannot be written.
                abort_multi(sess);
                let why = srv.aof.write_error.lock().clone();
                reject(
                    srv,
                    sess,
                    out,
                    Some(id),
                    CmdError::Msg(format!("MISCONF Errors writing to the AOF file: {why}")),
                );
            } else if !sess.resp3 && sess.subs.any() && !allowed_when_subscribed(spec) {
                let name = srv.commands.full_name(id);
                reject(srv, sess, out, Some(id), CmdError::Msg(format!("ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")));
            } else if in_multi && !is_tx_control(spec) {
                if spec.has(flag::NO_MULTI) {
                    abort_multi(sess);
                    reject(srv, sess, out, Some(id), CmdError::Static("ERR Command not allowed inside a transaction"));
                } else if let Some(m) = sess.multi.as_mut() {
                    m.queued.push(OwnedArgs::from_args(args));
                    Reply::new(out, sess.resp3).simple(b"QUEUED");
                }
            } else if spec.name == "exec" && in_multi {
                exec(srv, sess, out, gate, worker, id, now);
                if srv.monitoring.load(Relaxed) {
                    feed_monitors(srv, sess, args, id);
                }
            } else {
                if let Some(req) = run(srv, sess, args, out, gate, worker, id, spec, now) {
                    outcome = Outcome::Blocked(req.deadline);
                    block(srv, sess, args, worker, req);
                }
                // As Redis, after the command ran (so the database shown is the one it left
                // selected) and never for administrative commands.
                if srv.monitoring.load(Relaxed) && !spec.has(flag::SKIP_MONITOR) && !spec.has(flag::ADMIN) {
                    feed_monitors(srv, sess, args, id);
                }
            }
            sess.shared.last_cmd.store(id as u32 + 1, Relaxed);
            if sess.caching.is_some() && spec.name != "caching" {
                // CLIENT CACHING applies to the one command after it.
                sess.caching = None;
            }
        }
    }
    ThreadStats::add(&tstats.commands, 1);
    if srv.hot.maxmemory_clients.load(Relaxed) != 0 {
        // The reply just added counts at once (replies of a round are written at its end).
        srv.clients.set_buffers(&sess.shared, None, Some(out.capacity()));
    }
    if outcome == Outcome::Done && sess.reply_mode != ReplyMode::On {
        // (Un)subscribe confirmations are pushed (in RESP2 too), so CLIENT REPLY OFF/SKIP do
        // not hide them, as in Redis.
        let pushes = matches!(resolve(srv, args), Ok((_, s)) if s.has(flag::PUBSUB) && s.name.contains("subscribe"));
        if !pushes {
            finish_reply_mode(sess, out, mark);
        }
    }
    outcome
}

/// Client eviction before a command (and before key eviction, as Redis orders them): the
/// replies this client accumulated count at once. True when this client itself was evicted:
/// its command is dropped and the connection closes.
fn client_evicted(srv: &Server, sess: &mut Session, out: &Vec<u8>) -> bool {
    srv.clients.set_buffers(&sess.shared, None, Some(out.capacity()));
    super::evict::evict_clients(srv);
    if sess.shared.kill.load(Relaxed) {
        sess.close_after_reply = true;
        return true;
    }
    false
}

pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// The reply to writes while `min-replicas-to-write` is not met.
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";

/// `min-replicas-to-write` (with `min-replicas-max-lag`) asks for more connected replicas than
/// there are: Larder has none, so any positive setting refuses writes, as Redis does on a
/// master without replicas.
pub fn too_few_replicas(srv: &Server) -> bool {
    let c = srv.config.read();
    c.min_replicas_to_write > 0 && c.min_replicas_max_lag > 0
}

/// `stop-writes-on-bgsave-error`: writes are refused while the last background save failed
/// and save points are configured.
pub fn bgsave_failed_stops_writes(srv: &Server) -> bool {
    if !srv.persist.last_bgsave_failed.load(Relaxed) {
        return false;
    }
    let c = srv.config.read();
    c.stop_writes_on_bgsave_error && !c.save.is_empty()
}

/// Evicts as the policy says before a command runs (Redis does this before every command while
/// maxmemory is set), and tells whether the command must be refused with -OOM: memory is still
/// over the limit with nothing left to evict, and the command may grow memory (a DENYOOM
/// command, an EXEC queueing one, or anything queued inside MULTI).
fn out_of_memory(srv: &Server, sess: &Session, spec: &CommandSpec, worker: usize, out: &mut Vec<u8>) -> bool {
    if srv.persist.loading.load(Relaxed) {
        return false;
    }
    let state = super::evict::perform(srv, Some(worker), None);
    if sess.tracking.is_some() && crate::server::pubsub::has_local() {
        // Invalidations of keys evicted for this command reach its client before the reply.
        crate::server::pubsub::take_local_for(sess.id, out);
    }
    if state != super::evict::State::Fail {
        return false;
    }
    match &sess.multi {
        Some(m) if spec.name == "exec" => {
            m.queued.iter().any(|q| matches!(resolve(srv, q.args()), Ok((_, s)) if s.has(flag::DENYOOM)))
        }
        Some(_) => !matches!(spec.name, "discard" | "quit" | "reset" | "multi" | "watch"),
        None => spec.has(flag::DENYOOM),
    }
}

/// The commands a RESP2 client may send while subscribed.
fn allowed_when_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "subscribe"
            | "unsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "ssubscribe"
            | "sunsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// Client-side caching: remembers the keys a tracking client just read (default mode), as
/// OPTIN/OPTOUT and CLIENT CACHING allow.
fn remember_reads(srv: &Server, sess: &Session, spec: &CommandSpec, args: Args<'_>) {
    remember_keys(srv, sess, spec.key_args(args).map(|i| &args[i]));
}

/// Remembers `keys` for a tracking client in the default mode, as OPTIN/OPTOUT and CLIENT
/// CACHING allow (scripts: their declared keys).
pub fn remember_keys<'k>(srv: &Server, sess: &Session, keys: impl Iterator<Item = &'k [u8]>) {
    let Some(t) = &sess.tracking else { return };
    let take = if t.bcast {
        false
    } else if t.optin {
        sess.caching == Some(true)
    } else if t.optout {
        sess.caching != Some(false)
    } else {
        true
    };
    if take {
        srv.tracking.remember(sess.id, keys.map(<[u8]>::to_vec));
    }
}

#[allow(clippy::too_many_arguments)]
fn run<'s>(
    srv: &'s Server,
    sess: &mut Session,
    args: Args<'_>,
    out: &mut Vec<u8>,
    gate: &mut Option<RwLockReadGuard<'s, ()>>,
    worker: usize,
    id: usize,
    spec: &'static CommandSpec,
    now: u64,
) -> Option<BlockRequest> {
    let ks = &srv.keyspace;
    let start = Instant::now();
    let (result, blocked) = if spec.has(flag::EXCLUSIVE) {
        // Whole-keyspace work: give up our own gate, then hold every gate.
        *gate = None;
        let excl = ks.exclusive();
        let mut locked = ks.lock_on_demand();
        let r = call(srv, sess, args, out, &mut locked, now, spec, id);
        fold_events(srv, &mut locked, sess.id);
        drop(locked);
        drop(excl);
        *gate = Some(ks.gate(worker));
        r
    } else if spec.has(flag::VISITS_SHARDS) {
        let mut locked = ks.lock_on_demand();
        let r = call(srv, sess, args, out, &mut locked, now, spec, id);
        fold_events(srv, &mut locked, sess.id);
        r
    } else {
        let db = sess.db as u32;
        let wanted: SmallVec<[(u32, u16); 4]> = spec.key_args(args).map(|i| (db, shard_of(&args[i]) as u16)).collect();
        let mut locked = ks.lock_set(wanted);
        let r = call(srv, sess, args, out, &mut locked, now, spec, id);
        fold_events(srv, &mut locked, sess.id);
        r
    };
    let micros = start.elapsed().as_micros() as u64;
    let counters = &srv.stats.per_cmd[crate::server::stats::Stats::slot().min(srv.stats.per_cmd.len() - 1)][id];
    ThreadStats::add(&counters.calls, 1);
    ThreadStats::add(&counters.usec, micros);
    let ok = result.is_ok();
    if let Err(e) = result {
        let text = e.text();
        Reply::new(out, sess.resp3).error(text.as_bytes());
        srv.stats.count_error(&text);
        ThreadStats::add(&counters.failed, 1);
    }
    // Read-only scripts track what they read inside, not their own key arguments.
    if ok
        && blocked.is_none()
        && spec.has(flag::READONLY)
        && !matches!(spec.name, "eval_ro" | "evalsha_ro" | "fcall_ro")
    {
        remember_reads(srv, sess, spec, args);
    }
    let slower = srv.hot.slowlog_slower_than.load(Relaxed);
    if slower >= 0 && micros >= slower as u64 && !spec.has(flag::SKIP_SLOWLOG) {
        let name = sess.shared.name.lock().clone().unwrap_or_default();
        let hidden = redacted_positions(srv, id, args);
        srv.slowlog.lock().push(
            args.iter().enumerate().map(|(i, a)| if hidden.contains(&i) { REDACTED } else { a }),
            micros,
            now / 1000,
            sess.shared.addr.clone(),
            name,
            srv.hot.slowlog_max_len.load(Relaxed) as usize,
        );
    }
    if spec.has(flag::WRITE) && srv.hot.maxmemory.load(Relaxed) > 0 {
        for i in spec.key_args(args) {
            larder_engine::evict::note_write(sess.db, &args[i]);
        }
    }
    // Only this connection's worker writes the counter.
    let c = &sess.shared.commands;
    c.store(c.load(Relaxed) + 1, Relaxed);
    if blocked.is_none() && spec.has(flag::WRITE) && srv.blocking.count() > 0 {
        let db = sess.db;
        let mut written: WrittenKeys = spec.key_args(args).map(|i| (db, args[i].to_vec())).collect();
        if spec.has(flag::EXCLUSIVE) {
            // Whole-keyspace writes (SWAPDB, MOVE, COPY ... DB) change keys their key positions
            // do not name: look at every key a client waits on.
            written.extend(srv.blocking.waited_keys());
        }
        serve_ready(srv, written);
    }
    blocked
}

#[allow(clippy::too_many_arguments)]
fn call(
    srv: &Server,
    sess: &mut Session,
    args: Args<'_>,
    out: &mut Vec<u8>,
    locked: &mut Locked<'_>,
    now: u64,
    spec: &'static CommandSpec,
    id: usize,
) -> (Result<(), CmdError>, Option<BlockRequest>) {
    locked.set_touch(!sess.no_touch || spec.name == "touch");
    locked.set_writing(spec.has(flag::WRITE));
    let logging = srv.aof.on.load(Relaxed);
    let (db, mark, dirty_before) = (sess.db, out.len(), if logging { locked.dirty() } else { 0 });
    let mut ctx = Ctx { srv, sess, keys: locked, out, now, spec, id, blocked: None, may_block: true };
    let r = (spec.handler)(&mut ctx, args);
    let blocked = ctx.blocked;
    if logging && blocked.is_none() && (r.is_ok() || locked.dirty() > dirty_before) {
        let worker = Some(crate::server::stats::Stats::slot()).filter(|&w| w < srv.worker_count);
        crate::persist::aof::log_effects(srv, db, locked, spec, args, &out[mark..], dirty_before, None, worker);
    }
    (r, blocked)
}

fn fold_events(srv: &Server, locked: &mut Locked<'_>, writer: u64) {
    let t = srv.stats.mine();
    let worker = Some(crate::server::stats::Stats::slot()).filter(|&w| w < srv.worker_count);
    locked.drain_events(|db, ev| {
        if !ev.modified_keys.is_empty() {
            let keys = std::mem::take(&mut ev.modified_keys);
            srv.tracking.invalidate(srv, &keys, false, writer, worker);
        }
        if !ev.expired_keys.is_empty() || !ev.new_keys.is_empty() {
            super::notify::shard_events(srv, db, ev, worker);
        }
        if ev.expired > 0 {
            ThreadStats::add(&t.expired, ev.expired);
            ev.expired = 0;
        }
        if ev.dirty > 0 {
            ThreadStats::add(&t.dirty, ev.dirty);
            ev.dirty = 0;
        }
    });
}

fn reject(srv: &Server, sess: &Session, out: &mut Vec<u8>, id: Option<usize>, e: CmdError) {
    let text = e.text();
    Reply::new(out, sess.resp3).error(text.as_bytes());
    srv.stats.count_error(&text);
    if let Some(id) = id {
        let slot = crate::server::stats::Stats::slot().min(srv.stats.per_cmd.len() - 1);
        ThreadStats::add(&srv.stats.per_cmd[slot][id].rejected, 1);
    }
}

/// Applies CLIENT REPLY OFF/SKIP to the reply just written.
fn finish_reply_mode(sess: &mut Session, out: &mut Vec<u8>, mark: usize) {
    match sess.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => out.truncate(mark),
        ReplyMode::Skip => {
            out.truncate(mark);
            sess.reply_mode = ReplyMode::On;
        }
        ReplyMode::SkipNext => sess.reply_mode = ReplyMode::Skip,
    }
}
