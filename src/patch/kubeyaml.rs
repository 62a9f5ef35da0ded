use crate::config::PatchJson6902;

/// Apply merge patches then JSON 6902 patches to every matching document of
/// a `---`-separated YAML stream; output is always re-serialised (sorted
/// keys, no comments). Spec §4.4.
pub fn kube_yaml(raw: &str, merge: &[String], json6902: &[PatchJson6902]) -> anyhow::Result<String> {
    todo!("{raw}{merge:?}{json6902:?}")
}
