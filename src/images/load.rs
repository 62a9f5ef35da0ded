//! `kind load docker-image` / `kind load image-archive` (spec §6.1–6.2).
//!
//! Upstream saves the images to a temporary file and then runs one import
//! per node, each reading that file. We stream instead: one `docker save`
//! (or one read of the archive) is fanned out concurrently into
//! `ctr images import -` on every selected node, with bounded buffers and
//! no temporary file, and each node imports only its own platform.
//!
//! A node whose containerd already holds some of the images' layers (asked
//! with `ctr content ls`) gets a partial archive: an OCI layout leaving those
//! layers out (`images::oci`), converted from the same single `docker save`
//! pass; a failed partial import is retried once with the full archive.
//! A node that takes nothing for the stall timeout is given up by name
//! without holding the others back ([`round`]).
//!
//! Before deciding anything, each node is asked everything the decisions
//! need (its images by ID and by name, its snapshotter, its content) in one
//! exec, all nodes at once ([`plan::probe_argv`]): an exec costs far more
//! than the questions. Only a re-tag is an exec of its own.
//!
//! The decisions (which nodes to re-tag or load, which get a partial archive,
//! log lines, the import command) are pure functions in [`plan`]; this file
//! only runs them.

mod fanout;
pub mod hints;
pub mod plan;
mod round;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::anyhow;
use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::AsyncReadExt;

use crate::cluster::nodes::internal;
use crate::images::oci;
use crate::log::Logger;
use crate::provider::{inbox, ByteStream, ImageInfo, NodeRef, Provider, RunError};
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
    let mut diff_ids = HashSet::new();
    for image in &images {
        let info = host_image(provider, image).await?;
        diff_ids.extend(info.diff_ids);
        ids.push(info.id);
    }
    let all = provider.list_nodes(cluster).await?;
    let candidates = plan::select_nodes(cluster, &internal(&all), nodes, UnknownNodeStyle::Quoted)?;

    let started = std::time::Instant::now();
    // Everything the decisions need, from one exec per node, before any:
    // per image its ID's and its name's inspection, then the snapshotter
    // and (as today, when the images have layers) the content list, asked
    // of every candidate as the exec costs more than the questions; a node
    // with every image already tagged leaves out all but the first
    // (`ProbeQuestions::lazy`).
    let questions = plan::ProbeQuestions {
        images: ids.iter().cloned().zip(images.iter().cloned()).collect(),
        content: !diff_ids.is_empty(),
        lazy: true,
    };
    let (platforms, mut probes) = ask(provider, &nodes_of(&candidates), &questions).await;
    log.debug(
        1,
        &format!(
            "asked {} node(s) about {} image(s), one exec each, in {:.2?}",
            candidates.len(),
            images.len(),
            started.elapsed()
        ),
    );
    // A node that left out a by-name answer a decision needs (its image's
    // ID inspection named the image, yet listed no tags) is asked again in
    // full before anything is decided.
    let again: Vec<usize> = (0..candidates.len())
        .filter(|&i| {
            images
                .iter()
                .zip(&probes[i].images)
                .any(|(image, (by_id, by_name))| {
                    let tags = by_id.as_deref().and_then(plan::repo_tags_of);
                    by_name.is_none()
                        && plan::presence(image, tags.as_deref()) == plan::Presence::Absent
                })
        })
        .collect();
    if !again.is_empty() {
        let eager = plan::ProbeQuestions {
            lazy: false,
            ..questions.clone()
        };
        let nodes: Vec<&NodeRef> = again.iter().map(|&i| &candidates[i]).collect();
        let answers = probe_all(provider, &nodes, &eager).await;
        log.debug(1, &format!("asked {} node(s) again in full", again.len()));
        for (i, probe) in again.into_iter().zip(answers) {
            probes[i] = probe;
        }
    }
    let mut selected: Vec<String> = Vec::new();
    // Per candidate: the (ID, name) re-tags done so far.
    let mut retagged: Vec<Vec<(String, String)>> = vec![Vec::new(); candidates.len()];
    for (k, (image, id)) in images.iter().zip(&ids).enumerate() {
        // Nodes are independent: re-tag concurrently, report in order.
        let outcomes =
            futures_util::future::join_all(candidates.iter().zip(&probes).zip(&retagged).map(
                |((node, probe), done)| async move {
                    let (by_id, by_name) = &probe.images[k];
                    let tags = by_id.as_deref().and_then(plan::repo_tags_of);
                    let tags = plan::with_retags(tags, id, done);
                    let by_name = by_name
                        .as_ref()
                        .and_then(|o| o.as_deref())
                        .and_then(plan::image_id_of);
                    let outcome = settle(provider, node, image, id, tags, by_name).await;
                    (node.name.clone(), outcome)
                },
            ))
            .await;
        for (done, (_, outcome)) in retagged.iter_mut().zip(&outcomes) {
            if let NodeOutcome::Retagged { name } = outcome {
                done.push((id.clone(), name.clone()));
            }
        }
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
    let (targets, probes): (Vec<NodeRef>, Vec<Probe>) = candidates
        .into_iter()
        .zip(probes)
        .filter(|(node, _)| selected.contains(&node.name))
        .unzip();
    let (snapshotters, held) =
        facts_of(provider, &nodes_of(&targets), probes, !diff_ids.is_empty()).await;
    // As upstream, every requested image is saved, even those some nodes have.
    let source = || provider.save_images(&images);
    let hints = hints::LayerHints::read().await;
    load_streamed(
        provider,
        &targets,
        &platforms,
        snapshotters,
        held,
        &diff_ids,
        inbox_path(&targets),
        Some(&hints),
        log,
        source,
    )
    .await
    .map(|_| ())
}

