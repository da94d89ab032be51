//! Small self-contained helpers with Redis's exact semantics, shared by the keyspace and
//! the command layer: glob matching, strict number parsing and formatting, CRC16 and the
//! cluster hash slot, and bitmap arithmetic. Pure functions over byte slices: no keyspace
//! state, no I/O, and nothing here panics on bytes from the network.

pub mod bits;
pub mod crc16;
pub mod glob;
pub mod num;

/// The size class jemalloc serves a request of `n` bytes from (8, 16, 32, 48, ... 128, then
/// four classes per doubling: 160, 192, 224, 256, 320, ...), to compare memory layouts
/// without asking the allocator.
#[inline]
pub fn size_class(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let step = n.next_power_of_two() / 8;
    n.div_ceil(step) * step
}

#[cfg(test)]
mod tests {
    #[test]
    fn size_classes_follow_jemalloc() {
        let cases = [
            (1, 8),
            (9, 16),
            (17, 32),
            (100, 112),
            (128, 128),
            (129, 160),
            (200, 224),
            (257, 320),
            (1000, 1024),
            (1025, 1280),
            (1031, 1280),
            (3000, 3072),
            (5000, 5120),
        ];
        for (n, want) in cases {
            assert_eq!(super::size_class(n), want, "{n}");
        }
    }
}
