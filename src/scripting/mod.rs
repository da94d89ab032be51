//! Lua scripting and functions: EVAL scripts and FUNCTION libraries on embedded Lua 5.1
//! interpreters, as Redis 7.2 runs them.
//!
//! Reading order: [`vm`] (an interpreter and its sandbox, `sandbox.lua`), [`api`] (the `redis`
//! table and error conventions), [`run`] (one script run: redis.call, the checks, the reply),
//! [`convert`] (replies ↔ Lua values), [`eval`] (the script cache), [`library`] (function
//! libraries), then the libraries Redis bundles: [`lib_cjson`], [`lib_cmsgpack`], [`lib_bit`],
//! [`lib_struct`].
//!
//! Concurrency: EVAL and FCALL are EXCLUSIVE commands, so a running script holds the whole
//! keyspace and runs alone; each interpreter sits behind its own mutex. What other threads may
//! look at while a script runs (SCRIPT KILL, FUNCTION KILL, FUNCTION STATS, -BUSY replies) is
//! outside those mutexes: `Server::script` and [`Scripting::running`].

pub mod api;
pub mod convert;
pub mod dump;
pub mod eval;
pub mod lib_bit;
pub mod lib_cjson;
pub mod lib_cmsgpack;
pub mod lib_struct;
pub mod library;
pub mod num;
pub mod raw_call;
pub mod run;
pub mod vm;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use parking_lot::{Mutex, MutexGuard};

use crate::commands::{CmdError, CmdResult};
use crate::server::Server;

/// Script flags (shebang `flags=` and register_function's `flags`).
pub mod sflag {
    /// `no-writes`.
    pub const NO_WRITES: u32 = 1 << 0;
    /// `allow-oom`.
    pub const ALLOW_OOM: u32 = 1 << 1;
    /// `allow-stale`.
    pub const ALLOW_STALE: u32 = 1 << 2;
    /// `no-cluster`.
    pub const NO_CLUSTER: u32 = 1 << 3;
    /// `allow-cross-slot-keys`.
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
    /// An EVAL script without a shebang: the pre-7.0 behaviour.
    pub const EVAL_COMPAT: u32 = 1 << 5;

    /// Flag names, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (NO_WRITES, "no-writes"),
        (ALLOW_OOM, "allow-oom"),
        (ALLOW_STALE, "allow-stale"),
        (NO_CLUSTER, "no-cluster"),
        (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ];
}

/// The script or function running now (FUNCTION STATS).
pub struct Running {
    /// The script's SHA1 or the function's name.
    pub name: String,
    /// The calling command line.
    pub command: Vec<Vec<u8>>,
    /// When it started (unix ms).
    pub started_ms: u64,
    /// EVAL (true) or FCALL (false).
    pub is_eval: bool,
}

/// The scripting engines of a server.
pub struct Scripting {
    eval: Mutex<Option<eval::EvalEngine>>,
    functions: Mutex<Option<library::FunctionEngine>>,
    /// What runs now.
    pub running: Mutex<Option<Running>>,
    /// Figures INFO and FUNCTION STATS read without the interpreters' locks (a script may be
    /// running and holding them, and INFO may be called from that very script).
    stats: ScriptingStats,
}

/// Scripting figures kept outside the interpreters' locks.
#[derive(Default)]
pub struct ScriptingStats {
    /// Cached EVAL scripts (number_of_cached_scripts).
    pub cached_scripts: AtomicUsize,
    /// Bytes used by the EVAL interpreter (used_memory_vm_eval).
    pub eval_vm_memory: AtomicUsize,
    /// Bytes of the script cache (used_memory_scripts_eval).
    pub eval_cache_memory: AtomicUsize,
    /// Bytes used by the functions interpreter (used_memory_vm_functions).
    pub functions_vm_memory: AtomicUsize,
    /// Loaded libraries (number_of_libraries).
    pub libraries: AtomicUsize,
    /// Loaded functions (number_of_functions).
    pub functions: AtomicUsize,
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

impl Scripting {
    /// Engines whose interpreters are created on first use.
    pub fn new() -> Self {
        Scripting {
            eval: Mutex::new(None),
            functions: Mutex::new(None),
            running: Mutex::new(None),
            stats: ScriptingStats::default(),
        }
    }

    /// The EVAL engine, created if needed.
    fn eval_engine(&self) -> Result<MutexGuard<'_, Option<eval::EvalEngine>>, CmdError> {
        let mut g = self.eval.lock();
        if g.is_none() {
            *g = Some(
                eval::EvalEngine::new()
                    .map_err(|e| CmdError::err(format!("Failed creating the Lua interpreter: {e}")))?,
            );
        }
        Ok(g)
    }