/// Sends `images` (present on the host) to `targets` and imports them there,
/// each node receiving only the layers its containerd lacks when it is known
/// to hold some (else the full archive): the part of `kind load
/// docker-image` after it has chosen the nodes. Returns what each node got.
pub async fn deliver_images(
    provider: &dyn Provider,
    targets: &[NodeRef],
    images: &[String],
    log: &Logger,
) -> anyhow::Result<Vec<Delivered>> {
    let images = plan::dedup(images);
    let mut diff_ids = HashSet::new();
    for image in &images {
        diff_ids.extend(host_image(provider, image).await?.diff_ids);
    }
    deliver(provider, targets, &images, &diff_ids, log).await
}

async fn deliver(
    provider: &dyn Provider,
    targets: &[NodeRef],
    images: &[String],
    diff_ids: &HashSet<String>,
    log: &Logger,
) -> anyhow::Result<Vec<Delivered>> {
    let started = std::time::Instant::now();
    let questions = plan::ProbeQuestions {
        content: !diff_ids.is_empty(),
        ..Default::default()
    };
    let nodes = nodes_of(targets);
    let (platforms, probes) = ask(provider, &nodes, &questions).await;
    let (snapshotters, held) = facts_of(provider, &nodes, probes, questions.content).await;
    log.debug(
        1,
        &format!(
            "asked {} node(s) for their snapshotter and content in {:.2?}",
            targets.len(),
            started.elapsed()
        ),
    );
    let source = || provider.save_images(images);
    let inbox = inbox_path(targets);
    let hints = hints::LayerHints::read().await;
    load_streamed(
        provider,
        targets,
        &platforms,
        snapshotters,
        held,
        diff_ids,
        inbox,
        Some(&hints),
        log,
        source,
    )
    .await
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
        let nodes = nodes_of(&targets);
        let (platforms, probes) = ask(provider, &nodes, &plan::ProbeQuestions::default()).await;
        let (snapshotters, held) = facts_of(provider, &nodes, probes, false).await;
        let path = archive.clone();
        load_streamed(
            provider,
            &targets,
            &platforms,
            snapshotters,
            held,
            &HashSet::new(),
            inbox_path(&targets),
            None,
            log,
            move || file_stream(path.clone()),
        )
        .await?;
    }
    Ok(())
}

fn nodes_of(nodes: &[NodeRef]) -> Vec<&NodeRef> {
    nodes.iter().collect()
}

/// The host's image (`docker image inspect`): its ID and layers' diff IDs,
/// from one inspection.
async fn host_image(provider: &dyn Provider, image: &str) -> anyhow::Result<ImageInfo> {
    match provider.inspect_image(image).await {
        Ok(Some(inspect)) if !inspect.id.is_empty() => Ok(inspect),
        _ => Err(not_present(image)),
    }
}

