//! One shard of one database: its table, lazy expiry and the write hook.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use crate::entry::{Entry, Value, ValueRef};
use crate::object::Object;
use crate::snapshot::{ShardSnapshot, SnapshotSink};
use crate::table::Table;
use crate::KeyRef;

/// What happened to keys in a shard since the server last looked (drained after each command).
#[derive(Debug, Default)]
pub struct ShardEvents {
    /// Keys removed because their TTL had passed (lazily or actively).
    pub expired: u64,
    /// Writes performed (Redis's `dirty` counter).
    pub dirty: u64,
    /// Keys that expired, kept only while `expired` keyspace events are on.
    pub expired_keys: Vec<Box<[u8]>>,
    /// Keys created, kept only while `new` keyspace events are on.
    pub new_keys: Vec<Box<[u8]>>,
    /// Keys modified (including expired), kept only while some client tracks keys.
    pub modified_keys: Vec<Box<[u8]>>,
    /// Keys removed by eviction.
    pub evicted: u64,
    /// Keys evicted, kept only while `evicted` keyspace events are on.
    pub evicted_keys: Vec<Box<[u8]>>,
}

impl ShardEvents {
    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.dirty == 0
            && self.expired == 0
            && self.evicted == 0
            && self.modified_keys.is_empty()
            && self.expired_keys.is_empty()
            && self.new_keys.is_empty()
            && self.evicted_keys.is_empty()
    }

    /// Bytes allocated for the recorded key names (the names and the lists' buffers).
    pub fn heap_bytes(&self) -> usize {
        let alloc = |n: usize| if n == 0 { 0 } else { crate::util::size_class(n) };
        let lists = [&self.expired_keys, &self.new_keys, &self.modified_keys, &self.evicted_keys];
        lists
            .iter()
            .map(|l| l.iter().map(|k| alloc(k.len())).sum::<usize>() + alloc(l.capacity() * size_of::<Box<[u8]>>()))
            .sum()
    }
}

/// A slice of a database's keyspace: the keys whose hash slot maps to it.
#[derive(Default)]
pub struct Shard {
    table: Table,
    /// Where the active expiry sweep continues.
    pub(crate) sweep_pos: usize,
    /// Counters the server folds into its statistics.
    pub events: ShardEvents,
    /// Hashes with field TTLs, by their next field expiry (entries may be stale: a popped
    /// entry is checked against the hash before anything is removed).
    field_ttls: BTreeSet<(u64, Box<[u8]>)>,
    /// WATCHed keys and the transactions watching them.
    watchers: HashMap<Box<[u8]>, Vec<Watch>>,
    /// The snapshot in progress, if any (see [`crate::snapshot`]).
    snap: ShardSnapshot,
    /// Whether the command holding this shard may write: lookups then preserve unsaved
    /// entries for a snapshot in progress (set by [`crate::Locked`]).
    pub(crate) writing: bool,
}

/// One client's WATCH on one key.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Set when the key is modified: the watching transaction must fail.
    pub dirty: Arc<AtomicBool>,
    /// The key had already expired when it was watched: its deletion as an expired key is not
    /// a modification (Redis 7 semantics).
    pub stale: bool,
}

impl Shard {
    /// The write hook: every modification of `key` goes through here (WATCH today; keyspace
    /// notifications and client tracking hang off the same point).
    #[inline]
    fn modified(&mut self, key: &[u8]) {
        self.events.dirty += 1;
        if crate::notify::tracking() {
            self.events.modified_keys.push(key.into());
        }
        if !self.watchers.is_empty() {
            if let Some(ws) = self.watchers.get(key) {
                for w in ws {
                    w.dirty.store(true, Relaxed);
                }
            }
        }
    }

    /// A key removed because its TTL passed: a modification, except for watchers that saw it
    /// already expired.
    fn expired(&mut self, key: &[u8]) {
        self.events.expired += 1;
        self.events.dirty += 1;
        if crate::notify::enabled(crate::notify::EXPIRED) || crate::notify::logging() {
            self.events.expired_keys.push(key.into());
        }
        if crate::notify::tracking() {
            self.events.modified_keys.push(key.into());
        }
        if !self.watchers.is_empty() {
            if let Some(ws) = self.watchers.get(key) {
                for w in ws.iter().filter(|w| !w.stale) {
                    w.dirty.store(true, Relaxed);
                }
            }
        }
    }

