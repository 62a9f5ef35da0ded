//! The `kind.x-k8s.io/v1alpha4` cluster configuration: types, decoding,
//! defaulting and validation, with upstream kind's exact messages.

mod decode;
mod defaults;
mod encode;
#[cfg(test)]
mod properties;
mod types;
mod validate;

pub use decode::{load, parse, ConfigError};
pub use defaults::{apply_overrides, set_defaults, set_defaults_with_image};
pub use encode::encode;
pub use types::*;
pub use validate::{validate, ValidationErrors};

/// Node image used when neither `--image` nor the config names one
/// (kind v0.32.0's default).
pub const DEFAULT_NODE_IMAGE: &str =
    "kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5";
pub const DEFAULT_CLUSTER_NAME: &str = "kind";
pub const API_VERSION: &str = "kind.x-k8s.io/v1alpha4";
pub const ROLE_CONTROL_PLANE: &str = "control-plane";
pub const ROLE_WORKER: &str = "worker";

/// A cluster `name` with one node per role in `roles`, defaulted with
/// `image` as create defaults it (for unit tests of what acts on one).
#[cfg(test)]
pub fn defaulted_for_test(name: &str, roles: &[&str], image: &str) -> Cluster {
    let mut c = load(None).expect("the empty config loads");
    c.nodes = roles
        .iter()
        .map(|r| Node {
            role: r.to_string(),
            ..Default::default()
        })
        .collect();
    apply_overrides(&mut c, name, None);
    set_defaults_with_image(&mut c, image);
    c
}
