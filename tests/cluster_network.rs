//! `kind create cluster --network NAME` against the real engine: each
//! cluster on its own Docker network (created with kind's options and
//! labelled as the cluster's), nodes reach each other there and not the
//! other cluster's nodes (a TCP connection attempt from inside a node, to a
//! listener started in the target node with the fixture's perl), and the
//! network goes with its cluster; a network the user made, one named by
//! KIND_EXPERIMENTAL_DOCKER_NETWORK, and one still in use survive delete;
//! bad names are refused before anything is created.

mod common;

use std::process::Command;

use common::{assert_ok, docker, stderr, unique, TestCluster, FIXTURE_IMAGE};

/// Removes the networks (after the clusters' containers, declared first
/// so dropped last) however the test ends.
struct Networks(Vec<String>);

impl Drop for Networks {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("docker").args(["network", "rm", n]).output();
        }
    }
}

fn network_exists(name: &str) -> bool {
    docker(&["network", "ls", "--format", "{{.Name}}"])
        .lines()
        .any(|l| l == name)
}

fn networks_of(container: &str) -> Vec<String> {
    docker(&[
        "inspect",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        container,
    ])
    .split_whitespace()
    .map(String::from)
    .collect()
}

fn ip_of(container: &str) -> String {
    docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        container,
    ])
    .trim()
    .to_string()
}

/// A label of a network (`.Labels`) or container (`.Config.Labels`).
fn label(object: &str, key: &str) -> String {
    let v = common::inspect(object);
    let labels = if v["Config"].is_object() {
        &v["Config"]["Labels"]
    } else {
        &v["Labels"]
    };
    labels[key].as_str().unwrap_or_default().to_string()
}

