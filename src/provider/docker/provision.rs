//! Provisioning a cluster's containers on Docker (upstream's
//! `Provision`): the network and the images inbox volume, the container plan for the effective config
//! (with proxy settings and published ports resolved, and the run's
//! ownership mark), the load balancer's image, then the claim (the first
//! control plane, alone) and every other container created, started and
//! waited for.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::future::try_join_all;
use rand::seq::IndexedRandom as _;

use super::Docker;
use crate::cluster::ownership::{self, ClusterExists};
use crate::config::Cluster;
use crate::log::Logger;
use crate::provider::{
    self, addresses, ContainerSpec, NodeProvisioning, PlanContext, Provisioning,
};

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
            ephemeral,
            network: _,
        } = *request;
        for warning in &request.network.warnings {
            log.warn(warning);
        }
        let network = request.network.name.clone();
        let started = std::time::Instant::now();
        let step = |name: &str, since: std::time::Instant| {
            log.debug(1, &format!("provision: {name} in {:.2?}", since.elapsed()));
        };
        let ensure_network = async {
            if request.network.per_cluster {
                // Labelled only if this call creates it: then it is this
                // cluster's, and `delete cluster` may remove it again.
                let owner = provider::network::owner_labels(&cluster.name, create_id);
                self.ensure_network_labelled(&network, &owner).await
            } else {
                self.ensure_network(&network).await
            }
        };
        // Independent of each other: the network and the images inbox.
        tokio::try_join!(
            ensure_network,
            self.ensure_images_inbox(&cluster.name, create_id)
        )?;
        step("network and images volume", started);
        log.status_start(&preparing_nodes_status(cluster));
        let ctx = self
            .plan_context(cluster, mode, host, node_images, &network, &[])
            .await?;
        let mut specs = provider::plan_cluster(cluster, &ctx);
        ownership::mark(&mut specs, create_id);
        if ephemeral {
            make_ephemeral(&mut specs);
        }
        if request.network.per_cluster {
            // The cluster records the network it was put on with --network.
            for spec in &mut specs {
                spec.labels
                    .insert(provider::LABEL_NETWORK.to_string(), network.clone());
            }
        }
        if cluster.has_implicit_load_balancer() {
            // Upstream's `docker run` pulls the load balancer image implicitly.
            self.ensure_image(provider::LOAD_BALANCER_IMAGE, log)
                .await?;
        }
        provider::ports::resolve(&mut specs)?;
        let addressing = self.network_addressing(&network).await?;
        assign_addresses(&mut specs, &addressing);
        if !addressing.ipv4_fixed {
            log.debug(
                1,
                &format!("network {network:?} has no IPv4 subnet configured by kind-sysbox (created elsewhere): nodes get dynamic IPv4 addresses, which may change when they restart"),
            );
        }

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
        let claimed = self.run_container(&claim, &ready, false, log);
        let others = rest
            .iter()
            .map(|spec| self.run_container(spec, &ready, true, log));
        try_join_all(std::iter::once(claimed).chain(others)).await?;
        step(
            &format!("{} container(s) created, started and ready", rest.len() + 1),
            since,
        );
        log.status_end(true);
        Ok(())
    }

    /// See [`provider::Provider::provision_nodes`]: the whole cluster is
    /// planned as `provision` plans it (same context, same labels, the
    /// extended stored config on each), then only the new entries are kept,
    /// renamed to the names chosen for them.
    pub async fn provision_nodes(
        &self,
        request: &NodeProvisioning<'_>,
        log: &Logger,
    ) -> anyhow::Result<()> {
        let NodeProvisioning {
            cluster,
            new_nodes,
            mode,
            host,
            node_images,
            network_of,
            create_id,
        } = *request;
        let (network, labels) = self.network_of(network_of).await?;
        // The new nodes mount the cluster's images inbox like the others:
        // made here (labelled) if the cluster predates it.
        self.ensure_images_inbox(&cluster.name, create_id).await?;
        let names: Vec<String> = new_nodes.iter().map(|(_, n)| n.clone()).collect();
        let ctx = self
            .plan_context(cluster, mode, host, node_images, &network, &names)
            .await?;
        let mut specs = select_new_nodes(cluster, provider::plan_cluster(cluster, &ctx), new_nodes);
        ownership::mark(&mut specs, create_id);
        if labels
            .get(provider::LABEL_EPHEMERAL)
            .is_some_and(|v| v == "true")
        {
            make_ephemeral(&mut specs);
        }
        if let Some(own) = labels.get(provider::LABEL_NETWORK) {
            for spec in &mut specs {
                spec.labels
                    .insert(provider::LABEL_NETWORK.to_string(), own.clone());
            }
        }
        provider::ports::resolve(&mut specs)?;
        let addressing = self.network_addressing(&network).await?;
        assign_addresses(&mut specs, &addressing);
        let ready = regex::Regex::new(provider::NODE_READY_LOG_REGEX).expect("static regex");
        try_join_all(
            specs
                .iter()
                .map(|spec| self.run_container(spec, &ready, true, log)),
        )
        .await?;
        Ok(())
    }

    /// The one network an existing node is attached to, and the node's
    /// labels (nodes added to its cluster inherit ephemerality and the
    /// cluster's own network label from them).
    async fn network_of(
        &self,
        node: &str,
    ) -> anyhow::Result<(String, std::collections::HashMap<String, String>)> {
        let inspect = self
            .inspect(node)
            .await
            .map_err(|e| anyhow::anyhow!("failed to get the network of node {node}: {e}"))?;
        let labels = inspect
            .config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default();
        let networks: Vec<String> = inspect
            .network_settings
            .and_then(|n| n.networks)
            .map(|n| n.into_keys().collect())
            .unwrap_or_default();
        match networks.as_slice() {
            [one] => Ok((one.clone(), labels)),
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
        log: &Logger,
    ) -> anyhow::Result<()> {
        if create {
            self.create_container(spec).await?;
        }
        self.start_with_fixed_addresses(spec, log).await?;
        if !spec.is_load_balancer() {
            self.wait_for_log(&spec.name, ready, NODE_READY_TIMEOUT)
                .await?;
        }
        Ok(())
    }

    /// Start a just-created container. Its fixed addresses may have been
    /// taken meanwhile by a concurrent create on the same network (Docker
    /// reserves an address only when the endpoint is made, at start): then
    /// re-plan against what the network holds now, re-attach the container
    /// with the new addresses, and try again. A network that refuses chosen
    /// addresses (no configured subnet) gets the container with dynamic ones.
    async fn start_with_fixed_addresses(
        &self,
        spec: &ContainerSpec,
        log: &Logger,
    ) -> anyhow::Result<()> {
        let fixed = spec.ipv4_address.is_some() || spec.ipv6_address.is_some();
        let mut tried: BTreeSet<IpAddr> = BTreeSet::new();
        let mut attempt = 0;
        loop {
            let err = match self.start_container(&spec.name).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let msg = format!("{err:#}");
            attempt += 1;
            if !fixed || attempt > ADDRESS_ATTEMPTS {
                return Err(err);
            }
            let (ipv4, ipv6) = if msg.contains(FIXED_ADDRESS_REFUSED) {
                (None, None)
            } else if msg.contains(ADDRESS_IN_USE) && attempt == ADDRESS_ATTEMPTS {
                // Still contended after every try (many creates at once on
                // one network): Docker's IPAM allocates atomically.
                (None, None)
            } else if msg.contains(ADDRESS_IN_USE) {
                let current = self.endpoint_config(&spec.name, &spec.network).await?;
                tried.extend(
                    current
                        .iter()
                        .flatten()
                        .filter_map(|a| a.parse::<IpAddr>().ok()),
                );
                let mut net = self.network_addressing(&spec.network).await?;
                // Our own (unstarted) container reserves its addresses too.
                for a in current
                    .iter()
                    .flatten()
                    .filter_map(|a| a.parse::<IpAddr>().ok())
                {
                    net.taken.remove(&a);
                }
                net.taken.extend(tried.iter().copied());
                // Concurrent creates see the same free addresses: a random
                // one of the next few, not the first, so they stop colliding.
                let next = addresses::plan(&net, ADDRESS_SPREAD)
                    .choose(&mut rand::rng())
                    .cloned()
                    .unwrap_or_default();
                (
                    next.ipv4.filter(|_| current[0].is_some()),
                    next.ipv6.filter(|_| current[1].is_some()),
                )
            } else {
                return Err(err);
            };
            log.debug(
                1,
                &format!(
                    "node {}: {msg}; re-attaching it to {} with addresses {} {}",
                    spec.name,
                    spec.network,
                    ipv4.as_deref().unwrap_or("(dynamic)"),
                    ipv6.as_deref().unwrap_or("(dynamic)")
                ),
            );
            self.reattach(&spec.name, &spec.network, ipv4, ipv6)
                .await
                .with_context(|| format!("after: {msg}"))?;
        }
    }
}

