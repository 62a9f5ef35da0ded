//! Adding nodes to a running cluster (`kind create node`, and `kind resize
//! cluster` growing), planned exactly as `create` plans nodes: from the
//! config stored with the cluster (`record`) and the runtime mode of its
//! nodes, never from the current environment.
//!
//! Each new node's entry is appended to the stored config: its role and
//! image only (per-node settings of other entries are not copied: their
//! host ports would collide, and mounts and labels are node specific).
//! The new containers carry the extended config and their index in it
//! (`LABEL_CONFIG_NODE`); being the newest containers, theirs is the config
//! the cluster reports from then on, and it keeps every older node's entry
//! at the same index, so every node still maps back to its entry.
//!
//! The node is joined as kind joins nodes (a kubeadm config file per node,
//! `kubeadm join --config`), with a fresh bootstrap token made on the
//! bootstrap control plane (kind's fixed token lives 24 h). A control plane
//! also gets the shared CA and keys first, and needs the external load
//! balancer, whose backends are updated once it has joined.
//!
//! On failure or SIGINT/SIGTERM the containers this run made (by its
//! create ID, `ownership`) are removed again unless `--retain`.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use futures_util::future::try_join_all;

use super::actions::{config as config_action, kubeadm_init, kubeadm_join, Action};
use super::node_delete::{self, Env};
use super::{create, interrupt, nodes, ownership, record, ActionContext};
use crate::config::{Cluster, Node, ROLE_CONTROL_PLANE, ROLE_WORKER};
use crate::kubeadm;
use crate::log::Logger;
use crate::provider::{NodeProvisioning, NodeRef, Provider, ROLE_LOAD_BALANCER};

/// Most nodes of one role a cluster may be grown to. Each node is a full
/// system container (systemd, containerd, kubelet, its own image store):
/// one host runs out of memory and inotify instances well before this, and
/// a larger count is far more likely a typo than a plan.
pub const MAX_NODES_PER_ROLE: usize = 100;

/// Bound on `kubeadm token create` (it talks to the API server).
const TOKEN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the fresh join token lives: enough for the joins of one run.
const TOKEN_TTL: &str = "--ttl=15m0s";

#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    pub cluster: String,
    /// `worker` or `control-plane`.
    pub role: String,
    pub count: usize,
    /// Image of the new nodes; None: the bootstrap control plane's.
    pub image: Option<String>,
    pub retain: bool,
}

/// The nodes one add creates.
#[derive(Debug, Clone, PartialEq)]
pub struct AddPlan {
    /// The stored config with the new entries appended.
    pub config: Cluster,
    /// (index in `config.nodes`, name) per new node.
    pub new_nodes: Vec<(usize, String)>,
    /// The image the new nodes are configured with (as named).
    pub image: String,
}

/// Check an add against the cluster and plan it (pure).
pub fn plan(
    stored: &Cluster,
    nodes: &[NodeRef],
    role: &str,
    count: usize,
    image: Option<&str>,
) -> anyhow::Result<AddPlan> {
    let cluster = stored.name.as_str();
    if role != ROLE_WORKER && role != ROLE_CONTROL_PLANE {
        bail!("unknown node role {role:?}: a node is a \"worker\" or a \"control-plane\"");
    }
    let have = nodes::by_role(nodes, role).len();
    if have + count > MAX_NODES_PER_ROLE {
        bail!(
            "refusing to grow cluster {cluster:?} to {} {role} nodes: at most {MAX_NODES_PER_ROLE} are allowed (each node is a full system container)",
            have + count
        );
    }
    if role == ROLE_CONTROL_PLANE && nodes::by_role(nodes, ROLE_LOAD_BALANCER).is_empty() {
        bail!(
            "cannot add a control-plane node to cluster {cluster:?}: it has no external load balancer. A single control plane is the cluster's API server endpoint (in every kubeconfig and certificate); kind puts a load balancer in front only of clusters created with two or more control planes, so create the cluster with several control planes to add more later"
        );
    }
    let image = match image {
        Some(i) => i.to_string(),
        None => {
            let bootstrap = nodes::bootstrap_control_plane(nodes)?;
            nodes::config_node_for(stored, &bootstrap)?.image.clone()
        }
    };
    let mut config = stored.clone();
    let new_nodes = nodes::next_free_names(cluster, role, nodes, count)
        .into_iter()
        .map(|name| {
            config.nodes.push(Node {
                role: role.to_string(),
                image: image.clone(),
                ..Default::default()
            });
            (config.nodes.len() - 1, name)
        })
        .collect();
    Ok(AddPlan {
        config,
        new_nodes,
        image,
    })
}

