//! Quoting of arbitrary bytes the way Redis prints them (sdscatrepr): MONITOR lines, DEBUG
//! output and error messages.

/// Appends `s` in double quotes with `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b` escapes and
/// `\xHH` for other non-printable bytes.
pub fn quote(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_like_redis() {
        let mut out = Vec::new();
        super::quote(b"a \"b\"\n\x01\\", &mut out);
        assert_eq!(out, b"\"a \\\"b\\\"\\n\\x01\\\\\"");
    }
}
