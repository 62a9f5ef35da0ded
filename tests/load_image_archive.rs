//! `kind load image-archive` through the library against a real 2-node
//! fixture cluster: stat errors first, one archive streamed to every node,
//! several archives one after the other (with upstream's advice), --nodes.

mod common;
mod load_common;

use common::*;
use load_common::*;

const TWO_NODES: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n";
const ADVICE: &str = "It is suggested that you save multiple images into a common archive and load that instead of loading multiple archives for better performance\n";

#[test]
fn every_archive_is_stat_ed_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let present = write_file(
        dir.path(),
        "present.tar",
        &docker_save_archive("kind-load-test/x:1", "amd64", b"x"),
    );
    let missing = dir.path().join("missing.tar");
    // The cluster does not exist either: the stat error comes first.
    let (r, logged) = load_archives(
        "no-such-cluster-kind-load",
        &[present.clone(), missing.clone()],
        &[],
        0,
    );
    assert_eq!(
        r,
        Err(format!(
            "stat {}: no such file or directory",
            missing.display()
        ))
    );
    assert_eq!(logged, ADVICE);
    let (r, logged) = load_archives("no-such-cluster-kind-load", &[present], &[], 0);
    assert_eq!(
        r,
        Err("no nodes found for cluster \"no-such-cluster-kind-load\"".to_string())
    );
    assert_eq!(logged, "");
    let relative = std::path::PathBuf::from("x.tar");
    let (r, _) = load_archives("no-such-cluster-kind-load", &[relative], &[], 0);
    assert_eq!(r, Err("stat x.tar: no such file or directory".to_string()));
}

#[test]
fn image_archives_into_a_two_node_cluster() {
    require_fixture();
    let tc = TestCluster::new("load-arc");
    tc.create_fixture(TWO_NODES);
    let cp = format!("{}-control-plane", tc.name);
    let w = format!("{}-worker", tc.name);
    let platform = host_platform_flag();
    let host_arch = platform.trim_start_matches("--platform=linux/").to_string();
    let dir = tempfile::tempdir().unwrap();

    // A docker-save archive of a host image.
    let a = TestImage::tiny(&format!("{}:v1", unique("kind-load-test/arc-a")));
    let a_bytes = docker_save(&[&a.name]);
    let a_tar = write_file(dir.path(), "a.tar", &a_bytes);

    // Errors load nothing.
    let (r, _) = load_archives(&tc.name, std::slice::from_ref(&a_tar), &[&w, "bogus"], 0);
    assert_eq!(r, Err("unknown node: bogus".to_string()));
    let (r, logged) = load_archives(
        &tc.name,
        &[a_tar.clone(), dir.path().join("nope.tar")],
        &[],
        0,
    );
    assert_eq!(
        r,
        Err(format!(
            "stat {}: no such file or directory",
            dir.path().join("nope.tar").display()
        ))
    );
    assert_eq!(logged, ADVICE);
    assert_eq!(imports(&cp).len() + imports(&w).len(), 0);

    // One archive: both nodes receive the file's exact bytes (V(2) lines).
    let (r, logged) = load_archives(&tc.name, std::slice::from_ref(&a_tar), &[], 2);
    assert_eq!(r, Ok(()), "{logged}");
    for node in [&cp, &w] {
        assert!(
            logged.contains(&format!(
                "DEBUG: Loading Docker Image from archive {} to node {node}\n",
                a_tar.display()
            )),
            "{logged}"
        );
        let got = imports(node);
        assert_eq!(got.len(), 1, "{node}");
        assert_eq!(
            got[0].0.join(" "),
            format!(
                "--namespace=k8s.io images import {platform} --digests --snapshotter=overlayfs {INBOX_FILE}"
            ),
            "two nodes: the archive goes through the images inbox"
        );
        assert_eq!(got[0].1, sha256_hex(&a_bytes), "{node}");
        assert_eq!(node_image_id(node, &a.name), Some(a.id()));
    }

    // Several archives (one for another platform), restricted to the worker:
    // the advice, then the archives in order, each fully before the next.
    let other_arch = if host_arch == "arm64" {
        "amd64"
    } else {
        "arm64"
    };
    let b_bytes = docker_save_archive(
        "kind-load-test/arc-b:v1",
        &host_arch,
        unique("b").as_bytes(),
    );
    let c_bytes = docker_save_archive(
        "kind-load-test/arc-c:v1",
        other_arch,
        unique("c").as_bytes(),
    );
    let b_tar = write_file(dir.path(), "b.tar", &b_bytes);
    let c_tar = write_file(dir.path(), "c.tar", &c_bytes);
    let (r, logged) = load_archives(&tc.name, &[b_tar, c_tar], &[&w], 0);
    assert_eq!(r, Ok(()), "{logged}");
    assert_eq!(logged, ADVICE);
    let got = imports(&w);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[1].1, sha256_hex(&b_bytes));
    // The foreign archive: platform-only import filtered everything out,
    // then all platforms.
    assert_eq!(
        (got[2].1.as_str(), got[2].0[3].as_str()),
        (sha256_hex(&c_bytes).as_str(), platform.as_str())
    );
    assert_eq!(
        (got[3].1.as_str(), got[3].0[3].as_str()),
        (sha256_hex(&c_bytes).as_str(), "--all-platforms")
    );
    assert!(got[1].2 < got[2].2 && got[2].2 < got[3].2);
    assert!(node_image_id(&w, "kind-load-test/arc-b:v1").is_some());
    assert!(node_image_id(&w, "kind-load-test/arc-c:v1").is_some());
    assert_eq!(imports(&cp).len(), 1, "the control plane was not selected");

    // A failing node: named in the error, the other node still loads.
    docker(&["exec", &cp, "touch", "/kind-fixture/fail/ctr-import"]);
    let d_bytes = docker_save_archive(
        "kind-load-test/arc-d:v1",
        &host_arch,
        unique("d").as_bytes(),
    );
    let d_tar = write_file(dir.path(), "d.tar", &d_bytes);
    let (r, _) = load_archives(&tc.name, &[d_tar], &[], 0);
    // Two nodes: the import read the archive from the images inbox.
    let err = r.expect_err("the control plane's import fails");
    let (head, tail) = (
        format!(
            "failed to load image: node \"{cp}\": command \"docker exec -i {cp} ctr --namespace=k8s.io images import {platform} --digests --snapshotter=overlayfs /kind/images-inbox/load-"
        ),
        ".tar\" failed with error: exit status 1",
    );
    assert!(err.starts_with(&head) && err.ends_with(tail), "{err}");
    assert_eq!(imports(&w).pop().unwrap().1, sha256_hex(&d_bytes));
    assert!(node_image_id(&w, "kind-load-test/arc-d:v1").is_some());
    assert!(node_image_id(&cp, "kind-load-test/arc-d:v1").is_none());
}
