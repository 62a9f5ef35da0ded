//! `kind load docker-image` through the library against a real 3-node
//! fixture cluster: every node's stand-in ctr receives the same bytes as
//! `docker save`, a second load skips, `--nodes` restricts, re-tagging,
//! errors with upstream's messages, one failing node, the platform fallback.

mod common;
mod load_common;

use common::*;
use load_common::*;

const THREE_NODES: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n";

fn import_count(nodes: &[String]) -> usize {
    nodes.iter().map(|n| imports(n).len()).sum()
}

#[test]
fn missing_image_fails_before_looking_at_any_cluster() {
    let img = TestImage::tiny(&format!("{}:v1", unique("kind-load-test/present")));
    let missing = format!("{}:nope", unique("kind-load-test/missing"));
    let (result, logged) = load_images(
        "no-such-cluster-kind-load",
        &[&img.name, &missing, &img.name],
        &[],
    );
    assert_eq!(
        result,
        Err(format!("image: \"{missing}\" not present locally"))
    );
    assert_eq!(logged, "");
}

#[test]
fn unknown_cluster_has_no_nodes() {
    let img = TestImage::tiny(&format!("{}:v1", unique("kind-load-test/present")));
    let (result, _) = load_images("no-such-cluster-kind-load", &[&img.name], &[]);
    assert_eq!(
        result,
        Err("no nodes found for cluster \"no-such-cluster-kind-load\"".to_string())
    );
}

