//! The data directory: created, locked by the one server that may write it,
//! and its store opened with a hint that fits what went wrong.
//!
//! One server per data directory: two would write the same database, each
//! numbering incidents from what it read at start, and overwrite each
//! other's incidents and timelines.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use dialtone_store::SqliteStore;

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
    /// process holds it. The short-lived commands (`postmortem`, `user`,
    /// `token`) take no lock: SQLite serialises their few writes with ours.
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

/// Opens the store in `data_dir`, creating the directory if needed.
pub async fn open(data_dir: &Path) -> anyhow::Result<SqliteStore> {
    create(data_dir)?;
    Ok(open_store(data_dir).await?)
}

/// Creates `data_dir` if it is missing, readable by its owner alone: the
/// database in it holds password and token hashes and subscribers' addresses.
/// (An existing directory keeps its mode: the operator chose it.)
pub fn create(data_dir: &Path) -> Result<(), UsageError> {
    use std::os::unix::fs::DirBuilderExt;
    refuse_a_file(data_dir)?;
    (std::fs::DirBuilder::new().recursive(true).mode(0o700))
        .create(data_dir)
        .map_err(|e| {
            UsageError(format!(
                "cannot create data directory {}: {e} (choose another with --data-dir)",
                data_dir.display()
            ))
        })
}

/// Refuses a `--data-dir` that names a file, saying so (creating the
/// directory would only say that the file exists).
fn refuse_a_file(data_dir: &Path) -> Result<(), UsageError> {
    if data_dir.is_file() {
        return Err(UsageError(format!(
            "{} is a file: --data-dir names the directory `dialtone demo` keeps its database in",
            data_dir.display()
        )));
    }
    Ok(())
}

/// Opens (creating if missing) the store in the existing `data_dir`.
pub async fn open_store(data_dir: &Path) -> Result<SqliteStore, UsageError> {
    SqliteStore::open(data_dir)
        .await
        .map_err(|e| open_error(data_dir, &e))
}

/// The store in `data_dir`, which must hold one already: a command that only
/// reads or changes what is there must not create an empty database where a
/// mistyped `--data-dir` points.
pub async fn open_existing(data_dir: &Path) -> anyhow::Result<SqliteStore> {
    refuse_a_file(data_dir)?;
    if !data_dir.join(dialtone_store::SQLITE_FILE).is_file() {
        return Err(UsageError(format!(
            "there is no Dialtone database in {}: point --data-dir at the directory \
             `dialtone demo` uses, or add a user there first with `dialtone user add`",
            data_dir.display()
        ))
        .into());
    }
    Ok(open_store(data_dir).await?)
}

/// Why the database in `data_dir` could not be opened, with the remedy that
/// fits: a file that is not a database needs moving aside, where a directory
/// that refuses writes needs its permissions or disk space fixed.
fn open_error(data_dir: &Path, e: &dialtone_store::StoreError) -> UsageError {
    let file = data_dir.join(dialtone_store::SQLITE_FILE);
    let hint = match store_failure(e) {
        StoreFailure::NotADatabase => format!(
            "; {} is not a Dialtone database or is damaged: move it aside (with any -wal and -shm \
             files beside it) to start with an empty one, or choose another --data-dir",
            file.display()
        ),
        StoreFailure::Access => format!(
            "; check that {} is writable and its disk is not full, or choose another --data-dir",
            data_dir.display()
        ),
        StoreFailure::Other => String::new(),
    };
    UsageError(format!(
        "cannot open the database in {}: {e}{hint}",
        data_dir.display()
    ))
}

#[derive(Debug, PartialEq, Eq)]
enum StoreFailure {
    /// The file is no SQLite database, or a damaged one.
    NotADatabase,
    /// Permissions, a read-only file system, a full disk, an I/O error.
    Access,
    Other,
}

fn store_failure(e: &dialtone_store::StoreError) -> StoreFailure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        match err.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Io(_)) => return StoreFailure::Access,
            Some(sqlx::Error::Database(db)) => {
                // SQLite's extended codes carry the primary code in the low byte.
                let primary = db
                    .code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff);
                return match primary {
                    // SQLITE_CORRUPT, SQLITE_NOTADB
                    Some(11 | 26) => StoreFailure::NotADatabase,
                    // SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
                    Some(3 | 8 | 10 | 13 | 14) => StoreFailure::Access,
                    _ => StoreFailure::Other,
                };
            }
            _ => {}
        }
        if err.is::<std::io::Error>() {
            return StoreFailure::Access;
        }
        source = err.source();
    }
    StoreFailure::Other
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
