//! One handler per command; each wraps its failure as upstream does.

use std::path::Path;

use anyhow::Context as _;

use super::args::{
    BuildCommand, Cli, Command, CreateCommand, DeleteCommand, ExportCommand, GetCommand,
    LoadCommand,
};
use super::{help_for, suggestions, Failure, KIND_COMPAT_VERSION};
use crate::cluster::{self, CreateOptions};
use crate::kubeconfig;
use crate::log::Logger;
use crate::provider::Docker;

const TOP_LEVEL: [&str; 9] = [
    "build", "create", "delete", "doctor", "export", "get", "help", "load", "version",
];

/// `--name` when given, else KIND_CLUSTER_NAME when non-empty, else `default`.
pub fn resolve_name(flag: Option<String>, env: Option<String>, default: &str) -> String {
    flag.or_else(|| env.filter(|v| !v.is_empty()))
        .unwrap_or_else(|| default.to_string())
}

fn name_from(flag: Option<String>) -> String {
    resolve_name(
        flag,
        std::env::var("KIND_CLUSTER_NAME").ok(),
        crate::config::DEFAULT_CLUSTER_NAME,
    )
}

fn subcommand_required(group: &str) -> Failure {
    Failure::HelpThen(
        help_for(&[group]),
        anyhow::anyhow!("Subcommand is required"),
    )
}

