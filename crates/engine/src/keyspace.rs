//! Databases split into shards, and the locks a command holds while it runs.
//!
//! Lock order, the one invariant everything else relies on:
//! 1. A thread first holds its *gate* (one `RwLock` per worker thread plus one for background
//!    work) in read mode, for a batch of commands.
//! 2. Then, per command, it locks the shards the command's keys live in, in ascending
//!    (database, shard) order, and releases them when the command ends.
//! 3. Whole-keyspace atomic work (scripts that may touch undeclared keys, FLUSHALL, SWAPDB)
//!    releases its own gate and takes *every* gate in write mode, in index order. Nobody else
//!    can then hold a shard lock, so it locks shards on demand in any order.

use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use smallvec::SmallVec;

use crate::entry::Entry;
use crate::shard::Shard;
use crate::util::crc16::key_hash_slot;

/// log2 of the number of shards per database.
pub const SHARD_BITS: u32 = 6;
/// Shards per database; a key's shard is its cluster hash slot modulo this.
pub const SHARDS: usize = 1 << SHARD_BITS;

/// A key with its precomputed table hash and shard index.
#[derive(Clone, Copy, Debug)]
pub struct KeyRef<'a> {
    /// The key bytes.
    pub key: &'a [u8],
    /// 64-bit table hash.
    pub hash: u64,
    /// Shard index within a database.
    pub shard: usize,
}

impl<'a> KeyRef<'a> {
    /// Hashes `key` for table lookup and shard routing.
    #[inline]
    pub fn new(key: &'a [u8]) -> Self {
        KeyRef { key, hash: xxhash_rust::xxh3::xxh3_64(key), shard: shard_of(key) }
    }
}

/// The shard a key lives in (its cluster hash slot modulo [`SHARDS`]).
#[inline]
pub fn shard_of(key: &[u8]) -> usize {
    key_hash_slot(key) as usize & (SHARDS - 1)
}

/// One logical database (SELECT index).
pub struct Db {
    shards: Box<[Mutex<Shard>]>,
}

impl Db {
    fn new() -> Self {
        Db { shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect() }
    }

    /// Locks one shard.
    pub fn lock(&self, shard: usize) -> MutexGuard<'_, Shard> {
        self.shards[shard].lock()
    }
}

/// All databases plus the gates that order whole-keyspace work against per-key work.
pub struct Keyspace {
    dbs: Box<[Db]>,
    gates: Box<[RwLock<()>]>,
}

impl Keyspace {
    /// A keyspace of `databases` databases, with `gates` gates (one per thread that runs
    /// commands or background work).
    pub fn new(databases: usize, gates: usize) -> Self {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
            gates: (0..gates.max(1)).map(|_| RwLock::new(())).collect(),
        }
    }

    /// Number of databases.
    pub fn db_count(&self) -> usize {
        self.dbs.len()
    }

    /// A database by index (callers validate the index).
    pub fn db(&self, index: usize) -> &Db {
        &self.dbs[index]
    }

    /// Takes gate `index` in read mode (per-key work).
    pub fn gate(&self, index: usize) -> RwLockReadGuard<'_, ()> {
        self.gates[index % self.gates.len()].read()
    }

    /// Takes gate `index` in read mode, waiting at most `wait`; None when whole-keyspace work
    /// (a running script) still holds it.
    pub fn try_gate(&self, index: usize, wait: std::time::Duration) -> Option<RwLockReadGuard<'_, ()>> {
        self.gates[index % self.gates.len()].try_read_for(wait)
    }

    /// Takes every gate in write mode (whole-keyspace atomic work). The caller must not hold
    /// any gate or shard lock.
    pub fn exclusive(&self) -> Exclusive<'_> {
        Exclusive { _gates: self.gates.iter().map(|g| g.write()).collect() }
    }

    /// Number of keys in a database.
    pub fn dbsize(&self, db: usize) -> usize {
        self.dbs[db].shards.iter().map(|s| s.lock().len()).sum()
    }

    /// (keys, keys with expiry) of a database.
    pub fn db_counts(&self, db: usize) -> (usize, usize) {
        self.dbs[db].shards.iter().fold((0, 0), |(k, v), s| {
            let s = s.lock();
            (k + s.len(), v + s.volatile_len())
        })
    }

    /// Locks the shards of the given (database, shard) pairs, in lock order.
    pub fn lock_set(&self, mut wanted: SmallVec<[(u32, u16); 4]>) -> Locked<'_> {
        wanted.sort_unstable();
        wanted.dedup();
        let guards = wanted
            .into_iter()
            .map(|(db, shard)| (db, shard, self.dbs[db as usize].shards[shard as usize].lock()))
            .collect();
        Locked { ks: self, guards, on_demand: false, released: Vec::new(), touch: true, writing: true }
    }

    /// An empty lock set that locks shards on demand: only valid while every gate is held
    /// exclusively (see the module docs), or for a single shard at a time.
    pub fn lock_on_demand(&self) -> Locked<'_> {
        Locked { ks: self, guards: SmallVec::new(), on_demand: true, released: Vec::new(), touch: true, writing: true }
    }

    /// Starts a snapshot of every shard into `sink` (see [`crate::snapshot`]). The caller holds
    /// every gate ([`Keyspace::exclusive`]), so the image is of one instant.
    pub fn begin_snapshot(&self, sink: std::sync::Arc<dyn crate::snapshot::SnapshotSink>) {
        for (d, db) in self.dbs.iter().enumerate() {
            for s in db.shards.iter() {
                s.lock().begin_snapshot(d, sink.clone());
            }
        }
    }

    /// Abandons a snapshot in progress on every shard.
    pub fn abort_snapshot(&self) {
        for db in self.dbs.iter() {
            for s in db.shards.iter() {
                s.lock().abort_snapshot();
            }
        }
    }

    /// Drops a table's entries, off the caller's thread when it is large (lazy free).
    pub fn free_later(table: crate::table::Table) {
        if table.len() > 1024 {
            crate::lazyfree::free(table);
        }
    }
}

