//! Keyspace-notification classes (`notify-keyspace-events`) and the process-wide set in force.
//!
//! The keyspace only needs to know whether to record the events it alone sees (keys expiring,
//! keys created); the server publishes them.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

/// K: publish on `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// E: publish on `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// g: generic commands (DEL, EXPIRE, RENAME, ...).
pub const GENERIC: u32 = 1 << 2;
/// $: string commands.
pub const STRING: u32 = 1 << 3;
/// l: list commands.
pub const LIST: u32 = 1 << 4;
/// s: set commands.
pub const SET: u32 = 1 << 5;
/// h: hash commands.
pub const HASH: u32 = 1 << 6;
/// z: sorted-set commands.
pub const ZSET: u32 = 1 << 7;
/// x: expired keys.
pub const EXPIRED: u32 = 1 << 8;
/// e: evicted keys.
pub const EVICTED: u32 = 1 << 9;
/// t: stream commands.
pub const STREAM: u32 = 1 << 10;
/// m: key misses.
pub const KEY_MISS: u32 = 1 << 11;
/// d: module key types.
pub const MODULE: u32 = 1 << 12;
/// n: new keys.
pub const NEW: u32 = 1 << 13;
/// A: alias for g$lshzxetd.
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

static FLAGS: AtomicU32 = AtomicU32::new(0);
static TRACKING: AtomicBool = AtomicBool::new(false);
static LOGGING: AtomicBool = AtomicBool::new(false);

/// Turns on the recording of expired and evicted keys for the append-only file (which logs a
/// DEL for each).
pub fn set_logging(on: bool) {
    LOGGING.store(on, Relaxed);
}

/// True while expired and evicted keys are recorded for the append-only file.
#[inline]
pub fn logging() -> bool {
    LOGGING.load(Relaxed)
}

/// Turns on the recording of modified keys for client-side caching invalidations (while at
/// least one client has CLIENT TRACKING on).
pub fn set_tracking(on: bool) {
    TRACKING.store(on, Relaxed);
}

/// True while modified keys are recorded for client tracking.
#[inline]
pub fn tracking() -> bool {
    TRACKING.load(Relaxed)
}

/// Parses a `notify-keyspace-events` value into class bits (unknown letters ignored: the
/// configuration layer validates them).
pub fn parse(classes: &str) -> u32 {
    classes.chars().fold(0, |f, c| {
        f | match c {
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            'A' => ALL,
            _ => 0,
        }
    })
}

/// Sets the classes in force.
pub fn set(flags: u32) {
    FLAGS.store(flags, Relaxed);
}

/// The classes in force.
#[inline]
pub fn flags() -> u32 {
    FLAGS.load(Relaxed)
}

/// True when events of `class` are published (on at least one of the two channel kinds).
#[inline]
pub fn enabled(class: u32) -> bool {
    let f = flags();
    f & class != 0 && f & (KEYSPACE | KEYEVENT) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_letters_and_the_all_alias() {
        assert_eq!(parse("KEA") & ALL, ALL);
        assert_eq!(parse("Kx"), KEYSPACE | EXPIRED);
        assert_eq!(parse(""), 0);
        assert_eq!(parse("Em"), KEYEVENT | KEY_MISS);
    }
}
