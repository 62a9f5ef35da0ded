//! Images: the Sysbox node images (derived from the embedded `node-image/`:
//! the default one and those of named images),
//! preloading inner images into node images, and loading host images into
//! the nodes of a running cluster.

pub mod build;
pub mod load;
pub mod named;
pub mod oci;

use std::time::Duration;

use anyhow::anyhow;

use crate::log::Logger;
use crate::provider::Docker;

/// Upstream retries a failed pull 4 times, sleeping 1, 2, 3, 4 s.
const PULL_RETRIES: u64 = 4;

/// The image ID of `image`, pulling it first when absent (upstream's
/// node-image pull: 1 + 4 attempts, sleeping 1..4 s between them).
pub async fn ensure_present(docker: &Docker, image: &str, log: &Logger) -> anyhow::Result<String> {
    if let Some(found) = docker.inspect_image_opt(image).await? {
        return found.id.ok_or_else(|| anyhow!("image {image} has no ID"));
    }
    log.debug(1, &format!("Pulling image: {image} ..."));
    let mut result = docker.pull_image(image).await;
    for attempt in 1..=PULL_RETRIES {
        let Err(e) = &result else { break };
        tokio::time::sleep(Duration::from_secs(attempt)).await;
        log.debug(
            1,
            &format!("Trying again to pull image: {image:?} ... {e:#}"),
        );
        result = docker.pull_image(image).await;
    }
    result.map_err(|e| anyhow!("failed to pull image {image:?}: {e:#}"))?;
    docker
        .inspect_image_opt(image)
        .await?
        .and_then(|i| i.id)
        .ok_or_else(|| anyhow!("image {image} is not present after pulling it"))
}
