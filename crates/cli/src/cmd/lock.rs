//! One server per data directory: two would write the same database, each
//! numbering incidents from what it read at start, and overwrite each
//! other's incidents and timelines.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use super::UsageError;

/// File name of the lock inside the data directory. It stays behind after a
/// server stops: the lock, not the file, says a server runs, and the
/// operating system releases it however the process ends.
pub const LOCK_FILE: &str = "dialtone.lock";

/// The exclusive lock on a data directory, held until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    // Never read: holding the open file is what holds the lock.
    _file: File,
}

impl DataDirLock {
    /// Locks `data_dir` (which must exist) for this process, or says which
    /// process holds it. Readers (`postmortem`, `user`, `token`) take no lock.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, UsageError> {
        let path = data_dir.join(LOCK_FILE);
        let cannot = |e: std::io::Error| {
            UsageError(format!(
                "cannot lock data directory {} ({}: {e}); is the directory writable?",
                data_dir.display(),
                path.display()
            ))
        };
        // Not truncated on open: until locked, the holder's pid in it is not ours to erase.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(cannot)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim().parse::<u32>() {
                    Ok(pid) => format!("another dialtone (pid {pid})"),
                    Err(_) => "another dialtone".to_string(),
                };
                return Err(UsageError(format!(
                    "data directory {} is in use by {holder}: stop it first, or give this one another --data-dir",
                    data_dir.display()
                )));
            }
            Err(TryLockError::Error(e)) => return Err(cannot(e)),
        }
        // The pid is only for the message above: a failure to write it costs nothing else.
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| write!(file, "{}", std::process::id()))
            .and_then(|()| file.flush());
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).expect("free");
        let err = DataDirLock::acquire(dir.path()).expect_err("held");
        let pid = format!("pid {}", std::process::id());
        assert!(
            err.0.contains("is in use by another dialtone") && err.0.contains(&pid),
            "{}",
            err.0
        );
        drop(first);
        let again = DataDirLock::acquire(dir.path());
        assert!(again.is_ok(), "released on drop");
    }
}
