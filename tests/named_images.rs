//! Named node images (`--image`, `nodes[].image`) through the `kind`
//! binary on the real Docker engine: in Sysbox mode each is derived from the
//! embedded node-image/ (built once, then reused), in runc mode it runs as
//! named, and an image that is not a kind node image is refused cleanly.
//!
//! Each test names the fixture image under tags of its own, so the derived
//! images are its own too: a first create must build, and the tests clean up.

mod common;

use common::*;
use kind_sysbox::images::build;
use kind_sysbox::images::named::derived_image_name;

const SNAPSHOTTER_ENV: &str = "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs";

/// `image` tagged `<unique repo>:<tag>`, with the tag and the image derived
/// from it removed when the test ends.
fn own_tag(images: &mut Images, image: &str, prefix: &str, tag: &str) -> String {
    let named = format!("{}:{tag}", unique(prefix));
    docker(&["tag", image, &named]);
    images.add(&named);
    images.add(&derived_image_name(&named));
    named
}

fn image_json(image: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&docker(&["image", "inspect", image])).unwrap();
    v[0].clone()
}

fn layers(image: &str) -> Vec<String> {
    image_json(image)["RootFS"]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|x| x.as_str().unwrap_or("").to_string())
        .collect()
}

/// The node runs the derivation of `named`: the container's image is the
/// derived name, whose layers start with the named image's, whose env pins
/// the snapshotter and whose labels record the named image's ID; the node
/// records the named image.
fn assert_runs_derivation_of(node: &str, named: &str) {
    let derived = derived_image_name(named);
    let container = inspect(node);
    assert_eq!(container["Config"]["Image"], derived.as_str(), "{node}");
    assert_eq!(
        container["Image"].as_str().unwrap(),
        image_id(&derived),
        "{node} runs the derived image"
    );
    assert_eq!(
        container["Config"]["Labels"]["dev.kind-sysbox.named-image"], named,
        "{node}"
    );
    let base_layers = layers(named);
    let derived_layers = layers(&derived);
    assert!(
        derived_layers.len() >= base_layers.len()
            && derived_layers[..base_layers.len()] == base_layers[..],
        "{derived}'s layers start with {named}'s: {derived_layers:?} vs {base_layers:?}"
    );
    let config = &image_json(&derived)["Config"];
    assert!(
        strings(&config["Env"]).contains(&SNAPSHOTTER_ENV.to_string()),
        "{:?}",
        config["Env"]
    );
    assert_eq!(config["Labels"][build::LABEL_BASE_ID], image_id(named));
    assert_eq!(config["Labels"][build::LABEL_BASE], named);
}

#[test]
fn named_image_is_derived_once_then_reused_and_a_derivation_runs_as_is() {
    require_fixture();
    let mut images = Images::default();
    let named = own_tag(
        &mut images,
        FIXTURE_IMAGE,
        "kind-named-test/node",
        "v1.36.1",
    );
    let derived = derived_image_name(&named);
    assert!(!image_exists(&derived));
    let friendly = named.clone();

    let first = TestCluster::new("named1");
    let out = first.kind(&[
        "create",
        "cluster",
        "--name",
        &first.name,
        "--image",
        &named,
        "-v",
        "1",
    ]);
    assert_ok(&out);
    let err = stderr(&out);
    // Upstream's status line, naming the image the user named.
    assert!(
        err.contains(&format!(" ✓ Ensuring node image ({friendly}) 🖼️\n")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "Building Sysbox node image {derived} from {named}"
        )),
        "first create builds: {err}"
    );
    assert_runs_derivation_of(&format!("{}-control-plane", first.name), &named);
    let built = image_id(&derived);

    let second = TestCluster::new("named2");
    let out = second.kind(&[
        "create",
        "cluster",
        "--name",
        &second.name,
        "--image",
        &named,
        "-v",
        "1",
    ]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        !err.contains("Building Sysbox node image"),
        "second create must not build: {err}"
    );
    assert!(
        err.contains(&format!("Using Sysbox node image {derived}")),
        "{err}"
    );
    assert_eq!(image_id(&derived), built, "the same image is reused");
    assert_runs_derivation_of(&format!("{}-control-plane", second.name), &named);

    // Naming the derivation itself: it runs as is, nothing is derived from it.
    let third = TestCluster::new("named3");
    let out = third.kind(&[
        "create",
        "cluster",
        "--name",
        &third.name,
        "--image",
        &derived,
        "-v",
        "1",
    ]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(!err.contains("Building Sysbox node image"), "{err}");
    let node = inspect(&format!("{}-control-plane", third.name));
    assert_eq!(node["Config"]["Image"], derived.as_str());
    assert!(node["Config"]["Labels"]["dev.kind-sysbox.named-image"].is_null());
    assert!(!image_exists(&derived_image_name(&derived)));
}

