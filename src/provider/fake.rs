//! A provider without an engine, for unit tests of what runs on top of the
//! seam (create actions, delete, kubeconfig): nodes are names with roles,
//! a node's files are a map that `cat` reads and `cp /dev/stdin` (alone or
//! in `cluster::WRITE_FILE_SCRIPT`) writes,
//! and every command and deletion is recorded in order.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::anyhow;
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

use super::{
    BuildError, BuildRequest, ByteStream, Change, ContainerSpec, ExecOutput, HostInfo, ImageInfo,
    NetworkInfo, NodeDetails, NodeProvisioning, NodeRef, Provider, Provisioning, RunError,
    LABEL_CLUSTER,
};
use crate::log::Logger;

/// One command run in a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub node: String,
    pub argv: Vec<String>,
}

#[derive(Default)]
pub struct FakeProvider {
    /// (cluster, node) in listing order.
    nodes: Mutex<Vec<(String, NodeRef)>>,
    /// (node, path) -> content.
    files: Mutex<BTreeMap<(String, String), String>>,
    /// Commands whose argv starts with one of these fail with exit status 1.
    failing: Mutex<Vec<Vec<String>>>,
    calls: Mutex<Vec<Call>>,
    deleted: Mutex<Vec<String>>,
    /// remove_images_inbox calls: (cluster, create run).
    inbox_removals: Mutex<Vec<(String, Option<String>)>>,
    /// cluster -> stored config.
    configs: Mutex<BTreeMap<String, String>>,
    /// Canned stdout for commands starting with a prefix.
    outputs: Mutex<Vec<(Vec<String>, String)>>,
    /// node -> the create ID of the run that provisioned it.
    created_by: Mutex<BTreeMap<String, String>>,
    /// Names `provision_nodes` refuses (as if taken).
    taken: Mutex<BTreeSet<String>>,
    /// Images present locally.
    images: Mutex<BTreeSet<String>>,
    /// Nodes stopped (absent = running).
    stopped: Mutex<BTreeSet<String>>,
    ephemeral: Mutex<BTreeSet<String>>,
    /// `stop <names>` / `start <names>` per call, in order.
    lifecycle: Mutex<Vec<String>>,
    /// Listing facts of containers (see `with_details`), in listing order.
    details: Mutex<Vec<NodeDetails>>,
    networks: Mutex<Vec<NetworkInfo>>,
    removed_networks: Mutex<Vec<String>>,
    /// Every container listing asked for: `list_nodes <cluster>`, ….
    listings: Mutex<Vec<String>>,
}

impl FakeProvider {
    /// A Sysbox node `name` with `role` in `cluster`, whose `/kind/version`
    /// is `version`.
    pub fn with_node(self, cluster: &str, name: &str, role: &str, version: &str) -> Self {
        self.with_node_ref(
            cluster,
            crate::provider::node::test_node(name, role),
            version,
        )
    }

    /// A node as given, whose `/kind/version` is `version`.
    pub fn with_node_ref(self, cluster: &str, node: NodeRef, version: &str) -> Self {
        self.set_file(&node.name, "/kind/version", &format!("{version}\n"));
        self.nodes.lock().unwrap().push((cluster.to_string(), node));
        self
    }

    /// An image present locally.
    pub fn with_image(self, image: &str) -> Self {
        self.images.lock().unwrap().insert(image.into());
        self
    }

    /// A container's listing facts (its cluster from LABEL_CLUSTER); its
    /// `/kind/version` is `version` when given. Independent of `with_node`.
    pub fn with_details(self, details: NodeDetails, version: Option<&str>) -> Self {
        if let Some(v) = version {
            self.set_file(&details.name, "/kind/version", &format!("{v}\n"));
        }
        self.details.lock().unwrap().push(details);
        self
    }

    /// A network as the engine would report it.
    pub fn with_network(self, network: NetworkInfo) -> Self {
        self.networks.lock().unwrap().push(network);
        self
    }

    /// IDs of the networks removed, in order.
    pub fn removed_networks(&self) -> Vec<String> {
        self.removed_networks.lock().unwrap().clone()
    }

