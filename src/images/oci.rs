//! Partial image archives: a `docker save` stream rewritten, once for many
//! nodes, into one OCI image-layout tar per node that carries only the layer
//! blobs that node's containerd lacks (issue 8, item 2).
//!
//! containerd's `ctr images import` of an OCI layout resolves a blob missing
//! from the archive from its content store (measured with 1.6.20, see
//! `shared/spec/containerd-import.md`), and stores layers of `docker save`
//! archives under their diff ID (the sha256 of the uncompressed layer tar).
//! So a node that already holds an image's base layers only needs the
//! changed top layer, the config, a manifest and an index.
//!
//! Input layouts:
//! * Docker ≤ 24 (legacy): `<config-hex>.json`, `<v1-id>/layer.tar`, and
//!   `manifest.json` **last** (the archive is written in lexical order).
//!   A layer's directory name is a v1 ID, not its digest, so a layer's digest
//!   is only known once its bytes are hashed: unless a `hints` entry names
//!   it (learned from an earlier conversion: v1 IDs are content-addressed, so
//!   the same path always holds the same layer), the layer is spooled while
//!   hashed — in memory up to [`Limits::memory_spool`], else in an unnamed
//!   temporary file — and then sent to the nodes lacking it. Spooling costs
//!   one local write and read of the layer; it never holds a large layer in
//!   RAM and never needs a second `docker save`.
//! * Docker ≥ 25 (OCI layout): `blobs/sha256/<digest>` names each blob, so
//!   every blob is streamed straight through (or skipped) without spooling.
//!
//! The archive itself supplies everything else (`manifest.json`, the image
//! configs), so no image inspection is needed up front. The generated
//! manifests and `index.json` are written last, once every layer's digest
//! and size are known; a node's output that breaks off before them imports
//! nothing.
//!
//! Pure apart from the optional spool file: readers and writers are plain
//! `std::io`; the caller bridges them to the Docker streams.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, Write};

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::images::load::plan::normalize_image_name;

/// Media types of what the generated layout holds.
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// The annotation containerd's importer names an image by.
const NAME_ANNOTATION: &str = "io.containerd.image.name";
const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// Bounds on what is held in memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A layer of unknown digest up to this size is spooled in memory, a
    /// larger one in a temporary file.
    pub memory_spool: u64,
    /// JSON documents (manifest.json, configs) larger than this are refused.
    pub max_json: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_spool: 8 << 20,
            max_json: 16 << 20,
        }
    }
}

/// Why no partial archive could be produced (for any node): the caller falls
/// back to sending the full archive.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("reading the image archive: {0}")]
    Read(#[source] io::Error),
    #[error("spooling a layer to a temporary file: {0}")]
    Spool(#[source] io::Error),
    #[error("unexpected image archive: {0}")]
    Malformed(String),
    #[error("{path} in the image archive has digest {actual}, expected {expected}")]
    DigestMismatch {
        path: String,
        expected: String,
        actual: String,
    },
}

/// What one node's output received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetReport {
    /// Blob digests written, in order (layers and configs; the generated
    /// manifests are listed in `manifests`).
    pub sent: Vec<String>,
    /// Layer digests left out because the node holds them.
    pub skipped: Vec<String>,
    /// Digests of the generated manifests.
    pub manifests: Vec<String>,
    /// Bytes written to this node's output.
    pub bytes: u64,
    /// The first write error; after it nothing more was written (the node's
    /// import then fails and the caller retries it in full).
    pub error: Option<String>,
}

/// The outcome of one conversion.
#[derive(Debug, Default)]
pub struct Conversion {
    /// One report per target, in the order given.
    pub reports: Vec<TargetReport>,
    /// Archive path → digest of every layer seen: hints for the next time.
    pub learned: HashMap<String, String>,
    /// Bytes that went through the spool (memory or file).
    pub spooled: u64,
}

/// One node: the digests its content store holds, and where its archive goes.
pub struct Target<W> {
    pub held: HashSet<String>,
    pub out: W,
}

struct Sink<W> {
    held: HashSet<String>,
    out: W,
    sent: HashSet<String>,
    report: TargetReport,
}

impl<W: Write> Sink<W> {
    fn alive(&self) -> bool {
        self.report.error.is_none()
    }

    fn write(&mut self, data: &[u8]) {
        if !self.alive() {
            return;
        }
        match self.out.write_all(data) {
            Ok(()) => self.report.bytes += data.len() as u64,
            Err(e) => self.report.error = Some(e.to_string()),
        }
    }

