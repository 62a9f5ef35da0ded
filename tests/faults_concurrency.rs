//! Ten `kind create cluster` / `kind delete cluster` of different names at
//! once against one KUBECONFIG that also holds unrelated contexts, five
//! rounds (issue 9's fault suite). After each round: kubectl parses the
//! file, the unrelated entries are unchanged, and exactly the surviving
//! clusters' contexts are there. Runs on a private dockerd (tmpfs data
//! root) so the shared daemon's disk and neighbours play no part.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use common::private_dockerd::PrivateDockerd;
use common::*;

const UNRELATED: &str = "apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://10.1.2.3:6443
  name: prod
- cluster:
    server: https://10.9.9.9:6443
  name: staging
contexts:
- context:
    cluster: prod
    user: ops
  name: prod
- context:
    cluster: staging
    user: ops
    namespace: web
  name: staging
current-context: prod
users:
- name: ops
  user:
    token: abc
";

const PARALLEL: usize = 10;
const ROUNDS: usize = 5;

/// The named entry of one of a kubeconfig's lists (`clusters`, ...).
fn entry(doc: &serde_yaml::Value, list: &str, name: &str) -> Option<serde_yaml::Value> {
    doc.get(list)?
        .as_sequence()?
        .iter()
        .find(|e| e.get("name").and_then(|n| n.as_str()) == Some(name))
        .cloned()
}

fn check_file(kubeconfig: &Path, survivors: &BTreeSet<String>, round: usize) {
    let out = kubectl(kubeconfig, &["config", "get-contexts", "-o", "name"]);
    assert!(
        out.status.success(),
        "round {round}: kubectl cannot parse the kubeconfig: {}",
        stderr(&out)
    );
    let got: BTreeSet<String> = stdout(&out).lines().map(str::to_string).collect();
    let mut want: BTreeSet<String> = survivors.iter().map(|c| format!("kind-{c}")).collect();
    want.insert("prod".into());
    want.insert("staging".into());
    assert_eq!(got, want, "round {round}: contexts");
    let original: serde_yaml::Value = serde_yaml::from_str(UNRELATED).unwrap();
    let now: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(kubeconfig).unwrap()).unwrap();
    for (list, name) in [
        ("clusters", "prod"),
        ("clusters", "staging"),
        ("contexts", "prod"),
        ("contexts", "staging"),
        ("users", "ops"),
    ] {
        assert_eq!(
            entry(&now, list, name),
            entry(&original, list, name),
            "round {round}: unrelated {list} entry {name} changed"
        );
    }
    assert!(
        !Path::new(&format!("{}.lock", kubeconfig.display())).exists(),
        "round {round}: lock file left"
    );
}

#[test]
fn ten_concurrent_creates_and_deletes_five_rounds_keep_the_kubeconfig_exact() {
    require_fixture();
    let started = Instant::now();
    let d = PrivateDockerd::for_nodes(serde_json::json!({}));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(&kubeconfig, UNRELATED).unwrap();
    let host = d.host();
    let mut survivors: BTreeSet<String> = BTreeSet::new();
    let prefix = unique("conc");
    for round in 0..ROUNDS {
        // Half of this round's workers create a cluster; the other half
        // delete one the previous round left (or create, in round 0).
        let doomed: Vec<String> = survivors.iter().take(PARALLEL / 2).cloned().collect();
        let mut jobs = Vec::new();
        for i in 0..PARALLEL {
            let (kc, host) = (kubeconfig.clone(), host.clone());
            let job = match doomed.get(i / 2) {
                Some(name) if i % 2 == 1 => ("delete", name.clone()),
                _ => ("create", format!("{prefix}-{round}-{i}")),
            };
            jobs.push((
                job.clone(),
                std::thread::spawn(move || {
                    let (verb, name) = job;
                    let mut args = vec![verb, "cluster", "--name", &name];
                    if verb == "create" {
                        args.extend(["--image", FIXTURE_IMAGE]);
                    }
                    kind_cmd(&args, &[("DOCKER_HOST", &host)], &kc, None)
                }),
            ));
        }
        for ((verb, name), job) in jobs {
            let out = job.join().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {verb} {name} failed: {}",
                stderr(&out)
            );
            if verb == "create" {
                survivors.insert(name);
            } else {
                survivors.remove(&name);
            }
        }
        check_file(&kubeconfig, &survivors, round);
        for name in &survivors {
            assert_eq!(
                d.cluster_containers(name),
                [format!("{name}-control-plane")],
                "round {round}: {name}'s node"
            );
        }
    }
    // Everyone out, all at once.
    let jobs: Vec<_> = survivors
        .iter()
        .map(|name| {
            let (kc, host, name) = (kubeconfig.clone(), host.clone(), name.clone());
            std::thread::spawn(move || {
                kind_cmd(
                    &["delete", "cluster", "--name", &name],
                    &[("DOCKER_HOST", &host)],
                    &kc,
                    None,
                )
            })
        })
        .collect();
    for job in jobs {
        assert_ok(&job.join().unwrap());
    }
    check_file(&kubeconfig, &BTreeSet::new(), ROUNDS);
    assert_eq!(
        d.docker(&["ps", "-aq"]),
        "",
        "no container left on the daemon"
    );
    eprintln!("{PARALLEL} x {ROUNDS} rounds took {:?}", started.elapsed());
}
