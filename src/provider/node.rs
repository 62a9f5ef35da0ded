//! A node as a provider hands it out (name, role, runtime mode, its entry
//! in the stored config), read from the container's labels; what a command
//! run in it returns; and how a failed command reads: upstream's
//! `command "…" failed with error: …` with the equivalent docker CLI argv.

use std::collections::HashMap;

use super::{LABEL_CONFIG_NODE, LABEL_ROLE, LABEL_RUNTIME_MODE};

/// A node (or the load balancer) of a cluster, as listed by the provider.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeRef {
    pub name: String,
    pub role: String,
    /// From LABEL_RUNTIME_MODE; nodes without it (upstream kind's) are runc.
    pub runtime_mode: String,
    /// From LABEL_CONFIG_NODE: the node's index in the stored config's
    /// `nodes`; None for the load balancer and nodes not made by us.
    pub config_index: Option<usize>,
    /// From LABEL_INBOX: where the node mounts its cluster's images inbox;
    /// None for nodes without one (older versions', upstream kind's).
    pub images_inbox: Option<String>,
}

/// A Sysbox-mode node without a config index, for unit tests.
#[cfg(test)]
pub fn test_node(name: &str, role: &str) -> NodeRef {
    NodeRef {
        name: name.into(),
        role: role.into(),
        runtime_mode: "sysbox".into(),
        config_index: None,
        images_inbox: None,
    }
}

impl NodeRef {
    /// A container's identity from its name and labels.
    pub fn from_labels(name: &str, labels: &HashMap<String, String>) -> NodeRef {
        NodeRef {
            name: name.to_string(),
            role: labels.get(LABEL_ROLE).cloned().unwrap_or_default(),
            runtime_mode: labels
                .get(LABEL_RUNTIME_MODE)
                .cloned()
                .unwrap_or_else(|| "runc".into()),
            config_index: labels.get(LABEL_CONFIG_NODE).and_then(|i| i.parse().ok()),
            images_inbox: labels.get(super::inbox::LABEL_INBOX).cloned(),
        }
    }

    /// Upstream execs with --privileged; Sysbox nodes never need it.
    pub fn privileged_exec(&self) -> bool {
        self.runtime_mode != "sysbox"
    }
}

/// A node container's state, as `stop`/`start cluster` need it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeState {
    /// Running (or restarting).
    pub running: bool,
    /// Created with `--ephemeral` (`--rm`): it cannot be stopped and kept.
    pub ephemeral: bool,
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

    #[test]
    fn identity_comes_from_the_labels() {
        let labels = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let n = NodeRef::from_labels(
            "k-worker2",
            &labels(&[
                (LABEL_ROLE, "worker"),
                (LABEL_RUNTIME_MODE, "sysbox"),
                (LABEL_CONFIG_NODE, "2"),
            ]),
        );
        assert_eq!(
            n,
            NodeRef {
                name: "k-worker2".into(),
                role: "worker".into(),
                runtime_mode: "sysbox".into(),
                config_index: Some(2),
                images_inbox: None,
            }
        );
        assert!(!n.privileged_exec());
        // Upstream kind's nodes: no mode label means runc, no index.
        let upstream = NodeRef::from_labels(
            "kind-control-plane",
            &labels(&[(LABEL_ROLE, "control-plane")]),
        );
        assert_eq!(
            (upstream.runtime_mode.as_str(), upstream.config_index),
            ("runc", None)
        );
        assert!(upstream.privileged_exec());
    }
}
