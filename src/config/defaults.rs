//! Overrides (`--name`, `--image`) and defaulting of a decoded config
//! (spec §2.3), idempotent as upstream's.

use super::{Cluster, Node, DEFAULT_CLUSTER_NAME, DEFAULT_NODE_IMAGE, ROLE_CONTROL_PLANE};

/// `name` (already resolved: flag > env > config, may be empty) and
/// `--image` (replaces every node's image) overrides, applied before defaults.
/// Empty values override nothing, as upstream.
pub fn apply_overrides(cluster: &mut Cluster, name: &str, image: Option<&str>) {
    if !name.is_empty() {
        cluster.name = name.to_string();
    }
    if let Some(image) = image.filter(|i| !i.is_empty()) {
        for node in &mut cluster.nodes {
            node.image = image.to_string();
        }
    }
}

/// Idempotent defaulting (spec §2.3), with upstream's default node image.
pub fn set_defaults(cluster: &mut Cluster) {
    set_defaults_with_image(cluster, DEFAULT_NODE_IMAGE);
}

/// Idempotent defaulting, with `default_image` for nodes whose image nobody
/// named (create uses the Sysbox node image there in Sysbox mode).
pub fn set_defaults_with_image(cluster: &mut Cluster, default_image: &str) {
    if cluster.name.is_empty() {
        cluster.name = DEFAULT_CLUSTER_NAME.to_string();
    }
    set_defaults_except_name(cluster);
    for node in &mut cluster.nodes {
        if node.image.is_empty() {
            node.image = default_image.to_string();
        }
    }
}

/// The defaulting upstream applies when a file is decoded: everything but
/// the name, which waits for the CLI's override, and the node image, which
/// depends on the runtime mode (an empty image means "not named"; it is
/// filled before validation either way).
pub(crate) fn set_defaults_except_name(cluster: &mut Cluster) {
    if cluster.nodes.is_empty() {
        cluster.nodes.push(Node::default());
    }
    for node in &mut cluster.nodes {
        if node.role.is_empty() {
            node.role = ROLE_CONTROL_PLANE.to_string();
        }
    }
    let net = &mut cluster.networking;
    if net.ip_family.is_empty() {
        net.ip_family = "ipv4".to_string();
    }
    // An invalid family gets the IPv4 defaults; validation reports it.
    let (address, pods, services) = match net.ip_family.as_str() {
        "ipv6" => ("::1", "fd00:10:244::/56", "fd00:10:96::/112"),
        "dual" => (
            "127.0.0.1",
            "10.244.0.0/16,fd00:10:244::/56",
            "10.96.0.0/16,fd00:10:96::/112",
        ),
        _ => ("127.0.0.1", "10.244.0.0/16", "10.96.0.0/16"),
    };
    for (field, default) in [
        (&mut net.api_server_address, address),
        (&mut net.pod_subnet, pods),
        (&mut net.service_subnet, services),
        (&mut net.kube_proxy_mode, "iptables"),
    ] {
        if field.is_empty() {
            *field = default.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaulted(mut c: Cluster) -> Cluster {
        set_defaults(&mut c);
        c
    }

    #[test]
    fn empty_cluster_gets_one_control_plane_and_ipv4_networking() {
        let c = defaulted(Cluster::default());
        assert_eq!(c.name, "kind");
        assert_eq!(c.nodes.len(), 1);
        assert_eq!(c.nodes[0].role, "control-plane");
        assert_eq!(c.nodes[0].image, DEFAULT_NODE_IMAGE);
        let n = &c.networking;
        assert_eq!(
            (
                n.ip_family.as_str(),
                n.api_server_address.as_str(),
                n.pod_subnet.as_str()
            ),
            ("ipv4", "127.0.0.1", "10.244.0.0/16")
        );
        assert_eq!(
            (n.service_subnet.as_str(), n.kube_proxy_mode.as_str()),
            ("10.96.0.0/16", "iptables")
        );
        assert_eq!((n.api_server_port, n.dns_search.clone()), (0, None));
    }

    #[test]
    fn networking_defaults_follow_the_family() {
        let cases = [
            ("ipv6", "::1", "fd00:10:244::/56", "fd00:10:96::/112"),
            (
                "dual",
                "127.0.0.1",
                "10.244.0.0/16,fd00:10:244::/56",
                "10.96.0.0/16,fd00:10:96::/112",
            ),
            ("bogus", "127.0.0.1", "10.244.0.0/16", "10.96.0.0/16"),
        ];
        for (family, address, pods, services) in cases {
            let mut c = Cluster::default();
            c.networking.ip_family = family.into();
            let n = defaulted(c).networking;
            assert_eq!(
                (
                    n.ip_family.as_str(),
                    n.api_server_address.as_str(),
                    n.pod_subnet.as_str(),
                    n.service_subnet.as_str()
                ),
                (family, address, pods, services)
            );
        }
    }

    #[test]
    fn set_values_are_kept_and_defaulting_is_idempotent() {
        let mut c = Cluster {
            name: "mine".into(),
            ..Default::default()
        };
        c.nodes = vec![
            Node {
                role: "worker".into(),
                ..Default::default()
            },
            Node::default(),
        ];
        c.networking.pod_subnet = "10.1.0.0/16".into();
        c.networking.kube_proxy_mode = "ipvs".into();
        let once = defaulted(c);
        assert_eq!(once.name, "mine");
        assert_eq!(
            (once.nodes[0].role.as_str(), once.nodes[1].role.as_str()),
            ("worker", "control-plane")
        );
        assert_eq!(once.networking.pod_subnet, "10.1.0.0/16");
        assert_eq!(once.networking.kube_proxy_mode, "ipvs");
        assert_eq!(defaulted(once.clone()), once);
    }

    #[test]
    fn overrides_replace_name_and_every_image_unless_empty() {
        let mut c = Cluster {
            name: "from-config".into(),
            ..Default::default()
        };
        c.nodes = vec![
            Node {
                image: "a".into(),
                ..Default::default()
            },
            Node::default(),
        ];
        apply_overrides(&mut c, "", None);
        assert_eq!(c.name, "from-config");
        apply_overrides(&mut c, "", Some(""));
        assert_eq!(c.nodes[0].image, "a");
        apply_overrides(&mut c, "flag", Some("img:1"));
        assert_eq!(c.name, "flag");
        assert!(c.nodes.iter().all(|n| n.image == "img:1"));
    }
}
