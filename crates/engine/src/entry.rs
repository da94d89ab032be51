//! One key and its value in a single heap block.
//!
//! Per-key overhead is what a cache pays for, so an [`Entry`] is one thin pointer to one
//! allocation holding a small header, the optional expiry time, the key bytes and the value:
//!
//! ```text
//! [tag u8][flags u8][lfu u8][pad u8][lru u32] [expire_ms u64]? [varint key_len][varint payload_len] key payload
//! ```
//!
//! The payload is the string bytes (`TAG_EMB`), an `i64` (`TAG_INT`) or a pointer to a boxed
//! [`Object`] (`TAG_OBJ`: growable strings and, later, collections). A 16-byte key with a
//! 100-byte value fits a 128-byte allocator class; Redis needs four allocations for the same.
//!
//! All `unsafe` of the keyspace lives in this file. The invariant every method relies on: `ptr`
//! points to a live block of exactly `block_len(header)` bytes allocated with `layout(len)`, whose
//! header, varints and lengths were written by [`Entry::build`] and agree with each other.

use std::alloc::{self, Layout};
use std::ptr::{self, NonNull};

use crate::object::Object;

const TAG_EMB: u8 = 0;
const TAG_INT: u8 = 1;
const TAG_OBJ: u8 = 2;

const FLAG_EXPIRE: u8 = 1;

const HEADER: usize = 8;

/// A value handed to [`Entry::new`]: string bytes (stored inline), an integer (stored as an
/// `i64`, Redis's `int` encoding) or a heap object.
pub enum Value<'a> {
    /// String bytes copied into the entry.
    Bytes(&'a [u8]),
    /// An integer string in its compact form.
    Int(i64),
    /// A heap object owned by the entry from now on.
    Obj(Box<Object>),
}

