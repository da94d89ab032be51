//! The command table: every family's specs gathered in one place, with name lookup and a
//! numeric id per command and sub-command (for statistics).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::spec::{flag, CommandSpec};

/// Every family's commands.
fn families() -> impl Iterator<Item = &'static CommandSpec> {
    [
        super::strings::COMMANDS,
        super::bitmaps::COMMANDS,
        super::keys::COMMANDS,
        super::expire::COMMANDS,
        super::dump::COMMANDS,
        super::scan::COMMANDS,
        super::connection::COMMANDS,
        super::client_cmd::COMMANDS,
        super::server_cmd::COMMANDS,
        super::config_cmd::COMMANDS,
        super::command_cmd::COMMANDS,
        super::info::COMMANDS,
        super::debug::COMMANDS,
        super::functions::COMMANDS,
        super::scripting::COMMANDS,
        super::memory::COMMANDS,
        super::transactions::COMMANDS,
        super::pubsub::COMMANDS,
        super::hashes::COMMANDS,
        super::lists::COMMANDS,
        super::sets::COMMANDS,
        super::sort::COMMANDS,
        super::zsets::COMMANDS,
        super::persistence::COMMANDS,
        super::cluster::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

/// FNV-1a: command names are short and trusted (they come from the table), so a tiny
/// hash beats SipHash on the per-command lookup.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Name lookup over the table. Ids: each top-level command, followed by its sub-commands.
pub struct CommandTable {
    all: Vec<&'static CommandSpec>,
    /// For each id: the container's id when it is a sub-command.
    parent: Vec<Option<usize>>,
    by_name: HashMap<&'static [u8], usize, BuildHasherDefault<NameHasher>>,
    top: Vec<usize>,
}

const MAX_NAME: usize = 32;

impl CommandTable {
    /// Builds the lookup structures.
    pub fn build() -> Self {
        let mut t = CommandTable { all: Vec::new(), parent: Vec::new(), by_name: HashMap::default(), top: Vec::new() };
        for spec in families() {
            let id = t.all.len();
            t.all.push(spec);
            t.parent.push(None);
            t.top.push(id);
            t.by_name.insert(spec.name.as_bytes(), id);
            for sub in spec.subcommands {
                t.all.push(sub);
                t.parent.push(Some(id));
            }
        }
        t
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// True when the table is empty (never, in practice).
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The top-level command called `name` (any case).
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
        if name.len() > MAX_NAME {
            return None;
        }
        let mut buf = [0u8; MAX_NAME];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        let id = *self.by_name.get(&lower[..])?;
        Some((id, self.all[id]))
    }

    /// The sub-command `name` of container `id`.
    pub fn lookup_sub(&self, id: usize, name: &[u8]) -> Option<(usize, &'static CommandSpec)> {
        let spec = self.all[id];
        if !spec.has(flag::CONTAINER) {
            return None;
        }
        spec.subcommands
            .iter()
            .position(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|i| (id + 1 + i, &spec.subcommands[i]))
    }

    /// The spec of an id.
    pub fn spec(&self, id: usize) -> &'static CommandSpec {
        self.all[id]
    }

    /// `name` or `container|name`, as Redis prints command names.
    pub fn full_name(&self, id: usize) -> String {
        match self.parent[id] {
            Some(p) => format!("{}|{}", self.all[p].name, self.all[id].name),
            None => self.all[id].name.to_string(),
        }
    }

    /// True for CLIENT and its sub-commands.
    pub fn is_client_command(&self, spec: &'static CommandSpec) -> bool {
        self.lookup(b"client")
            .is_some_and(|(_, c)| std::ptr::eq(spec, c) || c.subcommands.iter().any(|s| std::ptr::eq(s, spec)))
    }

    /// Top-level command ids, in table order.
    pub fn top_level(&self) -> impl Iterator<Item = (usize, &'static CommandSpec)> + '_ {
        self.top.iter().map(|&id| (id, self.all[id]))
    }

    /// Every id with its spec (sub-commands included).
    pub fn iter(&self) -> impl Iterator<Item = (usize, &'static CommandSpec)> + '_ {
        self.all.iter().copied().enumerate()
    }

    /// The id of a sub-command given its container's id and its index.
    pub fn sub_id(&self, container: usize, index: usize) -> usize {
        container + 1 + index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_resolvable() {
        let t = CommandTable::build();
        let mut seen = std::collections::HashSet::new();
        for (_, spec) in t.top_level() {
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert!(seen.insert(spec.name), "duplicate {}", spec.name);
            assert!(t.lookup(spec.name.to_ascii_uppercase().as_bytes()).is_some());
            assert!(!spec.summary.is_empty(), "{} has no summary", spec.name);
            if spec.has(flag::CONTAINER) {
                assert!(!spec.subcommands.is_empty());
            }
        }
    }
}
