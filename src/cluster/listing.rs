//! What `kind get clusters -o …` and `kind get nodes -o …` list: pure
//! summaries of a cluster's containers as the provider lists them (labels,
//! state, image, networks, runtime, auto-removal), plus each cluster's
//! Kubernetes version read from its bootstrap control plane's
//! `/kind/version` through the engine's archive API (one read per cluster,
//! concurrently; it works on stopped nodes too, so no exec is needed).
//!
//! The documents are `{"apiVersion": API_VERSION, "kind": "ClusterList" |
//! "NodeList", "items": […]}`, field names in camelCase; their JSON Schemas
//! are in `schemas/` (tests/listings.rs validates real output against them).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;

use serde::Serialize;

use crate::config::{ROLE_CONTROL_PLANE, ROLE_WORKER};
use crate::provider::{
    NodeDetails, Provider, LABEL_CLUSTER, LABEL_EPHEMERAL, LABEL_NAMED_IMAGE, LABEL_NETWORK,
    LABEL_ROLE,
};

/// `apiVersion` of the listing documents.
pub const API_VERSION: &str = "kind-sysbox.dev/v1alpha1";
/// What a cluster's version reads when `/kind/version` cannot be read.
pub const UNKNOWN_VERSION: &str = "unknown";

/// One cluster, as `get clusters -o …` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSummary {
    pub name: String,
    pub control_planes: usize,
    pub workers: usize,
    /// Whether the cluster has an external load balancer container.
    pub load_balancer: bool,
    /// The Docker network(s) its containers are on, comma separated.
    pub network: String,
    /// The node images as named (distinct, sorted; the LB's aside).
    pub images: Vec<String>,
    /// `/kind/version` of the bootstrap control plane, or "unknown".
    pub kubernetes_version: String,
    /// The nodes' OCI runtime(s), comma separated (the LB's aside).
    pub runtime: String,
    /// `running` (every container), `stopped` (none) or `partial`.
    pub status: String,
    /// Nodes go away once stopped: LABEL_EPHEMERAL=true or `--rm`.
    pub ephemeral: bool,
}

/// One container of a cluster, as `get nodes -o …` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSummary {
    pub name: String,
    pub cluster: String,
    pub role: String,
    /// Docker's state (`running`, `exited`, `created`, `paused`, …).
    pub status: String,
    /// The image the user named for the node (LABEL_NAMED_IMAGE when the
    /// node runs a derivation of it, else the container's image).
    pub image: String,
    /// The image the container actually runs.
    pub container_image: String,
    /// The Docker network(s) it is attached to, comma separated.
    pub network: String,
    /// Addresses on its network(s), comma separated; empty when stopped.
    pub ipv4: String,
    pub ipv6: String,
    pub runtime: String,
}

fn label<'a>(d: &'a NodeDetails, key: &str) -> &'a str {
    d.labels.get(key).map(String::as_str).unwrap_or_default()
}

fn is_node(d: &NodeDetails) -> bool {
    matches!(label(d, LABEL_ROLE), ROLE_CONTROL_PLANE | ROLE_WORKER)
}

/// The image the user named for a container.
fn named_image(d: &NodeDetails) -> String {
    match label(d, LABEL_NAMED_IMAGE) {
        "" => d.image.clone(),
        named => named.to_string(),
    }
}

/// The networks a container is on; a container attached to none (e.g.
/// disconnected by hand) reads the network it was created on.
fn networks(d: &NodeDetails) -> Vec<String> {
    if d.networks.is_empty() {
        return Some(label(d, LABEL_NETWORK).to_string())
            .filter(|n| !n.is_empty())
            .into_iter()
            .collect();
    }
    d.networks.iter().map(|n| n.network.clone()).collect()
}

fn join<I: IntoIterator<Item = String>>(items: I) -> String {
    items
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(",")
}

/// Docker's container states other than running are "stopped" for a
/// cluster's status, except a paused one (still there, but not serving).
fn cluster_status(containers: &[&NodeDetails]) -> &'static str {
    let running = containers.iter().filter(|d| d.state == "running").count();
    match running {
        0 => "stopped",
        n if n == containers.len() => "running",
        _ => "partial",
    }
}

/// The node whose `/kind/version` is the cluster's version: the bootstrap
/// control plane (smallest name, as `kubeadm init` picks it), per cluster.
pub fn version_nodes(details: &[NodeDetails]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for d in details
        .iter()
        .filter(|d| label(d, LABEL_ROLE) == ROLE_CONTROL_PLANE)
    {
        let cluster = label(d, LABEL_CLUSTER).to_string();
        match out.get(&cluster) {
            Some(current) if *current <= d.name => {}
            _ => {
                out.insert(cluster, d.name.clone());
            }
        }
    }
    out
}

