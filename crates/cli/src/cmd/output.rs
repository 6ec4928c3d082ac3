//! Files a command writes, opened before the work so that a bad path is a
//! usage error (exit code 2) before anything is written, and put in place
//! only when the work succeeds.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::UsageError;

/// An output file being written.
///
/// A regular file, new or existing (through a symbolic link too, which is
/// kept), is written beside itself and renamed into place by
/// [`Output::commit`]: a failed run leaves any previous file untouched and
/// no partial output behind, with the previous file's permissions. Anything
/// else that exists (a named pipe, a terminal), and another name for an open
/// file (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`), is appended to where
/// it is: renaming over it would replace a device with a file, or unlink the
/// file a shell redirected standard output to.
#[derive(Debug)]
pub struct Output {
    file: BufWriter<File>,
    /// Its flag and path, for messages: `--output scores.csv`.
    name: String,
    /// `(temporary, final)` paths for a file replaced whole.
    rename: Option<(PathBuf, PathBuf)>,
}

impl Output {
    /// [`Output::create`], refused when `path` is the file `input` (under
    /// any name): the output would replace the data it is made from.
    pub fn create_apart(path: &Path, flag: &str, input: &Path) -> Result<Output, UsageError> {
        if same_file(path, input) {
            return Err(UsageError(format!(
                "{flag} {} is the input file: name another file, or the input would be replaced by the output",
                path.display()
            )));
        }
        Output::create(path, flag)
    }

    /// [`Output::create`], refused when `path` is one of the database's
    /// `files` in `data_dir`: by any name if it exists, by its directory and
    /// name if not (a WAL file SQLite has not made yet is still its own).
    pub fn create_apart_from_store(
        path: &Path,
        flag: &str,
        data_dir: &Path,
        files: &[&str],
    ) -> Result<Output, UsageError> {
        let dir = std::fs::canonicalize(data_dir).ok();
        let same_dir = dir.is_some() && std::fs::canonicalize(directory_of(path)).ok() == dir;
        let clash = files.iter().any(|name| {
            same_file(path, &data_dir.join(name))
                || (same_dir && path.file_name() == Some(std::ffi::OsStr::new(name)))
        });
        if clash {
            return Err(UsageError(format!(
                "{flag} {} is a file of the database in {}: name a file outside it, or the database would be replaced by the output",
                path.display(),
                data_dir.display()
            )));
        }
        Output::create(path, flag)
    }

    /// Opens `path`, given by the command-line `flag`, for writing.
    pub fn create(path: &Path, flag: &str) -> Result<Output, UsageError> {
        let unwritable = |what: &Path, e: std::io::Error| {
            UsageError(format!(
                "cannot write {flag} {}: {e}; choose a {flag} in a writable directory",
                what.display()
            ))
        };
        let metadata = std::fs::metadata(path);
        // `/dev/stdout`, `/proc/self/fd/1`: another name for an open file,
        // often the shell's redirection to a regular file, which a rename
        // would unlink from under the shell.
        let alias = path == Path::new("/dev/stdout")
            || path == Path::new("/dev/stderr")
            || path.starts_with("/dev/fd")
            || (path.starts_with("/proc") && path.components().any(|c| c.as_os_str() == "fd"));
        match &metadata {
            Ok(m) if m.is_dir() => Err(UsageError(format!(
                "{flag} {} is a directory; name a file",
                path.display()
            ))),
            Ok(m) if alias || !m.is_file() => {
                // Appending: through a shell's `>` the file is already open,
                // and writing from its start would overwrite what is there.
                let file = OpenOptions::new()
                    .append(true)
                    .open(path)
                    .map_err(|e| unwritable(path, e))?;
                Ok(Output {
                    file: BufWriter::new(file),
                    name: format!("{flag} {}", path.display()),
                    rename: None,
                })
            }
            _ => {
                let path = destination(path);
                let dir = directory_of(&path);
                let name = path.file_name().ok_or_else(|| {
                    UsageError(format!("{flag} {} names no file", path.display()))
                })?;
                // Its own temporary, whatever other outputs of this process
                // are written beside it.
                static OPENED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let tmp = dir.join(format!(
                    ".{}.tmp-{}-{n}",
                    name.to_string_lossy(),
                    std::process::id()
                ));
                let file = File::create(&tmp).map_err(|e| unwritable(&path, e))?;
                // A replaced file keeps its permissions (a private report stays private).
                if let Ok(previous) = &metadata {
                    let _ = file.set_permissions(previous.permissions());
                }
                Ok(Output {
                    file: BufWriter::new(file),
                    name: format!("{flag} {}", path.display()),
                    rename: Some((tmp, path)),
                })
            }
        }
    }

