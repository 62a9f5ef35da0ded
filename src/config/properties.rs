//! Property tests (issue 9): validation never panics, whether on clusters
//! built straight from generated values or on configs decoded from
//! generated YAML (the `kind create cluster --config` path).

use proptest::prelude::*;

use super::*;

/// Strings near what validation parses (CIDR lists, addresses, names,
/// enumerations) as well as anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-fA-F:.,/%é-]{0,40}",
        "([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{0,3}(,[0-9a-f:]{2,12}/[0-9]{1,3})?",
        prop::sample::select(vec![
            "",
            "ipv4",
            "ipv6",
            "dual",
            "iptables",
            "ipvs",
            "nftables",
            "none",
            "control-plane",
            "worker",
            "TCP",
            "udp",
            "SCTP",
            "0.0.0.0",
            "::",
            "::1",
            "127.0.0.1",
            "fe80::1%eth0",
            "10.244.0.0/16",
            "fd00:10:244::/56",
            "10.244.0.0/16,fd00::/56",
            "1.2.3.4/33",
            ",",
            "kind",
            "kind-é",
            "HostToContainer",
            "Bidirectional",
        ])
        .prop_map(String::from),
    ]
}

fn port() -> impl Strategy<Value = i32> {
    prop_oneof![any::<i32>(), -2..=65536i32, Just(0), Just(-1), Just(80)]
}

fn port_mapping() -> impl Strategy<Value = PortMapping> {
    (port(), port(), text(), text()).prop_map(|(c, h, addr, proto)| PortMapping {
        container_port: c,
        host_port: h,
        listen_address: addr,
        protocol: proto,
    })
}

fn node() -> impl Strategy<Value = Node> {
    (
        text(),
        text(),
        prop::collection::vec(port_mapping(), 0..5),
        prop::collection::vec(text(), 0..2),
    )
        .prop_map(|(role, image, maps, patches)| Node {
            role,
            image,
            extra_port_mappings: maps,
            kubeadm_config_patches: patches,
            ..Node::default()
        })
}

fn cluster() -> impl Strategy<Value = Cluster> {
    (
        text(),
        prop::collection::vec(node(), 0..5),
        (
            text(),
            port(),
            text(),
            text(),
            text(),
            text(),
            any::<bool>(),
        ),
        prop::option::of(prop::collection::vec(text(), 0..3)),
    )
        .prop_map(|(name, nodes, net, dns_search)| Cluster {
            name,
            nodes,
            networking: Networking {
                ip_family: net.0,
                api_server_port: net.1,
                api_server_address: net.2,
                pod_subnet: net.3,
                service_subnet: net.4,
                kube_proxy_mode: net.5,
                disable_default_cni: net.6,
                dns_search,
            },
            ..Cluster::default()
        })
}

/// The same values as a config file, with fields left out at random so
/// that defaulting fills them.
fn config_yaml() -> impl Strategy<Value = String> {
    (cluster(), any::<u16>()).prop_map(|(c, omit)| {
        use serde_yaml::{Mapping, Value};
        let keep = |bit: u16| omit & (1 << bit) == 0;
        let mut net = Mapping::new();
        let n = &c.networking;
        for (bit, k, v) in [
            (0, "ipFamily", Value::from(n.ip_family.clone())),
            (1, "apiServerPort", Value::from(n.api_server_port)),
            (
                2,
                "apiServerAddress",
                Value::from(n.api_server_address.clone()),
            ),
            (3, "podSubnet", Value::from(n.pod_subnet.clone())),
            (4, "serviceSubnet", Value::from(n.service_subnet.clone())),
            (5, "kubeProxyMode", Value::from(n.kube_proxy_mode.clone())),
        ] {
            if keep(bit) {
                net.insert(k.into(), v);
            }
        }
        let nodes: Vec<Value> = c
            .nodes
            .iter()
            .map(|node| {
                let mut m = Mapping::new();
                if keep(6) {
                    m.insert("role".into(), node.role.clone().into());
                }
                if keep(7) {
                    m.insert("image".into(), node.image.clone().into());
                }
                let maps: Vec<Value> = node
                    .extra_port_mappings
                    .iter()
                    .map(|p| {
                        let mut pm = Mapping::new();
                        pm.insert("containerPort".into(), p.container_port.into());
                        pm.insert("hostPort".into(), p.host_port.into());
                        if keep(8) {
                            pm.insert("listenAddress".into(), p.listen_address.clone().into());
                        }
                        if keep(9) {
                            pm.insert("protocol".into(), p.protocol.clone().into());
                        }
                        Value::Mapping(pm)
                    })
                    .collect();
                m.insert("extraPortMappings".into(), Value::Sequence(maps));
                Value::Mapping(m)
            })
            .collect();
        let mut top = Mapping::new();
        top.insert("kind".into(), "Cluster".into());
        top.insert("apiVersion".into(), API_VERSION.into());
        if keep(10) {
            top.insert("name".into(), c.name.into());
        }
        if keep(11) {
            top.insert("nodes".into(), Value::Sequence(nodes));
        }
        top.insert("networking".into(), Value::Mapping(net));
        serde_yaml::to_string(&Value::Mapping(top)).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn validate_never_panics(c in cluster()) {
        if let Err(e) = validate(&c) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn decoded_configs_validate_without_panic(text in config_yaml()) {
        // Decode errors are fine (e.g. a protocol the decoder refuses).
        if let Ok(mut c) = parse(text.as_bytes()) {
            apply_overrides(&mut c, "", None);
            set_defaults(&mut c);
            if let Err(e) = validate(&c) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
