//! INFO: the server's state in Redis's sections and field names.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use larder_engine::util::num::human_bytes;
use larder_engine::{clock, memory, SHARDS};
use larder_resp::Args;

use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{CmdResult, Ctx};
use crate::server::{Server, LARDER_VERSION, REDIS_VERSION};

/// The INFO entry.
pub static COMMANDS: &[CommandSpec] = &[cmd(
    "info",
    -1,
    flag::LOADING | flag::STALE,
    acl::SLOW | acl::DANGEROUS,
    Keys::None,
    Group::Server,
    "1.0.0",
    "O(1)",
    "Returns information and statistics about the server, by section.",
    info,
)];

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats"];

fn info(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let mut wanted: Vec<String> = Vec::new();
    if args.len() == 1 {
        wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
    }
    for a in args.iter().skip(1) {
        let s = String::from_utf8_lossy(a).to_ascii_lowercase();
        match s.as_str() {
            "default" => wanted.extend(DEFAULT.iter().map(|s| s.to_string())),
            "all" | "everything" => {
                wanted.extend(DEFAULT.iter().chain(ALL_EXTRA).map(|s| s.to_string()));
            }
            _ => wanted.push(s),
        }
    }
    let mut text = String::new();
    let order = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "module_list",
        "modules",
        "commandstats",
        "errorstats",
        "latencystats",
        "cluster",
        "keyspace",
    ];
    for section in order {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        write_section(ctx, section, &mut text);
    }
    ctx.reply().verbatim(b"txt", text.as_bytes());
    Ok(())
}

fn write_section(ctx: &Ctx<'_, '_>, section: &str, t: &mut String) {
    let srv = ctx.srv;
    match section {
        "server" => server(srv, t),
        "clients" => clients(srv, t),
        "memory" => mem(srv, t),
        "persistence" => persistence(srv, t),
        "stats" => stats(srv, t),
        "replication" => replication(srv, t),
        "cpu" => cpu(t),
        "module_list" | "modules" => t.push_str("# Modules\r\n"),
        "commandstats" => commandstats(srv, t),
        "errorstats" => errorstats(srv, t),
        "latencystats" => t.push_str("# Latencystats\r\n"),
        "cluster" => t.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
        "keyspace" => keyspace(srv, ctx.now, t),
        _ => {}
    }
}

macro_rules! field {
    ($t:expr, $name:expr, $val:expr) => {
        let _ = write!($t, "{}:{}\r\n", $name, $val);
    };
}

fn uname() -> String {
    // SAFETY: utsname is plain old data; uname fills it and NUL-terminates each field.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".to_string();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", field(&u.sysname), field(&u.release), field(&u.machine))
}

fn server(srv: &Server, t: &mut String) {
    let cfg = srv.config.read();
    let uptime = srv.uptime_secs();
    t.push_str("# Server\r\n");
    field!(t, "redis_version", REDIS_VERSION);
    field!(t, "larder_version", LARDER_VERSION);
    field!(t, "redis_git_sha1", "00000000");
    field!(t, "redis_git_dirty", 0);
    field!(t, "redis_build_id", "0");
    field!(t, "redis_mode", "standalone");
    field!(t, "os", uname());
    field!(t, "arch_bits", 64);
    field!(t, "monotonic_clock", "POSIX clock_gettime");
    field!(t, "multiplexing_api", "epoll");
    field!(t, "atomicvar_api", "c11-builtin");
    field!(t, "gcc_version", "0.0.0");
    field!(t, "process_id", std::process::id());
    field!(t, "process_supervised", "no");
    field!(t, "run_id", srv.run_id);
    field!(t, "tcp_port", cfg.port);
    field!(t, "server_time_usec", clock::now_us());
    field!(t, "uptime_in_seconds", uptime);
    field!(t, "uptime_in_days", uptime / 86_400);
    field!(t, "hz", srv.hot.hz.load(Relaxed));
    field!(t, "configured_hz", cfg.hz);
    field!(t, "lru_clock", clock::lru_clock() & 0xFF_FFFF);
    field!(t, "executable", srv.executable);
    field!(t, "config_file", cfg.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
    field!(t, "io_threads_active", 0);
    field!(t, "worker_threads", srv.worker_count);
}

fn clients(srv: &Server, t: &mut String) {
    t.push_str("# Clients\r\n");
    field!(t, "connected_clients", srv.clients.len());
    field!(t, "cluster_connections", 0);
    field!(t, "maxclients", srv.hot.maxclients.load(Relaxed));
    let all = srv.clients.all();
    field!(t, "client_recent_max_input_buffer", all.iter().map(|c| c.qbuf.load(Relaxed)).max().unwrap_or(0));
    field!(t, "client_recent_max_output_buffer", all.iter().map(|c| c.obuf.load(Relaxed)).max().unwrap_or(0));
    field!(t, "blocked_clients", srv.blocking.count());
    field!(t, "tracking_clients", srv.tracking.client_count());
    field!(t, "pubsub_clients", all.iter().filter(|c| c.subs.iter().any(|n| n.load(Relaxed) > 0)).count());
    field!(t, "watching_clients", 0);
    field!(t, "clients_in_timeout_table", 0);
    field!(t, "total_watched_keys", 0);
    field!(t, "total_blocking_keys", srv.blocking.key_count());
    field!(t, "total_blocking_keys_on_nokey", 0);
}

/// Resident set size of the process in bytes.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    pages * page
}