    /// Wants this blob: alive, not held, not yet sent.
    fn wants(&self, digest: &str) -> bool {
        self.alive() && !self.held.contains(digest) && !self.sent.contains(digest)
    }
}

/// What an archive path is.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// Docker's index of the archive.
    DockerManifest,
    /// A blob of the OCI variant, digest in the name.
    NamedBlob(String),
    /// A legacy config: `<hex>.json` at the top.
    LegacyConfig(String),
    /// A legacy layer: `<v1-id>/layer.tar`.
    LegacyLayer,
    /// Anything else (`repositories`, `oci-layout`, `index.json`, v1 `json`,
    /// `VERSION`, directories): not needed.
    Ignored,
}

/// `sha256:` and 64 lowercase hex digits.
pub(crate) fn is_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(is_hex64)
}

pub(crate) fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn kind_of(path: &str) -> Kind {
    let path = path.trim_start_matches("./");
    if path == "manifest.json" {
        return Kind::DockerManifest;
    }
    if let Some(hex) = path.strip_prefix("blobs/sha256/") {
        if is_hex64(hex) {
            return Kind::NamedBlob(format!("sha256:{hex}"));
        }
    }
    if let Some(hex) = path.strip_suffix(".json") {
        if is_hex64(hex) {
            return Kind::LegacyConfig(format!("sha256:{hex}"));
        }
    }
    if let Some(dir) = path.strip_suffix("/layer.tar") {
        if !dir.is_empty() && !dir.contains('/') {
            return Kind::LegacyLayer;
        }
    }
    Kind::Ignored
}

/// Docker's `manifest.json` item.
#[derive(Debug, Deserialize)]
struct DockerManifestItem {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// The parts of an image config used here.
#[derive(Debug, Deserialize)]
struct ConfigPart {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// `0x` → `sha256:<hex>` of bytes.
fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

/// A ustar header for a regular file `blobs/sha256/<hex>` (77 bytes: fits
/// the 100-byte name field) or a top-level file.
fn file_header(path: &str, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    // Paths here are ASCII and short; set_path cannot fail for them.
    h.set_path(path).expect("short ASCII tar path");
    h.set_size(size);
    h.set_mode(0o444);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    h
}

fn blob_path(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

/// Zero bytes that pad an entry of `size` bytes to the 512-byte block.
fn padding(size: u64) -> &'static [u8] {
    const ZEROS: [u8; 512] = [0; 512];
    let rem = (size % 512) as usize;
    if rem == 0 {
        &[]
    } else {
        &ZEROS[..512 - rem]
    }
}

/// Writes a whole small file to every live sink in `which`.
fn write_file<W: Write>(sinks: &mut [Sink<W>], which: &[usize], path: &str, data: &[u8]) {
    let header = file_header(path, data.len() as u64);
    for &i in which {
        sinks[i].write(header.as_bytes());
        sinks[i].write(data);
        sinks[i].write(padding(data.len() as u64));
    }
}

/// A layer's bytes, held until its digest is known.
enum Spool {
    Memory(Vec<u8>),
    File(std::fs::File),
}

const CHUNK: usize = 256 << 10;

/// Reads `entry` into a spool, hashing it.
fn spool<R: Read>(
    entry: &mut R,
    size: u64,
    limits: &Limits,
) -> Result<(Spool, String), ConvertError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut spool = if size <= limits.memory_spool {
        Spool::Memory(Vec::with_capacity(size as usize))
    } else {
        Spool::File(tempfile::tempfile().map_err(ConvertError::Spool)?)
    };
    loop {
        let n = entry.read(&mut buf).map_err(ConvertError::Read)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        match &mut spool {
            Spool::Memory(v) => v.extend_from_slice(&buf[..n]),
            Spool::File(f) => f.write_all(&buf[..n]).map_err(ConvertError::Spool)?,
        }
    }
    if let Spool::File(f) = &mut spool {
        f.seek(io::SeekFrom::Start(0))
            .map_err(ConvertError::Spool)?;
    }
    Ok((spool, format!("sha256:{:x}", hasher.finalize())))
}

/// Reads `entry` to its end, hashing it.
fn hash<R: Read>(entry: &mut R) -> Result<String, ConvertError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = entry.read(&mut buf).map_err(ConvertError::Read)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("sha256:{:x}", hasher.finalize()))
}

