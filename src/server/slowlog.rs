//! SLOWLOG: the most recent commands that ran longer than slowlog-log-slower-than.

use std::collections::VecDeque;

/// One slow-log entry.
pub struct SlowEntry {
    /// Increasing id.
    pub id: u64,
    /// Unix time in seconds when the command ran.
    pub time: u64,
    /// Duration in microseconds.
    pub micros: u64,
    /// Arguments (at most 32; long ones shortened as Redis does).
    pub args: Vec<Vec<u8>>,
    /// Client `ip:port`.
    pub addr: String,
    /// Client name.
    pub name: Vec<u8>,
}

/// The slow log, newest first.
#[derive(Default)]
pub struct SlowLog {
    entries: VecDeque<SlowEntry>,
    next_id: u64,
}

const MAX_ARGS: usize = 32;
const MAX_ARG_LEN: usize = 128;

impl SlowLog {
    /// Records a command; `max_len` bounds the log.
    pub fn push<'a>(
        &mut self,
        args: impl ExactSizeIterator<Item = &'a [u8]>,
        micros: u64,
        time: u64,
        addr: String,
        name: Vec<u8>,
        max_len: usize,
    ) {
        let argc = args.len();
        let mut kept = Vec::with_capacity(argc.min(MAX_ARGS));
        for (i, a) in args.enumerate() {
            if i == MAX_ARGS - 1 && argc > MAX_ARGS {
                kept.push(format!("... ({} more arguments)", argc - MAX_ARGS + 1).into_bytes());
                break;
            }
            if a.len() > MAX_ARG_LEN {
                let mut v = a[..MAX_ARG_LEN].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_ARG_LEN).as_bytes());
                kept.push(v);
            } else {
                kept.push(a.to_vec());
            }
        }
        self.entries.push_front(SlowEntry { id: self.next_id, time, micros, args: kept, addr, name });
        self.next_id += 1;
        self.trim(max_len);
    }

    /// Drops the oldest entries beyond `max_len`.
    pub fn trim(&mut self, max_len: usize) {
        self.entries.truncate(max_len);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry.
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// The newest `n` entries.
    pub fn newest(&self, n: usize) -> impl Iterator<Item = &SlowEntry> {
        self.entries.iter().take(n)
    }
}
