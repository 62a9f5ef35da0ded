//! The Sysbox node image on the real Docker engine, with the fixture node
//! image as the base (no registry): deriving it, reusing it, preloading
//! images into its containerd, and the failures that must stay clean.

mod common;

use std::process::Command;

use common::*;
use kind_sysbox::images::build::{self, BuildOptions};
use kind_sysbox::log::{Buffer, Logger};
use kind_sysbox::provider::Docker;

/// Tests that count `kind-build-*` containers must not overlap.
static BUILD_CONTAINERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn logger() -> (Logger, Buffer) {
    let buf = Buffer::default();
    (Logger::new(Box::new(buf.clone()), false, 2, false), buf)
}

fn image_config(image: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&docker(&["image", "inspect", image])).unwrap();
    v[0]["Config"].clone()
}

/// `docker build` (legacy builder, no pulls) of a Dockerfile plus files.
fn docker_build(
    images: &mut Images,
    tag: &str,
    dockerfile: &str,
    files: &[(&str, &str, u32)],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    for (name, content, mode) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    images.add(tag);
    Command::new("docker")
        .args(["build", "-q", "-t", tag, dir.path().to_str().unwrap()])
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap()
}

/// Run a command in a throwaway container of `image` (entrypoint replaced).
fn run_in(image: &str, entrypoint: &str, args: &[&str]) -> String {
    let mut argv = vec!["run", "--rm", "--entrypoint", entrypoint, image];
    argv.extend_from_slice(args);
    docker(&argv)
}

