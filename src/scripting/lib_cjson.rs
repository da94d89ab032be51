//! The `cjson` library with lua-cjson 2.1's behaviour, which Redis scripts rely on:
//! `cjson.encode`, `cjson.decode`, `cjson.null` and the configuration functions.
//!
//! Encoding: nil and `cjson.null` are `null`; numbers use `%.14g` (encode_number_precision);
//! NaN and infinities are refused unless encode_invalid_numbers; a table whose keys are all
//! positive integers is an array (refused when excessively sparse), any other table an object
//! (keys must be strings or numbers); an empty table is `{}`; `/` is escaped as `\/`.
//! Decoding: JSON null is `cjson.null`; numbers are Lua numbers; `\u` escapes become UTF-8.
//! Errors carry lua-cjson's texts ("Expected value but found invalid token at character 1").

use std::sync::Arc;

use mlua::{Lua, MultiValue, Table, Value};
use parking_lot::Mutex;

use super::api::{bad_arg, lua_type_name, raise_msg, to_bytes, to_number};
use super::num::fmt_g;

/// Deepest nesting handled whatever the configuration says (the Rust stack is the limit).
const HARD_DEPTH: i64 = 128;

#[derive(Clone, Copy)]
struct Cfg {
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
    encode_max_depth: i64,
    decode_max_depth: i64,
    precision: usize,
    keep_buffer: bool,
    /// 0: refuse, 1: allow, 2: encode as null.
    encode_invalid: u8,
    decode_invalid: bool,
}

impl Default for Cfg {
    fn default() -> Self {
        Cfg {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            precision: 14,
            keep_buffer: true,
            encode_invalid: 0,
            decode_invalid: true,
        }
    }
}

type Shared = Arc<Mutex<Cfg>>;

/// Builds the library table.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let cfg: Shared = Arc::new(Mutex::new(Cfg::default()));
    let t = lua.create_table()?;
    let c = cfg.clone();
    t.raw_set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise_msg(lua, "bad argument #1 to 'encode' (expected 1 argument)"));
            }
            let cfg = *c.lock();
            let mut out = Vec::new();
            let v = args.front().cloned().unwrap_or(Value::Nil);
            encode(&v, &cfg, 0, &mut out).map_err(|e| raise_msg(lua, &e))?;
            lua.create_string(out)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise_msg(lua, "bad argument #1 to 'decode' (expected 1 argument)"));
            }
            let text = match args.front() {
                Some(v @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) => to_bytes(v).unwrap_or_default(),
                other => return Err(raise_msg(lua, &bad_arg(1, "decode", "string", other))),
            };
            let cfg = *c.lock();
            let mut p = Parser { s: &text, pos: 0, cfg, depth: 0 };
            p.document(lua).map_err(|e| match e {
                DecodeError::Lua(e) => e,
                DecodeError::Msg(m) => raise_msg(lua, &m),
            })
        })?,
    )?;
    add_config(lua, &t, &cfg)?;
    t.raw_set("null", Value::NULL)?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    t.raw_set("new", lua.create_function(|lua, _: MultiValue| open(lua))?)?;
    Ok(t)
}

/// An integer configuration argument within `lo..=hi`, or None when absent.
fn int_opt(lua: &Lua, args: &MultiValue, i: usize, fname: &str, lo: i64, hi: i64) -> mlua::Result<Option<i64>> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(None),
        Some(v) => match to_number(v) {
            Some(n) if n.fract() == 0.0 && (lo as f64..=hi as f64).contains(&n) => Ok(Some(n as i64)),
            _ => Err(raise_msg(
                lua,
                &format!("bad argument #{} to '{fname}' (expected integer between {lo} and {hi})", i + 1),
            )),
        },
    }
}

/// A boolean configuration argument (`true`/`false`/`"on"`/`"off"`, plus `"null"` when
/// `allow_null`), or None when absent.
fn enum_opt(lua: &Lua, args: &MultiValue, i: usize, fname: &str, allow_null: bool) -> mlua::Result<Option<u8>> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b as u8)),
        Some(Value::String(s)) if &s.as_bytes()[..] == b"on" => Ok(Some(1)),
        Some(Value::String(s)) if &s.as_bytes()[..] == b"off" => Ok(Some(0)),
        Some(Value::String(s)) if allow_null && &s.as_bytes()[..] == b"null" => Ok(Some(2)),
        Some(_) => {
            let opts = if allow_null { "'on', 'off', 'null'" } else { "'on', 'off'" };
            Err(raise_msg(
                lua,
                &format!("bad argument #{} to '{fname}' (invalid option; expected one of {opts})", i + 1),
            ))
        }
    }
}

