//! `kind stop cluster` / `kind start cluster` (ours, not upstream's).
//!
//! Stop goes workers, then control planes, then the load balancer, so no
//! node loses its API server while it still runs; start goes the other way
//! and then waits (bounded) until the control plane reports every node
//! Ready. Nodes of one role stop or start together. Nodes keep their
//! addresses (fixed at create, see `provider::addresses`) and their
//! published ports (fixed in the container's host config), so the
//! kubeconfig written at create still works after a start.
//!
//! Bad input changes nothing: an unknown cluster, an ephemeral one (its
//! nodes are removed when they stop), stopping a stopped cluster and
//! starting a running one all fail before any node is touched.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::cluster::actions::wait_for_ready::all_true;
use crate::cluster::nodes;
use crate::config::{ROLE_CONTROL_PLANE, ROLE_WORKER};
use crate::gotext::{go_duration, quote_list};
use crate::log::Logger;
use crate::provider::{NodeRef, NodeState, Provider, ROLE_LOAD_BALANCER};

/// `kind start cluster --wait` when not given.
pub const DEFAULT_START_WAIT: Duration = Duration::from_secs(300);

/// The start order: load balancer, control planes, workers; each phase
/// sorted by name, empty phases left out. Stop runs it backwards.
pub fn start_phases(all: &[NodeRef]) -> Vec<Vec<String>> {
    [ROLE_LOAD_BALANCER, ROLE_CONTROL_PLANE, ROLE_WORKER]
        .iter()
        .map(|role| {
            nodes::by_role(all, role)
                .into_iter()
                .map(|n| n.name)
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// What a stop or start has to do, or why it must not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Phases of node names to act on, in order.
    Run(Vec<Vec<String>>),
    Refuse(String),
}

/// The stop plan for a cluster's nodes and their states (same order).
pub fn plan_stop(cluster: &str, all: &[NodeRef], states: &[NodeState]) -> Plan {
    if all.is_empty() {
        return Plan::Refuse(no_such_cluster(cluster));
    }
    if states.iter().any(|s| s.ephemeral) {
        return Plan::Refuse(format!(
            "cluster {cluster:?} is ephemeral (created with --ephemeral): Docker removes its nodes when they stop, so it cannot be stopped and started again; delete it with `kind delete cluster --name {cluster}`"
        ));
    }
    let running = |n: &String| {
        all.iter()
            .zip(states)
            .any(|(node, s)| &node.name == n && s.running)
    };
    let phases: Vec<Vec<String>> = start_phases(all)
        .into_iter()
        .rev()
        .map(|p| p.into_iter().filter(|n| running(n)).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    if phases.is_empty() {
        return Plan::Refuse(format!(
            "cluster {cluster:?} is already stopped (start it with `kind start cluster --name {cluster}`)"
        ));
    }
    Plan::Run(phases)
}

/// The start plan: the nodes not running, in start order.
pub fn plan_start(cluster: &str, all: &[NodeRef], states: &[NodeState]) -> Plan {
    if all.is_empty() {
        return Plan::Refuse(no_such_cluster(cluster));
    }
    let stopped = |n: &String| {
        all.iter()
            .zip(states)
            .any(|(node, s)| &node.name == n && !s.running)
    };
    let phases: Vec<Vec<String>> = start_phases(all)
        .into_iter()
        .map(|p| p.into_iter().filter(|n| stopped(n)).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    if phases.is_empty() {
        return Plan::Refuse(format!(
            "cluster {cluster:?} is already running (all {} nodes)",
            all.len()
        ));
    }
    Plan::Run(phases)
}

fn no_such_cluster(cluster: &str) -> String {
    format!("unknown cluster {cluster:?}: it has no nodes (`kind get clusters` lists the clusters)")
}

async fn observe(
    provider: &dyn Provider,
    cluster: &str,
) -> anyhow::Result<(Vec<NodeRef>, Vec<NodeState>)> {
    let all = provider
        .list_nodes(cluster)
        .await
        .context("error listing nodes")?;
    let mut states = Vec::with_capacity(all.len());
    for n in &all {
        states.push(provider.node_state(&n.name).await?);
    }
    Ok((all, states))
}

/// `kind stop cluster`.
pub async fn stop(provider: &dyn Provider, cluster: &str, log: &Logger) -> anyhow::Result<()> {
    let (all, states) = observe(provider, cluster).await?;
    let phases = match plan_stop(cluster, &all, &states) {
        Plan::Run(p) => p,
        Plan::Refuse(why) => bail!(why),
    };
    log.info(&format!("Stopping cluster {cluster:?} ..."));
    for phase in &phases {
        provider.stop_nodes(phase).await?;
        log.info(&format!("Stopped nodes: {}", quote_list(phase)));
    }
    Ok(())
}

/// `kind start cluster`; `wait` zero skips the readiness wait.
pub async fn start(
    provider: &dyn Provider,
    cluster: &str,
    wait: Duration,
    log: &Logger,
) -> anyhow::Result<()> {
    let (all, states) = observe(provider, cluster).await?;
    let phases = match plan_start(cluster, &all, &states) {
        Plan::Run(p) => p,
        Plan::Refuse(why) => bail!(why),
    };
    log.info(&format!("Starting cluster {cluster:?} ..."));
    for phase in &phases {
        provider.start_nodes(phase).await?;
        log.info(&format!("Started nodes: {}", quote_list(phase)));
    }
    if wait.is_zero() {
        return Ok(());
    }
    wait_ready(provider, cluster, &all, wait, log).await
}

/// Poll the first control plane until every node it knows reports Ready.
async fn wait_ready(
    provider: &dyn Provider,
    cluster: &str,
    all: &[NodeRef],
    wait: Duration,
    log: &Logger,
) -> anyhow::Result<()> {
    let Some(cp) = nodes::by_role(all, ROLE_CONTROL_PLANE).into_iter().next() else {
        bail!("cluster {cluster:?} has no control plane node to ask for node readiness");
    };
    log.status_start(&format!(
        "Waiting ≤ {} for every node = Ready ⏳",
        go_duration(Duration::from_secs(wait.as_secs()))
    ));
    let argv = [
        "kubectl",
        "--kubeconfig=/etc/kubernetes/admin.conf",
        "get",
        "nodes",
        "-o=jsonpath={.items..status.conditions[-1:].status}",
    ];
    let begin = Instant::now();
    while begin.elapsed() < wait {
        if let Ok(out) = provider.exec(&cp, &argv, None).await {
            if all_true(&String::from_utf8_lossy(&out.stdout)) {
                log.status_end(true);
                log.info(&format!(
                    " • Ready after {} 💚",
                    go_duration(Duration::from_secs(begin.elapsed().as_secs()))
                ));
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    log.status_end(false);
    bail!(
        "cluster {cluster:?} started, but not every node was Ready within {} (see `kubectl get nodes`)",
        go_duration(wait)
    )
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
            node("k-worker2", "worker"),
            node("k-control-plane2", "control-plane"),
            node("k-external-load-balancer", "external-load-balancer"),
            node("k-worker", "worker"),
            node("k-control-plane", "control-plane"),
        ]
    }

    fn states(running: &[bool]) -> Vec<NodeState> {
        running
            .iter()
            .map(|r| NodeState {
                running: *r,
                ephemeral: false,
            })
            .collect()
    }

    fn s(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|p| p.iter().map(|x| x.to_string()).collect())
            .collect()
    }

    #[test]
    fn stop_goes_workers_control_planes_lb_and_start_back() {
        let all = ha();
        assert_eq!(
            plan_stop("k", &all, &states(&[true; 5])),
            Plan::Run(s(&[
                &["k-worker", "k-worker2"],
                &["k-control-plane", "k-control-plane2"],
                &["k-external-load-balancer"],
            ]))
        );
        assert_eq!(
            plan_start("k", &all, &states(&[false; 5])),
            Plan::Run(s(&[
                &["k-external-load-balancer"],
                &["k-control-plane", "k-control-plane2"],
                &["k-worker", "k-worker2"],
            ]))
        );
    }

    #[test]
    fn partial_states_act_on_the_rest_only() {
        let all = ha();
        // worker2 and the LB stopped.
        let st = states(&[false, true, false, true, true]);
        assert_eq!(
            plan_stop("k", &all, &st),
            Plan::Run(s(&[
                &["k-worker"],
                &["k-control-plane", "k-control-plane2"]
            ]))
        );
        assert_eq!(
            plan_start("k", &all, &st),
            Plan::Run(s(&[&["k-external-load-balancer"], &["k-worker2"]]))
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        let all = ha();
        let refused = |p: Plan| match p {
            Plan::Refuse(why) => why,
            Plan::Run(p) => panic!("ran {p:?}"),
        };
        assert!(refused(plan_stop("nope", &[], &[])).contains("unknown cluster \"nope\""));
        assert!(refused(plan_start("nope", &[], &[])).contains("unknown cluster \"nope\""));
        assert!(refused(plan_stop("k", &all, &states(&[false; 5])))
            .starts_with("cluster \"k\" is already stopped"));
        assert_eq!(
            refused(plan_start("k", &all, &states(&[true; 5]))),
            "cluster \"k\" is already running (all 5 nodes)"
        );
        let mut eph = states(&[true; 5]);
        eph[4].ephemeral = true;
        assert!(refused(plan_stop("k", &all, &eph))
            .starts_with("cluster \"k\" is ephemeral (created with --ephemeral)"));
    }

    fn fake() -> FakeProvider {
        FakeProvider::default()
            .with_node("k", "k-worker", "worker", "v1.36.1")
            .with_node(
                "k",
                "k-external-load-balancer",
                "external-load-balancer",
                "",
            )
            .with_node("k", "k-control-plane", "control-plane", "v1.36.1")
            .with_node("other", "other-control-plane", "control-plane", "v1.36.1")
            .answer(&["kubectl"], "True True")
    }

    fn logger() -> (Logger, Buffer) {
        let buffer = Buffer::default();
        (
            Logger::new(Box::new(buffer.clone()), false, 0, false),
            buffer,
        )
    }

    #[tokio::test]
    async fn stop_then_start_through_the_provider() {
        let p = fake();
        let (log, buffer) = logger();
        stop(&p, "k", &log).await.unwrap();
        let e = stop(&p, "k", &log).await.unwrap_err().to_string();
        assert!(e.contains("already stopped"), "{e}");
        start(&p, "k", Duration::from_secs(5), &log).await.unwrap();
        let e = start(&p, "k", Duration::ZERO, &log)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("already running"), "{e}");
        assert_eq!(
            p.lifecycle(),
            [
                "stop k-worker",
                "stop k-control-plane",
                "stop k-external-load-balancer",
                "start k-external-load-balancer",
                "start k-control-plane",
                "start k-worker",
            ]
        );
        // Readiness asked of the control plane, for every node (no selector).
        assert_eq!(
            p.calls_on("k-control-plane").last().unwrap(),
            &[
                "kubectl",
                "--kubeconfig=/etc/kubernetes/admin.conf",
                "get",
                "nodes",
                "-o=jsonpath={.items..status.conditions[-1:].status}"
            ]
        );
        let out = buffer.contents();
        assert!(
            out.contains("Stopping cluster \"k\" ...\nStopped nodes: [\"k-worker\"]\n"),
            "{out}"
        );
        assert!(out.contains("Started nodes: [\"k-worker\"]\n"), "{out}");
    }

    #[tokio::test]
    async fn refused_commands_touch_nothing() {
        let p = fake();
        p.make_ephemeral("k-worker");
        let (log, _) = logger();
        let e = stop(&p, "k", &log).await.unwrap_err().to_string();
        assert!(e.contains("is ephemeral"), "{e}");
        let e = stop(&p, "absent", &log).await.unwrap_err().to_string();
        assert!(e.contains("unknown cluster"), "{e}");
        let e = start(&p, "absent", Duration::ZERO, &log)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown cluster"), "{e}");
        assert!(p.lifecycle().is_empty());
    }

    #[tokio::test]
    async fn a_not_ready_cluster_fails_the_bounded_wait() {
        let p = fake();
        p.stop("k-worker");
        p.fail(&["kubectl"]);
        let (log, _) = logger();
        let e = start(&p, "k", Duration::from_millis(600), &log)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("not every node was Ready within"), "{e}");
        assert_eq!(p.lifecycle(), ["start k-worker"]);
    }
}
