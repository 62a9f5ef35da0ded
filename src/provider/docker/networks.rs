//! Docker networks: upstream's `ensure network` algorithm (spec §3.3)
//! carried out through the API; its pure parts are in `provider::network`.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{anyhow, bail};
use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::{InspectNetworkOptions, ListNetworksOptionsBuilder};

use super::{daemon_message, is_not_found, Docker};
use crate::provider::addresses::{parse_endpoint_address, NetworkAddressing};
use crate::provider::network::{self, NetworkEntry, OPT_MASQUERADE, OPT_MTU, ULA_ATTEMPTS};
use crate::provider::{NetworkInfo, LABEL_NETWORK_FIXED_ADDRESSES, LABEL_NETWORK_OWNER};

impl Docker {
    /// Upstream's network algorithm (spec §3.3).
    pub async fn ensure_network(&self, name: &str) -> anyhow::Result<()> {
        self.ensure_network_labelled(name, &BTreeMap::new()).await
    }

    /// Upstream's network algorithm; a network this call creates carries
    /// `labels` (one that exists already, or that a racing create made, is
    /// used as it is).
    pub async fn ensure_network_labelled(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        self.ensure_network_steps(name, labels)
            .await
            .map_err(|e| anyhow!("failed to ensure docker network: {e}"))
    }

    async fn ensure_network_steps(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        if !self.networks_named(name).await?.is_empty() {
            // Existing networks are never checked for IPv6/MTU.
            return self.remove_duplicate_networks(name).await;
        }
        let mtu = self.bridge_mtu().await;
        for attempt in 0..ULA_ATTEMPTS {
            let subnet = network::ula_subnet(name, attempt);
            // Docker's own IPv4 choice, pinned as configured (fixed node
            // addresses need it); a fresh one per attempt after an overlap.
            let ipv4 = self.probe_ipv4_pool(name).await?;
            match self
                .create_network(name, mtu, Some(&subnet), ipv4.as_ref(), labels)
                .await
            {
                Ok(()) => return self.remove_duplicate_networks(name).await,
                Err(msg) if network::is_already_exists(&msg) => {
                    return self.remove_duplicate_networks(name).await
                }
                Err(msg) if attempt == 0 && network::is_ipv6_unavailable(&msg) => {
                    // One IPv4-only try; its result is final.
                    return match self
                        .create_network(name, mtu, None, ipv4.as_ref(), labels)
                        .await
                    {
                        Ok(()) => self.remove_duplicate_networks(name).await,
                        Err(msg) if network::is_already_exists(&msg) => {
                            self.remove_duplicate_networks(name).await
                        }
                        Err(msg) => Err(anyhow!(msg)),
                    };
                }
                Err(msg) if network::is_pool_overlap(&msg) => {
                    // Maybe someone else created it meanwhile (with another subnet).
                    if self.wait_for_racing_create(name, &subnet).await? {
                        return self.remove_duplicate_networks(name).await;
                    }
                }
                Err(msg) => bail!(msg),
            }
        }
        bail!("exhausted attempts trying to find a non-overlapping subnet")
    }

    /// The networks matching one list filter (`name`, `label`, …).
    async fn networks_where(
        &self,
        filter: &str,
        value: String,
    ) -> anyhow::Result<Vec<bollard::models::Network>> {
        let filters = HashMap::from([(filter, vec![value])]);
        let opts = ListNetworksOptionsBuilder::new().filters(&filters).build();
        self.api
            .list_networks(Some(opts))
            .await
            .map_err(|e| anyhow!("failed to list networks: {}", daemon_message(&e)))
    }

    /// IDs of the networks named exactly `name`.
    async fn networks_named(&self, name: &str) -> anyhow::Result<Vec<String>> {
        let list = self
            .networks_where("name", format!("^{}$", regex::escape(name)))
            .await?;
        Ok(list
            .into_iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .filter_map(|n| n.id)
            .collect())
    }

