//! Which Docker daemon to talk to, resolved by the docker CLI's rules, and
//! which node provider (only Docker: Sysbox is a Docker runtime).
//!
//! One resolution serves the API client (`Docker::connect`) and the proxy
//! settings read from the docker CLI config, so nodes never land on one
//! daemon with another daemon's proxies. The rules, as the docker CLI applies
//! them (cli/command/cli.go, opts/hosts.go, cli/flags/options.go):
//!
//! 1. `DOCKER_HOST` non-empty: that host, with TLS from `DOCKER_TLS_VERIFY`
//!    / `DOCKER_TLS` / `DOCKER_CERT_PATH` (the `default` context).
//! 2. else `DOCKER_CONTEXT` non-empty, 3. else `currentContext` in
//!    `$DOCKER_CONFIG/config.json` (default `~/.docker`): that context's
//!    docker endpoint from the context store (`contexts/meta/<sha256>/meta.json`,
//!    TLS files in `contexts/tls/<sha256>/docker/`). A named context that
//!    does not exist is an error; `default` is the environment's endpoint.
//! 4. else the `default` context: `unix:///var/run/docker.sock`
//!    (`tcp://localhost:2376` when TLS is asked for).
//!
//! `resolve` only reads the environment it is given and files; it never
//! connects.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The docker CLI's built-in context name.
pub const DEFAULT_CONTEXT: &str = "default";
/// The default context's endpoint without TLS.
pub const DEFAULT_UNIX_HOST: &str = "unix:///var/run/docker.sock";
/// The default context's endpoint when TLS is asked for.
const DEFAULT_TLS_HOST: &str = "tcp://localhost:2376";
/// The port a `tcp://` host without one gets (the docker CLI's choice, TLS or not).
const DEFAULT_TCP_PORT: &str = "2375";
/// The environment variable that forces a node provider (upstream kind).
pub const PROVIDER_ENV: &str = "KIND_EXPERIMENTAL_PROVIDER";

/// A resolved Docker endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Normalised as the docker CLI does: `unix:///path` or `tcp://host:port`.
    /// It is also the key of per-daemon proxies in the docker CLI config.
    pub host: String,
    /// Client TLS, always with server verification.
    pub tls: Option<TlsFiles>,
    /// Where the endpoint came from, for messages.
    pub origin: Origin,
}

/// PEM files for TLS: the CA that signed the daemon's certificate and an
/// optional client certificate and key (a daemon run with `--tlsverify`
/// requires them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `DOCKER_HOST`.
    DockerHost,
    /// A docker CLI context other than `default`.
    Context { name: String, from: ContextFrom },
    /// The `default` context without `DOCKER_HOST`: the local socket.
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextFrom {
    /// `DOCKER_CONTEXT`.
    Env,
    /// `currentContext` in this config.json.
    Config(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::DockerHost => write!(f, "from DOCKER_HOST"),
            Origin::Context {
                name,
                from: ContextFrom::Env,
            } => write!(f, "docker context {name:?} from DOCKER_CONTEXT"),
            Origin::Context {
                name,
                from: ContextFrom::Config(path),
            } => write!(
                f,
                "docker context {name:?}, the current context in {}",
                path.display()
            ),
            Origin::Default => write!(f, "the default docker context"),
        }
    }
}

impl fmt::Display for Endpoint {
    /// `unix:///var/run/docker.sock (the default docker context)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tls = if self.tls.is_some() { ", TLS" } else { "" };
        write!(f, "{} ({}{tls})", self.host, self.origin)
    }
}

/// Why no endpoint could be resolved. Display is the user-facing text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("docker context {name:?} ({from}) does not exist: no {meta} — list contexts with `docker context ls`, or unset {var}")]
    ContextNotFound {
        name: String,
        from: String,
        meta: String,
        var: &'static str,
    },
    #[error("docker context {name:?} is unreadable ({path}): {reason}")]
    ContextInvalid {
        name: String,
        path: String,
        reason: String,
    },
    #[error("invalid Docker endpoint {host:?} ({origin}): {reason}")]
    InvalidHost {
        host: String,
        origin: String,
        reason: String,
    },
    #[error("Docker endpoint {host} ({origin}) uses ssh://, which kind-sysbox does not support: forward the remote socket instead, e.g. `ssh -nNT -L $HOME/docker-remote.sock:/var/run/docker.sock {target}`, then DOCKER_HOST=unix://$HOME/docker-remote.sock")]
    Ssh {
        host: String,
        origin: String,
        target: String,
    },
    #[error("Docker endpoint {host} ({origin}) asks for TLS without verifying the daemon's certificate ({how}), which kind-sysbox does not support: set DOCKER_TLS_VERIFY=1 with the daemon's CA as ca.pem in DOCKER_CERT_PATH (or give the context a CA)")]
    TlsWithoutVerify {
        host: String,
        origin: String,
        how: &'static str,
    },
    #[error("Docker endpoint {host} ({origin}) uses TLS but the CA certificate {ca} is missing: put the CA that signed the daemon's certificate there (with cert.pem and key.pem when the daemon checks clients)")]
    TlsCaMissing {
        host: String,
        origin: String,
        ca: String,
    },
}

