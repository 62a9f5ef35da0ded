//! The create actions against the fake provider: which commands run on
//! which node, in which order, without Docker.

use std::time::Duration;

use super::Action;
use crate::cluster::ActionContext;
use crate::config::{self, Cluster};
use crate::log::{Buffer, Logger};
use crate::provider::fake::FakeProvider;
use crate::provider::{HostInfo, RuntimeMode};

const V: &str = "v1.36.1";

fn argv(v: &[&str]) -> Vec<String> {
    v.iter().map(|a| a.to_string()).collect()
}

/// A defaulted cluster `k` with these roles, as create would have it.
fn cluster(roles: &[&str]) -> Cluster {
    config::defaulted_for_test("k", roles, "kind-fixture/node:v1.36.1")
}

fn fake(nodes: &[(&str, &str)]) -> FakeProvider {
    nodes
        .iter()
        .fold(FakeProvider::default(), |f, (name, role)| {
            f.with_node("k", name, role, V)
        })
}

async fn run(action: Action, cluster: &Cluster, provider: &FakeProvider) -> anyhow::Result<String> {
    let buffer = Buffer::default();
    let log = Logger::new(Box::new(buffer.clone()), false, 0, false);
    let mode = RuntimeMode::Sysbox {
        runtime: "sysbox-runc".into(),
    };
    let host = HostInfo::default();
    let ctx = ActionContext::new(cluster, provider, &log, &mode, &host);
    action.run(&ctx).await?;
    Ok(buffer.contents())
}

const UNTAINT: &[&str] = &[
    "kubectl",
    "--kubeconfig=/etc/kubernetes/admin.conf",
    "taint",
    "nodes",
    "--all",
    "node-role.kubernetes.io/control-plane-",
];
const UNLABEL: &[&str] = &[
    "kubectl",
    "--kubeconfig=/etc/kubernetes/admin.conf",
    "label",
    "nodes",
    "--all",
    "node.kubernetes.io/exclude-from-external-load-balancers-",
];

#[tokio::test]
async fn single_node_init_reads_the_version_inits_and_untaints() {
    let c = cluster(&["control-plane"]);
    let p = fake(&[("k-control-plane", "control-plane")]);
    let out = run(Action::KubeadmInit, &c, &p).await.unwrap();
    let calls = p.calls_on("k-control-plane");
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert_eq!(calls[0], argv(&["cat", "/kind/version"]));
    assert_eq!(
        calls[1][..5],
        argv(&[
            "kubeadm",
            "init",
            "--config=/kind/kubeadm.conf",
            "--skip-token-print",
            "--v=6"
        ])
    );
    assert_eq!(calls[2], argv(UNTAINT));
    assert_eq!(calls[3], argv(UNLABEL));
    assert!(out.contains("Starting control-plane 🕹️"), "{out}");
}

#[tokio::test]
async fn ha_init_shares_the_bootstrap_files_and_keeps_the_taints() {
    let c = cluster(&["control-plane", "control-plane", "worker"]);
    let p = fake(&[
        ("k-control-plane2", "control-plane"),
        ("k-worker", "worker"),
        ("k-control-plane", "control-plane"),
        ("k-external-load-balancer", "external-load-balancer"),
    ]);
    for file in ["/etc/kubernetes/admin.conf", "/etc/kubernetes/pki/ca.key"] {
        p.set_file("k-control-plane", file, &format!("content of {file}"));
    }
    // The other shared files exist too.
    for file in [
        "/etc/kubernetes/pki/ca.crt",
        "/etc/kubernetes/pki/front-proxy-ca.crt",
        "/etc/kubernetes/pki/front-proxy-ca.key",
        "/etc/kubernetes/pki/sa.pub",
        "/etc/kubernetes/pki/sa.key",
        "/etc/kubernetes/pki/etcd/ca.crt",
        "/etc/kubernetes/pki/etcd/ca.key",
    ] {
        p.set_file("k-control-plane", file, "x");
    }
    run(Action::KubeadmInit, &c, &p).await.unwrap();
    // kubeadm init ran once, on the smallest control-plane name.
    let inits: Vec<_> = p
        .calls()
        .into_iter()
        .filter(|c| c.argv[..2] == argv(&["kubeadm", "init"]))
        .collect();
    assert_eq!(inits.len(), 1);
    assert_eq!(inits[0].node, "k-control-plane");
    assert_eq!(
        p.file("k-control-plane2", "/etc/kubernetes/pki/ca.key")
            .as_deref(),
        Some("content of /etc/kubernetes/pki/ca.key")
    );
    assert_eq!(p.calls_on("k-worker"), Vec::<Vec<String>>::new());
    let all: Vec<_> = p.calls().into_iter().map(|c| c.argv).collect();
    assert!(
        !all.contains(&argv(UNTAINT)),
        "a multi-node cluster keeps its taints"
    );
}

