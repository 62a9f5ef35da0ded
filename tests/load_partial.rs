//! `kind load docker-image` moving each byte through Docker once and sending
//! each node only the layers it lacks (issue 8), through the CLI against a
//! real 3-node fixture cluster whose stand-in ctr keeps a content store
//! (`ctr content ls`) and refuses an OCI layout leaving out a blob it does
//! not hold, as containerd does: a first load writes the archive once into
//! the images inbox and every node imports that file (byte-exact, removed
//! afterwards); a reload after a top-layer change sends every node a partial
//! archive byte-identical to what the converter makes for that node; a node
//! whose content list lies is retried in full (said at `-v 1`); a node whose
//! import hangs is given up by name while the others complete. And a cluster
//! without the inbox (an older version's) still loads, streamed.

mod common;
mod load_common;

use std::collections::HashMap;
use std::process::Command;

use common::*;
use kind_sysbox::images::oci::{parse_content_list, partial_layouts, Limits, Target};
use load_common::*;

const THREE_NODES: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n";

/// `FROM base` plus one small file: a new top layer over `base`'s.
fn derived(images: &mut Images, base: &str, name: &str, content: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("top.txt"), content).unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {base}\nCOPY top.txt /top.txt\n"),
    )
    .unwrap();
    let out = Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", name, dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker build {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    images.add(name)
}

fn diff_ids(image: &str) -> Vec<String> {
    let out = docker(&["image", "inspect", "-f", "{{json .RootFS.Layers}}", image]);
    serde_json::from_str(out.trim()).unwrap()
}

fn content_list(node: &str) -> String {
    docker(&[
        "exec",
        node,
        "ctr",
        "--namespace=k8s.io",
        "content",
        "ls",
        "-q",
    ])
}

/// The last import's input (bytes, sha256) as the stand-in recorded it:
/// the file it read (the images inbox), else its stdin.
fn last_import(node: &str) -> (u64, String) {
    let call = calls(node)
        .into_iter()
        .rfind(|c| {
            c["tool"] == "ctr"
                && c["argv"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "import"))
        })
        .expect("an import");
    if call.get("file_sha256").is_some() {
        (
            call["file_bytes"].as_u64().unwrap(),
            call["file_sha256"].as_str().unwrap().to_string(),
        )
    } else {
        (
            call["stdin_bytes"].as_u64().unwrap(),
            call["stdin_sha256"].as_str().unwrap().to_string(),
        )
    }
}

/// The last import's argv.
fn last_import_argv(node: &str) -> Vec<String> {
    imports(node).pop().expect("an import").0
}

/// What the converter makes of `docker save image` for a node holding `held`.
fn expected_partial(image: &str, held: &str) -> Vec<u8> {
    let save = docker_save(&[image]);
    let (_, mut outs) = partial_layouts(
        save.as_slice(),
        vec![Target {
            held: parse_content_list(held),
            out: Vec::new(),
        }],
        &HashMap::new(),
        Limits::default(),
    )
    .expect("convert");
    outs.remove(0)
}

