//! SIGINT and SIGTERM, honoured at every step of every command.
//!
//! Upstream kind installs no handler: Go's runtime lets either signal kill
//! the process (the shell reports 130 or 143), whatever the command was
//! doing. We end the same way ([`die`] re-raises the signal with its default
//! action), but first:
//! - the command in flight is dropped, which cancels its Docker requests;
//! - a command that made something (create cluster; later create node,
//!   resize) rolls it back before dying — see "Rollback rule" below;
//! - no signal ends the process inside a [`critical`] section (a held
//!   kubeconfig lock: the file is never left half-written nor the lock
//!   file behind).
//!
//! Use: the CLI calls [`install`] once and runs every command through
//! [`interruptible`]; a command with steps that make things wraps those
//! steps in [`interruptible`] itself, so it gets `Err(Interrupted)` back,
//! rolls back, and returns the error (the CLI then dies by the signal).
//!
//! Rollback rule: on an error or a signal during its steps, a command that
//! makes things removes exactly what this run made (create-id labels, see
//! `cluster::ownership`) unless `--retain`, and touches no kubeconfig entry
//! it did not write. The rollback itself is not interruptible by the first
//! signal; a second signal ends the process at once (outside critical
//! sections), leaving whatever the rollback had not removed yet.
//!
//! A signal ignored when the process started (a job started with `&` from
//! a non-interactive shell ignores SIGINT) stays ignored, as in Go.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// The command was ended by a signal (a typed error: callers branch on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by {}", signal_name(*.signal))]
pub struct Interrupted {
    pub signal: i32,
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// The first signal received, once the listener runs.
static RECEIVED: OnceLock<watch::Receiver<Option<i32>>> = OnceLock::new();
/// Critical sections in progress (a signal waits for them to end).
static CRITICAL: AtomicUsize = AtomicUsize::new(0);
/// How long dying waits for critical sections (a kubeconfig write is
/// milliseconds; the bound only guards against a stuck filesystem).
const CRITICAL_WAIT: Duration = Duration::from_secs(15);

/// Start listening for SIGINT and SIGTERM (within a tokio runtime). The
/// first signal is reported through [`interruptible`]; a second one ends
/// the process. Calling it again is a no-op.
pub fn install() -> std::io::Result<()> {
    if RECEIVED.get().is_some() {
        return Ok(());
    }
    use tokio::signal::unix::{signal, SignalKind};
    let mut streams = Vec::new();
    for (sig, kind) in [
        (libc::SIGINT, SignalKind::interrupt()),
        (libc::SIGTERM, SignalKind::terminate()),
    ] {
        if !ignored_at_start(sig) {
            streams.push((sig, signal(kind)?));
        }
    }
    let (tx, rx) = watch::channel(None);
    if RECEIVED.set(rx).is_err() {
        return Ok(());
    }
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            let next = futures_util::future::select_all(
                streams
                    .iter_mut()
                    .map(|(sig, s)| Box::pin(async move { s.recv().await.map(|_| *sig) })),
            )
            .await
            .0;
            let Some(sig) = next else { return };
            count += 1;
            if count == 1 {
                let _ = tx.send(Some(sig));
            } else {
                // Second signal: the user insists; stop the rollback.
                die(sig);
            }
        }
    });
    Ok(())
}

/// Whether `sig`'s disposition is SIG_IGN (inherited from the parent).
fn ignored_at_start(sig: i32) -> bool {
    // SAFETY: querying (not changing) the disposition with a null new action.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// The first signal received so far, if any.
pub fn received() -> Option<i32> {
    RECEIVED.get().and_then(|rx| *rx.borrow())
}

/// Resolves when a signal has been received (never, without [`install`]).
pub async fn signalled() -> Interrupted {
    let Some(rx) = RECEIVED.get() else {
        return std::future::pending().await;
    };
    let mut rx = rx.clone();
    let signal = match rx.wait_for(Option::is_some).await {
        Ok(v) => v.unwrap_or(libc::SIGINT),
        Err(_) => return std::future::pending().await,
    };
    Interrupted { signal }
}

/// Run `step` unless a signal arrives first: then `step` is dropped (its
/// in-flight requests cancelled) and the result is `Err(Interrupted)`. A
/// signal received before the call interrupts at once.
pub async fn interruptible<T, F>(step: F) -> anyhow::Result<T>
where
    F: Future<Output = anyhow::Result<T>>,
{
    tokio::select! {
        biased;
        i = signalled() => Err(i.into()),
        r = step => r,
    }
}

/// The signal that ended `err`'s command, if a signal did.
pub fn interrupted_by(err: &anyhow::Error) -> Option<i32> {
    err.chain()
        .find_map(|e| e.downcast_ref::<Interrupted>())
        .map(|i| i.signal)
}

/// While held, a signal does not end the process (see [`critical`]).
#[derive(Debug)]
pub struct Critical(());

impl Drop for Critical {
    fn drop(&mut self) {
        CRITICAL.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Enter a section that must not be cut short by a signal (a held
/// kubeconfig lock). Keep it short: dying waits for it.
pub fn critical() -> Critical {
    CRITICAL.fetch_add(1, Ordering::SeqCst);
    Critical(())
}

/// End the process as the signal's default action would (as upstream
/// does), once no critical section is in progress (bounded wait).
pub fn die(signal: i32) -> ! {
    let deadline = Instant::now() + CRITICAL_WAIT;
    while CRITICAL.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: restoring the default action and raising the signal is what
    // Go's runtime does for an unhandled SIGINT/SIGTERM.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
    }
    // Not reached for SIGINT/SIGTERM; the shell's code for it otherwise.
    std::process::exit(128 + signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_signal_the_step_runs() {
        let r = interruptible(async { anyhow::Ok(7) }).await.unwrap();
        assert_eq!(r, 7);
    }

    #[test]
    fn interrupted_is_found_in_a_context_chain() {
        let err = anyhow::Error::from(Interrupted {
            signal: libc::SIGTERM,
        })
        .context("failed to create cluster");
        assert_eq!(interrupted_by(&err), Some(libc::SIGTERM));
        assert_eq!(
            format!("{err:#}"),
            "failed to create cluster: interrupted by SIGTERM"
        );
        assert_eq!(interrupted_by(&anyhow::anyhow!("other")), None);
    }
}
