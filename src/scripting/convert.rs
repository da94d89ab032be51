//! Conversions between Redis replies and Lua values, as Redis 7.2 does them.
//!
//! Redis → Lua (what redis.call returns): the command's RESP reply is parsed back. Integers
//! become numbers, bulk strings strings, a null bulk or null array `false`, a status reply
//! `{ok = s}`, an error `{err = s}`, arrays tables; in RESP3 (redis.setresp(3)) maps become
//! `{map = {...}}`, sets `{set = {k = true}}`, nulls nil, booleans booleans, doubles
//! `{double = n}`, big numbers `{big_number = s}` and verbatim strings
//! `{verbatim_string = {format = f, string = s}}`.
//!
//! Lua → Redis (what a script returns): strings are bulk strings, numbers integers (truncated),
//! `true` is 1 and `false` null (RESP3 scripts: booleans), tables with `err`, `ok`, `double`,
//! `big_number`, `verbatim_string`, `map` or `set` fields the matching reply, other tables
//! arrays up to their first nil, anything else null.

use larder_resp::Reply;
use mlua::{Lua, Table, Value};

use super::api::error_table;

/// Deepest reply nesting converted (deeper replies cannot come from commands).
const MAX_PARSE_DEPTH: usize = 128;
/// Deepest table nesting a script may return; deeper elements are replaced by an error, as
/// Redis does when its Lua stack runs out.
const MAX_REPLY_DEPTH: usize = 200;

/// Parses the single RESP reply in `buf` into a Lua value. An error reply becomes an error
/// table marked `ignore_error_stats_update` (the command already counted it).
pub fn reply_to_lua(lua: &Lua, buf: &[u8]) -> mlua::Result<Value> {
    let mut p = Parser { buf, pos: 0 };
    p.value(lua, 0)
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn line(&mut self) -> &[u8] {
        let rest = &self.buf[self.pos.min(self.buf.len())..];
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

    fn bulk(&mut self, len: i64) -> &[u8] {
        let start = self.pos.min(self.buf.len());
        let end = (start + len.max(0) as usize).min(self.buf.len());
        self.pos = (end + 2).min(self.buf.len());
        &self.buf[start..end]
    }

    fn value(&mut self, lua: &Lua, depth: usize) -> mlua::Result<Value> {
        if self.pos >= self.buf.len() || depth > MAX_PARSE_DEPTH {
            return Ok(Value::Nil);
        }
        let kind = self.buf[self.pos];
        self.pos += 1;
        let line = self.line().to_vec();
        Ok(match kind {
            b':' => Value::Number(Self::int(&line) as f64),
            b'$' => {
                let n = Self::int(&line);
                if n < 0 {
                    Value::Boolean(false)
                } else {
                    Value::String(lua.create_string(self.bulk(n))?)
                }
            }
            b'+' => {
                let t = lua.create_table()?;
                t.raw_set("ok", lua.create_string(&line)?)?;
                Value::Table(t)
            }
            b'-' => {
                let mut text = b"-".to_vec();
                text.extend_from_slice(&line);
                let t = error_table(lua, &text)?;
                t.raw_set("ignore_error_stats_update", true)?;
                Value::Table(t)
            }
            b'*' | b'>' => {
                let n = Self::int(&line);
                if n < 0 {
                    return Ok(Value::Boolean(false));
                }
                let t = lua.create_table_with_capacity(n as usize, 0)?;
                for i in 1..=n {
                    let v = self.value(lua, depth + 1)?;
                    t.raw_set(i, v)?;
                }
                Value::Table(t)
            }
            b'%' => {
                let inner = lua.create_table()?;
                for _ in 0..Self::int(&line).max(0) {
                    let k = self.value(lua, depth + 1)?;
                    let v = self.value(lua, depth + 1)?;
                    if !k.is_nil() {
                        inner.raw_set(k, v)?;
                    }
                }
                let t = lua.create_table()?;
                t.raw_set("map", inner)?;
                Value::Table(t)
            }
            b'~' => {
                let inner = lua.create_table()?;
                for _ in 0..Self::int(&line).max(0) {
                    let k = self.value(lua, depth + 1)?;
                    if !k.is_nil() {
                        inner.raw_set(k, true)?;
                    }
                }
                let t = lua.create_table()?;
                t.raw_set("set", inner)?;
                Value::Table(t)
            }
            b'|' => {
                // Attributes are not shown to scripts: skip them, return what follows.
                for _ in 0..Self::int(&line).max(0) * 2 {
                    self.value(lua, depth + 1)?;
                }
                return self.value(lua, depth);
            }
            b'_' => Value::Nil,
            b'#' => Value::Boolean(line.first() == Some(&b't')),
            b',' => {
                let s = String::from_utf8_lossy(&line);
                let d = match &*s {
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    "nan" | "-nan" => f64::NAN,
                    other => other.parse().unwrap_or(0.0),
                };
                let t = lua.create_table()?;
                t.raw_set("double", d)?;
                Value::Table(t)
            }
            b'(' => {
                let t = lua.create_table()?;
                t.raw_set("big_number", lua.create_string(&line)?)?;
                Value::Table(t)
            }
            b'=' => {
                let body = self.bulk(Self::int(&line)).to_vec();
                let (format, text) = if body.len() >= 4 { (&body[..3], &body[4..]) } else { (&b"txt"[..], &body[..]) };
                let inner = lua.create_table()?;
                inner.raw_set("string", lua.create_string(text)?)?;
                inner.raw_set("format", lua.create_string(format)?)?;
                let t = lua.create_table()?;
                t.raw_set("verbatim_string", inner)?;
                Value::Table(t)
            }
            _ => Value::Nil,
        })
    }
}

/// An error the script's reply contains.
pub struct ReplyError {
    /// Its text (code first).
    pub text: Vec<u8>,
    /// True when the error was already counted where it happened (a command's error reply
    /// passed back from redis.pcall).
    pub counted: bool,
}

/// Writes the Lua value `v` as a reply in the caller's protocol. `script_resp3` is the
/// protocol the script chose with redis.setresp (it decides how booleans are returned).
/// Every error written is pushed to `errors`, in order.
pub fn lua_to_reply(
    v: &Value,
    out: &mut Vec<u8>,
    caller_resp3: bool,
    script_resp3: bool,
    errors: &mut Vec<ReplyError>,
) {
    let mut w = Writer { out, caller_resp3, script_resp3, errors };
    w.value(v, 0);
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    caller_resp3: bool,
    script_resp3: bool,
    errors: &'a mut Vec<ReplyError>,
}

fn field(t: &Table, name: &str) -> Value {
    t.raw_get::<Value>(name).unwrap_or(Value::Nil)
}

/// Status and big-number texts are one line: CR and LF become spaces, as Redis maps them.
fn one_line(b: &[u8]) -> Vec<u8> {
    b.iter().map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }).collect()
}

