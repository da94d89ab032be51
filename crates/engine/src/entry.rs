//! One key and its value in a single heap block.
//!
//! Per-key overhead is what a cache pays for, so an [`Entry`] is one thin pointer to one
//! allocation holding a small header, the optional expiry time, the key bytes and the value:
//!
//! ```text
//! [tag u8][flags u8][lfu u8][pad u8][lru u32] [expire_ms u64]? [varint key_len][varint payload_len] key payload
//! ```
//!
//! The payload is the string bytes (`TAG_EMB`), an `i64` (`TAG_INT`) or an [`Object`] stored
//! in the block itself (`TAG_OBJ`: growable strings and collections), 8-byte aligned after
//! padding that follows from the other lengths. A 16-byte key with a 100-byte value fits a
//! 128-byte allocator class, and a small hash is one block plus its packed buffer; Redis needs
//! three or four allocations for the same.
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
/// The snapshot mark: an entry whose mark equals its shard's snapshot parity has been saved
/// by the snapshot in progress (or was created after it began).
const FLAG_SNAP: u8 = 2;

// Objects are stored 8-byte aligned inside blocks that are 8-byte aligned.
const _: () = assert!(std::mem::align_of::<Object>() <= 8);

const HEADER: usize = 8;

/// Strings up to this long always live in the block (Redis's embstr limit is 44).
const SPLIT_MIN: usize = 44;

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

/// Bytes of padding before a payload starting at `start` so an object payload is 8-byte
/// aligned (blocks themselves are 8-aligned); other payloads need none.
#[inline]
fn pad(tag: u8, start: usize) -> usize {
    if tag == TAG_OBJ {
        (8 - start % 8) % 8
    } else {
        0
    }
}

fn layout(len: usize) -> Layout {
    // Header alignment is 8; lengths of real entries are far below isize::MAX, and a key or value
    // larger than the address space cannot have been received in the first place.
    Layout::from_size_align(len, 8).expect("entry size fits a Layout")
}

impl Entry {
    /// Creates an entry for `key` holding `value`, with an optional expiry (unix ms).
    ///
    /// A long string is kept in the block when that fills the allocator's size class well,
    /// and in a separate buffer when splitting wastes less: a 1000-byte value with a 16-byte
    /// key is 1031 bytes inline, which the allocator rounds to 1280, but 1024 + 80 split.
    pub fn new(key: &[u8], value: Value<'_>, expire_ms: Option<u64>) -> Entry {
        if let Value::Bytes(b) = value {
            if b.len() > SPLIT_MIN && Self::split_saves(key.len(), b.len(), expire_ms.is_some()) {
                return Self::build(key, Value::Obj(Box::new(Object::Str(b.to_vec()))), expire_ms, 0, 0, 0);
            }
        }
        Self::build(key, value, expire_ms, 0, 0, 0)
    }

    /// True when a string of `vlen` bytes costs less in its own buffer than inside the block.
    fn split_saves(klen: usize, vlen: usize, expire: bool) -> bool {
        let exp = if expire { 8 } else { 0 };
        let inline = HEADER + exp + varint_len(klen as u64) + varint_len(vlen as u64) + klen + vlen;
        let start = HEADER + exp + varint_len(klen as u64) + 1 + klen;
        let split_block = start + pad(TAG_OBJ, start) + std::mem::size_of::<Object>();
        crate::util::size_class(split_block) + crate::util::size_class(vlen) < crate::util::size_class(inline)
    }

