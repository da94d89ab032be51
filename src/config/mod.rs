//! Server configuration: the directives `redis-server` takes, in a file, on the command line,
//! and through CONFIG GET / SET / REWRITE.
//!
//! Everything is driven by one declarative table (`directives.rs`): each entry names a typed
//! field of [`Config`], its directive name and alias, its flags (immutable, protected, ...) and
//! its kind (boolean, bounded number, memory size, string, enumeration, or one of a few special
//! kinds such as `save` and `client-output-buffer-limit`). Loading (`parse.rs`), CONFIG GET and
//! SET (here) and CONFIG REWRITE (`rewrite.rs`) all walk that table, so a directive is added
//! in one place. Names, defaults, bounds, renderings and error texts follow Redis 7.2.
//!
//! Deliberate differences from Redis: `bind` defaults to `127.0.0.1 -::1`; `io-threads`
//! defaults to 0, meaning one worker per core; `dir` is recorded (as an absolute path) rather
//! than changing the process's working directory, which is left to the server; `activedefrag
//! yes` is refused; `loadmodule` and module directives are refused.

mod checks;
mod directives;
mod parse;
mod rewrite;
#[cfg(test)]
mod tests;
mod types;
mod value;

use std::fmt;

use larder_engine::util::glob::glob_match;

pub use directives::Config;
pub use types::{
    AclPubsubDefault, Appendfsync, ClientOutputBufferLimits, ClusterPreferredEndpointType, Loglevel, MaxmemoryPolicy,
    OomScoreAdj, OutputBufferLimit, PropagationErrorBehavior, ProtectedAction, ReplDisklessLoad, SanitizeDumpPayload,
    ShutdownFlags, Supervised, SyslogFacility, TlsAuthClients,
};

use directives::{Directive, DENY_LOADING, DIRECTIVES, HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED};
use directives::{SENSITIVE, VOLATILE};
use value::{lookup, render, SetMode};

/// Why the server does not start after reading its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupError {
    /// `-v` / `--version`: print the version and exit 0.
    Version,
    /// `-h` / `--help`: print [`USAGE`] and exit 1 (as redis-server does).
    Help,
    /// A configuration error: print the message (to stderr, followed by a newline) and exit 1.
    /// For a bad line it reads like redis-server's:
    /// `\n*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\nReading the configuration file, at
    /// line 2\n>>> 'port'\nwrong number of arguments`.
    Fatal(String),
}

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupError::Version => f.write_str("version requested"),
            StartupError::Help => f.write_str(USAGE),
            StartupError::Fatal(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for StartupError {}

/// The `--help` text.
pub const USAGE: &str = "Usage: larder [/path/to/larder.conf] [options] [-]
       larder - (read the configuration from stdin)
       larder -v or --version
       larder -h or --help

Examples:
       larder (run with the default configuration)
       echo 'maxmemory 128mb' | larder -
       larder /etc/larder/6379.conf
       larder --port 7777
       larder --port 7777 --replicaof 127.0.0.1 8888
       larder /etc/larder.conf --loglevel verbose -
";

/// Who is asking for a CONFIG SET, for the checks that depend on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAccess {
    /// The client is on a loopback or Unix-socket connection (`enable-protected-configs local`).
    pub client_is_local: bool,
    /// The server is loading its dataset (directives such as `dir` answer -LOADING).
    pub loading: bool,
}

impl Config {
    /// Builds the configuration from the command line, `argv` WITHOUT the program name, as
    /// redis-server does: `[config-file] [--directive value ...] [-]`. The file (if the first
    /// argument does not start with `-`) is read first, then standard input (a `-` first or
    /// last argument), then the `--name value...` flags as extra lines, so flags override.
    /// `-v`/`--version` and `-h`/`--help` as first argument return
    /// [`StartupError::Version`] / [`StartupError::Help`].
    pub fn load(argv: &[String]) -> Result<Config, StartupError> {
        parse::load(argv)
    }

    /// CONFIG GET for one pattern: `(name, value)` pairs. A pattern without `*`, `?` or `[`
    /// is an exact, case-insensitive name (aliases and hidden directives included, answered
    /// under the name as asked); otherwise a case-insensitive glob over every visible name and
    /// alias.
    pub fn get(&self, pattern: &[u8]) -> Vec<(String, String)> {
        self.get_many(&[pattern])
    }

