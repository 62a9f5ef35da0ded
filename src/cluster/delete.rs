//! `kind delete cluster`: kubeconfig entries first, then every container of
//! the cluster, concurrently. The network is left in place (spec §5.5).

use std::path::Path;

use anyhow::Context as _;

use crate::kubeconfig;
use crate::log::Logger;
use crate::provider::Docker;

/// Delete a cluster; a cluster that does not exist is a success.
pub async fn delete(
    docker: &Docker,
    name: &str,
    explicit_kubeconfig: Option<&Path>,
    log: &Logger,
) -> anyhow::Result<()> {
    let nodes = docker
        .list_nodes(name)
        .await
        .context("error listing nodes")?;
    let kubeconfig_result = kubeconfig::remove(name, explicit_kubeconfig);
    if let Err(e) = &kubeconfig_result {
        log.warn(&format!("failed to update kubeconfig: {e:#}"));
    }
    if !nodes.is_empty() {
        let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
        docker.delete_containers(&names).await?;
        log.info(&format!("Deleted nodes: {}", go_quote_list(&names)));
    }
    kubeconfig_result
}

/// Go's `%q` of a string slice: `["a" "b"]`.
pub fn go_quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_quote_like_go() {
        assert_eq!(go_quote_list(&[]), "[]");
        assert_eq!(go_quote_list(&["a".into(), "b-c".into()]), r#"["a" "b-c"]"#);
    }
}