fn total_system_memory() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn mem(srv: &Server, t: &mut String) {
    memory::flush_thread();
    let used = memory::used();
    let peak = srv.stats.peak_memory.fetch_max(used, Relaxed).max(used);
    let rss = rss_bytes();
    let (allocated, active, resident, _mapped, _retained) = crate::alloc::allocator_stats();
    let cfg = srv.config.read();
    let maxmemory = cfg.maxmemory;
    let startup = srv.startup_memory;
    let overhead = startup;
    let dataset = used.saturating_sub(overhead);
    let sysmem = total_system_memory();
    t.push_str("# Memory\r\n");
    field!(t, "used_memory", used);
    field!(t, "used_memory_human", human_bytes(used));
    field!(t, "used_memory_rss", rss);
    field!(t, "used_memory_rss_human", human_bytes(rss));
    field!(t, "used_memory_peak", peak);
    field!(t, "used_memory_peak_human", human_bytes(peak));
    field!(
        t,
        "used_memory_peak_perc",
        format!("{:.2}%", if peak > 0 { used as f64 * 100.0 / peak as f64 } else { 0.0 })
    );
    field!(t, "used_memory_overhead", overhead);
    field!(t, "used_memory_startup", startup);
    field!(t, "used_memory_dataset", dataset);
    field!(
        t,
        "used_memory_dataset_perc",
        format!("{:.2}%", if used > 0 { dataset as f64 * 100.0 / used as f64 } else { 0.0 })
    );
    field!(t, "allocator_allocated", allocated);
    field!(t, "allocator_active", active);
    field!(t, "allocator_resident", resident);
    field!(t, "total_system_memory", sysmem);
    field!(t, "total_system_memory_human", human_bytes(sysmem));
    let ss = srv.scripting.stats();
    let eval_vm = ss.eval_vm_memory.load(Relaxed) as u64;
    let eval_cache = ss.eval_cache_memory.load(Relaxed) as u64;
    let fn_vm = ss.functions_vm_memory.load(Relaxed) as u64;
    field!(t, "used_memory_lua", eval_vm);
    field!(t, "used_memory_vm_eval", eval_vm);
    field!(t, "used_memory_lua_human", human_bytes(eval_vm));
    field!(t, "used_memory_scripts_eval", eval_cache);
    field!(t, "number_of_cached_scripts", ss.cached_scripts.load(Relaxed));
    field!(t, "number_of_functions", ss.functions.load(Relaxed));
    field!(t, "number_of_libraries", ss.libraries.load(Relaxed));
    field!(t, "used_memory_vm_functions", fn_vm);
    field!(t, "used_memory_vm_total", eval_vm + fn_vm);
    field!(t, "used_memory_vm_total_human", human_bytes(eval_vm + fn_vm));
    field!(t, "used_memory_functions", 0);
    field!(t, "used_memory_scripts", eval_cache);
    field!(t, "used_memory_scripts_human", human_bytes(eval_cache));
    field!(t, "maxmemory", maxmemory);
    field!(t, "maxmemory_human", human_bytes(maxmemory));
    field!(t, "maxmemory_policy", cfg.maxmemory_policy.as_str());
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    field!(t, "allocator_frag_ratio", format!("{:.2}", ratio(active, allocated)));
    field!(t, "allocator_frag_bytes", active.saturating_sub(allocated));
    field!(t, "allocator_rss_ratio", format!("{:.2}", ratio(resident, active)));
    field!(t, "allocator_rss_bytes", resident.saturating_sub(active));
    field!(t, "rss_overhead_ratio", format!("{:.2}", ratio(rss, resident)));
    field!(t, "rss_overhead_bytes", rss as i64 - resident as i64);
    field!(t, "mem_fragmentation_ratio", format!("{:.2}", ratio(rss, used)));
    field!(t, "mem_fragmentation_bytes", rss as i64 - used as i64);
    field!(t, "mem_not_counted_for_evict", 0);
    field!(t, "mem_replication_backlog", 0);
    field!(t, "mem_total_replication_buffers", 0);
    field!(t, "mem_clients_slaves", 0);
    field!(t, "mem_clients_normal", srv.clients.memory_total());
    field!(t, "mem_cluster_links", 0);
    field!(t, "mem_aof_buffer", 0);
    field!(t, "mem_allocator", "jemalloc-5.3.0");
    field!(t, "active_defrag_running", 0);
    field!(t, "lazyfree_pending_objects", larder_engine::lazyfree::pending());
    field!(t, "lazyfreed_objects", larder_engine::lazyfree::freed());
}

