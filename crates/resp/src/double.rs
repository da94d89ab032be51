//! Formatting doubles exactly as Redis 7.2 replies with them.
//!
//! Redis 7.2's `addReplyDouble` formats with `d2string` (`src/util.c`):
//! `nan`, `inf`, `-inf`, `0`, `-0`; an integral value within ±2^62 as an
//! integer; anything else with `fpconv_dtoa` (`deps/fpconv`), which runs
//! Florian Loitsch's Grisu2 algorithm ("Printing Floating-Point Numbers
//! Quickly and Accurately with Integers", PLDI 2010) on 64-bit numbers and
//! prints the digits in one of three layouts (see [`layout`]).
//!
//! Grisu2 always round-trips but, in rare cases, prints a digit more than the
//! shortest form, or a last digit one off from the closest. To reply with the
//! very same bytes as Redis, this module implements Grisu2 with the same
//! choices: the same table of powers of ten (10^-348 to 10^340 in steps of
//! 8, each rounded to nearest; regenerate with the script in
//! [`CACHED_POW10`]'s comment), the same first guess when picking one, and
//! the same narrowing of the boundaries and last-digit correction.

/// `2^62`: integral doubles up to this magnitude print as integers.
const INTEGER_LIMIT: f64 = 4_611_686_018_427_387_904.0;

/// Formats `v` the way Redis 7.2 replies with a double (`addReplyDouble`):
/// the shortest-or-nearly digits Grisu2 finds, `inf`, `-inf` and `nan`.
///
/// Examples: `0`, `-0`, `1`, `1.5`, `0.1`, `1e+21`, `1e-7`, `0.00003`,
/// `123456789012345680`.
pub fn format_double(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
    } else if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
    } else if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
    } else if v.fract() == 0.0 && (-INTEGER_LIMIT..=INTEGER_LIMIT).contains(&v) {
        // Exact: |v| <= 2^62 and integral.
        let mut digits = itoa::Buffer::new();
        out.extend_from_slice(digits.format(v as i64).as_bytes());
    } else {
        if v.is_sign_negative() {
            out.push(b'-');
        }
        let mut digits = [0u8; 32];
        let (n, k) = grisu2(v.abs(), &mut digits);
        layout(&digits[..n], k, v.is_sign_negative(), out);
    }
}

/// A floating-point number `f × 2^e` with a 64-bit significand.
#[derive(Clone, Copy, Debug)]
struct Fp {
    f: u64,
    e: i32,
}

impl Fp {
    /// Shifts the significand left until its top bit is set.
    fn normalized(self) -> Fp {
        let shift = self.f.leading_zeros();
        Fp { f: self.f << shift, e: self.e - shift as i32 }
    }

    /// The product, keeping the upper 64 bits of the significand, rounded
    /// half up.
    fn times(self, other: Fp) -> Fp {
        let p = u128::from(self.f) * u128::from(other.f) + (1u128 << 63);
        Fp { f: (p >> 64) as u64, e: self.e + other.e + 64 }
    }
}