/// Attempts at a fixed address per node; the last one takes a dynamic
/// address instead (the node then keeps it only while it runs).
const ADDRESS_ATTEMPTS: usize = 8;
/// How many free addresses a retry picks from at random.
const ADDRESS_SPREAD: usize = 16;
/// Docker's refusal of a chosen address on a network without a configured subnet.
pub const FIXED_ADDRESS_REFUSED: &str =
    "user specified IP address is supported only when connecting to networks with user configured subnets";
/// Docker's IPAM: the chosen address is held by another endpoint.
pub const ADDRESS_IN_USE: &str = "Address already in use";

/// `--ephemeral`: `--rm`, no restart policy, and the label saying so.
pub fn make_ephemeral(specs: &mut [ContainerSpec]) {
    for s in specs {
        s.auto_remove = true;
        s.restart_policy.clear();
        s.labels
            .insert(provider::LABEL_EPHEMERAL.to_string(), "true".to_string());
    }
}

/// Give every container its planned fixed addresses (network order).
pub fn assign_addresses(specs: &mut [ContainerSpec], net: &addresses::NetworkAddressing) {
    let planned = addresses::plan(net, specs.len());
    for (spec, a) in specs.iter_mut().zip(planned) {
        spec.ipv4_address = a.ipv4;
        spec.ipv6_address = a.ipv6;
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
    fn ephemeral_specs_auto_remove_without_restart_policy() {
        let mut specs = vec![
            ContainerSpec {
                restart_policy: "on-failure:1".into(),
                ..Default::default()
            };
            2
        ];
        make_ephemeral(&mut specs);
        for s in &specs {
            assert!(s.auto_remove);
            assert_eq!(s.restart_policy, "");
            assert_eq!(s.labels[provider::LABEL_EPHEMERAL], "true");
        }
    }

    #[test]
    fn addresses_are_assigned_in_spec_order() {
        let mut specs = vec![ContainerSpec::default(); 3];
        let net = addresses::NetworkAddressing {
            subnets: vec!["10.9.0.0/24".into()],
            ipv4_fixed: true,
            taken: ["10.9.0.253".parse().unwrap()].into(),
        };
        assign_addresses(&mut specs, &net);
        let got: Vec<_> = specs.iter().map(|s| s.ipv4_address.as_deref()).collect();
        assert_eq!(
            got,
            [Some("10.9.0.254"), Some("10.9.0.252"), Some("10.9.0.251")]
        );
        assert!(specs.iter().all(|s| s.ipv6_address.is_none()));
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
