//! Pub/Sub: who is subscribed to what, and delivery of published messages.
//!
//! Subscriptions live in three registries (channels, patterns, shard channels). PUBLISH looks
//! up the receivers, encodes the message once per protocol version, and hands it to each
//! receiver's worker: directly through a thread-local queue when the receiver is on the
//! publishing worker (drained after the publisher's batch, no wake-up needed), otherwise in one
//! mailbox message per worker. Mailboxes and the local queue are FIFO, so each subscriber sees
//! one publisher's messages in publish order.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use larder_engine::util::glob::glob_match;
use larder_resp::Reply;
use parking_lot::RwLock;

use super::client::ClientShared;
use super::worker::Msg;
use super::Server;

/// Which registry a subscription belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

type Subscribers = Vec<Arc<ClientShared>>;
type Registry = RwLock<HashMap<Box<[u8]>, Subscribers>>;

/// The subscription registries.
#[derive(Default)]
pub struct PubSub {
    channels: Registry,
    patterns: Registry,
    shard: Registry,
}

/// A message bound for one client.
pub type Delivery = (u64, Arc<[u8]>);

thread_local! {
    static LOCAL: RefCell<Vec<Delivery>> = const { RefCell::new(Vec::new()) };
    /// When the oldest message in [`LOCAL`] was queued, and whether one of them may not wait
    /// (see [`local_due`]).
    static LOCAL_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
    static LOCAL_URGENT: Cell<bool> = const { Cell::new(false) };
    /// The client whose messages [`Capture`] holds back on this thread, and those messages.
    static CAPTURE: RefCell<Option<(u64, Vec<u8>)>> = const { RefCell::new(None) };
}

/// Holds back the messages sent to one client on this thread while it lives, so they can
/// follow a reply that is not written yet (a served blocked client hears of its own write
/// after its reply, as in Redis).
pub struct Capture;

impl Capture {
    /// Starts holding back messages for `client`.
    pub fn start(client: u64) -> Capture {
        CAPTURE.with(|c| *c.borrow_mut() = Some((client, Vec::new())));
        Capture
    }

