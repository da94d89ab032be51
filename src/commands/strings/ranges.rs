//! APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, LCS.

use larder_engine::KeyRef;
use larder_resp::{Args, Reply};

use super::{as_str, check_size, lookup_read, max_bulk_len, reserve_greedy, with_raw};
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// APPEND key value
pub fn append(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let tail = &args[2];
    let current = match ctx.get(&k) {
        // A new key is stored like SET stores it (Redis keeps its compact encoding).
        None => {
            ctx.shard(&k).set(&k, larder_engine::Value::Bytes(tail), None);
            ctx.notify(larder_engine::notify::STRING, "append", k.key);
            ctx.reply().int(tail.len() as i64);
            return Ok(());
        }
        Some(e) => as_str(e)?.len(),
    };
    check_size(ctx, current as u64 + tail.len() as u64)?;
    let len = with_raw(ctx, &k, 0, |v, _| {
        reserve_greedy(v, tail.len());
        v.extend_from_slice(tail);
        (v.len(), true)
    })?;
    ctx.notify(larder_engine::notify::STRING, "append", k.key);
    ctx.reply().int(len as i64);
    Ok(())
}

/// STRLEN key
pub fn strlen(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let k = KeyRef::new(&args[1]);
    let len = match lookup_read(ctx, &k) {
        None => 0,
        Some(e) => as_str(e)?.len(),
    };
    ctx.reply().int(len as i64);
    Ok(())
}

/// The byte range `start..=end` (negative: counted from the end) of a `len`-byte string, as
/// GETRANGE resolves it; `None` when it selects nothing.
fn substr_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let n = len as i64;
    let start = if start < 0 { (n + start).max(0) } else { start };
    let end = if end < 0 { (n + end).max(0) } else { end }.min(n - 1);
    (len > 0 && start <= end).then_some((start as usize, end as usize))
}

/// GETRANGE key start end (also SUBSTR)
pub fn getrange(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let start = int_arg(&args[2])?;
    let end = int_arg(&args[3])?;
    let k = KeyRef::new(&args[1]);
    let resp3 = ctx.sess.resp3;
    let (db, now) = (ctx.sess.db, ctx.now);
    // The reply borrows the value, so split the context by hand (as GET does).
    let e = ctx.keys.get(db, &k, now);
    ctx.srv.stats.count_lookup(e.is_some());
    let mut r = Reply::new(ctx.out, resp3);
    let Some(e) = e else {
        r.bulk(b"");
        return Ok(());
    };
    let mut buf = itoa::Buffer::new();
    let s = as_str(e)?.bytes(&mut buf);
    match substr_range(start, end, s.len()) {
        Some((from, to)) => r.bulk(&s[from..=to]),
        None => r.bulk(b""),
    }
    Ok(())
}

/// SETRANGE key offset value
pub fn setrange(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    let offset = int_arg(&args[2])?;
    if offset < 0 {
        return Err(CmdError::Static("ERR offset is out of range"));
    }
    let k = KeyRef::new(&args[1]);
    let value = &args[3];
    let current = match ctx.get(&k) {
        None => None,
        Some(e) => Some(as_str(e)?.len()),
    };
    if value.is_empty() {
        // Nothing to write: the key is neither created nor converted.
        ctx.reply().int(current.unwrap_or(0) as i64);
        return Ok(());
    }
    // `offset` is non-negative and at most i64::MAX, so the sum cannot wrap a u64.
    check_size(ctx, offset as u64 + value.len() as u64)?;
    // The size check bounds `offset` by proto-max-bulk-len, so it fits a usize.
    let at = offset as usize;
    let len = with_raw(ctx, &k, at + value.len(), |v, _| {
        v[at..at + value.len()].copy_from_slice(value);
        (v.len(), true)
    })?;
    ctx.notify(larder_engine::notify::STRING, "setrange", k.key);
    ctx.reply().int(len as i64);
    Ok(())
}

