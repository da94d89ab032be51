//! Commands: the declarative table, the execution context handlers see, and one module per
//! command family. A handler parses its arguments, acts on the keyspace through the shards the
//! dispatcher locked for it, and writes its reply; errors are [`CmdError`] values that the
//! dispatcher renders with Redis's exact text.

pub mod spec;
pub mod table;

mod bitmaps;
mod client_cmd;
mod client_tracking;
mod cluster;
mod command_cmd;
mod config_cmd;
mod connection;
mod debug;
mod dump;
mod expire;
mod functions;
mod hashes;
mod info;
mod keys;
mod lists;
mod memory;
pub mod objects;
pub mod persistence;
pub mod pubsub;
pub mod repr;
mod scan;
pub mod scripting;
mod server_cmd;
mod sets;
mod sort;
mod strings;
pub mod transactions;
mod zsets;

use std::borrow::Cow;

use larder_engine::{KeyRef, Locked};
use larder_resp::Reply;

use crate::server::client::Session;
use crate::server::Server;

pub use spec::CommandSpec;

/// An error reply. The rendered text starts with Redis's error code (`ERR`, `WRONGTYPE`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    /// -WRONGTYPE
    WrongType,
    /// Not an integer or out of range.
    NotInteger,
    /// Not a valid float.
    NotFloat,
    /// Generic syntax error.
    Syntax,
    /// INCR/DECR overflow.
    Overflow,
    /// A message known at compile time, with its prefix.
    Static(&'static str),
    /// A formatted message, with its prefix.
    Msg(String),
}

impl CmdError {
    /// The full error text (without the leading '-').
    pub fn text(&self) -> Cow<'static, str> {
        match self {
            CmdError::WrongType => Cow::Borrowed("WRONGTYPE Operation against a key holding the wrong kind of value"),
            CmdError::NotInteger => Cow::Borrowed("ERR value is not an integer or out of range"),
            CmdError::NotFloat => Cow::Borrowed("ERR value is not a valid float"),
            CmdError::Syntax => Cow::Borrowed("ERR syntax error"),
            CmdError::Overflow => Cow::Borrowed("ERR increment or decrement would overflow"),
            CmdError::Static(s) => Cow::Borrowed(s),
            CmdError::Msg(s) => Cow::Owned(s.clone()),
        }
    }

    /// An `ERR`-prefixed formatted error.
    pub fn err(msg: impl Into<String>) -> Self {
        CmdError::Msg(format!("ERR {}", msg.into()))
    }
}

/// What a handler returns.
pub type CmdResult = Result<(), CmdError>;

/// Everything a handler may touch while it runs.
pub struct Ctx<'a, 'k> {
    /// Shared server state.
    pub srv: &'a Server,
    /// The calling connection's state.
    pub sess: &'a mut Session,
    /// The shards locked for this command.
    pub keys: &'a mut Locked<'k>,
    /// Reply bytes for the client.
    pub out: &'a mut Vec<u8>,
    /// The command's time (unix ms): every expiry check in the command uses it.
    pub now: u64,
    /// The command's table entry.
    pub spec: &'static CommandSpec,
    /// The command's id in the table.
    pub id: usize,
    /// Set by [`Ctx::block`]: the client waits instead of getting a reply now.
    pub blocked: Option<crate::server::blocking::BlockRequest>,
    /// False inside MULTI/EXEC and scripts, where blocking commands time out at once.
    pub may_block: bool,
}

impl<'a, 'k> Ctx<'a, 'k> {
    /// The reply encoder for this client's protocol.
    #[inline]
    pub fn reply(&mut self) -> Reply<'_> {
        Reply::new(self.out, self.sess.resp3)
    }

    /// Blocks the client on `req.keys` (a blocking command found nothing to take). Where
    /// blocking is not allowed, answers as if the timeout had passed, as Redis does.
    pub fn block(&mut self, req: crate::server::blocking::BlockRequest) {
        if self.may_block {
            self.blocked = Some(req);
        } else {
            let bytes = crate::server::dispatch::timeout_reply(self.sess.resp3, req.on_timeout);
            self.out.extend_from_slice(&bytes);
        }
    }

    /// Publishes keyspace event `event` (class `class`, a `larder_engine::notify` constant) for
    /// `key` in the selected database, when that class is enabled.
    #[inline]
    pub fn notify(&self, class: u32, event: &str, key: &[u8]) {
        if larder_engine::notify::flags() & class != 0 {
            let worker = Some(self.sess.shared.worker);
            crate::server::notify::notify(self.srv, class, event, key, self.sess.db, worker);
        }
    }

    /// The selected database.
    #[inline]
    pub fn db(&self) -> usize {
        self.sess.db
    }

    /// The live entry for `k` in the selected database.
    #[inline]
    pub fn get(&mut self, k: &KeyRef<'_>) -> Option<&mut larder_engine::Entry> {
        let (db, now) = (self.sess.db, self.now);
        self.keys.get(db, k, now)
    }

    /// The live entry for `k` without recording an access for the eviction policy (commands
    /// that look at a key's metadata: TYPE, EXISTS, TTL, OBJECT).
    #[inline]
    pub fn get_untouched(&mut self, k: &KeyRef<'_>) -> Option<&mut larder_engine::Entry> {
        let (db, now) = (self.sess.db, self.now);
        self.keys.get_untouched(db, k, now)
    }

    /// The shard holding `k` in the selected database.
    #[inline]
    pub fn shard(&mut self, k: &KeyRef<'_>) -> &mut larder_engine::Shard {
        let db = self.sess.db;
        self.keys.shard_for(db, k)
    }

    /// Counts a keyspace hit or miss (GET-like reads).
    #[inline]
    pub fn count_lookup(&self, hit: bool) {
        self.srv.stats.count_lookup(hit);
    }
}

/// Parses an integer argument (`ERR value is not an integer or out of range` otherwise).
pub fn int_arg(b: &[u8]) -> Result<i64, CmdError> {
    larder_engine::util::num::parse_i64(b).ok_or(CmdError::NotInteger)
}

/// Case-insensitive comparison of an argument with an ASCII keyword.
#[inline]
pub fn eq_ic(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

/// The ERR reply for a wrong argument count.
pub fn arity_error(name: &str) -> CmdError {
    CmdError::Msg(format!("ERR wrong number of arguments for '{name}' command"))
}
