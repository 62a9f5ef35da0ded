//! What an existing cluster says about itself, read back from its
//! containers rather than from the current environment or config file: the
//! effective config `create` stored with it (see
//! `provider::LABEL_CLUSTER_CONFIG`), and the runtime mode its nodes run in.
//! Later commands plan new nodes from these, exactly as `create` did.

use anyhow::{anyhow, bail, Context as _};

use crate::config::{self, Cluster};
use crate::provider::{HostInfo, NodeRef, Provider, RuntimeError, RuntimeMode};

/// No container carries the cluster's name.
#[derive(Debug, thiserror::Error)]
#[error("unknown cluster {name:?}: it has no nodes (kind get clusters lists the clusters)")]
pub struct UnknownCluster {
    pub name: String,
}

/// The cluster's containers (the load balancer included); an unknown
/// cluster is an error.
pub async fn nodes_of(provider: &dyn Provider, cluster: &str) -> anyhow::Result<Vec<NodeRef>> {
    let nodes = provider.list_nodes(cluster).await?;
    if nodes.is_empty() {
        return Err(UnknownCluster {
            name: cluster.to_string(),
        }
        .into());
    }
    Ok(nodes)
}

/// The effective config stored with `cluster`; None when it has none (no
/// such cluster, or one created by upstream kind).
pub async fn effective_config(
    provider: &dyn Provider,
    cluster: &str,
) -> anyhow::Result<Option<Cluster>> {
    let Some(text) = provider.cluster_config(cluster).await? else {
        return Ok(None);
    };
    let decoded = config::parse(text.as_bytes())
        .with_context(|| format!("the config stored with cluster {cluster:?} cannot be read"))?;
    Ok(Some(decoded))
}

/// The runtime mode of an existing cluster's nodes (the load balancer
/// aside): one mode for all, from their runtime-mode labels. A Sysbox
/// cluster runs under the host's registered Sysbox runtime.
pub fn runtime_mode(nodes: &[NodeRef], host: &HostInfo) -> anyhow::Result<RuntimeMode> {
    let internal = crate::cluster::nodes::internal(nodes);
    let Some(first) = internal.first() else {
        bail!("the cluster has no nodes");
    };
    if let Some(other) = internal
        .iter()
        .find(|n| n.runtime_mode != first.runtime_mode)
    {
        bail!(
            "the cluster's nodes run in different runtime modes: {} is {:?}, {} is {:?}",
            first.name,
            first.runtime_mode,
            other.name,
            other.runtime_mode
        );
    }
    match first.runtime_mode.as_str() {
        "runc" => Ok(RuntimeMode::Runc),
        "sysbox" => {
            let runtime = host
                .sysbox_runtime()
                .ok_or_else(|| anyhow!(RuntimeError::SysboxNotRegistered))?;
            Ok(RuntimeMode::Sysbox {
                runtime: runtime.to_string(),
            })
        }
        other => bail!("unknown runtime mode {other:?} on node {}", first.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::fake::FakeProvider;

    fn node(name: &str, role: &str, mode: &str) -> NodeRef {
        NodeRef {
            name: name.into(),
            role: role.into(),
            runtime_mode: mode.into(),
            config_index: None,
            images_inbox: None,
        }
    }

    fn host_with_sysbox() -> HostInfo {
        HostInfo {
            runtimes: [(
                "sysbox-runc".to_string(),
                "/usr/bin/sysbox-runc".to_string(),
            )]
            .into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn the_stored_config_decodes_to_what_create_stored() {
        let mut c = config::load(None).unwrap();
        config::apply_overrides(&mut c, "k", None);
        config::set_defaults_with_image(&mut c, "kind-sysbox/node:v1.36.1");
        c.nodes[0].labels = [("tier".to_string(), "web".to_string())].into();
        let p = FakeProvider::default().with_config("k", &config::encode(&c));
        assert_eq!(effective_config(&p, "k").await.unwrap(), Some(c));
        assert_eq!(effective_config(&p, "other").await.unwrap(), None);
        let broken = FakeProvider::default().with_config("k", "kind: Nope\n");
        let err = effective_config(&broken, "k").await.unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "the config stored with cluster \"k\" cannot be read: unknown apiVersion: "
        );
    }

    #[test]
    fn the_mode_comes_from_the_nodes_not_the_environment() {
        let host = host_with_sysbox();
        let sysbox = [
            node("k-control-plane", "control-plane", "sysbox"),
            node("k-worker", "worker", "sysbox"),
            // The LB's mode does not decide.
            node("k-external-load-balancer", "external-load-balancer", "runc"),
        ];
        assert_eq!(
            runtime_mode(&sysbox, &host).unwrap(),
            RuntimeMode::Sysbox {
                runtime: "sysbox-runc".into()
            }
        );
        let runc = [node("k-control-plane", "control-plane", "runc")];
        assert_eq!(
            runtime_mode(&runc, &HostInfo::default()).unwrap(),
            RuntimeMode::Runc
        );
        let mixed = [
            node("k-control-plane", "control-plane", "sysbox"),
            node("k-worker", "worker", "runc"),
        ];
        assert!(runtime_mode(&mixed, &host)
            .unwrap_err()
            .to_string()
            .contains("different runtime modes"));
        assert!(runtime_mode(&sysbox, &HostInfo::default())
            .unwrap_err()
            .to_string()
            .starts_with("Sysbox is not registered with Docker"));
        assert!(runtime_mode(&[], &host).is_err());
    }
}
