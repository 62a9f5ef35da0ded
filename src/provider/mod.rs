//! The Docker node provider. Pure parts (runtime selection, container specs,
//! network subnet, proxy env) are separate from `docker`, the executor that
//! talks to the Docker Engine API through bollard.

pub mod docker;
pub mod endpoint;
mod exec_stream;
pub mod image_ops;
pub mod log_sources;
pub mod network;
pub mod plan;
pub mod ports;
pub mod proxy;
pub mod runtime;

pub use docker::{Docker, ExecOutput, NodeRef, RunError};
pub use plan::{docker_run_args, plan_cluster, ContainerSpec, PlanContext, PortSpec};
pub use runtime::{runtime_env_warning, select_runtime, HostInfo, RuntimeError, RuntimeMode};

pub const LABEL_CLUSTER: &str = "io.x-k8s.kind.cluster";
pub const LABEL_ROLE: &str = "io.x-k8s.kind.role";
/// Ours: which runtime mode created the node (`sysbox` or `runc`), so later
/// commands (exec, load) treat it the same way.
pub const LABEL_RUNTIME_MODE: &str = "dev.kind-sysbox.runtime-mode";
/// Ours: a random ID per `kind create cluster` run, on every container that
/// run creates, so its failure cleanup removes only what it created itself
/// (never the containers of a concurrent create of the same name).
pub const LABEL_CREATE_ID: &str = "dev.kind-sysbox.create-id";

/// Ours: on a node that runs the Sysbox derivation of the image its config
/// (or `--image`) named, that named image; the container's own image is
/// the derivation.
pub const LABEL_NAMED_IMAGE: &str = "dev.kind-sysbox.named-image";
pub const ROLE_LOAD_BALANCER: &str = "external-load-balancer";
pub const DEFAULT_NETWORK: &str = "kind";
pub const LOAD_BALANCER_IMAGE: &str = "docker.io/envoyproxy/envoy:v1.36.2";
/// Readiness: the node's console shows systemd reached multi-user.
pub const NODE_READY_LOG_REGEX: &str = "Reached target .*Multi-User System.*|detected cgroup v1";
