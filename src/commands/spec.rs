//! The declarative command table entry: everything dispatch, COMMAND, ACL and key routing need
//! to know about a command, with its handler in the same place.

use larder_resp::Args;

use super::{CmdResult, Ctx};

/// A command handler: parse the arguments, act on the keyspace, write the reply.
pub type Handler = fn(&mut Ctx<'_, '_>, Args<'_>) -> CmdResult;

/// Command flags, as Redis names them in COMMAND INFO.
pub mod flag {
    /// May modify the keyspace.
    pub const WRITE: u32 = 1 << 0;
    /// Only reads.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory: refused with -OOM over maxmemory.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/Sub related.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed in scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while loading the dataset.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a stale replica.
    pub const STALE: u32 = 1 << 8;
    /// Not shown to MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 9;
    /// Not recorded in the slow log.
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    /// O(1) or O(log N) and never blocks.
    pub const FAST: u32 = 1 << 11;
    /// Allowed before authentication.
    pub const NO_AUTH: u32 = 1 << 12;
    /// May replicate even when read-only (e.g. expiring a key).
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Not allowed inside MULTI.
    pub const NO_MULTI: u32 = 1 << 14;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Has sub-commands (a container such as CONFIG).
    pub const CONTAINER: u32 = 1 << 16;
    /// Larder: needs the whole keyspace held exclusively while it runs.
    pub const EXCLUSIVE: u32 = 1 << 17;
    /// Larder: visits shards one at a time itself (KEYS, SCAN, DBSIZE, RANDOMKEY).
    pub const VISITS_SHARDS: u32 = 1 << 18;

    /// Names of the Redis flags, in COMMAND INFO order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories (bit per category), as Redis names them.
pub mod acl {
    /// @keyspace
    pub const KEYSPACE: u64 = 1 << 0;
    /// @read
    pub const READ: u64 = 1 << 1;
    /// @write
    pub const WRITE: u64 = 1 << 2;
    /// @set
    pub const SET: u64 = 1 << 3;
    /// @sortedset
    pub const SORTEDSET: u64 = 1 << 4;
    /// @list
    pub const LIST: u64 = 1 << 5;
    /// @hash
    pub const HASH: u64 = 1 << 6;
    /// @string
    pub const STRING: u64 = 1 << 7;
    /// @bitmap
    pub const BITMAP: u64 = 1 << 8;
    /// @hyperloglog
    pub const HYPERLOGLOG: u64 = 1 << 9;
    /// @geo
    pub const GEO: u64 = 1 << 10;
    /// @stream
    pub const STREAM: u64 = 1 << 11;
    /// @pubsub
    pub const PUBSUB: u64 = 1 << 12;
    /// @admin
    pub const ADMIN: u64 = 1 << 13;
    /// @fast
    pub const FAST: u64 = 1 << 14;
    /// @slow
    pub const SLOW: u64 = 1 << 15;
    /// @blocking
    pub const BLOCKING: u64 = 1 << 16;
    /// @dangerous
    pub const DANGEROUS: u64 = 1 << 17;
    /// @connection
    pub const CONNECTION: u64 = 1 << 18;
    /// @transaction
    pub const TRANSACTION: u64 = 1 << 19;
    /// @scripting
    pub const SCRIPTING: u64 = 1 << 20;

    /// Category names in bit order.
    pub const NAMES: &[&str] = &[
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
    ];
}

/// Where a command's keys are in its arguments (argument 0 is the command name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    /// No keys.
    None,
    /// Keys at `first`, `first + step`, ... up to `last` (negative: counted from the end).
    Range {
        /// Index of the first key.
        first: i16,
        /// Index of the last key; -1 is the last argument.
        last: i16,
        /// Distance between keys.
        step: u8,
    },
}

/// The command group, as COMMAND DOCS reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Keyspace-wide commands.
    Generic,
    /// Strings.
    String,
    /// Bitmaps.
    Bitmap,
    /// Connection management.
    Connection,
    /// Server management.
    Server,
    /// Hashes.
    Hash,
    /// Lists.
    List,
    /// Sets.
    Set,
    /// Sorted sets.
    SortedSet,
    /// Transactions.
    Transactions,
    /// Pub/Sub.
    Pubsub,
    /// Scripting and functions.
    Scripting,
    /// Redis Cluster.
    Cluster,
}

impl Group {
    /// The name Redis uses.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::Bitmap => "bitmap",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Hash => "hash",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Transactions => "transactions",
            Group::Scripting => "scripting",
            Group::Pubsub => "pubsub",
            Group::Cluster => "cluster",
        }
    }
}

/// One entry of the command table.
pub struct CommandSpec {
    /// Lower-case name (for a sub-command, the sub-command's own name).
    pub name: &'static str,
    /// Redis arity: exact count if positive, minimum count if negative (name included).
    pub arity: i32,
    /// `flag::*` bits.
    pub flags: u32,
    /// `acl::*` bits.
    pub acl: u64,
    /// Key positions.
    pub keys: Keys,
    /// Group.
    pub group: Group,
    /// Redis version that introduced it.
    pub since: &'static str,
    /// Complexity, as documented.
    pub complexity: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// The handler (for a container: unused, dispatch goes to a sub-command).
    pub handler: Handler,
    /// Sub-commands of a container command.
    pub subcommands: &'static [CommandSpec],
    /// A key whose position depends on the other arguments, found by parsing them (SORT's
    /// STORE destination); such commands report `movablekeys` in COMMAND INFO.
    pub movable_key: Option<MovableKey>,
}

/// Finds the position of a key that [`Keys`] cannot describe, if the request has one.
pub type MovableKey = fn(Args<'_>) -> Option<usize>;

impl CommandSpec {
    /// True when `argc` arguments satisfy the arity.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= (-a) as usize
        }
    }

    /// True when the command has flag `f`.
    #[inline]
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// The positions of key arguments in a request of `argc` arguments.
    pub fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let (first, last, step) = match self.keys {
            Keys::None => (1usize, 0usize, 1usize),
            Keys::Range { first, last, step } => {
                let last = if last < 0 { argc as i64 + last as i64 } else { last as i64 };
                let last = last.min(argc as i64 - 1);
                if last < first as i64 {
                    (1, 0, 1)
                } else {
                    (first as usize, last as usize, step.max(1) as usize)
                }
            }
        };
        (first..=last).step_by(step)
    }

    /// The positions of every key argument in `args`: [`CommandSpec::key_positions`] and the
    /// movable key, if any.
    #[inline]
    pub fn key_args(&self, args: Args<'_>) -> impl Iterator<Item = usize> {
        self.key_positions(args.len()).chain(self.movable_key.and_then(|f| f(args)))
    }
}

/// Shorthand for table entries: `Keys::Range` with step 1.
pub const fn keys(first: i16, last: i16, step: u8) -> Keys {
    Keys::Range { first, last, step }
}

/// A table entry with no sub-commands.
#[allow(clippy::too_many_arguments)]
pub const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    acl: u64,
    keys: Keys,
    group: Group,
    since: &'static str,
    complexity: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        acl,
        keys,
        group,
        since,
        complexity,
        summary,
        handler,
        subcommands: &[],
        movable_key: None,
    }
}
