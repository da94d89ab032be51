//! `larder check-rdb FILE` and `larder check-aof [--fix] FILE|MANIFEST`: offline checks of
//! persistence files, as redis-check-rdb and redis-check-aof do.
//!
//! check-rdb loads the whole file (every value decoded and checksummed) without a server.
//! check-aof parses every command of an AOF file (or every file a manifest names, and a base
//! in RDB form through check-rdb); with `--fix`, a file whose tail is torn is truncated at its
//! last whole command (an unfinished MULTI included), as redis-check-aof --fix does.

use std::path::{Path, PathBuf};

use larder_engine::types::Limits;
use larder_persistence::rdb::decode::Decoded;
use larder_persistence::rdb::file::{self, Access, Visitor};
use larder_resp::{Parse, ParseLimits, Request, RequestParser};

use super::aof::manifest::Manifest;

struct Count(u64);

impl Visitor for Count {
    fn function(&mut self, _code: Vec<u8>) -> larder_persistence::rdb::Result<()> {
        Ok(())
    }
    fn entry(
        &mut self,
        _: usize,
        _: Vec<u8>,
        _: Decoded,
        _: Option<u64>,
        _: Access,
    ) -> larder_persistence::rdb::Result<()> {
        self.0 += 1;
        Ok(())
    }
}

/// Checks an RDB file; Ok(summary) or Err(reason).
pub fn check_rdb(path: &Path) -> Result<String, String> {
    let data = std::fs::read(path).map_err(|e| format!("Cannot open {}: {e}", path.display()))?;
    let mut c = Count(0);
    let info = file::load(&data, &Limits::default(), usize::MAX, true, &mut c)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(format!(
        "RDB version {}, {} keys, checksum {}",
        info.version,
        info.keys,
        if info.checksum_verified { "OK" } else { "not present" }
    ))
}

/// Where an AOF file stops being valid: (bytes that are whole commands outside any MULTI,
/// commands, whether the file is whole).
fn scan_aof(data: &[u8]) -> Result<(usize, u64, bool), String> {
    let limits = ParseLimits { max_bulk_len: usize::MAX, authenticated: true };
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    let (mut pos, mut good, mut n, mut in_multi) = (0usize, 0usize, 0u64, false);
    while pos < data.len() {
        match super::aof::annotation_len(&data[pos..]) {
            Some(0) => {}
            Some(skip) => {
                pos += skip;
                if !in_multi {
                    good = pos;
                }
                continue;
            }
            None => break,
        }
        match parser.parse(&data[pos..], &limits, &mut req) {
            Ok(Parse::Complete { consumed }) => {
                let args = req.args(&data[pos..pos + consumed]);
                let name = args.get(0).map(|a| a.to_ascii_lowercase()).unwrap_or_default();
                pos += consumed;
                n += 1;
                match &name[..] {
                    b"multi" => in_multi = true,
                    b"exec" => {
                        in_multi = false;
                        good = pos;
                    }
                    _ if !in_multi => good = pos,
                    _ => {}
                }
            }
            Ok(Parse::Incomplete) => break,
            Err(e) => return Err(format!("Bad file format at offset {pos}: {}", e.0)),
        }
    }
    Ok((good, n, good == data.len()))
}

/// Checks (and with `fix` repairs) one AOF file of commands.
fn check_aof_file(path: &Path, fix: bool) -> Result<String, String> {
    let data = std::fs::read(path).map_err(|e| format!("Cannot open {}: {e}", path.display()))?;
    if data.starts_with(b"REDIS") {
        return check_rdb(path);
    }
    let (good, n, whole) = scan_aof(&data).map_err(|e| format!("{}: {e}", path.display()))?;
    if whole {
        return Ok(format!("{}: {n} commands, AOF is valid", path.display()));
    }
    let cut = data.len() - good;
    if !fix {
        return Err(format!(
            "{}: AOF is not valid: {cut} bytes at the end are not whole commands (run with --fix to truncate at offset {good})",
            path.display()
        ));
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("Cannot open {}: {e}", path.display()))?;
    f.set_len(good as u64).map_err(|e| format!("Cannot truncate {}: {e}", path.display()))?;
    f.sync_all().map_err(|e| format!("Cannot sync {}: {e}", path.display()))?;
    Ok(format!("{}: truncated {cut} bytes at offset {good}: AOF is valid now", path.display()))
}

/// `larder check-aof [--fix] FILE`: a manifest (every file it names) or one AOF file.
pub fn check_aof(path: &Path, fix: bool) -> Result<String, String> {
    let is_manifest = path.extension().is_some_and(|e| e == "manifest");
    if !is_manifest {
        return check_aof_file(path, fix);
    }
    let m = Manifest::read(path)?.ok_or_else(|| format!("Cannot open {}", path.display()))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let mut lines = Vec::new();
    if let Some(b) = &m.base {
        lines.push(check_aof_file(&dir.join(&b.name), false)?);
    }
    let last = m.incrs.len().saturating_sub(1);
    for (i, p) in m.incrs.iter().enumerate() {
        // Only the last file can be torn by a crash; only it is repaired.
        lines.push(check_aof_file(&dir.join(&p.name), fix && i == last)?);
    }
    Ok(lines.join("\n"))
}

/// Runs a `check-rdb` / `check-aof` subcommand; returns the exit code.
pub fn main(sub: &str, args: &[String]) -> i32 {
    let fix = args.iter().any(|a| a == "--fix");
    let Some(file) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("Usage: larder {sub} {}<file>", if sub == "check-aof" { "[--fix] " } else { "" });
        return 1;
    };
    let r = if sub == "check-rdb" { check_rdb(Path::new(file)) } else { check_aof(Path::new(file), fix) };
    match r {
        Ok(text) => {
            println!("{text}");
            0
        }
        Err(e) => {
            println!("{e}");
            1
        }
    }
}
