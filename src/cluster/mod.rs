//! Cluster lifecycle over the provider seam: the create pipeline (node
//! images, provisioning, then an ordered list of small actions, as upstream
//! kind), delete, the kubeconfig of a running cluster, and `record`: what an
//! existing cluster says about itself (its stored config, its runtime mode);
//! nodes added to and removed from a running cluster (`node_add`,
//! `node_delete`, `resize`), and signals while they run (`interrupt`).

pub mod actions;
mod context;
pub mod create;
pub mod delete;
pub mod lifecycle;
pub mod listing;
pub mod logs;
pub mod node_add;
pub mod node_delete;
pub mod nodes;
pub mod ownership;
pub mod record;
pub mod resize;

pub use context::{ActionContext, WRITE_FILE_SCRIPT};
pub use create::{create, CreateOptions};
pub use delete::delete;

use crate::config::ROLE_CONTROL_PLANE;
use crate::kubeconfig;
use crate::provider::Provider;

/// Kind's kubeconfig for a running cluster (spec §5.1): the first control
/// plane's admin.conf with entries renamed, pointing at the host-published
/// API server (or, with `internal`, at the in-network endpoint).
pub async fn kubeconfig_for(
    provider: &dyn Provider,
    cluster: &str,
    internal: bool,
) -> anyhow::Result<String> {
    let all = provider.list_nodes(cluster).await?;
    let Some(first) = nodes::by_role(&all, ROLE_CONTROL_PLANE).into_iter().next() else {
        anyhow::bail!(
            "could not locate any control plane nodes for cluster named '{cluster}'. Use the --name option to select a different cluster"
        );
    };
    let read_admin = async {
        provider
            .exec(&first, &["cat", "/etc/kubernetes/admin.conf"], None)
            .await
            .map_err(anyhow::Error::from)
            .map_err(|e| e.context("failed to get cluster internal kubeconfig"))
    };
    // Independent of the read (an inspection, not an exec): concurrently;
    // errors reported in the order they were asked for.
    let server = async {
        if internal {
            return Ok(None);
        }
        let endpoint_node = nodes::api_server_endpoint_node(&all)?;
        let endpoint = provider
            .api_server_endpoint(&endpoint_node.name)
            .await
            .map_err(|e| e.context("failed to get api server endpoint"))?;
        anyhow::Ok(Some(format!("https://{endpoint}")))
    };
    let (out, server) = tokio::join!(read_admin, server);
    let admin = String::from_utf8_lossy(&out?.stdout).into_owned();
    kubeconfig::from_admin_conf(&admin, cluster, server?.as_deref())
}

/// Merge the cluster's kubeconfig into the user's (spec §5.4), off the async
/// runtime since the file lock may wait for other kind processes.
pub async fn export_kubeconfig(
    provider: &dyn Provider,
    cluster: &str,
    internal: bool,
    explicit: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let text = kubeconfig_for(provider, cluster, internal).await?;
    write_kubeconfig(text, explicit).await
}

/// Merge kind's kubeconfig `text` into the user's, off the async runtime.
/// A signal while waiting for another process's lock ends the wait with
/// `interrupt::Interrupted` and nothing written.
pub async fn write_kubeconfig(
    text: String,
    explicit: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let explicit = explicit.map(std::path::Path::to_path_buf);
    tokio::task::spawn_blocking(move || kubeconfig::export(&text, explicit.as_deref()))
        .await
        .map_err(|e| anyhow::anyhow!("kubeconfig export task failed: {e}"))?
}
