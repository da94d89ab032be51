//! APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, LCS.

use larder_resp::Args;

use crate::commands::{CmdError, CmdResult, Ctx};

/// APPEND key value
pub fn append(_ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not yet available"))
}
/// STRLEN key
pub fn strlen(_ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not yet available"))
}
/// GETRANGE key start end
pub fn getrange(_ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not yet available"))
}
/// SETRANGE key offset value
pub fn setrange(_ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not yet available"))
}
/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
pub fn lcs(_ctx: &mut Ctx<'_, '_>, _args: Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not yet available"))
}
