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
    /// dockerd's command line, for `restart`.
    argv: Vec<String>,
}

impl PrivateDockerd {
    /// A daemon on a unix socket only.
    pub fn start() -> PrivateDockerd {
        PrivateDockerd::start_with(&[])
    }

    /// A daemon with extra dockerd arguments (e.g. `--host tcp://…` and TLS).
    /// The namespace's loopback is brought up so TCP on 127.0.0.1 works.
    pub fn start_with(extra: &[String]) -> PrivateDockerd {
        PrivateDockerd::start_in(&std::env::temp_dir(), extra)
    }

    /// A daemon whose directories (data root included) live under `base`,
    /// e.g. a tmpfs, so its disk is not the shared host's.
    pub fn start_in(base: &Path, extra: &[String]) -> PrivateDockerd {
        let dir = tempfile::Builder::new()
            .prefix("kind-dockerd-")
            .tempdir_in(base)
            .unwrap();
        let cfg = dir.path().join("daemon.json");
        std::fs::write(&cfg, "{}").unwrap();
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
        let child = PrivateDockerd::spawn(&dockerd, &root);
        let d = PrivateDockerd {
            child,
            dir,
            argv: dockerd,
        };
        d.wait_ready();
        d
    }

    /// Start dockerd in a new network namespace, its log appended to dockerd.log.
    fn spawn(dockerd: &[String], root: &Path) -> Child {
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
            .args(dockerd)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start a private dockerd")
    }

    fn wait_ready(&self) {
        let d = self;
        let root = self.dir.path();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !d
            .docker_output(&["info"])
            .map(|o| o.status.success())
            .unwrap_or(false)
        {
            assert!(
                Instant::now() < deadline,
                "private dockerd did not start: {}",
                std::fs::read_to_string(root.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A daemon restart: SIGTERM (dockerd stops its containers as on a
    /// host shutdown), wait for it to exit, start it again with the same
    /// data root and flags (in a fresh network namespace).
    pub fn restart(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        self.child = PrivateDockerd::spawn(&self.argv, self.dir.path());
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

    /// The docker CLI against this daemon; stdout.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = self.docker_output(args).unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
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
            .arg("load")
            .stdin(save.stdout.take().unwrap())
            .output()
            .expect("docker load");
        assert!(save.wait().unwrap().success(), "docker save {images:?}");
        assert!(load.status.success(), "docker load: {load:?}");
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
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