fn persistence(srv: &Server, t: &mut String) {
    let p = &srv.persist;
    let running = p.bgsave_running.load(Relaxed);
    let current = if running {
        ((larder_engine::clock::now_ms().saturating_sub(p.bgsave_started_ms.load(Relaxed))) / 1000) as i64
    } else {
        -1
    };
    let loading = p.loading.load(Relaxed);
    t.push_str("# Persistence\r\n");
    for (k, v) in [
        ("loading", (loading as u8).to_string()),
        ("async_loading", "0".into()),
        ("current_cow_peak", "0".into()),
        ("current_cow_size", "0".into()),
        ("current_cow_size_age", "0".into()),
        ("current_fork_perc", "0.00".into()),
        ("current_save_keys_processed", "0".into()),
        ("current_save_keys_total", "0".into()),
        ("rdb_changes_since_last_save", crate::persist::changes_since_save(srv).to_string()),
        ("rdb_bgsave_in_progress", (running as u8).to_string()),
        ("rdb_last_save_time", p.lastsave.load(Relaxed).to_string()),
        ("rdb_last_bgsave_status", if p.last_bgsave_failed.load(Relaxed) { "err" } else { "ok" }.into()),
        ("rdb_last_bgsave_time_sec", p.last_bgsave_secs.load(Relaxed).to_string()),
        ("rdb_current_bgsave_time_sec", current.to_string()),
        ("rdb_saves", p.saves.load(Relaxed).to_string()),
        ("rdb_last_cow_size", "0".into()),
        ("rdb_last_load_keys_expired", p.last_load[1].load(Relaxed).to_string()),
        ("rdb_last_load_keys_loaded", p.last_load[0].load(Relaxed).to_string()),
        ("aof_enabled", (srv.aof.on.load(Relaxed) as u8).to_string()),
        ("aof_rewrite_in_progress", (srv.aof.rewriting.load(Relaxed) as u8).to_string()),
        ("aof_rewrite_scheduled", (srv.aof.rewrite_scheduled.load(Relaxed) as u8).to_string()),
        ("aof_last_rewrite_time_sec", "-1".into()),
        ("aof_current_rewrite_time_sec", "-1".into()),
        ("aof_last_bgrewrite_status", if srv.aof.rewrite_failed.load(Relaxed) { "err" } else { "ok" }.into()),
        ("aof_rewrites", srv.aof.rewrites.load(Relaxed).to_string()),
        ("aof_rewrites_consecutive_failures", "0".into()),
        ("aof_last_write_status", if srv.aof.write_failed.load(Relaxed) { "err" } else { "ok" }.into()),
        ("aof_last_cow_size", "0".into()),
        ("module_fork_in_progress", "0".into()),
        ("module_fork_last_cow_size", "0".into()),
    ] {
        field!(t, k, v);
    }
    if loading {
        // While loading, as Redis: where the load stands.
        let total = p.loading_total.load(Relaxed);
        let done = p.loading_loaded.load(Relaxed);
        let started = p.loading_started.load(Relaxed);
        let elapsed = (larder_engine::clock::now_ms() / 1000).saturating_sub(started);
        let perc = f64::from_bits(p.loading_perc.load(Relaxed));
        let eta = if done > 0 && total > done { elapsed * (total - done) / done } else { 1 };
        field!(t, "loading_start_time", started);
        field!(t, "loading_total_bytes", total);
        field!(t, "loading_rdb_used_mem", 0);
        field!(t, "loading_loaded_bytes", done);
        field!(t, "loading_loaded_perc", format!("{perc:.2}"));
        field!(t, "loading_eta_seconds", eta);
    }
}

