//! Whole RDB files, as Redis's `rdbSaveRio` and `rdbLoadRio` lay them out:
//!
//! ```text
//! "REDIS" + 4-digit version
//! AUX (0xFA) name value ...                       metadata: redis-ver, ctime, used-mem, ...
//! FUNCTION2 (0xF5) library-code ...               function libraries
//! SELECTDB (0xFE) db  [RESIZEDB (0xFB) n expires]
//!   [EXPIRETIME_MS (0xFC) u64] [IDLE (0xF8) len | FREQ (0xF9) u8] type key value ...
//! EOF (0xFF)  CRC64 of everything before, u64 LE (0 when rdbchecksum is off)
//! ```
//!
//! Records are encoded into byte vectors by the `encode_*` functions, so a snapshot can build
//! them on any thread; [`FileWriter`] streams them to disk and keeps the running checksum.
//! [`load`] walks a whole file held in memory (the server maps it) and hands each part to a
//! [`Visitor`]. SELECTDB may appear any number of times, in any order (Larder's snapshots
//! write one per chunk), as Redis's loader allows.

use std::io::{self, Write};

use larder_engine::types::Limits;
use larder_engine::ValueRef;

use super::crc64::crc64;
use super::decode::{self, Decoded};
use super::encode::{self, Options};
use super::len::{read_len, read_string, write_len, write_string, Reader};
use super::{RdbError, Result, RDB_VERSION_MAX};

/// Record opcodes (`RDB_OPCODE_*`).
pub mod opcodes {
    /// An unfinished slot import of a Valkey 9 cluster node (Valkey files only).
    pub const VALKEY_SLOT_IMPORT: u8 = 0xF3;
    /// Cluster slot metadata (Redis 7.4, Valkey 8).
    pub const SLOT_INFO: u8 = 0xF4;
    /// A function library.
    pub const FUNCTION2: u8 = 0xF5;
    /// A function (Redis 7.0 release candidates).
    pub const FUNCTION_PRE_GA: u8 = 0xF6;
    /// Module auxiliary data.
    pub const MODULE_AUX: u8 = 0xF7;
    /// The next key's idle time in seconds (LRU).
    pub const IDLE: u8 = 0xF8;
    /// The next key's LFU counter.
    pub const FREQ: u8 = 0xF9;
    /// An auxiliary field.
    pub const AUX: u8 = 0xFA;
    /// Size hints for the current database.
    pub const RESIZEDB: u8 = 0xFB;
    /// The next key's expiry, unix milliseconds.
    pub const EXPIRETIME_MS: u8 = 0xFC;
    /// The next key's expiry, unix seconds (old files).
    pub const EXPIRETIME: u8 = 0xFD;
    /// Switch database.
    pub const SELECTDB: u8 = 0xFE;
    /// End of file.
    pub const EOF: u8 = 0xFF;
}

/// The file header for `version`.
pub fn header(version: u16) -> Vec<u8> {
    format!("REDIS{version:04}").into_bytes()
}

/// Appends an AUX field.
pub fn encode_aux(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(opcodes::AUX);
    write_string(out, name, false);
    write_string(out, value, false);
}

/// Appends a SELECTDB record.
pub fn encode_select_db(out: &mut Vec<u8>, db: usize) {
    out.push(opcodes::SELECTDB);
    write_len(out, db as u64);
}

/// Appends a RESIZEDB record (table size hints for the database just selected).
pub fn encode_resize_db(out: &mut Vec<u8>, keys: usize, expires: usize) {
    out.push(opcodes::RESIZEDB);
    write_len(out, keys as u64);
    write_len(out, expires as u64);
}

/// How a key's access history is kept in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Not recorded.
    None,
    /// Seconds since the last access (LRU policies).
    Idle(u64),
    /// The LFU counter (LFU policies).
    Freq(u8),
}

