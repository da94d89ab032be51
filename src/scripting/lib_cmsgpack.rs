//! The `cmsgpack` library (stub).

use mlua::{Function, Lua, Table};

/// Builds the library table.
pub fn open(lua: &Lua, _wrap: &Function) -> mlua::Result<Table> {
    lua.create_table()
}
