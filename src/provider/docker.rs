//! The executor: every call to the Docker Engine API (bollard).
//!
//! Messages mirror what upstream kind shows for the equivalent docker CLI
//! command; daemon errors read `Error response from daemon: …` as the CLI
//! prints them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use anyhow::{anyhow, bail};
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, DeviceMapping, HostConfig,
    HostConfigCgroupnsModeEnum, Ipam, IpamConfig, NetworkCreateRequest, PortBinding, RestartPolicy,
    RestartPolicyNameEnum, SystemInfo,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, InspectContainerOptions,
    InspectNetworkOptions, ListContainersOptionsBuilder, ListNetworksOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::endpoint::{self, Endpoint};
use super::network::{self, NetworkEntry, OPT_MASQUERADE, OPT_MTU, ULA_ATTEMPTS};
use super::plan::{docker_run_args, join_host_port};
use super::runtime::RuntimeError;
use super::{
    ContainerSpec, HostInfo, LABEL_CLUSTER, LABEL_CREATE_ID, LABEL_ROLE, LABEL_RUNTIME_MODE,
};
use crate::log::Logger;

/// Docker Desktop's label carrying the host endpoint of the API server.
const DESKTOP_API_PORT_LABEL: &str = "desktop.docker.io/ports/6443/tcp";
/// Per-request timeout (response headers only; streams are not limited).
const API_TIMEOUT_SECS: u64 = 300;

/// A node as listed from Docker.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRef {
    pub name: String,
    pub role: String,
    /// From LABEL_RUNTIME_MODE; nodes without it (upstream kind's) are runc.
    pub runtime_mode: String,
}

impl NodeRef {
    /// Upstream execs with --privileged; Sysbox nodes never need it.
    pub fn privileged_exec(&self) -> bool {
        self.runtime_mode != "sysbox"
    }
}

#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i64,
}

/// A command that failed. Display as upstream:
/// `command "<shell-quoted argv>" failed with error: exit status N`;
/// `output` is the combined stdout+stderr (printed as `Command Output:`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("command \"{}\" failed with error: {reason}", shell_join(.argv))]
pub struct RunError {
    /// The equivalent docker CLI argv, e.g. `docker exec kind-control-plane kubeadm …`.
    pub argv: Vec<String>,
    pub reason: String,
    pub output: String,
}

/// Join argv as a shell would need it: bare when only
/// `[A-Za-z0-9@%_+=:,./-]`, else single-quoted (`'` as `'"'"'`); empty => `''`.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    if arg.is_empty() {
        return "''".into();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%_+=:,./-".contains(c);
    if arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\"'\"'"))
    }
}

/// A daemon error as the docker CLI prints it.
pub fn daemon_message(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => {
            format!("Error response from daemon: {message}")
        }
        BollardError::DockerStreamError { error } => error.clone(),
        other if is_transport(other) => format!(
            "lost the connection to the Docker daemon: {}",
            transport_cause(other)
        ),
        other => other.to_string(),
    }
}

/// Why the daemon could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach the Docker daemon at {endpoint}: {cause}. {hint}")]
    Unreachable {
        endpoint: String,
        cause: String,
        hint: &'static str,
    },
    #[error("the Docker daemon at {endpoint} accepted the connection but did not answer within {secs} s: it is hung or this is not a Docker socket")]
    Silent { endpoint: String, secs: f64 },
}

/// The connection failure with what to do about it.
fn unreachable(endpoint: &Endpoint, e: &BollardError) -> ConnectError {
    let cause = transport_cause(e);
    let cause = cause.trim_end().trim_end_matches('.').to_string();
    let lower = cause.to_lowercase();
    let hint = if lower.contains("http request to an https server") {
        "The daemon expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to a directory with ca.pem, cert.pem and key.pem"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        "Check that ca.pem is the CA that signed the daemon's certificate and that cert.pem/key.pem are a client pair the daemon accepts"
    } else if lower.starts_with("permission denied") {
        "Use an account allowed to use Docker (e.g. in the docker group) or sudo"
    } else {
        "Is dockerd running there? (`kind doctor` checks this host)"
    };
    ConnectError::Unreachable {
        endpoint: endpoint.to_string(),
        cause,
        hint,
    }
}

