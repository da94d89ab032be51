//! One client connection: its buffers, the read → parse → execute → write cycle.

use std::io::{self, Read, Write};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use larder_resp::{Parse, ParseLimits, Reply, Request, RequestParser};

use super::client::{ClientShared, Session};
use super::dispatch;
use super::stats::ThreadStats;
use super::Server;

/// Takes this worker's gate, waiting for whole-keyspace work to finish, unless that work is a
/// script past busy-reply-threshold: then None, and requests get -BUSY (or run, for the few
/// commands allowed during a busy script).
fn wait_gate(srv: &Server, worker: usize) -> Option<parking_lot::RwLockReadGuard<'_, ()>> {
    if BUSY_HERE.get() {
        // The busy script runs on this very thread and holds every gate.
        return None;
    }
    loop {
        if let Some(g) = srv.keyspace.try_gate(worker, std::time::Duration::from_millis(5)) {
            return Some(g);
        }
        if srv.script_busy() {
            return None;
        }
    }
}

thread_local! {
    static BUSY_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks this thread as serving its clients from inside a busy script's hook, for as long as
/// the guard lives: their requests get -BUSY without waiting for a gate.
pub struct BusyHere(bool);

impl BusyHere {
    /// Enters the busy state (nested guards keep it until the outermost one drops).
    pub fn enter() -> BusyHere {
        BusyHere(BUSY_HERE.replace(true))
    }
}

impl Drop for BusyHere {
    fn drop(&mut self) {
        BUSY_HERE.set(self.0);
    }
}

/// Answers a request refused because a script is busy. Inside MULTI the refusal aborts the
/// transaction, as any refused command does; a refused EXEC ends it with EXECABORT naming the
/// reason, as Redis does.
fn refuse_busy(srv: &Server, sess: &mut Session, args: larder_resp::Args<'_>, out: &mut Vec<u8>) {
    let busy = srv.busy_error();
    srv.stats.count_error(busy);
    let is_exec = args.get(0).is_some_and(|c| c.eq_ignore_ascii_case(b"exec"));
    if is_exec && sess.multi.is_some() {
        sess.multi = None;
        sess.shared.set_flag(super::client::cflag::MULTI, false);
        crate::commands::transactions::unwatch_all(srv, sess);
        let text = format!("EXECABORT Transaction discarded because of: {busy}");
        Reply::new(out, sess.resp3).error(text.as_bytes());
        return;
    }
    if let Some(m) = sess.multi.as_mut() {
        m.aborted = true;
    }
    Reply::new(out, sess.resp3).error(busy.as_bytes());
}

/// What the event loop should do with a connection after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Keep it.
    Open,
    /// It stopped reading because of its per-event budget: give it another turn soon.
    MoreInput,
    /// Close it.
    Close,
    /// CLIENT PAUSE holds back its next request: retry it later.
    Paused,
}

const READ_CHUNK: usize = 16 * 1024;
/// Pending input or output past which a connection checks the client memory limit at once
/// (below it, the cron's periodic check is soon enough).
const CLIENT_EVICTION_CHECK: usize = 32 * 1024;
/// Bytes read per readiness event before other connections get a turn.
const READ_BUDGET: usize = 1024 * 1024;
const IDLE_BUFFER_KEEP: usize = 64 * 1024;
/// Argument slots an idle connection keeps for its next request.
const IDLE_SPANS_KEEP: usize = 1024;

/// A client connection owned by a worker.
pub struct Conn {
    /// Queued for the worker's end-of-round flush.
    pub flush_queued: bool,
    stream: mio::net::TcpStream,
    /// Read buffer: initialized bytes; the unparsed input is `rbuf[rstart..rend]`.
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    /// Pending output is `wbuf[wpos..]`.
    wbuf: Vec<u8>,
    wpos: usize,
    parser: RequestParser,
    req: Request,
    sess: Session,
    write_blocked: bool,
    /// Blocked on keys until this deadline (`Some(None)`: no deadline).
    blocked: Option<Option<u64>>,
    /// Since when the pending output has stayed above the soft output-buffer limit.
    soft_limit_since: Option<std::time::Instant>,
}

impl Conn {
    /// Wraps an accepted socket.
    pub fn new(stream: mio::net::TcpStream, shared: Arc<ClientShared>, authenticated: bool) -> Self {
        Conn {
            stream,
            rbuf: Vec::new(),
            rstart: 0,
            rend: 0,
            wbuf: Vec::new(),
            wpos: 0,
            parser: RequestParser::new(),
            req: Request::new(),
            sess: Session::new(shared, authenticated),
            write_blocked: false,
            flush_queued: false,
            blocked: None,
            soft_limit_since: None,
        }
    }

    /// Client id.
    pub fn id(&self) -> u64 {
        self.sess.id
    }

