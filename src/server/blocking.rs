//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...).
//!
//! A blocking command that finds nothing to take asks to block (`Ctx::block`); dispatch then
//! records a [`Waiter`] here and the connection stops running its later requests. After every
//! write command, dispatch looks up the written keys here; for each key with waiters it re-runs
//! the waiters' commands in arrival order (first come, first served) on the writing thread, and
//! each one that now succeeds is removed and its reply is sent to the worker that owns the
//! client. Timeouts, CLIENT UNBLOCK and disconnections remove a waiter the same way: whoever
//! removes it from the registry (under its mutex) owns its reply, so a client is answered once.
//!
//! Lock order: the registry mutex may be held while shard locks are taken (serving), never the
//! other way round.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use larder_resp::OwnedArgs;
use parking_lot::Mutex;

use crate::commands::CmdError;

/// What a timed-out client receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` (RESP2) / `_` (RESP3): BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
    NullArray,
    /// `$-1` / `_`: BLMOVE, BRPOPLPUSH.
    NullBulk,
}

/// A handler's request to block, returned through `Ctx::block`.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// Keys to wait on (in the client's database).
    pub keys: Vec<Vec<u8>>,
    /// Unix ms deadline; None waits forever.
    pub deadline: Option<u64>,
    /// Reply on timeout.
    pub on_timeout: TimeoutReply,
}

/// A blocked client.
#[derive(Debug, Clone)]
pub struct Waiter {
    /// Client id.
    pub client: u64,
    /// Worker that owns the connection.
    pub worker: usize,
    /// Database the command runs in.
    pub db: usize,
    /// RESP3 client.
    pub resp3: bool,
    /// The blocked command, re-run when a key is written.
    pub args: OwnedArgs,
    /// What it waits on and until when.
    pub req: BlockRequest,
}

#[derive(Default)]
struct Inner {
    by_client: HashMap<u64, Waiter>,
    by_key: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
}

/// The registry of blocked clients.
#[derive(Default)]
pub struct Blocking {
    inner: Mutex<Inner>,
    count: AtomicUsize,
}

impl Blocking {
    /// Number of blocked clients (INFO blocked_clients); cheap, read on every write.
    #[inline]
    pub fn count(&self) -> usize {
        self.count.load(Relaxed)
    }

    /// Number of keys clients are blocked on.
    pub fn key_count(&self) -> usize {
        self.inner.lock().by_key.len()
    }

    /// Records a blocked client.
    pub fn add(&self, w: Waiter) {
        let mut g = self.inner.lock();
        for k in &w.req.keys {
            let q = g.by_key.entry((w.db, k.clone())).or_default();
            if !q.contains(&w.client) {
                q.push_back(w.client);
            }
        }
        if g.by_client.insert(w.client, w).is_none() {
            self.count.fetch_add(1, Relaxed);
        }
    }

    /// Removes a blocked client, returning its record if it was still waiting.
    pub fn remove(&self, client: u64) -> Option<Waiter> {
        let mut g = self.inner.lock();
        Self::remove_locked(&mut g, client, &self.count)
    }

    fn remove_locked(g: &mut Inner, client: u64, count: &AtomicUsize) -> Option<Waiter> {
        let w = g.by_client.remove(&client)?;
        count.fetch_sub(1, Relaxed);
        for k in &w.req.keys {
            let slot = (w.db, k.clone());
            if let Some(q) = g.by_key.get_mut(&slot) {
                q.retain(|&c| c != client);
                if q.is_empty() {
                    g.by_key.remove(&slot);
                }
            }
        }
        Some(w)
    }

    /// Every (database, key) some client waits on.
    pub fn waited_keys(&self) -> Vec<(usize, Vec<u8>)> {
        self.inner.lock().by_key.keys().cloned().collect()
    }

    /// True when some client waits on `key` in `db`.
    pub fn has_waiters(&self, db: usize, key: &[u8]) -> bool {
        if self.count() == 0 {
            return false;
        }
        self.inner.lock().by_key.contains_key(&(db, key.to_vec()))
    }

