//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits (`i1`..`i64`, `u1`..`u63`) at any bit
//! offset of a string, with Redis's overflow control (`OVERFLOW WRAP|SAT|FAIL`).

use larder_engine::util::bits::{self, Overflow};
use larder_engine::util::num::parse_i64;
use larder_engine::KeyRef;
use larder_resp::Args;

use super::{bit_offset, bytes_for_bit};
use crate::commands::strings::{as_str, lookup_read, with_raw};
use crate::commands::{eq_ic, int_arg, CmdError, CmdResult, Ctx};

/// What one sub-command does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GET type offset
    Get,
    /// SET type offset value: replies with the old value.
    Set,
    /// INCRBY type offset increment: replies with the new value.
    Incr,
}

/// One parsed sub-command.
#[derive(Clone, Copy)]
struct Op {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    /// The SET value or the INCRBY increment.
    value: i64,
    /// The OVERFLOW mode in force when the sub-command appeared.
    overflow: Overflow,
}

/// Parses a field type: `i` or `u` (lower case, as in Redis) then the width, `i1`..`i64` or
/// `u1`..`u63`. Like Redis, the width is read up to the first NUL byte.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    const BAD_TYPE: CmdError = CmdError::Static(
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
    );
    let (signed, rest) = match arg.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return Err(BAD_TYPE),
    };
    let digits = rest.split(|&b| b == 0).next().unwrap_or(rest);
    let max = if signed { 64 } else { 63 };
    match parse_i64(digits) {
        Some(w) if (1..=max).contains(&w) => Ok((signed, w as u32)),
        _ => Err(BAD_TYPE),
    }
}

