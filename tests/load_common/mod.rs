//! Helpers shared by the `kind load` integration tests: tiny local images
//! (no registry), calling the library's load functions, and reading the
//! stand-in ctr's import calls.
#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kind_sysbox::log::{Buffer, Logger};
use kind_sysbox::provider::Docker;
use sha2::{Digest, Sha256};

use crate::common::{calls, docker, image_id, unique};

/// A local image removed when dropped.
pub struct TestImage {
    pub name: String,
}

impl TestImage {
    /// A one-layer image (`docker import` of a tar with one unique file),
    /// for the daemon's own platform.
    pub fn tiny(name: &str) -> TestImage {
        let tar = tar_with_file(
            "hello.txt",
            format!("{name} {}\n", unique("content")).as_bytes(),
        );
        let mut child = Command::new("docker")
            .args(["import", "-", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("docker import");
        child.stdin.take().unwrap().write_all(&tar).unwrap();
        assert!(child.wait().unwrap().success(), "docker import {name}");
        TestImage {
            name: name.to_string(),
        }
    }

    /// A one-layer image whose config says `linux/<arch>` (loaded from a
    /// hand-made docker-save archive: nothing is pulled or run).
    pub fn for_arch(name: &str, arch: &str) -> TestImage {
        let archive = docker_save_archive(
            name,
            arch,
            format!("{name} {}\n", unique("content")).as_bytes(),
        );
        let mut child = Command::new("docker")
            .args(["load"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("docker load");
        child.stdin.take().unwrap().write_all(&archive).unwrap();
        assert!(child.wait().unwrap().success(), "docker load {name}");
        TestImage {
            name: name.to_string(),
        }
    }

    pub fn id(&self) -> String {
        image_id(&self.name)
    }
}

impl Drop for TestImage {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rmi", "-f", &self.name])
            .output();
    }
}

/// A tar (ustar) holding one regular file.
pub fn tar_with_file(name: &str, content: &[u8]) -> Vec<u8> {
    tar_of(&[(name, content)])
}

/// A ustar archive of regular files (enough for docker import/load).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content) in files {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| *b as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(content);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

/// A docker-save (legacy format) archive of one image for `linux/<arch>`.
pub fn docker_save_archive(repo_tag: &str, arch: &str, content: &[u8]) -> Vec<u8> {
    let layer = tar_with_file("hello.txt", content);
    let diff_id = sha256_hex(&layer);
    let config = format!(
        r#"{{"architecture":"{arch}","os":"linux","config":{{}},"created":"2026-01-01T00:00:00Z","rootfs":{{"type":"layers","diff_ids":["sha256:{diff_id}"]}},"history":[{{"created":"2026-01-01T00:00:00Z"}}]}}"#
    );
    let config_hex = sha256_hex(config.as_bytes());
    let manifest = format!(
        r#"[{{"Config":"{config_hex}.json","RepoTags":["{repo_tag}"],"Layers":["{diff_id}/layer.tar"]}}]"#
    );
    let config_name = format!("{config_hex}.json");
    let layer_name = format!("{diff_id}/layer.tar");
    tar_of(&[
        (&config_name, config.as_bytes()),
        (&layer_name, &layer),
        ("manifest.json", manifest.as_bytes()),
    ])
}

/// `docker save <images…>` bytes, as the docker CLI produces them.
pub fn docker_save(images: &[&str]) -> Vec<u8> {
    let out = Command::new("docker")
        .arg("save")
        .args(images)
        .output()
        .expect("docker save");
    assert!(
        out.status.success(),
        "docker save {images:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Run one library call on a fresh runtime with a fresh client; returns the
/// error chain as the CLI prints it (`{:#}`) and everything logged.
pub fn with_docker<F, Fut>(verbosity: i32, f: F) -> (Result<(), String>, String)
where
    F: FnOnce(Docker, Logger) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let buf = Buffer::default();
    let log = Logger::new(Box::new(buf.clone()), false, verbosity, false);
    let result = rt.block_on(async {
        let docker = Docker::connect().await.expect("connect to docker");
        f(docker, log).await
    });
    (result.map_err(|e| format!("{e:#}")), buf.contents())
}

pub fn load_images(cluster: &str, images: &[&str], nodes: &[&str]) -> (Result<(), String>, String) {
    let images: Vec<String> = images.iter().map(|s| s.to_string()).collect();
    let nodes: Vec<String> = nodes.iter().map(|s| s.to_string()).collect();
    with_docker(0, |docker, log| async move {
        kind_sysbox::images::load::load_docker_images(&docker, cluster, &images, &nodes, &log).await
    })
}

pub fn load_archives(
    cluster: &str,
    archives: &[PathBuf],
    nodes: &[&str],
    verbosity: i32,
) -> (Result<(), String>, String) {
    let nodes: Vec<String> = nodes.iter().map(|s| s.to_string()).collect();
    with_docker(verbosity, |docker, log| async move {
        kind_sysbox::images::load::load_image_archives(&docker, cluster, archives, &nodes, &log)
            .await
    })
}

/// What an import read from the images inbox shows as its last argument
/// in [`imports`] (the file's name is random per load).
pub const INBOX_FILE: &str = "<inbox file>";

/// The node's `ctr … images import` calls: (argv, sha256 of the input,
/// ts_ns). The input is the file read from the images inbox (its path shown
/// as [`INBOX_FILE`]) or else stdin.
pub fn imports(node: &str) -> Vec<(Vec<String>, String, u128)> {
    calls(node)
        .into_iter()
        .filter(|c| {
            c["tool"] == "ctr"
                && c["argv"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "import"))
        })
        .map(|c| {
            let argv = c["argv"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .map(|a| {
                    if a.starts_with("/kind/images-inbox/load-") && a.ends_with(".tar") {
                        INBOX_FILE.to_string()
                    } else {
                        a
                    }
                })
                .collect();
            let ts: u128 = c["ts_ns"]
                .as_u64()
                .map(u128::from)
                .unwrap_or_else(|| c["ts_ns"].to_string().parse().unwrap());
            let sha = c
                .get("file_sha256")
                .unwrap_or(&c["stdin_sha256"])
                .as_str()
                .unwrap()
                .to_string();
            (argv, sha, ts)
        })
        .collect()
}

/// Bytes the node's last `ctr … images import` read (the inbox file, else
/// stdin).
pub fn import_bytes(node: &str) -> u64 {
    calls(node)
        .into_iter()
        .rfind(|c| {
            c["tool"] == "ctr"
                && c["argv"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "import"))
        })
        .and_then(|c| c.get("file_bytes").unwrap_or(&c["stdin_bytes"]).as_u64())
        .expect("an import")
}

/// The stand-in tools' calls of one node matching a prefix (`tool argv…`).
pub fn calls_starting(node: &str, prefix: &str) -> Vec<String> {
    crate::common::call_lines(node)
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

/// `crictl inspecti <image>` in the node -> the image ID, if known.
pub fn node_image_id(node: &str, image: &str) -> Option<String> {
    let out = Command::new("docker")
        .args(["exec", node, "crictl", "inspecti", image])
        .output()
        .expect("docker exec");
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v["status"]["id"].as_str().map(str::to_string)
}

/// Write bytes to a file in `dir`.
pub fn write_file(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).expect("write");
    p
}

/// `--platform=linux/<host arch>` as the load code passes it.
pub fn host_platform_flag() -> String {
    let arch = docker(&["info", "-f", "{{.Architecture}}"])
        .trim()
        .to_string();
    let go = match arch.as_str() {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("--platform=linux/{go}")
}
