//! `kind export logs` (spec §1.2, §6.3): the tree upstream writes, plus
//! per node the Sysbox facts that explain most failures (the runtime
//! Docker used, the node's uid/gid maps and mount table).
//!
//! [`plan`] lists what to collect (file ↔ source) for the cluster's nodes;
//! [`collect`] carries it out, nodes and the items of each node
//! concurrently, keeping whatever could be collected and aggregating the
//! failures as upstream does: one group per node and one for the
//! host-side (provider) items, `[e1, e2]` when a group has several.

use std::fmt;
use std::path::{Path, PathBuf};

use futures_util::future::join_all;

use crate::log::Logger;
use crate::provider::{write_file_on_host, NodeRef, Provider, RunError, CLI_REFUSED};

/// The node directory upstream copies wholesale.
pub const NODE_LOG_DIR: &str = "/var/log";
/// Per-node subdirectory for the Sysbox facts (not in upstream's tree).
pub const SYSBOX_DIR: &str = "sysbox";

/// Where one file (or, for [`Source::NodeDir`], a directory's contents) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The Docker daemon's `/info`.
    DockerInfo,
    /// `docker inspect <node>`.
    Inspect,
    /// The node's `HostConfig.Runtime`, one line.
    Runtime,
    /// `docker logs <node>` (the node's console).
    SerialLog,
    /// A node directory's contents, unpacked into the file's path.
    NodeDir(&'static str),
    /// A command run in the node; the file holds its output.
    Exec(Vec<&'static str>),
}

/// One thing to collect: `path` is relative to the output directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub path: PathBuf,
    /// The node it is about, if any.
    pub node: Option<NodeRef>,
    pub source: Source,
}

/// Everything to collect, grouped as upstream aggregates the failures.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// One list per internal node (control planes and workers).
    pub nodes: Vec<Vec<Item>>,
    /// Host-side items: docker info, then per node its inspect and runtime.
    pub provider: Vec<Item>,
}

/// What to collect for the cluster's nodes; the load balancer is left out,
/// as upstream does. Nodes go by name, so that the failures of a run are
/// reported in the same order every time (upstream's follow completion).
pub fn plan(all_nodes: &[NodeRef]) -> Plan {
    let mut internal = super::nodes::internal(all_nodes);
    internal.sort_by(|a, b| a.name.cmp(&b.name));
    let nodes = internal
        .iter()
        .map(|node| {
            let at = |file: &str| PathBuf::from(&node.name).join(file);
            let exec = |file: &str, argv: &[&'static str]| Item {
                path: at(file),
                node: Some(node.clone()),
                source: Source::Exec(argv.to_vec()),
            };
            let sysbox = |file: &str| format!("{SYSBOX_DIR}/{file}");
            vec![
                Item {
                    path: at("serial.log"),
                    node: Some(node.clone()),
                    source: Source::SerialLog,
                },
                Item {
                    path: PathBuf::from(&node.name),
                    node: Some(node.clone()),
                    source: Source::NodeDir(NODE_LOG_DIR),
                },
                exec("kubernetes-version.txt", &["cat", "/kind/version"]),
                exec("journal.log", &["journalctl", "--no-pager"]),
                exec(
                    "kubelet.log",
                    &["journalctl", "--no-pager", "-u", "kubelet.service"],
                ),
                exec(
                    "containerd.log",
                    &["journalctl", "--no-pager", "-u", "containerd.service"],
                ),
                exec("images.log", &["crictl", "images"]),
                exec(&sysbox("uid_map"), &["cat", "/proc/self/uid_map"]),
                exec(&sysbox("gid_map"), &["cat", "/proc/self/gid_map"]),
                exec(&sysbox("mountinfo"), &["cat", "/proc/self/mountinfo"]),
            ]
        })
        .collect();
    let mut provider = vec![Item {
        path: PathBuf::from("docker-info.txt"),
        node: None,
        source: Source::DockerInfo,
    }];
    for node in &internal {
        provider.push(Item {
            path: PathBuf::from(&node.name).join("inspect.json"),
            node: Some(node.clone()),
            source: Source::Inspect,
        });
        provider.push(Item {
            path: PathBuf::from(&node.name)
                .join(SYSBOX_DIR)
                .join("runtime.txt"),
            node: Some(node.clone()),
            source: Source::Runtime,
        });
    }
    Plan { nodes, provider }
}

/// Several failures, shown as upstream's aggregate: `[e1, e2]` with
/// repeated messages dropped (one distinct message is shown bare).
#[derive(Debug)]
pub struct Aggregate(pub Vec<anyhow::Error>);

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut seen: Vec<String> = Vec::new();
        for e in &self.0 {
            let msg = format!("{e:#}");
            if !seen.contains(&msg) {
                seen.push(msg);
            }
        }
        if seen.len() == 1 {
            f.write_str(&seen[0])
        } else {
            write!(f, "[{}]", seen.join(", "))
        }
    }
}

