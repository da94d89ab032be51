//! Unit tests of loading, CONFIG GET/SET and CONFIG REWRITE, with their shared helpers.

mod load;
mod runtime;

use std::path::{Path, PathBuf};

use super::parse::load_str;
use super::*;

pub(super) fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub(super) fn get1(cfg: &Config, name: &str) -> String {
    let got = cfg.get(name.as_bytes());
    assert_eq!(got.len(), 1, "{name}: {got:?}");
    got[0].1.clone()
}

pub(super) fn fatal_of(r: Result<Config, StartupError>) -> String {
    match r {
        Err(StartupError::Fatal(msg)) => msg,
        other => panic!("expected a fatal error, got {other:?}"),
    }
}

/// The reason (last line) of a fatal error from loading `text`.
pub(super) fn load_err(text: &str) -> String {
    let msg = fatal_of(load_str(text));
    msg.lines().last().unwrap_or_default().to_string()
}

pub(super) fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
    set_as(c, pairs, SetAccess::default())
}

pub(super) fn set_as(c: &mut Config, pairs: &[(&str, &str)], access: SetAccess) -> Result<Vec<&'static str>, String> {
    let pairs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())).collect();
    let mut changed = c.set_with(&pairs, access)?;
    // Volatile directives (TLS files) count as changed even when set to the same value.
    changed.retain(|n| !n.starts_with("tls-"));
    Ok(changed)
}

pub(super) fn set_err(cfg: &mut Config, name: &str, value: &str) -> String {
    let before = cfg.clone();
    let err = cfg.set(&[(name.as_bytes(), value.as_bytes())]).expect_err("set should fail");
    assert_eq!(*cfg, before, "a failed set changed the config");
    err
}

pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("larder-config-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub(super) fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(super) fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
