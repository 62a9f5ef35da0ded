//! Container specs for a cluster's nodes (spec §3.4–3.6): pure.
//!
//! Runc mode reproduces upstream kind's `docker run` flags exactly. Sysbox
//! mode (sysbox-kind.md §1.4) runs nodes under the Sysbox runtime and drops
//! what Sysbox supplies itself or forbids: `--privileged`, the
//! seccomp/apparmor opts, the anonymous `/var` volume, the `/lib/modules`
//! bind and `--userns=host`. It keeps the `/tmp` and `/run` tmpfs and
//! upstream's restart policy (clusters survive a Docker restart), and pins
//! the containerd snapshotter to `overlayfs` unless the host chose one.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::{
    HostInfo, RuntimeMode, LABEL_CLUSTER, LABEL_CLUSTER_CONFIG, LABEL_CONFIG_NODE,
    LABEL_NAMED_IMAGE, LABEL_ROLE, LABEL_RUNTIME_MODE, LOAD_BALANCER_IMAGE, ROLE_LOAD_BALANCER,
};
use crate::config::{Cluster, MountPropagation, ROLE_CONTROL_PLANE};
use crate::provider::inbox;

/// Port the API server listens on inside control-plane nodes and the LB.
pub const API_SERVER_CONTAINER_PORT: i32 = 6443;
pub const SNAPSHOTTER_ENV: &str = "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER";
/// Snapshotter pinned in Sysbox mode: Sysbox host-backs containerd's overlayfs
/// snapshotter directory, and the entrypoint would otherwise probe (it sees
/// a user namespace).
pub const SYSBOX_SNAPSHOTTER: &str = "overlayfs";
pub const KUBECONFIG_ENV: &str = "KUBECONFIG=/etc/kubernetes/admin.conf";
pub const DNS_SEARCH_ENV: &str = "KIND_DNS_SEARCH";
pub const LIB_MODULES_BIND: &str = "/lib/modules:/lib/modules:ro";
pub const DEV_MAPPER_BIND: &str = "/dev/mapper:/dev/mapper";
pub const FUSE_DEVICE: &str = "/dev/fuse";
pub const RESTART_POLICY: &str = "on-failure:1";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortSpec {
    pub listen_address: String,
    /// 0 = to be picked by `ports::resolve`; -1 = the runtime picks.
    pub host_port: i32,
    pub container_port: i32,
    /// Upper-case, `TCP` when unset.
    pub protocol: String,
}

/// Everything `docker run` would be asked for one container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerSpec {
    pub name: String,
    pub hostname: String,
    /// `control-plane`, `worker` or `external-load-balancer`.
    pub role: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// `KEY=VALUE`, or a bare `KEY`, which (as with `docker run -e KEY`)
    /// the daemon receives unchanged.
    pub env: Vec<String>,
    pub privileged: bool,
    pub security_opt: Vec<String>,
    /// Mount point -> options (empty = defaults).
    pub tmpfs: BTreeMap<String, String>,
    /// Anonymous volumes (`/var` in runc mode).
    pub volumes: Vec<String>,
    /// `host:container[:opts]`: the provider's own binds first
    /// (`/lib/modules`, `/dev/mapper`), then the extraMounts.
    pub binds: Vec<String>,
    pub devices: Vec<String>,
    pub ports: Vec<PortSpec>,
    /// e.g. `on-failure:1`.
    pub restart_policy: String,
    pub init: bool,
    pub cgroupns_private: bool,
    /// `--runtime`; None = Docker's default.
    pub runtime: Option<String>,
    pub network: String,
    pub sysctls: BTreeMap<String, String>,
    /// `--userns=host` when set to "host".
    pub userns_mode: Option<String>,
    /// The container's command; the load balancer's envoy bootstrap
    /// (`bash -c <script>`), None for nodes (the image's own).
    pub cmd: Option<Vec<String>>,
    pub tty: bool,
    /// Fixed addresses on `network` (see `provider::addresses`); None =
    /// Docker picks. Set by the executor, not the plan.
    pub ipv4_address: Option<String>,
    pub ipv6_address: Option<String>,
    /// `--rm`: Docker removes the container when it stops (`--ephemeral`).
    pub auto_remove: bool,
}

