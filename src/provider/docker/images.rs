//! Docker images: inspect, pull, build from an in-memory context, commit,
//! removal, and the container file copies and diff the node image build
//! uses. Used by `images` (the Sysbox node image and preloading).

use std::collections::HashMap;

use anyhow::{anyhow, bail};
use bollard::models::{ChangeType, ContainerConfig, ImageInspect};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CommitContainerOptionsBuilder,
    CreateImageOptionsBuilder, DownloadFromContainerOptionsBuilder, RemoveImageOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::{StreamExt, TryStreamExt};

use super::{daemon_message, is_not_found, Docker};

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
    pub async fn image_exists(&self, image: &str) -> anyhow::Result<bool> {
        Ok(self.inspect_image_opt(image).await?.is_some())
    }

    /// One pull attempt (retries are the caller's).
    pub async fn pull_image(&self, image: &str) -> anyhow::Result<()> {
        let (from_image, tag) = pull_reference(image);
        let opts = CreateImageOptionsBuilder::new()
            .from_image(&from_image)
            .tag(&tag)
            .build();
        let mut stream = self.api.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| anyhow!("{}", daemon_message(&e)))?;
            if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                bail!("{detail}");
            }
        }
        Ok(())
    }
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

/// `name[:tag][@digest]` -> (fromImage, tag) as the docker CLI sends them:
/// a digest wins over a tag; no tag means `latest`.
fn pull_reference(image: &str) -> (String, String) {
    if let Some((name_tag, digest)) = image.split_once('@') {
        return (strip_tag(name_tag).to_string(), digest.to_string());
    }
    let name = strip_tag(image);
    if name.len() < image.len() {
        (name.to_string(), image[name.len() + 1..].to_string())
    } else {
        (image.to_string(), "latest".to_string())
    }
}

fn strip_tag(name_tag: &str) -> &str {
    let slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    match name_tag[slash..].rfind(':') {
        Some(i) => &name_tag[..slash + i],
        None => name_tag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_references() {
        let cases = [
            (
                "kindest/node:v1.36.1@sha256:abc",
                ("kindest/node", "sha256:abc"),
            ),
            ("kindest/node@sha256:abc", ("kindest/node", "sha256:abc")),
            ("kindest/node:v1.36.1", ("kindest/node", "v1.36.1")),
            ("kindest/node", ("kindest/node", "latest")),
            ("localhost:5000/node", ("localhost:5000/node", "latest")),
            ("localhost:5000/node:v1", ("localhost:5000/node", "v1")),
            (
                "docker.io/envoyproxy/envoy:v1.36.2",
                ("docker.io/envoyproxy/envoy", "v1.36.2"),
            ),
        ];
        for (image, (name, tag)) in cases {
            assert_eq!(
                pull_reference(image),
                (name.to_string(), tag.to_string()),
                "{image}"
            );
        }
    }
}
