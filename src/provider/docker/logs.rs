//! What `kind export logs` reads from Docker itself (not through an exec
//! in a node): `docker info`, `docker inspect <node>`, `docker logs <node>`
//! and a node directory as a tar stream from the archive API, unpacked on
//! the host as it arrives.
//!
//! Failures read as the docker CLI command upstream runs would have failed
//! (`command "docker logs <node>" failed with error: …`), so the aggregated
//! report looks like upstream's.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, Context as _};
use bollard::container::LogOutput;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{
    DownloadFromContainerOptionsBuilder, InspectContainerOptions, LogsOptionsBuilder,
};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;

use super::{daemon_message, Docker};
use crate::provider::RunError;

/// Chunks in flight between the archive download and the unpacker.
const ARCHIVE_CHANNEL_DEPTH: usize = 16;

/// The docker CLI prints the daemon's refusal and exits 1.
fn cli_failure(argv: &[&str], e: &bollard::errors::Error) -> RunError {
    RunError {
        argv: argv.iter().map(|a| a.to_string()).collect(),
        reason: CLI_REFUSED.into(),
        output: format!("{}\n", daemon_message(e)),
    }
}

/// How a docker CLI command the daemon refused ends.
pub const CLI_REFUSED: &str = "exit status 1";

/// JSON indented with four spaces, as the docker CLI prints it.
fn docker_cli_json<T: Serialize>(value: &T) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    value.serialize(&mut ser)?;
    out.push(b'\n');
    Ok(out)
}

impl Docker {
    /// The daemon's `/info` (what `docker info` renders) as JSON.
    pub async fn info_json(&self) -> anyhow::Result<Vec<u8>> {
        let info = self
            .api()
            .info()
            .await
            .map_err(|e| cli_failure(&["docker", "info"], &e))?;
        docker_cli_json(&info)
    }

    async fn inspect_for_logs(&self, node: &str) -> Result<ContainerInspectResponse, RunError> {
        self.api()
            .inspect_container(node, None::<InspectContainerOptions>)
            .await
            .map_err(|e| cli_failure(&["docker", "inspect", node], &e))
    }

    /// `docker inspect <node>`: a JSON array holding the one container.
    pub async fn inspect_json(&self, node: &str) -> anyhow::Result<Vec<u8>> {
        let inspect = self.inspect_for_logs(node).await?;
        docker_cli_json(&[inspect])
    }

    /// The OCI runtime Docker runs the node with (`HostConfig.Runtime`).
    pub async fn node_runtime(&self, node: &str) -> anyhow::Result<String> {
        let inspect = self.inspect_for_logs(node).await?;
        Ok(inspect
            .host_config
            .and_then(|h| h.runtime)
            .unwrap_or_default())
    }

    /// `docker logs <node>` (stdout and stderr) written to `path` as it is read.
    pub async fn write_container_log(&self, node: &str, path: &Path) -> anyhow::Result<()> {
        let mut file = tokio::fs::File::create(path)
            .await
            .with_context(|| format!("failed to create {}", path.display()))?;
        let opts = LogsOptionsBuilder::new().stdout(true).stderr(true).build();
        let mut stream = self.api().logs(node, Some(opts));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| cli_failure(&["docker", "logs", node], &e))?;
            let bytes = match chunk {
                LogOutput::StdOut { message }
                | LogOutput::StdErr { message }
                | LogOutput::Console { message }
                | LogOutput::StdIn { message } => message,
            };
            tokio::io::AsyncWriteExt::write_all(&mut file, &bytes)
                .await
                .with_context(|| format!("error writing to {}", path.display()))?;
        }
        Ok(())
    }

    /// Copy the contents of `node_dir` (absolute, in the node) into
    /// `host_dir` through the archive API, which also reads stopped
    /// containers. Returns the warnings about entries not materialised.
    pub async fn extract_node_dir(
        &self,
        node: &str,
        node_dir: &str,
        host_dir: &Path,
    ) -> anyhow::Result<Vec<String>> {
        let opts = DownloadFromContainerOptionsBuilder::new()
            .path(node_dir)
            .build();
        let mut stream = self.api().download_from_container(node, Some(opts)).boxed();
        // The first chunk tells whether the daemon accepted the request;
        // a refusal is reported like the `docker cp` that would have failed.
        let cp_source = format!("{node}:{node_dir}");
        let first = match stream.next().await {
            Some(Ok(b)) => b,
            Some(Err(e)) => return Err(cli_failure(&["docker", "cp", &cp_source, "-"], &e).into()),
            None => Bytes::new(),
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(ARCHIVE_CHANNEL_DEPTH);
        let unpack_dir = host_dir.to_path_buf();
        let root = Path::new(node_dir)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let node_dir_owned = node_dir.trim_end_matches('/').to_string();
        let unpack = tokio::task::spawn_blocking(move || {
            let reader = ChannelReader { rx, pending: first };
            untar(reader, &unpack_dir, &root, &node_dir_owned)
        });
        let feed = async {
            while let Some(chunk) = stream.next().await {
                let item = chunk.map_err(|e| daemon_message(&e));
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
            drop(tx);
        };
        let ((), unpacked) = tokio::join!(feed, unpack);
        unpacked
            .map_err(|e| anyhow!("unpacking task failed: {e}"))?
            .with_context(|| format!("Untarring {node_dir:?}"))
    }
}

/// A blocking `Read` over the chunks the async side forwards.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
    pending: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.pending = chunk,
                Some(Err(msg)) => return Err(std::io::Error::other(msg)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending = self.pending.slice(n..);
        Ok(n)
    }
}

