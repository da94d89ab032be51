//! The server log, in redis-server's line format: `pid:M dd Mon yyyy hh:mm:ss.mmm * message`.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::OnceLock;

use parking_lot::Mutex;

static LEVEL: AtomicU8 = AtomicU8::new(2);
static SINK: OnceLock<Mutex<Box<dyn Write + Send>>> = OnceLock::new();

/// Sets the level (`debug`, `verbose`, `notice`, `warning`, `nothing`) and the file (empty:
/// standard output). A file that cannot be opened falls back to standard output.
pub fn init(level: &str, logfile: &str) {
    set_level(level);
    let sink: Box<dyn Write + Send> = if logfile.is_empty() {
        Box::new(std::io::stdout())
    } else {
        match std::fs::OpenOptions::new().create(true).append(true).open(logfile) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("Can't open the log file {logfile}: {e}");
                Box::new(std::io::stdout())
            }
        }
    };
    let _ = SINK.set(Mutex::new(sink));
}

/// Changes the level at run time (CONFIG SET loglevel).
pub fn set_level(level: &str) {
    let l = match level {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        "warning" => 3,
        _ => 4,
    };
    LEVEL.store(l, Relaxed);
}

fn write(level: u8, msg: &str) {
    if level < LEVEL.load(Relaxed) {
        return;
    }
    let mark = ['.', '-', '*', '#'][level.min(3) as usize];
    let line = format!("{}:M {} {mark} {msg}\n", std::process::id(), timestamp(larder_engine::clock::now_ms()));
    match SINK.get() {
        Some(s) => {
            let mut w = s.lock();
            let _ = w.write_all(line.as_bytes());
            let _ = w.flush();
        }
        None => print!("{line}"),
    }
}

/// Logs at debug level.
pub fn debug(msg: &str) {
    write(0, msg)
}
/// Logs at verbose level.
pub fn verbose(msg: &str) {
    write(1, msg)
}
/// Logs at notice level.
pub fn notice(msg: &str) {
    write(2, msg)
}
/// Logs at warning level.
pub fn warning(msg: &str) {
    write(3, msg)
}

/// `dd Mon yyyy hh:mm:ss.mmm` in UTC.
pub fn timestamp(ms: u64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{d:02} {} {y} {:02}:{:02}:{:02}.{:03}",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Gregorian (year, month, day) of a count of days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_dates() {
        assert_eq!(super::timestamp(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(super::timestamp(1_795_342_200_123), "22 Nov 2026 10:10:00.123");
        assert_eq!(super::timestamp(951_782_400_000), "29 Feb 2000 00:00:00.000");
    }
}
