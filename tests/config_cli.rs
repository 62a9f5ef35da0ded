//! Every invalid case of tests/fixtures/config/cases.yaml, run through
//! `kind create cluster --config`, exits 1 with upstream's message and
//! creates nothing. (One test in its own binary, so no other test creates
//! containers meanwhile.)

mod common;

use common::*;

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    config: String,
    error: Option<String>,
}

fn all_kind_containers() -> Vec<String> {
    let mut v: Vec<String> = docker(&[
        "ps",
        "-a",
        "--filter",
        "label=io.x-k8s.kind.cluster",
        "--format",
        "{{.Names}}",
    ])
    .lines()
    .map(String::from)
    .collect();
    v.sort();
    v
}

#[test]
fn invalid_configs_fail_with_upstreams_message_and_create_nothing() {
    let text =
        std::fs::read_to_string(repo_root().join("tests/fixtures/config/cases.yaml")).unwrap();
    let cases: Vec<Case> = serde_yaml::from_str(&text).unwrap();
    let invalid: Vec<&Case> = cases.iter().filter(|c| c.error.is_some()).collect();
    assert!(invalid.len() >= 80, "{} invalid cases", invalid.len());

    let before = all_kind_containers();
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
    assert_eq!(all_kind_containers(), before, "no container was created");
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
