//! The Sysbox node image: derived from an upstream kindest/node image with
//! the embedded `node-image/` build context, optionally with inner images
//! preloaded into its containerd `k8s.io` namespace.
//!
//! * [`ensure_default_image`]: the image `kind create cluster` uses when
//!   neither `--image` nor the config names one; built once per (base image
//!   ID, build context) and reused while both match its labels.
//! * [`build_node_image`]: `kind build node-image`. Preloading boots the
//!   derived image as an unprivileged Sysbox node, streams the images from
//!   the host's Docker into `ctr images import`, and commits the node.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use sha2::{Digest, Sha256};

use super::load;
use crate::log::Logger;
use crate::provider::plan::SYSBOX_SNAPSHOTTER;
use crate::provider::{
    self, BuildRequest, Change, ContainerSpec, NodeRef, Provider, RuntimeError, RuntimeMode,
};

/// The image `kind create cluster` uses when nothing names one.
pub const DEFAULT_SYSBOX_IMAGE: &str = "kind-sysbox/node:v1.36.1";
/// The upstream node image (kind v0.32.0's default) the Sysbox image derives from.
pub const DEFAULT_BASE_IMAGE: &str =
    "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5";
/// `kind build node-image --image` default.
pub const DEFAULT_BUILD_IMAGE: &str = "kind-sysbox/node:latest";
/// Overrides the base of the default image (the tests point it at the fixture).
pub const BASE_IMAGE_ENV: &str = "KIND_SYSBOX_BASE_IMAGE";

/// The base image reference the image was built from (informational).
pub const LABEL_BASE: &str = "dev.kind-sysbox.node-image.base";
/// The base image's ID: part of the identity.
pub const LABEL_BASE_ID: &str = "dev.kind-sysbox.node-image.base-id";
/// The hash of the embedded build context: part of the identity.
pub const LABEL_CONTEXT: &str = "dev.kind-sysbox.node-image.context";

/// The build context, embedded at compile time (README.md stays out: it
/// does not change the image).
pub const NODE_IMAGE_CONTEXT: &[(&str, &[u8])] =
    &[("Dockerfile", include_bytes!("../../node-image/Dockerfile"))];

/// How long the preloading node may take to boot.
const NODE_READY_TIMEOUT: Duration = Duration::from_secs(120);
/// What the preloading node's boot may change that the image must keep as
/// built (snapshotted before the boot, restored before the commit): the
/// containerd config, which the entrypoint edits in a user namespace
/// (`restrict_oom_score_adj = true`), and the logs, which the boot appends to.
const SNAPSHOT_PATHS: &[&str] = &["/etc/containerd/config.toml", LOG_DIR];
const LOG_DIR: &str = "/var/log";
/// Per-node identity the entrypoint writes at boot; shared through an image
/// they would give every node the same product UUID and a stale IP.
const PER_NODE_FILES: &[&str] = &["/kind/product_uuid", "/kind/old-ipv4", "/kind/old-ipv6"];

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// `--base-image`.
    pub base_image: String,
    /// `--image`: the tag to produce.
    pub image: String,
    /// `--preload`: host images to put into the node image's containerd.
    pub preload: Vec<String>,
    /// `--preload-archive`: image archives to put into it.
    pub preload_archives: Vec<std::path::PathBuf>,
}

/// What a derived image is made of; equal identities build equal images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageIdentity {
    pub base: String,
    pub base_id: String,
    pub context: String,
}

impl ImageIdentity {
    pub fn labels(&self) -> BTreeMap<String, String> {
        [
            (LABEL_BASE.to_string(), self.base.clone()),
            (LABEL_BASE_ID.to_string(), self.base_id.clone()),
            (LABEL_CONTEXT.to_string(), self.context.clone()),
        ]
        .into()
    }

    /// Whether an image with these labels was built from the same base image
    /// (by ID: the reference it was named by does not matter) and context.
    pub fn matches(&self, labels: &HashMap<String, String>) -> bool {
        labels.get(LABEL_BASE_ID) == Some(&self.base_id)
            && labels.get(LABEL_CONTEXT) == Some(&self.context)
    }
}

/// `sha256:<hex>` over the files' names and contents, order-independent.
pub fn context_hash(files: &[(&str, &[u8])]) -> String {
    let mut sorted = files.to_vec();
    sorted.sort_by_key(|(name, _)| *name);
    let mut h = Sha256::new();
    for (name, data) in sorted {
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        h.update((name.len() as u64).to_be_bytes());
        h.update(name.as_bytes());
        h.update((data.len() as u64).to_be_bytes());
        h.update(data);
    }
    format!("sha256:{:x}", h.finalize())
}