    /// Removes `k` for eviction, returning its entry: watchers and tracking clients see a
    /// modification, the `evicted` event is recorded, and (as in Redis) the dirty counter does
    /// not move.
    pub fn evict(&mut self, k: &KeyRef<'_>) -> Option<Entry> {
        self.preserve_key(k);
        let e = self.table.remove(k.hash, k.key)?;
        self.events.evicted += 1;
        if crate::notify::enabled(crate::notify::EVICTED) || crate::notify::logging() {
            self.events.evicted_keys.push(k.key.into());
        }
        if crate::notify::tracking() {
            self.events.modified_keys.push(k.key.into());
        }
        if let Some(ws) = self.watchers.get(k.key) {
            for w in ws {
                w.dirty.store(true, Relaxed);
            }
        }
        Some(e)
    }

    /// Adds a WATCH on `k` by the transaction whose flag is `dirty`.
    pub fn watch(&mut self, k: &KeyRef<'_>, dirty: &Arc<AtomicBool>, now: u64) {
        let stale = self.table.get(k.hash, k.key).is_some_and(|e| e.expire_ms().is_some_and(|t| t <= now));
        let list = self.watchers.entry(k.key.into()).or_default();
        if !list.iter().any(|w| Arc::ptr_eq(&w.dirty, dirty)) {
            list.push(Watch { dirty: dirty.clone(), stale });
        }
    }

    /// Removes the WATCH on `key` by the transaction whose flag is `dirty`.
    pub fn unwatch(&mut self, key: &[u8], dirty: &Arc<AtomicBool>) {
        if let Some(list) = self.watchers.get_mut(key) {
            list.retain(|w| !Arc::ptr_eq(&w.dirty, dirty));
            if list.is_empty() {
                self.watchers.remove(key);
            }
        }
    }

    /// Number of watched keys (INFO total_watched_keys).
    pub fn watched_keys(&self) -> usize {
        self.watchers.len()
    }

    /// Marks the watchers of keys that exist (in this shard, or in `other` for SWAPDB) dirty.
    fn touch_existing_watched(&mut self, other: Option<&Shard>) {
        for (key, ws) in &self.watchers {
            let k = KeyRef::new(key);
            let exists =
                self.table.get(k.hash, key).is_some() || other.is_some_and(|o| o.table.get(k.hash, key).is_some());
            if exists {
                for w in ws {
                    w.dirty.store(true, Relaxed);
                }
            }
        }
    }

    /// The table, for whole-shard visits (SCAN, KEYS, RANDOMKEY).
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Number of keys, including ones whose TTL passed but were not yet removed.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when the shard holds no key.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Number of keys with an expiry.
    pub fn volatile_len(&self) -> usize {
        self.table.volatile_len()
    }

    /// The live entry for `k`: a key whose TTL has passed at `now` is removed first (lazy
    /// expiry) and reported absent.
    #[inline]
    pub fn get(&mut self, k: &KeyRef<'_>, now: u64) -> Option<&mut Entry> {
        let pos = self.table.position(k.hash, k.key)?;
        let expired = self.table.at(pos).is_some_and(|e| e.expire_ms().is_some_and(|t| t <= now));
        if self.snap.active() {
            if let Some(e) = self.table.at_mut(pos) {
                if expired {
                    // Loading a snapshot drops expired keys anyway: nothing to save.
                    if self.snap.unsaved(e) {
                        self.snap.mark_saved(e);
                    }
                } else if self.writing {
                    self.snap.preserve(e);
                }
            }
        }
        if expired {
            if let Some(e) = self.table.remove_pos(pos) {
                crate::lazyfree::release(e, crate::lazyfree::Reason::Expire);
            }
            self.expired(k.key);
            return None;
        }
        self.table.at_mut(pos)
    }

    /// Like [`Shard::get`] without removing an expired key (for read paths that must not
    /// write, such as a replica's view); an expired key is reported absent.
    pub fn peek(&self, k: &KeyRef<'_>, now: u64) -> Option<&Entry> {
        self.table.get(k.hash, k.key).filter(|e| e.expire_ms().is_none_or(|t| t > now))
    }

