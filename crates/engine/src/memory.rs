//! Process-wide count of allocated bytes, fed by the binary's global allocator.
//!
//! Each thread batches its allocation deltas and folds them into one atomic past a threshold,
//! so counting costs no shared-cache-line write per allocation. Readers see a value accurate to
//! within `threads × FLUSH_BYTES`.

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, Ordering};

static USED: AtomicI64 = AtomicI64::new(0);
const FLUSH_BYTES: i64 = 32 * 1024;

thread_local! {
    static DELTA: Cell<i64> = const { Cell::new(0) };
}

/// Records `bytes` allocated (positive) or freed (negative) by this thread.
#[inline]
pub fn record(bytes: i64) {
    // try_with: allocation during thread teardown must not panic.
    let _ = DELTA.try_with(|d| {
        let v = d.get() + bytes;
        if v.abs() >= FLUSH_BYTES {
            USED.fetch_add(v, Ordering::Relaxed);
            d.set(0);
        } else {
            d.set(v);
        }
    });
}

/// Folds this thread's pending delta into the total (call before reading for exactness).
pub fn flush_thread() {
    let _ = DELTA.try_with(|d| {
        USED.fetch_add(d.replace(0), Ordering::Relaxed);
    });
}

/// Bytes currently allocated by the process, as counted by the global allocator.
pub fn used() -> u64 {
    USED.load(Ordering::Relaxed).max(0) as u64
}
