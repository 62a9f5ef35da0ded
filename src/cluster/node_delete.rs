//! Removing nodes from a running cluster (`kind delete node`, `kind resize
//! cluster` shrinking, and the rollback of a failed add): the plan refuses
//! what would break the cluster (unknown names, the load balancer, the
//! last control plane) before anything changes; each node is then drained
//! and its Node object deleted from a remaining control plane, a control
//! plane also leaves etcd (`kubeadm reset`), and its container goes. The
//! load balancer is reconfigured when control planes left.
//!
//! Every command in a node is bounded: a drain gets `DRAIN_TIMEOUT` (and
//! kubectl's own `--timeout` of the same), the others `COMMAND_TIMEOUT`. A
//! drain, reset or Node deletion that fails or times out is a warning: the
//! container is removed regardless, as the user asked.

use std::time::Duration;

use anyhow::{anyhow, bail};

use super::actions::Action;
use super::{nodes, record, ActionContext};
use crate::config::{Cluster, ROLE_CONTROL_PLANE, ROLE_WORKER};
use crate::gotext::quote_list;
use crate::log::Logger;
use crate::provider::{HostInfo, NodeRef, Provider, RuntimeMode, ROLE_LOAD_BALANCER};

/// How long a drain may evict pods (kubectl's `--timeout`).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on every other command run in a node while removing it.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// What one removal does, decided before anything changes.
#[derive(Debug, Clone, PartialEq)]
pub struct RemovePlan {
    /// Workers first, then control planes, each group in the given order
    /// (etcd keeps its members as long as possible).
    pub remove: Vec<NodeRef>,
    /// The control plane that stays and runs kubectl.
    pub runner: NodeRef,
    /// Control planes leave and a load balancer stays: its backends change.
    pub reconfigure_lb: bool,
}

/// Check and order a removal of `names` from `cluster`'s `nodes`.
pub fn plan(cluster: &str, nodes: &[NodeRef], names: &[String]) -> anyhow::Result<RemovePlan> {
    let mut wanted: Vec<&String> = Vec::new();
    for n in names {
        if !wanted.contains(&n) {
            wanted.push(n);
        }
    }
    let unknown: Vec<String> = wanted
        .iter()
        .filter(|n| !nodes.iter().any(|node| &node.name == **n))
        .map(|n| n.to_string())
        .collect();
    if !unknown.is_empty() {
        bail!(
            "unknown node(s) {} in cluster {cluster:?} (kind get nodes --name {cluster} lists its nodes)",
            quote_list(&unknown)
        );
    }
    let chosen: Vec<NodeRef> = wanted
        .iter()
        .filter_map(|n| nodes.iter().find(|node| &node.name == *n).cloned())
        .collect();
    if let Some(lb) = chosen.iter().find(|n| n.role == ROLE_LOAD_BALANCER) {
        bail!(
            "refusing to delete {}: it is the cluster's external load balancer, the API server endpoint of every node and kubeconfig; delete the cluster instead",
            lb.name
        );
    }
    if let Some(other) = chosen
        .iter()
        .find(|n| n.role != ROLE_WORKER && n.role != ROLE_CONTROL_PLANE)
    {
        bail!(
            "refusing to delete {}: it is not a Kubernetes node (role {:?})",
            other.name,
            other.role
        );
    }
    let remaining: Vec<NodeRef> = nodes
        .iter()
        .filter(|n| !chosen.iter().any(|c| c.name == n.name))
        .cloned()
        .collect();
    let runner = nodes::by_role(&remaining, ROLE_CONTROL_PLANE)
        .into_iter()
        .next()
        .ok_or_else(|| {
            anyhow!(
                "refusing to delete {}: cluster {cluster:?} would have no control plane left; delete the cluster instead (kind delete cluster --name {cluster})",
                quote_list(&chosen.iter().map(|n| n.name.clone()).collect::<Vec<_>>())
            )
        })?;
    let (mut remove, cps): (Vec<NodeRef>, Vec<NodeRef>) =
        chosen.into_iter().partition(|n| n.role == ROLE_WORKER);
    let reconfigure_lb = !cps.is_empty() && !nodes::by_role(nodes, ROLE_LOAD_BALANCER).is_empty();
    remove.extend(cps);
    Ok(RemovePlan {
        remove,
        runner,
        reconfigure_lb,
    })
}

