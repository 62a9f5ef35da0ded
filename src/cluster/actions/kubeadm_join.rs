//! Join secondary control planes one at a time (etcd membership changes
//! must not race), then all workers concurrently (spec §4.8).

use anyhow::Context as _;
use futures_util::future::try_join_all;

use crate::cluster::{nodes, ActionContext};
use crate::config::{ROLE_CONTROL_PLANE, ROLE_WORKER};
use crate::kubeadm;
use crate::provider::NodeRef;

pub async fn run(ctx: &ActionContext<'_>) -> anyhow::Result<()> {
    let all = ctx.nodes().await?;
    let bootstrap = nodes::bootstrap_control_plane(all)?;
    let secondary: Vec<NodeRef> = nodes::by_role(all, ROLE_CONTROL_PLANE)
        .into_iter()
        .filter(|n| n.name != bootstrap.name)
        .collect();
    if !secondary.is_empty() {
        ctx.log.status_start("Joining more control-plane nodes 🎮");
        for node in &secondary {
            join(ctx, node).await?;
        }
        ctx.log.status_end(true);
    }
    let workers = nodes::by_role(all, ROLE_WORKER);
    if !workers.is_empty() {
        ctx.log.status_start("Joining worker nodes 🚜");
        try_join_all(workers.iter().map(|n| join(ctx, n))).await?;
        ctx.log.status_end(true);
    }
    Ok(())
}

/// `kubeadm join` with the node's written config.
pub(crate) async fn join(ctx: &ActionContext<'_>, node: &NodeRef) -> anyhow::Result<()> {
    let (_, version) = ctx.parsed_kubernetes_version(node).await?;
    let out = ctx
        .exec_owned(node, &kubeadm::join_command(&version))
        .await
        .context("failed to join node with kubeadm")?;
    ctx.log.debug(3, &String::from_utf8_lossy(&out.stdout));
    Ok(())
}
