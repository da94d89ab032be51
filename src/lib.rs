//! Larder: a Redis-compatible in-memory data-structure server.
//!
//! Layers, each depending only on the ones before it:
//! - `larder-resp` (crate): RESP parsing and reply encoding, no I/O.
//! - `larder-engine` (crate): the keyspace, no networking.
//! - [`commands`]: the command table and one module per command family.
//! - [`config`]: directives from files, flags and CONFIG.
//! - [`server`]: sockets, worker event loops, client state, the cron; the `larder` binary.
//!
//! `docs/ARCHITECTURE.md` walks a request through these layers.

pub mod alloc;
pub mod commands;
pub mod config;
pub mod persist;
pub mod scripting;
pub mod server;
