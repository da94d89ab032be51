//! Glob-style pattern matching as Redis 7.2 does it (`KEYS`, `SCAN MATCH`, `PSUBSCRIBE`,
//! ACL key and channel patterns, `CONFIG GET`, `COMMAND LIST FILTERBY PATTERN`).
//!
//! The syntax:
//! - `*` matches any run of bytes, `?` exactly one byte;
//! - `[abc]` one byte of the set, `[^abc]` one byte not in it, `[a-z]` a range (the ends may
//!   be given in either order), `\x` inside a class is the literal byte `x`;
//! - `\x` outside a class is the literal byte `x`; a lone `\` at the end of the pattern is a
//!   literal backslash;
//! - an unterminated class (`[abc` at the end of the pattern) ends where the pattern ends.
//!
//! Quirks kept on purpose because they are observable through Redis commands:
//! - The empty string matches only the empty pattern: `*` does **not** match `""`. Redis's own
//!   callers (`KEYS *`, `SCAN` without `MATCH`) short-circuit the pattern `*` before matching;
//!   callers here should do the same where Redis does.
//! - With `nocase`, a byte escaped inside a class (`[\A]`) is still compared case-sensitively,
//!   and a range is folded to lower case only after its ends are ordered (`[Z-a]` matches
//!   nothing when case-insensitive).
//! - Range ends and the tested byte are compared as C `char`, which is signed on x86-64 (the
//!   platform Redis is built for almost everywhere): bytes `0x80..=0xFF` sort *below* `0x00`.
//!   So `[a-\xE9]` covers `0xE9..=0xFF` and `0x00..=0x61`, exactly as an x86-64 Redis does.
//! - Case folding is ASCII only (`tolower` in the C locale). In a case-insensitive range,
//!   glibc's `tolower` also turns the negative `char` values of bytes `0x80..=0xFE` back into
//!   128..=254 (but leaves `0xFF` as -1) *after* the ends were ordered as signed values; that
//!   is reproduced too, so even odd ranges such as `[a-\xE9]` with `nocase` agree with Redis.
//!
//! Protection against pathological patterns follows Redis 7.2.x: a `*` nested more than 1000
//! levels deep fails the match, and once the rest of the pattern after a `*` is known not to
//! match anywhere in the remaining text, every enclosing `*` gives up too (no backtracking to
//! longer matches). Both keep every match close to linear in practice.

/// Deepest `*` nesting Redis explores before declaring "no match".
const MAX_NESTING: u32 = 1000;

/// Whether `text` matches the glob `pattern`, with Redis 7.2 `stringmatchlen` semantics
/// (see the module documentation for the syntax and the quirks kept).
///
/// `nocase` folds ASCII letters for literal bytes, `?`-free comparisons and class members.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let mut give_up = false;
    Matcher { nocase, give_up: &mut give_up }.run(pattern, text, 0)
}

/// The pattern byte at `i`, or 0 past the end (C reads the string's terminator there).
#[inline]
fn byte_at(p: &[u8], i: usize) -> u8 {
    p.get(i).copied().unwrap_or(0)
}

/// ASCII-only lower-casing of a byte.
#[inline]
fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

/// A byte as a C `char` on x86-64, where `char` is signed.
#[inline]
fn as_c_char(b: u8) -> i32 {
    i32::from(b as i8)
}

/// glibc's `tolower` in the C locale applied to a (possibly negative) `char` value: ASCII
/// capitals fold, and negative values other than -1 (`EOF`) map to their unsigned byte.
#[inline]
fn c_tolower(c: i32) -> i32 {
    match c {
        0x41..=0x5A => c + 0x20,
        -128..=-2 => c + 256,
        _ => c,
    }
}

struct Matcher<'a> {
    nocase: bool,
    /// Set once the tail after some `*` failed at every position: every enclosing `*` stops.
    give_up: &'a mut bool,
}

