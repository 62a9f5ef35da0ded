//! `kind create cluster` (spec §4.1): load and check the config, choose the
//! runtime, ensure the node images, have the provider provision the node
//! containers, run the actions, export the kubeconfig. Any failure (or
//! SIGINT/SIGTERM, up to the kubeconfig write) after provisioning starts
//! removes every container this run created unless `--retain`; a create
//! that loses the name to a concurrent one removes nothing (`ownership`).
//! Signals follow `interrupt`'s rollback rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::Rng as _;

use super::ownership::{self, ClusterExists};
use super::{actions, delete, ActionContext};
use crate::config::{self, Cluster};
use crate::images;
use crate::interrupt;
use crate::kubeconfig;
use crate::log::Logger;
use crate::provider::{self, HostInfo, Provider, Provisioning, RuntimeMode};

#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// `--name` or KIND_CLUSTER_NAME (empty: the config's name, else `kind`).
    pub name: String,
    pub config: Option<String>,
    pub image: Option<String>,
    pub retain: bool,
    pub wait: Duration,
    pub kubeconfig: Option<PathBuf>,
    /// `--ephemeral` (ours): nodes removed by Docker when they stop.
    pub ephemeral: bool,
    /// `--network`: the Docker network to put the cluster on (created,
    /// as this cluster's, when absent); None: KIND_EXPERIMENTAL_DOCKER_NETWORK
    /// or `kind`, as upstream.
    pub network: Option<String>,
}

const SALUTATIONS: [&str; 4] = [
    "Have a nice day! 👋",
    "Thanks for using kind! 😊",
    "Not sure what to do next? 😅  Check out https://kind.sigs.k8s.io/docs/user/quick-start/",
    "Have a question, bug, or feature request? Let us know! https://kind.sigs.k8s.io/#community 🙂",
];

pub async fn create(opts: &CreateOptions, log: &Logger) -> anyhow::Result<()> {
    // Nothing is made before `create_with`'s bring-up: a signal just ends it.
    let (cluster, provider) = interrupt::interruptible(async {
        let cluster = config::load(opts.config.as_deref())?;
        Ok((cluster, provider::connect(log).await?))
    })
    .await?;
    create_with(provider.as_ref(), cluster, opts, log).await
}