/// A bollard client for the endpoint (no request is made yet).
fn client_for(endpoint: &Endpoint) -> Result<bollard::Docker, BollardError> {
    let version = bollard::API_DEFAULT_VERSION;
    match (&endpoint.tls, endpoint.host.strip_prefix("unix://")) {
        (_, Some(path)) => bollard::Docker::connect_with_unix(path, API_TIMEOUT_SECS, version),
        (None, None) => {
            bollard::Docker::connect_with_http(&endpoint.host, API_TIMEOUT_SECS, version)
        }
        (Some(tls), None) => bollard::Docker::connect_with_ssl(
            &endpoint.host,
            &tls.key,
            &tls.cert,
            &tls.ca,
            API_TIMEOUT_SECS,
            version,
        ),
    }
}

/// Errors of the connection itself rather than of the daemon.
fn is_transport(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::HyperLegacyError { .. }
            | BollardError::IOError { .. }
            | BollardError::SocketNotFoundError(_)
            | BollardError::RequestTimeoutError
    )
}

/// A connection failure in our words: the socket is missing, the connection
/// was refused, permission denied, or the innermost cause (for TLS, the
/// certificate problem) instead of the HTTP library's wrapper text.
pub fn transport_cause(e: &BollardError) -> String {
    use std::io::ErrorKind;
    match e {
        BollardError::SocketNotFoundError(path) => return format!("no socket at {path}"),
        BollardError::RequestTimeoutError => {
            return format!("no answer within {API_TIMEOUT_SECS} s")
        }
        BollardError::DockerResponseServerError { .. } | BollardError::DockerStreamError { .. } => {
            return daemon_message(e)
        }
        _ => {}
    }
    let mut innermost: &dyn std::error::Error = e;
    let mut current: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = current {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::NotFound => return "no such socket".into(),
                ErrorKind::ConnectionRefused => return "connection refused".into(),
                ErrorKind::PermissionDenied => return "permission denied".into(),
                _ => {}
            }
        }
        innermost = err;
        current = err.source();
    }
    let text = innermost.to_string();
    if text.contains("connection closed before message completed")
        || text.contains("IncompleteMessage")
    {
        "the connection was closed without an answer".into()
    } else {
        text
    }
}

pub(crate) fn is_not_found(e: &BollardError) -> bool {
    matches!(
        e,
        BollardError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Upstream's aggregate form: a single error bare, several as `[e1, e2]`
/// with duplicates removed.
fn aggregate(errors: Vec<String>) -> String {
    let mut seen = BTreeSet::new();
    let unique: Vec<String> = errors
        .into_iter()
        .filter(|e| seen.insert(e.clone()))
        .collect();
    if unique.len() == 1 {
        unique.into_iter().next().unwrap_or_default()
    } else {
        format!("[{}]", unique.join(", "))
    }
}

/// `name[:tag][@digest]` -> (fromImage, tag) as the docker CLI sends them:
/// a digest wins over a tag; no tag means `latest`.
fn pull_reference(image: &str) -> (String, String) {
    if let Some((name_tag, digest)) = image.split_once('@') {
        return (strip_tag(name_tag).to_string(), digest.to_string());
    }
    let name = strip_tag(image);
    if name.len() < image.len() {
        (name.to_string(), image[name.len() + 1..].to_string())
    } else {
        (image.to_string(), "latest".to_string())
    }
}

fn strip_tag(name_tag: &str) -> &str {
    let slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    match name_tag[slash..].rfind(':') {
        Some(i) => &name_tag[..slash + i],
        None => name_tag,
    }
}

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
        ..Default::default()
    };
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
        ..Default::default()
    }
}

