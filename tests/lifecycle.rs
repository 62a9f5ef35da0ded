//! Concurrency, interruption, `get`/`delete clusters`, and the kubeadm
//! config written for each Kubernetes version band.

mod common;

use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn ten_concurrent_creates_and_deletes_share_one_kubeconfig() {
    require_fixture();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    let names: Vec<String> = (0..10)
        .map(|i| format!("conc{i}-{:x}", std::process::id() % 0xffff))
        .collect();
    let guards: Vec<TestCluster> = names.iter().map(|n| TestCluster::named(n)).collect();

    let spawn = |args: Vec<String>| {
        Command::new(kind_bin())
            .args(&args)
            .env("KUBECONFIG", &kubeconfig)
            .env_remove("KIND_CLUSTER_NAME")
            .env_remove("KIND_EXPERIMENTAL_RUNTIME")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let creates: Vec<_> = names
        .iter()
        .map(|n| {
            spawn(vec![
                "create".into(),
                "cluster".into(),
                "--name".into(),
                n.clone(),
                "--image".into(),
                FIXTURE_IMAGE.into(),
            ])
        })
        .collect();
    for c in creates {
        assert_ok(&c.wait_with_output().unwrap());
    }
    // Delete every other cluster, concurrently, while exporting the rest again.
    let mut running = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let verb = if i % 2 == 0 { "delete" } else { "export" };
        let what = if i % 2 == 0 { "cluster" } else { "kubeconfig" };
        running.push(spawn(vec![
            verb.into(),
            what.into(),
            "--name".into(),
            n.clone(),
        ]));
    }
    for r in running {
        assert_ok(&r.wait_with_output().unwrap());
    }
    let out = kubectl(&kubeconfig, &["config", "get-contexts", "-o", "name"]);
    assert!(
        out.status.success(),
        "kubectl parses the file: {}",
        stderr(&out)
    );
    let mut contexts: Vec<String> = stdout(&out).lines().map(String::from).collect();
    contexts.sort();
    let mut expected: Vec<String> = names
        .iter()
        .skip(1)
        .step_by(2)
        .map(|n| format!("kind-{n}"))
        .collect();
    expected.sort();
    assert_eq!(contexts, expected);
    assert!(
        !dir.path().join("config.lock").exists(),
        "no lock left behind"
    );
    drop(guards);
}

#[test]
fn ctrl_c_during_create_removes_the_cluster() {
    require_fixture();
    let tc = TestCluster::new("sigint");
    let delay_dir = tc.dir.path().join("delay");
    std::fs::create_dir(&delay_dir).unwrap();
    std::fs::write(delay_dir.join("kubeadm-init"), "60").unwrap();
    let config = tc.write(
        "config.yaml",
        &format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind-fixture/delay\n- role: worker\n",
            delay_dir.display()
        ),
    );
    let mut child = Command::new(kind_bin());
    child
        .args([
            "create",
            "cluster",
            "--name",
            &tc.name,
            "--config",
            config.to_str().unwrap(),
            "--image",
            FIXTURE_IMAGE,
        ])
        .env("KUBECONFIG", tc.kubeconfig())
        .env_remove("KIND_EXPERIMENTAL_RUNTIME")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SIGINT at its default action even when the tests run as a background
    // job (which inherits it ignored, and kind keeps an ignored SIGINT
    // ignored, as Go does).
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        child.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let child = child.spawn().unwrap();
    let cp = format!("{}-control-plane", tc.name);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "kubeadm init never started");
        if !tc.containers().is_empty()
            && call_lines(&cp)
                .iter()
                .any(|l| l.starts_with("kubeadm init"))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    // As upstream: the process ends by the signal (the shell's 130), after
    // our rollback, with no ERROR line.
    assert_eq!(out.status.signal(), Some(2), "{out:?}");
    let err = stderr(&out);
    assert!(err.contains(" ✗ Starting control-plane 🕹️\n"), "{err}");
    assert!(!err.contains("ERROR"), "{err}");
    assert!(tc.containers().is_empty(), "left: {:?}", tc.containers());
}

