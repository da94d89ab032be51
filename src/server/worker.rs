//! Worker threads: each runs its own event loop over the connections it owns.

use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mio::{Events, Interest, Poll, Token, Waker};

use super::client::ClientShared;
use super::conn::{Conn, Status};
use super::stats::Stats;
use super::{log, Server, WorkerHandle};

/// Messages other threads send a worker.
pub enum Msg {
    /// A newly accepted connection to own.
    NewConn(std::net::TcpStream, Arc<ClientShared>),
    /// Bytes to append to a client's output (MONITOR feed, later pub/sub).
    Deliver(u64, Vec<u8>),
    /// Look at kill flags now (CLIENT KILL).
    CheckKills,
    /// A blocked client was served (or unblocked): its reply.
    Unblocked(u64, Vec<u8>),
    /// Pub/Sub messages for clients of this worker, in order.
    DeliverMany(Vec<super::pubsub::Delivery>),
}

const WAKER: Token = Token(0);

/// Creates the workers' polls and mailboxes, publishes the mailboxes in `srv.workers`, and
/// starts the threads.
pub fn start_workers(srv: &Arc<Server>) -> io::Result<Vec<JoinHandle<()>>> {
    let mut polls = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..srv.worker_count {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        handles.push(WorkerHandle { inbox: parking_lot::Mutex::new(Vec::new()), waker });
        polls.push(poll);
    }
    if srv.workers.set(handles).is_err() {
        return Err(io::Error::other("workers already started"));
    }
    let mut threads = Vec::new();
    for (i, poll) in polls.into_iter().enumerate() {
        let srv = srv.clone();
        threads.push(std::thread::Builder::new().name(format!("larder-worker-{i}")).spawn(move || {
            Stats::bind_thread(i);
            Worker {
                srv: &srv,
                index: i,
                poll,
                conns: Vec::new(),
                free: Vec::new(),
                paused: Vec::new(),
                next_deadline: None,
                blocked: Vec::new(),
                ids: Default::default(),
                deferred: Vec::new(),
            }
            .run();
        })?);
    }
    Ok(threads)
}

struct Worker<'s> {
    srv: &'s Server,
    index: usize,
    poll: Poll,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// Connections whose next request waits for CLIENT PAUSE to end.
    paused: Vec<usize>,
    /// The nearest deadline of a blocked client on this worker.
    next_deadline: Option<u64>,
    /// Connections blocked on keys.
    blocked: Vec<usize>,
    /// Client id → slot.
    ids: std::collections::HashMap<u64, usize>,
    /// Connections whose replies wait for this round's append-only file sync.
    deferred: Vec<usize>,
}

