//! The collection types, each with its encodings private to it: a small collection is kept in
//! the packed encoding ([`packed`]) and converts itself to a larger representation past the
//! thresholds it is given ([`Limits`]); callers cannot get a conversion wrong.

pub mod hash;
pub mod list;
pub mod packed;
pub mod set;
pub mod zset;

/// Changes an exact-size buffer as a `Vec`, then gives any spare capacity back: how the compact
/// encodings (packed buffers, intsets) keep their allocation exactly as large as their data.
pub(crate) fn edit_exact<T, R>(buf: &mut Box<[T]>, f: impl FnOnce(&mut Vec<T>) -> R) -> R {
    let mut v = std::mem::take(buf).into_vec();
    let r = f(&mut v);
    *buf = v.into_boxed_slice();
    r
}

/// Encoding thresholds, from the `*-max-listpack-*` / `set-max-intset-entries` directives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// hash-max-listpack-entries
    pub hash_entries: usize,
    /// hash-max-listpack-value
    pub hash_value: usize,
    /// list-max-listpack-size (negative: a byte limit per node, -1 = 4 KiB ... -5 = 64 KiB)
    pub list_size: i64,
    /// set-max-intset-entries
    pub set_intset_entries: usize,
    /// set-max-listpack-entries
    pub set_entries: usize,
    /// set-max-listpack-value
    pub set_value: usize,
    /// zset-max-listpack-entries
    pub zset_entries: usize,
    /// zset-max-listpack-value
    pub zset_value: usize,
}

impl Default for Limits {
    /// Redis 7.2's defaults.
    fn default() -> Self {
        Limits {
            hash_entries: 512,
            hash_value: 64,
            list_size: -2,
            set_intset_entries: 512,
            set_entries: 128,
            set_value: 64,
            zset_entries: 128,
            zset_value: 64,
        }
    }
}