impl std::error::Error for Aggregate {}

/// None, the one error (its cause chain kept, so a failed command's output
/// is still reported), or an [`Aggregate`].
pub fn aggregate(mut errors: Vec<anyhow::Error>) -> Option<anyhow::Error> {
    match errors.len() {
        0 => None,
        1 => errors.pop(),
        _ => Some(anyhow::Error::new(Aggregate(errors))),
    }
}

/// `kind export logs`: fail for a cluster without containers, pick the
/// directory (a fresh temp dir when none is given), announce it (stderr
/// line, then the path on stdout), then collect.
pub async fn export(
    docker: &dyn Provider,
    cluster: &str,
    dir: Option<PathBuf>,
    kind_version: &str,
    log: &Logger,
) -> anyhow::Result<()> {
    let all = docker.list_nodes(cluster).await?;
    if all.is_empty() {
        anyhow::bail!("unknown cluster {cluster:?}");
    }
    let dir = match dir {
        Some(d) => d,
        None => fresh_temp_dir()?,
    };
    log.info(&format!("Exporting logs for cluster {cluster:?} to:"));
    crate::cli::out(format!("{}\n", dir.display()));
    collect(docker, &plan(&all), &dir, kind_version, log).await
}

/// A new directory in the system temp dir named by a random number, as Go's
/// `os.MkdirTemp("", "")`.
fn fresh_temp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..10_000 {
        let candidate = base.join(rand::random::<u32>().to_string());
        match std::fs::create_dir(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "failed to create a temporary directory in {}: {e}",
                    base.display()
                ))
            }
        }
    }
    anyhow::bail!(
        "failed to create a temporary directory in {}: too many attempts",
        base.display()
    )
}

