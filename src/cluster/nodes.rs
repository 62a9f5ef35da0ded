//! Pure helpers over a cluster's node list (spec §3.4, §3.8, §4.3).

use crate::config::{Cluster, Node, ROLE_CONTROL_PLANE, ROLE_WORKER};
use crate::provider::{NodeRef, ROLE_LOAD_BALANCER};

/// Control-plane and worker nodes (not the load balancer).
pub fn internal(nodes: &[NodeRef]) -> Vec<NodeRef> {
    nodes
        .iter()
        .filter(|n| n.role == ROLE_CONTROL_PLANE || n.role == ROLE_WORKER)
        .cloned()
        .collect()
}

/// Nodes of one role, sorted by name (byte order, so `…plane10` < `…plane2`
/// exactly as upstream).
pub fn by_role(nodes: &[NodeRef], role: &str) -> Vec<NodeRef> {
    let mut v: Vec<NodeRef> = nodes.iter().filter(|n| n.role == role).cloned().collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// The control plane kubeadm init runs on: the smallest name.
pub fn bootstrap_control_plane(nodes: &[NodeRef]) -> anyhow::Result<NodeRef> {
    by_role(nodes, ROLE_CONTROL_PLANE)
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("expected at least one control plane node"))
}

/// The node the API server is reached through: the load balancer if there
/// is one, else the single control plane.
pub fn api_server_endpoint_node(nodes: &[NodeRef]) -> anyhow::Result<NodeRef> {
    let lbs = by_role(nodes, ROLE_LOAD_BALANCER);
    match lbs.len() {
        1 => return Ok(lbs[0].clone()),
        0 => {}
        n => anyhow::bail!("unexpected number of external-load-balancer nodes {n}"),
    }
    let cps = by_role(nodes, ROLE_CONTROL_PLANE);
    if cps.len() != 1 {
        anyhow::bail!(
            "expected one control plane node or a load balancer, not {} and none",
            cps.len()
        );
    }
    Ok(cps[0].clone())
}

/// Map a container back to its config entry: by the index its labels
/// carry (LABEL_CONFIG_NODE), else through the names the plan gives the
/// config's nodes (spec §3.4), as upstream.
pub fn config_node_for<'a>(cluster: &'a Cluster, node: &NodeRef) -> anyhow::Result<&'a Node> {
    let unmatched = || anyhow::anyhow!("failed to match node \"{}\" to config", node.name);
    if let Some(i) = node.config_index {
        return cluster.nodes.get(i).ok_or_else(unmatched);
    }
    crate::provider::plan::node_names(cluster)
        .iter()
        .zip(&cluster.nodes)
        .find(|(name, _)| **name == node.name)
        .map(|(_, config)| config)
        .ok_or_else(unmatched)
}

/// The number kind's naming gives a node of `role` (spec §3.4):
/// `<cluster>-<role>` is 1, `<cluster>-<role><n>` is n (n ≥ 2, no leading
/// zero); None for any other name.
pub fn name_number(cluster: &str, role: &str, name: &str) -> Option<u32> {
    let suffix = name.strip_prefix(&format!("{cluster}-{role}"))?;
    if suffix.is_empty() {
        return Some(1);
    }
    if suffix.starts_with('0') || !suffix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    suffix.parse().ok().filter(|n| *n >= 2)
}

/// The name kind gives the n-th node of a role.
pub fn numbered_name(cluster: &str, role: &str, n: u32) -> String {
    if n == 1 {
        format!("{cluster}-{role}")
    } else {
        format!("{cluster}-{role}{n}")
    }
}

/// Names for `count` new nodes of `role`: the lowest numbers whose names no
/// container of the cluster has. Lowest rather than highest + 1, so a
/// cluster resized down (highest numbers first) and up again gets back the
/// names `create` gives that many nodes, and names stay dense.
pub fn next_free_names(
    cluster: &str,
    role: &str,
    existing: &[NodeRef],
    count: usize,
) -> Vec<String> {
    let taken: std::collections::BTreeSet<&str> =
        existing.iter().map(|n| n.name.as_str()).collect();
    (1..)
        .map(|n| numbered_name(cluster, role, n))
        .filter(|name| !taken.contains(name.as_str()))
        .take(count)
        .collect()
}

