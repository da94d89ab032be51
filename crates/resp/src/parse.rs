//! The incremental request parser: inline and multibulk requests, with
//! Redis 7.2's limits and protocol error texts.
//!
//! Behaviour learned from Redis 7.2 `src/networking.c`
//! (`processInlineBuffer`, `processMultibulkBuffer`) and reimplemented:
//!
//! - a request whose first byte is `*` is multibulk, anything else is inline;
//! - a length line ends at the first `\r`; the byte after it is skipped
//!   without being checked, and so are the two bytes after a bulk's data
//!   (Redis does not verify they are `\r\n` either);
//! - while a line has no `\r` (inline: no `\n`), more than
//!   [`INLINE_MAX_SIZE`] buffered bytes of it is an error;
//! - integers parse strictly (no sign but `-`, no leading zeros, no blanks).
//!
//! Deliberate difference: Redis searches with `strchr`, which stops at a NUL
//! byte, so a NUL before the line end makes Redis wait for more input; here a
//! NUL is an ordinary byte (inside an inline line it then ends the line, as
//! it ends the C string `sdssplitargs` splits).

use crate::args::Args;
use crate::split::split_into;

/// The longest inline request, or multibulk length line, Redis buffers while
/// waiting for its line end (`PROTO_INLINE_MAX_SIZE`, 64 KiB).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Default `proto-max-bulk-len`: 512 MiB.
pub const DEFAULT_MAX_BULK_LEN: usize = 512 * 1024 * 1024;

/// Most bulk arguments a request from a client that has not authenticated
/// yet may announce (Redis 7.2).
const UNAUTH_MAX_MULTIBULK: i64 = 10;

/// Longest bulk argument a client that has not authenticated yet may send
/// (Redis 7.2).
const UNAUTH_MAX_BULK: u64 = 16384;

/// At most this many argument slots are reserved up front from a client's
/// announced count; beyond it the vector grows as arguments really arrive.
const PREALLOC_SPANS: usize = 1024;

/// Limits the parser enforces on each request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseLimits {
    /// Longest bulk argument accepted (`proto-max-bulk-len`), default 512 MiB.
    pub max_bulk_len: usize,
    /// Whether the connection has authenticated (or needs no auth). When
    /// `false`, Redis 7.2's unauthenticated limits apply: at most 10
    /// arguments and 16384 bytes per argument.
    pub authenticated: bool,
}

impl Default for ParseLimits {
    /// 512 MiB bulks, authenticated.
    fn default() -> Self {
        ParseLimits { max_bulk_len: DEFAULT_MAX_BULK_LEN, authenticated: true }
    }
}

/// Outcome of [`RequestParser::parse`] when the input is well formed so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse {
    /// A whole request was parsed from the first `consumed` bytes of the
    /// buffer; the caller drops those bytes before the next call.
    Complete {
        /// Bytes of the buffer that the request occupied.
        consumed: usize,
    },
    /// More bytes are needed. The caller keeps the buffer, appends what it
    /// reads next, and calls again.
    Incomplete,
}

/// A protocol error. The text is the full error reply without the leading
/// `-`, e.g. `ERR Protocol error: invalid bulk length`. Redis sends it and
/// closes the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtocolError {}

fn protocol_error(text: &str) -> ProtocolError {
    ProtocolError(format!("ERR Protocol error: {text}"))
}

/// The error for a bulk header that does not start with `$`. Redis formats
/// the byte with `%c`, turns `\r`/`\n` into spaces, and a NUL ends the C
/// string there. A byte above 0x7f becomes the Unicode character of that
/// value (Redis would send the raw byte, which a `String` cannot hold).
fn expected_dollar(got: u8) -> ProtocolError {
    let mut text = String::from("ERR Protocol error: expected '$', got '");
    match got {
        0 => {}
        b'\r' | b'\n' => text.push_str(" '"),
        _ => {
            text.push(char::from(got));
            text.push('\'');
        }
    }
    ProtocolError(text)
}

/// One parsed request: argument ranges into the read buffer (multibulk) or
/// into the request's own storage (inline).
///
/// Reuse one per connection: once its vectors have grown, parsing allocates
/// nothing.
#[derive(Clone, Debug, Default)]
pub struct Request {
    spans: Vec<(usize, usize)>,
    inline: Vec<u8>,
    is_inline: bool,
}

impl Request {
    /// An empty request.
    pub fn new() -> Self {
        Request::default()
    }

    /// Releases argument storage beyond `spans` arguments and `bytes` of inline text, so one
    /// huge request does not pin its bookkeeping for the connection's lifetime.
    pub fn shrink(&mut self, spans: usize, bytes: usize) {
        if self.spans.capacity() > spans {
            self.spans = Vec::new();
        }
        if self.inline.capacity() > bytes {
            self.inline = Vec::new();
        }
    }

