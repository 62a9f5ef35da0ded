//! The Docker executor against the real engine. Needs a Docker daemon with a
//! runtime named `sysbox-runc` registered (CI registers plain runc under that
//! name) and the node image `kind-fixture/node:v1.36.1` (CI builds it before
//! the tests; `KIND_SYSBOX_TEST_NODE_IMAGE` overrides it). Every container
//! and network is named with a per-test unique prefix and removed by a drop
//! guard, also when a test fails.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use bollard::query_parameters::{
    InspectContainerOptions, InspectNetworkOptions, ListNetworksOptionsBuilder,
};
use kind_sysbox::config::{Cluster, Networking, Node};
use kind_sysbox::provider::network::ula_subnet;
use kind_sysbox::provider::{
    plan_cluster, ports, select_runtime, ContainerSpec, Docker, NodeRef, PlanContext, RunError,
    RuntimeMode, LABEL_RUNTIME_MODE, NODE_READY_LOG_REGEX,
};

const DEFAULT_TEST_IMAGE: &str = "kind-fixture/node:v1.36.1";

/// Removes what a test created, whatever happens to the test.
struct Guard {
    prefix: String,
    networks: Vec<String>,
}

impl Guard {
    fn new(test: &str) -> Guard {
        let nonce: u32 = rand::random();
        Guard {
            prefix: format!("kstest-{test}-{:x}", nonce & 0xffffff),
            networks: Vec::new(),
        }
    }
    fn network(&mut self, suffix: &str) -> String {
        let name = format!("{}-{suffix}", self.prefix);
        self.networks.push(name.clone());
        name
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Containers first (they hold the networks), found by name prefix.
        let out = Command::new("docker")
            .args(["ps", "-aq", "--filter", &format!("name=^/{}", self.prefix)])
            .output()
            .expect("docker ps");
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
        if !ids.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f", "-v"])
                .args(&ids)
                .output();
        }
        // The images inbox volume the nodes' specs name (the cluster is
        // named after the prefix; Docker made the volume on create).
        let _ = Command::new("docker")
            .args([
                "volume",
                "rm",
                "-f",
                &format!("kind-sysbox-images-{}", self.prefix),
            ])
            .output();
        for name in &self.networks {
            // Remove every network of that name (duplicates included).
            let out = Command::new("docker")
                .args(["network", "ls", "-q", "--filter", &format!("name=^{name}$")])
                .output()
                .expect("docker network ls");
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .map(String::from)
                .collect();
            if !ids.is_empty() {
                let _ = Command::new("docker")
                    .args(["network", "rm"])
                    .args(&ids)
                    .output();
            }
        }
    }
}

async fn docker() -> Docker {
    Docker::connect()
        .await
        .expect("a Docker daemon is needed for these tests")
}

async fn node_image(d: &Docker) -> String {
    let image = std::env::var("KIND_SYSBOX_TEST_NODE_IMAGE")
        .unwrap_or_else(|_| DEFAULT_TEST_IMAGE.to_string());
    assert!(
        d.image_exists(&image).await.unwrap(),
        "test node image {image} is missing: build it first (tests/fixtures/node-image/build.sh)"
    );
    image
}

async fn network_ids(d: &Docker, name: &str) -> Vec<String> {
    let filters = std::collections::HashMap::from([("name", vec![name.to_string()])]);
    let list = d
        .api()
        .list_networks(Some(
            ListNetworksOptionsBuilder::new().filters(&filters).build(),
        ))
        .await
        .unwrap();
    list.into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .filter_map(|n| n.id)
        .collect()
}

