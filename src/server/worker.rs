//! Worker threads: each runs its own event loop over the connections it owns.
//!
//! The connections live in a [`Core`] shared through the thread's [`CURRENT`] slot, so that a
//! script running past `busy-reply-threshold` on this thread can serve the thread's other
//! clients from its instruction hook (`serve_while_busy`), as Redis does between a busy
//! script's instructions. A connection that runs commands is taken out of the core for the
//! call; nothing holds a borrow of the core while a command runs.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
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

/// For this long after a poll found work, the worker does not block in the poll: it naps
/// ([`NAP`]) and polls again. A worker blocked in the poll must be woken by whoever sends it
/// data, and on a busy server the clients pay for those wake-ups (a client multiplexing many
/// connections then completes fewer requests per CPU second); a napping worker wakes itself.
const LINGER: Duration = Duration::from_micros(500);
/// The nap between polls while lingering, after a poll that found many ready connections.
const NAP: Duration = Duration::from_micros(20);
/// After a poll that found only a few ready connections the next nap doubles, up to this: the
/// fewer polls (and naps) per request, the less the worker spends on them.
const NAP_MAX: Duration = Duration::from_micros(40);
/// While lingering, Pub/Sub messages for this worker's own subscribers may wait up to this long
/// (or [`super::pubsub::local_due`]'s count) so that each subscriber gets the messages of
/// several rounds in one write instead of one write per round.
const PUBSUB_HOLD: Duration = Duration::from_micros(100);
/// Lingering ends after this many naps in a row found nothing (the burst is over).
const MAX_IDLE_NAPS: u32 = 4;
/// Asks the kernel to end this thread's naps on time (1 µs of timer slack instead of the
/// default 50 µs), so a [`NAP`] lasts about what it says.
fn set_fine_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a number and changes only the calling thread's timer
    // slack; no memory is passed. A failure (old kernel) leaves the default slack.
    unsafe {
        libc::prctl(
            libc::PR_SET_TIMERSLACK,
            1000 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        );
    }
}

/// Only a poll that found at least this many ready connections starts lingering: with a few
/// connections a wake-up is cheap next to the latency a nap would add to each request.
const LINGER_MIN_EVENTS: usize = 4;

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
            set_fine_timer_slack();
            let core = Rc::new(RefCell::new(Core {
                poll,
                conns: Vec::new(),
                free: Vec::new(),
                ids: Default::default(),
                running: None,
                missed: Vec::new(),
                stash: Vec::new(),
                closing: Vec::new(),
                paused: Vec::new(),
                batch: Default::default(),
                deferred: Vec::new(),
            }));
            CURRENT.with(|c| *c.borrow_mut() = Some((core.clone(), i)));
            Worker {
                srv: &srv,
                index: i,
                core,
                paused: Vec::new(),
                next_deadline: None,
                blocked: Vec::new(),
                pending: Vec::new(),
                later: Vec::new(),
            }
            .run();
            CURRENT.with(|c| *c.borrow_mut() = None);
        })?);
    }
    Ok(threads)
}

thread_local! {
    /// This worker thread's connections and its index (None on other threads).
    static CURRENT: RefCell<Option<(Rc<RefCell<Core>>, usize)>> = const { RefCell::new(None) };
}

/// The connections of one worker and its poll.
struct Core {
    poll: Poll,
    conns: Vec<Option<Box<Conn>>>,
    free: Vec<usize>,
    /// Client id → slot.
    ids: std::collections::HashMap<u64, usize>,
    /// The slot whose connection is out of `conns`, running commands.
    running: Option<usize>,
    /// Slots that need another read once the running connection is back: readiness that
    /// arrived for it while a busy script served the others, or a read budget used up then.
    missed: Vec<usize>,
    /// Mailbox messages put aside while a busy script ran.
    stash: Vec<Msg>,
    /// Connections to close once the busy script ended.
    closing: Vec<usize>,
    /// Connections whose next request CLIENT PAUSE held back while a busy script ran.
    paused: Vec<usize>,
    /// The rest of the current round's readiness events (token, readable), taken one at a
    /// time by the loop, or all at once by a busy script's hook.
    batch: std::collections::VecDeque<(Token, bool)>,
    /// Connections whose replies wait for this round's append-only file sync.
    deferred: Vec<usize>,
}

