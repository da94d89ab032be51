//! redis.call and redis.pcall as C functions working on Lua's own stack: the arguments are
//! read straight off the stack and the reply is pushed straight onto it, with no conversion
//! through owned Lua values (a script's commands are most of what it costs).
//!
//! Lua reports errors with longjmp, which must never skip a Rust frame that owns something
//! with a destructor. These functions keep to three rules:
//! - reading the arguments uses only calls that cannot raise (`lua_gettop`, `lua_type`,
//!   `lua_tolstring` on strings, `lua_tonumber`);
//! - the command runs in plain Rust, and the run's `RefCell` borrow ends before any Lua call
//!   that allocates;
//! - everything that allocates Lua values (the reply, error tables) runs inside `lua_pcall` of
//!   [`push_value`], whose frames own nothing; a failure there comes back as a status, and the
//!   final `lua_error` is raised from a frame that owns nothing either.
//!
//! While a call is pushing its reply, a re-entrant call (a `__gc` metamethod run by the
//! collector) is refused, so the bytes being pushed cannot change underneath.

use std::cell::Cell;
use std::ffi::{c_int, c_void, CStr};

use larder_resp::Args;
use mlua::ffi;

/// Deepest reply nesting converted (deeper replies cannot come from commands).
const MAX_PARSE_DEPTH: usize = 128;

/// The message of a call made while another one is pushing its reply.
pub const RECURSIVE: &str =
    "luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?";
const NOT_RUNNING: &str = "ERR This function can only be called from a running script";

thread_local! {
    /// A call on this thread is between reading its arguments and pushing its reply.
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
}

/// What a call pushes: bytes owned by the run (or static), valid until the run's next call.
#[derive(Clone, Copy)]
pub struct Job {
    ptr: *const u8,
    len: usize,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A RESP reply, converted as Redis converts command replies.
    Reply,
    /// An error table `{err = <bytes>}`, with `ignore_error_stats_update` when `counted`.
    Error { counted: bool },
    /// A sequence of `len` arguments of the request `ptr` points to (an `Args`), from `from`.
    Strings { from: usize },
}

impl Job {
    /// The reply in `buf` (one RESP value).
    pub fn reply(buf: &[u8]) -> Job {
        Job { ptr: buf.as_ptr(), len: buf.len(), kind: Kind::Reply }
    }

    /// An error table whose `err` is `text` (already in `CODE message` form).
    pub fn error(text: &[u8], counted: bool) -> Job {
        Job { ptr: text.as_ptr(), len: text.len(), kind: Kind::Error { counted } }
    }