#[tokio::test]
async fn a_failed_init_stops_there_with_upstreams_context() {
    let c = cluster(&["control-plane"]);
    let p = fake(&[("k-control-plane", "control-plane")]);
    p.fail(&["kubeadm", "init"]);
    let err = run(Action::KubeadmInit, &c, &p).await.unwrap_err();
    assert_eq!(err.to_string(), "failed to init node with kubeadm");
    assert_eq!(p.calls_on("k-control-plane").len(), 2);
}

#[tokio::test]
async fn join_runs_on_every_node_but_the_bootstrap() {
    let c = cluster(&["control-plane", "control-plane", "worker", "worker"]);
    let p = fake(&[
        ("k-worker2", "worker"),
        ("k-control-plane", "control-plane"),
        ("k-worker", "worker"),
        ("k-control-plane2", "control-plane"),
    ]);
    let out = run(Action::KubeadmJoin, &c, &p).await.unwrap();
    assert!(p.calls_on("k-control-plane").is_empty());
    for node in ["k-control-plane2", "k-worker", "k-worker2"] {
        let calls = p.calls_on(node);
        assert_eq!(calls.len(), 2, "{node}: {calls:?}");
        assert_eq!(calls[0], argv(&["cat", "/kind/version"]));
        assert_eq!(
            calls[1][..5],
            argv(&["kubeadm", "join", "--config", "/kind/kubeadm.conf", "--v=6"])
        );
    }
    // Control planes join before workers.
    let order: Vec<String> = p
        .calls()
        .into_iter()
        .filter(|c| c.argv[0] == "kubeadm")
        .map(|c| c.node)
        .collect();
    assert_eq!(order[0], "k-control-plane2", "{order:?}");
    assert!(
        out.contains("Joining more control-plane nodes 🎮")
            && out.contains("Joining worker nodes 🚜"),
        "{out}"
    );
}

#[tokio::test]
async fn config_writes_each_nodes_kubeadm_config_with_its_address() {
    let c = cluster(&["control-plane", "worker"]);
    let p = fake(&[("k-control-plane", "control-plane"), ("k-worker", "worker")]);
    run(Action::Config, &c, &p).await.unwrap();
    let cp = p.file("k-control-plane", "/kind/kubeadm.conf").unwrap();
    let worker = p.file("k-worker", "/kind/kubeadm.conf").unwrap();
    assert!(
        cp.contains("172.18.0.2") && !cp.contains("172.18.0.3"),
        "{cp}"
    );
    assert!(worker.contains("172.18.0.3"), "{worker}");
    assert!(
        cp.contains("controlPlaneEndpoint: k-control-plane:6443"),
        "{cp}"
    );
    assert_eq!(
        p.calls_on("k-worker")[1],
        argv(&[
            "sh",
            "-c",
            r#"mkdir -p "$1" && cp /dev/stdin "$2""#,
            "sh",
            "/kind",
            "/kind/kubeadm.conf"
        ]),
        "written as upstream (mkdir, then cp from stdin) in one exec, paths as arguments"
    );
    assert_eq!(p.calls_on("k-worker").len(), 2, "version read + write");
    assert_eq!(
        p.listings(),
        ["list_nodes k", "cluster_node_addresses k"],
        "the nodes listed once, their addresses listed once"
    );
}

/// Every action of a 3-node create on one context, as create runs them.
async fn run_all(actions: &[Action], cluster: &Cluster, provider: &FakeProvider) -> String {
    run_all_in(actions, cluster, provider, false).await
}

/// `fresh`: as a create runs them (every node just made from its image).
async fn run_all_in(
    actions: &[Action],
    cluster: &Cluster,
    provider: &FakeProvider,
    fresh: bool,
) -> String {
    let buffer = Buffer::default();
    let log = Logger::new(Box::new(buffer.clone()), false, 0, false);
    let mode = RuntimeMode::Sysbox {
        runtime: "sysbox-runc".into(),
    };
    let host = HostInfo::default();
    let mut ctx = ActionContext::new(cluster, provider, &log, &mode, &host);
    if fresh {
        ctx = ctx.with_fresh_nodes();
    }
    for action in actions {
        action.run(&ctx).await.unwrap();
    }
    buffer.contents()
}

const VERSION_READ: &[&str] = &["cat", "/kind/version"];

