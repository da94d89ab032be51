//! Function libraries: FUNCTION LOAD (the `#!lua name=` metadata, running the library's code
//! in its load environment so that it registers functions), the registry of libraries and
//! functions, and FCALL.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table, Value};

use super::api::{self, raise_table};
use super::eval::{compile_message, prepare};
use super::vm::{interrupt, Kind, Vm};
use super::{sflag, Scripting};
use crate::commands::{CmdError, CmdResult, Ctx};

/// How long FUNCTION LOAD lets a library's code run.
pub const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

/// A registered function.
pub struct FunctionInfo {
    /// Its name.
    pub name: String,
    /// register_function's `description`.
    pub desc: Option<Vec<u8>>,
    /// `sflag` bits.
    pub flags: u32,
    /// The callback.
    pub func: Function,
}

/// A loaded library.
pub struct Library {
    /// Its name.
    pub name: String,
    /// The code as loaded, metadata line included.
    pub code: Vec<u8>,
    /// Its functions, in registration order.
    pub functions: Vec<FunctionInfo>,
}

/// The functions interpreter and the libraries loaded in it.
pub struct FunctionEngine {
    vm: Vm,
    /// Libraries by name.
    pub libraries: BTreeMap<String, Library>,
    /// Lower-cased function name → library name (function names are case-insensitive).
    index: HashMap<String, String>,
}

/// Library and function names: letters, digits and underscores, at least one.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

const BAD_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// The metadata line `#!<engine> name=<name>`: (engine, name).
pub fn parse_metadata(code: &[u8]) -> Result<(String, String), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match larder_resp::split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2..]).into_owned();
    let mut name = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err("Invalid metadata value, name argument was given multiple times".into());
            }
            name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
            continue;
        }
        return Err(format!("Invalid metadata value given: {}", String::from_utf8_lossy(part)));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    Ok((engine, name))
}

impl FunctionEngine {
    /// A fresh interpreter with no libraries.
    pub fn new() -> mlua::Result<Self> {
        Ok(FunctionEngine { vm: Vm::new(Kind::Functions)?, libraries: BTreeMap::new(), index: HashMap::new() })
    }

    /// Number of functions.
    pub fn function_count(&self) -> usize {
        self.index.len()
    }

    /// Memory the interpreter uses.
    pub fn vm_memory(&self) -> usize {
        self.vm.used_memory()
    }

    /// FUNCTION LOAD: creates the library of `code` and links it; returns its name.
    pub fn load(&mut self, code: &[u8], replace: bool, timeout: Option<Duration>) -> Result<String, String> {
        let lib = self.create(code, Some(replace), timeout)?;
        let name = lib.name.clone();
        self.link(lib, replace)?;
        Ok(name)
    }

    /// Compiles `code` into a library (not yet linked). `replace`: when given, an existing
    /// library of the same name is an error unless true (checked before running any code).
    /// `timeout`: None for no limit.
    pub fn create(&self, code: &[u8], replace: Option<bool>, timeout: Option<Duration>) -> Result<Library, String> {
        let (engine, name) = parse_metadata(code)?;
        if !valid_name(name.as_bytes()) {
            return Err(BAD_NAME.into());
        }
        if !engine.eq_ignore_ascii_case("lua") {
            return Err(format!("Engine '{engine}' not found"));
        }
        if replace == Some(false) && self.libraries.contains_key(&name) {
            return Err(format!("Library '{name}' already exists"));
        }
        let end = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
        let functions = self.run_load(&code[end..], timeout)?;
        if functions.is_empty() {
            return Err("No functions registered".into());
        }
        Ok(Library { name, code: code.to_vec(), functions })
    }