/// Powers of ten `10^(-348 + 8i)` as `(f, e)` with `f × 2^e` the power
/// rounded to nearest and `2^63 <= f < 2^64`. Generated with:
///
/// ```text
/// from fractions import Fraction
/// for k in range(-348, 341, 8):
///     v = Fraction(10) ** k
///     e = v.numerator.bit_length() - v.denominator.bit_length() - 64
///     while v / Fraction(2) ** e >= 2 ** 64: e += 1
///     while v / Fraction(2) ** e < 2 ** 63: e -= 1
///     q = v / Fraction(2) ** e; f = q.numerator // q.denominator
///     if q - f >= Fraction(1, 2): f += 1
///     print(f"(0x{f:016x}, {e}), // 10^{k}")
/// ```
#[rustfmt::skip]
const CACHED_POW10: [(u64, i32); 87] = [
    (0xfa8fd5a0081c0288, -1220), // 10^-348
    (0xbaaee17fa23ebf76, -1193), // 10^-340
    (0x8b16fb203055ac76, -1166), // 10^-332
    (0xcf42894a5dce35ea, -1140), // 10^-324
    (0x9a6bb0aa55653b2d, -1113), // 10^-316
    (0xe61acf033d1a45df, -1087), // 10^-308
    (0xab70fe17c79ac6ca, -1060), // 10^-300
    (0xff77b1fcbebcdc4f, -1034), // 10^-292
    (0xbe5691ef416bd60c, -1007), // 10^-284
    (0x8dd01fad907ffc3c, -980), // 10^-276
    (0xd3515c2831559a83, -954), // 10^-268
    (0x9d71ac8fada6c9b5, -927), // 10^-260
    (0xea9c227723ee8bcb, -901), // 10^-252
    (0xaecc49914078536d, -874), // 10^-244
    (0x823c12795db6ce57, -847), // 10^-236
    (0xc21094364dfb5637, -821), // 10^-228
    (0x9096ea6f3848984f, -794), // 10^-220
    (0xd77485cb25823ac7, -768), // 10^-212
    (0xa086cfcd97bf97f4, -741), // 10^-204
    (0xef340a98172aace5, -715), // 10^-196
    (0xb23867fb2a35b28e, -688), // 10^-188
    (0x84c8d4dfd2c63f3b, -661), // 10^-180
    (0xc5dd44271ad3cdba, -635), // 10^-172
    (0x936b9fcebb25c996, -608), // 10^-164
    (0xdbac6c247d62a584, -582), // 10^-156
    (0xa3ab66580d5fdaf6, -555), // 10^-148
    (0xf3e2f893dec3f126, -529), // 10^-140
    (0xb5b5ada8aaff80b8, -502), // 10^-132
    (0x87625f056c7c4a8b, -475), // 10^-124
    (0xc9bcff6034c13053, -449), // 10^-116
    (0x964e858c91ba2655, -422), // 10^-108
    (0xdff9772470297ebd, -396), // 10^-100
    (0xa6dfbd9fb8e5b88f, -369), // 10^-92
    (0xf8a95fcf88747d94, -343), // 10^-84
    (0xb94470938fa89bcf, -316), // 10^-76
    (0x8a08f0f8bf0f156b, -289), // 10^-68
    (0xcdb02555653131b6, -263), // 10^-60
    (0x993fe2c6d07b7fac, -236), // 10^-52
    (0xe45c10c42a2b3b06, -210), // 10^-44
    (0xaa242499697392d3, -183), // 10^-36
    (0xfd87b5f28300ca0e, -157), // 10^-28
    (0xbce5086492111aeb, -130), // 10^-20
    (0x8cbccc096f5088cc, -103), // 10^-12
    (0xd1b71758e219652c, -77), // 10^-4
    (0x9c40000000000000, -50), // 10^4
    (0xe8d4a51000000000, -24), // 10^12
    (0xad78ebc5ac620000, 3), // 10^20
    (0x813f3978f8940984, 30), // 10^28
    (0xc097ce7bc90715b3, 56), // 10^36
    (0x8f7e32ce7bea5c70, 83), // 10^44
    (0xd5d238a4abe98068, 109), // 10^52
    (0x9f4f2726179a2245, 136), // 10^60
    (0xed63a231d4c4fb27, 162), // 10^68
    (0xb0de65388cc8ada8, 189), // 10^76
    (0x83c7088e1aab65db, 216), // 10^84
    (0xc45d1df942711d9a, 242), // 10^92
    (0x924d692ca61be758, 269), // 10^100
    (0xda01ee641a708dea, 295), // 10^108
    (0xa26da3999aef774a, 322), // 10^116
    (0xf209787bb47d6b85, 348), // 10^124
    (0xb454e4a179dd1877, 375), // 10^132
    (0x865b86925b9bc5c2, 402), // 10^140
    (0xc83553c5c8965d3d, 428), // 10^148
    (0x952ab45cfa97a0b3, 455), // 10^156
    (0xde469fbd99a05fe3, 481), // 10^164
    (0xa59bc234db398c25, 508), // 10^172
    (0xf6c69a72a3989f5c, 534), // 10^180
    (0xb7dcbf5354e9bece, 561), // 10^188
    (0x88fcf317f22241e2, 588), // 10^196
    (0xcc20ce9bd35c78a5, 614), // 10^204
    (0x98165af37b2153df, 641), // 10^212
    (0xe2a0b5dc971f303a, 667), // 10^220
    (0xa8d9d1535ce3b396, 694), // 10^228
    (0xfb9b7cd9a4a7443c, 720), // 10^236
    (0xbb764c4ca7a44410, 747), // 10^244
    (0x8bab8eefb6409c1a, 774), // 10^252
    (0xd01fef10a657842c, 800), // 10^260
    (0x9b10a4e5e9913129, 827), // 10^268
    (0xe7109bfba19c0c9d, 853), // 10^276
    (0xac2820d9623bf429, 880), // 10^284
    (0x80444b5e7aa7cf85, 907), // 10^292
    (0xbf21e44003acdd2d, 933), // 10^300
    (0x8e679c2f5e44ff8f, 960), // 10^308
    (0xd433179d9c8cb841, 986), // 10^316
    (0x9e19db92b4e31ba9, 1013), // 10^324
    (0xeb96bf6ebadf77d9, 1039), // 10^332
    (0xaf87023b9bf0ee6b, 1066), // 10^340
];