#[test]
fn reloads_send_only_missing_layers_fall_back_in_full_and_give_up_stuck_nodes() {
    require_fixture();
    let mut images = Images::default();
    // A base layer of 2 MiB (unique, so no node holds it yet) and a small top.
    let base_name = format!("{}:base", unique("kind-load-partial/app"));
    let base_content: String = (0..(2 << 20) / 64)
        .map(|i| format!("{:063}\n", i * 7919 + std::process::id() as usize))
        .collect();
    let base = tiny_image(&mut images, &base_name, &base_content);
    let repo = unique("kind-load-partial/app");
    let v1 = derived(&mut images, &base, &format!("{repo}:v1"), "top v1\n");
    let v2 = derived(&mut images, &base, &format!("{repo}:v2"), "top v2\n");
    let base_diff = diff_ids(&v2)[0].clone();
    let v2_top = diff_ids(&v2)[1].clone();

    let tc = TestCluster::new("load-partial");
    tc.create_fixture(THREE_NODES);
    let cp = format!("{}-control-plane", tc.name);
    let w1 = format!("{}-worker", tc.name);
    let w2 = format!("{}-worker2", tc.name);
    let nodes = [cp.clone(), w1.clone(), w2.clone()];
    let load = |image: &str, env: &[(&str, &str)]| {
        tc.kind_env(
            &["load", "docker-image", image, "--name", &tc.name, "-v", "1"],
            env,
        )
    };

    // 1. First load: no node holds any layer, so every node gets the full
    // `docker save` bytes (no conversion).
    let out = load(&v1, &[]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains("(0 of them a partial archive)"),
        "{}",
        stderr(&out)
    );
    let save_v1 = docker_save(&[&v1]);
    for node in &nodes {
        assert_eq!(
            last_import(node),
            (save_v1.len() as u64, sha256_hex(&save_v1)),
            "{node}: the full archive, byte for byte"
        );
        assert!(content_list(node).contains(&base_diff), "{node}");
    }

    // 2. Reload after a top-layer change; worker2's content list claims v2's
    // top layer too (it lies): its partial archive lacks that layer, the
    // import fails on it, and it is retried with the full archive.
    docker(&[
        "exec",
        &w2,
        "sh",
        "-c",
        &format!("echo {v2_top} >/kind-fixture/content-extra"),
    ]);
    let held: HashMap<String, String> =
        nodes.iter().map(|n| (n.clone(), content_list(n))).collect();
    let out = load(&v2, &[]);
    assert_ok(&out);
    let err = stderr(&out);
    eprintln!("reload of v2 at -v 1:\n{err}");
    let save_v2 = docker_save(&[&v2]);
    for node in [&cp, &w1] {
        let want = expected_partial(&v2, &held[node]);
        let (bytes, sha) = last_import(node);
        assert_eq!(
            (bytes, sha),
            (want.len() as u64, sha256_hex(&want)),
            "{node}: exactly the converter's partial archive"
        );
        assert!(
            bytes < 64 << 10,
            "{node}: {bytes} bytes for a reload whose base is {} bytes",
            save_v2.len()
        );
        assert_eq!(imports(node).len(), 2, "{node}: one import per load");
        assert!(
            err.contains(&format!("node {node}: partial archive of {bytes} bytes imported (1 layer(s) it holds left out)")),
            "{err}"
        );
    }
    assert!(
        err.contains(&format!(
            "node {w2}: partial import failed (missing content {v2_top}), retrying with the full archive"
        )),
        "{err}"
    );
    assert_eq!(
        imports(&w2).len(),
        3,
        "v1, the failed partial v2, the full v2"
    );
    assert_eq!(
        last_import(&w2),
        (save_v2.len() as u64, sha256_hex(&save_v2)),
        "{w2}: the full archive after the failed partial one"
    );
    let v2_id = image_id(&v2);
    for node in &nodes {
        assert_eq!(
            node_image_id(node, &v2).as_deref(),
            Some(v2_id.as_str()),
            "{node}"
        );
    }

    // 3. worker's import hangs: given up by name once it has been the only
    // one running for the stall timeout, while the other two complete. A new
    // image (no layer held): the inbox file path.
    let v3 = tiny_image(&mut images, &format!("{repo}:v3"), "v3\n");
    docker(&[
        "exec",
        &w1,
        "sh",
        "-c",
        "mkdir -p /kind-fixture/delay && echo 600 >/kind-fixture/delay/ctr-import-read",
    ]);
    let started = std::time::Instant::now();
    let out = load(&v3, &[("KIND_SYSBOX_LOAD_STALL_SECONDS", "3")]);
    let took = started.elapsed();
    assert!(!out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    eprintln!("load with a stuck node ({took:?}):\n{err}");
    assert!(
        err.contains(&format!("node \"{w1}\""))
            && err.contains(
                "import of the images inbox file was still running 3s after every other node's had ended"
            ),
        "{err}"
    );
    assert!(took < std::time::Duration::from_secs(60), "took {took:?}");
    let v3_id = image_id(&v3);
    for node in [&cp, &w2] {
        assert_eq!(
            node_image_id(node, &v3).as_deref(),
            Some(v3_id.as_str()),
            "{node}"
        );
    }
    assert_eq!(node_image_id(&w1, &v3), None);
}

/// A cluster made before the images inbox (nodes with our runtime-mode label
/// but no inbox label or mount, as an older kind-sysbox made them): the load
/// streams the archive into each node, byte-exact; and a node that stops
/// reading the stream is given up by name while the other completes.
#[test]
fn a_cluster_without_the_inbox_still_loads_streamed() {
    require_fixture();
    let mut images = Images::default();
    let img = tiny_image(
        &mut images,
        &format!("{}:v1", unique("kind-load-partial/old")),
        "old cluster\n",
    );
    let cluster = unique("load-old");
    let nodes = [
        (format!("{cluster}-control-plane"), "control-plane"),
        (format!("{cluster}-worker"), "worker"),
    ];
    struct Gone(Vec<String>);
    impl Drop for Gone {
        fn drop(&mut self) {
            for n in &self.0 {
                let _ = Command::new("docker").args(["rm", "-f", "-v", n]).output();
            }
        }
    }
    let _gone = Gone(nodes.iter().map(|(n, _)| n.clone()).collect());
    for (name, role) in &nodes {
        docker(&[
            "run",
            "-d",
            "--name",
            name,
            "--hostname",
            name,
            "--label",
            &format!("io.x-k8s.kind.cluster={cluster}"),
            "--label",
            &format!("io.x-k8s.kind.role={role}"),
            "--label",
            "dev.kind-sysbox.runtime-mode=sysbox",
            "--runtime",
            "sysbox-runc",
            "--tmpfs",
            "/tmp",
            "--tmpfs",
            "/run",
            FIXTURE_IMAGE,
        ]);
    }
    let home = tempfile::tempdir().unwrap();
    let out = kind_cmd(
        &["load", "docker-image", &img, "--name", &cluster, "-v", "1"],
        &[],
        &home.path().join("kubeconfig"),
        None,
    );
    assert_ok(&out);
    let err = stderr(&out);
    assert!(!err.contains("images inbox"), "{err}");
    let save = docker_save(&[&img]);
    for (node, _) in &nodes {
        assert_eq!(
            last_import(node),
            (save.len() as u64, sha256_hex(&save)),
            "{node}: streamed, byte for byte"
        );
        assert_eq!(last_import_argv(node).last().unwrap(), "-", "{node}");
    }

    // Streamed, a node that stops reading is dropped from the pass after
    // the stall timeout and named; the other completes. 16 MiB, so what the
    // stuck node does not read cannot all sit in socket and pipe buffers.
    let big: String = (0..(16 << 20) / 64)
        .map(|i| format!("{:063}\n", i * 104729 + std::process::id() as usize))
        .collect();
    let img2 = tiny_image(
        &mut images,
        &format!("{}:v2", unique("kind-load-partial/old")),
        &big,
    );
    let (stuck, other) = (&nodes[1].0, &nodes[0].0);
    docker(&[
        "exec",
        stuck,
        "sh",
        "-c",
        "mkdir -p /kind-fixture/delay && echo 600 >/kind-fixture/delay/ctr-import-read",
    ]);
    let started = std::time::Instant::now();
    let out = kind_cmd(
        &["load", "docker-image", &img2, "--name", &cluster, "-v", "1"],
        &[("KIND_SYSBOX_LOAD_STALL_SECONDS", "3")],
        &home.path().join("kubeconfig"),
        None,
    );
    let took = started.elapsed();
    let err = stderr(&out);
    eprintln!("streamed load with a stuck node ({took:?}):\n{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "ERROR: failed to load image: node \"{stuck}\": the node took nothing of the image archive for 3s and was given up"
        )),
        "{err}"
    );
    assert!(took < std::time::Duration::from_secs(60), "took {took:?}");
    let save2 = docker_save(&[&img2]);
    assert_eq!(
        last_import(other),
        (save2.len() as u64, sha256_hex(&save2)),
        "{other}: streamed in full while {stuck} was stuck"
    );
    assert_eq!(
        node_image_id(other, &img2).as_deref(),
        Some(image_id(&img2).as_str())
    );
}

