//! Scaffolding: this family's commands are being written.

use super::spec::CommandSpec;

/// This family's table entries.
pub static COMMANDS: &[CommandSpec] = &[];
