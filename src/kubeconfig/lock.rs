//! `<path>.lock`, the same lock file client-go and upstream kind use.
//!
//! Upstream fails at once when the lock exists; we retry for a while so
//! several kind processes can create/delete clusters against one kubeconfig
//! concurrently. A lock older than the wait still fails: it may be held by a
//! live process we cannot see, so it is never stolen.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::Rng;

/// How long to wait for someone else's lock.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Held lock; the lock file is removed on drop (also on error paths).
#[derive(Debug)]
pub(crate) struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Take the lock for kubeconfig `path`, creating its directory (0755) first.
pub(crate) fn acquire(path: &Path, wait: Duration) -> anyhow::Result<Lock> {
    let lock = lock_path(path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(dir)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "failed to lock config file: mkdir {}: {}",
                        dir.display(),
                        crate::gotext::io_error_text(&e)
                    )
                })?;
        }
    }
    let deadline = Instant::now() + wait;
    let mut rng = rand::rng();
    loop {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o000)
            .open(&lock)
        {
            Ok(_) => return Ok(Lock { path: lock }),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && Instant::now() < deadline => {
                // Jitter so waiting processes do not retry in lockstep.
                std::thread::sleep(Duration::from_millis(rng.random_range(10..=50)));
            }
            Err(e) => {
                anyhow::bail!(
                    "failed to lock config file: open {}: {}",
                    lock.display(),
                    crate::gotext::io_error_text(&e)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("nested/dir/config");
        let held = acquire(&cfg, Duration::ZERO).unwrap();
        assert!(dir.path().join("nested/dir/config.lock").exists());
        let err = acquire(&cfg, Duration::from_millis(100)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "failed to lock config file: open {}.lock: file exists",
                cfg.display()
            )
        );
        drop(held);
        assert!(!dir.path().join("nested/dir/config.lock").exists());
        drop(acquire(&cfg, Duration::ZERO).unwrap());
    }

    #[test]
    fn stale_lock_is_never_stolen() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(lock_path(&cfg), "").unwrap();
        let start = Instant::now();
        let err = acquire(&cfg, Duration::from_millis(300)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(
            err.to_string().ends_with("config.lock: file exists"),
            "{err}"
        );
        assert!(lock_path(&cfg).exists(), "someone else's lock must stay");
    }

    #[test]
    fn waits_for_a_lock_released_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        let held = acquire(&cfg, Duration::ZERO).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(held);
        });
        let got = acquire(&cfg, Duration::from_secs(5));
        releaser.join().unwrap();
        assert!(got.is_ok());
    }
}