/// Every gate held in write mode.
pub struct Exclusive<'a> {
    _gates: Vec<RwLockWriteGuard<'a, ()>>,
}

/// The shards a command holds.
pub struct Locked<'a> {
    ks: &'a Keyspace,
    guards: SmallVec<[(u32, u16, MutexGuard<'a, Shard>); 4]>,
    on_demand: bool,
    /// Events of shards already released (so a whole-keyspace visit loses none).
    released: Vec<(usize, crate::shard::ShardEvents)>,
    /// Whether [`Locked::get`] records accesses for the eviction policy.
    touch: bool,
    /// Whether the command may write (lookups then preserve entries for a snapshot).
    writing: bool,
}

impl<'a> Locked<'a> {
    /// The keyspace these locks belong to.
    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    /// The locked shard `shard` of database `db`. A shard outside the set is locked on demand
    /// (a missing key position in a command's spec would land here; it is safe only under
    /// the rules in the module docs, so specs must name every key).
    pub fn shard(&mut self, db: usize, shard: usize) -> &mut Shard {
        let (db32, sh16) = (db as u32, shard as u16);
        let idx = match self.guards.iter().position(|(d, s, _)| *d == db32 && *s == sh16) {
            Some(i) => i,
            None => {
                debug_assert!(
                    self.on_demand || self.guards.is_empty(),
                    "shard {db}/{shard} not locked by the command's key spec"
                );
                self.guards.push((db32, sh16, self.ks.dbs[db].shards[shard].lock()));
                self.guards.len() - 1
            }
        };
        let s = &mut self.guards[idx].2;
        s.writing = self.writing;
        s
    }

    /// The shard holding `k` in database `db`.
    #[inline]
    pub fn shard_for(&mut self, db: usize, k: &KeyRef<'_>) -> &mut Shard {
        self.shard(db, k.shard)
    }

    /// Whether lookups through [`Locked::get`] count as accesses (off for a client in
    /// CLIENT NO-TOUCH mode).
    pub fn set_touch(&mut self, touch: bool) {
        self.touch = touch;
    }

    /// Whether the command running under these locks may write: a snapshot in progress then
    /// keeps the old value of every unsaved entry the command looks up.
    pub fn set_writing(&mut self, writing: bool) {
        self.writing = writing;
    }

    /// The live entry for `key` in `db` (lazy expiry at `now`), recorded as an access for the
    /// eviction policy (hit or miss) unless touching is off.
    #[inline]
    pub fn get(&mut self, db: usize, k: &KeyRef<'_>, now: u64) -> Option<&mut Entry> {
        let touch = self.touch;
        let e = self.shard(db, k.shard).get(k, now);
        if touch {
            match e {
                Some(e) => {
                    crate::evict::access::touch(e, k.hash);
                    return Some(e);
                }
                None => crate::evict::access::miss(k.hash),
            }
            return None;
        }
        e
    }

    /// [`Locked::get`] without recording an access (TYPE, EXISTS, TTL, OBJECT: commands that
    /// look at a key without using its value).
    #[inline]
    pub fn get_untouched(&mut self, db: usize, k: &KeyRef<'_>, now: u64) -> Option<&mut Entry> {
        self.shard(db, k.shard).get(k, now)
    }

    /// The live entry for `k` in `db` through a shared borrow, so that several entries can be
    /// read at once (SINTER, SUNION...). The shard must be in the set (`None` otherwise); a key
    /// whose TTL passed is reported absent but not removed: call [`Locked::get`] first for that.
    pub fn peek(&self, db: usize, k: &KeyRef<'_>, now: u64) -> Option<&Entry> {
        let (db32, sh16) = (db as u32, k.shard as u16);
        let found = self.guards.iter().find(|(d, s, _)| *d == db32 && *s == sh16);
        debug_assert!(found.is_some(), "shard {db}/{} not locked by the command's key spec", k.shard);
        found?.2.peek(k, now)
    }

    /// Releases every shard, e.g. before a whole-keyspace visit.
    pub fn release(&mut self) {
        for (db, _, g) in self.guards.iter_mut() {
            let ev = std::mem::take(&mut g.events);
            if !ev.is_empty() {
                self.released.push((*db as usize, ev));
            }
        }
        self.guards.clear();
    }

    /// Writes recorded so far by the held and released shards (the sum of their dirty
    /// counters): compare before and after a command to know whether it changed anything.
    pub fn dirty(&self) -> u64 {
        self.released.iter().map(|(_, e)| e.dirty).sum::<u64>()
            + self.guards.iter().map(|(_, _, g)| g.events.dirty).sum::<u64>()
    }

    /// Takes the keys that expired so far (recorded while notifications or the append-only
    /// file want them), with their databases.
    pub fn take_expired_keys(&mut self) -> Vec<(usize, Box<[u8]>)> {
        let mut out = Vec::new();
        for (db, ev) in self.released.iter_mut() {
            out.extend(std::mem::take(&mut ev.expired_keys).into_iter().map(|k| (*db, k)));
        }
        for (db, _, g) in self.guards.iter_mut() {
            out.extend(std::mem::take(&mut g.events.expired_keys).into_iter().map(|k| (*db as usize, k)));
        }
        out
    }

    /// Visits the locked shards' accumulated events and resets them.
    pub fn drain_events(&mut self, mut f: impl FnMut(usize, &mut crate::shard::ShardEvents)) {
        for (db, mut ev) in std::mem::take(&mut self.released) {
            f(db, &mut ev);
        }
        for (db, _, g) in self.guards.iter_mut() {
            f(*db as usize, &mut g.events);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Value, ValueRef};

    #[test]
    fn hash_tags_share_a_shard() {
        assert_eq!(shard_of(b"{user1}.a"), shard_of(b"{user1}.b"));
    }

    #[test]
    fn set_get_expire_across_shards() {
        let ks = Keyspace::new(16, 1);
        let a = KeyRef::new(b"a");
        let b = KeyRef::new(b"b");
        let mut l = ks.lock_set(smallvec::smallvec![(0, a.shard as u16), (0, b.shard as u16)]);
        l.shard_for(0, &a).set(&a, Value::Bytes(b"1"), None);
        l.shard_for(0, &b).set(&b, Value::Int(2), Some(100));
        assert!(matches!(l.get(0, &a, 1000).map(|e| e.value()), Some(ValueRef::Bytes(b"1"))));
        assert!(l.get(0, &b, 50).is_some());
        assert!(l.get(0, &b, 100).is_none(), "expired at its deadline");
        drop(l);
        assert_eq!(ks.dbsize(0), 1);
        assert_eq!(ks.dbsize(1), 0);
    }

    #[test]
    fn exclusive_waits_for_readers() {
        use std::sync::Arc;
        let ks = Arc::new(Keyspace::new(1, 2));
        let g = ks.gate(0);
        let ks2 = ks.clone();
        let t = std::thread::spawn(move || {
            let _x = ks2.exclusive();
            let k = KeyRef::new(b"x");
            ks2.lock_on_demand().shard_for(0, &k).set(&k, Value::Int(1), None);
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(ks.dbsize(0), 0, "exclusive section must wait for the read gate");
        drop(g);
        t.join().expect("thread");
        assert_eq!(ks.dbsize(0), 1);
    }
}
