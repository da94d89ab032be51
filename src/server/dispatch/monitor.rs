//! What MONITOR shows of a command, and which arguments SLOWLOG and MONITOR hide.

use larder_engine::clock;
use larder_resp::Args;
use smallvec::SmallVec;

use crate::server::client::Session;
use crate::server::Server;

/// What SLOWLOG and MONITOR show instead of a secret argument.
pub(super) const REDACTED: &[u8] = b"(redacted)";

/// The arguments Redis hides from SLOWLOG and MONITOR: AUTH's user name and password, the
/// user name and password of HELLO's AUTH option, and CONFIG SET values of sensitive
/// directives (requirepass, masterauth, ...).
pub(super) fn redacted_positions(srv: &Server, id: usize, args: Args<'_>) -> SmallVec<[usize; 4]> {
    let mut hidden = SmallVec::new();
    let spec = srv.commands.spec(id);
    match spec.name {
        "auth" => hidden.extend(1..args.len()),
        "hello" => {
            // HELLO <proto> [AUTH <user> <pass>] [SETNAME <name>], read as Redis reads it.
            let mut j = 2;
            while j < args.len() {
                let more = args.len() - 1 - j;
                if args[j].eq_ignore_ascii_case(b"auth") && more >= 2 {
                    hidden.extend([j + 1, j + 2]);
                    j += 3;
                } else if args[j].eq_ignore_ascii_case(b"setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
        }
        "set" if srv.commands.full_name(id) == "config|set" => {
            for i in (2..args.len().saturating_sub(1)).step_by(2) {
                if crate::config::is_sensitive(&args[i]) {
                    hidden.push(i + 1);
                }
            }
        }
        _ => {}
    }
    hidden
}

/// Sends the command line to every MONITOR client, in redis-server's format.
pub(super) fn feed_monitors(srv: &Server, sess: &Session, args: Args<'_>, id: usize) {
    let us = clock::now_us();
    let mut line = format!("+{}.{:06} [{} {}]", us / 1_000_000, us % 1_000_000, sess.db, sess.shared.addr).into_bytes();
    let hidden = redacted_positions(srv, id, args);
    for (i, a) in args.iter().enumerate() {
        line.push(b' ');
        crate::commands::repr::quote(if hidden.contains(&i) { REDACTED } else { a }, &mut line);
    }
    line.extend_from_slice(b"\r\n");
    let monitors = srv.monitors.lock().clone();
    for (id, w) in monitors {
        srv.send_to_worker(w, crate::server::worker::Msg::Deliver(id, line.clone()));
    }
}
