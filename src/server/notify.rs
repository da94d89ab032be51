//! Keyspace notifications: events published on `__keyspace@<db>__:<key>` (payload: the event)
//! and `__keyevent@<db>__:<event>` (payload: the key), for the classes in
//! `notify-keyspace-events`.

use larder_engine::notify::{self, KEYEVENT, KEYSPACE};
use larder_engine::shard::ShardEvents;

use super::pubsub::{self, Kind};
use super::Server;

/// Publishes event `event` of class `class` for `key` in database `db`, if that class is on.
/// `worker` is the calling worker (None from background threads).
pub fn notify(srv: &Server, class: u32, event: &str, key: &[u8], db: usize, worker: Option<usize>) {
    let flags = notify::flags();
    if flags & class == 0 {
        return;
    }
    if flags & KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        pubsub::publish(srv, Kind::Channel, &channel, event.as_bytes(), worker);
    }
    if flags & KEYEVENT != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        pubsub::publish(srv, Kind::Channel, channel.as_bytes(), key, worker);
    }
}

/// Publishes the events a shard recorded by itself (expired and new keys).
pub fn shard_events(srv: &Server, db: usize, ev: &mut ShardEvents, worker: Option<usize>) {
    for key in std::mem::take(&mut ev.new_keys) {
        notify(srv, notify::NEW, "new", &key, db, worker);
    }
    for key in std::mem::take(&mut ev.expired_keys) {
        notify(srv, notify::EXPIRED, "expired", &key, db, worker);
    }
}
