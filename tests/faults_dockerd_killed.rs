//! The Docker daemon dies in the middle of `kind create cluster` (issue 9's
//! fault suite): create fails with a clear error within a bound (no hang);
//! once the daemon is back, `kind delete cluster` removes what is left.
//! A private dockerd (tmpfs data root) is killed, never the shared one.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::private_dockerd::PrivateDockerd;
use common::*;

#[test]
fn daemon_killed_during_create_fails_clearly_and_delete_cleans_up_after() {
    require_fixture();
    let mut d = PrivateDockerd::for_nodes(serde_json::json!({}));
    let tc = TestCluster::new("dkill");
    let toggles = tc.dir.path().join("kind-fixture");
    std::fs::create_dir_all(toggles.join("delay")).unwrap();
    std::fs::write(toggles.join("delay/kubeadm-init"), "60").unwrap();
    let config = tc.write(
        "config.yaml",
        &format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind-fixture\n",
            toggles.display()
        ),
    );
    let log = tc.dir.path().join("stderr");
    let mut child = std::process::Command::new(kind_bin())
        .args([
            "create",
            "cluster",
            "--name",
            &tc.name,
            "--image",
            FIXTURE_IMAGE,
        ])
        .arg("--config")
        .arg(&config)
        .env("KUBECONFIG", tc.kubeconfig())
        .env("DOCKER_HOST", d.host())
        .env_remove("KIND_CLUSTER_NAME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("Starting control-plane")
    {
        assert!(Instant::now() < deadline, "create never reached init");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    d.kill9();
    let killed_at = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if killed_at.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!(
                "create hangs after the daemon died; stderr:\n{}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let err = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    let last = err
        .lines()
        .find(|l| l.starts_with("ERROR: "))
        .unwrap_or_default()
        .to_string();
    assert!(
        last.starts_with("ERROR: failed to create cluster:")
            && last.contains("lost the connection to the Docker daemon"),
        "the error should say the daemon went away: {err}"
    );
    // Back: delete removes whatever create could not.
    d.restart();
    let out = tc.kind_env(
        &["delete", "cluster", "--name", &tc.name],
        &[("DOCKER_HOST", &d.host())],
    );
    assert_ok(&out);
    assert_eq!(d.cluster_containers(&tc.name), Vec::<String>::new());
    let contexts = kubectl(&tc.kubeconfig(), &["config", "get-contexts", "-o", "name"]);
    assert!(!stdout(&contexts).contains(&tc.name), "no context left");
    eprintln!(
        "create ended {:?} after the kill: {last}",
        killed_at.elapsed()
    );
}