impl Writer<'_> {
    fn reply(&mut self) -> Reply<'_> {
        Reply::new(self.out, self.caller_resp3)
    }

    fn error(&mut self, text: Vec<u8>, counted: bool) {
        self.reply().error(&text);
        self.errors.push(ReplyError { text, counted });
    }

    fn value(&mut self, v: &Value, depth: usize) {
        match v {
            Value::String(s) => self.reply().bulk(&s.as_bytes()),
            Value::Boolean(b) => {
                if self.script_resp3 {
                    self.reply().boolean(*b)
                } else if *b {
                    self.reply().int(1)
                } else {
                    self.reply().null()
                }
            }
            Value::Integer(i) => self.reply().int(*i),
            Value::Number(n) => self.reply().int(*n as i64),
            Value::Table(t) => {
                if depth >= MAX_REPLY_DEPTH {
                    self.error(b"ERR reached lua stack limit".to_vec(), false);
                } else {
                    self.table(t, depth)
                }
            }
            _ => self.reply().null(),
        }
    }

    fn table(&mut self, t: &Table, depth: usize) {
        if let Value::String(e) = field(t, "err") {
            let counted = matches!(field(t, "ignore_error_stats_update"), Value::Boolean(true));
            self.error(e.as_bytes().to_vec(), counted);
            return;
        }
        if let Value::String(s) = field(t, "ok") {
            let text = one_line(&s.as_bytes());
            self.reply().simple(&text);
            return;
        }
        match field(t, "double") {
            Value::Number(d) => return self.reply().double(d),
            Value::Integer(i) => return self.reply().double(i as f64),
            _ => {}
        }
        if let Value::String(s) = field(t, "big_number") {
            let text = one_line(&s.as_bytes());
            self.reply().big_number(&text);
            return;
        }
        if let Value::Table(vt) = field(t, "verbatim_string") {
            if let (Value::String(f), Value::String(s)) = (field(&vt, "format"), field(&vt, "string")) {
                let fb = f.as_bytes();
                let mut format = *b"txt";
                for (i, b) in fb.iter().take(3).enumerate() {
                    format[i] = *b;
                }
                self.reply().verbatim(&format, &s.as_bytes());
                return;
            }
        }
        if let Value::Table(m) = field(t, "map") {
            let d = self.reply().deferred();
            let mut n = 0;
            for (k, v) in m.pairs::<Value, Value>().flatten() {
                self.value(&k, depth + 1);
                self.value(&v, depth + 1);
                n += 1;
            }
            self.reply().finish_map(d, n);
            return;
        }
        if let Value::Table(s) = field(t, "set") {
            let d = self.reply().deferred();
            let mut n = 0;
            for (k, _) in s.pairs::<Value, Value>().flatten() {
                self.value(&k, depth + 1);
                n += 1;
            }
            self.reply().finish_set(d, n);
            return;
        }
        let d = self.reply().deferred();
        let mut n = 0usize;
        loop {
            let v: Value = t.raw_get(n + 1).unwrap_or(Value::Nil);
            if v.is_nil() {
                break;
            }
            self.value(&v, depth + 1);
            n += 1;
        }
        self.reply().finish_array(d, n);
    }
}
