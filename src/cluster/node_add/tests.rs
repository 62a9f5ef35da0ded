//! Adding nodes against the fake provider: the plan, the commands a join
//! runs and where, and the rollback of a failed add.

use super::*;
use crate::config;
use crate::log::Buffer;
use crate::provider::fake::FakeProvider;

fn node(name: &str, role: &str, index: Option<usize>) -> NodeRef {
    NodeRef {
        name: name.into(),
        role: role.into(),
        runtime_mode: "runc".into(),
        config_index: index,
        images_inbox: None,
    }
}

/// A stored config `k` with these roles, defaulted as create stores it.
fn stored(roles: &[&str]) -> Cluster {
    config::defaulted_for_test("k", roles, "kind-fixture/node:v1.36.1")
}

fn one_plus_one() -> (Cluster, Vec<NodeRef>) {
    (
        stored(&["control-plane", "worker"]),
        vec![
            node("k-worker", "worker", Some(1)),
            node("k-control-plane", "control-plane", Some(0)),
        ],
    )
}

#[test]
fn new_workers_get_the_lowest_free_names_and_appended_entries() {
    let (c, nodes) = one_plus_one();
    let p = plan(&c, &nodes, "worker", 2, None).unwrap();
    assert_eq!(
        p.new_nodes,
        [(2, "k-worker2".to_string()), (3, "k-worker3".to_string())]
    );
    assert_eq!(p.config.nodes.len(), 4);
    assert_eq!(
        p.config.nodes[..2],
        c.nodes[..],
        "older entries keep their index"
    );
    assert_eq!(p.config.nodes[3].role, "worker");
    assert_eq!(
        p.image, "kind-fixture/node:v1.36.1",
        "the bootstrap control plane's image by default"
    );
    let mixed = plan(&c, &nodes, "worker", 1, Some("kind-fixture/node:v1.30.13")).unwrap();
    assert_eq!(mixed.config.nodes[2].image, "kind-fixture/node:v1.30.13");
}

#[test]
fn a_control_plane_needs_the_load_balancer() {
    let (c, nodes) = one_plus_one();
    let err = plan(&c, &nodes, "control-plane", 1, None).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "cannot add a control-plane node to cluster \"k\": it has no external load balancer"
        ),
        "{err}"
    );
    let ha = stored(&["control-plane", "control-plane"]);
    let nodes = vec![
        node("k-control-plane", "control-plane", Some(0)),
        node("k-control-plane2", "control-plane", Some(1)),
        node("k-external-load-balancer", "external-load-balancer", None),
    ];
    let p = plan(&ha, &nodes, "control-plane", 1, None).unwrap();
    assert_eq!(p.new_nodes, [(2, "k-control-plane3".to_string())]);
}

#[test]
fn roles_and_counts_are_checked() {
    let (c, nodes) = one_plus_one();
    assert!(plan(&c, &nodes, "master", 1, None)
        .unwrap_err()
        .to_string()
        .starts_with("unknown node role \"master\""));
    let err = plan(&c, &nodes, "worker", 100, None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("refusing to grow cluster \"k\" to 101 worker nodes"),
        "{err}"
    );
}

#[test]
fn join_tokens_are_read_from_the_join_command() {
    let out = "kubeadm join k-control-plane:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00 \n";
    assert_eq!(
        parse_join_token(out).as_deref(),
        Some("abcdef.0123456789abcdef")
    );
    assert_eq!(parse_join_token("kubeadm join x --token NOT-A-TOKEN"), None);
    assert_eq!(parse_join_token(""), None);
}

#[test]
fn status_lines_name_the_nodes() {
    assert_eq!(
        creating_status(&["k-worker2".into()]),
        "Creating node k-worker2 📦"
    );
    assert_eq!(
        creating_status(&["k-worker2".into(), "k-worker3".into()]),
        "Creating nodes k-worker2, k-worker3 📦 📦"
    );
}

fn fake_cluster() -> FakeProvider {
    let (c, _) = one_plus_one();
    let p = FakeProvider::default()
        .with_node_ref(
            "k",
            node("k-control-plane", "control-plane", Some(0)),
            "v1.36.1",
        )
        .with_node_ref("k", node("k-worker", "worker", Some(1)), "v1.36.1")
        .with_config("k", &config::encode(&c))
        .with_image("kind-fixture/node:v1.36.1");
    p.respond(
        &["kubeadm", "token", "create"],
        "kubeadm join k-control-plane:6443 --token fresh1.0123456789fresh0 --discovery-token-ca-cert-hash sha256:00\n",
    );
    p
}

fn opts(count: usize) -> AddOptions {
    AddOptions {
        cluster: "k".into(),
        role: "worker".into(),
        count,
        image: None,
        retain: false,
    }
}