fn not_present(image: &str) -> anyhow::Error {
    anyhow!("image: \"{image}\" not present locally")
}

/// One node, one image, from what its probe answered (`tags`: the repo
/// tags of the host's image ID there; `by_name`: the ID its image of that
/// name has): nothing, a re-tag (its own exec), or a load.
async fn settle(
    provider: &dyn Provider,
    node: &NodeRef,
    image: &str,
    id: &str,
    tags: Option<Vec<String>>,
    by_name: Option<String>,
) -> NodeOutcome {
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

/// A fresh path for this load's archive in the images inbox, when every
/// target mounts one and there is more than one target (for one node the
/// file would only add a local write and read).
fn inbox_path(targets: &[NodeRef]) -> Option<String> {
    if targets.len() < 2 {
        return None;
    }
    plan::shared_inbox(targets).map(|dir| inbox::archive_path(&dir, rand::random()))
}

/// What one node answered, as today's separate questions' results.
struct Probe {
    /// Per image: its ID's `crictl inspecti` output (None where it failed)
    /// and its name's (the same, inside None where the node left it out).
    images: Vec<(Option<String>, Option<Option<String>>)>,
    /// None where the node left them out (every image there and tagged).
    facts: Option<Facts>,
}

/// What importing into a node needs to know of it.
struct Facts {
    /// Its CRI snapshotter (`containerd config dump`).
    snapshotter: anyhow::Result<String>,
    /// The digests its content store holds; None when not asked or not
    /// listed (that node then gets the full archive).
    held: Option<HashSet<String>>,
}

/// Asks every node of `nodes` `questions` ([`probe_all`]) and, meanwhile,
/// the engine which platforms to import (the host's, as nodes run on it).
async fn ask(
    provider: &dyn Provider,
    nodes: &[&NodeRef],
    questions: &plan::ProbeQuestions,
) -> (Platforms, Vec<Probe>) {
    let platform = async {
        provider
            .info()
            .await
            .ok()
            .and_then(|i| plan::node_platform(&i.architecture))
    };
    let (platform, probes) = tokio::join!(platform, probe_all(provider, nodes, questions));
    (platform.map_or(Platforms::All, Platforms::Only), probes)
}

/// One probe per node, all at once.
async fn probe_all(
    provider: &dyn Provider,
    nodes: &[&NodeRef],
    questions: &plan::ProbeQuestions,
) -> Vec<Probe> {
    futures_util::future::join_all(nodes.iter().map(|n| {
        // Random per probe: no answer can contain it by accident.
        let token = format!("kind-sysbox-probe-{:032x}", rand::random::<u128>());
        async move { probe(provider, n, questions, &token).await }
    }))
    .await
}

/// The facts of `probes` (in order), asking again, all at once, the
/// `nodes` (same order) that left them out.
async fn facts_of(
    provider: &dyn Provider,
    nodes: &[&NodeRef],
    probes: Vec<Probe>,
    content: bool,
) -> (Vec<anyhow::Result<String>>, Vec<Option<HashSet<String>>>) {
    let again: Vec<&NodeRef> = nodes
        .iter()
        .zip(&probes)
        .filter(|(_, p)| p.facts.is_none())
        .map(|(n, _)| *n)
        .collect();
    let questions = plan::ProbeQuestions {
        content,
        ..Default::default()
    };
    let mut asked = probe_all(provider, &again, &questions).await.into_iter();
    probes
        .into_iter()
        .map(|p| {
            let facts = p
                .facts
                .or_else(|| asked.next().and_then(|p| p.facts))
                .unwrap_or_else(|| Facts {
                    snapshotter: Err(anyhow!("the node left its containerd config out twice")),
                    held: None,
                });
            (facts.snapshotter, facts.held)
        })
        .unzip()
}

/// One node's probe ([`plan::probe_argv`]). Where the exec itself fails
/// (node gone, no `sh`), every question has failed as it would have on
/// its own: no tags, no content list, the snapshotter error.
async fn probe(
    provider: &dyn Provider,
    node: &NodeRef,
    questions: &plan::ProbeQuestions,
    token: &str,
) -> Probe {
    let snapshotter_error = "failed to detect containerd snapshotter";
    let argv = plan::probe_argv(token, questions);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = match provider.exec(node, &argv, None).await {
        Ok(out) => out,
        Err(e) => {
            return Probe {
                images: vec![(None, Some(None)); questions.images.len()],
                facts: Some(Facts {
                    snapshotter: Err(anyhow::Error::new(e).context(snapshotter_error)),
                    held: None,
                }),
            }
        }
    };
    let answers = plan::probe_answers(token, questions, &out.stdout, &out.stderr);
    let output = |s: &Option<plan::ProbeSection>| {
        s.as_ref()
            .and_then(plan::ProbeSection::succeeded)
            .map(str::to_string)
    };
    let images = answers
        .images
        .iter()
        .map(|(by_id, by_name)| {
            let by_name = match by_name {
                Some(s) if s.skipped() => None,
                s => Some(output(s)),
            };
            (output(by_id), by_name)
        })
        .collect();
    let snapshotter = match answers.config {
        Some((section, _)) if section.skipped() => {
            return Probe {
                images,
                facts: None,
            }
        }
        Some((section, _)) if section.status == Some(0) => plan::parse_snapshotter(&section.output),
        Some((section, stderr)) => Err(anyhow::Error::new(plan::section_error(
            node,
            &plan::CONFIG_DUMP_ARGV,
            &section,
            &stderr,
        ))
        .context(snapshotter_error)),
        None => Err(anyhow!(
            "the node's answer ended before its containerd config (first line: {:?})",
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or_default()
        )
        .context(snapshotter_error)),
    };
    Probe {
        images,
        facts: Some(Facts {
            snapshotter,
            held: output(&answers.content).map(|o| oci::parse_content_list(&o)),
        }),
    }
}

/// How long a node may take nothing from its archive before it is given up
/// (the environment variable, in seconds, overrides the default).
pub const STALL_ENV: &str = "KIND_SYSBOX_LOAD_STALL_SECONDS";
const STALL_DEFAULT: Duration = Duration::from_secs(60);

fn stall_timeout() -> Duration {
    std::env::var(STALL_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map_or(STALL_DEFAULT, Duration::from_secs_f64)
}

/// What one node received, for callers that want to show it (tests, `-v`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub node: String,
    /// Whether the import that succeeded was of a partial archive.
    pub partial: bool,
    /// Bytes of the archive that succeeded.
    pub bytes: u64,
    /// Layers left out because the node held them.
    pub skipped: Vec<String>,
}

/// What an item of a round is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    /// `ctr images import` on the item's node.
    Import,
    /// Writing the archive into the images inbox through the item's node.
    WriteInbox,
}

