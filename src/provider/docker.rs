//! The executor: every call to the Docker Engine API (bollard).

use std::time::Duration;

use super::{ContainerSpec, HostInfo};

/// A node as listed from Docker.
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

pub fn shell_join(argv: &[String]) -> String {
    todo!("{argv:?}")
}

pub struct Docker {
    api: bollard::Docker,
}

impl Docker {
    /// Connect (DOCKER_HOST or the local socket) and negotiate the API version.
    pub async fn connect() -> anyhow::Result<Docker> {
        todo!()
    }
    pub async fn host_info(&self) -> anyhow::Result<HostInfo> {
        todo!("{:?}", self.api.client_version())
    }
    pub async fn image_exists(&self, image: &str) -> anyhow::Result<bool> {
        todo!("{image}")
    }
    /// One pull attempt (retries are the caller's).
    pub async fn pull_image(&self, image: &str) -> anyhow::Result<()> {
        todo!("{image}")
    }
    /// Upstream's network algorithm (spec §3.3).
    pub async fn ensure_network(&self, name: &str) -> anyhow::Result<()> {
        todo!("{name}")
    }
    pub async fn network_subnets(&self, name: &str) -> anyhow::Result<Vec<String>> {
        todo!("{name}")
    }
    /// Create (not start) a container from a spec.
    pub async fn create_container(&self, spec: &ContainerSpec) -> anyhow::Result<()> {
        todo!("{spec:?}")
    }
    pub async fn start_container(&self, name: &str) -> anyhow::Result<()> {
        todo!("{name}")
    }
    /// Follow the container's log until a line matches, or time out with
    /// upstream's message.
    pub async fn wait_for_log(&self, name: &str, pattern: &regex::Regex, timeout: Duration) -> anyhow::Result<()> {
        todo!("{name}{pattern}{timeout:?}")
    }
    /// Run a command in a node; non-zero exit => RunError.
    pub async fn exec(&self, node: &NodeRef, argv: &[&str], stdin: Option<Vec<u8>>) -> Result<ExecOutput, RunError> {
        todo!("{node:?}{argv:?}{}", stdin.is_some())
    }
    /// Cluster names (sorted, unique) from LABEL_CLUSTER.
    pub async fn list_clusters(&self) -> anyhow::Result<Vec<String>> {
        todo!()
    }
    /// Containers of a cluster (including stopped ones and the LB), newest first.
    pub async fn list_nodes(&self, cluster: &str) -> anyhow::Result<Vec<NodeRef>> {
        todo!("{cluster}")
    }
    /// (IPv4, IPv6) on the node's single network; either may be empty.
    pub async fn node_addresses(&self, name: &str) -> anyhow::Result<(String, String)> {
        todo!("{name}")
    }
    /// `host:port` the API server of this node (LB or control plane) is
    /// published on (IPv6 bracketed).
    pub async fn api_server_endpoint(&self, name: &str) -> anyhow::Result<String> {
        todo!("{name}")
    }
    /// Force-remove containers with their anonymous volumes, concurrently;
    /// already gone is fine.
    pub async fn delete_containers(&self, names: &[String]) -> anyhow::Result<()> {
        todo!("{names:?}")
    }
    pub fn api(&self) -> &bollard::Docker {
        &self.api
    }
}
