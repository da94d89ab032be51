//! Loading the append-only file at start: the base (an RDB snapshot, or commands), then each
//! incremental file's commands replayed through the command table, as one client would have
//! sent them. A last file cut short by a crash is truncated to its last whole command when
//! `aof-load-truncated` is on (an unfinished MULTI is dropped with it); anywhere else a torn
//! or unknown command stops start-up.

use std::path::Path;

use larder_resp::{Args, OwnedArgs, Parse, ParseLimits, Request, RequestParser};

use super::manifest::Manifest;
use super::paths;
use crate::persist::mapped::Mapped;
use crate::server::client::{ClientShared, Session};
use crate::server::{dispatch, log, Server};

/// Loads the AOF named by the manifest, if there is one. Returns whether one was found.
pub fn load_at_start(srv: &Server) -> Result<bool, String> {
    let (dir, _, mpath) = paths(srv);
    let Some(m) = Manifest::read(&mpath)? else { return Ok(false) };
    let truncated_ok = srv.config.read().aof_load_truncated;
    // Clients are connected already but run nothing that locks more than one shard while
    // loading (-LOADING); the background gate keeps whole-keyspace work out until the end.
    let _gate = srv.keyspace.gate(srv.worker_count);
    let mut sess =
        Session::new(std::sync::Arc::new(ClientShared::new(0, String::new(), String::new(), -1, 0, 0)), true);
    if let Some(base) = &m.base {
        let path = dir.join(&base.name);
        let head = Mapped::open(&path).map_err(|e| format!("Can't open the AOF base {}: {e}", path.display()))?;
        if head.starts_with(b"REDIS") {
            crate::persist::rdb::load(srv, &path)?;
        } else {
            replay(srv, &mut sess, &path, &head, false)?;
        }
    }
    let last = m.incrs.len().saturating_sub(1);
    for (i, p) in m.incrs.iter().enumerate() {
        let path = dir.join(&p.name);
        let data = match Mapped::open(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && i == last => Mapped::Read(Vec::new()),
            Err(e) => return Err(format!("Can't open the append-only file {}: {e}", path.display())),
        };
        replay(srv, &mut sess, &path, &data, i == last && truncated_ok)?;
    }
    log::notice("DB loaded from append only file");
    Ok(true)
}

/// Replays the commands in `data` (the file at `path`). With `may_truncate`, a torn tail is
/// cut off the file instead of failing.
fn replay(srv: &Server, sess: &mut Session, path: &Path, data: &[u8], may_truncate: bool) -> Result<(), String> {
    let limits = ParseLimits { max_bulk_len: usize::MAX, authenticated: true };
    let mut parser = RequestParser::new();
    let mut req = Request::new();
    let mut pos = 0usize;
    // The end of the last command that is safe to keep (outside any MULTI).
    let mut good_end = 0usize;
    let mut multi: Option<Vec<OwnedArgs>> = None;
    let mut out = Vec::new();
    let mut count = 0u64;
    while pos < data.len() {
        // Annotations (`#TS:...` lines) are skipped, as Redis does.
        match super::annotation_len(&data[pos..]) {
            Some(0) => {}
            Some(n) => {
                pos += n;
                if multi.is_none() {
                    good_end = pos;
                }
                continue;
            }
            None => break,
        }
        match parser.parse(&data[pos..], &limits, &mut req) {
            Ok(Parse::Complete { consumed: n }) => {
                let args = req.args(&data[pos..pos + n]);
                pos += n;
                let name = args.get(0).map(|a| a.to_ascii_lowercase()).unwrap_or_default();
                match (&name[..], multi.as_mut()) {
                    (b"multi", _) => multi = Some(Vec::new()),
                    (b"exec", Some(_)) => {
                        for q in multi.take().unwrap_or_default() {
                            run(srv, sess, q.args(), &mut out)?;
                        }
                        good_end = pos;
                    }
                    (_, Some(queue)) => queue.push(OwnedArgs::from_args(args)),
                    _ => {
                        run(srv, sess, args, &mut out)?;
                        good_end = pos;
                    }
                }
                count += 1;
            }
            Ok(Parse::Incomplete) => break,
            Err(e) => return Err(format!("Bad file format reading the append only file {}: {}", path.display(), e.0)),
        }
    }
    if pos < data.len() || multi.is_some() {
        if !may_truncate {
            return Err(format!(
                "Unexpected end of file reading the append only file {}. You can: 1) Make a backup of your AOF file, then use ./larder check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                path.display()
            ));
        }
        log::warning(&format!(
            "!!! Warning: short read while loading the AOF file {}!!! AOF loaded anyway because aof-load-truncated is enabled; the torn tail ({} bytes) is cut off",
            path.display(),
            data.len() - good_end
        ));
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| format!("Can't truncate {}: {e}", path.display()))?;
        f.set_len(good_end as u64).map_err(|e| format!("Can't truncate {}: {e}", path.display()))?;
        let _ = f.sync_all();
    }
    log::verbose(&format!("Replayed {count} commands from {}", path.display()));
    Ok(())
}

fn run(srv: &Server, sess: &mut Session, args: Args<'_>, out: &mut Vec<u8>) -> Result<(), String> {
    if dispatch::resolve(srv, args).is_err() {
        let name = String::from_utf8_lossy(args.get(0).unwrap_or_default()).into_owned();
        return Err(format!("Unknown command '{name}' reading the append only file"));
    }
    out.clear();
    let mut locked = srv.keyspace.lock_on_demand();
    let now = larder_engine::clock::now_ms();
    dispatch::run_locked(srv, sess, args, out, &mut locked, now, false);
    drop(locked);
    Ok(())
}
