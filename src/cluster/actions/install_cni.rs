//! Install the node image's default CNI manifest (spec §4.6).

use anyhow::Context as _;

use crate::cluster::{nodes, ActionContext};
use crate::config::PatchJson6902;

const TEMPLATE_MARKER: &str = "would you kindly template this file";
const PATCH_MARKER: &str = "would you kindly patch this file";

pub async fn run(ctx: &ActionContext<'_>) -> anyhow::Result<()> {
    ctx.log.status_start("Installing CNI 🔌");
    let all = ctx.nodes().await?;
    let node = nodes::bootstrap_control_plane(all)?;
    let raw = ctx
        .read_file(&node, "/kind/manifests/default-cni.yaml")
        .await
        .context("failed to read CNI manifest")?;
    let endpoint = format!(
        "{}:{}",
        nodes::api_server_endpoint_node(all)?.name,
        crate::kubeadm::API_BIND_PORT
    );
    let manifest = render(&raw, &ctx.config.networking.pod_subnet, &endpoint)?;
    ctx.log.debug(5, &manifest);
    ctx.exec_stdin(
        &node,
        &[
            "kubectl",
            "create",
            "--kubeconfig=/etc/kubernetes/admin.conf",
            "-f",
            "-",
        ],
        manifest.into_bytes(),
    )
    .await
    .context("failed to apply overlay network")?;
    ctx.log.status_end(true);
    Ok(())
}

/// Fill in `{{ .PodSubnet }}` and add CONTROL_PLANE_ENDPOINT to the CNI
/// DaemonSet, when the manifest asks for them with upstream's markers.
pub fn render(raw: &str, pod_subnet: &str, endpoint: &str) -> anyhow::Result<String> {
    let mut manifest = raw.to_string();
    if manifest.contains(TEMPLATE_MARKER) {
        let field = regex::Regex::new(r"\{\{-?\s*\.PodSubnet\s*-?\}\}").expect("static regex");
        manifest = field
            .replace_all(&manifest, regex::NoExpand(pod_subnet))
            .into_owned();
    }
    if manifest.contains(PATCH_MARKER) {
        let value = serde_json::json!([{
            "op": "add",
            "path": "/spec/template/spec/containers/0/env/-",
            "value": {"name": "CONTROL_PLANE_ENDPOINT", "value": endpoint},
        }]);
        let patch = PatchJson6902 {
            group: "apps".into(),
            version: "v1".into(),
            kind: "DaemonSet".into(),
            patch: value.to_string(),
        };
        manifest = crate::patch::kube_yaml(&manifest, &[], &[patch])?;
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmarked_manifest_is_applied_verbatim() {
        let raw = "kind: ConfigMap\n# {{ .PodSubnet }} stays\n";
        assert_eq!(render(raw, "10.244.0.0/16", "x:6443").unwrap(), raw);
    }

    #[test]
    fn template_marker_fills_the_pod_subnet() {
        let raw = "# would you kindly template this file\nvalue: {{ .PodSubnet }}\n";
        assert_eq!(
            render(raw, "10.244.0.0/16,fd00:10:244::/56", "x:6443").unwrap(),
            "# would you kindly template this file\nvalue: 10.244.0.0/16,fd00:10:244::/56\n"
        );
    }

    #[test]
    fn patch_marker_adds_the_control_plane_endpoint() {
        let raw = "# would you kindly patch this file\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kindnet\nspec:\n  template:\n    spec:\n      containers:\n      - name: kindnet-cni\n        env:\n        - name: A\n          value: b\n";
        let out = render(raw, "10.244.0.0/16", "kind-control-plane:6443").unwrap();
        assert!(
            out.contains(
                "- name: CONTROL_PLANE_ENDPOINT\n          value: kind-control-plane:6443"
            ),
            "{out}"
        );
        assert!(
            !out.contains("would you kindly"),
            "re-serialised without comments: {out}"
        );
    }
}