/// Nodes of `role` from the highest number down (names outside kind's
/// numbering last, by name): the order nodes are removed in.
pub fn highest_numbered_first(cluster: &str, role: &str, nodes: &[NodeRef]) -> Vec<NodeRef> {
    let mut v = by_role(nodes, role);
    v.sort_by(|a, b| {
        let (na, nb) = (
            name_number(cluster, role, &a.name),
            name_number(cluster, role, &b.name),
        );
        nb.cmp(&na).then_with(|| a.name.cmp(&b.name))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, role: &str) -> NodeRef {
        NodeRef {
            name: name.into(),
            role: role.into(),
            runtime_mode: "sysbox".into(),
            config_index: None,
            images_inbox: None,
        }
    }

    fn cluster(roles: &[&str]) -> Cluster {
        Cluster {
            nodes: roles
                .iter()
                .map(|r| Node {
                    role: r.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn numbers_follow_kinds_naming() {
        assert_eq!(name_number("k", "worker", "k-worker"), Some(1));
        assert_eq!(name_number("k", "worker", "k-worker2"), Some(2));
        assert_eq!(name_number("k", "worker", "k-worker10"), Some(10));
        for odd in [
            "k-worker1",
            "k-worker02",
            "k-workerx",
            "k-control-plane",
            "kk-worker",
        ] {
            assert_eq!(name_number("k", "worker", odd), None, "{odd}");
        }
        assert_eq!(numbered_name("k", "control-plane", 3), "k-control-plane3");
    }

    #[test]
    fn next_free_names_fill_the_lowest_gaps() {
        let nodes = vec![
            node("k-control-plane", "control-plane"),
            node("k-worker", "worker"),
            node("k-worker3", "worker"),
        ];
        assert_eq!(
            next_free_names("k", "worker", &nodes, 3),
            ["k-worker2", "k-worker4", "k-worker5"]
        );
        assert_eq!(
            next_free_names("k", "control-plane", &nodes, 1),
            ["k-control-plane2"]
        );
        assert!(next_free_names("k", "worker", &nodes, 0).is_empty());
    }

    #[test]
    fn removal_order_is_highest_number_first_not_byte_order() {
        let nodes = vec![
            node("k-worker", "worker"),
            node("k-worker10", "worker"),
            node("k-worker2", "worker"),
            node("k-control-plane", "control-plane"),
        ];
        let order: Vec<_> = highest_numbered_first("k", "worker", &nodes)
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(order, ["k-worker10", "k-worker2", "k-worker"]);
    }

    #[test]
    fn bootstrap_is_the_smallest_control_plane_name() {
        let nodes = vec![
            node("k-control-plane2", "control-plane"),
            node("k-worker", "worker"),
            node("k-control-plane10", "control-plane"),
            node("k-control-plane", "control-plane"),
        ];
        assert_eq!(
            bootstrap_control_plane(&nodes).unwrap().name,
            "k-control-plane"
        );
        let sorted: Vec<_> = by_role(&nodes, "control-plane")
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(
            sorted,
            ["k-control-plane", "k-control-plane10", "k-control-plane2"]
        );
    }

    #[test]
    fn endpoint_is_the_load_balancer_when_present() {
        let ha = vec![
            node("k-control-plane", "control-plane"),
            node("k-control-plane2", "control-plane"),
            node("k-external-load-balancer", "external-load-balancer"),
        ];
        assert_eq!(
            api_server_endpoint_node(&ha).unwrap().name,
            "k-external-load-balancer"
        );
        let single = vec![
            node("k-control-plane", "control-plane"),
            node("k-worker", "worker"),
        ];
        assert_eq!(
            api_server_endpoint_node(&single).unwrap().name,
            "k-control-plane"
        );
        let err = api_server_endpoint_node(&ha[..2]).unwrap_err().to_string();
        assert_eq!(
            err,
            "expected one control plane node or a load balancer, not 2 and none"
        );
    }

    #[test]
    fn internal_nodes_exclude_the_load_balancer() {
        let ha = vec![
            node("k-control-plane", "control-plane"),
            node("k-external-load-balancer", "external-load-balancer"),
        ];
        assert_eq!(internal(&ha).len(), 1);
    }

    #[test]
    fn unlabelled_containers_map_back_to_config_entries_by_name() {
        let mut c = cluster(&["control-plane", "worker", "worker", "control-plane"]);
        c.name = "x".into();
        let by_name = |name: &str| config_node_for(&c, &node(name, "")).map(|n| n as *const Node);
        assert_eq!(by_name("x-worker2").unwrap(), &c.nodes[2] as *const Node);
        assert_eq!(by_name("x-worker").unwrap(), &c.nodes[1] as *const Node);
        assert_eq!(
            by_name("x-control-plane2").unwrap(),
            &c.nodes[3] as *const Node
        );
        assert_eq!(
            by_name("x-external-load-balancer").unwrap_err().to_string(),
            "failed to match node \"x-external-load-balancer\" to config"
        );
    }

    #[test]
    fn labelled_containers_map_back_by_their_index_whatever_their_name() {
        let c = cluster(&["control-plane", "worker", "worker"]);
        let mut n = node("renamed", "worker");
        n.config_index = Some(2);
        assert!(std::ptr::eq(config_node_for(&c, &n).unwrap(), &c.nodes[2]));
        n.config_index = Some(3);
        assert_eq!(
            config_node_for(&c, &n).unwrap_err().to_string(),
            "failed to match node \"renamed\" to config"
        );
    }
}
