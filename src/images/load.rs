//! `kind load docker-image` / `kind load image-archive` (spec §6.1–6.2).
//!
//! Upstream saves the images to a temporary file and then runs one import
//! per node, each reading that file. We stream instead: one `docker save`
//! (or one read of the archive) is fanned out concurrently into
//! `ctr images import -` on every selected node, with bounded buffers and
//! no temporary file, and each node imports only its own platform.
//!
//! The decisions (which nodes to re-tag or load, log lines, the import
//! command) are pure functions in [`plan`]; this file only runs them.

mod fanout;
pub mod plan;

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use crate::cluster::nodes::internal;
use crate::log::Logger;
use crate::provider::{ByteStream, NodeRef, Provider, RunError};
use plan::{NodeOutcome, Platforms, UnknownNodeStyle};

/// A source of archive bytes; opened once per streaming round.
pub(crate) type Source = ByteStream;

/// `kind load docker-image IMAGE… [--name] [--nodes]`.
pub async fn load_docker_images(
    provider: &dyn Provider,
    cluster: &str,
    images: &[String],
    nodes: &[String],
    log: &Logger,
) -> anyhow::Result<()> {
    let images = plan::dedup(images);
    let mut ids = Vec::with_capacity(images.len());
    for image in &images {
        ids.push(host_image_id(provider, image).await?);
    }
    let all = provider.list_nodes(cluster).await?;
    let candidates = plan::select_nodes(cluster, &internal(&all), nodes, UnknownNodeStyle::Quoted)?;

    let started = std::time::Instant::now();
    let mut selected: Vec<String> = Vec::new();
    for (image, id) in images.iter().zip(&ids) {
        // Nodes are independent: look (and re-tag) concurrently, report in order.
        let outcomes = futures_util::future::join_all(candidates.iter().map(|node| async move {
            (node.name.clone(), observe(provider, node, image, id).await)
        }))
        .await;
        for line in plan::fold_image(image, id, &outcomes, &mut selected) {
            log.info(&line);
        }
    }
    log.debug(
        1,
        &format!(
            "checked {} image(s) on {} node(s) in {:.2?}",
            images.len(),
            candidates.len(),
            started.elapsed()
        ),
    );
    if selected.is_empty() {
        return Ok(());
    }
    let targets: Vec<NodeRef> = candidates
        .iter()
        .filter(|n| selected.contains(&n.name))
        .cloned()
        .collect();
    let (platforms, snapshotters) = load_facts(provider, &targets).await;
    // As upstream, every requested image is saved, even those some nodes have.
    let source = || provider.save_images(&images);
    load_streamed(provider, &targets, &platforms, snapshotters, log, source).await
}

/// `kind load image-archive FILE… [--name] [--nodes]`.
pub async fn load_image_archives(
    provider: &dyn Provider,
    cluster: &str,
    archives: &[PathBuf],
    nodes: &[String],
    log: &Logger,
) -> anyhow::Result<()> {
    if archives.len() > 1 {
        log.warn(plan::MULTI_ARCHIVE_WARNING);
    }
    for archive in archives {
        std::fs::metadata(archive)
            .map_err(|e| anyhow!(plan::go_stat_error(&archive.display().to_string(), &e)))?;
    }
    for archive in archives {
        let all = provider.list_nodes(cluster).await?;
        let targets = plan::select_nodes(cluster, &internal(&all), nodes, UnknownNodeStyle::Bare)?;
        for node in &targets {
            log.debug(
                2,
                &format!(
                    "Loading Docker Image from archive {} to node {}",
                    archive.display(),
                    node.name
                ),
            );
        }
        let (platforms, snapshotters) = load_facts(provider, &targets).await;
        let path = archive.clone();
        load_streamed(
            provider,
            &targets,
            &platforms,
            snapshotters,
            log,
            move || file_stream(path.clone()),
        )
        .await?;
    }
    Ok(())
}

/// The host's image ID (`docker image inspect -f '{{ .Id }}'`).
async fn host_image_id(provider: &dyn Provider, image: &str) -> anyhow::Result<String> {
    match provider.inspect_image(image).await {
        Ok(Some(inspect)) if !inspect.id.is_empty() => Ok(inspect.id),
        _ => Err(not_present(image)),
    }
}

