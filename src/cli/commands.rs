//! One handler per command; each wraps its failure as upstream does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use super::cobra::Invocation;
use super::output::{self, Format};
use super::tree::{self, CommandId};
use super::{out, KIND_COMPAT_VERSION};
use crate::cluster::{self, CreateOptions};
use crate::kubeconfig;
use crate::log::Logger;
use crate::provider;

/// `--name` after KIND_CLUSTER_NAME is considered (kind's `OverrideDefaultName`).
fn cluster_name(inv: &Invocation) -> String {
    inv.cluster_name(std::env::var("KIND_CLUSTER_NAME").ok())
}

/// A string flag where upstream treats the empty string as "not given".
fn non_empty(inv: &Invocation, flag: &str) -> Option<String> {
    Some(inv.flags.string(flag)).filter(|s| !s.is_empty())
}

/// Run one parsed command. One arm per [`CommandId`]; a new command adds
/// its node in `tree.rs` and its arm here.
pub async fn dispatch(inv: &Invocation, log: &Logger) -> anyhow::Result<()> {
    match inv.command {
        CommandId::Version => {
            // Upstream prints the bare version when its logger's V(0) is off:
            // the -q pre-scan (not --quiet parsed later) or a negative -v.
            if inv.quiet_prescan || inv.verbosity < 0 {
                out(format!("{KIND_COMPAT_VERSION}\n"));
            } else {
                out(format!("{}\n", version_line()));
            }
            Ok(())
        }
        CommandId::CompletionBash => completion(clap_complete::Shell::Bash),
        CommandId::CompletionZsh => completion(clap_complete::Shell::Zsh),
        CommandId::CompletionFish => completion(clap_complete::Shell::Fish),
        CommandId::CompletionPowerShell => completion(clap_complete::Shell::PowerShell),
        CommandId::BuildNodeImage => build_node_image(inv, log).await,
        CommandId::LoadDockerImage => {
            let provider = provider::connect(log).await?;
            crate::images::load::load_docker_images(
                provider.as_ref(),
                &cluster_name(inv),
                &inv.args,
                &inv.flags.strings("nodes"),
                log,
            )
            .await
        }
        CommandId::LoadImageArchive => {
            let archives: Vec<PathBuf> = inv.args.iter().map(PathBuf::from).collect();
            let provider = provider::connect(log).await?;
            crate::images::load::load_image_archives(
                provider.as_ref(),
                &cluster_name(inv),
                &archives,
                &inv.flags.strings("nodes"),
                log,
            )
            .await
        }
        CommandId::CreateCluster => {
            let opts = CreateOptions {
                name: cluster_name(inv),
                config: non_empty(inv, "config"),
                image: non_empty(inv, "image"),
                retain: inv.flags.bool("retain"),
                // A negative wait means no wait, as in upstream.
                wait: Duration::from_nanos(inv.flags.duration_nanos("wait").max(0) as u64),
                kubeconfig: non_empty(inv, "kubeconfig").map(PathBuf::from),
                ephemeral: inv.flags.bool("ephemeral"),
                network: non_empty(inv, "network"),
            };
            cluster::create(&opts, log)
                .await
                .context("failed to create cluster")
        }
        CommandId::CreateNode => {
            let opts = cluster::node_add::AddOptions {
                cluster: cluster_name(inv),
                role: inv.flags.string("role"),
                count: 1,
                image: non_empty(inv, "image"),
                retain: inv.flags.bool("retain"),
            };
            let provider = provider::connect(log).await?;
            let added = cluster::node_add::add_nodes(provider.as_ref(), &opts, log)
                .await
                .context("failed to create node")?;
            log.info(&format!(
                "Added nodes: {}",
                crate::gotext::quote_list(&added)
            ));
            Ok(())
        }
        CommandId::DeleteNode => {
            let provider = provider::connect(log).await?;
            cluster::node_delete::delete_nodes(
                provider.as_ref(),
                &cluster_name(inv),
                &inv.args,
                log,
            )
            .await
            .context("failed to delete node")
        }
        CommandId::ResizeCluster => {
            if !inv.flags.changed("workers") {
                anyhow::bail!("--workers is required: the number of worker nodes wanted");
            }
            let opts = cluster::resize::ResizeOptions {
                cluster: cluster_name(inv),
                workers: inv.flags.int32("workers").into(),
                image: non_empty(inv, "image"),
                retain: inv.flags.bool("retain"),
            };
            let provider = provider::connect(log).await?;
            cluster::resize::resize(provider.as_ref(), &opts, log)
                .await
                .context("failed to resize cluster")
        }
        CommandId::StopCluster => {
            let provider = provider::connect(log).await?;
            cluster::lifecycle::stop(provider.as_ref(), &cluster_name(inv), log)
                .await
                .context("failed to stop cluster")
        }
        CommandId::StartCluster => {
            let wait = inv.flags.duration_nanos("wait");
            if wait < 0 {
                anyhow::bail!("invalid --wait: it must not be negative (0 does not wait)");
            }
            let provider = provider::connect(log).await?;
            cluster::lifecycle::start(
                provider.as_ref(),
                &cluster_name(inv),
                Duration::from_nanos(wait as u64),
                log,
            )
            .await
            .context("failed to start cluster")
        }
        CommandId::DeleteCluster => {
            let kubeconfig = non_empty(inv, "kubeconfig").map(PathBuf::from);
            delete_cluster(&cluster_name(inv), kubeconfig.as_deref(), log).await
        }
        CommandId::DeleteClusters => {
            let kubeconfig = non_empty(inv, "kubeconfig").map(PathBuf::from);
            delete_clusters(
                inv.flags.bool("all"),
                inv.args.clone(),
                kubeconfig.as_deref(),
                log,
            )
            .await
        }
        CommandId::GetClusters => {
            let format = output::Format::parse(&inv.flags.string("output"))?;
            get_clusters(format, log).await
        }
        CommandId::GetNodes => {
            let format = output::Format::parse(&inv.flags.string("output"))?;
            get_nodes(
                &cluster_name(inv),
                inv.flags.bool("all-clusters"),
                format,
                log,
            )
            .await
        }
        CommandId::GetKubeconfig => {
            let provider = provider::connect(log).await?;
            let text = cluster::kubeconfig_for(
                provider.as_ref(),
                &cluster_name(inv),
                inv.flags.bool("internal"),
            )
            .await?;
            // Upstream prints the YAML and then one more newline.
            out(format!("{text}\n"));
            Ok(())
        }
        CommandId::Doctor => Ok(crate::doctor::run().await?),
        CommandId::ExportLogs => {
            let provider = provider::connect(log).await?;
            let dir = inv.args.first().map(PathBuf::from);
            cluster::logs::export(
                provider.as_ref(),
                &cluster_name(inv),
                dir,
                &version_line(),
                log,
            )
            .await?;
            Ok(())
        }
        CommandId::ExportKubeconfig => {
            let name = cluster_name(inv);
            let kubeconfig = non_empty(inv, "kubeconfig").map(PathBuf::from);
            let provider = provider::connect(log).await?;
            cluster::export_kubeconfig(
                provider.as_ref(),
                &name,
                inv.flags.bool("internal"),
                kubeconfig.as_deref(),
            )
            .await?;
            log.info(&format!(
                "Set kubectl context to {:?}",
                kubeconfig::key(&name)
            ));
            Ok(())
        }
    }
}