    /// After a pool overlap: does a network of this name now exist? When no
    /// listed network holds the subnet yet, a concurrent create of the same
    /// name is still in flight (it reserved the pool first), so wait for it
    /// briefly instead of moving on to the next subnet.
    async fn wait_for_racing_create(&self, name: &str, subnet: &str) -> anyhow::Result<bool> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let list = self
                .api
                .list_networks(None::<bollard::query_parameters::ListNetworksOptions>)
                .await
                .map_err(|e| anyhow!("failed to list networks: {}", daemon_message(&e)))?;
            if list.iter().any(|n| n.name.as_deref() == Some(name)) {
                return Ok(true);
            }
            let held = list.iter().any(|n| {
                n.ipam
                    .as_ref()
                    .and_then(|i| i.config.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.subnet.as_deref() == Some(subnet)))
            });
            if held || tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Keep one network of the name (most containers, then smallest ID).
    async fn remove_duplicate_networks(&self, name: &str) -> anyhow::Result<()> {
        let ids = self.networks_named(name).await?;
        if ids.len() < 2 {
            return Ok(());
        }
        let mut entries = Vec::new();
        for id in ids {
            match self
                .api
                .inspect_network(&id, None::<InspectNetworkOptions>)
                .await
            {
                Ok(n) => entries.push(NetworkEntry {
                    id,
                    containers: n.containers.map_or(0, |c| c.len()),
                }),
                Err(e) if is_not_found(&e) => {}
                Err(e) => bail!("failed to inspect network {id}: {}", daemon_message(&e)),
            }
        }
        network::sort_duplicates(&mut entries);
        for dup in entries.iter().skip(1) {
            match self.api.remove_network(&dup.id).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => bail!(
                    "failed to remove duplicate network {}: {}",
                    dup.id,
                    daemon_message(&e)
                ),
            }
        }
        Ok(())
    }

    /// MTU of Docker's default `bridge` network; 0 (omit) when not a number.
    async fn bridge_mtu(&self) -> i64 {
        let Ok(bridge) = self
            .api
            .inspect_network("bridge", None::<InspectNetworkOptions>)
            .await
        else {
            return 0;
        };
        bridge
            .options
            .and_then(|o| o.get(OPT_MTU).and_then(|v| v.trim().parse::<i64>().ok()))
            .unwrap_or(0)
    }

    /// The IPv4 (subnet, gateway) Docker's IPAM defaults would give a new
    /// network now, read from a throwaway probe network. None when Docker
    /// reports none (the network is then created as upstream does).
    async fn probe_ipv4_pool(&self, name: &str) -> anyhow::Result<Option<(String, String)>> {
        let probe = format!(
            "{name}-ipv4-probe-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let request = NetworkCreateRequest {
            name: probe.clone(),
            driver: Some("bridge".into()),
            ..Default::default()
        };
        let created = self.api.create_network(request).await.map_err(|e| {
            anyhow!(
                "failed to probe Docker's next IPv4 subnet: {}",
                daemon_message(&e)
            )
        })?;
        let id = created.id;
        let inspected = self
            .api
            .inspect_network(&id, None::<InspectNetworkOptions>)
            .await;
        let _ = self.api.remove_network(&id).await;
        let inspected = inspected.map_err(|e| {
            anyhow!(
                "failed to inspect probe network {probe}: {}",
                daemon_message(&e)
            )
        })?;
        Ok(inspected
            .ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .find_map(|c| {
                let subnet = c.subnet.filter(|s| s.contains('.'))?;
                Some((subnet, c.gateway.unwrap_or_default()))
            }))
    }

    /// One `docker network create`; Err is the daemon's message. An IPv4
    /// subnet given here is configured (Docker then accepts fixed node
    /// addresses in it) and the network labelled so.
    async fn create_network(
        &self,
        name: &str,
        mtu: i64,
        ipv6_subnet: Option<&str>,
        ipv4: Option<&(String, String)>,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), String> {
        let mut options = HashMap::from([(OPT_MASQUERADE.to_string(), "true".to_string())]);
        if mtu > 0 {
            options.insert(OPT_MTU.to_string(), mtu.to_string());
        }
        let mut config = Vec::new();
        if let Some((subnet, gateway)) = ipv4 {
            config.push(IpamConfig {
                subnet: Some(subnet.clone()),
                gateway: (!gateway.is_empty()).then(|| gateway.clone()),
                ..Default::default()
            });
        }
        if let Some(s) = ipv6_subnet {
            config.push(IpamConfig {
                subnet: Some(s.to_string()),
                ..Default::default()
            });
        }
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            options: Some(options),
            enable_ipv6: ipv6_subnet.map(|_| true),
            ipam: (!config.is_empty()).then(|| Ipam {
                config: Some(config),
                ..Default::default()
            }),
            labels: {
                let mut all: HashMap<String, String> = labels.clone().into_iter().collect();
                if ipv4.is_some() {
                    all.insert(
                        LABEL_NETWORK_FIXED_ADDRESSES.to_string(),
                        "true".to_string(),
                    );
                }
                (!all.is_empty()).then_some(all)
            },
            ..Default::default()
        };
        self.api
            .create_network(request)
            .await
            .map(|_| ())
            .map_err(|e| daemon_message(&e))
    }

    pub async fn network_subnets(&self, name: &str) -> anyhow::Result<Vec<String>> {
        let n = self
            .api
            .inspect_network(name, None::<InspectNetworkOptions>)
            .await
            .map_err(|e| anyhow!("failed to get network subnets: {}", daemon_message(&e)))?;
        Ok(n.ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| c.subnet)
            .filter(|s| !s.is_empty())
            .collect())
    }

    /// What the fixed-address plan needs from the network: its subnets,
    /// whether its IPv4 subnet is configured (our label), and every address
    /// held or reserved on it: gateways, running endpoints, and the
    /// configured addresses of all its containers, stopped ones included.
    pub async fn network_addressing(&self, name: &str) -> anyhow::Result<NetworkAddressing> {
        let n = self
            .api
            .inspect_network(name, None::<InspectNetworkOptions>)
            .await
            .map_err(|e| anyhow!("failed to inspect network {name}: {}", daemon_message(&e)))?;
        let mut out = NetworkAddressing {
            ipv4_fixed: n
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_NETWORK_FIXED_ADDRESSES))
                .is_some_and(|v| v == "true"),
            ..Default::default()
        };
        for c in n.ipam.and_then(|i| i.config).unwrap_or_default() {
            if let Some(s) = c.subnet.filter(|s| !s.is_empty()) {
                out.subnets.push(s);
            }
            if let Some(g) = c.gateway.as_deref().and_then(parse_endpoint_address) {
                out.taken.insert(g);
            }
        }
        for e in n.containers.unwrap_or_default().into_values() {
            for a in [e.ipv4_address, e.ipv6_address].into_iter().flatten() {
                out.taken.extend(parse_endpoint_address(&a));
            }
        }
        let filters = HashMap::from([("network", vec![name.to_string()])]);
        let opts = bollard::query_parameters::ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let list = self.api.list_containers(Some(opts)).await.map_err(|e| {
            anyhow!(
                "failed to list the containers of network {name}: {}",
                daemon_message(&e)
            )
        })?;
        for c in list {
            let endpoints = c
                .network_settings
                .and_then(|s| s.networks)
                .unwrap_or_default();
            for (_, e) in endpoints {
                let configured = e.ipam_config.map(|i| [i.ipv4_address, i.ipv6_address]);
                let current = [e.ip_address, e.global_ipv6_address];
                for a in configured.into_iter().flatten().chain(current).flatten() {
                    out.taken.extend(parse_endpoint_address(&a));
                }
            }
        }
        Ok(out)
    }

    /// The network named exactly `name` (not an ID or ID prefix, which
    /// the engine would also resolve), or None.
    pub async fn network_info(&self, name: &str) -> anyhow::Result<Option<NetworkInfo>> {
        for id in self.networks_named(name).await? {
            if let Some(info) = self.inspect_network_id(&id).await? {
                return Ok(Some(info));
            }
        }
        Ok(None)
    }

    /// The networks labelled as made for `cluster`.
    pub async fn networks_owned_by(&self, cluster: &str) -> anyhow::Result<Vec<NetworkInfo>> {
        let list = self
            .networks_where("label", format!("{LABEL_NETWORK_OWNER}={cluster}"))
            .await?;
        let mut out = Vec::new();
        // The list does not say which containers are attached: inspect.
        for id in list.into_iter().filter_map(|n| n.id) {
            if let Some(info) = self.inspect_network_id(&id).await? {
                out.push(info);
            }
        }
        Ok(out)
    }

    async fn inspect_network_id(&self, id: &str) -> anyhow::Result<Option<NetworkInfo>> {
        match self
            .api
            .inspect_network(id, None::<InspectNetworkOptions>)
            .await
        {
            Ok(n) => {
                let mut containers: Vec<String> = n
                    .containers
                    .unwrap_or_default()
                    .into_values()
                    .filter_map(|c| c.name)
                    .collect();
                containers.sort();
                Ok(Some(NetworkInfo {
                    id: n.id.unwrap_or_else(|| id.to_string()),
                    name: n.name.unwrap_or_default(),
                    driver: n.driver.unwrap_or_default(),
                    labels: n.labels.unwrap_or_default().into_iter().collect(),
                    containers,
                }))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => bail!("failed to inspect network {id}: {}", daemon_message(&e)),
        }
    }

    /// Remove a network: Ok(false) when the engine keeps it because a
    /// container is attached (403, "has active endpoints").
    pub async fn remove_network_if_unused(&self, id: &str) -> anyhow::Result<bool> {
        match self.api.remove_network(id).await {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(true),
            Err(e) if daemon_message(&e).contains("active endpoints") => Ok(false),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 403, ..
            }) => Ok(false),
            Err(e) => bail!("failed to remove network {id}: {}", daemon_message(&e)),
        }
    }
}
