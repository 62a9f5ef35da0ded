//! The command tree, flags and help texts (spec §1.2).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "kind",
    about = "kind is a tool for managing local Kubernetes clusters",
    long_about = "kind creates and manages local Kubernetes clusters using Docker container 'nodes'",
    disable_version_flag = true,
    after_help = "Nodes are unprivileged Sysbox system containers (kind-sysbox)."
)]
pub struct Cli {
    /// info log verbosity, higher value produces more output
    #[arg(
        short = 'v',
        long = "verbosity",
        global = true,
        default_value_t = 0,
        value_name = "int32"
    )]
    pub verbosity: i32,
    /// silence all stderr output
    #[arg(short = 'q', long = "quiet", global = true)]
    pub quiet: bool,
    /// version for kind
    #[arg(long = "version")]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build one of [node-image]
    Build {
        #[command(subcommand)]
        command: Option<BuildCommand>,
    },
    /// Creates one of [cluster]
    Create {
        #[command(subcommand)]
        command: Option<CreateCommand>,
    },
    /// Deletes one of [cluster]
    Delete {
        #[command(subcommand)]
        command: Option<DeleteCommand>,
    },
    /// Checks that this host can run Sysbox nodes (kind-sysbox only)
    Doctor,
    /// Exports one of [kubeconfig]
    Export {
        #[command(subcommand)]
        command: Option<ExportCommand>,
    },
    /// Gets one of [clusters, nodes, kubeconfig]
    Get {
        #[command(subcommand)]
        command: Option<GetCommand>,
    },
    /// Loads images into nodes
    Load {
        #[command(subcommand)]
        command: Option<LoadCommand>,
    },
    /// Prints the kind CLI version
    Version {
        /// Ignored, as upstream (kind version takes no arguments but does not check).
        #[arg(hide = true)]
        _args: Vec<String>,
    },
    #[command(external_subcommand)]
    Unknown(Vec<String>),
}

#[derive(Debug, Subcommand)]
pub enum BuildCommand {
    /// Build the node image
    #[command(name = "node-image")]
    NodeImage(BuildNodeImage),
    #[command(external_subcommand)]
    Unknown(Vec<String>),
}

#[derive(Debug, Args)]
pub struct BuildNodeImage {
    /// optionally specify one of 'url', 'file', 'release', 'ci' or 'source' as the type of build
    #[arg(long = "type", value_name = "string")]
    pub build_type: Option<String>,
    /// name:tag of the resulting image to be built
    #[arg(long = "image", value_name = "string", default_value = crate::images::build::DEFAULT_BUILD_IMAGE)]
    pub image: String,
    /// name:tag of the base image to use for the build
    #[arg(long = "base-image", value_name = "string", default_value = crate::images::build::DEFAULT_BASE_IMAGE)]
    pub base_image: String,
    /// architecture to build for, defaults to the host architecture
    #[arg(long = "arch", value_name = "string")]
    pub arch: Option<String>,
    /// images on the host to preload into the node image's containerd (repeatable, comma separated)
    #[arg(long = "preload", value_name = "strings", value_delimiter = ',')]
    pub preload: Vec<String>,
    /// image archives to preload into the node image's containerd (repeatable, comma separated)
    #[arg(
        long = "preload-archive",
        value_name = "strings",
        value_delimiter = ','
    )]
    pub preload_archive: Vec<PathBuf>,
    /// Kubernetes source to build from: not supported (build with upstream kind and pass --base-image)
    #[arg(hide = true)]
    pub kubernetes_source: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Loads docker images from host into nodes
    #[command(name = "docker-image")]
    DockerImage {
        /// the cluster context name
        #[arg(short = 'n', long = "name", value_name = "string")]
        name: Option<String>,
        /// comma separated list of nodes to load images into
        #[arg(long = "nodes", value_name = "strings", value_delimiter = ',')]
        nodes: Vec<String>,
        images: Vec<String>,
    },
    /// Loads docker image from archive into nodes
    #[command(name = "image-archive")]
    ImageArchive {
        /// the cluster context name
        #[arg(short = 'n', long = "name", value_name = "string")]
        name: Option<String>,
        /// comma separated list of nodes to load images into
        #[arg(long = "nodes", value_name = "strings", value_delimiter = ',')]
        nodes: Vec<String>,
        archives: Vec<PathBuf>,
    },
    #[command(external_subcommand)]
    Unknown(Vec<String>),
}

