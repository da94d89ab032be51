//! Process-wide count of allocated bytes, fed by the binary's global allocator.
//!
//! Each thread batches its allocation deltas and folds them into one atomic past a threshold,
//! so counting costs no shared-cache-line write per allocation. Readers see a value accurate to
//! within `threads × FLUSH_BYTES`.

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};

static USED: AtomicI64 = AtomicI64::new(0);
const FLUSH_BYTES: i64 = 32 * 1024;

struct Local {
    /// Not yet folded into USED.
    delta: Cell<i64>,
    /// Everything this thread allocated minus what it freed, since it started.
    net: Cell<i64>,
}

thread_local! {
    static LOCAL: Local = const { Local { delta: Cell::new(0), net: Cell::new(0) } };
}

/// Records `bytes` allocated (positive) or freed (negative) by this thread.
#[inline]
pub fn record(bytes: i64) {
    // try_with: allocation during thread teardown must not panic.
    let _ = LOCAL.try_with(|l| {
        l.net.set(l.net.get() + bytes);
        let v = l.delta.get() + bytes;
        if v.abs() >= FLUSH_BYTES {
            USED.fetch_add(v, Ordering::Relaxed);
            l.delta.set(0);
        } else {
            l.delta.set(v);
        }
    });
}

/// Folds this thread's pending delta into the total (call before reading for exactness).
pub fn flush_thread() {
    let _ = LOCAL.try_with(|l| {
        USED.fetch_add(l.delta.replace(0), Ordering::Relaxed);
    });
}

/// Bytes this thread allocated minus bytes it freed since it started: the difference of two
/// readings is what the code in between allocated (negative: freed) on this thread.
pub fn thread_net() -> i64 {
    LOCAL.try_with(|l| l.net.get()).unwrap_or(0)
}

/// Bytes currently allocated by the process, as counted by the global allocator.
pub fn used() -> u64 {
    USED.load(Ordering::Relaxed).max(0) as u64
}