    /// The messages held back so far.
    pub fn take(&self) -> Vec<u8> {
        CAPTURE.with(|c| c.borrow_mut().as_mut().map(|(_, b)| std::mem::take(b)).unwrap_or_default())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

/// Forgets the age and urgency of the local queue (it was just emptied).
fn reset_local_marks() {
    LOCAL_SINCE.set(None);
    LOCAL_URGENT.set(false);
}

/// Bytes of messages handed to a worker (its mailbox or its local queue) and not yet appended
/// to their clients' output.
static IN_TRANSIT: AtomicI64 = AtomicI64::new(0);

/// Bytes of messages on their way to clients' output (see [`IN_TRANSIT`]).
pub fn in_transit() -> u64 {
    IN_TRANSIT.load(Relaxed).max(0) as u64
}

/// The bytes a batch holds: a message sent to several clients in a row is one allocation.
pub fn batch_bytes(batch: &[Delivery]) -> i64 {
    let mut last: *const u8 = std::ptr::null();
    let mut n = 0;
    for (_, m) in batch {
        if m.as_ptr() != last {
            n += m.len() as i64;
            last = m.as_ptr();
        }
    }
    n
}

/// Marks `bytes` of messages (from [`batch_bytes`]) as delivered.
pub fn arrived(bytes: i64) {
    IN_TRANSIT.fetch_sub(bytes, Relaxed);
}

/// Takes the messages queued for clients of the calling worker.
pub fn take_local() -> Vec<Delivery> {
    reset_local_marks();
    LOCAL.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Appends messages to the calling worker's local queue.
fn queue_local(batch: Vec<Delivery>, urgent: bool) {
    IN_TRANSIT.fetch_add(batch_bytes(&batch), Relaxed);
    LOCAL.with(|l| l.borrow_mut().extend(batch));
    if LOCAL_SINCE.get().is_none() {
        LOCAL_SINCE.set(Some(Instant::now()));
    }
    if urgent {
        LOCAL_URGENT.set(true);
    }
}

/// Messages queued locally past this count are delivered whatever their age.
const LOCAL_HOLD_MAX: usize = 1024;

/// True when the calling worker's queued messages should go out now rather than wait for a
/// later round: one of them may not wait (a tracking invalidation), the oldest has waited
/// `hold`, or there are many. Pub/Sub messages may wait a little so that a busy worker writes
/// each subscriber the messages of several rounds at once.
pub fn local_due(hold: Duration) -> bool {
    LOCAL.with(|l| {
        let l = l.borrow();
        !l.is_empty()
            && (LOCAL_URGENT.get()
                || l.len() >= LOCAL_HOLD_MAX
                || LOCAL_SINCE.get().is_none_or(|t| t.elapsed() >= hold))
    })
}

/// Moves the messages queued for `client` on the calling worker into `out`, in order (what
/// must reach a client before the reply it is waiting for, e.g. invalidations of keys evicted
/// before its command ran).
pub fn take_local_for(client: u64, out: &mut Vec<u8>) {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        if l.iter().any(|(id, _)| *id == client) {
            let before = batch_bytes(&l);
            l.retain(|(id, bytes)| {
                if *id == client {
                    out.extend_from_slice(bytes);
                }
                *id != client
            });
            arrived(before - batch_bytes(&l));
            if l.is_empty() {
                reset_local_marks();
            }
        }
    })
}

/// True when messages wait in the calling worker's local queue.
pub fn has_local() -> bool {
    LOCAL.with(|l| !l.borrow().is_empty())
}

impl PubSub {
    fn map(&self, kind: Kind) -> &Registry {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// Adds `client` to `name` in the `kind` registry.
    pub fn subscribe(&self, kind: Kind, name: &[u8], client: &Arc<ClientShared>) {
        let mut m = self.map(kind).write();
        let subs = m.entry(name.into()).or_default();
        if !subs.iter().any(|c| c.id == client.id) {
            subs.push(client.clone());
        }
    }

    /// Removes `client` from `name` in the `kind` registry.
    pub fn unsubscribe(&self, kind: Kind, name: &[u8], client: u64) {
        let mut m = self.map(kind).write();
        if let Some(subs) = m.get_mut(name) {
            subs.retain(|c| c.id != client);
            if subs.is_empty() {
                m.remove(name);
            }
        }
    }

    /// Names with at least one subscriber matching `pattern` (all when None).
    pub fn names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        self.map(kind)
            .read()
            .keys()
            .filter(|n| pattern.is_none_or(|p| glob_match(p, n, false)))
            .map(|n| n.to_vec())
            .collect()
    }

    /// Number of subscribers of `name`.
    pub fn count(&self, kind: Kind, name: &[u8]) -> usize {
        self.map(kind).read().get(name).map_or(0, Vec::len)
    }

    /// Number of names with subscribers.
    pub fn len(&self, kind: Kind) -> usize {
        self.map(kind).read().len()
    }

    /// True when nobody is subscribed to anything of `kind`.
    pub fn is_empty(&self, kind: Kind) -> bool {
        self.map(kind).read().is_empty()
    }
}

/// Encodes a message push: `[kind, (pattern,) channel, payload]`.
fn encode(resp3: bool, kind: &[u8], pattern: Option<&[u8]>, channel: &[u8], payload: &[u8]) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(32 + channel.len() + payload.len() + pattern.map_or(0, |p| p.len()));
    let mut r = Reply::new(&mut out, resp3);
    r.push(3 + pattern.is_some() as usize);
    r.bulk(kind);
    if let Some(p) = pattern {
        r.bulk(p);
    }
    r.bulk(channel);
    r.bulk(payload);
    out.into()
}