    /// Stores `value` under `k` with the given expiry, replacing any previous value.
    pub fn set(&mut self, k: &KeyRef<'_>, value: Value<'_>, expire_ms: Option<u64>) {
        let mut entry = Entry::new(k.key, value, expire_ms);
        crate::evict::access::stamp_new(&mut entry, k.hash);
        entry.set_snap_mark(self.snap.parity);
        self.preserve_key(k);
        let old = self.table.insert(k.hash, entry);
        let created = old.is_none();
        if let Some(old) = old {
            crate::lazyfree::release(old, crate::lazyfree::Reason::ServerDel);
        }
        if created && crate::notify::enabled(crate::notify::NEW) {
            self.events.new_keys.push(k.key.into());
        }
        self.modified(k.key);
    }

    /// Stores a ready entry (its key must be `k.key`), replacing any previous one.
    pub fn put_entry(&mut self, k: &KeyRef<'_>, mut entry: Entry) -> Option<Entry> {
        entry.set_snap_mark(self.snap.parity);
        self.preserve_key(k);
        self.modified(k.key);
        if let ValueRef::Obj(Object::Hash(h)) = entry.value() {
            if let Some(next) = h.next_expiry() {
                self.track_field_ttl(k, next);
            }
        }
        self.table.insert(k.hash, entry)
    }

    /// Registers the hash at `k` for active field expiry at `next` (its earliest field TTL).
    pub fn track_field_ttl(&mut self, k: &KeyRef<'_>, next: u64) {
        self.field_ttls.insert((next, k.key.into()));
    }

    /// True when some hash in this shard has field TTLs registered.
    pub fn has_field_ttls(&self) -> bool {
        !self.field_ttls.is_empty()
    }

    /// One bounded step of active field expiry: removes up to `budget` fields whose TTL passed
    /// at `now`, from the hashes due first; a hash left empty is deleted. Returns the number
    /// of fields removed.
    pub fn expire_fields_step(&mut self, now: u64, budget: usize) -> usize {
        let mut removed = 0;
        while removed < budget {
            let Some((due, key)) = self.field_ttls.pop_first() else { break };
            if due > now {
                self.field_ttls.insert((due, key));
                break;
            }
            let k = KeyRef::new(&key);
            self.preserve_key(&k);
            let (n, empty, next) = match self.get(&k, now).and_then(|e| e.object_mut()) {
                Some(Object::Hash(h)) => {
                    let n = h.expire_fields_max(now, budget - removed, |_| {});
                    (n, h.is_empty(), h.next_expiry())
                }
                _ => continue,
            };
            removed += n;
            if n > 0 {
                self.modified(&key);
            }
            if empty {
                self.table.remove(k.hash, k.key);
            } else if let Some(next) = next {
                self.field_ttls.insert((next, key));
            }
        }
        removed
    }

    /// Removes `k`, returning its entry (even if its TTL had passed).
    pub fn remove(&mut self, k: &KeyRef<'_>) -> Option<Entry> {
        self.preserve_key(k);
        let e = self.table.remove(k.hash, k.key);
        if e.is_some() {
            self.modified(k.key);
        }
        e
    }

    /// Sets or clears `k`'s expiry; false when the key is absent.
    pub fn set_expire(&mut self, k: &KeyRef<'_>, expire_ms: Option<u64>) -> bool {
        self.preserve_key(k);
        let Some(e) = self.table.get_mut(k.hash, k.key) else { return false };
        e.set_expire(expire_ms);
        self.table.sync_volatile(k.hash, k.key);
        self.modified(k.key);
        true
    }

    /// The write epilogue for a change made in place through a `get` borrow.
    #[inline]
    pub fn touch_write(&mut self, k: &KeyRef<'_>) {
        self.modified(k.key);
    }

    /// Empties the shard, returning the old table for the caller to drop.
    pub fn clear(&mut self) -> Table {
        if self.snap.active() {
            self.preserve_all();
        }
        self.sweep_pos = 0;
        self.field_ttls.clear();
        self.events.dirty += self.table.len() as u64;
        if !self.watchers.is_empty() {
            self.touch_existing_watched(None);
        }
        self.table.take()
    }

    /// Swaps contents with another shard (SWAPDB).
    pub fn swap_contents(&mut self, other: &mut Shard) {
        // Watches stay with their database: keys existing on either side change under them.
        self.touch_existing_watched(Some(other));
        other.touch_existing_watched(Some(self));
        std::mem::swap(&mut self.table, &mut other.table);
        std::mem::swap(&mut self.sweep_pos, &mut other.sweep_pos);
        std::mem::swap(&mut self.field_ttls, &mut other.field_ttls);
        // A snapshot in progress saves each table's unsaved entries under the database they
        // were in when it began: that bookkeeping moves with the table (parities are equal).
        std::mem::swap(&mut self.snap, &mut other.snap);
    }