    /// The config stored with `cluster`.
    pub fn with_config(self, cluster: &str, config: &str) -> Self {
        self.configs
            .lock()
            .unwrap()
            .insert(cluster.into(), config.into());
        self
    }

    pub fn set_file(&self, node: &str, path: &str, content: &str) {
        self.files
            .lock()
            .unwrap()
            .insert((node.into(), path.into()), content.into());
    }

    pub fn file(&self, node: &str, path: &str) -> Option<String> {
        self.files
            .lock()
            .unwrap()
            .get(&(node.to_string(), path.to_string()))
            .cloned()
    }

    /// Make every command starting with `prefix` fail.
    pub fn fail(&self, prefix: &[&str]) {
        self.failing
            .lock()
            .unwrap()
            .push(prefix.iter().map(|a| a.to_string()).collect());
    }

    /// Commands starting with `prefix` print `stdout`.
    pub fn respond(&self, prefix: &[&str], stdout: &str) {
        self.outputs.lock().unwrap().push((
            prefix.iter().map(|a| a.to_string()).collect(),
            stdout.to_string(),
        ));
    }

    /// `provision_nodes` fails on this name, after creating the others.
    pub fn take_name(&self, name: &str) {
        self.taken.lock().unwrap().insert(name.to_string());
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The argvs run in one node, in order.
    pub fn calls_on(&self, node: &str) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter(|c| c.node == node)
            .map(|c| c.argv)
            .collect()
    }

    /// The remove_images_inbox calls: (cluster, create run).
    pub fn inbox_removals(&self) -> Vec<(String, Option<String>)> {
        self.inbox_removals.lock().unwrap().clone()
    }

    /// Commands starting with `prefix` print `stdout` (and succeed).
    pub fn answer(self, prefix: &[&str], stdout: &str) -> Self {
        self.respond(prefix, stdout);
        self
    }

    /// Mark a node stopped.
    pub fn stop(&self, node: &str) {
        self.stopped.lock().unwrap().insert(node.into());
    }

    /// Mark a node as created with `--ephemeral`.
    pub fn make_ephemeral(&self, node: &str) {
        self.ephemeral.lock().unwrap().insert(node.into());
    }

    /// Every stop/start call: `stop a b`, `start c`.
    pub fn lifecycle(&self) -> Vec<String> {
        self.lifecycle.lock().unwrap().clone()
    }

    /// The container listings asked for, in order (`list_nodes k`, …).
    pub fn listings(&self) -> Vec<String> {
        self.listings.lock().unwrap().clone()
    }

    fn listed(&self, what: &str, cluster: Option<&str>) {
        self.listings
            .lock()
            .unwrap()
            .push(format!("{what} {}", cluster.unwrap_or("*")));
    }

    pub fn deleted(&self) -> Vec<String> {
        self.deleted.lock().unwrap().clone()
    }

    fn run(
        &self,
        node: &NodeRef,
        argv: &[String],
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput, RunError> {
        self.calls.lock().unwrap().push(Call {
            node: node.name.clone(),
            argv: argv.to_vec(),
        });
        let fail = |reason: &str| RunError {
            argv: [
                vec!["docker".into(), "exec".into(), node.name.clone()],
                argv.to_vec(),
            ]
            .concat(),
            reason: reason.into(),
            output: String::new(),
        };
        if self
            .failing
            .lock()
            .unwrap()
            .iter()
            .any(|p| argv.starts_with(p))
        {
            return Err(fail("exit status 1"));
        }
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let stdout = match argv.as_slice() {
            ["cat", path] => self
                .file(&node.name, path)
                .ok_or_else(|| fail("exit status 1"))?,
            ["cp", "/dev/stdin", path]
            | ["sh", "-c", crate::cluster::WRITE_FILE_SCRIPT, "sh", _, path] => {
                let content = String::from_utf8_lossy(&stdin.unwrap_or_default()).into_owned();
                self.set_file(&node.name, path, &content);
                String::new()
            }
            _ => self
                .outputs
                .lock()
                .unwrap()
                .iter()
                .find(|(p, _)| {
                    argv.starts_with(&p.iter().map(String::as_str).collect::<Vec<_>>()[..])
                })
                .map(|(_, out)| out.clone())
                .unwrap_or_default(),
        };
        Ok(ExecOutput {
            stdout: stdout.into_bytes(),
            ..Default::default()
        })
    }
}

fn not_faked(what: &str) -> anyhow::Error {
    anyhow!("the fake provider does not {what}")
}

#[async_trait]
impl Provider for FakeProvider {
    async fn info(&self) -> anyhow::Result<HostInfo> {
        Ok(HostInfo {
            cgroup2: true,
            runtimes: [(
                "sysbox-runc".to_string(),
                "/usr/bin/sysbox-runc".to_string(),
            )]
            .into(),
            ..Default::default()
        })
    }

