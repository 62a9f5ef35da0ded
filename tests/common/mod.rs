//! Shared harness for the tests that drive the `kind` binary against the
//! real Docker engine, with the fixture node image (tests/fixtures/node-image)
//! and the `sysbox-runc` stand-in runtime that .ci/run registers.
#![allow(dead_code)]

pub mod private_dockerd;
pub mod silent_socket;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const FIXTURE_IMAGE: &str = "kind-fixture/node:v1.36.1";
pub const FIXTURE_IMAGE_V1_22: &str = "kind-fixture/node:v1.22.17";
pub const FIXTURE_IMAGE_V1_30: &str = "kind-fixture/node:v1.30.13";
pub const CALLS_LOG: &str = "/var/log/kind-fixture/calls.log";

pub fn kind_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kind")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A name no other test (in this or a concurrent test binary) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{:x}-{n}", (std::process::id() ^ nanos) % 0xfffff)
}

pub fn image_exists(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub fn image_id(image: &str) -> String {
    docker(&["image", "inspect", "-f", "{{.Id}}", image])
        .trim()
        .to_string()
}

/// `/kind/kubeadm.conf` as kind wrote it on a node.
pub fn node_kubeadm_conf(node: &str) -> String {
    docker(&["exec", node, "cat", "/kind/kubeadm.conf"])
}

/// Fail loudly (not skip) when the fixture is missing: CI builds it first.
pub fn require_fixture() {
    for image in [FIXTURE_IMAGE, FIXTURE_IMAGE_V1_22, FIXTURE_IMAGE_V1_30] {
        assert!(
            image_exists(image), "fixture image {image} is missing: run tests/fixtures/node-image/build.sh (or bash .ci/run)");
    }
}

/// `docker <args>`; panics on failure (test setup/inspection only).
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Containers (any state) labelled as nodes of `cluster`.
pub fn cluster_containers(cluster: &str) -> Vec<String> {
    let filter = format!("label=io.x-k8s.kind.cluster={cluster}");
    docker(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"])
        .lines()
        .map(String::from)
        .collect()
}

pub fn inspect(container: &str) -> serde_json::Value {
    let raw = docker(&["inspect", container]);
    let v: serde_json::Value = serde_json::from_str(&raw).expect("inspect json");
    v[0].clone()
}

/// The stand-in tools' call log of one node, one JSON object per call.
pub fn calls(node: &str) -> Vec<serde_json::Value> {
    let out = Command::new("docker")
        .args(["exec", node, "cat", CALLS_LOG])
        .output()
        .expect("docker exec");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad call log line {l:?}: {e}")))
        .collect()
}

/// A recorded call as a command line: the tool, then its argv.
pub fn call_line(call: &serde_json::Value) -> String {
    let mut words = vec![call["tool"].as_str().unwrap_or("").to_string()];
    words.extend(
        call["argv"]
            .as_array()
            .expect("argv")
            .iter()
            .map(|a| a.as_str().unwrap_or("").to_string()),
    );
    words.join(" ")
}

/// Every recorded call of one node, as command lines.
pub fn call_lines(node: &str) -> Vec<String> {
    calls(node).iter().map(call_line).collect()
}

/// One test's cluster: unique name, private kubeconfig, and a guard that
/// removes every container of the cluster however the test ends.
pub struct TestCluster {
    pub name: String,
    pub dir: tempfile::TempDir,
}

impl TestCluster {
    pub fn new(prefix: &str) -> TestCluster {
        TestCluster::named(&unique(prefix))
    }

    pub fn named(name: &str) -> TestCluster {
        let tc = TestCluster {
            name: name.to_string(),
            dir: tempfile::tempdir().expect("tempdir"),
        };
        tc.remove_containers();
        tc
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Run kind with KUBECONFIG pointing at this test's file.
    pub fn kind(&self, args: &[&str]) -> Output {
        self.kind_env(args, &[])
    }

    pub fn kind_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        kind_cmd(args, env, &self.kubeconfig(), None)
    }

    pub fn kind_stdin(&self, args: &[&str], stdin: &str) -> Output {
        kind_cmd(args, &[], &self.kubeconfig(), Some(stdin))
    }

    /// `kind create cluster --name NAME --image FIXTURE_IMAGE EXTRA…`.
    pub fn create(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "create",
            "cluster",
            "--name",
            &self.name,
            "--image",
            FIXTURE_IMAGE,
        ];
        args.extend_from_slice(extra);
        self.kind(&args)
    }

    /// [`TestCluster::create`] with this config (written into the test's
    /// directory); it must succeed.
    pub fn create_fixture(&self, config: &str) {
        let cfg = self.write("cluster.yaml", config);
        assert_ok(&self.create(&["--config", cfg.to_str().unwrap()]));
    }

    pub fn write(&self, file: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(file);
        std::fs::write(&p, content).expect("write");
        p
    }

    pub fn containers(&self) -> Vec<String> {
        cluster_containers(&self.name)
    }

    fn remove_containers(&self) {
        let names = self.containers();
        if !names.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(names.iter().map(String::as_str));
            let _ = Command::new("docker").args(&args).output();
        }
        // The cluster's images inbox volume (a retained or crashed create's).
        let _ = Command::new("docker")
            .args(["volume", "rm", "-f", &images_volume(&self.name)])
            .output();
    }
}