    fn build(key: &[u8], value: Value<'_>, expire_ms: Option<u64>, lru: u32, lfu: u8, keep: u8) -> Entry {
        let (tag, payload_len) = match &value {
            Value::Bytes(b) => (TAG_EMB, b.len()),
            Value::Int(_) => (TAG_INT, 8),
            Value::Obj(_) => (TAG_OBJ, std::mem::size_of::<Object>()),
        };
        let exp_len = if expire_ms.is_some() { 8 } else { 0 };
        let start = HEADER + exp_len + varint_len(key.len() as u64) + varint_len(payload_len as u64) + key.len();
        let len = start + pad(tag, start) + payload_len;
        let lay = layout(len);
        // SAFETY: `lay` has non-zero size (HEADER > 0).
        let raw = unsafe { alloc::alloc(lay) };
        let Some(ptr) = NonNull::new(raw) else { alloc::handle_alloc_error(lay) };
        // SAFETY: every write below stays inside the `len` bytes just allocated: the offsets add
        // up exactly to `len` computed above from the same lengths.
        unsafe {
            let p = ptr.as_ptr();
            *p = tag;
            *p.add(1) = keep | if expire_ms.is_some() { FLAG_EXPIRE } else { 0 };
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
            off += pad(tag, off);
            match value {
                Value::Bytes(b) => ptr::copy_nonoverlapping(b.as_ptr(), p.add(off), b.len()),
                Value::Int(i) => ptr::write_unaligned(p.add(off) as *mut i64, i),
                // `off` is 8-aligned here (the block is, and `pad` aligned the offset), so the
                // object is written in place, moved out of its box.
                Value::Obj(o) => ptr::write(p.add(off) as *mut Object, *o),
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

    /// (offset of the payload, payload length): after the key, plus the padding that aligns
    /// an object payload.
    #[inline]
    fn payload_at(&self) -> (usize, usize) {
        let (off, klen, plen) = self.lengths();
        let start = off + klen;
        (start + pad(self.tag(), start), plen)
    }

    fn block_len(&self) -> usize {
        let (at, plen) = self.payload_at();
        at + plen
    }

    /// The object stored in the block (callers check the tag first).
    ///
    /// # Safety
    /// The tag must be `TAG_OBJ`.
    #[inline]
    unsafe fn object_ptr(&self) -> *mut Object {
        let (at, _) = self.payload_at();
        self.ptr.as_ptr().add(at) as *mut Object
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
        let (at, plen) = self.payload_at();
        // SAFETY: the payload lies at [at, at + plen) and was written with the representation
        // that `tag` names; an object lives there, aligned, until the entry is dropped or
        // rebuilt, and `&self` keeps it borrowed.
        unsafe {
            let p = self.ptr.as_ptr().add(at);
            match self.tag() {
                TAG_EMB => ValueRef::Bytes(std::slice::from_raw_parts(p, plen)),
                TAG_INT => ValueRef::Int(ptr::read_unaligned(p as *const i64)),
                _ => ValueRef::Obj(&*(p as *const Object)),
            }
        }
    }

    /// Mutable access to the heap object, when the value is one.
    pub fn object_mut(&mut self) -> Option<&mut Object> {
        if self.tag() != TAG_OBJ {
            return None;
        }
        // SAFETY: the tag is TAG_OBJ; `&mut self` guarantees exclusive access to the object.
        unsafe { Some(&mut *self.object_ptr()) }
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
        let rebuilt =
            Self::build(self.key(), value, self.expire_ms(), self.lru(), self.lfu(), self.flags() & FLAG_SNAP);
        *self = rebuilt;
    }

    /// Replaces the value and the expiry in one rebuild, keeping access metadata.
    pub fn set_value_and_expire(&mut self, value: Value<'_>, expire_ms: Option<u64>) {
        let rebuilt = Self::build(self.key(), value, expire_ms, self.lru(), self.lfu(), self.flags() & FLAG_SNAP);
        *self = rebuilt;
    }

    /// Takes the heap object out of the entry (if it holds one), leaving an empty string.
    pub fn take_object(&mut self) -> Option<Box<Object>> {
        if self.tag() != TAG_OBJ {
            return None;
        }
        // SAFETY: the tag is TAG_OBJ. The object is moved out bitwise; the old block is then
        // freed without running Drop on it (free_block_only), so it is dropped exactly once,
        // by whoever owns the returned box.
        let obj = unsafe { ptr::read(self.object_ptr()) };
        let rebuilt = Self::build(
            self.key(),
            Value::Bytes(b""),
            self.expire_ms(),
            self.lru(),
            self.lfu(),
            self.flags() & FLAG_SNAP,
        );
        let old = std::mem::replace(self, rebuilt);
        old.free_block_only();
        Some(Box::new(obj))
    }

    fn free_block_only(self) {
        let len = self.block_len();
        let p = self.ptr.as_ptr();
        std::mem::forget(self);
        // SAFETY: the block was allocated with layout(len); the object it held (if any) has
        // already been moved out by the caller.
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
                let (at, plen) = self.payload_at();
                let (lru, lfu, keep) = (self.lru(), self.lfu(), self.flags() & FLAG_SNAP);
                // SAFETY: the payload lies at [at, at + plen) with the representation `tag`
                // names. An object is moved out bitwise into the new block; the old block is
                // then freed without running Drop on its payload, so nothing is dropped twice.
                let rebuilt = unsafe {
                    let p = self.ptr.as_ptr().add(at);
                    match self.tag() {
                        TAG_EMB => Self::build(
                            self.key(),
                            Value::Bytes(std::slice::from_raw_parts(p, plen)),
                            expire_ms,
                            lru,
                            lfu,
                            keep,
                        ),
                        TAG_INT => Self::build(
                            self.key(),
                            Value::Int(ptr::read_unaligned(p as *const i64)),
                            expire_ms,
                            lru,
                            lfu,
                            keep,
                        ),
                        _ => {
                            let obj = ptr::read(p as *const Object);
                            Self::build(self.key(), Value::Obj(Box::new(obj)), expire_ms, lru, lfu, keep)
                        }
                    }
                };
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

    /// The snapshot mark (see the shard's snapshot parity).
    #[inline]
    pub fn snap_mark(&self) -> bool {
        self.flags() & FLAG_SNAP != 0
    }

    /// Sets the snapshot mark.
    #[inline]
    pub fn set_snap_mark(&mut self, on: bool) {
        // SAFETY: byte 1 of the header; `&mut self` is unique.
        unsafe {
            let f = self.ptr.as_ptr().add(1);
            *f = if on { *f | FLAG_SNAP } else { *f & !FLAG_SNAP };
        }
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

    /// How many allocations freeing this entry costs, roughly (see [`Object::free_effort`]).
    pub fn free_effort(&self) -> usize {
        match self.value() {
            ValueRef::Obj(o) => o.free_effort(),
            _ => 1,
        }
    }

    /// Bytes this entry's block occupies (not counting a heap object's own memory).
    pub fn block_size(&self) -> usize {
        self.block_len()
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let len = self.block_len();
        // SAFETY: an OBJ payload is an object this entry owns, dropped here exactly once; the
        // block was allocated with layout(len).
        unsafe {
            if self.tag() == TAG_OBJ {
                ptr::drop_in_place(self.object_ptr());
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
    fn objects_after_keys_of_every_length_survive_every_change() {
        // Each key length gives a different padding before the object payload.
        for klen in 0..24 {
            let key = vec![b'k'; klen];
            let body = format!("value-for-{klen}").into_bytes();
            let mut e = Entry::new(&key, Value::Obj(Box::new(Object::Str(body.clone()))), None);
            assert_eq!(e.key(), &key[..]);
            e.set_expire(Some(1000 + klen as u64));
            e.set_lru(klen as u32);
            if let Some(Object::Str(v)) = e.object_mut() {
                v.extend_from_slice(b"+more");
            }
            e.set_expire(None);
            let mut want = body.clone();
            want.extend_from_slice(b"+more");
            match e.value() {
                ValueRef::Obj(Object::Str(v)) => assert_eq!(v, &want),
                _ => panic!("wrong repr at key length {klen}"),
            }
            assert_eq!((e.key(), e.lru()), (&key[..], klen as u32));
            if klen % 2 == 0 {
                let taken = e.take_object();
                assert!(matches!(taken.as_deref(), Some(Object::Str(v)) if *v == want));
            }
            // Dropping `e` frees the object (if still there) and the block exactly once.
        }
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

    #[test]
    fn long_strings_split_only_when_that_saves_memory() {
        // 16-byte key + 1000-byte value: 1031 bytes inline (class 1280) vs 1024 + a small block.
        let e = Entry::new(b"key:000000000001", Value::Bytes(&[b'x'; 1000]), None);
        assert!(matches!(e.value(), ValueRef::Obj(Object::Str(v)) if v.len() == 1000));
        // 11-byte key: 1022 bytes inline fits the 1024 class exactly, so it stays inline.
        let e = Entry::new(b"key:0000001", Value::Bytes(&[b'x'; 1000]), None);
        assert!(matches!(e.value(), ValueRef::Bytes(b) if b.len() == 1000));
        let e = Entry::new(b"k", Value::Bytes(&[b'x'; 40]), None);
        assert!(matches!(e.value(), ValueRef::Bytes(_)));
    }

    #[test]
    fn snapshot_mark_survives_every_rebuild() {
        let mut e = Entry::new(b"k", Value::Bytes(b"v1"), None);
        assert!(!e.snap_mark());
        e.set_snap_mark(true);
        e.set_value(Value::Int(5));
        e.set_expire(Some(10));
        e.set_value_and_expire(Value::Bytes(b"longer value"), None);
        e.set_expire(Some(20));
        assert!(e.snap_mark());
        assert_eq!(e.expire_ms(), Some(20));
        e.set_snap_mark(false);
        assert!(!e.snap_mark());
        assert_eq!(e.expire_ms(), Some(20), "the mark is independent of the expiry flag");
    }
}
