//! Number parsing and formatting with Redis's exact strictness and output forms.
//!
//! - [`parse_i64`] / [`parse_u64`]: Redis `string2ll` (what every integer argument and every
//!   integer-encoded string value goes through).
//! - [`parse_f64`]: Redis `string2ld` / `string2d` (`INCRBYFLOAT`, `HINCRBYFLOAT`, `ZADD`, ...).
//! - [`format_incrbyfloat`]: how `INCRBYFLOAT` prints its result (`ld2string` "human" mode).
//! - [`parse_memory`] / [`human_bytes`]: `memtoull` (config sizes such as `maxmemory 1gb`) and
//!   `bytesToHuman` (the `*_human` fields of `INFO`).

use std::io::Write as _;

/// Longest integer `string2ll` accepts, in bytes (`LONG_STR_SIZE - 1`).
const MAX_INT_LEN: usize = 20;

/// Longest float string `string2ld` accepts, in bytes (`MAX_LONG_DOUBLE_CHARS - 1`).
const MAX_FLOAT_LEN: usize = 5 * 1024 - 1;

/// Fraction digits `INCRBYFLOAT` prints at most (`"%.17Lf"`).
const INCRBYFLOAT_FRACTION_DIGITS: usize = 17;

/// Magnitude of an optional `-` followed by decimal digits, with `string2ll`'s strictness:
/// 1..=20 bytes, no `+`, no spaces, no leading zero except the number `0` itself.
/// Returns `(negative, magnitude)`, `None` when malformed or above `u64::MAX`.
fn parse_strict_digits(s: &[u8]) -> Option<(bool, u64)> {
    if s.is_empty() || s.len() > MAX_INT_LEN {
        return None;
    }
    if s == b"0" {
        return Some((false, 0));
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some((negative, v))
}

/// Parses a signed 64-bit integer exactly as Redis `string2ll` does: an optional `-`, then
/// digits with no leading zero (except `"0"`), nothing else (no `+`, no spaces), 1 to 20
/// bytes in all. `None` when malformed or out of range (`"-0"` is rejected too).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (negative, v) = parse_strict_digits(s)?;
    if negative {
        // `0u64.wrapping_neg()` is 0, and i64::MIN's magnitude is exactly 2^63.
        (v <= 1u64 << 63).then(|| v.wrapping_neg() as i64)
    } else {
        i64::try_from(v).ok()
    }
}

/// Parses an unsigned 64-bit integer with the same strictness as [`parse_i64`] and no sign
/// at all: digits only, no leading zero (except `"0"`), 1 to 20 bytes, at most `u64::MAX`.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    match parse_strict_digits(s)? {
        (false, v) => Some(v),
        (true, _) => None,
    }
}

/// Parses a floating-point number as Redis `string2ld` (`INCRBYFLOAT`) and `string2d`
/// (`ZADD`, `ZINCRBY`, ...) do: the whole string must be a `strtod` number (`1e5`, `.5`, `5.`,
/// `+1.5`, `-2E-3`), with no leading or trailing whitespace.
///
/// - `inf`, `infinity` (any case, optionally signed) give an infinite value; callers decide
///   whether that is allowed. `nan` in any form is rejected.
/// - A finite literal too large for `f64` (`1e400`) is rejected, as is a non-zero literal
///   that underflows to zero (`1e-400`): `strtod` reports both as `ERANGE`.
/// - Hexadecimal floats (`0x1p3`) are rejected (glibc `strtod` would accept them).
/// - Strings of 5120 bytes or more are rejected (`MAX_LONG_DOUBLE_CHARS`).
///
/// Redis's `INCRBYFLOAT` parses into an 80-bit `long double`, whose range is wider than
/// `f64`'s; literals between ~1.8e308 and ~1.2e4932 (or tiny ones) that Redis accepts there are
/// rejected here.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() > MAX_FLOAT_LEN {
        return None;
    }
    // Rust's grammar is strtod's minus whitespace and hex: `[+-]? (digits [. digits] | .
    // digits) ([eE] [+-]? digits)?` or `inf` / `infinity` / `nan`, case-insensitive.
    let text = std::str::from_utf8(s).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    let unsigned = s.strip_prefix(b"+").or_else(|| s.strip_prefix(b"-")).unwrap_or(s);
    let is_inf_literal = matches!(unsigned.first(), Some(b'i' | b'I'));
    if v.is_infinite() && !is_inf_literal {
        return None; // overflow
    }
    if v == 0.0 {
        let mantissa = unsigned.split(|&b| b == b'e' || b == b'E').next().unwrap_or(&[]);
        if mantissa.iter().any(|&b| (b'1'..=b'9').contains(&b)) {
            return None; // underflow of a non-zero literal
        }
    }
    Some(v)
}

