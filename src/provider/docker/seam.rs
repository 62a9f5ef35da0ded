//! `Docker` behind the provider seam: each trait method is one of the
//! Docker operations of the sibling modules.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::FutureExt;

use super::Docker;
use crate::log::Logger;
use crate::provider::{
    BuildError, BuildRequest, ByteStream, Change, ContainerSpec, ExecOutput, HostInfo, ImageInfo,
    NetworkInfo, NodeDetails, NodeProvisioning, NodeRef, NodeState, Provider, Provisioning,
    RunError,
};

#[async_trait]
impl Provider for Docker {
    async fn info(&self) -> anyhow::Result<HostInfo> {
        self.host_info().await
    }

    async fn preflight(&self, host: &HostInfo) -> anyhow::Result<()> {
        crate::doctor::preflight(self, host)
    }

    async fn provision(&self, request: &Provisioning<'_>, log: &Logger) -> anyhow::Result<()> {
        Docker::provision(self, request, log).await
    }

    async fn provision_nodes(
        &self,
        request: &NodeProvisioning<'_>,
        log: &Logger,
    ) -> anyhow::Result<()> {
        Docker::provision_nodes(self, request, log).await
    }

    async fn list_clusters(&self) -> anyhow::Result<Vec<String>> {
        Docker::list_clusters(self).await
    }

    async fn list_nodes(&self, cluster: &str) -> anyhow::Result<Vec<NodeRef>> {
        Docker::list_nodes(self, cluster).await
    }

    async fn list_nodes_with_labels(
        &self,
        cluster: &str,
    ) -> anyhow::Result<Vec<(NodeRef, HashMap<String, String>)>> {
        Docker::list_nodes_with_labels(self, cluster).await
    }

    async fn list_nodes_created_by(
        &self,
        cluster: &str,
        create_id: &str,
    ) -> anyhow::Result<Vec<NodeRef>> {
        Docker::list_nodes_created_by(self, cluster, create_id).await
    }

    async fn list_node_details(&self, cluster: Option<&str>) -> anyhow::Result<Vec<NodeDetails>> {
        Docker::list_node_details(self, cluster).await
    }

    async fn inspect_network(&self, name: &str) -> anyhow::Result<Option<NetworkInfo>> {
        self.network_info(name).await
    }

    async fn cluster_networks(&self, cluster: &str) -> anyhow::Result<Vec<NetworkInfo>> {
        self.networks_owned_by(cluster).await
    }

    async fn remove_network(&self, id: &str) -> anyhow::Result<bool> {
        self.remove_network_if_unused(id).await
    }

    async fn cluster_config(&self, cluster: &str) -> anyhow::Result<Option<String>> {
        Docker::cluster_config(self, cluster).await
    }

    async fn delete_nodes(&self, names: &[String]) -> anyhow::Result<()> {
        self.delete_containers(names).await
    }

    async fn remove_images_inbox(
        &self,
        cluster: &str,
        create_id: Option<&str>,
    ) -> anyhow::Result<()> {
        Docker::remove_images_inbox(self, cluster, create_id).await
    }

    async fn node_state(&self, node: &str) -> anyhow::Result<NodeState> {
        Docker::node_state(self, node).await
    }

    async fn stop_nodes(&self, names: &[String]) -> anyhow::Result<()> {
        self.stop_containers(names).await
    }

    async fn start_nodes(&self, names: &[String]) -> anyhow::Result<()> {
        self.start_containers(names).await
    }

    async fn node_addresses(&self, node: &str) -> anyhow::Result<(String, String)> {
        Docker::node_addresses(self, node).await
    }

    async fn cluster_node_addresses(
        &self,
        cluster: &str,
    ) -> anyhow::Result<HashMap<String, anyhow::Result<(String, String)>>> {
        Docker::cluster_node_addresses(self, cluster).await
    }

    async fn api_server_endpoint(&self, node: &str) -> anyhow::Result<String> {
        Docker::api_server_endpoint(self, node).await
    }

    async fn exec(
        &self,
        node: &NodeRef,
        argv: &[&str],
        stdin: Option<Vec<u8>>,
    ) -> Result<ExecOutput, RunError> {
        Docker::exec(self, node, argv, stdin).await
    }

    fn exec_with_input_stream(
        &self,
        node: &NodeRef,
        argv: &[String],
        input: BoxStream<'static, Bytes>,
    ) -> BoxFuture<'static, Result<ExecOutput, RunError>> {
        Docker::exec_with_input_stream(self, node, argv, input).boxed()
    }

    async fn info_json(&self) -> anyhow::Result<Vec<u8>> {
        Docker::info_json(self).await
    }

    async fn inspect_json(&self, node: &str) -> anyhow::Result<Vec<u8>> {
        Docker::inspect_json(self, node).await
    }

    async fn node_runtime(&self, node: &str) -> anyhow::Result<String> {
        Docker::node_runtime(self, node).await
    }

    async fn write_container_log(&self, node: &str, path: &Path) -> anyhow::Result<()> {
        Docker::write_container_log(self, node, path).await
    }

    async fn extract_node_dir(
        &self,
        node: &str,
        node_dir: &str,
        host_dir: &Path,
    ) -> anyhow::Result<Vec<String>> {
        Docker::extract_node_dir(self, node, node_dir, host_dir).await
    }

    async fn inspect_image(&self, image: &str) -> anyhow::Result<Option<ImageInfo>> {
        Ok(self.inspect_image_opt(image).await?.map(|i| ImageInfo {
            id: i.id.unwrap_or_default(),
            labels: i.config.and_then(|c| c.labels).unwrap_or_default(),
            diff_ids: i.root_fs.and_then(|r| r.layers).unwrap_or_default(),
        }))
    }

    async fn ensure_image(&self, image: &str, log: &Logger) -> anyhow::Result<String> {
        Docker::ensure_image(self, image, log).await
    }

    async fn build_image(
        &self,
        context: Vec<u8>,
        req: &BuildRequest,
        progress: &(dyn for<'a> Fn(&'a str) + Sync),
    ) -> Result<String, BuildError> {
        self.build_image_from_tar(context, req, progress).await
    }

    async fn remove_image_if_unused(&self, image: &str) -> bool {
        Docker::remove_image_if_unused(self, image).await
    }

    fn save_images(&self, images: &[String]) -> ByteStream {
        Docker::save_images(self, images)
    }

    async fn create_container(&self, spec: &ContainerSpec) -> anyhow::Result<()> {
        Docker::create_container(self, spec).await
    }

    async fn start_container(&self, name: &str) -> anyhow::Result<()> {
        Docker::start_container(self, name).await
    }

    async fn wait_for_log(
        &self,
        name: &str,
        pattern: &regex::Regex,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        Docker::wait_for_log(self, name, pattern, timeout).await
    }

    async fn container_changes(&self, container: &str) -> anyhow::Result<Vec<(String, Change)>> {
        Docker::container_changes(self, container).await
    }

    async fn copy_from_container(
        &self,
        container: &str,
        path: &str,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        Docker::copy_from_container(self, container, path).await
    }

    async fn copy_into_container(
        &self,
        container: &str,
        dir: &str,
        tar: Vec<u8>,
    ) -> anyhow::Result<()> {
        Docker::copy_into_container(self, container, dir, tar).await
    }

    async fn commit_container(
        &self,
        container: &str,
        repo: &str,
        tag: &str,
        config_of: &str,
    ) -> anyhow::Result<String> {
        self.commit_with_config_of(container, repo, tag, config_of)
            .await
    }
}
