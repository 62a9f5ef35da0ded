//! Unit tests of the node image build's pure parts.

use super::*;
use crate::provider::docker_run_args;
use crate::provider::plan::SNAPSHOTTER_ENV;

fn hmap(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn context_hash_covers_names_and_contents_in_any_order() {
    let base = context_hash(&[("Dockerfile", b"FROM x\n"), ("a.sh", b"echo\n")]);
    assert!(
        base.starts_with("sha256:") && base.len() == 7 + 64,
        "{base}"
    );
    assert_eq!(
        base,
        context_hash(&[("a.sh", b"echo\n"), ("Dockerfile", b"FROM x\n")]),
        "order must not matter"
    );
    let different = [
        (
            "content",
            context_hash(&[("Dockerfile", b"FROM y\n"), ("a.sh", b"echo\n")]),
        ),
        (
            "name",
            context_hash(&[("Dockerfile", b"FROM x\n"), ("b.sh", b"echo\n")]),
        ),
        ("file dropped", context_hash(&[("Dockerfile", b"FROM x\n")])),
        // Without length prefixes these two would hash the same bytes.
        (
            "boundary",
            context_hash(&[("Dockerfile", b"FROM x\na.sh"), ("", b"echo\n")]),
        ),
    ];
    for (what, h) in different {
        assert_ne!(h, base, "{what}");
    }
}

#[test]
fn embedded_context_is_every_file_of_node_image_but_the_readme() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("node-image");
    let mut on_disk: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "README.md")
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    on_disk.sort();
    let mut embedded: Vec<(String, Vec<u8>)> = NODE_IMAGE_CONTEXT
        .iter()
        .map(|(n, d)| (n.to_string(), d.to_vec()))
        .collect();
    embedded.sort();
    assert_eq!(
        embedded, on_disk,
        "node-image/ and NODE_IMAGE_CONTEXT disagree: embed new files with include_bytes!"
    );
}

#[test]
fn dockerfile_defaults_agree_with_the_constants() {
    let dockerfile = std::str::from_utf8(NODE_IMAGE_CONTEXT[0].1).unwrap();
    assert!(
        dockerfile.contains(&format!("ARG BASE={DEFAULT_BASE_IMAGE}\n")),
        "ARG BASE default must be DEFAULT_BASE_IMAGE"
    );
    assert_eq!(
        DEFAULT_BASE_IMAGE,
        crate::config::DEFAULT_NODE_IMAGE,
        "the base is kind v0.32.0's default node image"
    );
    assert!(
        dockerfile.contains(&format!("ENV {SNAPSHOTTER_ENV}={SYSBOX_SNAPSHOTTER}\n")),
        "the snapshotter pin"
    );
    // The image the binary uses by default is derived from the same Kubernetes version.
    let base_tag = DEFAULT_BASE_IMAGE
        .split('@')
        .next()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap();
    assert_eq!(split_repo_tag(DEFAULT_SYSBOX_IMAGE).unwrap().1, base_tag);
}

#[test]
fn context_tar_is_reproducible_and_holds_the_files() {
    let files: &[(&str, &[u8])] = &[("b.sh", b"echo b\n"), ("Dockerfile", b"FROM scratch\n")];
    let tar = context_tar(files).unwrap();
    assert_eq!(
        tar,
        context_tar(&[files[1], files[0]]).unwrap(),
        "same files, same bytes"
    );
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        assert_eq!(header.mode().unwrap(), 0o644);
        assert_eq!(header.mtime().unwrap(), 0);
        assert_eq!(header.uid().unwrap(), 0);
        seen.push((
            entry.path().unwrap().to_string_lossy().into_owned(),
            String::from_utf8(data).unwrap(),
        ));
    }
    assert_eq!(
        seen,
        [
            ("Dockerfile".to_string(), "FROM scratch\n".to_string()),
            ("b.sh".into(), "echo b\n".into())
        ]
    );
}

