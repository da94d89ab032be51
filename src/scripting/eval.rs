//! EVAL scripts: the script cache (SHA1 → compiled function and shebang flags), shebang
//! parsing, and EVAL / EVALSHA / SCRIPT LOAD on top of [`super::run`].

use std::collections::HashMap;

use mlua::Function;

use super::api::sha1_hex;
use super::run::{over_maxmemory, Invocation, RunOpts};
use super::vm::{Kind, Vm};
use super::{sflag, Scripting};
use crate::commands::{CmdError, CmdResult, Ctx};

/// A cached script.
struct Script {
    /// `sflag` bits from its shebang (`EVAL_COMPAT` without one).
    flags: u32,
    /// The compiled body.
    func: Function,
    /// Body length (memory accounting).
    len: usize,
}

/// The EVAL interpreter and its script cache; SCRIPT FLUSH replaces both.
pub struct EvalEngine {
    vm: Vm,
    scripts: HashMap<String, Script>,
    /// Bytes of cached script bodies.
    pub bodies: usize,
}

/// Parses a `#!lua flags=...` first line: the flags and the shebang's length (0 without one).
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((sflag::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let parts = match larder_resp::split_args(&body[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", String::from_utf8_lossy(&parts[0])));
    }
    let mut flags = 0;
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!("Unknown lua shebang option: {}", String::from_utf8_lossy(part)));
        };
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            match sflag::NAMES.iter().find(|(_, n)| n.as_bytes() == name) {
                Some((f, _)) => flags |= f,
                None => return Err(format!("Unexpected flag in script shebang: {}", String::from_utf8_lossy(name))),
            }
        }
    }
    Ok((flags, end))
}

impl EvalEngine {
    /// A fresh interpreter with an empty cache.
    pub fn new() -> mlua::Result<Self> {
        Ok(EvalEngine { vm: Vm::new(Kind::Eval)?, scripts: HashMap::new(), bodies: 0 })
    }

    /// Number of cached scripts.
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// True when no script is cached.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Memory the interpreter uses.
    pub fn vm_memory(&self) -> usize {
        self.vm.used_memory()
    }

    /// True when the script `sha` (any case) is cached.
    pub fn exists(&self, sha: &[u8]) -> bool {
        sha.len() == 40 && self.scripts.contains_key(&String::from_utf8_lossy(sha).to_ascii_lowercase())
    }

    /// Compiles and caches `body` (unless cached already) and returns its SHA1.
    pub fn load(&mut self, body: &[u8]) -> Result<String, CmdError> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = parse_shebang(body).map_err(CmdError::err)?;
        // The shebang line is skipped but its newline kept, so line numbers stay right.
        let func =
            self.vm.lua.load(&body[shebang_len..]).set_name("@user_script").into_function().map_err(|e| {
                CmdError::err(format!("Error compiling script (new function): {}", compile_message(&e)))
            })?;
        self.bodies += body.len();
        self.scripts.insert(sha.clone(), Script { flags, func, len: body.len() });
        Ok(sha)
    }

    /// Forgets every script (the interpreter is replaced by the caller).
    pub fn forget(&mut self) {
        self.scripts.clear();
        self.bodies = 0;
    }

    /// Bytes the cache itself uses (bodies and entries).
    pub fn cache_memory(&self) -> usize {
        self.scripts.values().map(|s| s.len + 40 + std::mem::size_of::<Script>()).sum()
    }
}

/// The syntax error text Lua gave (`user_script:1: ...`).
pub fn compile_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// EVAL / EVALSHA / EVAL_RO / EVALSHA_RO: `args` is the whole request.
pub fn eval(
    scripting: &Scripting,
    ctx: &mut Ctx<'_, '_>,
    args: larder_resp::Args<'_>,
    by_sha: bool,
    ro: bool,
) -> CmdResult {
    let numkeys = crate::commands::int_arg(&args[2])?;
    if numkeys > args.len() as i64 - 3 {
        return Err(CmdError::Static("ERR Number of keys can't be greater than number of args"));
    }
    if numkeys < 0 {
        return Err(CmdError::Static("ERR Number of keys can't be negative"));
    }
    let numkeys = numkeys as usize;
    if by_sha && args[1].len() != 40 {
        return Err(CmdError::Static("NOSCRIPT No matching script. Please use EVAL."));
    }
    let mut guard = scripting.eval_engine()?;
    let engine = guard.as_mut().ok_or(CmdError::Static("ERR scripting engine unavailable"))?;
    let sha = if by_sha {
        let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
        if !engine.scripts.contains_key(&sha) {
            return Err(CmdError::Static("NOSCRIPT No matching script. Please use EVAL."));
        }
        sha
    } else {
        engine.load(&args[1])?
    };
    let Some(script) = engine.scripts.get(&sha) else {
        return Err(CmdError::Static("NOSCRIPT No matching script. Please use EVAL."));
    };
    let opts = prepare(ctx, script.flags, ro, true, sha)?;
    super::run::run(scripting, &engine.vm, ctx, &opts, Invocation { func: &script.func, args, numkeys });
    if !by_sha && engine.len() != scripting.stats().cached_scripts.load(std::sync::atomic::Ordering::Relaxed) {
        scripting.update_eval_stats(Some(engine));
    }
    Ok(())
}

/// scriptPrepareForRun: the refusals a script's flags call for, and the run's options.
pub fn prepare(ctx: &Ctx<'_, '_>, flags: u32, ro: bool, is_eval: bool, name: String) -> Result<RunOpts, CmdError> {
    let compat = flags & sflag::EVAL_COMPAT != 0;
    if !compat {
        let no_writes = flags & sflag::NO_WRITES != 0;
        if !no_writes && ro {
            return Err(CmdError::Static("ERR Can not execute a script with write flag using *_ro command."));
        }
        if !no_writes && crate::server::dispatch::bgsave_failed_stops_writes(ctx.srv) {
            return Err(CmdError::Static(crate::server::dispatch::MISCONF));
        }
        if !no_writes && crate::server::dispatch::too_few_replicas(ctx.srv) {
            return Err(CmdError::Static(crate::server::dispatch::NOREPLICAS));
        }
        if !no_writes && flags & sflag::ALLOW_OOM == 0 && over_maxmemory(ctx.srv) {
            // Redis turns these flags into DENYOOM for the calling command, so the refusal is
            // the plain OOM error every denyoom command gets.
            return Err(CmdError::Static("OOM command not allowed when used memory > 'maxmemory'."));
        }
    }
    Ok(RunOpts {
        readonly: ro || (!compat && flags & sflag::NO_WRITES != 0),
        allow_oom: !compat && flags & sflag::ALLOW_OOM != 0,
        is_eval,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(parse_shebang(b"return 1"), Ok((sflag::EVAL_COMPAT, 0)));
        assert_eq!(parse_shebang(b"#!lua\nreturn 1"), Ok((0, 5)));
        assert_eq!(parse_shebang(b"#!lua flags=no-writes,allow-oom\n"), Ok((sflag::NO_WRITES | sflag::ALLOW_OOM, 31)));
        assert_eq!(parse_shebang(b"#!lua flags=\nx"), Ok((0, 12)));
        assert_eq!(parse_shebang(b"#!lua"), Err("Invalid script shebang".into()));
        assert_eq!(parse_shebang(b"#!python\n"), Err("Unexpected engine in script shebang: #!python".into()));
        assert_eq!(parse_shebang(b"#!lua flags=bad\n"), Err("Unexpected flag in script shebang: bad".into()));
        assert_eq!(parse_shebang(b"#!lua name=x\n"), Err("Unknown lua shebang option: name=x".into()));
    }
}