    /// Runs a library's code in the load environment, collecting what it registers.
    fn run_load(&self, body: &[u8], timeout: Option<Duration>) -> Result<Vec<FunctionInfo>, String> {
        let vm = &self.vm;
        let lua = &vm.lua;
        let func = lua
            .load(body)
            .set_name("@user_function")
            .into_function()
            .map_err(|e| format!("Error compiling function: {}", compile_message(&e)))?;
        let load_env = vm.load_env.clone().ok_or("functions interpreter without a load environment")?;
        let registered: RefCell<Vec<FunctionInfo>> = RefCell::new(Vec::new());
        let deadline = timeout.map(|t| Instant::now() + t);
        let hidden = vm.hidden.clone();
        let outcome: mlua::Result<(bool, Value)> = lua.scope(|scope| {
            let dispatcher = scope.create_function(|lua, mut args: MultiValue| {
                let op = args.front().and_then(api::op_of);
                args.pop_front();
                match op {
                    Some(api::op::INTERRUPT) => {
                        let late = deadline.is_some_and(|d| Instant::now() > d);
                        (if late { interrupt::LOAD_TIMEOUT } else { interrupt::CONTINUE }).into_lua_multi(lua)
                    }
                    Some(api::op::REGISTER) => {
                        let f = read_register_args(lua, args).map_err(raise_table)?;
                        let mut reg = registered.borrow_mut();
                        if !valid_name(f.name.as_bytes()) {
                            return Err(raise_table(BAD_NAME));
                        }
                        if reg.iter().any(|r| r.name == f.name) {
                            return Err(raise_table("Function already exists in the library"));
                        }
                        reg.push(f);
                        Ok(MultiValue::new())
                    }
                    _ => Err(raise_table("unknown scripting operation")),
                }
            })?;
            vm.slot.raw_set(1, dispatcher)?;
            vm.gmeta.raw_set("__index", &load_env)?;
            let r = vm.run_chunk.call::<(bool, Value)>(&func);
            vm.gmeta.raw_set("__index", &hidden)?;
            vm.slot.raw_set(1, &vm.dispatcher)?;
            r
        });
        if deadline.is_some_and(|d| Instant::now() > d) {
            vm.reset_hook();
        }
        match outcome {
            Ok((true, _)) => Ok(registered.into_inner()),
            Ok((false, Value::Table(t))) => {
                let msg = match t.raw_get::<Value>("err") {
                    Ok(v) => api::to_bytes(&v).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default(),
                    Err(_) => String::new(),
                };
                Err(format!("Error registering functions: {msg}"))
            }
            Ok((false, other)) => Err(format!("Error registering functions: {}", api::tostring(&other))),
            Err(e) => Err(format!("Error registering functions: {e}")),
        }
    }