/// Appends one key: its expiry, its access history, then type, key and value.
pub fn encode_entry(
    out: &mut Vec<u8>,
    key: &[u8],
    value: ValueRef<'_>,
    expire_ms: Option<u64>,
    access: Access,
    opts: &Options,
) {
    if let Some(t) = expire_ms {
        out.push(opcodes::EXPIRETIME_MS);
        out.extend_from_slice(&t.to_le_bytes());
    }
    match access {
        Access::None => {}
        Access::Idle(s) => {
            out.push(opcodes::IDLE);
            write_len(out, s);
        }
        Access::Freq(f) => {
            out.push(opcodes::FREQ);
            out.push(f);
        }
    }
    // The type byte comes before the key: encode the value first, then splice the key in.
    let start = out.len();
    encode::write_value(out, value, opts);
    let mut key_bytes = Vec::with_capacity(key.len() + 5);
    write_string(&mut key_bytes, key, opts.compress);
    out.splice(start + 1..start + 1, key_bytes);
}

/// Appends a function library (its source code, as FUNCTION LOAD took it).
pub fn encode_function(out: &mut Vec<u8>, code: &[u8]) {
    out.push(opcodes::FUNCTION2);
    write_string(out, code, false);
}

/// Streams records to a writer, keeping the CRC64 of everything written.
pub struct FileWriter<W: Write> {
    w: W,
    crc: u64,
    checksum: bool,
    written: u64,
}

impl<W: Write> FileWriter<W> {
    /// Starts a file of RDB `version`; `checksum` is `rdbchecksum`.
    pub fn new(w: W, version: u16, checksum: bool) -> io::Result<Self> {
        let mut f = FileWriter { w, crc: 0, checksum, written: 0 };
        f.write(&header(version))?;
        Ok(f)
    }

    /// Writes encoded records.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64(self.crc, bytes);
        }
        self.written += bytes.len() as u64;
        self.w.write_all(bytes)
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes EOF and the checksum; returns the underlying writer (flushed).
    pub fn finish(mut self) -> io::Result<W> {
        self.write(&[opcodes::EOF])?;
        let crc = if self.checksum { self.crc } else { 0 };
        self.w.write_all(&crc.to_le_bytes())?;
        self.w.flush()?;
        Ok(self.w)
    }
}

/// What a file load reports besides its records.
pub trait Visitor {
    /// An AUX field.
    fn aux(&mut self, _name: &[u8], _value: &[u8]) {}
    /// A RESIZEDB hint for database `db`.
    fn resize(&mut self, _db: usize, _keys: u64, _expires: u64) {}
    /// A function library's code.
    fn function(&mut self, code: Vec<u8>) -> Result<()>;
    /// One key of database `db`.
    fn entry(&mut self, db: usize, key: Vec<u8>, value: Decoded, expire_ms: Option<u64>, access: Access) -> Result<()>;
    /// Progress: `done` of `total` bytes read (called every few megabytes).
    fn progress(&mut self, _done: usize, _total: usize) {}
}

/// What [`load`] found in the file itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadInfo {
    /// The file's RDB version.
    pub version: u16,
    /// Keys handed to the visitor.
    pub keys: u64,
    /// Whether a checksum was present and verified (false when the file carries 0).
    pub checksum_verified: bool,
}

const PROGRESS_EVERY: usize = 4 << 20;

/// Valkey 9's own format: magic `VALKEY`, three version digits.
pub const VALKEY_VERSION: u16 = 80;

/// Reads the version from a file's header: `REDIS` and four digits (1 to 12), or Valkey 9's
/// `VALKEY080`.
pub fn read_header(data: &[u8]) -> Result<u16> {
    let head = data.get(..9).ok_or(RdbError::Truncated)?;
    let digits = if &head[..5] == b"REDIS" {
        &head[5..]
    } else if &head[..6] == b"VALKEY" {
        &head[6..]
    } else {
        return Err(RdbError::Corrupt("wrong signature trying to load DB from file"));
    };
    let digits = std::str::from_utf8(digits).map_err(|_| RdbError::Corrupt("bad RDB version"))?;
    let version: u16 = digits.parse().map_err(|_| RdbError::Corrupt("bad RDB version"))?;
    let known =
        if &head[..6] == b"VALKEY" { version == VALKEY_VERSION } else { (1..=RDB_VERSION_MAX).contains(&version) };
    if !known {
        return Err(RdbError::Corrupt("can't handle RDB format version"));
    }
    Ok(version)
}