/// `create` once the config file is read and the provider connected.
pub async fn create_with(
    provider: &dyn Provider,
    mut cluster: Cluster,
    opts: &CreateOptions,
    log: &Logger,
) -> anyhow::Result<()> {
    if let Some(name) = &opts.network {
        provider::network::validate_name(name)?;
    }
    let started = Instant::now();
    // Phase timings at -v 1 (issue 8: where a create's time goes).
    let phase = |name: &str, since: Instant| {
        log.debug(
            1,
            &format!("create phase: {name} in {:.2?}", since.elapsed()),
        );
    };
    config::apply_overrides(&mut cluster, &opts.name, opts.image.as_deref());
    let name = if cluster.name.is_empty() {
        config::DEFAULT_CLUSTER_NAME.to_string()
    } else {
        cluster.name.clone()
    };
    // Independent: the engine's facts and checks, and whether the name is
    // taken (one round trip less); their errors are reported in this order.
    let host_facts = async {
        let host = provider.info().await?;
        provider.preflight(&host).await?;
        anyhow::Ok(host)
    };
    let (host, existing) = interrupt::interruptible(async {
        anyhow::Ok(tokio::join!(host_facts, provider.list_nodes(&name)))
    })
    .await?;
    let host = host?;
    let env_runtime = std::env::var("KIND_EXPERIMENTAL_RUNTIME")
        .ok()
        .filter(|v| !v.is_empty());
    let mode = provider::select_runtime(&host, env_runtime.as_deref())?;
    host_checks(&host, &mode, log)?;

    config::set_defaults_with_image(&mut cluster, default_node_image(&mode));
    if !existing?.is_empty() {
        return Err(ClusterExists {
            name: cluster.name.clone(),
        }
        .into());
    }
    if cluster.name.len() > 50 {
        log.warn(&format!(
            "cluster name {:?} is probably too long, this might not work properly on some systems",
            cluster.name
        ));
    }
    config::validate(&cluster)?;
    validate_for_runtime(&cluster, &mode)?;
    let network = provider::network::choose(
        opts.network.as_deref(),
        std::env::var(provider::network::NETWORK_ENV)
            .ok()
            .as_deref(),
    );
    if network.per_cluster {
        let existing = provider.inspect_network(&network.name).await?;
        provider::network::check_existing(&network.name, existing.as_ref())?;
    }

    phase("engine and config checks", started);
    log.info(&format!("Creating cluster {:?} ...", cluster.name));
    let create_id = ownership::new_create_id();
    let bring_up = async {
        let since = Instant::now();
        let node_images = ensure_node_images(provider, &cluster, &mode, log).await?;
        phase("node images", since);
        let since = Instant::now();
        let request = Provisioning {
            cluster: &cluster,
            mode: &mode,
            host: &host,
            node_images: &node_images,
            create_id: &create_id,
            ephemeral: opts.ephemeral,
            network: &network,
        };
        provider.provision(&request, log).await?;
        phase("provisioning (network, volume, containers up)", since);
        let ctx = ActionContext::new(&cluster, provider, log, &mode, &host).with_fresh_nodes();
        for action in actions::plan(&cluster, opts.wait) {
            let since = Instant::now();
            action.run(&ctx).await?;
            phase(&format!("{action:?}"), since);
        }
        anyhow::Ok(())
    };
    if let Err(err) = interrupt::interruptible(bring_up).await {
        log.status_end(false);
        // Lost the name to a concurrent create: nothing of ours exists.
        if !opts.retain && err.downcast_ref::<ClusterExists>().is_none() {
            // A failure removes the name's kubeconfig entries, as upstream;
            // a signal touches none (this run wrote none yet), so Ctrl-C is
            // never held up by someone else's kubeconfig lock.
            let kubeconfig = if interrupt::interrupted_by(&err).is_some() {
                Kubeconfig::Untouched
            } else {
                Kubeconfig::RemoveEntries(opts.kubeconfig.as_deref())
            };
            cleanup(provider, &cluster.name, &create_id, kubeconfig, log).await;
        }
        return Err(err);
    }

    // A failure here keeps the cluster, as upstream. Lock contention with
    // other kind processes is waited out inside kubeconfig's lock; a signal
    // during that wait (or while reading admin.conf) ends it with nothing
    // written, and this run's containers are removed.
    let since = Instant::now();
    let exported = interrupt::interruptible(super::kubeconfig_for(provider, &cluster.name, false));
    let exported = match exported.await {
        Ok(text) => super::write_kubeconfig(text, opts.kubeconfig.as_deref()).await,
        Err(e) => Err(e),
    };
    if let Err(err) = exported {
        if interrupt::interrupted_by(&err).is_some() && !opts.retain {
            cleanup(
                provider,
                &cluster.name,
                &create_id,
                Kubeconfig::Untouched,
                log,
            )
            .await;
        }
        return Err(err);
    }
    phase("kubeconfig", since);
    phase("total", started);
    log.info(&format!(
        "Set kubectl context to {:?}",
        kubeconfig::key(&cluster.name)
    ));
    let mut usage = format!(
        "kubectl cluster-info --context {}",
        kubeconfig::key(&cluster.name)
    );
    if let Some(path) = &opts.kubeconfig {
        usage.push_str(&format!(
            " --kubeconfig {}",
            provider::shell_join(&[path.display().to_string()])
        ));
    }
    log.info(&format!("You can now use your cluster with:\n\n{usage}"));
    let salutation = SALUTATIONS[rand::rng().random_range(0..SALUTATIONS.len())];
    log.info(&format!("\n{salutation}"));
    Ok(())
}

/// Host requirements upstream checks (rootless, cgroups), plus the runc-mode
/// warning.
fn host_checks(host: &HostInfo, mode: &RuntimeMode, log: &Logger) -> anyhow::Result<()> {
    if let Some(warning) = provider::runtime_env_warning(mode) {
        log.warn(warning);
    }
    if host.rootless {
        if !host.cgroup2 {
            anyhow::bail!(
                "running kind with rootless provider requires cgroup v2, see https://kind.sigs.k8s.io/docs/user/rootless/"
            );
        }
        if !(host.memory_limit && host.pids_limit && host.cpu_shares) {
            anyhow::bail!("running kind with rootless provider requires setting systemd property \"Delegate=yes\", see https://kind.sigs.k8s.io/docs/user/rootless/");
        }
    } else if !host.cgroup2 {
        log.warn("cgroup v1 is deprecated in Kubernetes and will not be supported in a future kind release, please upgrade to cgroup v2");
    }
    Ok(())
}

/// What Sysbox cannot do, refused before anything is created.
pub fn validate_for_runtime(cluster: &Cluster, mode: &RuntimeMode) -> anyhow::Result<()> {
    if matches!(mode, RuntimeMode::Sysbox { .. }) && cluster.networking.kube_proxy_mode == "ipvs" {
        anyhow::bail!(
            "kubeProxyMode \"ipvs\" is not supported with Sysbox: IPVS is not available inside Sysbox containers; use \"iptables\" or \"nftables\" (or KIND_EXPERIMENTAL_RUNTIME=runc for privileged nodes)"
        );
    }
    Ok(())
}

