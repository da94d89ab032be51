//! Choosing and removing a victim: sampled candidates kept in a small pool between
//! evictions, as Redis's eviction pool does.
//!
//! Each eviction samples `maxmemory-samples` keys from one random shard of every database that
//! holds keys, scores them (higher = evict sooner), merges them into the thread's pool of the
//! best [`POOL_SIZE`] candidates seen so far, and removes the best candidate that still
//! exists. Each thread keeps its own pool, so evicting workers never contend on it.

use std::cell::RefCell;

use super::{access, policy, samples, sketch, Policy};
use crate::entry::Entry;
use crate::keyspace::{KeyRef, Keyspace, SHARDS};
use crate::shard::{Shard, ShardEvents};

/// Candidates kept between evictions.
pub const POOL_SIZE: usize = 16;

/// Evictions between re-checks of which databases hold keys.
const DB_RECHECK: u32 = 1024;

struct Candidate {
    score: u64,
    db: usize,
    hash: u64,
    key: Box<[u8]>,
}

#[derive(Default)]
struct Pool {
    /// Sorted by ascending score: the best candidate is last.
    items: Vec<Candidate>,
    policy: Option<Policy>,
    /// Databases that held keys at the last check.
    populated: Vec<usize>,
    until_recheck: u32,
}

/// Written keys remembered for the next eviction (at most this many).
const NOTED_MAX: usize = 32;

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::default());
    static NOTED: RefCell<Vec<(usize, Box<[u8]>)>> = const { RefCell::new(Vec::new()) };
}

/// Remembers a key a command just wrote, under `allkeys-tinylfu`: the next eviction on this
/// thread scores it along with its samples. A key that was just added competes at once with
/// the keys it would displace, so a rarely requested newcomer is evicted in their place
/// (TinyLFU's admission filter) instead of lingering until some sample happens to find it.
pub fn note_write(db: usize, key: &[u8]) {
    if policy() != Policy::AllkeysTinyLfu {
        return;
    }
    NOTED.with(|n| {
        let mut n = n.borrow_mut();
        if n.len() < NOTED_MAX {
            n.push((db, key.into()));
        }
    });
}

/// What [`evict_one`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A key of this database was removed.
    Evicted {
        /// The key's database.
        db: usize,
        /// Bytes the removal gave back: what this thread freed, not counting the key names
        /// recorded for notifications and tracking (memory the keyspace never held), nor a
        /// value handed to the lazy-free thread.
        freed: i64,
    },
    /// Nothing the policy may evict exists.
    Nothing,
}

/// How a candidate ranks under `policy` (higher is evicted sooner).
fn score(policy: Policy, e: &Entry) -> u64 {
    match policy {
        Policy::AllkeysLfu | Policy::VolatileLfu => 255 - access::decayed_counter(e) as u64,
        Policy::VolatileTtl => u64::MAX - e.expire_ms().unwrap_or(u64::MAX),
        Policy::AllkeysTinyLfu => {
            let rarity = (u8::MAX - access::tiny_count(e)) as u64;
            (rarity << 32) | access::idle_seconds(e).min(u32::MAX as u64)
        }
        _ => access::idle_seconds(e),
    }
}

impl Pool {
    fn insert(&mut self, c: Candidate) {
        if self.items.len() == POOL_SIZE && self.items[0].score >= c.score {
            return;
        }
        if self.items.iter().any(|o| o.hash == c.hash && o.db == c.db && o.key == c.key) {
            return;
        }
        let at = self.items.partition_point(|o| o.score < c.score);
        self.items.insert(at, c);
        if self.items.len() > POOL_SIZE {
            self.items.remove(0);
        }
    }

    fn refresh_populated(&mut self, ks: &Keyspace) {
        if self.until_recheck == 0 || self.populated.is_empty() {
            self.populated = (0..ks.db_count()).filter(|&db| ks.dbsize(db) > 0).collect();
            self.until_recheck = DB_RECHECK;
            let keys: usize = self.populated.iter().map(|&db| ks.dbsize(db)).sum();
            if policy() == Policy::AllkeysTinyLfu {
                sketch::ensure_capacity(keys);
            }
        }
        self.until_recheck -= 1;
    }