/// A read-only view of an entry's value.
#[derive(Clone, Copy)]
pub enum ValueRef<'a> {
    /// Inline string bytes.
    Bytes(&'a [u8]),
    /// An integer-encoded string.
    Int(i64),
    /// A heap object.
    Obj(&'a Object),
}

/// One key with its value, expiry time and access metadata, in one allocation.
pub struct Entry {
    ptr: NonNull<u8>,
}

// SAFETY: an Entry uniquely owns its block (like a Box<[u8]>) and the Object it may point to,
// which is itself Send + Sync; nothing is shared between entries.
unsafe impl Send for Entry {}
// SAFETY: shared references only read the block.
unsafe impl Sync for Entry {}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn layout(len: usize) -> Layout {
    // Header alignment is 8; lengths of real entries are far below isize::MAX, and a key or value
    // larger than the address space cannot have been received in the first place.
    Layout::from_size_align(len, 8).expect("entry size fits a Layout")
}

impl Entry {
    /// Creates an entry for `key` holding `value`, with an optional expiry (unix ms).
    pub fn new(key: &[u8], value: Value<'_>, expire_ms: Option<u64>) -> Entry {
        Self::build(key, value, expire_ms, 0, 0)
    }

    fn build(key: &[u8], value: Value<'_>, expire_ms: Option<u64>, lru: u32, lfu: u8) -> Entry {
        let (tag, payload_len) = match &value {
            Value::Bytes(b) => (TAG_EMB, b.len()),
            Value::Int(_) => (TAG_INT, 8),
            Value::Obj(_) => (TAG_OBJ, std::mem::size_of::<*mut Object>()),
        };
        let exp_len = if expire_ms.is_some() { 8 } else { 0 };
        let len = HEADER
            + exp_len
            + varint_len(key.len() as u64)
            + varint_len(payload_len as u64)
            + key.len()
            + payload_len;
        let lay = layout(len);
        // SAFETY: `lay` has non-zero size (HEADER > 0).
        let raw = unsafe { alloc::alloc(lay) };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(lay)
        };
        // SAFETY: every write below stays inside the `len` bytes just allocated: the offsets add
        // up exactly to `len` computed above from the same lengths.
        unsafe {
            let p = ptr.as_ptr();
            *p = tag;
            *p.add(1) = if expire_ms.is_some() { FLAG_EXPIRE } else { 0 };
            *p.add(2) = lfu;
            *p.add(3) = 0;
            ptr::write_unaligned(p.add(4) as *mut u32, lru);
            let mut off = HEADER;
            if let Some(t) = expire_ms {
                ptr::write_unaligned(p.add(off) as *mut u64, t);
                off += 8;
            }
            off += write_varint(p.add(off), key.len() as u64);
            off += write_varint(p.add(off), payload_len as u64);
            ptr::copy_nonoverlapping(key.as_ptr(), p.add(off), key.len());
            off += key.len();
            match value {
                Value::Bytes(b) => ptr::copy_nonoverlapping(b.as_ptr(), p.add(off), b.len()),
                Value::Int(i) => ptr::write_unaligned(p.add(off) as *mut i64, i),
                Value::Obj(o) => ptr::write_unaligned(p.add(off) as *mut *mut Object, Box::into_raw(o)),
            }
        }
        Entry { ptr }
    }

    #[inline]
    fn tag(&self) -> u8 {
        // SAFETY: the block is at least HEADER bytes (module invariant).
        unsafe { *self.ptr.as_ptr() }
    }

    #[inline]
    fn flags(&self) -> u8 {
        // SAFETY: as in `tag`.
        unsafe { *self.ptr.as_ptr().add(1) }
    }

    /// (offset of key, key length, payload length) within the block.
    #[inline]
    fn lengths(&self) -> (usize, usize, usize) {
        let mut off = HEADER;
        if self.flags() & FLAG_EXPIRE != 0 {
            off += 8;
        }
        // SAFETY: the varints were written by `build` right after the header and expiry.
        unsafe {
            let p = self.ptr.as_ptr();
            let (klen, n) = read_varint(p.add(off));
            off += n;
            let (plen, n) = read_varint(p.add(off));
            off += n;
            (off, klen as usize, plen as usize)
        }
    }

    fn block_len(&self) -> usize {
        let (off, klen, plen) = self.lengths();
        off + klen + plen
    }

    /// The key.
    #[inline]
    pub fn key(&self) -> &[u8] {
        let (off, klen, _) = self.lengths();
        // SAFETY: key bytes lie at [off, off + klen) inside the block.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(off), klen) }
    }

    /// The value.
    #[inline]
    pub fn value(&self) -> ValueRef<'_> {
        let (off, klen, plen) = self.lengths();
        // SAFETY: the payload lies at [off + klen, off + klen + plen) and was written with the
        // representation that `tag` names; an OBJ pointer came from Box::into_raw and is live
        // until the entry is dropped or rebuilt.
        unsafe {
            let p = self.ptr.as_ptr().add(off + klen);
            match self.tag() {
                TAG_EMB => ValueRef::Bytes(std::slice::from_raw_parts(p, plen)),
                TAG_INT => ValueRef::Int(ptr::read_unaligned(p as *const i64)),
                _ => ValueRef::Obj(&*ptr::read_unaligned(p as *const *mut Object)),
            }
        }
    }

    /// Mutable access to the heap object, when the value is one.
    pub fn object_mut(&mut self) -> Option<&mut Object> {
        if self.tag() != TAG_OBJ {
            return None;
        }
        let (off, klen, _) = self.lengths();
        // SAFETY: as in `value`; `&mut self` guarantees exclusive access to the object.
        unsafe {
            let p = self.ptr.as_ptr().add(off + klen);
            Some(&mut *ptr::read_unaligned(p as *const *mut Object))
        }
    }

    /// Overwrites an inline string value in place when the new one has the same length.
    /// Returns false (and changes nothing) otherwise.
    pub fn overwrite_bytes(&mut self, value: &[u8]) -> bool {
        if self.tag() != TAG_EMB {
            return false;
        }
        let (off, klen, plen) = self.lengths();
        if plen != value.len() {
            return false;
        }
        // SAFETY: same length as the existing payload, inside the block; `&mut self` is unique.
        unsafe { ptr::copy_nonoverlapping(value.as_ptr(), self.ptr.as_ptr().add(off + klen), plen) };
        true
    }

    /// Replaces the value, keeping key, expiry and access metadata.
    pub fn set_value(&mut self, value: Value<'_>) {
        let rebuilt = Self::build(self.key(), value, self.expire_ms(), self.lru(), self.lfu());
        *self = rebuilt;
    }

    /// Replaces the value and the expiry in one rebuild, keeping access metadata.
    pub fn set_value_and_expire(&mut self, value: Value<'_>, expire_ms: Option<u64>) {
        let rebuilt = Self::build(self.key(), value, expire_ms, self.lru(), self.lfu());
        *self = rebuilt;
    }

    /// Takes the heap object out of the entry (if it holds one), leaving an empty string.
    pub fn take_object(&mut self) -> Option<Box<Object>> {
        if self.tag() != TAG_OBJ {
            return None;
        }
        let (off, klen, _) = self.lengths();
        // SAFETY: read the owned pointer, then retag the block as an empty inline string so
        // Drop will not free it again. The block keeps its length (dealloc uses the original
        // layout computed from lengths, so we rebuild instead of retagging in place).
        let obj = unsafe {
            let p = self.ptr.as_ptr().add(off + klen);
            Box::from_raw(ptr::read_unaligned(p as *const *mut Object))
        };
        let rebuilt = Self::build(self.key(), Value::Bytes(b""), self.expire_ms(), self.lru(), self.lfu());
        // The old block must be freed without dropping the object we just took.
        let old = std::mem::replace(self, rebuilt);
        old.free_block_only();
        Some(obj)
    }

    fn free_block_only(self) {
        let len = self.block_len();
        let p = self.ptr.as_ptr();
        std::mem::forget(self);
        // SAFETY: the block was allocated with layout(len); the object pointer it held has
        // already been taken by the caller.
        unsafe { alloc::dealloc(p, layout(len)) };
    }

    /// The expiry time in unix milliseconds, if the key has one.
    #[inline]
    pub fn expire_ms(&self) -> Option<u64> {
        if self.flags() & FLAG_EXPIRE == 0 {
            return None;
        }
        // SAFETY: with FLAG_EXPIRE set, 8 bytes of expiry follow the header.
        Some(unsafe { ptr::read_unaligned(self.ptr.as_ptr().add(HEADER) as *const u64) })
    }

    /// True when the key has an expiry.
    #[inline]
    pub fn has_expire(&self) -> bool {
        self.flags() & FLAG_EXPIRE != 0
    }

    /// Sets or clears the expiry. Changing the expiry time in place needs no reallocation;
    /// adding or removing one rebuilds the block.
    pub fn set_expire(&mut self, expire_ms: Option<u64>) {
        match (self.expire_ms(), expire_ms) {
            (Some(_), Some(t)) => {
                // SAFETY: with FLAG_EXPIRE set, 8 bytes of expiry follow the header.
                unsafe { ptr::write_unaligned(self.ptr.as_ptr().add(HEADER) as *mut u64, t) }
            }
            (None, None) => {}
            _ => {
                let (off, klen, plen) = self.lengths();
                let tag = self.tag();
                // SAFETY: payload bytes are at [off + klen, off + klen + plen). We copy them
                // raw into the new block (moving ownership of an OBJ pointer), then free the
                // old block without running Drop on its payload.
                let payload = unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(off + klen), plen) };
                let value = match tag {
                    TAG_EMB => Value::Bytes(payload),
                    // An 8-byte placeholder with the right length; overwritten below.
                    _ => Value::Int(0),
                };
                let rebuilt = Self::build(self.key(), value, expire_ms, self.lru(), self.lfu());
                if tag != TAG_EMB {
                    let (noff, nklen, nplen) = rebuilt.lengths();
                    debug_assert_eq!(nplen, plen);
                    // SAFETY: both payloads are `plen` (8) bytes; copying the raw bytes moves
                    // the integer or the object pointer; the tag is restored to the old one.
                    unsafe {
                        ptr::copy_nonoverlapping(payload.as_ptr(), rebuilt.ptr.as_ptr().add(noff + nklen), plen);
                        *rebuilt.ptr.as_ptr() = tag;
                    }
                }
                let old = std::mem::replace(self, rebuilt);
                old.free_block_only();
            }
        }
    }

    /// The LRU clock stamp of the last access.
    #[inline]
    pub fn lru(&self) -> u32 {
        // SAFETY: bytes 4..8 of the header.
        unsafe { ptr::read_unaligned(self.ptr.as_ptr().add(4) as *const u32) }
    }

    /// Stamps the LRU clock.
    #[inline]
    pub fn set_lru(&mut self, lru: u32) {
        // SAFETY: bytes 4..8 of the header; `&mut self` is unique.
        unsafe { ptr::write_unaligned(self.ptr.as_ptr().add(4) as *mut u32, lru) }
    }

    /// The LFU counter (logarithmic access frequency).
    #[inline]
    pub fn lfu(&self) -> u8 {
        // SAFETY: byte 2 of the header.
        unsafe { *self.ptr.as_ptr().add(2) }
    }

    /// Sets the LFU counter.
    #[inline]
    pub fn set_lfu(&mut self, v: u8) {
        // SAFETY: byte 2 of the header; `&mut self` is unique.
        unsafe { *self.ptr.as_ptr().add(2) = v }
    }

    /// Bytes this entry's block occupies (not counting a heap object's own memory).
    pub fn block_size(&self) -> usize {
        self.block_len()
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let (off, klen, _) = self.lengths();
        let len = self.block_len();
        // SAFETY: an OBJ payload holds a pointer from Box::into_raw that nothing else owns; the
        // block was allocated with layout(len).
        unsafe {
            if self.tag() == TAG_OBJ {
                let p = self.ptr.as_ptr().add(off + klen);
                drop(Box::from_raw(ptr::read_unaligned(p as *const *mut Object)));
            }
            alloc::dealloc(self.ptr.as_ptr(), layout(len));
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("expire_ms", &self.expire_ms())
            .finish()
    }
}

