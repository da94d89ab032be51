//! The reply encoder: appends RESP2 or RESP3 replies to a byte buffer.
//!
//! The RESP2 fallbacks for RESP3-only types follow Redis 7.2
//! (`src/networking.c`): maps become flat arrays of twice the length, sets
//! and pushes become arrays, doubles, verbatim strings and big numbers become
//! bulk strings, booleans become integers, nulls become `$-1` / `*-1`.

use crate::double::format_double;

/// Appends encoded replies to a connection's output buffer.
pub struct Reply<'a> {
    /// The output buffer replies are appended to.
    pub buf: &'a mut Vec<u8>,
    /// Whether the client speaks RESP3 (after `HELLO 3`).
    pub resp3: bool,
}

/// A position in the output buffer where an aggregate's length will be
/// inserted once it is known (Redis's deferred length).
///
/// Finish deferred lengths innermost first (in the reverse order they were
/// taken): inserting a header shifts everything written after it.
#[must_use = "a deferred length must be finished with finish_array/finish_map/finish_set"]
#[derive(Debug)]
pub struct Deferred(usize);

impl<'a> Reply<'a> {
    /// An encoder appending to `buf` in RESP3 when `resp3`, else RESP2.
    #[inline]
    pub fn new(buf: &'a mut Vec<u8>, resp3: bool) -> Self {
        Reply { buf, resp3 }
    }

    /// Appends `<prefix><n>\r\n`.
    #[inline]
    fn header(&mut self, prefix: u8, n: u64) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(n);
        self.buf.reserve(digits.len() + 3);
        self.buf.push(prefix);
        self.buf.extend_from_slice(digits.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK\r\n`.
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string `+s\r\n`. The caller guarantees `s` has no CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.reserve(s.len() + 3);
        self.buf.push(b'+');
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error `-msg\r\n`. `msg` already starts with its code (`ERR ...`,
    /// `WRONGTYPE ...`) and has no leading `-`; any `\r` or `\n` in it is
    /// sent as a space, as Redis does, so the reply stays one line.
    pub fn error(&mut self, msg: &[u8]) {
        self.buf.reserve(msg.len() + 3);
        self.buf.push(b'-');
        let start = self.buf.len();
        self.buf.extend_from_slice(msg);
        for b in &mut self.buf[start..] {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer `:v\r\n`.
    #[inline]
    pub fn int(&mut self, v: i64) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(v);
        self.buf.reserve(digits.len() + 3);
        self.buf.push(b':');
        self.buf.extend_from_slice(digits.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string `$len\r\nb\r\n`.
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as u64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (`$2\r\n42\r\n`).
    #[inline]
    pub fn bulk_int(&mut self, v: i64) {
        let mut digits = itoa::Buffer::new();
        self.bulk(digits.format(v).as_bytes());
    }

    /// The null reply: RESP2 `$-1\r\n` (null bulk), RESP3 `_\r\n`.
    #[inline]
    pub fn null(&mut self) {
        self.buf.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null array: RESP2 `*-1\r\n`, RESP3 `_\r\n`.
    #[inline]
    pub fn null_array(&mut self) {
        self.buf.extend_from_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    /// An array header `*n\r\n`; `n` elements follow.
    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as u64);
    }

    /// A map header of `n` key/value pairs: RESP3 `%n\r\n`, RESP2 `*2n\r\n`;
    /// `2n` elements follow.
    #[inline]
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as u64);
        } else {
            self.header(b'*', (n as u64).saturating_mul(2));
        }
    }

    /// A set header: RESP3 `~n\r\n`, RESP2 `*n\r\n`.
    #[inline]
    pub fn set(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n as u64);
    }

    /// A push header (pub/sub messages, invalidations): RESP3 `>n\r\n`,
    /// RESP2 `*n\r\n`.
    #[inline]
    pub fn push(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n as u64);
    }

    /// A double: RESP3 `,x\r\n`, RESP2 a bulk string; `x` formatted by
    /// [`format_double`] (`inf`, `-inf`, `nan`, `1.5`, `1e+21`, ...).
    pub fn double(&mut self, v: f64) {
        if self.resp3 {
            self.buf.push(b',');
            format_double(v, self.buf);
        } else {
            // Format in place, then slide the short text behind its header.
            let start = self.buf.len();
            format_double(v, self.buf);
            let len = self.buf.len() - start;
            self.insert_header(Deferred(start), b'$', len as u64);
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A boolean: RESP3 `#t\r\n` / `#f\r\n`, RESP2 `:1\r\n` / `:0\r\n`.
    #[inline]
    pub fn boolean(&mut self, b: bool) {
        self.buf.extend_from_slice(match (self.resp3, b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        });
    }

    /// A verbatim string: RESP3 `=len\r\nfmt:text\r\n` (`format` such as
    /// `txt` or `mkd`), RESP2 a bulk string of `text` alone.
    pub fn verbatim(&mut self, format: &[u8; 3], text: &[u8]) {
        if self.resp3 {
            self.header(b'=', text.len() as u64 + 4);
            self.buf.extend_from_slice(format);
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// A big number (decimal digits, optional leading `-`): RESP3
    /// `(digits\r\n`, RESP2 a bulk string.
    pub fn big_number(&mut self, digits: &[u8]) {
        if self.resp3 {
            self.buf.reserve(digits.len() + 3);
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(digits);
        }
    }

    /// An empty array `*0\r\n` (in both protocols).
    #[inline]
    pub fn empty_array(&mut self) {
        self.buf.extend_from_slice(b"*0\r\n");
    }

    /// Remembers the current end of the buffer; the aggregate header is
    /// inserted there by [`finish_array`](Self::finish_array),
    /// [`finish_map`](Self::finish_map) or [`finish_set`](Self::finish_set)
    /// once the element count is known.
    #[inline]
    pub fn deferred(&mut self) -> Deferred {
        Deferred(self.buf.len())
    }

    /// Inserts `<prefix><n>\r\n` at the deferred position.
    fn insert_header(&mut self, d: Deferred, prefix: u8, n: u64) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(n).as_bytes();
        let mut header = [0u8; 24];
        header[0] = prefix;
        header[1..=digits.len()].copy_from_slice(digits);
        header[digits.len() + 1..digits.len() + 3].copy_from_slice(b"\r\n");
        let header = &header[..digits.len() + 3];
        // A position past the end (the caller truncated the buffer) appends.
        let at = d.0.min(self.buf.len());
        self.buf.splice(at..at, header.iter().copied());
    }

    /// Completes a deferred array of `n` elements (`*n`).
    pub fn finish_array(&mut self, d: Deferred, n: usize) {
        self.insert_header(d, b'*', n as u64);
    }

    /// Completes a deferred map of `n` key/value pairs (RESP3 `%n`, RESP2
    /// `*2n`).
    pub fn finish_map(&mut self, d: Deferred, n: usize) {
        if self.resp3 {
            self.insert_header(d, b'%', n as u64);
        } else {
            self.insert_header(d, b'*', (n as u64).saturating_mul(2));
        }
    }

    /// Completes a deferred set of `n` elements (RESP3 `~n`, RESP2 `*n`).
    pub fn finish_set(&mut self, d: Deferred, n: usize) {
        self.insert_header(d, if self.resp3 { b'~' } else { b'*' }, n as u64);
    }
}

#[cfg(test)]
mod tests;
