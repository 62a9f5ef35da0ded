//! A private dockerd for tests that need a daemon other than the shared one:
//! own socket, data root, exec root and pidfile under a temp dir, and its own
//! network namespace (without it a second dockerd would manage the host's
//! docker0: `--bridge none` even deletes it). Optionally also listening on
//! TCP inside that namespace; reach it there with `in_netns`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct PrivateDockerd {
    child: Child,
    pub dir: tempfile::TempDir,
    tmpfs_data: bool,
    /// dockerd's command line, for `restart`.
    argv: Vec<String>,
}

/// dockerd in a new network namespace, logging (appending) to dockerd.log.
fn spawn_dockerd(argv: &[String], root: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(root.join("dockerd.log"))
        .unwrap();
    // `exec` keeps the child's pid = dockerd's, whose netns `in_netns` enters.
    Command::new("unshare")
        .args([
            "--net",
            "--",
            "sh",
            "-c",
            r#"ip link set lo up && exec "$@""#,
            "sh",
        ])
        .args(argv)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start a private dockerd")
}

impl PrivateDockerd {
    /// A daemon on a unix socket only.
    pub fn start() -> PrivateDockerd {
        PrivateDockerd::start_with(&[])
    }

    /// A daemon with extra dockerd arguments (e.g. `--host tcp://…` and TLS).
    /// The namespace's loopback is brought up so TCP on 127.0.0.1 works.
    pub fn start_with(extra: &[String]) -> PrivateDockerd {
        PrivateDockerd::start_configured(&std::env::temp_dir(), "{}", extra, false)
    }

    /// A daemon whose directories (data root included) live under `base`,
    /// e.g. a tmpfs, so its disk is not the shared host's.
    pub fn start_in(base: &Path, extra: &[String]) -> PrivateDockerd {
        PrivateDockerd::start_configured(base, "{}", extra, false)
    }

    /// A daemon that can run kind nodes: the `sysbox-runc` STAND-IN runtime
    /// (plain runc) registered, `daemon_json` keys added (e.g.
    /// `"userns-remap": "default"`), its data root on a private 4 GiB tmpfs
    /// (so create's free-disk check sees that, not the shared disk), and
    /// the fixture node image loaded from the shared daemon.
    pub fn for_nodes(daemon_json: serde_json::Value) -> PrivateDockerd {
        let runc = which::which("runc").expect("runc on PATH");
        let mut cfg = serde_json::json!({"runtimes": {"sysbox-runc": {"path": runc}}});
        if let (Some(cfg), Some(extra)) = (cfg.as_object_mut(), daemon_json.as_object()) {
            cfg.extend(extra.clone());
        }
        let d =
            PrivateDockerd::start_configured(&std::env::temp_dir(), &cfg.to_string(), &[], true);
        d.load_from_host(&[super::FIXTURE_IMAGE]);
        d
    }

    /// Copy images from the shared daemon into this one (`docker save |
    /// docker load`): nothing is pulled.
    pub fn load_from_host(&self, images: &[&str]) {
        let mut save = Command::new("docker")
            .arg("save")
            .args(images)
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker save");
        let load = Command::new("docker")
            .env("DOCKER_HOST", self.host())
            .env_remove("DOCKER_CONTEXT")
            .args(["load", "-q"])
            .stdin(save.stdout.take().unwrap())
            .output()
            .expect("docker load");
        assert!(save.wait().unwrap().success(), "docker save {images:?}");
        assert!(load.status.success(), "docker load: {load:?}");
    }

