use super::Cluster;

/// All validation problems; `Display` is one bare message or `[a, b, …]`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", display(.0))]
pub struct ValidationErrors(pub Vec<String>);

fn display(errs: &[String]) -> String {
    if errs.len() == 1 { errs[0].clone() } else { format!("[{}]", errs.join(", ")) }
}

/// Validate a defaulted cluster (spec §2.4).
pub fn validate(cluster: &Cluster) -> Result<(), ValidationErrors> {
    todo!("{cluster:?}")
}
