//! HRANDFIELD and HSCAN: the hash commands that sample or walk a hash.

use larder_engine::types::hash::Hash;
use larder_engine::util::glob::glob_match;
use larder_engine::KeyRef;
use larder_resp::{Args, Reply};

use super::read_hash;
use crate::commands::scan::parse_cursor;
use crate::commands::strings::max_bulk_len;
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// HRANDFIELD key [count [WITHVALUES]]
///
/// Without a count: one field, or a null. With a count: up to `count` distinct fields, or
/// exactly `-count` fields with repeats for a negative count; WITHVALUES adds each value
/// (RESP2: flat, RESP3: a pair per field). A huge negative count is cut off once the reply
/// passes proto-max-bulk-len bytes and the connection is closed after it, as Redis closes a
/// client over its output limit.
pub fn hrandfield(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    if args.len() == 2 {
        return read_hash(ctx, &k, |h, r| match h.and_then(Hash::random) {
            Some((field, _)) => r.bulk(field),
            None => r.null(),
        });
    }
    let l = int_arg(&args[2])?;
    if l == i64::MIN {
        return Err(CmdError::Static(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let with_values = match args.len() {
        3 => false,
        4 if eq_ic(&args[3], "withvalues") => true,
        _ => return Err(CmdError::Syntax),
    };
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::Static("ERR value is out of range"));
    }
    let (count, unique) = (l.unsigned_abs() as usize, l >= 0);
    let cap = usize::try_from(max_bulk_len(ctx)).unwrap_or(usize::MAX);
    let cut = read_hash(ctx, &k, |h, r| {
        let Some(h) = h.filter(|_| count > 0) else {
            r.empty_array();
            return false;
        };
        let n = if unique { count.min(h.len()) } else { count };
        r.array(if with_values && !r.resp3 { n * 2 } else { n });
        let start = r.buf.len();
        let mut cut = false;
        h.random_pairs(count, unique, |field, value| {
            if with_values && r.resp3 {
                r.array(2);
            }
            r.bulk(field);
            if with_values {
                r.bulk(value);
            }
            cut = r.buf.len() - start > cap;
            !cut
        });
        cut
    })?;
    if cut {
        ctx.sess.close_after_reply = true;
    }
    Ok(())
}

/// HSCAN's options.
struct ScanOpts<'a> {
    count: usize,
    pattern: Option<&'a [u8]>,
    no_values: bool,
}

/// Parses `[MATCH pattern] [COUNT count] [NOVALUES]` from argument 3 on, as Redis's
/// `scanGenericCommand` does.
fn parse_scan_opts(args: Args<'_>) -> Result<ScanOpts<'_>, CmdError> {
    let mut o = ScanOpts { count: 10, pattern: None, no_values: false };
    let mut i = 3;
    while i < args.len() {
        let opt = &args[i];
        let value = args.get(i + 1);
        match value {
            Some(v) if eq_ic(opt, "count") => {
                let n = int_arg(v)?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                o.count = usize::try_from(n).unwrap_or(usize::MAX);
                i += 2;
            }
            Some(v) if eq_ic(opt, "match") => {
                // Exactly "*" matches everything: no pattern at all.
                o.pattern = (v != b"*").then_some(v);
                i += 2;
            }
            _ if eq_ic(opt, "novalues") => {
                o.no_values = true;
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    Ok(o)
}

/// HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]
///
/// A small (packed) hash is returned whole with cursor 0, as Redis does for its listpacks; a
/// table is walked in hash order from the cursor. As in Redis, the options are only parsed
/// once the key is known to hold a hash.
pub fn hscan(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let cursor = parse_cursor(&args[2]).ok_or(CmdError::Static("ERR invalid cursor"))?;
    read_hash(ctx, &KeyRef::new(&args[1]), |h, r| {
        let Some(h) = h else {
            r.array(2);
            r.bulk(b"0");
            r.empty_array();
            return Ok(());
        };
        let opts = parse_scan_opts(args)?;
        // The items are encoded aside first: the cursor goes before them in the reply.
        let mut items = Vec::new();
        let mut n = 0;
        let mut enc = Reply::new(&mut items, r.resp3);
        let next = h.scan(cursor, opts.count, |field, value| {
            if opts.pattern.is_none_or(|p| glob_match(p, field, false)) {
                enc.bulk(field);
                n += 1;
                if !opts.no_values {
                    enc.bulk(value);
                    n += 1;
                }
            }
        });
        r.array(2);
        r.bulk(itoa::Buffer::new().format(next).as_bytes());
        r.array(n);
        r.buf.extend_from_slice(&items);
        Ok(())
    })?
}