impl ContainerSpec {
    pub fn is_load_balancer(&self) -> bool {
        self.role == ROLE_LOAD_BALANCER
    }
}

/// The LB's command around its bootstrap script (upstream: `bash -c <script>`).
pub fn lb_command(script: &str) -> Vec<String> {
    vec!["bash".into(), "-c".into(), script.into()]
}

/// The tmpfs mounts of every Kubernetes node (kept under Sysbox: its own
/// `/run` tmpfs is only added for an `/sbin/init` entrypoint).
pub fn node_tmpfs() -> BTreeMap<String, String> {
    [
        ("/tmp".to_string(), String::new()),
        ("/run".to_string(), String::new()),
    ]
    .into()
}

/// The snapshotter variable of a node: the host's choice wins; under Sysbox
/// it is pinned to overlayfs (no /dev/fuse for fuse-overlayfs); otherwise
/// passed as `docker run -e KEY` would pass an unset KEY.
pub fn snapshotter_env(host_value: Option<&str>, sysbox: bool) -> String {
    match (host_value.filter(|v| !v.is_empty()), sysbox) {
        (Some(v), _) => format!("{SNAPSHOTTER_ENV}={v}"),
        (None, true) => format!("{SNAPSHOTTER_ENV}={SYSBOX_SNAPSHOTTER}"),
        (None, false) => SNAPSHOTTER_ENV.to_string(),
    }
}

/// Inputs of the plan that do not come from the config.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanContext {
    pub mode: RuntimeMode,
    pub host: HostInfo,
    pub network: String,
    /// Proxy variables for the nodes (already computed, spec §3.6).
    pub proxy_env: BTreeMap<String, String>,
    /// Host value of KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER, if set.
    pub snapshotter: Option<String>,
    /// Relative extraMount hostPaths are made absolute against this.
    pub cwd: PathBuf,
    /// Node image as configured -> the image the node runs instead (its
    /// Sysbox derivation); images not in it run as configured.
    pub node_images: BTreeMap<String, String>,
}

/// Node names per role in config order (spec §3.4), plus the LB's name last
/// when there is more than one control plane.
pub fn node_names(cluster: &Cluster) -> Vec<String> {
    let mut counters: BTreeMap<&str, usize> = BTreeMap::new();
    let mut next = |role: &'static str, name: &str| -> String {
        let n = counters.entry(role).or_insert(0);
        *n += 1;
        if *n == 1 {
            format!("{name}-{role}")
        } else {
            format!("{name}-{role}{n}")
        }
    };
    let mut names: Vec<String> = cluster
        .nodes
        .iter()
        .map(|node| {
            // Roles are validated before planning; anything else counts as a worker.
            let role = if node.role == ROLE_CONTROL_PLANE {
                "control-plane"
            } else {
                "worker"
            };
            next(role, &cluster.name)
        })
        .collect();
    if cluster.has_implicit_load_balancer() {
        names.push(next("external-load-balancer", &cluster.name));
    }
    names
}

