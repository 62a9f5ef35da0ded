//! `kubeadm init` on the bootstrap control plane, then share its CA and
//! keys with the other control planes, and untaint a single-node cluster
//! (spec §4.5).

use anyhow::Context as _;

use crate::cluster::{nodes, ActionContext};
use crate::config::ROLE_CONTROL_PLANE;
use crate::kubeadm;
use crate::version::Version;

/// Files every secondary control plane needs from the bootstrap one.
const SHARED_FILES: [&str; 9] = [
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

const ADMIN_KUBECONFIG: &str = "--kubeconfig=/etc/kubernetes/admin.conf";

pub async fn run(ctx: &ActionContext<'_>) -> anyhow::Result<()> {
    ctx.log.status_start("Starting control-plane 🕹️");
    let all = ctx.nodes().await?;
    let node = nodes::bootstrap_control_plane(all)?;
    let raw_version = ctx.kubernetes_version(&node).await?;
    let version = Version::parse_generic(&raw_version)
        .map_err(|e| anyhow::anyhow!("failed to parse kubernetes version {raw_version:?}: {e}"))?;

    let init = kubeadm::init_command(&version, &ctx.config.networking.kube_proxy_mode);
    let argv: Vec<&str> = init.iter().map(String::as_str).collect();
    let out = ctx
        .exec(&node, &argv)
        .await
        .context("failed to init node with kubeadm")?;
    ctx.log.debug(3, &String::from_utf8_lossy(&out.stdout));

    for other in nodes::by_role(all, ROLE_CONTROL_PLANE)
        .iter()
        .filter(|n| n.name != node.name)
    {
        for file in SHARED_FILES {
            let content = ctx
                .read_file(&node, file)
                .await
                .context("failed to copy admin kubeconfig")?;
            ctx.write_file(other, file, content.as_bytes())
                .await
                .context("failed to copy admin kubeconfig")?;
        }
    }

    if nodes::internal(all).len() == 1 {
        let mut taint = vec!["kubectl", ADMIN_KUBECONFIG, "taint", "nodes", "--all"];
        let taints = kubeadm::control_plane_taints(&raw_version)?;
        taint.extend(taints.iter().map(String::as_str));
        ctx.exec(&node, &taint)
            .await
            .context("failed to remove control plane taint")?;
        ctx.exec(
            &node,
            &[
                "kubectl",
                ADMIN_KUBECONFIG,
                "label",
                "nodes",
                "--all",
                "node.kubernetes.io/exclude-from-external-load-balancers-",
            ],
        )
        .await
        .context("failed to remove control plane load balancer label")?;
    }
    ctx.log.status_end(true);
    Ok(())
}