/// Load one archive (from `source`, opened once per round that reads it)
/// into `targets` (with their snapshotters and, where known, the digests
/// their content stores hold, in the same order).
///
/// The first round reads the source once for every node at once: a partial
/// archive to each node known to hold some of the layers (see
/// [`plan::wants_partial`]); the full archive to the others, either written
/// once into the images inbox `inbox` (a fresh path in the volume every
/// target mounts) and then imported from there by each node concurrently,
/// or, without an inbox (or when writing it failed), streamed into each.
/// Then: a node whose partial import failed gets the full archive, and a
/// node whose platform-only import found nothing for its platform imports
/// all platforms (from the inbox file when there is one, else from one
/// more pass). Every node runs to its end; the first failure (in node
/// order) is the error.
#[allow(clippy::too_many_arguments)]
async fn load_streamed(
    provider: &dyn Provider,
    targets: &[NodeRef],
    platforms: &Platforms,
    snapshotters: Vec<anyhow::Result<String>>,
    held: Vec<Option<HashSet<String>>>,
    diff_ids: &HashSet<String>,
    inbox: Option<String>,
    hints: Option<&hints::LayerHints>,
    log: &Logger,
    source: impl Fn() -> Source,
) -> anyhow::Result<Vec<Delivered>> {
    let stall = stall_timeout();
    let mut known = hints.map(|h| std::sync::Arc::new(h.known.clone()));
    // Per target node, in order: its failure, if any.
    let mut failures: Vec<Option<anyhow::Error>> = Vec::with_capacity(targets.len());
    let mut items: Vec<(round::Item, Job)> = Vec::new();
    // Full-archive imports waiting for the inbox file.
    let mut after_write: Vec<round::Item> = Vec::new();
    let mut snapshotter_of: Vec<Option<String>> = Vec::with_capacity(targets.len());
    for (i, s) in snapshotters.into_iter().enumerate() {
        match s {
            Ok(s) => {
                let held = held.get(i).and_then(Option::as_ref);
                let argv = plan::import_argv(platforms, &s);
                match (held, &inbox) {
                    (Some(held), _) if plan::wants_partial(Some(held), diff_ids) => {
                        items.push((
                            round::Item {
                                node: i,
                                argv,
                                input: round::Input::Partial(held.clone()),
                            },
                            Job::Import,
                        ));
                    }
                    (_, Some(path)) => after_write.push(round::Item {
                        node: i,
                        argv: plan::reading_file(&argv, path),
                        input: round::Input::Nothing,
                    }),
                    _ => items.push((
                        round::Item {
                            node: i,
                            argv,
                            input: round::Input::Full,
                        },
                        Job::Import,
                    )),
                }
                snapshotter_of.push(Some(s));
                failures.push(None);
            }
            Err(e) => {
                snapshotter_of.push(None);
                failures.push(Some(e.context(format!("node \"{}\"", targets[i].name))));
            }
        }
    }
    // One node writes the inbox file: the first waiting for it.
    let mut file: Option<(usize, String)> = None;
    if let (Some(path), Some(first)) = (&inbox, after_write.first()) {
        items.push((
            round::Item {
                node: first.node,
                argv: plan::inbox_write_argv(path),
                input: round::Input::Full,
            },
            Job::WriteInbox,
        ));
        file = Some((first.node, path.clone()));
    }
    let mut file_ready = false;

    let mut delivered = Vec::new();
    let mut source_error = None;
    while !items.is_empty() {
        let started = std::time::Instant::now();
        let round_items: Vec<round::Item> = items.iter().map(|(i, _)| i.clone()).collect();
        let input = if round::reads_source(&round_items) {
            source()
        } else {
            futures_util::stream::empty().boxed()
        };
        let outcome =
            round::run(provider, targets, &round_items, input, stall, known.clone()).await;
        if let Some(hints) = hints {
            remember(hints, &outcome, log).await;
            if outcome.conversion.is_some() {
                // Perhaps a wrong hint: later rounds hash every layer.
                known = Some(Default::default());
            }
        }
        let pumped_bytes = match outcome.pumped {
            Ok(p) => {
                let partial = round_items
                    .iter()
                    .filter(|i| matches!(i.input, round::Input::Partial(_)))
                    .count();
                let what = if items.iter().any(|(_, j)| *j == Job::WriteInbox) {
                    "written into the images inbox and streamed to"
                } else {
                    "read and imported by"
                };
                let from_file = round_items
                    .iter()
                    .filter(|i| i.input == round::Input::Nothing)
                    .count();
                if from_file == round_items.len() {
                    log.debug(
                        1,
                        &format!(
                            "the images inbox file imported by {from_file} node(s) in {:.2?}",
                            started.elapsed()
                        ),
                    );
                } else {
                    log.debug(
                        1,
                        &format!(
                            "{} bytes {what} {} node(s) ({} of them a partial archive) in {:.2?}",
                            p.bytes,
                            items.len() - from_file,
                            partial,
                            started.elapsed()
                        ),
                    );
                }
                p.bytes
            }
            Err(e) => {
                source_error = Some(e);
                0
            }
        };
        let conversion = outcome.conversion.as_ref().map(|e| e.to_string());
        let mut next: Vec<(round::Item, Job)> = Vec::new();
        for ((item, job), node) in items.iter().zip(outcome.nodes) {
            let i = item.node;
            let partial = matches!(item.input, round::Input::Partial(_));
            if *job == Job::WriteInbox {
                match node.result {
                    Ok(()) if source_error.is_none() => {
                        file_ready = true;
                        next.extend(after_write.drain(..).map(|it| (it, Job::Import)));
                    }
                    result => {
                        let why = match result {
                            Ok(()) => "reading the source failed".to_string(),
                            Err(round::Failure::Stalled(d) | round::Failure::Straggled(d)) => {
                                format!("nothing taken for {d:.0?}")
                            }
                            Err(round::Failure::Import(e)) => format!("{e:#}"),
                        };
                        if source_error.is_none() {
                            log.debug(
                                1,
                                &format!(
                                    "node {}: writing the archive into the images inbox failed ({}), streaming it to each node instead",
                                    targets[i].name,
                                    why.lines().next().unwrap_or_default()
                                ),
                            );
                        }
                        next.extend(after_write.drain(..).map(|it| {
                            let argv = stdin_argv(&it.argv, file.as_ref().map(|(_, p)| p.as_str()));
                            (
                                round::Item {
                                    node: it.node,
                                    argv,
                                    input: round::Input::Full,
                                },
                                Job::Import,
                            )
                        }));
                    }
                }
                continue;
            }
            let e = match node.result {
                Ok(()) => {
                    let (bytes, skipped) = node
                        .report
                        .as_ref()
                        .map_or((pumped_bytes, Vec::new()), |r| (r.bytes, r.skipped.clone()));
                    if partial {
                        log.debug(
                            1,
                            &format!(
                                "node {}: partial archive of {bytes} bytes imported ({} layer(s) it holds left out)",
                                targets[i].name,
                                skipped.len()
                            ),
                        );
                    }
                    delivered.push(Delivered {
                        node: targets[i].name.clone(),
                        partial,
                        bytes,
                        skipped,
                    });
                    continue;
                }
                Err(round::Failure::Stalled(d)) => {
                    let what = format!("the node took nothing of the image archive for {d:.0?}");
                    failures[i] = Some(given_up(&targets[i], &what));
                    continue;
                }
                Err(round::Failure::Straggled(d)) => {
                    let what = format!("the node's import of the images inbox file was still running {d:.0?} after every other node's had ended,");
                    failures[i] = Some(given_up(&targets[i], &what));
                    continue;
                }
                Err(round::Failure::Import(e)) => e,
            };
            if source_error.is_some() {
                failures[i] = Some(import_failure(&targets[i], e));
                continue;
            }
            let output = e
                .downcast_ref::<RunError>()
                .map(|r| r.output.clone())
                .unwrap_or_else(|| format!("{e:#}"));
            // The full archive: the inbox file when it is there, else a pass.
            let full = |argv: &[String]| match (&file, file_ready) {
                (Some((_, path)), true) => round::Item {
                    node: i,
                    argv: plan::reading_file(argv, path),
                    input: round::Input::Nothing,
                },
                _ => round::Item {
                    node: i,
                    argv: argv.to_vec(),
                    input: round::Input::Full,
                },
            };
            if partial {
                let write = node.report.as_ref().and_then(|r| r.error.as_deref());
                let reason = plan::partial_failure_reason(conversion.as_deref(), write, &output);
                log.debug(
                    1,
                    &format!(
                        "node {}: partial import failed ({reason}), retrying with the full archive",
                        targets[i].name
                    ),
                );
                next.push((full(&item.argv), Job::Import));
                continue;
            }
            let as_stdin = stdin_argv(&item.argv, file.as_ref().map(|(_, p)| p.as_str()));
            let retry = snapshotter_of[i]
                .as_deref()
                .and_then(|s| plan::fallback_import_argv(platforms, &output, s))
                .filter(|argv| *argv != as_stdin);
            match retry {
                Some(argv) => {
                    log.debug(1, &format!("node {}: the archive has no image for the node's platform, importing all platforms", targets[i].name));
                    next.push((full(&argv), Job::Import));
                }
                None => failures[i] = Some(import_failure(&targets[i], e)),
            }
        }
        // A broken source makes every import suspect, whatever it returned.
        if source_error.is_some() {
            break;
        }
        items = next;
    }
    if let Some((node, path)) = &file {
        let argv = plan::inbox_remove_argv(path);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        if let Err(e) = provider.exec(&targets[*node], &argv, None).await {
            log.warn(&format!(
                "failed to remove {path} from the images inbox: {e}"
            ));
        }
    }
    if let Some(e) = source_error {
        return Err(e);
    }

    let mut failures = failures.into_iter().flatten();
    let Some(first) = failures.next() else {
        return Ok(delivered);
    };
    // Only one error can be returned; the others are not silently lost.
    for other in failures {
        log.warn(&format!("{other:#}"));
    }
    Err(first)
}

