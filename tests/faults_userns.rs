//! A closer stand-in for Sysbox's user namespace (issue 9 item 8): the
//! Sysbox-mode create, load, export logs and delete against a private
//! dockerd with `userns-remap` (node root is an unprivileged host user,
//! as under Sysbox; dockerd creates the `dockremap` user and its
//! /etc/subuid, /etc/subgid ranges when absent).

mod common;

use common::private_dockerd::PrivateDockerd;
use common::*;

#[test]
fn create_load_export_logs_delete_under_userns_remap() {
    require_fixture();
    let d = PrivateDockerd::for_nodes(serde_json::json!({"userns-remap": "default"}));
    let info = d.docker(&["info", "--format", "{{json .SecurityOptions}}"]);
    assert!(info.contains("userns"), "userns-remap not active: {info}");
    let host = d.host();
    let env = [("DOCKER_HOST", host.as_str())];
    let tc = TestCluster::new("userns");
    let out = tc.kind_env(
        &["create", "cluster", "--name", &tc.name, "--image", FIXTURE_IMAGE, "--config", tc.write("c.yaml", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n").to_str().unwrap()],
        &env,
    );
    assert_ok(&out);
    let nodes = d.cluster_containers(&tc.name);
    assert_eq!(nodes.len(), 2, "{nodes:?}");
    let runtime = d.docker(&["inspect", "-f", "{{.HostConfig.Runtime}}", &nodes[0]]);
    assert_eq!(
        runtime.trim(),
        "sysbox-runc",
        "Sysbox mode (the stand-in runtime)"
    );
    // Node root is not host root.
    let pid = d.docker(&["inspect", "-f", "{{.State.Pid}}", &nodes[0]]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    let uid_line = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_string();
    assert!(
        !uid_line.contains("\t0\t"),
        "node init runs as host root: {uid_line}"
    );
    // load docker-image: an image of the private daemon into every node.
    d.load_from_host(&[FIXTURE_IMAGE_V1_30]);
    let out = tc.kind_env(
        &[
            "load",
            "docker-image",
            FIXTURE_IMAGE_V1_30,
            "--name",
            &tc.name,
        ],
        &env,
    );
    assert_ok(&out);
    let logs = tc.dir.path().join("logs");
    let out = tc.kind_env(
        &["export", "logs", logs.to_str().unwrap(), "--name", &tc.name],
        &env,
    );
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        !err.contains("ERROR") && !err.contains("WARN") && !err.contains("exit status"),
        "export logs reported failures under userns-remap: {err}"
    );
    for node in &nodes {
        let files = std::fs::read_dir(logs.join(node))
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(files > 0, "no logs exported for {node}");
        let calls = d.docker(&["exec", node, "cat", CALLS_LOG]);
        assert!(
            calls.contains("import"),
            "{node}: no image import recorded: {calls}"
        );
    }
    let out = tc.kind_env(&["delete", "cluster", "--name", &tc.name], &env);
    assert_ok(&out);
    assert_eq!(d.cluster_containers(&tc.name), Vec::<String>::new());
}