/// The cluster summaries, sorted by name. `versions` maps cluster names to
/// their Kubernetes version (missing: "unknown").
pub fn clusters(
    details: &[NodeDetails],
    versions: &BTreeMap<String, String>,
) -> Vec<ClusterSummary> {
    let mut by_cluster: BTreeMap<&str, Vec<&NodeDetails>> = BTreeMap::new();
    for d in details {
        by_cluster
            .entry(label(d, LABEL_CLUSTER))
            .or_default()
            .push(d);
    }
    by_cluster
        .into_iter()
        .map(|(name, containers)| {
            let nodes: Vec<&&NodeDetails> = containers.iter().filter(|d| is_node(d)).collect();
            let count = |role: &str| {
                nodes
                    .iter()
                    .filter(|d| label(d, LABEL_ROLE) == role)
                    .count()
            };
            ClusterSummary {
                name: name.to_string(),
                control_planes: count(ROLE_CONTROL_PLANE),
                workers: count(ROLE_WORKER),
                load_balancer: containers.iter().any(|d| !is_node(d)),
                network: join(containers.iter().flat_map(|d| networks(d))),
                images: nodes
                    .iter()
                    .map(|d| named_image(d))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                kubernetes_version: versions
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| UNKNOWN_VERSION.to_string()),
                runtime: join(nodes.iter().map(|d| d.runtime.clone())),
                status: cluster_status(&containers).to_string(),
                ephemeral: containers
                    .iter()
                    .any(|d| label(d, LABEL_EPHEMERAL) == "true" || d.auto_remove),
            }
        })
        .collect()
}

/// The node summaries, sorted by cluster, then name.
pub fn nodes(details: &[NodeDetails]) -> Vec<NodeSummary> {
    let mut out: Vec<NodeSummary> = details
        .iter()
        .map(|d| {
            let addresses = |f: fn(&crate::provider::NetworkAttachment) -> &String| {
                d.networks
                    .iter()
                    .map(f)
                    .filter(|a| !a.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",")
            };
            NodeSummary {
                name: d.name.clone(),
                cluster: label(d, LABEL_CLUSTER).to_string(),
                role: label(d, LABEL_ROLE).to_string(),
                status: d.state.clone(),
                image: named_image(d),
                container_image: d.image.clone(),
                network: networks(d).join(","),
                ipv4: addresses(|n| &n.ipv4),
                ipv6: addresses(|n| &n.ipv6),
                runtime: d.runtime.clone(),
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.cluster, &a.name).cmp(&(&b.cluster, &b.name)));
    out
}

/// The contents of the first file in a `docker cp`-style tar, trimmed.
pub fn file_in_tar(tar: &[u8]) -> Option<String> {
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        if entry.header().entry_type().is_file() {
            let mut s = String::new();
            entry.read_to_string(&mut s).ok()?;
            return Some(s.trim().to_string()).filter(|s| !s.is_empty());
        }
    }
    None
}

/// Every cluster's summary: one listing, then the versions concurrently.
pub async fn gather_clusters(provider: &dyn Provider) -> anyhow::Result<Vec<ClusterSummary>> {
    let details = provider.list_node_details(None).await?;
    let reads = version_nodes(&details)
        .into_iter()
        .map(|(cluster, node)| async move {
            let version = provider
                .copy_from_container(&node, "/kind/version")
                .await
                .ok()
                .flatten()
                .and_then(|tar| file_in_tar(&tar));
            (cluster, version)
        });
    let versions: BTreeMap<String, String> = futures_util::future::join_all(reads)
        .await
        .into_iter()
        .filter_map(|(c, v)| Some((c, v?)))
        .collect();
    Ok(clusters(&details, &versions))
}

