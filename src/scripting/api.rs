//! The parts of the `redis` table that do not need the running script (log, sha1hex,
//! error_reply, status_reply, the constants), the message handler that turns any Lua error into
//! Redis's error table, Redis's replacement of math.random, and how Rust functions raise errors.
//!
//! Redis's C functions raise either an error table (`{err = "ERR ..."}`: redis.call and the
//! other redis.* functions) or a string positioned at the script's line (`luaL_error`: the
//! libraries). A Rust function cannot raise an arbitrary Lua value, so it raises a
//! [`ScriptError`] saying which of the two it stands for; the message handler and the
//! sandbox's pcall and xpcall turn it back into that value ([`error_value`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use mlua::{Function, Lua, MultiValue, Table, Value};
use sha1::{Digest, Sha1};

use super::num::lua_number;
use super::vm::Kind;

/// An error a Rust function raises in a script.
#[derive(Debug, Clone)]
pub struct ScriptError {
    /// The error table's `err` (code first), or the positioned message.
    pub text: Vec<u8>,
    /// An error table (true) or a string error (false).
    pub table: bool,
    /// The table's `ignore_error_stats_update`: the error was already counted.
    pub counted: bool,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.text))
    }
}

impl std::error::Error for ScriptError {}

/// Raises Redis's error table built from `text` (see [`error_table`]).
pub fn raise_table(text: &str) -> mlua::Error {
    mlua::Error::external(ScriptError { text: error_text(text.as_bytes()), table: true, counted: false })
}

/// Raises an error table whose `err` is `text` as it is; `counted`: already in the error stats.
pub fn raise_err(text: Vec<u8>, counted: bool) -> mlua::Error {
    mlua::Error::external(ScriptError { text, table: true, counted })
}

/// Raises a string error positioned at the script's line, as `luaL_error` does.
pub fn raise_msg(lua: &Lua, msg: &str) -> mlua::Error {
    let text = format!("{}{msg}", position(lua)).into_bytes();
    mlua::Error::external(ScriptError { text, table: false, counted: false })
}

/// The [`ScriptError`] behind an mlua error (through callback wrappers), if any.
pub fn find_script_error(e: &mlua::Error) -> Option<&ScriptError> {
    match e {
        mlua::Error::CallbackError { cause, .. } => find_script_error(cause),
        mlua::Error::WithContext { cause, .. } => find_script_error(cause),
        mlua::Error::ExternalError(x) => x.downcast_ref::<ScriptError>(),
        _ => None,
    }
}

/// The innermost cause of an mlua error (without callback tracebacks).
fn root_cause(e: &mlua::Error) -> &mlua::Error {
    match e {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => root_cause(cause),
        other => other,
    }
}

/// The Lua value a raised Rust error stands for: an error table or a message string. Other
/// values are returned as they are.
pub fn error_value(lua: &Lua, v: Value) -> mlua::Result<Value> {
    let Value::Error(e) = v else { return Ok(v) };
    match find_script_error(&e) {
        Some(se) if se.table => {
            let t = lua.create_table()?;
            t.raw_set("err", lua.create_string(&se.text)?)?;
            if se.counted {
                t.raw_set("ignore_error_stats_update", true)?;
            }
            Ok(Value::Table(t))
        }
        Some(se) => Ok(Value::String(lua.create_string(&se.text)?)),
        None => {
            let text = match root_cause(&e) {
                mlua::Error::RuntimeError(m) => m.clone(),
                other => other.to_string(),
            };
            Ok(Value::String(lua.create_string(text)?))
        }
    }
}

/// Builds Redis's error table `{err = "CODE message"}` from `text`: a leading `-CODE` is split
/// off as the code, anything else gets the `ERR` code; trailing CR/LF are trimmed.
pub fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(error_text(text))?)?;
    Ok(t)
}

/// The message of [`error_table`].
pub fn error_text(text: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match text.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", text),
    };
    let mut end = msg.len();
    while end > 0 && (msg[end - 1] == b'\r' || msg[end - 1] == b'\n') {
        end -= 1;
    }
    let mut start = 0;
    while start < end && (msg[start] == b'\r' || msg[start] == b'\n') {
        start += 1;
    }
    let mut out = Vec::with_capacity(code.len() + 1 + end - start);
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(&msg[start..end]);
    out
}

