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
            Worker { srv: &srv, index: i, poll, conns: Vec::new(), free: Vec::new(), paused: Vec::new() }.run();
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
}

impl Worker<'_> {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        let mut pending: Vec<usize> = Vec::new();
        let mut last_tick = std::time::Instant::now();
        loop {
            let hz = self.srv.hot.hz.load(Relaxed).max(1);
            let tick = Duration::from_millis(1000 / hz);
            let timeout = if pending.is_empty() { Some(tick) } else { Some(Duration::ZERO) };
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
            if last_tick.elapsed() >= tick {
                last_tick = std::time::Instant::now();
                self.tick();
            }
        }
    }

    fn on_ready(&mut self, slot: usize, readable: bool, pending: &mut Vec<usize>) {
        let Some(Some(conn)) = self.conns.get_mut(slot) else { return };
        let status = if readable { conn.on_readable(self.srv, self.index) } else { conn.flush(self.srv) };
        match status {
            Status::Open => {}
            Status::MoreInput => pending.push(slot),
            Status::Paused => {
                if !self.paused.contains(&slot) {
                    self.paused.push(slot);
                }
            }
            Status::Close => self.close(slot),
        }
    }

    /// Retries connections held back by CLIENT PAUSE.
    fn retry_paused(&mut self) {
        for slot in std::mem::take(&mut self.paused) {
            let Some(Some(conn)) = self.conns.get_mut(slot) else { continue };
            match conn.resume(self.srv, self.index) {
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
                Msg::Deliver(id, bytes) => {
                    if let Some(slot) = self.find(id) {
                        if let Some(Some(c)) = self.conns.get_mut(slot) {
                            c.deliver(&bytes);
                            if c.flush(self.srv) == Status::Close {
                                self.close(slot);
                            }
                        }
                    }
                }
                Msg::CheckKills => self.check_kills(),
            }
        }
    }

    fn find(&self, id: u64) -> Option<usize> {
        self.conns.iter().position(|c| c.as_ref().is_some_and(|c| c.id() == id))
    }

    fn add_conn(&mut self, stream: std::net::TcpStream, shared: Arc<ClientShared>) {
        let mut stream = mio::net::TcpStream::from_std(stream);
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(e) = self.poll.registry().register(&mut stream, Token(slot + 1), Interest::READABLE | Interest::WRITABLE) {
            log::warning(&format!("Cannot register a client socket: {e}"));
            self.srv.clients.remove(shared.id);
            self.free.push(slot);
            return;
        }
        let auth_needed = self.srv.hot.auth_required.load(Relaxed);
        self.conns[slot] = Some(Conn::new(stream, shared, !auth_needed));
    }

    fn close(&mut self, slot: usize) {
        if let Some(Some(mut c)) = self.conns.get_mut(slot).map(Option::take) {
            let _ = self.poll.registry().deregister(c.stream_mut());
            c.on_close(self.srv);
            self.paused.retain(|&p| p != slot);
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
        self.check_kills();
        let timeout = self.srv.hot.timeout.load(Relaxed);
        if timeout > 0 {
            let now = larder_engine::clock::now_ms();
            for slot in 0..self.conns.len() {
                let idle = self.conns[slot].as_ref().is_some_and(|c| c.idle_ms(now) > timeout * 1000 && !c.is_monitor());
                if idle {
                    log::verbose("Closing idle client");
                    self.close(slot);
                }
            }
        }
    }
}
