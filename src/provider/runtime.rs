//! Which OCI runtime nodes run under. Sysbox mode is the default; plain runc
//! (privileged, exactly upstream kind) only via KIND_EXPERIMENTAL_RUNTIME=runc.

use std::collections::BTreeMap;

/// The facts of `docker info` the provider needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostInfo {
    pub cgroup_driver: String,
    pub cgroup2: bool,
    pub memory_limit: bool,
    pub pids_limit: bool,
    pub cpu_shares: bool,
    pub rootless: bool,
    /// `name=userns` present in SecurityOptions.
    pub userns_remap: bool,
    /// Runtime name -> path.
    pub runtimes: BTreeMap<String, String>,
    pub default_runtime: String,
    /// Storage driver (`overlay2`, `btrfs`, …).
    pub storage_driver: String,
    /// `Backing Filesystem` from DriverStatus, if any.
    pub backing_filesystem: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeMode {
    /// Unprivileged Sysbox system containers under this runtime name.
    Sysbox { runtime: String },
    /// Upstream kind's privileged runc nodes.
    Runc,
}

impl RuntimeMode {
    /// Value of the LABEL_RUNTIME_MODE label.
    pub fn label(&self) -> &'static str {
        match self {
            RuntimeMode::Sysbox { .. } => "sysbox",
            RuntimeMode::Runc => "runc",
        }
    }
}

/// Choose the runtime mode from `docker info` and KIND_EXPERIMENTAL_RUNTIME.
/// Errors (user-facing text) when no Sysbox runtime is registered, or the
/// daemon is rootless, in Sysbox mode.
pub fn select_runtime(info: &HostInfo, env_runtime: Option<&str>) -> anyhow::Result<RuntimeMode> {
    todo!("{info:?}{env_runtime:?}")
}