/// The innermost script frame: its source (`@user_script`) and line. C functions, tail calls
/// and the sandbox's own functions are skipped.
fn user_frame(lua: &Lua) -> Option<(String, String, usize)> {
    for level in 1..64 {
        let info = lua.inspect_stack(level, |d| {
            let s = d.source();
            let source = s.source.as_deref().unwrap_or("").to_string();
            let short = s.short_src.as_deref().unwrap_or("").to_string();
            (s.what, source, short, d.current_line())
        })?;
        let (what, source, short, line) = info;
        if what == "C" || what == "tail" || source.starts_with("=[larder]") {
            continue;
        }
        return Some((source, short, line.unwrap_or(0)));
    }
    None
}

/// `user_script:3: `, the prefix `luaL_error` puts on messages raised for a script's line.
pub fn position(lua: &Lua) -> String {
    match user_frame(lua) {
        Some((_, short, line)) if line > 0 => format!("{short}:{line}: "),
        _ => String::new(),
    }
}

/// The message handler scripts run under: any error becomes a table with `err` (the reply's
/// text), and `source` and `line` of the script frame that raised it.
pub fn message_handler(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, err: Value| {
        let t = match error_value(lua, err)? {
            Value::Table(t) => t,
            Value::String(s) => {
                let mut text = b"ERR ".to_vec();
                text.extend_from_slice(&s.as_bytes());
                let t = lua.create_table()?;
                t.raw_set("err", lua.create_string(text)?)?;
                t
            }
            other => {
                let t = lua.create_table()?;
                t.raw_set("err", format!("ERR {}", tostring(&other)))?;
                t
            }
        };
        if let Some((source, _, line)) = user_frame(lua) {
            t.raw_set("source", source)?;
            t.raw_set("line", line)?;
        }
        Ok(t)
    })
}

/// Lua's `tostring` for values that are not strings.
pub fn tostring(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => lua_number(*i as f64),
        Value::Number(n) => lua_number(*n),
        Value::String(s) => s.to_string_lossy(),
        other => other.to_string().unwrap_or_else(|_| other.type_name().to_string()),
    }
}

/// `lua_tolstring`: the bytes of a string or a number, None for anything else.
pub fn to_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(lua_number(*i as f64).into_bytes()),
        Value::Number(n) => Some(lua_number(*n).into_bytes()),
        _ => None,
    }
}

/// `lua_tonumber`: numbers, and strings that read as numbers; None otherwise.
pub fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => parse_lua_number(&s.to_string_lossy()),
        _ => None,
    }
}

/// Lua 5.1's string-to-number coercion (decimal, hexadecimal `0x`, surrounding spaces).
pub fn parse_lua_number(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    if t.is_empty() {
        return None;
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let v = u64::from_str_radix(hex, 16).ok()? as f64;
        return Some(if neg { -v } else { v });
    }
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("nan") || body.starts_with("infinity") {
        return None;
    }
    t.parse::<f64>().ok()
}

/// REDIS_VERSION_NUM: `0x00MMmmpp`.
fn version_num() -> i64 {
    let mut n = 0i64;
    for part in crate::server::REDIS_VERSION.split('.').take(3) {
        n = (n << 8) | part.parse::<i64>().unwrap_or(0);
    }
    n
}

fn add_log_and_version(lua: &Lua, r: &Table) -> mlua::Result<()> {
    r.raw_set("log", lua.create_function(log)?)?;
    for (name, level) in [("LOG_DEBUG", 0), ("LOG_VERBOSE", 1), ("LOG_NOTICE", 2), ("LOG_WARNING", 3)] {
        r.raw_set(name, level)?;
    }
    r.raw_set("REDIS_VERSION", crate::server::REDIS_VERSION)?;
    r.raw_set("REDIS_VERSION_NUM", version_num())?;
    Ok(())
}

/// Operations that reach the running script's dispatcher (the slot's entry 1). They are passed
/// as a first argument no script can produce: a light userdata pointing into [`OPS`].
pub mod op {
    /// redis.setresp.
    pub const SETRESP: usize = 2;
    /// redis.set_repl.
    pub const SET_REPL: usize = 3;
    /// redis.acl_check_cmd.
    pub const ACL_CHECK: usize = 4;
    /// The instruction hook's kill check.
    pub const INTERRUPT: usize = 5;
    /// redis.register_function.
    pub const REGISTER: usize = 6;
}

/// The addresses operation markers point to.
static OPS: [u8; 8] = [0; 8];