/// The build context as a tar, reproducibly (sorted, mtime 0, root-owned, 0644).
pub fn context_tar(files: &[(&str, &[u8])]) -> anyhow::Result<Vec<u8>> {
    let mut sorted = files.to_vec();
    sorted.sort_by_key(|(name, _)| *name);
    let mut tar = tar::Builder::new(Vec::new());
    for (name, data) in sorted {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, data)
            .with_context(|| format!("failed to add {name} to the build context"))?;
    }
    tar.into_inner()
        .context("failed to finish the build context")
}

/// `repo[:tag]` -> (repo, tag), `latest` when untagged; commits need a tag,
/// not a digest.
pub fn split_repo_tag(image: &str) -> anyhow::Result<(String, String)> {
    if image.is_empty() {
        bail!("the image name is empty");
    }
    if image.contains('@') {
        bail!("invalid image name {image:?}: a digest cannot be given to a built image, use a tag (e.g. {DEFAULT_BUILD_IMAGE})");
    }
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    Ok(match image[slash..].rfind(':') {
        Some(i) => (
            image[..slash + i].to_string(),
            image[slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    })
}

/// The answer to upstream's Kubernetes build types (`--type
/// source|release|url|file|ci`, or a positional Kubernetes source).
pub fn refuse_build_type(kind: &str) -> anyhow::Error {
    anyhow!(
        "building Kubernetes (build type {kind:?}) is not supported by kind-sysbox: build the node image with upstream kind \
         (`kind build node-image --type {kind} …`), then derive the Sysbox node image from it with \
         `kind build node-image --base-image <that image>`"
    )
}

/// For the CLI: Ok when neither `--type` nor a positional Kubernetes source
/// was given, else the refusal.
pub fn check_build_source(type_flag: Option<&str>, positional: Option<&str>) -> anyhow::Result<()> {
    match (
        type_flag.filter(|t| !t.is_empty()),
        positional.filter(|p| !p.is_empty()),
    ) {
        (Some(kind), _) => Err(refuse_build_type(kind)),
        (None, Some(_)) => Err(refuse_build_type("source")),
        (None, None) => Ok(()),
    }
}

/// First occurrences, in order.
fn dedupe<T: Clone + Ord>(items: &[T]) -> Vec<T> {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .filter(|i| seen.insert((*i).clone()))
        .cloned()
        .collect()
}

/// The container that preloads images: a Sysbox node as `kind create`
/// would run it (same runtime, tmpfs, snapshotter env, TTY for systemd's
/// console), but no cluster labels, no network of its own, no restart
/// policy, and nothing added that `docker commit` would carry into the image.
pub fn preload_container_spec(name: &str, image: &str, runtime: &str) -> ContainerSpec {
    ContainerSpec {
        name: name.into(),
        hostname: name.into(),
        image: image.into(),
        env: vec![provider::plan::snapshotter_env(None, true)],
        tmpfs: provider::plan::node_tmpfs(),
        runtime: Some(runtime.into()),
        init: false,
        cgroupns_private: true,
        tty: true,
        ..Default::default()
    }
}

/// What to undo in the preloading node before committing it, from its
/// `docker diff`: (paths to restore from the snapshots, paths to remove).
/// The boot's logs and the per-node identity files go; whatever else the
/// boot changes is re-done at every boot anyway.
pub fn boot_leftovers(changes: &[(String, Change)]) -> (Vec<String>, Vec<String>) {
    let in_logs = |p: &str| p.starts_with(&format!("{LOG_DIR}/"));
    let restore = changes
        .iter()
        .filter(|(p, kind)| {
            *kind == Change::Modified && (SNAPSHOT_PATHS.contains(&p.as_str()) || in_logs(p))
        })
        .map(|(p, _)| p.clone())
        .collect();
    let mut remove: Vec<String> = changes
        .iter()
        .filter(|(p, kind)| {
            *kind == Change::Added && (in_logs(p) || PER_NODE_FILES.contains(&p.as_str()))
        })
        .map(|(p, _)| p.clone())
        .collect();
    remove.sort();
    // A removed directory takes its contents with it.
    let mut minimal: Vec<String> = Vec::new();
    for p in remove {
        if !minimal.iter().any(|d| p.starts_with(&format!("{d}/"))) {
            minimal.push(p);
        }
    }
    (restore, minimal)
}

/// From a `docker cp` tar of a path under `parent`, the regular files whose
/// absolute paths are `wanted`, headers (mode, owner, times) kept; None when
/// there are none.
pub fn select_from_tar(
    tar: &[u8],
    parent: &str,
    wanted: &[String],
) -> anyhow::Result<Option<Vec<u8>>> {
    let mut archive = tar::Archive::new(tar);
    let mut out = tar::Builder::new(Vec::new());
    let mut selected = 0;
    for entry in archive.entries().context("failed to read a snapshot")? {
        let mut entry = entry.context("failed to read a snapshot")?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let rel = entry
            .path()
            .context("failed to read a snapshot")?
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        let abs = format!("{}/{rel}", parent.trim_end_matches('/'));
        if !wanted.contains(&abs) {
            continue;
        }
        let mut header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).context("failed to read a snapshot")?;
        out.append_data(&mut header, &rel, data.as_slice())
            .context("failed to write a snapshot")?;
        selected += 1;
    }
    let tar = out.into_inner().context("failed to write a snapshot")?;
    Ok((selected > 0).then_some(tar))
}

/// The directory holding `path` (`/` for top-level paths).
fn parent_dir(path: &str) -> String {
    Path::new(path)
        .parent()
        .map_or("/".into(), |d| d.to_string_lossy().into_owned())
}

/// `kind-build-<unix seconds>-<random>`, as upstream names its build container.
fn build_container_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!("kind-build-{secs}-{}", rand::random::<u32>())
}