    /// Samples one shard (trying further shards while the sampled ones hold no candidate) of
    /// every populated database into the pool.
    fn populate(&mut self, ks: &Keyspace, policy: Policy) {
        let n = samples();
        let volatile = policy.volatile_only();
        let start = fastrand::usize(..SHARDS);
        for step in 0..SHARDS {
            let shard = (start + step) % SHARDS;
            let mut found = false;
            for i in 0..self.populated.len() {
                let db = self.populated[i];
                let s = ks.db(db).lock(shard);
                if s.is_empty() || (volatile && s.volatile_len() == 0) {
                    continue;
                }
                let mut batch = Vec::with_capacity(n);
                s.table().sample_run(n, volatile, |hash, e| {
                    batch.push(Candidate { score: score(policy, e), db, hash, key: e.key().into() });
                });
                drop(s);
                found |= !batch.is_empty();
                for c in batch {
                    self.insert(c);
                }
            }
            if found {
                return;
            }
        }
    }
}

/// Removes one key as the active policy chooses, handing the shard's events to `on_events`
/// while the shard is still locked, and freeing the value (on the lazy-free thread when
/// `lazyfree-lazy-eviction` is on and the value is large).
///
/// The caller holds its gate and no shard lock (shards are locked one at a time here).
pub fn evict_one(ks: &Keyspace, mut on_events: impl FnMut(usize, &mut ShardEvents)) -> Outcome {
    let policy = policy();
    if policy == Policy::NoEviction {
        return Outcome::Nothing;
    }
    POOL.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.policy != Some(policy) {
            pool.items.clear();
            pool.policy = Some(policy);
        }
        pool.refresh_populated(ks);
        if matches!(policy, Policy::AllkeysRandom | Policy::VolatileRandom) {
            return evict_random(ks, &pool.populated, policy, &mut on_events);
        }
        for (db, key) in NOTED.with(|n| std::mem::take(&mut *n.borrow_mut())) {
            let k = KeyRef::new(&key);
            let s = ks.db(db).lock(k.shard);
            if let Some(e) = s.table().get(k.hash, &key) {
                let c = Candidate { score: score(policy, e), db, hash: k.hash, key: key.clone() };
                drop(s);
                pool.insert(c);
            }
        }
        // A few rounds: a stale pool (keys deleted since they were sampled) is refilled.
        for _ in 0..4 {
            pool.populate(ks, policy);
            while let Some(c) = pool.items.pop() {
                let k = KeyRef { key: &c.key, hash: c.hash, shard: crate::keyspace::shard_of(&c.key) };
                let mut s = ks.db(c.db).lock(k.shard);
                if let Some(freed) = remove(&mut s, &k, policy.volatile_only()) {
                    on_events(c.db, &mut s.events);
                    return Outcome::Evicted { db: c.db, freed };
                }
            }
            pool.until_recheck = 0;
            pool.refresh_populated(ks);
            if pool.populated.is_empty() {
                break;
            }
        }
        Outcome::Nothing
    })
}

/// Removes `k` if it exists (with a TTL when `volatile`), freeing it as configured, and tells
/// how many bytes that gave back (None when there was nothing to remove).
fn remove(s: &mut Shard, k: &KeyRef<'_>, volatile: bool) -> Option<i64> {
    let live = s.table().get(k.hash, k.key).is_some_and(|e| !volatile || e.expire_ms().is_some());
    if !live {
        return None;
    }
    let recorded = s.events.heap_bytes() as i64;
    let before = crate::memory::thread_net();
    if let Some(e) = s.evict(k) {
        crate::lazyfree::release(e, crate::lazyfree::Reason::Eviction);
    }
    Some(before - crate::memory::thread_net() + (s.events.heap_bytes() as i64 - recorded))
}

fn evict_random(
    ks: &Keyspace,
    populated: &[usize],
    policy: Policy,
    on_events: &mut impl FnMut(usize, &mut ShardEvents),
) -> Outcome {
    let volatile = policy.volatile_only();
    if populated.is_empty() {
        return Outcome::Nothing;
    }
    let first_db = fastrand::usize(..populated.len());
    let start = fastrand::usize(..SHARDS);
    for i in 0..populated.len() {
        let db = populated[(first_db + i) % populated.len()];
        for step in 0..SHARDS {
            let shard = (start + step) % SHARDS;
            let mut s = ks.db(db).lock(shard);
            let mut pick = None;
            s.table().sample_run(1, volatile, |hash, e| pick = Some((hash, e.key().to_vec())));
            if let Some((hash, key)) = pick {
                let k = KeyRef { key: &key, hash, shard };
                if let Some(freed) = remove(&mut s, &k, volatile) {
                    on_events(db, &mut s.events);
                    return Outcome::Evicted { db, freed };
                }
            }
        }
    }
    Outcome::Nothing
}