/// One spec per node in config order, plus the load balancer when there is
/// more than one control plane. Names per spec §3.4.
pub fn plan_cluster(cluster: &Cluster, ctx: &PlanContext) -> Vec<ContainerSpec> {
    let names = node_names(cluster);
    let has_lb = cluster.has_implicit_load_balancer();
    let ipv6_only = cluster.networking.ip_family == "ipv6";
    let mut specs: Vec<ContainerSpec> = cluster
        .nodes
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(index, (node, name))| {
            let image = ctx.node_images.get(&node.image).unwrap_or(&node.image);
            let mut s = common_spec(cluster, ctx, name, &node.role, image);
            if *image != node.image {
                s.labels
                    .insert(LABEL_NAMED_IMAGE.to_string(), node.image.clone());
            }
            s.labels
                .insert(LABEL_CONFIG_NODE.to_string(), index.to_string());
            let sysbox = matches!(ctx.mode, RuntimeMode::Sysbox { .. });
            if !sysbox {
                s.privileged = true;
                s.security_opt = vec!["seccomp=unconfined".into(), "apparmor=unconfined".into()];
                s.volumes = vec!["/var".into()];
                s.binds.insert(0, LIB_MODULES_BIND.into());
            }
            // The images inbox (see `inbox`): after the provider's own
            // binds, before the extraMounts.
            s.binds.push(inbox::bind(&cluster.name));
            s.labels
                .insert(inbox::LABEL_INBOX.to_string(), inbox::INBOX_DIR.to_string());
            s.tmpfs = node_tmpfs();
            s.env
                .insert(0, snapshotter_env(ctx.snapshotter.as_deref(), sysbox));
            s.binds.extend(node.extra_mounts.iter().map(|m| {
                let host = absolute(&ctx.cwd, &m.host_path);
                let mut opts = Vec::new();
                if m.read_only {
                    opts.push("ro");
                }
                if m.selinux_relabel {
                    opts.push("Z");
                }
                match m.propagation {
                    MountPropagation::Bidirectional => opts.push("rshared"),
                    MountPropagation::HostToContainer => opts.push("rslave"),
                    MountPropagation::None => {}
                }
                if opts.is_empty() {
                    format!("{host}:{}", m.container_path)
                } else {
                    format!("{host}:{}:{}", m.container_path, opts.join(","))
                }
            }));
            s.ports = node
                .extra_port_mappings
                .iter()
                .map(|p| PortSpec {
                    listen_address: if p.listen_address.is_empty() {
                        (if ipv6_only { "::" } else { "0.0.0.0" }).to_string()
                    } else {
                        p.listen_address.clone()
                    },
                    host_port: p.host_port,
                    container_port: p.container_port,
                    protocol: if p.protocol.is_empty() {
                        "TCP".into()
                    } else {
                        p.protocol.to_uppercase()
                    },
                })
                .collect();
            if node.role == ROLE_CONTROL_PLANE {
                s.ports.push(if has_lb {
                    // Behind the LB each control plane gets a loopback random port.
                    PortSpec {
                        listen_address: (if ipv6_only { "::1" } else { "127.0.0.1" }).into(),
                        host_port: 0,
                        container_port: API_SERVER_CONTAINER_PORT,
                        protocol: "TCP".into(),
                    }
                } else {
                    api_server_port(cluster)
                });
                s.env.push(KUBECONFIG_ENV.into());
            }
            s
        })
        .collect();
    if has_lb {
        let name = names.last().expect("LB name is planned");
        let mut lb = common_spec(cluster, ctx, name, ROLE_LOAD_BALANCER, LOAD_BALANCER_IMAGE);
        if matches!(ctx.mode, RuntimeMode::Runc) {
            // Upstream runs the LB under Docker's default runtime.
            lb.runtime = None;
        }
        lb.ports = vec![api_server_port(cluster)];
        lb.cmd = Some(lb_command(&crate::kubeadm::envoy::bootstrap_script(
            &cluster.name,
            name,
        )));
        specs.push(lb);
    }
    let record = crate::config::encode(&stored_config(cluster, &ctx.cwd));
    for s in &mut specs {
        s.labels
            .insert(LABEL_CLUSTER_CONFIG.to_string(), record.clone());
    }
    specs
}

/// The configured API server mapping (single control plane, or the LB).
fn api_server_port(cluster: &Cluster) -> PortSpec {
    let n = &cluster.networking;
    let address = if n.api_server_address.is_empty() {
        (if n.ip_family == "ipv6" {
            "::1"
        } else {
            "127.0.0.1"
        })
        .to_string()
    } else {
        n.api_server_address.clone()
    };
    PortSpec {
        listen_address: address,
        host_port: n.api_server_port,
        container_port: API_SERVER_CONTAINER_PORT,
        protocol: "TCP".into(),
    }
}

/// The config as kept with the cluster (LABEL_CLUSTER_CONFIG): the
/// effective one with extraMount host paths made absolute, so a later
/// command run from another directory mounts what `create` mounted.
pub fn stored_config(cluster: &Cluster, cwd: &Path) -> Cluster {
    let mut stored = cluster.clone();
    for node in &mut stored.nodes {
        for m in &mut node.extra_mounts {
            m.host_path = absolute(cwd, &m.host_path);
        }
    }
    stored
}

