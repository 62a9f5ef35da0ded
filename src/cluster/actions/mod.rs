//! The create pipeline after provisioning: an ordered list of small
//! actions (spec §4.1 step 9), each starting and ending its own status.

pub(crate) mod config;
#[cfg(test)]
mod fake_tests;
mod install_cni;
mod install_storage;
pub(crate) mod kubeadm_init;
pub(crate) mod kubeadm_join;
mod load_balancer;
pub(crate) mod wait_for_ready;

use std::time::Duration;

use super::ActionContext;
use crate::config::Cluster;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    LoadBalancer,
    Config,
    KubeadmInit,
    InstallCni,
    InstallStorage,
    KubeadmJoin,
    WaitForReady(Duration),
}

/// The actions for a cluster, in upstream's order: CNI is skipped when
/// `disableDefaultCNI`, waiting when `--wait` is zero.
pub fn plan(cluster: &Cluster, wait: Duration) -> Vec<Action> {
    let mut actions = vec![Action::LoadBalancer, Action::Config, Action::KubeadmInit];
    if !cluster.networking.disable_default_cni {
        actions.push(Action::InstallCni);
    }
    actions.push(Action::InstallStorage);
    actions.push(Action::KubeadmJoin);
    if !wait.is_zero() {
        actions.push(Action::WaitForReady(wait));
    }
    actions
}

impl Action {
    pub async fn run(self, ctx: &ActionContext<'_>) -> anyhow::Result<()> {
        match self {
            Action::LoadBalancer => load_balancer::run(ctx).await,
            Action::Config => config::run(ctx).await,
            Action::KubeadmInit => kubeadm_init::run(ctx).await,
            Action::InstallCni => install_cni::run(ctx).await,
            Action::InstallStorage => install_storage::run(ctx).await,
            Action::KubeadmJoin => kubeadm_join::run(ctx).await,
            Action::WaitForReady(wait) => wait_for_ready::run(ctx, wait).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_order_matches_upstream() {
        let c = Cluster::default();
        assert_eq!(
            plan(&c, Duration::ZERO),
            [
                Action::LoadBalancer,
                Action::Config,
                Action::KubeadmInit,
                Action::InstallCni,
                Action::InstallStorage,
                Action::KubeadmJoin
            ]
        );
    }

    #[test]
    fn disabled_cni_is_skipped_and_wait_is_last() {
        let mut c = Cluster::default();
        c.networking.disable_default_cni = true;
        let w = Duration::from_secs(30);
        let p = plan(&c, w);
        assert!(!p.contains(&Action::InstallCni));
        assert_eq!(p.last(), Some(&Action::WaitForReady(w)));
    }
}
