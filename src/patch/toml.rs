/// Patch a containerd `config.toml` (spec §4.4): version detection, TOML
/// merge patches (skipped when their `version` differs), JSON 6902 patches.
pub fn containerd_toml(raw: &str, merge: &[String], json6902: &[String]) -> anyhow::Result<String> {
    todo!("{raw}{merge:?}{json6902:?}")
}
