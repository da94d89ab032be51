//! The `struct` library (Roberto Ierusalimschy's struct 0.2 semantics): `struct.pack(fmt,
//! ...)`, `struct.unpack(fmt, s [, pos])`, `struct.size(fmt)`.
//!
//! Format: `>` big endian, `<` little endian, `!n` alignment (power of two), `x` a zero byte,
//! `b`/`B` char, `h`/`H` short, `l`/`L` long (8 bytes), `T` size_t, `i`/`I[n]` an n-byte integer
//! (default 4, at most 32), `f` float, `d` double, `c[n]` n chars (`c0`: the whole string when
//! packing, the previous number's length when unpacking), `s` a zero-terminated string, spaces
//! ignored. Lower-case integer options are signed.

use mlua::{Lua, MultiValue, Table, Value};

use super::api::{bad_arg, bad_number, raise_msg, to_bytes, to_number};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

struct Header {
    little: bool,
    align: usize,
}

struct Fmt<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Fmt<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = *self.s.get(self.pos)?;
        self.pos += 1;
        Some(c)
    }

    fn num(&mut self, default: usize) -> Result<usize, String> {
        if !self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(&c) = self.s.get(self.pos).filter(|c| c.is_ascii_digit()) {
            a = a
                .checked_mul(10)
                .and_then(|a| a.checked_add((c - b'0') as usize))
                .filter(|&a| a <= i32::MAX as usize)
                .ok_or("integral size overflow")?;
            self.pos += 1;
        }
        Ok(a)
    }

    /// The size of option `opt` (0 for options that take no room or need no alignment).
    fn size(&mut self, opt: u8) -> Result<usize, String> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.num(1)?,
            b'i' | b'I' => {
                let sz = self.num(4)?;
                if sz > MAXINTSIZE {
                    return Err(format!("integral size {sz} is larger than limit of {MAXINTSIZE}"));
                }
                sz
            }
            _ => 0,
        })
    }

    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), String> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.num(MAXALIGN)?;
                if !a.is_power_of_two() {
                    return Err(format!("alignment {a} is not a power of 2"));
                }
                h.align = a;
            }
            other => return Err(format!("invalid format option '{}'", other as char)),
        }
        Ok(())
    }
}

fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn put_int(out: &mut Vec<u8>, n: f64, little: bool, size: usize) {
    let mut value: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
    let mut buf = [0u8; MAXINTSIZE];
    for i in 0..size {
        let idx = if little { i } else { size - 1 - i };
        buf[idx] = value as u8;
        value = value.checked_shr(8).unwrap_or(0);
    }
    out.extend_from_slice(&buf[..size]);
}

fn get_int(data: &[u8], little: bool, signed: bool, size: usize) -> f64 {
    let mut l: u64 = 0;
    for i in 0..size {
        let b = if little { data[size - 1 - i] } else { data[i] };
        l = (l << 8) | b as u64;
    }
    if signed && size > 0 && size <= 8 {
        let shift = 64 - size * 8;
        ((l << shift) as i64 >> shift) as f64
    } else if signed {
        l as i64 as f64
    } else {
        l as f64
    }
}

fn pack(args: &MultiValue) -> Result<Vec<u8>, String> {
    let fmt = args.front().and_then(to_bytes).ok_or_else(|| bad_arg(1, "pack", "string", args.front()))?;
    let mut f = Fmt { s: &fmt, pos: 0 };
    let mut h = Header { little: true, align: 1 };
    let mut out = Vec::new();
    let mut arg = 1;
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = args.get(arg).and_then(to_number).ok_or_else(|| bad_number(arg + 1, "pack", args.get(arg)))?;
                put_int(&mut out, n, h.little, size);
                arg += 1;
            }
            b'x' => out.push(0),
            b'f' => {
                let n = args.get(arg).and_then(to_number).ok_or_else(|| bad_number(arg + 1, "pack", args.get(arg)))?;
                let b = (n as f32).to_bits();
                out.extend_from_slice(&if h.little { b.to_le_bytes() } else { b.to_be_bytes() });
                arg += 1;
            }
            b'd' => {
                let n = args.get(arg).and_then(to_number).ok_or_else(|| bad_number(arg + 1, "pack", args.get(arg)))?;
                let b = n.to_bits();
                out.extend_from_slice(&if h.little { b.to_le_bytes() } else { b.to_be_bytes() });
                arg += 1;
            }
            b'c' | b's' => {
                let s = args
                    .get(arg)
                    .and_then(to_bytes)
                    .ok_or_else(|| bad_arg(arg + 1, "pack", "string", args.get(arg)))?;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(format!("bad argument #{} to 'pack' (string too short)", arg + 1));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
                arg += 1;
            }
            other => f.control(other, &mut h)?,
        }
    }
    Ok(out)
}

