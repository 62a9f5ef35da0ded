//! `kind delete cluster`: kubeconfig entries first, then every container of
//! the cluster, concurrently, then its images inbox volume. The network is
//! left in place (spec §5.5).

use std::path::Path;

use anyhow::Context as _;

use crate::kubeconfig;
use crate::log::Logger;
use crate::provider::Provider;

/// Delete a cluster; a cluster that does not exist is a success.
pub async fn delete(
    provider: &dyn Provider,
    name: &str,
    explicit_kubeconfig: Option<&Path>,
    log: &Logger,
) -> anyhow::Result<()> {
    let nodes = provider
        .list_nodes(name)
        .await
        .context("error listing nodes")?;
    delete_nodes(provider, name, nodes, explicit_kubeconfig, None, log).await
}

/// A failed create's cleanup: as `delete`, but only the containers that
/// create run made (see `ownership`).
pub async fn delete_created_by(
    provider: &dyn Provider,
    name: &str,
    create_id: &str,
    explicit_kubeconfig: Option<&Path>,
    log: &Logger,
) -> anyhow::Result<()> {
    let nodes = provider
        .list_nodes_created_by(name, create_id)
        .await
        .context("error listing nodes")?;
    delete_nodes(
        provider,
        name,
        nodes,
        explicit_kubeconfig,
        Some(create_id),
        log,
    )
    .await
}

async fn delete_nodes(
    provider: &dyn Provider,
    name: &str,
    nodes: Vec<crate::provider::NodeRef>,
    explicit_kubeconfig: Option<&Path>,
    create_id: Option<&str>,
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
        provider.delete_nodes(&names).await?;
        log.info(&format!(
            "Deleted nodes: {}",
            crate::gotext::quote_list(&names)
        ));
    }
    // Once no node mounts it. The nodes are gone whatever happens here, so
    // a failure is a warning (the volume is named after the cluster).
    if let Err(e) = provider.remove_images_inbox(name, create_id).await {
        log.warn(&format!("{e:#}"));
    }
    kubeconfig_result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Buffer;
    use crate::provider::fake::FakeProvider;

    #[tokio::test]
    async fn deletes_every_container_of_the_cluster_only() {
        let p = FakeProvider::default()
            .with_node("k", "k-control-plane", "control-plane", "v1.36.1")
            .with_node("other", "other-control-plane", "control-plane", "v1.36.1")
            .with_node("k", "k-worker", "worker", "v1.36.1");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("config");
        let buffer = Buffer::default();
        let log = Logger::new(Box::new(buffer.clone()), false, 0, false);
        delete(&p, "k", Some(&kubeconfig), &log).await.unwrap();
        assert_eq!(p.deleted(), ["k-control-plane", "k-worker"]);
        assert_eq!(
            buffer.contents(),
            "Deleted nodes: [\"k-control-plane\" \"k-worker\"]\n"
        );
        assert_eq!(p.list_clusters().await.unwrap(), ["other"]);
        // A cluster that does not exist is a success, and deletes nothing
        // (but a volume its nodes left, were there one).
        delete(&p, "k", Some(&kubeconfig), &log).await.unwrap();
        assert_eq!(p.deleted().len(), 2);
        // The images inbox, after the nodes, any create run's.
        assert_eq!(
            p.inbox_removals(),
            [("k".to_string(), None), ("k".to_string(), None)]
        );
        // (A failed create's cleanup passes its run: tests/create_cluster.rs.)
    }
}