/// The images inbox volume of a cluster (`provider::inbox`).
pub fn images_volume(cluster: &str) -> String {
    format!("kind-sysbox-images-{cluster}")
}

/// Whether a Docker volume of that name exists.
pub fn volume_exists(name: &str) -> bool {
    Command::new("docker")
        .args(["volume", "inspect", name])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.remove_containers();
    }
}

pub fn kind_cmd(
    args: &[&str],
    env: &[(&str, &str)],
    kubeconfig: &Path,
    stdin: Option<&str>,
) -> Output {
    let mut cmd = Command::new(kind_bin());
    cmd.args(args)
        .env("KUBECONFIG", kubeconfig)
        .env_remove("KIND_CLUSTER_NAME")
        .env_remove("KIND_EXPERIMENTAL_RUNTIME")
        .env_remove("KIND_EXPERIMENTAL_DOCKER_NETWORK")
        .env_remove("KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("NO_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("no_proxy");
    for (k, v) in env {
        cmd.env(k, v);
    }
    match stdin {
        Some(input) => {
            use std::io::Write;
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn kind");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            child.wait_with_output().expect("wait kind")
        }
        None => cmd.stdin(Stdio::null()).output().expect("run kind"),
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert success, showing kind's stderr when not.
pub fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "kind failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// `kubectl` against a kubeconfig file.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("run kubectl")
}

/// Run `cmd` (kind, maybe wrapped) with no Docker endpoint, provider or
/// runtime settings inherited from the test's environment; HOME is `home`.
pub fn run_isolated(mut cmd: Command, home: &Path, env: &[(&str, &str)]) -> Output {
    for var in [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CONFIG",
        "DOCKER_TLS_VERIFY",
        "DOCKER_TLS",
        "DOCKER_CERT_PATH",
        "KIND_EXPERIMENTAL_PROVIDER",
        "KIND_EXPERIMENTAL_RUNTIME",
        "KIND_CLUSTER_NAME",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("KUBECONFIG", home.join("kubeconfig"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::null())
        .output()
        .expect("run kind")
}

/// `kind args` with `run_isolated`'s environment.
pub fn kind_isolated(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(kind_bin());
    cmd.args(args);
    run_isolated(cmd, home, env)
}

/// Images a test made; removed however the test ends.
#[derive(Default)]
pub struct Images(pub Vec<String>);

impl Images {
    pub fn add(&mut self, image: &str) -> String {
        self.0.push(image.to_string());
        image.to_string()
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        for image in self.0.iter().rev() {
            let _ = Command::new("docker").args(["rmi", "-f", image]).output();
        }
    }
}

/// A tiny image with one file, made without a registry.
pub fn tiny_image(images: &mut Images, name: &str, content: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), content).unwrap();
    let tar = Command::new("tar")
        .args(["-C", dir.path().to_str().unwrap(), "-c", "hello.txt"])
        .output()
        .unwrap();
    assert!(tar.status.success());
    let mut child = Command::new("docker")
        .args(["import", "-", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    assert!(child.wait().unwrap().success(), "docker import {name}");
    images.add(name)
}
