//! The Sysbox node image: derived from an upstream kindest/node image with
//! the embedded `node-image/` build context, optionally with inner images
//! preloaded into its containerd `k8s.io` namespace.

use crate::log::Logger;
use crate::provider::Docker;

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// `--base-image`.
    pub base_image: String,
    /// `--image`: the tag to produce.
    pub image: String,
    /// `--preload`: host images to put into the node image's containerd.
    pub preload: Vec<String>,
    /// `--preload-archive`: image archives to put into it.
    pub preload_archives: Vec<std::path::PathBuf>,
}

/// `kind build node-image`.
pub async fn build_node_image(docker: &Docker, opts: &BuildOptions, log: &Logger) -> anyhow::Result<()> {
    todo!("{}{opts:?}{}", docker.api().client_version(), log.verbosity())
}