/// Resolve the endpoint by the docker CLI's rules. `env` reads a variable;
/// empty values count as unset, as the docker CLI treats them.
pub fn resolve(env: &dyn Fn(&str) -> Option<String>) -> Result<Endpoint, EndpointError> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let config_dir = docker_config_dir(env);

    if get("DOCKER_HOST").is_some() {
        return default_context(env, config_dir.as_deref(), Origin::DockerHost);
    }
    let (name, from) = match get("DOCKER_CONTEXT") {
        Some(name) => (name, ContextFrom::Env),
        None => match config_dir.as_deref().and_then(current_context) {
            Some((name, path)) => (name, ContextFrom::Config(path)),
            None => (DEFAULT_CONTEXT.to_string(), ContextFrom::Env),
        },
    };
    if name == DEFAULT_CONTEXT {
        return default_context(env, config_dir.as_deref(), Origin::Default);
    }
    named_context(config_dir.as_deref(), name, from)
}

/// `$DOCKER_CONFIG`, else `$HOME/.docker`.
pub fn docker_config_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let get = |k: &str| env(k).filter(|v| !v.is_empty());
    get("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| get("HOME").map(|h| Path::new(&h).join(".docker")))
}

/// `currentContext` of config.json. An unreadable or invalid config counts
/// as none, as the docker CLI only warns about it.
fn current_context(config_dir: &Path) -> Option<(String, PathBuf)> {
    let path = config_dir.join("config.json");
    let text = std::fs::read_to_string(&path).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    let name = config.get("currentContext")?.as_str()?.trim();
    (!name.is_empty()).then(|| (name.to_string(), path))
}

/// The context store's directory name for a context.
pub fn context_digest(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `default` context: DOCKER_HOST (or the local socket) and TLS from
/// the environment.
fn default_context(
    env: &dyn Fn(&str) -> Option<String>,
    config_dir: Option<&Path>,
    origin: Origin,
) -> Result<Endpoint, EndpointError> {
    let get = |k: &str| env(k).filter(|v| !v.is_empty());
    let verify = get("DOCKER_TLS_VERIFY").is_some();
    let tls = verify || get("DOCKER_TLS").is_some();
    let raw = get("DOCKER_HOST").unwrap_or_default();
    let host = parse_host(&raw, tls, &origin)?;
    if !tls || !host.starts_with("tcp://") {
        return Ok(Endpoint {
            host,
            tls: None,
            origin,
        });
    }
    if !verify {
        return Err(EndpointError::TlsWithoutVerify {
            host,
            origin: origin.to_string(),
            how: "DOCKER_TLS without DOCKER_TLS_VERIFY",
        });
    }
    let dir = get("DOCKER_CERT_PATH")
        .map(PathBuf::from)
        .or_else(|| config_dir.map(Path::to_path_buf))
        .unwrap_or_default();
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    tls_endpoint(host, files, origin)
}

/// A TLS endpoint, once its CA file is known to exist (the client cannot
/// verify the daemon without it).
fn tls_endpoint(host: String, files: TlsFiles, origin: Origin) -> Result<Endpoint, EndpointError> {
    if !files.ca.is_file() {
        return Err(EndpointError::TlsCaMissing {
            host,
            origin: origin.to_string(),
            ca: files.ca.display().to_string(),
        });
    }
    Ok(Endpoint {
        host,
        tls: Some(files),
        origin,
    })
}

/// A context from the store: its docker endpoint and TLS material.
fn named_context(
    config_dir: Option<&Path>,
    name: String,
    from: ContextFrom,
) -> Result<Endpoint, EndpointError> {
    let store = config_dir
        .unwrap_or(Path::new("~/.docker"))
        .join("contexts");
    let digest = context_digest(&name);
    let meta_path = store.join("meta").join(&digest).join("meta.json");
    let origin = Origin::Context {
        name: name.clone(),
        from: from.clone(),
    };
    let text = match std::fs::read_to_string(&meta_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (from, var) = match &from {
                ContextFrom::Env => ("from DOCKER_CONTEXT".to_string(), "DOCKER_CONTEXT"),
                ContextFrom::Config(p) => (
                    format!("the current context in {}", p.display()),
                    "currentContext there",
                ),
            };
            return Err(EndpointError::ContextNotFound {
                name,
                from,
                meta: meta_path.display().to_string(),
                var,
            });
        }
        Err(e) => {
            return Err(EndpointError::ContextInvalid {
                name,
                path: meta_path.display().to_string(),
                reason: e.to_string(),
            })
        }
    };
    let invalid = |reason: String| EndpointError::ContextInvalid {
        name: name.clone(),
        path: meta_path.display().to_string(),
        reason,
    };
    let meta: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(format!("invalid JSON: {e}")))?;
    let docker = meta
        .pointer("/Endpoints/docker")
        .ok_or_else(|| invalid("it has no docker endpoint".into()))?;
    let raw = docker
        .get("Host")
        .and_then(|h| h.as_str())
        .unwrap_or_default();
    let host = parse_host(raw, false, &origin)?;
    let skip_verify = docker
        .get("SkipTLSVerify")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let tls_dir = store.join("tls").join(&digest).join("docker");
    let files = TlsFiles {
        ca: tls_dir.join("ca.pem"),
        cert: tls_dir.join("cert.pem"),
        key: tls_dir.join("key.pem"),
    };
    let has_tls_data = [&files.ca, &files.cert, &files.key]
        .iter()
        .any(|p| p.is_file());
    // The docker CLI uses TLS when the context has TLS data or skips verification.
    if !host.starts_with("tcp://") || !(has_tls_data || skip_verify) {
        return Ok(Endpoint {
            host,
            tls: None,
            origin,
        });
    }
    if skip_verify {
        return Err(EndpointError::TlsWithoutVerify {
            host,
            origin: origin.to_string(),
            how: "the context sets SkipTLSVerify",
        });
    }
    tls_endpoint(host, files, origin)
}

