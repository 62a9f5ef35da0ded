use std::collections::BTreeMap;

use crate::config::PatchJson6902;

/// Everything the kubeadm config of one node depends on (spec §4.3).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigData {
    pub cluster_name: String,
    /// Contents of `/kind/version`, e.g. `v1.36.1`.
    pub kubernetes_version: String,
    /// `<lb-or-control-plane>:6443`.
    pub control_plane_endpoint: String,
    pub api_bind_port: u16,
    pub api_server_address: String,
    /// `docker`; used in the kubelet provider-id.
    pub node_provider: String,
    pub control_plane: bool,
    /// IPv4, IPv6, or `"<a>,<b>"` for dual stack.
    pub node_address: String,
    pub node_name: String,
    pub token: String,
    pub kube_proxy_mode: String,
    pub pod_subnet: String,
    pub service_subnet: String,
    pub feature_gates: BTreeMap<String, bool>,
    pub runtime_config: BTreeMap<String, String>,
    pub ip_family: String,
    /// `k1=v1,k2=v2` (may be empty).
    pub node_labels: String,
    pub rootless: bool,
}

/// Patches at one level (cluster or node).
#[derive(Debug, Clone, Copy, Default)]
pub struct Patches<'a> {
    pub merge: &'a [String],
    pub json6902: &'a [PatchJson6902],
}

/// Raw generated config (every document still carries `metadata.name: config`).
pub fn generate(data: &ConfigData) -> anyhow::Result<String> {
    todo!("{data:?}")
}

/// What kind writes to `/kind/kubeadm.conf`: generate, apply cluster-level
/// then node-level patches, drop `metadata:\n  name: config\n`.
pub fn render(data: &ConfigData, cluster: Patches<'_>, node: Patches<'_>) -> anyhow::Result<String> {
    todo!("{data:?}{cluster:?}{node:?}")
}