#[test]
fn get_clusters_and_delete_clusters_all() {
    require_fixture();
    let a = TestCluster::new("lista");
    let b = TestCluster::new("listb");
    for tc in [&a, &b] {
        assert_ok(&tc.create(&[]));
    }
    let listed = stdout(&a.kind(&["get", "clusters"]));
    assert!(
        listed.lines().any(|l| l == a.name) && listed.lines().any(|l| l == b.name),
        "{listed}"
    );
    let sorted: Vec<&str> = listed.lines().collect();
    let mut again = sorted.clone();
    again.sort();
    assert_eq!(sorted, again, "sorted output");

    let del = a.kind(&[
        "delete",
        "clusters",
        &a.name,
        &b.name,
        "no-such-cluster-xyz",
    ]);
    assert_ok(&del);
    assert!(
        stderr(&del).ends_with(&format!(
            "Deleted clusters: [\"{}\" \"{}\" \"no-such-cluster-xyz\"]\n",
            a.name, b.name
        )),
        "{}",
        stderr(&del)
    );
    assert!(a.containers().is_empty() && b.containers().is_empty());
    let none = a.kind(&["delete", "clusters"]);
    assert_eq!(none.status.code(), Some(1));
    assert_eq!(stderr(&none), "ERROR: no cluster names provided\n");
    let nodes = a.kind(&["get", "nodes", "--name", &a.name]);
    assert_ok(&nodes);
    assert_eq!(
        stderr(&nodes),
        format!("No kind nodes found for cluster \"{}\".\n", a.name)
    );
    // Deleting a cluster that does not exist succeeds.
    assert_ok(&a.kind(&["delete", "cluster", "--name", &a.name]));
}

/// `/kind/kubeadm.conf` as written on a real node, for each kubeadm API band.
#[test]
fn kubeadm_config_follows_the_node_images_kubernetes_version() {
    require_fixture();
    for (image, api, cgroup, skip_flag) in [
        (
            FIXTURE_IMAGE_V1_22,
            "kubeadm.k8s.io/v1beta2",
            "cgroupfs",
            true,
        ),
        (
            FIXTURE_IMAGE_V1_30,
            "kubeadm.k8s.io/v1beta3",
            "systemd",
            false,
        ),
        (FIXTURE_IMAGE, "kubeadm.k8s.io/v1beta4", "systemd", false),
    ] {
        let tc = TestCluster::new("band");
        let config = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n";
        let out = tc.kind_stdin(
            &[
                "create", "cluster", "--name", &tc.name, "--image", image, "--config", "-",
            ],
            config,
        );
        assert_ok(&out);
        for node in [
            format!("{}-control-plane", tc.name),
            format!("{}-worker", tc.name),
        ] {
            let conf = node_kubeadm_conf(&node);
            assert!(
                conf.contains(&format!("apiVersion: {api}\n")),
                "{image} {node}:\n{conf}"
            );
            assert!(
                conf.contains(&format!("cgroupDriver: {cgroup}\n")),
                "{image}:\n{conf}"
            );
            assert!(!conf.contains("name: config"), "metadata removed:\n{conf}");
            assert_eq!(
                conf.matches("\n---\n").count(),
                4,
                "five documents:\n{conf}"
            );
            assert_eq!(conf.contains("skipPhases"), !skip_flag, "{image}:\n{conf}");
        }
        let cp_calls = call_lines(&format!("{}-control-plane", tc.name));
        let init = cp_calls
            .iter()
            .find(|l| l.starts_with("kubeadm init"))
            .expect("init call");
        assert_eq!(
            init.contains("--skip-phases=preflight"),
            skip_flag,
            "{init}"
        );
        let worker_calls = call_lines(&format!("{}-worker", tc.name));
        let join = worker_calls
            .iter()
            .find(|l| l.starts_with("kubeadm join"))
            .expect("join call");
        assert_eq!(
            join.contains("--skip-phases=preflight"),
            skip_flag,
            "{join}"
        );
        assert_ok(&tc.kind(&["delete", "cluster", "--name", &tc.name]));
    }
}

#[test]
fn experimental_docker_network_is_created_used_and_left_in_place() {
    require_fixture();
    let tc = TestCluster::new("altnet");
    let network = format!("{}-net", tc.name);
    let out = tc.kind_env(
        &[
            "create",
            "cluster",
            "--name",
            &tc.name,
            "--image",
            FIXTURE_IMAGE,
        ],
        &[("KIND_EXPERIMENTAL_DOCKER_NETWORK", &network)],
    );
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains("WARNING: Overriding docker network due to KIND_EXPERIMENTAL_DOCKER_NETWORK\nWARNING: Here be dragons! This is not supported currently.\n"),
        "{err}"
    );
    let node = format!("{}-control-plane", tc.name);
    let networks = inspect(&node)["NetworkSettings"]["Networks"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(networks, std::slice::from_ref(&network));
    let opts = docker(&["network", "inspect", "-f", "{{json .Options}}", &network]);
    assert!(
        opts.contains("\"com.docker.network.bridge.enable_ip_masquerade\":\"true\""),
        "{opts}"
    );
    assert_ok(&tc.kind(&["delete", "cluster", "--name", &tc.name]));
    // As upstream, the network outlives the cluster.
    assert!(docker(&["network", "ls", "--format", "{{.Name}}"])
        .lines()
        .any(|n| n == network));
    docker(&["network", "rm", &network]);
}
