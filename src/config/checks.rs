//! Validations of particular directives' values beyond their kind (file names that must not
//! be paths, host names, templates...), each failing with Redis's reason.

fn no_path(v: &[u8]) -> bool {
    !v.contains(&b'/')
}

pub(crate) fn check_dbfilename(v: &[u8]) -> Result<(), &'static str> {
    no_path(v).then_some(()).ok_or("dbfilename can't be a path, just a filename")
}

pub(crate) fn check_appendfilename(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appendfilename can't be empty");
    }
    no_path(v).then_some(()).ok_or("appendfilename can't be a path, just a filename")
}

pub(crate) fn check_appenddirname(v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appenddirname can't be empty");
    }
    no_path(v).then_some(()).ok_or("appenddirname can't be a path, just a dirname")
}

pub(crate) fn check_hostname(v: &[u8]) -> Result<(), &'static str> {
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !v.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

pub(crate) fn check_nodename(v: &[u8]) -> Result<(), &'static str> {
    match v.iter().any(|c| b"!#$%&()*+:;<>?@[]^{|}~".contains(c)) {
        true => Err("Announced human node name contained invalid character"),
        false => Ok(()),
    }
}

/// A template is valid when its `{variables}` are known, its braces balance (`{{` and `}}`
/// are literal) and it can expand to something that is not blank.
pub(crate) fn check_proc_title(v: &[u8]) -> Result<(), &'static str> {
    const BAD: &str = "template format is invalid or contains unknown variables";
    const VARS: &[&str] = &["title", "listen-addr", "server-mode", "config-file", "port", "tls-port", "unixsocket"];
    let (mut i, mut visible) = (0, false);
    while i < v.len() {
        match (v[i], v.get(i + 1)) {
            (b'{', Some(b'{')) | (b'}', Some(b'}')) => (visible, i) = (true, i + 2),
            (b'{', _) => {
                let end = v[i..].iter().position(|&c| c == b'}').ok_or(BAD)? + i;
                let var = std::str::from_utf8(&v[i + 1..end]).map_err(|_| BAD)?;
                if !VARS.contains(&var) {
                    return Err(BAD);
                }
                visible |= !matches!(var, "title" | "server-mode" | "unixsocket");
                i = end + 1;
            }
            (b'}', _) => return Err(BAD),
            (c, _) => (visible, i) = (visible || !c.is_ascii_whitespace(), i + 1),
        }
    }
    visible.then_some(()).ok_or(BAD)
}

pub(crate) fn check_activedefrag(on: bool) -> Result<(), &'static str> {
    match on {
        true => Err("Active defragmentation cannot be enabled: it requires a Redis server \
                     compiled with a modified Jemalloc like the one shipped by default with the \
                     Redis source distribution"),
        false => Ok(()),
    }
}

pub(crate) fn check_shutdown_flags(code: u32) -> Result<(), &'static str> {
    match code & 3 == 3 {
        true => Err("shutdown options SAVE and NOSAVE can't be used simultaneously"),
        false => Ok(()),
    }
}
