//! The `bit` library (LuaBitOp 1.0 semantics): 32-bit operations on Lua numbers. Arguments are
//! normalised the way LuaBitOp does it (adding 2^52 + 2^51 and keeping the low 32 bits of the
//! double, i.e. rounding to the nearest integer modulo 2^32), results are signed 32-bit.

use mlua::{Lua, MultiValue, Table, Value};

use super::api::{bad_number, raise_msg, to_number};

/// LuaBitOp's argument normalisation.
fn tobit(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

fn arg(args: &MultiValue, i: usize, fname: &str) -> Result<u32, String> {
    match args.get(i) {
        Some(v @ (Value::Integer(_) | Value::Number(_) | Value::String(_))) => match to_number(v) {
            Some(n) => Ok(tobit(n)),
            None => Err(bad_number(i + 1, fname, Some(v))),
        },
        other => Err(bad_number(i + 1, fname, other)),
    }
}

fn result(lua: &Lua, r: Result<u32, String>) -> mlua::Result<f64> {
    match r {
        Ok(b) => Ok(b as i32 as f64),
        Err(msg) => Err(raise_msg(lua, &msg)),
    }
}

type Unary = fn(u32) -> u32;
type Binary = fn(u32, u32) -> u32;

/// Builds the library table.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let unary: [(&'static str, Unary); 3] = [("tobit", |b| b), ("bnot", |b| !b), ("bswap", |b| b.swap_bytes())];
    for (name, f) in unary {
        let func = lua.create_function(move |lua, args: MultiValue| result(lua, arg(&args, 0, name).map(f)))?;
        t.raw_set(name, func)?;
    }
    let folds: [(&'static str, Binary); 3] = [("band", |a, b| a & b), ("bor", |a, b| a | b), ("bxor", |a, b| a ^ b)];
    for (name, f) in folds {
        let func = lua.create_function(move |lua, args: MultiValue| {
            let mut acc = match arg(&args, 0, name) {
                Ok(b) => b,
                Err(e) => return Err(raise_msg(lua, &e)),
            };
            for i in 1..args.len() {
                match arg(&args, i, name) {
                    Ok(b) => acc = f(acc, b),
                    Err(e) => return Err(raise_msg(lua, &e)),
                }
            }
            result(lua, Ok(acc))
        })?;
        t.raw_set(name, func)?;
    }
    let shifts: [(&'static str, Binary); 5] = [
        ("lshift", |b, n| b << (n & 31)),
        ("rshift", |b, n| b >> (n & 31)),
        ("arshift", |b, n| ((b as i32) >> (n & 31)) as u32),
        ("rol", |b, n| b.rotate_left(n & 31)),
        ("ror", |b, n| b.rotate_right(n & 31)),
    ];
    for (name, f) in shifts {
        let func = lua.create_function(move |lua, args: MultiValue| {
            let r = arg(&args, 0, name).and_then(|b| arg(&args, 1, name).map(|n| f(b, n)));
            result(lua, r)
        })?;
        t.raw_set(name, func)?;
    }
    let tohex = lua.create_function(|lua, args: MultiValue| {
        let mut b = match arg(&args, 0, "tohex") {
            Ok(b) => b,
            Err(e) => return Err(raise_msg(lua, &e)),
        };
        let mut n: i32 = if matches!(args.get(1), None | Some(Value::Nil)) {
            8
        } else {
            match arg(&args, 1, "tohex") {
                Ok(n) => n as i32,
                Err(e) => return Err(raise_msg(lua, &e)),
            }
        };
        let digits: &[u8; 16] = if n < 0 {
            n = n.saturating_neg();
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let n = n.min(8) as usize;
        let mut buf = [0u8; 8];
        for i in (0..n).rev() {
            buf[i] = digits[(b & 15) as usize];
            b >>= 4;
        }
        lua.create_string(&buf[..n])
    })?;
    t.raw_set("tohex", tohex)?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(tobit(1.0), 1);
        assert_eq!(tobit(-1.0), u32::MAX);
        assert_eq!(tobit(4294967295.0), u32::MAX);
        assert_eq!(tobit(4294967296.0), 0);
        assert_eq!(tobit(2.5), 2);
        assert_eq!(tobit(3.5), 4);
    }
}