impl Worker<'_> {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        let mut pending: Vec<usize> = Vec::new();
        let mut last_tick = std::time::Instant::now();
        loop {
            let hz = self.srv.hot.hz.load(Relaxed).max(1);
            let tick = Duration::from_millis(1000 / hz);
            let mut timeout = if pending.is_empty() { tick } else { Duration::ZERO };
            if let Some(deadline) = self.next_deadline {
                let now = larder_engine::clock::now_ms();
                timeout = timeout.min(Duration::from_millis(deadline.saturating_sub(now)));
            }
            let timeout = Some(timeout);
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::warning(&format!("poll failed: {e}"));
                }
            }
            if self.srv.shutting_down.load(Relaxed) {
                self.close_all();
                return;
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {
                        self.drain_inbox();
                        self.retry_paused();
                    }
                    Token(t) => {
                        let slot = t - 1;
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.on_ready(slot, true, &mut pending);
                        } else if ev.is_writable() {
                            self.on_ready(slot, false, &mut pending);
                        }
                    }
                }
            }
            // Connections that hit the per-event read budget get another turn.
            for slot in std::mem::take(&mut pending) {
                self.on_ready(slot, true, &mut pending);
            }
            // Group commit: one append-only file write (and fsync) for every reply of the round,
            // then the replies.
            if !self.deferred.is_empty() {
                self.srv.aof.sync_before_reply();
                for slot in std::mem::take(&mut self.deferred) {
                    if let Some(Some(c)) = self.conns.get_mut(slot) {
                        c.flush_queued = false;
                        if c.flush(self.srv) == Status::Close {
                            self.close(slot);
                        }
                    }
                }
            }
            // Messages this worker's clients published to its own subscribers.
            self.drain_local();
            if self.next_deadline.is_some_and(|d| d <= larder_engine::clock::now_ms()) {
                self.next_deadline = self.expire_blocked();
            }
            if last_tick.elapsed() >= tick {
                last_tick = std::time::Instant::now();
                self.tick();
            }
        }
    }

    fn on_ready(&mut self, slot: usize, readable: bool, pending: &mut Vec<usize>) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else { return };
        // Replies wait until every ready connection was served, then go out together (with
        // one append-only file sync before them): a client multiplexing many connections
        // then finds many replies per wake-up, as with Redis's write-before-sleep.
        let status = if readable { conn.on_readable(self.srv, self.index) } else { conn.flush(self.srv) };
        if status == Status::Open && conn.has_output() && !conn.flush_queued {
            conn.flush_queued = true;
            self.deferred.push(slot);
        }
        self.track_blocked(slot);
        match status {
            Status::Open => {}
            Status::MoreInput => pending.push(slot),
            Status::Paused if !self.paused.contains(&slot) => self.paused.push(slot),
            Status::Paused => {}
            Status::Close => self.close(slot),
        }
    }

    fn after(&mut self, slot: usize, st: Status) {
        self.track_blocked(slot);
        match st {
            Status::Close => self.close(slot),
            Status::Paused if !self.paused.contains(&slot) => self.paused.push(slot),
            _ => {}
        }
    }

    /// Answers blocked clients whose timeout passed; returns the nearest remaining deadline.
    fn expire_blocked(&mut self) -> Option<u64> {
        let now = larder_engine::clock::now_ms();
        let mut nearest: Option<u64> = None;
        for slot in std::mem::take(&mut self.blocked) {
            let Some(Some(c)) = self.conns.get(slot) else { continue };
            let deadline = match c.blocked() {
                None => continue,
                Some(None) => {
                    self.blocked.push(slot);
                    continue;
                }
                Some(Some(d)) => d,
            };
            if deadline > now {
                nearest = Some(nearest.map_or(deadline, |n| n.min(deadline)));
                self.blocked.push(slot);
                continue;
            }
            // Whoever removes the waiter answers it: a concurrent serve may have won.
            let Some(w) = self.srv.blocking.remove(c.id()) else { continue };
            let reply = super::dispatch::timeout_reply(w.resp3, w.req.on_timeout);
            if let Some(Some(c)) = self.conns.get_mut(slot) {
                let st = c.unblock(self.srv, self.index, &reply);
                self.after(slot, st);
            }
        }
        nearest
    }

    /// Notes a connection that just blocked, so its timeout is watched.
    fn track_blocked(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get(slot) else { return };
        if let Some(d) = c.blocked() {
            if !self.blocked.contains(&slot) {
                self.blocked.push(slot);
            }
            if let Some(d) = d {
                self.next_deadline = Some(self.next_deadline.map_or(d, |n| n.min(d)));
            }
        }
    }

    /// Retries connections held back by CLIENT PAUSE.
    fn retry_paused(&mut self) {
        for slot in std::mem::take(&mut self.paused) {
            let Some(Some(conn)) = self.conns.get_mut(slot) else { continue };
            let st = conn.resume(self.srv, self.index);
            self.track_blocked(slot);
            match st {
                Status::Paused => self.paused.push(slot),
                Status::Close => self.close(slot),
                _ => {}
            }
        }
    }

    fn drain_inbox(&mut self) {
        let msgs = match self.srv.workers.get().and_then(|w| w.get(self.index)) {
            Some(h) => std::mem::take(&mut *h.inbox.lock()),
            None => return,
        };
        for m in msgs {
            match m {
                Msg::NewConn(stream, shared) => self.add_conn(stream, shared),
                Msg::Deliver(id, bytes) => self.deliver(vec![(id, bytes.into())]),
                Msg::DeliverMany(batch) => self.deliver(batch),
                Msg::CheckKills => self.check_kills(),
                Msg::Unblocked(id, reply) => {
                    if let Some(slot) = self.find(id) {
                        if let Some(Some(c)) = self.conns.get_mut(slot) {
                            let st = c.unblock(self.srv, self.index, &reply);
                            self.after(slot, st);
                        }
                    }
                }
            }
        }
    }

    fn find(&self, id: u64) -> Option<usize> {
        self.ids.get(&id).copied()
    }

    /// Appends messages to their clients' output and writes it, closing clients that went past
    /// their output-buffer limit.
    fn deliver(&mut self, batch: Vec<super::pubsub::Delivery>) {
        let mut touched: Vec<usize> = Vec::new();
        for (id, bytes) in batch {
            let Some(slot) = self.find(id) else { continue };
            let Some(Some(c)) = self.conns.get_mut(slot) else { continue };
            c.deliver(&bytes);
            if !touched.contains(&slot) {
                touched.push(slot);
            }
        }
        for slot in touched {
            let Some(Some(c)) = self.conns.get_mut(slot) else { continue };
            let st = c.flush(self.srv);
            let over = c.over_output_limit(self.srv);
            if st == Status::Close || over {
                if over {
                    super::log::warning(&format!(
                        "Client id={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                        c.id()
                    ));
                }
                self.close(slot);
            }
        }
    }

    /// Delivers messages published by this worker's own clients.
    fn drain_local(&mut self) {
        if super::pubsub::has_local() {
            let batch = super::pubsub::take_local();
            self.deliver(batch);
        }
    }

    fn add_conn(&mut self, stream: std::net::TcpStream, shared: Arc<ClientShared>) {
        let mut stream = mio::net::TcpStream::from_std(stream);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) =
            self.poll.registry().register(&mut stream, Token(slot + 1), Interest::READABLE | Interest::WRITABLE)
        {
            log::warning(&format!("Cannot register a client socket: {e}"));
            self.srv.clients.remove(shared.id);
            self.free.push(slot);
            return;
        }
        let auth_needed = self.srv.hot.auth_required.load(Relaxed);
        self.ids.insert(shared.id, slot);
        self.conns[slot] = Some(Conn::new(stream, shared, !auth_needed));
    }

    fn close(&mut self, slot: usize) {
        if let Some(Some(mut c)) = self.conns.get_mut(slot).map(Option::take) {
            let _ = self.poll.registry().deregister(c.stream_mut());
            c.on_close(self.srv);
            self.ids.remove(&c.id());
            self.paused.retain(|&p| p != slot);
            self.blocked.retain(|&p| p != slot);
            self.free.push(slot);
        }
    }

    fn close_all(&mut self) {
        for slot in 0..self.conns.len() {
            self.close(slot);
        }
    }

    fn check_kills(&mut self) {
        for slot in 0..self.conns.len() {
            let kill = self.conns[slot].as_ref().is_some_and(|c| c.killed());
            if kill {
                self.close(slot);
            }
        }
    }

    /// Periodic work: CLIENT KILL flags and idle-client timeouts.
    fn tick(&mut self) {
        self.retry_paused();
        self.next_deadline = self.expire_blocked();
        self.check_kills();
        let timeout = self.srv.hot.timeout.load(Relaxed);
        if timeout > 0 {
            let now = larder_engine::clock::now_ms();
            for slot in 0..self.conns.len() {
                let idle =
                    self.conns[slot].as_ref().is_some_and(|c| c.idle_ms(now) > timeout * 1000 && !c.is_monitor());
                if idle {
                    log::verbose("Closing idle client");
                    self.close(slot);
                }
            }
        }
    }
}
