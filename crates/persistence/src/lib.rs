//! Larder's persistence formats, byte-compatible with Redis: the RDB value encoding (strings,
//! lists, sets, sorted sets and hashes in every encoding Redis 7.x writes, including the
//! listpack, ziplist, intset and zipmap blobs of older versions), LZF compression, CRC64, and
//! the DUMP/RESTORE payload framing built on them ([`dump`]).
//!
//! This crate knows nothing of sockets, the RESP protocol or the server: it turns engine values
//! into bytes and bytes back into engine values, so it can be unit-tested and fuzzed on its own.
//! It depends on `larder-engine` only.
//!
//! Everything that reads bytes treats them as hostile: a truncated, oversized or otherwise
//! corrupt input is an [`rdb::RdbError`], never a panic, and no allocation is sized from a
//! length field before the bytes it describes are known to be there.

pub mod dump;
pub mod rdb;