/// The marker of operation `op`.
pub fn op_value(op: usize) -> Value {
    Value::LightUserData(mlua::LightUserData(OPS[op.min(OPS.len() - 1)..].as_ptr() as *mut std::ffi::c_void))
}

/// The operation a first argument marks, if it is a marker.
pub fn op_of(v: &Value) -> Option<usize> {
    let Value::LightUserData(p) = v else { return None };
    let (base, addr) = (OPS.as_ptr() as usize, p.0 as usize);
    (addr >= base && addr < base + OPS.len()).then(|| addr - base)
}

/// Calls the running script's dispatcher (the slot's entry 1) with operation `op`.
pub fn via_slot(slot: &Table, op: usize, args: MultiValue) -> mlua::Result<MultiValue> {
    let Value::Function(f) = slot.raw_get::<Value>(1)? else {
        return Err(raise_table("This function can only be called from a running script"));
    };
    let mut all = args;
    all.push_front(op_value(op));
    f.call::<MultiValue>(all)
}

/// The `redis` table scripts see, without redis.call and redis.pcall (C functions the
/// interpreter adds, see `raw_call`); the other functions that need the running script reach
/// it through `slot`.
pub fn redis_table(lua: &Lua, slot: &Table, kind: Kind) -> mlua::Result<Table> {
    let r = lua.create_table()?;
    add_log_and_version(lua, &r)?;
    r.raw_set("sha1hex", lua.create_function(sha1hex)?)?;
    r.raw_set("error_reply", lua.create_function(|lua, args: MultiValue| single_field(lua, args, "err"))?)?;
    r.raw_set("status_reply", lua.create_function(|lua, args: MultiValue| single_field(lua, args, "ok"))?)?;
    for (name, v) in [("REPL_NONE", 0), ("REPL_AOF", 1), ("REPL_SLAVE", 2), ("REPL_REPLICA", 2), ("REPL_ALL", 3)] {
        r.raw_set(name, v)?;
    }
    for (name, op) in [("setresp", op::SETRESP), ("set_repl", op::SET_REPL), ("acl_check_cmd", op::ACL_CHECK)] {
        let slot = slot.clone();
        r.raw_set(name, lua.create_function(move |_, args: MultiValue| via_slot(&slot, op, args))?)?;
    }
    if kind == Kind::Eval {
        r.raw_set("replicate_commands", lua.create_function(|_, _: MultiValue| Ok(true))?)?;
        r.raw_set("breakpoint", lua.create_function(|_, _: MultiValue| Ok(false))?)?;
        r.raw_set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    }
    Ok(r)
}

/// The `redis` table a library's code sees while FUNCTION LOAD runs it.
pub fn load_redis_table(lua: &Lua, slot: &Table) -> mlua::Result<Table> {
    let r = lua.create_table()?;
    add_log_and_version(lua, &r)?;
    let slot = slot.clone();
    r.raw_set(
        "register_function",
        lua.create_function(move |_, args: MultiValue| via_slot(&slot, op::REGISTER, args))?,
    )?;
    Ok(r)
}

/// redis.log(level, message...).
fn log(_: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() < 2 {
        return Err(raise_table("redis.log() requires two arguments or more."));
    }
    let Some(level) = args.front().and_then(to_number) else {
        return Err(raise_table("First argument must be a number (log level)."));
    };
    let level = level as i64;
    if !(0..=3).contains(&level) {
        return Err(raise_table("Invalid debug level."));
    }
    let parts: Vec<String> =
        args.iter().skip(1).filter_map(to_bytes).map(|b| String::from_utf8_lossy(&b).into_owned()).collect();
    let line = parts.join(" ");
    match level {
        0 => crate::server::log::debug(&line),
        1 => crate::server::log::verbose(&line),
        2 => crate::server::log::notice(&line),
        _ => crate::server::log::warning(&line),
    }
    Ok(())
}

/// SHA1 of `data` as 40 lower-case hex digits.
pub fn sha1_hex(data: &[u8]) -> String {
    let digest = Sha1::digest(data);
    let mut s = String::with_capacity(40);
    for b in digest {
        s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    s
}

/// redis.sha1hex(string).
fn sha1hex(_: &Lua, args: MultiValue) -> mlua::Result<String> {
    if args.len() != 1 {
        return Err(raise_table("wrong number of arguments"));
    }
    let data = args.front().and_then(to_bytes).unwrap_or_default();
    Ok(sha1_hex(&data))
}

/// redis.error_reply / redis.status_reply: `{field = s}`, or an error table for bad arguments.
fn single_field(lua: &Lua, args: MultiValue, field: &str) -> mlua::Result<Table> {
    let s = match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => s.clone(),
        _ => return error_table(lua, b"wrong number or type of arguments"),
    };
    if field == "err" {
        let bytes = s.as_bytes();
        let text = if bytes.first() == Some(&b'-') { bytes.to_vec() } else { [b"-", &bytes[..]].concat() };
        return error_table(lua, &text);
    }
    let t = lua.create_table()?;
    t.raw_set(field, s)?;
    Ok(t)
}

