//! The global allocator: jemalloc, with every allocation's real size (its jemalloc size class)
//! counted, so `used_memory` reports what is allocated rather than what was asked for.

use std::alloc::{GlobalAlloc, Layout};

use tikv_jemallocator::Jemalloc;

/// jemalloc plus byte counting into [`larder_engine::memory`].
pub struct CountingJemalloc;

#[inline]
fn usable(layout: &Layout) -> i64 {
    if layout.align() <= 16 && layout.size() <= MAX_COMPUTED_CLASS {
        // The common case, computed inline: asking jemalloc (nallocx) costs about a hundred
        // instructions per allocation and per free.
        return larder_engine::util::size_class(layout.size()) as i64;
    }
    let flags = if layout.align() > 16 { layout.align().trailing_zeros() as i32 } else { 0 };
    // SAFETY: nallocx only computes a size class; size > 0 for every GlobalAlloc request.
    let n = unsafe { tikv_jemalloc_sys::nallocx(layout.size().max(1), flags) };
    n as i64
}

/// Sizes up to which [`larder_engine::util::size_class`] matches jemalloc's size classes (the
/// test below checks them against nallocx).
const MAX_COMPUTED_CLASS: usize = 1 << 30;

// SAFETY: every method forwards to jemalloc's GlobalAlloc implementation unchanged; the added
// counting touches only a thread-local integer and never allocates.
unsafe impl GlobalAlloc for CountingJemalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc(layout);
        if !p.is_null() {
            larder_engine::memory::record(usable(&layout));
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc_zeroed(layout);
        if !p.is_null() {
            larder_engine::memory::record(usable(&layout));
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        larder_engine::memory::record(-usable(&layout));
        Jemalloc.dealloc(ptr, layout)
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = Jemalloc.realloc(ptr, layout, new_size);
        if !p.is_null() {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            larder_engine::memory::record(usable(&new_layout) - usable(&layout));
        }
        p
    }
}

/// The bytes jemalloc really allocates for a request of `size` bytes (its size class).
pub fn usable_size(size: usize) -> usize {
    // SAFETY: nallocx only computes a size class.
    unsafe { tikv_jemalloc_sys::nallocx(size.max(1), 0) }
}

/// jemalloc's own statistics: (allocated, active, resident, mapped, retained) bytes.
pub fn allocator_stats() -> (u64, u64, u64, u64, u64) {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    (
        stats::allocated::read().unwrap_or(0) as u64,
        stats::active::read().unwrap_or(0) as u64,
        stats::resident::read().unwrap_or(0) as u64,
        stats::mapped::read().unwrap_or(0) as u64,
        stats::retained::read().unwrap_or(0) as u64,
    )
}

/// Returns unused dirty pages of every arena to the operating system (MEMORY PURGE); the
/// error is jemalloc's errno when it refused.
pub fn purge() -> Result<(), i32> {
    // "arena.<MALLCTL_ARENAS_ALL>.purge" (4096 is MALLCTL_ARENAS_ALL) reads and writes
    // nothing: jemalloc refuses it with EPERM unless all four pointer arguments are null.
    let name = b"arena.4096.purge\0";
    // SAFETY: the name is NUL-terminated and outlives the call; null old/new pointers with a
    // zero length tell jemalloc there is nothing to read or write.
    let rc = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(rc)
    }
}

#[cfg(test)]
mod tests {
    /// jemalloc accepts the purge request (it refuses a malformed one with an errno).
    #[test]
    fn purge_is_accepted() {
        assert_eq!(super::purge(), Ok(()));
    }

    /// The inline size classes agree with jemalloc's own answer for every size up to 64 KiB
    /// and for a spread of sizes up to the computed limit.
    #[test]
    fn computed_size_classes_match_nallocx() {
        let check = |n: usize| {
            // SAFETY: nallocx only computes a size class.
            let want = unsafe { tikv_jemalloc_sys::nallocx(n.max(1), 0) };
            assert_eq!(larder_engine::util::size_class(n), want, "size {n}");
        };
        (0..=65536).for_each(check);
        let mut n = 65536usize;
        while n <= super::MAX_COMPUTED_CLASS {
            for d in [n - 1, n, n + 1, n + n / 3, n + n / 2 + 7] {
                check(d.min(super::MAX_COMPUTED_CLASS));
            }
            n *= 2;
        }
    }
}
