//! CRC16 and the Redis Cluster key hash slot.
//!
//! Redis Cluster assigns every key to one of 16384 slots: `CRC16(key) mod 16384`, where the
//! CRC is CRC16-CCITT in its XMODEM form (polynomial `0x1021`, initial value 0, no input or
//! output reflection, no final XOR). When the key contains a non-empty `{hashtag}`, only the
//! tag is hashed, so related keys can be placed on the same slot. Larder's shards are sets
//! of slots, so this is also how a key finds its shard.

/// Number of hash slots in Redis Cluster.
pub const CLUSTER_SLOTS: u16 = 16384;

/// CRC16-CCITT (XMODEM) generator polynomial.
const POLY: u16 = 0x1021;

/// Byte-at-a-time lookup table, built at compile time from [`POLY`].
const TABLE: [u16; 256] = build_table();

const fn build_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ POLY } else { crc << 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// CRC16-CCITT in the XMODEM variant, the checksum Redis Cluster hashes keys with
/// (`crc16(b"123456789") == 0x31C3`).
pub fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| (crc << 8) ^ TABLE[usize::from((crc >> 8) as u8 ^ b)])
}

/// The part of `key` that decides its slot: the bytes between the first `{` and the first
/// `}` after it, when that is non-empty; otherwise the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let after = &key[open + 1..];
    match after.iter().position(|&b| b == b'}') {
        Some(close) if close > 0 => &after[..close],
        _ => key,
    }
}

/// The Redis Cluster hash slot of `key`, in `0..16384`: the CRC16 of its [`hash_tag`]
/// (`"{user1000}.following"` and `"{user1000}.followers"` share a slot).
pub fn key_hash_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & (CLUSTER_SLOTS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-by-bit reference implementation, to check the table.
    fn crc16_bitwise(data: &[u8]) -> u16 {
        let mut crc = 0u16;
        for &b in data {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 { (crc << 1) ^ POLY } else { crc << 1 };
            }
        }
        crc
    }

    #[test]
    fn crc16_vectors() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
        assert_eq!(TABLE[1], 0x1021);
        assert_eq!(TABLE[255], 0x1EF0);
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for len in [0, 1, 2, 7, 100, 1000] {
            assert_eq!(crc16(&data[..len]), crc16_bitwise(&data[..len]));
        }
    }

    #[test]
    fn slots() {
        assert_eq!(key_hash_slot(b"foo"), 12182);
        assert_eq!(key_hash_slot(b"bar"), 5061);
        assert_eq!(key_hash_slot(b""), 0);
        assert_eq!(key_hash_slot(b"123456789"), 0x31C3 & 0x3FFF);
        for k in [&b"a"[..], b"key:1", b"\xff\xfe", b"a very long key name indeed"] {
            assert!(key_hash_slot(k) < CLUSTER_SLOTS);
        }
    }

    #[test]
    fn hash_tags() {
        assert_eq!(key_hash_slot(b"{user1000}.following"), key_hash_slot(b"{user1000}.followers"));
        assert_eq!(key_hash_slot(b"{user1000}.following"), key_hash_slot(b"user1000"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(key_hash_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") & 0x3FFF);
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(key_hash_slot(b"foo{{bar}}zap"), key_hash_slot(b"{bar"));
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"{bar"), b"{bar");
        assert_eq!(hash_tag(b"bar}"), b"bar}");
        assert_eq!(hash_tag(b"}{a}"), b"a");
        assert_eq!(hash_tag(b"{}"), b"{}");
        assert_eq!(hash_tag(b"{"), b"{");
        assert_eq!(hash_tag(b"x{y}"), b"y");
    }
}
