//! Which OCI runtime nodes run under. Sysbox mode is the default; plain runc
//! (privileged, exactly upstream kind) only via KIND_EXPERIMENTAL_RUNTIME=runc.

use std::collections::BTreeMap;
use std::path::Path;

/// The environment variable that picks the runtime mode.
pub const RUNTIME_ENV: &str = "KIND_EXPERIMENTAL_RUNTIME";
/// The name Sysbox's installer registers its runtime under.
pub const SYSBOX_RUNTIME: &str = "sysbox-runc";

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
    /// The engine host's architecture (`x86_64`, `aarch64`, …), if reported.
    pub architecture: String,
    /// The engine's version (`ServerVersion`).
    pub server_version: String,
    /// The daemon host's kernel release (`KernelVersion`).
    pub kernel_version: String,
    /// Where the daemon keeps images and containers (`DockerRootDir`).
    pub docker_root_dir: String,
}

impl HostInfo {
    /// The name of the registered Sysbox runtime: one literally named
    /// `sysbox-runc`, else the first (by name) whose binary is `sysbox-runc`.
    pub fn sysbox_runtime(&self) -> Option<&str> {
        if self.runtimes.contains_key(SYSBOX_RUNTIME) {
            return Some(SYSBOX_RUNTIME);
        }
        self.runtimes
            .iter()
            .find(|(_, path)| is_sysbox_path(path))
            .map(|(name, _)| name.as_str())
    }

    /// Docker's default runtime is a Sysbox one (then runc mode must name
    /// `runc` explicitly to get upstream's privileged runc nodes).
    pub fn default_runtime_is_sysbox(&self) -> bool {
        self.default_runtime == SYSBOX_RUNTIME
            || self
                .runtimes
                .get(&self.default_runtime)
                .is_some_and(|p| is_sysbox_path(p))
    }
}

/// Whether a runtime binary is Sysbox's (its file name is `sysbox-runc`).
pub fn is_sysbox_path(path: &str) -> bool {
    Path::new(path)
        .file_name()
        .is_some_and(|f| f == SYSBOX_RUNTIME)
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

/// Why no runtime mode could be chosen. Display is the user-facing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    #[error("unknown value \"{0}\" for KIND_EXPERIMENTAL_RUNTIME: accepted values are \"sysbox-runc\" (the default: nodes are unprivileged Sysbox system containers) and \"runc\" (privileged nodes exactly like upstream kind)")]
    InvalidEnv(String),
    #[error("Sysbox is not registered with Docker: no runtime named \"sysbox-runc\" (or whose path ends in sysbox-runc) appears in `docker info`. Install Sysbox >= 0.7.0 (the sysbox-ce package from https://github.com/nestybox/sysbox/releases); its installer registers \"sysbox-runc\" in /etc/docker/daemon.json and restarts/reloads Docker. Alternatively set KIND_EXPERIMENTAL_RUNTIME=runc to create privileged nodes exactly like upstream kind")]
    SysboxNotRegistered,
    #[error("Sysbox needs a rootful (root) Docker daemon, but this Docker daemon is rootless. Use a Docker daemon running as root with Sysbox >= 0.7.0 installed, or set KIND_EXPERIMENTAL_RUNTIME=runc to create nodes exactly like upstream kind")]
    RootlessDaemon,
}

/// Logged (by the CLI) whenever runc mode is selected.
pub const RUNC_MODE_WARNING: &str = "WARNING: KIND_EXPERIMENTAL_RUNTIME=runc: nodes are privileged runc containers exactly like upstream kind, without Sysbox isolation";

/// The warning to log for a selected mode, if any.
pub fn runtime_env_warning(mode: &RuntimeMode) -> Option<&'static str> {
    match mode {
        RuntimeMode::Runc => Some(RUNC_MODE_WARNING),
        RuntimeMode::Sysbox { .. } => None,
    }
}

