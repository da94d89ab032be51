//! Running one script or function: the per-run dispatcher behind redis.call, redis.pcall,
//! redis.setresp, redis.set_repl and the kill check, the checks Redis makes before a command
//! runs from a script (script.c `scriptCall`), and turning the outcome into the caller's
//! reply.
//!
//! A run holds the keyspace exclusively (EVAL and FCALL are EXCLUSIVE commands): its commands
//! execute through `dispatch::run_locked` on the script's own session (the caller's database,
//! RESP2 until redis.setresp(3)), and their replies are parsed back into Lua values.

use std::cell::{Cell, RefCell};
use std::sync::atomic::Ordering::Relaxed;

use larder_resp::{Args, OwnedArgs, Reply};
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table, Value};

use super::api::{self, raise_table, to_number};
use super::convert::{lua_to_reply, ReplyError};
use super::raw_call::Job;
use super::vm::{interrupt, Vm};
use super::Running;
use crate::commands::spec::{flag, CommandSpec};
use crate::commands::Ctx;
use crate::server::client::Session;
use crate::server::stats::{Stats, ThreadStats};
use crate::server::Server;

/// How a run may behave.
pub struct RunOpts {
    /// Writes are refused (EVAL_RO, FCALL_RO, `no-writes`).
    pub readonly: bool,
    /// Writes are allowed over maxmemory (`allow-oom`).
    pub allow_oom: bool,
    /// EVAL (true) or FCALL (false): decides the kill command and the error texts.
    pub is_eval: bool,
    /// The script's SHA1 or the function's name, as error replies name it.
    pub name: String,
}

/// Buffers a run's commands use, kept between runs on each thread.
#[derive(Default)]
struct Buffers {
    /// The command redis.call is running.
    args: OwnedArgs,
    /// Formatting room for number arguments.
    num: Vec<u8>,
    /// The command's reply.
    scratch: Vec<u8>,
    /// The error a refused command gets.
    err: Vec<u8>,
}

/// Buffers larger than this are not kept for the next run.
const KEEP_BUFFER: usize = 64 * 1024;

thread_local! {
    static SPARE: RefCell<Buffers> = RefCell::new(Buffers::default());
}

/// The script's side of a run, reached from Lua through the dispatcher.
struct Runner<'a, 'k> {
    srv: &'a Server,
    /// The request (`<command> <script or name> <numkeys> key... arg...`).
    request: Args<'a>,
    numkeys: usize,
    keys: &'a mut larder_engine::Locked<'k>,
    now: u64,
    sess: Session,
    readonly: bool,
    allow_oom: bool,
    /// The OOM state, read on the first command that may grow memory.
    oom: std::cell::Cell<Option<bool>>,
    wrote: bool,
    /// A read-only command ran: a tracking caller then tracks the script's declared keys.
    read: bool,
    killed: bool,
    bufs: Buffers,
    written: Vec<(usize, Vec<u8>)>,
}

/// True when used memory is over a configured maxmemory (Redis's pre-command OOM state).
pub fn over_maxmemory(srv: &Server) -> bool {
    let max = srv.config.read().maxmemory;
    max > 0 && crate::server::evict::used_for_eviction() > max
}

/// What to run: a compiled EVAL script, or a library function, with the request that called
/// it (`<command> <script or name> <numkeys> key... arg...`).
pub struct Invocation<'a> {
    /// The compiled script or the function's callback.
    pub func: &'a Function,
    /// The whole request.
    pub args: Args<'a>,
    /// How many of the arguments after numkeys are keys (checked by the caller).
    pub numkeys: usize,
}

/// What the interpreter's functions reach: the run in progress.
trait Dispatch {
    /// The operation a leading marker names (see `api::op`).
    fn dispatch(&self, lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue>;

    /// redis.call / redis.pcall: reads the command from the stack of `l` (arguments
    /// 1..=top), runs it, and says what to push (see `raw_call`). Calls nothing on `l` that
    /// can raise.
    ///
    /// # Safety
    /// `l` is the state of the redis.call in progress.
    unsafe fn raw_call(&self, l: *mut mlua::ffi::lua_State) -> Job;

    /// The jobs pushing the run's KEYS and ARGV tables.
    fn args_jobs(&self) -> Option<(Job, Job)>;
}

impl Dispatch for RefCell<Runner<'_, '_>> {
    fn dispatch(&self, lua: &Lua, mut args: MultiValue) -> mlua::Result<MultiValue> {
        let mut r = self.try_borrow_mut().map_err(|_| raise_table(super::raw_call::RECURSIVE))?;
        match args.front().and_then(api::op_of) {
            None => Err(raise_table("unknown scripting operation")),
            Some(op) => {
                args.pop_front();
                r.dispatch(lua, op, args)
            }
        }
    }