#[test]
fn docker_image_into_a_three_node_cluster() {
    require_fixture();
    let tc = TestCluster::new("load-img");
    tc.create_fixture(THREE_NODES);
    let cp = format!("{}-control-plane", tc.name);
    let w1 = format!("{}-worker", tc.name);
    let w2 = format!("{}-worker2", tc.name);
    let all = vec![cp.clone(), w1.clone(), w2.clone()];
    let platform = host_platform_flag();
    // Streamed (`-`): a load into one node. Into several, the archive is
    // written once into the images inbox and every node imports that file.
    let import_argv_from = |flag: &str, input: &str| -> Vec<String> {
        [
            "--namespace=k8s.io",
            "images",
            "import",
            flag,
            "--digests",
            "--snapshotter=overlayfs",
            input,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let import_argv = |flag: &str| import_argv_from(flag, "-");

    let a = TestImage::tiny(&format!("{}:v1", unique("kind-load-test/a")));
    let b = TestImage::tiny(&unique("kind-load-test/b")); // no tag: `latest`
    let (a_id, b_id) = (a.id(), b.id());

    // Errors load nothing.
    let missing = format!("{}:x", unique("kind-load-test/missing"));
    let (r, _) = load_images(&tc.name, &[&a.name, &missing], &[]);
    assert_eq!(r, Err(format!("image: \"{missing}\" not present locally")));
    let (r, _) = load_images(&tc.name, &[&a.name], &[&w1, "bogus"]);
    assert_eq!(r, Err("unknown node: \"bogus\"".to_string()));
    assert_eq!(import_count(&all), 0);

    // --nodes restricts to the named node.
    let (r, logged) = load_images(&tc.name, &[&a.name], &[&w1]);
    assert_eq!(r, Ok(()), "{logged}");
    assert_eq!(
        logged,
        format!(
            "Image: \"{}\" with ID \"{a_id}\" not yet present on node \"{w1}\", loading...\n",
            a.name
        )
    );
    let w1_imports = imports(&w1);
    assert_eq!(w1_imports.len(), 1);
    assert_eq!(w1_imports[0].0, import_argv(&platform));
    assert_eq!(w1_imports[0].1, sha256_hex(&docker_save(&[&a.name])));
    assert_eq!((imports(&cp).len(), imports(&w2).len()), (0, 0));
    assert_eq!(node_image_id(&w1, &a.name), Some(a_id.clone()));

    // Duplicates collapse; every node that lacks either image gets ONE
    // archive of both: the full one (through the images inbox, the same
    // bytes for all) to nodes holding neither, a partial one to w1. (`docker save A B` orders
    // its manifest differently from call to call, so the bytes are compared
    // across nodes and the length with a fresh save.)
    let (r, logged) = load_images(&tc.name, &[&a.name, &b.name, &a.name], &[]);
    assert_eq!(r, Ok(()), "{logged}");
    let b_nodes: Vec<String> = logged
        .lines()
        .filter(|l| l.starts_with(&format!("Image: \"{}\"", b.name)))
        .map(|l| {
            l.split("on node \"")
                .nth(1)
                .unwrap()
                .trim_end_matches("\", loading...")
                .to_string()
        })
        .collect();
    let mut sorted = b_nodes.clone();
    sorted.sort();
    assert_eq!(sorted, all, "{logged}");
    for line in logged.lines() {
        assert!(line.ends_with("loading..."), "unexpected line {line:?}");
    }
    assert_eq!(
        logged
            .lines()
            .filter(|l| l.starts_with(&format!("Image: \"{}\"", a.name)))
            .count(),
        2,
        "{logged}"
    );
    // w1 already had A: only B is logged for it.
    assert!(
        !logged.contains(&format!(
            "Image: \"{}\" with ID \"{a_id}\" not yet present on node \"{w1}\"",
            a.name
        )),
        "{logged}"
    );
    let saved_len = docker_save(&[&a.name, &b.name]).len() as u64;
    let mut received = std::collections::BTreeSet::new();
    for node in &all {
        let last = imports(node).pop().expect("an import");
        if *node == w1 {
            // w1 holds A's layer: it is streamed a partial archive without it.
            assert_eq!(last.0, import_argv(&platform), "{node}");
            assert!(import_bytes(node) < saved_len, "{node}");
        } else {
            assert_eq!(last.0, import_argv_from(&platform, INBOX_FILE), "{node}");
            received.insert(last.1.clone());
            assert_eq!(
                import_bytes(node),
                saved_len,
                "{node} received another length than `docker save`"
            );
        }
        assert_eq!(node_image_id(node, &a.name), Some(a_id.clone()), "{node}");
        assert_eq!(node_image_id(node, &b.name), Some(b_id.clone()), "{node}");
    }
    assert_eq!(
        received.len(),
        1,
        "every node received the same bytes: {received:?}"
    );
    assert_eq!(imports(&w1).len(), 2);

    // A second load skips every node: no new import. Each node is asked
    // in one exec, which, finding every image tagged by ID, leaves out the
    // by-name inspections, the snapshotter and the content list.
    let before = import_count(&all);
    let asked = |node: &str| {
        [
            "crictl inspecti",
            "containerd config dump",
            "ctr --namespace=k8s.io content ls",
        ]
        .map(|prefix| calls_starting(node, prefix).len())
    };
    let asked_before: Vec<_> = all.iter().map(|n| asked(n)).collect();
    let (r, logged) = load_images(&tc.name, &[&a.name, &b.name], &[]);
    for (node, [inspected, dumped, listed]) in all.iter().zip(asked_before) {
        assert_eq!(asked(node), [inspected + 2, dumped, listed], "{node}");
    }
    assert_eq!(r, Ok(()));
    assert_eq!(
        logged,
        format!(
            "Image: \"{}\" with ID \"{a_id}\" found to be already present on all nodes.\nImage: \"{}\" with ID \"{b_id}\" found to be already present on all nodes.\n",
            a.name, b.name
        )
    );
    assert_eq!(import_count(&all), before);

    // Same ID under another name: re-tag, no import.
    let alias = format!("{}:other", unique("kind-load-test/alias"));
    docker(&["tag", &a.name, &alias]);
    let _alias_guard = scopeguard(alias.clone());
    let (r, logged) = load_images(&tc.name, &[&alias], &[]);
    assert_eq!(r, Ok(()), "{logged}");
    let normalised = format!("docker.io/{alias}");
    for node in &all {
        assert!(
            logged.contains(&format!("Image with ID: {a_id} already present on the node {node} but is missing the tag {normalised}. re-tagging...\n")),
            "{logged}"
        );
        assert_eq!(
            calls_starting(node, "ctr --namespace=k8s.io images tag --force"),
            vec![format!(
                "ctr --namespace=k8s.io images tag --force {a_id} {normalised}"
            )]
        );
        assert_eq!(node_image_id(node, &alias), Some(a_id.clone()));
    }
    assert!(!logged.contains("found to be already present"), "{logged}");
    assert_eq!(import_count(&all), before);

    // A failing import on one node: the error names it, the others complete.
    docker(&["exec", &w2, "touch", "/kind-fixture/fail/ctr-import"]);
    let c = TestImage::tiny(&format!("{}:v1", unique("kind-load-test/c")));
    let (r, _) = load_images(&tc.name, &[&c.name], &[]);
    let c_save = sha256_hex(&docker_save(&[&c.name]));
    let err = r.expect_err("w2's import fails");
    let (head, tail) = (
        format!(
            "failed to load image: node \"{w2}\": command \"docker exec -i {w2} ctr --namespace=k8s.io images import {platform} --digests --snapshotter=overlayfs /kind/images-inbox/load-"
        ),
        ".tar\" failed with error: exit status 1",
    );
    assert!(err.starts_with(&head) && err.ends_with(tail), "{err}");
    for node in [&cp, &w1] {
        assert_eq!(imports(node).pop().unwrap().1, c_save, "{node}");
        assert_eq!(node_image_id(node, &c.name), Some(c.id()), "{node}");
    }
    // The failing node read the whole archive too, then failed.
    assert_eq!(imports(&w2).pop().unwrap().1, c_save);
    assert_eq!(node_image_id(&w2, &c.name), None);
    docker(&["exec", &w2, "rm", "/kind-fixture/fail/ctr-import"]);

    // An image for another platform: the platform-only import finds nothing,
    // that node is streamed again importing all platforms (upstream's way).
    let other_arch = if platform.ends_with("arm64") {
        "amd64"
    } else {
        "arm64"
    };
    let d = TestImage::for_arch(
        &format!("{}:v1", unique("kind-load-test/foreign")),
        other_arch,
    );
    let (r, logged) = load_images(&tc.name, &[&d.name], &[&cp]);
    assert_eq!(r, Ok(()), "{logged}");
    let d_save = sha256_hex(&docker_save(&[&d.name]));
    let tail: Vec<_> = imports(&cp).into_iter().rev().take(2).collect();
    assert_eq!(tail[1].0, import_argv(&platform));
    assert_eq!(tail[0].0, import_argv("--all-platforms"));
    assert_eq!(
        (tail[1].1.as_str(), tail[0].1.as_str()),
        (d_save.as_str(), d_save.as_str())
    );
    assert_eq!(node_image_id(&cp, &d.name), Some(d.id()));
}

/// Removes a host image tag when dropped.
struct TagGuard(String);

impl Drop for TagGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", &self.0])
            .output();
    }
}

fn scopeguard(tag: String) -> TagGuard {
    TagGuard(tag)
}
