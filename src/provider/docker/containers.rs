//! Docker containers: the `docker run` request for a container spec,
//! create/start, readiness from the log, listing a cluster's containers,
//! their addresses and published API server port, and removal.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use anyhow::{anyhow, bail};
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerSummary, DeviceMapping,
    EndpointIpamConfig, EndpointSettings, HostConfig, HostConfigCgroupnsModeEnum,
    NetworkConnectRequest, NetworkDisconnectRequest, NetworkingConfig, PortBinding, RestartPolicy,
    RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptions,
};
use futures_util::StreamExt;

use super::{aggregate, daemon_message, is_not_found, Docker, NodeRef, RunError};
use crate::provider::plan::{docker_run_args, join_host_port};
use crate::provider::runtime::RuntimeError;
use crate::provider::{
    ContainerSpec, NetworkAttachment, NodeDetails, NodeState, LABEL_CLUSTER, LABEL_CLUSTER_CONFIG,
    LABEL_CREATE_ID, LABEL_EPHEMERAL,
};

/// Docker Desktop's label carrying the host endpoint of the API server.
const DESKTOP_API_PORT_LABEL: &str = "desktop.docker.io/ports/6443/tcp";

/// `on-failure:N`, `always`, `unless-stopped`, `no` as the API's policy.
fn restart_policy(policy: &str) -> Option<RestartPolicy> {
    let (name, count) = policy.split_once(':').unwrap_or((policy, ""));
    let name = match name {
        "" => return None,
        "no" => RestartPolicyNameEnum::NO,
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        _ => return None,
    };
    Some(RestartPolicy {
        name: Some(name),
        maximum_retry_count: count.parse().ok(),
    })
}

/// The API request `docker run` would send for a spec.
pub fn create_body(spec: &ContainerSpec) -> ContainerCreateBody {
    let mut port_bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &spec.ports {
        // The CLI lower-cases the protocol in the port key.
        let key = format!("{}/{}", p.container_port, p.protocol.to_lowercase());
        let host_port = if p.host_port < 0 { 0 } else { p.host_port };
        port_bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(p.listen_address.clone()),
                host_port: Some(host_port.to_string()),
            });
    }
    let mut exposed: Vec<String> = port_bindings.keys().cloned().collect();
    exposed.sort();
    let some_vec = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let some_map = |m: &BTreeMap<String, String>| {
        (!m.is_empty()).then(|| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>()
        })
    };
    let host_config = HostConfig {
        runtime: spec.runtime.clone(),
        privileged: Some(spec.privileged),
        security_opt: some_vec(&spec.security_opt),
        tmpfs: some_map(&spec.tmpfs),
        binds: some_vec(&spec.binds),
        devices: (!spec.devices.is_empty()).then(|| {
            spec.devices
                .iter()
                .map(|d| DeviceMapping {
                    path_on_host: Some(d.clone()),
                    path_in_container: Some(d.clone()),
                    cgroup_permissions: Some("rwm".into()),
                })
                .collect()
        }),
        port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
        restart_policy: restart_policy(&spec.restart_policy),
        init: Some(spec.init),
        cgroupns_mode: spec
            .cgroupns_private
            .then_some(HostConfigCgroupnsModeEnum::PRIVATE),
        userns_mode: spec.userns_mode.clone(),
        sysctls: some_map(&spec.sysctls),
        network_mode: (!spec.network.is_empty()).then(|| spec.network.clone()),
        auto_remove: spec.auto_remove.then_some(true),
        ..Default::default()
    };
    let fixed = spec.ipv4_address.is_some() || spec.ipv6_address.is_some();
    let networking_config = (fixed && !spec.network.is_empty()).then(|| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            spec.network.clone(),
            endpoint_settings(spec.ipv4_address.clone(), spec.ipv6_address.clone()),
        )])),
    });
    ContainerCreateBody {
        hostname: (!spec.hostname.is_empty()).then(|| spec.hostname.clone()),
        image: Some(spec.image.clone()),
        labels: some_map(&spec.labels),
        env: some_vec(&spec.env),
        cmd: spec.cmd.clone(),
        tty: Some(spec.tty),
        volumes: some_vec(&spec.volumes),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(host_config),
        networking_config,
        ..Default::default()
    }
}

