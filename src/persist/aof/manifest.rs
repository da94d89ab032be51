//! Redis 7's multi-part AOF manifest: which files, in what order, make the append-only file.
//!
//! ```text
//! file appendonly.aof.1.base.rdb seq 1 type b
//! file appendonly.aof.1.incr.aof seq 1 type i
//! file appendonly.aof.2.incr.aof seq 2 type i
//! ```
//!
//! One base file (an RDB snapshot, or an AOF of commands) then the incremental files in
//! sequence; `type h` marks history files waiting for deletion. File names may be quoted.

use std::path::Path;

/// Kinds of files a manifest lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The base snapshot.
    Base,
    /// Commands appended after the base.
    Incr,
    /// A file no longer part of the AOF.
    History,
}

/// One listed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// File name inside the AOF directory.
    pub name: String,
    /// Sequence number.
    pub seq: u64,
    /// What it is.
    pub kind: Kind,
}

/// A manifest: the base (if any) and the incremental files in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file.
    pub base: Option<Part>,
    /// Incremental files, oldest first.
    pub incrs: Vec<Part>,
    /// Files to delete.
    pub history: Vec<Part>,
}

impl Manifest {
    /// Parses a manifest's text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = split(line).ok_or_else(|| format!("Invalid AOF manifest file format at line {}", n + 1))?;
            let mut name = None;
            let mut seq = None;
            let mut kind = None;
            for pair in words.chunks(2) {
                let [k, v] = pair else { return Err(format!("Invalid AOF manifest file format at line {}", n + 1)) };
                match k.as_str() {
                    "file" => name = Some(v.clone()),
                    "seq" => seq = v.parse().ok(),
                    "type" => {
                        kind = match v.as_str() {
                            "b" => Some(Kind::Base),
                            "i" => Some(Kind::Incr),
                            "h" => Some(Kind::History),
                            _ => None,
                        }
                    }
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(format!("Invalid AOF manifest file format at line {}", n + 1));
            };
            let part = Part { name, seq, kind };
            match kind {
                Kind::Base => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base = Some(part);
                }
                Kind::Incr => {
                    if m.incrs.last().is_some_and(|l| l.seq >= part.seq) {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.incrs.push(part);
                }
                Kind::History => m.history.push(part),
            }
        }
        Ok(m)
    }

    /// The manifest's text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let all = self.base.iter().chain(self.history.iter()).chain(self.incrs.iter());
        for p in all {
            let t = match p.kind {
                Kind::Base => "b",
                Kind::Incr => "i",
                Kind::History => "h",
            };
            out.push_str(&format!("file {} seq {} type {t}\n", quote(&p.name), p.seq));
        }
        out
    }

    /// Reads the manifest at `path`; None when it does not exist.
    pub fn read(path: &Path) -> Result<Option<Manifest>, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Manifest::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("Can't open the AOF manifest {}: {e}", path.display())),
        }
    }

    /// Writes the manifest to `path` atomically (temporary file, fsync, rename, fsync dir).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let tmp = path.with_extension("manifest.tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(self.render().as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }

    /// The next sequence number for a base or an incremental file.
    pub fn next_seq(&self, kind: Kind) -> u64 {
        match kind {
            Kind::Base => self.base.as_ref().map_or(1, |b| b.seq + 1),
            _ => self.incrs.last().map_or(1, |p| p.seq + 1),
        }
    }
}

fn quote(name: &str) -> String {
    if name.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\') {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name.to_string()
    }
}

/// Splits a manifest line into words, honouring double quotes and backslash escapes.
fn split(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => w.push(chars.next()?),
                    ch => w.push(ch),
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                w.push(ch);
                chars.next();
            }
        }
        words.push(w);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_redis_manifests() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile \"odd name.aof\" seq 2 type i\n";
        let m = Manifest::parse(text).expect("parse");
        assert_eq!(m.base.as_ref().map(|b| b.name.as_str()), Some("appendonly.aof.1.base.rdb"));
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.incrs[1].name, "odd name.aof");
        assert_eq!(Manifest::parse(&m.render()).expect("reparse"), m);
        assert_eq!(m.next_seq(Kind::Incr), 3);
        assert_eq!(m.next_seq(Kind::Base), 2);
    }

    #[test]
    fn refuses_malformed_manifests() {
        assert!(Manifest::parse("file a seq x type i\n").is_err());
        assert!(Manifest::parse("file a seq 1 type b\nfile b seq 2 type b\n").is_err());
        assert!(Manifest::parse("file a seq 2 type i\nfile b seq 1 type i\n").is_err());
        assert!(Manifest::parse("file \"unterminated seq 1 type i\n").is_err());
    }
}
