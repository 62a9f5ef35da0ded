//! `kind create node`, `kind delete node` and `kind resize cluster` on the
//! real engine with the fixture images: joins and drains as the stand-in
//! kubeadm/kubectl record them, mixed images, the HA load balancer's
//! backends, refusals that change nothing, and the rollback of an
//! interrupted add.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn kind(tc: &TestCluster, args: &[&str]) -> Output {
    tc.kind(args)
}

const ONE_PLUS_ONE: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n";
const TWO_CONTROL_PLANES: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: control-plane\n";

fn create(tc: &TestCluster, config: &str) {
    let path = tc.write("config.yaml", config);
    assert_ok(&kind(
        tc,
        &[
            "create",
            "cluster",
            "--name",
            &tc.name,
            "--image",
            FIXTURE_IMAGE,
            "--config",
            path.to_str().unwrap(),
        ],
    ));
}

/// The cluster's containers, sorted.
fn sorted(tc: &TestCluster) -> Vec<String> {
    let mut v = tc.containers();
    v.sort();
    v
}

fn names(tc: &TestCluster, suffixes: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = suffixes
        .iter()
        .map(|s| format!("{}-{s}", tc.name))
        .collect();
    v.sort();
    v
}

fn label(container: &str, key: &str) -> String {
    inspect(container)["Config"]["Labels"][key]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn has_call(node: &str, needle: &str) -> bool {
    call_lines(node).iter().any(|l| l.contains(needle))
}

#[test]
fn workers_grow_mix_images_shrink_and_bad_input_changes_nothing() {
    require_fixture();
    let tc = TestCluster::new("nodes");
    create(&tc, ONE_PLUS_ONE);
    let cp = format!("{}-control-plane", tc.name);
    let before = sorted(&tc);
    assert_eq!(before, names(&tc, &["control-plane", "worker"]));

    // Bad input: exit 1, a message naming the problem, nothing changed.
    let bad: [(&[&str], &str); 7] = [
        (
            &["resize", "cluster", "--workers", "-1"],
            "invalid worker count -1",
        ),
        (
            &["resize", "cluster", "--workers", "1000"],
            "invalid worker count 1000: at most 100",
        ),
        (&["resize", "cluster"], "--workers is required"),
        (
            &["create", "node", "--role", "control-plane"],
            "has no external load balancer",
        ),
        (
            &["create", "node", "--role", "master"],
            "unknown node role \"master\"",
        ),
        (
            &["delete", "node", "nope-node"],
            "unknown node(s) [\"nope-node\"]",
        ),
        (&["delete", "node", &cp], "would have no control plane left"),
    ];
    for (args, message) in bad {
        let mut argv = args.to_vec();
        argv.extend(["--name", &tc.name]);
        let out = kind(&tc, &argv);
        assert_eq!(out.status.code(), Some(1), "{argv:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{argv:?}: {}", stderr(&out));
        assert_eq!(sorted(&tc), before, "{argv:?} changed the cluster");
    }
    let unknown = unique("nodes-nope");
    for args in [
        vec!["resize", "cluster", "--workers", "2", "--name", &unknown],
        vec!["create", "node", "--name", &unknown],
        vec!["delete", "node", "x", "--name", &unknown],
    ] {
        let out = kind(&tc, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(&format!("unknown cluster {unknown:?}")),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert_eq!(sorted(&tc), before);

    // Grow: two joins with a fresh token from the bootstrap control plane.
    let out = kind(
        &tc,
        &["resize", "cluster", "--name", &tc.name, "--workers", "3"],
    );
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "Resizing cluster {:?} (workers: current = 1, desired = 3) ...",
            tc.name
        )) && err.contains("Done (2 workers added)."),
        "{err}"
    );
    assert_eq!(
        sorted(&tc),
        names(&tc, &["control-plane", "worker", "worker2", "worker3"])
    );
    assert!(has_call(&cp, "kubeadm token create --print-join-command"));
    for w in ["worker2", "worker3"] {
        let node = format!("{}-{w}", tc.name);
        assert!(
            has_call(&node, "kubeadm join --config /kind/kubeadm.conf"),
            "{node}"
        );
        let conf = node_kubeadm_conf(&node);
        assert!(conf.contains("JoinConfiguration"), "{conf}");
        assert_eq!(label(&node, "dev.kind-sysbox.create-id").len(), 16);
    }
    // The newest containers carry the extended config and their index in it.
    let w3 = format!("{}-worker3", tc.name);
    let idx: usize = label(&w3, "dev.kind-sysbox.config-node").parse().unwrap();
    assert!(idx >= 2, "{idx}");
    let stored = label(&w3, "dev.kind-sysbox.cluster-config");
    assert_eq!(stored.matches("role: worker").count(), 3, "{stored}");

    // Mixed images: a node of another fixture version.
    let out = kind(
        &tc,
        &[
            "create",
            "node",
            "--name",
            &tc.name,
            "--image",
            FIXTURE_IMAGE_V1_30,
        ],
    );
    assert_ok(&out);
    assert!(
        stderr(&out).contains("Joining worker node"),
        "{}",
        stderr(&out)
    );
    let w4 = format!("{}-worker4", tc.name);
    assert!(sorted(&tc).contains(&w4));
    let version = docker(&["exec", &w4, "cat", "/kind/version"]);
    assert_eq!(version.trim(), "v1.30.13");
    let named = label(&w4, "dev.kind-sysbox.named-image");
    let image = inspect(&w4)["Config"]["Image"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        named == FIXTURE_IMAGE_V1_30 || image == FIXTURE_IMAGE_V1_30,
        "{named} {image}"
    );
    let image_cp = inspect(&cp)["Config"]["Image"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(image, image_cp, "mixed images");
    assert!(node_kubeadm_conf(&w4).contains("kubeadm.k8s.io/v1beta3"));

    // Delete: drained and its Node object deleted on the control plane.
    let out = kind(&tc, &["delete", "node", &w4, "--name", &tc.name]);
    assert_ok(&out);
    assert!(has_call(
        &cp,
        &format!("kubectl --kubeconfig=/etc/kubernetes/admin.conf drain {w4} --ignore-daemonsets --delete-emptydir-data --force --timeout=60s")
    ));
    assert!(has_call(
        &cp,
        &format!(
            "kubectl --kubeconfig=/etc/kubernetes/admin.conf delete node {w4} --ignore-not-found"
        )
    ));
    assert!(!sorted(&tc).contains(&w4));

    // Shrink: highest-numbered first, control plane untouched.
    let out = kind(
        &tc,
        &["resize", "cluster", "--name", &tc.name, "--workers", "1"],
    );
    assert_ok(&out);
    assert!(
        stderr(&out).contains("Done (2 workers removed)."),
        "{}",
        stderr(&out)
    );
    assert_eq!(sorted(&tc), names(&tc, &["control-plane", "worker"]));
    let out = kind(
        &tc,
        &["resize", "cluster", "--name", &tc.name, "--workers", "1"],
    );
    assert_ok(&out);
    assert!(stderr(&out).contains("Done (no action required)."));
}

#[test]
fn ha_control_plane_joins_and_the_balancer_follows() {
    require_fixture();
    let tc = TestCluster::new("nodes-ha");
    create(&tc, TWO_CONTROL_PLANES);
    let lb = format!("{}-external-load-balancer", tc.name);
    let cp3 = format!("{}-control-plane3", tc.name);
    let cds = || docker(&["exec", &lb, "cat", "/home/envoy/cds.yaml"]);
    assert!(!cds().contains(&cp3));

    let out = kind(
        &tc,
        &[
            "create",
            "node",
            "--name",
            &tc.name,
            "--role",
            "control-plane",
        ],
    );
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("Joining control-plane node {cp3}"))
            && err.contains("Configuring the external load balancer"),
        "{err}"
    );
    assert!(cds().contains(&format!("address: {cp3}")), "{}", cds());
    assert!(has_call(&cp3, "kubeadm join --config /kind/kubeadm.conf"));
    // It got the shared CA before joining (the stand-in refuses otherwise).
    docker(&["exec", &cp3, "test", "-s", "/etc/kubernetes/pki/ca.key"]);

    // The balancer cannot go; control planes can, until one is left.
    let before = sorted(&tc);
    let out = kind(&tc, &["delete", "node", &lb, "--name", &tc.name]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("external load balancer"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sorted(&tc), before);

    let out = kind(&tc, &["delete", "node", &cp3, "--name", &tc.name]);
    assert_ok(&out);
    assert!(has_call(&cp3_runner(&tc), &format!("delete node {cp3}")));
    assert!(!cds().contains(&cp3), "{}", cds());
    assert!(!sorted(&tc).contains(&cp3));
}