    fn args_jobs(&self) -> Option<(Job, Job)> {
        let r = self.try_borrow().ok()?;
        let rest = r.request.len().saturating_sub(3);
        let keys = r.numkeys.min(rest);
        Some((Job::strings(&r.request, 3, keys), Job::strings(&r.request, 3 + keys, rest - keys)))
    }

    unsafe fn raw_call(&self, l: *mut mlua::ffi::lua_State) -> Job {
        use mlua::ffi;
        let Ok(mut guard) = self.try_borrow_mut() else {
            return Job::error(super::raw_call::RECURSIVE.as_bytes(), false);
        };
        let r = &mut *guard;
        r.bufs.args.clear();
        let n = ffi::lua_gettop(l);
        if n <= 0 {
            r.bufs.err = api::error_text(b"Please specify at least one argument for this redis lib call");
            return Job::error(&r.bufs.err, false);
        }
        for i in 1..=n {
            match ffi::lua_type(l, i) {
                ffi::LUA_TSTRING => {
                    let mut len = 0usize;
                    let p = ffi::lua_tolstring(l, i, &mut len);
                    if p.is_null() {
                        r.bufs.args.push(b"");
                    } else {
                        // SAFETY: Lua's string stays on the stack (argument i) during the call.
                        r.bufs.args.push(std::slice::from_raw_parts(p.cast::<u8>(), len));
                    }
                }
                ffi::LUA_TNUMBER => push_number(&mut r.bufs.args, &mut r.bufs.num, ffi::lua_tonumber(l, i)),
                _ => {
                    r.bufs.err = api::error_text(b"Lua redis lib command arguments must be strings or integers");
                    return Job::error(&r.bufs.err, false);
                }
            }
        }
        match r.execute() {
            Ok(()) => Job::reply(&r.bufs.scratch),
            Err(counted) => Job::error(&r.bufs.err, counted),
        }
    }
}

/// Appends a number argument as Lua 5.1 numbers convert: integral values in i64's range as
/// integers, others as Redis formats doubles.
fn push_number(args: &mut OwnedArgs, buf: &mut Vec<u8>, n: f64) {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&n) && (n as i64 as f64).to_bits() == n.to_bits() {
        args.push(itoa::Buffer::new().format(n as i64).as_bytes());
    } else {
        buf.clear();
        larder_resp::format_double(n, buf);
        args.push(buf);
    }
}

