//! Client-side caching (CLIENT TRACKING): which clients may hold which keys, and the
//! invalidation messages sent when those keys change.
//!
//! In the default mode, every key a tracking client reads is remembered with the client's id;
//! the first modification of the key sends each of those clients one invalidation and forgets
//! them (they will read, and be remembered, again). In BCAST mode a client registers prefixes
//! instead and hears about every modified key matching one. Shards record modified keys only
//! while at least one client tracks (`larder_engine::notify::tracking`), so tracking costs
//! nothing when unused. Invalidations go to the client itself as a RESP3 push, or to its
//! REDIRECT client as a message on `__redis__:invalidate` (or a push if that client speaks
//! RESP3).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use larder_resp::Reply;
use parking_lot::Mutex;

use super::pubsub::Delivery;
use super::Server;

/// A tracking client's settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Client that receives the invalidations (0: the client itself).
    pub redirect: u64,
    /// BCAST mode.
    pub bcast: bool,
    /// BCAST prefixes (empty: every key).
    pub prefixes: Vec<Vec<u8>>,
    /// OPTIN: only reads after CLIENT CACHING yes are tracked.
    pub optin: bool,
    /// OPTOUT: reads are tracked unless after CLIENT CACHING no.
    pub optout: bool,
    /// NOLOOP: no invalidations for the client's own writes.
    pub noloop: bool,
}

/// The tracking registry.
#[derive(Default)]
pub struct Tracking {
    clients: Mutex<HashMap<u64, Settings>>,
    keys: Mutex<HashMap<Box<[u8]>, HashSet<u64>>>,
}

impl Tracking {
    /// Turns tracking on for `client` with `settings` (replacing earlier settings).
    pub fn enable(&self, client: u64, settings: Settings) {
        let mut c = self.clients.lock();
        c.insert(client, settings);
        larder_engine::notify::set_tracking(true);
    }

    /// Turns tracking off for `client` and forgets what it read.
    pub fn disable(&self, client: u64) {
        let mut c = self.clients.lock();
        if c.remove(&client).is_none() {
            return;
        }
        if c.is_empty() {
            larder_engine::notify::set_tracking(false);
            self.keys.lock().clear();
        }
    }

    /// The settings of a tracking client.
    pub fn settings(&self, client: u64) -> Option<Settings> {
        self.clients.lock().get(&client).cloned()
    }

    /// Number of tracking clients.
    pub fn client_count(&self) -> usize {
        self.clients.lock().len()
    }

    /// Number of keys remembered.
    pub fn key_count(&self) -> usize {
        self.keys.lock().len()
    }

    /// (key, client) pairs remembered.
    pub fn item_count(&self) -> usize {
        self.keys.lock().values().map(HashSet::len).sum()
    }

    /// Number of BCAST prefixes registered.
    pub fn prefix_count(&self) -> usize {
        self.clients.lock().values().filter(|s| s.bcast).map(|s| s.prefixes.len().max(1)).sum()
    }

    /// Remembers that `client` read `keys`.
    pub fn remember(&self, client: u64, keys: impl Iterator<Item = Vec<u8>>) {
        let mut k = self.keys.lock();
        for key in keys {
            k.entry(key.into_boxed_slice()).or_default().insert(client);
        }
    }

    /// `tracking-table-max-keys`: while more keys are remembered than `max` (0: no limit),
    /// forgets keys, sending their clients invalidations as if the keys had changed (at most
    /// 1000 per call; the cron calls this every tick).
    pub fn limit_keys(&self, srv: &Server, max: usize) {
        let excess: Vec<Box<[u8]>> = {
            let keys = self.keys.lock();
            if max == 0 || keys.len() <= max {
                return;
            }
            keys.keys().take((keys.len() - max).min(1000)).cloned().collect()
        };
        self.invalidate_keys(srv, &excess, false, 0, None, false);
    }

    /// Sends the invalidations due for `modified` keys (written by `writer`), and for a flush.
    pub fn invalidate(&self, srv: &Server, modified: &[Box<[u8]>], flushed: bool, writer: u64, worker: Option<usize>) {
        self.invalidate_keys(srv, modified, flushed, writer, worker, true);
    }

