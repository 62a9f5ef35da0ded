//! The kubeadm config of one node: the documents of its kubeadm API band
//! (v1beta2/v1beta3/v1beta4) filled from [`ConfigData`], then the
//! cluster's and the node's patches applied (spec §4.3).

use std::collections::BTreeMap;

use anyhow::bail;
use serde_json::{json, Map, Value};

use crate::config::PatchJson6902;
use crate::patch;
use crate::version::Version;

/// Everything the kubeadm config of one node depends on (spec §4.3).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigData {
    pub cluster_name: String,
    /// Contents of `/kind/version`, e.g. `v1.36.1`.
    pub kubernetes_version: String,
    /// `<lb-or-control-plane>:6443`.
    pub control_plane_endpoint: String,
    pub api_bind_port: u16,
    pub api_server_address: String,
    /// `docker`; used in the kubelet provider-id.
    pub node_provider: String,
    pub control_plane: bool,
    /// IPv4, IPv6, or `"<a>,<b>"` for dual stack.
    pub node_address: String,
    pub node_name: String,
    pub token: String,
    pub kube_proxy_mode: String,
    pub pod_subnet: String,
    pub service_subnet: String,
    pub feature_gates: BTreeMap<String, bool>,
    pub runtime_config: BTreeMap<String, String>,
    pub ip_family: String,
    /// `k1=v1,k2=v2` (may be empty).
    pub node_labels: String,
    pub rootless: bool,
}

/// Patches at one level (cluster or node).
#[derive(Debug, Clone, Copy, Default)]
pub struct Patches<'a> {
    pub merge: &'a [String],
    pub json6902: &'a [PatchJson6902],
}

impl Patches<'_> {
    fn is_empty(&self) -> bool {
        self.merge.is_empty() && self.json6902.is_empty()
    }
}

/// kubeadm config API generations kind writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiBand {
    V1Beta2,
    V1Beta3,
    V1Beta4,
}

impl ApiBand {
    /// v1beta2 < 1.23.0 <= v1beta3 < 1.36.0 <= v1beta4; pre-releases of a
    /// version count as that version (generic comparison).
    pub fn for_version(v: &Version) -> ApiBand {
        if v.less_than(&semantic("v1.23.0")) {
            ApiBand::V1Beta2
        } else if v.less_than(&semantic("v1.36.0")) {
            ApiBand::V1Beta3
        } else {
            ApiBand::V1Beta4
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            ApiBand::V1Beta2 => "kubeadm.k8s.io/v1beta2",
            ApiBand::V1Beta3 => "kubeadm.k8s.io/v1beta3",
            ApiBand::V1Beta4 => "kubeadm.k8s.io/v1beta4",
        }
    }
}

pub(crate) fn semantic(s: &str) -> Version {
    Version::parse_semantic(s).expect("built-in version literal")
}

/// Component flags in the order kind writes them: a map before v1beta4,
/// a `[{name, value}]` list from v1beta4 on. Empty means `null`.
fn extra_args(band: ApiBand, args: &[(&str, String)]) -> Value {
    if args.is_empty() {
        return Value::Null;
    }
    if band == ApiBand::V1Beta4 {
        Value::Array(
            args.iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect(),
        )
    } else {
        Value::Object(
            args.iter()
                .map(|(n, v)| (n.to_string(), Value::String(v.clone())))
                .collect(),
        )
    }
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<_, _>>(),
    )
}

/// Raw generated config (every document still carries `metadata.name: config`).
pub fn generate(data: &ConfigData) -> anyhow::Result<String> {
    Ok(documents(data)?
        .iter()
        .map(crate::yaml::emit::marshal)
        .collect::<Vec<_>>()
        .join("---\n"))
}

