//! Unit tests of partial OCI layouts from `docker save` archives.

use super::*;

/// A layer tar holding one file.
fn layer(name: &str, content: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, content).unwrap();
    b.into_inner().unwrap()
}

fn digest(data: &[u8]) -> String {
    sha256_digest(data)
}

fn hex(d: &str) -> &str {
    d.trim_start_matches("sha256:")
}

/// Appends a regular file.
fn add(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_path(path).unwrap();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

fn config(diff_ids: &[&str]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["true"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

struct Image {
    base: Vec<u8>,
    top: Vec<u8>,
    config: Vec<u8>,
}

fn image(top_content: &[u8]) -> Image {
    let base = layer("base.txt", &[7u8; 5000]);
    let top = layer("top.txt", top_content);
    let config = config(&[&digest(&base), &digest(&top)]);
    Image { base, top, config }
}

/// Docker 20.10's legacy layout, entries in lexical order (manifest.json
/// after the hex names).
fn legacy_archive(img: &Image, tags: &[&str]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let cfg = format!("{}.json", hex(&digest(&img.config)));
    let mut entries: Vec<(String, Vec<u8>)> = vec![
        (cfg.clone(), img.config.clone()),
        (
            "1111111111111111111111111111111111111111111111111111111111111111/VERSION".into(),
            b"1.0".to_vec(),
        ),
        (
            "1111111111111111111111111111111111111111111111111111111111111111/json".into(),
            b"{}".to_vec(),
        ),
        (
            "1111111111111111111111111111111111111111111111111111111111111111/layer.tar".into(),
            img.top.clone(),
        ),
        (
            "aaaa111111111111111111111111111111111111111111111111111111111111/VERSION".into(),
            b"1.0".to_vec(),
        ),
        (
            "aaaa111111111111111111111111111111111111111111111111111111111111/layer.tar".into(),
            img.base.clone(),
        ),
    ];
    entries.sort();
    for (p, d) in &entries {
        add(&mut b, p, d);
    }
    let manifest = json!([{
        "Config": cfg,
        "RepoTags": tags,
        "Layers": [
            "aaaa111111111111111111111111111111111111111111111111111111111111/layer.tar",
            "1111111111111111111111111111111111111111111111111111111111111111/layer.tar",
        ],
    }]);
    add(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    add(&mut b, "repositories", b"{}");
    b.into_inner().unwrap()
}

/// Docker ≥ 25's OCI layout (with its compatibility manifest.json).
fn oci_archive(img: &Image, tags: &[&str]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    add(&mut b, "blobs/sha256/", b"");
    for blob in [&img.base, &img.top, &img.config] {
        add(
            &mut b,
            &format!("blobs/sha256/{}", hex(&digest(blob))),
            blob,
        );
    }
    add(
        &mut b,
        "index.json",
        br#"{"schemaVersion":2,"manifests":[]}"#,
    );
    let manifest = json!([{
        "Config": format!("blobs/sha256/{}", hex(&digest(&img.config))),
        "RepoTags": tags,
        "Layers": [
            format!("blobs/sha256/{}", hex(&digest(&img.base))),
            format!("blobs/sha256/{}", hex(&digest(&img.top))),
        ],
    }]);
    add(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    add(&mut b, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    b.into_inner().unwrap()
}

/// The files of an output archive, by path.
fn files(archive: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut a = tar::Archive::new(archive);
    let mut out = HashMap::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let p = e.path().unwrap().to_string_lossy().to_string();
        let mut d = Vec::new();
        e.read_to_end(&mut d).unwrap();
        assert!(out.insert(p.clone(), d).is_none(), "{p} twice");
    }
    out
}

fn held(ds: &[&str]) -> HashSet<String> {
    ds.iter().map(|s| s.to_string()).collect()
}

fn convert(
    archive: &[u8],
    helds: Vec<HashSet<String>>,
    hints: &HashMap<String, String>,
    limits: Limits,
) -> (Conversion, Vec<Vec<u8>>) {
    let targets = helds
        .into_iter()
        .map(|held| Target {
            held,
            out: Vec::new(),
        })
        .collect();
    partial_layouts(archive, targets, hints, limits).unwrap()
}

/// Checks an output layout: blobs named by their digests, the index naming
/// `name`, the manifest listing both layers with the right sizes; returns
/// the blob digests it carries.
fn check_layout(out: &[u8], img: &Image, name: &str) -> HashSet<String> {
    let f = files(out);
    assert_eq!(f["oci-layout"], br#"{"imageLayoutVersion":"1.0.0"}"#);
    let mut blobs = HashSet::new();
    for (p, d) in &f {
        if let Some(h) = p.strip_prefix("blobs/sha256/") {
            assert_eq!(hex(&digest(d)), h, "blob {p} is named by its digest");
            blobs.insert(format!("sha256:{h}"));
        }
    }
    let index: serde_json::Value = serde_json::from_slice(&f["index.json"]).unwrap();
    let m = &index["manifests"][0];
    assert_eq!(m["annotations"][NAME_ANNOTATION], name);
    assert_eq!(
        m["platform"],
        json!({"os": "linux", "architecture": "amd64"})
    );
    let mdigest = m["digest"].as_str().unwrap();
    let manifest_bytes = &f[&blob_path(mdigest)];
    assert_eq!(m["size"], manifest_bytes.len());
    let manifest: serde_json::Value = serde_json::from_slice(manifest_bytes).unwrap();
    assert_eq!(manifest["mediaType"], MANIFEST_TYPE);
    assert_eq!(manifest["config"]["digest"], digest(&img.config));
    assert_eq!(manifest["config"]["size"], img.config.len());
    assert_eq!(
        manifest["layers"],
        json!([
            {"mediaType": LAYER_TYPE, "digest": digest(&img.base), "size": img.base.len()},
            {"mediaType": LAYER_TYPE, "digest": digest(&img.top), "size": img.top.len()},
        ])
    );
    assert!(
        blobs.contains(&digest(&img.config)),
        "config always travels"
    );
    blobs
}

#[test]
fn each_node_gets_only_the_layers_it_lacks() {
    let img = image(b"v2");
    let (base, top) = (digest(&img.base), digest(&img.top));
    let archive = legacy_archive(&img, &["demo:v2"]);
    for limits in [
        Limits::default(),
        Limits {
            memory_spool: 0,
            ..Limits::default()
        },
    ] {
        let (conv, outs) = convert(
            &archive,
            vec![
                held(&[]),
                held(&[&base]),
                held(&[&base, &top, "sha256:unrelated"]),
            ],
            &HashMap::new(),
            limits,
        );
        let name = "docker.io/library/demo:v2";
        let got: Vec<HashSet<String>> = outs.iter().map(|o| check_layout(o, &img, name)).collect();
        assert!(got[0].contains(&base) && got[0].contains(&top));
        assert!(!got[1].contains(&base) && got[1].contains(&top));
        assert!(!got[2].contains(&base) && !got[2].contains(&top));
        assert_eq!(conv.reports[1].skipped, vec![base.clone()]);
        assert_eq!(conv.reports[2].skipped, vec![base.clone(), top.clone()]);
        assert!(conv
            .reports
            .iter()
            .all(|r| r.error.is_none() && r.manifests.len() == 1));
        assert!(outs[1].len() < outs[0].len());
        assert_eq!(conv.spooled, (img.base.len() + img.top.len()) as u64);
        assert_eq!(conv.learned.len(), 2);
        assert_eq!(conv.reports[0].bytes, outs[0].len() as u64);
    }
}

#[test]
fn hints_from_an_earlier_run_avoid_the_spool_and_change_nothing() {
    let img = image(b"v2");
    let archive = legacy_archive(&img, &["demo:v2"]);
    let helds = || vec![held(&[]), held(&[&digest(&img.base)])];
    let (first, outs1) = convert(&archive, helds(), &HashMap::new(), Limits::default());
    let (second, outs2) = convert(&archive, helds(), &first.learned, Limits::default());
    assert_eq!(second.spooled, 0);
    assert_eq!(outs1, outs2);
    assert_eq!(first.reports, second.reports);
}

/// Two layers' hints with their digests swapped.
fn swapped(learned: &HashMap<String, String>) -> HashMap<String, String> {
    let mut hints = learned.clone();
    let paths: Vec<String> = hints.keys().cloned().collect();
    let (a, b) = (hints[&paths[0]].clone(), hints[&paths[1]].clone());
    hints.insert(paths[0].clone(), b);
    hints.insert(paths[1].clone(), a);
    hints
}

#[test]
fn a_wrong_hint_is_an_error_not_a_wrong_archive() {
    let img = image(b"v2");
    let archive = legacy_archive(&img, &["demo:v2"]);
    let (first, _) = convert(
        &archive,
        vec![held(&[])],
        &HashMap::new(),
        Limits::default(),
    );
    // Swap the two layers' digests.
    let hints = swapped(&first.learned);
    let targets = vec![Target {
        held: held(&[]),
        out: Vec::new(),
    }];
    let err = partial_layouts(&archive[..], targets, &hints, Limits::default()).unwrap_err();
    assert!(matches!(err, ConvertError::DigestMismatch { .. }), "{err}");
}

#[test]
fn oci_variant_streams_named_blobs_without_spooling() {
    let img = image(b"v3");
    let archive = oci_archive(&img, &["registry.local:5000/x/demo:v3"]);
    let (conv, outs) = convert(
        &archive,
        vec![held(&[&digest(&img.base)]), held(&[])],
        &HashMap::new(),
        Limits {
            memory_spool: 0,
            ..Limits::default()
        },
    );
    assert_eq!(conv.spooled, 0);
    let name = "registry.local:5000/x/demo:v3";
    let a = check_layout(&outs[0], &img, name);
    let b = check_layout(&outs[1], &img, name);
    assert!(!a.contains(&digest(&img.base)) && a.contains(&digest(&img.top)));
    assert!(b.contains(&digest(&img.base)) && b.contains(&digest(&img.top)));
    // Docker's own index.json is replaced, not copied.
    let index: serde_json::Value = serde_json::from_slice(&files(&outs[0])["index.json"]).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
}

#[test]
fn one_index_entry_per_tag() {
    let img = image(b"v2");
    let archive = legacy_archive(&img, &["demo:v2", "other/demo"]);
    let (_, outs) = convert(
        &archive,
        vec![held(&[])],
        &HashMap::new(),
        Limits::default(),
    );
    let index: serde_json::Value = serde_json::from_slice(&files(&outs[0])["index.json"]).unwrap();
    let names: Vec<(&str, &str)> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["annotations"][NAME_ANNOTATION].as_str().unwrap(),
                m["annotations"][REF_ANNOTATION].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("docker.io/library/demo:v2", "v2"),
            ("docker.io/other/demo:latest", "latest")
        ]
    );
}

/// A writer that fails after `left` bytes.
struct Failing {
    left: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "node import exited",
            ));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Out {
    Ok(Vec<u8>),
    Failing(Failing),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Out::Ok(v) => v.write(buf),
            Out::Failing(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_node_does_not_stop_the_others() {
    let img = image(b"v2");
    let archive = legacy_archive(&img, &["demo:v2"]);
    let targets = vec![
        Target {
            held: held(&[]),
            out: Out::Failing(Failing { left: 2000 }),
        },
        Target {
            held: held(&[]),
            out: Out::Ok(Vec::new()),
        },
    ];
    let (conv, outs) =
        partial_layouts(&archive[..], targets, &HashMap::new(), Limits::default()).unwrap();
    assert!(conv.reports[0]
        .error
        .as_deref()
        .unwrap()
        .contains("node import exited"));
    assert!(conv.reports[0].manifests.is_empty());
    assert!(conv.reports[1].error.is_none());
    let Out::Ok(good) = &outs[1] else { panic!() };
    check_layout(good, &img, "docker.io/library/demo:v2");
}

#[test]
fn archives_that_do_not_add_up_are_refused() {
    let img = image(b"v2");
    // No manifest.json.
    let mut b = tar::Builder::new(Vec::new());
    add(
        &mut b,
        &format!("{}.json", hex(&digest(&img.config))),
        &img.config,
    );
    let no_manifest = b.into_inner().unwrap();
    // A config whose name is not its digest.
    let mut b = tar::Builder::new(Vec::new());
    add(&mut b, &format!("{}.json", "0".repeat(64)), &img.config);
    let bad_config = b.into_inner().unwrap();
    // A config whose diff IDs disagree with the layers.
    let mut wrong = image(b"v2");
    wrong.config = config(&[&digest(&wrong.top), &digest(&wrong.base)]);
    let swapped = legacy_archive(&wrong, &["demo:v2"]);
    for (what, archive, want) in [
        ("no manifest", no_manifest, "Malformed"),
        ("bad config name", bad_config, "DigestMismatch"),
        ("diff IDs disagree", swapped, "DigestMismatch"),
    ] {
        let targets = vec![Target {
            held: held(&[]),
            out: Vec::new(),
        }];
        let err =
            partial_layouts(&archive[..], targets, &HashMap::new(), Limits::default()).unwrap_err();
        assert!(format!("{err:?}").starts_with(want), "{what}: {err:?}");
    }
}

#[test]
fn paths_are_classified() {
    let h = "a".repeat(64);
    assert_eq!(kind_of("manifest.json"), Kind::DockerManifest);
    assert_eq!(
        kind_of(&format!("./{h}.json")),
        Kind::LegacyConfig(format!("sha256:{h}"))
    );
    assert_eq!(
        kind_of(&format!("blobs/sha256/{h}")),
        Kind::NamedBlob(format!("sha256:{h}"))
    );
    assert_eq!(kind_of("abc/layer.tar"), Kind::LegacyLayer);
    for p in [
        "repositories",
        "index.json",
        "oci-layout",
        "abc/json",
        "abc/VERSION",
        "x.json",
        "a/b/layer.tar",
        "blobs/sha256/xyz",
    ] {
        assert_eq!(kind_of(p), Kind::Ignored, "{p}");
    }
}

#[test]
fn content_list_and_import_failures_are_read() {
    let h = "b".repeat(64);
    let listed = parse_content_list(&format!(
        "sha256:{h}\n\nsha256:short\nDIGEST\n  sha256:{h}  \n"
    ));
    assert_eq!(listed, held(&[&format!("sha256:{h}")]));

    let d = "4bd4d1c2a3c2b7b9c1e3c7d44c6f2cba1f9f2b0b21c1f13a2c2f4bde3cd4ad1e";
    let msg = format!("ctr: failed to extract layer sha256:{d}: failed to get reader from content store: content digest sha256:{d}: not found\n");
    assert_eq!(
        classify_import_failure(&msg),
        ImportFailure::MissingContent(format!("sha256:{d}"))
    );
    for other in [
        "ctr: unrecognized image format",
        "ctr: failed to commit: unexpected commit digest",
        "content digest sha256:abc: not found",
    ] {
        assert_eq!(
            classify_import_failure(other),
            ImportFailure::Other,
            "{other}"
        );
    }
}

#[test]
fn a_conversion_without_outputs_learns_every_layer_without_spooling() {
    let img = image(b"v2");
    let archive = legacy_archive(&img, &["demo:v2"]);
    let (learning, outs) = convert(&archive, vec![], &HashMap::new(), Limits::default());
    assert!(outs.is_empty());
    assert_eq!(learning.spooled, 0, "nothing to keep, so nothing spooled");
    let mut learned: Vec<&String> = learning.learned.values().collect();
    learned.sort();
    let mut want = [digest(&img.base), digest(&img.top)];
    want.sort();
    assert_eq!(learned, want.iter().collect::<Vec<_>>());
    // What it learned serves a later partial conversion as well as hashing.
    let helds = || vec![held(&[&digest(&img.base)])];
    let (hashed, by_hash) = convert(&archive, helds(), &HashMap::new(), Limits::default());
    let (hinted, by_hint) = convert(&archive, helds(), &learning.learned, Limits::default());
    assert_eq!(by_hash, by_hint);
    assert_eq!(hashed.reports, hinted.reports);
    assert_eq!(hinted.spooled, 0);
}

#[test]
fn a_wrong_hint_for_layers_every_node_holds_is_caught_by_the_config() {
    // Nothing is sent, so nothing is hashed: the image config's diff IDs
    // are what refuse the swapped hints.
    let img = image(b"v2");
    let archive = legacy_archive(&img, &["demo:v2"]);
    let (first, _) = convert(&archive, vec![], &HashMap::new(), Limits::default());
    let hints = swapped(&first.learned);
    let targets = vec![Target {
        held: held(&[&digest(&img.base), &digest(&img.top)]),
        out: Vec::new(),
    }];
    let err = partial_layouts(&archive[..], targets, &hints, Limits::default()).unwrap_err();
    assert!(matches!(err, ConvertError::DigestMismatch { .. }), "{err}");
}
