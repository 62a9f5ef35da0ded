//! A node as a provider hands it out (name, role, runtime mode), what a
//! command run in it returns, and how a failed command reads: upstream's
//! `command "…" failed with error: …` with the equivalent docker CLI argv.

/// A node (or the load balancer) of a cluster, as listed by the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRef {
    pub name: String,
    pub role: String,
    /// From LABEL_RUNTIME_MODE; nodes without it (upstream kind's) are runc.
    pub runtime_mode: String,
}

impl NodeRef {
    /// Upstream execs with --privileged; Sysbox nodes never need it.
    pub fn privileged_exec(&self) -> bool {
        self.runtime_mode != "sysbox"
    }
}

#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i64,
}

/// A command that failed. Display as upstream:
/// `command "<shell-quoted argv>" failed with error: exit status N`;
/// `output` is the combined stdout+stderr (printed as `Command Output:`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("command \"{}\" failed with error: {reason}", shell_join(.argv))]
pub struct RunError {
    /// The equivalent docker CLI argv, e.g. `docker exec kind-control-plane kubeadm …`.
    pub argv: Vec<String>,
    pub reason: String,
    pub output: String,
}

/// Join argv as a shell would need it: bare when only
/// `[A-Za-z0-9@%_+=:,./-]`, else single-quoted (`'` as `'"'"'`); empty => `''`.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    if arg.is_empty() {
        return "''".into();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%_+=:,./-".contains(c);
    if arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\"'\"'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn shell_join_quotes_like_upstream() {
        let cases: &[(&[&str], &str)] = &[
            (
                &[
                    "docker",
                    "exec",
                    "--privileged",
                    "kind-control-plane",
                    "cat",
                    "/kind/version",
                ],
                "docker exec --privileged kind-control-plane cat /kind/version",
            ),
            (&["a@b%c_d+e=f:g,h.i/j-k"], "a@b%c_d+e=f:g,h.i/j-k"),
            (&[""], "''"),
            (&["two words"], "'two words'"),
            (&["it's"], "'it'\"'\"'s'"),
            (&["$HOME", "a*b", "x~"], "'$HOME' 'a*b' 'x~'"),
            (
                &["bash", "-c", "echo 'hi' && exit 1"],
                "bash -c 'echo '\"'\"'hi'\"'\"' && exit 1'",
            ),
            (&["ünï"], "'ünï'"),
        ];
        for (argv, want) in cases {
            assert_eq!(shell_join(&s(argv)), *want);
        }
    }

    #[test]
    fn run_error_displays_like_upstream() {
        let e = RunError {
            argv: s(&[
                "docker",
                "exec",
                "--privileged",
                "kind-control-plane",
                "sh",
                "-c",
                "exit 3",
            ]),
            reason: "exit status 3".into(),
            output: String::new(),
        };
        assert_eq!(e.to_string(), "command \"docker exec --privileged kind-control-plane sh -c 'exit 3'\" failed with error: exit status 3");
    }
}