    /// [`Tracking::invalidate`]; `broadcast` false leaves BCAST clients out (keys dropped from
    /// the table did not change).
    fn invalidate_keys(
        &self,
        srv: &Server,
        modified: &[Box<[u8]>],
        flushed: bool,
        writer: u64,
        worker: Option<usize>,
        broadcast: bool,
    ) {
        // (receiver client id, keys it must drop): one key per message in the default mode,
        // in the order the keys changed, as Redis sends them; None means everything (flush).
        let mut per_client: Vec<(u64, Option<Vec<&[u8]>>)> = Vec::new();
        // BCAST: one message per (client, matching prefix), as Redis sends them.
        let mut per_prefix: Vec<(u64, Vec<&[u8]>)> = Vec::new();
        let clients = self.clients.lock().clone();
        if flushed {
            self.keys.lock().clear();
            for id in clients.keys() {
                per_client.push((*id, None));
            }
        } else {
            let mut table = self.keys.lock();
            for key in modified {
                if let Some(ids) = table.remove(key) {
                    // A client that switched to BCAST since it read the key hears of it through
                    // its prefixes only.
                    for id in ids.into_iter().filter(|id| clients.get(id).is_some_and(|s| !s.bcast)) {
                        per_client.push((id, Some(vec![key])));
                    }
                }
            }
            drop(table);
            for (id, s) in clients.iter().filter(|(_, s)| s.bcast && broadcast) {
                let prefixes: Vec<&[u8]> =
                    if s.prefixes.is_empty() { vec![&b""[..]] } else { s.prefixes.iter().map(Vec::as_slice).collect() };
                for p in prefixes {
                    let mut keys: Vec<&[u8]> = Vec::new();
                    for key in modified.iter().filter(|k| k.starts_with(p)) {
                        if !keys.contains(&&key[..]) {
                            keys.push(key);
                        }
                    }
                    if !keys.is_empty() {
                        per_prefix.push((*id, keys));
                    }
                }
            }
        }
        let mut outgoing: Vec<(usize, Delivery)> = Vec::new();
        let groups = per_client.into_iter().chain(per_prefix.into_iter().map(|(id, keys)| (id, Some(keys))));
        for (id, keys) in groups {
            let Some(s) = clients.get(&id) else { continue };
            if s.noloop && id == writer {
                continue;
            }
            let target = if s.redirect != 0 { s.redirect } else { id };
            let Some(t) = srv.clients.get(target) else {
                // The redirect client is gone: a RESP3 client hears that its redirection broke.
                if let Some(me) = srv.clients.get(id).filter(|me| s.redirect != 0 && me.resp.load(Relaxed) == 3) {
                    outgoing.push((me.worker, (id, redirect_broken(s.redirect))));
                }
                continue;
            };
            let resp3 = t.resp.load(Relaxed) == 3;
            // RESP2 has no pushes: only a redirect client in Pub/Sub mode can hear of it.
            if !resp3 && (s.redirect == 0 || !t.is_pubsub()) {
                continue;
            }
            outgoing.push((t.worker, (target, message(resp3, keys.as_deref()))));
        }
        super::pubsub::deliver(srv, outgoing, worker, true);
    }
}

/// The push a RESP3 tracking client gets when its REDIRECT client no longer exists.
fn redirect_broken(redirect: u64) -> Arc<[u8]> {
    let mut out = Vec::new();
    let mut r = Reply::new(&mut out, true);
    r.push(2);
    r.bulk(b"tracking-redir-broken");
    r.int(redirect as i64);
    out.into()
}

/// An invalidation: a RESP3 `invalidate` push, or a RESP2 message on `__redis__:invalidate`.
/// `keys` None means everything (after a flush).
fn message(resp3: bool, keys: Option<&[&[u8]]>) -> Arc<[u8]> {
    let mut out = Vec::new();
    let mut r = Reply::new(&mut out, resp3);
    if resp3 {
        r.push(2);
        r.bulk(b"invalidate");
    } else {
        r.array(3);
        r.bulk(b"message");
        r.bulk(b"__redis__:invalidate");
    }
    match keys {
        Some(k) => {
            r.array(k.len());
            for key in k {
                r.bulk(key);
            }
        }
        None => r.null_array(),
    }
    out.into()
}