/// Appends `v` the way `INCRBYFLOAT` / `HINCRBYFLOAT` print a result: plain positional
/// notation (never an exponent), no trailing zeros, no trailing `.`, `-0` printed as `0`,
/// and at most 17 digits after the point (smaller magnitudes round to `0`).
/// Infinities print as `inf` / `-inf` and NaN as `nan` (Redis's `ld2string` forms).
///
/// Difference from Redis: Redis computes in an 80-bit `long double` and prints with
/// `"%.17Lf"`; its 64-bit mantissa makes sums like `10.5 + 0.1` come out as `10.6`. Larder
/// computes in `f64`, where `"%.17f"` would print `10.59999999999999964`, so it prints the
/// shortest decimal that reads back as the same `f64` instead (Rust's `Display`), capped to 17
/// fraction digits as Redis's format is. For results Redis and Larder compute identically the
/// text usually agrees; it can differ in the last digits when the long double sum and the f64
/// sum round differently (values with more than ~15-17 significant digits).
pub fn format_incrbyfloat(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    let start = out.len();
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{v}");
    let fraction_len = out[start..].iter().position(|&b| b == b'.').map_or(0, |dot| out.len() - start - dot - 1);
    if fraction_len > INCRBYFLOAT_FRACTION_DIGITS {
        out.truncate(start);
        let _ = write!(out, "{v:.prec$}", prec = INCRBYFLOAT_FRACTION_DIGITS);
        while out.last() == Some(&b'0') {
            out.pop();
        }
        if out.last() == Some(&b'.') {
            out.pop();
        }
    }
    if &out[start..] == b"-0" {
        out.truncate(start);
        out.push(b'0');
    }
}

