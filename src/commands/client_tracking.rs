//! CLIENT TRACKING, CACHING, TRACKINGINFO and GETREDIR: a connection's client-side caching
//! settings (the registry and the invalidations are in `server::tracking`).

use larder_resp::Args;

use super::client_cmd::on_off;
use super::{eq_ic, CmdError, CmdResult, Ctx};

pub(super) fn tracking(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    use crate::server::tracking::Settings;
    let on = on_off(&args[2])?;
    let mut s = Settings::default();
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        let next = args.get(i + 1);
        if eq_ic(a, "redirect") && next.is_some() {
            let id = larder_engine::util::num::parse_i64(next.unwrap_or_default()).ok_or(CmdError::NotInteger)?;
            i += 1;
            if id != ctx.sess.id as i64 {
                if id <= 0 || ctx.srv.clients.get(id as u64).is_none() {
                    return Err(CmdError::Static("ERR The client ID you want redirect to does not exist"));
                }
                s.redirect = id as u64;
            }
        } else if eq_ic(a, "bcast") {
            s.bcast = true;
        } else if eq_ic(a, "optin") {
            s.optin = true;
        } else if eq_ic(a, "optout") {
            s.optout = true;
        } else if eq_ic(a, "noloop") {
            s.noloop = true;
        } else if eq_ic(a, "prefix") && next.is_some() {
            s.prefixes.push(next.unwrap_or_default().to_vec());
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if !on {
        if ctx.sess.tracking.take().is_some() {
            ctx.srv.tracking.disable(ctx.sess.id);
        }
        ctx.sess.caching = None;
        ctx.reply().ok();
        return Ok(());
    }
    if !s.bcast && !s.prefixes.is_empty() {
        return Err(CmdError::Static("ERR PREFIX option requires BCAST mode to be enabled"));
    }
    if ctx.sess.tracking.as_ref().is_some_and(|old| old.bcast != s.bcast) {
        return Err(CmdError::Static("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    if s.bcast && (s.optin || s.optout) {
        return Err(CmdError::Static("ERR OPTIN and OPTOUT are not compatible with BCAST"));
    }
    if s.optin && s.optout {
        return Err(CmdError::Static("ERR You can't use OPTIN and OPTOUT at the same time"));
    }
    if ctx.sess.tracking.as_ref().is_some_and(|old| (s.optin && old.optout) || (s.optout && old.optin)) {
        return Err(CmdError::Static("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    if s.bcast {
        let mut existing = ctx.sess.tracking.as_ref().map(|old| old.prefixes.clone()).unwrap_or_default();
        existing.sort();
        check_prefix_collisions(&existing, &s.prefixes)?;
        // Enabling BCAST again adds prefixes to the ones registered before.
        existing.append(&mut s.prefixes);
        s.prefixes = existing;
    }
    ctx.srv.tracking.enable(ctx.sess.id, s.clone());
    ctx.sess.tracking = Some(s);
    ctx.reply().ok();
    Ok(())
}

/// Refuses BCAST prefixes that overlap (one is a prefix of the other) with a registered prefix
/// or with a later one of the same command, naming them as Redis does.
fn check_prefix_collisions(existing: &[Vec<u8>], new: &[Vec<u8>]) -> CmdResult {
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for (i, p) in new.iter().enumerate() {
        if let Some(e) = existing.iter().find(|e| overlap(e, p)) {
            return Err(CmdError::Msg(format!(
                "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                show(p),
                show(e)
            )));
        }
        if let Some(q) = new[i + 1..].iter().find(|q| overlap(p, q)) {
            return Err(CmdError::Msg(format!(
                "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                show(p),
                show(q)
            )));
        }
    }
    Ok(())
}

pub(super) fn caching(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let Some(t) = &ctx.sess.tracking else {
        return Err(CmdError::Static("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    };
    let yes = if eq_ic(&args[2], "yes") {
        true
    } else if eq_ic(&args[2], "no") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    if yes && !t.optin {
        return Err(CmdError::Static("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
    }
    if !yes && !t.optout {
        return Err(CmdError::Static("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
    }
    ctx.sess.caching = Some(yes);
    ctx.reply().ok();
    Ok(())
}

pub(super) fn trackinginfo(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let t = ctx.sess.tracking.clone();
    let caching = ctx.sess.caching;
    let broken = t.as_ref().is_some_and(|t| t.redirect != 0 && ctx.srv.clients.get(t.redirect).is_none());
    let mut flags: Vec<&str> = Vec::new();
    match &t {
        None => flags.push("off"),
        Some(t) => {
            flags.push("on");
            if t.bcast {
                flags.push("bcast");
            }
            if t.optin {
                flags.push("optin");
            }
            if t.optout {
                flags.push("optout");
            }
            match caching {
                Some(true) => flags.push("caching-yes"),
                Some(false) => flags.push("caching-no"),
                None => {}
            }
            if t.noloop {
                flags.push("noloop");
            }
            if broken {
                flags.push("broken_redirect");
            }
        }
    }
    let redirect = t.as_ref().map_or(-1, |t| t.redirect as i64);
    let prefixes: Vec<Vec<u8>> = match &t {
        Some(t) if t.bcast && t.prefixes.is_empty() => vec![Vec::new()],
        Some(t) => t.prefixes.clone(),
        None => Vec::new(),
    };
    let mut r = ctx.reply();
    r.map(3);
    r.bulk(b"flags");
    r.set(flags.len());
    for f in flags {
        r.bulk(f.as_bytes());
    }
    r.bulk(b"redirect");
    r.int(redirect);
    r.bulk(b"prefixes");
    r.array(prefixes.len());
    for p in prefixes {
        r.bulk(&p);
    }
    Ok(())
}

pub(super) fn getredir(ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    let v = ctx.sess.tracking.as_ref().map_or(-1, |t| t.redirect as i64);
    ctx.reply().int(v);
    Ok(())
}
