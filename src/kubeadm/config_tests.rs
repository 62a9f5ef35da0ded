//! The rendered kubeadm config per API band, compared with upstream's.

use super::*;
use crate::kubeadm::{API_BIND_PORT, TOKEN};
use serde_json::json;

/// The default single control-plane node of cluster `kind`.
fn data(version: &str) -> ConfigData {
    ConfigData {
        cluster_name: "kind".into(),
        kubernetes_version: version.into(),
        control_plane_endpoint: "kind-control-plane:6443".into(),
        api_bind_port: API_BIND_PORT,
        api_server_address: "127.0.0.1".into(),
        node_provider: "docker".into(),
        control_plane: true,
        node_address: "172.18.0.2".into(),
        node_name: "kind-control-plane".into(),
        token: TOKEN.into(),
        kube_proxy_mode: "iptables".into(),
        pod_subnet: "10.244.0.0/16".into(),
        service_subnet: "10.96.0.0/16".into(),
        ip_family: "ipv4".into(),
        ..Default::default()
    }
}

fn worker(mut d: ConfigData) -> ConfigData {
    d.control_plane = false;
    d.node_name = "kind-worker".into();
    d.node_address = "172.18.0.3".into();
    d
}

fn ipv6(mut d: ConfigData) -> ConfigData {
    d.ip_family = "ipv6".into();
    d.node_address = "fc00:f853:ccd:e793::2".into();
    d.api_server_address = "::1".into();
    d.pod_subnet = "fd00:10:244::/56".into();
    d.service_subnet = "fd00:10:96::/112".into();
    d
}

fn dual(mut d: ConfigData) -> ConfigData {
    d.ip_family = "dual".into();
    d.node_address = "172.18.0.2,fc00:f853:ccd:e793::2".into();
    d.pod_subnet = "10.244.0.0/16,fd00:10:244::/56".into();
    d.service_subnet = "10.96.0.0/16,fd00:10:96::/112".into();
    d
}

fn docs(d: &ConfigData) -> Vec<Value> {
    documents(d).unwrap_or_else(|e| panic!("{d:?}: {e}"))
}

fn doc<'a>(all: &'a [Value], kind: &str) -> Option<&'a Value> {
    all.iter().find(|d| d["kind"] == kind)
}

/// Value at a JSON pointer in the document of `kind` (`None` when absent).
fn at(d: &ConfigData, kind: &str, pointer: &str) -> Option<Value> {
    doc(&docs(d), kind).and_then(|x| x.pointer(pointer).cloned())
}

const DEFAULT_V1BETA4: &str = r#"apiServer:
  certSANs:
  - localhost
  - 127.0.0.1
  extraArgs:
  - name: runtime-config
    value: ""
apiVersion: kubeadm.k8s.io/v1beta4
clusterName: kind
controlPlaneEndpoint: kind-control-plane:6443
controllerManager:
  extraArgs:
  - name: enable-hostpath-provisioner
    value: "true"
kind: ClusterConfiguration
kubernetesVersion: v1.37.0-rc.1
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/16
scheduler:
  extraArgs: null
---
apiVersion: kubeadm.k8s.io/v1beta4
bootstrapTokens:
- token: abcdef.0123456789abcdef
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 172.18.0.2
  bindPort: 6443
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: node-ip
    value: 172.18.0.2
  - name: provider-id
    value: kind://docker/kind/kind-control-plane
  - name: node-labels
    value: ""
skipPhases:
- preflight
---
apiVersion: kubeadm.k8s.io/v1beta4
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 172.18.0.2
    bindPort: 6443
discovery:
  bootstrapToken:
    apiServerEndpoint: kind-control-plane:6443
    token: abcdef.0123456789abcdef
    unsafeSkipCAVerification: true
kind: JoinConfiguration
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: node-ip
    value: 172.18.0.2
  - name: provider-id
    value: kind://docker/kind/kind-control-plane
  - name: node-labels
    value: ""
skipPhases:
- preflight
---
apiVersion: kubelet.config.k8s.io/v1beta1
cgroupDriver: systemd
cgroupRoot: /kubelet
evictionHard:
  imagefs.available: 0%
  nodefs.available: 0%
  nodefs.inodesFree: 0%
failSwapOn: false
imageGCHighThresholdPercent: 100
kind: KubeletConfiguration
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
conntrack:
  maxPerCore: 0