impl Core {
    fn conn(&mut self, slot: usize) -> Option<&mut Conn> {
        self.conns.get_mut(slot).and_then(|c| c.as_deref_mut())
    }

    fn add_conn(&mut self, srv: &Server, stream: std::net::TcpStream, shared: Arc<ClientShared>) {
        let mut stream = mio::net::TcpStream::from_std(stream);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) =
            self.poll.registry().register(&mut stream, Token(slot + 1), Interest::READABLE | Interest::WRITABLE)
        {
            log::warning(&format!("Cannot register a client socket: {e}"));
            srv.clients.remove(shared.id);
            self.free.push(slot);
            return;
        }
        let auth_needed = srv.hot.auth_required.load(Relaxed);
        self.ids.insert(shared.id, slot);
        self.conns[slot] = Some(Box::new(Conn::new(stream, shared, !auth_needed)));
    }
}

/// Serves this worker's other clients while a script on this thread is past
/// busy-reply-threshold: new connections are accepted, requests get -BUSY (or run, for the
/// commands allowed then: SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, ...), and replies are
/// written at once. Everything else (mailbox messages, closing connections, readiness of the
/// script's own connection) waits until the script returns. Called from the script's
/// instruction hook; does nothing off a worker thread.
pub fn serve_while_busy(srv: &Server) {
    let Some((core, index)) = CURRENT.with(|c| c.borrow().clone()) else { return };
    // A borrow already held means this thread is not inside a command; nothing to do.
    let Ok(mut core) = core.try_borrow_mut() else { return };
    let core = &mut *core;
    let _busy = super::conn::BusyHere::enter();
    let mut events = Events::with_capacity(256);
    if let Err(e) = core.poll.poll(&mut events, Some(Duration::ZERO)) {
        if e.kind() != io::ErrorKind::Interrupted {
            log::warning(&format!("poll failed: {e}"));
        }
    }
    // Events of the loop's current round that it has not reached yet come first.
    let mut ready: Vec<(Token, bool)> = core.batch.drain(..).collect();
    ready.extend(events.iter().map(|ev| (ev.token(), ev.is_readable() || ev.is_read_closed() || ev.is_error())));
    let mut touched = std::mem::take(&mut core.deferred);
    for (token, readable) in ready {
        let slot = match token {
            WAKER => {
                let msgs = match srv.workers.get().and_then(|w| w.get(index)) {
                    Some(h) => std::mem::take(&mut *h.inbox.lock()),
                    None => continue,
                };
                for m in msgs {
                    match m {
                        Msg::NewConn(stream, shared) => core.add_conn(srv, stream, shared),
                        other => core.stash.push(other),
                    }
                }
                continue;
            }
            Token(t) => t - 1,
        };
        if core.running == Some(slot) {
            core.missed.push(slot);
            continue;
        }
        if core.closing.contains(&slot) {
            continue;
        }
        let Some(conn) = core.conn(slot) else { continue };
        let st = if readable { conn.on_readable(srv, index) } else { Status::Open };
        match st {
            Status::Open => {}
            Status::MoreInput => core.missed.push(slot),
            Status::Paused => core.paused.push(slot),
            Status::Close => core.closing.push(slot),
        }
        if st != Status::Close && !touched.contains(&slot) {
            touched.push(slot);
        }
    }
    // Replies are written at once (`flush` first syncs the append-only file they may need).
    for slot in touched {
        if core.running == Some(slot) {
            // Its replies go out with the script's.
            core.deferred.push(slot);
            continue;
        }
        let Some(conn) = core.conn(slot) else { continue };
        conn.flush_queued = false;
        if conn.flush(srv) == Status::Close && !core.closing.contains(&slot) {
            core.closing.push(slot);
        }
    }
}

