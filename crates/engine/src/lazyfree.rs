//! Lazy freeing: large values and tables are dropped on one background thread, so deleting
//! millions of entries does not stall the command that did it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

type Garbage = Box<dyn Send>;

static QUEUE: OnceLock<Mutex<Sender<Garbage>>> = OnceLock::new();
static PENDING: AtomicU64 = AtomicU64::new(0);
/// The `lazyfree-lazy-*` settings, indexed by [`Reason`].
static LAZY: [AtomicBool; 4] = [const { AtomicBool::new(false) }; 4];

/// Values whose freeing costs more than this many allocations go to the background thread
/// (as Redis's LAZYFREE_THRESHOLD).
pub const THRESHOLD: usize = 64;

/// Why a value is being freed: each reason has its own `lazyfree-lazy-*` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// DEL (`lazyfree-lazy-user-del`).
    UserDel = 0,
    /// Overwritten or deleted by the server as a side effect (`lazyfree-lazy-server-del`).
    ServerDel = 1,
    /// Expired (`lazyfree-lazy-expire`).
    Expire = 2,
    /// Evicted (`lazyfree-lazy-eviction`).
    Eviction = 3,
}

/// Sets the `lazyfree-lazy-user-del`, `-server-del`, `-expire` and `-eviction` settings.
pub fn configure(user_del: bool, server_del: bool, expire: bool, eviction: bool) {
    for (i, v) in [user_del, server_del, expire, eviction].into_iter().enumerate() {
        LAZY[i].store(v, Relaxed);
    }
}

/// Frees a removed entry: on the background thread when its reason's setting is on and the
/// value is costly to free, in place otherwise.
#[inline]
pub fn release(e: crate::entry::Entry, reason: Reason) {
    if LAZY[reason as usize].load(Relaxed) {
        unlink(e);
    }
}

/// Frees a removed entry as UNLINK does: on the background thread when it is costly to free.
pub fn unlink(e: crate::entry::Entry) {
    if e.free_effort() > THRESHOLD {
        free(e);
    }
}
static FREED: AtomicU64 = AtomicU64::new(0);

fn queue() -> &'static Mutex<Sender<Garbage>> {
    QUEUE.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        // If the thread cannot start, the receiver is dropped with it and `free` drops in place.
        let _ = std::thread::Builder::new().name("larder-lazyfree".into()).spawn(move || {
            for item in rx {
                drop(item);
                PENDING.fetch_sub(1, Relaxed);
                FREED.fetch_add(1, Relaxed);
            }
        });
        Mutex::new(tx)
    })
}

/// Drops `value` on the lazy-free thread (or in place if that thread is unavailable).
pub fn free<T: Send + 'static>(value: T) {
    PENDING.fetch_add(1, Relaxed);
    let sent = match queue().lock() {
        Ok(tx) => tx.send(Box::new(value)).map_err(|e| e.0),
        Err(_) => Err(Box::new(value) as Garbage),
    };
    if let Err(item) = sent {
        drop(item);
        PENDING.fetch_sub(1, Relaxed);
    }
}

/// Objects queued and not yet freed (INFO lazyfree_pending_objects).
pub fn pending() -> u64 {
    PENDING.load(Relaxed)
}

/// Objects freed so far by the background thread (INFO lazyfreed_objects).
pub fn freed() -> u64 {
    FREED.load(Relaxed)
}

/// Resets the freed-objects counter (CONFIG RESETSTAT).
pub fn reset_stats() {
    FREED.store(0, Relaxed);
}

#[cfg(test)]
mod tests {
    #[test]
    fn frees_in_background() {
        let before = super::freed();
        super::free(vec![0u8; 1 << 20]);
        for _ in 0..200 {
            if super::freed() > before {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("nothing freed");
    }
}