/// The facts of `docker info` the provider uses (spec §3.1, §3.5).
fn host_info_from(info: SystemInfo) -> HostInfo {
    let driver = info
        .cgroup_driver
        .map(|d| d.to_string())
        .unwrap_or_default();
    // Without a cgroup driver no limit can be enforced, whatever is reported.
    let limits = driver != "none";
    let security = info.security_options.unwrap_or_default();
    HostInfo {
        cgroup2: info.cgroup_version.is_some_and(|v| v.to_string() == "2"),
        memory_limit: limits && info.memory_limit.unwrap_or(false),
        pids_limit: limits && info.pids_limit.unwrap_or(false),
        cpu_shares: limits && info.cpu_shares.unwrap_or(false),
        rootless: security
            .iter()
            .any(|o| o.split(',').any(|part| part == "name=rootless")),
        userns_remap: security.iter().any(|o| o.contains("name=userns")),
        runtimes: info
            .runtimes
            .unwrap_or_default()
            .into_iter()
            .map(|(name, r)| (name, r.path.unwrap_or_default()))
            .collect(),
        default_runtime: info.default_runtime.unwrap_or_default(),
        storage_driver: info.driver.unwrap_or_default(),
        backing_filesystem: info
            .driver_status
            .unwrap_or_default()
            .into_iter()
            .find(|kv| kv.first().is_some_and(|k| k == "Backing Filesystem"))
            .and_then(|kv| kv.get(1).cloned())
            .unwrap_or_default(),
        cgroup_driver: driver,
        server_version: info.server_version.unwrap_or_default(),
        kernel_version: info.kernel_version.unwrap_or_default(),
        docker_root_dir: info.docker_root_dir.unwrap_or_default(),
    }
}

/// `(IPv4, IPv6)` from the container's networks: exactly one network, else
/// upstream's count of comma-separated values in its error.
fn single_network_addresses(
    inspect: &ContainerInspectResponse,
) -> anyhow::Result<(String, String)> {
    let networks: Vec<_> = inspect
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|m| m.values().collect())
        .unwrap_or_default();
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

pub struct Docker {
    api: bollard::Docker,
    endpoint: Endpoint,
}

/// How long the daemon may take to answer the first request (the version
/// ping) before a command gives up: a daemon that accepts connections but
/// never answers must not hang kind. Later requests keep API_TIMEOUT_SECS.
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

impl Docker {
    /// What every command does: log upstream's line when
    /// KIND_EXPERIMENTAL_PROVIDER forces docker, then `connect`.
    pub async fn connect_logged(log: &Logger) -> anyhow::Result<Docker> {
        let value = std::env::var(endpoint::PROVIDER_ENV).ok();
        if let Some(warning) = endpoint::select_provider(value.as_deref())? {
            log.warn(warning);
        }
        Docker::connect().await
    }

    /// Refuse providers other than Docker (KIND_EXPERIMENTAL_PROVIDER),
    /// resolve the endpoint by the docker CLI's rules (DOCKER_HOST,
    /// DOCKER_CONTEXT, the config's current context), connect and negotiate
    /// the API version within PING_TIMEOUT.
    pub async fn connect() -> anyhow::Result<Docker> {
        let env = |k: &str| std::env::var(k).ok();
        endpoint::select_provider(env(endpoint::PROVIDER_ENV).as_deref())?;
        let endpoint = endpoint::resolve(&env)?;
        Ok(Docker::connect_to(endpoint, PING_TIMEOUT).await?)
    }

    /// Connect to a resolved endpoint; the version ping must answer within `ping`.
    pub async fn connect_to(endpoint: Endpoint, ping: Duration) -> Result<Docker, ConnectError> {
        let api = client_for(&endpoint).map_err(|e| unreachable(&endpoint, &e))?;
        let api = match tokio::time::timeout(ping, api.negotiate_version()).await {
            Err(_) => {
                return Err(ConnectError::Silent {
                    endpoint: endpoint.to_string(),
                    secs: ping.as_secs_f64(),
                })
            }
            Ok(Err(e)) => return Err(unreachable(&endpoint, &e)),
            Ok(Ok(api)) => api,
        };
        Ok(Docker { api, endpoint })
    }

