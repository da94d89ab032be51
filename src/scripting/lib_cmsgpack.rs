//! The `cmsgpack` library with lua-cmsgpack's behaviour: `pack(...)` encodes each argument
//! and concatenates them, `unpack(s)` returns every object, `unpack_one(s [, offset])` and
//! `unpack_limit(s, limit [, offset])` return the next offset (-1 at the end) first.
//!
//! Numbers that are whole and fit 64 bits are integers in the smallest encoding, others a
//! float 32 when exact, else a float 64. Tables whose keys are exactly 1..n are arrays, others
//! maps. Nesting deeper than 16 tables is encoded as nil, as lua-cmsgpack does.

use mlua::{Lua, MultiValue, Table, Value};

use super::api::{bad_arg, bad_number, raise_msg, to_bytes, to_number};

/// lua-cmsgpack's LUACMSGPACK_MAX_NESTING.
const MAX_NESTING: usize = 16;
/// Deepest nesting decoded (the Rust stack is the limit).
const MAX_DECODE_DEPTH: usize = 128;

/// Builds the library table.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(raise_msg(lua, "MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for v in args.iter() {
                encode(v, 0, &mut out).map_err(|e| raise_msg(lua, &e.to_string()))?;
            }
            lua.create_string(out)
        })?,
    )?;
    t.raw_set("unpack", lua.create_function(|lua, args: MultiValue| unpack_full(lua, &args, 0, 0, "unpack"))?)?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: MultiValue| {
            let offset = opt_int(lua, &args, 1, "unpack_one")?;
            unpack_full(lua, &args, 1, offset, "unpack_one")
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: MultiValue| {
            let limit = match args.get(1).and_then(to_number) {
                Some(n) => n as i64,
                None => return Err(raise_msg(lua, &bad_number(2, "unpack_limit", args.get(1)))),
            };
            let offset = opt_int(lua, &args, 2, "unpack_limit")?;
            unpack_full(lua, &args, limit, offset, "unpack_limit")
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    Ok(t)
}

fn opt_int(lua: &Lua, args: &MultiValue, i: usize, fname: &str) -> mlua::Result<i64> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(0),
        Some(v) => to_number(v).map(|n| n as i64).ok_or_else(|| raise_msg(lua, &bad_number(i + 1, fname, Some(v)))),
    }
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        let u = n as u64;
        if u < 128 {
            out.push(u as u8);
        } else if u <= 0xff {
            out.extend_from_slice(&[0xcc, u as u8]);
        } else if u <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_number(n: f64, out: &mut Vec<u8>) {
    // lua-cmsgpack's IS_INT64_EQUIVALENT: whole and representable as an int64.
    if n.is_finite() && n.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        encode_int(n as i64, out);
    } else {
        let f = n as f32;
        if f as f64 == n {
            out.push(0xca);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        } else {
            out.push(0xcb);
            out.extend_from_slice(&n.to_bits().to_be_bytes());
        }
    }
}

fn encode_bytes(s: &[u8], out: &mut Vec<u8>) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn header(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// The array length of `t` when its keys are exactly 1..n (lua-cmsgpack's table_is_an_array).
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let (mut count, mut max) = (0usize, 0f64);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(None),
        };
        if n < 1.0 || n.fract() != 0.0 {
            return Ok(None);
        }
        count += 1;
        max = max.max(n);
    }
    Ok((max == count as f64).then_some(count))
}

fn encode(v: &Value, level: usize, out: &mut Vec<u8>) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(*i as f64, out),
        Value::Number(n) => encode_number(*n, out),
        Value::String(s) => encode_bytes(&s.as_bytes(), out),
        Value::Table(t) if level < MAX_NESTING => match array_len(t)? {
            Some(n) => {
                header(out, n, 0x90, 0xdc, 0xdd);
                for i in 1..=n {
                    encode(&t.raw_get::<Value>(i)?, level + 1, out)?;
                }
            }
            None => {
                // Counted first, then encoded pair by pair: holding every key and value at once
                // would exhaust the interpreter's reference stack on large tables.
                let mut n = 0;
                for pair in t.pairs::<Value, Value>() {
                    pair?;
                    n += 1;
                }
                header(out, n, 0x80, 0xde, 0xdf);
                for pair in t.pairs::<Value, Value>() {
                    let (k, val) = pair?;
                    encode(&k, level + 1, out)?;
                    encode(&val, level + 1, out)?;
                }
            }
        },
        _ => out.push(0xc0),
    }
    Ok(())
}

/// Why decoding stopped.
enum Stop {
    Eof,
    BadFormat,
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Self {
        Stop::Lua(e)
    }
}

