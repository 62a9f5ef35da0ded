//! `kind doctor`: can this host run Sysbox nodes? Pure checks turn gathered
//! facts (`facts`) into report lines, each ok / warn / fail with what to do.
//! `create cluster` runs the same checks first (`preflight`) and stops at
//! the first failure with the same message.

pub mod facts;

use std::fmt;

use crate::provider::endpoint::{self, Endpoint};
use crate::provider::runtime::{is_sysbox_path, RuntimeError};
use crate::provider::HostInfo;

pub use facts::{gather, gather_local, preflight};

/// kind's kubelet configuration sets every hard eviction threshold
/// (`nodefs.available`, `imagefs.available`, `nodefs.inodesFree`) to 0%, so a
/// fuller disk never evicts pods; what fails is running out: a node image
/// (about 1 GiB) and each node's writable layer must fit.
const DISK_FAIL_BYTES: u64 = 2 << 30;
/// Below this, a larger cluster or a few loaded images will not fit.
const DISK_WARN_BYTES: u64 = 10 << 30;
/// inotify limits kind's known-issues page asks for: each node runs
/// systemd, kubelet and containerd watchers from the host's per-user pool.
const INOTIFY_INSTANCES: u64 = 512;
const INOTIFY_WATCHES: u64 = 524_288;
/// The first kernel with ID-mapped mounts, which Sysbox uses to map node
/// root filesystems into their user namespace.
const IDMAP_KERNEL: (u32, u32) = (5, 12);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One report line: what was checked and what was found (and, unless ok,
/// what to do about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub level: Level,
    pub name: &'static str,
    pub text: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
        };
        write!(f, "{level:<5} {}: {}", self.name, self.text)
    }
}

/// Everything the checks look at. Gathered by `facts`; built by hand in tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// KIND_EXPERIMENTAL_PROVIDER, KIND_EXPERIMENTAL_RUNTIME (empty = unset).
    pub provider_env: Option<String>,
    pub runtime_env: Option<String>,
    /// The resolved endpoint, or why it could not be resolved.
    pub endpoint: Result<Endpoint, String>,
    /// `docker info`, or why the daemon could not be reached.
    pub daemon: Result<HostInfo, String>,
    /// What can be read on this machine when the daemon runs on it.
    pub local: Option<LocalFacts>,
}

/// Facts read from this machine (meaningful when the daemon is local).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalFacts {
    /// `/proc/sys/kernel/osrelease`.
    pub kernel_release: Option<String>,
    /// The shiftfs module is loaded.
    pub shiftfs: bool,
    /// fs.inotify.max_user_instances / max_user_watches.
    pub inotify_instances: Option<u64>,
    pub inotify_watches: Option<u64>,
    /// Command names of visible processes; None when /proc is unreadable.
    pub processes: Option<Vec<String>>,
    /// Free and total bytes of the filesystem holding the Docker root dir.
    pub disk: Option<Disk>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Disk {
    pub path: String,
    pub available: u64,
    pub total: u64,
}

/// All checks, in report order. Daemon checks appear only when the daemon
/// answered.
pub fn checks(facts: &Facts) -> Vec<Check> {
    let mut out = vec![provider_check(facts), runtime_env_check(facts)];
    let sysbox_mode = !matches!(facts.runtime_env.as_deref(), Some("runc"));
    match &facts.endpoint {
        Err(e) => {
            out.push(fail("Docker endpoint", e.clone()));
            return out;
        }
        Ok(ep) => out.push(ok("Docker endpoint", ep.to_string())),
    }
    let info = match &facts.daemon {
        Err(e) => {
            out.push(fail("Docker daemon", e.clone()));
            return out;
        }
        Ok(info) => {
            out.push(ok(
                "Docker daemon",
                format!(
                    "reachable, Docker Engine {}",
                    or_unknown(&info.server_version)
                ),
            ));
            info
        }
    };
    out.push(sysbox_runtime_check(info, sysbox_mode));
    out.push(default_runtime_check(info));
    out.push(services_check(info, facts.local.as_ref(), sysbox_mode));
    out.push(installation_check(info, sysbox_mode));
    out.push(kernel_check(info, facts.local.as_ref(), sysbox_mode));
    out.push(cgroup_check(info));
    out.push(inotify_check(facts.local.as_ref()));
    out.push(disk_check(facts.local.as_ref()));
    out
}

/// `kind doctor`: print every check to stdout; fail when any check fails.
pub async fn run() -> anyhow::Result<()> {
    let report = checks(&gather().await);
    for check in &report {
        crate::cli::out(format!("{check}\n"));
    }
    let failed = report.iter().filter(|c| c.level == Level::Fail).count();
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} checks failed: this host cannot create kind-sysbox clusters as it is",
            report.len()
        );
    }
    Ok(())
}

/// The first failure, as `create cluster` reports it.
pub fn first_failure(checks: &[Check]) -> Option<&Check> {
    checks.iter().find(|c| c.level == Level::Fail)
}

