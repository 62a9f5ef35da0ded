use super::Cluster;

/// A config that could not be read or decoded. `Display` is upstream's text.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// `None` => the default config; `Some("-")` => stdin; otherwise a file.
/// The result is decoded (and defaulted, as upstream does at decode time).
pub fn load(path: Option<&str>) -> Result<Cluster, ConfigError> {
    todo!("{path:?}")
}

/// Decode the first YAML document of `raw` strictly (spec §2.1).
pub fn parse(raw: &[u8]) -> Result<Cluster, ConfigError> {
    todo!("{}", raw.len())
}