/// Normalise a host as the docker CLI's `ParseHost`: empty => the default
/// (`unix:///var/run/docker.sock`, or `tcp://localhost:2376` with TLS); no
/// scheme => tcp; `tcp://` gets `localhost` and port 2375 when missing;
/// `unix://` gets the default socket path. ssh, npipe and fd are refused.
pub fn parse_host(
    raw: &str,
    default_to_tls: bool,
    origin: &Origin,
) -> Result<String, EndpointError> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(if default_to_tls {
            DEFAULT_TLS_HOST
        } else {
            DEFAULT_UNIX_HOST
        }
        .to_string());
    }
    let invalid = |reason: &str| EndpointError::InvalidHost {
        host: raw.to_string(),
        origin: origin.to_string(),
        reason: reason.to_string(),
    };
    let (scheme, rest) = value.split_once("://").unwrap_or(("tcp", value));
    match scheme {
        "unix" => {
            if rest.contains("://") {
                return Err(invalid("expected unix:///path/to/socket"));
            }
            let path = if rest.is_empty() {
                "/var/run/docker.sock"
            } else {
                rest
            };
            Ok(format!("unix://{path}"))
        }
        "tcp" => parse_tcp(rest)
            .ok_or_else(|| invalid("expected tcp://host:port (or unix:///path/to/socket)")),
        "ssh" => Err(EndpointError::Ssh {
            host: value.to_string(),
            origin: origin.to_string(),
            target: rest.split('/').next().unwrap_or(rest).to_string(),
        }),
        "npipe" | "fd" => Err(invalid(&format!(
            "{scheme}:// endpoints are not supported; use unix:// or tcp://"
        ))),
        _ => Err(invalid(&format!(
            "unsupported scheme {scheme:?}; use unix:///path/to/socket or tcp://host:port"
        ))),
    }
}

/// `host[:port][/path]` => `tcp://host:port[/path]`, `[v6]:port` kept.
fn parse_tcp(rest: &str) -> Option<String> {
    if rest.contains("://") {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        let port = match after {
            "" | ":" => DEFAULT_TCP_PORT,
            p => p.strip_prefix(':')?,
        };
        (format!("[{addr}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => return None,
            Some((h, "")) => (h.to_string(), DEFAULT_TCP_PORT),
            Some((h, p)) => (h.to_string(), p),
            None => (authority.to_string(), DEFAULT_TCP_PORT),
        }
    };
    let port: u16 = port.parse().ok()?;
    if port == 0 {
        return None;
    }
    let host = if host.is_empty() || host == "[]" {
        "localhost".to_string()
    } else {
        host
    };
    let path = path.trim_end_matches('/');
    Some(format!("tcp://{host}:{port}{path}"))
}

/// Why a node provider other than Docker cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("KIND_EXPERIMENTAL_PROVIDER={0:?} is not supported by kind-sysbox: nodes are Sysbox system containers, and Sysbox is a runtime of the Docker engine, so Docker is the only node provider (also with KIND_EXPERIMENTAL_RUNTIME=runc). Unset KIND_EXPERIMENTAL_PROVIDER or set it to \"docker\"")]
pub struct ProviderError(pub String);

/// Upstream kind's log line when docker is forced.
pub const DOCKER_PROVIDER_WARNING: &str = "using docker due to KIND_EXPERIMENTAL_PROVIDER";

/// KIND_EXPERIMENTAL_PROVIDER: unset/empty => Docker silently; `docker` =>
/// Docker with upstream's warning line; anything else is refused.
pub fn select_provider(value: Option<&str>) -> Result<Option<&'static str>, ProviderError> {
    match value.unwrap_or("") {
        "" => Ok(None),
        "docker" => Ok(Some(DOCKER_PROVIDER_WARNING)),
        other => Err(ProviderError(other.to_string())),
    }
}

#[cfg(test)]
mod tests;