    /// Where to write.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.file
    }

    /// Its flag and path, for messages about writing it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes all of `bytes`; an error names the output.
    pub fn write_all(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        (self.file.write_all(bytes)).with_context(|| format!("writing {}", self.name))
    }

    /// Flushes what was written and, for a file replaced whole, syncs it and
    /// renames it into place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let name = &self.name;
        (self.file.flush()).with_context(|| format!("writing {name}"))?;
        if let Some((tmp, path)) = self.rename.take() {
            let synced = self.file.get_ref().sync_all();
            let done = (synced.with_context(|| format!("syncing {name}"))).and_then(|()| {
                std::fs::rename(&tmp, &path)
                    .with_context(|| format!("renaming output to {}", path.display()))
            });
            if done.is_err() {
                // Best effort: the error being returned matters more.
                let _ = std::fs::remove_file(&tmp);
            }
            done?;
        }
        Ok(())
    }
}

impl Drop for Output {
    /// Not committed (the work failed): no partial output is left behind.
    fn drop(&mut self) {
        if let Some((tmp, _)) = &self.rename {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Whether files written at `a` and at `b` would end up as one file, by
/// any names: one existing file, or one name in one directory.
pub fn same_destination(a: &Path, b: &Path) -> bool {
    let resolved = |path: &Path| {
        let path = destination(path);
        let dir = std::fs::canonicalize(directory_of(&path));
        match (dir, path.file_name()) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => path,
        }
    };
    same_file(a, b) || resolved(a) == resolved(b)
}

/// Where a file written at `path` ends up: through a link to its file, so
/// the link stays a link; a link whose file does not exist yet is followed
/// one step, as `canonicalize` cannot.
fn destination(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| link_target(path))
        .unwrap_or_else(|_| path.to_owned())
}

/// The directory `path` names a file in: `.` for a bare name.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Whether `a` and `b` are one existing file, by any names (links included).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(a), Ok(b)) if a == b
        )
    }
}