fn not_present(image: &str) -> anyhow::Error {
    anyhow!("image: \"{image}\" not present locally")
}

/// One node, one image: crictl by ID, then re-tag or crictl by name.
/// (Sequential as upstream: on a busy host the fewest execs is fastest, and
/// an image already present costs one exec per node.)
async fn observe(provider: &dyn Provider, node: &NodeRef, image: &str, id: &str) -> NodeOutcome {
    let inspect = |what: &str| {
        let what = what.to_string();
        async move {
            provider
                .exec(node, &["crictl", "inspecti", &what], None)
                .await
                .ok()
                .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        }
    };
    let tags = inspect(id).await.as_deref().and_then(plan::repo_tags_of);
    match plan::presence(image, tags.as_deref()) {
        plan::Presence::Tagged => NodeOutcome::Present,
        plan::Presence::NeedsRetag(name) => {
            match provider
                .exec(
                    node,
                    &[
                        "ctr",
                        "--namespace=k8s.io",
                        "images",
                        "tag",
                        "--force",
                        id,
                        &name,
                    ],
                    None,
                )
                .await
            {
                Ok(_) => NodeOutcome::Retagged { name },
                Err(e) => NodeOutcome::RetagFailed {
                    name,
                    error: e.to_string(),
                },
            }
        }
        plan::Presence::Absent => {
            let by_name = inspect(image).await.as_deref().and_then(plan::image_id_of);
            if plan::absent_needs_load(id, by_name.as_deref()) {
                NodeOutcome::Missing
            } else {
                NodeOutcome::Present
            }
        }
    }
}

/// The archive read in chunks.
pub(crate) fn file_stream(path: PathBuf) -> Source {
    futures_util::stream::try_unfold(None::<tokio::fs::File>, move |file| {
        let path = path.clone();
        async move {
            let mut file = match file {
                Some(f) => f,
                None => tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| read_error(&path, e))?,
            };
            let mut buf = BytesMut::with_capacity(fanout::CHUNK_BYTES);
            let n = file
                .read_buf(&mut buf)
                .await
                .map_err(|e| read_error(&path, e))?;
            Ok((n > 0).then(|| (buf.freeze(), Some(file))))
        }
    })
    .boxed()
}

fn read_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow!("failed to read image archive {}: {e}", path.display())
}

/// What importing into `nodes` needs: which platforms to import (the
/// host's, as nodes run on it) and each node's snapshotter.
async fn load_facts(
    provider: &dyn Provider,
    nodes: &[NodeRef],
) -> (Platforms, Vec<anyhow::Result<String>>) {
    let platform = async {
        provider
            .info()
            .await
            .ok()
            .and_then(|i| plan::node_platform(&i.architecture))
    };
    let snapshotters =
        futures_util::future::join_all(nodes.iter().map(|node| snapshotter(provider, node)));
    let (platform, snapshotters) = tokio::join!(platform, snapshotters);
    (
        platform.map_or(Platforms::All, Platforms::Only),
        snapshotters,
    )
}

