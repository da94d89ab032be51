//! One sandboxed Lua 5.1 interpreter: the standard libraries Redis loads (base, table, string,
//! math), the Redis libraries (cjson, cmsgpack, bit, struct), the `redis` table, and the
//! read-only protection of everything reachable from the globals (see `sandbox.lua`).
//!
//! Two of these exist, as in Redis: one for EVAL scripts (SCRIPT FLUSH replaces it) and one for
//! function libraries. A script reaches the server through the interpreter's *slot*: a hidden
//! table whose entry 1 holds the dispatcher: redis.setresp, redis.set_repl, register_function
//! and the instruction hook's kill check call it with an operation marker, and it reaches the
//! run in progress. redis.call and redis.pcall are C functions reaching the run directly (see
//! `raw_call`).

use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, VmState};

use super::api;

/// The Lua sources of the sandbox.
const SANDBOX: &str = include_str!("sandbox.lua");

/// The instruction-count hook's period: how often a running script checks for SCRIPT KILL,
/// FUNCTION KILL, SHUTDOWN and the FUNCTION LOAD time limit.
const HOOK_EVERY: u32 = 100_000;

/// What an interpreter runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// EVAL / EVALSHA scripts: KEYS and ARGV are globals.
    Eval,
    /// Function libraries: KEYS and ARGV are the callback's arguments.
    Functions,
}

/// Codes the dispatcher's interrupt check returns to the hook.
pub mod interrupt {
    /// Go on.
    pub const CONTINUE: i64 = 0;
    /// SCRIPT KILL / FUNCTION KILL / SHUTDOWN: stop the script.
    pub const KILL: i64 = 1;
    /// FUNCTION LOAD ran past its time limit.
    pub const LOAD_TIMEOUT: i64 = 2;
}

/// A sandboxed interpreter and the handles the engine needs.
pub struct Vm {
    /// The interpreter.
    pub lua: Lua,
    /// The real globals behind the read-only `_G` (EVAL writes KEYS and ARGV here).
    pub hidden: Table,
    /// The metatable of `_G`: its `__index` is the hidden globals, or the load environment
    /// while FUNCTION LOAD runs a library's code.
    pub gmeta: Table,
    /// The dispatcher slot (entry 1): [`Vm::dispatcher`] during runs, FUNCTION LOAD's own
    /// dispatcher while a library loads.
    pub slot: Table,
    /// The dispatcher every run uses.
    pub dispatcher: Function,
    /// The real `redis` table behind its read-only proxy (redis.call and redis.pcall are set
    /// in it for each run).
    pub redis: Table,
    /// Runs a compiled script (EVAL: the run's KEYS and ARGV become globals) or a library's
    /// code (FUNCTION LOAD) under the message handler: returns `true, result` or `false,
    /// error table`.
    pub run_chunk: Function,
    /// Runs a library function with the run's KEYS and ARGV (functions interpreter only).
    pub run_function: Function,
    /// The environment a library's code sees while it loads (functions interpreter only).
    pub load_env: Option<Table>,
}

