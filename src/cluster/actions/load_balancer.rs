//! Configure the external load balancer (envoy, file-based xDS) with every
//! control plane as a backend (spec §4.2). A no-op without a load balancer.

use anyhow::Context as _;

use crate::cluster::{nodes, ActionContext};
use crate::config::ROLE_CONTROL_PLANE;
use crate::kubeadm::envoy;
use crate::provider::ROLE_LOAD_BALANCER;

pub async fn run(ctx: &ActionContext<'_>) -> anyhow::Result<()> {
    let all = ctx.nodes().await?;
    let Some(lb) = nodes::by_role(all, ROLE_LOAD_BALANCER).into_iter().next() else {
        return Ok(());
    };
    ctx.log
        .status_start("Configuring the external load balancer ⚖️");
    let backends: Vec<String> = nodes::by_role(all, ROLE_CONTROL_PLANE)
        .iter()
        .map(|n| format!("{}:{}", n.name, crate::kubeadm::API_BIND_PORT))
        .collect();
    let ipv6 = ctx.config.networking.ip_family == "ipv6";
    let cds = envoy::cds(&backends, ipv6);
    let lds = envoy::lds(ipv6);
    ctx.write_file(&lb, "/home/envoy/cds.yaml.tmp", cds.as_bytes())
        .await
        .context("failed to copy loadbalancer config to node")?;
    ctx.write_file(&lb, "/home/envoy/lds.yaml.tmp", lds.as_bytes())
        .await
        .context("failed to copy loadbalancer config to node")?;
    ctx.exec_owned(&lb, &envoy::reload_command())
        .await
        .context("failed to reload envoy config")?;
    ctx.log.status_end(true);
    Ok(())
}