/// What every container gets (upstream's "common args") plus name, role,
/// image, labels and runtime.
fn common_spec(
    cluster: &Cluster,
    ctx: &PlanContext,
    name: &str,
    role: &str,
    image: &str,
) -> ContainerSpec {
    let mut s = ContainerSpec {
        name: name.into(),
        hostname: name.into(),
        role: role.into(),
        image: image.into(),
        labels: [
            (LABEL_CLUSTER.to_string(), cluster.name.clone()),
            (LABEL_ROLE.to_string(), role.to_string()),
            (LABEL_RUNTIME_MODE.to_string(), ctx.mode.label().to_string()),
        ]
        .into(),
        restart_policy: RESTART_POLICY.into(),
        init: false,
        cgroupns_private: true,
        network: ctx.network.clone(),
        tty: true,
        ..Default::default()
    };
    s.runtime = match &ctx.mode {
        RuntimeMode::Sysbox { runtime } => Some(runtime.clone()),
        // Upstream relies on Docker's default being runc; when the default
        // is Sysbox, name runc so runc mode really means privileged runc.
        RuntimeMode::Runc
            if ctx.host.default_runtime_is_sysbox() && ctx.host.runtimes.contains_key("runc") =>
        {
            Some("runc".into())
        }
        RuntimeMode::Runc => None,
    };
    if cluster.has_ipv6() {
        s.sysctls = [
            (
                "net.ipv6.conf.all.disable_ipv6".to_string(),
                "0".to_string(),
            ),
            ("net.ipv6.conf.all.forwarding".to_string(), "1".to_string()),
        ]
        .into();
    }
    s.env
        .extend(ctx.proxy_env.iter().map(|(k, v)| format!("{k}={v}")));
    let sysbox = matches!(ctx.mode, RuntimeMode::Sysbox { .. });
    // Sysbox forbids --userns=host; its nodes always get their own userns.
    if ctx.host.userns_remap && !sysbox {
        s.userns_mode = Some("host".into());
    }
    if !ctx.host.rootless && needs_dev_mapper(&ctx.host) {
        s.binds.push(DEV_MAPPER_BIND.into());
    }
    if ctx.host.rootless {
        s.devices.push(FUSE_DEVICE.into());
    }
    if let Some(domains) = &cluster.networking.dns_search {
        s.env
            .push(format!("{DNS_SEARCH_ENV}={}", domains.join(" ")));
    }
    s
}

fn needs_dev_mapper(host: &HostInfo) -> bool {
    ["btrfs", "zfs", "devicemapper"].contains(&host.storage_driver.as_str())
        || ["btrfs", "zfs", "xfs"].contains(&host.backing_filesystem.as_str())
}