fn ok(name: &'static str, text: impl Into<String>) -> Check {
    Check {
        level: Level::Ok,
        name,
        text: text.into(),
    }
}

fn warn(name: &'static str, text: impl Into<String>) -> Check {
    Check {
        level: Level::Warn,
        name,
        text: text.into(),
    }
}

fn fail(name: &'static str, text: impl Into<String>) -> Check {
    Check {
        level: Level::Fail,
        name,
        text: text.into(),
    }
}

fn or_unknown(s: &str) -> &str {
    if s.is_empty() {
        "(version unknown)"
    } else {
        s
    }
}

fn provider_check(facts: &Facts) -> Check {
    match endpoint::select_provider(facts.provider_env.as_deref()) {
        Ok(None) => ok("node provider", "docker"),
        Ok(Some(_)) => ok(
            "node provider",
            "docker (KIND_EXPERIMENTAL_PROVIDER=docker)",
        ),
        Err(e) => fail("node provider", e.to_string()),
    }
}

fn runtime_env_check(facts: &Facts) -> Check {
    match facts.runtime_env.as_deref() {
        None | Some("") | Some("sysbox-runc") => ok(
            "runtime mode",
            "sysbox: nodes are unprivileged Sysbox system containers",
        ),
        Some("runc") => warn(
            "runtime mode",
            "runc (KIND_EXPERIMENTAL_RUNTIME=runc): nodes are privileged runc containers exactly like upstream kind, without Sysbox isolation",
        ),
        Some(other) => fail(
            "runtime mode",
            RuntimeError::InvalidEnv(other.to_string()).to_string(),
        ),
    }
}

fn sysbox_runtime_check(info: &HostInfo, sysbox_mode: bool) -> Check {
    const NAME: &str = "Sysbox runtime";
    let Some(name) = info.sysbox_runtime() else {
        return if sysbox_mode {
            fail(NAME, RuntimeError::SysboxNotRegistered.to_string())
        } else {
            ok(NAME, "none registered (not needed in runc mode)")
        };
    };
    let path = info.runtimes.get(name).map(String::as_str).unwrap_or("");
    if !sysbox_mode {
        return ok(
            NAME,
            format!(
                "{name:?} registered, binary {} (not used in runc mode)",
                or_unknown(path)
            ),
        );
    }
    if is_sysbox_path(path) {
        ok(NAME, format!("{name:?} registered, binary {path}"))
    } else {
        warn(
            NAME,
            format!(
                "{name:?} is registered but its binary is {}, not Sysbox's sysbox-runc: nodes will run under plain runc, not user-namespaced (a stand-in for Sysbox, as on test machines). Install Sysbox >= 0.7.0 (sysbox-ce from https://github.com/nestybox/sysbox/releases) so that {name:?} points to its sysbox-runc",
                or_unknown(path)
            ),
        )
    }
}

fn default_runtime_check(info: &HostInfo) -> Check {
    const NAME: &str = "default runtime";
    let default = or_unknown(&info.default_runtime);
    if info.default_runtime_is_sysbox() {
        ok(
            NAME,
            format!("{default} (Sysbox is Docker's default; runc mode still names runc per node)"),
        )
    } else {
        ok(
            NAME,
            format!("{default} (not Sysbox; kind-sysbox names the Sysbox runtime for each node, so this is fine)"),
        )
    }
}

/// sysbox-mgr and sysbox-fs must run for sysbox-runc to start anything.
fn services_check(info: &HostInfo, local: Option<&LocalFacts>, sysbox_mode: bool) -> Check {
    const NAME: &str = "Sysbox services";
    let real_sysbox = info
        .sysbox_runtime()
        .and_then(|n| info.runtimes.get(n))
        .is_some_and(|p| is_sysbox_path(p));
    let processes = local.and_then(|l| l.processes.as_ref());
    let Some(processes) = processes.filter(|p| p.iter().any(|c| c == "dockerd")) else {
        return warn(
            NAME,
            "not checked: the Docker daemon's processes are not visible from here (remote daemon or another PID namespace)",
        );
    };
    let missing: Vec<&str> = ["sysbox-mgr", "sysbox-fs"]
        .into_iter()
        .filter(|s| !processes.iter().any(|c| c == s))
        .collect();
    if missing.is_empty() {
        return ok(NAME, "sysbox-mgr and sysbox-fs are running");
    }
    let list = missing.join(" and ");
    if real_sysbox && sysbox_mode {
        fail(
            NAME,
            format!("{list} not running: sysbox-runc cannot start nodes without them. Start Sysbox: `sudo systemctl start sysbox` (or check `systemctl status sysbox-mgr sysbox-fs`)"),
        )
    } else if sysbox_mode {
        warn(
            NAME,
            format!(
                "{list} not running (the registered runtime is not Sysbox, so nothing uses them)"
            ),
        )
    } else {
        ok(
            NAME,
            format!("{list} not running (not needed in runc mode)"),
        )
    }
}