/// Publishes `payload` on `channel` (SPUBLISH when `kind` is Shard); returns the number of
/// receivers. `worker` is the publishing worker (None outside worker threads).
pub fn publish(srv: &Server, kind: Kind, channel: &[u8], payload: &[u8], worker: Option<usize>) -> usize {
    let mut outgoing: Vec<(usize, Delivery)> = Vec::new();
    let mut cached: [Option<Arc<[u8]>>; 2] = [None, None];
    let (exact_map, word): (&Registry, &[u8]) = match kind {
        Kind::Shard => (&srv.pubsub.shard, b"smessage"),
        _ => (&srv.pubsub.channels, b"message"),
    };
    if let Some(subs) = exact_map.read().get(channel) {
        for c in subs {
            let resp3 = c.resp.load(Relaxed) == 3;
            let bytes =
                cached[resp3 as usize].get_or_insert_with(|| encode(resp3, word, None, channel, payload)).clone();
            outgoing.push((c.worker, (c.id, bytes)));
        }
    }
    if kind != Kind::Shard {
        let patterns = srv.pubsub.patterns.read();
        for (pattern, subs) in patterns.iter() {
            if !glob_match(pattern, channel, false) {
                continue;
            }
            let mut by_proto: [Option<Arc<[u8]>>; 2] = [None, None];
            for c in subs {
                let resp3 = c.resp.load(Relaxed) == 3;
                let bytes = by_proto[resp3 as usize]
                    .get_or_insert_with(|| encode(resp3, b"pmessage", Some(pattern), channel, payload))
                    .clone();
                outgoing.push((c.worker, (c.id, bytes)));
            }
        }
    }
    let n = outgoing.len();
    deliver(srv, outgoing, worker, false);
    n
}

/// Hands messages to their clients' workers (the calling worker's own through its local queue).
/// `urgent` messages (tracking invalidations) leave the local queue at the end of the round;
/// others may wait there for a few rounds while the worker is busy (see [`local_due`]).
pub fn deliver(srv: &Server, mut outgoing: Vec<(usize, Delivery)>, worker: Option<usize>, urgent: bool) {
    CAPTURE.with(|c| {
        if let Some((client, held)) = c.borrow_mut().as_mut() {
            outgoing.retain(|(_, (id, bytes))| {
                if id == client {
                    held.extend_from_slice(bytes);
                }
                id != client
            });
        }
    });
    if outgoing.is_empty() {
        return;
    }
    // Group by worker, keeping each worker's messages in order.
    outgoing.sort_by_key(|(w, _)| *w);
    let mut start = 0;
    while start < outgoing.len() {
        let w = outgoing[start].0;
        let end = outgoing[start..].iter().position(|(x, _)| *x != w).map_or(outgoing.len(), |p| start + p);
        let batch: Vec<Delivery> = outgoing[start..end].iter().map(|(_, d)| d.clone()).collect();
        if Some(w) == worker {
            queue_local(batch, urgent);
        } else {
            IN_TRANSIT.fetch_add(batch_bytes(&batch), Relaxed);
            srv.send_to_worker(w, Msg::DeliverMany(batch));
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(client: u64) -> Delivery {
        (client, Arc::from(&b"msg"[..]))
    }

    #[test]
    fn held_messages_fall_due_with_age_count_or_urgency() {
        let hold = Duration::from_millis(50);
        assert!(!local_due(hold), "nothing queued");
        queue_local(vec![message(1)], false);
        assert!(!local_due(hold), "a fresh Pub/Sub message may wait");
        assert!(local_due(Duration::ZERO), "one older than the hold may not");
        std::thread::sleep(Duration::from_millis(60));
        assert!(local_due(hold));
        assert_eq!(take_local().len(), 1);
        assert!(!local_due(Duration::ZERO), "taking empties the queue");

        queue_local(vec![message(1)], false);
        queue_local(vec![message(2)], true);
        assert!(local_due(hold), "an invalidation goes out at once, with what is before it");
        assert_eq!(take_local().len(), 2);

        queue_local((0..LOCAL_HOLD_MAX as u64).map(message).collect(), false);
        assert!(local_due(hold), "a long queue goes out whatever its age");
        take_local();
        queue_local(vec![message(1)], false);
        assert!(!local_due(hold), "taking reset the age and urgency");
        take_local();

        queue_local(vec![message(5)], true);
        let mut out = Vec::new();
        take_local_for(5, &mut out);
        assert_eq!(out, b"msg");
        queue_local(vec![message(1)], false);
        assert!(!local_due(hold), "emptying the queue for one client reset the marks too");
        take_local();
    }
}