/// Parses every sub-command (all of them before anything runs, as Redis does).
fn parse_ops(ctx: &Ctx<'_, '_>, args: Args<'_>) -> Result<Vec<Op>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let sub = &args[j];
        let more = args.len() - j - 1;
        let kind = if eq_ic(sub, "get") && more >= 2 {
            Kind::Get
        } else if eq_ic(sub, "set") && more >= 3 {
            Kind::Set
        } else if eq_ic(sub, "incrby") && more >= 3 {
            Kind::Incr
        } else if eq_ic(sub, "overflow") && more >= 1 {
            let mode = &args[j + 1];
            overflow = if eq_ic(mode, "wrap") {
                Overflow::Wrap
            } else if eq_ic(mode, "sat") {
                Overflow::Sat
            } else if eq_ic(mode, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::Static("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(ctx, &args[j + 2], bits)?;
        let value = if kind == Kind::Get { 0 } else { int_arg(&args[j + 3])? };
        ops.push(Op { kind, signed, bits, offset, value, overflow });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// Runs one SET or INCRBY on `v` (already sized to hold it). Returns the reply value (`None`
/// when OVERFLOW FAIL refused the write) and whether the stored bits changed.
fn write_op(v: &mut [u8], op: &Op) -> (Option<i64>, bool) {
    let (reply, old, new) = if op.signed {
        let old = bits::get_signed(v, op.offset, op.bits);
        let new = match op.kind {
            Kind::Incr => bits::incr_signed(old, op.value, op.bits, op.overflow),
            _ => bits::incr_signed(op.value, 0, op.bits, op.overflow),
        };
        let Some(new) = new else { return (None, false) };
        let reply = if op.kind == Kind::Set { old } else { new };
        (reply, old as u64, new as u64)
    } else {
        let old = bits::get_unsigned(v, op.offset, op.bits);
        let new = match op.kind {
            Kind::Incr => bits::incr_unsigned(old, op.value, op.bits, op.overflow),
            _ => bits::incr_unsigned(op.value as u64, 0, op.bits, op.overflow),
        };
        let Some(new) = new else { return (None, false) };
        // Unsigned fields are at most 63 bits wide, so both fit an i64.
        let reply = if op.kind == Kind::Set { old } else { new };
        (reply as i64, old, new)
    };
    bits::set_bits(v, op.offset, op.bits, new);
    (Some(reply), old != new)
}

/// Reads one GET from `p` (bits past the end read as 0).
fn read_op(p: &[u8], op: &Op) -> i64 {
    if op.signed {
        bits::get_signed(p, op.offset, op.bits)
    } else {
        // At most 63 bits wide: fits an i64.
        bits::get_unsigned(p, op.offset, op.bits) as i64
    }
}

/// Writes the reply: one integer (or nil for a refused write) per sub-command.
fn reply_all(ctx: &mut Ctx<'_, '_>, results: &[Option<i64>]) {
    let mut r = ctx.reply();
    r.array(results.len());
    for res in results {
        match res {
            Some(v) => r.int(*v),
            None => r.null(),
        }
    }
}

/// Shared body of BITFIELD and BITFIELD_RO.
fn bitfield_generic(ctx: &mut Ctx<'_, '_>, args: Args<'_>, read_only: bool) -> CmdResult {
    let ops = parse_ops(ctx, args)?;
    let k = KeyRef::new(&args[1]);
    // The last bit any write touches; the string is grown (or created) to hold it first.
    let highest = ops.iter().filter(|op| op.kind != Kind::Get).map(|op| op.offset + u64::from(op.bits) - 1).max();
    let results: Vec<Option<i64>> = match highest {
        None => match lookup_read(ctx, &k) {
            None => ops.iter().map(|_| Some(0)).collect(),
            Some(e) => {
                let mut buf = itoa::Buffer::new();
                let p = as_str(e)?.bytes(&mut buf);
                ops.iter().map(|op| Some(read_op(p, op))).collect()
            }
        },
        Some(_) if read_only => {
            return Err(CmdError::Static("ERR BITFIELD_RO only supports the GET subcommand"));
        }
        Some(last) => with_raw(ctx, &k, bytes_for_bit(last), |v, dirty| {
            let mut changed = false;
            let results = ops
                .iter()
                .map(|op| {
                    if op.kind == Kind::Get {
                        return Some(read_op(v, op));
                    }
                    let (reply, ch) = write_op(v, op);
                    changed |= ch || (dirty && reply.is_some());
                    reply
                })
                .collect();
            (results, changed)
        })?,
    };
    if ops.iter().any(|op| op.kind != Kind::Get) {
        ctx.notify(larder_engine::notify::STRING, "setbit", k.key);
    }
    reply_all(ctx, &results);
    Ok(())
}

/// BITFIELD key [GET type offset | SET type offset value | INCRBY type offset increment |
/// OVERFLOW WRAP|SAT|FAIL] ...
pub fn bitfield(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset] ...
pub fn bitfield_ro(ctx: &mut Ctx<'_, '_>, args: Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types() {
        assert_eq!(field_type(b"i8"), Ok((true, 8)));
        assert_eq!(field_type(b"u63"), Ok((false, 63)));
        assert_eq!(field_type(b"i64"), Ok((true, 64)));
        assert_eq!(field_type(b"u1"), Ok((false, 1)));
        assert_eq!(field_type(b"u8\0junk"), Ok((false, 8)));
        for bad in [&b"u64"[..], b"i65", b"i0", b"u0", b"I8", b"U8", b"x8", b"", b"i", b"i-1", b"i08"] {
            assert!(field_type(bad).is_err(), "{bad:?}");
        }
    }

    fn op(kind: Kind, signed: bool, bits: u32, offset: u64, value: i64, overflow: Overflow) -> Op {
        Op { kind, signed, bits, offset, value, overflow }
    }

    #[test]
    fn writes_report_old_or_new_values() {
        let mut v = vec![0u8; 2];
        assert_eq!(write_op(&mut v, &op(Kind::Set, false, 8, 0, 255, Overflow::Wrap)), (Some(0), true));
        assert_eq!(v, [0xff, 0]);
        assert_eq!(write_op(&mut v, &op(Kind::Incr, false, 8, 0, 1, Overflow::Wrap)), (Some(0), true));
        assert_eq!(write_op(&mut v, &op(Kind::Incr, false, 8, 0, -1, Overflow::Sat)), (Some(0), false));
        assert_eq!(write_op(&mut v, &op(Kind::Incr, false, 8, 0, -1, Overflow::Fail)), (None, false));
        assert_eq!(write_op(&mut v, &op(Kind::Set, true, 8, 4, -1, Overflow::Wrap)), (Some(0), true));
        assert_eq!(v, [0x0f, 0xf0]);
        assert_eq!(read_op(&v, &op(Kind::Get, true, 8, 4, 0, Overflow::Wrap)), -1);
        assert_eq!(write_op(&mut v, &op(Kind::Incr, true, 8, 4, 200, Overflow::Sat)), (Some(127), true));
    }
}