/// Write `kind-version.txt`, then carry out the plan; every item is tried.
pub async fn collect(
    docker: &dyn Provider,
    plan: &Plan,
    dir: &Path,
    kind_version: &str,
    log: &Logger,
) -> anyhow::Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| anyhow::anyhow!("failed to create logs directory: {e}"))?;
    tokio::fs::write(dir.join("kind-version.txt"), kind_version)
        .await
        .map_err(|e| anyhow::anyhow!("failed to write kind-version.txt: {e}"))?;

    let nodes = async {
        let per_node = join_all(
            plan.nodes
                .iter()
                .map(|items| run_group(docker, items, dir, log)),
        )
        .await;
        aggregate(per_node.into_iter().flatten().collect())
    };
    let (nodes_err, provider_err) =
        tokio::join!(nodes, run_group(docker, &plan.provider, dir, log));
    match aggregate(nodes_err.into_iter().chain(provider_err).collect()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// On a failed Docker call, leave what the docker CLI would have printed
/// in the item's file, as upstream's file holds the command's output.
async fn keep_output<T>(path: &Path, result: anyhow::Result<T>) -> anyhow::Result<T> {
    if let Err(e) = &result {
        if let Some(run) = e.downcast_ref::<RunError>() {
            write_file_on_host(path, run.output.as_bytes()).await?;
        }
    }
    result
}

/// Every item of a group at once; their failures as one error.
async fn run_group(
    docker: &dyn Provider,
    items: &[Item],
    dir: &Path,
    log: &Logger,
) -> Option<anyhow::Error> {
    let results = join_all(items.iter().map(|item| run_item(docker, item, dir, log))).await;
    aggregate(results.into_iter().filter_map(Result::err).collect())
}

async fn run_item(
    docker: &dyn Provider,
    item: &Item,
    dir: &Path,
    log: &Logger,
) -> anyhow::Result<()> {
    let path = dir.join(&item.path);
    let node = item.node.as_ref().map(|n| n.name.as_str()).unwrap_or("");
    match &item.source {
        Source::DockerInfo => {
            let info = keep_output(&path, docker.info_json().await).await?;
            write_file_on_host(&path, &info).await
        }
        Source::Inspect => {
            let inspect = keep_output(&path, docker.inspect_json(node).await).await?;
            write_file_on_host(&path, &inspect).await
        }
        Source::Runtime => {
            let runtime = keep_output(&path, docker.node_runtime(node).await).await?;
            write_file_on_host(&path, format!("{runtime}\n").as_bytes()).await
        }
        Source::SerialLog => {
            write_file_on_host(&path, b"").await?;
            let logged = docker.write_container_log(node, &path).await;
            // Keep what was read before the failure, then the CLI's message.
            if let Some(run) = logged
                .as_ref()
                .err()
                .and_then(|e| e.downcast_ref::<RunError>())
            {
                let mut file = tokio::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .await?;
                tokio::io::AsyncWriteExt::write_all(&mut file, run.output.as_bytes()).await?;
            }
            logged
        }
        Source::NodeDir(node_dir) => {
            tokio::fs::create_dir_all(&path)
                .await
                .map_err(|e| anyhow::anyhow!("failed to create {}: {e}", path.display()))?;
            let warnings = docker.extract_node_dir(node, node_dir, &path).await?;
            for w in warnings {
                log.warn(&w);
            }
            Ok(())
        }
        Source::Exec(argv) => {
            let Some(node_ref) = &item.node else {
                anyhow::bail!("no node to run {argv:?} in");
            };
            match docker.exec(node_ref, argv, None).await {
                Ok(out) => {
                    let mut content = out.stdout;
                    content.extend_from_slice(&out.stderr);
                    write_file_on_host(&path, &content).await
                }
                // Keep what the command said, as upstream's file would.
                Err(mut e) => {
                    if !e.reason.starts_with("exit status ") {
                        // The daemon refused the exec (e.g. a stopped node):
                        // `docker exec` would have printed that line and exited 1.
                        e.reason = CLI_REFUSED.into();
                        e.output.push('\n');
                    }
                    write_file_on_host(&path, e.output.as_bytes()).await?;
                    Err(anyhow::Error::new::<RunError>(e))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::provider::test_node as node;

    fn files(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| i.path.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn plan_covers_upstreams_tree_and_the_sysbox_facts_per_internal_node() {
        let nodes = [
            node("c-worker", "worker"),
            node("c-external-load-balancer", "external-load-balancer"),
            node("c-control-plane", "control-plane"),
        ];
        let plan = plan(&nodes);
        assert_eq!(plan.nodes.len(), 2, "the load balancer is left out");
        assert_eq!(
            plan.nodes[0][0].path,
            PathBuf::from("c-control-plane/serial.log")
        );
        let worker = &plan.nodes[1];
        assert_eq!(
            files(worker),
            [
                "c-worker/serial.log",
                "c-worker",
                "c-worker/kubernetes-version.txt",
                "c-worker/journal.log",
                "c-worker/kubelet.log",
                "c-worker/containerd.log",
                "c-worker/images.log",
                "c-worker/sysbox/uid_map",
                "c-worker/sysbox/gid_map",
                "c-worker/sysbox/mountinfo",
            ]
        );
        assert_eq!(worker[1].source, Source::NodeDir("/var/log"));
        assert_eq!(
            worker[4].source,
            Source::Exec(vec!["journalctl", "--no-pager", "-u", "kubelet.service"])
        );
        assert_eq!(
            worker[7].source,
            Source::Exec(vec!["cat", "/proc/self/uid_map"])
        );
        assert!(worker
            .iter()
            .all(|i| i.node.as_ref().map(|n| n.name.as_str()) == Some("c-worker")));
        assert_eq!(
            files(&plan.provider),
            [
                "docker-info.txt",
                "c-control-plane/inspect.json",
                "c-control-plane/sysbox/runtime.txt",
                "c-worker/inspect.json",
                "c-worker/sysbox/runtime.txt",
            ]
        );
        assert_eq!(plan.provider[0].source, Source::DockerInfo);
        assert_eq!(plan.provider[2].source, Source::Runtime);
    }

    #[test]
    fn plan_of_no_internal_nodes_is_docker_info_only() {
        let plan = plan(&[node("c-external-load-balancer", "external-load-balancer")]);
        assert!(plan.nodes.is_empty());
        assert_eq!(files(&plan.provider), ["docker-info.txt"]);
    }

    #[test]
    fn aggregates_like_upstream() {
        assert!(aggregate(vec![]).is_none());
        let run = RunError {
            argv: vec!["docker".into(), "exec".into(), "n".into(), "x".into()],
            reason: "exit status 1".into(),
            output: "boom".into(),
        };
        let one = aggregate(vec![anyhow::Error::new(run)]).unwrap();
        assert_eq!(
            one.to_string(),
            "command \"docker exec n x\" failed with error: exit status 1"
        );
        assert!(
            one.downcast_ref::<RunError>().is_some(),
            "a single failure keeps its command output"
        );
        let node_a = aggregate(vec![anyhow::anyhow!("a1"), anyhow::anyhow!("a2")]).unwrap();
        let node_b = aggregate(vec![anyhow::anyhow!("b1")]).unwrap();
        let top = aggregate(vec![node_a, node_b]).unwrap();
        assert_eq!(top.to_string(), "[[a1, a2], b1]");
        let dup = aggregate(vec![anyhow::anyhow!("same"), anyhow::anyhow!("same")]).unwrap();
        assert_eq!(dup.to_string(), "same");
        let ctx = aggregate(vec![
            anyhow::anyhow!("inner").context("outer"),
            anyhow::anyhow!("x"),
        ])
        .unwrap();
        assert_eq!(ctx.to_string(), "[outer: inner, x]");
    }
}