fn completion(shell: clap_complete::Shell) -> anyhow::Result<()> {
    out(super::completion::script(&tree::root(), shell));
    Ok(())
}

/// `kind v<version> <implementation> <os>/<arch>`; the third field names
/// this implementation where upstream names its Go runtime.
/// The host architecture in Go's spelling (`amd64`, `arm64`).
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

pub fn version_line() -> String {
    let arch = host_arch();
    format!(
        "kind v{KIND_COMPAT_VERSION} kind-sysbox-{} {}/{arch}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
}

async fn build_node_image(inv: &Invocation, log: &Logger) -> anyhow::Result<()> {
    let result = async {
        crate::images::build::check_build_source(
            non_empty(inv, "type").as_deref(),
            inv.args.first().map(String::as_str),
        )?;
        if let Some(arch) = non_empty(inv, "arch") {
            let host = host_arch();
            if arch != host {
                anyhow::bail!("--arch {arch} is not supported: node images are derived for the host architecture ({host})");
            }
        }
        let provider = provider::connect(log).await?;
        let opts = crate::images::build::BuildOptions {
            base_image: inv.flags.string("base-image"),
            image: inv.flags.string("image"),
            preload: inv.flags.strings("preload"),
            preload_archives: inv
                .flags
                .strings("preload-archive")
                .into_iter()
                .map(PathBuf::from)
                .collect(),
        };
        crate::images::build::build_node_image(provider.as_ref(), &opts, log).await
    };
    result.await.context("error building node image")
}

async fn delete_cluster(name: &str, kubeconfig: Option<&Path>, log: &Logger) -> anyhow::Result<()> {
    log.info(&format!("Deleting cluster {name:?} ..."));
    let provider = provider::connect(log).await?;
    cluster::delete(provider.as_ref(), name, kubeconfig, log)
        .await
        .with_context(|| format!("failed to delete cluster {name:?}"))
}

async fn delete_clusters(
    all: bool,
    names: Vec<String>,
    kubeconfig: Option<&Path>,
    log: &Logger,
) -> anyhow::Result<()> {
    if !all && names.is_empty() {
        anyhow::bail!("no cluster names provided");
    }
    let provider = provider::connect(log).await?;
    let names = if all {
        provider
            .list_clusters()
            .await
            .context("failed listing clusters for delete")?
    } else {
        names
    };
    let mut deleted = Vec::new();
    for name in names {
        match cluster::delete(provider.as_ref(), &name, kubeconfig, log).await {
            Ok(()) => deleted.push(name),
            Err(e) => log.info(&format!("failed to delete cluster {name:?}: {e:#}")),
        }
    }
    log.info(&format!(
        "Deleted clusters: {}",
        crate::gotext::quote_list(&deleted)
    ));
    Ok(())
}

async fn get_clusters(format: Format, log: &Logger) -> anyhow::Result<()> {
    let provider = provider::connect(log).await?;
    if format != Format::Names {
        let items = cluster::listing::gather_clusters(provider.as_ref())
            .await
            .context("failed to list clusters")?;
        if items.is_empty() && format == Format::Wide {
            log.info("No kind clusters found.");
        } else {
            out(output::clusters(format, &items));
        }
        return Ok(());
    }
    let clusters = provider
        .list_clusters()
        .await
        .context("failed to list clusters")?;
    if clusters.is_empty() {
        log.info("No kind clusters found.");
    }
    for c in clusters {
        out(format!("{c}\n"));
    }
    Ok(())
}

async fn get_nodes(
    name: &str,
    all_clusters: bool,
    format: Format,
    log: &Logger,
) -> anyhow::Result<()> {
    let provider = provider::connect(log).await?;
    if format != Format::Names {
        let items =
            cluster::listing::gather_nodes(provider.as_ref(), (!all_clusters).then_some(name))
                .await
                .context("failed to list nodes")?;
        if items.is_empty() && format == Format::Wide {
            no_nodes(name, all_clusters, log);
        } else {
            out(output::nodes(format, &items));
        }
        return Ok(());
    }
    let clusters = if all_clusters {
        provider
            .list_clusters()
            .await
            .context("failed to list clusters")?
    } else {
        vec![name.to_string()]
    };
    let mut printed = false;
    for c in clusters {
        for node in provider
            .list_nodes(&c)
            .await
            .context("failed to list nodes")?
        {
            out(format!("{}\n", node.name));
            printed = true;
        }
    }
    if !printed {
        no_nodes(name, all_clusters, log);
    }
    Ok(())
}

fn no_nodes(name: &str, all_clusters: bool, log: &Logger) {
    if all_clusters {
        log.info("No kind nodes for any cluster.");
    } else {
        log.info(&format!("No kind nodes found for cluster {name:?}."));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_line_has_four_fields() {
        let line = version_line();
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields[0], "kind");
        assert_eq!(fields[1], format!("v{KIND_COMPAT_VERSION}"));
        assert_eq!(fields.len(), 4);
    }
}