fn stats(srv: &Server, t: &mut String) {
    let s = &srv.stats;
    let (ops, kin, kout) = s.instantaneous();
    t.push_str("# Stats\r\n");
    field!(t, "total_connections_received", s.connections.load(Relaxed));
    field!(t, "total_commands_processed", s.sum(|x| &x.commands));
    field!(t, "instantaneous_ops_per_sec", ops.round() as u64);
    field!(t, "total_net_input_bytes", s.sum(|x| &x.net_in));
    field!(t, "total_net_output_bytes", s.sum(|x| &x.net_out));
    field!(t, "total_net_repl_input_bytes", 0);
    field!(t, "total_net_repl_output_bytes", 0);
    field!(t, "instantaneous_input_kbps", format!("{:.2}", kin / 1024.0));
    field!(t, "instantaneous_output_kbps", format!("{:.2}", kout / 1024.0));
    field!(t, "instantaneous_input_repl_kbps", "0.00");
    field!(t, "instantaneous_output_repl_kbps", "0.00");
    field!(t, "rejected_connections", s.rejected_connections.load(Relaxed));
    field!(t, "sync_full", 0);
    field!(t, "sync_partial_ok", 0);
    field!(t, "sync_partial_err", 0);
    field!(t, "expired_keys", s.sum(|x| &x.expired));
    field!(t, "expired_stale_perc", "0.00");
    field!(t, "expired_time_cap_reached_count", 0);
    field!(t, "expire_cycle_cpu_milliseconds", 0);
    field!(t, "evicted_keys", s.evicted.load(Relaxed));
    field!(t, "evicted_clients", s.evicted_clients.load(Relaxed));
    field!(t, "total_eviction_exceeded_time", 0);
    field!(t, "current_eviction_exceeded_time", 0);
    field!(t, "keyspace_hits", s.sum(|x| &x.hits));
    field!(t, "keyspace_misses", s.sum(|x| &x.misses));
    field!(t, "pubsub_channels", srv.pubsub.len(crate::server::pubsub::Kind::Channel));
    field!(t, "pubsub_patterns", srv.pubsub.len(crate::server::pubsub::Kind::Pattern));
    field!(t, "pubsubshard_channels", srv.pubsub.len(crate::server::pubsub::Kind::Shard));
    field!(t, "latest_fork_usec", 0);
    field!(t, "total_forks", 0);
    field!(t, "migrate_cached_sockets", 0);
    field!(t, "slave_expires_tracked_keys", 0);
    field!(t, "active_defrag_hits", 0);
    field!(t, "active_defrag_misses", 0);
    field!(t, "active_defrag_key_hits", 0);
    field!(t, "active_defrag_key_misses", 0);
    field!(t, "total_active_defrag_time", 0);
    field!(t, "current_active_defrag_time", 0);
    field!(t, "tracking_total_keys", srv.tracking.key_count());
    field!(t, "tracking_total_items", srv.tracking.item_count());
    field!(t, "tracking_total_prefixes", srv.tracking.prefix_count());
    field!(t, "unexpected_error_replies", 0);
    field!(t, "total_error_replies", s.total_errors.load(Relaxed));
    field!(t, "dump_payload_sanitizations", 0);
    field!(t, "total_reads_processed", s.sum(|x| &x.commands));
    field!(t, "total_writes_processed", s.sum(|x| &x.commands));
    field!(t, "io_threaded_reads_processed", 0);
    field!(t, "io_threaded_writes_processed", 0);
    field!(t, "acl_access_denied_auth", 0);
    field!(t, "acl_access_denied_cmd", 0);
    field!(t, "acl_access_denied_key", 0);
    field!(t, "acl_access_denied_channel", 0);
}

