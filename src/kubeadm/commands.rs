//! The kubeadm and kubectl command lines kind runs in nodes (init, join,
//! untaint, the exclude-from-load-balancers label, the `--wait` selector),
//! varying with the node's Kubernetes version as upstream's do.

use anyhow::Context;

use super::config::{semantic, ApiBand};
use crate::version::Version;

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// kubeadm v1beta2 configs cannot carry skipPhases: there they are flags.
fn phases_are_flags(version: &Version) -> bool {
    ApiBand::for_version(version) == ApiBand::V1Beta2
}

/// `kubeadm init …` argv for the bootstrap control plane (spec §4.5).
pub fn init_command(version: &Version, kube_proxy_mode: &str) -> Vec<String> {
    let mut args = argv(&[
        "kubeadm",
        "init",
        "--config=/kind/kubeadm.conf",
        "--skip-token-print",
        "--v=6",
    ]);
    if phases_are_flags(version) {
        let phases = if kube_proxy_mode == "none" {
            "preflight,addon/kube-proxy"
        } else {
            "preflight"
        };
        args.push(format!("--skip-phases={phases}"));
    }
    args
}

/// `kubeadm join …` argv (spec §4.8).
pub fn join_command(version: &Version) -> Vec<String> {
    let mut args = argv(&["kubeadm", "join", "--config", "/kind/kubeadm.conf", "--v=6"]);
    if phases_are_flags(version) {
        args.push("--skip-phases=preflight".into());
    }
    args
}

fn parse_semantic(kubernetes_version: &str) -> anyhow::Result<Version> {
    Version::parse_semantic(kubernetes_version)
        .map_err(anyhow::Error::msg)
        .context("could not parse Kubernetes version")
}

/// Taints to remove on a single-node cluster (spec §4.5), by semantic
/// version of `/kind/version`: the control-plane taint replaced the master
/// taint during 1.24/1.25 development.
pub fn control_plane_taints(kubernetes_version: &str) -> anyhow::Result<Vec<String>> {
    let v = parse_semantic(kubernetes_version)?;
    Ok(
        if v.less_than(&semantic("v1.24.0-alpha.1.592+370031cadac624")) {
            argv(&["node-role.kubernetes.io/master-"])
        } else if v.less_than(&semantic("v1.25.0-alpha.0.557+84c8afeba39ec9")) {
            argv(&[
                "node-role.kubernetes.io/control-plane-",
                "node-role.kubernetes.io/master-",
            ])
        } else {
            argv(&["node-role.kubernetes.io/control-plane-"])
        },
    )
}

/// Full `kubectl taint` argv removing [`control_plane_taints`].
pub fn untaint_command(kubernetes_version: &str) -> anyhow::Result<Vec<String>> {
    let mut args = argv(&[
        "kubectl",
        "--kubeconfig=/etc/kubernetes/admin.conf",
        "taint",
        "nodes",
        "--all",
    ]);
    args.extend(control_plane_taints(kubernetes_version)?);
    Ok(args)
}

/// `kubectl label` argv letting load balancers use single-node clusters.
pub fn remove_exclude_lb_label_command() -> Vec<String> {
    argv(&[
        "kubectl",
        "--kubeconfig=/etc/kubernetes/admin.conf",
        "label",
        "nodes",
        "--all",
        "node.kubernetes.io/exclude-from-external-load-balancers-",
    ])
}