#[derive(Debug, Subcommand)]
pub enum CreateCommand {
    /// Creates a local Kubernetes cluster
    Cluster(CreateCluster),
    #[command(external_subcommand)]
    Unknown(Vec<String>),
}

#[derive(Debug, Args)]
pub struct CreateCluster {
    /// cluster name, overrides KIND_CLUSTER_NAME, config (default kind)
    #[arg(short = 'n', long = "name", value_name = "string")]
    pub name: Option<String>,
    /// path to a kind config file
    #[arg(long = "config", value_name = "string")]
    pub config: Option<String>,
    /// node docker image to use for booting the cluster
    #[arg(long = "image", value_name = "string")]
    pub image: Option<String>,
    /// retain nodes for debugging when cluster creation fails
    #[arg(long = "retain")]
    pub retain: bool,
    /// The length of time to wait for control plane node to be ready (default 0s). Non-zero values should contain a corresponding time unit (e.g. 1s, 2m, 3h).
    #[arg(long = "wait", value_name = "duration", value_parser = parse_go_duration, default_value = "0s", hide_default_value = true)]
    pub wait: Duration,
    /// sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config
    #[arg(long = "kubeconfig", value_name = "string")]
    pub kubeconfig: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DeleteCommand {
    /// Deletes a cluster
    Cluster {
        /// the cluster name
        #[arg(short = 'n', long = "name", value_name = "string")]
        name: Option<String>,
        /// sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config
        #[arg(long = "kubeconfig", value_name = "string")]
        kubeconfig: Option<PathBuf>,
    },
    /// Deletes one or more clusters
    Clusters {
        /// delete all clusters
        #[arg(short = 'A', long = "all")]
        all: bool,
        /// sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config
        #[arg(long = "kubeconfig", value_name = "string")]
        kubeconfig: Option<PathBuf>,
        names: Vec<String>,
    },
    #[command(external_subcommand)]
    Unknown(Vec<String>),
}

#[derive(Debug, Subcommand)]
pub enum GetCommand {
    /// Lists existing kind clusters by their name
    Clusters,
    /// Lists existing kind nodes by their name
    Nodes {
        /// the cluster context name
        #[arg(short = 'n', long = "name", value_name = "string")]
        name: Option<String>,
        /// If present, list all the available nodes across all cluster contexts. Current context is ignored even if specified with --name.
        #[arg(short = 'A', long = "all-clusters")]
        all_clusters: bool,
    },
    /// Prints cluster kubeconfig
    Kubeconfig {
        /// the cluster context name
        #[arg(short = 'n', long = "name", value_name = "string")]
        name: Option<String>,
        /// use internal address instead of external
        #[arg(long = "internal")]
        internal: bool,
    },
    #[command(external_subcommand)]
    Unknown(Vec<String>),
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Exports cluster kubeconfig
    Kubeconfig {
        /// the cluster context name
        #[arg(short = 'n', long = "name", value_name = "string")]
        name: Option<String>,
        /// sets kubeconfig path instead of $KUBECONFIG or $HOME/.kube/config
        #[arg(long = "kubeconfig", value_name = "string")]
        kubeconfig: Option<PathBuf>,
        /// use internal address instead of external
        #[arg(long = "internal")]
        internal: bool,
    },
    #[command(external_subcommand)]
    Unknown(Vec<String>),
}

/// Go's `time.ParseDuration`: a sequence of decimal numbers with units
/// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), optional sign; bare `0` allowed.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let orig = s;
    let err = || format!("time: invalid duration {orig:?}");
    let mut rest = s;
    if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    } else if let Some(r) = rest.strip_prefix('-') {
        // Negative waits mean "don't wait"; Go parses them, kind never waits.
        rest = r;
        let d = parse_go_duration(rest).map_err(|_| err())?;
        return if d.is_zero() {
            Ok(d)
        } else {
            Ok(Duration::ZERO)
        };
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(err());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(err());
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let nanos = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(format!("time: missing unit in duration {orig:?}")),
            other => return Err(format!("time: unknown unit {other:?} in duration {orig:?}")),
        };
        total += value * nanos;
    }
    Ok(Duration::from_nanos(total.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_go_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_go_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(parse_go_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_go_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_go_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_go_duration("1.5s").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            parse_go_duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            parse_go_duration("5x").unwrap_err(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        assert_eq!(
            parse_go_duration("").unwrap_err(),
            "time: invalid duration \"\""
        );
        assert_eq!(
            parse_go_duration("s").unwrap_err(),
            "time: invalid duration \"s\""
        );
    }
}