pub async fn dispatch(cli: Cli, log: &Logger) -> Result<(), Failure> {
    if cli.version {
        println!("kind version {KIND_COMPAT_VERSION}");
        return Ok(());
    }
    let quiet = cli.quiet;
    let Some(command) = cli.command else {
        print!("{}", help_for(&[]));
        return Ok(());
    };
    match command {
        Command::Version { .. } => {
            if quiet {
                println!("{KIND_COMPAT_VERSION}");
            } else {
                println!("{}", version_line());
            }
            Ok(())
        }
        Command::Unknown(args) => {
            let typed = args.first().cloned().unwrap_or_default();
            let mut msg = format!("unknown command {typed:?} for \"kind\"");
            let s = suggestions(&typed, &TOP_LEVEL);
            if !s.is_empty() {
                msg.push_str("\n\nDid you mean this?\n");
                for c in s {
                    msg.push_str(&format!("\t{c}\n"));
                }
            }
            Err(Failure::Error(anyhow::anyhow!(msg)))
        }
        Command::Doctor => crate::doctor::run().await.map_err(Failure::Error),
        Command::Build { command } => match command {
            Some(BuildCommand::NodeImage(flags)) => {
                build_node_image(flags, log).await.map_err(Failure::Error)
            }
            _ => Err(subcommand_required("build")),
        },
        Command::Load { command } => match command {
            Some(LoadCommand::DockerImage {
                name,
                nodes,
                images,
            }) => {
                if images.is_empty() {
                    return Err(Failure::Error(anyhow::anyhow!(
                        "a list of image names is required"
                    )));
                }
                let docker = Docker::connect_logged(log).await?;
                crate::images::load::load_docker_images(
                    &docker,
                    &name_from(name),
                    &images,
                    &nodes,
                    log,
                )
                .await
                .map_err(Failure::Error)
            }
            Some(LoadCommand::ImageArchive {
                name,
                nodes,
                archives,
            }) => {
                if archives.is_empty() {
                    return Err(Failure::Error(anyhow::anyhow!(
                        "name of image archive is required"
                    )));
                }
                let docker = Docker::connect_logged(log).await?;
                crate::images::load::load_image_archives(
                    &docker,
                    &name_from(name),
                    &archives,
                    &nodes,
                    log,
                )
                .await
                .map_err(Failure::Error)
            }
            // `load` takes no arguments of its own, so cobra reports the word.
            Some(LoadCommand::Unknown(args)) => Err(Failure::Error(anyhow::anyhow!(
                "unknown command {:?} for \"kind load\"",
                args.first().cloned().unwrap_or_default()
            ))),
            None => Err(subcommand_required("load")),
        },
        Command::Create { command } => match command {
            Some(CreateCommand::Cluster(flags)) => {
                let opts = CreateOptions {
                    name: resolve_name(flags.name, std::env::var("KIND_CLUSTER_NAME").ok(), ""),
                    config: flags.config,
                    image: flags.image,
                    retain: flags.retain,
                    wait: flags.wait,
                    kubeconfig: flags.kubeconfig,
                };
                cluster::create(&opts, log)
                    .await
                    .context("failed to create cluster")
                    .map_err(Failure::Error)
            }
            _ => Err(subcommand_required("create")),
        },
        Command::Delete { command } => match command {
            Some(DeleteCommand::Cluster { name, kubeconfig }) => {
                let name = name_from(name);
                delete_cluster(&name, kubeconfig.as_deref(), log)
                    .await
                    .map_err(Failure::Error)
            }
            Some(DeleteCommand::Clusters {
                all,
                kubeconfig,
                names,
            }) => delete_clusters(all, names, kubeconfig.as_deref(), log)
                .await
                .map_err(Failure::Error),
            _ => Err(subcommand_required("delete")),
        },
        Command::Get { command } => match command {
            Some(GetCommand::Clusters) => get_clusters(log).await.map_err(Failure::Error),
            Some(GetCommand::Nodes { name, all_clusters }) => {
                get_nodes(&name_from(name), all_clusters, log)
                    .await
                    .map_err(Failure::Error)
            }
            Some(GetCommand::Kubeconfig { name, internal }) => {
                let docker = Docker::connect_logged(log).await?;
                let text = cluster::kubeconfig_for(&docker, &name_from(name), internal).await?;
                // Upstream prints the YAML and then one more newline.
                println!("{text}");
                Ok(())
            }
            _ => Err(subcommand_required("get")),
        },
        Command::Export { command } => match command {
            Some(ExportCommand::Kubeconfig {
                name,
                kubeconfig,
                internal,
            }) => {
                let name = name_from(name);
                let docker = Docker::connect_logged(log).await?;
                cluster::export_kubeconfig(&docker, &name, internal, kubeconfig.as_deref()).await?;
                log.info(&format!(
                    "Set kubectl context to {:?}",
                    kubeconfig::key(&name)
                ));
                Ok(())
            }
            _ => Err(subcommand_required("export")),
        },
    }
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

async fn build_node_image(flags: super::args::BuildNodeImage, log: &Logger) -> anyhow::Result<()> {
    let result = async {
        crate::images::build::check_build_source(
            flags.build_type.as_deref(),
            flags.kubernetes_source.as_deref(),
        )?;
        if let Some(arch) = &flags.arch {
            let host = host_arch();
            if arch != host {
                anyhow::bail!("--arch {arch} is not supported: node images are derived for the host architecture ({host})");
            }
        }
        let docker = Docker::connect_logged(log).await?;
        let opts = crate::images::build::BuildOptions {
            base_image: flags.base_image,
            image: flags.image,
            preload: flags.preload,
            preload_archives: flags.preload_archive,
        };
        crate::images::build::build_node_image(&docker, &opts, log).await
    };
    result.await.context("error building node image")
}

async fn delete_cluster(name: &str, kubeconfig: Option<&Path>, log: &Logger) -> anyhow::Result<()> {
    log.info(&format!("Deleting cluster {name:?} ..."));
    let docker = Docker::connect_logged(log).await?;
    cluster::delete(&docker, name, kubeconfig, log)
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
    let docker = Docker::connect_logged(log).await?;
    let names = if all {
        docker
            .list_clusters()
            .await
            .context("failed listing clusters for delete")?
    } else {
        names
    };
    let mut deleted = Vec::new();
    for name in names {
        match cluster::delete(&docker, &name, kubeconfig, log).await {
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

async fn get_clusters(log: &Logger) -> anyhow::Result<()> {
    let docker = Docker::connect_logged(log).await?;
    let clusters = docker
        .list_clusters()
        .await
        .context("failed to list clusters")?;
    if clusters.is_empty() {
        log.info("No kind clusters found.");
    }
    for c in clusters {
        println!("{c}");
    }
    Ok(())
}

async fn get_nodes(name: &str, all_clusters: bool, log: &Logger) -> anyhow::Result<()> {
    let docker = Docker::connect_logged(log).await?;
    let clusters = if all_clusters {
        docker
            .list_clusters()
            .await
            .context("failed to list clusters")?
    } else {
        vec![name.to_string()]
    };
    let mut printed = false;
    for c in clusters {
        for node in docker
            .list_nodes(&c)
            .await
            .context("failed to list nodes")?
        {
            println!("{}", node.name);
            printed = true;
        }
    }
    if !printed {
        if all_clusters {
            log.info("No kind nodes for any cluster.");
        } else {
            log.info(&format!("No kind nodes found for cluster {name:?}."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_precedence_is_flag_then_env_then_default() {
        assert_eq!(
            resolve_name(Some("a".into()), Some("b".into()), "kind"),
            "a"
        );
        assert_eq!(resolve_name(None, Some("b".into()), "kind"), "b");
        assert_eq!(resolve_name(None, Some(String::new()), "kind"), "kind");
        assert_eq!(resolve_name(None, None, ""), "");
    }

    #[test]
    fn version_line_has_four_fields() {
        let line = version_line();
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields[0], "kind");
        assert_eq!(fields[1], format!("v{KIND_COMPAT_VERSION}"));
        assert_eq!(fields.len(), 4);
    }
}
