//! A Docker daemon with no Sysbox runtime registered: `kind create cluster`
//! refuses before creating anything and says what to do. Runs a private
//! dockerd (own socket, data root, and its own network namespace) so the
//! shared daemon, which has the `sysbox-runc` stand-in, is not touched.
//! (Without the namespace, a second dockerd would manage the host's
//! docker0: `--bridge none` even deletes it.)

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

struct PrivateDockerd {
    child: Child,
    dir: tempfile::TempDir,
}

impl PrivateDockerd {
    fn start() -> PrivateDockerd {
        let dir = tempfile::Builder::new()
            .prefix("kind-nosysbox-")
            .tempdir()
            .unwrap();
        let cfg = dir.path().join("daemon.json");
        std::fs::write(&cfg, "{}").unwrap();
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        let root = dir.path().to_path_buf();
        let p = |s: &str| root.join(s);
        let child = Command::new("unshare")
            .args(["--net", "--", "dockerd"])
            .arg("--host")
            .arg(format!("unix://{}", p("docker.sock").display()))
            .arg("--data-root")
            .arg(p("data"))
            .arg("--exec-root")
            .arg(p("exec"))
            .arg("--pidfile")
            .arg(p("docker.pid"))
            .args(["--iptables=false", "--ip6tables=false", "--config-file"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start a private dockerd");
        let d = PrivateDockerd { child, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Command::new("docker")
            .env("DOCKER_HOST", d.host())
            .arg("info")
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            assert!(
                Instant::now() < deadline,
                "private dockerd did not start: {}",
                std::fs::read_to_string(p("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        d
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    fn docker(&self, args: &[&str]) -> String {
        let out = Command::new("docker")
            .env("DOCKER_HOST", self.host())
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for PrivateDockerd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn without_a_sysbox_runtime_create_refuses_before_creating_anything() {
    let d = PrivateDockerd::start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kc");
    let host = d.host();
    let out = kind_cmd(
        &["create", "cluster", "--name", "nosysbox"],
        &[("DOCKER_HOST", &host)],
        &kubeconfig,
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("ERROR: failed to create cluster: Sysbox is not registered with Docker"),
        "{err}"
    );
    for needle in [
        "Install Sysbox >= 0.7.0",
        "KIND_EXPERIMENTAL_RUNTIME=runc",
        "exactly like upstream kind",
    ] {
        assert!(err.contains(needle), "missing {needle:?}: {err}");
    }
    assert_eq!(d.docker(&["ps", "-aq"]), "", "no container");
    assert!(
        !d.docker(&["network", "ls", "--format", "{{.Name}}"])
            .lines()
            .any(|n| n == "kind"),
        "no network"
    );
    assert!(!kubeconfig.exists(), "no kubeconfig");
}
