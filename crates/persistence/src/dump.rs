//! DUMP/RESTORE payloads, framed as Redis frames them:
//!
//! ```text
//! [RDB type byte][value encoding][RDB version u16 LE][CRC64 u64 LE of everything before it]
//! ```
//!
//! Larder stamps payloads with [`DUMP_VERSION`] (10, Redis 7.0's: every encoding it writes is
//! one Redis 7.0 reads, so its payloads restore into Redis 7.0, 7.2+ and Valkey) and accepts
//! payloads of any version up to [`RDB_VERSION_MAX`] (12, Redis 7.4's), as Redis accepts
//! versions up to its own.

use larder_engine::types::Limits;
use larder_engine::ValueRef;

use crate::rdb::crc64::crc64;
use crate::rdb::decode::{self, Decoded};
use crate::rdb::encode::{self, Options};
use crate::rdb::len::Reader;
use crate::rdb::{RdbError, DUMP_VERSION, RDB_VERSION_MAX};

/// Bytes of the footer: version and checksum.
const FOOTER: usize = 10;

/// The DUMP payload of `value`. Sets are written in version 10's forms whatever `opts` says,
/// since the payload is stamped version 10.
pub fn create_payload(value: ValueRef<'_>, opts: &Options) -> Vec<u8> {
    let mut out = Vec::new();
    let opts = Options { set_listpack: false, ..*opts };
    encode::write_value(&mut out, value, &opts);
    seal(out, DUMP_VERSION)
}

/// Appends the version and checksum footer to an encoded value.
pub fn seal(mut body: Vec<u8>, version: u16) -> Vec<u8> {
    body.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// The payload's RDB version, or `None` when it is too short to have a footer.
pub fn payload_version(payload: &[u8]) -> Option<u16> {
    let v = payload.get(payload.len().checked_sub(FOOTER)?..payload.len() - 8)?;
    Some(u16::from_le_bytes([v[0], v[1]]))
}

/// Checks the footer (Redis's `verifyDumpPayload`): at least ten bytes, a version Larder
/// reads, a matching CRC64. Returns the encoded value without the footer, or `None` for a
/// payload RESTORE must refuse with "DUMP payload version or checksum are wrong".
pub fn verify_payload(payload: &[u8]) -> Option<&[u8]> {
    if payload_version(payload)? > RDB_VERSION_MAX {
        return None;
    }
    let (signed, crc) = payload.split_at(payload.len() - 8);
    let want = u64::from_le_bytes([crc[0], crc[1], crc[2], crc[3], crc[4], crc[5], crc[6], crc[7]]);
    (crc64(0, signed) == want).then(|| &payload[..payload.len() - FOOTER])
}

/// Decodes the value of a verified payload body (see [`verify_payload`]). As in Redis, bytes
/// after the value and before the footer are ignored.
pub fn restore_value(body: &[u8], limits: &Limits) -> Result<Decoded, RdbError> {
    decode::read_value(&mut Reader::new(body), limits)
}

#[cfg(test)]
mod tests;
