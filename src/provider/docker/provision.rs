//! Provisioning a cluster's containers on Docker (upstream's
//! `Provision`): the network, the container plan for the effective config
//! (with proxy settings and published ports resolved, and the run's
//! ownership mark), the load balancer's image, then the claim (the first
//! control plane, alone) and every other container created, started and
//! waited for.

use std::time::Duration;

use anyhow::Context as _;
use futures_util::future::try_join_all;

use super::Docker;
use crate::cluster::ownership::{self, ClusterExists};
use crate::config::Cluster;
use crate::log::Logger;
use crate::provider::{self, ContainerSpec, NodeProvisioning, PlanContext, Provisioning};

/// How long a node may take to show systemd's readiness line.
const NODE_READY_TIMEOUT: Duration = Duration::from_secs(30);

impl Docker {
    /// See [`provider::Provider::provision`].
    pub async fn provision(&self, request: &Provisioning<'_>, log: &Logger) -> anyhow::Result<()> {
        let Provisioning {
            cluster,
            mode,
            host,
            node_images,
            create_id,
        } = *request;
        let network = match std::env::var("KIND_EXPERIMENTAL_DOCKER_NETWORK") {
            Ok(n) if !n.is_empty() => {
                log.warn(
                    "WARNING: Overriding docker network due to KIND_EXPERIMENTAL_DOCKER_NETWORK",
                );
                log.warn("WARNING: Here be dragons! This is not supported currently.");
                n
            }
            _ => provider::DEFAULT_NETWORK.to_string(),
        };

        self.ensure_network(&network).await?;
        log.status_start(&preparing_nodes_status(cluster));
        let ctx = self
            .plan_context(cluster, mode, host, node_images, &network, &[])
            .await?;
        let mut specs = provider::plan_cluster(cluster, &ctx);
        ownership::mark(&mut specs, create_id);
        if cluster.has_implicit_load_balancer() {
            // Upstream's `docker run` pulls the load balancer image implicitly.
            self.ensure_image(provider::LOAD_BALANCER_IMAGE, log)
                .await?;
        }
        provider::ports::resolve(&mut specs)?;

        let ready = regex::Regex::new(provider::NODE_READY_LOG_REGEX).expect("static regex");
        let Some((claim, rest)) = ownership::split_claim(cluster, specs) else {
            anyhow::bail!("no nodes to create");
        };
        if !self.claim_container(&claim).await? {
            return Err(ClusterExists {
                name: cluster.name.clone(),
            }
            .into());
        }
        let claimed = self.run_container(&claim, &ready, false);
        let others = rest
            .iter()
            .map(|spec| self.run_container(spec, &ready, true));
        try_join_all(std::iter::once(claimed).chain(others)).await?;
        log.status_end(true);
        Ok(())
    }

    /// See [`provider::Provider::provision_nodes`]: the whole cluster is
    /// planned as `provision` plans it (same context, same labels, the
    /// extended stored config on each), then only the new entries are kept,
    /// renamed to the names chosen for them.
    pub async fn provision_nodes(&self, request: &NodeProvisioning<'_>) -> anyhow::Result<()> {
        let NodeProvisioning {
            cluster,
            new_nodes,
            mode,
            host,
            node_images,
            network_of,
            create_id,
        } = *request;
        let network = self.network_of(network_of).await?;
        let names: Vec<String> = new_nodes.iter().map(|(_, n)| n.clone()).collect();
        let ctx = self
            .plan_context(cluster, mode, host, node_images, &network, &names)
            .await?;
        let mut specs = select_new_nodes(cluster, provider::plan_cluster(cluster, &ctx), new_nodes);
        ownership::mark(&mut specs, create_id);
        provider::ports::resolve(&mut specs)?;
        let ready = regex::Regex::new(provider::NODE_READY_LOG_REGEX).expect("static regex");
        try_join_all(
            specs
                .iter()
                .map(|spec| self.run_container(spec, &ready, true)),
        )
        .await?;
        Ok(())
    }

    /// The one network an existing node is attached to.
    async fn network_of(&self, node: &str) -> anyhow::Result<String> {
        let inspect = self
            .inspect(node)
            .await
            .map_err(|e| anyhow::anyhow!("failed to get the network of node {node}: {e}"))?;
        let networks: Vec<String> = inspect
            .network_settings
            .and_then(|n| n.networks)
            .map(|n| n.into_keys().collect())
            .unwrap_or_default();
        match networks.as_slice() {
            [one] => Ok(one.clone()),
            _ => anyhow::bail!(
                "node {node} is attached to {} networks ({}), expected exactly one",
                networks.len(),
                networks.join(", ")
            ),
        }
    }