    async fn preflight(&self, _host: &HostInfo) -> anyhow::Result<()> {
        Ok(())
    }

    async fn provision(&self, _request: &Provisioning<'_>, _log: &Logger) -> anyhow::Result<()> {
        Err(not_faked("provision"))
    }

    /// Adds each node (Kubernetes v1.36.1) with its config entry's role,
    /// remembering the run's ID; a name given to `take_name` fails.
    async fn provision_nodes(
        &self,
        request: &NodeProvisioning<'_>,
        _log: &Logger,
    ) -> anyhow::Result<()> {
        for (index, name) in request.new_nodes {
            if self.taken.lock().unwrap().contains(name) {
                anyhow::bail!("container name {name:?} is already in use");
            }
            let node = NodeRef {
                name: name.clone(),
                role: request.cluster.nodes[*index].role.clone(),
                runtime_mode: request.mode.label().to_string(),
                config_index: Some(*index),
                // As the Docker provider plans them: with the images inbox.
                images_inbox: Some(crate::provider::inbox::INBOX_DIR.to_string()),
            };
            self.set_file(name, "/kind/version", "v1.36.1\n");
            self.nodes
                .lock()
                .unwrap()
                .push((request.cluster.name.clone(), node));
            self.created_by
                .lock()
                .unwrap()
                .insert(name.clone(), request.create_id.to_string());
        }
        Ok(())
    }

    async fn list_clusters(&self) -> anyhow::Result<Vec<String>> {
        let names: BTreeSet<String> = self
            .nodes
            .lock()
            .unwrap()
            .iter()
            .map(|(c, _)| c.clone())
            .collect();
        Ok(names.into_iter().collect())
    }

    async fn list_nodes(&self, cluster: &str) -> anyhow::Result<Vec<NodeRef>> {
        self.listed("list_nodes", Some(cluster));
        Ok(self
            .nodes
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| c == cluster)
            .map(|(_, n)| n.clone())
            .collect())
    }

