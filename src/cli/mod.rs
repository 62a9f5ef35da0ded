//! The `kind` command line with cobra/pflag's semantics (spec §1.1, §1.1a,
//! §1.2): the tree of commands (`tree`), flag parsing (`pflag`), command
//! finding and validation (`cobra`), help text (`help`), shell completion
//! (`completion`), and the handlers (`commands`).
//!
//! [`parse`] is pure (no Docker, no environment but argv), for tests and
//! fuzzing; [`main`] prints what it decided and runs the command.

pub mod cobra;
mod commands;
pub mod completion;
pub mod help;
pub mod output;
pub mod pflag;
pub mod tree;

use std::ffi::OsString;
use std::io::Write as _;

use crate::log::Logger;
use crate::provider::RunError;

pub use cobra::{Invocation, Outcome};
pub use tree::CommandId;

/// The version of upstream kind whose behaviour we reproduce.
pub const KIND_COMPAT_VERSION: &str = "0.32.0";

/// Parse a full argv (`argv[0]` is skipped) into the command to run, or
/// what to print and how to exit instead. Never touches Docker.
pub fn parse(argv: &[String]) -> Result<Invocation, Outcome> {
    cobra::parse(argv)
}

/// Program output on stdout. A closed pipe (`kind … | head -1`) is not an
/// error worth dying for: upstream is killed by SIGPIPE, we just stop writing.
pub fn out(text: impl AsRef<[u8]>) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_ref());
    let _ = stdout.flush();
}

/// Run the CLI; returns the process exit code (0, 1, or 130/143 after a
/// signal).
pub fn main(args: Vec<OsString>) -> i32 {
    let argv: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let inv = match parse(&argv) {
        Ok(inv) => inv,
        Err(Outcome::Print(text)) => {
            out(text);
            return 0;
        }
        Err(Outcome::Fail { stdout, error }) => {
            out(stdout);
            // Parse failures happen before kind configures its logger from
            // the flags: only the `-q` pre-scan silences them, and -v does
            // not add a stack trace.
            let quiet = pflag::quiet_prescan(argv.get(1..).unwrap_or(&[]));
            Logger::stderr(quiet, 0).error(&error, None);
            return 1;
        }
    };
    let log = Logger::stderr(inv.quiet_prescan || inv.quiet, inv.verbosity);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log.error(&format!("failed to start the async runtime: {e}"), None);
            return 1;
        }
    };
    match runtime.block_on(commands::dispatch(&inv, &log)) {
        Ok(()) => 0,
        Err(e) => report(&e, &log),
    }
}

/// `ERROR: <chain>`, plus the failed command's output when there is one.
fn report(err: &anyhow::Error, log: &Logger) -> i32 {
    let output = err
        .chain()
        .find_map(|e| e.downcast_ref::<RunError>())
        .map(|r| r.output.clone());
    log.error(&format!("{err:#}"), output.as_deref());
    if log.verbosity() >= 1 {
        log.error(&format!("Stack Trace: {err:?}"), None);
    }
    // Stopped by a signal (after rolling back): the shell's code for it.
    err.chain()
        .find_map(|e| e.downcast_ref::<crate::cluster::interrupt::Interrupted>())
        .map_or(1, |i| i.exit_code())
}