#[test]
fn concurrent_creates_derive_a_named_image_once() {
    require_fixture();
    let mut images = Images::default();
    let named = own_tag(
        &mut images,
        FIXTURE_IMAGE,
        "kind-named-test/conc",
        "v1.36.1",
    );
    let clusters = [
        TestCluster::new("namedconc1"),
        TestCluster::new("namedconc2"),
    ];
    let outputs: Vec<std::process::Output> = std::thread::scope(|s| {
        let runs: Vec<_> = clusters
            .iter()
            .map(|tc| {
                let named = named.clone();
                s.spawn(move || {
                    tc.kind(&[
                        "create", "cluster", "--name", &tc.name, "--image", &named, "-v", "1",
                    ])
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in &outputs {
        assert_ok(out);
    }
    let builds = outputs
        .iter()
        .filter(|o| stderr(o).contains("Building Sysbox node image"))
        .count();
    assert_eq!(builds, 1, "one builds, the other waits and reuses");
    for tc in &clusters {
        assert_runs_derivation_of(&format!("{}-control-plane", tc.name), &named);
    }
}

#[test]
fn config_naming_images_per_node_runs_each_nodes_own_derivation() {
    require_fixture();
    let mut images = Images::default();
    let a = own_tag(
        &mut images,
        FIXTURE_IMAGE,
        "kind-named-test/mixed-a",
        "v1.36.1",
    );
    let b = own_tag(
        &mut images,
        FIXTURE_IMAGE,
        "kind-named-test/mixed-b",
        "v1.36.1",
    );
    let tc = TestCluster::new("namedmix");
    let config = format!(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  image: {a}\n- role: worker\n  image: {b}\n- role: worker\n  image: {a}\n"
    );
    let out = tc.kind_stdin(
        &[
            "create", "cluster", "--name", &tc.name, "--config", "-", "-v", "1",
        ],
        &config,
    );
    assert_ok(&out);
    let err = stderr(&out);
    // One status line per distinct image, sorted, as upstream.
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(" ✓ Ensuring node image"))
        .collect();
    let mut want = vec![
        format!(" ✓ Ensuring node image ({a}) 🖼️"),
        format!(" ✓ Ensuring node image ({b}) 🖼️"),
    ];
    want.sort();
    assert_eq!(lines, want, "{err}");
    for named in [&a, &b] {
        assert_eq!(
            err.matches(&format!(
                "Building Sysbox node image {}",
                derived_image_name(named)
            ))
            .count(),
            1,
            "{named} is derived once: {err}"
        );
    }
    assert_runs_derivation_of(&format!("{}-control-plane", tc.name), &a);
    assert_runs_derivation_of(&format!("{}-worker", tc.name), &b);
    assert_runs_derivation_of(&format!("{}-worker2", tc.name), &a);
    // Kind's own labels and listing are unchanged.
    let got = tc.kind(&["get", "nodes", "--name", &tc.name]);
    assert_ok(&got);
    let mut nodes: Vec<String> = stdout(&got).lines().map(String::from).collect();
    nodes.sort();
    let mut want: Vec<String> = ["control-plane", "worker", "worker2"]
        .iter()
        .map(|r| format!("{}-{r}", tc.name))
        .collect();
    want.sort();
    assert_eq!(nodes, want);
    for node in &nodes {
        let labels = &inspect(node)["Config"]["Labels"];
        assert_eq!(labels["io.x-k8s.kind.cluster"], tc.name.as_str());
    }
}

#[test]
fn runc_mode_runs_the_named_image_itself() {
    require_fixture();
    let mut images = Images::default();
    let named = own_tag(
        &mut images,
        FIXTURE_IMAGE,
        "kind-named-test/runc",
        "v1.36.1",
    );
    let tc = TestCluster::new("namedrunc");
    // Privileged containers cannot start here: --retain keeps the created
    // node so what Docker was asked for can be inspected.
    let out = tc.kind_env(
        &[
            "create", "cluster", "--name", &tc.name, "--image", &named, "--retain",
        ],
        &[("KIND_EXPERIMENTAL_RUNTIME", "runc")],
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!(" • Ensuring node image ({named}) 🖼️")),
        "{err}"
    );
    let node = inspect(&format!("{}-control-plane", tc.name));
    assert_eq!(node["Config"]["Image"], named.as_str(), "{err}");
    assert_eq!(node["Image"].as_str().unwrap(), image_id(FIXTURE_IMAGE));
    assert_eq!(node["HostConfig"]["Privileged"], true);
    assert!(node["Config"]["Labels"]["dev.kind-sysbox.named-image"].is_null());
    assert!(
        !image_exists(&derived_image_name(&named)),
        "runc mode derives nothing"
    );
}

/// `docker build` (legacy builder) of a Dockerfile given on stdin.
fn build_from_stdin(images: &mut Images, tag: &str, dockerfile: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("docker")
        .args(["build", "-q", "-t", tag, "-"])
        .env("DOCKER_BUILDKIT", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dockerfile.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "docker build {tag}");
    images.add(tag)
}

#[test]
fn a_named_image_that_is_not_a_kind_node_image_is_refused_leaving_nothing() {
    require_fixture();
    let mut images = Images::default();
    // One file, no shell at all; and a node image without its entrypoint.
    let no_shell = tiny_image(
        &mut images,
        &format!("{}:v1", unique("kind-named-test/not-a-node")),
        "hello",
    );
    let no_entrypoint = build_from_stdin(
        &mut images,
        &format!("{}:v1", unique("kind-named-test/no-entrypoint")),
        &format!("FROM {FIXTURE_IMAGE}\nRUN rm /usr/local/bin/entrypoint\n"),
    );
    for (named, missing) in [
        (&no_shell, "/bin/sh"),
        (&no_entrypoint, "/usr/local/bin/entrypoint"),
    ] {
        let derived = derived_image_name(named);
        images.add(&derived);
        let tc = TestCluster::new("namedbad");
        let out = tc.kind(&["create", "cluster", "--name", &tc.name, "--image", named]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(" ✗ Ensuring node image ({named}) 🖼️")),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "ERROR: failed to create cluster: failed to build the Sysbox node image from \"{named}\": "
            )),
            "the message names the image: {err}"
        );
        assert!(
            err.contains(&format!(
                "ERROR: kind-sysbox: the base image is not a kind node image: {missing} is missing"
            )),
            "and what is missing: {err}"
        );
        assert!(tc.containers().is_empty(), "no container");
        assert!(!image_exists(&derived), "no derived image");
        let kubeconfig = std::fs::read_to_string(tc.kubeconfig()).unwrap_or_default();
        assert!(
            !kubeconfig.contains(&tc.name),
            "no kubeconfig entry: {kubeconfig}"
        );
        // No intermediate image of the refused build is left on top of it:
        // the image can be removed without force.
        let rmi = std::process::Command::new("docker")
            .args(["rmi", named])
            .output()
            .unwrap();
        assert!(
            rmi.status.success(),
            "{}",
            String::from_utf8_lossy(&rmi.stderr)
        );
    }
}
