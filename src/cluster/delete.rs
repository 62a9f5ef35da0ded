//! `kind delete cluster`: kubeconfig entries first, then every container of
//! the cluster, concurrently. The network is left in place (spec §5.5).

use std::path::Path;

use anyhow::Context as _;

use crate::kubeconfig;
use crate::log::Logger;
use crate::provider::Docker;

/// Delete a cluster; a cluster that does not exist is a success.
pub async fn delete(
    docker: &Docker,
    name: &str,
    explicit_kubeconfig: Option<&Path>,
    log: &Logger,
) -> anyhow::Result<()> {
    let nodes = docker
        .list_nodes(name)
        .await
        .context("error listing nodes")?;
    delete_nodes(docker, name, nodes, explicit_kubeconfig, log).await
}

/// A failed create's cleanup: as `delete`, but only the containers that
/// create run made (see `ownership`).
pub async fn delete_created_by(
    docker: &Docker,
    name: &str,
    create_id: &str,
    explicit_kubeconfig: Option<&Path>,
    log: &Logger,
) -> anyhow::Result<()> {
    let nodes = docker
        .list_nodes_created_by(name, create_id)
        .await
        .context("error listing nodes")?;
    delete_nodes(docker, name, nodes, explicit_kubeconfig, log).await
}

async fn delete_nodes(
    docker: &Docker,
    name: &str,
    nodes: Vec<crate::provider::NodeRef>,
    explicit_kubeconfig: Option<&Path>,
    log: &Logger,
) -> anyhow::Result<()> {
    // The kubeconfig lock may wait for other kind processes: off the runtime.
    let (cluster, explicit) = (name.to_string(), explicit_kubeconfig.map(Path::to_path_buf));
    let kubeconfig_result =
        tokio::task::spawn_blocking(move || kubeconfig::remove(&cluster, explicit.as_deref()))
            .await
            .context("kubeconfig update task failed")?;
    if let Err(e) = &kubeconfig_result {
        log.warn(&format!("failed to update kubeconfig: {e:#}"));
    }
    if !nodes.is_empty() {
        let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
        docker.delete_containers(&names).await?;
        log.info(&format!(
            "Deleted nodes: {}",
            crate::gotext::quote_list(&names)
        ));
    }
    kubeconfig_result
}