/// The identity a node image derived from `base` now would have (ensuring
/// the base is present).
async fn wanted_identity(
    provider: &dyn Provider,
    base: &str,
    log: &Logger,
) -> anyhow::Result<ImageIdentity> {
    let base_id = provider.ensure_image(base, log).await?;
    Ok(ImageIdentity {
        base: base.to_string(),
        base_id,
        context: context_hash(NODE_IMAGE_CONTEXT),
    })
}

/// Build the derived image (`FROM` the base by ID, labelled with its
/// identity), tagged or not; returns its ID.
async fn build_derived(
    provider: &dyn Provider,
    identity: &ImageIdentity,
    tag: Option<&str>,
    log: &Logger,
) -> anyhow::Result<String> {
    let req = BuildRequest {
        tag: tag.map(String::from),
        build_args: [("BASE".to_string(), identity.base_id.clone())].into(),
        labels: identity.labels().into_iter().collect(),
    };
    let context = context_tar(NODE_IMAGE_CONTEXT)?;
    provider
        .build_image(context, &req, &|line| log.debug(2, line))
        .await
        .map_err(|e| {
            if lacks_shell(&e.message) {
                anyhow!(
                    "failed to build the Sysbox node image from {:?}: {NOT_A_NODE_IMAGE}: /bin/sh is missing ({})",
                    identity.base,
                    e.message
                )
            } else {
                anyhow!(
                    "failed to build the Sysbox node image from {:?}: {e}",
                    identity.base
                )
            }
        })
}

/// The Dockerfile's own words for a refused base.
const NOT_A_NODE_IMAGE: &str = "ERROR: kind-sysbox: the base image is not a kind node image";

/// Whether a build failed because the base has no `/bin/sh` to run the
/// Dockerfile's checks with: a base that is no kind node image at all, whose
/// Docker error alone would not say so.
pub fn lacks_shell(build_error: &str) -> bool {
    build_error.contains("\"/bin/sh\"") && build_error.contains("no such file or directory")
}

/// The default node image of `kind create cluster`: DEFAULT_SYSBOX_IMAGE
/// derived from `$KIND_SYSBOX_BASE_IMAGE` or DEFAULT_BASE_IMAGE. Returns
/// whether it had to be built.
pub async fn ensure_default_image(provider: &dyn Provider, log: &Logger) -> anyhow::Result<bool> {
    let base = std::env::var(BASE_IMAGE_ENV)
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_IMAGE.to_string());
    ensure_node_image(provider, DEFAULT_SYSBOX_IMAGE, &base, log).await
}