fn create(tc: &TestCluster, config: &str, extra: &[&str], env: &[(&str, &str)]) -> String {
    let path = tc.write("config.yaml", config);
    let mut args = vec![
        "create",
        "cluster",
        "--name",
        &tc.name,
        "--image",
        FIXTURE_IMAGE,
        "--config",
        path.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = tc.kind_env(&args, env);
    assert_ok(&out);
    stderr(&out)
}

const ONE_NODE: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";
const TWO_NODES: &str =
    "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n";

/// A TCP listener on `port` in the node (the fixture has perl, not nc).
fn listen(node: &str, port: u16) {
    let script = format!(
        "use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => {port}, Listen => 5, ReuseAddr => 1) or die $!; while (my $c = $s->accept) {{ close $c }}"
    );
    docker(&["exec", "-d", node, "perl", "-e", &script]);
    // Up once the node itself can connect.
    let probe = format!("echo > /dev/tcp/127.0.0.1/{port}");
    for _ in 0..50 {
        if connects(node, &probe) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no listener on {node}:{port}");
}

/// Whether a bash `/dev/tcp` connection from inside `node` succeeds
/// within 3 s.
fn connects(node: &str, bash: &str) -> bool {
    Command::new("docker")
        .args(["exec", node, "timeout", "3", "bash", "-c", bash])
        .output()
        .expect("docker exec")
        .status
        .success()
}

fn tcp(node: &str, address: &str, port: u16) -> bool {
    connects(node, &format!("echo > /dev/tcp/{address}/{port}"))
}

#[test]
fn clusters_on_their_own_networks_reach_their_nodes_only_and_take_the_network_along() {
    common::require_fixture();
    let (net_a, net_b) = (unique("lnt-net-a"), unique("lnt-net-b"));
    let _networks = Networks(vec![net_a.clone(), net_b.clone()]);
    let a = TestCluster::new("lnt-a");
    let b = TestCluster::new("lnt-b");
    create(&a, TWO_NODES, &["--network", &net_a], &[]);
    create(&b, ONE_NODE, &["--network", &net_b], &[]);
    let (a_cp, a_worker) = (
        format!("{}-control-plane", a.name),
        format!("{}-worker", a.name),
    );
    let b_cp = format!("{}-control-plane", b.name);

    // Each node on its cluster's network only, which records it.
    for (node, net) in [(&a_cp, &net_a), (&a_worker, &net_a), (&b_cp, &net_b)] {
        assert_eq!(networks_of(node), [net.as_str()], "{node}");
        assert_eq!(label(node, "dev.kind-sysbox.network"), *net);
    }
    // Created with kind's options and labelled as the cluster's.
    for (net, cluster) in [(&net_a, &a.name), (&net_b, &b.name)] {
        let opts = docker(&[
            "network",
            "inspect",
            "-f",
            "{{.Driver}} {{json .Options}}",
            net,
        ]);
        assert!(opts.starts_with("bridge "), "{opts}");
        assert!(
            opts.contains("\"com.docker.network.bridge.enable_ip_masquerade\":\"true\""),
            "{opts}"
        );
        assert_eq!(label(net, "dev.kind-sysbox.network-owner"), *cluster);
        assert!(!label(net, "dev.kind-sysbox.create-id").is_empty());
    }

    // From inside cluster A's worker: A's control plane answers (by address
    // and by name, through the network's DNS); B's control plane does not,
    // although it listens too (B's own node reaches it).
    let port = 7777;
    listen(&a_cp, port);
    listen(&b_cp, port);
    let (a_ip, b_ip) = (ip_of(&a_cp), ip_of(&b_cp));
    assert!(
        tcp(&a_worker, &a_ip, port),
        "A's worker cannot reach A's control plane"
    );
    assert!(
        tcp(&a_worker, &a_cp, port),
        "A's worker cannot reach {a_cp} by name"
    );
    assert!(
        tcp(&b_cp, &b_ip, port),
        "B's listener is not reachable at all"
    );
    assert!(
        !tcp(&a_worker, &b_ip, port),
        "A's worker reached B's control plane at {b_ip}"
    );
    assert!(
        !tcp(&a_worker, &b_cp, port),
        "A's worker resolved and reached {b_cp}"
    );

    // get clusters -o json names each cluster's network.
    let out = a.kind(&["get", "clusters", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (cluster, net) in [(&a.name, &net_a), (&b.name, &net_b)] {
        let item = doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == **cluster)
            .unwrap();
        assert_eq!(item["network"], **net);
    }

    // Each network disappears with its cluster.
    let out = a.kind(&["delete", "cluster", "--name", &a.name]);
    assert_ok(&out);
    assert!(
        stderr(&out).contains(&format!("Deleted network {net_a:?}")),
        "{}",
        stderr(&out)
    );
    assert!(!network_exists(&net_a));
    assert!(network_exists(&net_b));
    assert_ok(&b.kind(&["delete", "cluster", "--name", &b.name]));
    assert!(!network_exists(&net_b));
}

#[test]
fn networks_the_cluster_did_not_make_or_still_in_use_survive_delete() {
    common::require_fixture();
    let (user_net, env_net, shared_net) =
        (unique("lnt-user"), unique("lnt-env"), unique("lnt-shared"));
    let _networks = Networks(vec![user_net.clone(), env_net.clone(), shared_net.clone()]);
    docker(&["network", "create", &user_net]);

    // A network the user made beforehand: used as it is, never removed.
    let x = TestCluster::new("lnt-x");
    create(&x, ONE_NODE, &["--network", &user_net], &[]);
    assert_eq!(
        networks_of(&format!("{}-control-plane", x.name)),
        [user_net.as_str()]
    );
    assert_eq!(label(&user_net, "dev.kind-sysbox.network-owner"), "");
    assert_ok(&x.kind(&["delete", "cluster", "--name", &x.name]));
    assert!(network_exists(&user_net));

    // KIND_EXPERIMENTAL_DOCKER_NETWORK as upstream: its warnings, the
    // network created unlabelled and left in place; with --network as
    // well, the flag wins and says so.
    let y = TestCluster::new("lnt-y");
    let log = create(
        &y,
        ONE_NODE,
        &[],
        &[("KIND_EXPERIMENTAL_DOCKER_NETWORK", &env_net)],
    );
    assert!(log.contains("WARNING: Overriding docker network due to KIND_EXPERIMENTAL_DOCKER_NETWORK\nWARNING: Here be dragons! This is not supported currently.\n"), "{log}");
    assert_eq!(
        networks_of(&format!("{}-control-plane", y.name)),
        [env_net.as_str()]
    );
    assert_ok(&y.kind(&["delete", "cluster", "--name", &y.name]));
    assert!(network_exists(&env_net));
    let w = TestCluster::new("lnt-w");
    let log = create(
        &w,
        ONE_NODE,
        &["--network", &user_net],
        &[("KIND_EXPERIMENTAL_DOCKER_NETWORK", &env_net)],
    );
    assert!(
        log.contains(&format!(
            "WARNING: Ignoring KIND_EXPERIMENTAL_DOCKER_NETWORK={env_net:?}: --network {user_net:?} is used"
        )),
        "{log}"
    );
    assert!(!log.contains("Here be dragons"), "{log}");
    assert_eq!(
        networks_of(&format!("{}-control-plane", w.name)),
        [user_net.as_str()]
    );
    assert_ok(&w.kind(&["delete", "cluster", "--name", &w.name]));

    // The cluster's own network, while another container is attached: kept.
    let z = TestCluster::new("lnt-z");
    create(&z, ONE_NODE, &["--network", &shared_net], &[]);
    let other = unique("lnt-other");
    docker(&[
        "run",
        "-d",
        "--name",
        &other,
        "--network",
        &shared_net,
        "--entrypoint",
        "sleep",
        FIXTURE_IMAGE,
        "300",
    ]);
    let out = z.kind(&["delete", "cluster", "--name", &z.name]);
    let _ = Command::new("docker").args(["rm", "-f", &other]).output();
    assert_ok(&out);
    assert!(
        stderr(&out).contains(&format!(
            "Kept network {shared_net:?}: other containers are attached to it"
        )),
        "{}",
        stderr(&out)
    );
    assert!(network_exists(&shared_net));
}

#[test]
fn bad_networks_are_refused_before_anything_is_created() {
    common::require_fixture();
    let tc = TestCluster::new("lnt-bad");
    for (network, says) in [
        ("host", "kind nodes need a user-defined bridge network"),
        ("none", "kind nodes need a user-defined bridge network"),
        ("bridge", "kind nodes need a user-defined bridge network"),
        ("a b", "invalid --network \"a b\": a network name must be"),
        ("container:x", "invalid --network \"container:x\""),
        ("-", "invalid --network \"-\""),
    ] {
        let out = tc.create(&[&format!("--network={network}")]);
        assert_eq!(out.status.code(), Some(1), "{network}");
        let err = stderr(&out);
        assert!(
            err.starts_with("ERROR: failed to create cluster: ") && err.contains(says),
            "{network}: {err}"
        );
        assert!(tc.containers().is_empty(), "{network}: containers created");
        if !["host", "none", "bridge"].contains(&network) {
            assert!(!network_exists(network), "{network}: network created");
        }
    }
}

#[test]
fn a_failed_create_removes_the_network_it_made() {
    common::require_fixture();
    let net = unique("lnt-failnet");
    let _networks = Networks(vec![net.clone()]);
    let tc = TestCluster::new("lnt-fail");
    // Two nodes publishing one host port: the second cannot start.
    let config = tc.write(
        "config.yaml",
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 18089\n- role: worker\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 18089\n",
    );
    let out = tc.create(&["--network", &net, "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("Deleted network {net:?}")),
        "{}",
        stderr(&out)
    );
    assert!(tc.containers().is_empty());
    assert!(!network_exists(&net));
}
