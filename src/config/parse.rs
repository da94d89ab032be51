//! Start-up: the command line, the configuration file (redis.conf syntax, `include`
//! supported) and standard input, read as redis-server reads them, with its fatal error
//! reports.
//!
//! The file, then standard input, then the `--name value` flags (turned into lines) form one
//! text read line by line: each line is trimmed, `#` lines and blank lines are skipped, the
//! rest is split like a Redis inline command (quotes and escapes) and applied in order, so a
//! later line overrides an earlier one. The first `save` line replaces the default save
//! points and later ones add to it; `save ""` clears them.

use std::io::Read;
use std::path::{Path, PathBuf};

use larder_engine::util::glob::glob_match;
use larder_resp::split_args;

use super::directives::MULTI_ARG;
use super::value::{apply, lookup, repr, strerror, SetMode};
use super::{Config, StartupError};

/// The Redis version whose behaviour, and fatal-error banner, Larder reproduces.
const REDIS_VERSION: &str = "7.2.4";

/// How deep `include` may nest (Redis has no limit and would recurse until it crashes).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Directives Redis 7.2 still accepts in a file and ignores, with their argument count
/// (including the name).
const DEPRECATED: &[(&str, usize)] =
    &[("list-max-ziplist-entries", 2), ("list-max-ziplist-value", 2), ("lua-replicate-commands", 2)];

struct LoadState {
    save_loaded: bool,
    depth: usize,
}

/// See [`Config::load`].
pub(crate) fn load(argv: &[String]) -> Result<Config, StartupError> {
    let mut cfg = Config::default();
    let Some(first) = argv.first() else {
        return Ok(cfg);
    };
    match first.as_str() {
        "-v" | "--version" => return Err(StartupError::Version),
        "-h" | "--help" => return Err(StartupError::Help),
        _ => {}
    }
    let mut start = 0;
    if !first.starts_with('-') {
        cfg.config_file = Some(std::path::absolute(first).unwrap_or_else(|_| PathBuf::from(first)));
        start = 1;
    }
    let (options, from_stdin) = flags_to_lines(argv, start);
    let mut text = match &cfg.config_file {
        Some(path) => read_config(path)?,
        None => Vec::new(),
    };
    if from_stdin {
        std::io::stdin()
            .read_to_end(&mut text)
            .map_err(|e| StartupError::Fatal(format!("Fatal error, can't read config from stdin: {}", strerror(&e))))?;
    }
    text.push(b'\n');
    text.extend_from_slice(&options);
    let mut state = LoadState { save_loaded: false, depth: 0 };
    load_text(&mut cfg, &text, &mut state)?;
    finish(&mut cfg)?;
    Ok(cfg)
}

/// Parses configuration text (no command line involved); for tests and embedding.
#[cfg(test)]
pub(crate) fn load_str(text: &str) -> Result<Config, StartupError> {
    let mut cfg = Config::default();
    let mut state = LoadState { save_loaded: false, depth: 0 };
    load_text(&mut cfg, text.as_bytes(), &mut state)?;
    finish(&mut cfg)?;
    Ok(cfg)
}

/// Turns the arguments after the config file into configuration lines, as redis-server does:
/// `--name` starts a line, the arguments that follow are quoted onto it; `--save` with no
/// value (last, or followed by another `--flag`) means `save ""`. Returns the lines and
/// whether a `-` (first or last) asks for standard input.
fn flags_to_lines(argv: &[String], start: usize) -> (Vec<u8>, bool) {
    let mut out: Vec<u8> = Vec::new();
    let mut from_stdin = false;
    let mut had_value = true;
    let last = argv.len().saturating_sub(1);
    for (j, arg) in argv.iter().enumerate().skip(start) {
        let next_is_flag = argv.get(j + 1).is_some_and(|n| n.starts_with("--"));
        if arg == "-" && (j == 0 || j == last) {
            from_stdin = true;
        } else if had_value && arg.starts_with("--") {
            if !out.is_empty() {
                out.push(b'\n');
            }
            out.extend_from_slice(&arg.as_bytes()[2..]);
            out.push(b' ');
            let words = split_args(arg.as_bytes()).map_or(0, |w| w.len());
            if words == 1 {
                had_value = false;
                let is = |name: &str| arg.eq_ignore_ascii_case(name);
                if is("--save") && (j == last || next_is_flag) {
                    out.extend_from_slice(b"\"\"");
                    had_value = j != last;
                } else if is("--sentinel") && j != last && next_is_flag {
                    had_value = true;
                }
            } else {
                had_value = true;
            }
        } else {
            out.extend_from_slice(repr(arg.as_bytes()).as_bytes());
            out.push(b' ');
            had_value = true;
        }
    }
    (out, from_stdin)
}