/// The image of nodes whose image nobody named: in Sysbox mode the Sysbox
/// node image derived locally from upstream's default; in runc mode
/// upstream's default itself, exactly as upstream kind.
pub fn default_node_image(mode: &RuntimeMode) -> &'static str {
    match mode {
        RuntimeMode::Sysbox { .. } => images::build::DEFAULT_SYSBOX_IMAGE,
        RuntimeMode::Runc => config::DEFAULT_NODE_IMAGE,
    }
}

/// Node images (friendly names without digests) in the order they are ensured.
pub fn required_images(cluster: &Cluster) -> Vec<String> {
    cluster
        .nodes
        .iter()
        .map(|n| n.image.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

pub(crate) fn friendly_image(image: &str) -> &str {
    image.split('@').next().unwrap_or(image)
}

/// Every node image present locally, each with its status line, and the
/// images nodes run instead of the configured ones (configured -> runs).
/// One at a time, as upstream: one status line per image, and builds (CPU
/// and disk bound) gain nothing from running side by side.
async fn ensure_node_images(
    provider: &dyn Provider,
    cluster: &Cluster,
    mode: &RuntimeMode,
    log: &Logger,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut node_images = BTreeMap::new();
    for image in required_images(cluster) {
        log.status_start(&format!(
            "Ensuring node image ({}) 🖼️",
            friendly_image(&image)
        ));
        let runs = ensure_node_image(provider, &image, mode, log).await?;
        if runs != image {
            node_images.insert(image, runs);
        }
    }
    Ok(node_images)
}

/// A node image present locally, and the image the node runs: in Sysbox
/// mode every node image is a Sysbox node image (the default one built from
/// the embedded node-image/ on first use, a named one derived from it the
/// same way unless it is a derivation already); in runc mode the image
/// itself. Absent images are pulled with upstream's retries.
pub(crate) async fn ensure_node_image(
    provider: &dyn Provider,
    image: &str,
    mode: &RuntimeMode,
    log: &Logger,
) -> anyhow::Result<String> {
    match mode {
        RuntimeMode::Sysbox { .. } => {
            images::named::ensure_sysbox_node_image(provider, image, log).await
        }
        RuntimeMode::Runc => {
            provider.ensure_image(image, log).await?;
            Ok(image.to_string())
        }
    }
}

/// What a create's rollback does to the kubeconfig.
#[derive(Clone, Copy)]
enum Kubeconfig<'a> {
    /// Remove the cluster's entries (from `--kubeconfig` or the defaults).
    RemoveEntries(Option<&'a std::path::Path>),
    /// Leave every kubeconfig file alone.
    Untouched,
}

/// Remove what a failed create left: the containers this run created
/// (and, if asked, the cluster's kubeconfig entries). Containers whose
/// creation was in flight when we were interrupted can appear after the
/// first listing, so list again until none is left (bounded). Not
/// interruptible by a first signal (`interrupt`'s rollback rule).
async fn cleanup(
    provider: &dyn Provider,
    name: &str,
    create_id: &str,
    kubeconfig: Kubeconfig<'_>,
    log: &Logger,
) {
    for attempt in 0..3 {
        let _ = match kubeconfig {
            // Entries once; later rounds only catch late containers.
            Kubeconfig::RemoveEntries(explicit) if attempt == 0 => {
                delete::delete_created_by(provider, name, create_id, Some(explicit), log).await
            }
            _ => delete::delete_created_by(provider, name, create_id, None, log).await,
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        match provider.list_nodes_created_by(name, create_id).await {
            Ok(nodes) if nodes.is_empty() => return,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Node;

    fn cluster(images: &[&str]) -> Cluster {
        Cluster {
            nodes: images
                .iter()
                .map(|i| Node {
                    image: i.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn unnamed_images_default_by_runtime_mode() {
        let sysbox = RuntimeMode::Sysbox {
            runtime: "sysbox-runc".into(),
        };
        let yaml = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n  image: mine:1\n";
        let mut c = config::parse(yaml.as_bytes()).unwrap();
        let mut runc = c.clone();
        config::set_defaults_with_image(&mut c, default_node_image(&sysbox));
        let got: Vec<&str> = c.nodes.iter().map(|n| n.image.as_str()).collect();
        assert_eq!(got, [images::build::DEFAULT_SYSBOX_IMAGE, "mine:1"]);
        config::set_defaults_with_image(&mut runc, default_node_image(&RuntimeMode::Runc));
        assert_eq!(
            runc.nodes[0].image,
            config::DEFAULT_NODE_IMAGE,
            "runc mode keeps upstream's default"
        );
    }

    #[test]
    fn no_config_means_one_node_with_the_sysbox_node_image() {
        let mut c = config::load(None).unwrap();
        config::apply_overrides(&mut c, "", None);
        config::set_defaults_with_image(
            &mut c,
            default_node_image(&RuntimeMode::Sysbox {
                runtime: "x".into(),
            }),
        );
        assert_eq!(c.nodes.len(), 1);
        assert_eq!(c.nodes[0].image, images::build::DEFAULT_SYSBOX_IMAGE);
        let mut named = config::load(None).unwrap();
        config::apply_overrides(&mut named, "", Some("given:1"));
        config::set_defaults_with_image(&mut named, images::build::DEFAULT_SYSBOX_IMAGE);
        assert_eq!(named.nodes[0].image, "given:1", "--image is used as is");
    }

    /// Upstream: `--name=` sets the empty name (KIND_CLUSTER_NAME is not
    /// consulted) and create's defaulting turns it into `kind`, while
    /// `delete cluster --name=` targets "" (golden delete-cluster-empty-name-env).
    #[test]
    fn empty_name_flag_creates_kind_as_upstream() {
        let argv: Vec<String> = ["kind", "create", "cluster", "--name="]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let inv = crate::cli::parse(&argv).unwrap();
        let name = inv.cluster_name(Some("from-env".into()));
        assert_eq!(name, "");
        let mut c = config::load(None).unwrap();
        config::apply_overrides(&mut c, &name, None);
        config::set_defaults(&mut c);
        assert_eq!(c.name, "kind");
    }

    #[test]
    fn images_are_distinct_and_sorted() {
        let c = cluster(&["b:1", "a:2", "b:1"]);
        assert_eq!(required_images(&c), ["a:2", "b:1"]);
    }

    #[test]
    fn friendly_image_drops_the_digest() {
        assert_eq!(
            friendly_image("kindest/node:v1.36.1@sha256:abc"),
            "kindest/node:v1.36.1"
        );
        assert_eq!(
            friendly_image("kind-fixture/node:v1.36.1"),
            "kind-fixture/node:v1.36.1"
        );
    }

    #[test]
    fn ipvs_is_refused_only_under_sysbox() {
        let mut c = cluster(&["x"]);
        c.networking.kube_proxy_mode = "ipvs".into();
        let sysbox = RuntimeMode::Sysbox {
            runtime: "sysbox-runc".into(),
        };
        let err = validate_for_runtime(&c, &sysbox).unwrap_err().to_string();
        assert!(
            err.contains("not supported with Sysbox") && err.contains("IPVS"),
            "{err}"
        );
        assert!(validate_for_runtime(&c, &RuntimeMode::Runc).is_ok());
        c.networking.kube_proxy_mode = "iptables".into();
        assert!(validate_for_runtime(&c, &sysbox).is_ok());
    }

    /// `--network` naming an existing network that is not a bridge is
    /// refused before anything is created or even logged as started.
    #[tokio::test]
    async fn a_network_that_is_no_bridge_is_refused_before_anything_happens() {
        use crate::log::Buffer;
        use crate::provider::fake::FakeProvider;
        use crate::provider::NetworkInfo;
        let p = FakeProvider::default().with_network(NetworkInfo {
            id: "n1".into(),
            name: "mv".into(),
            driver: "macvlan".into(),
            ..Default::default()
        });
        let buffer = Buffer::default();
        let log = Logger::new(Box::new(buffer.clone()), false, 0, false);
        let opts = CreateOptions {
            name: "k".into(),
            network: Some("mv".into()),
            ..Default::default()
        };
        let err = create_with(&p, Cluster::default(), &opts, &log)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("it exists with driver \"macvlan\""), "{err}");
        assert!(
            !buffer.contents().contains("Creating cluster"),
            "{}",
            buffer.contents()
        );
        assert!(p.calls().is_empty() && p.deleted().is_empty());
        // A bridge of that name is fine as far as this check goes (the fake
        // cannot provision, which is the next step).
        let p = FakeProvider::default().with_network(NetworkInfo {
            name: "br".into(),
            driver: "bridge".into(),
            ..Default::default()
        });
        let opts = CreateOptions {
            network: Some("br".into()),
            ..opts
        };
        let err = create_with(&p, Cluster::default(), &opts, &log)
            .await
            .unwrap_err()
            .to_string();
        assert!(!err.contains("driver"), "{err}");
    }
}
