//! What every create action sees: the config, the provider, the
//! logger, and the node list (listed once, then cached, as upstream).

use std::path::Path;

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
}

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

    /// `mkdir -p <dir>` then `cp /dev/stdin <path>`, as upstream writes files.
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
        self.exec(node, &["mkdir", "-p", &dir]).await?;
        self.exec_stdin(node, &["cp", "/dev/stdin", path], content.to_vec())
            .await?;
        Ok(())
    }

    /// `/kind/version`, which must be exactly one line.
    pub async fn kubernetes_version(&self, node: &NodeRef) -> anyhow::Result<String> {
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
