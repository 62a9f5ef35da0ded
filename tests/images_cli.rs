//! The image commands through the `kind` binary: the default Sysbox node
//! image, `kind build node-image`, and the refusals.

mod common;

use common::*;

const DEFAULT_IMAGE: &str = "kind-sysbox/node:v1.36.1";

#[test]
fn create_without_image_builds_the_sysbox_node_image_once_then_reuses_it() {
    require_fixture();
    // Start from no derived image, so the first create must build it.
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", DEFAULT_IMAGE])
        .output();
    let env = [("KIND_SYSBOX_BASE_IMAGE", FIXTURE_IMAGE)];

    let first = TestCluster::new("dflt1");
    let out = first.kind_env(
        &["create", "cluster", "--name", &first.name, "-v", "1"],
        &env,
    );
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(" ✓ Ensuring node image ({DEFAULT_IMAGE}) 🖼️\n")),
        "{err}"
    );
    assert!(
        err.contains("Building Sysbox node image"),
        "first create builds: {err}"
    );
    let built = image_id(DEFAULT_IMAGE);
    let node = inspect(&format!("{}-control-plane", first.name));
    assert_eq!(node["Config"]["Image"], DEFAULT_IMAGE);
    let env_vars: Vec<&str> = node["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        env_vars.contains(&"KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs"),
        "{env_vars:?}"
    );

    let second = TestCluster::new("dflt2");
    let out = second.kind_env(
        &["create", "cluster", "--name", &second.name, "-v", "1"],
        &env,
    );
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        !err.contains("Building Sysbox node image"),
        "second create must not build: {err}"
    );
    assert!(err.contains("Using Sysbox node image"), "{err}");
    assert_eq!(image_id(DEFAULT_IMAGE), built, "the same image is reused");
}

#[test]
fn runc_mode_keeps_upstreams_default_image() {
    let tc = TestCluster::new("dfltrunc");
    // The upstream image cannot be pulled here: the failure names it.
    let out = tc.kind_env(
        &["create", "cluster", "--name", &tc.name],
        &[("KIND_EXPERIMENTAL_RUNTIME", "runc")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(" • Ensuring node image (kindest/node:v1.36.1) 🖼️  ..."),
        "{err}"
    );
    assert!(tc.containers().is_empty());
}

#[test]
fn build_node_image_preloads_and_refuses_kubernetes_builds() {
    require_fixture();
    let tc = TestCluster::new("bld");
    let tag = format!("kind-sysbox-test/preloaded:{}", tc.name);
    let inner = format!("kind-sysbox-test/inner:{}", tc.name);
    docker(&["tag", "kind-fixture/node:base", &inner]);
    let out = tc.kind(&[
        "build",
        "node-image",
        "--base-image",
        FIXTURE_IMAGE,
        "--image",
        &tag,
        "--preload",
        &inner,
    ]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains(&format!("Image \"{tag}\" build completed.")),
        "{}",
        stderr(&out)
    );
    let listed = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "ctr",
        &tag,
        "-n",
        "k8s.io",
        "images",
        "list",
    ]);
    assert!(listed.contains(&format!("docker.io/{inner}")), "{listed}");

    for args in [
        vec!["build", "node-image", "--type", "release"],
        vec!["build", "node-image", "/path/to/kubernetes"],
    ] {
        let out = tc.kind(&args);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.starts_with("ERROR: error building node image: "),
            "{err}"
        );
        assert!(
            err.contains("upstream kind") && err.contains("--base-image"),
            "{err}"
        );
    }
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", &tag, &inner])
        .output();
}

#[test]
fn load_commands_through_the_binary() {
    require_fixture();
    let tc = TestCluster::new("ldcli");
    assert_ok(&tc.create(&[]));
    let image = format!("kind-sysbox-test/load:{}", tc.name);
    docker(&["tag", "kind-fixture/node:base", &image]);
    let id = image_id(&image);
    let node = format!("{}-control-plane", tc.name);

    let out = tc.kind(&["load", "docker-image", "--name", &tc.name, &image]);
    assert_ok(&out);
    assert_eq!(
        stderr(&out),
        format!(
            "Image: \"{image}\" with ID \"{id}\" not yet present on node \"{node}\", loading...\n"
        )
    );
    let again = tc.kind(&["load", "docker-image", "--name", &tc.name, &image]);
    assert_ok(&again);
    assert_eq!(
        stderr(&again),
        format!("Image: \"{image}\" with ID \"{id}\" found to be already present on all nodes.\n")
    );

    let missing = tc.kind(&[
        "load",
        "docker-image",
        "--name",
        &tc.name,
        "kind-sysbox-test/absent:x",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing),
        "ERROR: image: \"kind-sysbox-test/absent:x\" not present locally\n"
    );
    let no_archive = tc.kind(&[
        "load",
        "image-archive",
        "--name",
        &tc.name,
        "/nonexistent/images.tar",
    ]);
    assert_eq!(no_archive.status.code(), Some(1));
    assert_eq!(
        stderr(&no_archive),
        "ERROR: stat /nonexistent/images.tar: no such file or directory\n"
    );
    let no_args = tc.kind(&["load", "docker-image"]);
    assert_eq!(
        stderr(&no_args),
        "ERROR: a list of image names is required\n"
    );
    let typo = tc.kind(&["load", "dokker-image"]);
    assert_eq!(typo.status.code(), Some(1));
    assert_eq!(
        stderr(&typo),
        "ERROR: unknown command \"dokker-image\" for \"kind load\"\n"
    );
    let _ = std::process::Command::new("docker")
        .args(["rmi", "-f", &image])
        .output();
}