struct Cur<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cur<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Stop> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.s.len()).ok_or(Stop::Eof)?;
        let b = &self.s[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn uint(&mut self, n: usize) -> Result<u64, Stop> {
        Ok(self.take(n)?.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
    }

    fn decode(&mut self, lua: &Lua, depth: usize) -> Result<Value, Stop> {
        if depth > MAX_DECODE_DEPTH {
            return Err(Stop::BadFormat);
        }
        let c = self.take(1)?[0];
        Ok(match c {
            0x00..=0x7f => Value::Number(c as f64),
            0xe0..=0xff => Value::Number(c as i8 as f64),
            0xcc => Value::Number(self.uint(1)? as f64),
            0xcd => Value::Number(self.uint(2)? as f64),
            0xce => Value::Number(self.uint(4)? as f64),
            0xcf => Value::Number(self.uint(8)? as f64),
            0xd0 => Value::Number(self.uint(1)? as u8 as i8 as f64),
            0xd1 => Value::Number(self.uint(2)? as u16 as i16 as f64),
            0xd2 => Value::Number(self.uint(4)? as u32 as i32 as f64),
            0xd3 => Value::Number(self.uint(8)? as i64 as f64),
            0xc0 => Value::Nil,
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xca => Value::Number(f32::from_bits(self.uint(4)? as u32) as f64),
            0xcb => Value::Number(f64::from_bits(self.uint(8)?)),
            0xa0..=0xbf => self.string(lua, (c & 0x1f) as usize)?,
            0xd9 | 0xc4 => {
                let n = self.uint(1)? as usize;
                self.string(lua, n)?
            }
            0xda | 0xc5 => {
                let n = self.uint(2)? as usize;
                self.string(lua, n)?
            }
            0xdb | 0xc6 => {
                let n = self.uint(4)? as usize;
                self.string(lua, n)?
            }
            0x90..=0x9f => self.array(lua, (c & 0x0f) as usize, depth)?,
            0xdc => {
                let n = self.uint(2)? as usize;
                self.array(lua, n, depth)?
            }
            0xdd => {
                let n = self.uint(4)? as usize;
                self.array(lua, n, depth)?
            }
            0x80..=0x8f => self.map(lua, (c & 0x0f) as usize, depth)?,
            0xde => {
                let n = self.uint(2)? as usize;
                self.map(lua, n, depth)?
            }
            0xdf => {
                let n = self.uint(4)? as usize;
                self.map(lua, n, depth)?
            }
            _ => return Err(Stop::BadFormat),
        })
    }

    fn string(&mut self, lua: &Lua, n: usize) -> Result<Value, Stop> {
        let b = self.take(n)?;
        Ok(Value::String(lua.create_string(b)?))
    }

    fn array(&mut self, lua: &Lua, n: usize, depth: usize) -> Result<Value, Stop> {
        // Capacity only up to what the input could hold: a length field is not trusted.
        let t = lua.create_table_with_capacity(n.min(self.s.len() - self.pos), 0)?;
        for i in 1..=n {
            let v = self.decode(lua, depth + 1)?;
            t.raw_set(i, v)?;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, lua: &Lua, n: usize, depth: usize) -> Result<Value, Stop> {
        let t = lua.create_table()?;
        for _ in 0..n {
            let k = self.decode(lua, depth + 1)?;
            let v = self.decode(lua, depth + 1)?;
            if !k.is_nil() && !matches!(k, Value::Number(n) if n.is_nan()) {
                t.raw_set(k, v)?;
            }
        }
        Ok(Value::Table(t))
    }
}

/// lua-cmsgpack's mp_unpack_full: decodes up to `limit` objects (0 with offset 0: all, and no
/// offset returned) from `offset`.
fn unpack_full(lua: &Lua, args: &MultiValue, limit: i64, offset: i64, fname: &str) -> mlua::Result<MultiValue> {
    let s = match args.front() {
        Some(v @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) => to_bytes(v).unwrap_or_default(),
        other => {
            if fname == "unpack" {
                return Err(raise_msg(lua, "MessagePack decoding needs a string as input."));
            }
            return Err(raise_msg(lua, &bad_arg(1, fname, "string", other)));
        }
    };
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(raise_msg(
            lua,
            &format!("Invalid request to unpack with offset of {offset} and limit of {limit}."),
        ));
    }
    if offset as u64 > s.len() as u64 {
        return Err(raise_msg(lua, &format!("Start offset {offset} greater than input length {}.", s.len())));
    }
    let limit = if decode_all { i64::MAX } else { limit };
    let mut cur = Cur { s: &s, pos: offset as usize };
    let mut out = MultiValue::new();
    let mut count = 0;
    while cur.pos < s.len() && count < limit {
        match cur.decode(lua, 0) {
            Ok(v) => out.push_back(v),
            Err(Stop::Eof) => return Err(raise_msg(lua, "Missing bytes in input.")),
            Err(Stop::BadFormat) => return Err(raise_msg(lua, "Bad data format in input.")),
            Err(Stop::Lua(e)) => return Err(e),
        }
        count += 1;
    }
    if !decode_all {
        let next = if cur.pos >= s.len() { -1.0 } else { cur.pos as f64 };
        out.push_front(Value::Number(next));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_encodings() {
        let mut out = Vec::new();
        encode_number(0.1, &mut out);
        assert_eq!(out, [0xcb, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]);
        out.clear();
        encode_number(-1099511627776.0, &mut out);
        assert_eq!(out, [0xd3, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00]);
        out.clear();
        encode_number(5.0, &mut out);
        encode_number(-1.0, &mut out);
        encode_number(0.5, &mut out);
        assert_eq!(out, [0x05, 0xff, 0xca, 0x3f, 0x00, 0x00, 0x00]);
    }
}
