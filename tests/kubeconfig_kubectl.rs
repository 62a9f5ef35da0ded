//! The kubeconfig files we write, checked with the real kubectl
//! (/usr/bin/kubectl), including concurrent create/delete from several
//! processes against one file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kind_sysbox::kubeconfig;

const KUBECTL: &str = "/usr/bin/kubectl";

fn admin_conf() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/kubeconfig/admin.conf"
    ))
    .unwrap()
}

/// The `user.client-key-data` of the fixture, to check it survives verbatim.
fn fixture_field(field: &str) -> String {
    let conf = admin_conf();
    let line = conf
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{field}:")))
        .unwrap();
    line.split_once(": ").unwrap().1.to_string()
}

fn kind_config(cluster: &str, port: u16) -> String {
    kubeconfig::from_admin_conf(
        &admin_conf(),
        cluster,
        Some(&format!("https://127.0.0.1:{port}")),
    )
    .unwrap()
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run kubectl")
}

fn kubectl_ok(kubeconfig: &Path, args: &[&str]) -> String {
    let out = kubectl(kubeconfig, args);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}\nfile:\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(kubeconfig).unwrap_or_default()
    );
    String::from_utf8(out.stdout).unwrap()
}

fn context_names(kubeconfig: &Path) -> BTreeSet<String> {
    kubectl_ok(kubeconfig, &["config", "get-contexts", "-o", "name"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn dir_entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn kubectl_reads_exported_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kube/config");
    kubeconfig::export(&kind_config("kind", 1), Some(&file)).unwrap();

    assert_eq!(context_names(&file), set(&["kind-kind"]));
    assert_eq!(
        kubectl_ok(&file, &["config", "current-context"]),
        "kind-kind\n"
    );
    let jp = |path: &str| {
        kubectl_ok(
            &file,
            &[
                "config",
                "view",
                "--raw",
                "-o",
                &format!("jsonpath={{{path}}}"),
            ],
        )
    };
    assert_eq!(jp(".clusters[0].name"), "kind-kind");
    assert_eq!(jp(".clusters[0].cluster.server"), "https://127.0.0.1:1");
    assert_eq!(jp(".contexts[0].context.cluster"), "kind-kind");
    assert_eq!(jp(".contexts[0].context.user"), "kind-kind");
    assert_eq!(jp(".users[0].name"), "kind-kind");
    assert_eq!(
        jp(".users[0].user.client-key-data"),
        fixture_field("client-key-data")
    );
    assert_eq!(
        jp(".users[0].user.client-certificate-data"),
        fixture_field("client-certificate-data")
    );
    assert_eq!(
        jp(".clusters[0].cluster.certificate-authority-data"),
        fixture_field("certificate-authority-data")
    );

    // The embedded PEM data loads: kubectl gets as far as connecting.
    let out = kubectl(&file, &["get", "nodes", "--request-timeout=2s"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("connection refused"),
        "unexpected kubectl error: {stderr}"
    );
}

#[test]
fn merge_and_remove_around_a_kubectl_written_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    kubectl_ok(
        &file,
        &[
            "config",
            "set-cluster",
            "prod",
            "--server=https://prod.example:443",
        ],
    );
    kubectl_ok(
        &file,
        &[
            "config",
            "set-credentials",
            "prod-admin",
            "--token=secret-token",
        ],
    );
    kubectl_ok(
        &file,
        &[
            "config",
            "set-context",
            "prod",
            "--cluster=prod",
            "--user=prod-admin",
            "--namespace=yes",
        ],
    );
    kubectl_ok(&file, &["config", "use-context", "prod"]);

    kubeconfig::export(&kind_config("one", 1), Some(&file)).unwrap();
    kubeconfig::export(&kind_config("two", 2), Some(&file)).unwrap();
    assert_eq!(context_names(&file), set(&["prod", "kind-one", "kind-two"]));
    assert_eq!(
        kubectl_ok(&file, &["config", "current-context"]),
        "kind-two\n"
    );
    // A YAML 1.1 keyword stays a string for kubectl.
    let ns = kubectl_ok(
        &file,
        &[
            "config",
            "view",
            "-o",
            "jsonpath={.contexts[?(@.name==\"prod\")].context.namespace}",
        ],
    );
    assert_eq!(ns, "yes");

    // Re-exporting replaces in place.
    kubeconfig::export(&kind_config("one", 9), Some(&file)).unwrap();
    // (kubectl's view sorts by name, so check file order on the file itself.)
    let raw: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let servers: Vec<&str> = raw["clusters"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|c| c["cluster"]["server"].as_str().unwrap())
        .collect();
    assert_eq!(
        servers,
        [
            "https://prod.example:443",
            "https://127.0.0.1:9",
            "https://127.0.0.1:2"
        ]
    );
    let one = kubectl_ok(
        &file,
        &[
            "config",
            "view",
            "-o",
            "jsonpath={.clusters[?(@.name==\"kind-one\")].cluster.server}",
        ],
    );
    assert_eq!(one, "https://127.0.0.1:9");
    assert_eq!(
        kubectl_ok(&file, &["config", "current-context"]),
        "kind-one\n"
    );

    // kubectl can keep editing what we wrote.
    kubectl_ok(&file, &["config", "use-context", "kind-two"]);

    kubeconfig::remove("two", Some(&file)).unwrap();
    assert_eq!(context_names(&file), set(&["prod", "kind-one"]));
    let current = kubectl(&file, &["config", "current-context"]);
    assert!(
        !current.status.success(),
        "current-context pointed at the removed cluster and must be unset"
    );
    kubeconfig::remove("one", Some(&file)).unwrap();
    assert_eq!(context_names(&file), set(&["prod"]));
    assert_eq!(
        kubectl_ok(
            &file,
            &["config", "view", "-o", "jsonpath={.users[*].name}"]
        ),
        "prod-admin"
    );
    assert_eq!(dir_entries(dir.path()), set(&["config"]));
}

#[test]
fn kubeconfig_list_merge_target_and_remove_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (missing, first, second) = (
        dir.path().join("missing"),
        dir.path().join("first"),
        dir.path().join("second"),
    );
    std::fs::write(&first, "").unwrap();
    let list = vec![missing.clone(), first.clone(), second.clone()];
    kubeconfig::export_to(&kind_config("multi", 3), &list, Duration::from_secs(10)).unwrap();
    assert!(
        !missing.exists(),
        "the first existing file is the merge target"
    );
    assert_eq!(context_names(&first), set(&["kind-multi"]));
    // Another file also holds a copy of our entries, next to someone else's.
    std::fs::copy(&first, &second).unwrap();
    kubectl_ok(&second, &["config", "set-context", "other", "--cluster=x"]);

    // kubectl sees the merged view through KUBECONFIG.
    let joined = std::env::join_paths(&list).unwrap();
    let out = Command::new(KUBECTL)
        .args(["config", "get-contexts", "-o", "name"])
        .env("KUBECONFIG", &joined)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .collect::<BTreeSet<_>>(),
        ["kind-multi", "other"].into()
    );

    kubeconfig::remove_from("multi", &list, Duration::from_secs(10)).unwrap();
    assert_eq!(context_names(&first), set(&[]));
    assert_eq!(context_names(&second), set(&["other"]));
    assert!(!missing.exists(), "remove never creates files");
}