/// Rootless and snap-installed Docker cannot run Sysbox.
fn installation_check(info: &HostInfo, sysbox_mode: bool) -> Check {
    const NAME: &str = "Docker installation";
    let snap = info.docker_root_dir.starts_with("/var/snap/docker");
    if info.rootless {
        return if sysbox_mode {
            fail(NAME, RuntimeError::RootlessDaemon.to_string())
        } else {
            ok(
                NAME,
                "rootless (runc mode: upstream kind's rootless rules apply)",
            )
        };
    }
    if snap {
        let text = format!("Docker is the snap package (data in {}): Sysbox does not work with snap-confined Docker. Install Docker from Docker's own packages (https://docs.docker.com/engine/install/) and Sysbox on top", info.docker_root_dir);
        return if sysbox_mode {
            fail(NAME, text)
        } else {
            warn(NAME, text)
        };
    }
    ok(NAME, "rootful, not a snap")
}

/// `major.minor` of a kernel release such as `6.8.0-45-generic`.
pub fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn kernel_check(info: &HostInfo, local: Option<&LocalFacts>, sysbox_mode: bool) -> Check {
    const NAME: &str = "kernel";
    let release = if info.kernel_version.is_empty() {
        local
            .and_then(|l| l.kernel_release.clone())
            .unwrap_or_default()
    } else {
        info.kernel_version.clone()
    };
    let shiftfs = local.is_some_and(|l| l.shiftfs);
    match kernel_version(&release) {
        Some(v) if v >= IDMAP_KERNEL => ok(
            NAME,
            format!("{release}: ID-mapped mounts available (>= 5.12)"),
        ),
        Some(_) if shiftfs => ok(NAME, format!("{release}: older than 5.12, shiftfs loaded")),
        Some(_) if !sysbox_mode => ok(NAME, format!("{release} (runc mode needs no ID-mapped mounts)")),
        Some(_) => warn(
            NAME,
            format!("{release}: older than 5.12 (no ID-mapped mounts) and shiftfs is not loaded: Sysbox must copy and chown each node's root filesystem, which is slow and uses disk. Use a kernel >= 5.12 (or load shiftfs)"),
        ),
        None => warn(
            NAME,
            format!("cannot tell the kernel version from {:?}: Sysbox needs >= 5.12 for ID-mapped mounts (or shiftfs)", release),
        ),
    }
}

fn cgroup_check(info: &HostInfo) -> Check {
    if info.cgroup2 {
        ok("cgroups", "v2")
    } else {
        warn(
            "cgroups",
            "v1: cgroup v1 is deprecated in Kubernetes and will not be supported in a future kind release, please upgrade to cgroup v2",
        )
    }
}

fn inotify_check(local: Option<&LocalFacts>) -> Check {
    const NAME: &str = "inotify limits";
    let Some((Some(instances), Some(watches))) =
        local.map(|l| (l.inotify_instances, l.inotify_watches))
    else {
        return warn(NAME, "not checked: the Docker daemon is not on this machine or /proc/sys/fs/inotify is unreadable");
    };
    if instances >= INOTIFY_INSTANCES && watches >= INOTIFY_WATCHES {
        return ok(
            NAME,
            format!("max_user_instances={instances}, max_user_watches={watches}"),
        );
    }
    warn(
        NAME,
        format!("max_user_instances={instances}, max_user_watches={watches}: below {INOTIFY_INSTANCES} / {INOTIFY_WATCHES}, multi-node clusters can fail with \"too many open files\". Raise them: `sudo sysctl fs.inotify.max_user_instances={INOTIFY_INSTANCES} fs.inotify.max_user_watches={INOTIFY_WATCHES}` (and persist in /etc/sysctl.d)"),
    )
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

fn disk_check(local: Option<&LocalFacts>) -> Check {
    const NAME: &str = "disk space";
    let Some(disk) = local.and_then(|l| l.disk.as_ref()).filter(|d| d.total > 0) else {
        return warn(
            NAME,
            "not checked: the Docker root directory is not readable from here",
        );
    };
    let percent = disk.available as f64 * 100.0 / disk.total as f64;
    let summary = format!(
        "{} free of {} ({percent:.0}%) under {}",
        gib(disk.available),
        gib(disk.total),
        disk.path
    );
    if disk.available < DISK_FAIL_BYTES {
        fail(NAME, format!("{summary}: too little for a node image and its nodes' writable layers (kind's nodes run with the kubelet's disk eviction off, so a full disk fails image pulls and writes inside nodes). Free space there first"))
    } else if disk.available < DISK_WARN_BYTES {
        warn(NAME, format!("{summary}: enough for a small cluster; larger clusters or loaded images may fill it"))
    } else {
        ok(NAME, summary)
    }
}

#[cfg(test)]
mod tests;
