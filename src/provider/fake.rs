//! A provider without an engine, for unit tests of what runs on top of the
//! seam (create actions, delete, kubeconfig): nodes are names with roles,
//! a node's files are a map that `cat` reads and `cp /dev/stdin` writes,
//! and every command and deletion is recorded in order.

use std::collections::{BTreeMap, BTreeSet};
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
    NodeRef, Provider, Provisioning, RunError,
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
}

impl FakeProvider {
    /// A Sysbox node `name` with `role` in `cluster`, whose `/kind/version`
    /// is `version`.
    pub fn with_node(self, cluster: &str, name: &str, role: &str, version: &str) -> Self {
        self.with_node_ref(
            cluster,
            NodeRef {
                name: name.into(),
                role: role.into(),
                runtime_mode: "sysbox".into(),
                config_index: None,
                images_inbox: None,
            },
            version,
        )
    }

    /// A node as given, whose `/kind/version` is `version`.
    pub fn with_node_ref(self, cluster: &str, node: NodeRef, version: &str) -> Self {
        self.set_file(&node.name, "/kind/version", &format!("{version}\n"));
        self.nodes.lock().unwrap().push((cluster.to_string(), node));
        self
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
            ["cp", "/dev/stdin", path] => {
                let content = String::from_utf8_lossy(&stdin.unwrap_or_default()).into_owned();
                self.set_file(&node.name, path, &content);
                String::new()
            }
            _ => String::new(),
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
        Ok(self
            .nodes
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| c == cluster)
            .map(|(_, n)| n.clone())
            .collect())
    }

    async fn list_nodes_created_by(
        &self,
        _cluster: &str,
        _create_id: &str,
    ) -> anyhow::Result<Vec<NodeRef>> {
        Err(not_faked("record create runs"))
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

    async fn node_addresses(&self, node: &str) -> anyhow::Result<(String, String)> {
        let nodes = self.nodes.lock().unwrap();
        let i = nodes
            .iter()
            .position(|(_, n)| n.name == node)
            .ok_or_else(|| anyhow!("no node {node}"))?;
        Ok((format!("172.18.0.{}", i + 2), format!("fc00::{}", i + 2)))
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

    async fn ensure_image(&self, image: &str, _log: &Logger) -> anyhow::Result<String> {
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

    async fn copy_from_container(
        &self,
        _container: &str,
        _path: &str,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        Err(not_faked("copy from containers"))
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