/// `tag` derived from `base`: reused when its labels match the wanted
/// identity, else (re)built. kind processes ensuring the same tag take
/// turns (see [`build_lock`]), so it is built once; the tag is checked
/// again after the build all the same. Returns whether it was built.
pub async fn ensure_node_image(
    provider: &dyn Provider,
    tag: &str,
    base: &str,
    log: &Logger,
) -> anyhow::Result<bool> {
    let _lock = build_lock(tag, log).await;
    let identity = wanted_identity(provider, base, log).await?;
    let existing = provider.inspect_image(tag).await?;
    if let Some(image) = &existing {
        if identity.matches(&image.labels) {
            log.debug(
                1,
                &format!(
                    "Using Sysbox node image {tag} (base {base}, {})",
                    identity.base_id
                ),
            );
            return Ok(false);
        }
        log.debug(
            1,
            &format!(
                "Sysbox node image {tag} does not match base {base} ({}) and this build context: rebuilding",
                identity.base_id
            ),
        );
    } else {
        log.debug(
            1,
            &format!(
                "Building Sysbox node image {tag} from {base} ({}) ...",
                identity.base_id
            ),
        );
    }
    let built = build_derived(provider, &identity, Some(tag), log).await?;
    let now = provider.inspect_image(tag).await?;
    let labels = now.map(|i| i.labels).unwrap_or_default();
    if !identity.matches(&labels) {
        bail!("the Sysbox node image {tag} was re-tagged to another image while it was being built; try again");
    }
    log.debug(1, &format!("Built Sysbox node image {tag} ({built})"));
    // The image it replaces is untagged now; drop it unless something uses it.
    if let Some(old) = existing
        .map(|i| i.id)
        .filter(|old| !old.is_empty() && *old != built)
    {
        if provider.remove_image_if_unused(&old).await {
            log.debug(1, &format!("Removed the previous Sysbox node image {old}"));
        }
    }
    Ok(true)
}

/// An advisory lock on a file named for `tag` in the temporary directory,
/// held until dropped (or the process ends, however it ends): kind
/// processes creating clusters at once build each derived image once, the
/// others wait and reuse it. Best effort: without the lock (say, a file of
/// another user's) the build goes ahead.
async fn build_lock(tag: &str, log: &Logger) -> Option<std::fs::File> {
    let digest = format!("{:x}", Sha256::digest(tag.as_bytes()));
    let path = std::env::temp_dir().join(format!("kind-sysbox-build-{}.lock", &digest[..16]));
    let shown = path.display().to_string();
    let locked = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await;
    match locked {
        Ok(Ok(file)) => Some(file),
        Ok(Err(e)) => {
            log.debug(1, &format!("Building {tag} without the lock {shown}: {e}"));
            None
        }
        Err(_) => None,
    }
}

/// `kind build node-image`.
pub async fn build_node_image(
    provider: &dyn Provider,
    opts: &BuildOptions,
    log: &Logger,
) -> anyhow::Result<()> {
    let base = if opts.base_image.is_empty() {
        DEFAULT_BASE_IMAGE
    } else {
        &opts.base_image
    };
    let image = if opts.image.is_empty() {
        DEFAULT_BUILD_IMAGE
    } else {
        &opts.image
    };
    let (repo, tag) = split_repo_tag(image)?;
    let preload = dedupe(&opts.preload);
    let archives = dedupe(&opts.preload_archives);

    // Check every input before building anything.
    for name in &preload {
        if provider.inspect_image(name).await?.is_none() {
            bail!("image: {name:?} not present locally");
        }
    }
    for archive in &archives {
        std::fs::metadata(archive).map_err(|e| {
            anyhow!(
                "stat {}: {}",
                archive.display(),
                crate::gotext::io_error_text(&e)
            )
        })?;
    }
    let runtime = if preload.is_empty() && archives.is_empty() {
        None
    } else {
        Some(preload_runtime(provider).await?)
    };

    log.info(&format!(
        "Building Sysbox node image {image:?} from base image {base:?} ..."
    ));
    let identity = wanted_identity(provider, base, log).await?;
    match runtime {
        None => {
            build_derived(provider, &identity, Some(image), log).await?;
        }
        Some(runtime) => {
            let derived = build_derived(provider, &identity, None, log).await?;
            preload_and_commit(
                provider,
                &derived,
                &runtime,
                &preload,
                &archives,
                (&repo, &tag),
                log,
            )
            .await?;
        }
    }
    log.info(&format!("Image {image:?} build completed."));
    Ok(())
}