iptables:
  minSyncPeriod: 1s
kind: KubeProxyConfiguration
mode: iptables
"#;

#[test]
fn default_single_node_v1beta4_matches_upstream_byte_for_byte() {
    let got = render(
        &data("v1.37.0-rc.1"),
        Patches::default(),
        Patches::default(),
    )
    .unwrap();
    assert_eq!(got, DEFAULT_V1BETA4);
}

#[test]
fn generate_keeps_metadata_for_patch_targeting() {
    let raw = generate(&data("v1.37.0-rc.1")).unwrap();
    assert_eq!(raw.matches("metadata:\n  name: config\n").count(), 5);
    assert_eq!(
        raw.replace("metadata:\n  name: config\n", ""),
        DEFAULT_V1BETA4
    );
}

#[test]
fn kubeadm_api_version_by_kubernetes_version() {
    let cases = [
        ("v1.19.16", "kubeadm.k8s.io/v1beta2"),
        ("v1.22.0", "kubeadm.k8s.io/v1beta2"),
        ("v1.22.17", "kubeadm.k8s.io/v1beta2"),
        ("v1.23.0-alpha.1", "kubeadm.k8s.io/v1beta3"),
        ("v1.23.0", "kubeadm.k8s.io/v1beta3"),
        ("v1.30.4", "kubeadm.k8s.io/v1beta3"),
        ("v1.35.0", "kubeadm.k8s.io/v1beta3"),
        ("v1.36.0-alpha.1", "kubeadm.k8s.io/v1beta4"),
        ("v1.36.0", "kubeadm.k8s.io/v1beta4"),
        ("1.36.2", "kubeadm.k8s.io/v1beta4"),
        ("v1.37.0-rc.1", "kubeadm.k8s.io/v1beta4"),
    ];
    for (version, want) in cases {
        // Only the version set, as upstream's config_test does.
        let d = ConfigData {
            kubernetes_version: version.into(),
            ..Default::default()
        };
        let out = generate(&d).unwrap();
        assert!(
            out.contains(&format!("apiVersion: {want}\n")),
            "{version}: {out}"
        );
        for kind in [
            "ClusterConfiguration",
            "InitConfiguration",
            "JoinConfiguration",
        ] {
            assert_eq!(
                at(&d, kind, "/apiVersion"),
                Some(json!(want)),
                "{version} {kind}"
            );
        }
    }
}

