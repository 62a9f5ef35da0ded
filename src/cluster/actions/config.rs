//! Write `/kind/kubeadm.conf` on every node and apply containerd config
//! patches (spec §4.3).

use anyhow::Context as _;
use futures_util::future::try_join_all;

use crate::cluster::{nodes, ActionContext};
use crate::config::{Cluster, ROLE_CONTROL_PLANE};
use crate::kubeadm::{self, ConfigData, Patches};
use crate::provider::NodeRef;

pub async fn run(ctx: &ActionContext<'_>) -> anyhow::Result<()> {
    ctx.log.status_start("Writing configuration 📜");
    let all = ctx.nodes().await?;
    let endpoint = format!(
        "{}:{}",
        nodes::api_server_endpoint_node(all)?.name,
        kubeadm::API_BIND_PORT
    );
    let internal = nodes::internal(all);

    try_join_all(
        internal
            .iter()
            .map(|node| write_kubeadm_config(ctx, node, &endpoint, kubeadm::TOKEN)),
    )
    .await?;

    let c = ctx.config;
    if !c.containerd_config_patches.is_empty() || !c.containerd_config_patches_json6902.is_empty() {
        try_join_all(internal.iter().map(|node| patch_containerd(ctx, node))).await?;
    }
    ctx.log.status_end(true);
    Ok(())
}

/// Render and write one node's `/kind/kubeadm.conf`; `token` is the
/// bootstrap token a joining node presents (kind's fixed one at create, a
/// fresh one for nodes added later).
pub(crate) async fn write_kubeadm_config(
    ctx: &ActionContext<'_>,
    node: &NodeRef,
    endpoint: &str,
    token: &str,
) -> anyhow::Result<()> {
    let version = ctx.kubernetes_version(node).await?;
    let config_node = nodes::config_node_for(ctx.config, node)?;
    let (v4, v6) = ctx.node_addresses(node).await?;
    let node_address = node_address(ctx.config, &node.name, &v4, &v6)?;
    let data = ConfigData {
        cluster_name: ctx.config.name.clone(),
        kubernetes_version: version,
        control_plane_endpoint: endpoint.to_string(),
        api_bind_port: kubeadm::API_BIND_PORT,
        api_server_address: ctx.config.networking.api_server_address.clone(),
        node_provider: "docker".into(),
        control_plane: config_node.role == ROLE_CONTROL_PLANE,
        node_address,
        node_name: node.name.clone(),
        token: token.into(),
        kube_proxy_mode: ctx.config.networking.kube_proxy_mode.clone(),
        pod_subnet: ctx.config.networking.pod_subnet.clone(),
        service_subnet: ctx.config.networking.service_subnet.clone(),
        feature_gates: ctx.config.feature_gates.clone(),
        runtime_config: ctx.config.runtime_config.clone(),
        ip_family: ctx.config.networking.ip_family.clone(),
        node_labels: config_node
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        // Sysbox nodes are not "rootless": Sysbox emulates the sysctls that
        // KubeletInUserNamespace works around (sysbox-kind.md §1.5).
        rootless: ctx.host.rootless,
    };
    let cluster_patches = Patches {
        merge: &ctx.config.kubeadm_config_patches,
        json6902: &ctx.config.kubeadm_config_patches_json6902,
    };
    let node_patches = Patches {
        merge: &config_node.kubeadm_config_patches,
        json6902: &config_node.kubeadm_config_patches_json6902,
    };
    let rendered = kubeadm::render(&data, cluster_patches, node_patches)
        .context("failed to generate kubeadm config content")?;
    ctx.log.debug(
        2,
        &format!(
            "Using the following kubeadm config for node {}:\n{}",
            node.name, rendered
        ),
    );
    ctx.write_file(node, "/kind/kubeadm.conf", rendered.as_bytes())
        .await
        .context("failed to copy kubeadm config to node")?;
    Ok(())
}

/// kubelet's `node-ip`: IPv4, IPv6, or both ordered by the first service
/// subnet's family (spec §4.3).
pub fn node_address(cluster: &Cluster, name: &str, v4: &str, v6: &str) -> anyhow::Result<String> {
    let family = cluster.networking.ip_family.as_str();
    if (family == "ipv6" || family == "dual") && v6.parse::<std::net::Ipv6Addr>().is_err() {
        anyhow::bail!("failed to get IPv6 address for node {name}; is docker configured to use IPv6 correctly?");
    }
    Ok(match family {
        "ipv6" => v6.to_string(),
        "dual" => {
            let first = cluster
                .networking
                .service_subnet
                .split(',')
                .next()
                .unwrap_or("");
            if first.contains(':') {
                format!("{v6},{v4}")
            } else {
                format!("{v4},{v6}")
            }
        }
        _ => v4.to_string(),
    })
}

pub(crate) async fn patch_containerd(
    ctx: &ActionContext<'_>,
    node: &NodeRef,
) -> anyhow::Result<()> {
    const PATH: &str = "/etc/containerd/config.toml";
    let current = ctx
        .read_file(node, PATH)
        .await
        .context("failed to read containerd config from node")?;
    let patched = crate::patch::containerd_toml(
        &current,
        &ctx.config.containerd_config_patches,
        &ctx.config.containerd_config_patches_json6902,
    )
    .context("failed to patch containerd config")?;
    ctx.write_file(node, PATH, patched.as_bytes())
        .await
        .context("failed to write patched containerd config")?;
    ctx.exec(
        node,
        &[
            "bash",
            "-c",
            "! pgrep --exact containerd || systemctl restart containerd",
        ],
    )
    .await
    .context("failed to restart containerd after patching config")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(family: &str, service: &str) -> Cluster {
        let mut c = Cluster::default();
        c.networking.ip_family = family.into();
        c.networking.service_subnet = service.into();
        c
    }

    #[test]
    fn node_address_follows_the_family() {
        let v4 = "172.18.0.2";
        let v6 = "fc00:f853:ccd:e793::2";
        assert_eq!(
            node_address(&cluster("ipv4", "10.96.0.0/16"), "n", v4, v6).unwrap(),
            v4
        );
        assert_eq!(
            node_address(&cluster("ipv6", "fd00:10:96::/112"), "n", v4, v6).unwrap(),
            v6
        );
        assert_eq!(
            node_address(
                &cluster("dual", "10.96.0.0/16,fd00:10:96::/112"),
                "n",
                v4,
                v6
            )
            .unwrap(),
            format!("{v4},{v6}")
        );
        assert_eq!(
            node_address(
                &cluster("dual", "fd00:10:96::/112,10.96.0.0/16"),
                "n",
                v4,
                v6
            )
            .unwrap(),
            format!("{v6},{v4}")
        );
    }

    #[test]
    fn ipv6_cluster_without_an_ipv6_address_is_an_error() {
        let err = node_address(
            &cluster("ipv6", "fd00:10:96::/112"),
            "k-worker",
            "172.18.0.3",
            "",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to get IPv6 address for node k-worker; is docker configured to use IPv6 correctly?"
        );
    }
}
