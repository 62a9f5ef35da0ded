//! `kind export logs` against the real engine: upstream's tree and errors,
//! plus the per-node Sysbox facts, on a cluster whose kubeadm init failed
//! and was kept with --retain (the case the command exists for).

mod common;

use std::path::Path;

use common::*;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// Files upstream writes for every node (besides the node's /var/log).
const UPSTREAM_NODE_FILES: [&str; 7] = [
    "inspect.json",
    "journal.log",
    "kubelet.log",
    "containerd.log",
    "images.log",
    "kubernetes-version.txt",
    "serial.log",
];

/// A 1+1 fixture cluster whose `kubeadm init` fails, kept with --retain;
/// the control plane's fail toggles are the returned host directory.
fn retained_failed_cluster(tc: &TestCluster) -> std::path::PathBuf {
    let fail_dir = tc.dir.path().join("fail");
    std::fs::create_dir(&fail_dir).unwrap();
    std::fs::write(fail_dir.join("kubeadm-init"), "").unwrap();
    let config = tc.write(
        "config.yaml",
        &format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind-fixture/fail\n- role: worker\n",
            fail_dir.display()
        ),
    );
    let out = tc.kind(&[
        "create",
        "cluster",
        "--name",
        &tc.name,
        "--config",
        config.to_str().unwrap(),
        "--image",
        FIXTURE_IMAGE,
        "--retain",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(tc.containers().len(), 2, "--retain keeps the nodes");
    fail_dir
}

#[test]
fn retained_failed_cluster_exports_upstreams_tree_and_the_sysbox_facts() {
    require_fixture();
    let tc = TestCluster::new("logs");
    let fail_dir = retained_failed_cluster(&tc);
    let cp = format!("{}-control-plane", tc.name);
    let worker = format!("{}-worker", tc.name);

    let dir = tc.dir.path().join("out");
    let dir_arg = dir.to_str().unwrap();
    let out = tc.kind(&["export", "logs", dir_arg, "--name", &tc.name]);
    assert_ok(&out);
    assert_eq!(
        stdout(&out),
        format!("{dir_arg}\n"),
        "the directory on stdout"
    );
    assert_eq!(
        stderr(&out),
        format!("Exporting logs for cluster {:?} to:\n", tc.name)
    );

    let version = stdout(&tc.kind(&["version"]));
    assert_eq!(
        read(&dir.join("kind-version.txt")),
        version.trim_end(),
        "kind version's line, no newline"
    );
    let info: serde_json::Value = serde_json::from_str(&read(&dir.join("docker-info.txt")))
        .expect("docker-info.txt is the daemon's info as JSON");
    assert!(info["Runtimes"]["sysbox-runc"].is_object(), "{info}");

    let mut top: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    let mut want = vec![
        cp.clone(),
        "docker-info.txt".to_string(),
        "kind-version.txt".to_string(),
        worker.clone(),
    ];
    want.sort();
    assert_eq!(top, want);

    for node in [&cp, &worker] {
        let nd = dir.join(node);
        for f in UPSTREAM_NODE_FILES {
            assert!(nd.join(f).is_file(), "{node}/{f} missing");
        }
        let inspect: serde_json::Value =
            serde_json::from_str(&read(&nd.join("inspect.json"))).expect("inspect.json parses");
        assert_eq!(inspect[0]["Name"], format!("/{node}"));
        assert_eq!(read(&nd.join("kubernetes-version.txt")).trim(), "v1.36.1");
        assert!(
            read(&nd.join("images.log")).contains("registry.k8s.io/pause"),
            "crictl images output"
        );
        assert!(read(&nd.join("kubelet.log")).contains("-- No entries --"));
        assert!(!read(&nd.join("containerd.log")).is_empty());
        assert!(!read(&nd.join("journal.log")).is_empty());
        assert!(read(&nd.join("serial.log")).contains("Multi-User System"));
        // /var/log itself, unpacked into the node's directory.
        assert!(
            nd.join("kind-fixture/calls.log").is_file(),
            "{node} /var/log"
        );
        // The Sysbox facts.
        assert_eq!(read(&nd.join("sysbox/runtime.txt")), "sysbox-runc\n");
        for map in ["uid_map", "gid_map"] {
            assert_eq!(
                read(&nd.join("sysbox").join(map)),
                docker(&["exec", node, "cat", &format!("/proc/self/{map}")]),
                "{node} {map}"
            );
        }
        assert!(
            read(&nd.join("sysbox/mountinfo")).contains(" / / "),
            "the node's mount table"
        );
    }
    assert!(
        read(&dir.join(&cp).join("kind-fixture/calls.log")).contains("\"kubeadm\""),
        "the failed kubeadm init is in the control plane's call log"
    );

    // No directory argument: a fresh numbered directory in TMPDIR.
    let tmp = tc.dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = tc.kind_env(
        &["export", "logs", "--name", &tc.name],
        &[("TMPDIR", tmp.to_str().unwrap())],
    );
    assert_ok(&out);
    let printed = stdout(&out);
    let printed = Path::new(printed.trim_end());
    assert_eq!(printed.parent(), Some(tmp.as_path()), "{printed:?}");
    let leaf = printed.file_name().unwrap().to_string_lossy();
    assert!(leaf.chars().all(|c| c.is_ascii_digit()), "{leaf}");
    assert!(printed.join(&cp).join("inspect.json").is_file());

    // One failure: reported bare, with the command's output, as upstream.
    std::fs::write(fail_dir.join("crictl-images"), "crictl says no\n").unwrap();
    let dir1 = tc.dir.path().join("out1");
    let out = tc.kind(&["export", "logs", dir1.to_str().unwrap(), "--name", &tc.name]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "Exporting logs for cluster {:?} to:\nERROR: command \"docker exec {cp} crictl images\" failed with error: exit status 1\n\nCommand Output: crictl says no\n",
            tc.name
        )
    );
    assert_eq!(read(&dir1.join(&cp).join("images.log")), "crictl says no\n");
    assert!(read(&dir1.join(&worker).join("images.log")).contains("registry.k8s.io/pause"));
    std::fs::remove_file(fail_dir.join("crictl-images")).unwrap();

    // A failing command on one node and a stopped other node: whatever can
    // be read is kept, the failures come back grouped per node, exit 1.
    std::fs::write(
        fail_dir.join("journalctl"),
        "No journal files were found.\n",
    )
    .unwrap();
    docker(&["stop", &worker]);
    let dir2 = tc.dir.path().join("out2");
    let out = tc.kind(&["export", "logs", dir2.to_str().unwrap(), "--name", &tc.name]);
    assert_eq!(out.status.code(), Some(1));
    let journal = |node: &str, unit: &str| {
        format!("command \"docker exec {node} journalctl --no-pager{unit}\" failed with error: exit status 1")
    };
    let refused = |argv: &str| {
        format!("command \"docker exec {worker} {argv}\" failed with error: exit status 1")
    };
    let want = format!(
        "Exporting logs for cluster {:?} to:\nERROR: [[{}, {}, {}], [{}]]\n",
        tc.name,
        journal(&cp, ""),
        journal(&cp, " -u kubelet.service"),
        journal(&cp, " -u containerd.service"),
        [
            "cat /kind/version",
            "journalctl --no-pager",
            "journalctl --no-pager -u kubelet.service",
            "journalctl --no-pager -u containerd.service",
            "crictl images",
            "cat /proc/self/uid_map",
            "cat /proc/self/gid_map",
            "cat /proc/self/mountinfo",
        ]
        .map(refused)
        .join(", ")
    );
    assert_eq!(stderr(&out), want);
    assert_eq!(
        read(&dir2.join(&cp).join("journal.log")),
        "No journal files were found.\n",
        "the failed command's output is kept"
    );
    assert_eq!(
        read(&dir2.join(&cp).join("kubernetes-version.txt")).trim(),
        "v1.36.1"
    );
    let wd = dir2.join(&worker);
    let refusal = read(&wd.join("kubernetes-version.txt"));
    assert!(
        refusal.starts_with("Error response from daemon: ")
            && refusal.ends_with(" is not running\n"),
        "the docker CLI's message: {refusal:?}"
    );
    assert!(read(&wd.join("serial.log")).contains("Multi-User System"));
    assert_eq!(read(&wd.join("sysbox/runtime.txt")), "sysbox-runc\n");
    let inspect: serde_json::Value = serde_json::from_str(&read(&wd.join("inspect.json"))).unwrap();
    assert_eq!(inspect[0]["State"]["Running"], false);
    assert!(
        wd.join("kind-fixture/calls.log").is_file(),
        "a stopped node's /var/log is still copied"
    );
}

#[test]
fn unknown_cluster_and_extra_arguments_fail_like_upstream() {
    let name = unique("nosuch");
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let kubeconfig = dir.path().join("kubeconfig");
    let out = kind_cmd(
        &["export", "logs", out_dir.to_str().unwrap(), "--name", &name],
        &[],
        &kubeconfig,
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), format!("ERROR: unknown cluster {name:?}\n"));
    assert!(
        !out_dir.exists(),
        "nothing is written for an unknown cluster"
    );

    // KIND_CLUSTER_NAME stands in for --name.
    let out = kind_cmd(
        &["export", "logs"],
        &[("KIND_CLUSTER_NAME", &name)],
        &kubeconfig,
        None,
    );
    assert_eq!(stderr(&out), format!("ERROR: unknown cluster {name:?}\n"));

    let out = kind_cmd(&["export", "logs", "a", "b"], &[], &kubeconfig, None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "ERROR: accepts at most 1 arg(s), received 2\n"
    );
}
