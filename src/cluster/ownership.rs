//! Who owns a cluster name during `kind create cluster`, so that two
//! creates of one name started together cannot destroy each other.
//!
//! - The claim: the cluster's first control plane, `<name>-control-plane`,
//!   is created alone before any other container. Every config of that
//!   name has it and Docker's container names are unique, so exactly one of
//!   two racing creates gets it; the other fails with upstream's "already
//!   exist" message having created nothing.
//! - The mark: every container of a run carries LABEL_CREATE_ID with the
//!   run's random ID, and a failed run removes only containers with its own
//!   ID (never what another run, or anyone else, created).

use rand::Rng as _;

use crate::config::{Cluster, ROLE_CONTROL_PLANE};
use crate::provider::{ContainerSpec, LABEL_CREATE_ID};

/// The cluster name is taken: containers of it exist, or another create
/// claimed it first. Display is upstream's message.
#[derive(Debug, thiserror::Error)]
#[error("node(s) already exist for a cluster with the name {}", crate::gotext::quote(.name))]
pub struct ClusterExists {
    pub name: String,
}

/// A fresh ID for one create run (64 random bits, hex).
pub fn new_create_id() -> String {
    format!("{:016x}", rand::rng().random::<u64>())
}

/// Put the run's ID on every container it will create.
pub fn mark(specs: &mut [ContainerSpec], create_id: &str) {
    for s in specs {
        s.labels
            .insert(LABEL_CREATE_ID.to_string(), create_id.to_string());
    }
}

/// Split the plan into the claim (created first, alone) and the rest
/// (created concurrently once the claim is ours). The claim is the spec of
/// the config's first control plane; a plan without one (validation
/// prevents it) claims with its first spec.
pub fn split_claim(
    cluster: &Cluster,
    mut specs: Vec<ContainerSpec>,
) -> Option<(ContainerSpec, Vec<ContainerSpec>)> {
    let first_cp = crate::provider::plan::node_names(cluster)
        .into_iter()
        .zip(&cluster.nodes)
        .find(|(_, n)| n.role == ROLE_CONTROL_PLANE)
        .map(|(name, _)| name);
    let at = first_cp
        .and_then(|name| specs.iter().position(|s| s.name == name))
        .unwrap_or(0);
    if specs.is_empty() {
        return None;
    }
    let claim = specs.remove(at);
    Some((claim, specs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Node;

    fn cluster(roles: &[&str]) -> Cluster {
        Cluster {
            name: "k".into(),
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

    fn specs(names: &[&str]) -> Vec<ContainerSpec> {
        names
            .iter()
            .map(|n| ContainerSpec {
                name: n.to_string(),
                ..Default::default()
            })
            .collect()
    }

    fn names(v: &[ContainerSpec]) -> Vec<&str> {
        v.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn the_first_control_plane_is_claimed_whatever_the_config_order() {
        let c = cluster(&["worker", "control-plane", "control-plane"]);
        let (claim, rest) = split_claim(
            &c,
            specs(&[
                "k-worker",
                "k-control-plane",
                "k-control-plane2",
                "k-external-load-balancer",
            ]),
        )
        .unwrap();
        assert_eq!(claim.name, "k-control-plane");
        assert_eq!(
            names(&rest),
            ["k-worker", "k-control-plane2", "k-external-load-balancer"]
        );
        // Same name, another config: the same claim, so the two collide on it.
        let (claim, rest) =
            split_claim(&cluster(&["control-plane"]), specs(&["k-control-plane"])).unwrap();
        assert_eq!((claim.name.as_str(), rest.len()), ("k-control-plane", 0));
        assert!(split_claim(&cluster(&[]), vec![]).is_none());
    }

    #[test]
    fn every_container_carries_the_run_id() {
        let mut s = specs(&["a", "b"]);
        let id = new_create_id();
        assert_eq!(id.len(), 16);
        assert_ne!(id, new_create_id());
        mark(&mut s, &id);
        assert!(s.iter().all(|s| s.labels.get(LABEL_CREATE_ID) == Some(&id)));
    }

    #[test]
    fn exists_message_is_upstreams() {
        assert_eq!(
            ClusterExists { name: "x".into() }.to_string(),
            "node(s) already exist for a cluster with the name \"x\""
        );
    }
}
