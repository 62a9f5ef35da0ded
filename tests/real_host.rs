//! End to end on a real host: Docker with Sysbox installed and internet
//! access, real `kindest/node` image, real kubeadm. Everywhere else it skips
//! and says why (our build machines have only a runc stand-in registered as
//! `sysbox-runc`, and no registry).

mod common;

use std::process::Command;

use common::*;

/// Why this host cannot run the real end-to-end test, if it cannot.
fn skip_reason() -> Option<String> {
    let out = match Command::new("docker")
        .args(["info", "--format", "{{json .Runtimes}}"])
        .output()
    {
        Ok(o) if o.status.success() => o,
        _ => return Some("no Docker daemon reachable".into()),
    };
    let runtimes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let path = runtimes
        .as_object()
        .and_then(|m| {
            m.values()
                .find_map(|r| r["path"].as_str().filter(|p| p.ends_with("sysbox-runc")))
                .map(String::from)
        })
        .or_else(|| {
            runtimes
                .get("sysbox-runc")
                .and_then(|r| r["path"].as_str())
                .map(String::from)
        });
    let Some(path) = path else {
        return Some("no sysbox-runc runtime registered with Docker".into());
    };
    let version = Command::new(&path).arg("--version").output();
    match version {
        Ok(v) if String::from_utf8_lossy(&v.stdout).contains("sysbox-runc") => {}
        _ => return Some(format!("the runtime registered as sysbox-runc ({path}) is not Sysbox (the build machines' runc stand-in)")),
    }
    let pull = Command::new("docker")
        .args(["pull", "-q", kind_sysbox::config::DEFAULT_NODE_IMAGE])
        .output();
    match pull {
        Ok(p) if p.status.success() => None,
        _ => Some(format!(
            "cannot pull {} (no registry access)",
            kind_sysbox::config::DEFAULT_NODE_IMAGE
        )),
    }
}

#[test]
fn real_sysbox_cluster_comes_up_and_goes_away() {
    if let Some(reason) = skip_reason() {
        eprintln!("SKIPPED real_sysbox_cluster_comes_up_and_goes_away: {reason}");
        return;
    }
    let tc = TestCluster::new("real");
    let config = repo_root().join("config-examples/ha.yaml");
    assert_ok(&tc.kind(&[
        "create",
        "cluster",
        "--name",
        &tc.name,
        "--config",
        config.to_str().unwrap(),
        "--wait",
        "5m",
    ]));
    let nodes = kubectl(&tc.kubeconfig(), &["get", "nodes", "--no-headers"]);
    assert!(nodes.status.success(), "{}", stderr(&nodes));
    let listing = stdout(&nodes);
    assert_eq!(listing.lines().count(), 5, "{listing}");
    assert!(
        listing
            .lines()
            .all(|l| l.split_whitespace().nth(1) == Some("Ready")),
        "{listing}"
    );
    for node in tc
        .containers()
        .iter()
        .filter(|n| !n.ends_with("external-load-balancer"))
    {
        let uid_map = docker(&["exec", node, "cat", "/proc/self/uid_map"]);
        assert!(
            !uid_map.split_whitespace().eq(["0", "0", "4294967295"]),
            "{node} is in its own user namespace: {uid_map}"
        );
        assert_eq!(inspect(node)["HostConfig"]["Privileged"], false);
    }
    assert_ok(&tc.kind(&["delete", "cluster", "--name", &tc.name]));
    assert!(tc.containers().is_empty());
}