    /// The endpoint this client talks to (also the key of its proxies).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub async fn host_info(&self) -> anyhow::Result<HostInfo> {
        let info = self
            .api
            .info()
            .await
            .map_err(|e| anyhow!("failed to get docker info: {}", daemon_message(&e)))?;
        Ok(host_info_from(info))
    }

    pub async fn image_exists(&self, image: &str) -> anyhow::Result<bool> {
        Ok(self.inspect_image_opt(image).await?.is_some())
    }

    /// One pull attempt (retries are the caller's).
    pub async fn pull_image(&self, image: &str) -> anyhow::Result<()> {
        let (from_image, tag) = pull_reference(image);
        let opts = CreateImageOptionsBuilder::new()
            .from_image(&from_image)
            .tag(&tag)
            .build();
        let mut stream = self.api.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| anyhow!("{}", daemon_message(&e)))?;
            if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                bail!("{detail}");
            }
        }
        Ok(())
    }

    /// Upstream's network algorithm (spec §3.3).
    pub async fn ensure_network(&self, name: &str) -> anyhow::Result<()> {
        self.ensure_network_steps(name)
            .await
            .map_err(|e| anyhow!("failed to ensure docker network: {e}"))
    }

    async fn ensure_network_steps(&self, name: &str) -> anyhow::Result<()> {
        if !self.networks_named(name).await?.is_empty() {
            // Existing networks are never checked for IPv6/MTU.
            return self.remove_duplicate_networks(name).await;
        }
        let mtu = self.bridge_mtu().await;
        for attempt in 0..ULA_ATTEMPTS {
            let subnet = network::ula_subnet(name, attempt);
            match self.create_network(name, mtu, Some(&subnet)).await {
                Ok(()) => return self.remove_duplicate_networks(name).await,
                Err(msg) if network::is_already_exists(&msg) => {
                    return self.remove_duplicate_networks(name).await
                }
                Err(msg) if attempt == 0 && network::is_ipv6_unavailable(&msg) => {
                    // One IPv4-only try; its result is final.
                    return match self.create_network(name, mtu, None).await {
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

    /// IDs of the networks named exactly `name`.
    async fn networks_named(&self, name: &str) -> anyhow::Result<Vec<String>> {
        let filters = HashMap::from([("name", vec![format!("^{}$", regex::escape(name))])]);
        let opts = ListNetworksOptionsBuilder::new().filters(&filters).build();
        let list = self
            .api
            .list_networks(Some(opts))
            .await
            .map_err(|e| anyhow!("failed to list networks: {}", daemon_message(&e)))?;
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

    /// One `docker network create`; Err is the daemon's message.
    async fn create_network(
        &self,
        name: &str,
        mtu: i64,
        ipv6_subnet: Option<&str>,
    ) -> Result<(), String> {
        let mut options = HashMap::from([(OPT_MASQUERADE.to_string(), "true".to_string())]);
        if mtu > 0 {
            options.insert(OPT_MTU.to_string(), mtu.to_string());
        }
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            options: Some(options),
            enable_ipv6: ipv6_subnet.map(|_| true),
            ipam: ipv6_subnet.map(|s| Ipam {
                config: Some(vec![IpamConfig {
                    subnet: Some(s.to_string()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
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
        let filters = HashMap::from([("label", vec![LABEL_CLUSTER.to_string()])]);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let list = self
            .api
            .list_containers(Some(opts))
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
        let filters = HashMap::from([("label", labels)]);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let list = self
            .api
            .list_containers(Some(opts))
            .await
            .map_err(|e| anyhow!("failed to list nodes: {}", daemon_message(&e)))?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let name = c
                    .names?
                    .into_iter()
                    .next()?
                    .trim_start_matches('/')
                    .to_string();
                let labels = c.labels.unwrap_or_default();
                Some(NodeRef {
                    name,
                    role: labels.get(LABEL_ROLE).cloned().unwrap_or_default(),
                    runtime_mode: labels
                        .get(LABEL_RUNTIME_MODE)
                        .cloned()
                        .unwrap_or_else(|| "runc".into()),
                })
            })
            .collect())
    }

    async fn inspect(&self, name: &str) -> Result<ContainerInspectResponse, BollardError> {
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

    pub fn api(&self) -> &bollard::Docker {
        &self.api
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
    fn shell_join_quotes_like_upstream() {
        let cases: &[(&[&str], &str)] = &[
            (
                &[
                    "docker",
                    "exec",
                    "--privileged",
                    "kind-control-plane",
                    "cat",
                    "/kind/version",
                ],
                "docker exec --privileged kind-control-plane cat /kind/version",
            ),
            (&["a@b%c_d+e=f:g,h.i/j-k"], "a@b%c_d+e=f:g,h.i/j-k"),
            (&[""], "''"),
            (&["two words"], "'two words'"),
            (&["it's"], "'it'\"'\"'s'"),
            (&["$HOME", "a*b", "x~"], "'$HOME' 'a*b' 'x~'"),
            (
                &["bash", "-c", "echo 'hi' && exit 1"],
                "bash -c 'echo '\"'\"'hi'\"'\"' && exit 1'",
            ),
            (&["ünï"], "'ünï'"),
        ];
        for (argv, want) in cases {
            assert_eq!(shell_join(&s(argv)), *want);
        }
    }

    #[test]
    fn run_error_displays_like_upstream() {
        let e = RunError {
            argv: s(&[
                "docker",
                "exec",
                "--privileged",
                "kind-control-plane",
                "sh",
                "-c",
                "exit 3",
            ]),
            reason: "exit status 3".into(),
            output: String::new(),
        };
        assert_eq!(e.to_string(), "command \"docker exec --privileged kind-control-plane sh -c 'exit 3'\" failed with error: exit status 3");
    }

    #[test]
    fn pull_references() {
        let cases = [
            (
                "kindest/node:v1.36.1@sha256:abc",
                ("kindest/node", "sha256:abc"),
            ),
            ("kindest/node@sha256:abc", ("kindest/node", "sha256:abc")),
            ("kindest/node:v1.36.1", ("kindest/node", "v1.36.1")),
            ("kindest/node", ("kindest/node", "latest")),
            ("localhost:5000/node", ("localhost:5000/node", "latest")),
            ("localhost:5000/node:v1", ("localhost:5000/node", "v1")),
            (
                "docker.io/envoyproxy/envoy:v1.36.2",
                ("docker.io/envoyproxy/envoy", "v1.36.2"),
            ),
        ];
        for (image, (name, tag)) in cases {
            assert_eq!(
                pull_reference(image),
                (name.to_string(), tag.to_string()),
                "{image}"
            );
        }
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
    fn aggregates() {
        assert_eq!(aggregate(s(&["a"])), "a");
        assert_eq!(aggregate(s(&["a", "b", "a"])), "[a, b]");
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
    fn host_info_from_docker_info() {
        use bollard::models::{
            Runtime, SystemInfoCgroupDriverEnum as D, SystemInfoCgroupVersionEnum as V,
        };
        let info = |driver: D, security: &[&str]| SystemInfo {
            cgroup_driver: Some(driver),
            cgroup_version: Some(V::_2),
            memory_limit: Some(true),
            pids_limit: Some(true),
            cpu_shares: Some(true),
            security_options: Some(s(security)),
            runtimes: Some(HashMap::from([
                (
                    "runc".to_string(),
                    Runtime {
                        path: Some("runc".into()),
                        ..Default::default()
                    },
                ),
                (
                    "sysbox-runc".to_string(),
                    Runtime {
                        path: Some("/usr/bin/sysbox-runc".into()),
                        ..Default::default()
                    },
                ),
            ])),
            default_runtime: Some("runc".into()),
            driver: Some("overlay2".into()),
            driver_status: Some(vec![
                s(&["Backing Filesystem", "xfs"]),
                s(&["Supports d_type", "true"]),
            ]),
            ..Default::default()
        };
        let h = host_info_from(info(
            D::SYSTEMD,
            &["name=seccomp,profile=default", "name=rootless"],
        ));
        assert_eq!(
            h,
            HostInfo {
                cgroup_driver: "systemd".into(),
                cgroup2: true,
                memory_limit: true,
                pids_limit: true,
                cpu_shares: true,
                rootless: true,
                userns_remap: false,
                runtimes: [
                    ("runc".to_string(), "runc".to_string()),
                    (
                        "sysbox-runc".to_string(),
                        "/usr/bin/sysbox-runc".to_string()
                    )
                ]
                .into(),
                default_runtime: "runc".into(),
                storage_driver: "overlay2".into(),
                backing_filesystem: "xfs".into(),
                ..Default::default()
            }
        );
        // rootless may be one comma-separated element of an entry.
        assert!(
            host_info_from(info(
                D::SYSTEMD,
                &["name=seccomp,profile=default,name=rootless"]
            ))
            .rootless
        );
        assert!(!host_info_from(info(D::SYSTEMD, &["name=rootlessish"])).rootless);
        let userns = host_info_from(info(D::CGROUPFS, &["name=apparmor", "name=userns"]));
        assert!(userns.userns_remap && !userns.rootless);
        // Cgroup driver `none`: no limits whatever docker reports.
        let none = host_info_from(info(D::NONE, &[]));
        assert!(!none.memory_limit && !none.pids_limit && !none.cpu_shares);
    }
}