struct Worker<'s> {
    srv: &'s Server,
    index: usize,
    core: Rc<RefCell<Core>>,
    /// Connections whose next request waits for CLIENT PAUSE to end.
    paused: Vec<usize>,
    /// The nearest deadline of a blocked client on this worker.
    next_deadline: Option<u64>,
    /// Connections blocked on keys.
    blocked: Vec<usize>,
    /// Mailbox messages a busy script's hook put aside, handled after the current ones.
    later: Vec<Msg>,
    /// Connections that get another read this round (read budget used up, or readiness that
    /// arrived while a busy script ran).
    pending: Vec<usize>,
}

impl Worker<'_> {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_tick = std::time::Instant::now();
        // Until when a worker that just had work naps between polls instead of blocking (see
        // LINGER), the current nap, and whether the last poll found nothing or only a few
        // ready connections.
        let mut linger_until: Option<std::time::Instant> = None;
        let mut nap = NAP;
        let mut idle_poll = false;
        let mut few_ready = true;
        // Naps in a row that found nothing: past MAX_IDLE_NAPS the burst is over.
        let mut idle_naps = 0u32;
        loop {
            let hz = self.srv.hot.hz.load(Relaxed).max(1);
            let tick = Duration::from_millis(1000 / hz);
            let mut lingering = linger_until.is_some_and(|t| std::time::Instant::now() < t);
            if lingering && self.pending.is_empty() {
                if !idle_poll && few_ready {
                    // Requests trickle in: a longer nap lets more of them gather per poll.
                    nap = (nap * 2).min(NAP_MAX);
                    std::thread::sleep(nap);
                } else if idle_poll {
                    if idle_naps >= MAX_IDLE_NAPS {
                        linger_until = None;
                        lingering = false;
                    } else {
                        idle_naps += 1;
                        std::thread::sleep(nap);
                    }
                }
            }
            let mut timeout = if self.pending.is_empty() && !lingering { tick } else { Duration::ZERO };
            if !timeout.is_zero() {
                // About to block: messages held back for a later round go out first.
                self.drain_local();
            }
            if let Some(deadline) = self.next_deadline {
                let now = larder_engine::clock::now_ms();
                timeout = timeout.min(Duration::from_millis(deadline.saturating_sub(now)));
            }
            let polled = self.core.borrow_mut().poll.poll(&mut events, Some(timeout));
            if let Err(e) = polled {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::warning(&format!("poll failed: {e}"));
                }
            }
            if self.srv.shutting_down.load(Relaxed) {
                self.close_all();
                return;
            }
            idle_poll = events.is_empty();
            few_ready = events.iter().nth(LINGER_MIN_EVENTS - 1).is_none();
            if !idle_poll {
                idle_naps = 0;
            }
            if !few_ready {
                nap = NAP;
                linger_until = Some(std::time::Instant::now() + LINGER);
            }
            self.core
                .borrow_mut()
                .batch
                .extend(events.iter().map(|ev| (ev.token(), ev.is_readable() || ev.is_read_closed() || ev.is_error())));
            loop {
                let next = self.core.borrow_mut().batch.pop_front();
                match next {
                    None => break,
                    Some((WAKER, _)) => {
                        self.drain_inbox();
                        self.retry_paused();
                    }
                    Some((Token(t), readable)) => self.on_ready(t - 1, readable),
                }
            }
            // Connections that hit the per-event read budget get another turn.
            for slot in std::mem::take(&mut self.pending) {
                self.on_ready(slot, true);
            }
            self.handle_later();
            // Group commit: one append-only file write (and fsync) for every reply of the round,
            // then the replies.
            let deferred = std::mem::take(&mut self.core.borrow_mut().deferred);
            if !deferred.is_empty() {
                self.srv.aof.sync_before_reply();
                for slot in deferred {
                    let st = match self.core.borrow_mut().conn(slot) {
                        Some(c) => {
                            c.flush_queued = false;
                            c.flush(self.srv)
                        }
                        None => continue,
                    };
                    if st == Status::Close {
                        self.close(slot);
                    }
                }
            }
            // Messages this worker's clients published to its own subscribers: while lingering,
            // they may wait a few rounds (up to PUBSUB_HOLD) to be written together. Rounds
            // that queued nothing read no clock here.
            if super::pubsub::has_local() {
                let lingering = linger_until.is_some_and(|t| std::time::Instant::now() < t);
                if !lingering || super::pubsub::local_due(PUBSUB_HOLD) {
                    self.drain_local();
                }
            }
            if self.next_deadline.is_some_and(|d| d <= larder_engine::clock::now_ms()) {
                self.next_deadline = self.expire_blocked();
            }
            if last_tick.elapsed() >= tick {
                last_tick = std::time::Instant::now();
                self.tick();
            }
        }
    }

    /// Runs `f` on the connection in `slot` with the connection taken out of the core, so a
    /// busy script inside it can serve the other connections; then handles what was put aside
    /// meanwhile.
    fn run_conn(&mut self, slot: usize, f: impl FnOnce(&mut Conn, &Server, usize) -> Status) -> Option<Status> {
        let mut conn = {
            let mut core = self.core.borrow_mut();
            let conn = core.conns.get_mut(slot)?.take()?;
            core.running = Some(slot);
            conn
        };
        let st = f(&mut conn, self.srv, self.index);
        let closing = {
            let mut core = self.core.borrow_mut();
            core.running = None;
            core.conns[slot] = Some(conn);
            self.pending.append(&mut core.missed);
            // Mailbox messages put aside come after the ones being handled now (so a
            // subscriber's messages keep their order); the loop handles them next.
            self.later.append(&mut core.stash);
            for p in std::mem::take(&mut core.paused) {
                if !self.paused.contains(&p) {
                    self.paused.push(p);
                }
            }
            std::mem::take(&mut core.closing)
        };
        for s in closing {
            self.close(s);
        }
        Some(st)
    }

    /// Handles the mailbox messages a busy script put aside, then retries paused clients (a
    /// CLIENT UNPAUSE may have been among what the script's hook saw).
    fn handle_later(&mut self) {
        while !self.later.is_empty() {
            let msgs = std::mem::take(&mut self.later);
            self.handle(msgs);
            self.retry_paused();
        }
    }

    fn on_ready(&mut self, slot: usize, readable: bool) {
        let st = if readable {
            self.run_conn(slot, |c, srv, w| c.on_readable(srv, w))
        } else {
            self.core.borrow_mut().conn(slot).map(|c| c.flush(self.srv))
        };
        let Some(status) = st else { return };
        // Replies wait until every ready connection was served, then go out together (with
        // one append-only file sync before them): a client multiplexing many connections
        // then finds many replies per wake-up, as with Redis's write-before-sleep.
        {
            let mut core = self.core.borrow_mut();
            if let Some(conn) = core.conn(slot) {
                if status == Status::Open && conn.has_output() && !conn.flush_queued {
                    conn.flush_queued = true;
                    core.deferred.push(slot);
                }
            }
        }
        self.track_blocked(slot);
        match status {
            Status::Open => {}
            Status::MoreInput => self.pending.push(slot),
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
            let (deadline, id) = match self.core.borrow_mut().conn(slot) {
                Some(c) => (c.blocked(), c.id()),
                None => continue,
            };
            let deadline = match deadline {
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
            let Some(w) = self.srv.blocking.remove(id) else { continue };
            let reply = super::dispatch::timeout_reply(w.resp3, w.req.on_timeout);
            if let Some(st) = self.run_conn(slot, |c, srv, i| c.unblock(srv, i, &reply)) {
                self.after(slot, st);
            }
        }
        nearest
    }

    /// Notes a connection that just blocked, so its timeout is watched.
    fn track_blocked(&mut self, slot: usize) {
        let Some(d) = self.core.borrow_mut().conn(slot).and_then(|c| c.blocked()) else { return };
        if !self.blocked.contains(&slot) {
            self.blocked.push(slot);
        }
        if let Some(d) = d {
            self.next_deadline = Some(self.next_deadline.map_or(d, |n| n.min(d)));
        }
    }

    /// Retries connections held back by CLIENT PAUSE.
    fn retry_paused(&mut self) {
        for slot in std::mem::take(&mut self.paused) {
            let Some(st) = self.run_conn(slot, |c, srv, w| c.resume(srv, w)) else { continue };
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
        self.handle(msgs);
    }

    fn handle(&mut self, msgs: Vec<Msg>) {
        for m in msgs {
            match m {
                Msg::NewConn(stream, shared) => self.core.borrow_mut().add_conn(self.srv, stream, shared),
                Msg::Deliver(id, bytes) => self.deliver(vec![(id, bytes.into())]),
                Msg::DeliverMany(batch) => self.deliver_counted(batch),
                Msg::CheckKills => self.check_kills(),
                Msg::Unblocked(id, reply) => {
                    if let Some(slot) = self.find(id) {
                        if let Some(st) = self.run_conn(slot, |c, srv, i| c.unblock(srv, i, &reply)) {
                            self.after(slot, st);
                        }
                    }
                }
            }
        }
    }

    fn find(&self, id: u64) -> Option<usize> {
        self.core.borrow().ids.get(&id).copied()
    }

    /// Appends messages to their clients' output and writes it, closing clients that went past
    /// their output-buffer limit.
    fn deliver(&mut self, batch: Vec<super::pubsub::Delivery>) {
        let mut touched: Vec<usize> = Vec::new();
        let mut close: Vec<usize> = Vec::new();
        {
            let mut core = self.core.borrow_mut();
            for (id, bytes) in batch {
                let Some(&slot) = core.ids.get(&id) else { continue };
                let Some(c) = core.conn(slot) else { continue };
                c.deliver(&bytes);
                if !touched.contains(&slot) {
                    touched.push(slot);
                }
            }
            for slot in touched {
                let Some(c) = core.conn(slot) else { continue };
                let st = c.flush(self.srv);
                let over = c.over_output_limit(self.srv);
                if st == Status::Close || over {
                    if over {
                        super::log::warning(&format!(
                            "Client id={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                            c.id()
                        ));
                    }
                    close.push(slot);
                }
            }
        }
        for slot in close {
            self.close(slot);
        }
    }

    /// Delivers a batch counted in transit by [`super::pubsub`].
    fn deliver_counted(&mut self, batch: Vec<super::pubsub::Delivery>) {
        let bytes = super::pubsub::batch_bytes(&batch);
        self.deliver(batch);
        super::pubsub::arrived(bytes);
    }

    /// Delivers messages published by this worker's own clients.
    fn drain_local(&mut self) {
        if super::pubsub::has_local() {
            let batch = super::pubsub::take_local();
            self.deliver_counted(batch);
        }
    }

    fn close(&mut self, slot: usize) {
        let conn = {
            let mut core = self.core.borrow_mut();
            let Some(mut c) = core.conns.get_mut(slot).and_then(Option::take) else { return };
            let _ = core.poll.registry().deregister(c.stream_mut());
            core.ids.remove(&c.id());
            core.free.push(slot);
            c
        };
        let mut conn = conn;
        conn.on_close(self.srv);
        self.paused.retain(|&p| p != slot);
        self.blocked.retain(|&p| p != slot);
    }

    fn close_all(&mut self) {
        let n = self.core.borrow().conns.len();
        for slot in 0..n {
            self.close(slot);
        }
    }

    /// Slots whose connection matches `pred`.
    fn slots_where(&self, pred: impl Fn(&Conn) -> bool) -> Vec<usize> {
        let core = self.core.borrow();
        core.conns.iter().enumerate().filter(|(_, c)| c.as_deref().is_some_and(&pred)).map(|(i, _)| i).collect()
    }

    fn check_kills(&mut self) {
        for slot in self.slots_where(|c| c.killed()) {
            self.close(slot);
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
            for slot in self.slots_where(|c| c.idle_ms(now) > timeout * 1000 && !c.is_monitor()) {
                log::verbose("Closing idle client");
                self.close(slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// The timer slack call changes this thread's slack (and only this thread's).
    #[test]
    fn fine_timer_slack_applies_to_the_calling_thread() {
        let read = || std::fs::read_to_string("/proc/thread-self/timerslack_ns").ok().map(|s| s.trim().to_string());
        let before = read();
        let other = std::thread::spawn(move || {
            super::set_fine_timer_slack();
            read()
        })
        .join()
        .expect("thread");
        if let (Some(before), Some(other)) = (before, other) {
            assert_eq!(other, "1000");
            assert_eq!(read(), Some(before), "the calling thread only");
        }
    }
}