    /// Labels: the cluster's, the create run's (`provision_nodes`), and
    /// those given to `with_details` for a container of the same name.
    async fn list_nodes_with_labels(
        &self,
        cluster: &str,
    ) -> anyhow::Result<Vec<(NodeRef, HashMap<String, String>)>> {
        self.listed("list_nodes_with_labels", Some(cluster));
        let created_by = self.created_by.lock().unwrap().clone();
        let details = self.details.lock().unwrap().clone();
        let nodes = self.nodes.lock().unwrap().clone();
        Ok(nodes
            .into_iter()
            .filter(|(c, _)| c == cluster)
            .map(|(_, n)| n)
            .map(|n| {
                let mut labels = HashMap::from([(LABEL_CLUSTER.to_string(), cluster.to_string())]);
                if let Some(id) = created_by.get(&n.name) {
                    labels.insert(super::LABEL_CREATE_ID.to_string(), id.clone());
                }
                for d in details.iter().filter(|d| d.name == n.name) {
                    labels.extend(d.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                (n, labels)
            })
            .collect())
    }

    async fn list_nodes_created_by(
        &self,
        cluster: &str,
        create_id: &str,
    ) -> anyhow::Result<Vec<NodeRef>> {
        let created_by = self.created_by.lock().unwrap().clone();
        Ok(self
            .list_nodes(cluster)
            .await?
            .into_iter()
            .filter(|n| created_by.get(&n.name).map(String::as_str) == Some(create_id))
            .collect())
    }

    async fn list_node_details(&self, cluster: Option<&str>) -> anyhow::Result<Vec<NodeDetails>> {
        self.listed("list_node_details", cluster);
        Ok(self
            .details
            .lock()
            .unwrap()
            .iter()
            .filter(|d| {
                d.labels.contains_key(LABEL_CLUSTER)
                    && cluster.is_none_or(|c| d.labels.get(LABEL_CLUSTER).is_some_and(|l| l == c))
            })
            .cloned()
            .collect())
    }

    async fn inspect_network(&self, name: &str) -> anyhow::Result<Option<NetworkInfo>> {
        Ok(self
            .networks
            .lock()
            .unwrap()
            .iter()
            .find(|n| n.name == name)
            .cloned())
    }

    async fn cluster_networks(&self, cluster: &str) -> anyhow::Result<Vec<NetworkInfo>> {
        Ok(self
            .networks
            .lock()
            .unwrap()
            .iter()
            .filter(|n| {
                n.labels
                    .get(super::LABEL_NETWORK_OWNER)
                    .is_some_and(|c| c == cluster)
            })
            .cloned()
            .collect())
    }

    async fn remove_network(&self, id: &str) -> anyhow::Result<bool> {
        let mut networks = self.networks.lock().unwrap();
        if networks
            .iter()
            .any(|n| n.id == id && !n.containers.is_empty())
        {
            return Ok(false);
        }
        networks.retain(|n| n.id != id);
        self.removed_networks.lock().unwrap().push(id.to_string());
        Ok(true)
    }

    async fn cluster_config(&self, cluster: &str) -> anyhow::Result<Option<String>> {
        Ok(self.configs.lock().unwrap().get(cluster).cloned())
    }

    async fn delete_nodes(&self, names: &[String]) -> anyhow::Result<()> {
        self.deleted.lock().unwrap().extend(names.iter().cloned());
        self.nodes
            .lock()
            .unwrap()
            .retain(|(_, n)| !names.contains(&n.name));
        Ok(())
    }

    async fn remove_images_inbox(
        &self,
        cluster: &str,
        create_id: Option<&str>,
    ) -> anyhow::Result<()> {
        self.inbox_removals
            .lock()
            .unwrap()
            .push((cluster.to_string(), create_id.map(str::to_string)));
        Ok(())
    }

    async fn node_state(&self, node: &str) -> anyhow::Result<crate::provider::NodeState> {
        Ok(crate::provider::NodeState {
            running: !self.stopped.lock().unwrap().contains(node),
            ephemeral: self.ephemeral.lock().unwrap().contains(node),
        })
    }

    async fn stop_nodes(&self, names: &[String]) -> anyhow::Result<()> {
        self.stopped.lock().unwrap().extend(names.iter().cloned());
        self.lifecycle
            .lock()
            .unwrap()
            .push(format!("stop {}", names.join(" ")));
        Ok(())
    }

    async fn start_nodes(&self, names: &[String]) -> anyhow::Result<()> {
        let mut stopped = self.stopped.lock().unwrap();
        for n in names {
            stopped.remove(n);
        }
        self.lifecycle
            .lock()
            .unwrap()
            .push(format!("start {}", names.join(" ")));
        Ok(())
    }

    async fn node_addresses(&self, node: &str) -> anyhow::Result<(String, String)> {
        let nodes = self.nodes.lock().unwrap();
        let i = nodes
            .iter()
            .position(|(_, n)| n.name == node)
            .ok_or_else(|| anyhow!("no node {node}"))?;
        Ok((format!("172.18.0.{}", i + 2), format!("fc00::{}", i + 2)))
    }

    async fn cluster_node_addresses(
        &self,
        cluster: &str,
    ) -> anyhow::Result<HashMap<String, anyhow::Result<(String, String)>>> {
        self.listed("cluster_node_addresses", Some(cluster));
        let names: Vec<String> = self
            .nodes
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| c == cluster)
            .map(|(_, n)| n.name.clone())
            .collect();
        let mut out = HashMap::new();
        for name in names {
            let addresses = self.node_addresses(&name).await;
            out.insert(name, addresses);
        }
        Ok(out)
    }

    async fn api_server_endpoint(&self, node: &str) -> anyhow::Result<String> {
        Ok(format!("127.0.0.1:{}", 40000 + node.len()))
    }

    async fn exec(
        &self,
        node: &NodeRef,
        argv: &[&str],
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput, RunError> {
        let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        self.run(node, &argv, stdin)
    }

    fn exec_with_input_stream(
        &self,
        node: &NodeRef,
        argv: &[String],
        _input: BoxStream<'static, Bytes>,
    ) -> BoxFuture<'static, Result<ExecOutput, RunError>> {
        let result = self.run(node, argv, None);
        Box::pin(async move { result })
    }

    async fn info_json(&self) -> anyhow::Result<Vec<u8>> {
        Err(not_faked("describe the engine"))
    }

    async fn inspect_json(&self, _node: &str) -> anyhow::Result<Vec<u8>> {
        Err(not_faked("inspect containers"))
    }

    async fn node_runtime(&self, _node: &str) -> anyhow::Result<String> {
        Err(not_faked("report runtimes"))
    }

    async fn write_container_log(&self, _node: &str, _path: &Path) -> anyhow::Result<()> {
        Err(not_faked("keep console logs"))
    }

    async fn extract_node_dir(
        &self,
        _node: &str,
        _node_dir: &str,
        _host_dir: &Path,
    ) -> anyhow::Result<Vec<String>> {
        Err(not_faked("copy node directories"))
    }

    async fn inspect_image(&self, _image: &str) -> anyhow::Result<Option<ImageInfo>> {
        Ok(None)
    }

    /// Present: an image given to `with_image`; nothing is pulled.
    async fn ensure_image(&self, image: &str, _log: &Logger) -> anyhow::Result<String> {
        if self.images.lock().unwrap().contains(image) {
            return Ok(format!("sha256:{image}"));
        }
        Err(not_faked(&format!("pull {image}")))
    }

    async fn build_image(
        &self,
        _context: Vec<u8>,
        _req: &BuildRequest,
        _progress: &(dyn for<'a> Fn(&'a str) + Sync),
    ) -> Result<String, BuildError> {
        Err(BuildError {
            message: "the fake provider does not build images".into(),
            output: String::new(),
        })
    }