/// The first object type whose meaning differs between Redis 7.4 and Valkey 9 (22 and up:
/// Redis's hashes with field TTLs, Valkey's own hash type).
const DIVERGING_TYPES: u8 = 22;

/// Loads a whole RDB file held in `data`, verifying its checksum when `verify` is set and
/// the file carries one. Values are built with `limits`. Databases at or beyond `databases`
/// are an error, as in Redis.
pub fn load(data: &[u8], limits: &Limits, databases: usize, verify: bool, v: &mut impl Visitor) -> Result<LoadInfo> {
    let version = read_header(data)?;
    let mut r = Reader::new(&data[9..]);
    let mut db = 0usize;
    let mut keys = 0u64;
    let mut expire: Option<u64> = None;
    let mut access = Access::None;
    let mut next_progress = PROGRESS_EVERY;
    loop {
        let pos = 9 + r.position();
        if pos >= next_progress {
            v.progress(pos, data.len());
            next_progress = pos + PROGRESS_EVERY;
        }
        let op = r.u8()?;
        match op {
            opcodes::EOF => break,
            opcodes::SELECTDB => {
                let n = read_len(&mut r)?;
                if n >= databases as u64 {
                    return Err(RdbError::Corrupt(
                        "FATAL: Data file was created with a Redis server configured to handle more databases",
                    ));
                }
                db = n as usize;
            }
            opcodes::RESIZEDB => {
                let (k, e) = (read_len(&mut r)?, read_len(&mut r)?);
                v.resize(db, k, e);
            }
            opcodes::AUX => {
                let name = read_string(&mut r)?;
                let value = read_string(&mut r)?;
                v.aux(&name, &value);
            }
            opcodes::EXPIRETIME_MS => expire = Some(r.u64_le()?),
            opcodes::EXPIRETIME => expire = Some(u32::from_le_bytes(r.array()?) as u64 * 1000),
            opcodes::IDLE => access = Access::Idle(read_len(&mut r)?),
            opcodes::FREQ => access = Access::Freq(r.u8()?),
            opcodes::FUNCTION2 => v.function(read_string(&mut r)?.into_owned())?,
            opcodes::SLOT_INFO => {
                // slot id, slot size, expires slot size: hints only.
                for _ in 0..3 {
                    read_len(&mut r)?;
                }
            }
            opcodes::FUNCTION_PRE_GA => return Err(RdbError::Corrupt("pre-release function format is not supported")),
            opcodes::MODULE_AUX => return Err(RdbError::UnsupportedType(op)),
            opcodes::VALKEY_SLOT_IMPORT if version == VALKEY_VERSION => {
                // Job name, then (first slot, last slot) ranges: cluster state, not data.
                read_string(&mut r)?;
                for _ in 0..read_len(&mut r)? {
                    read_len(&mut r)?;
                    read_len(&mut r)?;
                }
            }
            t if version == VALKEY_VERSION && (DIVERGING_TYPES..opcodes::SLOT_INFO).contains(&t) => {
                let key = read_string(&mut r)?.into_owned();
                let value = decode::read_valkey_typed(&mut r, t, limits)?;
                v.entry(db, key, value, expire.take(), std::mem::replace(&mut access, Access::None))?;
                keys += 1;
            }
            t => {
                let key = read_string(&mut r)?.into_owned();
                let value = decode::read_typed(&mut r, t, limits)?;
                v.entry(db, key, value, expire.take(), std::mem::replace(&mut access, Access::None))?;
                keys += 1;
            }
        }
    }
    let body_end = 9 + r.position();
    let mut checksum_verified = false;
    if version >= 5 {
        let stored = r.u64_le()?;
        if verify && stored != 0 {
            if crc64(0, &data[..body_end]) != stored {
                return Err(RdbError::Corrupt("wrong RDB checksum"));
            }
            checksum_verified = true;
        }
    }
    v.progress(data.len(), data.len());
    Ok(LoadInfo { version, keys, checksum_verified })
}

