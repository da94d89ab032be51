//! The hash type. (Its encodings and operations are being written; this scaffolding only
//! gives the type a place in [`crate::Object`].)

/// A hash value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hash {}

impl Hash {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        true
    }

    /// OBJECT ENCODING name of the current representation.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Bytes of heap memory held.
    pub fn heap_size(&self) -> usize {
        0
    }
}
