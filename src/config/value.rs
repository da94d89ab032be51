//! What each kind of directive does with its arguments: parse and validate them into the
//! typed field, render the value for CONFIG GET, and produce the lines CONFIG REWRITE writes.
//! Error texts are Redis 7.2's.

use std::borrow::Cow;
use std::path::PathBuf;

use larder_engine::util::num::{parse_i64, parse_memory};

use super::directives::{Directive, Kind, NumFmt, Special, DIRECTIVES};
use super::types::{canonical_notify_flags, enum_name, OutputBufferLimit};
use super::Config;

/// A reason a value was refused, as Redis words it.
pub(crate) type Reason = Cow<'static, str>;

/// Where a value comes from: the file and flags at start-up, or CONFIG SET.
pub(crate) struct SetMode<'a> {
    /// `Some` while loading: set once the first `save` line has replaced the defaults.
    pub save_loaded: Option<&'a mut bool>,
}

/// Set `d` from its arguments (exactly one unless the directive is multi-argument).
pub(crate) fn apply(cfg: &mut Config, d: &Directive, args: &[Vec<u8>], mode: SetMode<'_>) -> Result<(), Reason> {
    let one = || args.first().map(Vec::as_slice).unwrap_or_default();
    match &d.kind {
        Kind::Bool { set, check, .. } => {
            let v = parse_bool(one()).ok_or("argument must be 'yes' or 'no'")?;
            check.map_or(Ok(()), |f| f(v))?;
            set(cfg, v);
        }
        Kind::Num { min, max, fmt, clamp, set, .. } => {
            let v = parse_num(one(), *fmt)?;
            check_bounds(v, *min, *max, *fmt)?;
            set(cfg, clamp.map_or(v, |(lo, hi)| v.clamp(lo, hi)));
        }
        Kind::Str { null_on_empty, check, set, .. } => {
            let v = one();
            check.map_or(Ok(()), |f| f(v))?;
            set(cfg, (!(*null_on_empty && v.is_empty())).then(|| v.to_vec()));
        }
        Kind::Enum { items, multi, check, set, .. } => {
            let code = parse_enum(items, *multi, args).ok_or_else(|| {
                let names: Vec<&str> = items.iter().map(|(n, _)| *n).collect();
                format!("argument(s) must be one of the following: {}", names.join(", "))
            })?;
            check.map_or(Ok(()), |f| f(code))?;
            set(cfg, code);
        }
        Kind::Special(s) => apply_special(cfg, *s, args, mode)?,
    }
    Ok(())
}

fn parse_bool(v: &[u8]) -> Option<bool> {
    match v {
        _ if v.eq_ignore_ascii_case(b"yes") => Some(true),
        _ if v.eq_ignore_ascii_case(b"no") => Some(false),
        _ => None,
    }
}

fn parse_num(v: &[u8], fmt: NumFmt) -> Result<i128, &'static str> {
    let parsed = match fmt {
        NumFmt::Plain => parse_i64(v).map(i128::from),
        NumFmt::Memory => parse_memory(v).map(i128::from),
        NumFmt::MemoryOrPercent => parse_memory(v).map(i128::from).or_else(|| {
            let digits = v.strip_suffix(b"%").filter(|d| !d.is_empty())?;
            parse_i64(digits).filter(|n| *n >= 0).map(|n| -i128::from(n))
        }),
        NumFmt::Octal => {
            let (neg, digits) = v.strip_prefix(b"-").map_or((false, v), |d| (true, d));
            let text = std::str::from_utf8(digits).ok().filter(|t| !t.starts_with('+'));
            let n = text.and_then(|t| i64::from_str_radix(t, 8).ok()).map(i128::from);
            n.map(|n| if neg { -n } else { n })
        }
    };
    parsed.ok_or(match fmt {
        NumFmt::Plain => "argument couldn't be parsed into an integer",
        NumFmt::Memory => "argument must be a memory value",
        NumFmt::MemoryOrPercent => "argument must be a memory or percent value",
        NumFmt::Octal => "argument couldn't be parsed as an octal number",
    })
}