/// Writes `v` as LEB128 at `p`, returning the number of bytes written.
///
/// # Safety
/// `p` must be valid for `varint_len(v)` bytes of writes.
unsafe fn write_varint(p: *mut u8, mut v: u64) -> usize {
    let mut i = 0;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            *p.add(i) = byte;
            return i + 1;
        }
        *p.add(i) = byte | 0x80;
        i += 1;
    }
}

/// Reads a LEB128 value at `p`, returning it and its length.
///
/// # Safety
/// `p` must point to a varint written by `write_varint`.
#[inline]
unsafe fn read_varint(p: *const u8) -> (u64, usize) {
    let first = *p;
    if first < 0x80 {
        return (first as u64, 1);
    }
    let mut v = 0u64;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = *p.add(i);
        v |= ((b & 0x7f) as u64) << shift;
        i += 1;
        if b < 0x80 {
            return (v, i);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_with_and_without_expiry() {
        let mut e = Entry::new(b"key:1", Value::Bytes(b"hello"), None);
        assert_eq!(e.key(), b"key:1");
        assert!(matches!(e.value(), ValueRef::Bytes(b"hello")));
        assert_eq!(e.expire_ms(), None);
        e.set_expire(Some(12345));
        assert_eq!(e.expire_ms(), Some(12345));
        assert_eq!(e.key(), b"key:1");
        assert!(matches!(e.value(), ValueRef::Bytes(b"hello")));
        e.set_expire(Some(999));
        assert_eq!(e.expire_ms(), Some(999));
        e.set_expire(None);
        assert_eq!(e.expire_ms(), None);
        assert!(matches!(e.value(), ValueRef::Bytes(b"hello")));
    }

    #[test]
    fn long_key_and_value_use_multibyte_varints() {
        let key = vec![b'k'; 300];
        let val = vec![b'v'; 70_000];
        let e = Entry::new(&key, Value::Bytes(&val), Some(7));
        assert_eq!(e.key(), &key[..]);
        match e.value() {
            ValueRef::Bytes(b) => assert_eq!(b, &val[..]),
            _ => panic!("wrong repr"),
        }
        assert_eq!(e.block_size(), HEADER + 8 + 2 + 3 + 300 + 70_000);
    }

    #[test]
    fn int_and_object_survive_expiry_changes() {
        let mut e = Entry::new(b"n", Value::Int(-42), None);
        e.set_expire(Some(5));
        assert!(matches!(e.value(), ValueRef::Int(-42)));
        e.set_expire(None);
        assert!(matches!(e.value(), ValueRef::Int(-42)));

        let mut o = Entry::new(b"s", Value::Obj(Box::new(Object::Str(b"abc".to_vec()))), None);
        e.set_lru(77);
        o.set_lru(9);
        o.set_lfu(3);
        o.set_expire(Some(100));
        match o.value() {
            ValueRef::Obj(Object::Str(v)) => assert_eq!(v, b"abc"),
            _ => panic!("wrong repr"),
        }
        assert_eq!((o.lru(), o.lfu()), (9, 3));
        if let Some(Object::Str(v)) = o.object_mut() {
            v.extend_from_slice(b"def");
        }
        o.set_expire(None);
        match o.value() {
            ValueRef::Obj(Object::Str(v)) => assert_eq!(v, b"abcdef"),
            _ => panic!("wrong repr"),
        }
        let taken = o.take_object();
        assert!(matches!(taken.as_deref(), Some(Object::Str(v)) if v == b"abcdef"));
        assert!(matches!(o.value(), ValueRef::Bytes(b"")));
    }

    #[test]
    fn set_value_keeps_key_and_expiry() {
        let mut e = Entry::new(b"k", Value::Bytes(b"v1"), Some(10));
        e.set_value(Value::Int(5));
        assert!(matches!(e.value(), ValueRef::Int(5)));
        assert_eq!(e.expire_ms(), Some(10));
        assert!(!e.overwrite_bytes(b"xx"));
        e.set_value(Value::Bytes(b"ab"));
        assert!(e.overwrite_bytes(b"cd"));
        assert!(matches!(e.value(), ValueRef::Bytes(b"cd")));
        e.set_value_and_expire(Value::Bytes(b"z"), None);
        assert_eq!(e.expire_ms(), None);
        assert_eq!(e.key(), b"k");
    }
}
