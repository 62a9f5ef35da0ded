//! The command line against recorded upstream behaviour: each
//! tests/golden/cli/*.json holds an argv (and environment), the exit code,
//! stdout and stderr that the real kind v0.32.0 produced for it (see the
//! README there), and, where this build differs on purpose, the expected
//! result with the reason. Cases that reach Docker only list (a cluster
//! name nobody uses), so the shared dockerd is not changed.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    args: Vec<String>,
    env: BTreeMap<String, String>,
    upstream: Outcome,
    expected: Option<Expected>,
}

#[derive(Deserialize, PartialEq, Debug)]
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

#[derive(Deserialize)]
struct Expected {
    why: String,
    code: i32,
    stdout: String,
    stderr: String,
}

fn golden_dir() -> PathBuf {
    common::repo_root().join("tests/golden/cli")
}

fn run(case: &Case) -> Outcome {
    let mut cmd = Command::new(common::kind_bin());
    cmd.args(&case.args).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("KIND_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(&case.env);
    let out = cmd.output().expect("run kind");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn command_line_matches_upstream_kind() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() > 100, "golden cases missing");
    let mut failures = Vec::new();
    for file in &files {
        let case: Case = serde_json::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let want = match &case.expected {
            Some(e) => {
                assert!(
                    !e.why.is_empty(),
                    "{}: an override needs a reason",
                    file.display()
                );
                Outcome {
                    code: e.code,
                    stdout: e.stdout.clone(),
                    stderr: e.stderr.clone(),
                }
            }
            None => Outcome {
                code: case.upstream.code,
                stdout: case.upstream.stdout.clone(),
                stderr: case.upstream.stderr.clone(),
            },
        };
        let got = run(&case);
        if got != want {
            failures.push(format!(
                "{} (kind {:?}):\n  want {want:?}\n  got  {got:?}",
                file.file_name().unwrap().to_string_lossy(),
                case.args
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// Overrides are for deliberate differences only: each must still differ
/// from upstream (else it should be removed) and stay exit 0/1.
#[test]
fn overrides_are_real_differences() {
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let case: Case = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(matches!(case.upstream.code, 0 | 1), "{}", path.display());
        if let Some(e) = case.expected {
            let ours = Outcome {
                code: e.code,
                stdout: e.stdout,
                stderr: e.stderr,
            };
            assert_ne!(
                ours,
                case.upstream,
                "{}: override equals upstream",
                path.display()
            );
            // Help that differs only by listing our own commands and flags
            // (`doctor`, `resize`, `start`, `stop`, `create node`, `delete
            // node`, `--ephemeral`: their texts end in "(kind-sysbox only)")
            // must be upstream's text otherwise.
            if e.why.contains("(ours alone)") {
                let without = |s: &str| {
                    s.lines()
                        .filter(|l| !(l.starts_with("  ") && l.ends_with("(kind-sysbox only)")))
                        .map(|l| format!("{l}\n"))
                        .collect::<String>()
                };
                assert_eq!(ours.code, case.upstream.code, "{}", path.display());
                assert_eq!(
                    without(&ours.stdout),
                    without(&case.upstream.stdout),
                    "{}",
                    path.display()
                );
                assert_eq!(
                    without(&ours.stderr),
                    without(&case.upstream.stderr),
                    "{}",
                    path.display()
                );
            }
        }
    }
}