    /// The socket (for deregistration).
    pub fn stream_mut(&mut self) -> &mut mio::net::TcpStream {
        &mut self.stream
    }

    /// True when CLIENT KILL asked for this connection to close.
    pub fn killed(&self) -> bool {
        self.sess.shared.kill.load(Relaxed)
    }

    /// True for a MONITOR client (exempt from idle timeouts).
    pub fn is_monitor(&self) -> bool {
        self.sess.monitor
    }

    /// Milliseconds since the last command.
    pub fn idle_ms(&self, now: u64) -> u64 {
        now.saturating_sub(self.sess.shared.last_interaction_ms.load(Relaxed))
    }

    /// Appends bytes produced elsewhere (MONITOR lines).
    pub fn deliver(&mut self, bytes: &[u8]) {
        self.wbuf.extend_from_slice(bytes);
    }

    /// True when a Pub/Sub client's pending output passed its client-output-buffer-limit
    /// (the hard limit at once, the soft one for longer than its seconds).
    pub fn over_output_limit(&mut self, srv: &Server) -> bool {
        if !self.sess.subs.any() {
            return false;
        }
        let pending = (self.wbuf.len() - self.wpos) as u64;
        let [hard, soft, secs] = &srv.hot.pubsub_limits;
        let (hard, soft, secs) = (hard.load(Relaxed), soft.load(Relaxed), secs.load(Relaxed));
        if hard > 0 && pending >= hard {
            return true;
        }
        if soft > 0 && pending >= soft {
            let since = *self.soft_limit_since.get_or_insert_with(std::time::Instant::now);
            return since.elapsed().as_secs() >= secs;
        }
        self.soft_limit_since = None;
        false
    }

    /// The deadline of a blocked client (`Some(None)`: blocked without one).
    pub fn blocked(&self) -> Option<Option<u64>> {
        self.blocked
    }

    /// Ends the blocked state with `reply` (served, timed out or CLIENT UNBLOCK), then runs
    /// the requests that queued up meanwhile.
    pub fn unblock(&mut self, srv: &Server, worker: usize, reply: &[u8]) -> Status {
        self.blocked = None;
        self.sess.shared.set_flag(super::client::cflag::BLOCKED, false);
        self.wbuf.extend_from_slice(reply);
        self.resume(srv, worker)
    }

    /// Unregisters the client from shared structures.
    pub fn on_close(&mut self, srv: &Server) {
        if self.blocked.is_some() {
            srv.blocking.remove(self.sess.id);
        }
        crate::commands::transactions::unwatch_all(srv, &mut self.sess);
        crate::commands::pubsub::unsubscribe_all(srv, &mut self.sess);
        if self.sess.tracking.is_some() {
            srv.tracking.disable(self.sess.id);
        }
        if self.sess.monitor {
            let mut m = srv.monitors.lock();
            m.retain(|(id, _)| *id != self.sess.id);
            srv.monitoring.store(!m.is_empty(), Relaxed);
        }
        srv.clients.remove(self.sess.id);
    }