/// What LCS replies with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LcsMode {
    /// The subsequence itself.
    String,
    /// Its length (LEN).
    Len,
    /// The matching ranges and the length (IDX).
    Idx,
}

/// One run of consecutive matching bytes: (start, end) in each string, inclusive.
type Match = ((u32, u32), (u32, u32));

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
pub fn lcs(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    const NOT_STRING: CmdError = CmdError::Static("ERR The specified keys must contain string values");
    let mut values: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut not_string = false;
    for (i, v) in values.iter_mut().enumerate() {
        let k = KeyRef::new(&args[1 + i]);
        if let Some(e) = lookup_read(ctx, &k) {
            match as_str(e) {
                Ok(s) => *v = s.to_vec(),
                Err(_) => not_string = true,
            }
        }
    }
    if not_string {
        return Err(NOT_STRING);
    }
    let (mut len_opt, mut idx_opt, mut with_len) = (false, false, false);
    let mut min_len: u64 = 0;
    let mut i = 3;
    while i < args.len() {
        let a = &args[i];
        if eq_ic(a, "idx") {
            idx_opt = true;
        } else if eq_ic(a, "len") {
            len_opt = true;
        } else if eq_ic(a, "withmatchlen") {
            with_len = true;
        } else if eq_ic(a, "minmatchlen") && i + 1 < args.len() {
            min_len = int_arg(&args[i + 1])?.max(0) as u64;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if len_opt && idx_opt {
        return Err(CmdError::Static("ERR If you want both the length and indexes, please just use IDX."));
    }
    let mode = match (idx_opt, len_opt) {
        (true, _) => LcsMode::Idx,
        (false, true) => LcsMode::Len,
        (false, false) => LcsMode::String,
    };
    let [a, b] = &values;
    if a.len() as u64 >= u64::from(u32::MAX - 1) || b.len() as u64 >= u64::from(u32::MAX - 1) {
        return Err(CmdError::Static("ERR String too long for LCS"));
    }
    // Redis bounds the transient table ((|a|+1) x (|b|+1) u32 cells) by proto-max-bulk-len,
    // for every mode; the LEN-only mode here needs just two rows of it.
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells.saturating_mul(4) > max_bulk_len(ctx) {
        return Err(CmdError::Static("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"));
    }
    let alloc_failed = CmdError::Static("ERR Insufficient memory, failed allocating transient memory for LCS");
    if mode == LcsMode::Len {
        let n = lcs_len(a, b).ok_or(alloc_failed)?;
        ctx.reply().int(i64::from(n));
        return Ok(());
    }
    let table = lcs_table(a, b).ok_or(alloc_failed)?;
    let (text, matches) = lcs_walk(a, b, &table, min_len);
    let total = table.last().copied().unwrap_or(0);
    let mut r = ctx.reply();
    if mode == LcsMode::String {
        r.bulk(&text);
        return Ok(());
    }
    r.map(2);
    r.bulk(b"matches");
    r.array(matches.len());
    for ((a0, a1), (b0, b1)) in matches {
        r.array(2 + usize::from(with_len));
        r.array(2);
        r.int(i64::from(a0));
        r.int(i64::from(a1));
        r.array(2);
        r.int(i64::from(b0));
        r.int(i64::from(b1));
        if with_len {
            r.int(i64::from(a1 - a0 + 1));
        }
    }
    r.bulk(b"len");
    r.int(i64::from(total));
    Ok(())
}

/// A zeroed vector of `n` cells, or `None` when the memory is not available.
fn try_zeroed(n: usize) -> Option<Vec<u32>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, 0);
    Some(v)
}

