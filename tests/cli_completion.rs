//! `kind completion`: the bash script installs as kind's docs say
//! (`source <(kind completion bash)`) and completes commands, subcommands
//! and flags; the other shells' scripts name this build's commands.

mod common;

use std::process::Command;

/// Source the bash completion, "press TAB" after `line`, return the words offered.
fn bash_complete(line: &str) -> Vec<String> {
    let words: Vec<&str> = line.split(' ').collect();
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let script = format!(
        r#"source <("$KIND" completion bash) || exit 3
complete -p kind >/dev/null || exit 4
COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE={line:?}; COMP_POINT=${{#COMP_LINE}}
_kind kind {cur:?} {prev:?}
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = words
            .iter()
            .map(|w| format!("{w:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        cur = words[cword],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .env("KIND", common::kind_bin())
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    got.sort();
    got
}

#[test]
fn bash_completes_commands_subcommands_and_flags() {
    assert_eq!(bash_complete("kind cr"), ["create"]);
    assert_eq!(bash_complete("kind get n"), ["nodes"]);
    assert_eq!(
        bash_complete("kind completion "),
        [
            "--help",
            "--quiet",
            "--verbosity",
            "-h",
            "-q",
            "-v",
            "bash",
            "fish",
            "powershell",
            "zsh"
        ]
    );
    assert_eq!(bash_complete("kind get nodes --na"), ["--name"]);
    assert_eq!(bash_complete("kind delete clusters --a"), ["--all"]);
}

#[test]
fn every_shell_gets_a_script_naming_the_commands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Command::new(common::kind_bin())
            .args(["completion", shell])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(out.stderr.is_empty(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        for word in [
            "kind",
            "create",
            "node-image",
            "image-archive",
            "all-clusters",
        ] {
            assert!(text.contains(word), "{shell} script lacks {word}");
        }
    }
}