    /// The functions engine, created if needed.
    fn function_engine(&self) -> Result<MutexGuard<'_, Option<library::FunctionEngine>>, CmdError> {
        let mut g = self.functions.lock();
        if g.is_none() {
            *g = Some(
                library::FunctionEngine::new()
                    .map_err(|e| CmdError::err(format!("Failed creating the Lua interpreter: {e}")))?,
            );
        }
        Ok(g)
    }

    /// SCRIPT LOAD: compiles and caches `body`, returning its SHA1.
    pub fn script_load(&self, body: &[u8]) -> Result<String, CmdError> {
        let mut g = self.eval_engine()?;
        let r = g.as_mut().ok_or(CmdError::Static("ERR scripting engine unavailable"))?.load(body);
        self.update_eval_stats(g.as_ref());
        r
    }

    /// SCRIPT EXISTS for one SHA1.
    pub fn script_exists(&self, sha: &[u8]) -> bool {
        self.eval.lock().as_ref().is_some_and(|e| e.exists(sha))
    }

    /// SCRIPT FLUSH: drops the cache and the interpreter (a fresh one is made on next use).
    pub fn script_flush(&self) {
        let old = self.eval.lock().take();
        drop(old);
        self.update_eval_stats(None);
    }

    /// Scripting figures for INFO (safe to read at any time, even from a running script).
    pub fn stats(&self) -> &ScriptingStats {
        &self.stats
    }

    /// Libraries and functions loaded.
    pub fn function_counts(&self) -> (usize, usize) {
        (self.stats.libraries.load(Relaxed), self.stats.functions.load(Relaxed))
    }

    /// Refreshes the EVAL figures of [`Scripting::stats`].
    pub(crate) fn update_eval_stats(&self, e: Option<&eval::EvalEngine>) {
        let (n, vm, cache) = e.map(|e| (e.len(), e.vm_memory(), e.cache_memory())).unwrap_or((0, 0, 0));
        self.stats.cached_scripts.store(n, Relaxed);
        self.stats.eval_vm_memory.store(vm, Relaxed);
        self.stats.eval_cache_memory.store(cache, Relaxed);
    }

    /// EVAL / EVALSHA (`by_sha`) and their _RO variants (`ro`).
    pub fn eval(
        &self,
        ctx: &mut crate::commands::Ctx<'_, '_>,
        args: larder_resp::Args<'_>,
        by_sha: bool,
        ro: bool,
    ) -> CmdResult {
        eval::eval(self, ctx, args, by_sha, ro)
    }

    /// SCRIPT KILL (`is_eval`) and FUNCTION KILL: asks the running script to stop.
    pub fn kill(&self, srv: &Server, is_eval: bool) -> CmdResult {
        let st = &srv.script;
        if st.started_ms.load(Relaxed) == 0 {
            return Err(CmdError::Static("NOTBUSY No scripts in execution right now."));
        }
        if st.wrote.load(Relaxed) {
            return Err(CmdError::Static(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            ));
        }
        let running_function = st.is_function.load(Relaxed);
        if is_eval && running_function {
            return Err(CmdError::Static(
                "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
            ));
        }
        if !is_eval && !running_function {
            return Err(CmdError::Static(
                "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
            ));
        }
        st.kill.store(true, Relaxed);
        Ok(())
    }
}

/// FUNCTION RESTORE's policy for libraries that exist already.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RestorePolicy {
    /// Add the payload's libraries; a name collision fails the whole restore.
    Append,
    /// Add them, replacing libraries of the same name.
    Replace,
    /// Drop every library first.
    Flush,
}

const SLOW_EVAL: &str = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

impl Scripting {
    fn update_counts(&self, e: &library::FunctionEngine) {
        self.stats.libraries.store(e.libraries.len(), Relaxed);
        self.stats.functions.store(e.function_count(), Relaxed);
        self.stats.functions_vm_memory.store(e.vm_memory(), Relaxed);
    }

    /// FCALL / FCALL_RO.
    pub fn fcall(&self, ctx: &mut crate::commands::Ctx<'_, '_>, args: larder_resp::Args<'_>, ro: bool) -> CmdResult {
        let g = self.function_engine()?;
        let e = g.as_ref().ok_or(CmdError::Static("ERR scripting engine unavailable"))?;
        e.fcall(self, ctx, args, ro)
    }

    /// FUNCTION LOAD: returns the library's name.
    pub fn function_load(
        &self,
        code: &[u8],
        replace: bool,
        timeout: Option<std::time::Duration>,
    ) -> Result<String, CmdError> {
        let mut g = self.function_engine()?;
        let e = g.as_mut().ok_or(CmdError::Static("ERR scripting engine unavailable"))?;
        let r = e.load(code, replace, timeout).map_err(CmdError::err);
        self.update_counts(e);
        r
    }