fn replication(srv: &Server, t: &mut String) {
    t.push_str("# Replication\r\n");
    field!(t, "role", "master");
    field!(t, "connected_slaves", 0);
    field!(t, "master_failover_state", "no-failover");
    field!(t, "master_replid", srv.run_id);
    field!(t, "master_replid2", "0000000000000000000000000000000000000000");
    field!(t, "master_repl_offset", 0);
    field!(t, "second_repl_offset", -1);
    field!(t, "repl_backlog_active", 0);
    field!(t, "repl_backlog_size", 1_048_576);
    field!(t, "repl_backlog_first_byte_offset", 0);
    field!(t, "repl_backlog_histlen", 0);
}

fn rusage(who: libc::c_int) -> (f64, f64) {
    // SAFETY: rusage is plain old data that getrusage fills in.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut u) } != 0 {
        return (0.0, 0.0);
    }
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (secs(u.ru_stime), secs(u.ru_utime))
}

fn cpu(t: &mut String) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    let (tsys, tuser) = rusage(libc::RUSAGE_THREAD);
    t.push_str("# CPU\r\n");
    field!(t, "used_cpu_sys", format!("{sys:.6}"));
    field!(t, "used_cpu_user", format!("{user:.6}"));
    field!(t, "used_cpu_sys_children", format!("{csys:.6}"));
    field!(t, "used_cpu_user_children", format!("{cuser:.6}"));
    field!(t, "used_cpu_sys_main_thread", format!("{tsys:.6}"));
    field!(t, "used_cpu_user_main_thread", format!("{tuser:.6}"));
}

fn commandstats(srv: &Server, t: &mut String) {
    t.push_str("# Commandstats\r\n");
    for (id, _) in srv.commands.iter() {
        let (calls, usec, rejected, failed) = srv.stats.command(id);
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let per = if calls > 0 { usec as f64 / calls as f64 } else { 0.0 };
        let _ = write!(
            t,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            srv.commands.full_name(id)
        );
    }
}

fn errorstats(srv: &Server, t: &mut String) {
    t.push_str("# Errorstats\r\n");
    for (code, n) in srv.stats.errors.lock().iter() {
        let _ = write!(t, "errorstat_{code}:count={n}\r\n");
    }
}

fn keyspace(srv: &Server, now: u64, t: &mut String) {
    t.push_str("# Keyspace\r\n");
    let ks = &srv.keyspace;
    for db in 0..ks.db_count() {
        let (keys, expires) = ks.db_counts(db);
        if keys == 0 {
            continue;
        }
        let mut sum = 0u128;
        let mut n = 0u64;
        if expires > 0 {
            for shard in 0..SHARDS {
                ks.db(db).lock(shard).sample_ttls(2, now, |ttl| {
                    sum += ttl as u128;
                    n += 1;
                });
            }
        }
        let avg = if n > 0 { (sum / n as u128) as u64 } else { 0 };
        let _ = write!(t, "db{db}:keys={keys},expires={expires},avg_ttl={avg}\r\n");
    }
}
