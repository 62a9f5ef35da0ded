//! SIGINT/SIGTERM at each step of `kind create cluster` (issue 9 item 3):
//! the fixture's delay toggles hold create in provisioning, init or join,
//! and a kubeconfig lock held by the test holds it at export. Each time the
//! process must end by the signal, as upstream's does (the shell's 130 for
//! SIGINT), and leave nothing: no container, no network named for the
//! cluster, the kubeconfig byte-identical; with `--retain` the nodes stay.
//! Every other command ends by the signal too (against a silent daemon).

mod common;

use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::private_dockerd::PrivateDockerd;
use common::silent_socket::SilentSocket;
use common::*;

/// A kubeconfig with a context nobody of ours may touch.
const UNRELATED: &str = "apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://10.1.2.3:6443
  name: prod
contexts:
- context:
    cluster: prod
    user: ops
  name: prod
current-context: prod
users:
- name: ops
  user:
    token: abc
";

/// `kind args` in the background, stderr to a file; SIGINT/SIGTERM at
/// their default action in the child even when this test runs as a
/// background job (where SIGINT is inherited ignored).
fn spawn_kind(args: &[&str], env: &[(&str, &str)], kubeconfig: &Path, log: &Path) -> Child {
    let mut cmd = Command::new(kind_bin());
    cmd.args(args)
        .env("KUBECONFIG", kubeconfig)
        .env_remove("KIND_CLUSTER_NAME")
        .env_remove("KIND_EXPERIMENTAL_RUNTIME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            Ok(())
        });
    }
    cmd.spawn().expect("spawn kind")
}

fn wait_for_text(log: &Path, text: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let got = std::fs::read_to_string(log).unwrap_or_default();
        if got.contains(text) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {text:?} within {timeout:?}; stderr so far:\n{got}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: signalling our own child by pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// Wait (bounded) for the child; a hang is a failure.
fn wait_bounded(child: &mut Child, timeout: Duration, log: &Path) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "kind still running {timeout:?} after the signal; stderr:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_killed_by(status: ExitStatus, sig: i32, log: &Path) {
    assert_eq!(
        status.signal(),
        Some(sig),
        "expected the process to end by signal {sig} (as upstream: shell status {}), got {status:?}; stderr:\n{}",
        128 + sig,
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn networks_named_for(d: &PrivateDockerd, cluster: &str) -> Vec<String> {
    d.docker(&["network", "ls", "--format", "{{.Name}}"])
        .lines()
        .filter(|n| n.contains(cluster))
        .map(str::to_string)
        .collect()
}

/// Where create is held, and how.
enum Step {
    /// The control plane's entrypoint delays its readiness lines.
    Provisioning,
    /// `kubeadm init` sleeps.
    Init,
    /// `kubeadm join` sleeps on the worker.
    Join,
    /// The test holds `<kubeconfig>.lock`.
    Export,
}

struct Held {
    // Dropped last: the daemon (its tmpfs data root) outlives the checks.
    tc: TestCluster,
    d: PrivateDockerd,
    child: Child,
    log: PathBuf,
    kubeconfig_before: Vec<u8>,
    _lock: Option<PathBuf>,
}

/// Start a create of a fresh cluster and return once it is held in `step`.
fn create_held_in(prefix: &str, step: Step, retain: bool) -> Held {
    require_fixture();
    // A private daemon: its tmpfs data root passes create's free-disk check
    // whatever the shared disk holds.
    let d = PrivateDockerd::for_nodes(serde_json::json!({}));
    let tc = TestCluster::new(prefix);
    let toggles = tc.dir.path().join("kind-fixture");
    for dir in ["delay", "fail"] {
        std::fs::create_dir_all(toggles.join(dir)).unwrap();
    }
    let (key, waited) = match step {
        Step::Provisioning => (Some("entrypoint"), "Preparing nodes"),
        Step::Init => (Some("kubeadm-init"), "Starting control-plane"),
        Step::Join => (Some("kubeadm-join"), "Joining worker nodes"),
        Step::Export => (None, "Installing StorageClass"),
    };
    if let Some(key) = key {
        std::fs::write(toggles.join("delay").join(key), "60").unwrap();
    }
    let mount = format!(
        "  extraMounts:\n  - hostPath: {}\n    containerPath: /kind-fixture\n",
        toggles.display()
    );
    let config = match step {
        Step::Join => format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n{mount}"
        ),
        _ => format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n{mount}"
        ),
    };
    let config = tc.write("config.yaml", &config);
    let kubeconfig = tc.kubeconfig();
    std::fs::write(&kubeconfig, UNRELATED).unwrap();
    let lock = matches!(step, Step::Export).then(|| {
        let lock = PathBuf::from(format!("{}.lock", kubeconfig.display()));
        std::fs::write(&lock, "").unwrap();
        lock
    });
    let log = tc.dir.path().join("stderr");
    let mut args = vec![
        "create",
        "cluster",
        "--name",
        &tc.name,
        "--image",
        FIXTURE_IMAGE,
        "--config",
        config.to_str().unwrap(),
    ];
    if retain {
        args.push("--retain");
    }
    let child = spawn_kind(&args, &[("DOCKER_HOST", &d.host())], &kubeconfig, &log);
    wait_for_text(&log, waited, Duration::from_secs(120));
    if matches!(step, Step::Export) {
        // StorageClass is the last step before export; let create reach the lock.
        wait_for_text(&log, "✓ Installing StorageClass", Duration::from_secs(60));
    }
    // Into the step (the delayed call has started, or the lock is waited on).
    std::thread::sleep(Duration::from_millis(1500));
    Held {
        tc,
        d,
        child,
        log,
        kubeconfig_before: UNRELATED.as_bytes().to_vec(),
        _lock: lock,
    }
}