#[test]
fn unparseable_version_is_an_error() {
    let err = generate(&data("latest")).unwrap_err();
    assert_eq!(err.to_string(), r#"could not parse "latest" as version"#);
    assert!(generate(&data("")).is_err());
}

#[test]
fn cgroup_driver_by_version() {
    for (version, want) in [
        ("v1.22.4", "cgroupfs"),
        ("v1.23.17", "cgroupfs"),
        ("v1.24.0", "systemd"),
        ("v1.30.0", "systemd"),
    ] {
        assert_eq!(
            at(&data(version), "KubeletConfiguration", "/cgroupDriver"),
            Some(json!(want)),
            "{version}"
        );
    }
}

#[test]
fn v1beta2_for_1_22_uses_maps_and_no_skip_phases() {
    let want = r#"apiServer:
  certSANs:
  - localhost
  - 127.0.0.1
  extraArgs:
    runtime-config: ""
apiVersion: kubeadm.k8s.io/v1beta2
clusterName: kind
controlPlaneEndpoint: kind-control-plane:6443
controllerManager:
  extraArgs:
    enable-hostpath-provisioner: "true"
kind: ClusterConfiguration
kubernetesVersion: v1.22.17
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/16
scheduler:
  extraArgs: null
---
apiVersion: kubeadm.k8s.io/v1beta2
bootstrapTokens:
- token: abcdef.0123456789abcdef
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 172.18.0.3
  bindPort: 6443
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    node-ip: 172.18.0.3
    node-labels: tier=db
    provider-id: kind://docker/kind/kind-worker
---
apiVersion: kubeadm.k8s.io/v1beta2
discovery:
  bootstrapToken:
    apiServerEndpoint: kind-control-plane:6443
    token: abcdef.0123456789abcdef
    unsafeSkipCAVerification: true
kind: JoinConfiguration
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    node-ip: 172.18.0.3
    node-labels: tier=db
    provider-id: kind://docker/kind/kind-worker
---
apiVersion: kubelet.config.k8s.io/v1beta1
cgroupDriver: cgroupfs
cgroupRoot: /kubelet
evictionHard:
  imagefs.available: 0%
  nodefs.available: 0%
  nodefs.inodesFree: 0%
failSwapOn: false
imageGCHighThresholdPercent: 100
kind: KubeletConfiguration
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
conntrack:
  maxPerCore: 0
iptables:
  minSyncPeriod: 1s
kind: KubeProxyConfiguration
mode: iptables
"#;
    let mut d = worker(data("v1.22.17"));
    d.node_labels = "tier=db".into();
    assert_eq!(
        render(&d, Patches::default(), Patches::default()).unwrap(),
        want
    );
}

#[test]
fn v1beta3_for_1_30_uses_maps_and_skip_phases() {
    let d = data("v1.30.4");
    let all = docs(&d);
    let cluster = doc(&all, "ClusterConfiguration").unwrap();
    assert_eq!(cluster["apiVersion"], "kubeadm.k8s.io/v1beta3");
    assert_eq!(
        cluster["apiServer"]["extraArgs"],
        json!({"runtime-config": ""})
    );
    assert_eq!(
        cluster["controllerManager"]["extraArgs"],
        json!({"enable-hostpath-provisioner": "true"})
    );
    assert_eq!(cluster["scheduler"]["extraArgs"], Value::Null);
    let init = doc(&all, "InitConfiguration").unwrap();
    assert_eq!(
        init["nodeRegistration"]["kubeletExtraArgs"],
        json!({"node-ip": "172.18.0.2", "provider-id": "kind://docker/kind/kind-control-plane", "node-labels": ""})
    );
    assert_eq!(init["skipPhases"], json!(["preflight"]));
    assert_eq!(
        doc(&all, "JoinConfiguration").unwrap()["skipPhases"],
        json!(["preflight"])
    );
    assert_eq!(
        doc(&all, "KubeletConfiguration").unwrap()["cgroupDriver"],
        "systemd"
    );
}

#[test]
fn skip_phases_by_band_and_proxy_mode() {
    // (version, proxy mode, init skipPhases, join skipPhases)
    let cases = [
        ("v1.22.0", "iptables", None, None),
        ("v1.22.0", "none", None, None),
        (
            "v1.30.0",
            "iptables",
            Some(json!(["preflight"])),
            Some(json!(["preflight"])),
        ),
        (
            "v1.30.0",
            "none",
            Some(json!(["preflight", "addon/kube-proxy"])),
            Some(json!(["preflight"])),
        ),
        (
            "v1.36.1",
            "none",
            Some(json!(["preflight", "addon/kube-proxy"])),
            Some(json!(["preflight"])),
        ),
    ];
    for (version, mode, init, join) in cases {
        let mut d = data(version);
        d.kube_proxy_mode = mode.into();
        assert_eq!(
            at(&d, "InitConfiguration", "/skipPhases"),
            init,
            "{version} {mode}"
        );
        assert_eq!(
            at(&d, "JoinConfiguration", "/skipPhases"),
            join,
            "{version} {mode}"
        );
    }
}

#[test]
fn kube_proxy_by_mode() {
    // (mode, rootless, expected conntrack; None = no KubeProxyConfiguration)
    let cases = [
        ("iptables", false, Some(json!({"maxPerCore": 0}))),
        ("ipvs", false, Some(json!({"maxPerCore": 0}))),
        (
            "nftables",
            false,
            Some(json!({"maxPerCore": 0, "tcpBeLiberal": true})),
        ),
        (
            "nftables",
            true,
            Some(
                json!({"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"}),
            ),
        ),
        (
            "iptables",
            true,
            Some(
                json!({"maxPerCore": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"}),
            ),
        ),
        ("none", false, None),
    ];
    for version in ["v1.22.0", "v1.30.0", "v1.36.0"] {
        for (mode, rootless, conntrack) in &cases {
            let mut d = data(version);
            d.kube_proxy_mode = mode.to_string();
            d.rootless = *rootless;
            let all = docs(&d);
            match conntrack {
                None => {
                    assert_eq!(all.len(), 4, "{version} {mode}");
                    assert!(doc(&all, "KubeProxyConfiguration").is_none());
                }
                Some(c) => {
                    assert_eq!(all.len(), 5, "{version} {mode}");
                    let proxy = doc(&all, "KubeProxyConfiguration").unwrap();
                    assert_eq!(
                        &proxy["conntrack"], c,
                        "{version} {mode} rootless={rootless}"
                    );
                    assert_eq!(proxy["mode"], json!(mode));
                    assert_eq!(proxy["iptables"], json!({"minSyncPeriod": "1s"}));
                }
            }
        }
    }
    let mut d = data("v1.37.0");
    d.kube_proxy_mode = "none".into();
    assert!(!generate(&d).unwrap().contains("KubeProxyConfiguration"));
}

#[test]
fn rootless_needs_1_22_and_enables_kubelet_in_user_namespace() {
    let mut d = data("v1.21.14");
    d.rootless = true;
    assert_eq!(
        generate(&d).unwrap_err().to_string(),
        r#"version "1.21.14" is not compatible with rootless provider (hint: kind v0.11.x may work with this version)"#
    );
    for version in ["v1.22.0", "v1.30.0", "v1.36.0"] {
        let mut d = data(version);
        d.rootless = true;
        d.feature_gates.insert("Zeta".into(), false);
        let all = docs(&d);
        let gates = json!({"KubeletInUserNamespace": true, "Zeta": false});
        assert_eq!(
            doc(&all, "KubeletConfiguration").unwrap()["featureGates"],
            gates,
            "{version}"
        );
        assert_eq!(
            doc(&all, "KubeProxyConfiguration").unwrap()["featureGates"],
            gates,
            "{version}"
        );
        let out = generate(&d).unwrap();
        assert_eq!(
            out.matches("KubeletInUserNamespace=true,Zeta=false")
                .count(),
            3,
            "{version}: {out}"
        );
    }
    // The caller's map is not modified and non-rootless nodes get no gate.
    let d = data("v1.36.0");
    assert!(!generate(&d).unwrap().contains("KubeletInUserNamespace"));
}

#[test]
fn feature_gates_and_runtime_config_reach_every_component() {
    let mut gates = BTreeMap::new();
    gates.insert("SidecarContainers".to_string(), true);
    gates.insert("AllAlpha".to_string(), false);
    let mut rc = BTreeMap::new();
    rc.insert("api/alpha".to_string(), "false".to_string());
    rc.insert("api/all".to_string(), "true".to_string());
    let gate_string = "AllAlpha=false,SidecarContainers=true";
    let rc_string = "api/all=true,api/alpha=false";

    // v1beta3: maps.
    let mut d = data("v1.30.0");
    d.feature_gates = gates.clone();
    d.runtime_config = rc.clone();
    let all = docs(&d);
    let cluster = doc(&all, "ClusterConfiguration").unwrap();
    assert_eq!(
        cluster["apiServer"]["extraArgs"],
        json!({"runtime-config": rc_string, "feature-gates": gate_string})
    );
    assert_eq!(
        cluster["controllerManager"]["extraArgs"],
        json!({"feature-gates": gate_string, "enable-hostpath-provisioner": "true"})
    );
    assert_eq!(
        cluster["scheduler"]["extraArgs"],
        json!({"feature-gates": gate_string})
    );
    let gate_map = json!({"AllAlpha": false, "SidecarContainers": true});
    assert_eq!(
        doc(&all, "KubeletConfiguration").unwrap()["featureGates"],
        gate_map
    );
    assert_eq!(
        doc(&all, "KubeProxyConfiguration").unwrap()["featureGates"],
        gate_map
    );

    // v1beta4: name/value lists in the documented order.
    let mut d = ipv6(data("v1.36.0"));
    d.feature_gates = gates;
    d.runtime_config = rc;
    let all = docs(&d);
    let cluster = doc(&all, "ClusterConfiguration").unwrap();
    assert_eq!(
        cluster["apiServer"]["extraArgs"],
        json!([{"name": "runtime-config", "value": rc_string}, {"name": "feature-gates", "value": gate_string}])
    );
    assert_eq!(
        cluster["controllerManager"]["extraArgs"],
        json!([
            {"name": "feature-gates", "value": gate_string},
            {"name": "enable-hostpath-provisioner", "value": "true"},
            {"name": "bind-address", "value": "::"}
        ])
    );
    assert_eq!(
        cluster["scheduler"]["extraArgs"],
        json!([{"name": "feature-gates", "value": gate_string}, {"name": "bind-address", "value": "::1"}])
    );
}

#[test]
fn kubeadm_dual_stack_gate_only_for_1_20() {
    for (version, want) in [
        ("v1.19.16", None),
        ("v1.20.0", Some(json!({"IPv6DualStack": true}))),
        ("v1.20.15", Some(json!({"IPv6DualStack": true}))),
        ("v1.21.0", None),
        ("v1.30.0", None),
    ] {
        assert_eq!(
            at(&data(version), "ClusterConfiguration", "/featureGates"),
            want,
            "{version}"
        );
    }
}

#[test]
fn ip_families() {
    // (data, node-ip, advertiseAddress, ipv6 bind addresses expected)
    let cases = [
        (data("v1.36.0"), "172.18.0.2", "172.18.0.2", false),
        (
            ipv6(data("v1.36.0")),
            "fc00:f853:ccd:e793::2",
            "fc00:f853:ccd:e793::2",
            true,
        ),
        (
            dual(data("v1.36.0")),
            "172.18.0.2,fc00:f853:ccd:e793::2",
            "172.18.0.2",
            false,
        ),
        (
            ipv6(data("v1.30.0")),
            "fc00:f853:ccd:e793::2",
            "fc00:f853:ccd:e793::2",
            true,
        ),
        (
            ipv6(data("v1.22.0")),
            "fc00:f853:ccd:e793::2",
            "fc00:f853:ccd:e793::2",
            true,
        ),
    ];
    for (d, node_ip, advertise, v6) in cases {
        let label = format!("{} {}", d.kubernetes_version, d.ip_family);
        let all = docs(&d);
        assert_eq!(
            doc(&all, "InitConfiguration").unwrap()["localAPIEndpoint"]["advertiseAddress"],
            advertise,
            "{label}"
        );
        assert_eq!(
            doc(&all, "JoinConfiguration").unwrap()["controlPlane"]["localAPIEndpoint"]
                ["advertiseAddress"],
            advertise,
            "{label}"
        );
        let out = generate(&d).unwrap();
        assert!(out.contains(node_ip), "{label}");
        let kubelet = doc(&all, "KubeletConfiguration").unwrap();
        assert_eq!(kubelet.get("address").is_some(), v6, "{label}");
        assert_eq!(kubelet.get("healthzBindAddress").is_some(), v6, "{label}");
        assert_eq!(out.contains("bind-address"), v6, "{label}");
        let cluster = doc(&all, "ClusterConfiguration").unwrap();
        assert_eq!(
            cluster["networking"]["podSubnet"],
            json!(d.pod_subnet),
            "{label}"
        );
        assert_eq!(
            cluster["networking"]["serviceSubnet"],
            json!(d.service_subnet),
            "{label}"
        );
        assert_eq!(
            cluster["apiServer"]["certSANs"],
            json!(["localhost", d.api_server_address]),
            "{label}"
        );
    }
}

#[test]
fn ipv6_output_quotes_only_ambiguous_addresses() {
    let out = render(
        &ipv6(data("v1.30.0")),
        Patches::default(),
        Patches::default(),
    )
    .unwrap();
    // `::` ends in a colon, so go-yaml single-quotes it; `::1` stays plain.
    for line in [
        "  - ::1\n",
        "    bind-address: '::'\n",
        "    bind-address: ::1\n",
        "address: '::'\n",
        "healthzBindAddress: '::'\n",
        "  podSubnet: fd00:10:244::/56\n",
        "    node-ip: fc00:f853:ccd:e793::2\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn control_plane_block_only_for_control_planes() {
    for version in ["v1.22.0", "v1.30.0", "v1.36.0"] {
        let cp = data(version);
        let w = worker(data(version));
        assert_eq!(
            at(&cp, "JoinConfiguration", "/controlPlane"),
            Some(json!({"localAPIEndpoint": {"advertiseAddress": "172.18.0.2", "bindPort": 6443}})),
            "{version}"
        );
        assert_eq!(
            at(&w, "JoinConfiguration", "/controlPlane"),
            None,
            "{version}"
        );
        // Workers still get all five documents.
        assert_eq!(docs(&w).len(), 5, "{version}");
        assert!(
            generate(&w)
                .unwrap()
                .contains("kind://docker/kind/kind-worker"),
            "{version}"
        );
    }
}

#[test]
fn node_labels_provider_id_and_every_document_named_config() {
    let mut d = worker(data("v1.36.0"));
    d.node_labels = "a=1,b=two".into();
    d.node_provider = "podman".into();
    d.cluster_name = "dev".into();
    let all = docs(&d);
    assert_eq!(
        doc(&all, "JoinConfiguration").unwrap()["nodeRegistration"]["kubeletExtraArgs"],
        json!([
            {"name": "node-ip", "value": "172.18.0.3"},
            {"name": "provider-id", "value": "kind://podman/dev/kind-worker"},
            {"name": "node-labels", "value": "a=1,b=two"}
        ])
    );
    for x in &all {
        assert_eq!(x["metadata"], json!({"name": "config"}), "{}", x["kind"]);
    }
    assert_eq!(
        doc(&all, "ClusterConfiguration").unwrap()["clusterName"],
        "dev"
    );
}

#[test]
fn render_applies_cluster_then_node_patches() {
    let cluster_merge = vec![
        "kind: ClusterConfiguration\napiServer:\n  certSANs: [my.host]\n  extraArgs:\n    v: \"4\"\n".to_string(),
        "kind: KubeletConfiguration\nmaxPods: 50\n".to_string(),
    ];
    let cluster_6902 = vec![PatchJson6902 {
        group: "kubeadm.k8s.io".into(),
        version: "v1beta4".into(),
        kind: "InitConfiguration".into(),
        patch: r#"[{"op": "add", "path": "/nodeRegistration/taints", "value": []}]"#.into(),
    }];
    // The node level sees the cluster level's result.
    let node_merge = vec!["kind: KubeletConfiguration\nmaxPods: 60\n".to_string()];
    let node_6902 = vec![PatchJson6902 {
        group: "kubeadm.k8s.io".into(),
        version: "v1beta4".into(),
        kind: "ClusterConfiguration".into(),
        patch: "- op: replace\n  path: /apiServer/extraArgs/1/value\n  value: \"5\"\n".into(),
    }];
    let cluster = Patches {
        merge: &cluster_merge,
        json6902: &cluster_6902,
    };
    let node = Patches {
        merge: &node_merge,
        json6902: &node_6902,
    };
    let out = render(&data("v1.36.0"), cluster, node).unwrap();
    assert!(
        out.contains("  certSANs:\n  - localhost\n  - 127.0.0.1\n  - my.host\n"),
        "{out}"
    );
    assert!(
        out.contains("  extraArgs:\n  - name: runtime-config\n    value: \"\"\n  - name: v\n    value: \"5\"\n"),
        "{out}"
    );
    assert!(out.contains("maxPods: 60\n"), "{out}");
    assert!(out.contains("  taints: []\n"), "{out}");
    assert!(!out.contains("metadata"), "{out}");

    // Cluster-level only.
    let out = render(&data("v1.36.0"), cluster, Patches::default()).unwrap();
    assert!(
        out.contains("maxPods: 50\n") && out.contains("    value: \"4\"\n"),
        "{out}"
    );
}

#[test]
fn render_patch_errors_surface() {
    let bad = vec!["b o g u s".to_string()];
    let err = render(
        &data("v1.36.0"),
        Patches {
            merge: &bad,
            json6902: &[],
        },
        Patches::default(),
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").starts_with("failed to parse patches"),
        "{err:#}"
    );
    let err = render(
        &data("v1.36.0"),
        Patches::default(),
        Patches {
            merge: &bad,
            json6902: &[],
        },
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").starts_with("failed to parse patches"),
        "{err:#}"
    );
}

#[test]
fn patch_can_rename_metadata_and_keep_it() {
    // Only the exact generated text is removed.
    let merge = vec!["kind: KubeletConfiguration\nmetadata:\n  name: other\n".to_string()];
    let out = render(
        &data("v1.36.0"),
        Patches {
            merge: &merge,
            json6902: &[],
        },
        Patches::default(),
    )
    .unwrap();
    assert_eq!(out.matches("metadata:").count(), 1);
    assert!(out.contains("metadata:\n  name: other\n"));
}
