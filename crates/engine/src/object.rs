//! Heap values: what an entry points to when its value does not live inline.

/// A value stored outside the entry block.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A string that has been modified in place (APPEND, SETRANGE, SETBIT): kept in a growable
    /// buffer so repeated appends are amortized O(1). Redis calls this the `raw` encoding.
    Str(Vec<u8>),
}

impl Object {
    /// The Redis type name (`TYPE` reply).
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::Str(_) => "string",
        }
    }

    /// Bytes of heap memory this object holds beyond its own box.
    pub fn heap_size(&self) -> usize {
        match self {
            Object::Str(v) => v.capacity(),
        }
    }
}