impl Vm {
    /// Builds a sandboxed interpreter.
    pub fn new(kind: Kind) -> mlua::Result<Vm> {
        let lua = Lua::new_with(StdLib::TABLE | StdLib::STRING | StdLib::MATH, LuaOptions::new())?;
        let g = lua.globals();
        for name in ["dofile", "loadfile", "print"] {
            g.raw_set(name, Value::Nil)?;
        }
        let m: Table = lua.load(SANDBOX).set_name("=[larder]").call(())?;
        g.raw_set("cjson", super::lib_cjson::open(&lua)?)?;
        g.raw_set("cmsgpack", super::lib_cmsgpack::open(&lua)?)?;
        g.raw_set("bit", super::lib_bit::open(&lua)?)?;
        g.raw_set("struct", super::lib_struct::open(&lua)?)?;
        api::replace_random(&lua, &g.raw_get::<Table>("math")?)?;

        let slot = lua.create_table()?;
        let dispatcher = super::run::dispatcher(&lua)?;
        slot.raw_set(1, &dispatcher)?;
        let redis = api::redis_table(&lua, &slot, kind)?;
        redis.raw_set("call", raw_function(&lua, super::raw_call::redis_call)?)?;
        redis.raw_set("pcall", raw_function(&lua, super::raw_call::redis_pcall)?)?;
        g.raw_set("redis", &redis)?;
        let load_env = match kind {
            Kind::Eval => None,
            Kind::Functions => {
                let r = api::load_redis_table(&lua, &slot)?;
                Some(m.get::<Function>("load_env")?.call::<Table>(r)?)
            }
        };
        let libs = lua.create_sequence_from([
            "string",
            "math",
            "table",
            "coroutine",
            "redis",
            "cjson",
            "cmsgpack",
            "bit",
            "struct",
        ])?;
        let errvalue = lua.create_function(|lua, v: Value| api::error_value(lua, v))?;
        let (hidden, gmeta): (Table, Table) = m.get::<Function>("seal")?.call((g, libs, errvalue))?;
        let handler = api::message_handler(&lua)?;
        let fetch = raw_function(&lua, super::raw_call::fetch_args)?;
        let run_chunk: Function = m.get::<Function>("eval_runner")?.call((&handler, &hidden, &fetch))?;
        let run_function: Function = m.get::<Function>("function_runner")?.call((&handler, &fetch))?;
        install_hook(&lua, &slot, false)?;
        Ok(Vm { lua, hidden, gmeta, slot, dispatcher, redis, run_chunk, run_function, load_env })
    }

    /// Puts back the periodic hook after a kill made it fire on every line.
    pub fn reset_hook(&self) {
        // Failing to reinstall leaves the every-line hook: slower scripts, still correct.
        let _ = install_hook(&self.lua, &self.slot, false);
    }

    /// Memory the interpreter uses, in bytes.
    pub fn used_memory(&self) -> usize {
        self.lua.used_memory()
    }
}

/// A C closure running `f` with [`raw_call::push_value`](super::raw_call::push_value) as its
/// first upvalue (how redis.call, redis.pcall and the runners' argument fetch push values).
fn raw_function(lua: &Lua, f: mlua::ffi::lua_CFunction) -> mlua::Result<Function> {
    // SAFETY: push_value and `f` follow raw_call's rules (no Rust frame that owns anything is
    // skipped by a Lua error); the closure is built in a protected call with one argument,
    // push_value, on the stack, which lua_pushcclosure takes as the upvalue.
    unsafe {
        let push = lua.create_c_function(super::raw_call::push_value)?;
        lua.exec_raw::<Function>(push, |l| mlua::ffi::lua_pushcclosure(l, f, 1))
    }
}

/// Installs the instruction hook on every thread of the interpreter (coroutines inherit it).
/// After a kill it fires on every line, so that a script catching the error with pcall is
/// stopped again at once.
fn install_hook(lua: &Lua, slot: &Table, aggressive: bool) -> mlua::Result<()> {
    let slot = slot.clone();
    let triggers = if aggressive {
        HookTriggers::new().every_line().every_nth_instruction(1000)
    } else {
        HookTriggers::new().every_nth_instruction(HOOK_EVERY)
    };
    lua.set_global_hook(triggers, move |lua, dbg| check_interrupt(lua, dbg, &slot))
}

fn check_interrupt(lua: &Lua, dbg: &mlua::Debug<'_>, slot: &Table) -> mlua::Result<VmState> {
    // The sandbox's own code is never interrupted: the runner must be able to return the
    // script's error once the script stopped.
    if dbg.source().source.as_deref().is_some_and(|s| s.starts_with("=[larder]")) {
        return Ok(VmState::Continue);
    }
    let Value::Function(f) = slot.raw_get::<Value>(1)? else {
        return Ok(VmState::Continue);
    };
    match f.call::<i64>(api::op_value(api::op::INTERRUPT))? {
        interrupt::KILL => {
            install_hook(lua, slot, true)?;
            Err(api::raise_err(b"ERR Script killed by user with SCRIPT KILL...".to_vec(), false))
        }
        interrupt::LOAD_TIMEOUT => {
            install_hook(lua, slot, true)?;
            Err(api::raise_err(b"ERR FUNCTION LOAD timeout".to_vec(), false))
        }
        _ => Ok(VmState::Continue),
    }
}