/// Decimal exponent of `CACHED_POW10[0]`.
const FIRST_POW10: i32 = -348;
/// Decimal exponent step between entries of `CACHED_POW10`.
const POW10_STEP: i32 = 8;

/// Picks the cached power `10^k` that brings a number with binary exponent
/// `e` into the range where digit generation works (product exponent in
/// -60..=-32). Returns the power and `k`.
///
/// Two entries can qualify; which one is used shows in the last digit of
/// some results, so the search starts from the same first guess as
/// fpconv's (derived from `(e + 87) × log10(2)`, truncated toward zero as C
/// converts) and moves the same way.
fn cached_power(e: i32) -> (Fp, i32) {
    const LOG10_2: f64 = 0.301_029_995_663_981_14;
    let guess = (f64::from(-(e + 87)) * LOG10_2) as i32;
    let last = CACHED_POW10.len() as i32 - 1;
    let mut idx = (guess - FIRST_POW10) / POW10_STEP;
    loop {
        let i = idx.clamp(0, last);
        let (f, pe) = CACHED_POW10[i as usize];
        let exp = e + pe + 64;
        if exp < -60 && i < last {
            idx = i + 1;
        } else if exp > -32 && i > 0 {
            idx = i - 1;
        } else {
            return (Fp { f, e: pe }, FIRST_POW10 + i * POW10_STEP);
        }
    }
}

/// Grisu2 on a positive finite nonzero `v`: writes decimal digits to
/// `digits` and returns `(count, k)` with `v ≈ digits × 10^k`.
fn grisu2(v: f64, digits: &mut [u8; 32]) -> (usize, i32) {
    const HIDDEN: u64 = 1 << 52;
    let bits = v.to_bits();
    let mantissa = bits & (HIDDEN - 1);
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let w = if biased == 0 { Fp { f: mantissa, e: -1074 } } else { Fp { f: mantissa | HIDDEN, e: biased - 1075 } };

    // The rounding interval: halfway to each neighbour. Below a power of
    // two (significand exactly the hidden bit) the lower gap is half as big.
    let upper = Fp { f: (w.f << 1) + 1, e: w.e - 1 }.normalized();
    let (lf, le) = if w.f == HIDDEN { ((w.f << 2) - 1, w.e - 2) } else { ((w.f << 1) - 1, w.e - 1) };
    let lower = Fp { f: lf << (le - upper.e), e: upper.e };

    let (pow, k) = cached_power(upper.e);
    let scaled = w.normalized().times(pow);
    let mut upper = upper.times(pow);
    let mut lower = lower.times(pow);
    // Products may be off by one unit: shrink the interval to stay inside.
    lower.f += 1;
    upper.f -= 1;
    generate_digits(scaled, upper, lower, -k, digits)
}

