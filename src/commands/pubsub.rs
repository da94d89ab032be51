//! SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH,
//! SPUBLISH and PUBSUB CHANNELS/NUMSUB/NUMPAT/SHARDCHANNELS/SHARDNUMSUB.

use std::sync::atomic::Ordering::Relaxed;

use larder_resp::Args;

use super::client_cmd::help_lines;
use super::spec::{acl, cmd, flag, keys, CommandSpec, Group, Keys};
use super::{CmdResult, Ctx};
use crate::server::client::Session;
use crate::server::pubsub::{self, Kind};
use crate::server::Server;

const G: Group = Group::Pubsub;
const SUB: u32 = flag::PUBSUB | flag::NOSCRIPT | flag::LOADING | flag::STALE;
const A: u64 = acl::PUBSUB | acl::SLOW;

static PUBSUB_SUBS: &[CommandSpec] = &[
    cmd("channels", -2, SUB, A, Keys::None, G, "2.8.0", "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)", "Returns the active channels, optionally those matching a pattern.", channels),
    cmd("numsub", -2, SUB, A, Keys::None, G, "2.8.0", "O(N) for the NUMSUB subcommand, where N is the number of requested channels", "Returns the subscriber counts of channels.", numsub),
    cmd("numpat", 2, SUB, A, Keys::None, G, "2.8.0", "O(1)", "Returns the number of unique patterns subscribed to.", numpat),
    cmd("shardchannels", -2, SUB, A, Keys::None, G, "7.0.0", "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).", "Returns the active shard channels, optionally those matching a pattern.", shardchannels),
    cmd("shardnumsub", -2, SUB, A, Keys::None, G, "7.0.0", "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels", "Returns the subscriber counts of shard channels.", shardnumsub),
    cmd("help", 2, flag::LOADING | flag::STALE, acl::SLOW, Keys::None, G, "6.2.0", "O(1)", "Lists the PUBSUB sub-commands.", help),
];

/// The pub/sub family's table entries.
pub static COMMANDS: &[CommandSpec] = &[
    cmd("subscribe", -2, SUB, A, Keys::None, G, "2.0.0", "O(N) where N is the number of channels to subscribe to.", "Listens for messages published to channels.", subscribe),
    cmd("unsubscribe", -1, SUB, A, Keys::None, G, "2.0.0", "O(N) where N is the number of channels to unsubscribe.", "Stops listening to channels (all of them when none is named).", unsubscribe),
    cmd("psubscribe", -2, SUB, A, Keys::None, G, "2.0.0", "O(N) where N is the number of patterns to subscribe to.", "Listens for messages published to channels matching patterns.", psubscribe),
    cmd("punsubscribe", -1, SUB, A, Keys::None, G, "2.0.0", "O(N) where N is the number of patterns to unsubscribe.", "Stops listening to patterns (all of them when none is named).", punsubscribe),
    cmd("ssubscribe", -2, SUB, A, keys(1, -1, 1), G, "7.0.0", "O(N) where N is the number of shard channels to subscribe to.", "Listens for messages published to shard channels.", ssubscribe),
    cmd("sunsubscribe", -1, SUB, A, keys(1, -1, 1), G, "7.0.0", "O(N) where N is the number of shard channels to unsubscribe.", "Stops listening to shard channels (all of them when none is named).", sunsubscribe),
    cmd("publish", 3, flag::PUBSUB | flag::LOADING | flag::STALE | flag::FAST | flag::MAY_REPLICATE, acl::PUBSUB | acl::FAST, Keys::None, G, "2.0.0", "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).", "Posts a message to a channel.", publish),
    cmd("spublish", 3, flag::PUBSUB | flag::LOADING | flag::STALE | flag::FAST | flag::MAY_REPLICATE, acl::PUBSUB | acl::FAST, keys(1, 1, 1), G, "7.0.0", "O(N) where N is the number of clients subscribed to the receiving shard channel.", "Posts a message to a shard channel.", spublish),
    CommandSpec { subcommands: PUBSUB_SUBS, flags: flag::CONTAINER, ..cmd("pubsub", -2, 0, acl::SLOW, Keys::None, G, "2.8.0", "Depends on subcommand.", "Commands that inspect the Pub/Sub state.", help) },
];

fn list(sess: &mut Session, kind: Kind) -> &mut Vec<Vec<u8>> {
    match kind {
        Kind::Channel => &mut sess.subs.channels,
        Kind::Pattern => &mut sess.subs.patterns,
        Kind::Shard => &mut sess.subs.shard,
    }
}

/// The count a (un)subscribe confirmation carries: channels + patterns, or shard channels.
fn confirm_count(sess: &Session, kind: Kind) -> i64 {
    match kind {
        Kind::Shard => sess.subs.shard.len() as i64,
        _ => (sess.subs.channels.len() + sess.subs.patterns.len()) as i64,
    }
}

fn publish_counts(sess: &Session) {
    let s = &sess.shared;
    s.subs[0].store(sess.subs.channels.len(), Relaxed);
    s.subs[1].store(sess.subs.patterns.len(), Relaxed);
    s.subs[2].store(sess.subs.shard.len(), Relaxed);
}