#[tokio::test]
async fn a_create_reads_each_nodes_version_once_and_writes_each_file_in_one_exec() {
    let c = cluster(&["control-plane", "worker", "worker"]);
    let p = fake(&[
        ("k-control-plane", "control-plane"),
        ("k-worker", "worker"),
        ("k-worker2", "worker"),
    ]);
    p.set_file(
        "k-control-plane",
        "/kind/manifests/default-cni.yaml",
        "kind: ConfigMap\n",
    );
    p.set_file(
        "k-control-plane",
        "/kind/manifests/default-storage.yaml",
        "kind: StorageClass\n",
    );
    p.respond(
        &["kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "get"],
        "'True'",
    );
    let actions = super::plan(&c, Duration::from_secs(5));
    assert!(actions.contains(&Action::WaitForReady(Duration::from_secs(5))));
    run_all(&actions, &c, &p).await;

    let write = |path: &str| {
        let dir = std::path::Path::new(path)
            .parent()
            .unwrap()
            .to_str()
            .unwrap();
        argv(&[
            "sh",
            "-c",
            crate::cluster::WRITE_FILE_SCRIPT,
            "sh",
            dir,
            path,
        ])
    };
    // A worker: its version once (Config), its config written in one exec,
    // then kubeadm join, which reuses the version read by Config.
    for worker in ["k-worker", "k-worker2"] {
        let calls = p.calls_on(worker);
        assert_eq!(calls.len(), 3, "{worker}: {calls:?}");
        assert_eq!(calls[0], argv(VERSION_READ));
        assert_eq!(calls[1], write("/kind/kubeadm.conf"));
        assert_eq!(calls[2][..2], argv(&["kubeadm", "join"]));
    }
    // The control plane: read once for Config, KubeadmInit and WaitForReady.
    let calls = p.calls_on("k-control-plane");
    let reads = calls.iter().filter(|c| **c == argv(VERSION_READ)).count();
    assert_eq!(reads, 1, "{calls:?}");
    assert_eq!(calls[0], argv(VERSION_READ));
    assert_eq!(calls[1], write("/kind/kubeadm.conf"));
    assert_eq!(calls[2][..2], argv(&["kubeadm", "init"]));
    assert!(
        p.file("k-worker2", "/kind/kubeadm.conf")
            .is_some_and(|f| f.contains("k-worker2") && f.contains("172.18.0.4")),
        "the one exec writes the file"
    );
}

#[tokio::test]
async fn a_failed_version_read_keeps_upstreams_messages_and_is_not_cached() {
    let c = cluster(&["control-plane"]);
    let p = FakeProvider::default();
    let node = crate::provider::NodeRef {
        name: "k-control-plane".into(),
        role: "control-plane".into(),
        runtime_mode: "sysbox".into(),
        config_index: None,
        images_inbox: None,
    };
    let log = Logger::new(Box::new(Buffer::default()), false, 0, false);
    let mode = RuntimeMode::Sysbox {
        runtime: "sysbox-runc".into(),
    };
    let host = HostInfo::default();
    let ctx = ActionContext::new(&c, &p, &log, &mode, &host);
    // No such file: cat fails.
    let err = ctx.kubernetes_version(&node).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to get kubernetes version from node"
    );
    p.set_file("k-control-plane", "/kind/version", "v1.36.1\nv1.36.2\n");
    let err = ctx.kubernetes_version(&node).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to get kubernetes version from node: file should only be one line, got 2 lines"
    );
    p.set_file("k-control-plane", "/kind/version", "v1.36.1\n");
    // Concurrent users of one node share one read.
    let (a, b) = tokio::join!(ctx.kubernetes_version(&node), ctx.kubernetes_version(&node));
    assert_eq!((a.unwrap(), b.unwrap()), (V.to_string(), V.to_string()));
    assert_eq!(ctx.kubernetes_version(&node).await.unwrap(), V);
    assert_eq!(
        p.calls_on("k-control-plane"),
        vec![argv(VERSION_READ); 3],
        "each failure read again, the success once"
    );
}

#[tokio::test]
async fn a_create_reads_the_version_once_per_image_of_its_fresh_nodes() {
    let mut c = cluster(&["control-plane", "worker", "worker", "worker"]);
    c.nodes[3].image = "kind-fixture/node:v1.30.13".into();
    let p = fake(&[
        ("k-control-plane", "control-plane"),
        ("k-worker", "worker"),
        ("k-worker2", "worker"),
        ("k-worker3", "worker"),
    ]);
    for (file, content) in [
        ("default-cni.yaml", "kind: ConfigMap\n"),
        ("default-storage.yaml", "kind: StorageClass\n"),
    ] {
        p.set_file(
            "k-control-plane",
            &format!("/kind/manifests/{file}"),
            content,
        );
    }
    p.respond(
        &["kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "get"],
        "'True'",
    );
    run_all_in(&super::plan(&c, Duration::from_secs(5)), &c, &p, true).await;
    let reads = |node: &str| {
        p.calls_on(node)
            .iter()
            .filter(|c| **c == argv(VERSION_READ))
            .count()
    };
    let first_image = ["k-control-plane", "k-worker", "k-worker2"]
        .iter()
        .map(|n| reads(n))
        .sum::<usize>();
    assert_eq!(first_image, 1, "one read for the three nodes of one image");
    assert_eq!(reads("k-worker3"), 1, "its own image, its own read");
    for node in ["k-worker", "k-worker2", "k-worker3"] {
        assert!(
            p.calls_on(node)
                .iter()
                .any(|c| c[..2] == argv(&["kubeadm", "join"])),
            "{node} joined"
        );
    }
}