/// The layer digests a load learns (`$XDG_CACHE_HOME/kind-sysbox/layer-digests`)
/// spare the next load hashing and holding back the layers every node holds;
/// a wrong digest in that file costs a full archive, never a wrong image,
/// and is replaced by what the bytes say.
#[test]
fn layer_digests_learned_by_one_load_spare_the_next_its_hashing() {
    require_fixture();
    let mut images = Images::default();
    let base_content: String = (0..(1 << 20) / 64)
        .map(|i| format!("{:063}\n", i * 104729 + std::process::id() as usize))
        .collect();
    let base = tiny_image(
        &mut images,
        &format!("{}:base", unique("kind-load-hints/app")),
        &base_content,
    );
    let repo = unique("kind-load-hints/app");
    let v1 = derived(&mut images, &base, &format!("{repo}:v1"), "top v1\n");
    let v2 = derived(&mut images, &base, &format!("{repo}:v2"), "top v2\n");
    let v3 = derived(&mut images, &base, &format!("{repo}:v3"), "top v3\n");
    let base_diff = diff_ids(&v1)[0].clone();

    let tc = TestCluster::new("load-hints");
    tc.create_fixture("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n");
    let cache = tc.dir.path().join("cache");
    let hints_file = cache.join("kind-sysbox/layer-digests");
    let cache_env = cache.to_str().unwrap().to_string();
    let load = |image: &str| {
        let out = tc.kind_env(
            &["load", "docker-image", image, "--name", &tc.name, "-v", "1"],
            &[("XDG_CACHE_HOME", &cache_env)],
        );
        assert_ok(&out);
        stderr(&out)
    };
    let hinted = || -> HashMap<String, String> {
        std::fs::read_to_string(&hints_file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(p, d)| (p.to_string(), d.to_string()))
            .collect()
    };

    // A first load (the archive goes through the images inbox, no node
    // gets a partial archive) learns every layer of v1 as it passes.
    let err = load(&v1);
    assert!(err.contains("(0 of them a partial archive)"), "{err}");
    let mut learned: Vec<String> = hinted().into_values().collect();
    learned.sort();
    let mut want = diff_ids(&v1);
    want.sort();
    assert_eq!(learned, want, "{err}");

    // The reload holds back only v2's new top layer: the base's digest is
    // known by its path.
    let err = load(&v2);
    assert!(err.contains("(2 of them a partial archive)"), "{err}");
    let held_back: u64 = err
        .lines()
        .find_map(|l| {
            l.split_once(" known from the archive, ")?
                .1
                .strip_suffix(" bytes held back until their digest was known")
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no held-back line: {err}"));
    assert!(
        held_back < 64 << 10,
        "{held_back} bytes held back, the base is 1 MiB: {err}"
    );
    let cp = format!("{}-control-plane", tc.name);
    let held = content_list(&cp);
    assert!(held.contains(&base_diff));

    // A wrong digest for the base's path: the image config refuses it, the
    // partial nodes get the full archive, and the file is corrected.
    let base_path = hinted()
        .into_iter()
        .find(|(_, d)| *d == base_diff)
        .map(|(p, _)| p)
        .expect("the base layer's path");
    let wrong = diff_ids(&v2)[1].clone();
    std::fs::write(&hints_file, format!("{base_path} {wrong}\n")).unwrap();
    let err = load(&v3);
    assert!(err.contains("retrying with the full archive"), "{err}");
    let save_v3 = docker_save(&[&v3]);
    assert_eq!(
        last_import(&cp),
        (save_v3.len() as u64, sha256_hex(&save_v3)),
        "the full archive after the refused hint"
    );
    let v3_id = image_id(&v3);
    assert_eq!(node_image_id(&cp, &v3).as_deref(), Some(v3_id.as_str()));
    assert_eq!(hinted().get(&base_path), Some(&base_diff));
}