#[test]
fn identity_matches_by_base_id_and_context_only() {
    let id = ImageIdentity {
        base: "kindest/node:v1.36.1".into(),
        base_id: "sha256:b".into(),
        context: "sha256:c".into(),
    };
    let labels: HashMap<String, String> = id.labels().into_iter().collect();
    assert_eq!(
        labels,
        hmap(&[
            (LABEL_BASE, "kindest/node:v1.36.1"),
            (LABEL_BASE_ID, "sha256:b"),
            (LABEL_CONTEXT, "sha256:c")
        ])
    );
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
    let cases: &[Case] = &[
        (
            "its own labels",
            &[
                (LABEL_BASE, "kindest/node:v1.36.1"),
                (LABEL_BASE_ID, "sha256:b"),
                (LABEL_CONTEXT, "sha256:c"),
            ],
            true,
        ),
        (
            "same base by another name",
            &[
                (LABEL_BASE, "other:tag"),
                (LABEL_BASE_ID, "sha256:b"),
                (LABEL_CONTEXT, "sha256:c"),
            ],
            true,
        ),
        (
            "extra labels are fine",
            &[
                (LABEL_BASE_ID, "sha256:b"),
                (LABEL_CONTEXT, "sha256:c"),
                ("x", "y"),
            ],
            true,
        ),
        (
            "base image changed",
            &[(LABEL_BASE_ID, "sha256:OLD"), (LABEL_CONTEXT, "sha256:c")],
            false,
        ),
        (
            "context changed",
            &[(LABEL_BASE_ID, "sha256:b"), (LABEL_CONTEXT, "sha256:OLD")],
            false,
        ),
        ("no context label", &[(LABEL_BASE_ID, "sha256:b")], false),
        ("not ours at all", &[("maintainer", "someone")], false),
        ("no labels", &[], false),
    ];
    for (what, labels, want) in cases {
        assert_eq!(id.matches(&hmap(labels)), *want, "{what}");
    }
}

#[test]
fn repo_and_tag_of_the_built_image() {
    type Case<'a> = (&'a str, Result<(&'a str, &'a str), &'a str>);
    let cases: &[Case] = &[
        (
            "kind-sysbox/node:latest",
            Ok(("kind-sysbox/node", "latest")),
        ),
        ("kind-sysbox/node", Ok(("kind-sysbox/node", "latest"))),
        ("localhost:5000/node:v1", Ok(("localhost:5000/node", "v1"))),
        ("localhost:5000/node", Ok(("localhost:5000/node", "latest"))),
        ("node:v1.36.1", Ok(("node", "v1.36.1"))),
        ("node@sha256:abc", Err("a digest cannot be given")),
        ("", Err("empty")),
    ];
    for (image, want) in cases {
        match (split_repo_tag(image), want) {
            (Ok(got), Ok((r, t))) => assert_eq!(got, (r.to_string(), t.to_string()), "{image}"),
            (Err(e), Err(needle)) => assert!(e.to_string().contains(needle), "{image}: {e}"),
            (got, _) => panic!("{image}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn kubernetes_build_types_are_refused_with_directions() {
    assert!(check_build_source(None, None).is_ok());
    assert!(
        check_build_source(Some(""), Some("")).is_ok(),
        "empty flags count as unset"
    );
    for (flag, positional, kind) in [
        (Some("source"), None, "source"),
        (Some("release"), Some("v1.36.1"), "release"),
        (Some("url"), None, "url"),
        (Some("file"), None, "file"),
        (Some("ci"), None, "ci"),
        (None, Some("/go/src/k8s.io/kubernetes"), "source"),
    ] {
        let e = check_build_source(flag, positional)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "building Kubernetes (build type \"{kind}\") is not supported by kind-sysbox"
            )),
            "{e}"
        );
        assert!(
            e.contains(&format!("kind build node-image --type {kind}")),
            "{e}"
        );
        assert!(e.contains("--base-image <that image>"), "{e}");
    }
}

#[test]
fn preload_container_is_an_unprivileged_sysbox_node_without_cluster_traits() {
    let spec = preload_container_spec("kind-build-1-2", "sha256:abc", "sysbox-runc");
    assert_eq!(
        docker_run_args(&spec).join(" "),
        "--name kind-build-1-2 --hostname kind-build-1-2 --runtime=sysbox-runc --tmpfs /tmp --tmpfs /run \
         -e KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs --detach --tty --net  --init=false --cgroupns=private sha256:abc"
    );
    assert!(
        !spec.privileged
            && spec.security_opt.is_empty()
            && spec.volumes.is_empty()
            && spec.binds.is_empty()
    );
    assert!(
        spec.labels.is_empty(),
        "labels of the build container would end up in the committed image"
    );
    assert!(spec.restart_policy.is_empty() && spec.network.is_empty());
}

