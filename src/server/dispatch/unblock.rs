//! Serving clients blocked on keys (BLPOP and friends): registering a waiter, re-running the
//! waiters' commands after a write to their keys, and the reply a timed-out waiter gets.

use larder_engine::keyspace::shard_of;
use larder_engine::{clock, KeyRef, ValueRef};
use larder_resp::{Args, OwnedArgs, Reply};
use smallvec::SmallVec;

use super::{call, fold_events, resolve};
use crate::commands::spec::{flag, Group};
use crate::server::blocking::{BlockRequest, TimeoutReply, Waiter};
use crate::server::client::Session;
use crate::server::Server;

/// Registers a blocked client, then looks at its keys once more: a write that landed between
/// the handler's look and the registration found no waiter to serve.
pub(super) fn block(srv: &Server, sess: &mut Session, args: Args<'_>, worker: usize, req: BlockRequest) {
    let keys = req.keys.clone();
    sess.shared.set_flag(crate::server::client::cflag::BLOCKED, true);
    srv.blocking.add(Waiter {
        client: sess.id,
        worker,
        db: sess.db,
        resp3: sess.resp3,
        args: OwnedArgs::from_args(args),
        req,
    });
    serve_ready(srv, keys.into_iter().map(|k| (sess.db, k)).collect());
}

/// Serves clients blocked on keys that were just written, following chains (a served BLMOVE
/// writes its destination, which may have waiters of its own).
pub fn serve_ready(srv: &Server, mut work: WrittenKeys) {
    while let Some((db, key)) = work.pop() {
        if !srv.blocking.has_waiters(db, &key) {
            continue;
        }
        let mut more = Vec::new();
        srv.blocking.serve(
            db,
            &key,
            |w| {
                let (reply, written) = attempt(srv, w, &key)?;
                more.extend(written);
                Some(reply)
            },
            |w, reply| srv.send_to_worker(w.worker, crate::server::worker::Msg::Unblocked(w.client, reply)),
        );
        work.extend(more);
    }
}

/// Keys a command wrote: (database, key).
pub(super) type WrittenKeys = Vec<(usize, Vec<u8>)>;

/// Re-runs a blocked client's command: its reply and the keys it wrote, or None if it would
/// still block.
fn attempt(srv: &Server, w: &Waiter, key: &[u8]) -> Option<(Vec<u8>, WrittenKeys)> {
    let Some(shared) = srv.clients.get(w.client) else {
        // Disconnected: its waiter is dropped with an empty reply nobody reads.
        return Some((Vec::new(), Vec::new()));
    };
    let args = w.args.args();
    let (id, spec) = resolve(srv, args).ok()?;
    let mut sess = Session::new(shared, true);
    sess.db = w.db;
    sess.resp3 = w.resp3;
    let wanted: SmallVec<[(u32, u16); 4]> =
        spec.key_args(args).map(|i| (w.db as u32, shard_of(&args[i]) as u16)).collect();
    let mut out = Vec::new();
    let own = crate::server::pubsub::Capture::start(w.client);
    let (result, blocked) = {
        let mut locked = srv.keyspace.lock_set(wanted);
        let now = clock::now_ms();
        // As Redis: only a key of the type the client waits for serves it (a key replaced by a
        // string keeps a BLPOP blocked rather than answering WRONGTYPE).
        let kind = locked.peek(w.db, &KeyRef::new(key), now).map(|e| match e.value() {
            ValueRef::Obj(o) => o.type_name(),
            _ => "string",
        });
        let wanted_kind = match spec.group {
            Group::List => Some("list"),
            Group::SortedSet => Some("zset"),
            _ => None,
        };
        if wanted_kind.is_some() && kind != wanted_kind {
            return None;
        }
        let r = call(srv, &mut sess, args, &mut out, &mut locked, now, spec, id);
        fold_events(srv, &mut locked, sess.id);
        r
    };
    if blocked.is_some() {
        return None;
    }
    if let Err(e) = result {
        Reply::new(&mut out, w.resp3).error(e.text().as_bytes());
        return Some((out, Vec::new()));
    }
    // Invalidations of its own write follow the served client's reply.
    out.extend(own.take());
    let written = if spec.has(flag::WRITE) {
        spec.key_args(args).map(|i| (w.db, args[i].to_vec())).collect()
    } else {
        Vec::new()
    };
    Some((out, written))
}

/// The reply a blocked client gets when its timeout passes.
pub fn timeout_reply(resp3: bool, kind: TimeoutReply) -> Vec<u8> {
    let mut out = Vec::new();
    let mut r = Reply::new(&mut out, resp3);
    match kind {
        TimeoutReply::NullArray => r.null_array(),
        TimeoutReply::NullBulk => r.null(),
    }
    out
}