    /// Adds `lib`, replacing a library of the same name when `replace`. Fails (changing
    /// nothing) when the name is taken without `replace` or a function name collides with
    /// another library's.
    pub fn link(&mut self, lib: Library, replace: bool) -> Result<(), String> {
        if self.libraries.contains_key(&lib.name) && !replace {
            return Err(format!("Library '{}' already exists", lib.name));
        }
        for f in &lib.functions {
            if let Some(owner) = self.index.get(&f.name.to_ascii_lowercase()) {
                if *owner != lib.name {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
        }
        self.unlink(&lib.name);
        for f in &lib.functions {
            self.index.insert(f.name.to_ascii_lowercase(), lib.name.clone());
        }
        self.libraries.insert(lib.name.clone(), lib);
        Ok(())
    }

    /// FUNCTION RESTORE: adds `libs` under `policy`, all or nothing.
    pub fn join(&mut self, libs: Vec<Library>, policy: super::RestorePolicy) -> Result<(), String> {
        use super::RestorePolicy;
        let mut seen: HashMap<String, &str> = HashMap::new();
        for l in &libs {
            if policy != RestorePolicy::Flush
                && policy != RestorePolicy::Replace
                && self.libraries.contains_key(&l.name)
            {
                return Err(format!("Library {} already exists", l.name));
            }
            for f in &l.functions {
                let key = f.name.to_ascii_lowercase();
                let taken = seen.insert(key.clone(), &l.name).is_some()
                    || (policy != RestorePolicy::Flush
                        && self.index.get(&key).is_some_and(|owner| !libs.iter().any(|n| n.name == *owner)));
                if taken {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
        }
        if policy == RestorePolicy::Flush {
            self.clear();
        }
        for l in libs {
            self.link(l, true)?;
        }
        Ok(())
    }

    /// Removes a library; false when there is none by that name.
    pub fn unlink(&mut self, name: &str) -> bool {
        let Some(lib) = self.libraries.remove(name) else { return false };
        for f in &lib.functions {
            self.index.remove(&f.name.to_ascii_lowercase());
        }
        true
    }

    /// Removes every library.
    pub fn clear(&mut self) {
        self.libraries.clear();
        self.index.clear();
    }

    /// The function called `name` (any case).
    pub fn find(&self, name: &[u8]) -> Option<&FunctionInfo> {
        let key = String::from_utf8_lossy(name).to_ascii_lowercase();
        let lib = self.libraries.get(self.index.get(&key)?)?;
        lib.functions.iter().find(|f| f.name.eq_ignore_ascii_case(&key))
    }

    /// FCALL / FCALL_RO: `args` is the whole request.
    pub fn fcall(
        &self,
        scripting: &Scripting,
        ctx: &mut Ctx<'_, '_>,
        args: larder_resp::Args<'_>,
        ro: bool,
    ) -> CmdResult {
        let Some(f) = self.find(&args[1]) else {
            return Err(CmdError::Static("ERR Function not found"));
        };
        let numkeys =
            crate::commands::int_arg(&args[2]).map_err(|_| CmdError::Static("ERR Bad number of keys provided"))?;
        if numkeys > args.len() as i64 - 3 {
            return Err(CmdError::Static("ERR Number of keys can't be greater than number of args"));
        }
        if numkeys < 0 {
            return Err(CmdError::Static("ERR Number of keys can't be negative"));
        }
        let numkeys = numkeys as usize;
        let opts = prepare(ctx, f.flags & !sflag::EVAL_COMPAT, ro, false, f.name.clone())?;
        super::run::run(scripting, &self.vm, ctx, &opts, super::run::Invocation { func: &f.func, args, numkeys });
        Ok(())
    }
}

/// redis.register_function's arguments: `(name, callback)` or one table of named arguments.
fn read_register_args(_lua: &Lua, args: MultiValue) -> Result<FunctionInfo, &'static str> {
    match args.len() {
        1 => {
            let Some(Value::Table(t)) = args.front() else {
                return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            read_named(t)
        }
        2 => {
            let name = match args.front() {
                Some(v @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) => {
                    api::to_bytes(v).unwrap_or_default()
                }
                _ => return Err("first argument to redis.register_function must be a string"),
            };
            let Some(Value::Function(func)) = args.get(1) else {
                return Err("second argument to redis.register_function must be a function");
            };
            Ok(FunctionInfo {
                name: String::from_utf8_lossy(&name).into_owned(),
                desc: None,
                flags: 0,
                func: func.clone(),
            })
        }
        _ => Err("wrong number of arguments to redis.register_function"),
    }
}

fn read_named(t: &Table) -> Result<FunctionInfo, &'static str> {
    let (mut name, mut desc, mut func, mut flags) = (None, None, None, 0u32);
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, v)) = pair else {
            return Err("named argument key given to redis.register_function is not a string");
        };
        let Some(key) = api::to_bytes(&k) else {
            return Err("named argument key given to redis.register_function is not a string");
        };
        if key.eq_ignore_ascii_case(b"function_name") {
            name = Some(
                api::to_bytes(&v).ok_or("function_name argument given to redis.register_function must be a string")?,
            );
        } else if key.eq_ignore_ascii_case(b"description") {
            desc = Some(
                api::to_bytes(&v).ok_or("description argument given to redis.register_function must be a string")?,
            );
        } else if key.eq_ignore_ascii_case(b"callback") {
            let Value::Function(f) = v else {
                return Err("callback argument given to redis.register_function must be a function");
            };
            func = Some(f);
        } else if key.eq_ignore_ascii_case(b"flags") {
            let Value::Table(list) = v else {
                return Err("flags argument to redis.register_function must be a table representing function flags");
            };
            flags = read_flags(&list).ok_or("unknown flag given")?;
        } else {
            return Err("unknown argument given to redis.register_function");
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let func = func.ok_or("redis.register_function must get a callback argument")?;
    Ok(FunctionInfo { name: String::from_utf8_lossy(&name).into_owned(), desc, flags, func })
}

/// The `flags` list: flag names, any case.
fn read_flags(list: &Table) -> Option<u32> {
    let mut flags = 0;
    for i in 1.. {
        let v: Value = list.get(i).ok()?;
        if v.is_nil() {
            break;
        }
        let name = api::to_bytes(&v)?;
        let (f, _) = sflag::NAMES.iter().find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(&name))?;
        flags |= f;
    }
    Some(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata() {
        assert_eq!(parse_metadata(b"#!lua name=lib\ncode"), Ok(("lua".into(), "lib".into())));
        assert_eq!(parse_metadata(b"#!lua name=\"foo\"\n"), Ok(("lua".into(), "foo".into())));
        assert_eq!(parse_metadata(b"return 1"), Err("Missing library metadata".into()));
        assert_eq!(parse_metadata(b"#!lua name=a"), Err("Invalid library metadata".into()));
        assert_eq!(parse_metadata(b"#!lua foo=bar\n"), Err("Invalid metadata value given: foo=bar".into()));
        assert_eq!(parse_metadata(b"#!lua\n"), Err("Library name was not given".into()));
        assert_eq!(
            parse_metadata(b"#!lua name=a name=b\n"),
            Err("Invalid metadata value, name argument was given multiple times".into())
        );
        assert_eq!(parse_metadata(b"#! name=a\n"), Ok(("".into(), "a".into())));
    }
}
