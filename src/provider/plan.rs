//! Container specs for a cluster's nodes (spec §3.4–3.6): pure.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{HostInfo, RuntimeMode};
use crate::config::Cluster;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortSpec {
    pub listen_address: String,
    /// 0 = to be picked by `ports::resolve`; -1 = the runtime picks.
    pub host_port: i32,
    pub container_port: i32,
    /// Upper-case, `TCP` when unset.
    pub protocol: String,
}

/// Everything `docker run` would be asked for one container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub hostname: String,
    /// `control-plane`, `worker` or `external-load-balancer`.
    pub role: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// `KEY=VALUE`.
    pub env: Vec<String>,
    pub privileged: bool,
    pub security_opt: Vec<String>,
    /// Mount point -> options (empty = defaults).
    pub tmpfs: BTreeMap<String, String>,
    /// Anonymous volumes (`/var` in runc mode).
    pub volumes: Vec<String>,
    /// `host:container[:opts]`.
    pub binds: Vec<String>,
    pub devices: Vec<String>,
    pub ports: Vec<PortSpec>,
    /// e.g. `on-failure:1`.
    pub restart_policy: String,
    pub init: bool,
    pub cgroupns_private: bool,
    /// `--runtime`; None = Docker's default.
    pub runtime: Option<String>,
    pub network: String,
    pub sysctls: BTreeMap<String, String>,
    /// `--userns=host` when set to "host".
    pub userns_mode: Option<String>,
    pub cmd: Option<Vec<String>>,
    pub tty: bool,
}

/// Inputs of the plan that do not come from the config.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanContext {
    pub mode: RuntimeMode,
    pub host: HostInfo,
    pub network: String,
    /// Proxy variables for the nodes (already computed, spec §3.6).
    pub proxy_env: BTreeMap<String, String>,
    /// Host value of KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER, if set.
    pub snapshotter: Option<String>,
    /// Relative extraMount hostPaths are made absolute against this.
    pub cwd: PathBuf,
}

/// One spec per node in config order, plus the load balancer when there is
/// more than one control plane. Names per spec §3.4.
pub fn plan_cluster(cluster: &Cluster, ctx: &PlanContext) -> Vec<ContainerSpec> {
    todo!("{cluster:?}{ctx:?}")
}