#[cfg(test)]
mod tests {
    use super::*;
    use larder_engine::types::set::Set;
    use larder_engine::Object;

    /// (database, key, value, expiry, access) of each loaded key.
    type Loaded = Vec<(usize, Vec<u8>, Decoded, Option<u64>, Access)>;

    #[derive(Default)]
    struct Collect {
        aux: Vec<(Vec<u8>, Vec<u8>)>,
        entries: Loaded,
        functions: Vec<Vec<u8>>,
    }

    impl Visitor for Collect {
        fn aux(&mut self, name: &[u8], value: &[u8]) {
            self.aux.push((name.to_vec(), value.to_vec()));
        }
        fn function(&mut self, code: Vec<u8>) -> Result<()> {
            self.functions.push(code);
            Ok(())
        }
        fn entry(&mut self, db: usize, key: Vec<u8>, value: Decoded, e: Option<u64>, a: Access) -> Result<()> {
            self.entries.push((db, key, value, e, a));
            Ok(())
        }
    }

    fn sample_file(checksum: bool) -> Vec<u8> {
        let opts = Options::default();
        let mut w = FileWriter::new(Vec::new(), 10, checksum).expect("header");
        let mut rec = Vec::new();
        encode_aux(&mut rec, b"redis-ver", b"7.2.4");
        encode_function(&mut rec, b"#!lua name=lib\nredis.register_function('f', function() return 1 end)");
        encode_select_db(&mut rec, 0);
        encode_resize_db(&mut rec, 2, 1);
        encode_entry(&mut rec, b"k", ValueRef::Bytes(b"hello"), Some(1_900_000_000_000), Access::Idle(7), &opts);
        encode_select_db(&mut rec, 3);
        let mut set = Set::new();
        set.insert(b"a", &Limits::default());
        set.insert(b"b", &Limits::default());
        encode_entry(&mut rec, b"s", ValueRef::Obj(&Object::Set(set)), None, Access::Freq(9), &opts);
        encode_select_db(&mut rec, 0);
        encode_entry(&mut rec, b"n", ValueRef::Int(42), None, Access::None, &opts);
        w.write(&rec).expect("write");
        w.finish().expect("finish")
    }

    #[test]
    fn round_trips_records_in_any_database_order() {
        let file = sample_file(true);
        assert_eq!(&file[..9], b"REDIS0010");
        let mut c = Collect::default();
        let info = load(&file, &Limits::default(), 16, true, &mut c).expect("load");
        assert_eq!(info, LoadInfo { version: 10, keys: 3, checksum_verified: true });
        assert_eq!(c.aux, vec![(b"redis-ver".to_vec(), b"7.2.4".to_vec())]);
        assert_eq!(c.functions.len(), 1);
        let summary: Vec<_> = c.entries.iter().map(|(db, k, _, e, a)| (*db, k.clone(), *e, *a)).collect();
        assert_eq!(
            summary,
            vec![
                (0, b"k".to_vec(), Some(1_900_000_000_000), Access::Idle(7)),
                (3, b"s".to_vec(), None, Access::Freq(9)),
                (0, b"n".to_vec(), None, Access::None),
            ]
        );
        assert_eq!(c.entries[0].2, Decoded::Str(b"hello".to_vec()));
        assert_eq!(c.entries[2].2, Decoded::Str(b"42".to_vec()));
    }

    #[test]
    fn checksum_zero_means_unchecked_and_a_wrong_one_is_refused() {
        let file = sample_file(false);
        assert_eq!(&file[file.len() - 8..], &[0; 8]);
        let info = load(&file, &Limits::default(), 16, true, &mut Collect::default()).expect("load");
        assert!(!info.checksum_verified);
        let mut bad = sample_file(true);
        let n = bad.len();
        bad[n - 12] ^= 0x55;
        assert!(load(&bad, &Limits::default(), 16, true, &mut Collect::default()).is_err());
        assert!(load(&bad, &Limits::default(), 16, false, &mut Collect::default()).is_ok());
    }

