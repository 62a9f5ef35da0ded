//! Node providers. [`Provider`] (in `interface`) is the seam `cluster/` and
//! `images/` talk to; `docker` implements it and is the only module that
//! uses the Docker Engine API (bollard). The pure parts a provider plans
//! with are separate: runtime selection (`runtime`), container specs
//! (`plan`), published ports (`ports`), the network's subnet (`network`)
//! and proxy settings (`proxy`); `node` is what a provider hands out.

pub mod docker;
#[cfg(test)]
pub mod fake;
mod interface;
pub mod network;
mod node;
pub mod plan;
pub mod ports;
pub mod proxy;
pub mod runtime;

pub use docker::Docker;
pub use interface::{BuildError, BuildRequest, ByteStream, Change, ImageInfo, Provider};
pub use node::{shell_join, ExecOutput, NodeRef, RunError};
pub use plan::{docker_run_args, plan_cluster, ContainerSpec, PlanContext, PortSpec};
pub use runtime::{runtime_env_warning, select_runtime, HostInfo, RuntimeError, RuntimeMode};

/// The provider for this host: Docker (DOCKER_HOST or the local socket).
pub async fn connect() -> anyhow::Result<Box<dyn Provider>> {
    Ok(Box::new(Docker::connect().await?))
}

pub const LABEL_CLUSTER: &str = "io.x-k8s.kind.cluster";
pub const LABEL_ROLE: &str = "io.x-k8s.kind.role";
/// Ours: which runtime mode created the node (`sysbox` or `runc`), so later
/// commands (exec, load) treat it the same way.
pub const LABEL_RUNTIME_MODE: &str = "dev.kind-sysbox.runtime-mode";
/// Ours, on every container of a cluster: the cluster's effective config
/// (v1alpha4 YAML after overrides and defaults, patches included, host
/// paths absolute), so later commands plan nodes exactly as `create` did.
/// A label rather than a file in the node: it is written atomically with
/// the container, readable from the container list (stopped nodes too, no
/// exec per node) and with `docker inspect`; a few KB per container.
pub const LABEL_CLUSTER_CONFIG: &str = "dev.kind-sysbox.cluster-config";
/// Ours, on every node (not the load balancer): the node's index in the
/// stored config's `nodes`, its identity there (names alone cannot say
/// which entry a node came from once nodes are added or removed).
pub const LABEL_CONFIG_NODE: &str = "dev.kind-sysbox.config-node";
pub const ROLE_LOAD_BALANCER: &str = "external-load-balancer";
pub const DEFAULT_NETWORK: &str = "kind";
pub const LOAD_BALANCER_IMAGE: &str = "docker.io/envoyproxy/envoy:v1.36.2";
/// Readiness: the node's console shows systemd reached multi-user.
pub const NODE_READY_LOG_REGEX: &str = "Reached target .*Multi-User System.*|detected cgroup v1";