/// Streams `entry` (of `size` bytes, expected digest `digest`) to the sinks
/// in `which`, checking the digest as it goes.
fn stream_to<R: Read, W: Write>(
    entry: &mut R,
    size: u64,
    digest: &str,
    path: &str,
    sinks: &mut [Sink<W>],
    which: &[usize],
) -> Result<(), ConvertError> {
    let header = file_header(&blob_path(digest), size);
    for &i in which {
        sinks[i].write(header.as_bytes());
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut seen = 0u64;
    loop {
        let n = entry.read(&mut buf).map_err(ConvertError::Read)?;
        if n == 0 {
            break;
        }
        seen += n as u64;
        hasher.update(&buf[..n]);
        for &i in which {
            sinks[i].write(&buf[..n]);
        }
    }
    if seen != size {
        return Err(ConvertError::Malformed(format!(
            "{path}: {seen} bytes, header says {size}"
        )));
    }
    for &i in which {
        sinks[i].write(padding(size));
    }
    let actual = format!("sha256:{:x}", hasher.finalize());
    if actual != digest {
        return Err(ConvertError::DigestMismatch {
            path: path.to_string(),
            expected: digest.to_string(),
            actual,
        });
    }
    Ok(())
}

/// [`read_json`], then checks the bytes against the digest their name gives.
fn read_verified<R: Read>(
    entry: &mut R,
    size: u64,
    path: &str,
    digest: &str,
    limits: &Limits,
) -> Result<Vec<u8>, ConvertError> {
    let data = read_json(entry, size, path, limits)?;
    let actual = sha256_digest(&data);
    if actual != digest {
        return Err(ConvertError::DigestMismatch {
            path: path.to_string(),
            expected: digest.to_string(),
            actual,
        });
    }
    Ok(data)
}

/// Reads a whole JSON document, refusing one above the limit.
fn read_json<R: Read>(
    entry: &mut R,
    size: u64,
    path: &str,
    limits: &Limits,
) -> Result<Vec<u8>, ConvertError> {
    if size > limits.max_json {
        return Err(ConvertError::Malformed(format!(
            "{path} is {size} bytes, more than the {} allowed",
            limits.max_json
        )));
    }
    let mut data = Vec::with_capacity(size as usize);
    entry.read_to_end(&mut data).map_err(ConvertError::Read)?;
    Ok(data)
}

/// Rewrites the `docker save` archive read from `input` into one partial OCI
/// image layout per target. `hints` maps legacy layer paths to digests
/// known from earlier conversions ([`Conversion::learned`]).
///
/// A write error on one target stops that target's output only (see
/// [`TargetReport::error`]); an error reading or understanding the archive
/// is returned, and then no target's output is complete (none has its
/// `index.json`).
pub fn partial_layouts<R: Read, W: Write>(
    input: R,
    targets: Vec<Target<W>>,
    hints: &HashMap<String, String>,
    limits: Limits,
) -> Result<(Conversion, Vec<W>), ConvertError> {
    let mut sinks: Vec<Sink<W>> = targets
        .into_iter()
        .map(|t| Sink {
            held: t.held,
            out: t.out,
            sent: HashSet::new(),
            report: TargetReport::default(),
        })
        .collect();
    let all: Vec<usize> = (0..sinks.len()).collect();
    let mut conversion = Conversion::default();
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    write_file(&mut sinks, &all, "oci-layout", layout);

    // path → (digest, size) of every blob in the archive; small JSON blobs'
    // bytes by digest (configs are read back for platform and diff IDs).
    let mut blobs: HashMap<String, (String, u64)> = HashMap::new();
    let mut small: HashMap<String, Vec<u8>> = HashMap::new();
    let mut docker_manifest: Option<Vec<u8>> = None;
    // Layers whose digest came from a hint, not from their bytes: each must
    // be confirmed by its image config's diff IDs before anything is final.
    let mut hinted: HashSet<String> = HashSet::new();

    let mut archive = tar::Archive::new(input);
    for entry in archive.entries().map_err(ConvertError::Read)? {
        let mut entry = entry.map_err(ConvertError::Read)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry
            .path()
            .map_err(ConvertError::Read)?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let size = entry.size();
        match kind_of(&path) {
            Kind::Ignored => {}
            Kind::DockerManifest => {
                docker_manifest = Some(read_json(&mut entry, size, &path, &limits)?);
            }
            Kind::LegacyConfig(digest) => {
                // Configs always travel: small, and the manifest needs them.
                let data = read_verified(&mut entry, size, &path, &digest, &limits)?;
                let which: Vec<usize> = all
                    .iter()
                    .copied()
                    .filter(|&i| sinks[i].alive() && !sinks[i].sent.contains(&digest))
                    .collect();
                write_file(&mut sinks, &which, &blob_path(&digest), &data);
                mark(&mut sinks, &which, &digest);
                blobs.insert(path, (digest.clone(), size));
                small.insert(digest, data);
            }
            Kind::NamedBlob(digest) => {
                let which = wanting(&mut sinks, &digest);
                if size <= 1 << 20 && !which.is_empty() {
                    // Possibly a config: keep it to read back.
                    let data = read_verified(&mut entry, size, &path, &digest, &limits)?;
                    write_file(&mut sinks, &which, &blob_path(&digest), &data);
                    small.insert(digest.clone(), data);
                } else if !which.is_empty() {
                    stream_to(&mut entry, size, &digest, &path, &mut sinks, &which)?;
                }
                mark(&mut sinks, &which, &digest);
                blobs.insert(path, (digest, size));
            }
            Kind::LegacyLayer => {
                let digest = match hints.get(&path) {
                    Some(digest) => {
                        hinted.insert(path.clone());
                        let which = wanting(&mut sinks, digest);
                        if !which.is_empty() {
                            stream_to(&mut entry, size, digest, &path, &mut sinks, &which)?;
                        }
                        mark(&mut sinks, &which, digest);
                        digest.clone()
                    }
                    // No output left (or none at all: a conversion run only to
                    // learn digests): hash it, nothing to keep.
                    None if !sinks.iter().any(Sink::alive) => hash(&mut entry)?,
                    None => {
                        let (mut spooled, digest) = spool(&mut entry, size, &limits)?;
                        conversion.spooled += size;
                        let which = wanting(&mut sinks, &digest);
                        if !which.is_empty() {
                            match &mut spooled {
                                Spool::Memory(v) => {
                                    write_file(&mut sinks, &which, &blob_path(&digest), v)
                                }
                                Spool::File(f) => {
                                    let mut f = io::BufReader::new(f);
                                    stream_to(&mut f, size, &digest, &path, &mut sinks, &which)
                                        .map_err(|e| match e {
                                            ConvertError::Read(e) => ConvertError::Spool(e),
                                            e => e,
                                        })?;
                                }
                            }
                        }
                        mark(&mut sinks, &which, &digest);
                        digest
                    }
                };
                conversion.learned.insert(path.clone(), digest.clone());
                blobs.insert(path, (digest, size));
            }
        }
    }

    let docker_manifest = docker_manifest.ok_or_else(|| {
        ConvertError::Malformed("no manifest.json (not a `docker save` archive?)".into())
    })?;
    let items: Vec<DockerManifestItem> = serde_json::from_slice(&docker_manifest)
        .map_err(|e| ConvertError::Malformed(format!("manifest.json: {e}")))?;
    if items.is_empty() {
        return Err(ConvertError::Malformed(
            "manifest.json lists no image".into(),
        ));
    }

    let mut index_entries = Vec::new();
    for item in &items {
        let (config_digest, config_size) = blobs
            .get(item.config.trim_start_matches("./"))
            .cloned()
            .ok_or_else(|| {
                ConvertError::Malformed(format!(
                    "manifest.json names {} which the archive lacks",
                    item.config
                ))
            })?;
        let config: Option<ConfigPart> = small
            .get(&config_digest)
            .and_then(|data| serde_json::from_slice(data).ok());
        let mut layers = Vec::with_capacity(item.layers.len());
        for (i, layer_path) in item.layers.iter().enumerate() {
            let (digest, size) = blobs
                .get(layer_path.trim_start_matches("./"))
                .cloned()
                .ok_or_else(|| {
                    ConvertError::Malformed(format!(
                        "manifest.json names {layer_path} which the archive lacks"
                    ))
                })?;
            // Layers are stored by diff ID: the config must agree.
            match config
                .as_ref()
                .and_then(|c| c.rootfs.as_ref())
                .and_then(|r| r.diff_ids.get(i))
            {
                Some(want) if *want != digest => {
                    return Err(ConvertError::DigestMismatch {
                        path: layer_path.clone(),
                        expected: want.clone(),
                        actual: digest,
                    });
                }
                None if hinted.contains(layer_path.trim_start_matches("./")) => {
                    return Err(ConvertError::Malformed(format!(
                        "{layer_path}: its digest came from an earlier load and its image config has no diff ID to confirm it"
                    )));
                }
                _ => {}
            }
            layers.push(json!({"mediaType": LAYER_TYPE, "digest": digest, "size": size}));
            for sink in sinks.iter_mut() {
                if sink.held.contains(&digest)
                    && !sink.report.skipped.contains(&digest)
                    && !sink.sent.contains(&digest)
                {
                    sink.report.skipped.push(digest.clone());
                }
            }
        }
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": config_size},
            "layers": layers,
        }))
        .expect("JSON of plain values");
        let manifest_digest = sha256_digest(&manifest);
        write_file(&mut sinks, &all, &blob_path(&manifest_digest), &manifest);
        for sink in sinks.iter_mut().filter(|s| s.alive()) {
            sink.report.manifests.push(manifest_digest.clone());
        }
        let mut descriptor = json!({
            "mediaType": MANIFEST_TYPE,
            "digest": manifest_digest,
            "size": manifest.len(),
        });
        if let Some(c) = &config {
            if let (Some(os), Some(arch)) = (&c.os, &c.architecture) {
                let mut platform = json!({"os": os, "architecture": arch});
                if let Some(v) = c.variant.as_ref().filter(|v| !v.is_empty()) {
                    platform["variant"] = json!(v);
                }
                descriptor["platform"] = platform;
            }
        }
        let tags = item.repo_tags.clone().unwrap_or_default();
        if tags.is_empty() {
            index_entries.push(descriptor.clone());
        }
        for tag in tags {
            let mut d = descriptor.clone();
            let name = normalize_image_name(&tag);
            let reference = name
                .rsplit_once(':')
                .map(|(_, t)| t.to_string())
                .unwrap_or_default();
            d["annotations"] = json!({NAME_ANNOTATION: name, REF_ANNOTATION: reference});
            index_entries.push(d);
        }
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": index_entries,
    }))
    .expect("JSON of plain values");
    write_file(&mut sinks, &all, "index.json", &index);
    // The end of a tar archive: two zero blocks.
    for sink in sinks.iter_mut() {
        sink.write(&[0u8; 1024]);
        if sink.alive() {
            if let Err(e) = sink.out.flush() {
                sink.report.error = Some(e.to_string());
            }
        }
    }

    let mut outs = Vec::with_capacity(sinks.len());
    for sink in sinks {
        conversion.reports.push(sink.report);
        outs.push(sink.out);
    }
    Ok((conversion, outs))
}