fn unpack(lua: &Lua, args: &MultiValue) -> Result<MultiValue, String> {
    let fmt = args.front().and_then(to_bytes).ok_or_else(|| bad_arg(1, "unpack", "string", args.front()))?;
    let data = args.get(1).and_then(to_bytes).ok_or_else(|| bad_arg(2, "unpack", "string", args.get(1)))?;
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1.0,
        Some(v) => to_number(v).ok_or_else(|| bad_number(3, "unpack", Some(v)))?,
    };
    if start < 1.0 {
        return Err("bad argument #3 to 'unpack' (offset must be 1 or greater)".into());
    }
    let mut pos = start as usize - 1;
    if pos > data.len() {
        return Err("bad argument #3 to 'unpack' (offset must be 1 or greater)".into());
    }
    let mut f = Fmt { s: &fmt, pos: 0 };
    let mut h = Header { little: true, align: 1 };
    let mut out = MultiValue::new();
    let too_short = || "bad argument #2 to 'unpack' (data string too short)".to_string();
    let lerr = |e: mlua::Error| e.to_string();
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if pos > data.len() || size > data.len() - pos {
            return Err(too_short());
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                out.push_back(Value::Number(get_int(&data[pos..pos + size], h.little, signed, size)));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let v = if h.little { f32::from_le_bytes(b) } else { f32::from_be_bytes(b) };
                out.push_back(Value::Number(v as f64));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let v = if h.little { f64::from_le_bytes(b) } else { f64::from_be_bytes(b) };
                out.push_back(Value::Number(v));
            }
            b'c' => {
                if size == 0 {
                    let prev = out.pop_back().and_then(|v| to_number(&v)).ok_or("format `c0' needs a previous size")?;
                    size = prev.max(0.0) as usize;
                    if size > data.len() - pos {
                        return Err(too_short());
                    }
                }
                out.push_back(Value::String(lua.create_string(&data[pos..pos + size]).map_err(lerr)?));
            }
            b's' => {
                let Some(e) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err("unfinished string in data".into());
                };
                out.push_back(Value::String(lua.create_string(&data[pos..pos + e]).map_err(lerr)?));
                size = e + 1;
            }
            other => f.control(other, &mut h)?,
        }
        pos += size;
    }
    out.push_back(Value::Number((pos + 1) as f64));
    Ok(out)
}

fn size(args: &MultiValue) -> Result<usize, String> {
    let fmt = args.front().and_then(to_bytes).ok_or_else(|| bad_arg(1, "size", "string", args.front()))?;
    let mut f = Fmt { s: &fmt, pos: 0 };
    let mut h = Header { little: true, align: 1 };
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err("bad argument #1 to 'size' (options 's' has undefined size)".into());
        }
        if opt == b'c' && size == 0 {
            return Err("bad argument #1 to 'size' (options 'c0' has undefined size)".into());
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, &mut h)?;
        }
        pos += size;
    }
    Ok(pos)
}

/// Builds the library table.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let p = lua.create_function(|lua, args: MultiValue| match pack(&args) {
        Ok(b) => lua.create_string(b),
        Err(e) => Err(raise_msg(lua, &e)),
    })?;
    t.raw_set("pack", p)?;
    let u = lua.create_function(|lua, args: MultiValue| unpack(lua, &args).map_err(|e| raise_msg(lua, &e)))?;
    t.raw_set("unpack", u)?;
    let s = lua.create_function(|lua, args: MultiValue| match size(&args) {
        Ok(n) => Ok(n as f64),
        Err(e) => Err(raise_msg(lua, &e)),
    })?;
    t.raw_set("size", s)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        let mut out = Vec::new();
        put_int(&mut out, -2.0, true, 2);
        assert_eq!(out, [0xfe, 0xff]);
        assert_eq!(get_int(&out, true, true, 2), -2.0);
        assert_eq!(get_int(&out, true, false, 2), 65534.0);
        out.clear();
        put_int(&mut out, 258.0, false, 4);
        assert_eq!(out, [0, 0, 1, 2]);
    }

    #[test]
    fn alignment() {
        let h = Header { little: true, align: 4 };
        assert_eq!(to_align(1, &h, b'i', 4), 3);
        assert_eq!(to_align(4, &h, b'i', 4), 0);
        assert_eq!(to_align(1, &h, b'c', 4), 0);
    }
}