fn cluster(name: &str, image: &str, roles: &[&str]) -> Cluster {
    Cluster {
        name: name.into(),
        nodes: roles
            .iter()
            .map(|r| Node {
                role: r.to_string(),
                image: image.into(),
                ..Default::default()
            })
            .collect(),
        networking: Networking {
            ip_family: "ipv4".into(),
            api_server_address: "127.0.0.1".into(),
            api_server_port: 0,
            pod_subnet: "10.244.0.0/16".into(),
            service_subnet: "10.96.0.0/16".into(),
            kube_proxy_mode: "iptables".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn plan(d: &Docker, c: &Cluster, mode: RuntimeMode, network: &str) -> Vec<ContainerSpec> {
    let ctx = PlanContext {
        mode,
        host: d.host_info().await.unwrap(),
        network: network.into(),
        proxy_env: BTreeMap::new(),
        snapshotter: None,
        cwd: PathBuf::from("/"),
        node_images: BTreeMap::new(),
    };
    let mut specs = plan_cluster(c, &ctx);
    ports::resolve(&mut specs).unwrap();
    specs
}

#[tokio::test]
async fn host_info_and_runtime_selection() {
    let d = docker().await;
    let info = d.host_info().await.unwrap();
    assert!(
        !info.storage_driver.is_empty() && !info.default_runtime.is_empty(),
        "{info:?}"
    );
    assert!(info.runtimes.contains_key("runc"), "{info:?}");
    assert_eq!(
        select_runtime(&info, None).unwrap(),
        RuntimeMode::Sysbox {
            runtime: "sysbox-runc".into()
        },
        "these tests need a runtime named sysbox-runc registered with Docker"
    );
}

#[tokio::test]
async fn ensure_network_creates_a_kind_style_network() {
    let d = docker().await;
    let mut g = Guard::new("net");
    let name = g.network("kind");
    d.ensure_network(&name).await.unwrap();
    d.ensure_network(&name).await.unwrap();
    let ids = network_ids(&d, &name).await;
    assert_eq!(ids.len(), 1, "{ids:?}");

    let net = d
        .api()
        .inspect_network(&name, None::<InspectNetworkOptions>)
        .await
        .unwrap();
    let options = net.options.clone().unwrap_or_default();
    assert_eq!(net.driver.as_deref(), Some("bridge"));
    assert_eq!(
        options
            .get("com.docker.network.bridge.enable_ip_masquerade")
            .map(String::as_str),
        Some("true")
    );
    let bridge = d
        .api()
        .inspect_network("bridge", None::<InspectNetworkOptions>)
        .await
        .unwrap();
    let bridge_mtu = bridge
        .options
        .unwrap_or_default()
        .get("com.docker.network.driver.mtu")
        .cloned();
    assert_eq!(
        options.get("com.docker.network.driver.mtu"),
        bridge_mtu.as_ref()
    );

    let subnets = d.network_subnets(&name).await.unwrap();
    if net.enable_ipv6 == Some(true) {
        assert!(subnets.contains(&ula_subnet(&name, 0)), "{subnets:?}");
    }
    assert!(
        subnets.iter().any(|s| s.contains('.')),
        "docker's IPAM adds an IPv4 subnet: {subnets:?}"
    );
}

#[tokio::test]
async fn concurrent_ensures_leave_exactly_one_network() {
    let d = docker().await;
    let mut g = Guard::new("race");
    let name = g.network("kind");
    let results = futures_util::future::join_all((0..10).map(|_| d.ensure_network(&name))).await;
    for r in results {
        r.unwrap();
    }
    assert_eq!(network_ids(&d, &name).await.len(), 1);
}

#[tokio::test]
async fn ensure_network_removes_duplicates() {
    let d = docker().await;
    let mut g = Guard::new("dup");
    let name = g.network("kind");
    // Docker (API < 1.44) accepts duplicate names when not asked to check.
    for _ in 0..3 {
        let req = bollard::models::NetworkCreateRequest {
            name: name.clone(),
            driver: Some("bridge".into()),
            ..Default::default()
        };
        d.api().create_network(req).await.unwrap();
    }
    let before = network_ids(&d, &name).await;
    if before.len() < 2 {
        eprintln!("this daemon refuses duplicate network names; nothing to clean up");
    }
    d.ensure_network(&name).await.unwrap();
    let after = network_ids(&d, &name).await;
    assert_eq!(after.len(), 1);
    let mut sorted = before.clone();
    sorted.sort();
    assert_eq!(
        after[0], sorted[0],
        "no containers attached: the smallest ID is kept"
    );
}

async fn inspect(d: &Docker, name: &str) -> bollard::models::ContainerInspectResponse {
    d.api()
        .inspect_container(name, None::<InspectContainerOptions>)
        .await
        .unwrap()
}

#[tokio::test]
async fn sysbox_node_lifecycle() {
    let d = docker().await;
    let image = node_image(&d).await;
    let mut g = Guard::new("sbx");
    let network = g.network("net");
    d.ensure_network(&network).await.unwrap();
    let cluster_name = g.prefix.clone();
    let specs = plan(
        &d,
        &cluster(&cluster_name, &image, &["control-plane"]),
        RuntimeMode::Sysbox {
            runtime: "sysbox-runc".into(),
        },
        &network,
    )
    .await;
    let spec = &specs[0];
    assert!(!d.container_exists(&spec.name).await.unwrap());
    d.create_container(spec).await.unwrap();
    d.start_container(&spec.name).await.unwrap();
    d.wait_for_log(
        &spec.name,
        &regex::Regex::new(NODE_READY_LOG_REGEX).unwrap(),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert!(d.container_exists(&spec.name).await.unwrap());

    // What Docker actually runs: Sysbox runtime, nothing privileged.
    let c = inspect(&d, &spec.name).await;
    let h = c.host_config.clone().unwrap();
    assert_eq!(h.runtime.as_deref(), Some("sysbox-runc"));
    assert_eq!(h.privileged, Some(false));
    assert!(
        h.security_opt.clone().unwrap_or_default().is_empty(),
        "{:?}",
        h.security_opt
    );
    // The only mount: the cluster's images inbox volume.
    assert_eq!(
        h.binds.clone().unwrap_or_default(),
        [format!(
            "kind-sysbox-images-{cluster_name}:/kind/images-inbox"
        )]
    );
    let tmpfs = h.tmpfs.clone().unwrap_or_default();
    assert!(
        tmpfs.contains_key("/tmp") && tmpfs.contains_key("/run"),
        "{tmpfs:?}"
    );
    let restart = h.restart_policy.clone().unwrap();
    assert_eq!(
        (
            restart.name.map(|n| n.to_string()),
            restart.maximum_retry_count
        ),
        (Some("on-failure".into()), Some(1))
    );
    assert_eq!(
        h.cgroupns_mode.map(|m| m.to_string()).as_deref(),
        Some("private")
    );
    assert_eq!(h.init, Some(false));
    assert!(h.userns_mode.unwrap_or_default().is_empty());
    let mounts: Vec<String> = c
        .mounts
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.destination)
        .collect();
    assert!(
        !mounts.iter().any(|m| m == "/var" || m == "/lib/modules"),
        "{mounts:?}"
    );
    let config = c.config.unwrap();
    assert!(config.volumes.unwrap_or_default().is_empty());
    assert!(config
        .env
        .unwrap_or_default()
        .contains(&"KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs".to_string()));
    assert_eq!(
        config.labels.unwrap_or_default()[LABEL_RUNTIME_MODE],
        "sysbox"
    );

    // Listing, addresses, endpoint.
    assert!(d.list_clusters().await.unwrap().contains(&cluster_name));
    let nodes = d.list_nodes(&cluster_name).await.unwrap();
    let node = NodeRef {
        name: spec.name.clone(),
        role: "control-plane".into(),
        runtime_mode: "sysbox".into(),
        config_index: Some(0),
        images_inbox: Some("/kind/images-inbox".into()),
    };
    assert_eq!(nodes, vec![node.clone()]);
    assert!(!node.privileged_exec());
    let (v4, _v6) = d.node_addresses(&spec.name).await.unwrap();
    // The listing reports what the inspection does.
    let listed = d.cluster_node_addresses(&cluster_name).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[&spec.name].as_ref().unwrap(),
        &d.node_addresses(&spec.name).await.unwrap()
    );
    assert!(v4.parse::<std::net::Ipv4Addr>().is_ok(), "{v4}");
    assert_eq!(
        d.api_server_endpoint(&spec.name).await.unwrap(),
        format!("127.0.0.1:{}", spec.ports[0].host_port)
    );

    // Exec: stdin round trip, separate streams, failures as upstream shows them.
    let content = b"line one\nit's \x00 binary\n".to_vec();
    d.exec(&node, &["cp", "/dev/stdin", "/x"], Some(content.clone()))
        .await
        .unwrap();
    assert_eq!(
        d.exec(&node, &["cat", "/x"], None).await.unwrap().stdout,
        content
    );
    let out = d
        .exec(&node, &["sh", "-c", "echo out; echo err >&2"], None)
        .await
        .unwrap();
    assert_eq!(
        (out.stdout.as_slice(), out.stderr.as_slice(), out.exit_code),
        (&b"out\n"[..], &b"err\n"[..], 0)
    );
    let e: RunError = d
        .exec(&node, &["sh", "-c", "echo out; echo err >&2; exit 3"], None)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), format!("command \"docker exec {} sh -c 'echo out; echo err >&2; exit 3'\" failed with error: exit status 3", spec.name));
    assert!(
        e.output.contains("out\n") && e.output.contains("err\n"),
        "{:?}",
        e.output
    );
    let e = d
        .exec(&node, &["cat", "/nonexistent"], Some(Vec::new()))
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "command \"docker exec -i {} cat /nonexistent\" failed",
            spec.name
        )),
        "{e}"
    );

    // A log line that never comes: upstream's message after the deadline.
    let started = Instant::now();
    let never = regex::Regex::new("never printed").unwrap();
    let e = d
        .wait_for_log(&spec.name, &never, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "could not find a log line that matches \"never printed\""
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // Delete, twice (already gone is fine).
    d.delete_containers(std::slice::from_ref(&spec.name))
        .await
        .unwrap();
    assert!(d.list_nodes(&cluster_name).await.unwrap().is_empty());
    d.delete_containers(std::slice::from_ref(&spec.name))
        .await
        .unwrap();
    assert!(!d.list_clusters().await.unwrap().contains(&cluster_name));
}