/// `Creating node X 📦` / `Creating nodes X, Y 📦 📦`.
pub fn creating_status(names: &[String]) -> String {
    let noun = if names.len() == 1 { "node" } else { "nodes" };
    format!(
        "Creating {noun} {} {}",
        names.join(", "),
        "📦 ".repeat(names.len()).trim_end()
    )
}

/// The token of `kubeadm token create --print-join-command`'s output.
pub fn parse_join_token(output: &str) -> Option<String> {
    let mut words = output.split_whitespace();
    words.by_ref().find(|w| *w == "--token")?;
    let token = words.next()?;
    let valid = regex::Regex::new(r"^[a-z0-9]{6}\.[a-z0-9]{16}$").expect("static regex");
    valid.is_match(token).then(|| token.to_string())
}

/// Add `opts.count` nodes of `opts.role`; returns their names.
pub async fn add_nodes(
    provider: &dyn Provider,
    opts: &AddOptions,
    log: &Logger,
) -> anyhow::Result<Vec<String>> {
    let all = record::nodes_of(provider, &opts.cluster).await?;
    let stored = record::effective_config(provider, &opts.cluster)
        .await?
        .ok_or_else(|| {
            anyhow!(
                "cluster {:?} carries no stored config (it was not created by kind-sysbox), so new nodes cannot be planned like its others",
                opts.cluster
            )
        })?;
    let plan = plan(&stored, &all, &opts.role, opts.count, opts.image.as_deref())?;
    if plan.new_nodes.is_empty() {
        return Ok(Vec::new());
    }
    let env = Env::load(provider, &opts.cluster, &all).await?;
    let bootstrap = nodes::bootstrap_control_plane(&all)?;
    let create_id = ownership::new_create_id();
    let outcome =
        interrupt::unless_signalled(bring_up(provider, &env, &plan, &bootstrap, &create_id, log))
            .await;
    if let Err(err) = outcome {
        log.status_end(false);
        if !opts.retain {
            rollback(provider, &env, &opts.cluster, &create_id, &plan, log).await;
        }
        return Err(err);
    }
    Ok(plan.new_nodes.into_iter().map(|(_, n)| n).collect())
}

async fn bring_up(
    provider: &dyn Provider,
    env: &Env,
    plan: &AddPlan,
    bootstrap: &NodeRef,
    create_id: &str,
    log: &Logger,
) -> anyhow::Result<()> {
    log.status_start(&format!(
        "Ensuring node image ({}) 🖼️",
        create::friendly_image(&plan.image)
    ));
    let runs = create::ensure_node_image(provider, &plan.image, &env.mode, log).await?;
    let node_images: BTreeMap<String, String> = if runs != plan.image {
        [(plan.image.clone(), runs)].into()
    } else {
        BTreeMap::new()
    };
    let names: Vec<String> = plan.new_nodes.iter().map(|(_, n)| n.clone()).collect();
    log.status_start(&creating_status(&names));
    provider
        .provision_nodes(
            &NodeProvisioning {
                cluster: &plan.config,
                new_nodes: &plan.new_nodes,
                mode: &env.mode,
                host: &env.host,
                node_images: &node_images,
                network_of: &bootstrap.name,
                create_id,
            },
            log,
        )
        .await?;
    log.status_end(true);

    let ctx = ActionContext::new(&plan.config, provider, log, &env.mode, &env.host);
    let all = ctx.nodes().await?;
    let added: Vec<NodeRef> = names
        .iter()
        .map(|name| {
            all.iter()
                .find(|n| &n.name == name)
                .cloned()
                .ok_or_else(|| anyhow!("node {name} was created but is not listed"))
        })
        .collect::<anyhow::Result<_>>()?;

    log.status_start("Writing configuration 📜");
    let token = fresh_token(&ctx, bootstrap).await?;
    let endpoint = format!(
        "{}:{}",
        nodes::api_server_endpoint_node(all)?.name,
        kubeadm::API_BIND_PORT
    );
    try_join_all(
        added
            .iter()
            .map(|n| config_action::write_kubeadm_config(&ctx, n, &endpoint, &token)),
    )
    .await?;
    let c = &plan.config;
    if !c.containerd_config_patches.is_empty() || !c.containerd_config_patches_json6902.is_empty() {
        try_join_all(
            added
                .iter()
                .map(|n| config_action::patch_containerd(&ctx, n)),
        )
        .await?;
    }
    log.status_end(true);

    let (control_planes, workers): (Vec<NodeRef>, Vec<NodeRef>) = added
        .into_iter()
        .partition(|n| n.role == ROLE_CONTROL_PLANE);
    kubeadm_init::share_bootstrap_files(&ctx, bootstrap, &control_planes).await?;
    // One at a time: etcd membership changes must not race.
    for node in &control_planes {
        log.status_start(&format!("Joining control-plane node {} 🎮", node.name));
        kubeadm_join::join(&ctx, node).await?;
    }
    if !workers.is_empty() {
        let noun = if workers.len() == 1 { "node" } else { "nodes" };
        let list: Vec<&str> = workers.iter().map(|n| n.name.as_str()).collect();
        log.status_start(&format!("Joining worker {noun} {} 🚜", list.join(", ")));
        try_join_all(workers.iter().map(|n| kubeadm_join::join(&ctx, n))).await?;
    }
    log.status_end(true);
    // Backends are added once they serve (create configures the LB first,
    // when no API server runs at all yet).
    if !control_planes.is_empty() {
        Action::LoadBalancer.run(&ctx).await?;
    }
    Ok(())
}