    /// CONFIG GET with several patterns: the union of their matches, each name once.
    pub fn get_many(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut push = |name: String, d: &Directive| {
            if !out.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                out.push((name, render(self, d)));
            }
        };
        for pat in patterns {
            if !pat.iter().any(|c| b"*?[".contains(c)) {
                if let Some((d, _)) = lookup(pat) {
                    push(String::from_utf8_lossy(pat).into_owned(), d);
                }
                continue;
            }
            for d in DIRECTIVES.iter().filter(|d| !d.has(HIDDEN)) {
                for name in std::iter::once(d.name).chain(d.alias) {
                    if glob_match(pat, name.as_bytes(), true) {
                        push(name.to_string(), d);
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET from a client that is not local, outside loading. See [`Config::set_with`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_with(pairs, SetAccess::default())
    }

    /// CONFIG SET: sets every `(name, value)` pair or none (all are checked before anything
    /// changes). Names are case-insensitive and may be aliases; a multi-argument directive
    /// takes its arguments space-separated in one value. Returns the canonical names whose
    /// value changed, for the server to apply (listeners for `port`/`bind`, eviction for
    /// `maxmemory`, chdir for `dir`, ...); to undo a failed apply, keep a clone from before.
    /// Errors are the reply text without the leading `-`, as Redis 7.2 words them.
    pub fn set_with(&mut self, pairs: &[(&[u8], &[u8])], access: SetAccess) -> Result<Vec<&'static str>, String> {
        let mut found: Vec<(&'static Directive, &'static str, &[u8])> = Vec::new();
        let mut error = None;
        for &(name, value) in pairs {
            let shown = String::from_utf8_lossy(name);
            let Some((d, matched)) = lookup(name) else {
                error = error
                    .or_else(|| Some(format!("ERR Unknown option or number of arguments for CONFIG SET - '{shown}'")));
                continue;
            };
            if error.is_some() {
                continue;
            }
            let protected = d.has(PROTECTED) && !self.enable_protected_configs.allows(access.client_is_local);
            let failed = |reason: &str| {
                Some(format!("ERR CONFIG SET failed (possibly related to argument '{shown}') - {reason}"))
            };
            if d.has(IMMUTABLE) {
                error = failed("can't set immutable config");
            } else if protected {
                error = failed("can't set protected config");
            } else if access.loading && d.has(DENY_LOADING) {
                error = Some("LOADING Redis is loading the dataset in memory".to_string());
            } else if found.iter().any(|(f, _, _)| std::ptr::eq(*f, d)) {
                error = failed("duplicate parameter");
            }
            found.push((d, matched, value));
        }
        if let Some(e) = error {
            return Err(e);
        }
        let mut next = self.clone();
        for &(d, matched, value) in &found {
            let args = split_value(d, value);
            value::apply(&mut next, d, &args, SetMode { save_loaded: None }).map_err(|reason| {
                format!("ERR CONFIG SET failed (possibly related to argument '{matched}') - {reason}")
            })?;
        }
        let changed = found
            .iter()
            .filter(|(d, _, _)| d.has(VOLATILE) || render(self, d) != render(&next, d))
            .map(|(d, _, _)| d.name)
            .collect();
        *self = next;
        Ok(changed)
    }

    /// CONFIG REWRITE: rewrites `config_file` in place, keeping comments, unknown lines and
    /// the position of every directive it already had, updating changed ones, appending the
    /// others that differ from their defaults after a `# Generated by CONFIG REWRITE` line,
    /// and blanking lines of directives now at their defaults or repeated.
    pub fn rewrite(&self) -> Result<(), String> {
        rewrite::rewrite(self)
    }

    /// The `bind` addresses, each with whether it is optional (written with a leading `-`:
    /// failing to bind it is not an error).
    pub fn bind_addresses(&self) -> impl Iterator<Item = (&str, bool)> {
        self.bind.iter().map(|a| a.strip_prefix('-').map_or((a.as_str(), false), |s| (s, true)))
    }
}

/// Whether the directive `name` holds a secret (its CONFIG SET value must be redacted from
/// SLOWLOG, MONITOR and the like).
pub fn is_sensitive(name: &[u8]) -> bool {
    lookup(name).is_some_and(|(d, _)| d.has(SENSITIVE))
}

/// Every directive's canonical name, in table order (for tests and introspection).
pub fn directive_names() -> impl Iterator<Item = &'static str> {
    DIRECTIVES.iter().map(|d| d.name)
}

/// The arguments of a CONFIG SET value: multi-argument directives split it on single
/// spaces (an empty value is no arguments), the others take it whole.
fn split_value(d: &Directive, value: &[u8]) -> Vec<Vec<u8>> {
    match (d.has(MULTI_ARG), value.is_empty()) {
        (false, _) => vec![value.to_vec()],
        (true, true) => Vec::new(),
        (true, false) => value.split(|&c| c == b' ').map(<[u8]>::to_vec).collect(),
    }
}
