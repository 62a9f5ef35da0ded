//! Kubeconfig handling as upstream kind (spec §5): the `kind-NAME`
//! cluster/user/context built from a node's admin.conf, merged into the
//! user's kubeconfig under `<path>.lock`, written atomically, removed on
//! delete from every listed file. A file that does not parse is never
//! overwritten.

use std::path::{Path, PathBuf};

/// `kind-<cluster>`: the name of the cluster, user and context entries.
pub fn key(cluster: &str) -> String {
    format!("kind-{cluster}")
}

/// Candidate kubeconfig files: `--kubeconfig`, else `KUBECONFIG` (split on
/// `:`, empties and duplicates dropped), else `$HOME/.kube/config`.
pub fn paths(explicit: Option<&Path>) -> Vec<PathBuf> {
    todo!("{explicit:?}")
}

/// The file create/export merge into: the only one, else the first that
/// exists as a regular file, else the last.
pub fn merge_target(paths: &[PathBuf]) -> PathBuf {
    todo!("{paths:?}")
}

/// Build kind's kubeconfig (encoded YAML, spec §5.2) from a node's
/// `/etc/kubernetes/admin.conf`: entries renamed to `kind-<cluster>`,
/// current-context set, and `server` replaced when `server` is given
/// (external address) or kept (`--internal`).
pub fn from_admin_conf(admin_conf: &str, cluster: &str, server: Option<&str>) -> anyhow::Result<String> {
    todo!("{admin_conf}{cluster}{server:?}")
}

/// Merge kind's kubeconfig (as returned by `from_admin_conf`) into the merge
/// target of `paths(explicit)`, under the lock, atomically.
pub fn export(kind_config: &str, explicit: Option<&Path>) -> anyhow::Result<()> {
    todo!("{kind_config}{explicit:?}")
}

/// Remove the `kind-<cluster>` entries (and current-context if it is ours)
/// from every file of `paths(explicit)`; files without them are untouched.
pub fn remove(cluster: &str, explicit: Option<&Path>) -> anyhow::Result<()> {
    todo!("{cluster}{explicit:?}")
}
