//! COMMAND and its sub-commands: everything here is read from the command table.

use larder_engine::util::glob::glob_match;
use larder_resp::{Args, Reply};

use super::client_cmd::help_lines;
use super::spec::{acl, cmd, flag, CommandSpec, Group, Keys};
use super::{eq_ic, CmdError, CmdResult, Ctx};
use crate::server::Server;

const SV: Group = Group::Server;
const F: u32 = flag::LOADING | flag::STALE;
const A: u64 = acl::SLOW | acl::CONNECTION;

static SUBS: &[CommandSpec] = &[
    cmd("count", 2, F, A, Keys::None, SV, "2.8.13", "O(1)", "Returns the number of commands.", count),
    cmd(
        "info",
        -2,
        F,
        A,
        Keys::None,
        SV,
        "2.8.13",
        "O(N) where N is the number of commands to look up",
        "Returns details about commands (all of them when none is named).",
        info,
    ),
    cmd(
        "docs",
        -2,
        F,
        A,
        Keys::None,
        SV,
        "7.0.0",
        "O(N) where N is the number of commands to look up",
        "Returns documentary information about commands.",
        docs,
    ),
    cmd(
        "list",
        -2,
        F,
        A,
        Keys::None,
        SV,
        "7.0.0",
        "O(N) where N is the total number of Redis commands",
        "Returns command names, optionally filtered.",
        list,
    ),
    cmd(
        "getkeys",
        -3,
        F,
        A,
        Keys::None,
        SV,
        "2.8.13",
        "O(N) where N is the number of arguments to the command",
        "Extracts the key names from a full command.",
        getkeys,
    ),
    cmd(
        "getkeysandflags",
        -3,
        F,
        A,
        Keys::None,
        SV,
        "7.0.0",
        "O(N) where N is the number of arguments to the command",
        "Extracts the key names and their access flags from a full command.",
        getkeysandflags,
    ),
    cmd(
        "help",
        2,
        F,
        acl::SLOW | acl::CONNECTION,
        Keys::None,
        SV,
        "5.0.0",
        "O(1)",
        "Lists the COMMAND sub-commands.",
        help,
    ),
];

/// The COMMAND container (which also runs on its own, listing every command).
pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    subcommands: SUBS,
    flags: flag::CONTAINER,
    ..cmd(
        "command",
        -1,
        F,
        A,
        Keys::None,
        SV,
        "2.8.13",
        "O(N) where N is the total number of Redis commands",
        "Returns details about every command.",
        all,
    )
}];

fn all(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let srv = ctx.srv;
    let mut r = Reply::new(ctx.out, ctx.sess.resp3);
    let top: Vec<_> = srv.commands.top_level().collect();
    r.array(top.len());
    for (id, spec) in top {
        write_info(srv, &mut r, id, spec);
    }
    Ok(())
}

fn count(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let n = ctx.srv.commands.top_level().count();
    ctx.reply().int(n as i64);
    Ok(())
}

/// Finds a command by `name` or `container|sub`.
fn find(srv: &Server, name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
    match name.iter().position(|&c| c == b'|') {
        Some(p) => {
            let (id, _) = srv.commands.lookup(&name[..p])?;
            srv.commands.lookup_sub(id, &name[p + 1..])
        }
        None => srv.commands.lookup(name),
    }
}

fn flag_names(spec: &CommandSpec) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = flag::NAMES.iter().filter(|(f, _)| spec.has(*f)).map(|(_, n)| *n).collect();
    if spec.movable_key.is_some() {
        names.push("movablekeys");
    }
    names
}

fn acl_names(spec: &CommandSpec) -> Vec<String> {
    let mut out: Vec<String> =
        acl::NAMES.iter().enumerate().filter(|(i, _)| spec.acl & (1 << i) != 0).map(|(_, n)| format!("@{n}")).collect();
    if spec.has(flag::WRITE) && !out.iter().any(|n| n == "@write") {
        out.insert(0, "@write".into());
    }
    if spec.has(flag::READONLY) && !out.iter().any(|n| n == "@read") {
        out.insert(0, "@read".into());
    }
    out
}

fn write_info(srv: &Server, r: &mut Reply<'_>, id: usize, spec: &'static CommandSpec) {
    let (first, last, step) = match spec.keys {
        Keys::None => (0, 0, 0),
        Keys::Range { first, last, step } => (first as i64, last as i64, step as i64),
    };
    r.array(10);
    r.bulk(srv.commands.full_name(id).as_bytes());
    r.int(spec.arity as i64);
    let flags = flag_names(spec);
    r.set(flags.len());
    for f in flags {
        r.simple(f.as_bytes());
    }
    r.int(first);
    r.int(last);
    r.int(step);
    let cats = acl_names(spec);
    r.set(cats.len());
    for c in cats {
        r.simple(c.as_bytes());
    }
    r.array(0);
    match spec.keys {
        Keys::None => r.array(0),
        Keys::Range { first, last, step } => {
            r.array(1);
            r.map(3);
            r.bulk(b"flags");
            let kf: &[&str] = if spec.has(flag::WRITE) { &["RW", "UPDATE"] } else { &["RO", "ACCESS"] };
            r.set(kf.len());
            for f in kf {
                r.simple(f.as_bytes());
            }
            r.bulk(b"begin_search");
            r.map(2);
            r.bulk(b"type");
            r.bulk(b"index");
            r.bulk(b"spec");
            r.map(1);
            r.bulk(b"index");
            r.int(first as i64);
            r.bulk(b"find_keys");
            r.map(2);
            r.bulk(b"type");
            r.bulk(b"range");
            r.bulk(b"spec");
            r.map(3);
            r.bulk(b"lastkey");
            r.int(if last < 0 { last as i64 } else { last as i64 - first as i64 });
            r.bulk(b"keystep");
            r.int(step as i64);
            r.bulk(b"limit");
            r.int(0);
        }
    }
    r.array(spec.subcommands.len());
    for (i, sub) in spec.subcommands.iter().enumerate() {
        write_info(srv, r, srv.commands.sub_id(id, i), sub);
    }
}

