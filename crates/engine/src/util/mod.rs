//! Small self-contained helpers with Redis's exact semantics, shared by the keyspace and
//! the command layer: glob matching, strict number parsing and formatting, CRC16 and the
//! cluster hash slot, and bitmap arithmetic. Pure functions over byte slices: no keyspace
//! state, no I/O, and nothing here panics on bytes from the network.

pub mod bits;
pub mod crc16;
pub mod glob;
pub mod num;
