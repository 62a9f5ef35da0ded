//! The images inbox (issue 8, item 1): a named volume, one per cluster,
//! that every Kubernetes node of the cluster mounts at [`INBOX_DIR`], so
//! `kind load` moves an archive through Docker once (written into the
//! volume through one node) and every node then imports the same file
//! locally and concurrently, instead of one exec stream per node.
//!
//! Created with the cluster (labelled with the cluster and the create run,
//! like its containers) and removed with it, also by a failed create's
//! cleanup. Nodes carry [`LABEL_INBOX`], so `kind load` tells a cluster that
//! has the inbox from one made by an older version or by upstream kind
//! (which keeps the streaming path) from the node list alone.

/// Where nodes mount the inbox.
pub const INBOX_DIR: &str = "/kind/images-inbox";
/// Ours, on every node mounting the inbox: its mount point.
pub const LABEL_INBOX: &str = "dev.kind-sysbox.images-inbox";

/// The cluster's inbox volume. The `kind-sysbox-images-` prefix keeps it
/// apart from anyone else's volumes, the cluster name (unique per engine)
/// from other clusters'.
pub fn volume_name(cluster: &str) -> String {
    format!("kind-sysbox-images-{cluster}")
}

/// The node's bind of the inbox (`volume:path`, read-write: one node writes
/// each archive, every node reads it).
pub fn bind(cluster: &str) -> String {
    format!("{}:{INBOX_DIR}", volume_name(cluster))
}

/// A fresh archive path in the inbox (mounted at `dir`) for one load.
pub fn archive_path(dir: &str, nonce: u64) -> String {
    format!("{dir}/load-{nonce:016x}.tar")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(volume_name("kind"), "kind-sysbox-images-kind");
        assert_eq!(bind("dev"), "kind-sysbox-images-dev:/kind/images-inbox");
        assert_eq!(
            archive_path(INBOX_DIR, 255),
            "/kind/images-inbox/load-00000000000000ff.tar"
        );
    }
}
