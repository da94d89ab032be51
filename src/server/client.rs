//! Client state: the per-connection [`Session`] its worker owns, the [`ClientShared`] part
//! other threads may read (CLIENT LIST, CLIENT KILL), and the registry of all clients.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::Mutex;

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    /// Replies are sent.
    On,
    /// No replies are sent.
    Off,
    /// The next command's reply is skipped.
    SkipNext,
    /// This command's reply is skipped (SKIP moves here after one command).
    Skip,
}

/// Flags shown in CLIENT LIST.
pub mod cflag {
    /// The client is a MONITOR.
    pub const MONITOR: u32 = 1 << 0;
    /// The client will be closed after its pending replies are written.
    pub const CLOSE_ASAP: u32 = 1 << 1;
    /// CLIENT NO-EVICT on.
    pub const NO_EVICT: u32 = 1 << 2;
    /// CLIENT NO-TOUCH on.
    pub const NO_TOUCH: u32 = 1 << 3;
    /// Blocked on keys.
    pub const BLOCKED: u32 = 1 << 4;
    /// Inside MULTI.
    pub const MULTI: u32 = 1 << 5;
}

/// What a connection costs besides its buffers' contents (session, buffers' minimum sizes).
pub const CLIENT_BASE_MEMORY: usize = 1024;

/// The part of a client other threads may read or signal.
pub struct ClientShared {
    /// Unique, increasing client id.
    pub id: u64,
    /// Peer address, `ip:port`.
    pub addr: String,
    /// Local address, `ip:port`.
    pub laddr: String,
    /// Socket file descriptor.
    pub fd: i32,
    /// Worker thread that owns the connection.
    pub worker: usize,
    /// Creation time, unix ms.
    pub created_ms: u64,
    /// Last command time, unix ms.
    pub last_interaction_ms: AtomicU64,
    /// Selected database.
    pub db: AtomicUsize,
    /// CLIENT SETNAME.
    pub name: Mutex<Option<Vec<u8>>>,
    /// CLIENT SETINFO lib-name / lib-ver.
    pub lib: Mutex<(String, String)>,
    /// Table id of the last command + 1 (0: none yet).
    pub last_cmd: AtomicU32,
    /// `cflag` bits.
    pub flags: AtomicU32,
    /// Protocol version (2 or 3).
    pub resp: AtomicU8,
    /// Set by CLIENT KILL; the owner closes the connection.
    pub kill: AtomicBool,
    /// Unparsed query bytes.
    pub qbuf: AtomicUsize,
    /// Pending output bytes.
    pub obuf: AtomicUsize,
    /// Bytes allocated for the input buffer (set through [`Registry::set_buffers`]).
    pub in_buf: AtomicUsize,
    /// Bytes allocated for the output buffer (set through [`Registry::set_buffers`]).
    pub out_buf: AtomicUsize,
    /// Commands run.
    pub commands: AtomicU64,
    /// Authenticated user name.
    pub user: Mutex<String>,
    /// Subscription counts: channels, patterns, shard channels.
    pub subs: [AtomicUsize; 3],
}

impl ClientShared {
    /// Shared state for a new connection.
    pub fn new(id: u64, addr: String, laddr: String, fd: i32, worker: usize, now_ms: u64) -> Self {
        ClientShared {
            id,
            addr,
            laddr,
            fd,
            worker,
            created_ms: now_ms,
            last_interaction_ms: AtomicU64::new(now_ms),
            db: AtomicUsize::new(0),
            name: Mutex::new(None),
            lib: Mutex::new((String::new(), String::new())),
            last_cmd: AtomicU32::new(0),
            flags: AtomicU32::new(0),
            resp: AtomicU8::new(2),
            kill: AtomicBool::new(false),
            qbuf: AtomicUsize::new(0),
            obuf: AtomicUsize::new(0),
            in_buf: AtomicUsize::new(0),
            out_buf: AtomicUsize::new(0),
            commands: AtomicU64::new(0),
            user: Mutex::new("default".to_string()),
            subs: Default::default(),
        }
    }

    /// Bytes this client holds: its pending input and output plus a fixed estimate for its
    /// connection state (CLIENT LIST tot-mem, client eviction).
    pub fn memory(&self) -> usize {
        self.in_buf.load(Relaxed) + self.out_buf.load(Relaxed) + CLIENT_BASE_MEMORY
    }

    /// True for a client subscribed to something (CLIENT LIST/KILL type `pubsub`).
    pub fn is_pubsub(&self) -> bool {
        self.subs.iter().any(|n| n.load(Relaxed) > 0)
    }

    /// Sets or clears a `cflag` bit.
    pub fn set_flag(&self, f: u32, on: bool) {
        if on {
            self.flags.fetch_or(f, Relaxed);
        } else {
            self.flags.fetch_and(!f, Relaxed);
        }
    }
}

