//! `kind resize cluster --workers N` (kindbox's `resize`): grow or shrink
//! the workers to N. Growing adds workers as `kind create node` does (one
//! run, one rollback); shrinking removes the highest-numbered workers first,
//! as `kind delete node` removes them. Control planes are never touched: N
//! counts workers only.
//!
//! Output, kindbox's lines in kind's style: `Resizing cluster "k" (workers:
//! current = 1, desired = 3) ...` (as kind's `Creating cluster "k" ...`),
//! the steps' status lines, then `Done (2 workers added).`, `Done (2
//! workers removed).` or `Done (no action required).`.

use anyhow::bail;

use super::node_add::{self, AddOptions, MAX_NODES_PER_ROLE};
use super::node_delete::{self, Env};
use super::{interrupt, nodes, record};
use crate::config::ROLE_WORKER;
use crate::log::Logger;
use crate::provider::Provider;

#[derive(Debug, Clone, Default)]
pub struct ResizeOptions {
    pub cluster: String,
    /// As given; checked here (negative or absurd counts are refused).
    pub workers: i64,
    pub image: Option<String>,
    pub retain: bool,
}

/// What a resize does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResizePlan {
    Nothing,
    Add(usize),
    /// These workers, highest number first.
    Remove(Vec<String>),
}

/// A worker count as asked for, checked.
pub fn desired_workers(workers: i64) -> anyhow::Result<usize> {
    if workers < 0 {
        bail!("invalid worker count {workers}: --workers must be 0 or more");
    }
    if workers as u64 > MAX_NODES_PER_ROLE as u64 {
        bail!(
            "invalid worker count {workers}: at most {MAX_NODES_PER_ROLE} workers are allowed (each node is a full system container)"
        );
    }
    Ok(workers as usize)
}

pub fn plan(cluster: &str, nodes: &[crate::provider::NodeRef], desired: usize) -> ResizePlan {
    let workers = nodes::highest_numbered_first(cluster, ROLE_WORKER, nodes);
    let current = workers.len();
    match desired.cmp(&current) {
        std::cmp::Ordering::Equal => ResizePlan::Nothing,
        std::cmp::Ordering::Greater => ResizePlan::Add(desired - current),
        std::cmp::Ordering::Less => ResizePlan::Remove(
            workers
                .into_iter()
                .take(current - desired)
                .map(|n| n.name)
                .collect(),
        ),
    }
}

pub async fn resize(
    provider: &dyn Provider,
    opts: &ResizeOptions,
    log: &Logger,
) -> anyhow::Result<()> {
    let desired = desired_workers(opts.workers)?;
    let all = record::nodes_of(provider, &opts.cluster).await?;
    let current = nodes::by_role(&all, ROLE_WORKER).len();
    let plan = plan(&opts.cluster, &all, desired);
    // Refusals come before the first line of output.
    let removal = match &plan {
        ResizePlan::Remove(names) => Some(node_delete::plan(&opts.cluster, &all, names)?),
        _ => None,
    };
    log.info(&format!(
        "Resizing cluster {:?} (workers: current = {current}, desired = {desired}) ...",
        opts.cluster
    ));
    match plan {
        ResizePlan::Nothing => log.info("Done (no action required)."),
        ResizePlan::Add(n) => {
            let added = node_add::add_nodes(
                provider,
                &AddOptions {
                    cluster: opts.cluster.clone(),
                    role: ROLE_WORKER.into(),
                    count: n,
                    image: opts.image.clone(),
                    retain: opts.retain,
                },
                log,
            )
            .await?;
            log.info(&format!("Done ({} added).", workers_noun(added.len())));
        }
        ResizePlan::Remove(_) => {
            let removal = removal.expect("planned above");
            if opts.image.is_some() {
                log.warn("WARNING: --image is only used when workers are added; ignoring it");
            }
            let env = Env::load(provider, &opts.cluster, &all).await?;
            let mut removed = 0;
            interrupt::unless_signalled(async {
                for node in &removal.remove {
                    node_delete::remove_node(
                        &env,
                        provider,
                        Some(&removal.runner),
                        node,
                        true,
                        log,
                    )
                    .await?;
                    removed += 1;
                }
                anyhow::Ok(())
            })
            .await?;
            log.info(&format!("Done ({} removed).", workers_noun(removed)));
        }
    }
    Ok(())
}

fn workers_noun(n: usize) -> String {
    if n == 1 {
        "1 worker".into()
    } else {
        format!("{n} workers")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::NodeRef;

    fn node(name: &str, role: &str) -> NodeRef {
        NodeRef {
            name: name.into(),
            role: role.into(),
            runtime_mode: "sysbox".into(),
            config_index: None,
            images_inbox: None,
        }
    }

    #[test]
    fn counts_are_checked() {
        assert_eq!(desired_workers(0).unwrap(), 0);
        assert_eq!(desired_workers(100).unwrap(), 100);
        assert_eq!(
            desired_workers(-1).unwrap_err().to_string(),
            "invalid worker count -1: --workers must be 0 or more"
        );
        assert!(desired_workers(1000)
            .unwrap_err()
            .to_string()
            .starts_with("invalid worker count 1000: at most 100 workers"));
    }

    #[test]
    fn shrinking_removes_the_highest_numbers_and_never_control_planes() {
        let nodes = vec![
            node("k-control-plane", "control-plane"),
            node("k-worker", "worker"),
            node("k-worker2", "worker"),
            node("k-worker10", "worker"),
        ];
        assert_eq!(
            plan("k", &nodes, 1),
            ResizePlan::Remove(vec!["k-worker10".into(), "k-worker2".into()])
        );
        assert_eq!(
            plan("k", &nodes, 0),
            ResizePlan::Remove(vec![
                "k-worker10".into(),
                "k-worker2".into(),
                "k-worker".into()
            ])
        );
        assert_eq!(plan("k", &nodes, 3), ResizePlan::Nothing);
        assert_eq!(plan("k", &nodes, 5), ResizePlan::Add(2));
    }
}