#[test]
fn non_yaml_kubeconfig_is_left_byte_for_byte_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    for original in [
        &b"<html>not a kubeconfig</html>\n: : :\n"[..],
        b"- just\n- a list\n",
        b"plain words",
    ] {
        std::fs::write(&file, original).unwrap();
        let err = format!(
            "{:#}",
            kubeconfig::export(&kind_config("kind", 1), Some(&file)).unwrap_err()
        );
        assert!(
            err.starts_with("failed to get kubeconfig to merge: "),
            "{err}"
        );
        assert!(
            err.contains(&file.display().to_string()),
            "error must name the file: {err}"
        );
        assert!(err.contains("left unchanged"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), original);
        let err = format!("{:#}", kubeconfig::remove("kind", Some(&file)).unwrap_err());
        assert!(err.contains("left unchanged"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), original);
        assert_eq!(
            dir_entries(dir.path()),
            set(&["config"]),
            "no lock or temp file left behind"
        );
    }
}

const CHILD_ENV: &str = "KIND_SYSBOX_KUBECONFIG_CHILD";

/// Not a test: the body of a child process of `concurrent_processes_*`
/// (run via `--ignored --exact`). `KIND_SYSBOX_KUBECONFIG_CHILD` is
/// `<file>|<cluster>|<port>|<remove-after-export>`.
#[test]
#[ignore = "helper process for concurrent_processes_share_one_kubeconfig"]
fn concurrency_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let (file, cluster, port, remove) = (
        PathBuf::from(parts[0]),
        parts[1],
        parts[2].parse().unwrap(),
        parts[3] == "1",
    );
    kubeconfig::export(&kind_config(cluster, port), Some(&file)).unwrap();
    if remove {
        kubeconfig::remove(cluster, Some(&file)).unwrap();
    }
}

#[test]
fn concurrent_processes_share_one_kubeconfig() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    kubectl_ok(
        &file,
        &["config", "set-context", "preexisting", "--cluster=x"],
    );
    let exe = std::env::current_exe().unwrap();
    // Spawn all before waiting on any, so they really overlap.
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let spec = format!("{}|c{i}|{}|{}", file.display(), 40000 + i, i % 2);
            Command::new(&exe)
                .args([
                    "--exact",
                    "concurrency_child",
                    "--ignored",
                    "--test-threads=1",
                    "--quiet",
                ])
                .env(CHILD_ENV, spec)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let out = h.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child {i} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let want: BTreeSet<String> = [
        "preexisting",
        "kind-c0",
        "kind-c2",
        "kind-c4",
        "kind-c6",
        "kind-c8",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(context_names(&file), want);
    let clusters = kubectl_ok(
        &file,
        &["config", "view", "-o", "jsonpath={.clusters[*].name}"],
    );
    assert_eq!(
        clusters.split(' ').collect::<BTreeSet<_>>(),
        ["kind-c0", "kind-c2", "kind-c4", "kind-c6", "kind-c8"].into()
    );
    assert_eq!(
        dir_entries(dir.path()),
        set(&["config"]),
        "no .lock or temp file remains"
    );
}

#[test]
fn fixture_round_trips_byte_identically_apart_from_renames() {
    let admin = admin_conf();
    let body: String = admin
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let want = body
        .replace("name: kubernetes-admin@kind", "name: kind-kind")
        .replace(
            "current-context: kubernetes-admin@kind",
            "current-context: kind-kind",
        )
        .replace("name: kubernetes-admin\n", "name: kind-kind\n")
        .replace("user: kubernetes-admin\n", "user: kind-kind\n")
        .replace("cluster: kind\n", "cluster: kind-kind\n")
        .replace("  name: kind\n", "  name: kind-kind\n");
    assert_eq!(
        kubeconfig::from_admin_conf(&admin, "kind", None).unwrap(),
        want
    );
}