fn check_bounds(v: i128, min: i128, max: i128, fmt: NumFmt) -> Result<(), Reason> {
    if fmt == NumFmt::MemoryOrPercent && v < 0 {
        if v < min {
            return Err(format!("percentage argument must be less or equal to {}", -min).into());
        }
        return Ok(());
    }
    if v < min || v > max {
        return Err(match fmt {
            NumFmt::Octal => format!("argument must be between {min:o} and {max:o} inclusive"),
            _ => format!("argument must be between {min} and {max} inclusive"),
        }
        .into());
    }
    Ok(())
}

fn parse_enum(items: &[(&str, u32)], multi: bool, args: &[Vec<u8>]) -> Option<u32> {
    if args.is_empty() || (!multi && args.len() != 1) {
        return None;
    }
    args.iter().try_fold(0, |acc, a| {
        let hits = items.iter().filter(|(n, _)| a.eq_ignore_ascii_case(n.as_bytes()));
        hits.map(|(_, c)| *c).reduce(|x, y| x | y).map(|c| acc | c)
    })
}

/// Redis's `strerror` text of an I/O error (without Rust's " (os error N)" suffix).
pub(crate) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn apply_special(cfg: &mut Config, s: Special, args: &[Vec<u8>], mode: SetMode<'_>) -> Result<(), Reason> {
    let single_empty = args.len() == 1 && args[0].is_empty();
    match s {
        Special::Save => {
            let args = if single_empty { &[][..] } else { args };
            let bad = "Invalid save parameters";
            if args.len() % 2 == 1 {
                return Err(bad.into());
            }
            let mut points = Vec::with_capacity(args.len() / 2);
            for pair in args.chunks(2) {
                let secs = parse_i64(&pair[0]).filter(|v| *v >= 1).ok_or(bad)?;
                let changes = parse_i64(&pair[1]).filter(|v| *v >= 0).ok_or(bad)?;
                points.push((secs.unsigned_abs(), changes.unsigned_abs()));
            }
            match mode.save_loaded {
                // In a file, the first `save` replaces the defaults and later ones add to it.
                Some(loaded) if *loaded && !single_empty => cfg.save.extend(points),
                Some(loaded) => (*loaded, cfg.save) = (true, points),
                None => cfg.save = points,
            }
        }
        Special::Bind => {
            if args.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            let args = if single_empty { &[][..] } else { args };
            cfg.bind = args.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        }
        Special::ClientOutputBufferLimit => {
            if args.len() % 4 != 0 {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut limits = cfg.client_output_buffer_limit;
            for group in args.chunks(4) {
                let class = limits
                    .class_mut(&group[0])
                    .ok_or("Invalid client class specified in buffer limit configuration.")?;
                let hard = parse_memory(&group[1]);
                let soft = parse_memory(&group[2]);
                let secs = parse_i64(&group[3]).filter(|s| *s >= 0);
                let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
                    return Err("Error in hard, soft or soft_seconds setting in buffer limit \
                                configuration."
                        .into());
                };
                *class = OutputBufferLimit { hard, soft, soft_seconds: secs.unsigned_abs() };
            }
            cfg.client_output_buffer_limit = limits;
        }
        Special::OomScoreAdjValues => {
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut values = [0i32; 3];
            for (slot, a) in values.iter_mut().zip(args) {
                *slot = parse_i64(a)
                    .filter(|v| (-2000..=2000).contains(v))
                    .and_then(|v| i32::try_from(v).ok())
                    .ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
            }
            cfg.oom_score_adj_values = values;
        }
        Special::NotifyKeyspaceEvents => {
            let [v] = args else {
                return Err("wrong number of arguments".into());
            };
            canonical_notify_flags(v).ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            cfg.notify_keyspace_events = String::from_utf8_lossy(v).into_owned();
        }
        Special::Dir => {
            let [v] = args else {
                return Err("wrong number of arguments".into());
            };
            let path = PathBuf::from(String::from_utf8_lossy(v).into_owned());
            let abs = std::fs::canonicalize(&path).map_err(|e| strerror(&e))?;
            if !abs.is_dir() {
                return Err("Not a directory".into());
            }
            cfg.dir = abs;
        }
        Special::Replicaof => {
            let [host, port] = args else {
                return Err("wrong number of arguments".into());
            };
            if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
                cfg.replicaof = None;
                return Ok(());
            }
            let port = std::str::from_utf8(port).ok().and_then(|p| p.parse::<u16>().ok());
            let port = port.ok_or("Invalid master port")?;
            cfg.replicaof = Some((String::from_utf8_lossy(host).into_owned(), port));
        }
        Special::LatencyTrackingInfoPercentiles => {
            let args = if single_empty { &[][..] } else { args };
            let mut out = Vec::with_capacity(args.len());
            for a in args {
                let p = std::str::from_utf8(a).ok().and_then(|t| t.parse::<f64>().ok());
                let p = p.filter(|p| !p.is_nan()).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between \
                                [0.0,100.0]"
                        .into());
                }
                out.push(p);
            }
            cfg.latency_tracking_info_percentiles = out;
        }
    }
    Ok(())
}

