//! The provider seam: everything `cluster/` and `images/` ask of the
//! container engine, as one trait. `docker::Docker` implements it (and is
//! the only place that talks to the Docker Engine API); unit tests drive the
//! create actions, delete and load through a fake.
//!
//! Shaped after upstream kind's provider interface: provisioning the nodes
//! of a config, listing clusters and nodes, deleting nodes, the API server
//! endpoint, and commands in nodes; plus what the Sysbox node image build
//! needs (build, a preloading container, commit) and `kind load` (save).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

use super::network::NetworkChoice;
use super::{
    ContainerSpec, ExecOutput, HostInfo, NetworkInfo, NodeDetails, NodeRef, NodeState, RunError,
    RuntimeMode,
};
use crate::config::Cluster;
use crate::log::Logger;

/// Archive bytes as they arrive (`docker save`, an archive file).
pub type ByteStream = BoxStream<'static, anyhow::Result<Bytes>>;

/// An image as the engine knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageInfo {
    /// The image ID (`sha256:…`); empty when the engine reports none.
    pub id: String,
    /// The image config's labels.
    pub labels: HashMap<String, String>,
    /// The layers' diff IDs (`RootFS.Layers`): what a node's containerd
    /// stores layers of a `docker save` archive under, so `kind load` can
    /// tell which nodes already hold part of the image.
    pub diff_ids: Vec<String>,
}

/// What a build asks of the engine besides its context.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// `-t`; None leaves the image untagged (its ID is returned either way).
    pub tag: Option<String>,
    pub build_args: HashMap<String, String>,
    pub labels: HashMap<String, String>,
}

/// How a path differs from the container's image (`docker diff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Modified,
    Added,
    Deleted,
}

/// A failed build: the engine's error and the build's last output lines.
#[derive(Debug, thiserror::Error)]
#[error("{message}{}", if output.is_empty() { String::new() } else { format!("\nbuild output:\n{output}") })]
pub struct BuildError {
    pub message: String,
    pub output: String,
}

/// What provisioning a cluster's containers needs besides the engine.
#[derive(Debug, Clone, Copy)]
pub struct Provisioning<'a> {
    /// The effective config (overrides and defaults applied).
    pub cluster: &'a Cluster,
    pub mode: &'a RuntimeMode,
    pub host: &'a HostInfo,
    /// Node image as configured -> the image the node runs instead (its
    /// Sysbox derivation); images not in it run as configured.
    pub node_images: &'a BTreeMap<String, String>,
    /// This create run's ID (see `cluster::ownership`).
    pub create_id: &'a str,
    /// The network the containers go on (see `network::choose`).
    pub network: &'a NetworkChoice,
    /// `--ephemeral`: Docker removes the nodes when they stop (`--rm`, no
    /// restart policy), labelled `LABEL_EPHEMERAL`.
    pub ephemeral: bool,
}

/// Nodes added to an existing cluster (`kind create node`, `kind resize
/// cluster`): planned from the cluster's (extended) effective config
/// exactly as `provision` plans a new cluster's, then only the listed
/// entries are created, under the given names.
#[derive(Debug, Clone, Copy)]
pub struct NodeProvisioning<'a> {
    /// The stored config with the new nodes' entries appended.
    pub cluster: &'a Cluster,
    /// (index in `cluster.nodes`, container name) of each node to create.
    pub new_nodes: &'a [(usize, String)],
    pub mode: &'a RuntimeMode,
    pub host: &'a HostInfo,
    pub node_images: &'a BTreeMap<String, String>,
    /// An existing node of the cluster: the new ones join its network.
    pub network_of: &'a str,
    /// This run's ID (see `cluster::ownership`): its rollback removes only these.
    pub create_id: &'a str,
}

/// A container engine that runs kind nodes.
///
/// `async_trait` (boxed futures) because the seam is used as `&dyn
/// Provider`: the CLI picks the implementation at run time and tests swap
/// in a fake, and native `async fn` in traits is not object-safe. One
/// allocation per call is nothing next to an engine round trip.
#[async_trait]
pub trait Provider: Send + Sync {
    // --- The host ---

    /// The engine facts runtime selection and the host checks use.
    async fn info(&self) -> anyhow::Result<HostInfo>;