/// Connection state owned by the worker thread that runs the connection.
pub struct Session {
    /// Client id.
    pub id: u64,
    /// Selected database.
    pub db: usize,
    /// RESP3 negotiated by HELLO 3.
    pub resp3: bool,
    /// Passed AUTH (or no password is required).
    pub authenticated: bool,
    /// CLIENT REPLY mode.
    pub reply_mode: ReplyMode,
    /// Close once the pending replies are written (QUIT, protocol error, CLIENT KILL).
    pub close_after_reply: bool,
    /// MONITOR mode.
    pub monitor: bool,
    /// CLIENT NO-TOUCH: reads do not update access time.
    pub no_touch: bool,
    /// What other threads may see.
    pub shared: Arc<ClientShared>,
    /// Commands queued since MULTI.
    pub multi: Option<Multi>,
    /// Keys under WATCH and the flag their modification sets.
    pub watch: Option<WatchSet>,
    /// Pub/Sub subscriptions.
    pub subs: Subscriptions,
    /// CLIENT TRACKING settings while tracking is on.
    pub tracking: Option<super::tracking::Settings>,
    /// CLIENT CACHING yes/no, for the next command only.
    pub caching: Option<bool>,
    /// What the transaction or script running on this session logged so far (see
    /// `persist::aof::log_effects`); None outside one.
    pub aof_tx: Option<crate::persist::aof::TxLog>,
    /// The session a script's commands run in (SORT then orders what Redis orders for
    /// scripts).
    pub script: bool,
}

/// A client's Pub/Sub subscriptions, in subscription order.
#[derive(Default)]
pub struct Subscriptions {
    /// SUBSCRIBE channels.
    pub channels: Vec<Vec<u8>>,
    /// PSUBSCRIBE patterns.
    pub patterns: Vec<Vec<u8>>,
    /// SSUBSCRIBE shard channels.
    pub shard: Vec<Vec<u8>>,
}

impl Subscriptions {
    /// True when subscribed to anything (RESP2 subscribed mode).
    pub fn any(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty())
    }
}

/// A transaction being queued.
#[derive(Default)]
pub struct Multi {
    /// The queued commands.
    pub queued: Vec<larder_resp::OwnedArgs>,
    /// A command was refused while queueing: EXEC will abort.
    pub aborted: bool,
}

/// The keys a client WATCHes.
pub struct WatchSet {
    /// Set by any modification of a watched key.
    pub dirty: Arc<std::sync::atomic::AtomicBool>,
    /// (database, key) pairs.
    pub keys: Vec<(usize, Vec<u8>)>,
}

impl Session {
    /// A session for a new connection; `authenticated` is false when a password is required.
    pub fn new(shared: Arc<ClientShared>, authenticated: bool) -> Self {
        Session {
            id: shared.id,
            db: 0,
            resp3: false,
            authenticated,
            reply_mode: ReplyMode::On,
            close_after_reply: false,
            monitor: false,
            no_touch: false,
            shared,
            multi: None,
            watch: None,
            subs: Subscriptions::default(),
            tracking: None,
            caching: None,
            aof_tx: None,
            script: false,
        }
    }

    /// Selects a database.
    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.shared.db.store(db, Relaxed);
    }
}

/// Every connected client, by id.
#[derive(Default)]
pub struct Registry {
    clients: Mutex<BTreeMap<u64, Arc<ClientShared>>>,
    next_id: AtomicU64,
    /// Sum of every registered client's buffer sizes.
    buffers: AtomicI64,
    count: AtomicUsize,
}

impl Registry {
    /// The next client id (ids start at 1 and never repeat).
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Relaxed) + 1
    }

    /// Adds a client.
    pub fn add(&self, c: Arc<ClientShared>) {
        self.count.fetch_add(1, Relaxed);
        self.clients.lock().insert(c.id, c);
    }

    /// Removes a client.
    pub fn remove(&self, id: u64) {
        if let Some(c) = self.clients.lock().remove(&id) {
            self.count.fetch_sub(1, Relaxed);
            self.set_buffers(&c, Some(0), Some(0));
        }
    }

    /// Records the allocated sizes of a client's input and/or output buffer.
    pub fn set_buffers(&self, c: &ClientShared, input: Option<usize>, output: Option<usize>) {
        let mut delta = 0i64;
        if let Some(n) = input {
            delta += n as i64 - c.in_buf.swap(n, Relaxed) as i64;
        }
        if let Some(n) = output {
            delta += n as i64 - c.out_buf.swap(n, Relaxed) as i64;
        }
        if delta != 0 {
            self.buffers.fetch_add(delta, Relaxed);
        }
    }

    /// Memory held by all clients (buffers plus the fixed per-client estimate), without
    /// visiting them.
    pub fn memory_total(&self) -> u64 {
        self.buffers.load(Relaxed).max(0) as u64 + (self.count.load(Relaxed) * CLIENT_BASE_MEMORY) as u64
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.clients.lock().len()
    }

    /// True when no client is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of every client, in id order.
    pub fn all(&self) -> Vec<Arc<ClientShared>> {
        self.clients.lock().values().cloned().collect()
    }

    /// One client by id.
    pub fn get(&self, id: u64) -> Option<Arc<ClientShared>> {
        self.clients.lock().get(&id).cloned()
    }
}
