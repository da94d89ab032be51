//! What the append-only file records for a write command: the command itself, except where
//! replaying it verbatim would not reproduce the same dataset. As Redis does, relative expiry
//! times become absolute (`PEXPIREAT`, `SET ... PXAT`), results computed in floating point are
//! logged as their values, random picks (SPOP) as the members removed, and blocking pops as
//! the plain pop that served them.

use larder_engine::util::num::parse_i64;
use larder_resp::Args;

/// An argument list to log.
pub type Argv = Vec<Vec<u8>>;

fn v(parts: &[&[u8]]) -> Argv {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn num(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}

fn eq(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// The bulk strings of a reply: a bulk, or an array/set of bulks (nested arrays flattened).
fn bulks(reply: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut pending = 1usize;
    while pending > 0 && pos < reply.len() {
        pending -= 1;
        let Some(end) = reply[pos..].windows(2).position(|w| w == b"\r\n").map(|e| pos + e) else { break };
        let head = &reply[pos..end];
        pos = end + 2;
        let n = std::str::from_utf8(&head[1..]).ok().and_then(|t| t.parse::<i64>().ok()).unwrap_or(-1);
        match head.first() {
            Some(b'$') if n >= 0 => {
                let n = n as usize;
                if pos + n <= reply.len() {
                    out.push(reply[pos..pos + n].to_vec());
                }
                pos += n + 2;
            }
            Some(b'*' | b'~' | b'>') if n > 0 => pending += n as usize,
            Some(b',' | b':' | b'+') => out.push(head[1..].to_vec()),
            _ => {}
        }
    }
    out
}

/// Absolute unix ms from a relative or absolute time argument in `unit` ms.
fn absolute(arg: &[u8], unit: i64, relative: bool, now: u64) -> Option<i64> {
    let n = parse_i64(arg)?;
    let ms = n.checked_mul(unit)?;
    Some(if relative { ms.checked_add(now as i64)? } else { ms })
}

/// True when `name` is logged as something other than itself (see [`for_command`]); every
/// other write is logged verbatim.
pub fn rewritten(name: &str) -> bool {
    matches!(
        name,
        "expire"
            | "pexpire"
            | "expireat"
            | "pexpireat"
            | "setex"
            | "psetex"
            | "set"
            | "getex"
            | "incrbyfloat"
            | "hincrbyfloat"
            | "spop"
            | "blpop"
            | "brpop"
            | "bzpopmin"
            | "bzpopmax"
            | "blmove"
            | "brpoplpush"
            | "blmpop"
            | "bzmpop"
            | "restore"
    )
}

/// The argument lists to log for `name` (lower case) run with `args`, whose reply was `reply`.
pub fn for_command(name: &str, args: Args<'_>, reply: &[u8], now: u64) -> Vec<Argv> {
    let a: Vec<&[u8]> = args.iter().collect();
    let verbatim = || vec![a.iter().map(|x| x.to_vec()).collect::<Argv>()];
    match name {
        "expire" | "pexpire" | "expireat" | "pexpireat" if a.len() >= 3 => {
            let (unit, rel) = match name {
                "expire" => (1000, true),
                "pexpire" => (1, true),
                "expireat" => (1000, false),
                _ => (1, false),
            };
            match absolute(a[2], unit, rel, now) {
                Some(t) => vec![v(&[b"PEXPIREAT", a[1], &num(t)])],
                None => verbatim(),
            }
        }
        "setex" | "psetex" if a.len() == 4 => {
            let unit = if name == "setex" { 1000 } else { 1 };
            match absolute(a[2], unit, true, now) {
                Some(t) => vec![v(&[b"SET", a[1], a[3], b"PXAT", &num(t)])],
                None => verbatim(),
            }
        }
        "set" if a.len() >= 3 => {
            let mut out = v(&[b"SET", a[1], a[2]]);
            let mut i = 3;
            while i < a.len() {
                let opt = a[i];
                let timed = [("ex", 1000, true), ("px", 1, true), ("exat", 1000, false), ("pxat", 1, false)]
                    .into_iter()
                    .find(|(o, _, _)| eq(opt, o));
                if let Some((_, unit, rel)) = timed {
                    if let Some(t) = a.get(i + 1).and_then(|x| absolute(x, unit, rel, now)) {
                        out.push(b"PXAT".to_vec());
                        out.push(num(t));
                    }
                    i += 2;
                    continue;
                }
                if eq(opt, "keepttl") {
                    out.push(b"KEEPTTL".to_vec());
                }
                i += 1;
            }
            vec![out]
        }
        "getex" if a.len() >= 3 => {
            if eq(a[2], "persist") {
                return vec![v(&[b"PERSIST", a[1]])];
            }
            let timed = [("ex", 1000, true), ("px", 1, true), ("exat", 1000, false), ("pxat", 1, false)]
                .into_iter()
                .find(|(o, _, _)| eq(a[2], o));
            match (timed, a.get(3)) {
                (Some((_, unit, rel)), Some(t)) => match absolute(t, unit, rel, now) {
                    Some(t) => vec![v(&[b"PEXPIREAT", a[1], &num(t)])],
                    None => Vec::new(),
                },
                _ => Vec::new(),
            }
        }
        "incrbyfloat" => match bulks(reply).first() {
            Some(val) => vec![v(&[b"SET", a[1], val, b"KEEPTTL"])],
            None => Vec::new(),
        },
        "hincrbyfloat" if a.len() >= 3 => match bulks(reply).first() {
            Some(val) => vec![v(&[b"HSET", a[1], a[2], val])],
            None => Vec::new(),
        },
        "spop" => {
            let members = bulks(reply);
            if members.is_empty() {
                return Vec::new();
            }
            let mut out = v(&[b"SREM", a[1]]);
            out.extend(members);
            vec![out]
        }
        "blpop" | "brpop" | "bzpopmin" | "bzpopmax" => match bulks(reply).first() {
            Some(key) => {
                let cmd: &[u8] = match name {
                    "blpop" => b"LPOP",
                    "brpop" => b"RPOP",
                    "bzpopmin" => b"ZPOPMIN",
                    _ => b"ZPOPMAX",
                };
                vec![v(&[cmd, key])]
            }
            None => Vec::new(),
        },
        "blmove" if a.len() == 6 => vec![v(&[b"LMOVE", a[1], a[2], a[3], a[4]])],
        "brpoplpush" if a.len() == 4 => vec![v(&[b"RPOPLPUSH", a[1], a[2]])],
        "blmpop" | "bzmpop" => {
            let got = bulks(reply);
            let Some(key) = got.first() else { return Vec::new() };
            let min_or_left = a.iter().any(|x| eq(x, "left") || eq(x, "min"));
            let cmd: &[u8] = match (name, min_or_left) {
                ("blmpop", true) => b"LPOP",
                ("blmpop", false) => b"RPOP",
                (_, true) => b"ZPOPMIN",
                _ => b"ZPOPMAX",
            };
            // List pops reply key + elements; sorted-set pops key + member/score pairs.
            let n = if name == "blmpop" { got.len() - 1 } else { (got.len() - 1) / 2 };
            vec![v(&[cmd, key, &num(n as i64)])]
        }
        "restore" if a.len() >= 4 => {
            let absttl = a.iter().skip(4).any(|x| eq(x, "absttl"));
            match parse_i64(a[2]) {
                Some(ttl) if ttl > 0 && !absttl => {
                    let mut out: Argv = a.iter().map(|x| x.to_vec()).collect();
                    out[2] = num(ttl + now as i64);
                    out.push(b"ABSTTL".to_vec());
                    vec![out]
                }
                _ => verbatim(),
            }
        }
        _ => verbatim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use larder_resp::OwnedArgs;

    fn run(args: &[&str], reply: &str, now: u64) -> Vec<Vec<String>> {
        let owned = OwnedArgs::from_slices(args.iter().map(|s| s.as_bytes()));
        let name = args[0].to_ascii_lowercase();
        for_command(&name, owned.args(), reply.as_bytes(), now)
            .into_iter()
            .map(|argv| argv.into_iter().map(|x| String::from_utf8_lossy(&x).into_owned()).collect())
            .collect()
    }

    #[test]
    fn relative_times_become_absolute() {
        assert_eq!(run(&["EXPIRE", "k", "10"], ":1\r\n", 1000), [["PEXPIREAT", "k", "11000"]]);
        assert_eq!(run(&["SETEX", "k", "2", "v"], "+OK\r\n", 1000), [["SET", "k", "v", "PXAT", "3000"]]);
        assert_eq!(
            run(&["SET", "k", "v", "NX", "PX", "50", "GET"], "$-1\r\n", 1000),
            [["SET", "k", "v", "PXAT", "1050"]]
        );
        assert_eq!(run(&["SET", "k", "v", "KEEPTTL"], "+OK\r\n", 0), [["SET", "k", "v", "KEEPTTL"]]);
        assert_eq!(run(&["GETEX", "k", "PERSIST"], "$1\r\nv\r\n", 0), [["PERSIST", "k"]]);
        assert_eq!(run(&["GETEX", "k", "EX", "1"], "$1\r\nv\r\n", 5), [["PEXPIREAT", "k", "1005"]]);
    }

    #[test]
    fn computed_and_random_results_are_logged_as_values() {
        assert_eq!(run(&["INCRBYFLOAT", "k", "0.1"], "$3\r\n1.1\r\n", 0), [["SET", "k", "1.1", "KEEPTTL"]]);
        assert_eq!(run(&["SPOP", "s", "2"], "*2\r\n$1\r\na\r\n$1\r\nb\r\n", 0), [["SREM", "s", "a", "b"]]);
        assert_eq!(run(&["SPOP", "s"], "$1\r\nz\r\n", 0), [["SREM", "s", "z"]]);
        assert!(run(&["SPOP", "s"], "$-1\r\n", 0).is_empty());
        assert_eq!(run(&["BLPOP", "a", "b", "0"], "*2\r\n$1\r\nb\r\n$1\r\nx\r\n", 0), [["LPOP", "b"]]);
        assert_eq!(
            run(&["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "5"], "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n", 0),
            [["LPOP", "l", "2"]]
        );
        assert_eq!(run(&["LPUSH", "l", "x"], ":1\r\n", 0), [["LPUSH", "l", "x"]]);
    }
}
