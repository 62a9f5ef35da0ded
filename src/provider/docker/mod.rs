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
mod networks;
mod provision;
mod seam;

pub use containers::create_body;

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::anyhow;
use bollard::errors::Error as BollardError;
use bollard::models::SystemInfo;

use super::HostInfo;
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
        other => other.to_string(),
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
    }
}

pub struct Docker {
    api: bollard::Docker,
}

impl Docker {
    /// Connect (DOCKER_HOST or the local socket) and negotiate the API version.
    pub async fn connect() -> anyhow::Result<Docker> {
        let host =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        let api = bollard::Docker::connect_with_defaults()
            .map_err(|e| anyhow!("failed to connect to Docker at {host}: {e}"))?
            .with_timeout(Duration::from_secs(API_TIMEOUT_SECS));
        let api = api.negotiate_version().await.map_err(|e| {
            anyhow!(
                "failed to connect to Docker at {host} (is the Docker daemon running?): {}",
                daemon_message(&e)
            )
        })?;
        Ok(Docker { api })
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
