//! Every invalid case of tests/fixtures/config/cases.yaml, run through
//! `kind create cluster --config`, exits 1 with upstream's message and
//! creates nothing: no container of any cluster name the cases use (other
//! test processes may create their own clusters meanwhile).

mod common;

use common::*;

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    config: String,
    error: Option<String>,
}

/// Containers (any state) of the clusters these names denote.
fn containers_of(names: &std::collections::BTreeSet<String>) -> Vec<String> {
    let mut v: Vec<String> = names.iter().flat_map(|n| cluster_containers(n)).collect();
    v.sort();
    v
}

/// The cluster name a case's config would create (`kind` when unnamed).
fn cluster_name_of(config: &str) -> String {
    serde_yaml::from_str::<serde_yaml::Value>(config)
        .ok()
        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(String::from))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "kind".into())
}

#[test]
fn invalid_configs_fail_with_upstreams_message_and_create_nothing() {
    let text =
        std::fs::read_to_string(repo_root().join("tests/fixtures/config/cases.yaml")).unwrap();
    let cases: Vec<Case> = serde_yaml::from_str(&text).unwrap();
    let invalid: Vec<&Case> = cases.iter().filter(|c| c.error.is_some()).collect();
    assert!(invalid.len() >= 80, "{} invalid cases", invalid.len());

    let names: std::collections::BTreeSet<String> =
        invalid.iter().map(|c| cluster_name_of(&c.config)).collect();
    let before = containers_of(&names);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut failures = Vec::new();
    for case in &invalid {
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, &case.config).unwrap();
        let out = kind_cmd(
            &["create", "cluster", "--config", path.to_str().unwrap()],
            &[],
            &kubeconfig,
            None,
        );
        let want = format!(
            "ERROR: failed to create cluster: {}\n",
            case.error.as_ref().unwrap()
        );
        let err = stderr(&out);
        if out.status.code() != Some(1) || !err.ends_with(&want) || err.contains("Creating cluster")
        {
            failures.push(format!(
                "{}: exit {:?}\n  want …{want:?}\n  got  {err:?}",
                case.name,
                out.status.code()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        invalid.len(),
        failures.join("\n")
    );
    assert_eq!(containers_of(&names), before, "no container was created");
    assert!(!kubeconfig.exists(), "no kubeconfig was written");
}

#[test]
fn config_from_stdin_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = kind_cmd(
        &["create", "cluster", "--config", "-"],
        &[],
        &dir.path().join("kc"),
        Some("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  ipFamily: ipv5\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).ends_with("ERROR: failed to create cluster: invalid ipFamily: ipv5\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_config_file_is_reported_like_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let out = kind_cmd(
        &["create", "cluster", "--config", "/nonexistent/kind.yaml"],
        &[],
        &dir.path().join("kc"),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "ERROR: failed to create cluster: error reading file: open /nonexistent/kind.yaml: no such file or directory\n"
    );
}
