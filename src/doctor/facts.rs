//! The thin gatherer behind `kind doctor`: the environment, the endpoint,
//! `docker info`, and — when the daemon is on this machine — /proc, /sys
//! and the free space of the Docker root directory.

use std::time::Duration;

use super::{checks, first_failure, Disk, Facts, LocalFacts};
use crate::provider::endpoint::{self, Endpoint};
use crate::provider::{Docker, HostInfo};

/// Doctor's bound on the daemon's first answer: a dead or hung daemon must
/// be reported in under 2 s.
const DOCTOR_PING: Duration = Duration::from_millis(1500);

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// Everything `kind doctor` checks. Never fails: what cannot be learnt is
/// recorded as the reason.
pub async fn gather() -> Facts {
    let endpoint = endpoint::resolve(&|k: &str| std::env::var(k).ok());
    let daemon = match &endpoint {
        Err(e) => Err(e.to_string()),
        Ok(ep) => match tokio::time::timeout(Duration::from_secs(10), connect_and_info(ep.clone()))
            .await
        {
            Ok(r) => r,
            Err(_) => Err(format!(
                "the Docker daemon at {ep} did not answer `docker info` within 10 s"
            )),
        },
    };
    let local = match (&endpoint, &daemon) {
        (Ok(ep), Ok(info)) => gather_local(ep, info),
        (Ok(ep), Err(_)) => gather_local(ep, &HostInfo::default()),
        _ => None,
    };
    Facts {
        provider_env: env(endpoint::PROVIDER_ENV),
        runtime_env: env(crate::provider::runtime::RUNTIME_ENV),
        endpoint: endpoint.map_err(|e| e.to_string()),
        daemon,
        local,
    }
}

async fn connect_and_info(ep: Endpoint) -> Result<HostInfo, String> {
    let docker = Docker::connect_to(ep, DOCTOR_PING)
        .await
        .map_err(|e| e.to_string())?;
    docker.host_info().await.map_err(|e| format!("{e:#}"))
}

/// This machine's facts, when the daemon is on it (a unix socket); None for
/// a tcp:// daemon, whose host we cannot inspect.
pub fn gather_local(endpoint: &Endpoint, info: &HostInfo) -> Option<LocalFacts> {
    if !endpoint.host.starts_with("unix://") {
        return None;
    }
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let number = |p: &str| read(p).and_then(|s| s.trim().parse::<u64>().ok());
    Some(LocalFacts {
        kernel_release: read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()),
        shiftfs: std::path::Path::new("/sys/module/shiftfs").exists(),
        inotify_instances: number("/proc/sys/fs/inotify/max_user_instances"),
        inotify_watches: number("/proc/sys/fs/inotify/max_user_watches"),
        processes: process_names(),
        disk: (!info.docker_root_dir.is_empty())
            .then(|| disk_of(&info.docker_root_dir))
            .flatten(),
    })
}

/// `comm` of every process visible in /proc.
fn process_names() -> Option<Vec<String>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    Some(
        entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
            .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
            .map(|c| c.trim().to_string())
            .collect(),
    )
}

/// Free (to unprivileged users, as the kubelet counts) and total bytes.
fn disk_of(path: &str) -> Option<Disk> {
    let c_path = std::ffi::CString::new(path).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and st a valid out-pointer.
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let frsize = st.f_frsize as u64;
    Some(Disk {
        path: path.to_string(),
        available: st.f_bavail as u64 * frsize,
        total: st.f_blocks as u64 * frsize,
    })
}

/// What `create cluster` runs before anything else: the same checks on the
/// daemon it is connected to, stopping at the first failure with the same
/// message `kind doctor` prints.
pub fn preflight(docker: &Docker, info: &HostInfo) -> anyhow::Result<()> {
    let facts = Facts {
        provider_env: env(endpoint::PROVIDER_ENV),
        runtime_env: env(crate::provider::runtime::RUNTIME_ENV),
        endpoint: Ok(docker.endpoint().clone()),
        daemon: Ok(info.clone()),
        local: gather_local(docker.endpoint(), info),
    };
    match first_failure(&checks(&facts)) {
        Some(check) => anyhow::bail!("{}", check.text),
        None => Ok(()),
    }
}