fn cp3_runner(tc: &TestCluster) -> String {
    format!("{}-control-plane", tc.name)
}

/// Start kind in the background (its output piped).
fn spawn_kind(tc: &TestCluster, args: &[&str]) -> std::process::Child {
    Command::new(kind_bin())
        .args(args)
        .env("KUBECONFIG", tc.kubeconfig())
        .env_remove("KIND_EXPERIMENTAL_RUNTIME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait until `node`'s call log has `count` calls containing `needle`.
fn wait_for_calls(node: &str, needle: &str, count: usize) {
    let start = Instant::now();
    while call_lines(node)
        .iter()
        .filter(|l| l.contains(needle))
        .count()
        < count
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{needle:?} never ran on {node}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn interrupted_adds_remove_their_nodes_and_exit_as_the_signal_says() {
    require_fixture();
    let tc = TestCluster::new("nodes-int");
    create(&tc, ONE_PLUS_ONE);
    let cp = format!("{}-control-plane", tc.name);
    let before = sorted(&tc);
    // Hold each add in `kubeadm token create` (after its nodes exist).
    docker(&[
        "exec",
        &cp,
        "sh",
        "-c",
        "mkdir -p /kind-fixture/delay && echo 30 > /kind-fixture/delay/kubeadm-token",
    ]);
    let cases: [(&[&str], &str, i32, &[&str]); 2] = [
        (&["create", "node"], "-INT", 130, &["worker2"]),
        (
            &["resize", "cluster", "--workers", "3"],
            "-TERM",
            143,
            &["worker2", "worker3"],
        ),
    ];
    for (i, (args, signal, code, new)) in cases.into_iter().enumerate() {
        let mut argv = args.to_vec();
        argv.extend(["--name", &tc.name]);
        let child = spawn_kind(&tc, &argv);
        wait_for_calls(&cp, "kubeadm token create", i + 1);
        for n in new {
            assert!(sorted(&tc).contains(&format!("{}-{n}", tc.name)), "{n}");
        }
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{argv:?}: {}", stderr(&out));
        let name = if code == 130 { "SIGINT" } else { "SIGTERM" };
        assert!(
            stderr(&out).contains(&format!("interrupted by {name}")),
            "{}",
            stderr(&out)
        );
        assert_eq!(sorted(&tc), before, "{argv:?} left its nodes");
    }
    // With --retain the interrupted add's node stays (for debugging).
    let child = spawn_kind(&tc, &["create", "node", "--retain", "--name", &tc.name]);
    wait_for_calls(&cp, "kubeadm token create", 3);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(
        sorted(&tc),
        names(&tc, &["control-plane", "worker", "worker2"])
    );
}