/// The node summaries of one cluster (None: of every cluster).
pub async fn gather_nodes(
    provider: &dyn Provider,
    cluster: Option<&str>,
) -> anyhow::Result<Vec<NodeSummary>> {
    Ok(nodes(&provider.list_node_details(cluster).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::fake::FakeProvider;
    use crate::provider::NetworkAttachment;

    fn container(
        cluster: &str,
        name: &str,
        role: &str,
        state: &str,
        extra: &[(&str, &str)],
    ) -> NodeDetails {
        let mut labels: BTreeMap<String, String> = [
            (LABEL_CLUSTER.to_string(), cluster.to_string()),
            (LABEL_ROLE.to_string(), role.to_string()),
        ]
        .into();
        labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let running = state == "running";
        NodeDetails {
            name: name.into(),
            labels,
            state: state.into(),
            image: "kind-sysbox/node:v1.36.1".into(),
            networks: vec![NetworkAttachment {
                network: format!("net-{cluster}"),
                ipv4: if running {
                    "172.18.0.2".into()
                } else {
                    String::new()
                },
                ipv6: if running {
                    "fc00::2".into()
                } else {
                    String::new()
                },
            }],
            runtime: "sysbox-runc".into(),
            auto_remove: false,
        }
    }

    #[test]
    fn clusters_count_roles_and_report_status() {
        let named = [(LABEL_NAMED_IMAGE, "kindest/node:v1.31.2")];
        let details = vec![
            container("b", "b-worker", "worker", "running", &named),
            container("b", "b-control-plane", "control-plane", "running", &[]),
            container("b", "b-control-plane2", "control-plane", "exited", &[]),
            container(
                "b",
                "b-external-load-balancer",
                "external-load-balancer",
                "running",
                &[],
            ),
            container(
                "a",
                "a-control-plane",
                "control-plane",
                "exited",
                &[(LABEL_EPHEMERAL, "true")],
            ),
        ];
        let versions: BTreeMap<String, String> = [("b".to_string(), "v1.36.1".to_string())].into();
        let got = clusters(&details, &versions);
        assert_eq!(
            got,
            vec![
                ClusterSummary {
                    name: "a".into(),
                    control_planes: 1,
                    workers: 0,
                    load_balancer: false,
                    network: "net-a".into(),
                    images: vec!["kind-sysbox/node:v1.36.1".into()],
                    kubernetes_version: "unknown".into(),
                    runtime: "sysbox-runc".into(),
                    status: "stopped".into(),
                    ephemeral: true,
                },
                ClusterSummary {
                    name: "b".into(),
                    control_planes: 2,
                    workers: 1,
                    load_balancer: true,
                    network: "net-b".into(),
                    images: vec![
                        "kind-sysbox/node:v1.36.1".into(),
                        "kindest/node:v1.31.2".into()
                    ],
                    kubernetes_version: "v1.36.1".into(),
                    runtime: "sysbox-runc".into(),
                    status: "partial".into(),
                    ephemeral: false,
                },
            ]
        );
        // Every container running: running; auto-removal is ephemeral too.
        let mut c = container("c", "c-control-plane", "control-plane", "running", &[]);
        c.auto_remove = true;
        let got = clusters(&[c], &BTreeMap::new());
        assert_eq!(
            (got[0].status.as_str(), got[0].ephemeral),
            ("running", true)
        );
    }

    #[test]
    fn the_version_comes_from_the_bootstrap_control_plane() {
        let details = vec![
            container("x", "x-control-plane2", "control-plane", "running", &[]),
            container("x", "x-control-plane", "control-plane", "running", &[]),
            container("x", "x-worker", "worker", "running", &[]),
            container("y", "y-worker", "worker", "running", &[]),
        ];
        assert_eq!(
            version_nodes(&details),
            [("x".to_string(), "x-control-plane".to_string())].into()
        );
    }

    #[test]
    fn nodes_show_the_named_and_the_running_image_and_addresses() {
        let mut w = container(
            "k",
            "k-worker",
            "worker",
            "running",
            &[(LABEL_NAMED_IMAGE, "kindest/node:v1.31.2")],
        );
        w.image = "kind-sysbox/kindest/node:v1.31.2".into();
        let mut cp = container("k", "k-control-plane", "control-plane", "exited", &[]);
        cp.networks.clear();
        cp.labels.insert(LABEL_NETWORK.into(), "kind".into());
        let got = nodes(&[w, cp]);
        assert_eq!(
            got.iter()
                .map(|n| (
                    n.name.as_str(),
                    n.image.as_str(),
                    n.container_image.as_str()
                ))
                .collect::<Vec<_>>(),
            [
                (
                    "k-control-plane",
                    "kind-sysbox/node:v1.36.1",
                    "kind-sysbox/node:v1.36.1"
                ),
                (
                    "k-worker",
                    "kindest/node:v1.31.2",
                    "kind-sysbox/kindest/node:v1.31.2"
                ),
            ]
        );
        assert_eq!(
            (
                got[1].status.as_str(),
                got[1].ipv4.as_str(),
                got[1].ipv6.as_str()
            ),
            ("running", "172.18.0.2", "fc00::2")
        );
        // Stopped and detached: no addresses; the network it was created on.
        assert_eq!(
            (
                got[0].status.as_str(),
                got[0].ipv4.as_str(),
                got[0].network.as_str()
            ),
            ("exited", "", "kind")
        );
    }

    #[tokio::test]
    async fn gathering_reads_each_clusters_version_once() {
        let p = FakeProvider::default()
            .with_details(
                container("a", "a-control-plane", "control-plane", "running", &[]),
                Some("v1.30.13"),
            )
            .with_details(
                container("a", "a-worker", "worker", "running", &[]),
                Some("v9.9.9"),
            )
            .with_details(
                container("b", "b-control-plane", "control-plane", "exited", &[]),
                None,
            );
        let got = gather_clusters(&p).await.unwrap();
        let versions: Vec<(&str, &str)> = got
            .iter()
            .map(|c| (c.name.as_str(), c.kubernetes_version.as_str()))
            .collect();
        assert_eq!(versions, [("a", "v1.30.13"), ("b", "unknown")]);
        let nodes = gather_nodes(&p, Some("a")).await.unwrap();
        assert_eq!(nodes.len(), 2);
    }
}