    async fn remove_image_if_unused(&self, _image: &str) -> bool {
        false
    }

    fn save_images(&self, _images: &[String]) -> ByteStream {
        Box::pin(futures_util::stream::once(async {
            Err(not_faked("save images"))
        }))
    }

    async fn create_container(&self, _spec: &ContainerSpec) -> anyhow::Result<()> {
        Err(not_faked("create containers"))
    }

    async fn start_container(&self, _name: &str) -> anyhow::Result<()> {
        Err(not_faked("start containers"))
    }

    async fn wait_for_log(
        &self,
        _name: &str,
        _pattern: &regex::Regex,
        _timeout: Duration,
    ) -> anyhow::Result<()> {
        Err(not_faked("follow logs"))
    }

    async fn container_changes(&self, _container: &str) -> anyhow::Result<Vec<(String, Change)>> {
        Err(not_faked("diff containers"))
    }

    /// A node's file as the engine's archive of it (a one-entry tar).
    async fn copy_from_container(
        &self,
        container: &str,
        path: &str,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(content) = self.file(container, path) else {
            return Ok(None);
        };
        let mut b = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        let base = path.rsplit('/').next().unwrap_or(path);
        b.append_data(&mut header, base, content.as_bytes())?;
        Ok(Some(b.into_inner()?))
    }

    async fn copy_into_container(
        &self,
        _container: &str,
        _dir: &str,
        _tar: Vec<u8>,
    ) -> anyhow::Result<()> {
        Err(not_faked("copy into containers"))
    }

    async fn commit_container(
        &self,
        _container: &str,
        _repo: &str,
        _tag: &str,
        _config_of: &str,
    ) -> anyhow::Result<String> {
        Err(not_faked("commit containers"))
    }
}