/// Where the symbolic link `path` points, relative to the link's directory.
fn link_target(path: &Path) -> std::io::Result<PathBuf> {
    let target = std::fs::read_link(path)?;
    Ok(match path.parent() {
        Some(dir) if target.is_relative() => dir.join(target),
        _ => target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("dialtone-output-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn two_names_of_one_destination_are_told_apart_from_two_files() {
        let dir = scratch("destination");
        let path = dir.join("out.csv");
        // Through `sub/..`: equal to `path` only once resolved (`Path`'s
        // own comparison already ignores a `.`).
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let dotted = dir.join("sub").join("..").join("out.csv");
        assert!(same_destination(&path, &dotted), "not there yet");
        std::fs::write(&path, "previous").unwrap();
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(same_destination(&path, &dotted));
        assert!(same_destination(&link, &path), "a link to it");
        assert!(!same_destination(&path, &dir.join("out.svg")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_is_replaced_only_on_commit() {
        let dir = scratch("commit");
        let path = dir.join("out.csv");
        std::fs::write(&path, "previous").unwrap();
        let mut out = Output::create(&path, "--output").unwrap();
        out.writer().write_all(b"partial").unwrap();
        drop(out);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary left"
        );
        let mut out = Output::create(&path, "--output").unwrap();
        out.writer().write_all(b"new").unwrap();
        out.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_link_stays_a_link_and_a_device_a_device() {
        let dir = scratch("link");
        let target = dir.join("target.csv");
        std::fs::write(&target, "previous").unwrap();
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        // Writes `text` through the link `link`, which must stay a link.
        let write_through = |link: &Path, text: &[u8]| {
            let mut out = Output::create(link, "--output").unwrap();
            out.writer().write_all(text).unwrap();
            out.commit().unwrap();
            assert!(
                std::fs::symlink_metadata(link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        };
        write_through(&link, b"new");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        // A link to a file not written yet (relative, as `ln -s` makes it).
        let dangling = dir.join("dangling.csv");
        std::os::unix::fs::symlink("later.csv", &dangling).unwrap();
        write_through(&dangling, b"first");
        assert_eq!(
            std::fs::read_to_string(dir.join("later.csv")).unwrap(),
            "first"
        );
        // /dev/null is written in place, and stays a device.
        let mut out = Output::create(Path::new("/dev/null"), "--output").unwrap();
        out.writer().write_all(b"gone").unwrap();
        out.commit().unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_open_under_another_name_is_appended_to_not_replaced() {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        // As a shell's `> out.csv` holds it, with `--output /dev/stdout`.
        let dir = scratch("alias");
        let path = dir.join("redirected.csv");
        let mut held = File::create(&path).unwrap();
        held.write_all(b"before,").unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        let alias = PathBuf::from(format!("/proc/self/fd/{}", held.as_raw_fd()));
        let mut out = Output::create(&alias, "--output").unwrap();
        out.writer().write_all(b"after").unwrap();
        out.commit().unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().ino(),
            inode,
            "not replaced"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "before,after");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("mode");
        let path = dir.join("private.md");
        std::fs::write(&path, "previous").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut out = Output::create(&path, "--output").unwrap();
        out.writer().write_all(b"new").unwrap();
        out.commit().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_or_a_missing_one_is_a_usage_error() {
        let dir = scratch("dir");
        let err = Output::create(&dir, "--output").unwrap_err();
        assert!(err.0.contains("is a directory"), "{err}");
        let err = Output::create(&dir.join("no/such/dir/out.csv"), "--plot").unwrap_err();
        assert!(err.0.contains("cannot write --plot"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_input_under_any_name_is_not_an_output() {
        let dir = scratch("apart");
        let input = dir.join("in.csv");
        std::fs::write(&input, "timestamp,value\n").unwrap();
        let other_name = dir.join("hard-link.csv");
        std::fs::hard_link(&input, &other_name).unwrap();
        for name in [input.clone(), dir.join("./in.csv"), other_name] {
            let err = Output::create_apart(&name, "--output", &input).unwrap_err();
            assert!(err.0.contains("is the input file"), "{err}");
        }
        let fine = Output::create_apart(&dir.join("out.csv"), "--output", &input);
        assert!(fine.is_ok());
        assert_eq!(
            std::fs::read_to_string(&input).unwrap(),
            "timestamp,value\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_of_the_store_is_not_an_output_by_any_name_even_before_it_exists() {
        let dir = scratch("store");
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("db"), "precious").unwrap();
        std::os::unix::fs::symlink(data.join("db"), dir.join("link.md")).unwrap();
        let files = ["db", "db-wal"];
        for name in [
            data.join("db"),
            data.join("./db-wal"),
            dir.join("../")
                .join(dir.file_name().unwrap())
                .join("data/db"),
            dir.join("link.md"),
        ] {
            let err = Output::create_apart_from_store(&name, "--output", &data, &files)
                .expect_err("refused");
            assert!(err.0.contains("is a file of the database in"), "{err}");
        }
        for fine in [data.join("report.md"), dir.join("db")] {
            assert!(Output::create_apart_from_store(&fine, "--output", &data, &files).is_ok());
        }
        assert_eq!(
            std::fs::read_to_string(data.join("db")).unwrap(),
            "precious"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
