//! kind-sysbox: a drop-in replacement for the `kind` CLI whose nodes are
//! unprivileged Sysbox system containers.
//!
//! Plans are pure (config + observed state in, container specs / kubeadm
//! config / node commands out); a provider (`provider::Provider`, Docker
//! behind it) carries them out.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod doctor;
pub mod gojson;
pub mod gotext;
pub mod images;
pub mod interrupt;
pub mod kubeadm;
pub mod kubeconfig;
pub mod log;
pub mod patch;
pub mod provider;
pub mod version;
pub mod yaml;