fn info(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    if args.len() == 2 {
        return all(ctx, args);
    }
    let srv = ctx.srv;
    let mut r = Reply::new(ctx.out, ctx.sess.resp3);
    r.array(args.len() - 2);
    for name in args.iter().skip(2) {
        match find(srv, name) {
            Some((id, spec)) => write_info(srv, &mut r, id, spec),
            None => r.null(),
        }
    }
    Ok(())
}

fn write_docs(srv: &Server, r: &mut Reply<'_>, id: usize, spec: &'static CommandSpec) {
    let subs = !spec.subcommands.is_empty();
    r.map(4 + subs as usize);
    r.bulk(b"summary");
    r.bulk(spec.summary.as_bytes());
    r.bulk(b"since");
    r.bulk(spec.since.as_bytes());
    r.bulk(b"group");
    r.bulk(spec.group.name().as_bytes());
    r.bulk(b"complexity");
    r.bulk(spec.complexity.as_bytes());
    if subs {
        r.bulk(b"subcommands");
        r.map(spec.subcommands.len());
        for (i, sub) in spec.subcommands.iter().enumerate() {
            let sid = srv.commands.sub_id(id, i);
            r.bulk(srv.commands.full_name(sid).as_bytes());
            write_docs(srv, r, sid, sub);
        }
    }
}

fn docs(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let srv = ctx.srv;
    let mut found: Vec<(usize, &'static CommandSpec)> = Vec::new();
    if args.len() == 2 {
        found.extend(srv.commands.top_level());
    } else {
        for name in args.iter().skip(2) {
            if let Some(x) = find(srv, name) {
                found.push(x);
            }
        }
    }
    let mut r = Reply::new(ctx.out, ctx.sess.resp3);
    r.map(found.len());
    for (id, spec) in found {
        r.bulk(srv.commands.full_name(id).as_bytes());
        write_docs(srv, &mut r, id, spec);
    }
    Ok(())
}

fn list(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let srv = ctx.srv;
    let filter: Option<(&[u8], &[u8])> = match args.len() {
        2 => None,
        5 if eq_ic(&args[2], "filterby") => Some((&args[3], &args[4])),
        _ => return Err(CmdError::Syntax),
    };
    let mut names = Vec::new();
    for (id, spec) in srv.commands.iter() {
        let name = srv.commands.full_name(id);
        let keep = match filter {
            None => true,
            // No modules exist, so no command belongs to one.
            Some((kind, _)) if eq_ic(kind, "module") => false,
            Some((kind, v)) if eq_ic(kind, "aclcat") => {
                acl_names(spec).iter().any(|c| c.as_bytes()[1..].eq_ignore_ascii_case(v))
            }
            Some((kind, v)) if eq_ic(kind, "pattern") => glob_match(v, name.as_bytes(), true),
            Some(_) => return Err(CmdError::Syntax),
        };
        if keep {
            names.push(name);
        }
    }
    let mut r = ctx.reply();
    r.array(names.len());
    for n in names {
        r.bulk(n.as_bytes());
    }
    Ok(())
}

fn keys_of<'a>(ctx: &Ctx<'_, '_>, args: Args<'a>) -> Result<(Args<'a>, &'static CommandSpec, Vec<usize>), CmdError> {
    let sub = args.slice(2);
    let (_, spec) = crate::server::dispatch::resolve(ctx.srv, sub)
        .map_err(|_| CmdError::Static("ERR Invalid command specified"))?;
    if !spec.arity_ok(sub.len()) {
        return Err(CmdError::Static("ERR Invalid number of arguments specified for command"));
    }
    let pos: Vec<usize> = spec.key_args(sub).collect();
    if pos.is_empty() {
        return Err(CmdError::Static("ERR The command has no key arguments"));
    }
    Ok((sub, spec, pos))
}

fn getkeys(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (sub, _, pos) = keys_of(ctx, args)?;
    let mut r = ctx.reply();
    r.array(pos.len());
    for p in pos {
        r.bulk(&sub[p]);
    }
    Ok(())
}

fn getkeysandflags(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let (sub, spec, pos) = keys_of(ctx, args)?;
    let kf: &[&str] = if spec.has(flag::WRITE) { &["RW", "UPDATE"] } else { &["RO", "ACCESS"] };
    let mut r = ctx.reply();
    r.array(pos.len());
    for p in pos {
        r.array(2);
        r.bulk(&sub[p]);
        r.set(kf.len());
        for f in kf {
            r.simple(f.as_bytes());
        }
    }
    Ok(())
}

fn help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(
        ctx,
        "COMMAND",
        &[
            "(no subcommand) -- Return details about all commands.",
            "COUNT -- Return the number of commands.",
            "INFO [<command-name> ...] -- Return details about the named commands (all when none is named).",
            "DOCS [<command-name> ...] -- Return documentation about the named commands.",
            "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)] -- Return command names.",
            "GETKEYS <full-command> -- Return the keys of a full command.",
            "GETKEYSANDFLAGS <full-command> -- Return the keys and their access flags.",
            "HELP -- Print this help.",
        ],
    );
    Ok(())
}
