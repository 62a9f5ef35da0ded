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

/// Go's `time.ParseDuration`: a sequence of decimal numbers (optional
/// fraction) with units (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), optional
/// sign; bare `0` allowed. Like Go, a total beyond what its int64
/// nanoseconds hold (about 2562047h) is an invalid duration, and messages
/// are Go's, byte for byte.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    // Go's bound: magnitudes up to 2^63 ns parse (only negative ones fit).
    const LIMIT: u64 = 1 << 63;
    let invalid = || format!("time: invalid duration {}", time_quote(s));
    let (negative, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let digits = |t: &str| t.bytes().take_while(u8::is_ascii_digit).count();
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let n = digits(rest);
        let mut whole: u64 = 0;
        for d in rest[..n].bytes() {
            whole = whole
                .checked_mul(10)
                .and_then(|w| w.checked_add(u64::from(d - b'0')))
                .filter(|w| *w <= LIMIT)
                .ok_or_else(invalid)?;
        }
        rest = &rest[n..];
        // The fraction keeps the digits that fit; later ones only lose precision.
        let (mut frac, mut scale, mut has_frac) = (0u64, 1f64, false);
        if let Some(after) = rest.strip_prefix('.') {
            let m = digits(after);
            let mut full = false;
            for d in after[..m].bytes() {
                match frac
                    .checked_mul(10)
                    .map(|f| f + u64::from(d - b'0'))
                    .filter(|f| !full && *f <= LIMIT)
                {
                    Some(f) => {
                        frac = f;
                        scale *= 10.0;
                    }
                    None => full = true,
                }
            }
            has_frac = m > 0;
            rest = &after[m..];
        }
        if n == 0 && !has_frac {
            return Err(invalid());
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit_ns: u64 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(format!("time: missing unit in duration {}", time_quote(s))),
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    time_quote(other),
                    time_quote(s)
                ))
            }
        };
        if whole > LIMIT / unit_ns {
            return Err(invalid());
        }
        let mut value = whole * unit_ns;
        if frac > 0 {
            value += (frac as f64 * (unit_ns as f64 / scale)) as u64;
            if value > LIMIT {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(value)
            .filter(|t| *t <= LIMIT)
            .ok_or_else(invalid)?;
    }
    if negative {
        // Negative waits mean "don't wait"; Go parses them, kind never waits.
        return Ok(Duration::ZERO);
    }
    if total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(Duration::from_nanos(total))
}

/// How Go's time package quotes a value in its errors: printable ASCII as
/// is (`"` and `\` escaped), every other byte as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
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

    #[test]
    fn go_duration_edges() {
        let ok = |s: &str| parse_go_duration(s).unwrap();
        let err = |s: &str| parse_go_duration(s).unwrap_err();
        // Beyond int64 nanoseconds (issue 9): refused as Go refuses it.
        assert_eq!(err("99999999h"), "time: invalid duration \"99999999h\"");
        assert_eq!(
            err("9223372036854775808ns"),
            "time: invalid duration \"9223372036854775808ns\""
        );
        assert_eq!(
            err("2562047h47m16.854775808s"),
            "time: invalid duration \"2562047h47m16.854775808s\""
        );
        assert_eq!(
            err("99999999999999999999s"),
            "time: invalid duration \"99999999999999999999s\""
        );
        assert_eq!(err("2562048h"), "time: invalid duration \"2562048h\"");
        // The largest duration Go has, and the most negative one.
        assert_eq!(
            ok("2562047h47m16.854775807s"),
            Duration::from_nanos(i64::MAX as u64)
        );
        assert_eq!(
            ok("9223372036854775807ns"),
            Duration::from_nanos(i64::MAX as u64)
        );
        assert_eq!(ok("-9223372036854775808ns"), Duration::ZERO);
        assert_eq!(err("-99999999h"), "time: invalid duration \"-99999999h\"");
        // Signs, fractions, units as Go reads them.
        assert_eq!(ok("+1.5h"), Duration::from_secs(5400));
        assert_eq!(ok(".5s"), Duration::from_millis(500));
        assert_eq!(ok("1.s"), Duration::from_secs(1));
        assert_eq!(ok("1µs2μs3us"), Duration::from_micros(6));
        assert_eq!(ok("-5s"), Duration::ZERO);
        assert_eq!(ok("1.0000000000000000000000001s"), Duration::from_secs(1));
        assert_eq!(err(".s"), "time: invalid duration \".s\"");
        assert_eq!(err("-"), "time: invalid duration \"-\"");
        assert_eq!(
            err("1s-1s"),
            "time: unknown unit \"s-\" in duration \"1s-1s\""
        );
        assert_eq!(err("-5"), "time: missing unit in duration \"-5\"");
        assert_eq!(
            err("5é"),
            "time: unknown unit \"\\xc3\\xa9\" in duration \"5\\xc3\\xa9\""
        );
        assert_eq!(
            err("1\"s"),
            "time: unknown unit \"\\\"s\" in duration \"1\\\"s\""
        );
    }
}