/// Choose the runtime mode from `docker info` and KIND_EXPERIMENTAL_RUNTIME
/// (empty counts as unset). Errors when no Sysbox runtime is registered, or
/// the daemon is rootless, in Sysbox mode.
pub fn select_runtime(
    info: &HostInfo,
    env_runtime: Option<&str>,
) -> Result<RuntimeMode, RuntimeError> {
    match env_runtime.unwrap_or("") {
        "runc" => Ok(RuntimeMode::Runc),
        "" | SYSBOX_RUNTIME => {
            let runtime = info
                .sysbox_runtime()
                .ok_or(RuntimeError::SysboxNotRegistered)?;
            // Sysbox itself refuses rootless Docker; say so before creating anything.
            if info.rootless {
                return Err(RuntimeError::RootlessDaemon);
            }
            Ok(RuntimeMode::Sysbox {
                runtime: runtime.to_string(),
            })
        }
        other => Err(RuntimeError::InvalidEnv(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(runtimes: &[(&str, &str)], default: &str, rootless: bool) -> HostInfo {
        HostInfo {
            runtimes: runtimes
                .iter()
                .map(|(n, p)| (n.to_string(), p.to_string()))
                .collect(),
            default_runtime: default.to_string(),
            rootless,
            ..Default::default()
        }
    }

    fn sysbox(name: &str) -> Result<RuntimeMode, RuntimeError> {
        Ok(RuntimeMode::Sysbox {
            runtime: name.to_string(),
        })
    }

    #[test]
    fn selection_table() {
        let runc_only = host(
            &[("runc", "runc"), ("io.containerd.runc.v2", "runc")],
            "runc",
            false,
        );
        let with_sysbox = host(
            &[("runc", "runc"), ("sysbox-runc", "/usr/bin/sysbox-runc")],
            "runc",
            false,
        );
        let renamed = host(
            &[
                ("runc", "runc"),
                ("zz-sysbox", "/usr/local/bin/sysbox-runc"),
            ],
            "runc",
            false,
        );
        // Named sysbox-runc wins even if its path is something else (our CI stand-in).
        let stand_in = host(
            &[
                ("runc", "runc"),
                ("sysbox-runc", "/usr/sbin/runc"),
                ("a", "/opt/sysbox-runc"),
            ],
            "runc",
            false,
        );
        let not_basename = host(
            &[("runc", "runc"), ("x", "/usr/bin/not-sysbox-runc")],
            "runc",
            false,
        );
        let rootless = host(&[("sysbox-runc", "/usr/bin/sysbox-runc")], "runc", true);
        type Case<'a> = (
            &'a str,
            &'a HostInfo,
            Option<&'a str>,
            Result<RuntimeMode, RuntimeError>,
        );
        let cases: Vec<Case> = vec![
            (
                "unset, sysbox registered",
                &with_sysbox,
                None,
                sysbox("sysbox-runc"),
            ),
            (
                "empty counts as unset",
                &with_sysbox,
                Some(""),
                sysbox("sysbox-runc"),
            ),
            (
                "explicit sysbox-runc",
                &with_sysbox,
                Some("sysbox-runc"),
                sysbox("sysbox-runc"),
            ),
            (
                "found by path basename",
                &renamed,
                None,
                sysbox("zz-sysbox"),
            ),
            ("name beats path", &stand_in, None, sysbox("sysbox-runc")),
            (
                "suffix that is not the basename",
                &not_basename,
                None,
                Err(RuntimeError::SysboxNotRegistered),
            ),
            (
                "not registered",
                &runc_only,
                None,
                Err(RuntimeError::SysboxNotRegistered),
            ),
            (
                "explicit but not registered",
                &runc_only,
                Some("sysbox-runc"),
                Err(RuntimeError::SysboxNotRegistered),
            ),
            (
                "runc needs nothing",
                &runc_only,
                Some("runc"),
                Ok(RuntimeMode::Runc),
            ),
            (
                "runc with sysbox present",
                &with_sysbox,
                Some("runc"),
                Ok(RuntimeMode::Runc),
            ),
            (
                "runc on rootless is upstream's business",
                &rootless,
                Some("runc"),
                Ok(RuntimeMode::Runc),
            ),
            (
                "rootless refused in sysbox mode",
                &rootless,
                None,
                Err(RuntimeError::RootlessDaemon),
            ),
            (
                "unknown value",
                &with_sysbox,
                Some("crun"),
                Err(RuntimeError::InvalidEnv("crun".into())),
            ),
            (
                "case matters",
                &with_sysbox,
                Some("RUNC"),
                Err(RuntimeError::InvalidEnv("RUNC".into())),
            ),
        ];
        for (what, info, env, want) in cases {
            assert_eq!(select_runtime(info, env), want, "{what}");
        }
    }

    #[test]
    fn messages_tell_what_to_do() {
        let e = RuntimeError::SysboxNotRegistered.to_string();
        for needle in [
            "Sysbox is not registered with Docker",
            "0.7.0",
            "nestybox",
            "/etc/docker/daemon.json",
            "KIND_EXPERIMENTAL_RUNTIME=runc",
        ] {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
        let e = RuntimeError::RootlessDaemon.to_string();
        assert!(e.contains("rootful (root) Docker daemon"), "{e}");
        let e = RuntimeError::InvalidEnv("x".into()).to_string();
        assert!(
            e.starts_with("unknown value \"x\" for KIND_EXPERIMENTAL_RUNTIME")
                && e.contains("\"sysbox-runc\"")
                && e.contains("\"runc\""),
            "{e}"
        );
        assert_eq!(
            runtime_env_warning(&RuntimeMode::Runc),
            Some(RUNC_MODE_WARNING)
        );
        assert_eq!(
            runtime_env_warning(&RuntimeMode::Sysbox {
                runtime: "sysbox-runc".into()
            }),
            None
        );
    }

    #[test]
    fn default_runtime_detection() {
        assert!(host(
            &[("sysbox-runc", "/usr/bin/sysbox-runc")],
            "sysbox-runc",
            false
        )
        .default_runtime_is_sysbox());
        assert!(host(&[("sb", "/usr/bin/sysbox-runc")], "sb", false).default_runtime_is_sysbox());
        assert!(!host(
            &[("runc", "runc"), ("sysbox-runc", "/usr/bin/sysbox-runc")],
            "runc",
            false
        )
        .default_runtime_is_sysbox());
    }
}