#[tokio::test]
async fn runc_node_is_created_with_upstreams_flags() {
    let d = docker().await;
    let image = node_image(&d).await;
    let mut g = Guard::new("runc");
    let network = g.network("net");
    d.ensure_network(&network).await.unwrap();
    let cluster_name = g.prefix.clone();
    let specs = plan(
        &d,
        &cluster(&cluster_name, &image, &["control-plane", "worker"]),
        RuntimeMode::Runc,
        &network,
    )
    .await;
    // Created only: this Docker cannot start privileged containers.
    for spec in &specs {
        d.create_container(spec).await.unwrap();
    }
    let c = inspect(&d, &specs[1].name).await;
    let h = c.host_config.clone().unwrap();
    assert_eq!(h.privileged, Some(true));
    // Docker itself adds `label=disable` for privileged containers.
    let security = h.security_opt.unwrap_or_default();
    assert_eq!(
        &security[..2],
        ["seccomp=unconfined", "apparmor=unconfined"]
    );
    let tmpfs = h.tmpfs.unwrap_or_default();
    assert!(
        tmpfs.contains_key("/tmp") && tmpfs.contains_key("/run"),
        "{tmpfs:?}"
    );
    assert_eq!(
        h.binds.unwrap_or_default(),
        [
            "/lib/modules:/lib/modules:ro".to_string(),
            format!("kind-sysbox-images-{cluster_name}:/kind/images-inbox")
        ]
    );
    assert!(
        h.runtime.is_none() || h.runtime.as_deref() == Some("runc"),
        "{:?}",
        h.runtime
    );
    let config = c.config.unwrap();
    assert_eq!(config.volumes.unwrap_or_default(), ["/var"]);
    assert_eq!(
        config.labels.unwrap_or_default()[LABEL_RUNTIME_MODE],
        "runc"
    );
    let nodes = d.list_nodes(&cluster_name).await.unwrap();
    assert_eq!(nodes.len(), 2);
    assert!(nodes.iter().all(|n| n.privileged_exec()), "{nodes:?}");
    // Newest first.
    assert_eq!(nodes[0].name, specs[1].name);

    // Exec in a container that is not running: a RunError carrying the daemon's reason.
    let e = d.exec(&nodes[0], &["true"], None).await.unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "command \"docker exec --privileged {} true\" failed with error: ",
            specs[1].name
        )),
        "{e}"
    );
    assert!(e.output.contains("is not running"), "{:?}", e.output);

    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    d.delete_containers(&names).await.unwrap();
    assert!(d.list_nodes(&cluster_name).await.unwrap().is_empty());
}

