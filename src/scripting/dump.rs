//! FUNCTION DUMP / RESTORE payloads, in Redis's format so that either server loads the
//! other's: for each library the RDB function opcode (245) and its code as an RDB string,
//! then the RDB version and a CRC64 of everything before it (the DUMP framing of
//! `larder_persistence::dump`).

use larder_persistence::dump::{seal, verify_payload};
use larder_persistence::rdb::len::{read_string, write_string, Reader};
use larder_persistence::rdb::DUMP_VERSION;

/// RDB_OPCODE_FUNCTION2: a function library.
const OPCODE_FUNCTION: u8 = 245;
/// RDB_OPCODE_FUNCTION_PRE_GA: the format of Redis 7.0's release candidates.
const OPCODE_FUNCTION_PRE_GA: u8 = 246;

/// The payload holding `codes` (each library's code, metadata line included).
pub fn encode(codes: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION);
        write_string(&mut out, code, true);
    }
    seal(out, DUMP_VERSION)
}

/// The library codes of a payload, or Redis's error text.
pub fn decode(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let body = verify_payload(payload).ok_or("DUMP payload version or checksum are wrong")?;
    let mut r = Reader::new(body);
    let mut codes = Vec::new();
    while !r.is_empty() {
        let t = r.u8().map_err(|_| "can not read data type")?;
        if t == OPCODE_FUNCTION_PRE_GA {
            return Err("Pre-GA function format not supported".into());
        }
        if t != OPCODE_FUNCTION {
            return Err("given type is not a function".into());
        }
        let code = read_string(&mut r).map_err(|_| "Failed loading library payload")?;
        codes.push(code.into_owned());
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let long = b"#!lua name=lib\n".iter().chain([b'-'; 200].iter()).copied().collect::<Vec<u8>>();
        let codes: Vec<&[u8]> = vec![b"#!lua name=a\nredis.register_function('f', function() return 1 end)", &long];
        let payload = encode(&codes);
        assert_eq!(decode(&payload).expect("decodes"), codes.iter().map(|c| c.to_vec()).collect::<Vec<_>>());
        assert!(decode(b"bad_payload").is_err());
    }
}
