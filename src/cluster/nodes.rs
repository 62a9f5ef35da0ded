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

/// Map a container back to its config entry through the names the plan
/// gives the config's nodes (spec §3.4).
pub fn config_node_for<'a>(cluster: &'a Cluster, container: &str) -> anyhow::Result<&'a Node> {
    crate::provider::plan::node_names(cluster)
        .iter()
        .zip(&cluster.nodes)
        .find(|(name, _)| name.as_str() == container)
        .map(|(_, node)| node)
        .ok_or_else(|| anyhow::anyhow!("failed to match node \"{container}\" to config"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, role: &str) -> NodeRef {
        NodeRef {
            name: name.into(),
            role: role.into(),
            runtime_mode: "sysbox".into(),
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
    fn containers_map_back_to_config_entries() {
        let mut c = cluster(&["control-plane", "worker", "worker", "control-plane"]);
        c.name = "x".into();
        assert!(std::ptr::eq(
            config_node_for(&c, "x-worker2").unwrap(),
            &c.nodes[2]
        ));
        assert!(std::ptr::eq(
            config_node_for(&c, "x-worker").unwrap(),
            &c.nodes[1]
        ));
        assert!(std::ptr::eq(
            config_node_for(&c, "x-control-plane2").unwrap(),
            &c.nodes[3]
        ));
        assert_eq!(
            config_node_for(&c, "x-external-load-balancer")
                .unwrap_err()
                .to_string(),
            "failed to match node \"x-external-load-balancer\" to config"
        );
    }
}