fn confirm(ctx: &mut Ctx<'_, '_>, word: &[u8], name: Option<&[u8]>, count: i64) {
    let mut r = ctx.reply();
    r.push(3);
    r.bulk(word);
    match name {
        Some(n) => r.bulk(n),
        None => r.null(),
    }
    r.int(count);
}

fn sub_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, kind: Kind, word: &[u8]) -> CmdResult {
    for name in args.iter().skip(1) {
        if !list(ctx.sess, kind).iter().any(|n| n == name) {
            list(ctx.sess, kind).push(name.to_vec());
            ctx.srv.pubsub.subscribe(kind, name, &ctx.sess.shared);
        }
        let count = confirm_count(ctx.sess, kind);
        confirm(ctx, word, Some(name), count);
    }
    publish_counts(ctx.sess);
    Ok(())
}

fn unsub_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, kind: Kind, word: &[u8]) -> CmdResult {
    let names: Vec<Vec<u8>> =
        if args.len() > 1 { args.iter().skip(1).map(<[u8]>::to_vec).collect() } else { list(ctx.sess, kind).clone() };
    if names.is_empty() {
        let count = confirm_count(ctx.sess, kind);
        confirm(ctx, word, None, count);
        return Ok(());
    }
    for name in names {
        let l = list(ctx.sess, kind);
        if let Some(i) = l.iter().position(|n| *n == name) {
            l.remove(i);
            ctx.srv.pubsub.unsubscribe(kind, &name, ctx.sess.id);
        }
        let count = confirm_count(ctx.sess, kind);
        confirm(ctx, word, Some(&name), count);
    }
    publish_counts(ctx.sess);
    Ok(())
}

/// Removes every subscription of a session (disconnect, RESET).
pub fn unsubscribe_all(srv: &Server, sess: &mut Session) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in std::mem::take(list(sess, kind)) {
            srv.pubsub.unsubscribe(kind, &name, sess.id);
        }
    }
    publish_counts(sess);
}

fn subscribe(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    sub_generic(ctx, args, Kind::Channel, b"subscribe")
}

fn unsubscribe(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    unsub_generic(ctx, args, Kind::Channel, b"unsubscribe")
}

fn psubscribe(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    sub_generic(ctx, args, Kind::Pattern, b"psubscribe")
}

fn punsubscribe(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    unsub_generic(ctx, args, Kind::Pattern, b"punsubscribe")
}

fn ssubscribe(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    sub_generic(ctx, args, Kind::Shard, b"ssubscribe")
}

fn sunsubscribe(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    unsub_generic(ctx, args, Kind::Shard, b"sunsubscribe")
}

fn publish(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let n = pubsub::publish(ctx.srv, Kind::Channel, &args[1], &args[2], Some(ctx.sess.shared.worker));
    ctx.reply().int(n as i64);
    Ok(())
}

fn spublish(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let n = pubsub::publish(ctx.srv, Kind::Shard, &args[1], &args[2], Some(ctx.sess.shared.worker));
    ctx.reply().int(n as i64);
    Ok(())
}

fn names_reply(ctx: &mut Ctx<'_, '_>, args: Args<'_>, kind: Kind) -> CmdResult {
    if args.len() > 3 {
        return Err(super::arity_error(&ctx.srv.commands.full_name(ctx.id)));
    }
    let names = ctx.srv.pubsub.names(kind, args.get(2));
    let mut r = ctx.reply();
    r.array(names.len());
    for n in names {
        r.bulk(&n);
    }
    Ok(())
}

fn counts_reply(ctx: &mut Ctx<'_, '_>, args: Args<'_>, kind: Kind) -> CmdResult {
    let counts: Vec<(&[u8], usize)> = args.iter().skip(2).map(|n| (n, ctx.srv.pubsub.count(kind, n))).collect();
    let mut r = ctx.reply();
    r.map(counts.len());
    for (n, c) in counts {
        r.bulk(n);
        r.int(c as i64);
    }
    Ok(())
}

fn channels(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    names_reply(ctx, args, Kind::Channel)
}

fn numsub(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    counts_reply(ctx, args, Kind::Channel)
}

fn numpat(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let n = ctx.srv.pubsub.len(Kind::Pattern);
    ctx.reply().int(n as i64);
    Ok(())
}

fn shardchannels(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    names_reply(ctx, args, Kind::Shard)
}

fn shardnumsub(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    counts_reply(ctx, args, Kind::Shard)
}

fn help(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    help_lines(
        ctx,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>] -- Return the active channels matching a pattern.",
            "NUMPAT -- Return the number of unique patterns clients are subscribed to.",
            "NUMSUB [<channel> ...] -- Return the number of subscribers of each channel.",
            "SHARDCHANNELS [<pattern>] -- Return the active shard channels matching a pattern.",
            "SHARDNUMSUB [<shardchannel> ...] -- Return the number of subscribers of each shard channel.",
            "HELP -- Print this help.",
        ],
    );
    Ok(())
}
