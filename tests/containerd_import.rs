//! Partial OCI archives (`images::oci`) against a REAL containerd: Debian's
//! containerd 1.6 in the `kind-fixture/containerd:1.6` test container
//! (tests/fixtures/containerd-node). Not a kind node: no kubelet, no CRI; it
//! shows what the loader will rely on: an archive leaving out the layers a
//! node holds imports, is complete and runs, and one leaving out a layer the
//! node lacks fails in a way the loader recognises, after which a full
//! import completes the image.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Output, Stdio};

use common::{docker, image_exists, unique};
use kind_sysbox::images::load::plan::{import_argv, Platforms};
use kind_sysbox::images::oci::{
    classify_import_failure, parse_content_list, partial_layouts, ImportFailure, Limits, Target,
    TargetReport,
};

const CONTAINERD_IMAGE: &str = "kind-fixture/containerd:1.6";

/// A containerd test container, removed (with its volume) on drop.
struct Containerd(String);

impl Containerd {
    /// The least this host lets `ctr run` work with (`--privileged` cannot
    /// start here): CAP_SYS_ADMIN (mounts: overlayfs, the cgroup remount in
    /// the entrypoint), CAP_NET_ADMIN (the task's network namespace),
    /// seccomp unconfined (runc joins a session keyring: keyctl), a private
    /// cgroup namespace (runc writes only below the container's cgroup), and
    /// the image's /var/lib/containerd volume (overlayfs does not stack on
    /// Docker's overlay2).
    fn start() -> Containerd {
        assert!(
            image_exists(CONTAINERD_IMAGE),
            "{CONTAINERD_IMAGE} is missing: run tests/fixtures/containerd-node/build.sh (or bash .ci/run)"
        );
        let name = unique("kind-test-containerd");
        docker(&[
            "run",
            "-d",
            "--name",
            &name,
            "--cgroupns=private",
            "--cap-add=SYS_ADMIN",
            "--cap-add=NET_ADMIN",
            "--security-opt",
            "seccomp=unconfined",
            "--security-opt",
            "apparmor=unconfined",
            CONTAINERD_IMAGE,
        ]);
        let c = Containerd(name);
        for _ in 0..100 {
            if c.ctr(&["version"]).status.success() {
                return c;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "containerd in {} did not answer: {}",
            c.0,
            docker(&["logs", &c.0])
        );
    }

    fn ctr(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(["exec", &self.0, "ctr"])
            .args(args)
            .output()
            .expect("run docker exec")
    }

    fn ctr_ok(&self, args: &[&str]) -> String {
        let out = self.ctr(args);
        assert!(out.status.success(), "ctr {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The loader's import command, in namespace `ns`.
    fn import_argv(ns: &str) -> Vec<String> {
        import_argv(&Platforms::Only("linux/amd64".into()), "overlayfs")
            .into_iter()
            .map(|a| {
                if a == "--namespace=k8s.io" {
                    format!("--namespace={ns}")
                } else {
                    a
                }
            })
            .collect()
    }

    fn import_command(&self, ns: &str) -> Command {
        let mut cmd = Command::new("docker");
        cmd.args(["exec", "-i", &self.0])
            .args(Self::import_argv(ns));
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// `docker save IMAGE | ctr import -` (kind's way).
    fn import_full(&self, ns: &str, image: &str) -> Output {
        let mut save = Command::new("docker")
            .args(["save", image])
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker save");
        let mut import = self.import_command(ns);
        let out = import
            .stdin(save.stdout.take().unwrap())
            .output()
            .expect("docker exec ctr import");
        assert!(save.wait().unwrap().success(), "docker save {image}");
        out
    }

    /// `docker save IMAGE`, rewritten for a node holding `held`, into `ctr import -`.
    fn import_partial(&self, ns: &str, image: &str, held: &str) -> (TargetReport, Output) {
        let mut save = Command::new("docker")
            .args(["save", image])
            .stdout(Stdio::piped())
            .spawn()
            .expect("docker save");
        let mut import = self
            .import_command(ns)
            .spawn()
            .expect("docker exec ctr import");
        let target = Target {
            held: parse_content_list(held),
            out: import.stdin.take().unwrap(),
        };
        let (conversion, outs) = partial_layouts(
            save.stdout.take().unwrap(),
            vec![target],
            &HashMap::new(),
            Limits::default(),
        )
        .expect("convert docker save to a partial OCI layout");
        drop(outs); // end of the archive: close ctr's stdin
        assert!(save.wait().unwrap().success(), "docker save {image}");
        let out = import.wait_with_output().unwrap();
        (conversion.reports.into_iter().next().unwrap(), out)
    }

    /// `ctr images check` status of `name` (e.g. "complete (3/3)").
    fn check(&self, ns: &str, name: &str) -> String {
        let out = self.ctr_ok(&["-n", ns, "images", "check"]);
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not in `ctr -n {ns} images check`:\n{out}"));
        // REF TYPE DIGEST STATUS(2 words) SIZE UNPACKED
        let f: Vec<&str> = line.split_whitespace().collect();
        format!("{} {} unpacked={}", f[3], f[4], f[f.len() - 1])
    }

    /// Runs `cat /marker` in a container of `name`: the image unpacked and runs.
    fn run_marker(&self, ns: &str, name: &str) -> String {
        let id = unique("task");
        self.ctr_ok(&["-n", ns, "run", "--rm", name, &id, "cat", "/marker"])
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.0])
            .output();
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Two-layer test images on the node fixture's Debian rootfs, differing in
/// their top layer (`/marker` holds the version); removed on drop.
struct Images {
    repo: String,
    base_diff_id: String,
}

impl Images {
    fn build() -> Images {
        let base = docker(&[
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            "kind-fixture/node-rootfs",
        ]);
        let base = base
            .lines()
            .next()
            .expect("kind-fixture/node-rootfs is missing: run tests/fixtures/node-image/build.sh")
            .to_string();
        let repo = unique("kind-test/partial");
        for v in ["v1", "v2"] {
            let c = unique("kind-test-commit");
            docker(&[
                "run",
                "--name",
                &c,
                "--entrypoint",
                "sh",
                &base,
                "-c",
                &format!("echo {v} >/marker"),
            ]);
            docker(&[
                "commit",
                "--change",
                "ENTRYPOINT []",
                "--change",
                "CMD [\"true\"]",
                &c,
                &format!("{repo}:{v}"),
            ]);
            docker(&["rm", "-f", &c]);
        }
        let layers = docker(&[
            "image",
            "inspect",
            "-f",
            "{{json .RootFS.Layers}}",
            &format!("{repo}:v2"),
        ]);
        let layers: Vec<String> = serde_json::from_str(layers.trim()).unwrap();
        assert_eq!(layers.len(), 2, "base + marker layer");
        Images {
            repo,
            base_diff_id: layers[0].clone(),
        }
    }

    fn tag(&self, v: &str) -> String {
        format!("{}:{v}", self.repo)
    }

    /// The name containerd keeps it under.
    fn name(&self, v: &str) -> String {
        format!("docker.io/{}:{v}", self.repo)
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        for v in ["v1", "v2"] {
            let _ = Command::new("docker").args(["rmi", &self.tag(v)]).output();
        }
    }
}

#[test]
fn partial_archive_imports_into_a_node_holding_the_base() {
    let images = Images::build();
    let ctd = Containerd::start();
    let out = ctd.import_full("k8s.io", &images.tag("v1"));
    assert!(out.status.success(), "full import of v1: {}", text(&out));
    let held = ctd.ctr_ok(&["-n", "k8s.io", "content", "ls", "-q"]);
    assert!(
        held.contains(&images.base_diff_id),
        "layers are stored under their diff IDs:\n{held}"
    );

    let (report, out) = ctd.import_partial("k8s.io", &images.tag("v2"), &held);
    assert!(out.status.success(), "partial import of v2: {}", text(&out));
    assert_eq!(report.skipped, vec![images.base_diff_id.clone()]);
    assert_eq!(report.sent.len(), 2, "config and the top layer: {report:?}");
    assert!(report.error.is_none());
    let base_bytes: u64 = docker(&["image", "inspect", "-f", "{{.Size}}", &images.tag("v2")])
        .trim()
        .parse()
        .unwrap();
    assert!(
        report.bytes * 100 < base_bytes,
        "sent {} bytes for a {} byte image",
        report.bytes,
        base_bytes
    );
    eprintln!(
        "partial archive: {} bytes (image {} bytes)",
        report.bytes, base_bytes
    );

    assert_eq!(
        ctd.check("k8s.io", &images.name("v2")),
        "complete (3/3) unpacked=true"
    );
    assert_eq!(ctd.run_marker("k8s.io", &images.name("v2")).trim(), "v2");
    assert_eq!(ctd.run_marker("k8s.io", &images.name("v1")).trim(), "v1");
}

#[test]
fn missing_base_is_recognised_and_a_full_import_completes_it() {
    let images = Images::build();
    let ctd = Containerd::start();
    let out = ctd.import_full("k8s.io", &images.tag("v1"));
    assert!(out.status.success(), "full import of v1: {}", text(&out));
    // What k8s.io holds is claimed for a namespace that holds nothing.
    let held = ctd.ctr_ok(&["-n", "k8s.io", "content", "ls", "-q"]);

    let (report, out) = ctd.import_partial("bare", &images.tag("v2"), &held);
    assert_eq!(report.skipped, vec![images.base_diff_id.clone()]);
    assert!(
        !out.status.success(),
        "a partial import lacking the base must fail: {}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        classify_import_failure(&stderr),
        ImportFailure::MissingContent(images.base_diff_id.clone()),
        "{stderr}"
    );
    assert!(ctd
        .check("bare", &images.name("v2"))
        .starts_with("incomplete"));

    let out = ctd.import_full("bare", &images.tag("v2"));
    assert!(out.status.success(), "full retry: {}", text(&out));
    assert_eq!(
        ctd.check("bare", &images.name("v2")),
        "complete (3/3) unpacked=true"
    );
    assert_eq!(ctd.run_marker("bare", &images.name("v2")).trim(), "v2");
}

/// The loader's shape: one `docker save` stream, one conversion, one output
/// per node with its own held set, imported concurrently. Two namespaces
/// stand for two nodes: one holding the base, one holding nothing.
#[test]
fn one_pass_serves_nodes_holding_different_layers() {
    let images = Images::build();
    let ctd = Containerd::start();
    let out = ctd.import_full("k8s.io", &images.tag("v1"));
    assert!(out.status.success(), "full import of v1: {}", text(&out));
    let held = ctd.ctr_ok(&["-n", "k8s.io", "content", "ls", "-q"]);

    let mut save = Command::new("docker")
        .args(["save", &images.tag("v2")])
        .stdout(Stdio::piped())
        .spawn()
        .expect("docker save");
    let mut imports: Vec<_> = ["k8s.io", "fresh"]
        .iter()
        .map(|ns| {
            ctd.import_command(ns)
                .spawn()
                .expect("docker exec ctr import")
        })
        .collect();
    let targets = vec![
        Target {
            held: parse_content_list(&held),
            out: imports[0].stdin.take().unwrap(),
        },
        Target {
            held: Default::default(),
            out: imports[1].stdin.take().unwrap(),
        },
    ];
    let (conversion, outs) = partial_layouts(
        save.stdout.take().unwrap(),
        targets,
        &HashMap::new(),
        Limits::default(),
    )
    .expect("convert");
    drop(outs);
    assert!(save.wait().unwrap().success());
    for (ns, import) in ["k8s.io", "fresh"].iter().zip(imports) {
        let out = import.wait_with_output().unwrap();
        assert!(out.status.success(), "import into {ns}: {}", text(&out));
        assert_eq!(
            ctd.check(ns, &images.name("v2")),
            "complete (3/3) unpacked=true",
            "{ns}"
        );
        assert_eq!(ctd.run_marker(ns, &images.name("v2")).trim(), "v2", "{ns}");
    }
    let [holding, fresh] = &conversion.reports[..] else {
        panic!("two reports")
    };
    assert_eq!(holding.skipped, vec![images.base_diff_id.clone()]);
    assert!(fresh.skipped.is_empty() && fresh.sent.contains(&images.base_diff_id));
    assert!(
        holding.bytes * 100 < fresh.bytes,
        "{} vs {}",
        holding.bytes,
        fresh.bytes
    );
}

/// The classifier reads the message of a real failure above; an unrelated
/// failure of the real ctr is not taken for a missing blob.
#[test]
fn other_import_failures_are_not_missing_content() {
    let ctd = Containerd::start();
    let mut import = ctd.import_command("k8s.io").spawn().unwrap();
    let mut stdin = import.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, &[0u8; 4096]).unwrap();
    drop(stdin);
    let out = import.wait_with_output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let mut stderr = String::new();
    out.stderr.as_slice().read_to_string(&mut stderr).unwrap();
    assert_eq!(
        classify_import_failure(&stderr),
        ImportFailure::Other,
        "{stderr}"
    );
}

/// The loader's own path — `images::load::deliver_images`: `ctr content ls`
/// through the Docker provider's exec, the plan, one `docker save`, the
/// partial archive, `ctr images import` — against the real containerd, as
/// against a kind node. The fixture's containerd runs without the CRI
/// plugin, so `containerd config dump` names no CRI snapshotter: a wrapper
/// earlier on PATH answers that one question with kind's `overlayfs` and
/// hands every other call to the real containerd.
#[test]
fn the_loader_sends_a_node_holding_the_base_only_the_rest() {
    use kind_sysbox::images::load::deliver_images;
    use kind_sysbox::log::{Buffer, Logger};
    use kind_sysbox::provider::{Docker, NodeRef};

    let images = Images::build();
    let ctd = Containerd::start();
    docker(&[
        "exec",
        &ctd.0,
        "sh",
        "-c",
        r#"printf '%s\n' '#!/bin/sh' 'if [ "$1 $2" = "config dump" ]; then printf "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"overlayfs\"\n"; exit 0; fi' 'exec /usr/bin/containerd "$@"' >/usr/local/bin/containerd && chmod +x /usr/local/bin/containerd"#,
    ]);
    let node = NodeRef {
        name: ctd.0.clone(),
        role: "worker".into(),
        // Exec'd as a Sysbox node is (not --privileged: this host cannot
        // grant every capability).
        runtime_mode: "sysbox".into(),
        config_index: None,
        images_inbox: None,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let buf = Buffer::default();
    let log = Logger::new(Box::new(buf.clone()), false, 1, false);
    let deliver = |image: String| {
        rt.block_on(async {
            let docker = Docker::connect().await.expect("connect to docker");
            deliver_images(&docker, std::slice::from_ref(&node), &[image], &log).await
        })
        .unwrap_or_else(|e| panic!("{e:#}\n{}", buf.contents()))
    };

    let first = deliver(images.tag("v1"));
    assert_eq!(first.len(), 1);
    assert!(!first[0].partial, "a first load is full: {first:?}");
    let second = deliver(images.tag("v2"));
    assert_eq!(second.len(), 1);
    let got = &second[0];
    assert!(got.partial, "{got:?}\n{}", buf.contents());
    assert_eq!(got.skipped, vec![images.base_diff_id.clone()]);
    assert!(
        got.bytes * 100 < first[0].bytes,
        "reload sent {} bytes, the first load {}",
        got.bytes,
        first[0].bytes
    );
    eprintln!(
        "first load {} bytes, reload {} bytes",
        first[0].bytes, got.bytes
    );
    assert_eq!(
        ctd.check("k8s.io", &images.name("v2")),
        "complete (3/3) unpacked=true"
    );
    assert_eq!(ctd.run_marker("k8s.io", &images.name("v2")).trim(), "v2");
}
