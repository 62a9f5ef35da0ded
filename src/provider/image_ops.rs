//! Image operations of the executor (bollard): build from an in-memory
//! context, commit, export into a node's `ctr images import`, removal.
//! Used by `images::build` (the Sysbox node image and preloading).

use std::collections::HashMap;

use anyhow::anyhow;
use bollard::models::{ChangeType, ContainerConfig, ImageInspect};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CommitContainerOptionsBuilder,
    DownloadFromContainerOptionsBuilder, RemoveImageOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::{StreamExt, TryStreamExt};

use super::docker::{daemon_message, is_not_found};
use super::Docker;

/// What a build asks of the daemon besides its context.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// `-t`; None leaves the image untagged (its ID is returned either way).
    pub tag: Option<String>,
    pub build_args: HashMap<String, String>,
    pub labels: HashMap<String, String>,
}

/// How a path differs from the container's image (`docker diff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Modified,
    Added,
    Deleted,
}

/// A failed build: the daemon's error and the build's last output lines.
#[derive(Debug, thiserror::Error)]
#[error("{message}{}", if output.is_empty() { String::new() } else { format!("\nbuild output:\n{output}") })]
pub struct BuildError {
    pub message: String,
    pub output: String,
}

impl Docker {
    /// `docker image inspect`; None when there is no such image.
    pub async fn inspect_image_opt(&self, image: &str) -> anyhow::Result<Option<ImageInspect>> {
        match self.api().inspect_image(image).await {
            Ok(i) => Ok(Some(i)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(anyhow!(
                "failed to inspect image {image}: {}",
                daemon_message(&e)
            )),
        }
    }

    /// `docker build` of a tar context with the legacy builder (a local
    /// `FROM` never pulls; no BuildKit needed), intermediate containers
    /// always removed. Each output line goes to `progress`. Returns the
    /// built image's ID.
    pub async fn build_image_from_tar(
        &self,
        context: Vec<u8>,
        req: &BuildRequest,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<String, BuildError> {
        let mut opts = BuildImageOptionsBuilder::new()
            .dockerfile("Dockerfile")
            .rm(true)
            .forcerm(true)
            .version(BuilderVersion::BuilderV1)
            .buildargs(&req.build_args)
            .labels(&req.labels);
        if let Some(tag) = &req.tag {
            opts = opts.t(tag);
        }
        let mut stream =
            self.api()
                .build_image(opts.build(), None, Some(bollard::body_full(context.into())));
        let mut output: Vec<String> = Vec::new();
        let mut id = None;
        while let Some(item) = stream.next().await {
            let info = match item {
                Ok(info) => info,
                Err(e) => {
                    return Err(BuildError {
                        message: daemon_message(&e),
                        output: tail(&output, 30),
                    });
                }
            };
            if let Some(text) = info.stream.as_deref() {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    progress(line);
                    output.push(line.to_string());
                }
            }
            if let Some(aux) = info.aux.and_then(|a| a.id) {
                id = Some(aux);
            }
        }
        id.ok_or_else(|| BuildError {
            message: "the build reported no image ID".into(),
            output: tail(&output, 30),
        })
    }

    /// `docker commit` (the container paused meanwhile) into `repo:tag` with
    /// this image config; returns the new image's ID.
    pub async fn commit_container_as(
        &self,
        container: &str,
        repo: &str,
        tag: &str,
        config: ContainerConfig,
    ) -> anyhow::Result<String> {
        let opts = CommitContainerOptionsBuilder::new()
            .container(container)
            .repo(repo)
            .tag(tag)
            .pause(true)
            .build();
        let resp = self
            .api()
            .commit_container(opts, config)
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to commit container {container}: {}",
                    daemon_message(&e)
                )
            })?;
        Ok(resp.id)
    }

    /// `docker rmi <image>` without force; whether it was removed (an image
    /// still used by a container, or already gone, is left alone).
    pub async fn remove_image_if_unused(&self, image: &str) -> bool {
        let opts = RemoveImageOptionsBuilder::new()
            .force(false)
            .noprune(false)
            .build();
        self.api()
            .remove_image(image, Some(opts), None)
            .await
            .is_ok()
    }

    /// `docker diff`: paths changed in the container relative to its image.
    pub async fn container_changes(
        &self,
        container: &str,
    ) -> anyhow::Result<Vec<(String, Change)>> {
        let changes = self.api().container_changes(container).await.map_err(|e| {
            anyhow!(
                "failed to list the changes of container {container}: {}",
                daemon_message(&e)
            )
        })?;
        Ok(changes
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let kind = match c.kind {
                    ChangeType::_0 => Change::Modified,
                    ChangeType::_1 => Change::Added,
                    ChangeType::_2 => Change::Deleted,
                };
                (c.path, kind)
            })
            .collect())
    }

    /// `docker cp <container>:<path> -` (a tar holding the path), which also
    /// works on a created container that has not started yet; None when the
    /// path does not exist.
    pub async fn copy_from_container(
        &self,
        container: &str,
        path: &str,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let opts = DownloadFromContainerOptionsBuilder::new()
            .path(path)
            .build();
        match self
            .api()
            .download_from_container(container, Some(opts))
            .try_collect::<Vec<_>>()
            .await
        {
            Ok(chunks) => Ok(Some(
                chunks.iter().flat_map(|c| c.iter().copied()).collect(),
            )),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(anyhow!(
                "failed to copy {path} from container {container}: {}",
                daemon_message(&e)
            )),
        }
    }

    /// `docker cp - <container>:<dir>`: unpack a tar into `dir`.
    pub async fn copy_into_container(
        &self,
        container: &str,
        dir: &str,
        tar: Vec<u8>,
    ) -> anyhow::Result<()> {
        let opts = UploadToContainerOptionsBuilder::new().path(dir).build();
        self.api()
            .upload_to_container(container, Some(opts), bollard::body_full(tar.into()))
            .await
            .map_err(|e| {
                anyhow!(
                    "failed to copy into {dir} of container {container}: {}",
                    daemon_message(&e)
                )
            })
    }
}

fn tail(lines: &[String], n: usize) -> String {
    lines[lines.len().saturating_sub(n)..].join("\n")
}