/// The 48-bit linear congruential generator of `lrand48`, which Redis's math.random uses so
/// that a seed gives the same sequence everywhere.
struct Rand48(AtomicU64);

impl Rand48 {
    const A: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn seed(&self, s: i32) {
        self.0.store((((s as u32 as u64) << 16) | 0x330E) & Self::MASK, Relaxed);
    }

    fn next(&self) -> u32 {
        let x = self.0.load(Relaxed);
        let x = x.wrapping_mul(Self::A).wrapping_add(0xB) & Self::MASK;
        self.0.store(x, Relaxed);
        (x >> 17) as u32
    }
}

/// Replaces math.random and math.randomseed with Redis's versions.
pub fn replace_random(lua: &Lua, math: &Table) -> mlua::Result<()> {
    let state = Arc::new(Rand48(AtomicU64::new(0)));
    state.seed(fastrand::i32(..));
    let st = state.clone();
    let random = lua.create_function(move |lua, args: MultiValue| {
        const MAX: u32 = i32::MAX as u32;
        let r = (st.next() % MAX) as f64 / MAX as f64;
        let int_arg = |i: usize| args.get(i).and_then(to_number).map(|n| n as i32);
        match args.len() {
            0 => Ok(r),
            1 => {
                let u = int_arg(0).ok_or_else(|| raise_msg(lua, &bad_number(1, "random", args.front())))?;
                if u < 1 {
                    return Err(raise_msg(lua, "bad argument #1 to 'random' (interval is empty)"));
                }
                Ok((r * u as f64).floor() + 1.0)
            }
            2 => {
                let l = int_arg(0).ok_or_else(|| raise_msg(lua, &bad_number(1, "random", args.front())))?;
                let u = int_arg(1).ok_or_else(|| raise_msg(lua, &bad_number(2, "random", args.get(1))))?;
                if l > u {
                    return Err(raise_msg(lua, "bad argument #2 to 'random' (interval is empty)"));
                }
                Ok((r * (u as f64 - l as f64 + 1.0)).floor() + l as f64)
            }
            _ => Err(raise_msg(lua, "wrong number of arguments")),
        }
    })?;
    let seed = lua.create_function(move |lua, args: MultiValue| match args.front().and_then(to_number) {
        Some(n) => {
            state.seed(n as i32);
            Ok(())
        }
        None => Err(raise_msg(lua, &bad_number(1, "randomseed", args.front()))),
    })?;
    math.raw_set("random", random)?;
    math.raw_set("randomseed", seed)?;
    Ok(())
}

/// Lua's "bad argument #n to 'f' (number expected, got x)".
pub fn bad_number(n: usize, func: &str, v: Option<&Value>) -> String {
    bad_arg(n, func, "number", v)
}

/// Lua's "bad argument #n to 'f' (<want> expected, got x)".
pub fn bad_arg(n: usize, func: &str, want: &str, v: Option<&Value>) -> String {
    let got = match v {
        None => "no value",
        Some(v) => lua_type_name(v),
    };
    format!("bad argument #{n} to '{func}' ({want} expected, got {got})")
}

/// Lua's name for a value's type.
pub fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        _ => "userdata",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_follow_redis() {
        assert_eq!(error_text(b"-WRONGTYPE Operation"), b"WRONGTYPE Operation");
        assert_eq!(error_text(b"some message"), b"ERR some message");
        assert_eq!(error_text(b"-"), b"ERR ");
        assert_eq!(error_text(b"-ERR x\r\n"), b"ERR x");
    }

    #[test]
    fn rand48_matches_lrand48() {
        let r = Rand48(AtomicU64::new(0));
        r.seed(0);
        // lrand48() after srand48(0) in glibc.
        assert_eq!(r.next(), 366850414);
        assert_eq!(r.next(), 1610402240);
        r.seed(10);
        assert_eq!(r.next(), 1887318415);
    }

    #[test]
    fn sha1_of_empty() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
