//! SIGINT and SIGTERM while a command changes a cluster: the command's
//! work is raced against the signal, and losing the race is an
//! [`Interrupted`] error, so the command rolls back what it made and the
//! process exits as a shell reports a death by that signal (130, 143).

use tokio::signal::unix::{signal, SignalKind};

/// The command was stopped by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by {}", if *.signal == SIGTERM { "SIGTERM" } else { "SIGINT" })]
pub struct Interrupted {
    pub signal: i32,
}

pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;

impl Interrupted {
    /// 128 + the signal number, as a shell reports a process the signal killed.
    pub fn exit_code(&self) -> i32 {
        128 + self.signal
    }
}

/// Resolves when SIGINT or SIGTERM arrives. If a handler cannot be
/// installed, waits for Ctrl-C alone (tokio's portable handler).
pub async fn signalled() -> Interrupted {
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => tokio::select! {
            _ = int.recv() => Interrupted { signal: SIGINT },
            _ = term.recv() => Interrupted { signal: SIGTERM },
        },
        _ => {
            let _ = tokio::signal::ctrl_c().await;
            Interrupted { signal: SIGINT }
        }
    }
}

/// `work`, unless a signal comes first.
pub async fn unless_signalled<T>(
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    tokio::select! {
        r = work => r,
        i = signalled() => Err(i.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_shells() {
        assert_eq!(Interrupted { signal: SIGINT }.exit_code(), 130);
        assert_eq!(Interrupted { signal: SIGTERM }.exit_code(), 143);
        assert_eq!(
            Interrupted { signal: SIGTERM }.to_string(),
            "interrupted by SIGTERM"
        );
    }
}