    /// Serves the clients waiting on `key` in `db`, oldest first: `attempt` re-runs a waiter's
    /// command and returns its reply, or None if it would still block. Each served waiter is
    /// removed and handed to `deliver` with its reply. Stops at the first waiter that would
    /// still block (the key has nothing left for it).
    pub fn serve(
        &self,
        db: usize,
        key: &[u8],
        mut attempt: impl FnMut(&Waiter) -> Option<Vec<u8>>,
        mut deliver: impl FnMut(Waiter, Vec<u8>),
    ) {
        let mut g = self.inner.lock();
        loop {
            let Some(first) = g.by_key.get(&(db, key.to_vec())).and_then(|q| q.front().copied()) else { return };
            let Some(w) = g.by_client.get(&first) else {
                // Stale queue entry: drop it and go on.
                if let Some(q) = g.by_key.get_mut(&(db, key.to_vec())) {
                    q.pop_front();
                }
                continue;
            };
            match attempt(w) {
                Some(reply) => {
                    if let Some(w) = Self::remove_locked(&mut g, first, &self.count) {
                        deliver(w, reply);
                    }
                }
                None => return,
            }
        }
    }
}

/// Parses a blocking timeout in seconds (fractions allowed; 0 waits forever) into an absolute
/// deadline, with Redis's error texts.
pub fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<Option<u64>, CmdError> {
    let secs = larder_engine::util::num::parse_f64(arg)
        .filter(|v| v.is_finite())
        .ok_or(CmdError::Static("ERR timeout is not a float or out of range"))?;
    if secs < 0.0 {
        return Err(CmdError::Static("ERR timeout is negative"));
    }
    let ms = secs * 1000.0;
    if ms > (i64::MAX / 2) as f64 {
        return Err(CmdError::Static("ERR timeout is out of range"));
    }
    if ms == 0.0 {
        return Ok(None);
    }
    // Redis rounds sub-millisecond timeouts up to at least one millisecond.
    Ok(Some(now_ms + (ms.ceil() as u64).max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(id: u64, keys: &[&str]) -> Waiter {
        Waiter {
            client: id,
            worker: 0,
            db: 0,
            resp3: false,
            args: OwnedArgs::from_slices([b"blpop".as_slice()]),
            req: BlockRequest {
                keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
                deadline: None,
                on_timeout: TimeoutReply::NullArray,
            },
        }
    }

    #[test]
    fn serves_in_arrival_order_and_stops_when_empty() {
        let b = Blocking::default();
        b.add(waiter(1, &["a"]));
        b.add(waiter(2, &["a", "b"]));
        b.add(waiter(3, &["a"]));
        assert_eq!(b.count(), 3);
        let mut available = 2;
        let mut served = Vec::new();
        b.serve(
            0,
            b"a",
            |_| {
                if available > 0 {
                    available -= 1;
                    Some(b"+x\r\n".to_vec())
                } else {
                    None
                }
            },
            |w, _| served.push(w.client),
        );
        assert_eq!(served, vec![1, 2]);
        assert_eq!(b.count(), 1);
        assert!(!b.has_waiters(0, b"b"), "client 2 left every queue");
        assert!(b.has_waiters(0, b"a"));
        assert!(b.remove(3).is_some());
        assert!(b.remove(3).is_none(), "a client is removed once");
        assert_eq!(b.key_count(), 0);
    }

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(parse_timeout(b"0", 1000), Ok(None));
        assert_eq!(parse_timeout(b"0.1", 1000), Ok(Some(1100)));
        assert_eq!(parse_timeout(b"1", 1000), Ok(Some(2000)));
        assert_eq!(parse_timeout(b"-1", 0), Err(CmdError::Static("ERR timeout is negative")));
        assert_eq!(parse_timeout(b"x", 0), Err(CmdError::Static("ERR timeout is not a float or out of range")));
    }
}
