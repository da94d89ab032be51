//! Splitting a line into arguments the way Redis's `sdssplitargs` does.
//!
//! Used for inline requests and, by other crates, for configuration lines.
//! The rules (learned from Redis 7.2's `src/sds.c`, reimplemented here):
//!
//! - arguments are separated by blanks; leading blanks (C `isspace`: space,
//!   `\t`, `\n`, `\v`, `\f`, `\r`) are skipped, but only space, `\t`, `\n` and
//!   `\r` end an unquoted argument;
//! - `"double quotes"` understand `\n \r \t \b \a`, `\xHH` (two hex digits) and
//!   `\<any>` meaning that byte itself;
//! - `'single quotes'` understand only `\'`;
//! - a quote may start in the middle of an argument (`ab"c d"` is `abc d`);
//! - a closing quote must be followed by a blank or the end of the line;
//! - a NUL byte ends the line, as it ends the C string Redis splits.

/// Redis's `sdssplitargs`: splits `line` into arguments.
///
/// Double-quoted strings understand `\n`, `\r`, `\t`, `\b`, `\a`, `\\`, `\"`,
/// `\xHH` and `\<byte>` for any other byte; single-quoted strings understand
/// only `\'`. A closing quote must be followed by a blank or the end of the
/// line. Returns `None` on unbalanced quotes or a closing quote followed by
/// something else. An empty or all-blank line gives an empty vector.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut data = Vec::new();
    let mut spans = Vec::new();
    if !split_into(line, &mut data, &mut spans) {
        return None;
    }
    Some(spans.iter().map(|&(s, e)| data[s..e].to_vec()).collect())
}

/// C `isspace` in the "C" locale.
#[inline]
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Value of an ASCII hex digit, if it is one.
#[inline]
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits `line` like [`split_args`], appending the argument bytes to `data`
/// and one `(start, end)` range of `data` per argument to `spans`.
///
/// Neither vector is cleared first. Returns `false` on unbalanced quotes (the
/// vectors then hold a partial result the caller discards).
pub(crate) fn split_into(line: &[u8], data: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>) -> bool {
    // A NUL ends the C string sdssplitargs works on.
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let n = line.len();
    let mut i = 0;
    loop {
        while i < n && is_c_space(line[i]) {
            i += 1;
        }
        if i == n {
            return true;
        }
        let start = data.len();
        // Inside one argument: `Plain` until a quote opens.
        let mut in_double = false;
        let mut in_single = false;
        loop {
            if in_double {
                let Some(&b) = line.get(i) else {
                    return false; // unterminated quotes
                };
                if b == b'\\' {
                    let next = line.get(i + 1).copied();
                    let hex = match (next, line.get(i + 2), line.get(i + 3)) {
                        (Some(b'x'), Some(&h), Some(&l)) => hex_value(h).zip(hex_value(l)),
                        _ => None,
                    };
                    if let Some((h, l)) = hex {
                        data.push(h * 16 + l);
                        i += 4;
                    } else if let Some(c) = next {
                        data.push(match c {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                        i += 2;
                    } else {
                        // A lone backslash at the end: kept, then the
                        // missing closing quote is reported.
                        data.push(b'\\');
                        i += 1;
                    }
                } else if b == b'"' {
                    if line.get(i + 1).is_some_and(|&c| !is_c_space(c)) {
                        return false;
                    }
                    i += 1;
                    break;
                } else {
                    data.push(b);
                    i += 1;
                }
            } else if in_single {
                let Some(&b) = line.get(i) else {
                    return false; // unterminated quotes
                };
                if b == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    data.push(b'\'');
                    i += 2;
                } else if b == b'\'' {
                    if line.get(i + 1).is_some_and(|&c| !is_c_space(c)) {
                        return false;
                    }
                    i += 1;
                    break;
                } else {
                    data.push(b);
                    i += 1;
                }
            } else {
                match line.get(i) {
                    None => break,
                    Some(b' ' | b'\n' | b'\r' | b'\t') => {
                        i += 1;
                        break;
                    }
                    Some(b'"') => {
                        in_double = true;
                        i += 1;
                    }
                    Some(b'\'') => {
                        in_single = true;
                        i += 1;
                    }
                    Some(&b) => {
                        data.push(b);
                        i += 1;
                    }
                }
            }
        }
        spans.push((start, data.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(s: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_args(s)
    }

    fn v(items: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        Some(items.iter().map(|s| s.to_vec()).collect())
    }

    #[test]
    fn plain_words() {
        assert_eq!(split(b"set key value"), v(&[b"set", b"key", b"value"]));
        assert_eq!(split(b"  get   k  "), v(&[b"get", b"k"]));
        assert_eq!(split(b"a\tb\r\nc"), v(&[b"a", b"b", b"c"]));
    }

    #[test]
    fn empty_and_blank() {
        assert_eq!(split(b""), v(&[]));
        assert_eq!(split(b"   \t \x0b\x0c "), v(&[]));
    }

    #[test]
    fn vertical_tab_is_skipped_but_does_not_end_a_word() {
        // isspace() skips \v and \f before a word, but the word loop only
        // stops at space, \t, \n, \r.
        assert_eq!(split(b"\x0ba\x0bb c"), v(&[b"a\x0bb", b"c"]));
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(split(b"\"hello world\""), v(&[b"hello world"]));
        assert_eq!(split(b"\"a\\nb\\rc\\td\\be\\af\\\\g\\\"h\\zi\""), v(&[b"a\nb\rc\td\x08e\x07f\\g\"hzi"]));
        assert_eq!(split(b"\"\\x41\\xff\\x00z\""), v(&[b"A\xff\x00z"]));
        // \x without two hex digits is just 'x'.
        assert_eq!(split(b"\"\\x4g\""), v(&[b"x4g"]));
        assert_eq!(split(b"\"\\x\""), v(&[b"x"]));
        assert_eq!(split(b"\"\""), v(&[b""]));
        assert_eq!(split(b"a \"\" b"), v(&[b"a", b"", b"b"]));
    }

    #[test]
    fn single_quotes() {
        assert_eq!(split(b"'a b'"), v(&[b"a b"]));
        assert_eq!(split(b"'it\\'s'"), v(&[b"it's"]));
        assert_eq!(split(b"'a\\nb'"), v(&[b"a\\nb"]));
        assert_eq!(split(b"'\"'"), v(&[b"\""]));
        assert_eq!(split(b"\"'\""), v(&[b"'"]));
    }

    #[test]
    fn quote_inside_a_word() {
        assert_eq!(split(b"ab\"c d\" e"), v(&[b"abc d", b"e"]));
        assert_eq!(split(b"x'y z'"), v(&[b"xy z"]));
    }

    #[test]
    fn unbalanced_and_bad_closing_quotes() {
        assert_eq!(split(b"\"abc"), None);
        assert_eq!(split(b"'abc"), None);
        assert_eq!(split(b"\"abc\"def"), None);
        assert_eq!(split(b"'abc'def"), None);
        assert_eq!(split(b"\"abc\\"), None);
        assert_eq!(split(b"\"abc\\\""), None);
        assert_eq!(split(b"'abc\\'"), None);
        // A closing quote followed by a blank (any isspace) is fine.
        assert_eq!(split(b"\"a\"\x0bb"), v(&[b"a", b"b"]));
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(split(b"a b\x00c d"), v(&[b"a", b"b"]));
        assert_eq!(split(b"\"a\x00\""), None);
    }

    #[test]
    fn high_bytes_are_ordinary() {
        assert_eq!(split(b"\xff\xfe \xa0"), v(&[b"\xff\xfe", b"\xa0"]));
    }
}