    /// The table of `count` arguments of `args` from `from` (KEYS or ARGV).
    pub fn strings(args: &Args<'_>, from: usize, count: usize) -> Job {
        Job { ptr: (args as *const Args<'_>).cast(), len: count, kind: Kind::Strings { from } }
    }

    /// The bytes of a `Reply` or `Error` job.
    fn bytes(&self) -> &[u8] {
        if matches!(self.kind, Kind::Strings { .. }) {
            return &[];
        }
        // SAFETY: built from a live slice by `reply`/`error`; the run keeps the bytes until
        // its next call, which IN_CALL holds off until the job is pushed.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// True when the pushed value is an error table.
    fn is_error(&self) -> bool {
        match self.kind {
            Kind::Error { .. } => true,
            Kind::Reply => self.bytes().first() == Some(&b'-'),
            Kind::Strings { .. } => false,
        }
    }
}

/// redis.call: raises the command's error.
///
/// # Safety
/// Called by Lua only, as a C closure whose first upvalue is [`push_value`].
pub unsafe extern "C-unwind" fn redis_call(l: *mut ffi::lua_State) -> c_int {
    call(l, true)
}

/// redis.pcall: returns the command's error as a table.
///
/// # Safety
/// As [`redis_call`].
pub unsafe extern "C-unwind" fn redis_pcall(l: *mut ffi::lua_State) -> c_int {
    call(l, false)
}

unsafe fn call(l: *mut ffi::lua_State, raise: bool) -> c_int {
    let entered = !IN_CALL.get();
    let job = if entered {
        IN_CALL.set(true);
        super::run::raw_call(l).unwrap_or(Job::error(NOT_RUNNING.as_bytes(), false))
    } else {
        Job::error(RECURSIVE.as_bytes(), false)
    };
    // The arguments were copied: drop them, so a call with thousands of them (up to Lua's
    // C stack limit) still has room to push its result.
    ffi::lua_settop(l, 0);
    let status = push(l, &job);
    if entered {
        IN_CALL.set(false);
    }
    if status != 0 || (raise && job.is_error()) {
        // The error object is on top; nothing in this frame has a destructor.
        ffi::lua_error(l);
    }
    1
}

/// The runners' argument fetch: the run's KEYS and ARGV tables (nothing outside a run).
///
/// # Safety
/// As [`redis_call`].
pub unsafe extern "C-unwind" fn fetch_args(l: *mut ffi::lua_State) -> c_int {
    let Some((keys, argv)) = super::run::args_jobs() else { return 0 };
    if push(l, &keys) != 0 || push(l, &argv) != 0 {
        ffi::lua_error(l);
    }
    2
}

/// Pushes what `job` describes through a protected call of [`push_value`] (the closure's
/// first upvalue); returns the status of `lua_pcall` (0: the value is on top, else the error).
unsafe fn push(l: *mut ffi::lua_State, job: &Job) -> c_int {
    if ffi::lua_checkstack(l, 3) == 0 {
        // Cannot happen with an empty frame (Lua guarantees 20 slots); fail safely anyway.
        ffi::lua_pushnil(l);
        return ffi::LUA_ERRMEM;
    }
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_pushlightuserdata(l, job as *const Job as *mut c_void);
    ffi::lua_pcall(l, 1, 1, 0)
}

/// Pushes the value a [`Job`] (argument 1, light userdata) describes. Run only through
/// `lua_pcall`, so an allocation failure or a collector error cannot skip Rust frames that own
/// anything: none of the frames below owns anything.
///
/// # Safety
/// Called by Lua only, with a pointer to a live [`Job`] as argument 1.
pub unsafe extern "C-unwind" fn push_value(l: *mut ffi::lua_State) -> c_int {
    let job = ffi::lua_touserdata(l, 1) as *const Job;
    if job.is_null() {
        ffi::lua_pushnil(l);
        return 1;
    }
    let job = *job;
    match job.kind {
        Kind::Strings { from } => {
            // SAFETY: `Job::strings` points at the run's request, alive for the whole run.
            let args = &*job.ptr.cast::<Args<'_>>();
            ffi::lua_createtable(l, job.len.min(c_int::MAX as usize) as c_int, 0);
            for i in 0..job.len.min(c_int::MAX as usize) {
                if let Some(a) = args.get(from + i) {
                    push_bytes(l, a);
                    ffi::lua_rawseti_(l, -2, i as c_int + 1);
                }
            }
        }
        Kind::Reply => {
            let mut p = Parser { buf: job.bytes(), pos: 0 };
            if !p.value(l, 0) {
                ffi::lua_pushnil(l);
            }
        }
        Kind::Error { counted } => {
            ffi::lua_createtable(l, 0, 2);
            push_bytes(l, job.bytes());
            ffi::lua_setfield(l, -2, c"err".as_ptr());
            if counted {
                ffi::lua_pushboolean(l, 1);
                ffi::lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
            }
        }
    }
    1
}

unsafe fn push_bytes(l: *mut ffi::lua_State, b: &[u8]) {
    let p = if b.is_empty() { c"".as_ptr() } else { b.as_ptr().cast() };
    ffi::lua_pushlstring_(l, p, b.len());
}

/// Pushes a one-field table `{<key> = <value on top>}` in place of the value on top.
unsafe fn wrap(l: *mut ffi::lua_State, key: &CStr) {
    ffi::lua_createtable(l, 0, 1);
    ffi::lua_insert(l, -2);
    ffi::lua_setfield(l, -2, key.as_ptr());
}

/// Pushes Redis's error text for the error reply line `line` (without its `-`): the code and
/// message as they are, or `ERR ` before a message without a code (as `api::error_text`).
unsafe fn push_error_text(l: *mut ffi::lua_State, line: &[u8]) {
    let (code, msg): (&[u8], &[u8]) = match line.iter().position(|&b| b == b' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (b"ERR", line),
    };
    let mut msg = msg;
    while let [rest @ .., b'\r' | b'\n'] = msg {
        msg = rest;
    }
    while let [b'\r' | b'\n', rest @ ..] = msg {
        msg = rest;
    }
    push_bytes(l, code);
    push_bytes(l, b" ");
    push_bytes(l, msg);
    ffi::lua_concat(l, 3);
}

/// A RESP reply read into Lua values as Redis converts them (see `convert`): integers become
/// numbers, bulk strings strings, null bulk and null array `false`, status `{ok = s}`, errors
/// `{err = s}` (marked as counted), arrays tables; RESP3 maps `{map = {...}}`, sets
/// `{set = {k = true}}`, nulls nil, booleans, doubles `{double = n}`, big numbers
/// `{big_number = s}`, verbatim strings `{verbatim_string = {format = f, string = s}}`.
struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn line(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        match rest.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                self.pos += i + 2;
                &rest[..i]
            }
            None => {
                self.pos = self.buf.len();
                rest
            }
        }
    }