/// Keeps the layer digests a round's conversion learned for the next load,
/// or drops every hint when a conversion that used them failed (one may
/// have been wrong; the nodes concerned were retried in full).
async fn remember(hints: &hints::LayerHints, outcome: &round::Outcome, log: &Logger) {
    if let Some(learned) = &outcome.learned {
        log.debug(
            1,
            &format!(
                "layer digests: {} known from the archive, {} bytes held back until their digest was known",
                learned.len(),
                outcome.spooled
            ),
        );
    }
    let written = match (&outcome.learned, &outcome.conversion) {
        (Some(learned), _) => hints.remember(learned.clone()).await,
        (None, Some(_)) if !hints.known.is_empty() => hints.forget().await,
        _ => Ok(()),
    };
    if let Err(e) = written {
        log.debug(1, &format!("layer digests not kept for the next load: {e}"));
    }
}

/// An import command line reading stdin again (undoing
/// [`plan::reading_file`] for `path`).
fn stdin_argv(argv: &[String], path: Option<&str>) -> Vec<String> {
    let mut argv = argv.to_vec();
    if let (Some(last), Some(path)) = (argv.last_mut(), path) {
        if last == path {
            *last = "-".to_string();
        }
    }
    argv
}

/// A node whose import was abandoned (`what` happened), as its failure.
fn given_up(node: &NodeRef, what: &str) -> anyhow::Error {
    import_failure(
        node,
        anyhow!(
            "{what} and was given up (a stuck import?); set {STALL_ENV}=<seconds> to wait longer"
        ),
    )
}