#[tokio::test]
async fn a_worker_joins_with_a_fresh_token_from_the_bootstrap_control_plane() {
    let p = fake_cluster();
    let buffer = Buffer::default();
    let log = Logger::new(Box::new(buffer.clone()), false, 0, false);
    let added = add_nodes(&p, &opts(1), &log).await.unwrap();
    assert_eq!(added, ["k-worker2"]);
    assert_eq!(
        p.calls_on("k-control-plane"),
        [vec![
            "kubeadm",
            "token",
            "create",
            "--print-join-command",
            "--ttl=15m0s"
        ]]
    );
    let conf = p.file("k-worker2", "/kind/kubeadm.conf").unwrap();
    assert!(conf.contains("fresh1.0123456789fresh0"), "{conf}");
    assert!(!conf.contains("abcdef.0123456789abcdef"), "{conf}");
    assert!(conf.contains("k-control-plane:6443"), "{conf}");
    let joins: Vec<_> = p
        .calls_on("k-worker2")
        .into_iter()
        .filter(|c| c[0] == "kubeadm")
        .collect();
    assert_eq!(joins.len(), 1);
    assert_eq!(joins[0][..2], ["kubeadm", "join"]);
    let out = buffer.contents();
    for line in [
        "Creating node k-worker2 📦",
        "Writing configuration 📜",
        "Joining worker node k-worker2 🚜",
    ] {
        assert!(out.contains(line), "{out}");
    }
    assert!(p.deleted().is_empty());
}

#[tokio::test]
async fn a_failed_join_removes_what_this_run_made_unless_retained() {
    let p = fake_cluster();
    p.fail(&["kubeadm", "join"]);
    let log = Logger::new(Box::new(Buffer::default()), false, 0, false);
    let err = add_nodes(&p, &opts(2), &log).await.unwrap_err();
    assert_eq!(err.to_string(), "failed to join node with kubeadm");
    let mut deleted = p.deleted();
    deleted.sort();
    assert_eq!(deleted, ["k-worker2", "k-worker3"], "only this run's nodes");
    // Their Node objects are deleted too (best effort), without a drain.
    let on_cp: Vec<String> = p
        .calls_on("k-control-plane")
        .iter()
        .map(|c| c.join(" "))
        .collect();
    assert!(on_cp.iter().all(|c| !c.contains(" drain ")), "{on_cp:?}");
    assert!(on_cp
        .iter()
        .any(|c| c.ends_with("delete node k-worker3 --ignore-not-found")));

    let kept = fake_cluster();
    kept.fail(&["kubeadm", "join"]);
    let retained = AddOptions {
        retain: true,
        ..opts(1)
    };
    assert!(add_nodes(&kept, &retained, &log).await.is_err());
    assert!(kept.deleted().is_empty());
}

#[tokio::test]
async fn a_name_taken_midway_rolls_back_the_others() {
    let p = fake_cluster();
    p.take_name("k-worker3");
    let log = Logger::new(Box::new(Buffer::default()), false, 0, false);
    assert!(add_nodes(&p, &opts(2), &log).await.is_err());
    assert_eq!(p.deleted(), ["k-worker2"]);
}

#[tokio::test]
async fn a_control_plane_gets_the_shared_files_joins_and_becomes_a_backend() {
    let c = stored(&["control-plane", "control-plane"]);
    let p = FakeProvider::default()
        .with_node_ref(
            "k",
            node("k-control-plane", "control-plane", Some(0)),
            "v1.36.1",
        )
        .with_node_ref(
            "k",
            node("k-control-plane2", "control-plane", Some(1)),
            "v1.36.1",
        )
        .with_node_ref(
            "k",
            node("k-external-load-balancer", "external-load-balancer", None),
            "",
        )
        .with_config("k", &config::encode(&c))
        .with_image("kind-fixture/node:v1.36.1");
    for file in crate::cluster::actions::kubeadm_init::SHARED_FILES {
        p.set_file("k-control-plane", file, &format!("bootstrap {file}"));
    }
    p.respond(
        &["kubeadm", "token", "create"],
        "kubeadm join k-external-load-balancer:6443 --token fresh1.0123456789fresh0\n",
    );
    let log = Logger::new(Box::new(Buffer::default()), false, 0, false);
    let opts = AddOptions {
        role: "control-plane".into(),
        ..opts(1)
    };
    assert_eq!(
        add_nodes(&p, &opts, &log).await.unwrap(),
        ["k-control-plane3"]
    );
    assert_eq!(
        p.file("k-control-plane3", "/etc/kubernetes/pki/ca.key")
            .as_deref(),
        Some("bootstrap /etc/kubernetes/pki/ca.key")
    );
    let conf = p.file("k-control-plane3", "/kind/kubeadm.conf").unwrap();
    assert!(conf.contains("k-external-load-balancer:6443"), "{conf}");
    // The CA is in place before the join, and the LB changes after it.
    let calls: Vec<(String, String)> = p
        .calls()
        .into_iter()
        .map(|c| (c.node, c.argv.join(" ")))
        .collect();
    let at = |node: &str, prefix: &str| {
        calls
            .iter()
            .position(|(n, a)| n == node && a.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} on {node}: {calls:?}"))
    };
    let ca = calls
        .iter()
        .position(|(n, a)| {
            n == "k-control-plane3"
                && a.starts_with("sh -c ")
                && a.ends_with(" /etc/kubernetes/pki /etc/kubernetes/pki/ca.key")
        })
        .unwrap();
    let join = at("k-control-plane3", "kubeadm join");
    let reload = at("k-external-load-balancer", "sh -c chmod 666");
    assert!(ca < join && join < reload, "{calls:?}");
    let cds = p
        .file("k-external-load-balancer", "/home/envoy/cds.yaml.tmp")
        .unwrap();
    for backend in ["k-control-plane", "k-control-plane2", "k-control-plane3"] {
        assert!(cds.contains(&format!("address: {backend}")), "{cds}");
    }
}
