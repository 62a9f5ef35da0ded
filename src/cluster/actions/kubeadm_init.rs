//! `kubeadm init` on the bootstrap control plane, then share its CA and
//! keys with the other control planes, and untaint a single-node cluster
//! (spec §4.5).

use anyhow::Context as _;
use futures_util::future::try_join_all;

use crate::cluster::{nodes, ActionContext};
use crate::config::ROLE_CONTROL_PLANE;
use crate::kubeadm;
use crate::provider::NodeRef;

/// Files every secondary control plane needs from the bootstrap one.
pub(crate) const SHARED_FILES: [&str; 9] = [
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/pki/ca.crt",
    "/etc/kubernetes/pki/ca.key",
    "/etc/kubernetes/pki/front-proxy-ca.crt",
    "/etc/kubernetes/pki/front-proxy-ca.key",
    "/etc/kubernetes/pki/sa.pub",
    "/etc/kubernetes/pki/sa.key",
    "/etc/kubernetes/pki/etcd/ca.crt",
    "/etc/kubernetes/pki/etcd/ca.key",
];

pub async fn run(ctx: &ActionContext<'_>) -> anyhow::Result<()> {
    ctx.log.status_start("Starting control-plane 🕹️");
    let all = ctx.nodes().await?;
    let node = nodes::bootstrap_control_plane(all)?;
    let (raw_version, version) = ctx.parsed_kubernetes_version(&node).await?;

    let init = kubeadm::init_command(&version, &ctx.config.networking.kube_proxy_mode);
    let out = ctx
        .exec_owned(&node, &init)
        .await
        .context("failed to init node with kubeadm")?;
    ctx.log.debug(3, &String::from_utf8_lossy(&out.stdout));

    let secondary: Vec<_> = nodes::by_role(all, ROLE_CONTROL_PLANE)
        .into_iter()
        .filter(|n| n.name != node.name)
        .collect();
    share_bootstrap_files(ctx, &node, &secondary).await?;

    if nodes::internal(all).len() == 1 {
        ctx.exec_owned(&node, &kubeadm::untaint_command(&raw_version)?)
            .await
            .context("failed to remove control plane taint")?;
        ctx.exec_owned(&node, &kubeadm::remove_exclude_lb_label_command())
            .await
            .context("failed to remove control plane load balancer label")?;
    }
    ctx.log.status_end(true);
    Ok(())
}

/// Copy the CA, keys and admin.conf every control plane needs from the
/// bootstrap control plane to `others` (read once, written to each).
pub(crate) async fn share_bootstrap_files(
    ctx: &ActionContext<'_>,
    bootstrap: &NodeRef,
    others: &[NodeRef],
) -> anyhow::Result<()> {
    if others.is_empty() {
        return Ok(());
    }
    let mut shared = Vec::with_capacity(SHARED_FILES.len());
    for file in SHARED_FILES {
        let content = ctx
            .read_file(bootstrap, file)
            .await
            .context("failed to copy admin kubeconfig")?;
        shared.push((file, content));
    }
    try_join_all(others.iter().map(|other| async {
        for (file, content) in &shared {
            ctx.write_file(other, file, content.as_bytes())
                .await
                .context("failed to copy admin kubeconfig")?;
        }
        anyhow::Ok(())
    }))
    .await?;
    Ok(())
}
