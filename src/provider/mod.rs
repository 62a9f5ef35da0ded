//! Node providers. [`Provider`] (in `interface`) is the seam `cluster/` and
//! `images/` talk to; `docker` implements it and is the only module that
//! uses the Docker Engine API (bollard). The pure parts a provider plans
//! with are separate: runtime selection (`runtime`), container specs
//! (`plan`), published ports (`ports`), the network's subnet (`network`)
//! and proxy settings (`proxy`), the images inbox volume (`inbox`); `node`
//! is what a provider hands out.

pub mod addresses;
pub mod details;
pub mod docker;
pub mod endpoint;
#[cfg(test)]
pub mod fake;
pub mod inbox;
mod interface;
pub mod network;
mod node;
pub mod plan;
pub mod ports;
pub mod proxy;
pub mod runtime;

pub use details::{NetworkAttachment, NetworkInfo, NodeDetails};
pub use docker::logs::{write_file_on_host, CLI_REFUSED};
pub use docker::Docker;
pub use interface::{
    BuildError, BuildRequest, ByteStream, Change, ImageInfo, NodeProvisioning, Provider,
    Provisioning,
};
#[cfg(test)]
pub use node::test_node;
pub use node::{shell_join, ExecOutput, NodeRef, NodeState, RunError};
pub use plan::{docker_run_args, plan_cluster, ContainerSpec, PlanContext, PortSpec};
pub use runtime::{runtime_env_warning, select_runtime, HostInfo, RuntimeError, RuntimeMode};

/// The provider for this host: Docker, at the endpoint the docker CLI
/// would use (logging upstream's line when KIND_EXPERIMENTAL_PROVIDER
/// forces it).
pub async fn connect(log: &crate::log::Logger) -> anyhow::Result<Box<dyn Provider>> {
    Ok(Box::new(Docker::connect_logged(log).await?))
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
/// Ours: a random ID per `kind create cluster` run, on every container that
/// run creates, so its failure cleanup removes only what it created itself
/// (never the containers of a concurrent create of the same name).
pub const LABEL_CREATE_ID: &str = "dev.kind-sysbox.create-id";

/// On a network kind-sysbox created: its IPv4 subnet is configured (not
/// left to Docker's IPAM), so nodes can be given fixed IPv4 addresses.
pub const LABEL_NETWORK_FIXED_ADDRESSES: &str = "dev.kind-sysbox.fixed-addresses";
/// On every node of a cluster created with `--ephemeral` (`--rm`, no
/// restart policy: no stop/start, no surviving a Docker restart).
pub const LABEL_EPHEMERAL: &str = "dev.kind-sysbox.ephemeral";

/// Ours: on a node that runs the Sysbox derivation of the image its config
/// (or `--image`) named, that named image; the container's own image is
/// the derivation.
pub const LABEL_NAMED_IMAGE: &str = "dev.kind-sysbox.named-image";
/// Ours, on every container of a cluster created with `--network`: that
/// network (the cluster's own).
pub const LABEL_NETWORK: &str = "dev.kind-sysbox.network";
/// Ours, on a network `create cluster --network` created: the cluster it
/// was made for (with LABEL_CREATE_ID, the run), so `delete cluster` may
/// remove it; networks without it are never removed.
pub const LABEL_NETWORK_OWNER: &str = "dev.kind-sysbox.network-owner";
pub const ROLE_LOAD_BALANCER: &str = "external-load-balancer";
pub const DEFAULT_NETWORK: &str = "kind";
pub const LOAD_BALANCER_IMAGE: &str = "docker.io/envoyproxy/envoy:v1.36.2";
/// Readiness: the node's console shows systemd reached multi-user.
pub const NODE_READY_LOG_REGEX: &str = "Reached target .*Multi-User System.*|detected cgroup v1";