    /// What `kind doctor` would fail on for this host, as the error of the
    /// first failing check; `create cluster` stops on it.
    async fn preflight(&self, host: &HostInfo) -> anyhow::Result<()>;

    // --- Clusters and nodes ---

    /// Create and start the containers of an (effective) cluster config:
    /// the network, the images inbox volume, one container per node plus
    /// the implicit load balancer, each node up (systemd ready) before this returns. The node
    /// images must be present already; the load balancer's is pulled.
    ///
    /// Every container gets the run's `create_id` (see `cluster::ownership`);
    /// the cluster's first control plane is created alone first, as the
    /// claim on the name: losing it to a concurrent create is
    /// `cluster::ownership::ClusterExists`, with nothing created.
    async fn provision(&self, request: &Provisioning<'_>, log: &Logger) -> anyhow::Result<()>;

    /// Create and start containers for nodes added to an existing cluster,
    /// each up (systemd ready) before this returns. A name already taken
    /// fails; containers of this run that were created stay for the
    /// caller's rollback (they carry its `create_id`). New nodes get fixed
    /// addresses as `provision` gives them, and are ephemeral when the
    /// cluster's nodes are.
    async fn provision_nodes(
        &self,
        request: &NodeProvisioning<'_>,
        log: &Logger,
    ) -> anyhow::Result<()>;

    /// Cluster names (sorted, unique) that have at least one container.
    async fn list_clusters(&self) -> anyhow::Result<Vec<String>>;

    /// A cluster's containers, stopped ones and the load balancer included.
    async fn list_nodes(&self, cluster: &str) -> anyhow::Result<Vec<NodeRef>>;

    /// `list_nodes` with each container's labels, from the same one listing
    /// (delete reads which create runs made the cluster from them).
    async fn list_nodes_with_labels(
        &self,
        cluster: &str,
    ) -> anyhow::Result<Vec<(NodeRef, HashMap<String, String>)>>;

    /// The containers of a cluster that one `create cluster` run made.
    async fn list_nodes_created_by(
        &self,
        cluster: &str,
        create_id: &str,
    ) -> anyhow::Result<Vec<NodeRef>>;

    /// Every container of one cluster (None: of every cluster), listed
    /// once and inspected concurrently: state, image, networks, runtime.
    /// Listing order (newest first); one removed meanwhile is left out.
    async fn list_node_details(&self, cluster: Option<&str>) -> anyhow::Result<Vec<NodeDetails>>;

    /// The network of this name (exactly), or None.
    async fn inspect_network(&self, name: &str) -> anyhow::Result<Option<NetworkInfo>>;

    /// The networks labelled as created for `cluster` (LABEL_NETWORK_OWNER).
    async fn cluster_networks(&self, cluster: &str) -> anyhow::Result<Vec<NetworkInfo>>;

    /// Remove a network by ID: Ok(false) when the engine keeps it because
    /// a container is attached, Ok(true) when gone (or already gone).
    async fn remove_network(&self, id: &str) -> anyhow::Result<bool>;

    /// The effective config stored with the cluster (v1alpha4 YAML, see
    /// `LABEL_CLUSTER_CONFIG`); None when the cluster has none.
    async fn cluster_config(&self, cluster: &str) -> anyhow::Result<Option<String>>;

    /// Remove containers (and their anonymous volumes); already gone is fine.
    async fn delete_nodes(&self, names: &[String]) -> anyhow::Result<()>;

    /// Remove the cluster's images inbox volume (`provider::inbox`), when
    /// it is labelled with the cluster and, given `create_id`, made by that
    /// create run; already gone is fine. Call once its nodes are removed.
    async fn remove_images_inbox(
        &self,
        cluster: &str,
        create_id: Option<&str>,
    ) -> anyhow::Result<()>;

    /// Whether a node runs, and whether it is ephemeral.
    async fn node_state(&self, node: &str) -> anyhow::Result<NodeState>;

    /// Stop these nodes (`docker stop`), all at once; stopped is fine.
    async fn stop_nodes(&self, names: &[String]) -> anyhow::Result<()>;

    /// Start these stopped nodes, all at once; running is fine.
    async fn start_nodes(&self, names: &[String]) -> anyhow::Result<()>;

    /// (IPv4, IPv6) of a node on its single network; either may be empty.
    async fn node_addresses(&self, node: &str) -> anyhow::Result<(String, String)>;

    /// `node_addresses` of every container of a cluster from one listing
    /// (not one inspection per node): name -> its result.
    async fn cluster_node_addresses(
        &self,
        cluster: &str,
    ) -> anyhow::Result<HashMap<String, anyhow::Result<(String, String)>>>;

    /// `host:port` the API server behind this node is published on.
    async fn api_server_endpoint(&self, node: &str) -> anyhow::Result<String>;

    // --- Commands in nodes ---

    /// Run a command in a node; a non-zero exit is a RunError.
    async fn exec(
        &self,
        node: &NodeRef,
        argv: &[&str],
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput, RunError>;

    /// Run a command with `input` streamed to its stdin. The future owns
    /// what it needs, so it can be spawned; the input is dropped as soon as
    /// the command exits.
    fn exec_with_input_stream(
        &self,
        node: &NodeRef,
        argv: &[String],
        input: BoxStream<'static, Bytes>,
    ) -> BoxFuture<'static, Result<ExecOutput, RunError>>;

    // --- What `kind export logs` reads from the engine itself ---

    /// The engine's own description (`docker info`) as JSON.
    async fn info_json(&self) -> anyhow::Result<Vec<u8>>;

    /// A node's container description (`docker inspect`) as JSON.
    async fn inspect_json(&self, node: &str) -> anyhow::Result<Vec<u8>>;

    /// The runtime a node's container runs under.
    async fn node_runtime(&self, node: &str) -> anyhow::Result<String>;

    /// A node's console log (`docker logs`) into a file on the host.
    async fn write_container_log(&self, node: &str, path: &Path) -> anyhow::Result<()>;

    /// The contents of `node_dir` in the node (stopped nodes too) unpacked
    /// into `host_dir`; returns warnings about entries not materialised.
    async fn extract_node_dir(
        &self,
        node: &str,
        node_dir: &str,
        host_dir: &Path,
    ) -> anyhow::Result<Vec<String>>;

    // --- Images ---

    /// The image, or None when the engine has no such image.
    async fn inspect_image(&self, image: &str) -> anyhow::Result<Option<ImageInfo>>;

    /// The image's ID, pulling it first when absent (with upstream's retries).
    async fn ensure_image(&self, image: &str, log: &Logger) -> anyhow::Result<String>;

    /// Build an image from a tar context; each output line goes to
    /// `progress`. Returns the image ID.
    async fn build_image(
        &self,
        context: Vec<u8>,
        req: &BuildRequest,
        progress: &(dyn for<'a> Fn(&'a str) + Sync),
    ) -> Result<String, BuildError>;

    /// Remove an image unless a container uses it; whether it was removed.
    async fn remove_image_if_unused(&self, image: &str) -> bool;

    /// The images as one archive stream (`docker save`).
    fn save_images(&self, images: &[String]) -> ByteStream;

    // --- Single containers (the node image build's preloading node) ---

    /// Create (not start) a container from a spec.
    async fn create_container(&self, spec: &ContainerSpec) -> anyhow::Result<()>;

    async fn start_container(&self, name: &str) -> anyhow::Result<()>;

    /// Follow the container's log until a line matches `pattern`.
    async fn wait_for_log(
        &self,
        name: &str,
        pattern: &regex::Regex,
        timeout: Duration,
    ) -> anyhow::Result<()>;

    /// Paths changed in the container relative to its image.
    async fn container_changes(&self, container: &str) -> anyhow::Result<Vec<(String, Change)>>;

    /// A tar of `path` in the container; None when the path does not exist.
    async fn copy_from_container(
        &self,
        container: &str,
        path: &str,
    ) -> anyhow::Result<Option<Vec<u8>>>;

    /// Unpack a tar into `dir` of the container.
    async fn copy_into_container(
        &self,
        container: &str,
        dir: &str,
        tar: Vec<u8>,
    ) -> anyhow::Result<()>;

    /// Commit the container (paused meanwhile) as `repo:tag` with the image
    /// config (entrypoint, env, labels, …) of `config_of`; returns the new
    /// image's ID.
    async fn commit_container(
        &self,
        container: &str,
        repo: &str,
        tag: &str,
        config_of: &str,
    ) -> anyhow::Result<String>;
}