/// Appends the decimal form of `v` (as Redis `ll2string`).
pub fn format_i64(v: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Parses a memory size as Redis `memtoull` does for config directives (`maxmemory 1gb`):
/// decimal digits followed by nothing or one unit, case-insensitive: `b` (1), `k` (1000),
/// `kb` (1024), `m` (1000²), `mb` (1024²), `g` (1000³), `gb` (1024³).
///
/// Leading zeros are allowed; a sign, spaces, fractions or any other suffix give `None`, as
/// does a result above `u64::MAX` (Redis silently wraps there). As in Redis, a missing number
/// reads as zero: `""` and `"gb"` both give `Some(0)`.
pub fn parse_memory(s: &[u8]) -> Option<u64> {
    let split = s.iter().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    // 128-byte buffer in Redis, so at most 127 digits (leading zeros included).
    if digits.len() >= 128 {
        return None;
    }
    const UNITS: [(&[u8], u64); 8] = [
        (b"", 1),
        (b"b", 1),
        (b"k", 1000),
        (b"kb", 1024),
        (b"m", 1000 * 1000),
        (b"mb", 1024 * 1024),
        (b"g", 1000 * 1000 * 1000),
        (b"gb", 1024 * 1024 * 1024),
    ];
    let (_, multiplier) = UNITS.iter().find(|(name, _)| name.eq_ignore_ascii_case(unit))?;
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    v.checked_mul(*multiplier)
}

/// Formats a byte count the way Redis `INFO` does for its `*_human` fields
/// (`bytesToHuman`): below 1024 as `"<n>B"`, then two decimals with binary units `K`, `M`,
/// `G`, `T`, `P` (`"1.00K"`, `"1.50M"`), and from 1024⁶ on as `"<n>B"` again.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [char; 5] = ['K', 'M', 'G', 'T', 'P'];
    let mut limit: u64 = 1024;
    if n < limit {
        return format!("{n}B");
    }
    for unit in UNITS {
        let divisor = limit;
        limit = limit.saturating_mul(1024);
        if n < limit {
            return format!("{:.2}{unit}", n as f64 / divisor as f64);
        }
    }
    format!("{n}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_accepts_canonical_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"1"), Some(1));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"99"), Some(99));
        assert_eq!(parse_i64(b"-99"), Some(-99));
        assert_eq!(parse_i64(b"1234567890"), Some(1_234_567_890));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    }

    #[test]
    fn parse_i64_is_strict() {
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"-01",
            b"00",
            b"-0",
            b"1.0",
            b"1e3",
            b"0x10",
            b"--1",
            b"1-",
            b"abc",
            b"12a",
            b"\x001",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"99999999999999999999",
            b"-99999999999999999999",
            b"100000000000000000000",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn parse_u64_is_strict() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"42"), Some(42));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"9223372036854775808"), Some(1 << 63));
        for bad in [&b""[..], b"-1", b"-0", b"+1", b"01", b" 1", b"1 ", b"18446744073709551616"] {
            assert_eq!(parse_u64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn parse_f64_accepts_strtod_forms() {
        assert_eq!(parse_f64(b"1"), Some(1.0));
        assert_eq!(parse_f64(b"-1.5"), Some(-1.5));
        assert_eq!(parse_f64(b"+1.5"), Some(1.5));
        assert_eq!(parse_f64(b"1e5"), Some(1e5));
        assert_eq!(parse_f64(b"1E+5"), Some(1e5));
        assert_eq!(parse_f64(b"2.5e-3"), Some(2.5e-3));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"5."), Some(5.0));
        assert_eq!(parse_f64(b"007"), Some(7.0));
        assert_eq!(parse_f64(b"0"), Some(0.0));
        assert_eq!(parse_f64(b"-0"), Some(0.0));
        assert_eq!(parse_f64(b"0e500"), Some(0.0));
        assert_eq!(parse_f64(b"0.000"), Some(0.0));
        assert_eq!(parse_f64(b"10.5"), Some(10.5));
        assert_eq!(parse_f64(b"1.7976931348623157e308"), Some(f64::MAX));
        assert_eq!(parse_f64(b"5e-324"), Some(5e-324));
    }

    #[test]
    fn parse_f64_infinities() {
        for inf in [&b"inf"[..], b"+inf", b"INF", b"Infinity", b"+infinity", b"iNfInItY"] {
            assert_eq!(parse_f64(inf), Some(f64::INFINITY));
        }
        for inf in [&b"-inf"[..], b"-INF", b"-Infinity"] {
            assert_eq!(parse_f64(inf), Some(f64::NEG_INFINITY));
        }
    }

    #[test]
    fn parse_f64_rejects() {
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"\t1",
            b"1\n",
            b".",
            b"-",
            b"+",
            b"e5",
            b"1e",
            b"1e+",
            b"--1",
            b"+-1",
            b"1.5.",
            b"abc",
            b"nan",
            b"NaN",
            b"-nan",
            b"infin",
            b"infinityx",
            b"0x10",
            b"0x1p3",
            b"1,5",
            b"1_0",
            b"1\x00",
            b"\xff",
            b"1e400",
            b"-1e400",
            b"1e-400",
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        let long = vec![b'1'; 5120];
        assert_eq!(parse_f64(&long), None);
        let ok = vec![b'1'; 300];
        assert!(parse_f64(&ok).is_some());
    }

    fn incr_text(v: f64) -> String {
        let mut out = b"prefix:".to_vec();
        format_incrbyfloat(v, &mut out);
        String::from_utf8(out[7..].to_vec()).unwrap()
    }

    #[test]
    fn format_incrbyfloat_forms() {
        assert_eq!(incr_text(10.5 + 0.1), "10.6");
        assert_eq!(incr_text(1e20), "100000000000000000000");
        assert_eq!(incr_text(5.0e3), "5000");
        assert_eq!(incr_text(1.5e-5), "0.000015");
        assert_eq!(incr_text(0.0), "0");
        assert_eq!(incr_text(-0.0), "0");
        assert_eq!(incr_text(3.0), "3");
        assert_eq!(incr_text(-3.25), "-3.25");
        assert_eq!(incr_text(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(incr_text(5.0e-15), "0.000000000000005");
        assert_eq!(incr_text(1.23e-17), "0.00000000000000001");
        assert_eq!(incr_text(1e-20), "0");
        assert_eq!(incr_text(-1e-20), "0");
        assert_eq!(incr_text(1.234_567_890_123_456_7e-5), "0.00001234567890123");
        assert_eq!(incr_text(f64::MAX).len(), 309);
        assert_eq!(incr_text(f64::INFINITY), "inf");
        assert_eq!(incr_text(f64::NEG_INFINITY), "-inf");
        assert_eq!(incr_text(f64::NAN), "nan");
        assert!(!incr_text(-1.5e300).contains('e'));
    }

    #[test]
    fn format_i64_appends() {
        let mut out = b"x".to_vec();
        format_i64(i64::MIN, &mut out);
        assert_eq!(out, b"x-9223372036854775808");
        out.clear();
        format_i64(0, &mut out);
        assert_eq!(out, b"0");
    }

    #[test]
    fn parse_memory_units() {
        assert_eq!(parse_memory(b"0"), Some(0));
        assert_eq!(parse_memory(b"100"), Some(100));
        assert_eq!(parse_memory(b"100b"), Some(100));
        assert_eq!(parse_memory(b"1k"), Some(1000));
        assert_eq!(parse_memory(b"1K"), Some(1000));
        assert_eq!(parse_memory(b"1kb"), Some(1024));
        assert_eq!(parse_memory(b"1KB"), Some(1024));
        assert_eq!(parse_memory(b"1kB"), Some(1024));
        assert_eq!(parse_memory(b"2m"), Some(2_000_000));
        assert_eq!(parse_memory(b"2mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory(b"1g"), Some(1_000_000_000));
        assert_eq!(parse_memory(b"1gb"), Some(1 << 30));
        assert_eq!(parse_memory(b"1GB"), Some(1 << 30));
        assert_eq!(parse_memory(b"0100mb"), Some(100 << 20));
        assert_eq!(parse_memory(b"18446744073709551615"), Some(u64::MAX));
        // Redis reads a missing number as zero.
        assert_eq!(parse_memory(b""), Some(0));
        assert_eq!(parse_memory(b"gb"), Some(0));
    }

    #[test]
    fn parse_memory_rejects() {
        for bad in [
            &b"-1"[..],
            b"-1gb",
            b"+1",
            b" 1",
            b"1 ",
            b"1 gb",
            b"1.5gb",
            b"1t",
            b"1tb",
            b"1gib",
            b"1gbb",
            b"1bk",
            b"abc",
            b"1x",
            b"18446744073709551616",
            b"18446744073709551615k",
            b"17179869184gb",
        ] {
            assert_eq!(parse_memory(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_memory(&[b'0'; 127]), Some(0));
        assert_eq!(parse_memory(&[b'0'; 128]), None);
    }

    #[test]
    fn human_bytes_thresholds() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1024), "1.00K");
        assert_eq!(human_bytes(1536), "1.50K");
        assert_eq!(human_bytes(1152), "1.12K", "ties round to even, like printf");
        assert_eq!(human_bytes(1024 * 1024 - 1), "1024.00K");
        assert_eq!(human_bytes(1024 * 1024), "1.00M");
        assert_eq!(human_bytes(3 * 512 * 1024), "1.50M");
        assert_eq!(human_bytes(2 << 30), "2.00G");
        assert_eq!(human_bytes(3 << 40), "3.00T");
        assert_eq!(human_bytes(1 << 50), "1.00P");
        assert_eq!(human_bytes((1 << 60) - 1), "1024.00P");
        assert_eq!(human_bytes(1 << 60), "1152921504606846976B");
        assert_eq!(human_bytes(u64::MAX), "18446744073709551615B");
    }
}
