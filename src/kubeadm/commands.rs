use crate::version::Version;

/// `kubeadm init …` argv for the bootstrap control plane (spec §4.5).
pub fn init_command(version: &Version, kube_proxy_mode: &str) -> Vec<String> {
    todo!("{version:?}{kube_proxy_mode}")
}

/// `kubeadm join …` argv (spec §4.8).
pub fn join_command(version: &Version) -> Vec<String> {
    todo!("{version:?}")
}

/// Taints to remove on a single-node cluster (spec §4.5), by semantic
/// version of `/kind/version`.
pub fn control_plane_taints(kubernetes_version: &str) -> anyhow::Result<Vec<String>> {
    todo!("{kubernetes_version}")
}

/// Node-role label selector for `--wait` (spec §4.9).
pub fn control_plane_selector(kubernetes_version: &str) -> anyhow::Result<String> {
    todo!("{kubernetes_version}")
}
