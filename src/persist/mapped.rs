//! Files read by mapping them instead of copying them into memory: a 2 GB dump then costs
//! page cache the kernel can reclaim, not 2 GB more of the process's own memory while loading.

use std::fs::File;
use std::ops::Deref;
use std::path::Path;

/// A file's bytes, mapped read-only (or read into memory when it is empty or cannot be
/// mapped).
pub enum Mapped {
    /// A read-only mapping.
    Map(memmap2::Mmap),
    /// The bytes, read.
    Read(Vec<u8>),
}

impl Mapped {
    /// Maps `path`.
    pub fn open(path: &Path) -> std::io::Result<Mapped> {
        let f = File::open(path)?;
        if f.metadata()?.len() == 0 {
            return Ok(Mapped::Read(Vec::new()));
        }
        // SAFETY: the mapping is read-only and lives only while a load reads it. The files
        // mapped (dump.rdb, AOF base and incremental files) are written only by this process,
        // and not while they are being loaded: a snapshot replaces dump.rdb by rename (the
        // mapped inode is unchanged), and the AOF is opened for appending after the load.
        // Truncating a torn AOF tail happens after its last read through the mapping.
        match unsafe { memmap2::Mmap::map(&f) } {
            Ok(m) => Ok(Mapped::Map(m)),
            Err(_) => std::fs::read(path).map(Mapped::Read),
        }
    }
}

impl Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Mapped::Map(m) => m,
            Mapped::Read(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Mapped;

    #[test]
    fn maps_what_is_on_disk_and_empty_files() {
        let dir = std::env::temp_dir().join(format!("larder-mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("f");
        std::fs::write(&p, b"REDIS0010 hello").expect("write");
        assert_eq!(&*Mapped::open(&p).expect("map"), b"REDIS0010 hello");
        std::fs::write(&p, b"").expect("write");
        assert!(Mapped::open(&p).expect("map").is_empty());
        assert!(Mapped::open(&dir.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