/// A run's dispatcher with its lifetime erased; see [`Current`].
type DispatchPtr = *const (dyn Dispatch + 'static);

thread_local! {
    /// The run in progress on this thread, if any.
    static CURRENT: Cell<Option<DispatchPtr>> = const { Cell::new(None) };
}

/// Makes a run reachable from the interpreter's dispatcher for as long as this guard lives.
/// The guard is created after the run's state and dropped before it (and restores whatever
/// was current before), so the pointer in [`CURRENT`] always refers to a live run.
struct Current {
    prev: Option<DispatchPtr>,
}

impl Current {
    fn enter(run: &dyn Dispatch) -> Current {
        let p: *const (dyn Dispatch + '_) = run;
        // SAFETY: only the trait object's lifetime bound changes (same pointer, same vtable).
        // The erased pointer is dereferenced only while this guard lives (see `dispatcher`),
        // and the guard cannot outlive `run`'s borrow in the caller.
        let p: DispatchPtr = unsafe { std::mem::transmute::<*const (dyn Dispatch + '_), DispatchPtr>(p) };
        Current { prev: CURRENT.replace(Some(p)) }
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.set(self.prev);
    }
}

/// The jobs pushing the KEYS and ARGV tables of the run in progress (None when there is none).
pub(super) fn args_jobs() -> Option<(Job, Job)> {
    // SAFETY: CURRENT holds a pointer only while the `Current` guard of a live run exists.
    CURRENT.get().and_then(|p| unsafe { (*p).args_jobs() })
}

/// Runs redis.call / redis.pcall for the run in progress (None when there is none).
///
/// # Safety
/// `l` is the state of the redis.call in progress.
pub(super) unsafe fn raw_call(l: *mut mlua::ffi::lua_State) -> Option<Job> {
    // SAFETY: CURRENT holds a pointer only while the `Current` guard of a live run exists.
    CURRENT.get().map(|p| unsafe { (*p).raw_call(l) })
}

/// The dispatcher of an interpreter, created once with it: through operation markers, what
/// needs the running script besides redis.call (redis.setresp, the instruction hook, ...).
/// Outside a run it answers the hook with "continue" and refuses everything else.
pub fn dispatcher(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|lua, args: MultiValue| match CURRENT.get() {
        // SAFETY: CURRENT holds a pointer only while the `Current` guard of a live run exists.
        Some(p) => unsafe { &*p }.dispatch(lua, args),
        None if args.front().and_then(api::op_of) == Some(api::op::INTERRUPT) => {
            super::vm::interrupt::CONTINUE.into_lua_multi(lua)
        }
        None => Err(raise_table("This function can only be called from a running script")),
    })
}

/// Runs an invocation and writes its reply to `ctx.out`.
pub fn run(scripting: &super::Scripting, vm: &Vm, ctx: &mut Ctx<'_, '_>, opts: &RunOpts, call: Invocation<'_>) {
    let Invocation { func, args, numkeys } = call;
    // Only FUNCTION STATS shows the command line (and only for functions).
    let command = if opts.is_eval { Vec::new() } else { args.iter().map(<[u8]>::to_vec).collect() };
    let srv = ctx.srv;
    let caller_resp3 = ctx.sess.resp3;
    let mut sess = Session::new(ctx.sess.shared.clone(), true);
    sess.db = ctx.sess.db;
    sess.aof_tx = Some(Vec::new());
    sess.script = true;
    let runner = RefCell::new(Runner {
        srv,
        request: args,
        numkeys,
        keys: &mut *ctx.keys,
        now: ctx.now,
        sess,
        readonly: opts.readonly,
        allow_oom: opts.allow_oom,
        oom: std::cell::Cell::new(None),
        wrote: false,
        read: false,
        killed: false,
        bufs: SPARE.with(|s| std::mem::take(&mut *s.borrow_mut())),
        written: Vec::new(),
    });
    srv.script.is_function.store(!opts.is_eval, Relaxed);
    srv.script.wrote.store(false, Relaxed);
    srv.script.kill.store(false, Relaxed);
    *scripting.running.lock() =
        Some(Running { name: opts.name.clone(), command, started_ms: ctx.now, is_eval: opts.is_eval });
    srv.script.started_ms.store(ctx.now.max(1), Relaxed);

    let current = Current::enter(&runner);
    let outcome = (|| -> mlua::Result<(bool, Value)> {
        // A FUNCTION LOAD may have used the slot since the last run.
        vm.slot.raw_set(1, &vm.dispatcher)?;
        // The runners fetch KEYS and ARGV from the run (raw_call::fetch_args).
        if opts.is_eval {
            vm.run_chunk.call::<(bool, Value)>(func)
        } else {
            vm.run_function.call::<(bool, Value)>(func)
        }
    })();
    drop(current);

    srv.script.started_ms.store(0, Relaxed);
    *scripting.running.lock() = None;
    srv.script.kill.store(false, Relaxed);
    let Runner { killed, written, mut sess, read, mut bufs, .. } = runner.into_inner();
    if bufs.scratch.capacity() <= KEEP_BUFFER && bufs.args.bytes() <= KEEP_BUFFER {
        bufs.args.clear();
        SPARE.with(|s| *s.borrow_mut() = bufs);
    }
    if read {
        // As Redis: a tracking caller tracks the keys the script declared, once the script
        // read anything (which keys it read inside is not looked at).
        crate::server::dispatch::remember_keys(srv, ctx.sess, args.iter().skip(3).take(numkeys));
    }
    crate::persist::aof::end_multi(srv, sess.aof_tx.take().unwrap_or_default());
    let script_resp3 = sess.resp3;
    if killed {
        vm.reset_hook();
    }
    // SELECT inside the script changed only the script's database.
    ctx.sess.shared.db.store(ctx.sess.db, Relaxed);

    let mut errors = Vec::new();
    match outcome {
        Ok((true, v)) => lua_to_reply(&v, ctx.out, caller_resp3, script_resp3, &mut errors),
        Ok((false, Value::Table(t))) => {
            let (text, counted) = error_reply_text(&t, &opts.name);
            Reply::new(ctx.out, caller_resp3).error(&text);
            errors.push(ReplyError { text, counted });
        }
        Ok((false, other)) => {
            let text = format!("ERR Error running script {}, {}", opts.name, api::tostring(&other)).into_bytes();
            Reply::new(ctx.out, caller_resp3).error(&text);
            errors.push(ReplyError { text, counted: false });
        }
        Err(e) => {
            let text = format!("ERR Error running script {}, {e}", opts.name).into_bytes();
            Reply::new(ctx.out, caller_resp3).error(&text);
            errors.push(ReplyError { text, counted: false });
        }
    }
    count_errors(srv, ctx.id, &errors);
    if !written.is_empty() && srv.blocking.count() > 0 {
        // The script's writes may serve blocked clients; serving locks shards itself, and
        // the keyspace is still held exclusively, so nothing else runs meanwhile.
        ctx.keys.release();
        crate::server::dispatch::serve_ready(srv, written);
    }
}

/// Counts the errors a script's reply carries: each makes the script command count as failed;
/// those not already counted where they happened go to the error statistics.
pub fn count_errors(srv: &Server, id: usize, errors: &[ReplyError]) {
    if errors.is_empty() {
        return;
    }
    let slot = Stats::slot().min(srv.stats.per_cmd.len() - 1);
    for e in errors {
        if !e.counted {
            srv.stats.count_error(&String::from_utf8_lossy(&e.text));
        }
        ThreadStats::add(&srv.stats.per_cmd[slot][id].failed, 1);
    }
}

/// The text of a script's error reply: `err`, then ` script: <name>, on <source>:<line>.` when
/// the handler found the script frame. Also whether the error was already counted.
pub fn error_reply_text(t: &Table, name: &str) -> (Vec<u8>, bool) {
    let mut text = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => s.as_bytes().to_vec(),
        Ok(v @ (Value::Integer(_) | Value::Number(_))) => api::tostring(&v).into_bytes(),
        _ => b"ERR unknown error".to_vec(),
    };
    let source = t.raw_get::<Value>("source").ok().and_then(|v| api::to_bytes(&v));
    let line = t.raw_get::<Value>("line").ok().and_then(|v| api::to_bytes(&v));
    if let (Some(source), Some(line)) = (source, line) {
        text.extend_from_slice(format!(" script: {name}, on ").as_bytes());
        text.extend_from_slice(&source);
        text.push(b':');
        text.extend_from_slice(&line);
        text.push(b'.');
    }
    let counted = matches!(t.raw_get::<Value>("ignore_error_stats_update"), Ok(Value::Boolean(true)));
    (text, counted)
}

/// Turns redis.call's arguments into a command line: strings as they are, numbers as Redis
/// formats doubles; anything else is refused.
pub fn command_args(args: &MultiValue) -> Result<OwnedArgs, &'static str> {
    if args.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    let mut out = OwnedArgs::default();
    let mut num = Vec::new();
    for v in args.iter() {
        match v {
            Value::String(s) => out.push(&s.as_bytes()),
            Value::Integer(i) => out.push(itoa::Buffer::new().format(*i).as_bytes()),
            Value::Number(n) => {
                num.clear();
                larder_resp::format_double(*n, &mut num);
                out.push(&num);
            }
            _ => return Err("Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(out)
}

impl Runner<'_, '_> {
    /// The operations behind markers (see `api::op`); register_function is refused at run time.
    fn dispatch(&mut self, lua: &Lua, op: usize, args: MultiValue) -> mlua::Result<MultiValue> {
        match op {
            api::op::INTERRUPT => {
                if self.srv.script_busy() {
                    // The shards go back while this thread serves its other clients (the
                    // script still holds every gate, so no other command runs meanwhile);
                    // the next redis.call locks what it needs again.
                    self.keys.release();
                    crate::server::worker::serve_while_busy(self.srv);
                }
                let stop = self.srv.script.kill.load(Relaxed) || self.srv.shutting_down.load(Relaxed);
                if stop {
                    if !self.killed {
                        crate::server::log::notice("Lua script killed by user with SCRIPT KILL.");
                    }
                    self.killed = true;
                    return interrupt::KILL.into_lua_multi(lua);
                }
                interrupt::CONTINUE.into_lua_multi(lua)
            }
            api::op::SETRESP => {
                if args.len() != 1 {
                    return Err(raise_table("redis.setresp() requires one argument."));
                }
                match args.front().and_then(to_number).map(|n| n as i64) {
                    Some(2) => self.sess.resp3 = false,
                    Some(3) => self.sess.resp3 = true,
                    _ => return Err(raise_table("RESP version must be 2 or 3.")),
                }
                Ok(MultiValue::new())
            }
            api::op::SET_REPL => {
                if args.len() != 1 {
                    return Err(raise_table("redis.set_repl() requires one argument."));
                }
                let flags = args.front().and_then(to_number).unwrap_or(0.0) as i64;
                if flags & !3 != 0 {
                    return Err(raise_table(
                        "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    ));
                }
                Ok(MultiValue::new())
            }
            api::op::ACL_CHECK => {
                let argv = command_args(&args).map_err(raise_table)?;
                match self.lookup(argv.args()) {
                    Some(_) => true.into_lua_multi(lua),
                    None => Err(raise_table("Invalid command passed to redis.acl_check_cmd()")),
                }
            }
            api::op::REGISTER => {
                Err(raise_table("redis.register_function can only be called on FUNCTION LOAD command"))
            }
            _ => Err(raise_table("unknown scripting operation")),
        }
    }

    /// Redis's pre-command OOM state, read once per run.
    fn over_maxmemory(&self) -> bool {
        let v = self.oom.get().unwrap_or_else(|| over_maxmemory(self.srv));
        self.oom.set(Some(v));
        v
    }

    /// The command `args` names (sub-command included), if it exists.
    fn lookup(&self, args: Args<'_>) -> Option<(usize, &'static CommandSpec)> {
        let (id, spec) = self.srv.commands.lookup(&args[0])?;
        if spec.has(flag::CONTAINER) && args.len() >= 2 {
            return self.srv.commands.lookup_sub(id, &args[1]);
        }
        Some((id, spec))
    }

    /// The checks of script.c `scriptCall`: the command's error text when refused.
    fn check(&self, args: Args<'_>) -> Result<&'static CommandSpec, (Option<usize>, &'static str)> {
        let Some((id, spec)) = self.lookup(args) else {
            return Err((None, "ERR Unknown Redis command called from script"));
        };
        if !spec.arity_ok(args.len()) {
            return Err((Some(id), "ERR Wrong number of args calling Redis command from script"));
        }
        if spec.has(flag::NOSCRIPT) {
            return Err((Some(id), "ERR This Redis command is not allowed from script"));
        }
        if self.readonly && (spec.has(flag::WRITE) || spec.has(flag::MAY_REPLICATE)) {
            return Err((Some(id), "ERR Write commands are not allowed from read-only scripts."));
        }
        if spec.has(flag::WRITE) && crate::server::dispatch::bgsave_failed_stops_writes(self.srv) {
            return Err((Some(id), crate::server::dispatch::MISCONF));
        }
        if spec.has(flag::WRITE) && crate::server::dispatch::too_few_replicas(self.srv) {
            return Err((Some(id), crate::server::dispatch::NOREPLICAS));
        }
        if !self.allow_oom && !self.wrote && spec.has(flag::DENYOOM) && self.over_maxmemory() {
            return Err((Some(id), "OOM command not allowed when used memory > 'maxmemory'."));
        }
        Ok(spec)
    }

    /// Runs the command in `args` for redis.call / redis.pcall: Ok with its reply in
    /// `scratch`, or Err with the error table's text in `err` and whether it was counted.
    fn execute(&mut self) -> Result<(), bool> {
        let a = self.bufs.args.args();
        let spec = match self.check(a) {
            Ok(spec) => spec,
            Err((id, text)) => {
                self.srv.stats.count_error(text);
                if let Some(id) = id {
                    let slot = Stats::slot().min(self.srv.stats.per_cmd.len() - 1);
                    ThreadStats::add(&self.srv.stats.per_cmd[slot][id].rejected, 1);
                }
                self.bufs.err.clear();
                self.bufs.err.extend_from_slice(text.as_bytes());
                return Err(true);
            }
        };
        self.read |= spec.has(flag::READONLY);
        if spec.has(flag::WRITE) {
            self.wrote = true;
            self.srv.script.wrote.store(true, Relaxed);
        }
        self.bufs.scratch.clear();
        crate::server::dispatch::run_locked(
            self.srv,
            &mut self.sess,
            a,
            &mut self.bufs.scratch,
            self.keys,
            self.now,
            false,
        );
        if spec.has(flag::WRITE) && self.srv.blocking.count() > 0 {
            let db = self.sess.db;
            self.written.extend(spec.key_args(a).map(|i| (db, a[i].to_vec())));
        }
        Ok(())
    }
}