/// An endpoint asking for fixed addresses (`--ip`, `--ip6`).
pub fn endpoint_settings(ipv4: Option<String>, ipv6: Option<String>) -> EndpointSettings {
    EndpointSettings {
        ipam_config: Some(EndpointIpamConfig {
            ipv4_address: ipv4,
            ipv6_address: ipv6,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `(IPv4, IPv6)` from the container's networks: exactly one network, else
/// upstream's count of comma-separated values in its error.
fn single_network_addresses(
    inspect: &ContainerInspectResponse,
) -> anyhow::Result<(String, String)> {
    let networks: Vec<&EndpointSettings> = inspect
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|m| m.values().collect())
        .unwrap_or_default();
    single_network(&networks)
}

/// (IPv4, IPv6) of the one network a container is attached to.
fn single_network(networks: &[&EndpointSettings]) -> anyhow::Result<(String, String)> {
    if networks.len() != 1 {
        // Upstream formats `ip,ip6` per network with no separator between networks.
        let values = if networks.is_empty() {
            1
        } else {
            networks.len() + 1
        };
        bail!("container addresses should have 2 values, got {values} values");
    }
    let n = networks[0];
    Ok((
        n.ip_address.clone().unwrap_or_default(),
        n.global_ipv6_address.clone().unwrap_or_default(),
    ))
}

/// The listing facts of an inspected container.
fn details_of(name: &str, inspect: &ContainerInspectResponse) -> NodeDetails {
    let mut networks: Vec<NetworkAttachment> = inspect
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|m| {
            m.iter()
                .map(|(network, e)| NetworkAttachment {
                    network: network.clone(),
                    ipv4: e.ip_address.clone().unwrap_or_default(),
                    ipv6: e.global_ipv6_address.clone().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    networks.sort_by(|a, b| a.network.cmp(&b.network));
    let host = inspect.host_config.as_ref();
    NodeDetails {
        name: name.to_string(),
        labels: labels_of(inspect),
        state: inspect
            .state
            .as_ref()
            .and_then(|s| s.status)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        image: inspect
            .config
            .as_ref()
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        networks,
        runtime: host.and_then(|h| h.runtime.clone()).unwrap_or_default(),
        auto_remove: host.and_then(|h| h.auto_remove).unwrap_or(false),
    }
}

fn labels_of(inspect: &ContainerInspectResponse) -> BTreeMap<String, String> {
    inspect
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// A failed container creation as upstream reports a failed `docker run`.
fn create_error(spec: &ContainerSpec, e: &BollardError) -> RunError {
    let msg = daemon_message(e);
    let lower = msg.to_lowercase();
    let mut argv = vec!["docker".to_string(), "run".to_string()];
    argv.extend(docker_run_args(spec));
    let runtime = spec.runtime.as_deref().unwrap_or_default();
    let reason = if !runtime.is_empty()
        && (lower.contains("unknown runtime specified")
            || lower.contains("unknown or invalid runtime name"))
    {
        format!(
            "Docker does not know the runtime \"{runtime}\". {}",
            RuntimeError::SysboxNotRegistered
        )
    } else {
        msg.clone()
    };
    RunError {
        argv,
        reason,
        output: format!("docker: {msg}"),
    }
}

impl Docker {
    /// Create (not start) a container from a spec. Failures are a RunError
    /// naming the equivalent `docker run`, as upstream reports them; an
    /// unknown runtime gets the Sysbox installation hint.
    pub async fn create_container(&self, spec: &ContainerSpec) -> anyhow::Result<()> {
        self.try_create_container(spec)
            .await
            .map_err(|e| create_error(spec, &e).into())
    }

    /// Create a container unless one of its name exists: `Ok(false)` then,
    /// and nothing was created. Docker's container names are unique, so of
    /// several concurrent calls with one name exactly one gets `Ok(true)`.
    pub async fn claim_container(&self, spec: &ContainerSpec) -> anyhow::Result<bool> {
        match self.try_create_container(spec).await {
            Ok(()) => Ok(true),
            Err(BollardError::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(false),
            Err(e) => Err(create_error(spec, &e).into()),
        }
    }

    async fn try_create_container(&self, spec: &ContainerSpec) -> Result<(), BollardError> {
        let opts = CreateContainerOptionsBuilder::new()
            .name(&spec.name)
            .build();
        self.api
            .create_container(Some(opts), create_body(spec))
            .await
            .map(|_| ())
    }

    pub async fn start_container(&self, name: &str) -> anyhow::Result<()> {
        self.api
            .start_container(name, None)
            .await
            .map_err(|e| anyhow!("failed to start container {name}: {}", daemon_message(&e)))
    }

    /// Follow the container's log until a line matches, or time out with
    /// upstream's message. A log that ends (container stopped) without a
    /// match fails the same way, without waiting for the deadline.
    pub async fn wait_for_log(
        &self,
        name: &str,
        pattern: &regex::Regex,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let opts = LogsOptionsBuilder::new()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .build();
        let mut stream = self.api.logs(name, Some(opts));
        let scan = async {
            let mut pending: Vec<u8> = Vec::new();
            let matches = |line: &[u8]| {
                pattern.is_match(String::from_utf8_lossy(line).trim_end_matches(['\r', '\n']))
            };
            while let Some(chunk) = stream.next().await {
                let chunk =
                    chunk.map_err(|e| anyhow!("failed to read logs: {}", daemon_message(&e)))?;
                pending.extend_from_slice(chunk.as_ref());
                while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    if matches(&line) {
                        return Ok(true);
                    }
                }
            }
            Ok::<bool, anyhow::Error>(!pending.is_empty() && matches(&pending))
        };
        match tokio::time::timeout(timeout, scan).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Err(e)) => Err(e),
            Ok(Ok(false)) | Err(_) => Err(anyhow!(
                "could not find a log line that matches \"{}\"",
                pattern.as_str()
            )),
        }
    }

    /// Cluster names (sorted, unique) from LABEL_CLUSTER.
    pub async fn list_clusters(&self) -> anyhow::Result<Vec<String>> {
        let list = self
            .list_containers_with(vec![LABEL_CLUSTER.to_string()])
            .await
            .map_err(|e| anyhow!("failed to list clusters: {}", daemon_message(&e)))?;
        let names: BTreeSet<String> = list
            .into_iter()
            .filter_map(|c| c.labels.and_then(|l| l.get(LABEL_CLUSTER).cloned()))
            .collect();
        Ok(names.into_iter().collect())
    }

    /// Containers of a cluster (including stopped ones and the LB), newest first.
    pub async fn list_nodes(&self, cluster: &str) -> anyhow::Result<Vec<NodeRef>> {
        self.list_labelled(vec![format!("{LABEL_CLUSTER}={cluster}")])
            .await
    }

    /// `list_nodes` with each container's labels (the same one listing).
    pub async fn list_nodes_with_labels(
        &self,
        cluster: &str,
    ) -> anyhow::Result<Vec<(NodeRef, HashMap<String, String>)>> {
        let containers = self
            .labelled_containers(vec![format!("{LABEL_CLUSTER}={cluster}")])
            .await
            .map_err(|e| anyhow!("failed to list nodes: {}", daemon_message(&e)))?;
        Ok(containers
            .into_iter()
            .map(|(name, labels)| (NodeRef::from_labels(&name, &labels), labels))
            .collect())
    }

    /// The containers of a cluster that one `create cluster` run made
    /// (LABEL_CREATE_ID), newest first.
    pub async fn list_nodes_created_by(
        &self,
        cluster: &str,
        create_id: &str,
    ) -> anyhow::Result<Vec<NodeRef>> {
        self.list_labelled(vec![
            format!("{LABEL_CLUSTER}={cluster}"),
            format!("{LABEL_CREATE_ID}={create_id}"),
        ])
        .await
    }

    /// Containers carrying every one of `labels` (`key=value`).
    async fn list_labelled(&self, labels: Vec<String>) -> anyhow::Result<Vec<NodeRef>> {
        let containers = self
            .labelled_containers(labels)
            .await
            .map_err(|e| anyhow!("failed to list nodes: {}", daemon_message(&e)))?;
        Ok(containers
            .iter()
            .map(|(name, labels)| NodeRef::from_labels(name, labels))
            .collect())
    }

    /// Every container of `cluster` (None: of every cluster) in listing
    /// order, each inspected (concurrently) for what the list lacks:
    /// runtime, auto-removal, the image as named at creation.
    pub async fn list_node_details(
        &self,
        cluster: Option<&str>,
    ) -> anyhow::Result<Vec<NodeDetails>> {
        let filter = match cluster {
            Some(c) => format!("{LABEL_CLUSTER}={c}"),
            None => LABEL_CLUSTER.to_string(),
        };
        let containers = self
            .labelled_containers(vec![filter])
            .await
            .map_err(|e| anyhow!("failed to list nodes: {}", daemon_message(&e)))?;
        let inspected =
            futures_util::future::join_all(containers.iter().map(|(name, _)| async move {
                match self.inspect(name).await {
                    Ok(i) => Ok(Some(details_of(name, &i))),
                    // Removed since the listing: not a node any more.
                    Err(e) if is_not_found(&e) => Ok(None),
                    Err(e) => Err(anyhow!(
                        "failed to inspect node {name}: {}",
                        daemon_message(&e)
                    )),
                }
            }))
            .await;
        let mut out = Vec::new();
        for r in inspected {
            out.extend(r?);
        }
        Ok(out)
    }

    /// The effective config stored with the cluster (LABEL_CLUSTER_CONFIG)
    /// as its newest container carrying one has it; None when no container
    /// does (no such cluster, or one not created by us).
    pub async fn cluster_config(&self, cluster: &str) -> anyhow::Result<Option<String>> {
        let filter = vec![format!("{LABEL_CLUSTER}={cluster}")];
        let containers = self.labelled_containers(filter).await.map_err(|e| {
            anyhow!(
                "failed to read the stored config of cluster {cluster:?}: {}",
                daemon_message(&e)
            )
        })?;
        Ok(containers
            .into_iter()
            .find_map(|(_, mut labels)| labels.remove(LABEL_CLUSTER_CONFIG)))
    }

    /// Every container (in any state) carrying all of `labels` (`key` or
    /// `key=value`), as the list reports them, newest first.
    async fn list_containers_with(
        &self,
        labels: Vec<String>,
    ) -> Result<Vec<ContainerSummary>, BollardError> {
        let filters = HashMap::from([("label", labels)]);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        self.api.list_containers(Some(opts)).await
    }

    /// (name, labels) of every container carrying all of `labels`
    /// (`key=value`), newest first.
    async fn labelled_containers(
        &self,
        labels: Vec<String>,
    ) -> Result<Vec<(String, HashMap<String, String>)>, BollardError> {
        let list = self.list_containers_with(labels).await?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c
                    .names?
                    .into_iter()
                    .next()?
                    .trim_start_matches('/')
                    .to_string();
                Some((name, c.labels.unwrap_or_default()))
            })
            .collect())
    }

    pub(super) async fn inspect(
        &self,
        name: &str,
    ) -> Result<ContainerInspectResponse, BollardError> {
        self.api
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
    }

    /// Whether a container of this name exists (in any state).
    pub async fn container_exists(&self, name: &str) -> anyhow::Result<bool> {
        match self.inspect(name).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(anyhow!(
                "failed to inspect container {name}: {}",
                daemon_message(&e)
            )),
        }
    }

    /// (IPv4, IPv6) on the node's single network; either may be empty.
    pub async fn node_addresses(&self, name: &str) -> anyhow::Result<(String, String)> {
        let inspect = self
            .inspect(name)
            .await
            .map_err(|e| anyhow!("failed to get container details: {}", daemon_message(&e)))?;
        single_network_addresses(&inspect)
    }

    /// `node_addresses` of every container of `cluster`, from one listing
    /// (the list reports each container's networks as inspect does).
    pub async fn cluster_node_addresses(
        &self,
        cluster: &str,
    ) -> anyhow::Result<HashMap<String, anyhow::Result<(String, String)>>> {
        let list = self
            .list_containers_with(vec![format!("{LABEL_CLUSTER}={cluster}")])
            .await
            .map_err(|e| anyhow!("failed to get container details: {}", daemon_message(&e)))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c.names?.first()?.trim_start_matches('/').to_string();
                let networks = c
                    .network_settings
                    .and_then(|n| n.networks)
                    .unwrap_or_default();
                let networks: Vec<&EndpointSettings> = networks.values().collect();
                Some((name, single_network(&networks)))
            })
            .collect())
    }

    /// `host:port` the API server of this node (LB or control plane) is
    /// published on (IPv6 bracketed).
    pub async fn api_server_endpoint(&self, name: &str) -> anyhow::Result<String> {
        let inspect = self
            .inspect(name)
            .await
            .map_err(|e| anyhow!("failed to get api server port: {}", daemon_message(&e)))?;
        if let Some(endpoint) = labels_of(&inspect)
            .get(DESKTOP_API_PORT_LABEL)
            .filter(|v| !v.trim().is_empty())
        {
            return Ok(endpoint.trim().to_string());
        }
        let binding = inspect
            .network_settings
            .and_then(|n| n.ports)
            .and_then(|mut p| p.remove("6443/tcp"))
            .flatten()
            .and_then(|b| b.into_iter().next())
            .ok_or_else(|| anyhow!("failed to get api server port: no host port is published for 6443/tcp on {name}"))?;
        let host = binding.host_ip.unwrap_or_default();
        let port = binding.host_port.unwrap_or_default();
        Ok(join_host_port(&host, port))
    }

    /// The fixed addresses a container asks for on `network` ([IPv4, IPv6]).
    pub async fn endpoint_config(
        &self,
        name: &str,
        network: &str,
    ) -> anyhow::Result<[Option<String>; 2]> {
        let inspect = self
            .inspect(name)
            .await
            .map_err(|e| anyhow!("failed to inspect container {name}: {}", daemon_message(&e)))?;
        let ipam = inspect
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|mut m| m.remove(network))
            .and_then(|e| e.ipam_config);
        let nonempty = |v: Option<String>| v.filter(|a| !a.is_empty());
        Ok(match ipam {
            Some(i) => [nonempty(i.ipv4_address), nonempty(i.ipv6_address)],
            None => [None, None],
        })
    }

    /// Detach a (not running) container from `network` and attach it again
    /// asking for these addresses (None = Docker picks).
    pub async fn reattach(
        &self,
        name: &str,
        network: &str,
        ipv4: Option<String>,
        ipv6: Option<String>,
    ) -> anyhow::Result<()> {
        let fail = |e: BollardError| {
            anyhow!(
                "failed to re-attach {name} to network {network}: {}",
                daemon_message(&e)
            )
        };
        self.api
            .disconnect_network(
                network,
                NetworkDisconnectRequest {
                    container: name.to_string(),
                    force: Some(true),
                },
            )
            .await
            .map_err(fail)?;
        let endpoint = (ipv4.is_some() || ipv6.is_some()).then(|| endpoint_settings(ipv4, ipv6));
        self.api
            .connect_network(
                network,
                NetworkConnectRequest {
                    container: name.to_string(),
                    endpoint_config: endpoint,
                },
            )
            .await
            .map_err(fail)
    }

    /// Whether the container runs, and whether it was created ephemeral.
    pub async fn node_state(&self, name: &str) -> anyhow::Result<NodeState> {
        let inspect = self
            .inspect(name)
            .await
            .map_err(|e| anyhow!("failed to inspect node {name}: {}", daemon_message(&e)))?;
        let state = inspect.state.clone().unwrap_or_default();
        let ephemeral = labels_of(&inspect)
            .get(LABEL_EPHEMERAL)
            .is_some_and(|v| v == "true")
            || inspect
                .host_config
                .as_ref()
                .and_then(|h| h.auto_remove)
                .unwrap_or(false);
        Ok(NodeState {
            running: state.running.unwrap_or(false) || state.restarting.unwrap_or(false),
            ephemeral,
        })
    }

    /// `docker stop` the containers, concurrently; stopped already is fine.
    pub async fn stop_containers(&self, names: &[String]) -> anyhow::Result<()> {
        let results = futures_util::future::join_all(names.iter().map(|name| async move {
            match self
                .api
                .stop_container(name, None::<StopContainerOptions>)
                .await
            {
                Ok(()) => Ok(()),
                // 304: not running.
                Err(BollardError::DockerResponseServerError {
                    status_code: 304, ..
                }) => Ok(()),
                Err(e) => Err(format!("{name}: {}", daemon_message(&e))),
            }
        }))
        .await;
        let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(anyhow!("failed to stop nodes: {}", aggregate(errors)))
        }
    }

    /// `docker start` the containers, concurrently; running already is fine.
    pub async fn start_containers(&self, names: &[String]) -> anyhow::Result<()> {
        let results = futures_util::future::join_all(names.iter().map(|name| async move {
            match self.api.start_container(name, None).await {
                Ok(()) => Ok(()),
                Err(BollardError::DockerResponseServerError {
                    status_code: 304, ..
                }) => Ok(()),
                Err(e) => {
                    let msg = daemon_message(&e);
                    let hint = if msg.contains(super::provision::ADDRESS_IN_USE) {
                        " (another container on the network now holds this node's fixed address: stop or disconnect it, then run `kind start cluster` again)"
                    } else {
                        ""
                    };
                    Err(format!("{name}: {msg}{hint}"))
                }
            }
        }))
        .await;
        let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(anyhow!("failed to start nodes: {}", aggregate(errors)))
        }
    }

    /// Force-remove containers with their anonymous volumes, concurrently;
    /// already gone is fine.
    pub async fn delete_containers(&self, names: &[String]) -> anyhow::Result<()> {
        let opts = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        let results = futures_util::future::join_all(names.iter().map(|name| {
            let opts = opts.clone();
            async move {
                match self.api.remove_container(name, Some(opts)).await {
                    Ok(()) => Ok(()),
                    Err(e) if is_not_found(&e) => Ok(()),
                    // An ephemeral (`--rm`) node Docker is removing already.
                    Err(e) if daemon_message(&e).contains("is already in progress") => Ok(()),
                    Err(e) => Err(daemon_message(&e)),
                }
            }
        }))
        .await;
        let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(anyhow!("failed to delete nodes: {}", aggregate(errors)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::PortSpec;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn restart_policies() {
        assert_eq!(
            restart_policy("on-failure:1"),
            Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::ON_FAILURE),
                maximum_retry_count: Some(1)
            })
        );
        assert_eq!(
            restart_policy("always").and_then(|p| p.name),
            Some(RestartPolicyNameEnum::ALWAYS)
        );
        assert_eq!(restart_policy(""), None);
    }
    #[test]
    fn create_body_maps_every_field() {
        let spec = ContainerSpec {
            name: "n".into(),
            hostname: "n".into(),
            image: "img".into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            env: s(&["A=1", "BARE"]),
            privileged: true,
            security_opt: s(&["seccomp=unconfined"]),
            tmpfs: [("/tmp".to_string(), String::new())].into(),
            volumes: s(&["/var"]),
            binds: s(&["/lib/modules:/lib/modules:ro"]),
            devices: s(&["/dev/fuse"]),
            ports: vec![
                PortSpec {
                    listen_address: "127.0.0.1".into(),
                    host_port: 8080,
                    container_port: 80,
                    protocol: "TCP".into(),
                },
                PortSpec {
                    listen_address: "::".into(),
                    host_port: -1,
                    container_port: 80,
                    protocol: "TCP".into(),
                },
                PortSpec {
                    listen_address: "0.0.0.0".into(),
                    host_port: 53,
                    container_port: 53,
                    protocol: "UDP".into(),
                },
            ],
            restart_policy: "on-failure:1".into(),
            init: false,
            cgroupns_private: true,
            runtime: Some("sysbox-runc".into()),
            network: "kind".into(),
            sysctls: [("net.ipv6.conf.all.forwarding".to_string(), "1".to_string())].into(),
            userns_mode: Some("host".into()),
            cmd: Some(s(&["bash", "-c", "x"])),
            tty: true,
            ..Default::default()
        };
        let b = create_body(&spec);
        let h = b.host_config.clone().unwrap();
        assert_eq!(b.exposed_ports, Some(s(&["53/udp", "80/tcp"])));
        let p80 = h.port_bindings.as_ref().unwrap()["80/tcp"].clone().unwrap();
        assert_eq!(
            p80,
            vec![
                PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some("8080".into())
                },
                PortBinding {
                    host_ip: Some("::".into()),
                    host_port: Some("0".into())
                },
            ]
        );
        assert_eq!(
            (b.tty, b.volumes.clone(), b.env.clone(), b.cmd.clone()),
            (
                Some(true),
                Some(s(&["/var"])),
                Some(s(&["A=1", "BARE"])),
                spec.cmd.clone()
            )
        );
        assert_eq!(
            (h.runtime.as_deref(), h.privileged, h.init, h.cgroupns_mode),
            (
                Some("sysbox-runc"),
                Some(true),
                Some(false),
                Some(HostConfigCgroupnsModeEnum::PRIVATE)
            )
        );
        assert_eq!(
            (h.userns_mode.as_deref(), h.network_mode.as_deref()),
            (Some("host"), Some("kind"))
        );
        assert_eq!(
            h.devices.unwrap()[0].path_in_container.as_deref(),
            Some("/dev/fuse")
        );
        assert_eq!(h.tmpfs.unwrap()["/tmp"], "");
        assert_eq!(h.binds, Some(s(&["/lib/modules:/lib/modules:ro"])));
        assert_eq!(h.security_opt, Some(s(&["seccomp=unconfined"])));
        assert_eq!(h.sysctls.unwrap()["net.ipv6.conf.all.forwarding"], "1");

        // Nothing requested => nothing sent (Docker applies its defaults).
        let h = create_body(&ContainerSpec {
            name: "m".into(),
            image: "i".into(),
            ..Default::default()
        })
        .host_config
        .unwrap();
        assert_eq!(
            (
                h.runtime,
                h.security_opt,
                h.binds,
                h.port_bindings,
                h.cgroupns_mode,
                h.restart_policy
            ),
            (None, None, None, None, None, None)
        );
    }

    #[test]
    fn fixed_addresses_and_auto_remove_reach_the_request() {
        let spec = ContainerSpec {
            name: "n".into(),
            image: "i".into(),
            network: "kind".into(),
            ipv4_address: Some("172.18.255.254".into()),
            ipv6_address: Some("fc00::fffe".into()),
            auto_remove: true,
            ..Default::default()
        };
        let b = create_body(&spec);
        let ipam = b.networking_config.unwrap().endpoints_config.unwrap()["kind"]
            .ipam_config
            .clone()
            .unwrap();
        assert_eq!(
            (ipam.ipv4_address.as_deref(), ipam.ipv6_address.as_deref()),
            (Some("172.18.255.254"), Some("fc00::fffe"))
        );
        assert_eq!(b.host_config.unwrap().auto_remove, Some(true));
        let args = docker_run_args(&spec);
        for want in ["--ip=172.18.255.254", "--ip6=fc00::fffe", "--rm"] {
            assert!(args.iter().any(|a| a == want), "{want} in {args:?}");
        }
        // Without fixed addresses: no endpoint config at all (Docker picks).
        let b = create_body(&ContainerSpec {
            ipv4_address: None,
            ipv6_address: None,
            auto_remove: false,
            ..spec
        });
        assert_eq!(b.networking_config, None);
        assert_eq!(b.host_config.unwrap().auto_remove, None);
    }

    #[test]
    fn the_preload_container_asks_for_docker_defaults() {
        let spec = crate::images::build::preload_container_spec(
            "kind-build-1-2",
            "sha256:abc",
            "sysbox-runc",
        );
        // What the daemon is asked for: Docker's default network, no restart policy, no labels.
        let body = crate::provider::docker::create_body(&spec);
        let host = body.host_config.as_ref().unwrap();
        assert_eq!(
            (host.runtime.as_deref(), host.privileged),
            (Some("sysbox-runc"), Some(false))
        );
        assert_eq!(
            (
                host.network_mode.as_ref(),
                host.restart_policy.as_ref(),
                body.labels.as_ref()
            ),
            (None, None, None)
        );
    }
}
