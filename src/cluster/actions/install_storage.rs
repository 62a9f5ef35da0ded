//! Install the default StorageClass (spec §4.7).

use anyhow::Context as _;

use crate::cluster::{nodes, ActionContext};

/// Used when the node image has no storage manifest.
const FALLBACK_STORAGE_CLASS: &str = "apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  namespace: kube-system
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: \"true\"
provisioner: kubernetes.io/host-path
";

pub async fn run(ctx: &ActionContext<'_>) -> anyhow::Result<()> {
    ctx.log.status_start("Installing StorageClass 💾");
    let node = nodes::bootstrap_control_plane(ctx.nodes().await?)?;
    let manifest = match ctx
        .read_file(&node, "/kind/manifests/default-storage.yaml")
        .await
    {
        Ok(m) => m,
        Err(_) => {
            ctx.log.warn(
                "Could not read storage manifest, falling back on old k8s.io/host-path default ...",
            );
            FALLBACK_STORAGE_CLASS.to_string()
        }
    };
    ctx.exec_stdin(
        &node,
        &[
            "kubectl",
            "--kubeconfig=/etc/kubernetes/admin.conf",
            "apply",
            "-f",
            "-",
        ],
        manifest.into_bytes(),
    )
    .await
    .context("failed to add default storage class")?;
    ctx.log.status_end(true);
    Ok(())
}