    /// FUNCTION DELETE.
    pub fn function_delete(&self, name: &[u8]) -> CmdResult {
        let mut g = self.function_engine()?;
        let e = g.as_mut().ok_or(CmdError::Static("ERR scripting engine unavailable"))?;
        let found = e.unlink(&String::from_utf8_lossy(name));
        self.update_counts(e);
        if found {
            Ok(())
        } else {
            Err(CmdError::Static("ERR Library not found"))
        }
    }

    /// FUNCTION FLUSH.
    pub fn function_flush(&self) {
        if let Some(e) = self.functions.lock().as_mut() {
            e.clear();
            self.update_counts(e);
        }
    }

    /// FUNCTION LIST: writes the reply.
    pub fn function_list(&self, out: &mut Vec<u8>, resp3: bool, pattern: Option<&[u8]>, with_code: bool) -> CmdResult {
        let g = self.functions.lock();
        let mut r = larder_resp::Reply::new(out, resp3);
        let Some(e) = g.as_ref() else {
            r.empty_array();
            return Ok(());
        };
        let libs: Vec<&library::Library> = e
            .libraries
            .values()
            .filter(|l| pattern.is_none_or(|p| larder_engine::util::glob::glob_match(p, l.name.as_bytes(), true)))
            .collect();
        r.array(libs.len());
        for lib in libs {
            r.map(if with_code { 4 } else { 3 });
            r.bulk(b"library_name");
            r.bulk(lib.name.as_bytes());
            r.bulk(b"engine");
            r.bulk(b"LUA");
            r.bulk(b"functions");
            r.array(lib.functions.len());
            for f in &lib.functions {
                r.map(3);
                r.bulk(b"name");
                r.bulk(f.name.as_bytes());
                r.bulk(b"description");
                match &f.desc {
                    Some(d) => r.bulk(d),
                    None => r.null(),
                }
                r.bulk(b"flags");
                let names: Vec<&str> = sflag::NAMES.iter().filter(|(b, _)| f.flags & b != 0).map(|(_, n)| *n).collect();
                r.set(names.len());
                for n in names {
                    r.simple(n.as_bytes());
                }
            }
            if with_code {
                r.bulk(b"library_code");
                r.bulk(&lib.code);
            }
        }
        Ok(())
    }

    /// FUNCTION STATS: writes the reply. Runs while a script is busy, so it reads only what
    /// lives outside the interpreters' locks.
    pub fn function_stats(&self, out: &mut Vec<u8>, resp3: bool) -> CmdResult {
        let running = self.running.lock();
        if running.as_ref().is_some_and(|r| r.is_eval) {
            return Err(CmdError::Static(SLOW_EVAL));
        }
        let (libs, funcs) = self.function_counts();
        let mut r = larder_resp::Reply::new(out, resp3);
        r.map(2);
        r.bulk(b"running_script");
        match running.as_ref() {
            None => r.null(),
            Some(run) => {
                r.map(3);
                r.bulk(b"name");
                r.bulk(run.name.as_bytes());
                r.bulk(b"command");
                r.array(run.command.len());
                for a in &run.command {
                    r.bulk(a);
                }
                r.bulk(b"duration_ms");
                r.int(larder_engine::clock::now_ms().saturating_sub(run.started_ms) as i64);
            }
        }
        r.bulk(b"engines");
        r.map(1);
        r.bulk(b"LUA");
        r.map(2);
        r.bulk(b"libraries_count");
        r.int(libs as i64);
        r.bulk(b"functions_count");
        r.int(funcs as i64);
        Ok(())
    }

    /// Every function library's code (for snapshots).
    pub fn library_codes(&self) -> Vec<Vec<u8>> {
        let g = self.functions.lock();
        g.as_ref().map(|e| e.libraries.values().map(|l| l.code.to_vec()).collect()).unwrap_or_default()
    }

    /// FUNCTION DUMP: every library's code in Redis's payload format.
    pub fn function_dump(&self) -> Result<Vec<u8>, CmdError> {
        let g = self.functions.lock();
        let codes: Vec<&[u8]> =
            g.as_ref().map(|e| e.libraries.values().map(|l| &l.code[..]).collect()).unwrap_or_default();
        Ok(dump::encode(&codes))
    }

    /// FUNCTION RESTORE.
    pub fn function_restore(&self, payload: &[u8], policy: RestorePolicy) -> CmdResult {
        let codes = dump::decode(payload).map_err(CmdError::err)?;
        let mut g = self.function_engine()?;
        let e = g.as_mut().ok_or(CmdError::Static("ERR scripting engine unavailable"))?;
        let mut libs = Vec::with_capacity(codes.len());
        for code in &codes {
            let lib = e.create(code, None, None).map_err(CmdError::err)?;
            if libs.iter().any(|l: &library::Library| l.name == lib.name) {
                return Err(CmdError::err(format!("Library {} already exists", lib.name)));
            }
            libs.push(lib);
        }
        let r = e.join(libs, policy).map_err(CmdError::err);
        self.update_counts(e);
        r
    }
}