    /// What the container plan needs besides the config: proxy settings
    /// (finalized with the network's subnets and the node names, the
    /// planned ones and `extra_names`), snapshotter, node images.
    async fn plan_context(
        &self,
        cluster: &Cluster,
        mode: &provider::RuntimeMode,
        host: &provider::HostInfo,
        node_images: &std::collections::BTreeMap<String, String>,
        network: &str,
        extra_names: &[String],
    ) -> anyhow::Result<PlanContext> {
        let env = |k: &str| std::env::var(k).ok();
        let mut ctx = PlanContext {
            mode: mode.clone(),
            host: host.clone(),
            network: network.to_string(),
            proxy_env: provider::proxy::proxy_env(
                &env,
                &self.endpoint().host,
                &cluster.networking.service_subnet,
                &cluster.networking.pod_subnet,
            ),
            snapshotter: std::env::var(provider::plan::SNAPSHOTTER_ENV).ok(),
            cwd: std::env::current_dir().context("failed to get the current directory")?,
            node_images: node_images.clone(),
        };
        if !ctx.proxy_env.is_empty() {
            let subnets = self.network_subnets(network).await?;
            let mut names = provider::plan::node_names(cluster);
            names.extend(
                extra_names
                    .iter()
                    .filter(|n| !names.contains(n))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            provider::proxy::finalize(&mut ctx.proxy_env, &subnets, &names);
        }
        Ok(ctx)
    }

    /// Create (unless already created: the claim) and start one container;
    /// Kubernetes nodes must then show systemd's readiness line within 30 s.
    async fn run_container(
        &self,
        spec: &ContainerSpec,
        ready: &regex::Regex,
        create: bool,
    ) -> anyhow::Result<()> {
        if create {
            self.create_container(spec).await?;
        }
        self.start_container(&spec.name).await?;
        if !spec.is_load_balancer() {
            self.wait_for_log(&spec.name, ready, NODE_READY_TIMEOUT)
                .await?;
        }
        Ok(())
    }
}

/// The specs of the new nodes out of a whole-cluster plan (whose names
/// follow config positions, spec §3.4), renamed to the names chosen for
/// them (an added node's name is not its config position's).
pub fn select_new_nodes(
    cluster: &Cluster,
    specs: Vec<ContainerSpec>,
    new_nodes: &[(usize, String)],
) -> Vec<ContainerSpec> {
    let planned = provider::plan::node_names(cluster);
    new_nodes
        .iter()
        .filter_map(|(index, name)| {
            let planned_name = planned.get(*index)?;
            let mut spec = specs.iter().find(|s| &s.name == planned_name)?.clone();
            spec.name = name.clone();
            spec.hostname = name.clone();
            Some(spec)
        })
        .collect()
}

/// `Preparing nodes ` + one `📦 ` per configured node.
pub fn preparing_nodes_status(cluster: &Cluster) -> String {
    format!("Preparing nodes {}", "📦 ".repeat(cluster.nodes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Node;

    fn cluster(n: usize) -> Cluster {
        Cluster {
            nodes: vec![Node::default(); n],
            ..Default::default()
        }
    }

    #[test]
    fn new_nodes_are_cut_from_the_whole_plan_and_renamed() {
        let mut c = cluster(4);
        c.name = "k".into();
        c.nodes[0].role = "control-plane".into();
        for n in &mut c.nodes[1..] {
            n.role = "worker".into();
        }
        // Entry 3 was appended for a node named after a gap (k-worker2 gone).
        let specs: Vec<ContainerSpec> = provider::plan::node_names(&c)
            .into_iter()
            .enumerate()
            .map(|(i, name)| ContainerSpec {
                name: name.clone(),
                hostname: name,
                image: format!("img{i}"),
                ..Default::default()
            })
            .collect();
        let got = select_new_nodes(&c, specs, &[(3, "k-worker2".into())]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (
                got[0].name.as_str(),
                got[0].hostname.as_str(),
                got[0].image.as_str()
            ),
            ("k-worker2", "k-worker2", "img3"),
            "entry 3's spec (planned as k-worker3) under its own name"
        );
        assert!(select_new_nodes(&c, vec![], &[(9, "x".into())]).is_empty());
    }

    #[test]
    fn preparing_nodes_has_one_box_per_node() {
        assert_eq!(preparing_nodes_status(&cluster(1)), "Preparing nodes 📦 ");
        assert_eq!(
            preparing_nodes_status(&cluster(3)),
            "Preparing nodes 📦 📦 📦 "
        );
    }
}