/// Node-role label selector for `--wait` (spec §4.9).
pub fn control_plane_selector(kubernetes_version: &str) -> anyhow::Result<String> {
    let v = parse_semantic(kubernetes_version)?;
    Ok(
        if v.less_than(&semantic("v1.24.0-alpha.1.591+a3d5e5598290df")) {
            "node-role.kubernetes.io/master".into()
        } else {
            "node-role.kubernetes.io/control-plane".into()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generic(s: &str) -> Version {
        Version::parse_generic(s).unwrap()
    }

    #[test]
    fn init_command_by_version_and_proxy_mode() {
        let base = "kubeadm init --config=/kind/kubeadm.conf --skip-token-print --v=6";
        let cases = [
            (
                "v1.22.17",
                "iptables",
                format!("{base} --skip-phases=preflight"),
            ),
            (
                "v1.22.17",
                "none",
                format!("{base} --skip-phases=preflight,addon/kube-proxy"),
            ),
            ("v1.21.1", "ipvs", format!("{base} --skip-phases=preflight")),
            // Generic comparison: a 1.23 pre-release counts as 1.23.0.
            ("v1.23.0-alpha.1", "none", base.to_string()),
            ("v1.23.0", "none", base.to_string()),
            ("v1.37.0-rc.1", "iptables", base.to_string()),
        ];
        for (version, mode, want) in cases {
            assert_eq!(
                init_command(&generic(version), mode).join(" "),
                want,
                "{version} {mode}"
            );
        }
    }

    #[test]
    fn join_command_by_version() {
        let cases = [
            (
                "v1.22.0",
                vec![
                    "kubeadm",
                    "join",
                    "--config",
                    "/kind/kubeadm.conf",
                    "--v=6",
                    "--skip-phases=preflight",
                ],
            ),
            (
                "v1.23.0",
                vec!["kubeadm", "join", "--config", "/kind/kubeadm.conf", "--v=6"],
            ),
            (
                "v1.36.0",
                vec!["kubeadm", "join", "--config", "/kind/kubeadm.conf", "--v=6"],
            ),
        ];
        for (version, want) in cases {
            assert_eq!(join_command(&generic(version)), want, "{version}");
        }
    }

    #[test]
    fn taints_by_semantic_version() {
        let master = vec!["node-role.kubernetes.io/master-"];
        let both = vec![
            "node-role.kubernetes.io/control-plane-",
            "node-role.kubernetes.io/master-",
        ];
        let cp = vec!["node-role.kubernetes.io/control-plane-"];
        let cases = [
            ("v1.21.1", &master),
            ("v1.23.17", &master),
            ("v1.24.0-alpha.1.591+a3d5e5598290df", &master),
            ("v1.24.0-alpha.1.592+370031cadac624", &both),
            ("v1.24.0-alpha.2", &both),
            ("v1.24.0", &both),
            ("v1.24.17", &both),
            ("v1.25.0-alpha.0.556+aaaa", &both),
            ("v1.25.0-alpha.0.557+84c8afeba39ec9", &cp),
            ("v1.25.0", &cp),
            ("v1.37.0-rc.1", &cp),
        ];
        for (version, want) in cases {
            assert_eq!(&control_plane_taints(version).unwrap(), want, "{version}");
        }
        assert_eq!(
            untaint_command("v1.36.0").unwrap().join(" "),
            "kubectl --kubeconfig=/etc/kubernetes/admin.conf taint nodes --all node-role.kubernetes.io/control-plane-"
        );
    }

    #[test]
    fn selector_by_semantic_version() {
        let cases = [
            ("v1.23.17", "node-role.kubernetes.io/master"),
            ("v1.24.0-alpha.1.590+x", "node-role.kubernetes.io/master"),
            (
                "v1.24.0-alpha.1.591+a3d5e5598290df",
                "node-role.kubernetes.io/control-plane",
            ),
            ("v1.24.0", "node-role.kubernetes.io/control-plane"),
            ("v1.37.0-rc.1", "node-role.kubernetes.io/control-plane"),
        ];
        for (version, want) in cases {
            assert_eq!(control_plane_selector(version).unwrap(), want, "{version}");
        }
    }

    #[test]
    fn non_semver_versions_fail() {
        for bad in ["v1.24", "latest", "v1.24.0.1"] {
            let err = control_plane_taints(bad).unwrap_err();
            assert!(
                format!("{err:#}").starts_with("could not parse Kubernetes version: "),
                "{bad}: {err:#}"
            );
            let err = control_plane_selector(bad).unwrap_err();
            assert!(
                format!("{err:#}").starts_with("could not parse Kubernetes version: "),
                "{bad}: {err:#}"
            );
        }
    }

    #[test]
    fn label_command_text() {
        assert_eq!(
            remove_exclude_lb_label_command().join(" "),
            "kubectl --kubeconfig=/etc/kubernetes/admin.conf label nodes --all node.kubernetes.io/exclude-from-external-load-balancers-"
        );
    }
}