/// `cwd`-relative paths made absolute and lexically cleaned (as Go's
/// filepath.Abs); absolute paths are kept as written.
fn absolute(cwd: &Path, path: &str) -> String {
    if Path::new(path).is_absolute() {
        return path.to_string();
    }
    let mut out = PathBuf::new();
    for c in cwd.join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

/// `host:port`, bracketing IPv6 hosts (Go's net.JoinHostPort).
pub fn join_host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `--publish=` value: `<addr:hostPort>:<containerPort>/<PROTO>`; -1 => 0.
pub fn publish_arg(p: &PortSpec) -> String {
    let host_port = if p.host_port < 0 { 0 } else { p.host_port };
    format!(
        "{}:{}/{}",
        join_host_port(&p.listen_address, host_port),
        p.container_port,
        p.protocol
    )
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map_or(e, |(k, _)| k)
}

/// The arguments of the equivalent `docker run` (after `run`), in upstream
/// kind's order: node-specific flags, common flags, extra mounts, port
/// mappings, `KUBECONFIG`, image, command. Our runtime-mode label follows
/// the role label and `--runtime` precedes `--privileged`'s place. Used in
/// error messages and to compare plans with upstream's command lines.
pub fn docker_run_args(spec: &ContainerSpec) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let push = |a: &mut Vec<String>, items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
    push(&mut a, &["--name", &spec.name]);
    if !spec.hostname.is_empty() {
        push(&mut a, &["--hostname", &spec.hostname]);
    }
    for key in [LABEL_ROLE, LABEL_RUNTIME_MODE] {
        if let Some(v) = spec.labels.get(key) {
            push(&mut a, &["--label", &format!("{key}={v}")]);
        }
    }
    for (k, v) in &spec.labels {
        // The stored config and index are bookkeeping upstream has no
        // counterpart for; the YAML would swamp the command in messages.
        if ![
            LABEL_CLUSTER,
            LABEL_ROLE,
            LABEL_RUNTIME_MODE,
            LABEL_CLUSTER_CONFIG,
            LABEL_CONFIG_NODE,
        ]
        .contains(&k.as_str())
        {
            push(&mut a, &["--label", &format!("{k}={v}")]);
        }
    }
    if let Some(r) = &spec.runtime {
        a.push(format!("--runtime={r}"));
    }
    if spec.privileged {
        a.push("--privileged".into());
    }
    for o in &spec.security_opt {
        push(&mut a, &["--security-opt", o]);
    }
    // Upstream's order: /tmp then /run.
    let mut tmpfs: Vec<(&String, &String)> = spec.tmpfs.iter().collect();
    tmpfs.sort_by_key(|(p, _)| match p.as_str() {
        "/tmp" => 0,
        "/run" => 1,
        _ => 2,
    });
    for (path, opts) in tmpfs {
        let v = if opts.is_empty() {
            path.clone()
        } else {
            format!("{path}:{opts}")
        };
        push(&mut a, &["--tmpfs", &v]);
    }
    for v in &spec.volumes {
        push(&mut a, &["--volume", v]);
    }
    for b in spec.binds.iter().filter(|b| *b == LIB_MODULES_BIND) {
        push(&mut a, &["--volume", b]);
    }
    for e in spec.env.iter().filter(|e| env_key(e) == SNAPSHOTTER_ENV) {
        push(&mut a, &["-e", e]);
    }
    // Common args.
    a.push("--detach".into());
    if spec.tty {
        a.push("--tty".into());
    }
    if let Some(c) = spec.labels.get(LABEL_CLUSTER) {
        push(&mut a, &["--label", &format!("{LABEL_CLUSTER}={c}")]);
    }
    push(&mut a, &["--net", &spec.network]);
    if let Some(ip) = &spec.ipv4_address {
        a.push(format!("--ip={ip}"));
    }
    if let Some(ip) = &spec.ipv6_address {
        a.push(format!("--ip6={ip}"));
    }
    if !spec.restart_policy.is_empty() {
        a.push(format!("--restart={}", spec.restart_policy));
    }
    if spec.auto_remove {
        a.push("--rm".into());
    }
    a.push(format!("--init={}", spec.init));
    if spec.cgroupns_private {
        a.push("--cgroupns=private".into());
    }
    for (k, v) in &spec.sysctls {
        a.push(format!("--sysctl={k}={v}"));
    }
    let late_env = [SNAPSHOTTER_ENV, DNS_SEARCH_ENV, "KUBECONFIG"];
    for e in spec.env.iter().filter(|e| !late_env.contains(&env_key(e))) {
        push(&mut a, &["-e", e]);
    }
    if let Some(u) = &spec.userns_mode {
        a.push(format!("--userns={u}"));
    }
    for b in spec.binds.iter().filter(|b| *b == DEV_MAPPER_BIND) {
        push(&mut a, &["--volume", b]);
    }
    for d in &spec.devices {
        push(&mut a, &["--device", d]);
    }
    for e in spec.env.iter().filter(|e| env_key(e) == DNS_SEARCH_ENV) {
        push(&mut a, &["-e", e]);
    }
    for b in spec
        .binds
        .iter()
        .filter(|b| *b != LIB_MODULES_BIND && *b != DEV_MAPPER_BIND)
    {
        a.push(format!("--volume={b}"));
    }
    for p in &spec.ports {
        a.push(format!("--publish={}", publish_arg(p)));
    }
    for e in spec.env.iter().filter(|e| env_key(e) == "KUBECONFIG") {
        push(&mut a, &["-e", e]);
    }
    a.push(spec.image.clone());
    if let Some(cmd) = &spec.cmd {
        a.extend(cmd.iter().cloned());
    }
    a
}

#[cfg(test)]
mod tests;
