//! Two `kind create cluster` of one name started at the same instant
//! (issue 9 item 2): exactly one wins; the other fails with upstream's
//! "already exist" message and removes nothing: the winner's containers
//! are intact afterwards.

mod common;

use std::process::Output;
use std::sync::{Arc, Barrier};

use common::*;

const TWO_NODES: &str = "kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
";

/// Start both creates together (a barrier releases the two spawns at once).
fn race(tc: &TestCluster, config: &std::path::Path) -> Vec<Output> {
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            let (name, config, kubeconfig) =
                (tc.name.clone(), config.to_path_buf(), tc.kubeconfig());
            std::thread::spawn(move || {
                let args = [
                    "create",
                    "cluster",
                    "--name",
                    &name,
                    "--image",
                    FIXTURE_IMAGE,
                    "--config",
                    config.to_str().unwrap(),
                ];
                barrier.wait();
                kind_cmd(&args, &[], &kubeconfig, None)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn same_name_creates_started_together_one_wins_nothing_of_it_is_lost() {
    require_fixture();
    for round in 0..5 {
        let tc = TestCluster::new("samename");
        let config = tc.write("config.yaml", TWO_NODES);
        let outs = race(&tc, &config);
        let (won, lost): (Vec<&Output>, Vec<&Output>) =
            outs.iter().partition(|o| o.status.success());
        assert_eq!(
            (won.len(), lost.len()),
            (1, 1),
            "round {round}: exactly one create must win:\n{}\n---\n{}",
            stderr(&outs[0]),
            stderr(&outs[1])
        );
        let loser = stderr(lost[0]);
        assert_eq!(lost[0].status.code(), Some(1));
        assert!(
            loser.ends_with(&format!(
                "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"{}\"\n",
                tc.name
            )),
            "round {round}: {loser}"
        );
        assert!(!loser.contains("Deleted nodes"), "round {round}: {loser}");
        // Which check stopped it: the listing before anything is created, or
        // (both passed it) the claim of the first control plane.
        let by_claim = loser.contains("Preparing nodes");
        eprintln!(
            "round {round}: the loser was stopped by the {}",
            if by_claim { "claim" } else { "listing" }
        );

        // The winner's cluster is whole and running.
        let mut nodes = tc.containers();
        nodes.sort();
        assert_eq!(
            nodes,
            [
                format!("{}-control-plane", tc.name),
                format!("{}-worker", tc.name)
            ],
            "round {round}"
        );
        for node in &nodes {
            let state = &inspect(node)["State"];
            assert_eq!(state["Running"], true, "round {round}: {node} {state}");
            docker(&["exec", node, "true"]);
        }
        let contexts = kubectl(&tc.kubeconfig(), &["config", "get-contexts", "-o", "name"]);
        assert_eq!(
            stdout(&contexts),
            format!("kind-{}\n", tc.name),
            "round {round}"
        );
        assert_ok(&tc.kind(&["delete", "cluster", "--name", &tc.name]));
        // The images inbox volume (whichever create made it) goes with it.
        assert!(
            !volume_exists(&images_volume(&tc.name)),
            "round {round}: the images volume is left"
        );
    }
}

/// A failed create removes what it created, and nothing else: here a
/// container labelled as a node of the same cluster that someone else
/// created while the create ran (kubeadm init is slowed, then fails).
#[test]
fn failed_create_removes_only_its_own_containers() {
    require_fixture();
    let tc = TestCluster::new("ownonly");
    let toggles = tc.dir.path().join("kind-fixture");
    for dir in ["delay", "fail"] {
        std::fs::create_dir_all(toggles.join(dir)).unwrap();
    }
    std::fs::write(toggles.join("delay/kubeadm-init"), "4").unwrap();
    std::fs::write(toggles.join("fail/kubeadm-init"), "").unwrap();
    let config = tc.write(
        "config.yaml",
        &format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind-fixture\n- role: worker\n",
            toggles.display()
        ),
    );
    let kubeconfig = tc.kubeconfig();
    let (name, cfg) = (tc.name.clone(), config.to_str().unwrap().to_string());
    let create = std::thread::spawn(move || {
        kind_cmd(
            &[
                "create",
                "cluster",
                "--name",
                &name,
                "--image",
                FIXTURE_IMAGE,
                "--config",
                &cfg,
            ],
            &[],
            &kubeconfig,
            None,
        )
    });
    // Once the create's nodes exist, someone else adds one to the cluster.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while tc.containers().len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the create made no nodes"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let intruder = format!("{}-intruder", tc.name);
    docker(&[
        "create",
        "--name",
        &intruder,
        "--label",
        &format!("io.x-k8s.kind.cluster={}", tc.name),
        FIXTURE_IMAGE,
    ]);
    let out = create.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("failed to init node with kubeadm"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        tc.containers(),
        std::slice::from_ref(&intruder),
        "the create's own nodes are removed, the other container stays"
    );
    docker(&["rm", "-f", &intruder]);
}