/// Signal a held create; it must end by the signal within a bound, leaving
/// nothing of its cluster.
fn interrupt_and_check_nothing_left(held: &mut Held, sig: i32) {
    assert!(
        !held.d.cluster_containers(&held.tc.name).is_empty(),
        "the nodes should exist while create is held"
    );
    signal(&held.child, sig);
    let status = wait_bounded(&mut held.child, Duration::from_secs(60), &held.log);
    assert_killed_by(status, sig, &held.log);
    assert_eq!(
        held.d.cluster_containers(&held.tc.name),
        Vec::<String>::new(),
        "containers left; stderr:\n{}",
        std::fs::read_to_string(&held.log).unwrap_or_default()
    );
    assert_eq!(
        networks_named_for(&held.d, &held.tc.name),
        Vec::<String>::new()
    );
    assert_eq!(
        std::fs::read(held.tc.kubeconfig()).unwrap(),
        held.kubeconfig_before,
        "the kubeconfig must be byte-identical"
    );
}

#[test]
fn sigint_while_provisioning_removes_the_nodes() {
    let mut held = create_held_in("sigprov", Step::Provisioning, false);
    interrupt_and_check_nothing_left(&mut held, libc::SIGINT);
}

#[test]
fn sigint_during_kubeadm_init_removes_the_nodes() {
    let mut held = create_held_in("siginit", Step::Init, false);
    interrupt_and_check_nothing_left(&mut held, libc::SIGINT);
}

#[test]
fn sigterm_during_kubeadm_join_removes_the_nodes() {
    let mut held = create_held_in("sigjoin", Step::Join, false);
    interrupt_and_check_nothing_left(&mut held, libc::SIGTERM);
}

/// The defect of issue 9: once the nodes were up, Ctrl-C was swallowed
/// while create waited on the kubeconfig lock.
#[test]
fn sigint_while_waiting_for_the_kubeconfig_lock_removes_the_nodes() {
    let mut held = create_held_in("sigexport", Step::Export, false);
    let lock = PathBuf::from(format!("{}.lock", held.tc.kubeconfig().display()));
    interrupt_and_check_nothing_left(&mut held, libc::SIGINT);
    // Someone else's lock is not ours to remove.
    assert!(lock.exists(), "the test's lock file must be left alone");
}

#[test]
fn sigint_with_retain_keeps_the_nodes() {
    let mut held = create_held_in("sigretain", Step::Init, true);
    let before = held.d.cluster_containers(&held.tc.name);
    signal(&held.child, libc::SIGINT);
    let status = wait_bounded(&mut held.child, Duration::from_secs(30), &held.log);
    assert_killed_by(status, libc::SIGINT, &held.log);
    assert_eq!(
        held.d.cluster_containers(&held.tc.name),
        before,
        "--retain keeps the nodes"
    );
    assert_eq!(
        std::fs::read(held.tc.kubeconfig()).unwrap(),
        held.kubeconfig_before
    );
}

/// Every command ends by SIGINT and by SIGTERM mid-request, without
/// output, as upstream (checked against kind v0.32.0: killed by the
/// signal, nothing printed but `delete cluster`'s first line).
#[test]
fn every_command_ends_by_the_signal() {
    let silent = SilentSocket::new();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, UNRELATED).unwrap();
    let archive = dir.path().join("a.tar");
    std::fs::write(&archive, "").unwrap();
    let logs = dir.path().join("logs");
    let archive = archive.to_str().unwrap();
    let logs = logs.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["get", "clusters"],
        vec!["get", "nodes", "--name", "sig-none"],
        vec!["get", "kubeconfig", "--name", "sig-none"],
        vec!["export", "kubeconfig", "--name", "sig-none"],
        vec!["export", "logs", logs, "--name", "sig-none"],
        vec!["delete", "cluster", "--name", "sig-none"],
        vec!["delete", "clusters", "--all"],
        vec!["load", "docker-image", "x:1", "--name", "sig-none"],
        vec!["load", "image-archive", archive, "--name", "sig-none"],
        vec!["build", "node-image", "--base-image", "x:1"],
        vec!["create", "cluster", "--name", "sig-none"],
    ];
    for sig in [libc::SIGINT, libc::SIGTERM] {
        for args in &commands {
            let log = dir.path().join("stderr");
            let mut child = spawn_kind(args, &[("DOCKER_HOST", &silent.host())], &kubeconfig, &log);
            // Within the bounded ping (a few seconds): the request is in flight.
            std::thread::sleep(Duration::from_millis(700));
            signal(&child, sig);
            let status = wait_bounded(&mut child, Duration::from_secs(10), &log);
            assert_eq!(
                status.signal(),
                Some(sig),
                "{args:?}: {status:?}; stderr:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            let err = std::fs::read_to_string(&log).unwrap();
            assert!(!err.contains("ERROR"), "{args:?} printed an error: {err}");
        }
    }
    assert_eq!(std::fs::read_to_string(&kubeconfig).unwrap(), UNRELATED);
}