/// A percentile as Redis prints it: `%f` with trailing zeros (and point) removed.
fn fmt_float(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The value of `d` as CONFIG GET shows it.
pub(crate) fn render(cfg: &Config, d: &Directive) -> String {
    match &d.kind {
        Kind::Bool { get, .. } => yes_no(get(cfg)).to_string(),
        Kind::Num { fmt, get, .. } => match (*fmt, get(cfg)) {
            (NumFmt::MemoryOrPercent, v) if v < 0 => format!("{}%", -v),
            (NumFmt::Octal, v) => format!("{v:o}"),
            (_, v) => v.to_string(),
        },
        Kind::Str { get, .. } => get(cfg).map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default(),
        Kind::Enum { items, multi, get, .. } => enum_names(items, *multi, get(cfg)),
        Kind::Special(s) => match s {
            Special::Save => {
                let pts = cfg.save.iter().map(|(s, c)| format!("{s} {c}"));
                pts.collect::<Vec<_>>().join(" ")
            }
            Special::Bind => cfg.bind.join(" "),
            Special::ClientOutputBufferLimit => {
                let c = cfg.client_output_buffer_limit.classes();
                let parts = c.iter().map(|(n, l)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_seconds));
                parts.collect::<Vec<_>>().join(" ")
            }
            Special::OomScoreAdjValues => {
                let v = cfg.oom_score_adj_values;
                format!("{} {} {}", v[0], v[1], v[2])
            }
            Special::NotifyKeyspaceEvents => {
                canonical_notify_flags(cfg.notify_keyspace_events.as_bytes()).unwrap_or_default()
            }
            Special::Dir => cfg.dir.to_string_lossy().into_owned(),
            Special::Replicaof => cfg.replicaof.as_ref().map(|(h, p)| format!("{h} {p}")).unwrap_or_default(),
            Special::LatencyTrackingInfoPercentiles => {
                let ps = cfg.latency_tracking_info_percentiles.iter().map(|p| fmt_float(*p));
                ps.collect::<Vec<_>>().join(" ")
            }
        },
    }
}

fn yes_no(v: bool) -> &'static str {
    if v {
        "yes"
    } else {
        "no"
    }
}

/// Names of an enum value; for a multi-name (flags) value, the names of its set bits.
fn enum_names(items: &'static [(&'static str, u32)], multi: bool, code: u32) -> String {
    if !multi || items.iter().any(|(_, c)| *c == code) {
        return enum_name(items, code).to_string();
    }
    let mut left = code;
    let mut names = Vec::new();
    for (n, c) in items {
        if *c != 0 && left & c == *c {
            names.push(*n);
            left &= !c;
        }
    }
    if names.is_empty() || left != 0 {
        return "unknown".into();
    }
    names.join(" ")
}

/// A byte count as the rewrite writes it: in gb, mb or kb when it divides evenly.
fn fmt_memory(v: i128) -> String {
    const KB: i128 = 1024;
    match v {
        0 => "0".into(),
        v if v % (KB * KB * KB) == 0 => format!("{}gb", v / (KB * KB * KB)),
        v if v % (KB * KB) == 0 => format!("{}mb", v / (KB * KB)),
        v if v % KB == 0 => format!("{}kb", v / KB),
        v => v.to_string(),
    }
}

