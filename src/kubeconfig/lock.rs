//! `<path>.lock`, the same lock file client-go and upstream kind use.
//!
//! Upstream fails at once when the lock exists; we retry for a while so
//! several kind processes can create/delete clusters against one kubeconfig
//! concurrently. A lock older than the wait still fails: it may be held by a
//! live process we cannot see, so it is never stolen. The error then names
//! the lock file, its age and what to do, since a crashed kind leaves its
//! lock behind and nothing else would tell the user.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use rand::Rng;

/// How long to wait for someone else's lock.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// Held lock; the lock file is removed on drop (also on error paths).
/// While it is held a signal does not end the process, so neither a
/// half-written kubeconfig nor the lock file is left behind.
#[derive(Debug)]
pub(crate) struct Lock {
    path: PathBuf,
    // Dropped after `drop` removed the lock file.
    _critical: crate::interrupt::Critical,
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
/// With `abort_on_signal`, a SIGINT/SIGTERM received while waiting for
/// someone else's lock ends the wait with `Interrupted` (nothing written).
pub(crate) fn acquire(path: &Path, wait: Duration, abort_on_signal: bool) -> anyhow::Result<Lock> {
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
        // Critical from before the lock file can exist (waiting is not).
        let critical = crate::interrupt::critical();
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o000)
            .open(&lock)
        {
            Ok(_) => {
                return Ok(Lock {
                    path: lock,
                    _critical: critical,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && Instant::now() < deadline => {
                drop(critical);
                if abort_on_signal {
                    if let Some(signal) = crate::interrupt::received() {
                        return Err(crate::interrupt::Interrupted { signal }.into());
                    }
                }
                // Jitter so waiting processes do not retry in lockstep.
                std::thread::sleep(Duration::from_millis(rng.random_range(10..=50)));
            }
            Err(e) => {
                let mut msg = format!(
                    "failed to lock config file: open {}: {}",
                    lock.display(),
                    crate::gotext::io_error_text(&e)
                );
                if e.kind() == io::ErrorKind::AlreadyExists {
                    let since = std::fs::metadata(&lock).and_then(|m| m.modified()).ok();
                    msg.push_str(&held_hint(&lock, since, SystemTime::now(), wait));
                }
                anyhow::bail!(msg)
            }
        }
    }
}

/// What follows "file exists" when the lock was not released in time:
/// since when the lock exists, and that a crashed kind may have left it.
fn held_hint(lock: &Path, since: Option<SystemTime>, now: SystemTime, wait: Duration) -> String {
    let since = since
        .map(|t| {
            let age = now.duration_since(t).unwrap_or_default();
            format!(
                " since {} ({} ago)",
                utc_timestamp(t),
                crate::gotext::go_duration(age)
            )
        })
        .unwrap_or_default();
    format!(
        "; the lock file exists{since} and was not released within {}: another kind may be writing this kubeconfig, or a kind that crashed left its lock behind. If no kind is running, remove {}",
        crate::gotext::go_duration(wait),
        lock.display()
    )
}

/// RFC 3339 in UTC to the second (`2026-11-29T04:30:00Z`).
fn utc_timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
    // civil_from_days).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("nested/dir/config");
        let held = acquire(&cfg, Duration::ZERO, false).unwrap();
        assert!(dir.path().join("nested/dir/config.lock").exists());
        let err = acquire(&cfg, Duration::from_millis(100), false).unwrap_err();
        assert!(
            err.to_string().starts_with(&format!(
                "failed to lock config file: open {}.lock: file exists; the lock file exists since ",
                cfg.display()
            )),
            "{err}"
        );
        drop(held);
        assert!(!dir.path().join("nested/dir/config.lock").exists());
        drop(acquire(&cfg, Duration::ZERO, false).unwrap());
    }

    #[test]
    fn stale_lock_is_never_stolen() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(lock_path(&cfg), "").unwrap();
        let start = Instant::now();
        let err = acquire(&cfg, Duration::from_millis(300), false).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(
            err.to_string().ends_with(&format!(
                "If no kind is running, remove {}",
                lock_path(&cfg).display()
            )),
            "{err}"
        );
        assert!(lock_path(&cfg).exists(), "someone else's lock must stay");
    }

    #[test]
    fn held_lock_hint_says_since_when_and_what_to_do() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_926_600);
        let since = now - Duration::from_secs(3725);
        assert_eq!(
            held_hint(Path::new("/k/config.lock"), Some(since), now, Duration::from_secs(10)),
            "; the lock file exists since 2026-11-29T03:27:55Z (1h2m5s ago) and was not released within 10s: another kind may be writing this kubeconfig, or a kind that crashed left its lock behind. If no kind is running, remove /k/config.lock"
        );
        // Gone meanwhile (or unreadable): no age, the rest stays.
        assert!(held_hint(Path::new("/k/l"), None, now, Duration::ZERO)
            .starts_with("; the lock file exists and was not released within 0s: "));
    }

    #[test]
    fn utc_timestamps() {
        let at = |s: u64| utc_timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    #[test]
    fn waits_for_a_lock_released_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        let held = acquire(&cfg, Duration::ZERO, false).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(held);
        });
        let got = acquire(&cfg, Duration::from_secs(5), false);
        releaser.join().unwrap();
        assert!(got.is_ok());
    }
}
