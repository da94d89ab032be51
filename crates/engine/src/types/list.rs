//! The list type. (Its encodings and operations are being written; this scaffolding only
//! gives the type a place in [`crate::Object`].)

/// A list value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {}

impl List {
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