/// Length of the longest common subsequence, keeping two rows of the table.
fn lcs_len(a: &[u8], b: &[u8]) -> Option<u32> {
    let w = b.len() + 1;
    let mut prev = try_zeroed(w)?;
    let mut cur = try_zeroed(w)?;
    for &x in a {
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { prev[j + 1].max(cur[j]) };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied()
}

/// The full table: cell `i * (|b|+1) + j` is the LCS length of `a[..i]` and `b[..j]`.
fn lcs_table(a: &[u8], b: &[u8]) -> Option<Vec<u32>> {
    let w = b.len() + 1;
    let mut t = try_zeroed((a.len() + 1).checked_mul(w)?)?;
    for (i, &x) in a.iter().enumerate() {
        let (above, rest) = t.split_at_mut((i + 1) * w);
        let prev = &above[i * w..];
        let cur = &mut rest[..w];
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = if x == y { prev[j] + 1 } else { prev[j + 1].max(cur[j]) };
        }
    }
    Some(t)
}

/// Walks the table back from the end as Redis does (on a tie it moves along `b`), giving the
/// subsequence and its runs of consecutive matches, last run first; runs shorter than
/// `min_len` are left out of the list.
fn lcs_walk(a: &[u8], b: &[u8], t: &[u32], min_len: u64) -> (Vec<u8>, Vec<Match>) {
    let w = b.len() + 1;
    let cell = |i: usize, j: usize| t.get(i * w + j).copied().unwrap_or(0);
    let mut text = Vec::with_capacity(cell(a.len(), b.len()) as usize);
    let mut matches = Vec::new();
    // The run being extended backwards: (a start, a end, b start, b end).
    let mut run: Option<(u32, u32, u32, u32)> = None;
    let (mut i, mut j) = (a.len(), b.len());
    let mut emit = |run: &mut Option<(u32, u32, u32, u32)>| {
        if let Some((a0, a1, b0, b1)) = run.take() {
            if u64::from(a1 - a0) + 1 >= min_len {
                matches.push(((a0, a1), (b0, b1)));
            }
        }
    };
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            text.push(a[i - 1]);
            let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
            run = match run {
                Some((a0, a1, b0, b1)) if a0 == ai + 1 && b0 == bj + 1 => Some((ai, a1, bj, b1)),
                Some(_) => {
                    emit(&mut run);
                    Some((ai, ai, bj, bj))
                }
                None => Some((ai, ai, bj, bj)),
            };
            if ai == 0 || bj == 0 {
                emit(&mut run);
            }
            i -= 1;
            j -= 1;
        } else {
            if cell(i - 1, j) > cell(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            emit(&mut run);
        }
    }
    emit(&mut run);
    text.reverse();
    (text, matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substr_ranges() {
        assert_eq!(substr_range(0, -1, 5), Some((0, 4)));
        assert_eq!(substr_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(substr_range(-1, -3, 5), None);
        assert_eq!(substr_range(3, 100, 5), Some((3, 4)));
        assert_eq!(substr_range(10, 20, 5), None);
        assert_eq!(substr_range(0, -1, 0), None);
        assert_eq!(substr_range(-100, -100, 5), Some((0, 0)));
        assert_eq!(substr_range(i64::MIN, i64::MAX, 5), Some((0, 4)));
        assert_eq!(substr_range(4, 2, 5), None);
    }

    #[test]
    fn lcs_matches_redis_examples() {
        let (a, b) = (b"ohmytext".as_slice(), b"mynewtext".as_slice());
        assert_eq!(lcs_len(a, b), Some(6));
        let t = lcs_table(a, b).unwrap_or_default();
        let (text, m) = lcs_walk(a, b, &t, 0);
        assert_eq!(text, b"mytext");
        assert_eq!(m, vec![((4, 7), (5, 8)), ((2, 3), (0, 1))]);
        let (_, m) = lcs_walk(a, b, &t, 4);
        assert_eq!(m, vec![((4, 7), (5, 8))]);
        assert_eq!(lcs_len(b"", b"abc"), Some(0));
        let t = lcs_table(b"", b"abc").unwrap_or_default();
        assert_eq!(lcs_walk(b"", b"abc", &t, 0), (Vec::new(), Vec::new()));
    }
}