/// `kind delete node NODE… --name CLUSTER`.
pub async fn delete_nodes(
    provider: &dyn Provider,
    cluster: &str,
    names: &[String],
    log: &Logger,
) -> anyhow::Result<()> {
    let all = record::nodes_of(provider, cluster).await?;
    let plan = plan(cluster, &all, names)?;
    let env = Env::load(provider, cluster, &all).await?;
    super::interrupt::unless_signalled(async {
        for node in &plan.remove {
            remove_node(&env, provider, Some(&plan.runner), node, true, log).await?;
        }
        if plan.reconfigure_lb {
            env.reconfigure_load_balancer(provider, log).await?;
        }
        anyhow::Ok(())
    })
    .await?;
    log.info(&format!(
        "Deleted nodes: {}",
        quote_list(
            &plan
                .remove
                .iter()
                .map(|n| n.name.clone())
                .collect::<Vec<_>>()
        )
    ));
    Ok(())
}

/// What commands against a running cluster need besides the provider:
/// its stored config (defaults for clusters created without one), host
/// facts and runtime mode.
pub(crate) struct Env {
    pub config: Cluster,
    pub host: HostInfo,
    pub mode: RuntimeMode,
}

impl Env {
    pub(crate) async fn load(
        provider: &dyn Provider,
        cluster: &str,
        nodes: &[NodeRef],
    ) -> anyhow::Result<Env> {
        let mut config = record::effective_config(provider, cluster)
            .await?
            .unwrap_or_default();
        config.name = cluster.to_string();
        let host = provider.info().await?;
        let mode = record::runtime_mode(nodes, &host)?;
        Ok(Env { config, host, mode })
    }

    /// Point the load balancer at the control planes there are now, as
    /// create does (fresh listing: the cluster's nodes changed).
    pub(crate) async fn reconfigure_load_balancer(
        &self,
        provider: &dyn Provider,
        log: &Logger,
    ) -> anyhow::Result<()> {
        let ctx = ActionContext::new(&self.config, provider, log, &self.mode, &self.host);
        Action::LoadBalancer.run(&ctx).await
    }
}

/// Remove one node: drain it (when asked) and delete its Node object from
/// `runner`, take a control plane out of etcd, then remove its container.
/// Only the container removal can fail the step.
pub(crate) async fn remove_node(
    env: &Env,
    provider: &dyn Provider,
    runner: Option<&NodeRef>,
    node: &NodeRef,
    drain: bool,
    log: &Logger,
) -> anyhow::Result<()> {
    let ctx = ActionContext::new(&env.config, provider, log, &env.mode, &env.host);
    if let (Some(runner), true) = (runner, drain) {
        log.status_start(&format!("Draining node {} 🚧", node.name));
        let timeout = format!("--timeout={}s", DRAIN_TIMEOUT.as_secs());
        let argv = kubectl(&[
            "drain",
            &node.name,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            &timeout,
        ]);
        // kubectl's own timeout plus the time to give up on an unreachable API.
        let bound = DRAIN_TIMEOUT + Duration::from_secs(30);
        if let Err(e) = bounded(&ctx, runner, &argv, bound).await {
            log.status_end(false);
            log.warn(&format!(
                "WARNING: failed to drain node {}, removing it anyway: {e:#}",
                node.name
            ));
        }
    }
    log.status_start(&format!("Removing node {} 🗑️", node.name));
    if node.role == ROLE_CONTROL_PLANE {
        // Leaves etcd (kubeadm's remove-etcd-member phase) while it can.
        let reset = ["kubeadm", "reset", "--force"].map(String::from);
        if let Err(e) = bounded(&ctx, node, &reset, COMMAND_TIMEOUT).await {
            log.warn(&format!(
                "WARNING: kubeadm reset failed on {} (its etcd member may remain): {e:#}",
                node.name
            ));
        }
    }
    if let Some(runner) = runner {
        let argv = kubectl(&["delete", "node", &node.name, "--ignore-not-found"]);
        if let Err(e) = bounded(&ctx, runner, &argv, COMMAND_TIMEOUT).await {
            log.warn(&format!(
                "WARNING: failed to delete the Node object {}: {e:#}",
                node.name
            ));
        }
    }
    let removed = provider
        .delete_nodes(std::slice::from_ref(&node.name))
        .await;
    log.status_end(removed.is_ok());
    removed
}

fn kubectl(args: &[&str]) -> Vec<String> {
    ["kubectl", "--kubeconfig=/etc/kubernetes/admin.conf"]
        .iter()
        .chain(args)
        .map(|a| a.to_string())
        .collect()
}