    fn start_configured(
        base: &Path,
        config: &str,
        extra: &[String],
        tmpfs_data: bool,
    ) -> PrivateDockerd {
        let dir = tempfile::Builder::new()
            .prefix("kind-dockerd-")
            .tempdir_in(base)
            .unwrap();
        let cfg = dir.path().join("daemon.json");
        std::fs::write(&cfg, config).unwrap();
        if tmpfs_data {
            let data = dir.path().join("data");
            std::fs::create_dir(&data).unwrap();
            let st = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=4g", "kind-dockerd-data"])
                .arg(&data)
                .status()
                .unwrap();
            assert!(st.success(), "mount a tmpfs data root");
        }
        let root = dir.path().to_path_buf();
        let p = |s: &str| root.join(s).display().to_string();
        let mut dockerd = vec![
            "dockerd".to_string(),
            "--host".into(),
            format!("unix://{}", p("docker.sock")),
            "--data-root".into(),
            p("data"),
            "--exec-root".into(),
            p("exec"),
            "--pidfile".into(),
            p("docker.pid"),
            "--iptables=false".into(),
            "--ip6tables=false".into(),
            "--config-file".into(),
            cfg.display().to_string(),
        ];
        dockerd.extend(extra.iter().cloned());
        let child = spawn_dockerd(&dockerd, &root);
        let d = PrivateDockerd {
            child,
            dir,
            tmpfs_data,
            argv: dockerd,
        };
        d.wait_ready();
        d
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self
            .docker_output(&["info"])
            .map(|o| o.status.success())
            .unwrap_or(false)
        {
            assert!(
                Instant::now() < deadline,
                "private dockerd did not start: {}",
                std::fs::read_to_string(self.path("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGKILL the daemon (a crash), and wait for it to be gone.
    pub fn kill9(&mut self) {
        // Its managed containerd too, as when the whole daemon dies.
        let pid = self.child.id();
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        for c in children.split_whitespace() {
            let _ = Command::new("kill").args(["-9", c]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Gone for good (not a zombie a restarted dockerd would take for a
        // running containerd).
        let deadline = Instant::now() + Duration::from_secs(10);
        for c in children.split_whitespace() {
            while Instant::now() < deadline
                && std::fs::read_to_string(format!("/proc/{c}/stat"))
                    .map(|st| !st.contains(") Z "))
                    .unwrap_or(false)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = std::fs::remove_file(self.path("exec/containerd/containerd.pid"));
    }

    /// A daemon restart on the same socket, data root and flags (in a fresh
    /// network namespace): a running daemon gets SIGTERM first (it stops
    /// its containers as on a host shutdown); after `kill9` it is started
    /// again.
    pub fn restart(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .arg(self.child.id().to_string())
                .status();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(self.path("docker.pid"));
        self.child = spawn_dockerd(&self.argv, self.dir.path());
        self.wait_ready();
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn docker_output(&self, args: &[&str]) -> std::io::Result<Output> {
        Command::new("docker")
            .env("DOCKER_HOST", self.host())
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .args(args)
            .output()
    }

    /// The pid of this daemon (to kill it in a test).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The containers labelled as nodes of `cluster`.
    pub fn cluster_containers(&self, cluster: &str) -> Vec<String> {
        let filter = format!("label=io.x-k8s.kind.cluster={cluster}");
        let mut names: Vec<String> = self
            .docker(&["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"])
            .lines()
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }

    /// The docker CLI against this daemon; stdout.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = self.docker_output(args).unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A command run inside this daemon's network namespace (for its TCP port).
    pub fn in_netns(&self, program: &Path) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net=/proc/{}/ns/net", self.child.id()))
            .arg("--")
            .arg(program);
        cmd
    }

    /// A container labelled as a node of `cluster` (never started), so that
    /// `kind get clusters` against this daemon lists it. The image is
    /// imported from an empty tarball: nothing is pulled.
    pub fn fake_cluster(&self, cluster: &str) {
        let tar = self.path("empty.tar");
        let status = Command::new("tar")
            .arg("-cf")
            .arg(&tar)
            .arg("-T")
            .arg("/dev/null")
            .status()
            .unwrap();
        assert!(status.success(), "tar");
        let import = Command::new("docker")
            .env("DOCKER_HOST", self.host())
            .args(["import"])
            .arg(&tar)
            .arg("kind-endpoint-test/empty:1")
            .output()
            .unwrap();
        assert!(import.status.success(), "{import:?}");
        let create = self.docker_output(&[
            "create",
            "--name",
            &format!("{cluster}-control-plane"),
            "--label",
            &format!("io.x-k8s.kind.cluster={cluster}"),
            "--label",
            "io.x-k8s.kind.role=control-plane",
            "kind-endpoint-test/empty:1",
            "/nothing",
        ]);
        let create = create.unwrap();
        assert!(create.status.success(), "{create:?}");
    }
}

impl Drop for PrivateDockerd {
    fn drop(&mut self) {
        if self.tmpfs_data {
            // Node containers outlive a stopped dockerd (their shims stay):
            // remove them while the daemon still answers.
            let ids = self.docker(&["ps", "-aq"]);
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f", "-v"];
                args.extend(ids);
                let _ = self.docker_output(&args);
            }
        }
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        if self.tmpfs_data {
            if let Ok(entries) = std::fs::read_dir(self.path("exec/netns")) {
                for e in entries.flatten() {
                    let _ = Command::new("umount").arg("-l").arg(e.path()).status();
                }
            }
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path().join("data"))
                .status();
        }
    }
}
