//! Redis's RDB serialization of single values, as `rdb.c` defines it: the object type byte
//! ([`types`]), length and string encodings ([`len`]), LZF ([`lzf`]), CRC64 ([`crc64`]), the
//! packed blob formats ([`listpack`], [`ziplist`], [`intset`], [`zipmap`]), and on top of them
//! [`encode`] (engine value → bytes) and [`decode`] (bytes → engine value).
//!
//! What Larder writes loads into Redis 7.0 and later: lists as `LIST_QUICKLIST_2` of listpack
//! nodes, sets as `SET_INTSET` or `SET`, sorted sets as `ZSET_LISTPACK` or `ZSET_2`, hashes as
//! `HASH_LISTPACK` or `HASH` (and `HASH_METADATA`, which only Redis 7.4 reads, for a hash with
//! field TTLs). What Larder reads is every type and encoding Redis 2.x to 7.4 writes except
//! streams and module values, which are reported as [`RdbError::UnsupportedType`].

pub mod crc64;
pub mod decode;
pub mod encode;
pub mod file;
pub mod intset;
pub mod len;
pub mod listpack;
pub mod lzf;
pub mod ziplist;
pub mod zipmap;

use std::fmt;

/// The RDB version Larder writes (Redis 7.2's; loaded by Redis 7.2+ and Valkey 7.2+).
pub const RDB_VERSION: u16 = 11;

/// The version DUMP payloads carry: Redis 7.0's. Every encoding Larder writes is one 7.0
/// reads, and Redis refuses a payload whose version is newer than its own before looking
/// inside, so stamping 10 lets `DUMP` output restore into Redis 7.0, 7.2+ and Valkey alike.
pub const DUMP_VERSION: u16 = 10;

/// The newest RDB version Larder reads (Redis 7.4's).
pub const RDB_VERSION_MAX: u16 = 12;

/// RDB object type bytes (`RDB_TYPE_*` in Redis's `rdb.h`).
pub mod types {
    /// A string.
    pub const STRING: u8 = 0;
    /// A list as a count and its elements (before Redis 3.2).
    pub const LIST: u8 = 1;
    /// A set as a count and its members.
    pub const SET: u8 = 2;
    /// A sorted set with scores as decimal strings (before Redis 4.0).
    pub const ZSET: u8 = 3;
    /// A hash as a count and its field/value pairs.
    pub const HASH: u8 = 4;
    /// A sorted set with scores as binary doubles.
    pub const ZSET_2: u8 = 5;
    /// A module value (Redis 4.0 release candidates).
    pub const MODULE_PRE_GA: u8 = 6;
    /// A module value.
    pub const MODULE_2: u8 = 7;
    /// A hash as a zipmap blob (Redis 2.4 and older).
    pub const HASH_ZIPMAP: u8 = 9;
    /// A list as one ziplist blob (before Redis 3.2).
    pub const LIST_ZIPLIST: u8 = 10;
    /// A set of integers as an intset blob.
    pub const SET_INTSET: u8 = 11;
    /// A sorted set as a ziplist blob (before Redis 7.0).
    pub const ZSET_ZIPLIST: u8 = 12;
    /// A hash as a ziplist blob (before Redis 7.0).
    pub const HASH_ZIPLIST: u8 = 13;
    /// A list as quicklist nodes, each a ziplist blob (Redis 3.2 to 6.2).
    pub const LIST_QUICKLIST: u8 = 14;
    /// A stream (Redis 5.0 to 6.2).
    pub const STREAM_LISTPACKS: u8 = 15;
    /// A hash as a listpack blob.
    pub const HASH_LISTPACK: u8 = 16;
    /// A sorted set as a listpack blob.
    pub const ZSET_LISTPACK: u8 = 17;
    /// A list as quicklist nodes, each a listpack blob or a plain element (Redis 7.0+).
    pub const LIST_QUICKLIST_2: u8 = 18;
    /// A stream (Redis 7.0).
    pub const STREAM_LISTPACKS_2: u8 = 19;
    /// A set as a listpack blob (Redis 7.2+).
    pub const SET_LISTPACK: u8 = 20;
    /// A stream (Redis 7.2+).
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// A hash with field TTLs, absolute (Redis 7.4 release candidates).
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    /// A listpack hash with field TTLs (Redis 7.4 release candidates).
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    /// A hash with field TTLs relative to the earliest one (Redis 7.4).
    pub const HASH_METADATA: u8 = 24;
    /// A listpack hash with field TTLs (Redis 7.4).
    pub const HASH_LISTPACK_EX: u8 = 25;
    /// Valkey 9's hash with field TTLs, in `VALKEY` files only (where 22 does not mean
    /// [`HASH_METADATA_PRE_GA`]).
    pub const VALKEY_HASH_2: u8 = 22;
}

/// Why bytes could not be read as an RDB value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbError {
    /// The input ended in the middle of a value.
    Truncated,
    /// The input is malformed; the text says what was wrong.
    Corrupt(&'static str),
    /// A well-formed value of a type Larder does not load (streams, modules) or an unknown
    /// type byte.
    UnsupportedType(u8),
    /// A collection with no elements (Redis refuses to load those too).
    Empty,
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbError::Truncated => f.write_str("unexpected end of RDB data"),
            RdbError::Corrupt(what) => write!(f, "corrupt RDB data: {what}"),
            RdbError::UnsupportedType(t) => write!(f, "unsupported RDB object type {t}"),
            RdbError::Empty => f.write_str("empty collection in RDB data"),
        }
    }
}

impl std::error::Error for RdbError {}

/// Result of reading RDB data.
pub type Result<T> = std::result::Result<T, RdbError>;

/// An element of a packed blob (listpack, ziplist): bytes, or an integer stored in binary whose
/// value is its canonical decimal form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    /// A byte string.
    Bytes(&'a [u8]),
    /// An integer.
    Int(i64),
}

impl<'a> Elem<'a> {
    /// The element's bytes, formatting an integer into `buf`.
    pub fn bytes<'b>(self, buf: &'b mut IntBuf) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            Elem::Bytes(b) => b,
            Elem::Int(i) => buf.format(i),
        }
    }

    /// An owned copy of the element's bytes.
    pub fn to_vec(self) -> Vec<u8> {
        self.bytes(&mut IntBuf::new()).to_vec()
    }
}

/// A stack buffer for the decimal form of an `i64` (no heap allocation).
#[derive(Clone, Copy, Debug)]
pub struct IntBuf {
    buf: [u8; 20],
}

impl Default for IntBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl IntBuf {
    /// An empty buffer.
    pub const fn new() -> Self {
        IntBuf { buf: [0; 20] }
    }

    /// Writes `v` in decimal (as Redis's `ll2string`) and returns the text.
    pub fn format(&mut self, v: i64) -> &[u8] {
        let mut n = v.unsigned_abs();
        let mut i = self.buf.len();
        loop {
            i -= 1;
            self.buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if v < 0 {
            i -= 1;
            self.buf[i] = b'-';
        }
        &self.buf[i..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intbuf_formats_every_width() {
        let mut b = IntBuf::new();
        for v in [0, 7, -7, 10, 12345, -2147483648, i64::MAX, i64::MIN] {
            assert_eq!(b.format(v), v.to_string().as_bytes());
        }
    }

    #[test]
    fn elem_bytes() {
        assert_eq!(Elem::Int(-42).to_vec(), b"-42");
        assert_eq!(Elem::Bytes(b"x").to_vec(), b"x");
    }
}