    /// Number of arguments (0 for an empty request the caller skips).
    #[inline]
    pub fn argc(&self) -> usize {
        self.spans.len()
    }

    /// Whether the request came in the inline form (a plain text line).
    #[inline]
    pub fn is_inline(&self) -> bool {
        self.is_inline
    }

    /// View of the arguments. `buf` is the same slice that was passed to
    /// [`RequestParser::parse`]: a multibulk request's arguments are ranges
    /// of it; an inline request's arguments live in the `Request` itself.
    #[inline]
    pub fn args<'a>(&'a self, buf: &'a [u8]) -> Args<'a> {
        if self.is_inline {
            Args::new(&self.inline, &self.spans)
        } else {
            Args::new(buf, &self.spans)
        }
    }

    fn clear(&mut self) {
        self.spans.clear();
        self.inline.clear();
        self.is_inline = false;
    }
}

/// Finds the first `needle` in `hay`: a byte loop for short lines, eight
/// bytes at a time beyond that.
#[inline]
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let head = hay.len().min(16);
    if let Some(i) = hay[..head].iter().position(|&b| b == needle) {
        return Some(i);
    }
    let pattern = ONES * u64::from(needle);
    let mut i = head;
    while let Some(chunk) = hay.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*chunk) ^ pattern;
        // Lowest set bit marks the first zero byte of x (little endian).
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(i + (zero.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let tail = hay.get(i..)?;
    tail.iter().position(|&b| b == needle).map(|p| i + p)
}

/// Parses a whole byte string as an `i64` the way Redis's `string2ll` does:
/// optional `-`, no leading zeros (except the number `0` itself), no `+`,
/// no blanks, fewer than 21 bytes, no overflow.
pub(crate) fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        // -(2^63) is the one value whose magnitude exceeds i64::MAX.
        (v <= 1 << 63).then(|| (v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Where a multibulk request in progress stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// No request started yet, or waiting for the end of its first line (the
    /// inline line or the `*<count>` line).
    #[default]
    FirstLine,
    /// The count is known; reading `$<len>` headers and bulk data.
    Bulks,
}

/// Incremental request parser. One per connection; it remembers how far the
/// current request has been parsed, so a request arriving in many reads is
/// scanned once in total.
#[derive(Debug, Default)]
pub struct RequestParser {
    phase: Phase,
    /// Offset of the next unparsed element of the current request.
    pos: usize,
    /// Offset from which the search for the current line's end resumes.
    scan: usize,
    /// Bulk arguments still to read.
    remaining: usize,
    /// Length of the bulk whose header was read; `pos` is at its data.
    bulk: Option<usize>,
    /// Arguments parsed so far; swapped into the `Request` when complete.
    spans: Vec<(usize, usize)>,
}

impl RequestParser {
    /// Releases argument storage beyond `spans` arguments while no request is half parsed.
    pub fn shrink(&mut self, spans: usize) {
        if self.spans.is_empty() && self.spans.capacity() > spans {
            self.spans = Vec::new();
        }
    }

    /// A parser waiting for the first byte of a request.
    pub fn new() -> Self {
        RequestParser::default()
    }

    /// Parses the first request at the start of `buf` into `req` (cleared
    /// first).
    ///
    /// `buf` always starts at the first unconsumed byte. After
    /// [`Parse::Incomplete`] the caller appends bytes and calls again with the
    /// longer buffer; parsing resumes from the saved state, so a request with
    /// a million arguments or a 500 MB bulk arriving in small reads is not
    /// rescanned from the start each time. The state resets after
    /// [`Parse::Complete`] or an error (after an error the caller replies
    /// with it and closes the connection).
    ///
    /// A request with zero arguments (an empty inline line, `*0\r\n`,
    /// `*-1\r\n`) returns `Complete` with `argc() == 0`; the caller skips it.
    pub fn parse(&mut self, buf: &[u8], limits: &ParseLimits, req: &mut Request) -> Result<Parse, ProtocolError> {
        req.clear();
        if buf.len() < self.pos.max(self.scan) {
            // The caller broke the contract and gave a shorter buffer than
            // last time: start over rather than trust stale offsets.
            self.reset();
        }
        let result = if self.phase == Phase::Bulks || buf.first() == Some(&b'*') {
            self.parse_multibulk(buf, limits, req)
        } else if buf.is_empty() {
            Ok(Parse::Incomplete)
        } else {
            self.parse_inline(buf, req)
        };
        if result != Ok(Parse::Incomplete) {
            self.reset();
        }
        result
    }

    /// Forgets any request in progress.
    fn reset(&mut self) {
        self.phase = Phase::FirstLine;
        self.pos = 0;
        self.scan = 0;
        self.remaining = 0;
        self.bulk = None;
        self.spans.clear();
    }

    /// Finds the `\r` ending the line that starts at `from`, resuming the
    /// search at `self.scan`. `Ok(None)` means wait for more bytes (also when
    /// the `\r` is the last byte: the byte after it must have arrived).
    fn line_end(&mut self, buf: &[u8], from: usize, too_big: &str) -> Result<Option<usize>, ProtocolError> {
        let start = self.scan.max(from);
        match buf.get(start..).and_then(|rest| find_byte(rest, b'\r')) {
            None => {
                self.scan = buf.len();
                if buf.len() - from > INLINE_MAX_SIZE {
                    return Err(protocol_error(too_big));
                }
                Ok(None)
            }
            Some(off) => {
                let cr = start + off;
                if cr + 1 >= buf.len() {
                    self.scan = cr;
                    return Ok(None);
                }
                Ok(Some(cr))
            }
        }
    }

    fn parse_inline(&mut self, buf: &[u8], req: &mut Request) -> Result<Parse, ProtocolError> {
        let start = self.scan;
        let Some(off) = buf.get(start..).and_then(|rest| find_byte(rest, b'\n')) else {
            self.scan = buf.len();
            if buf.len() > INLINE_MAX_SIZE {
                return Err(protocol_error("too big inline request"));
            }
            return Ok(Parse::Incomplete);
        };
        let newline = start + off;
        let end = if newline > 0 && buf[newline - 1] == b'\r' { newline - 1 } else { newline };
        if !split_into(&buf[..end], &mut req.inline, &mut req.spans) {
            req.clear();
            return Err(protocol_error("unbalanced quotes in request"));
        }
        req.is_inline = true;
        Ok(Parse::Complete { consumed: newline + 1 })
    }

    fn parse_multibulk(&mut self, buf: &[u8], limits: &ParseLimits, req: &mut Request) -> Result<Parse, ProtocolError> {
        if self.phase == Phase::FirstLine {
            let Some(cr) = self.line_end(buf, 0, "too big mbulk count string")? else {
                return Ok(Parse::Incomplete);
            };
            let count = match parse_i64_strict(&buf[1..cr]) {
                Some(n) if n <= i64::from(i32::MAX) => n,
                _ => return Err(protocol_error("invalid multibulk length")),
            };
            if !limits.authenticated && count > UNAUTH_MAX_MULTIBULK {
                return Err(protocol_error("unauthenticated multibulk length"));
            }
            self.pos = cr + 2;
            if count <= 0 {
                return Ok(Parse::Complete { consumed: self.pos });
            }
            // count is in 1..=i32::MAX, so it fits a usize.
            self.remaining = count as usize;
            self.spans.clear();
            self.spans.reserve(self.remaining.min(PREALLOC_SPANS));
            self.scan = self.pos;
            self.phase = Phase::Bulks;
        }

        while self.remaining > 0 {
            let len = match self.bulk {
                Some(len) => len,
                None => {
                    let Some(cr) = self.line_end(buf, self.pos, "too big bulk count string")? else {
                        return Ok(Parse::Incomplete);
                    };
                    // pos <= cr < buf.len()
                    let head = buf[self.pos];
                    if head != b'$' {
                        return Err(expected_dollar(head));
                    }
                    let len = match parse_i64_strict(&buf[self.pos + 1..cr]) {
                        Some(n) => u64::try_from(n).ok(),
                        None => None,
                    };
                    let len = match len.and_then(|n| usize::try_from(n).ok()) {
                        Some(n) if n <= limits.max_bulk_len => n,
                        _ => return Err(protocol_error("invalid bulk length")),
                    };
                    if !limits.authenticated && len as u64 > UNAUTH_MAX_BULK {
                        return Err(protocol_error("unauthenticated bulk length"));
                    }
                    self.pos = cr + 2;
                    self.bulk = Some(len);
                    len
                }
            };
            // The data and the two bytes after it must all have arrived.
            if buf.len() - self.pos < len.saturating_add(2) {
                return Ok(Parse::Incomplete);
            }
            self.spans.push((self.pos, self.pos + len));
            self.pos += len + 2;
            self.scan = self.pos;
            self.bulk = None;
            self.remaining -= 1;
        }

        std::mem::swap(&mut req.spans, &mut self.spans);
        Ok(Parse::Complete { consumed: self.pos })
    }
}

#[cfg(test)]
mod tests;
