//! Internal (decoded) form of the v1alpha4 API. Enumerations that upstream
//! validates rather than rejects at decode time (role, ipFamily,
//! kubeProxyMode) are kept as strings so validation can name bad values.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cluster {
    pub name: String,
    pub nodes: Vec<Node>,
    pub networking: Networking,
    pub feature_gates: BTreeMap<String, bool>,
    pub runtime_config: BTreeMap<String, String>,
    pub kubeadm_config_patches: Vec<String>,
    pub kubeadm_config_patches_json6902: Vec<PatchJson6902>,
    pub containerd_config_patches: Vec<String>,
    /// RFC 6902 patches, JSON text only (as upstream).
    pub containerd_config_patches_json6902: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    /// `control-plane` or `worker` once valid.
    pub role: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    pub extra_mounts: Vec<Mount>,
    pub extra_port_mappings: Vec<PortMapping>,
    pub kubeadm_config_patches: Vec<String>,
    pub kubeadm_config_patches_json6902: Vec<PatchJson6902>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Networking {
    /// `ipv4`, `ipv6` or `dual` once valid.
    pub ip_family: String,
    pub api_server_port: i32,
    pub api_server_address: String,
    pub pod_subnet: String,
    pub service_subnet: String,
    pub disable_default_cni: bool,
    /// `iptables`, `ipvs`, `nftables` or `none` once valid.
    pub kube_proxy_mode: String,
    /// `None` = inherit the host's; `Some(vec![])` = no search domains.
    pub dns_search: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mount {
    pub container_path: String,
    pub host_path: String,
    pub read_only: bool,
    pub selinux_relabel: bool,
    pub propagation: MountPropagation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MountPropagation {
    #[default]
    None,
    HostToContainer,
    Bidirectional,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortMapping {
    pub container_port: i32,
    /// 0 = kind picks a free port; -1 = the runtime picks.
    pub host_port: i32,
    /// Empty = family default (`0.0.0.0`, or `::` for ipv6).
    pub listen_address: String,
    /// Upper-cased `TCP`, `UDP` or `SCTP`; empty when unset (distinct from
    /// `TCP` in duplicate detection, as upstream).
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchJson6902 {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub patch: String,
}

impl Cluster {
    pub fn control_plane_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.role == super::ROLE_CONTROL_PLANE)
            .count()
    }
    /// More than one control plane => an external load balancer node.
    pub fn has_implicit_load_balancer(&self) -> bool {
        self.control_plane_count() > 1
    }
    pub fn has_ipv6(&self) -> bool {
        self.networking.ip_family == "ipv6" || self.networking.ip_family == "dual"
    }
}
