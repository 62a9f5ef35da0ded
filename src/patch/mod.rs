//! Config patching as upstream kind does it: kubeadm YAML streams with
//! RFC 7386 merge patches (kubeadm-aware) and RFC 6902 patches, and
//! containerd TOML with merge and RFC 6902 patches.

mod gotoml;
pub mod json6902;
mod kubeyaml;
mod merge;
mod toml;

pub use self::kubeyaml::{kube_yaml, split_documents};
pub use self::merge::merge_patch;
pub use self::toml::containerd_toml;