fn build_containers() -> Vec<String> {
    docker(&[
        "ps",
        "-a",
        "--filter",
        "name=kind-build-",
        "--format",
        "{{.Names}}",
    ])
    .lines()
    // Ours are `kind-build-<unix>-<random>`.
    .filter(|n| {
        n.strip_prefix("kind-build-").is_some_and(|rest| {
            rest.split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
    })
    .map(String::from)
    .collect()
}

fn listed_refs(list_output: &str) -> Vec<String> {
    list_output
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn preloaded_images_are_in_containerd_of_the_built_image_and_of_its_clusters() {
    require_fixture();
    let _serial = BUILD_CONTAINERS.lock().await;
    let mut images = Images::default();
    let a = tiny_image(
        &mut images,
        &format!("{}:v1", unique("kind-build-test/preload-a")),
        "a",
    );
    let b = tiny_image(
        &mut images,
        &format!("{}:v2", unique("kind-build-test/preload-b")),
        "b",
    );
    let c = tiny_image(
        &mut images,
        &format!("{}:v3", unique("kind-build-test/archived-c")),
        "c",
    );
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("c.tar");
    docker(&["save", "-o", archive.to_str().unwrap(), &c]);
    let target = images.add(&format!("{}:v1.36.1", unique("kind-build-test/node")));
    let before = build_containers();

    let docker_api = Docker::connect().await.unwrap();
    let (log, buf) = logger();
    let opts = BuildOptions {
        base_image: FIXTURE_IMAGE.into(),
        image: target.clone(),
        preload: vec![a.clone(), b.clone(), a.clone()],
        preload_archives: vec![archive.clone()],
    };
    build::build_node_image(&docker_api, &opts, &log)
        .await
        .unwrap_or_else(|e| panic!("{e:#}\nlog:\n{}", buf.contents()));
    let logged = buf.contents();
    assert!(
        logged.contains(&format!("Image \"{target}\" build completed.\n")),
        "{logged}"
    );
    assert_eq!(
        build_containers(),
        before,
        "the build container must be removed"
    );

    // containerd's k8s.io namespace of the image holds the three images.
    let refs = listed_refs(&run_in(&target, "ctr", &["-n", "k8s.io", "images", "list"]));
    for image in [&a, &b, &c] {
        let want = format!("docker.io/{image}");
        assert!(refs.contains(&want), "{want} missing from {refs:?}");
    }
    // The image is still the node image it was derived from.
    let (fixture, built) = (image_config(FIXTURE_IMAGE), image_config(&target));
    for key in ["Entrypoint", "Cmd", "StopSignal"] {
        assert_eq!(built[key], fixture[key], "{key}");
    }
    assert_eq!(
        built["Tty"], false,
        "nothing of the build container's own config"
    );
    let env: Vec<&str> = built["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        env.contains(&"KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs"),
        "{env:?}"
    );
    assert_eq!(
        built["Labels"][build::LABEL_BASE_ID],
        image_id(FIXTURE_IMAGE)
    );
    assert_eq!(
        run_in(&target, "cat", &["/kind/version"]),
        run_in(FIXTURE_IMAGE, "cat", &["/kind/version"])
    );
    // The build boot's logs are not part of the image: /var/log is as in the base.
    let logs = "find /var/log -type f -exec wc -c {} + | sort";
    assert_eq!(
        run_in(&target, "sh", &["-c", logs]),
        run_in(FIXTURE_IMAGE, "sh", &["-c", logs])
    );

    // A cluster from it has them without any load step.
    let tc = TestCluster::new("build-preload");
    let out = tc.kind(&["create", "cluster", "--name", &tc.name, "--image", &target]);
    assert_ok(&out);
    let node = format!("{}-control-plane", tc.name);
    assert_eq!(
        inspect(&node)["Config"]["Image"],
        target.as_str(),
        "a built Sysbox node image runs as is, never derived again"
    );
    let refs = listed_refs(&docker(&[
        "exec", &node, "ctr", "-n", "k8s.io", "images", "list",
    ]));
    for image in [&a, &b, &c] {
        assert!(
            refs.contains(&format!("docker.io/{image}")),
            "{image} missing from the node: {refs:?}"
        );
    }
    let imports = call_lines(&node)
        .into_iter()
        .filter(|l| l.contains("images import"))
        .collect::<Vec<_>>();
    assert!(
        imports.is_empty(),
        "nothing was loaded into the node: {imports:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn derived_image_is_built_once_and_then_reused() {
    require_fixture();
    let mut images = Images::default();
    let tag = images.add(&format!("{}:v1.36.1", unique("kind-build-test/derived")));
    let docker_api = Docker::connect().await.unwrap();
    let (log, buf) = logger();

    assert!(
        build::ensure_node_image(&docker_api, &tag, FIXTURE_IMAGE, &log)
            .await
            .unwrap(),
        "first call builds"
    );
    let first = image_id(&tag);
    assert!(
        !build::ensure_node_image(&docker_api, &tag, FIXTURE_IMAGE, &log)
            .await
            .unwrap(),
        "second call reuses"
    );
    assert_eq!(image_id(&tag), first, "no second build");
    let logged = buf.contents();
    assert_eq!(
        logged.matches("Building Sysbox node image").count(),
        1,
        "{logged}"
    );
    assert!(
        logged.contains(&format!("Using Sysbox node image {tag}")),
        "{logged}"
    );

    // Its identity and the changes the Dockerfile makes.
    let config = image_config(&tag);
    let labels = &config["Labels"];
    assert_eq!(labels[build::LABEL_BASE], FIXTURE_IMAGE);
    assert_eq!(labels[build::LABEL_BASE_ID], image_id(FIXTURE_IMAGE));
    assert_eq!(
        labels[build::LABEL_CONTEXT],
        build::context_hash(build::NODE_IMAGE_CONTEXT).as_str()
    );
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        env.contains(&"KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs"),
        "{env:?}"
    );
    let fixture = image_config(FIXTURE_IMAGE);
    for key in ["Entrypoint", "Cmd", "StopSignal"] {
        assert_eq!(config[key], fixture[key], "{key}");
    }
    let containerd = run_in(&tag, "cat", &["/etc/containerd/config.toml"]);
    assert!(
        containerd.contains("snapshotter = \"overlayfs\""),
        "{containerd}"
    );
    // The fixture's entrypoint has no validate_userns: left byte for byte.
    let ep = "/usr/local/bin/entrypoint";
    assert_eq!(
        run_in(&tag, "cat", &[ep]),
        run_in(FIXTURE_IMAGE, "cat", &[ep])
    );

    // A tag that no longer matches (here: another image entirely) is rebuilt.
    docker(&["tag", FIXTURE_IMAGE, &tag]);
    assert!(
        build::ensure_node_image(&docker_api, &tag, FIXTURE_IMAGE, &log)
            .await
            .unwrap(),
        "mismatch rebuilds"
    );
    assert_eq!(
        image_id(&tag),
        first,
        "the same identity builds the same image"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn default_image_comes_from_kind_sysbox_base_image() {
    require_fixture();
    // Only this test sets the variable in this test binary.
    std::env::set_var(build::BASE_IMAGE_ENV, FIXTURE_IMAGE);
    let docker_api = Docker::connect().await.unwrap();
    let (log, _buf) = logger();
    build::ensure_default_image(&docker_api, &log)
        .await
        .unwrap();
    let id = image_id(build::DEFAULT_SYSBOX_IMAGE);
    assert!(
        !build::ensure_default_image(&docker_api, &log)
            .await
            .unwrap(),
        "an up-to-date default image is reused"
    );
    assert_eq!(image_id(build::DEFAULT_SYSBOX_IMAGE), id);
    assert_eq!(
        image_config(build::DEFAULT_SYSBOX_IMAGE)["Labels"][build::LABEL_BASE_ID],
        image_id(FIXTURE_IMAGE)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn entrypoint_user_namespace_validation_becomes_a_warning() {
    require_fixture();
    let mut images = Images::default();
    // A base whose entrypoint validates like kind's before handing over to the fixture's.
    let base = format!("{}:v1", unique("kind-build-test/userns-base"));
    let wrapper = "#!/bin/bash\nset -o errexit\nvalidate_userns() {\n  echo 'ERROR: UserNS: cpu controller needs to be delegated' >&2\n  exit 1\n}\n\nvalidate_userns\nexec /usr/local/bin/fixture-entrypoint \"$@\"\n";
    let dockerfile = format!(
        "FROM {FIXTURE_IMAGE}\nRUN mv /usr/local/bin/entrypoint /usr/local/bin/fixture-entrypoint\nCOPY entrypoint /usr/local/bin/entrypoint\n"
    );
    let out = docker_build(
        &mut images,
        &base,
        &dockerfile,
        &[("entrypoint", wrapper, 0o755)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new("docker")
        .args(["run", "--rm", "-t", &base])
        .output()
        .unwrap();
    assert!(
        !run.status.success()
            && String::from_utf8_lossy(&run.stdout).contains("needs to be delegated"),
        "the test base must fail"
    );

    let tag = images.add(&format!("{}:v1", unique("kind-build-test/userns-derived")));
    let docker_api = Docker::connect().await.unwrap();
    let (log, buf) = logger();
    build::ensure_node_image(&docker_api, &tag, &base, &log)
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", buf.contents()));
    assert!(
        buf.contents()
            .contains("kind-sysbox: user-namespace validation made non-fatal"),
        "{}",
        buf.contents()
    );

    let name = unique("kbt-userns");
    docker(&["run", "-d", "-t", "--name", &name, &tag]);
    let mut logs = String::new();
    for _ in 0..100 {
        logs = String::from_utf8_lossy(
            &Command::new("docker")
                .args(["logs", &name])
                .output()
                .unwrap()
                .stdout,
        )
        .into_owned();
        if logs.contains("Multi-User System") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    assert!(
        logs.contains("needs to be delegated"),
        "the check still runs and says why: {logs}"
    );
    assert!(
        logs.contains("WARNING: kind-sysbox: continuing despite the user-namespace check above"),
        "{logs}"
    );
    assert!(
        logs.contains("Reached target multi-user.target"),
        "the node boots: {logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn base_without_the_node_contract_fails_loudly() {
    require_fixture();
    let mut images = Images::default();
    let base = format!("{}:v1", unique("kind-build-test/no-containerd-config"));
    let out = docker_build(
        &mut images,
        &base,
        &format!("FROM {FIXTURE_IMAGE}\nRUN rm /etc/containerd/config.toml\n"),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tag = images.add(&format!("{}:v1", unique("kind-build-test/never-built")));
    let docker_api = Docker::connect().await.unwrap();
    let (log, _buf) = logger();
    let e = format!(
        "{:#}",
        build::ensure_node_image(&docker_api, &tag, &base, &log)
            .await
            .unwrap_err()
    );
    assert!(
        e.starts_with(&format!(
            "failed to build the Sysbox node image from \"{base}\": "
        )),
        "{e}"
    );
    assert!(
        e.contains(
            "ERROR: kind-sysbox: the base image is not a kind node image: /etc/containerd/config.toml is missing"
        ),
        "the build's own reason is shown: {e}"
    );
    assert!(!image_exists(&tag));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_preload_inputs_fail_clearly_and_leave_nothing_behind() {
    require_fixture();
    let _serial = BUILD_CONTAINERS.lock().await;
    let mut images = Images::default();
    let target = images.add(&format!("{}:v1", unique("kind-build-test/never")));
    let docker_api = Docker::connect().await.unwrap();
    let before = build_containers();
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.tar");
    std::fs::write(&garbage, b"this is not an image archive").unwrap();
    let absent = format!("{}:v1", unique("kind-build-test/absent"));
    let missing_file = dir.path().join("missing.tar");

    let cases: Vec<(&str, BuildOptions, Vec<String>)> = vec![
        (
            "image not on the host",
            BuildOptions {
                preload: vec![absent.clone()],
                ..Default::default()
            },
            vec![format!("image: \"{absent}\" not present locally")],
        ),
        (
            "archive not on disk",
            BuildOptions {
                preload_archives: vec![missing_file.clone()],
                ..Default::default()
            },
            vec![format!(
                "stat {}: no such file or directory",
                missing_file.display()
            )],
        ),
        (
            "archive ctr cannot read",
            BuildOptions {
                preload_archives: vec![garbage.clone()],
                ..Default::default()
            },
            vec![
                format!("failed to preload image archive {}: ", garbage.display()),
                "ctr: unrecognized image format".into(),
            ],
        ),
    ];
    for (what, mut opts, needles) in cases {
        opts.base_image = FIXTURE_IMAGE.into();
        opts.image = target.clone();
        let (log, _buf) = logger();
        let err = build::build_node_image(&docker_api, &opts, &log)
            .await
            .unwrap_err();
        // The failed command's output is what the CLI prints as "Command Output:".
        let output = err
            .chain()
            .find_map(|e| e.downcast_ref::<kind_sysbox::provider::RunError>())
            .map(|r| r.output.clone())
            .unwrap_or_default();
        let shown = format!("{err:#}\n{output}");
        for needle in needles {
            assert!(shown.contains(&needle), "{what}: {needle:?} not in {shown}");
        }
        assert_eq!(
            build_containers(),
            before,
            "{what}: no build container may be left"
        );
        assert!(!image_exists(&target), "{what}: nothing may be tagged");
    }
}
