//! Point-in-time snapshots without fork: copy-on-write at the level of entries.
//!
//! A snapshot starts while every gate is held exclusively (no command runs): each shard flips
//! its *parity* and remembers the sink. Every entry whose snapshot mark differs from its
//! shard's parity is then "unsaved": it holds the value it had when the snapshot began. Two
//! kinds of work save entries, each exactly once:
//! - the saver walks the shards ([`Shard::snapshot_step`]), serializing unsaved entries and
//!   marking them saved;
//! - a writer about to change or remove an unsaved entry first hands its current value to the
//!   [`SnapshotSink`] and marks it saved ([`Shard::preserve`]), so the snapshot keeps the old
//!   value while the write goes ahead at once.
//!
//! Entries created during the snapshot get the new parity (they are not part of it). A shard is
//! done when its count of unsaved entries reaches zero. Memory grows only by the entries
//! writers preserve ahead of the saver, never by a copy of the whole dataset.

use std::sync::Arc;

use crate::entry::Entry;

/// Receives the entries writers preserve for a snapshot in progress.
pub trait SnapshotSink: Send + Sync {
    /// Records `e`, a key of database `db`, with its value as it is now.
    fn save(&self, db: usize, e: &Entry);
}

/// A shard's part in a snapshot.
#[derive(Default)]
pub(crate) struct ShardSnapshot {
    /// Entries whose mark equals this are saved (or newer than the snapshot).
    pub parity: bool,
    /// The snapshot in progress, while this shard still has unsaved entries.
    pub sink: Option<Arc<dyn SnapshotSink>>,
    /// Entries still to save.
    pub unsaved: usize,
    /// Where the saver continues.
    pub pos: usize,
    /// The database the unsaved entries belong to (it travels with the table on SWAPDB).
    pub db: usize,
}

impl ShardSnapshot {
    /// True while a snapshot still needs entries of this shard.
    #[inline]
    pub fn active(&self) -> bool {
        self.sink.is_some()
    }

    /// True when `e` still holds its value for the snapshot in progress.
    #[inline]
    pub fn unsaved(&self, e: &Entry) -> bool {
        self.sink.is_some() && e.snap_mark() != self.parity
    }

    /// Saves `e` through the sink if it is unsaved, and marks it saved.
    #[inline]
    pub fn preserve(&mut self, e: &mut Entry) {
        if self.unsaved(e) {
            if let Some(sink) = &self.sink {
                sink.save(self.db, e);
            }
            self.mark_saved(e);
        }
    }

    /// Marks `e` saved without saving it (an expired key, or one the saver just wrote).
    #[inline]
    pub fn mark_saved(&mut self, e: &mut Entry) {
        e.set_snap_mark(self.parity);
        self.unsaved = self.unsaved.saturating_sub(1);
        if self.unsaved == 0 {
            self.sink = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::entry::{Value, ValueRef};
    use crate::keyspace::{KeyRef, Keyspace, SHARDS};

    /// (database, key, value) of each saved entry.
    type Saved = Vec<(usize, Vec<u8>, Vec<u8>)>;

    #[derive(Default)]
    struct Collect(Mutex<Saved>);

    fn text(e: &Entry) -> Vec<u8> {
        match e.value() {
            ValueRef::Bytes(b) => b.to_vec(),
            ValueRef::Int(i) => i.to_string().into_bytes(),
            ValueRef::Obj(_) => b"obj".to_vec(),
        }
    }

    impl SnapshotSink for Collect {
        fn save(&self, db: usize, e: &Entry) {
            self.0.lock().expect("lock").push((db, e.key().to_vec(), text(e)));
        }
    }

    fn put(ks: &Keyspace, db: usize, key: &str, val: &str) {
        let k = KeyRef::new(key.as_bytes());
        let mut l = ks.lock_set(smallvec::smallvec![(db as u32, k.shard as u16)]);
        l.shard_for(db, &k).set(&k, Value::Bytes(val.as_bytes()), None);
    }

    fn saver(ks: &Keyspace, out: &Collect) {
        for db in 0..ks.db_count() {
            for s in 0..SHARDS {
                while !ks.db(db).lock(s).snapshot_step(3, |d, e| out.save(d, e)) {}
            }
        }
    }

    #[test]
    fn snapshot_is_the_state_at_its_start_whatever_writers_do() {
        let ks = Keyspace::new(2, 1);
        let mut before = BTreeMap::new();
        for i in 0..500 {
            put(&ks, i % 2, &format!("k{i}"), &format!("v{i}"));
            before.insert((i % 2, format!("k{i}").into_bytes()), format!("v{i}").into_bytes());
        }
        let sink = Arc::new(Collect::default());
        {
            let _x = ks.exclusive();
            ks.begin_snapshot(sink.clone());
        }
        // Writers: overwrite, modify in place, delete, expire, create, swap databases.
        for i in (0..500).step_by(3) {
            put(&ks, i % 2, &format!("k{i}"), "new");
        }
        for i in (1..500).step_by(7) {
            let key = format!("k{i}");
            let k = KeyRef::new(key.as_bytes());
            let mut l = ks.lock_set(smallvec::smallvec![((i % 2) as u32, k.shard as u16)]);
            l.shard_for(i % 2, &k).remove(&k);
        }
        for i in (2..500).step_by(11) {
            let key = format!("k{i}");
            let k = KeyRef::new(key.as_bytes());
            let mut l = ks.lock_set(smallvec::smallvec![((i % 2) as u32, k.shard as u16)]);
            if let Some(e) = l.get(i % 2, &k, 0) {
                e.set_value(Value::Bytes(b"changed in place"));
            }
        }
        for i in 500..600 {
            put(&ks, 0, &format!("k{i}"), "created later");
        }
        {
            let _x = ks.exclusive();
            for s in 0..SHARDS {
                let (a, b) = (ks.db(0), ks.db(1));
                let mut sa = a.lock(s);
                let mut sb = b.lock(s);
                sa.swap_contents(&mut sb);
            }
        }
        let out = Collect::default();
        saver(&ks, &out);
        let mut got = BTreeMap::new();
        for (db, k, v) in sink.0.lock().expect("lock").iter().chain(out.0.lock().expect("lock").iter()) {
            assert!(got.insert((*db, k.clone()), v.clone()).is_none(), "{} saved twice", String::from_utf8_lossy(k));
        }
        assert_eq!(got, before);
        // The next snapshot sees the current state.
        let sink2 = Arc::new(Collect::default());
        {
            let _x = ks.exclusive();
            ks.begin_snapshot(sink2.clone());
        }
        let out2 = Collect::default();
        saver(&ks, &out2);
        let n = out2.0.lock().expect("lock").len();
        assert_eq!(n, ks.dbsize(0) + ks.dbsize(1));
        assert!(sink2.0.lock().expect("lock").is_empty());
    }

    #[test]
    fn an_aborted_snapshot_leaves_the_next_one_whole() {
        let ks = Keyspace::new(1, 1);
        for i in 0..200 {
            put(&ks, 0, &format!("k{i}"), "v");
        }
        let sink = Arc::new(Collect::default());
        ks.begin_snapshot(sink.clone());
        // Save part of it, then give up.
        for s in 0..SHARDS / 2 {
            ks.db(0).lock(s).snapshot_step(usize::MAX, |d, e| sink.save(d, e));
        }
        ks.abort_snapshot();
        let sink2 = Arc::new(Collect::default());
        ks.begin_snapshot(sink2.clone());
        let out = Collect::default();
        saver(&ks, &out);
        assert_eq!(out.0.lock().expect("lock").len(), 200);
    }
}