/// A string quoted so that `split_args` reads it back unchanged (Redis's `sdscatrepr`).
pub(crate) fn repr(v: &[u8]) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for &c in v {
        match c {
            b'\\' | b'"' => {
                out.push('\\');
                out.push(c as char);
            }
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            c if c == b' ' || c.is_ascii_graphic() => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// The lines CONFIG REWRITE writes for `d`, each with whether it must be written even if
/// the file did not mention the directive (the value differs from the default). No lines:
/// the directive's existing lines are removed.
pub(crate) fn rewrite_lines(cfg: &Config, d: &Directive, defaults: &Config) -> Vec<(String, bool)> {
    let name = d.name;
    let differs = || render(cfg, d) != render(defaults, d);
    let line = match &d.kind {
        Kind::Bool { get, .. } => format!("{name} {}", yes_no(get(cfg))),
        Kind::Num { fmt, get, .. } => match (*fmt, get(cfg)) {
            (NumFmt::MemoryOrPercent, v) if v < 0 => format!("{name} {}%", -v),
            (NumFmt::Memory | NumFmt::MemoryOrPercent, v) => format!("{name} {}", fmt_memory(v)),
            (NumFmt::Octal, v) => format!("{name} {v:o}"),
            (NumFmt::Plain, v) => format!("{name} {v}"),
        },
        Kind::Str { get, .. } => match (get(cfg), get(defaults)) {
            (None, _) => return Vec::new(),
            (Some(v), def) => {
                let force = def.as_deref() != Some(&v[..]);
                return vec![(format!("{name} {}", repr(&v)), force)];
            }
        },
        Kind::Enum { items, multi, get, .. } => format!("{name} {}", enum_names(items, *multi, get(cfg))),
        Kind::Special(s) => return special_lines(cfg, *s, name, defaults),
    };
    vec![(line, differs())]
}

fn special_lines(cfg: &Config, s: Special, name: &str, defaults: &Config) -> Vec<(String, bool)> {
    match s {
        Special::Save if cfg.save.is_empty() => vec![(format!("{name} \"\""), true)],
        Special::Save => cfg.save.iter().map(|(s, c)| (format!("{name} {s} {c}"), true)).collect(),
        Special::Bind if cfg.bind == defaults.bind => Vec::new(),
        Special::Bind if cfg.bind.is_empty() => vec![(format!("{name} \"\""), true)],
        Special::Bind => vec![(format!("{name} {}", cfg.bind.join(" ")), true)],
        Special::ClientOutputBufferLimit => {
            let def = defaults.client_output_buffer_limit.classes();
            let cur = cfg.client_output_buffer_limit.classes();
            cur.iter()
                .zip(def.iter())
                .map(|((class, l), (_, d))| {
                    let class = if *class == "slave" { "replica" } else { class };
                    let (h, s) = (fmt_memory(l.hard.into()), fmt_memory(l.soft.into()));
                    (format!("{name} {class} {h} {s} {}", l.soft_seconds), l != d)
                })
                .collect()
        }
        Special::OomScoreAdjValues => {
            let v = cfg.oom_score_adj_values;
            let force = v != defaults.oom_score_adj_values;
            vec![(format!("{name} {} {} {}", v[0], v[1], v[2]), force)]
        }
        Special::NotifyKeyspaceEvents => {
            let flags = canonical_notify_flags(cfg.notify_keyspace_events.as_bytes()).unwrap_or_default();
            let force = !flags.is_empty();
            vec![(format!("{name} {}", repr(flags.as_bytes())), force)]
        }
        Special::Dir => vec![(format!("{name} {}", repr(cfg.dir.to_string_lossy().as_bytes())), true)],
        Special::Replicaof => match &cfg.replicaof {
            Some((h, p)) => vec![(format!("{name} {h} {p}"), true)],
            None => Vec::new(),
        },
        Special::LatencyTrackingInfoPercentiles => {
            let ps = &cfg.latency_tracking_info_percentiles;
            let vals = match ps.is_empty() {
                true => "\"\"".to_string(),
                false => ps.iter().map(|p| fmt_float(*p)).collect::<Vec<_>>().join(" "),
            };
            vec![(format!("{name} {vals}"), true)]
        }
    }
}

/// The directive named `name` (case-insensitive, aliases too), with the name it matched.
pub(crate) fn lookup(name: &[u8]) -> Option<(&'static Directive, &'static str)> {
    DIRECTIVES.iter().find_map(|d| {
        if name.eq_ignore_ascii_case(d.name.as_bytes()) {
            Some((d, d.name))
        } else {
            d.alias.filter(|a| name.eq_ignore_ascii_case(a.as_bytes())).map(|a| (d, a))
        }
    })
}