    /// Reads what is available, runs every complete request and writes the replies.
    /// Replies are left in the buffer (the worker flushes every connection it served at the
    /// end of its round, after one append-only file sync); [`Conn::has_output`] tells. A
    /// connection the peer closed is flushed at once.
    pub fn on_readable(&mut self, srv: &Server, worker: usize) -> Status {
        let mut read_total = 0usize;
        let mut eof = false;
        loop {
            if self.rend == self.rbuf.len() {
                self.make_room();
            }
            match self.stream.read(&mut self.rbuf[self.rend..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    let room = self.rbuf.len() - self.rend;
                    self.rend += n;
                    read_total += n;
                    // A short read drained the socket: with edge-triggered readiness any later
                    // arrival raises a new event, so the extra read that would return
                    // WouldBlock is skipped (one syscall per request saved).
                    if n < room || read_total >= READ_BUDGET {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Status::Close,
            }
        }
        ThreadStats::add(&srv.stats.mine().net_in, read_total as u64);
        let paused = read_total > 0 && self.process(srv, worker);
        let limit = srv.hot.query_buffer_limit.load(Relaxed) as usize;
        if self.rend - self.rstart > limit {
            super::log::warning("Closing client that reached max query buffer length");
            return Status::Close;
        }
        let st = if !eof && self.has_output() { Status::Open } else { self.flush(srv) };
        if st == Status::Close || eof {
            return Status::Close;
        }
        if paused {
            Status::Paused
        } else if read_total >= READ_BUDGET {
            Status::MoreInput
        } else {
            st
        }
    }

    /// True while replies wait to be written.
    pub fn has_output(&self) -> bool {
        self.wpos < self.wbuf.len() && !self.write_blocked
    }

    fn make_room(&mut self) {
        if self.rstart > 0 {
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            self.rend -= self.rstart;
            self.rstart = 0;
        }
        if self.rend == self.rbuf.len() {
            let grow = self.rbuf.len().max(READ_CHUNK);
            self.rbuf.resize(self.rbuf.len() + grow, 0);
        }
    }

    /// Parses and executes every complete request in the read buffer.
    fn process(&mut self, srv: &Server, worker: usize) -> bool {
        let mut paused = false;
        let mut gate = wait_gate(srv, worker);
        let mut limits =
            ParseLimits { max_bulk_len: srv.hot.proto_max_bulk_len.load(Relaxed) as usize, authenticated: true };
        while self.rstart < self.rend && !self.sess.close_after_reply && self.blocked.is_none() {
            limits.authenticated = self.sess.authenticated;
            let input = &self.rbuf[self.rstart..self.rend];
            match self.parser.parse(input, &limits, &mut self.req) {
                Ok(Parse::Incomplete) => break,
                Ok(Parse::Complete { consumed }) => {
                    if self.req.argc() > 0 {
                        let args = self.req.args(&input[..consumed]);
                        if dispatch::paused(srv, args) {
                            // Left unconsumed: parsed again once the pause is over.
                            paused = true;
                            break;
                        }
                        if gate.is_none() {
                            gate = wait_gate(srv, worker);
                        }
                        if gate.is_none() && !dispatch::allowed_when_busy(srv, args) {
                            refuse_busy(srv, &mut self.sess, args, &mut self.wbuf);
                            self.rstart += consumed;
                            continue;
                        }
                        if let dispatch::Outcome::Blocked(deadline) =
                            dispatch::execute(srv, &mut self.sess, args, &mut self.wbuf, &mut gate, worker)
                        {
                            self.blocked = Some(deadline);
                        }
                    }
                    self.rstart += consumed;
                }
                Err(e) => {
                    Reply::new(&mut self.wbuf, self.sess.resp3).error(e.0.as_bytes());
                    srv.stats.count_error(&e.0);
                    super::log::verbose(&format!(
                        "Protocol error ({}) from client: id={} addr={}",
                        e.0, self.sess.id, self.sess.shared.addr
                    ));
                    self.sess.close_after_reply = true;
                    break;
                }
            }
        }
        drop(gate);
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
            if self.rbuf.len() > IDLE_BUFFER_KEEP {
                self.rbuf = Vec::new();
            }
            self.req.shrink(IDLE_SPANS_KEEP, IDLE_BUFFER_KEEP);
            self.parser.shrink(IDLE_SPANS_KEEP);
        }
        self.sess.shared.qbuf.store(self.rend - self.rstart, Relaxed);
        self.note_buffers(srv);
        paused
    }

    /// Runs requests held back by CLIENT PAUSE.
    pub fn resume(&mut self, srv: &Server, worker: usize) -> Status {
        let paused = self.process(srv, worker);
        match self.flush(srv) {
            Status::Close => Status::Close,
            _ if paused => Status::Paused,
            st => st,
        }
    }

    /// Writes pending output; `Close` once a closing client has nothing left to send.
    pub fn flush(&mut self, srv: &Server) -> Status {
        // Replies go out only once the writes they acknowledge are in the append-only file.
        if self.wpos < self.wbuf.len() {
            srv.aof.sync_before_reply();
        }
        let mut written = 0usize;
        while self.wpos < self.wbuf.len() {
            match self.stream.write(&self.wbuf[self.wpos..]) {
                Ok(0) => return Status::Close,
                Ok(n) => {
                    self.wpos += n;
                    written += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.write_blocked = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Status::Close,
            }
        }
        if written > 0 {
            ThreadStats::add(&srv.stats.mine().net_out, written as u64);
        }
        if self.wpos == self.wbuf.len() {
            self.write_blocked = false;
            self.wpos = 0;
            self.wbuf.clear();
            if self.wbuf.capacity() > IDLE_BUFFER_KEEP {
                self.wbuf = Vec::new();
            }
            if self.sess.close_after_reply || self.killed() {
                return Status::Close;
            }
        }
        self.sess.shared.obuf.store(self.wbuf.len() - self.wpos, Relaxed);
        self.note_buffers(srv);
        Status::Open
    }

    /// Publishes the buffers' allocated size, and checks the client memory limit at once when
    /// they are big.
    fn note_buffers(&self, srv: &Server) {
        let (input, output) = (self.rbuf.capacity(), self.wbuf.capacity());
        srv.clients.set_buffers(&self.sess.shared, Some(input), Some(output));
        if input + output > CLIENT_EVICTION_CHECK && srv.hot.maxmemory_clients.load(Relaxed) != 0 {
            super::evict::evict_clients(srv);
        }
    }
}