    #[test]
    fn valkey_9_files_load_when_they_use_shared_types() {
        let mut file = sample_file(false);
        file[..9].copy_from_slice(b"VALKEY080");
        let info = load(&file, &Limits::default(), 16, true, &mut Collect::default()).expect("load");
        assert_eq!((info.version, info.keys), (80, 3));
        file[..9].copy_from_slice(b"VALKEY081");
        assert!(load(&file, &Limits::default(), 16, true, &mut Collect::default()).is_err());
        // Types Valkey 9 does not write are refused, not misread.
        let mut w = b"VALKEY080".to_vec();
        w.extend_from_slice(&[opcodes::SELECTDB, 0, 23, 1, b'k', 0]);
        assert_eq!(load(&w, &Limits::default(), 16, true, &mut Collect::default()), Err(RdbError::UnsupportedType(23)));
    }

    /// Valkey 9's hash with field TTLs (type 22 in a `VALKEY` file) and its slot-import opcode,
    /// in the bytes a Valkey 9.1 server writes.
    #[test]
    fn valkey_9_hashes_with_field_ttls_load() {
        let at: u64 = 4_102_444_800_000; // 2100-01-01, unix ms
        let mut w = b"VALKEY080".to_vec();
        // An unfinished slot import: 40-byte job name, one range 0..=63.
        w.push(opcodes::VALKEY_SLOT_IMPORT);
        w.push(40);
        w.extend_from_slice(&[b'j'; 40]);
        w.extend_from_slice(&[1, 0, 63]);
        w.extend_from_slice(&[opcodes::SELECTDB, 0, 22, 1, b'h', 3]);
        w.extend_from_slice(&[1, b'a', 0xC0, 1]);
        w.extend_from_slice(&at.to_le_bytes());
        w.extend_from_slice(&[2, b'b', b'b', 0xC0, 2]);
        w.extend_from_slice(&[0xFF; 8]);
        w.extend_from_slice(&[3, b'c', b'c', b'c', 5]);
        w.extend_from_slice(b"hello");
        w.extend_from_slice(&[0xFF; 8]);
        w.push(opcodes::EOF);
        w.extend_from_slice(&[0; 8]);
        let mut c = Collect::default();
        let info = load(&w, &Limits::default(), 16, true, &mut c).expect("load");
        assert_eq!(info.keys, 1);
        let Decoded::Obj(Object::Hash(h)) = &c.entries[0].2 else { panic!("not a hash") };
        assert_eq!(h.get(b"a"), Some(&b"1"[..]));
        assert_eq!(h.get(b"ccc"), Some(&b"hello"[..]));
        assert_eq!(h.expire_time(b"a"), Some(Some(at)));
        assert_eq!(h.expire_time(b"bb"), Some(None));
        // A TTL below -1 is corrupt; in a REDIS file the same type byte is Redis's own.
        let mut bad = w.clone();
        let pos = bad.windows(8).position(|x| x == at.to_le_bytes()).expect("ttl");
        bad[pos..pos + 8].copy_from_slice(&(-5i64).to_le_bytes());
        assert!(load(&bad, &Limits::default(), 16, true, &mut Collect::default()).is_err());
    }

    #[test]
    fn truncated_or_foreign_files_are_errors_not_panics() {
        let file = sample_file(true);
        for cut in 0..file.len() - 8 {
            assert!(load(&file[..cut], &Limits::default(), 16, true, &mut Collect::default()).is_err(), "cut {cut}");
        }
        assert!(load(b"REDIS0099", &Limits::default(), 16, true, &mut Collect::default()).is_err());
        assert!(load(b"NOTREDIS0", &Limits::default(), 16, true, &mut Collect::default()).is_err());
        assert!(load(&file, &Limits::default(), 2, true, &mut Collect::default()).is_err(), "db 3 of 2");
    }
}
