//! `kind delete cluster`: the kubeconfig entries and every container of the
//! cluster, concurrently, then its images inbox volume. The network is
//! left in place (spec §5.5), except one `create cluster --network` made
//! for this cluster, once no container is attached to it any more.

use std::path::Path;

use anyhow::Context as _;

use crate::kubeconfig;
use crate::log::Logger;
use crate::provider::{network, Provider, LABEL_CREATE_ID};

/// Delete a cluster; a cluster that does not exist is a success.
pub async fn delete(
    provider: &dyn Provider,
    name: &str,
    explicit_kubeconfig: Option<&Path>,
    log: &Logger,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // One listing of the containers, their labels included, and
    // concurrently the networks made for the cluster.
    let (listed, networks) = tokio::join!(
        provider.list_nodes_with_labels(name),
        provider.cluster_networks(name)
    );
    let listed = listed.context("error listing nodes")?;
    // Which create runs made the cluster's containers: only a network one
    // of them made is removed.
    let create_ids: Vec<String> = if networks?.is_empty() {
        Vec::new()
    } else {
        listed
            .iter()
            .filter_map(|(_, labels)| labels.get(LABEL_CREATE_ID).cloned())
            .collect()
    };
    let nodes = listed.into_iter().map(|(node, _)| node).collect();
    phase(log, "listing", started);
    let result = delete_nodes(provider, name, nodes, Some(explicit_kubeconfig), None, log).await;
    let since = std::time::Instant::now();
    remove_own_networks(provider, name, &create_ids, log).await?;
    phase(log, "networks", since);
    phase(log, "total", started);
    result
}

/// Phase timings at -v 1 (issue 8: where a delete's time goes).
fn phase(log: &Logger, name: &str, since: std::time::Instant) {
    log.debug(
        1,
        &format!("delete phase: {name} in {:.2?}", since.elapsed()),
    );
}

/// Remove the networks made for `cluster` by one of `create_ids` that no
/// container uses now (after the cluster's own containers are gone).
async fn remove_own_networks(
    provider: &dyn Provider,
    cluster: &str,
    create_ids: &[String],
    log: &Logger,
) -> anyhow::Result<()> {
    if create_ids.is_empty() {
        return Ok(());
    }
    let networks = provider.cluster_networks(cluster).await?;
    for n in network::made_by(cluster, &networks, create_ids) {
        // The engine refuses a network that gained a container meanwhile.
        if n.containers.is_empty() && provider.remove_network(&n.id).await? {
            log.info(&format!("Deleted network {:?}", n.name));
        } else {
            log.info(&format!(
                "Kept network {:?}: other containers are attached to it",
                n.name
            ));
        }
    }
    Ok(())
}

/// A failed create's cleanup: as `delete`, but only the containers that
/// create run made (see `ownership`), and the kubeconfig entries only when
/// `kubeconfig` is `Some(explicit --kubeconfig or None for the defaults)`.
pub async fn delete_created_by(
    provider: &dyn Provider,
    name: &str,
    create_id: &str,
    kubeconfig: Option<Option<&Path>>,
    log: &Logger,
) -> anyhow::Result<()> {
    let nodes = provider
        .list_nodes_created_by(name, create_id)
        .await
        .context("error listing nodes")?;
    let result = delete_nodes(provider, name, nodes, kubeconfig, Some(create_id), log).await;
    remove_own_networks(provider, name, &[create_id.to_string()], log).await?;
    result
}

async fn delete_nodes(
    provider: &dyn Provider,
    name: &str,
    nodes: Vec<crate::provider::NodeRef>,
    kubeconfig: Option<Option<&Path>>,
    create_id: Option<&str>,
    log: &Logger,
) -> anyhow::Result<()> {
    // The kubeconfig entries and the containers are independent: removed
    // concurrently, reported in upstream's order (kubeconfig first).
    let kubeconfig_removal = async {
        match kubeconfig {
            None => Ok(Ok(())),
            Some(explicit) => {
                // The kubeconfig lock may wait for other kind processes: off the runtime.
                let (cluster, explicit) = (name.to_string(), explicit.map(Path::to_path_buf));
                tokio::task::spawn_blocking(move || {
                    kubeconfig::remove(&cluster, explicit.as_deref())
                })
                .await
                .context("kubeconfig update task failed")
            }
        }
    };
    let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
    let node_removal = async {
        if names.is_empty() {
            Ok(())
        } else {
            provider.delete_nodes(&names).await
        }
    };
    let since = std::time::Instant::now();
    let (kubeconfig_result, removed) = tokio::join!(kubeconfig_removal, node_removal);
    phase(log, "containers and kubeconfig", since);
    let kubeconfig_result = kubeconfig_result?;
    if let Err(e) = &kubeconfig_result {
        log.warn(&format!("failed to update kubeconfig: {e:#}"));
    }
    removed?;
    if !names.is_empty() {
        log.info(&format!(
            "Deleted nodes: {}",
            crate::gotext::quote_list(&names)
        ));
    }
    // Once no node mounts it. The nodes are gone whatever happens here, so
    // a failure is a warning (the volume is named after the cluster).
    let since = std::time::Instant::now();
    if let Err(e) = provider.remove_images_inbox(name, create_id).await {
        log.warn(&format!("{e:#}"));
    }
    phase(log, "images volume", since);
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
        assert_eq!(p.listings(), ["list_nodes_with_labels k"]);
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
    }

    #[tokio::test]
    async fn removes_the_network_its_create_made_once_unused_only() {
        use crate::provider::{NetworkInfo, NodeDetails, LABEL_CLUSTER, LABEL_NETWORK_OWNER};
        let owned = |id: &str, cluster: &str, run: &str, containers: &[&str]| NetworkInfo {
            id: id.into(),
            name: format!("net-{id}"),
            driver: "bridge".into(),
            labels: [
                (LABEL_NETWORK_OWNER.to_string(), cluster.to_string()),
                (LABEL_CREATE_ID.to_string(), run.to_string()),
            ]
            .into(),
            containers: containers.iter().map(|c| c.to_string()).collect(),
        };
        let details = NodeDetails {
            name: "k-control-plane".into(),
            labels: [
                (LABEL_CLUSTER.to_string(), "k".to_string()),
                (LABEL_CREATE_ID.to_string(), "run1".to_string()),
            ]
            .into(),
            ..Default::default()
        };
        let p = FakeProvider::default()
            .with_node("k", "k-control-plane", "control-plane", "v1.36.1")
            .with_details(details, None)
            .with_network(owned("mine", "k", "run1", &[]))
            .with_network(owned("busy", "k", "run1", &["someone"]))
            .with_network(owned("earlier", "k", "run0", &[]))
            .with_network(owned("theirs", "other", "run1", &[]));
        let dir = tempfile::tempdir().unwrap();
        let buffer = Buffer::default();
        let log = Logger::new(Box::new(buffer.clone()), false, 0, false);
        delete(&p, "k", Some(&dir.path().join("config")), &log)
            .await
            .unwrap();
        assert_eq!(p.removed_networks(), ["mine"]);
        assert_eq!(
            p.listings(),
            ["list_nodes_with_labels k"],
            "one container listing gives the nodes and their create runs"
        );
        assert_eq!(
            buffer.contents(),
            "Deleted nodes: [\"k-control-plane\"]\nDeleted network \"net-mine\"\nKept network \"net-busy\": other containers are attached to it\n"
        );
    }
}
