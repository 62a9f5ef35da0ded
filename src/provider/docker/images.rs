//! Docker images: inspect, pull, build from an in-memory context, commit,
//! removal, and the container file copies and diff the node image build
//! uses. Used by `images` (the Sysbox node image and preloading).

use std::time::Duration;

use anyhow::{anyhow, bail};
use bollard::models::{ChangeType, ContainerConfig, ImageConfig, ImageInspect};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CommitContainerOptionsBuilder,
    CreateImageOptionsBuilder, DownloadFromContainerOptionsBuilder, RemoveImageOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::{StreamExt, TryStreamExt};

use super::{daemon_message, is_not_found, Docker};
use crate::log::Logger;
use crate::provider::{BuildError, BuildRequest, ByteStream, Change};

/// Upstream retries a failed pull 4 times, sleeping 1, 2, 3, 4 s.
const PULL_RETRIES: u64 = 4;

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
    /// The image ID of `image`, pulling it first when absent (upstream's
    /// node-image pull: 1 + 4 attempts, sleeping 1..4 s between them).
    pub async fn ensure_image(&self, image: &str, log: &Logger) -> anyhow::Result<String> {
        if let Some(found) = self.inspect_image_opt(image).await? {
            return found.id.ok_or_else(|| anyhow!("image {image} has no ID"));
        }
        log.debug(1, &format!("Pulling image: {image} ..."));
        let mut result = self.pull_image(image).await;
        for attempt in 1..=PULL_RETRIES {
            let Err(e) = &result else { break };
            tokio::time::sleep(Duration::from_secs(attempt)).await;
            log.debug(
                1,
                &format!("Trying again to pull image: {image:?} ... {e:#}"),
            );
            result = self.pull_image(image).await;
        }
        result.map_err(|e| anyhow!("failed to pull image {image:?}: {e:#}"))?;
        self.inspect_image_opt(image)
            .await?
            .and_then(|i| i.id)
            .ok_or_else(|| anyhow!("image {image} is not present after pulling it"))
    }

    /// One `docker save` of `images`, as a stream.
    pub fn save_images(&self, images: &[String]) -> ByteStream {
        let names: Vec<&str> = images.iter().map(String::as_str).collect();
        self.api
            .export_images(&names)
            .map_err(|e| anyhow!("failed to save images: {}", daemon_message(&e)))
            .boxed()
    }

    /// `docker commit` of `container` as `repo:tag` with the image config of
    /// `config_of` (see [`commit_config`]); returns the new image's ID.
    pub async fn commit_with_config_of(
        &self,
        container: &str,
        repo: &str,
        tag: &str,
        config_of: &str,
    ) -> anyhow::Result<String> {
        let config = self
            .inspect_image_opt(config_of)
            .await?
            .and_then(|i| i.config)
            .ok_or_else(|| anyhow!("image {config_of} has no config"))?;
        self.commit_container_as(container, repo, tag, commit_config(&config))
            .await
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

/// The image config to commit the preloading node with: the derived image's
/// own entrypoint, command, environment, stop signal and labels, so nothing
/// of the build container (its TTY, hostname, extra env) leaks in.
pub fn commit_config(image: &ImageConfig) -> ContainerConfig {
    ContainerConfig {
        entrypoint: image.entrypoint.clone(),
        cmd: image.cmd.clone(),
        env: image.env.clone(),
        stop_signal: image.stop_signal.clone(),
        labels: image.labels.clone(),
        working_dir: image.working_dir.clone(),
        user: image.user.clone(),
        ..Default::default()
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

    #[test]
    fn commit_keeps_the_images_own_config() {
        let image = ImageConfig {
            entrypoint: Some(vec![
                "/usr/local/bin/entrypoint".into(),
                "/sbin/init".into(),
            ]),
            cmd: None,
            env: Some(vec![
                "container=docker".into(),
                "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs".into(),
            ]),
            stop_signal: Some("SIGRTMIN+3".into()),
            labels: Some(std::collections::HashMap::from([(
                "dev.kind-sysbox.node-image.context".to_string(),
                "sha256:c".to_string(),
            )])),
            working_dir: Some("/".into()),
            user: Some(String::new()),
            shell: Some(vec!["/bin/sh".into()]),
            ..Default::default()
        };
        let c = commit_config(&image);
        assert_eq!(c.entrypoint, image.entrypoint);
        assert_eq!(c.cmd, None);
        assert_eq!(c.env, image.env);
        assert_eq!(c.stop_signal.as_deref(), Some("SIGRTMIN+3"));
        assert_eq!(c.labels, image.labels);
        assert_eq!(c.working_dir.as_deref(), Some("/"));
        // Nothing of a running container's own config.
        assert_eq!(
            (
                c.tty,
                c.hostname.as_deref(),
                c.open_stdin,
                c.image.as_deref()
            ),
            (None, None, None, None)
        );
    }
}
