//! List reads: LLEN, LRANGE, LINDEX, LPOS. Elements are written straight from the list.

use larder_engine::KeyRef;
use larder_resp::Args;

use super::with_list;
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// LLEN key
pub(super) fn llen(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    with_list(ctx, &KeyRef::new(&args[1]), false, |list, r| {
        r.int(list.map_or(0, |l| l.len()) as i64);
        Ok(())
    })
}

/// LRANGE key start stop
pub(super) fn lrange(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let start = int_arg(&args[2])?;
    let stop = int_arg(&args[3])?;
    with_list(ctx, &KeyRef::new(&args[1]), false, |list, r| {
        match list.and_then(|l| Some((l.range(start, stop)?, l))) {
            None => r.empty_array(),
            Some(((first, n), l)) => {
                r.array(n);
                for v in l.iter_at(first, false).take(n) {
                    r.bulk(v);
                }
            }
        }
        Ok(())
    })
}

/// LINDEX key index (the key is looked up before the index is parsed, as in Redis).
pub(super) fn lindex(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    with_list(ctx, &KeyRef::new(&args[1]), false, |list, r| {
        let Some(list) = list else {
            r.null();
            return Ok(());
        };
        match list.get(int_arg(&args[2])?) {
            Some(v) => r.bulk(v),
            None => r.null(),
        }
        Ok(())
    })
}

const RANK_ZERO: CmdError = CmdError::Static(
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
);
const RANK_RANGE: CmdError =
    CmdError::Static("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");

/// A non-negative option value, with `err` for anything else (Redis's message replaces the
/// integer error too).
fn non_negative(arg: &[u8], err: &'static str) -> Result<usize, CmdError> {
    int_arg(arg).ok().and_then(|n| usize::try_from(n).ok()).ok_or(CmdError::Static(err))
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub(super) fn lpos(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen = 0usize;
    let mut j = 3;
    while j < args.len() {
        let opt = &args[j];
        let more = j + 1 < args.len();
        if more && eq_ic(opt, "rank") {
            j += 1;
            rank = int_arg(&args[j])?;
            if rank == i64::MIN {
                return Err(RANK_RANGE);
            }
            if rank == 0 {
                return Err(RANK_ZERO);
            }
        } else if more && eq_ic(opt, "count") {
            j += 1;
            count = Some(non_negative(&args[j], "ERR COUNT can't be negative")?);
        } else if more && eq_ic(opt, "maxlen") {
            j += 1;
            maxlen = non_negative(&args[j], "ERR MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let element = &args[2];
    let from_tail = rank < 0;
    let skip = rank.unsigned_abs();
    with_list(ctx, &KeyRef::new(&args[1]), false, |list, r| {
        let Some(list) = list else {
            if count.is_some() {
                r.empty_array();
            } else {
                r.null();
            }
            return Ok(());
        };
        let len = list.len();
        let scan = if maxlen == 0 { len } else { maxlen.min(len) };
        let iter = if from_tail { list.iter_at(len.wrapping_sub(1), true) } else { list.iter_at(0, false) };
        let mut matches = 0u64;
        let mut found: Vec<usize> = Vec::new();
        for (i, v) in iter.take(scan).enumerate() {
            if v != element {
                continue;
            }
            matches += 1;
            if matches < skip {
                continue;
            }
            found.push(if from_tail { len - 1 - i } else { i });
            match count {
                Some(c) if c == 0 || found.len() < c => {}
                _ => break,
            }
        }
        match (count, found.first()) {
            (Some(_), _) => {
                r.array(found.len());
                for i in found {
                    r.int(i as i64);
                }
            }
            (None, Some(&i)) => r.int(i as i64),
            (None, None) => r.null(),
        }
        Ok(())
    })
}
