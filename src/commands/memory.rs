//! MEMORY USAGE / STATS / DOCTOR / PURGE / MALLOC-STATS / HELP.

use std::sync::atomic::Ordering::Relaxed;

use larder_engine::util::num::human_bytes;
use larder_engine::{memory, KeyRef, ValueRef};
use larder_resp::Args;

use super::client_cmd::help_lines;
use super::spec::{acl, cmd, flag, keys, CommandSpec, Group, Keys};
use super::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

const SV: Group = Group::Server;

static SUBS: &[CommandSpec] = &[
    cmd(
        "usage",
        -3,
        flag::READONLY,
        acl::READ | acl::SLOW,
        keys(2, 2, 1),
        SV,
        "4.0.0",
        "O(N) where N is the number of samples.",
        "Estimates the bytes a key and its value occupy.",
        usage,
    ),
    cmd("stats", 2, 0, acl::SLOW, Keys::None, SV, "4.0.0", "O(1)", "Returns details about memory use.", stats),
    cmd("doctor", 2, 0, acl::SLOW, Keys::None, SV, "4.0.0", "O(1)", "Reports memory problems and advice.", doctor),
    cmd(
        "purge",
        2,
        0,
        acl::SLOW,
        Keys::None,
        SV,
        "4.0.0",
        "Depends on how much memory is allocated, could be slow",
        "Returns free memory pages to the operating system.",
        purge,
    ),
    cmd(
        "malloc-stats",
        2,
        0,
        acl::SLOW,
        Keys::None,
        SV,
        "4.0.0",
        "Depends on how much memory is allocated, could be slow",
        "Returns the allocator's statistics.",
        malloc_stats,
    ),
    cmd(
        "help",
        2,
        flag::LOADING | flag::STALE,
        acl::SLOW,
        Keys::None,
        SV,
        "4.0.0",
        "O(1)",
        "Lists the MEMORY sub-commands.",
        help,
    ),
];

/// The MEMORY container.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: SUBS,
    flags: flag::CONTAINER,
    ..cmd(
        "memory",
        -2,
        0,
        acl::SLOW,
        Keys::None,
        SV,
        "4.0.0",
        "Depends on subcommand.",
        "Commands that report and manage memory.",
        help,
    )
}];

/// Bytes of a table slot per key (hash + entry pointer).
const SLOT_BYTES: usize = 16;

fn usage(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    match args.len() {
        3 => {}
        5 if eq_ic(&args[3], "samples") => {
            if int_arg(&args[4])? < 0 {
                return Err(CmdError::Syntax);
            }
        }
        _ => return Err(CmdError::Syntax),
    }
    let k = KeyRef::new(&args[2]);
    let Some(e) = ctx.get(&k) else {
        ctx.reply().null();
        return Ok(());
    };
    let mut bytes = crate::alloc::usable_size(e.block_size()) + SLOT_BYTES;
    if let ValueRef::Obj(o) = e.value() {
        bytes += crate::alloc::usable_size(std::mem::size_of_val(o)) + o.heap_size();
    }
    ctx.reply().int(bytes as i64);
    Ok(())
}

fn stats(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    memory::flush_thread();
    let used = memory::used();
    let srv = ctx.srv;
    let peak = srv.stats.peak_memory.fetch_max(used, Relaxed).max(used);
    let startup = srv.startup_memory;
    let (allocated, active, resident, _, _) = crate::alloc::allocator_stats();
    let rss = super::info::rss_bytes();
    let keys: usize = (0..srv.keyspace.db_count()).map(|d| srv.keyspace.dbsize(d)).sum();
    let clients = srv.clients.memory_total() as usize;
    let overhead = startup + clients as u64;
    let dataset = used.saturating_sub(overhead);
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let mut r = ctx.reply();
    r.map(18);
    let mut int = |name: &[u8], v: i64| {
        r.bulk(name);
        r.int(v);
    };
    int(b"peak.allocated", peak as i64);
    int(b"total.allocated", used as i64);
    int(b"startup.allocated", startup as i64);
    int(b"replication.backlog", 0);
    int(b"clients.slaves", 0);
    int(b"clients.normal", clients as i64);
    int(b"cluster.links", 0);
    int(b"aof.buffer", 0);
    int(b"lua.caches", 0);
    int(b"functions.caches", 0);
    int(b"overhead.total", overhead as i64);
    int(b"keys.count", keys as i64);
    int(b"keys.bytes-per-key", if keys > 0 { (dataset / keys as u64) as i64 } else { 0 });
    int(b"dataset.bytes", dataset as i64);
    r.bulk(b"dataset.percentage");
    r.double(ratio(dataset, used) * 100.0);
    r.bulk(b"peak.percentage");
    r.double(ratio(used, peak) * 100.0);
    r.bulk(b"allocator.fragmentation.ratio");
    r.double(ratio(active, allocated));
    r.bulk(b"rss-overhead.ratio");
    r.double(ratio(rss, resident));
    Ok(())
}

fn doctor(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    memory::flush_thread();
    let used = memory::used();
    let rss = super::info::rss_bytes();
    let peak = ctx.srv.stats.peak_memory.load(Relaxed).max(used);
    let maxmemory = ctx.srv.config.read().maxmemory;
    let mut findings = Vec::new();
    if used < 5 * 1024 * 1024 {
        findings.push("The dataset is small (under 5 MB): memory figures are dominated by fixed costs, so there is nothing to worry about.".to_string());
    } else {
        let frag = rss as f64 / used as f64;
        if frag > 1.4 {
            findings.push(format!(
                "High fragmentation: the process holds {} of RAM for {} of data (ratio {frag:.2}). Freed memory is not always returned to the system; MEMORY PURGE asks the allocator to release unused pages.",
                human_bytes(rss),
                human_bytes(used)
            ));
        }
        if peak > used.saturating_mul(3) / 2 {
            findings.push(format!(
                "Peak memory ({}) is well above current use ({}): a burst of writes or big deletions happened; the RSS may stay near the peak until pages are purged.",
                human_bytes(peak),
                human_bytes(used)
            ));
        }
        if maxmemory > 0 && used > maxmemory / 10 * 9 {
            findings.push(format!(
                "Memory use ({}) is above 90% of maxmemory ({}): expect evictions (or OOM errors under noeviction).",
                human_bytes(used),
                human_bytes(maxmemory)
            ));
        }
        if findings.is_empty() {
            findings.push("No memory problems found: fragmentation, peak and limits look healthy.".to_string());
        }
    }
    let text = findings.join("\n\n");
    ctx.reply().verbatim(b"txt", text.as_bytes());
    Ok(())
}

fn purge(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    crate::alloc::purge().map_err(|errno| CmdError::Msg(format!("ERR Error purging dirty pages (errno {errno})")))?;
    ctx.reply().ok();
    Ok(())
}

fn malloc_stats(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let (allocated, active, resident, mapped, retained) = crate::alloc::allocator_stats();
    let text = format!(
        "jemalloc statistics:\nallocated: {allocated}\nactive: {active}\nresident: {resident}\nmapped: {mapped}\nretained: {retained}\n"
    );
    ctx.reply().verbatim(b"txt", text.as_bytes());
    Ok(())
}

fn help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(
        ctx,
        "MEMORY",
        &[
            "DOCTOR -- Report memory problems and advice.",
            "MALLOC-STATS -- Show the allocator's statistics.",
            "PURGE -- Return unused pages to the operating system.",
            "STATS -- Show memory use details.",
            "USAGE <key> [SAMPLES <count>] -- Estimate the bytes a key and its value occupy.",
            "HELP -- Print this help.",
        ],
    );
    Ok(())
}
