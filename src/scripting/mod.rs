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
pub mod eval;
pub mod lib_bit;
pub mod lib_cjson;
pub mod lib_cmsgpack;
pub mod lib_struct;
pub mod library;
pub mod num;
pub mod run;
pub mod vm;

use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

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
    /// When it started.
    pub started: Instant,
    /// EVAL (true) or FCALL (false).
    pub is_eval: bool,
}

/// The scripting engines of a server.
pub struct Scripting {
    eval: Mutex<Option<eval::EvalEngine>>,
    functions: Mutex<Option<library::FunctionEngine>>,
    /// What runs now.
    pub running: Mutex<Option<Running>>,
    /// Libraries and functions loaded (read without the functions lock, by FUNCTION STATS).
    counts: Mutex<(usize, usize)>,
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

impl Scripting {
    /// Engines whose interpreters are created on first use.
    pub fn new() -> Self {
        Scripting { eval: Mutex::new(None), functions: Mutex::new(None), running: Mutex::new(None), counts: Mutex::new((0, 0)) }
    }

    /// The EVAL engine, created if needed.
    fn eval_engine(&self) -> Result<MutexGuard<'_, Option<eval::EvalEngine>>, CmdError> {
        let mut g = self.eval.lock();
        if g.is_none() {
            *g = Some(eval::EvalEngine::new().map_err(|e| CmdError::err(format!("Failed creating the Lua interpreter: {e}")))?);
        }
        Ok(g)
    }

    /// The functions engine, created if needed.
    fn function_engine(&self) -> Result<MutexGuard<'_, Option<library::FunctionEngine>>, CmdError> {
        let mut g = self.functions.lock();
        if g.is_none() {
            *g = Some(library::FunctionEngine::new().map_err(|e| CmdError::err(format!("Failed creating the Lua interpreter: {e}")))?);
        }
        Ok(g)
    }

    /// SCRIPT LOAD: compiles and caches `body`, returning its SHA1.
    pub fn script_load(&self, body: &[u8]) -> Result<String, CmdError> {
        let mut g = self.eval_engine()?;
        g.as_mut().ok_or(CmdError::Static("ERR scripting engine unavailable"))?.load(body)
    }

    /// SCRIPT EXISTS for one SHA1.
    pub fn script_exists(&self, sha: &[u8]) -> bool {
        self.eval.lock().as_ref().is_some_and(|e| e.exists(sha))
    }

    /// SCRIPT FLUSH: drops the cache and the interpreter (a fresh one is made on next use).
    pub fn script_flush(&self) {
        let old = self.eval.lock().take();
        drop(old);
    }

    /// Number of cached EVAL scripts and the memory of the EVAL interpreter and cache.
    pub fn eval_stats(&self) -> (usize, usize, usize) {
        match self.eval.lock().as_ref() {
            Some(e) => (e.len(), e.vm_memory(), e.cache_memory()),
            None => (0, 0, 0),
        }
    }

    /// Libraries and functions loaded.
    pub fn function_counts(&self) -> (usize, usize) {
        *self.counts.lock()
    }

    /// EVAL / EVALSHA (`by_sha`) and their _RO variants (`ro`).
    pub fn eval(&self, ctx: &mut crate::commands::Ctx<'_, '_>, args: larder_resp::Args<'_>, by_sha: bool, ro: bool) -> CmdResult {
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
            return Err(CmdError::Static("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."));
        }
        if !is_eval && !running_function {
            return Err(CmdError::Static("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."));
        }
        st.kill.store(true, Relaxed);
        Ok(())
    }
}