/// The generated documents as JSON trees, in order.
pub fn documents(data: &ConfigData) -> anyhow::Result<Vec<Value>> {
    let ver = Version::parse_generic(&data.kubernetes_version).map_err(anyhow::Error::msg)?;

    let mut feature_gates = data.feature_gates.clone();
    if data.rootless {
        if ver.less_than(&semantic("v1.22.0")) {
            bail!(
                "version {} is not compatible with rootless provider (hint: kind v0.11.x may work with this version)",
                crate::gotext::quote(&ver.to_string())
            );
        }
        feature_gates.insert("KubeletInUserNamespace".into(), true);
    }

    let band = ApiBand::for_version(&ver);
    let api_version = band.api_version();
    let ipv6 = data.ip_family == "ipv6";
    let gates_string = feature_gates
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let runtime_config = data
        .runtime_config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    let gates_map = || {
        Value::Object(
            feature_gates
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bool(*v)))
                .collect(),
        )
    };
    let advertise_address = data
        .node_address
        .split(',')
        .next()
        .unwrap_or_default()
        .to_string();
    let cgroup_driver = if ver.less_than(&semantic("v1.24.0")) {
        "cgroupfs"
    } else {
        "systemd"
    };
    let metadata = || json!({"name": "config"});
    let has_gates = !feature_gates.is_empty();

    // ClusterConfiguration
    let mut api_server_args = vec![("runtime-config", runtime_config)];
    let mut cm_args = Vec::new();
    let mut scheduler_args = Vec::new();
    if has_gates {
        api_server_args.push(("feature-gates", gates_string.clone()));
        cm_args.push(("feature-gates", gates_string.clone()));
        scheduler_args.push(("feature-gates", gates_string.clone()));
    }
    cm_args.push(("enable-hostpath-provisioner", "true".to_string()));
    if ipv6 {
        cm_args.push(("bind-address", "::".to_string()));
        scheduler_args.push(("bind-address", "::1".to_string()));
    }
    let mut cluster = vec![
        ("apiVersion", json!(api_version)),
        ("kind", json!("ClusterConfiguration")),
        ("metadata", metadata()),
        ("kubernetesVersion", json!(data.kubernetes_version)),
        ("clusterName", json!(data.cluster_name)),
        ("controlPlaneEndpoint", json!(data.control_plane_endpoint)),
        (
            "apiServer",
            json!({
                "certSANs": ["localhost", data.api_server_address],
                "extraArgs": extra_args(band, &api_server_args),
            }),
        ),
        (
            "controllerManager",
            json!({"extraArgs": extra_args(band, &cm_args)}),
        ),
        (
            "scheduler",
            json!({"extraArgs": extra_args(band, &scheduler_args)}),
        ),
        (
            "networking",
            json!({"podSubnet": data.pod_subnet, "serviceSubnet": data.service_subnet}),
        ),
    ];
    // kubeadm 1.20 had its own dual-stack gate.
    if ver.at_least(&semantic("v1.20.0")) && ver.less_than(&semantic("v1.21.0")) {
        cluster.push(("featureGates", json!({"IPv6DualStack": true})));
    }

    // InitConfiguration / JoinConfiguration
    let kubelet_args = extra_args(
        band,
        &[
            ("node-ip", data.node_address.clone()),
            (
                "provider-id",
                format!(
                    "kind://{}/{}/{}",
                    data.node_provider, data.cluster_name, data.node_name
                ),
            ),
            ("node-labels", data.node_labels.clone()),
        ],
    );
    let node_registration = json!({
        "criSocket": "unix:///run/containerd/containerd.sock",
        "kubeletExtraArgs": kubelet_args,
    });
    let local_endpoint =
        json!({"advertiseAddress": advertise_address, "bindPort": data.api_bind_port});
    let mut init = vec![
        ("apiVersion", json!(api_version)),
        ("kind", json!("InitConfiguration")),
        ("metadata", metadata()),
        ("bootstrapTokens", json!([{"token": data.token}])),
        ("localAPIEndpoint", local_endpoint.clone()),
        ("nodeRegistration", node_registration.clone()),
    ];
    let mut join = vec![
        ("apiVersion", json!(api_version)),
        ("kind", json!("JoinConfiguration")),
        ("metadata", metadata()),
        ("nodeRegistration", node_registration),
        (
            "discovery",
            json!({"bootstrapToken": {
                "apiServerEndpoint": data.control_plane_endpoint,
                "token": data.token,
                "unsafeSkipCAVerification": true,
            }}),
        ),
    ];
    if data.control_plane {
        join.push(("controlPlane", json!({"localAPIEndpoint": local_endpoint})));
    }
    // Older kubeadm takes skipped phases as flags instead (see commands).
    if band != ApiBand::V1Beta2 {
        let mut init_skip = vec!["preflight"];
        if data.kube_proxy_mode == "none" {
            init_skip.push("addon/kube-proxy");
        }
        init.push(("skipPhases", json!(init_skip)));
        join.push(("skipPhases", json!(["preflight"])));
    }

    // KubeletConfiguration: no disk-pressure eviction or image GC, since the
    // kubelet sees the host's disk.
    let mut kubelet = vec![
        ("apiVersion", json!("kubelet.config.k8s.io/v1beta1")),
        ("kind", json!("KubeletConfiguration")),
        ("metadata", metadata()),
        ("cgroupDriver", json!(cgroup_driver)),
        ("cgroupRoot", json!("/kubelet")),
        ("failSwapOn", json!(false)),
        ("imageGCHighThresholdPercent", json!(100)),
        (
            "evictionHard",
            json!({"nodefs.available": "0%", "nodefs.inodesFree": "0%", "imagefs.available": "0%"}),
        ),
    ];
    if ipv6 {
        kubelet.push(("address", json!("::")));
        kubelet.push(("healthzBindAddress", json!("::")));
    }
    if has_gates {
        kubelet.push(("featureGates", gates_map()));
    }

    let mut docs = vec![obj(cluster), obj(init), obj(join), obj(kubelet)];

    // KubeProxyConfiguration, unless kube-proxy is disabled.
    if data.kube_proxy_mode != "none" {
        // maxPerCore 0: leave the node-global nf_conntrack_max alone.
        let mut conntrack = vec![("maxPerCore", json!(0))];
        if data.kube_proxy_mode == "nftables" && !data.rootless {
            conntrack.push(("tcpBeLiberal", json!(true)));
        }
        if data.rootless {
            // These sysctls cannot be written from a user namespace.
            conntrack.push(("tcpEstablishedTimeout", json!("0s")));
            conntrack.push(("tcpCloseWaitTimeout", json!("0s")));
        }
        let mut proxy = vec![
            ("apiVersion", json!("kubeproxy.config.k8s.io/v1alpha1")),
            ("kind", json!("KubeProxyConfiguration")),
            ("metadata", metadata()),
            ("mode", json!(data.kube_proxy_mode)),
            ("iptables", json!({"minSyncPeriod": "1s"})),
            ("conntrack", obj(conntrack)),
        ];
        if has_gates {
            proxy.push(("featureGates", gates_map()));
        }
        docs.push(obj(proxy));
    }
    Ok(docs)
}

/// What kind writes to `/kind/kubeadm.conf`: generate, apply cluster-level
/// then node-level patches, drop `metadata:\n  name: config\n`.
pub fn render(
    data: &ConfigData,
    cluster: Patches<'_>,
    node: Patches<'_>,
) -> anyhow::Result<String> {
    let generated = generate(data)?;
    let mut patched = patch::kube_yaml(&generated, cluster.merge, cluster.json6902)?;
    if !node.is_empty() {
        patched = patch::kube_yaml(&patched, node.merge, node.json6902)?;
    }
    // The name only existed so patches could target the documents; kubeadm
    // rejects it.
    Ok(patched.replace("metadata:\n  name: config\n", ""))
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
