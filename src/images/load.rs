//! `kind load docker-image` / `kind load image-archive` (spec §6.1–6.2),
//! streaming one `docker save` into every target node concurrently.

use crate::log::Logger;
use crate::provider::Docker;

/// `kind load docker-image IMAGE… [--name] [--nodes]`.
pub async fn load_docker_images(
    docker: &Docker,
    cluster: &str,
    images: &[String],
    nodes: &[String],
    log: &Logger,
) -> anyhow::Result<()> {
    todo!("{}{cluster}{images:?}{nodes:?}{}", docker.api().client_version(), log.verbosity())
}

/// `kind load image-archive FILE… [--name] [--nodes]`.
pub async fn load_image_archives(
    docker: &Docker,
    cluster: &str,
    archives: &[std::path::PathBuf],
    nodes: &[String],
    log: &Logger,
) -> anyhow::Result<()> {
    todo!("{}{cluster}{archives:?}{nodes:?}{}", docker.api().client_version(), log.verbosity())
}
