//! The `kind` command line: parsing with upstream's error texts, dispatch,
//! and the top-level error report (`ERROR: …`, exit 1).

pub mod args;
mod commands;

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use std::error::Error as _;

use clap::{CommandFactory, Parser};

use crate::log::Logger;
use crate::provider::RunError;
use args::Cli;

/// The version of upstream kind whose behaviour we reproduce.
pub const KIND_COMPAT_VERSION: &str = "0.32.0";

/// What went wrong before or while running a command.
pub enum Failure {
    /// Print this help text to stdout, then fail with the error.
    HelpThen(String, anyhow::Error),
    Error(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Error(e)
    }
}

/// `-q`/`--quiet` anywhere in argv, found before parsing so that even
/// parse errors are silenced (spec §1.1).
pub fn quiet_requested(args: &[String]) -> bool {
    args.iter()
        .skip(1)
        .any(|a| a == "-q" || a == "--quiet" || a == "--quiet=true")
}

/// Run the CLI; returns the process exit code.
pub fn main(args: Vec<OsString>) -> i32 {
    let argv: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let quiet = quiet_requested(&argv);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return report_parse_error(e, &Logger::stderr(quiet, 0)),
    };
    let log = Logger::stderr(quiet || cli.quiet, cli.verbosity);
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
    match runtime.block_on(commands::dispatch(cli, &log)) {
        Ok(()) => 0,
        Err(Failure::HelpThen(help, e)) => {
            print!("{help}");
            report(&e, &log)
        }
        Err(Failure::Error(e)) => report(&e, &log),
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
    1
}

/// Help for the command at `path` (e.g. `["create"]`).
pub fn help_for(path: &[&str]) -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let mut cur = &mut cmd;
    for name in path {
        cur = cur.find_subcommand_mut(name).expect("known subcommand");
    }
    cur.render_help().to_string()
}

/// Translate clap's errors into cobra's wording and kind's exit codes.
fn report_parse_error(e: clap::Error, log: &Logger) -> i32 {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return 0;
        }
        _ => {}
    }
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(" "),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        _ => String::new(),
    };
    let usage = ctx(ContextKind::Usage);
    let command_path = usage_command_path(&usage);
    let invalid = ctx(ContextKind::InvalidArg);
    let msg = match e.kind() {
        ErrorKind::UnknownArgument if invalid.starts_with("--") => {
            format!(
                "unknown flag: {}",
                invalid.split('=').next().unwrap_or(&invalid)
            )
        }
        ErrorKind::UnknownArgument if invalid.starts_with('-') && invalid.len() > 1 => {
            format!(
                "unknown shorthand flag: '{}' in {}",
                &invalid[1..2],
                invalid
            )
        }
        ErrorKind::UnknownArgument => format!("unknown command {invalid:?} for {command_path:?}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = ctx(ContextKind::InvalidValue);
            let flag = flag_name(&invalid);
            let cause = e
                .source()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "invalid value".into());
            format!("invalid argument {value:?} for {flag:?} flag: {cause}")
        }
        ErrorKind::NoEquals | ErrorKind::InvalidUtf8 | ErrorKind::ArgumentConflict => {
            first_line(&e)
        }
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues => first_line(&e),
        ErrorKind::MissingRequiredArgument => first_line(&e),
        _ => first_line(&e),
    };
    log.error(&msg, None);
    1
}

fn first_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let line = text.lines().next().unwrap_or("").trim();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// `Usage: kind create cluster [OPTIONS]` -> `kind create cluster`.
fn usage_command_path(usage: &str) -> String {
    let rest = usage.trim().strip_prefix("Usage:").unwrap_or(usage).trim();
    rest.split_whitespace()
        .take_while(|w| !w.starts_with('[') && !w.starts_with('<') && !w.starts_with('-'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// cobra names flags as `--wait` (long only) or `-n, --name`.
fn flag_name(invalid_arg: &str) -> String {
    let flag = invalid_arg.split_whitespace().next().unwrap_or(invalid_arg);
    let flag = flag.split('=').next().unwrap_or(flag).to_string();
    let short = match flag.as_str() {
        "--name" => Some("-n"),
        "--verbosity" => Some("-v"),
        _ => None,
    };
    match short {
        Some(s) => format!("{s}, {flag}"),
        None => flag,
    }
}

/// Cobra's "Did you mean this?" candidates: edit distance <= 2 or prefix.
pub fn suggestions(typed: &str, candidates: &[&str]) -> Vec<String> {
    candidates
        .iter()
        .filter(|c| levenshtein(typed, c) <= 2 || c.starts_with(typed))
        .map(|c| c.to_string())
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn quiet_is_found_anywhere_before_parsing() {
        assert!(quiet_requested(&argv("kind -q get clusters")));
        assert!(quiet_requested(&argv("kind get clusters --quiet -h")));
        assert!(quiet_requested(&argv("kind create cluster --bogus -q")));
        assert!(!quiet_requested(&argv("kind")));
        assert!(!quiet_requested(&argv("kind --loud")));
    }

    #[test]
    fn suggestions_like_cobra() {
        let top = [
            "build",
            "completion",
            "create",
            "delete",
            "export",
            "get",
            "help",
            "load",
            "version",
        ];
        assert_eq!(suggestions("crate", &top), ["create"]);
        assert_eq!(suggestions("ver", &top), ["get", "version"]);
        assert!(suggestions("zzzzzz", &top).is_empty());
    }

    #[test]
    fn usage_paths() {
        assert_eq!(
            usage_command_path("Usage: kind create cluster [OPTIONS]"),
            "kind create cluster"
        );
        assert_eq!(
            usage_command_path("Usage: kind get nodes [OPTIONS]"),
            "kind get nodes"
        );
    }

    #[test]
    fn every_command_parses() {
        Cli::command().debug_assert();
    }
}