fn import_failure(node: &NodeRef, e: anyhow::Error) -> anyhow::Error {
    e.context(format!("node \"{}\"", node.name))
        .context("failed to load image")
}

/// One pass of `source` into `ctr … import -` on the given nodes at once
/// (full archives). Returns each node's result (in `round` order) and the
/// pump's result.
pub(crate) async fn stream_round(
    provider: &dyn Provider,
    targets: &[NodeRef],
    round: &[(usize, Vec<String>)],
    source: Source,
    log: &Logger,
) -> (Vec<anyhow::Result<()>>, anyhow::Result<fanout::Pumped>) {
    let started = std::time::Instant::now();
    let items: Vec<round::Item> = round
        .iter()
        .map(|(i, argv)| round::Item {
            node: *i,
            argv: argv.clone(),
            input: round::Input::Full,
        })
        .collect();
    let stall = stall_timeout();
    let outcome = round::run(provider, targets, &items, source, stall, None).await;
    log.debug(
        1,
        &format!(
            "source read and imported by {} node(s) in {:.2?}",
            round.len(),
            started.elapsed()
        ),
    );
    let results = outcome
        .nodes
        .into_iter()
        .map(|n| match n.result {
            Ok(()) => Ok(()),
            Err(round::Failure::Import(e)) => Err(e),
            Err(round::Failure::Stalled(d) | round::Failure::Straggled(d)) => Err(anyhow!(
                "the import took nothing for {d:.0?} and was given up; set {STALL_ENV}=<seconds> to wait longer"
            )),
        })
        .collect();
    (results, outcome.pumped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::fake::FakeProvider;
    use crate::provider::test_node;

    const TOKEN: &str = "kind-sysbox-probe-test";
    const L1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const L2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    fn questions() -> plan::ProbeQuestions {
        plan::ProbeQuestions {
            images: vec![("sha256:abc".into(), "x:1".into())],
            content: true,
            lazy: true,
        }
    }

    fn b(status: &str) -> String {
        format!("\n{TOKEN} {status}\n")
    }

    const CONFIG: &str =
        "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"overlayfs\"\n";

    #[tokio::test]
    async fn a_failed_probe_exec_fails_every_question_as_today() {
        let fake = FakeProvider::default();
        fake.fail(&["sh"]);
        let node = test_node("n1", "worker");
        let p = probe(&fake, &node, &questions(), TOKEN).await;
        let facts = p.facts.unwrap();
        let e = format!("{:#}", facts.snapshotter.unwrap_err());
        assert!(
            e.starts_with(
                "failed to detect containerd snapshotter: command \"docker exec n1 sh -c"
            ),
            "{e}"
        );
        assert_eq!(facts.held, None);
        // Failed, not left out: by ID and by name as failed lookups.
        assert_eq!(p.images, vec![(None, Some(None))]);
        // One exec for all of it.
        let calls = fake.calls_on("n1");
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0], plan::probe_argv(TOKEN, &questions()));
    }

    #[tokio::test]
    async fn the_answers_feed_the_same_parsers_as_separate_execs_did() {
        let node = test_node("n1", "worker");
        let fake = FakeProvider::default();
        let inspect = r#"{"status":{"id":"sha256:abc","repoTags":["docker.io/library/y:1"]}}"#;
        fake.respond(
            &["sh"],
            &format!(
                "{inspect}{}{}{CONFIG}{}sha256:{L1}\nsha256:{L2}\n{}",
                b("0"),
                b("1"),
                b("0"),
                b("0")
            ),
        );
        let p = probe(&fake, &node, &questions(), TOKEN).await;
        assert_eq!(p.images, vec![(Some(inspect.to_string()), Some(None))]);
        let facts = p.facts.unwrap();
        assert_eq!(facts.snapshotter.unwrap(), "overlayfs");
        assert_eq!(
            facts.held,
            Some(HashSet::from([
                format!("sha256:{L1}"),
                format!("sha256:{L2}")
            ]))
        );

        // Left out: by name and the facts.
        let fake = FakeProvider::default();
        fake.respond(
            &["sh"],
            &format!("{inspect}{}{}{}{}", b("0"), b("-"), b("-"), b("-")),
        );
        let p = probe(&fake, &node, &questions(), TOKEN).await;
        assert_eq!(p.images, vec![(Some(inspect.to_string()), None)]);
        assert!(p.facts.is_none());

        // A failing config dump reads as the failed exec of it did.
        let fake = FakeProvider::default();
        fake.respond(&["sh"], &format!("{}{}", b("1"), b("0")));
        let p = probe(&fake, &node, &plan::ProbeQuestions::default(), TOKEN).await;
        let facts = p.facts.unwrap();
        let e = facts.snapshotter.unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "failed to detect containerd snapshotter: command \"docker exec n1 containerd config dump\" failed with error: exit status 1"
        );
        assert!(e.downcast_ref::<RunError>().is_some());
        assert_eq!(facts.held, None);
        assert!(p.images.is_empty());

        // A cut-short answer leaves the rest unanswered (as failed).
        let fake = FakeProvider::default();
        fake.respond(&["sh"], &format!("{inspect}{}", b("0")));
        let p = probe(&fake, &node, &questions(), TOKEN).await;
        assert_eq!(p.images, vec![(Some(inspect.to_string()), Some(None))]);
        let facts = p.facts.unwrap();
        let e = format!("{:#}", facts.snapshotter.unwrap_err());
        assert!(
            e.starts_with(
                "failed to detect containerd snapshotter: the node's answer ended before"
            ),
            "{e}"
        );
        assert_eq!(facts.held, None);
    }

    #[tokio::test]
    async fn facts_left_out_are_asked_again_of_those_nodes_only() {
        let fake = FakeProvider::default();
        fake.respond(
            &["sh"],
            &format!("{CONFIG}{}sha256:{L1}\n{}", b("0"), b("0")),
        );
        let (n1, n2) = (test_node("n1", "worker"), test_node("n2", "worker"));
        let known = Probe {
            images: vec![],
            facts: Some(Facts {
                snapshotter: Ok("native".into()),
                held: None,
            }),
        };
        let left_out = Probe {
            images: vec![],
            facts: None,
        };
        let (snapshotters, held) = facts_of(&fake, &[&n1, &n2], vec![known, left_out], true).await;
        // The token is random, so the canned answer does not split: n2's
        // second probe reads as cut short; what matters is that it was asked.
        let mut snapshotters = snapshotters.into_iter();
        assert_eq!(snapshotters.next().unwrap().unwrap(), "native");
        let e = format!("{:#}", snapshotters.next().unwrap().unwrap_err());
        assert!(e.contains("the node's answer ended before"), "{e}");
        assert_eq!(held, vec![None, None]);
        assert!(fake.calls_on("n1").is_empty());
        let calls = fake.calls_on("n2");
        assert_eq!(calls.len(), 1);
        assert_eq!(&calls[0][..2], &["sh", "-c"]);
        assert!(calls[0][2].contains("content ls"));
        assert_eq!(calls[0][5], "0", "never lazy without images");
    }
}