    /// One bounded step of active expiry: visits up to `budget` slots, removing keys whose TTL
    /// passed at `now`. Returns (volatile slots examined, keys removed).
    pub fn expire_step(&mut self, now: u64, budget: usize) -> (usize, usize) {
        let mut pos = self.sweep_pos;
        let mut freed = Vec::new();
        let r =
            self.table.sweep_volatile(&mut pos, budget, |e| e.expire_ms().is_some_and(|t| t <= now), |e| freed.push(e));
        self.sweep_pos = pos;
        for mut e in freed {
            if self.snap.unsaved(&e) {
                self.snap.mark_saved(&mut e);
            }
            self.expired(e.key());
            crate::lazyfree::release(e, crate::lazyfree::Reason::Expire);
        }
        r
    }

    /// Hands `k`'s entry to the snapshot in progress if it is still unsaved (before a write).
    #[inline]
    pub fn preserve_key(&mut self, k: &KeyRef<'_>) {
        if self.snap.active() {
            if let Some(e) = self.table.get_mut(k.hash, k.key) {
                self.snap.preserve(e);
            }
        }
    }

    /// Hands every unsaved entry to the snapshot in progress (before the whole shard changes).
    fn preserve_all(&mut self) {
        for pos in 0..self.table.slot_count() {
            if !self.snap.active() {
                break;
            }
            if let Some(e) = self.table.at_mut(pos) {
                self.snap.preserve(e);
            }
        }
        self.snap.sink = None;
        self.snap.unsaved = 0;
    }

    /// Starts a snapshot of this shard (database `db`): every entry present now is unsaved.
    /// Called while no command runs (every gate held).
    pub fn begin_snapshot(&mut self, db: usize, sink: Arc<dyn SnapshotSink>) {
        self.snap.parity = !self.snap.parity;
        self.snap.db = db;
        self.snap.pos = 0;
        self.snap.unsaved = self.table.len();
        self.snap.sink = (!self.table.is_empty()).then_some(sink);
    }

    /// True while the snapshot in progress still needs entries of this shard.
    pub fn snapshot_pending(&self) -> bool {
        self.snap.active()
    }

    /// The saver's share of a snapshot: hands up to `max` unsaved entries (with the database
    /// they belong to) to `f`, marking them saved. Returns true once the shard is done.
    pub fn snapshot_step(&mut self, max: usize, mut f: impl FnMut(usize, &Entry)) -> bool {
        let mut handed = 0;
        let mut scanned = 0;
        while handed < max && self.snap.active() {
            if self.snap.pos >= self.table.slot_count() {
                self.snap.pos = 0;
            }
            if scanned > self.table.slot_count() {
                // A whole pass found nothing unsaved: the count was stale.
                debug_assert!(false, "snapshot count drifted: {} unsaved", self.snap.unsaved);
                self.snap.sink = None;
                self.snap.unsaved = 0;
                break;
            }
            let pos = self.snap.pos;
            self.snap.pos += 1;
            scanned += 1;
            if let Some(e) = self.table.at_mut(pos) {
                if self.snap.unsaved(e) {
                    f(self.snap.db, e);
                    self.snap.mark_saved(e);
                    handed += 1;
                    scanned = 0;
                }
            }
        }
        !self.snap.active()
    }

    /// Abandons the snapshot in progress: every entry counts as saved again, so the next
    /// snapshot starts from a uniform state.
    pub fn abort_snapshot(&mut self) {
        if self.snap.active() {
            for pos in 0..self.table.slot_count() {
                if let Some(e) = self.table.at_mut(pos) {
                    e.set_snap_mark(self.snap.parity);
                }
            }
            self.snap.sink = None;
            self.snap.unsaved = 0;
        }
    }

    /// Samples up to `n` random entries' TTLs (ms from `now`) for the avg_ttl estimate.
    pub fn sample_ttls(&self, n: usize, now: u64, mut f: impl FnMut(u64)) {
        if self.table.volatile_len() == 0 {
            return;
        }
        self.table.sample(n, |e| {
            if let Some(t) = e.expire_ms() {
                f(t.saturating_sub(now));
            }
        });
    }
}
