//! Larder's keyspace: databases split into shards, the entries they hold, expiry and the lock
//! discipline commands follow.
//!
//! This crate knows nothing of sockets or the RESP protocol: it can be embedded, unit-tested
//! and benchmarked on its own. The server crate drives it.

pub mod clock;
pub mod entry;
pub mod evict;
pub mod keyspace;
pub mod lazyfree;
pub mod memory;
pub mod notify;
pub mod object;
pub mod shard;
pub mod snapshot;
pub mod table;
pub mod types;
pub mod util;

pub use entry::{Entry, Value, ValueRef};
pub use keyspace::{shard_of, Db, KeyRef, Keyspace, Locked, SHARDS};
pub use object::Object;
pub use shard::Shard;
