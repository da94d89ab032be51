//! MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Queueing happens in dispatch (a client inside MULTI has its commands checked and queued
//! instead of run); EXEC runs the queue under one lock set in `server::dispatch::transaction::exec`. WATCH
//! registers the client on each key's shard; any modification of the key (a write, expiry,
//! eviction, FLUSHDB/FLUSHALL, SWAPDB) sets the transaction's dirty flag through the shard's
//! write hook, and EXEC then answers a null reply without running anything.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use larder_engine::keyspace::shard_of;
use larder_engine::KeyRef;
use larder_resp::Args;

use super::spec::{acl, cmd, flag, keys, CommandSpec, Group, Keys};
use super::{CmdError, CmdResult, Ctx};
use crate::server::client::{cflag, Multi, Session, WatchSet};
use crate::server::Server;

const G: Group = Group::Transactions;
const F: u32 = flag::NOSCRIPT | flag::LOADING | flag::STALE;
const A: u64 = acl::FAST | acl::TRANSACTION;

/// The transaction family's table entries. EXEC's handler is never called: dispatch runs it.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "multi",
        1,
        F | flag::FAST | flag::ALLOW_BUSY,
        A,
        Keys::None,
        G,
        "1.2.0",
        "O(1)",
        "Starts a transaction.",
        multi,
    ),
    cmd(
        "exec",
        1,
        F | flag::SKIP_SLOWLOG,
        acl::SLOW | acl::TRANSACTION,
        Keys::None,
        G,
        "1.2.0",
        "Depends on commands in the transaction",
        "Runs every command queued since MULTI, atomically.",
        exec_outside_dispatch,
    ),
    cmd(
        "discard",
        1,
        F | flag::FAST | flag::ALLOW_BUSY,
        A,
        Keys::None,
        G,
        "2.0.0",
        "O(N), when N is the number of queued commands",
        "Discards a transaction.",
        discard,
    ),
    cmd(
        "watch",
        -2,
        F | flag::FAST | flag::ALLOW_BUSY,
        A,
        keys(1, -1, 1),
        G,
        "2.2.0",
        "O(1) for every key.",
        "Watches keys: a later EXEC fails if any of them was modified.",
        watch,
    ),
    cmd(
        "unwatch",
        1,
        F | flag::FAST | flag::ALLOW_BUSY,
        A,
        Keys::None,
        G,
        "2.2.0",
        "O(1)",
        "Forgets every watched key.",
        unwatch,
    ),
];

fn multi(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    if ctx.sess.multi.is_some() {
        return Err(CmdError::Static("ERR MULTI calls can not be nested"));
    }
    ctx.sess.multi = Some(Multi::default());
    ctx.sess.shared.set_flag(cflag::MULTI, true);
    ctx.reply().ok();
    Ok(())
}

fn exec_outside_dispatch(_ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR EXEC without MULTI"))
}

fn discard(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    if ctx.sess.multi.take().is_none() {
        return Err(CmdError::Static("ERR DISCARD without MULTI"));
    }
    ctx.sess.shared.set_flag(cflag::MULTI, false);
    unwatch_all(ctx.srv, ctx.sess);
    ctx.reply().ok();
    Ok(())
}

fn watch(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if ctx.sess.multi.is_some() {
        return Err(CmdError::Static("ERR WATCH inside MULTI is not allowed"));
    }
    let db = ctx.sess.db;
    let dirty = match &ctx.sess.watch {
        Some(w) => w.dirty.clone(),
        None => Arc::new(AtomicBool::new(false)),
    };
    let mut added = Vec::new();
    for key in args.iter().skip(1) {
        let k = KeyRef::new(key);
        let now = ctx.now;
        ctx.shard(&k).watch(&k, &dirty, now);
        added.push((db, key.to_vec()));
    }
    let set = ctx.sess.watch.get_or_insert_with(|| WatchSet { dirty, keys: Vec::new() });
    for k in added {
        if !set.keys.contains(&k) {
            set.keys.push(k);
        }
    }
    ctx.reply().ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    unwatch_all(ctx.srv, ctx.sess);
    ctx.reply().ok();
    Ok(())
}

/// Drops every WATCH of the session, locking one shard at a time (the caller must hold no
/// shard lock).
pub fn unwatch_all(srv: &Server, sess: &mut Session) {
    let Some(set) = sess.watch.take() else { return };
    for (db, key) in &set.keys {
        srv.keyspace.db(*db).lock(shard_of(key)).unwatch(key, &set.dirty);
    }
}
