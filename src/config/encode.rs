//! Encoding a cluster config back into `kind.x-k8s.io/v1alpha4` YAML, so
//! the effective config (after overrides and defaults, patches included)
//! can be kept with the cluster and decoded by [`super::parse`] later to
//! plan more nodes exactly as `create` did. Every field that differs from
//! its zero value is written; `parse(encode(c)) == c` for any defaulted `c`.

use serde_json::{json, Map, Value};

use super::{Cluster, Mount, MountPropagation, Node, PatchJson6902, PortMapping, API_VERSION};

/// The config as v1alpha4 YAML (go-yaml v2 style, keys sorted).
pub fn encode(cluster: &Cluster) -> String {
    crate::yaml::emit::marshal(&to_value(cluster))
}

fn to_value(c: &Cluster) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), json!("Cluster"));
    m.insert("apiVersion".into(), json!(API_VERSION));
    put_str(&mut m, "name", &c.name);
    m.insert(
        "nodes".into(),
        Value::Array(c.nodes.iter().map(node).collect()),
    );
    let n = &c.networking;
    let mut net = Map::new();
    put_str(&mut net, "ipFamily", &n.ip_family);
    if n.api_server_port != 0 {
        net.insert("apiServerPort".into(), json!(n.api_server_port));
    }
    put_str(&mut net, "apiServerAddress", &n.api_server_address);
    put_str(&mut net, "podSubnet", &n.pod_subnet);
    put_str(&mut net, "serviceSubnet", &n.service_subnet);
    if n.disable_default_cni {
        net.insert("disableDefaultCNI".into(), json!(true));
    }
    put_str(&mut net, "kubeProxyMode", &n.kube_proxy_mode);
    if let Some(search) = &n.dns_search {
        // `[]` (no search domains) differs from absent (the host's).
        net.insert("dnsSearch".into(), json!(search));
    }
    if !net.is_empty() {
        m.insert("networking".into(), Value::Object(net));
    }
    if !c.feature_gates.is_empty() {
        m.insert("featureGates".into(), json!(c.feature_gates));
    }
    if !c.runtime_config.is_empty() {
        m.insert("runtimeConfig".into(), json!(c.runtime_config));
    }
    put_strings(&mut m, "kubeadmConfigPatches", &c.kubeadm_config_patches);
    put_patches(
        &mut m,
        "kubeadmConfigPatchesJSON6902",
        &c.kubeadm_config_patches_json6902,
    );
    put_strings(
        &mut m,
        "containerdConfigPatches",
        &c.containerd_config_patches,
    );
    put_strings(
        &mut m,
        "containerdConfigPatchesJSON6902",
        &c.containerd_config_patches_json6902,
    );
    Value::Object(m)
}

fn node(n: &Node) -> Value {
    let mut m = Map::new();
    put_str(&mut m, "role", &n.role);
    put_str(&mut m, "image", &n.image);
    if !n.labels.is_empty() {
        m.insert("labels".into(), json!(n.labels));
    }
    if !n.extra_mounts.is_empty() {
        m.insert(
            "extraMounts".into(),
            Value::Array(n.extra_mounts.iter().map(mount).collect()),
        );
    }
    if !n.extra_port_mappings.is_empty() {
        m.insert(
            "extraPortMappings".into(),
            Value::Array(n.extra_port_mappings.iter().map(port_mapping).collect()),
        );
    }
    put_strings(&mut m, "kubeadmConfigPatches", &n.kubeadm_config_patches);
    put_patches(
        &mut m,
        "kubeadmConfigPatchesJSON6902",
        &n.kubeadm_config_patches_json6902,
    );
    Value::Object(m)
}

fn mount(mt: &Mount) -> Value {
    let mut m = Map::new();
    put_str(&mut m, "containerPath", &mt.container_path);
    put_str(&mut m, "hostPath", &mt.host_path);
    if mt.read_only {
        m.insert("readOnly".into(), json!(true));
    }
    if mt.selinux_relabel {
        m.insert("selinuxRelabel".into(), json!(true));
    }
    match mt.propagation {
        MountPropagation::None => {}
        MountPropagation::HostToContainer => {
            m.insert("propagation".into(), json!("HostToContainer"));
        }
        MountPropagation::Bidirectional => {
            m.insert("propagation".into(), json!("Bidirectional"));
        }
    }
    Value::Object(m)
}

fn port_mapping(p: &PortMapping) -> Value {
    let mut m = Map::new();
    if p.container_port != 0 {
        m.insert("containerPort".into(), json!(p.container_port));
    }
    if p.host_port != 0 {
        m.insert("hostPort".into(), json!(p.host_port));
    }
    put_str(&mut m, "listenAddress", &p.listen_address);
    put_str(&mut m, "protocol", &p.protocol);
    Value::Object(m)
}

fn put_str(m: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        m.insert(key.into(), json!(value));
    }
}