    fn int(line: &[u8]) -> i64 {
        std::str::from_utf8(line).ok().and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    fn bulk(&mut self, len: i64) -> &'a [u8] {
        let start = self.pos.min(self.buf.len());
        let end = start.saturating_add(len.max(0) as usize).min(self.buf.len());
        self.pos = (end + 2).min(self.buf.len());
        &self.buf[start..end]
    }

    /// Pushes the next value; false when there was no room on the stack (nothing pushed).
    unsafe fn value(&mut self, l: *mut ffi::lua_State, depth: usize) -> bool {
        if ffi::lua_checkstack(l, 4) == 0 {
            return false;
        }
        let Some(&kind) = self.buf.get(self.pos) else {
            ffi::lua_pushnil(l);
            return true;
        };
        if depth > MAX_PARSE_DEPTH {
            ffi::lua_pushnil(l);
            return true;
        }
        self.pos += 1;
        let line = self.line();
        match kind {
            b':' => ffi::lua_pushnumber(l, Self::int(line) as f64),
            b'$' => {
                let n = Self::int(line);
                if n < 0 {
                    ffi::lua_pushboolean(l, 0);
                } else {
                    push_bytes(l, self.bulk(n));
                }
            }
            b'+' => {
                push_bytes(l, line);
                wrap(l, c"ok");
            }
            b'-' => {
                ffi::lua_createtable(l, 0, 2);
                push_error_text(l, line);
                ffi::lua_setfield(l, -2, c"err".as_ptr());
                ffi::lua_pushboolean(l, 1);
                ffi::lua_setfield(l, -2, c"ignore_error_stats_update".as_ptr());
            }
            b'*' | b'>' => {
                let n = Self::int(line);
                if n < 0 {
                    ffi::lua_pushboolean(l, 0);
                } else {
                    ffi::lua_createtable(l, n.min(1 << 20) as c_int, 0);
                    for i in 1..=n {
                        if self.value(l, depth + 1) {
                            ffi::lua_rawseti_(l, -2, i.min(c_int::MAX as i64) as c_int);
                        }
                    }
                }
            }
            b'%' => {
                ffi::lua_createtable(l, 0, 0);
                for _ in 0..Self::int(line).max(0) {
                    let k = self.value(l, depth + 1);
                    let v = self.value(l, depth + 1);
                    match (k, v) {
                        (true, true) if ffi::lua_type(l, -2) == ffi::LUA_TNIL => ffi::lua_pop(l, 2),
                        (true, true) => ffi::lua_rawset(l, -3),
                        (true, false) | (false, true) => ffi::lua_pop(l, 1),
                        (false, false) => {}
                    }
                }
                wrap(l, c"map");
            }
            b'~' => {
                ffi::lua_createtable(l, 0, 0);
                for _ in 0..Self::int(line).max(0) {
                    if self.value(l, depth + 1) {
                        if ffi::lua_type(l, -1) == ffi::LUA_TNIL {
                            ffi::lua_pop(l, 1);
                        } else {
                            ffi::lua_pushboolean(l, 1);
                            ffi::lua_rawset(l, -3);
                        }
                    }
                }
                wrap(l, c"set");
            }
            b'|' => {
                // Attributes are not shown to scripts: skip them, return what follows.
                for _ in 0..Self::int(line).max(0).saturating_mul(2) {
                    if self.value(l, depth + 1) {
                        ffi::lua_pop(l, 1);
                    }
                }
                return self.value(l, depth);
            }
            b'_' => ffi::lua_pushnil(l),
            b'#' => ffi::lua_pushboolean(l, (line.first() == Some(&b't')) as c_int),
            b',' => {
                let d = match std::str::from_utf8(line).unwrap_or("") {
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    "nan" | "-nan" => f64::NAN,
                    other => other.parse().unwrap_or(0.0),
                };
                ffi::lua_pushnumber(l, d);
                wrap(l, c"double");
            }
            b'(' => {
                push_bytes(l, line);
                wrap(l, c"big_number");
            }
            b'=' => {
                let body = self.bulk(Self::int(line));
                let (format, text) = if body.len() >= 4 { (&body[..3], &body[4..]) } else { (&b"txt"[..], body) };
                ffi::lua_createtable(l, 0, 2);
                push_bytes(l, text);
                ffi::lua_setfield(l, -2, c"string".as_ptr());
                push_bytes(l, format);
                ffi::lua_setfield(l, -2, c"format".as_ptr());
                wrap(l, c"verbatim_string");
            }
            _ => ffi::lua_pushnil(l),
        }
        true
    }
}
