//! One writer per SQLite file: `quorum run` and `quorum console` hold an
//! exclusive `flock` on `<database>.lock` for as long as they run. A second
//! instance on the same file refuses to start, naming the holder (its pid,
//! command and start time, written into the lock file). The kernel releases
//! the lock when its process dies, however it dies, so a lock file left by a
//! crash (kill -9, power loss) never blocks a restart: only a live holder
//! counts. PostgreSQL needs none of this (several instances share it).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

/// The lock held by this process; released when dropped or at exit.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    pub path: PathBuf,
}

/// The lock file of a SQLite database file.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The lock file of `url`'s database, or none (PostgreSQL, in-memory SQLite).
pub fn lock_path_of(url: &str) -> Option<PathBuf> {
    url.starts_with("sqlite:")
        .then(|| super::sqlite_path(url))
        .flatten()
        .map(|db| lock_path(&db))
}

/// Take the lock of `url`'s database for this process, recording `command`
/// (e.g. `quorum run`) as the holder. `Ok(None)` when the database needs no
/// lock; `Err` is one line for the operator.
pub fn acquire(url: &str, command: &str) -> Result<Option<InstanceLock>, String> {
    let Some(path) = lock_path_of(url) else {
        return Ok(None);
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
    match try_lock(&file) {
        Ok(true) => {}
        Ok(false) => {
            let mut holder = String::new();
            // Bounded: the file is ours, but never trust a size.
            let _ = (&file).take(512).read_to_string(&mut holder);
            let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
            let holder = if holder.is_empty() {
                "another process".to_string()
            } else {
                holder
            };
            return Err(format!(
                "the database {} is in use by {holder}; one instance per SQLite file: stop it first (or use PostgreSQL to run several)",
                db_of(&path).display()
            ));
        }
        Err(e) => {
            return Err(format!("cannot lock {}: {e}", path.display()));
        }
    }
    let note = format!(
        "{command} (pid {}, started {})\n",
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    );
    let written = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(note.as_bytes()))
        .and_then(|()| file.flush());
    if let Err(e) = written {
        return Err(format!(
            "cannot write the lock file {}: {e}",
            path.display()
        ));
    }
    Ok(Some(InstanceLock { _file: file, path }))
}

/// flock(2) LOCK_EX without waiting: `Ok(false)` when another open file
/// description holds it. (std's `File::try_lock` does the same from Rust
/// 1.89; the crate still builds with 1.85.)
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd as _;
    // SAFETY: the descriptor is open for as long as `file` is borrowed, and
    // flock(2) takes no pointers.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

fn db_of(lock: &Path) -> PathBuf {
    let s = lock.as_os_str().to_string_lossy();
    PathBuf::from(s.strip_suffix(".lock").unwrap_or(&s).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_file_is_refused_naming_the_first_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let url = format!("sqlite://{}/q.db", dir.display());
        let first = acquire(&url, "quorum run").unwrap().expect("a lock");
        assert_eq!(first.path, dir.join("q.db.lock"));
        let e = acquire(&url, "quorum console").unwrap_err();
        assert!(
            e.contains(&format!("quorum run (pid {}", std::process::id())),
            "{e}"
        );
        assert!(
            e.contains(&format!("{}/q.db is in use", dir.display())),
            "{e}"
        );
        drop(first);
        assert!(acquire(&url, "quorum console").unwrap().is_some());
    }

    #[test]
    fn postgres_and_in_memory_databases_take_no_lock() {
        assert!(
            acquire("postgres://u:p@127.0.0.1/q", "x")
                .unwrap()
                .is_none()
        );
        assert!(acquire("sqlite::memory:", "x").unwrap().is_none());
        assert_eq!(
            lock_path_of("sqlite:///var/lib/quorum/quorum.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/quorum/quorum.db.lock"))
        );
    }
}