/// A bootstrap token for this run's joins, made on the bootstrap control plane.
async fn fresh_token(ctx: &ActionContext<'_>, bootstrap: &NodeRef) -> anyhow::Result<String> {
    let argv = [
        "kubeadm",
        "token",
        "create",
        "--print-join-command",
        TOKEN_TTL,
    ];
    let out = tokio::time::timeout(TOKEN_TIMEOUT, ctx.exec(bootstrap, &argv))
        .await
        .map_err(|_| {
            anyhow!(
                "kubeadm token create did not finish within {}s",
                TOKEN_TIMEOUT.as_secs()
            )
        })?
        .context("failed to create a join token")?;
    let text = String::from_utf8_lossy(&out.stdout);
    parse_join_token(&text).ok_or_else(|| {
        anyhow!(
            "failed to create a join token: no token in the output of kubeadm token create: {:?}",
            text.trim()
        )
    })
}

/// Remove what this run made: its Node objects (best effort) and
/// containers, listed again until none is left (a creation in flight when
/// a signal came can show up late); then the load balancer's backends when
/// control planes were being added.
async fn rollback(
    provider: &dyn Provider,
    env: &Env,
    cluster: &str,
    create_id: &str,
    plan: &AddPlan,
    log: &Logger,
) {
    let mut removed = Vec::new();
    for _ in 0..3 {
        let made = provider
            .list_nodes_created_by(cluster, create_id)
            .await
            .unwrap_or_default();
        if made.is_empty() {
            break;
        }
        let others = provider.list_nodes(cluster).await.unwrap_or_default();
        let runner = nodes::by_role(&others, ROLE_CONTROL_PLANE)
            .into_iter()
            .find(|n| !made.iter().any(|m| m.name == n.name));
        for node in &made {
            if node_delete::remove_node(env, provider, runner.as_ref(), node, false, log)
                .await
                .is_ok()
            {
                removed.push(node.name.clone());
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let adds_control_planes = plan
        .new_nodes
        .iter()
        .any(|(i, _)| plan.config.nodes[*i].role == ROLE_CONTROL_PLANE);
    if adds_control_planes {
        if let Err(e) = env.reconfigure_load_balancer(provider, log).await {
            log.status_end(false);
            log.warn(&format!(
                "WARNING: failed to restore the load balancer's backends: {e:#}"
            ));
        }
    }
    if !removed.is_empty() {
        log.info(&format!(
            "Deleted nodes: {}",
            crate::gotext::quote_list(&removed)
        ));
    }
}

#[cfg(test)]
mod tests;
