//! Heap values: what an entry points to when its value does not live inline.

use crate::types::{hash::Hash, list::List, set::Set, zset::ZSet};

/// A value stored outside the entry block.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// A string that has been modified in place (APPEND, SETRANGE, SETBIT): kept in a growable
    /// buffer so repeated appends are amortized O(1). Redis calls this the `raw` encoding.
    Str(Vec<u8>),
    /// A hash.
    Hash(Hash),
    /// A list.
    List(List),
    /// A set.
    Set(Set),
    /// A sorted set.
    ZSet(ZSet),
}

impl Object {
    /// The Redis type name (`TYPE` reply).
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::Str(_) => "string",
            Object::Hash(_) => "hash",
            Object::List(_) => "list",
            Object::Set(_) => "set",
            Object::ZSet(_) => "zset",
        }
    }

    /// OBJECT ENCODING name of a collection (strings are named by the string layer).
    pub fn encoding(&self) -> &'static str {
        match self {
            Object::Str(_) => "raw",
            Object::Hash(h) => h.encoding(),
            Object::List(l) => l.encoding(),
            Object::Set(s) => s.encoding(),
            Object::ZSet(z) => z.encoding(),
        }
    }

    /// Bytes of heap memory this object holds beyond its own box.
    pub fn heap_size(&self) -> usize {
        match self {
            Object::Str(v) => v.capacity(),
            Object::Hash(h) => h.heap_size(),
            Object::List(l) => l.heap_size(),
            Object::Set(s) => s.heap_size(),
            Object::ZSet(z) => z.heap_size(),
        }
    }

    /// How many allocations freeing this object costs, roughly (compact encodings are one
    /// block; Redis's lazyfreeGetFreeEffort).
    pub fn free_effort(&self) -> usize {
        let (compact, len) = match self {
            Object::Str(_) => return 1,
            Object::Hash(h) => (h.encoding() == "listpack", h.len()),
            Object::List(l) => (l.encoding() == "listpack", l.len()),
            Object::Set(s) => (matches!(s.encoding(), "listpack" | "intset"), s.len()),
            Object::ZSet(z) => (z.encoding() == "listpack", z.len()),
        };
        if compact {
            1
        } else {
            len
        }
    }

    /// True for a collection with no elements (Redis deletes such keys).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Object::Str(_) => false,
            Object::Hash(h) => h.is_empty(),
            Object::List(l) => l.is_empty(),
            Object::Set(s) => s.is_empty(),
            Object::ZSet(z) => z.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn objects_stay_small() {
        // Every collection value pays for one boxed Object: large representations must stay
        // behind their own Box inside each type.
        assert!(
            std::mem::size_of::<super::Object>() <= 32,
            "Object grew to {} bytes",
            std::mem::size_of::<super::Object>()
        );
    }
}