#[tokio::test]
async fn unknown_runtime_says_how_to_install_sysbox() {
    let d = docker().await;
    let image = node_image(&d).await;
    let mut g = Guard::new("nort");
    let network = g.network("net");
    d.ensure_network(&network).await.unwrap();
    let specs = plan(
        &d,
        &cluster(&g.prefix, &image, &["control-plane"]),
        RuntimeMode::Sysbox {
            runtime: "kstest-no-such-runtime".into(),
        },
        &network,
    )
    .await;
    let e = d.create_container(&specs[0]).await.unwrap_err();
    let run = e.downcast_ref::<RunError>().expect("a RunError");
    assert_eq!(
        &run.argv[..4],
        ["docker", "run", "--name", specs[0].name.as_str()]
    );
    let text = e.to_string();
    assert!(
        text.contains("Docker does not know the runtime \"kstest-no-such-runtime\"")
            && text.contains("Sysbox is not registered with Docker"),
        "{text}"
    );
}

#[tokio::test]
async fn missing_image_and_pull_errors() {
    let d = docker().await;
    assert!(!d.image_exists("kstest-missing/image:v0").await.unwrap());
    // No registry is reachable here; an unknown local-only name fails either way.
    assert!(d
        .pull_image("localhost:1/kstest-missing/image:v0")
        .await
        .is_err());
}