/// The live sinks that lack `digest` and were not sent it yet.
fn wanting<W: Write>(sinks: &mut [Sink<W>], digest: &str) -> Vec<usize> {
    (0..sinks.len())
        .filter(|&i| sinks[i].wants(digest))
        .collect()
}

fn mark<W: Write>(sinks: &mut [Sink<W>], which: &[usize], digest: &str) {
    for &i in which {
        if sinks[i].alive() {
            sinks[i].sent.insert(digest.to_string());
            sinks[i].report.sent.push(digest.to_string());
        }
    }
}

/// Parses `ctr content ls -q`: one digest a line.
pub fn parse_content_list(output: &str) -> HashSet<String> {
    output
        .lines()
        .map(str::trim)
        .filter(|l| is_digest(l))
        .map(str::to_string)
        .collect()
}

/// Why a node's import of a partial archive failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportFailure {
    /// A blob the archive left out is not in the node's content store (it
    /// was never there, or was garbage-collected since it was listed): a
    /// full archive will do.
    MissingContent(String),
    /// Anything else: retrying in full may still help (an old containerd
    /// that cannot import OCI layouts), but the message is worth showing.
    Other,
}

/// Classifies the output of a failed `ctr images import` (containerd 1.6:
/// `failed to extract layer sha256:…: failed to get reader from content
/// store: content digest sha256:…: not found`).
pub fn classify_import_failure(output: &str) -> ImportFailure {
    static MISSING: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = MISSING.get_or_init(|| {
        regex::Regex::new(r"content digest (sha256:[0-9a-f]{64}): not found").expect("valid regex")
    });
    match re.captures(output) {
        Some(c) => ImportFailure::MissingContent(c[1].to_string()),
        None => ImportFailure::Other,
    }
}

#[cfg(test)]
mod tests;