/// Generates the digits of `upper` until what remains fits in the interval
/// `[lower, upper]`, then nudges the last digit toward `w`. Returns the digit
/// count and the decimal exponent.
fn generate_digits(w: Fp, upper: Fp, lower: Fp, mut k: i32, digits: &mut [u8; 32]) -> (usize, i32) {
    let mut n = 0usize;
    let push = |digits: &mut [u8; 32], n: &mut usize, d: u64| {
        if (d != 0 || *n != 0) && *n < digits.len() {
            digits[*n] = b'0' + d as u8;
            *n += 1;
        }
    };
    let distance = upper.f - w.f;
    let mut delta = upper.f - lower.f;
    let shift = (-upper.e) as u32;
    let one = 1u64 << shift;
    let mut integral = upper.f >> shift;
    let mut fraction = upper.f & (one - 1);

    // Integral part: at most 10 digits (integral < 2^32).
    let mut kappa = 10;
    let mut div = 1_000_000_000u64;
    while kappa > 0 {
        let d = integral / div;
        push(digits, &mut n, d);
        integral -= d * div;
        kappa -= 1;
        let rest = (integral << shift) + fraction;
        if rest <= delta {
            k += kappa;
            round_last(&mut digits[..n], delta, rest, div << shift, distance);
            return (n, k);
        }
        div /= 10;
    }

    // Fractional part.
    let mut unit = 10u64;
    loop {
        fraction = fraction.wrapping_mul(10);
        delta = delta.wrapping_mul(10);
        kappa -= 1;
        push(digits, &mut n, fraction >> shift);
        fraction &= one - 1;
        if fraction < delta {
            k += kappa;
            round_last(&mut digits[..n], delta, fraction, one, distance.wrapping_mul(unit));
            return (n, k);
        }
        unit = unit.wrapping_mul(10);
    }
}

/// Lowers the last digit while that keeps the number inside the interval
/// and brings it closer to the exact value (`rest`: what the digits leave
/// over; `ten_kappa`: one unit of the last digit; `distance`: from the upper
/// bound to the exact value).
fn round_last(digits: &mut [u8], delta: u64, mut rest: u64, ten_kappa: u64, distance: u64) {
    let Some(last) = digits.last_mut() else {
        return;
    };
    while rest < distance
        && delta - rest >= ten_kappa
        && (rest.wrapping_add(ten_kappa) < distance
            || distance - rest > rest.wrapping_add(ten_kappa).wrapping_sub(distance))
    {
        *last = last.wrapping_sub(1);
        rest = rest.wrapping_add(ten_kappa);
    }
}

/// Writes `digits × 10^k` as fpconv does: a plain integer when the exponent
/// is small enough, a plain decimal for moderately small numbers, otherwise
/// scientific notation (`d.ddde±x`, no leading zeros in the exponent).
fn layout(digits: &[u8], k: i32, negative: bool, out: &mut Vec<u8>) {
    let n = digits.len() as i32;
    let exp = (k + n - 1).abs();

    if k >= 0 && exp < n + 7 {
        // 1234500000
        out.extend_from_slice(digits);
        out.resize(out.len() + k as usize, b'0');
        return;
    }

    if k < 0 && (k > -7 || exp < 4) {
        let int_len = n + k;
        if int_len <= 0 {
            // 0.000123
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-int_len) as usize, b'0');
            out.extend_from_slice(digits);
        } else {
            // 12.345
            let (int, frac) = digits.split_at(int_len as usize);
            out.extend_from_slice(int);
            out.push(b'.');
            out.extend_from_slice(frac);
        }
        return;
    }

    // 1.2345e+21, 1e-7
    let max = if negative { 17 } else { 18 };
    let digits = &digits[..digits.len().min(max)];
    let n = digits.len() as i32;
    let Some(&first) = digits.first() else {
        out.push(b'0'); // unreachable: Grisu2 yields a digit for any v != 0
        return;
    };
    out.push(first);
    if digits.len() > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..]);
    }
    out.push(b'e');
    out.push(if k + n - 1 < 0 { b'-' } else { b'+' });
    let mut text = itoa::Buffer::new();
    out.extend_from_slice(text.format(exp).as_bytes());
}

#[cfg(test)]
mod tests;