fn put_strings(m: &mut Map<String, Value>, key: &str, values: &[String]) {
    if !values.is_empty() {
        m.insert(key.into(), json!(values));
    }
}

fn put_patches(m: &mut Map<String, Value>, key: &str, patches: &[PatchJson6902]) {
    if patches.is_empty() {
        return;
    }
    let items = patches
        .iter()
        .map(|p| {
            let mut o = Map::new();
            put_str(&mut o, "group", &p.group);
            put_str(&mut o, "version", &p.version);
            put_str(&mut o, "kind", &p.kind);
            put_str(&mut o, "patch", &p.patch);
            Value::Object(o)
        })
        .collect();
    m.insert(key.into(), Value::Array(items));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{apply_overrides, parse, set_defaults_with_image};

    /// As create holds it: decoded, overridden, defaulted.
    fn effective(yaml: &str) -> Cluster {
        let mut c = parse(yaml.as_bytes()).unwrap();
        apply_overrides(&mut c, "", None);
        set_defaults_with_image(&mut c, "kind-sysbox/node:v1.36.1");
        c
    }

    fn round_trips(c: &Cluster) {
        let text = encode(c);
        let back = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(&back, c, "{text}");
    }

    #[test]
    fn every_example_config_round_trips() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/config-examples");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                round_trips(&effective(&std::fs::read_to_string(&path).unwrap()));
                seen += 1;
            }
        }
        assert!(seen >= 5, "config-examples/ holds the examples");
    }

    #[test]
    fn the_default_config_round_trips() {
        let mut c = crate::config::load(None).unwrap();
        set_defaults_with_image(&mut c, "kind-sysbox/node:v1.36.1");
        round_trips(&c);
        assert_eq!(
            encode(&c),
            "apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nname: kind\nnetworking:\n  apiServerAddress: 127.0.0.1\n  ipFamily: ipv4\n  kubeProxyMode: iptables\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/16\nnodes:\n- image: kind-sysbox/node:v1.36.1\n  role: control-plane\n"
        );
    }

    #[test]
    fn scalars_that_read_as_other_types_round_trip_as_strings() {
        let mut c = effective("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n");
        c.name = "true".into();
        c.nodes[0].labels = [
            ("a".to_string(), "yes".to_string()),
            ("b".to_string(), "0x1F".to_string()),
            ("c".to_string(), "".to_string()),
            ("d".to_string(), "2001-12-14".to_string()),
            ("null".to_string(), "~".to_string()),
        ]
        .into();
        c.runtime_config = [("api/all".to_string(), "false".to_string())].into();
        c.feature_gates = [("A".to_string(), true), ("B".to_string(), false)].into();
        round_trips(&c);
    }

    #[test]
    fn every_field_round_trips() {
        let mut c = effective("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n");
        c.networking.api_server_port = 6443;
        c.networking.disable_default_cni = true;
        c.networking.dns_search = Some(vec![]);
        c.kubeadm_config_patches =
            vec!["kind: ClusterConfiguration\napiServer:\n  extraArgs:\n    v: \"5\"\n".into()];
        c.kubeadm_config_patches_json6902 = vec![PatchJson6902 {
            group: "kubeadm.k8s.io".into(),
            version: "v1beta3".into(),
            kind: "ClusterConfiguration".into(),
            patch: "- op: add\n  path: /x\n  value: 1\n".into(),
        }];
        c.containerd_config_patches =
            vec!["[plugins.\"io.containerd.grpc.v1.cri\"]\n  x = 1\n".into()];
        c.containerd_config_patches_json6902 =
            vec!["[{\"op\": \"remove\", \"path\": \"/a\"}]".into()];
        let w = &mut c.nodes[1];
        w.extra_mounts = vec![
            Mount {
                container_path: "/data".into(),
                host_path: "/tmp/data dir".into(),
                read_only: true,
                selinux_relabel: true,
                propagation: MountPropagation::HostToContainer,
            },
            Mount {
                container_path: "/b".into(),
                host_path: "/b".into(),
                propagation: MountPropagation::Bidirectional,
                ..Default::default()
            },
        ];
        w.extra_port_mappings = vec![
            PortMapping {
                container_port: 80,
                host_port: -1,
                listen_address: "::".into(),
                protocol: "UDP".into(),
            },
            PortMapping {
                container_port: 443,
                ..Default::default()
            },
        ];
        w.kubeadm_config_patches = vec!["kind: JoinConfiguration\n".into()];
        w.kubeadm_config_patches_json6902 = c.kubeadm_config_patches_json6902.clone();
        round_trips(&c);
        // Absent dnsSearch (the host's) stays absent.
        c.networking.dns_search = None;
        round_trips(&c);
        c.networking.dns_search = Some(vec!["example.com".into()]);
        round_trips(&c);
    }
}