/// Run a command in a node, giving up after `bound`.
async fn bounded(
    ctx: &ActionContext<'_>,
    node: &NodeRef,
    argv: &[String],
    bound: Duration,
) -> anyhow::Result<()> {
    match tokio::time::timeout(bound, ctx.exec_owned(node, argv)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(anyhow!(
            "{} did not finish within {}s",
            argv.join(" "),
            bound.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Buffer;
    use crate::provider::fake::FakeProvider;

    fn node(name: &str, role: &str) -> NodeRef {
        NodeRef {
            name: name.into(),
            role: role.into(),
            runtime_mode: "sysbox".into(),
            config_index: None,
            images_inbox: None,
        }
    }

    fn ha() -> Vec<NodeRef> {
        vec![
            node("k-control-plane", "control-plane"),
            node("k-control-plane2", "control-plane"),
            node("k-worker", "worker"),
            node("k-external-load-balancer", "external-load-balancer"),
        ]
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unknown_nodes_are_named_and_nothing_is_planned() {
        let err = plan("k", &ha(), &names(&["k-worker", "k-worker9", "nope"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown node(s) [\"k-worker9\" \"nope\"] in cluster \"k\" (kind get nodes --name k lists its nodes)"
        );
    }

    #[test]
    fn the_load_balancer_and_the_last_control_plane_are_refused() {
        let err = plan("k", &ha(), &names(&["k-external-load-balancer"])).unwrap_err();
        assert!(err.to_string().starts_with("refusing to delete k-external-load-balancer: it is the cluster's external load balancer"), "{err}");
        let err = plan("k", &ha(), &names(&["k-control-plane2", "k-control-plane"])).unwrap_err();
        assert!(
            err.to_string()
                .contains("cluster \"k\" would have no control plane left"),
            "{err}"
        );
    }

    #[test]
    fn workers_go_first_and_a_remaining_control_plane_runs_kubectl() {
        let p = plan(
            "k",
            &ha(),
            &names(&["k-control-plane", "k-worker", "k-worker"]),
        )
        .unwrap();
        let order: Vec<_> = p.remove.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(order, ["k-worker", "k-control-plane"]);
        assert_eq!(p.runner.name, "k-control-plane2");
        assert!(p.reconfigure_lb);
        let p = plan("k", &ha(), &names(&["k-worker"])).unwrap();
        assert!(!p.reconfigure_lb);
        assert_eq!(p.runner.name, "k-control-plane");
    }

    #[tokio::test]
    async fn a_worker_is_drained_deleted_and_removed_and_a_failed_drain_only_warns() {
        let p = FakeProvider::default()
            .with_node("k", "k-control-plane", "control-plane", "v1.36.1")
            .with_node("k", "k-worker", "worker", "v1.36.1")
            .with_node("k", "k-worker2", "worker", "v1.36.1");
        p.fail(&[
            "kubectl",
            "--kubeconfig=/etc/kubernetes/admin.conf",
            "drain",
            "k-worker2",
        ]);
        let buffer = Buffer::default();
        let log = Logger::new(Box::new(buffer.clone()), false, 0, false);
        delete_nodes(&p, "k", &names(&["k-worker2", "k-worker"]), &log)
            .await
            .unwrap();
        let calls: Vec<String> = p
            .calls_on("k-control-plane")
            .iter()
            .map(|c| c.join(" "))
            .collect();
        let k = "kubectl --kubeconfig=/etc/kubernetes/admin.conf";
        assert_eq!(
            calls,
            [
                format!("{k} drain k-worker2 --ignore-daemonsets --delete-emptydir-data --force --timeout=60s"),
                format!("{k} delete node k-worker2 --ignore-not-found"),
                format!("{k} drain k-worker --ignore-daemonsets --delete-emptydir-data --force --timeout=60s"),
                format!("{k} delete node k-worker --ignore-not-found"),
            ]
        );
        assert_eq!(p.deleted(), ["k-worker2", "k-worker"]);
        let out = buffer.contents();
        assert!(
            out.contains("WARNING: failed to drain node k-worker2, removing it anyway"),
            "{out}"
        );
        assert!(
            out.contains("Deleted nodes: [\"k-worker2\" \"k-worker\"]"),
            "{out}"
        );
    }

    #[tokio::test]
    async fn refusals_change_nothing() {
        let p = FakeProvider::default()
            .with_node("k", "k-control-plane", "control-plane", "v1.36.1")
            .with_node("k", "k-worker", "worker", "v1.36.1");
        let log = Logger::new(Box::new(Buffer::default()), false, 0, false);
        assert!(delete_nodes(&p, "k", &names(&["k-control-plane"]), &log)
            .await
            .is_err());
        let err = delete_nodes(&p, "nope", &names(&["k-worker"]), &log)
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with("unknown cluster \"nope\""),
            "{err}"
        );
        assert!(p.calls().is_empty() && p.deleted().is_empty());
    }
}