/// A link met in the archive, materialised after everything else is
/// unpacked (the archive API keeps links; upstream's `tar -h
/// --hard-dereference` stores the files they point at).
struct PendingLink {
    entry: String,
    at: PathBuf,
    /// Where the linked file is on the host, if inside the copied tree.
    target: Option<PathBuf>,
}

/// Entry names relative to the copied directory: the archive API roots them
/// at the directory's own name (`log/apt/…` for `/var/log`).
fn relative_entry(name: &Path, root: &str) -> Option<PathBuf> {
    let mut parts = name.components().peekable();
    if let Some(Component::CurDir) = parts.peek() {
        parts.next();
    }
    match parts.next() {
        Some(Component::Normal(first)) if first == root => {}
        _ => return None,
    }
    let mut rel = PathBuf::new();
    for part in parts {
        match part {
            Component::Normal(p) => rel.push(p),
            Component::CurDir => {}
            // Never write outside the output directory.
            _ => return None,
        }
    }
    Some(rel)
}

/// Lexically resolve a symlink's target (absolute in the node, or relative
/// to the link) to a path under `host_dir`, when it is inside the copied
/// node directory.
fn link_target_on_host(
    link_rel: &Path,
    target: &Path,
    node_dir: &str,
    host_dir: &Path,
) -> Option<PathBuf> {
    let in_node = if target.is_absolute() {
        target.to_path_buf()
    } else {
        Path::new(node_dir)
            .join(link_rel.parent().unwrap_or(Path::new("")))
            .join(target)
    };
    let mut resolved: Vec<std::ffi::OsString> = Vec::new();
    for part in in_node.components() {
        match part {
            Component::Normal(p) => resolved.push(p.to_os_string()),
            Component::ParentDir => {
                resolved.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let resolved: PathBuf = resolved.iter().collect();
    let base: PathBuf = Path::new(node_dir)
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    let rel = resolved.strip_prefix(&base).ok()?;
    Some(host_dir.join(rel))
}

fn untar(
    reader: impl Read,
    host_dir: &Path,
    root: &str,
    node_dir: &str,
) -> anyhow::Result<Vec<String>> {
    let mut warnings = Vec::new();
    let mut links = Vec::new();
    let mut archive = tar::Archive::new(reader);
    for entry in archive
        .entries()
        .map_err(|e| anyhow!("tar reading error: {e}"))?
    {
        let mut entry = entry.map_err(|e| anyhow!("tar reading error: {e}"))?;
        let name = entry
            .path()
            .map_err(|e| anyhow!("tar reading error: {e}"))?
            .into_owned();
        let shown = name.to_string_lossy().into_owned();
        let Some(rel) = relative_entry(&name, root) else {
            warnings.push(format!(
                "tar file entry {shown} is outside {node_dir}; skipped"
            ));
            continue;
        };
        let abs = host_dir.join(&rel);
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = abs.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                // Keep the node's mode, but always readable by whoever exported.
                let mode = entry.header().mode().unwrap_or(0o644) | 0o600;
                let mut file = open_for_write(&abs, mode)?;
                let want = entry.size();
                let n = std::io::copy(&mut entry, &mut file)
                    .map_err(|e| anyhow!("error writing to {}: {e}", abs.display()))?;
                if n != want {
                    anyhow::bail!("only wrote {n} bytes to {}; expected {want}", abs.display());
                }
            }
            tar::EntryType::Directory => std::fs::create_dir_all(&abs)?,
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let Some(target) = entry.link_name().ok().flatten().map(|t| t.into_owned()) else {
                    warnings.push(format!("tar file entry {shown} is a link without a target"));
                    continue;
                };
                let target = if kind == tar::EntryType::Link {
                    // Hard link names are archive paths, like entry names.
                    relative_entry(&target, root).map(|r| host_dir.join(r))
                } else {
                    link_target_on_host(&rel, &target, node_dir, host_dir)
                };
                links.push(PendingLink {
                    entry: shown,
                    at: abs,
                    target,
                });
            }
            other => warnings.push(format!(
                "tar file entry {shown} contained unsupported file type {}",
                other.as_byte()
            )),
        }
    }
    materialise_links(links, &mut warnings)?;
    Ok(warnings)
}