impl Matcher<'_> {
    fn run(&mut self, pat: &[u8], text: &[u8], nesting: u32) -> bool {
        if nesting > MAX_NESTING {
            return false;
        }
        let (mut p, mut s) = (0usize, 0usize);
        while p < pat.len() && s < text.len() {
            match pat[p] {
                b'*' => {
                    while byte_at(pat, p + 1) == b'*' {
                        p += 1;
                    }
                    if p + 1 == pat.len() {
                        return true;
                    }
                    while s < text.len() {
                        if self.run(&pat[p + 1..], &text[s..], nesting + 1) {
                            return true;
                        }
                        if *self.give_up {
                            return false;
                        }
                        s += 1;
                    }
                    *self.give_up = true;
                    return false;
                }
                b'?' => s += 1,
                b'[' => {
                    let (matched, close) = self.class(pat, p + 1, text[s]);
                    if !matched {
                        return false;
                    }
                    p = close;
                    s += 1;
                }
                b => {
                    // `\x` is the literal `x`; a trailing lone `\` is itself.
                    let lit = if b == b'\\' && p + 1 < pat.len() {
                        p += 1;
                        pat[p]
                    } else {
                        b
                    };
                    if fold(lit, self.nocase) != fold(text[s], self.nocase) {
                        return false;
                    }
                    s += 1;
                }
            }
            p += 1;
            if s == text.len() {
                while byte_at(pat, p) == b'*' {
                    p += 1;
                }
                break;
            }
        }
        p >= pat.len() && s == text.len()
    }

    /// Matches one byte `c` against the class whose body starts at `start` (just after `[`).
    /// Returns whether it matched and the index of the class's last pattern byte (its `]`, or
    /// the last byte of the pattern for an unterminated class).
    fn class(&self, pat: &[u8], start: usize, c: u8) -> (bool, usize) {
        let mut p = start;
        let negate = byte_at(pat, p) == b'^';
        if negate {
            p += 1;
        }
        let mut matched = false;
        loop {
            let rest = pat.len().saturating_sub(p);
            let b = byte_at(pat, p);
            if b == b'\\' && rest >= 2 {
                // Escaped member: compared exactly, even when case-insensitive.
                p += 1;
                if pat[p] == c {
                    matched = true;
                }
            } else if b == b']' && rest > 0 {
                break;
            } else if rest == 0 {
                // Unterminated class: the last pattern byte closes it.
                p -= 1;
                break;
            } else if rest >= 3 && pat[p + 1] == b'-' {
                let (mut lo, mut hi) = (as_c_char(b), as_c_char(pat[p + 2]));
                if lo > hi {
                    std::mem::swap(&mut lo, &mut hi);
                }
                let mut x = as_c_char(c);
                if self.nocase {
                    (lo, hi, x) = (c_tolower(lo), c_tolower(hi), c_tolower(x));
                }
                if (lo..=hi).contains(&x) {
                    matched = true;
                }
                p += 2;
            } else if fold(b, self.nocase) == fold(c, self.nocase) {
                matched = true;
            }
            p += 1;
        }
        (matched != negate, p)
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    fn mi(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), true)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(m("hello", "hello"));
        assert!(!m("hello", "hellO"));
        assert!(!m("hello", "hell"));
        assert!(!m("hell", "hello"));
        assert!(m("h?llo", "hello"));
        assert!(m("h?llo", "hallo"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("*", "anything"));
        assert!(m("**", "x"));
        assert!(m("a*", "a"));
        assert!(m("a**", "a"));
        assert!(m("*a", "a"));
        assert!(m("*a*", "bab"));
        assert!(!m("*a*", "bbb"));
        assert!(m("*.txt", "notes.txt"));
        assert!(!m("*.txt", "notes.txt.bak"));
        assert!(m("user:*:name", "user:1000:name"));
        assert!(!m("user:*:name", "user:1000:names"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abbbc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("?", "\u{0}"));
        assert!(m("a\u{0}b", "a\u{0}b"));
        assert!(!m("a?b", "ab"));
    }

    #[test]
    fn empty_text_only_matches_empty_pattern() {
        // Redis 7.2: the loop never runs for an empty string, so `*` does not match "".
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(!m("?", ""));
        assert!(!m("[a]", ""));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("[0-9][0-9]", "42"));
        assert!(!m("[^0-9]", "4"));
        assert!(m("[^0-9]", "x"));
        // `[a-]` is the range `]`..`a` (reversed) in an unterminated class.
        assert!(!m("[a-]", "-"));
        assert!(m("[a-]", "_"));
        assert!(m("[a-]", "a"));
        assert!(m("[a-]", "]"));
        assert!(m("[ab-", "-"), "a `-` with fewer than two bytes after it is literal");
        assert!(!m("[ab-]", "-"), "`b-]` is a range");
        assert!(m("[-a]", "-"));
        assert!(!m("[]", "]"), "empty class matches nothing");
        assert!(m("[abc]*", "cat"));
        assert!(m("*[xy]", "abcy"));
        assert!(!m("*[xy]", "abcz"));
    }

    #[test]
    fn empty_class_then_bracket() {
        // `[]` closes immediately (empty class, never matches); so `[]]` is `[]` then `]`.
        assert!(!m("[]]", "]"));
        assert!(!m("[]]", "]]"));
        assert!(m("[^]", "x"), "negated empty class matches any byte");
        assert!(m("[^]]", "x]"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
        assert!(m("a\\[b", "a[b"));
        assert!(m("\\\\", "\\"));
        assert!(m("a\\", "a\\"), "trailing lone backslash is literal");
        assert!(!m("a\\", "a"));
        assert!(m("[\\]]", "]"), "escaped ] inside a class");
        assert!(m("[\\^a]", "^"));
        assert!(m("[\\-]", "-"));
        assert!(m("[a\\-z]", "-"));
        assert!(!m("[a\\-z]", "b"));
        assert!(m("[\\\\]", "\\"));
        // `[\]` escapes the `]`, leaving an unterminated class holding `]`.
        assert!(m("[\\]", "]"));
        assert!(!m("[\\]", "\\"));
        assert!(m("[a\\]", "a"));
        assert!(m("[a\\]", "]"));
        assert!(m("[a\\", "\\"), "lone backslash ending an unterminated class is literal");
        assert!(!m("[a\\", "b"));
    }

    #[test]
    fn unterminated_classes() {
        assert!(!m("[", "a"));
        assert!(!m("a[", "a["));
        assert!(!m("a[", "ab"));
        assert!(m("[abc", "a"));
        assert!(m("[abc", "c"));
        assert!(!m("[abc", "d"));
        assert!(!m("[abc", "ab"));
        assert!(m("[^", "x"), "negated empty unterminated class matches any byte");
        assert!(m("[^a", "b"));
        assert!(!m("[^a", "a"));
        assert!(m("[a-", "-"));
        assert!(m("[a-", "a"));
        assert!(m("[a-c", "b"));
    }

    #[test]
    fn nocase() {
        assert!(mi("HELLO", "hello"));
        assert!(mi("hello", "HeLLo"));
        assert!(!m("HELLO", "hello"));
        assert!(mi("h?LLO", "Hello"));
        assert!(mi("*LO", "hello"));
        assert!(mi("[A-C]x", "bX"));
        assert!(mi("[a-c]x", "BX"));
        assert!(!m("[a-c]x", "BX"));
        assert!(mi("[^A]", "b"));
        assert!(!mi("[^A]", "a"));
        assert!(mi("[H]", "h"));
        assert!(mi("\\H", "h"), "escape outside a class still folds case");
        assert!(!mi("[\\H]", "h"), "escape inside a class does not fold case");
        assert!(mi("[\\H]", "H"));
        // The range is ordered first, then folded: 'Z'(90)..'a'(97) becomes 'z'..'a'.
        assert!(m("[Z-a]", "_"));
        assert!(!mi("[Z-a]", "_"));
        assert!(!mi("[Z-a]", "z"));
    }

    #[test]
    fn high_bytes_compare_as_signed_char() {
        let p = b"[a-\xE9]";
        assert!(glob_match(p, b"\xF0", false));
        assert!(glob_match(p, b"\x10", false));
        assert!(glob_match(p, b"a", false));
        assert!(!glob_match(p, b"b", false));
        assert!(!glob_match(p, b"\xD0", false));
        assert!(glob_match(b"[\x80-\xFF]", b"\x90", false));
        assert!(!glob_match(b"[\x80-\xFF]", b"a", false));
        assert!(glob_match(b"\xC3\xA9*", b"\xC3\xA9t\xC3\xA9", true));
        assert!(glob_match(b"*", b"\xFF\xFE", false));
        // Case-insensitive ranges: ordered as signed chars, then glibc `tolower` maps
        // 0x80..=0xFE back to 128..=254 but 0xFF to -1.
        assert!(!glob_match(p, b"\xF0", true));
        assert!(!glob_match(p, b"a", true));
        assert!(glob_match(b"[\x80-\xFE]", b"\x90", true));
        assert!(!glob_match(b"[\x80-\xFF]", b"\x90", true));
        assert!(glob_match(b"[\xE9]", b"\xE9", true));
        assert!(!glob_match(b"[\xE9]", b"\xC9", true), "no Latin-1 case folding");
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let text = "a".repeat(50_000);
        let pat = format!("{}b", "a*".repeat(20));
        let start = std::time::Instant::now();
        assert!(!m(&pat, &text));
        assert!(!m("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", &text));
        assert!(!m(&"*?".repeat(50_000), &text));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        let ok = format!("{}a", "a*".repeat(20));
        assert!(m(&ok, &text));
    }

    #[test]
    fn nesting_limit() {
        let text = "a".repeat(2000);
        // Stars nested up to 1000 deep are explored; the 1001st level gives up.
        let within = format!("{}a", "*a".repeat(1000));
        assert!(m(&within, &text));
        let beyond = format!("{}a", "*a".repeat(1001));
        assert!(!m(&beyond, &text));
    }
}