fn add_config(lua: &Lua, t: &Table, cfg: &Shared) -> mlua::Result<()> {
    let c = cfg.clone();
    t.raw_set(
        "encode_sparse_array",
        lua.create_function(move |lua, args: MultiValue| {
            let convert = enum_opt(lua, &args, 0, "encode_sparse_array", false)?;
            let ratio = int_opt(lua, &args, 1, "encode_sparse_array", 0, i32::MAX as i64)?;
            let safe = int_opt(lua, &args, 2, "encode_sparse_array", 0, i32::MAX as i64)?;
            let mut g = c.lock();
            if let Some(v) = convert {
                g.sparse_convert = v == 1;
            }
            if let Some(v) = ratio {
                g.sparse_ratio = v;
            }
            if let Some(v) = safe {
                g.sparse_safe = v;
            }
            Ok((g.sparse_convert, g.sparse_ratio, g.sparse_safe))
        })?,
    )?;
    type Get = fn(&Cfg) -> i64;
    type Set = fn(&mut Cfg, i64);
    let ints: [(&str, i64, i64, Get, Set); 3] = [
        ("encode_max_depth", 1, i32::MAX as i64, |c| c.encode_max_depth, |c, v| c.encode_max_depth = v),
        ("decode_max_depth", 1, i32::MAX as i64, |c| c.decode_max_depth, |c, v| c.decode_max_depth = v),
        ("encode_number_precision", 1, 14, |c| c.precision as i64, |c, v| c.precision = v as usize),
    ];
    for (name, lo, hi, get, set) in ints {
        let c = cfg.clone();
        t.raw_set(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let v = int_opt(lua, &args, 0, name, lo, hi)?;
                let mut g = c.lock();
                if let Some(v) = v {
                    set(&mut g, v);
                }
                Ok(get(&g))
            })?,
        )?;
    }
    let c = cfg.clone();
    t.raw_set(
        "encode_keep_buffer",
        lua.create_function(move |lua, args: MultiValue| {
            let v = enum_opt(lua, &args, 0, "encode_keep_buffer", false)?;
            let mut g = c.lock();
            if let Some(v) = v {
                g.keep_buffer = v == 1;
            }
            Ok(g.keep_buffer)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(move |lua, args: MultiValue| {
            let v = enum_opt(lua, &args, 0, "encode_invalid_numbers", true)?;
            let mut g = c.lock();
            if let Some(v) = v {
                g.encode_invalid = v;
            }
            Ok(match g.encode_invalid {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                _ => Value::String(lua.create_string("null")?),
            })
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode_invalid_numbers",
        lua.create_function(move |lua, args: MultiValue| {
            let v = enum_opt(lua, &args, 0, "decode_invalid_numbers", false)?;
            let mut g = c.lock();
            if let Some(v) = v {
                g.decode_invalid = v == 1;
            }
            Ok(g.decode_invalid)
        })?,
    )?;
    Ok(())
}

fn encode_number(n: f64, cfg: &Cfg, out: &mut Vec<u8>) -> Result<(), String> {
    if !n.is_finite() {
        match cfg.encode_invalid {
            0 => return Err("Cannot serialise number: must not be NaN or Inf".into()),
            2 => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            _ => {}
        }
    }
    out.extend_from_slice(fmt_g(n, cfg.precision).as_bytes());
    Ok(())
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\x08' => out.extend_from_slice(b"\\b"),
            b'\x0c' => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// The array length of `t`, or None when it must be encoded as an object.
fn array_length(t: &Table, cfg: &Cfg) -> Result<Option<usize>, String> {
    let (mut max, mut items) = (0f64, 0i64);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if n < 1.0 || n.fract() != 0.0 {
            return Ok(None);
        }
        max = max.max(n);
        items += 1;
    }
    if cfg.sparse_ratio > 0 && max > (items * cfg.sparse_ratio) as f64 && max > cfg.sparse_safe as f64 {
        if !cfg.sparse_convert {
            return Err("Cannot serialise table: excessively sparse array".into());
        }
        return Ok(None);
    }
    Ok(Some(max as usize))
}

fn encode(v: &Value, cfg: &Cfg, depth: i64, out: &mut Vec<u8>) -> Result<(), String> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => encode_number(*i as f64, cfg, out)?,
        Value::Number(n) => encode_number(*n, cfg, out)?,
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > cfg.encode_max_depth || depth > HARD_DEPTH {
                return Err(format!("Cannot serialise, excessive nesting ({depth})"));
            }
            match array_length(t, cfg)? {
                Some(len) if len > 0 => {
                    out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            out.push(b',');
                        }
                        let item: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                        encode(&item, cfg, depth, out)?;
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    let mut first = true;
                    for pair in t.pairs::<Value, Value>() {
                        let (k, item) = pair.map_err(|e| e.to_string())?;
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        match &k {
                            Value::String(s) => encode_string(&s.as_bytes(), out),
                            Value::Integer(_) | Value::Number(_) => {
                                out.push(b'"');
                                encode_number(to_number(&k).unwrap_or(0.0), cfg, out)?;
                                out.push(b'"');
                            }
                            other => {
                                return Err(format!(
                                    "Cannot serialise {}: table key must be a number or string",
                                    lua_type_name(other)
                                ))
                            }
                        }
                        out.push(b':');
                        encode(&item, cfg, depth, out)?;
                    }
                    out.push(b'}');
                }
            }
        }
        other => return Err(format!("Cannot serialise {}: type not supported", lua_type_name(other))),
    }
    Ok(())
}

