//! What every create action sees: the config, the provider, the
//! logger, and the node list (listed once, then cached, as upstream).
//! Each node's `/kind/version` is cached too (per image in a create, where
//! every node is fresh from its image): Config, KubeadmInit, KubeadmJoin and
//! WaitForReady all need it, and every read is an exec (issue 8: execs are
//! what a create spends its time on).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use tokio::sync::OnceCell;

use crate::config::Cluster;
use crate::log::Logger;
use crate::provider::{ExecOutput, HostInfo, NodeRef, Provider, RunError, RuntimeMode};
use crate::version::Version;

pub struct ActionContext<'a> {
    pub config: &'a Cluster,
    pub provider: &'a dyn Provider,
    pub log: &'a Logger,
    pub mode: &'a RuntimeMode,
    pub host: &'a HostInfo,
    nodes: OnceCell<Vec<NodeRef>>,
    /// [`ActionContext::version_key`] -> its `/kind/version`, read on first
    /// use (a failed read is not cached: the next use reads again).
    versions: Mutex<HashMap<String, Arc<OnceCell<String>>>>,
    /// Every node was just made by this run from its config node's image
    /// (a create): nodes of one image share one read of the file, which is
    /// the image's.
    fresh_nodes: bool,
    /// Every node's addresses, from one listing on first use.
    addresses: OnceCell<HashMap<String, anyhow::Result<(String, String)>>>,
}

/// One exec writes a file: `mkdir -p "$1" && cp /dev/stdin "$2"`, the
/// directory and path passed as positional arguments (never part of the
/// script), as upstream's two execs (`mkdir -p`, then `cp /dev/stdin`) do.
pub const WRITE_FILE_SCRIPT: &str = r#"mkdir -p "$1" && cp /dev/stdin "$2""#;

impl<'a> ActionContext<'a> {
    pub fn new(
        config: &'a Cluster,
        provider: &'a dyn Provider,
        log: &'a Logger,
        mode: &'a RuntimeMode,
        host: &'a HostInfo,
    ) -> Self {
        ActionContext {
            config,
            provider,
            log,
            mode,
            host,
            nodes: OnceCell::new(),
            versions: Mutex::new(HashMap::new()),
            fresh_nodes: false,
            addresses: OnceCell::new(),
        }
    }

    /// For a create: every node was just created from its config node's
    /// image, so `/kind/version` is read once per image, not per node.
    pub fn with_fresh_nodes(mut self) -> Self {
        self.fresh_nodes = true;
        self
    }

    /// Whose `/kind/version` a node's is: its image's when the nodes are
    /// fresh, else its own.
    fn version_key(&self, node: &NodeRef) -> String {
        match crate::cluster::nodes::config_node_for(self.config, node) {
            Ok(c) if self.fresh_nodes && !c.image.is_empty() => format!("image {}", c.image),
            _ => format!("node {}", node.name),
        }
    }

    /// The cluster's containers, listed on first use.
    pub async fn nodes(&self) -> anyhow::Result<&[NodeRef]> {
        let nodes = self
            .nodes
            .get_or_try_init(|| async { self.provider.list_nodes(&self.config.name).await })
            .await?;
        Ok(nodes)
    }

    /// (IPv4, IPv6) of a node on its single network: the cluster's nodes
    /// are listed with their addresses once (one request, not one
    /// inspection per node); a node missing from that listing is inspected.
    pub async fn node_addresses(&self, node: &NodeRef) -> anyhow::Result<(String, String)> {
        let all = self
            .addresses
            .get_or_try_init(|| self.provider.cluster_node_addresses(&self.config.name))
            .await?;
        match all.get(&node.name) {
            Some(Ok(addresses)) => Ok(addresses.clone()),
            Some(Err(e)) => Err(anyhow::anyhow!("{e:#}")),
            None => self.provider.node_addresses(&node.name).await,
        }
    }

    pub async fn exec(&self, node: &NodeRef, argv: &[&str]) -> Result<ExecOutput, RunError> {
        self.provider.exec(node, argv, None).await
    }

    /// `exec` for an argv built as owned strings (the kubeadm command builders).
    pub async fn exec_owned(
        &self,
        node: &NodeRef,
        argv: &[String],
    ) -> Result<ExecOutput, RunError> {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.exec(node, &argv).await
    }

    pub async fn exec_stdin(
        &self,
        node: &NodeRef,
        argv: &[&str],
        stdin: Vec<u8>,
    ) -> Result<ExecOutput, RunError> {
        self.provider.exec(node, argv, Some(stdin)).await
    }

    /// `cat <path>` in the node.
    pub async fn read_file(&self, node: &NodeRef, path: &str) -> Result<String, RunError> {
        let out = self.exec(node, &["cat", path]).await?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `mkdir -p <dir>` then `cp /dev/stdin <path>`, as upstream writes
    /// files, in one exec (see `WRITE_FILE_SCRIPT`).
    pub async fn write_file(
        &self,
        node: &NodeRef,
        path: &str,
        content: &[u8],
    ) -> Result<(), RunError> {
        let dir = Path::new(path)
            .parent()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| "/".into());
        self.exec_stdin(
            node,
            &["sh", "-c", WRITE_FILE_SCRIPT, "sh", &dir, path],
            content.to_vec(),
        )
        .await?;
        Ok(())
    }

    /// `/kind/version`, which must be exactly one line; read once per node
    /// (concurrent callers for one node share the one read).
    pub async fn kubernetes_version(&self, node: &NodeRef) -> anyhow::Result<String> {
        let cell = self
            .versions
            .lock()
            .expect("version cache lock")
            .entry(self.version_key(node))
            .or_default()
            .clone();
        let version = cell
            .get_or_try_init(|| self.read_kubernetes_version(node))
            .await?;
        Ok(version.clone())
    }

    async fn read_kubernetes_version(&self, node: &NodeRef) -> anyhow::Result<String> {
        let raw = self
            .read_file(node, "/kind/version")
            .await
            .context("failed to get kubernetes version from node")?;
        let lines: Vec<&str> = raw.lines().collect();
        if lines.len() != 1 {
            anyhow::bail!(
                "failed to get kubernetes version from node: file should only be one line, got {} lines",
                lines.len()
            );
        }
        Ok(lines[0].trim().to_string())
    }

    /// `/kind/version` as written and parsed generically (kubeadm's command
    /// lines depend on it).
    pub async fn parsed_kubernetes_version(
        &self,
        node: &NodeRef,
    ) -> anyhow::Result<(String, Version)> {
        let raw = self.kubernetes_version(node).await?;
        let version = Version::parse_generic(&raw)
            .map_err(|e| anyhow::anyhow!("failed to parse kubernetes version {raw:?}: {e}"))?;
        Ok((raw, version))
    }
}
