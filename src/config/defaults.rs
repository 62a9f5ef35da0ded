use super::Cluster;

/// `name` (already resolved: flag > env > config, may be empty) and
/// `--image` (replaces every node's image) overrides, applied before defaults.
pub fn apply_overrides(cluster: &mut Cluster, name: &str, image: Option<&str>) {
    todo!("{cluster:?}{name}{image:?}")
}

/// Idempotent defaulting (spec §2.3).
pub fn set_defaults(cluster: &mut Cluster) {
    todo!("{cluster:?}")
}