fn fatal(line: Option<(usize, &[u8])>, reason: &str) -> StartupError {
    let mut msg = format!("\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n");
    if let Some((n, text)) = line {
        msg.push_str(&format!(
            "Reading the configuration file, at line {n}\n>>> '{}'\n",
            String::from_utf8_lossy(text)
        ));
    }
    msg.push_str(reason);
    StartupError::Fatal(msg)
}

fn trim(mut s: &[u8]) -> &[u8] {
    const WS: &[u8] = b" \t\r\n";
    while let [first, rest @ ..] = s {
        if !WS.contains(first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !WS.contains(last) {
            break;
        }
        s = rest;
    }
    s
}

fn load_text(cfg: &mut Config, text: &[u8], state: &mut LoadState) -> Result<(), StartupError> {
    for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
        let line = trim(raw);
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let fail = |reason: &str| fatal(Some((i + 1, line)), reason);
        let Some(mut argv) = split_args(line) else {
            return Err(fail("Unbalanced quotes in configuration line"));
        };
        if argv.is_empty() {
            continue;
        }
        argv[0].make_ascii_lowercase();
        if let Some((d, _)) = lookup(&argv[0]) {
            let multi = d.has(MULTI_ARG);
            if !multi && argv.len() != 2 {
                return Err(fail("wrong number of arguments"));
            }
            // A multi-argument directive may come as one quoted argument ("--save '900 1'").
            let args = match multi && argv.len() == 2 && !argv[1].is_empty() {
                true => split_args(&argv[1]).unwrap_or_default(),
                false => argv.split_off(1),
            };
            let mode = SetMode { save_loaded: Some(&mut state.save_loaded) };
            apply(cfg, d, &args, mode).map_err(|reason| fail(&reason))?;
            continue;
        }
        let name = String::from_utf8_lossy(&argv[0]).into_owned();
        let argc = argv.len();
        if DEPRECATED.iter().any(|&(n, c)| n == name && c == argc) {
            continue;
        }
        let words = || argv[1..].iter().map(|a| String::from_utf8_lossy(a).into_owned());
        match name.as_str() {
            "include" if argc == 2 => {
                if state.depth >= MAX_INCLUDE_DEPTH {
                    return Err(fail("Too many nested include directives"));
                }
                let path = PathBuf::from(String::from_utf8_lossy(&argv[1]).into_owned());
                state.depth += 1;
                for file in expand_include(&path) {
                    load_text(cfg, &read_config(&file)?, state)?;
                }
                state.depth -= 1;
            }
            "rename-command" if argc == 3 => {
                let w: Vec<String> = words().collect();
                cfg.rename_commands.push((w[0].clone(), w[1].clone()));
            }
            "user" if argc >= 2 => cfg.users.push(words().collect()),
            "loadmodule" if argc >= 2 => return Err(fail("Larder does not support modules")),
            "sentinel" => return Err(fail("sentinel directive while not in sentinel mode")),
            _ => return Err(fail("Bad directive or wrong number of arguments")),
        }
    }
    Ok(())
}

/// The checks Redis makes once the whole configuration is read.
fn finish(cfg: &mut Config) -> Result<(), StartupError> {
    if !cfg.logfile.is_empty() {
        let path = cfg.dir.join(&cfg.logfile);
        let opened = std::fs::OpenOptions::new().append(true).create(true).open(path);
        if let Err(e) = opened {
            return Err(fatal(None, &format!("Can't open the log file: {}", strerror(&e))));
        }
    }
    if cfg.cluster_enabled && cfg.replicaof.is_some() {
        return Err(fatal(None, "replicaof directive not allowed in cluster mode"));
    }
    if cfg.cluster_enabled && cfg.databases > 1 {
        cfg.databases = 1;
    }
    Ok(())
}

fn read_config(path: &Path) -> Result<Vec<u8>, StartupError> {
    std::fs::read(path).map_err(|e| {
        StartupError::Fatal(format!("Fatal error, can't open config file '{}': {}", path.display(), strerror(&e)))
    })
}

/// The files an `include` names: the path itself, or, when its file name has `*`, `?` or
/// `[`, the matching files of its directory in sorted order (none is not an error).
fn expand_include(path: &Path) -> Vec<PathBuf> {
    let Some(pattern) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return vec![path.to_path_buf()];
    };
    if !pattern.contains(['*', '?', '[']) {
        return vec![path.to_path_buf()];
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (!name.starts_with('.') || pattern.starts_with('.'))
                && glob_match(pattern.as_bytes(), name.as_bytes(), false)
        })
        .map(|e| dir.join(e.file_name()))
        .collect();
    files.sort();
    files
}
