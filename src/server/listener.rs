//! Listening sockets and the accept threads that hand connections to workers round-robin.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};

use super::client::ClientShared;
use super::{log, worker, Server};

/// Binds every `bind` address on `port`. Addresses written with a leading `-` are optional:
/// failing to bind them is not an error (as in redis.conf). Port 0 disables TCP.
pub fn bind_all(srv: &Server) -> Result<Vec<TcpListener>, String> {
    let (addrs, port, backlog) = {
        let c = srv.config.read();
        (c.bind.clone(), c.port, c.tcp_backlog)
    };
    let mut out = Vec::new();
    if port == 0 {
        return Ok(out);
    }
    for a in &addrs {
        let (optional, host) = match a.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, a.as_str()),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let ip: std::net::IpAddr = match host.parse() {
            Ok(ip) => ip,
            Err(_) if optional => continue,
            Err(_) => return Err(format!("Invalid bind address '{host}'")),
        };
        match listen(SocketAddr::new(ip, port), backlog as i32) {
            Ok(l) => out.push(l),
            Err(e) if optional => log::verbose(&format!("Skipping optional bind address {host}:{port}: {e}")),
            Err(e) => {
                return Err(format!(
                    "Warning: Could not create server TCP listening socket {host}:{port}: bind: {e}\nFailed listening on port {port} (tcp), aborting."
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(format!("Failed listening on port {port} (tcp), aborting."));
    }
    Ok(out)
}

fn listen(addr: SocketAddr, backlog: i32) -> std::io::Result<TcpListener> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.bind(&addr.into())?;
    sock.listen(backlog)?;
    Ok(sock.into())
}

/// Starts a thread that accepts connections on `l` until shutdown.
pub fn spawn_acceptor(srv: &Arc<Server>, l: TcpListener) {
    let srv = srv.clone();
    let spawned = std::thread::Builder::new().name("larder-accept".into()).spawn(move || {
        let mut next = 0usize;
        let laddr = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
        loop {
            let (stream, peer) = match l.accept() {
                Ok(x) => x,
                Err(e) => {
                    if srv.shutting_down.load(Relaxed) {
                        return;
                    }
                    log::warning(&format!("Accepting client connection: {e}"));
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                }
            };
            if srv.shutting_down.load(Relaxed) {
                return;
            }
            accept_one(&srv, stream, peer, &laddr, &mut next);
        }
    });
    if let Err(e) = spawned {
        log::warning(&format!("Cannot start the accept thread: {e}"));
    }
}

fn accept_one(srv: &Server, stream: std::net::TcpStream, peer: SocketAddr, laddr: &str, next: &mut usize) {
    use std::io::Write;
    srv.stats.connections.fetch_add(1, Relaxed);
    if srv.clients.len() as u64 >= srv.hot.maxclients.load(Relaxed) {
        srv.stats.rejected_connections.fetch_add(1, Relaxed);
        let mut s = stream;
        let _ = s.write_all(b"-ERR max number of clients reached\r\n");
        return;
    }
    let _ = stream.set_nodelay(true);
    let keepalive = srv.config.read().tcp_keepalive;
    if keepalive > 0 {
        let ka = TcpKeepalive::new().with_time(std::time::Duration::from_secs(keepalive as u64));
        let _ = SockRef::from(&stream).set_tcp_keepalive(&ka);
    }
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    use std::os::fd::AsRawFd;
    let w = *next % srv.worker_count;
    *next = next.wrapping_add(1);
    let id = srv.clients.next_id();
    let shared = Arc::new(ClientShared::new(
        id,
        peer.to_string(),
        laddr.to_string(),
        stream.as_raw_fd(),
        w,
        larder_engine::clock::now_ms(),
    ));
    srv.clients.add(shared.clone());
    srv.send_to_worker(w, worker::Msg::NewConn(stream, shared));
}