fn open_for_write(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(mode & 0o7777)
        .open(path)
}

/// Copy the files links point at; chains resolve over several rounds.
fn materialise_links(
    mut links: Vec<PendingLink>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<()> {
    loop {
        let before = links.len();
        let mut waiting = Vec::new();
        for link in links {
            match &link.target {
                Some(t) if t.is_file() => {
                    if let Some(parent) = link.at.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::copy(t, &link.at)
                        .map_err(|e| anyhow!("error writing to {}: {e}", link.at.display()))?;
                }
                _ => waiting.push(link),
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        if waiting.len() == before {
            for link in waiting {
                warnings.push(format!(
                    "tar file entry {} links to a file that is not in the copied directory; skipped",
                    link.entry
                ));
            }
            return Ok(());
        }
        links = waiting;
    }
}

/// Write `content` to `path`, creating parent directories (upstream's
/// FileOnHost).
pub async fn write_file_on_host(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .with_context(|| format!("failed to create {}", parent.display()))?;
    }
    let mut file = tokio::fs::File::create(path)
        .await
        .with_context(|| format!("failed to create {}", path.display()))?;
    tokio::io::AsyncWriteExt::write_all(&mut file, content)
        .await
        .with_context(|| format!("error writing to {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(if *kind == tar::EntryType::Directory {
                0o755
            } else {
                0o640
            });
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            // set_path refuses `..`; write such names raw, as a hostile archive would.
            let raw = name.as_bytes();
            h.as_old_mut().name[..raw.len()].copy_from_slice(raw);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn unpacks_files_dirs_and_dereferences_links_inside_the_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tar_of(&[
            ("log/", tar::EntryType::Directory, b"", None),
            ("log/pods/", tar::EntryType::Directory, b"", None),
            (
                "log/pods/p_0.log",
                tar::EntryType::Regular,
                b"pod says hi\n",
                None,
            ),
            ("log/containers/", tar::EntryType::Directory, b"", None),
            (
                "log/containers/c.log",
                tar::EntryType::Symlink,
                b"",
                Some("/var/log/pods/p_0.log"),
            ),
            (
                "log/rel.log",
                tar::EntryType::Symlink,
                b"",
                Some("pods/p_0.log"),
            ),
            (
                "log/hard.log",
                tar::EntryType::Link,
                b"",
                Some("log/pods/p_0.log"),
            ),
            (
                "log/outside",
                tar::EntryType::Symlink,
                b"",
                Some("/etc/passwd"),
            ),
            ("log/fifo", tar::EntryType::Fifo, b"", None),
            ("log/../escape", tar::EntryType::Regular, b"x", None),
        ]);
        let warnings = untar(data.as_slice(), tmp.path(), "log", "/var/log").unwrap();
        let read = |p: &str| std::fs::read_to_string(tmp.path().join(p)).unwrap();
        assert_eq!(read("pods/p_0.log"), "pod says hi\n");
        assert_eq!(read("containers/c.log"), "pod says hi\n");
        assert_eq!(read("rel.log"), "pod says hi\n");
        assert_eq!(read("hard.log"), "pod says hi\n");
        assert!(!tmp.path().join("outside").exists());
        assert!(!tmp.path().join("fifo").exists());
        assert!(!tmp.path().parent().unwrap().join("escape").exists());
        assert_eq!(
            warnings,
            [
                "tar file entry log/fifo contained unsupported file type 54",
                "tar file entry log/../escape is outside /var/log; skipped",
                "tar file entry log/outside links to a file that is not in the copied directory; skipped",
            ]
        );
    }

    #[test]
    fn a_short_archive_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let mut data = tar_of(&[("log/big", tar::EntryType::Regular, &[7u8; 4096], None)]);
        data.truncate(1024);
        assert!(untar(data.as_slice(), tmp.path(), "log", "/var/log").is_err());
    }

    #[test]
    fn json_is_indented_like_the_docker_cli() {
        let out = docker_cli_json(&serde_json::json!([{"Id": "x"}])).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[\n    {\n        \"Id\": \"x\"\n    }\n]\n"
        );
    }
}