/// The Sysbox runtime the preloading node runs under. Never privileged, so
/// never runc: KIND_EXPERIMENTAL_RUNTIME chooses the runtime of cluster
/// nodes, not of this one.
async fn preload_runtime(provider: &dyn Provider) -> anyhow::Result<String> {
    let info = provider.info().await?;
    match provider::select_runtime(&info, None) {
        Ok(RuntimeMode::Sysbox { runtime }) => Ok(runtime),
        Ok(RuntimeMode::Runc) => unreachable!("runc is only selected when asked for"),
        Err(RuntimeError::SysboxNotRegistered) => bail!(
            "--preload and --preload-archive need Sysbox: the images are imported in an unprivileged node container \
             under the Sysbox runtime, and Docker has no runtime named \"sysbox-runc\" (or whose path ends in sysbox-runc). \
             Install Sysbox >= 0.7.0 (the sysbox-ce package from https://github.com/nestybox/sysbox/releases), or build without preloading"
        ),
        Err(e) => bail!("--preload and --preload-archive need Sysbox: {e}"),
    }
}

/// Boot `derived` as a Sysbox node, import the images, commit it as
/// `repo:tag`; the container is removed whatever happens.
async fn preload_and_commit(
    provider: &dyn Provider,
    derived: &str,
    runtime: &str,
    images: &[String],
    archives: &[PathBuf],
    (repo, tag): (&str, &str),
    log: &Logger,
) -> anyhow::Result<()> {
    let name = build_container_name();
    let spec = preload_container_spec(&name, derived, runtime);
    log.debug(
        1,
        &format!("Starting node container {name} to preload images ..."),
    );
    let result = async {
        provider.create_container(&spec).await?;
        preload_in(provider, &name, derived, images, archives, (repo, tag), log).await
    }
    .await;
    let cleanup = provider.delete_nodes(std::slice::from_ref(&name)).await;
    result?;
    cleanup.with_context(|| format!("failed to remove the build container {name}"))
}

async fn preload_in(
    provider: &dyn Provider,
    name: &str,
    derived: &str,
    images: &[String],
    archives: &[PathBuf],
    (repo, tag): (&str, &str),
    log: &Logger,
) -> anyhow::Result<()> {
    // As built, before the boot touches them.
    let mut snapshots = Vec::new();
    for path in SNAPSHOT_PATHS {
        if let Some(tar) = provider.copy_from_container(name, path).await? {
            snapshots.push((parent_dir(path), tar));
        }
    }
    provider.start_container(name).await?;
    let ready = regex::Regex::new(provider::NODE_READY_LOG_REGEX).expect("valid readiness regex");
    provider
        .wait_for_log(name, &ready, NODE_READY_TIMEOUT)
        .await
        .context("the node container did not become ready")?;

    // Streamed like `kind load`: no registry, no temp file.
    let node = NodeRef {
        name: name.to_string(),
        role: String::new(),
        runtime_mode: "sysbox".into(),
        config_index: None,
        images_inbox: None,
    };
    if !images.is_empty() {
        log.debug(1, &format!("Preloading images {images:?} ..."));
        import_into(provider, &node, provider.save_images(images), log)
            .await
            .with_context(|| format!("failed to preload images {images:?}"))?;
    }
    for archive in archives {
        log.debug(
            1,
            &format!("Preloading image archive {} ...", archive.display()),
        );
        import_into(provider, &node, load::file_stream(archive.clone()), log)
            .await
            .with_context(|| format!("failed to preload image archive {}", archive.display()))?;
    }

    // containerd's metadata must be at rest when the filesystem is captured.
    provider
        .exec(&node, &["systemctl", "stop", "containerd"], None)
        .await?;

    let (restore, remove) = boot_leftovers(&provider.container_changes(name).await?);
    for (parent, tar) in snapshots {
        if let Some(files) = select_from_tar(&tar, &parent, &restore)? {
            provider.copy_into_container(name, &parent, files).await?;
        }
    }
    if !remove.is_empty() {
        let mut argv = vec!["rm", "-rf", "--"];
        argv.extend(remove.iter().map(String::as_str));
        provider.exec(&node, &argv, None).await?;
    }

    let id = provider.commit_container(name, repo, tag, derived).await?;
    log.debug(1, &format!("Committed {repo}:{tag} ({id})"));
    Ok(())
}

/// `source` into `ctr … images import -` in the build container; a failure
/// to read the source is reported before the import's own.
async fn import_into(
    provider: &dyn Provider,
    node: &NodeRef,
    source: load::Source,
    log: &Logger,
) -> anyhow::Result<()> {
    // Every platform: the image is for whatever runs it later.
    let argv = load::plan::import_argv(&load::plan::Platforms::All, SYSBOX_SNAPSHOTTER);
    let (mut imported, pumped) = load::stream_round(
        provider,
        std::slice::from_ref(node),
        &[(0, argv)],
        source,
        log,
    )
    .await;
    pumped?;
    imported.remove(0)
}

#[cfg(test)]
mod tests;