enum DecodeError {
    Lua(mlua::Error),
    Msg(String),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> Self {
        DecodeError::Lua(e)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    cfg: Cfg,
    depth: i64,
}

/// What was found where something else was expected.
enum Found {
    Token(&'static str),
    Error(&'static str),
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn fail(&self, expected: &str, found: Found, at: usize) -> DecodeError {
        let what = match found {
            Found::Token(t) | Found::Error(t) => t,
        };
        DecodeError::Msg(format!("Expected {expected} but found {what} at character {}", at + 1))
    }

    /// What the next token is, for error messages.
    fn describe(&self) -> Found {
        match self.s.get(self.pos) {
            None => Found::Token("T_END"),
            Some(b'{') => Found::Token("T_OBJ_BEGIN"),
            Some(b'}') => Found::Token("T_OBJ_END"),
            Some(b'[') => Found::Token("T_ARR_BEGIN"),
            Some(b']') => Found::Token("T_ARR_END"),
            Some(b':') => Found::Token("T_COLON"),
            Some(b',') => Found::Token("T_COMMA"),
            Some(b'"') => Found::Token("T_STRING"),
            Some(b'-' | b'0'..=b'9') => Found::Token("T_NUMBER"),
            _ if self.rest_starts(b"true") || self.rest_starts(b"false") => Found::Token("T_BOOLEAN"),
            _ if self.rest_starts(b"null") => Found::Token("T_NULL"),
            _ => Found::Error("invalid token"),
        }
    }

    fn rest_starts(&self, w: &[u8]) -> bool {
        self.s[self.pos.min(self.s.len())..].starts_with(w)
    }

    fn document(&mut self, lua: &Lua) -> Result<Value, DecodeError> {
        self.skip_ws();
        let v = self.value(lua)?;
        self.skip_ws();
        if self.pos < self.s.len() {
            let found = self.describe();
            return Err(self.fail("the end", found, self.pos));
        }
        Ok(v)
    }

    fn descend(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth || self.depth > HARD_DEPTH {
            return Err(DecodeError::Msg(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth,
                self.pos + 1
            )));
        }
        Ok(())
    }

    fn value(&mut self, lua: &Lua) -> Result<Value, DecodeError> {
        let start = self.pos;
        match self.s.get(self.pos) {
            Some(b'{') => {
                self.descend()?;
                self.pos += 1;
                let t = lua.create_table()?;
                self.skip_ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                loop {
                    self.skip_ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        let found = self.describe();
                        return Err(self.fail("object key string", found, self.pos));
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        let found = self.describe();
                        return Err(self.fail("colon", found, self.pos));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let v = self.value(lua)?;
                    t.raw_set(lua.create_string(&key)?, v)?;
                    self.skip_ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            break;
                        }
                        _ => {
                            let found = self.describe();
                            return Err(self.fail("comma or object end", found, self.pos));
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::Table(t))
            }
            Some(b'[') => {
                self.descend()?;
                self.pos += 1;
                let t = lua.create_table()?;
                self.skip_ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                let mut i = 1;
                loop {
                    self.skip_ws();
                    let v = self.value(lua)?;
                    t.raw_set(i, v)?;
                    i += 1;
                    self.skip_ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        _ => {
                            let found = self.describe();
                            return Err(self.fail("comma or array end", found, self.pos));
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::Table(t))
            }
            Some(b'"') => {
                let s = self.string()?;
                Ok(Value::String(lua.create_string(&s)?))
            }
            _ if self.rest_starts(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            _ if self.rest_starts(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            _ if self.rest_starts(b"null") => {
                self.pos += 4;
                Ok(Value::NULL)
            }
            Some(b']' | b'}' | b',' | b':') | None => {
                let found = self.describe();
                Err(self.fail("value", found, start))
            }
            _ => match self.number() {
                Some(n) => Ok(Value::Number(n)),
                None => Err(self.fail("value", Found::Error(self.number_error()), start)),
            },
        }
    }

    fn number_error(&self) -> &'static str {
        match self.s.get(self.pos) {
            Some(b'-' | b'+' | b'0'..=b'9') => "invalid number",
            _ if self.rest_starts(b"inf") || self.rest_starts(b"nan") => "invalid number",
            _ => "invalid token",
        }
    }

    /// A number as strtod reads it, refusing what lua-cjson calls invalid numbers (a leading
    /// `+`, hexadecimal, leading zeros, inf, nan) unless decode_invalid_numbers.
    fn number(&mut self) -> Option<f64> {
        let rest = &self.s[self.pos..];
        let body = rest.strip_prefix(b"-").unwrap_or(rest);
        let lower = |b: &[u8], w: &[u8]| b.len() >= w.len() && b[..w.len()].eq_ignore_ascii_case(w);
        let invalid = rest.first() == Some(&b'+')
            || (body.first() == Some(&b'0') && body.get(1).is_some_and(|c| *c | 0x20 == b'x' || c.is_ascii_digit()))
            || lower(body, b"inf")
            || lower(body, b"nan");
        if invalid && !self.cfg.decode_invalid {
            return None;
        }
        let neg = rest.first() == Some(&b'-');
        let sign_len = usize::from(matches!(rest.first(), Some(b'-' | b'+')));
        let b = &rest[sign_len..];
        if lower(b, b"0x") {
            let digits = b[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
            if digits == 0 {
                return None;
            }
            let v = b[2..2 + digits].iter().fold(0f64, |a, c| a * 16.0 + (*c as char).to_digit(16).unwrap_or(0) as f64);
            self.pos += sign_len + 2 + digits;
            return Some(if neg { -v } else { v });
        }
        for (word, val) in [(&b"infinity"[..], f64::INFINITY), (b"inf", f64::INFINITY), (b"nan", f64::NAN)] {
            if lower(b, word) {
                self.pos += sign_len + word.len();
                return Some(if neg { -val } else { val });
            }
        }
        let mut i = 0;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let int_digits = i;
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if int_digits == 0 && i <= 1 {
            return None;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if b.get(j).is_some_and(u8::is_ascii_digit) {
                while b.get(j).is_some_and(u8::is_ascii_digit) {
                    j += 1;
                }
                i = j;
            }
        }
        let text = std::str::from_utf8(&rest[..sign_len + i]).ok()?;
        let v: f64 = text.parse().ok()?;
        self.pos += sign_len + i;
        Some(v)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.s.get(at..at + 4)?;
        let text = std::str::from_utf8(h).ok()?;
        u32::from_str_radix(text, 16).ok()
    }

    fn string(&mut self) -> Result<Vec<u8>, DecodeError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(self.fail("value", Found::Error("unexpected end of string"), start));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let esc = self.s.get(self.pos + 1).copied();
                    let simple = match esc {
                        Some(b'"') => Some(b'"'),
                        Some(b'\\') => Some(b'\\'),
                        Some(b'/') => Some(b'/'),
                        Some(b'b') => Some(b'\x08'),
                        Some(b'f') => Some(b'\x0c'),
                        Some(b'n') => Some(b'\n'),
                        Some(b'r') => Some(b'\r'),
                        Some(b't') => Some(b'\t'),
                        _ => None,
                    };
                    if let Some(ch) = simple {
                        out.push(ch);
                        self.pos += 2;
                        continue;
                    }
                    if esc != Some(b'u') {
                        return Err(self.fail("value", Found::Error("invalid escape code"), start));
                    }
                    let bad = || Found::Error("invalid unicode escape code");
                    let Some(mut cp) = self.hex4(self.pos + 2) else { return Err(self.fail("value", bad(), start)) };
                    let mut used = 6;
                    if (0xD800..0xDC00).contains(&cp) {
                        let low = if self.s.get(self.pos + 6..self.pos + 8) == Some(b"\\u") {
                            self.hex4(self.pos + 8)
                        } else {
                            None
                        };
                        match low {
                            Some(l) if (0xDC00..0xE000).contains(&l) => {
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (l - 0xDC00);
                                used = 12;
                            }
                            _ => return Err(self.fail("value", bad(), start)),
                        }
                    } else if (0xDC00..0xE000).contains(&cp) {
                        return Err(self.fail("value", bad(), start));
                    }
                    let ch = char::from_u32(cp).ok_or_else(|| self.fail("value", bad(), start))?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    self.pos += used;
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(lua: &Lua, src: &str) -> Result<String, String> {
        let v: Value = lua.load(src).eval().map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        encode(&v, &Cfg::default(), 0, &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn encodes_like_lua_cjson() {
        let lua = Lua::new();
        assert_eq!(enc(&lua, "{1, 2, 'a'}").as_deref(), Ok(r#"[1,2,"a"]"#));
        assert_eq!(enc(&lua, "{}").as_deref(), Ok("{}"));
        assert_eq!(enc(&lua, "{a = 0.1}").as_deref(), Ok(r#"{"a":0.1}"#));
        assert_eq!(enc(&lua, "'a/b\\n\"'").as_deref(), Ok(r#""a\/b\n\"""#));
        assert_eq!(enc(&lua, "{[1] = 1, [100] = 2}"), Err("Cannot serialise table: excessively sparse array".into()));
        assert_eq!(enc(&lua, "0/0"), Err("Cannot serialise number: must not be NaN or Inf".into()));
        assert_eq!(enc(&lua, "3.14159265358979").as_deref(), Ok("3.1415926535898"));
        assert!(enc(&lua, "{[true] = 1}").is_err());
    }

    fn dec(lua: &Lua, s: &str) -> Result<Value, String> {
        let mut p = Parser { s: s.as_bytes(), pos: 0, cfg: Cfg::default(), depth: 0 };
        p.document(lua).map_err(|e| match e {
            DecodeError::Lua(e) => e.to_string(),
            DecodeError::Msg(m) => m,
        })
    }

    #[test]
    fn decodes_like_lua_cjson() {
        let lua = Lua::new();
        assert!(matches!(dec(&lua, "[0.0, -5e3, 1023.2]"), Ok(Value::Table(_))));
        assert!(
            matches!(dec(&lua, " \"\\u00e9\\ud83d\\ude00\" "), Ok(Value::String(s)) if s.to_str().map(|s| s == "é😀").unwrap_or(false))
        );
        assert_eq!(dec(&lua, "").err().as_deref(), Some("Expected value but found T_END at character 1"));
        assert_eq!(dec(&lua, "{\"a\" 1}").err().as_deref(), Some("Expected colon but found T_NUMBER at character 6"));
        assert_eq!(
            dec(&lua, "[1] x").err().as_deref(),
            Some("Expected the end but found invalid token at character 5")
        );
        assert_eq!(dec(&lua, "abc").err().as_deref(), Some("Expected value but found invalid token at character 1"));
        assert!(matches!(dec(&lua, "null"), Ok(Value::LightUserData(_))));
    }
}