/// Load one archive (from `source`, opened once per round) into `targets`
/// (with their snapshotters, in the same order): one stream into every
/// node, then — only for nodes whose platform-only import found nothing for
/// their platform — one more stream importing all platforms. Every node runs
/// to its end; the first failure (in node order) is the error.
async fn load_streamed(
    provider: &dyn Provider,
    targets: &[NodeRef],
    platforms: &Platforms,
    snapshotters: Vec<anyhow::Result<String>>,
    log: &Logger,
    source: impl Fn() -> Source,
) -> anyhow::Result<()> {
    // Per target node, in order: its failure, if any.
    let mut failures: Vec<Option<anyhow::Error>> = Vec::with_capacity(targets.len());
    let mut round: Vec<(usize, Vec<String>)> = Vec::new();
    let mut snapshotter_of: Vec<Option<String>> = Vec::with_capacity(targets.len());
    for (i, s) in snapshotters.into_iter().enumerate() {
        match s {
            Ok(s) => {
                round.push((i, plan::import_argv(platforms, &s)));
                snapshotter_of.push(Some(s));
                failures.push(None);
            }
            Err(e) => {
                snapshotter_of.push(None);
                failures.push(Some(e.context(format!("node \"{}\"", targets[i].name))));
            }
        }
    }

    let started = std::time::Instant::now();
    let mut source_error = None;
    let mut fallback: Vec<(usize, Vec<String>)> = Vec::new();
    if !round.is_empty() {
        let (results, pumped) = stream_round(provider, targets, &round, source(), log).await;
        if let Ok(p) = &pumped {
            log.debug(
                1,
                &format!(
                    "{} bytes imported by {} node(s) in {:.2?}",
                    p.bytes,
                    round.len(),
                    started.elapsed()
                ),
            );
        }
        source_error = pumped.err();
        for ((i, _), result) in round.iter().zip(results) {
            let Err(e) = result else { continue };
            let retry = match (e.downcast_ref::<RunError>(), &snapshotter_of[*i]) {
                (Some(run), Some(s)) if source_error.is_none() => {
                    plan::fallback_import_argv(platforms, &run.output, s)
                }
                _ => None,
            };
            if let Some(argv) = retry {
                log.debug(1, &format!("node {}: the archive has no image for the node's platform, importing all platforms", targets[*i].name));
                fallback.push((*i, argv));
            } else {
                failures[*i] = Some(import_failure(&targets[*i], e));
            }
        }
    }
    if !fallback.is_empty() {
        let (results, pumped) = stream_round(provider, targets, &fallback, source(), log).await;
        source_error = pumped.err();
        for ((i, _), result) in fallback.iter().zip(results) {
            if let Err(e) = result {
                failures[*i] = Some(import_failure(&targets[*i], e));
            }
        }
    }

    // A broken source makes every import suspect, whatever it returned.
    if let Some(e) = source_error {
        return Err(e);
    }
    let mut failures = failures.into_iter().flatten();
    let Some(first) = failures.next() else {
        return Ok(());
    };
    // Only one error can be returned; the others are not silently lost.
    for other in failures {
        log.warn(&format!("{other:#}"));
    }
    Err(first)
}

fn import_failure(node: &NodeRef, e: anyhow::Error) -> anyhow::Error {
    e.context(format!("node \"{}\"", node.name))
        .context("failed to load image")
}

/// `containerd config dump` in the node -> its CRI snapshotter.
async fn snapshotter(provider: &dyn Provider, node: &NodeRef) -> anyhow::Result<String> {
    let out = provider
        .exec(node, &["containerd", "config", "dump"], None)
        .await
        .map_err(|e| anyhow::Error::new(e).context("failed to detect containerd snapshotter"))?;
    plan::parse_snapshotter(&String::from_utf8_lossy(&out.stdout))
}

/// One pass of `source` into `ctr … import -` on the given nodes at once.
/// Returns each node's result (in `round` order) and the pump's result.
pub(crate) async fn stream_round(
    provider: &dyn Provider,
    targets: &[NodeRef],
    round: &[(usize, Vec<String>)],
    source: Source,
    log: &Logger,
) -> (Vec<anyhow::Result<()>>, anyhow::Result<fanout::Pumped>) {
    let started = std::time::Instant::now();
    let (senders, inputs) = fanout::sinks(round.len());
    // Spawned so the nodes' socket writes spread over the runtime's threads.
    let execs: Vec<_> = round
        .iter()
        .zip(inputs)
        .map(|((i, argv), input)| {
            tokio::spawn(provider.exec_with_input_stream(&targets[*i], argv, input.boxed()))
        })
        .collect();
    let pumped = fanout::pump(source, senders, fanout::CHUNK_BYTES).await;
    log.debug(
        1,
        &format!(
            "source read and handed to {} node(s) in {:.2?}",
            round.len(),
            started.elapsed()
        ),
    );
    let mut results = Vec::with_capacity(execs.len());
    for exec in execs {
        results.push(match exec.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(run)) => Err(anyhow::Error::new(run)),
            Err(join) => Err(anyhow!("import task failed: {join}")),
        });
    }
    (results, pumped)
}
