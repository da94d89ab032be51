//! C's `%.<p>g` number formatting, which Lua 5.1 uses for `tostring` (`%.14g`) and lua-cjson
//! for encoding numbers (`%.14g` by default).

/// Formats `n` as C's `printf("%.<precision>g", n)` does.
pub fn fmt_g(n: f64, precision: usize) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan".into() } else { "nan".into() };
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let p = precision.max(1);
    if n == 0.0 {
        return if n.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // The exponent after rounding to `p` significant digits decides the style.
    let sci = format!("{:.*e}", p - 1, n);
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (sci.clone(), 0),
    };
    if exp < -4 || exp >= p as i32 {
        let m = trim_zeros(&mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{n:.decimals$}")).to_string()
    }
}

/// Drops trailing zeros after a decimal point, and the point itself if nothing follows.
fn trim_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    let t = s.trim_end_matches('0');
    t.strip_suffix('.').unwrap_or(t)
}

/// Lua's `tostring` of a number (`%.14g`).
pub fn lua_number(n: f64) -> String {
    fmt_g(n, 14)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_c_printf() {
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(0.1, 14), "0.1");
        assert_eq!(fmt_g(1e20, 14), "1e+20");
        assert_eq!(fmt_g(1e14, 14), "1e+14");
        assert_eq!(fmt_g(99999999999999.0, 14), "99999999999999");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(std::f64::consts::PI, 14), "3.1415926535898");
        assert_eq!(fmt_g(-5000.0, 14), "-5000");
        assert_eq!(fmt_g(1023.2, 14), "1023.2");
        assert_eq!(fmt_g(-1099511627776.0, 14), "-1099511627776");
        assert_eq!(fmt_g(2f64.powi(53), 14), "9.007199254741e+15");
        assert_eq!(fmt_g(0.5, 1), "0.5");
        assert_eq!(fmt_g(f64::INFINITY, 14), "inf");
    }
}