#[test]
fn boot_leftovers_undo_per_boot_state_only() {
    use Change::*;
    let changes: Vec<(String, Change)> = [
        ("/etc/containerd/config.toml", Modified),
        ("/etc/machine-id", Modified),
        ("/kind/product_uuid", Added),
        ("/kind/product_name", Added),
        ("/kind/old-ipv4", Added),
        ("/var/log/journal", Modified),
        ("/var/log/journal/abc", Added),
        ("/var/log/journal/abc/system.journal", Added),
        ("/var/log/kind-fixture", Added),
        ("/var/log/kind-fixture/calls.log", Added),
        ("/var/log/dpkg.log", Modified),
        (
            "/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db",
            Added,
        ),
        ("/var/lib/kind-fixture/images", Added),
        ("/var/logs-not-logs", Added),
        ("/usr/bin/old-tool", Deleted),
    ]
    .iter()
    .map(|(p, k)| (p.to_string(), *k))
    .collect();
    let (restore, remove) = boot_leftovers(&changes);
    // Directories are listed too; only files are taken from the snapshots.
    assert_eq!(
        restore,
        [
            "/etc/containerd/config.toml",
            "/var/log/journal",
            "/var/log/dpkg.log"
        ]
    );
    assert_eq!(
        remove,
        [
            "/kind/old-ipv4",
            "/kind/product_uuid",
            "/var/log/journal/abc",
            "/var/log/kind-fixture"
        ]
    );
    // An untouched config is not restored.
    let (restore, remove) = boot_leftovers(&[("/etc/containerd/config.toml".into(), Added)]);
    assert!(restore.is_empty() && remove.is_empty());
}

/// A tar as `docker cp` makes it: entries relative to the copied path's parent.
fn cp_tar(entries: &[(&str, Option<&str>, u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, content, mode) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mode(*mode);
        h.set_mtime(1_700_000_000);
        match content {
            Some(data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, path, data.as_bytes()).unwrap();
            }
            None => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, path, std::io::empty()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn tar_files(tar: &[u8]) -> Vec<(String, String, u32)> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mode = e.header().mode().unwrap();
            let mut data = String::new();
            std::io::Read::read_to_string(&mut e, &mut data).unwrap();
            (e.path().unwrap().to_string_lossy().into_owned(), data, mode)
        })
        .collect()
}

#[test]
fn snapshots_give_back_only_the_files_asked_for() {
    let logs = cp_tar(&[
        ("log", None, 0o755),
        ("log/dpkg.log", Some("installed\n"), 0o644),
        ("log/alternatives.log", Some("alt\n"), 0o640),
        ("log/kind-fixture", None, 0o755),
        ("log/kind-fixture/calls.log", Some(""), 0o600),
    ]);
    let wanted: Vec<String> = [
        "/var/log",
        "/var/log/kind-fixture/calls.log",
        "/var/log/dpkg.log",
        "/etc/containerd/config.toml",
    ]
    .map(String::from)
    .into();
    let picked = select_from_tar(&logs, "/var", &wanted)
        .unwrap()
        .expect("two files");
    assert_eq!(
        tar_files(&picked),
        [
            ("log/dpkg.log".to_string(), "installed\n".to_string(), 0o644),
            ("log/kind-fixture/calls.log".into(), String::new(), 0o600)
        ]
    );
    let config = cp_tar(&[("config.toml", Some("version = 2\n"), 0o644)]);
    let picked = select_from_tar(&config, "/etc/containerd", &wanted)
        .unwrap()
        .expect("the config");
    assert_eq!(
        tar_files(&picked),
        [(
            "config.toml".to_string(),
            "version = 2\n".to_string(),
            0o644
        )]
    );
    assert_eq!(
        select_from_tar(&config, "/etc/containerd", &["/var/log/dpkg.log".into()]).unwrap(),
        None
    );
    assert_eq!(parent_dir("/var/log"), "/var");
    assert_eq!(parent_dir("/etc/containerd/config.toml"), "/etc/containerd");
    assert_eq!(parent_dir("/top"), "/");
}

#[test]
fn dedupe_keeps_first_occurrences_in_order() {
    assert_eq!(dedupe(&["b", "a", "b", "c", "a"]), ["b", "a", "c"]);
    assert_eq!(dedupe::<&str>(&[]), Vec::<&str>::new());
}

#[test]
fn a_base_without_a_shell_is_recognised_from_dockers_error() {
    assert!(lacks_shell(
        "failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/bin/sh\": stat /bin/sh: no such file or directory: unknown"
    ));
    assert!(!lacks_shell(
        "The command '/bin/sh -c set -eu; …' returned a non-zero code: 1"
    ));
    assert!(!lacks_shell("open /etc/x: no such file or directory"));
}
