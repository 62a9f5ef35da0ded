//! Provisioning a cluster's containers on Docker (upstream's
//! `Provision`): the network and the images inbox volume, the container plan for the effective config
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
use crate::provider::{self, ContainerSpec, PlanContext, Provisioning};

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

        let started = std::time::Instant::now();
        let step = |name: &str, since: std::time::Instant| {
            log.debug(1, &format!("provision: {name} in {:.2?}", since.elapsed()));
        };
        // Independent of each other: the network and the inbox volume.
        tokio::try_join!(
            self.ensure_network(&network),
            self.ensure_images_inbox(&cluster.name, create_id)
        )?;
        step("network and images volume", started);
        log.status_start(&preparing_nodes_status(cluster));
        let env = |k: &str| std::env::var(k).ok();
        let mut ctx = PlanContext {
            mode: mode.clone(),
            host: host.clone(),
            network: network.clone(),
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
            let subnets = self.network_subnets(&network).await?;
            let names = provider::plan::node_names(cluster);
            provider::proxy::finalize(&mut ctx.proxy_env, &subnets, &names);
        }
        let mut specs = provider::plan_cluster(cluster, &ctx);
        ownership::mark(&mut specs, create_id);
        if cluster.has_implicit_load_balancer() {
            // Upstream's `docker run` pulls the load balancer image implicitly.
            self.ensure_image(provider::LOAD_BALANCER_IMAGE, log)
                .await?;
        }
        provider::ports::resolve(&mut specs)?;

        step("plan (and load balancer image)", started);
        let ready = regex::Regex::new(provider::NODE_READY_LOG_REGEX).expect("static regex");
        let Some((claim, rest)) = ownership::split_claim(cluster, specs) else {
            anyhow::bail!("no nodes to create");
        };
        let since = std::time::Instant::now();
        if !self.claim_container(&claim).await? {
            return Err(ClusterExists {
                name: cluster.name.clone(),
            }
            .into());
        }
        step("claim (first control plane created)", since);
        let since = std::time::Instant::now();
        let claimed = self.run_container(&claim, &ready, false);
        let others = rest
            .iter()
            .map(|spec| self.run_container(spec, &ready, true));
        try_join_all(std::iter::once(claimed).chain(others)).await?;
        step(
            &format!("{} container(s) created, started and ready", rest.len() + 1),
            since,
        );
        log.status_end(true);
        Ok(())
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
    fn preparing_nodes_has_one_box_per_node() {
        assert_eq!(preparing_nodes_status(&cluster(1)), "Preparing nodes 📦 ");
        assert_eq!(
            preparing_nodes_status(&cluster(3)),
            "Preparing nodes 📦 📦 📦 "
        );
    }
}
