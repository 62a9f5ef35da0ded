//! kubeadm configuration for each node (one template per kubeadm API band:
//! v1beta2 < 1.23 <= v1beta3 < 1.36 <= v1beta4), the kubeadm/kubectl
//! command lines kind runs in nodes, and the envoy load balancer config.

mod commands;
mod config;
pub mod envoy;

pub use commands::*;
pub use config::*;

/// The fixed bootstrap token upstream kind uses.
pub const TOKEN: &str = "abcdef.0123456789abcdef";
/// Port the API server binds inside a node.
pub const API_BIND_PORT: u16 = 6443;
