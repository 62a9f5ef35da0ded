//! The Docker implementation of the node provider, the only module that
//! uses the Docker Engine API (bollard): the client and its errors here;
//! networks, containers, exec and images in submodules, each one job of the
//! API; `provision` (a cluster's containers) built on them; `seam` puts it
//! all behind the `Provider` trait.
//!
//! Messages mirror what upstream kind shows for the equivalent docker CLI
//! command; daemon errors read `Error response from daemon: …` as the CLI
//! prints them.

mod containers;
mod exec;
pub mod images;
pub mod logs;
mod networks;
mod provision;
mod seam;
mod volumes;

pub use containers::create_body;

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::anyhow;
use bollard::errors::Error as BollardError;
use bollard::models::SystemInfo;

use super::endpoint::{self, Endpoint};
use super::HostInfo;
use crate::log::Logger;
// The node types the submodules hand out, for their `use super::…`.
use super::{ExecOutput, NodeRef, RunError};

/// Per-request timeout (response headers only; streams are not limited).
const API_TIMEOUT_SECS: u64 = 300;

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
        architecture: info.architecture.unwrap_or_default(),
        server_version: info.server_version.unwrap_or_default(),
        kernel_version: info.kernel_version.unwrap_or_default(),
        docker_root_dir: info.docker_root_dir.unwrap_or_default(),
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

    /// The bollard client, for this module's submodules and the Docker
    /// implementation's own integration tests (tests/provider_docker.rs).
    pub fn api(&self) -> &bollard::Docker {
        &self.api
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn aggregates() {
        assert_eq!(aggregate(s(&["a"])), "a");
        assert_eq!(aggregate(s(&["a", "b", "a"])), "[a, b]");
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
            architecture: Some("x86_64".into()),
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
                architecture: "x86_64".into(),
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
