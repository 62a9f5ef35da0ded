//! `kind stop cluster` / `kind start cluster`, fixed node addresses and
//! `create cluster --ephemeral`, against a private dockerd (own socket, data
//! root on /dev/shm, own network namespace) that has the fixture images
//! copied in and a `sysbox-runc` runtime that is plain runc (a stand-in).
//! A private daemon because one test restarts it under a running cluster,
//! and so its disk is not the shared host's (create's disk preflight).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::private_dockerd::PrivateDockerd;
use common::*;

const LB_IMAGE: &str = "envoyproxy/envoy:v1.36.2";

/// A private daemon with the fixture node image, the LB stand-in and the
/// `sysbox-runc` stand-in runtime (runc under that name).
fn daemon() -> PrivateDockerd {
    require_fixture();
    let base = Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let d = PrivateDockerd::start_in(&base, &["--add-runtime".into(), "sysbox-runc=runc".into()]);
    d.load_from_host(&[FIXTURE_IMAGE, LB_IMAGE]);
    d
}

struct Kind<'a> {
    d: &'a PrivateDockerd,
    kubeconfig: PathBuf,
}

impl<'a> Kind<'a> {
    fn new(d: &'a PrivateDockerd) -> Kind<'a> {
        Kind {
            d,
            kubeconfig: d.path("kubeconfig"),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let host = self.d.host();
        kind_cmd(
            args,
            &[("DOCKER_HOST", host.as_str())],
            &self.kubeconfig,
            None,
        )
    }

    fn create(&self, name: &str, config: &str, extra: &[&str]) {
        let cfg = self.d.path(&format!("{name}.yaml"));
        std::fs::write(&cfg, config).unwrap();
        let cfg = cfg.display().to_string();
        let mut args = vec![
            "create",
            "cluster",
            "--name",
            name,
            "--image",
            FIXTURE_IMAGE,
            "--config",
            &cfg,
        ];
        args.extend(extra);
        assert_ok(&self.run(&args));
    }

    fn docker(&self, args: &[&str]) -> String {
        self.d.docker(args).trim().to_string()
    }

    fn nodes(&self, cluster: &str) -> Vec<String> {
        let out = self.docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=io.x-k8s.kind.cluster={cluster}"),
            "--format",
            "{{.Names}}",
        ]);
        let mut v: Vec<String> = out.lines().map(String::from).collect();
        v.sort();
        v
    }

    fn field(&self, node: &str, template: &str) -> String {
        self.docker(&["inspect", node, "--format", template])
    }

    /// node -> "IPv4 IPv6".
    fn addresses(&self, cluster: &str) -> BTreeMap<String, String> {
        self.nodes(cluster)
            .into_iter()
            .map(|n| {
                let a = self.field(
                    &n,
                    "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{.GlobalIPv6Address}}{{end}}",
                );
                (n, a)
            })
            .collect()
    }

    fn states(&self, cluster: &str) -> Vec<String> {
        self.nodes(cluster)
            .iter()
            .map(|n| self.field(n, "{{.State.Status}}"))
            .collect()
    }

    /// A State time as nanoseconds since the epoch's day (RFC 3339, UTC,
    /// same day: enough to order events of one test).
    fn time(&self, node: &str, which: &str) -> u128 {
        let t = self.field(node, &format!("{{{{.State.{which}}}}}"));
        let (date, rest) = t.split_once('T').unwrap();
        let (hms, frac) = rest
            .trim_end_matches('Z')
            .split_once('.')
            .unwrap_or((rest, "0"));
        let frac = format!("{:0<9}", frac.trim_end_matches('Z'));
        let p: Vec<u128> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        let day: u128 = date.replace('-', "").parse().unwrap();
        ((day * 86400 + p[0] * 3600 + p[1] * 60 + p[2]) * 1_000_000_000)
            + frac.parse::<u128>().unwrap()
    }
}

fn assert_fails(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        stderr(o).contains(needle),
        "want {needle:?} in {}",
        stderr(o)
    );
}

const ONE_CP_ONE_WORKER: &str = "kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
";

/// The server of the cluster's kubeconfig entry.
fn kubeconfig_server(path: &Path, cluster: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    doc["clusters"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str() == Some(&format!("kind-{cluster}")))
        .and_then(|c| c["cluster"]["server"].as_str())
        .unwrap()
        .to_string()
}

/// Whether something accepts TCP connections on `host:port` inside the
/// daemon's network namespace (where its published ports live).
fn port_open(d: &PrivateDockerd, hostport: &str) -> bool {
    let (host, port) = hostport.rsplit_once(':').unwrap();
    d.in_netns(Path::new("/bin/bash"))
        .args(["-c", &format!("exec 3<>/dev/tcp/{host}/{port}")])
        .status()
        .unwrap()
        .success()
}

#[test]
fn stop_start_and_a_daemon_restart_keep_every_address_and_the_api_port() {
    let mut d = daemon();
    let k = Kind::new(&d);
    let name = "life";
    k.create(name, ONE_CP_ONE_WORKER, &[]);
    let cp = format!("{name}-control-plane");
    let before = k.addresses(name);
    assert_eq!(before.len(), 2);
    for (node, a) in &before {
        let (v4, v6) = a.split_once(' ').unwrap();
        assert!(!v4.is_empty() && !v6.is_empty(), "{node}: {a}");
        // Fixed: asked for in the endpoint config, from the top of the subnet.
        let asked = k.field(
            node,
            "{{range .NetworkSettings.Networks}}{{.IPAMConfig.IPv4Address}} {{.IPAMConfig.IPv6Address}}{{end}}",
        );
        assert_eq!(&asked, a, "{node}");
        assert!(v4.ends_with(".255.254") || v4.ends_with(".255.253"), "{v4}");
    }
    // The network kind made: IPv4 subnet configured (our label), IPv6 ULA.
    assert_eq!(
        k.docker(&[
            "network",
            "inspect",
            "kind",
            "--format",
            "{{index .Labels \"dev.kind-sysbox.fixed-addresses\"}} {{.EnableIPv6}}"
        ]),
        "true true"
    );
    let server = kubeconfig_server(&k.kubeconfig, name);
    let published = k.docker(&["port", &cp, "6443/tcp"]);
    assert_eq!(server, format!("https://{published}"));

    // stop: every node exited; stopping again is refused, changing nothing.
    let o = k.run(&["stop", "cluster", "--name", name]);
    assert_ok(&o);
    assert_eq!(k.states(name), ["exited", "exited"]);
    let finished = k.time(&cp, "FinishedAt");
    assert_fails(
        &k.run(&["stop", "cluster", "--name", name]),
        "is already stopped",
    );
    assert_eq!(k.time(&cp, "FinishedAt"), finished);
    assert_eq!(k.states(name), ["exited", "exited"]);

    // start: running, Ready (asked of the control plane), same addresses,
    // same published port, the kubeconfig's server answering again.
    let o = k.run(&["start", "cluster", "--name", name, "--wait", "1m"]);
    assert_ok(&o);
    assert!(stderr(&o).contains("Ready after"), "{}", stderr(&o));
    assert_eq!(k.states(name), ["running", "running"]);
    assert_eq!(k.addresses(name), before);
    assert_eq!(k.docker(&["port", &cp, "6443/tcp"]), published);
    assert_eq!(kubeconfig_server(&k.kubeconfig, name), server);
    assert!(
        port_open(&d, &published),
        "{published} not bound after start"
    );
    let ready_checks = k
        .d
        .docker(&["exec", &cp, "cat", CALLS_LOG])
        .lines()
        .filter(|l| {
            l.contains("\"get\",\"nodes\",\"-o=jsonpath={.items..status.conditions[-1:].status}\"")
        })
        .count();
    assert!(ready_checks >= 1);
    assert_fails(
        &k.run(&["start", "cluster", "--name", name]),
        "is already running",
    );

    // A Docker daemon restart under the running cluster. The nodes' init
    // exits 0 on the daemon's stop, so `on-failure:1` does not restart
    // them: `kind start cluster` brings the cluster back, same addresses.
    drop(k);
    d.restart();
    let k = Kind::new(&d);
    assert_eq!(k.states(name), ["exited", "exited"]);
    assert_ok(&k.run(&["start", "cluster", "--name", name, "--wait", "1m"]));
    assert_eq!(k.states(name), ["running", "running"]);
    assert_eq!(k.addresses(name), before);
    assert_eq!(k.docker(&["port", &cp, "6443/tcp"]), published);
    assert!(
        port_open(&d, &published),
        "{published} not bound after the daemon restart"
    );

    // A second cluster on the same network gets other addresses, also
    // clear of the first cluster's while that one is stopped.
    assert_ok(&k.run(&["stop", "cluster", "--name", name]));
    k.create(
        "life2",
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n",
        &[],
    );
    let other = k.addresses("life2");
    for a in other.values() {
        assert!(
            !before.values().any(|b| b == a),
            "{a} reused from {before:?}"
        );
    }
    assert_ok(&k.run(&["start", "cluster", "--name", name, "--wait", "0s"]));
    assert_eq!(k.addresses(name), before);
    assert_ok(&k.run(&["delete", "cluster", "--name", name]));
    // A stopped cluster deletes like a running one.
    assert_ok(&k.run(&["stop", "cluster", "--name", "life2"]));
    assert_ok(&k.run(&["delete", "cluster", "--name", "life2"]));
    assert!(k.nodes(name).is_empty() && k.nodes("life2").is_empty());
}

#[test]
fn ha_cluster_stops_workers_first_and_starts_the_load_balancer_first() {
    let d = daemon();
    let k = Kind::new(&d);
    let name = "ha";
    k.create(
        name,
        "kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: control-plane
- role: control-plane
- role: worker
",
        &[],
    );
    let before = k.addresses(name);
    assert_eq!(before.len(), 5);
    let lb = format!("{name}-external-load-balancer");
    let cps: Vec<String> = ["", "2", "3"]
        .iter()
        .map(|n| format!("{name}-control-plane{n}"))
        .collect();
    let worker = format!("{name}-worker");

    assert_ok(&k.run(&["stop", "cluster", "--name", name]));
    assert!(k.states(name).iter().all(|s| s == "exited"));
    let fin = |n: &str| k.time(n, "FinishedAt");
    for cp in &cps {
        assert!(fin(&worker) < fin(cp), "worker stopped after {cp}");
        assert!(fin(cp) < fin(&lb), "{cp} stopped after the load balancer");
    }

    assert_ok(&k.run(&["start", "cluster", "--name", name, "--wait", "1m"]));
    assert!(k.states(name).iter().all(|s| s == "running"));
    let started = |n: &str| k.time(n, "StartedAt");
    for cp in &cps {
        assert!(
            started(&lb) < started(cp),
            "{cp} started before the load balancer"
        );
        assert!(started(cp) < started(&worker), "worker started before {cp}");
    }
    assert_eq!(k.addresses(name), before);
    assert_ok(&k.run(&["delete", "cluster", "--name", name]));
    assert!(k.nodes(name).is_empty());
}

#[test]
fn ephemeral_clusters_and_bad_input() {
    let d = daemon();
    let k = Kind::new(&d);
    // Bad input against nothing: exit 1, the problem named, nothing made.
    assert_fails(
        &k.run(&["stop", "cluster", "--name", "absent"]),
        "unknown cluster \"absent\"",
    );
    assert_fails(
        &k.run(&["start", "cluster", "--name", "absent"]),
        "unknown cluster \"absent\"",
    );
    assert_fails(
        &k.run(&["start", "cluster", "--name", "absent", "--wait=-1s"]),
        "--wait: it must not be negative",
    );
    assert_fails(
        &k.run(&["stop", "cluster", "extra-arg"]),
        "unknown command \"extra-arg\"",
    );
    assert_eq!(k.docker(&["ps", "-aq"]), "");

    let name = "eph";
    k.create(name, ONE_CP_ONE_WORKER, &["--ephemeral"]);
    let nodes = k.nodes(name);
    assert_eq!(nodes.len(), 2);
    for n in &nodes {
        assert_eq!(
            k.field(
                n,
                "{{.HostConfig.AutoRemove}} {{.HostConfig.RestartPolicy.Name}} {{index .Config.Labels \"dev.kind-sysbox.ephemeral\"}}"
            ),
            "true  true",
            "{n}"
        );
    }
    let o = k.run(&["stop", "cluster", "--name", name]);
    assert_fails(&o, "is ephemeral (created with --ephemeral)");
    assert!(stderr(&o).contains("kind delete cluster --name eph"));
    assert_eq!(k.states(name), ["running", "running"]);
    assert_fails(
        &k.run(&["start", "cluster", "--name", name]),
        "is already running",
    );
    assert_ok(&k.run(&["delete", "cluster", "--name", name]));
    assert!(k.nodes(name).is_empty());
}

/// Concurrent creates on one network plan from the same view of it, so
/// they may pick the same fixed addresses: the loser of each clash is
/// re-attached with the next free ones. Every node ends up with distinct,
/// fixed addresses.
#[test]
fn concurrent_creates_get_distinct_fixed_addresses() {
    let d = daemon();
    let k = Kind::new(&d);
    let names: Vec<String> = (0..4).map(|i| format!("par{i}")).collect();
    let outs: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| {
                let k = &k;
                s.spawn(move || {
                    k.run(&[
                        "create",
                        "cluster",
                        "--name",
                        n,
                        "--image",
                        FIXTURE_IMAGE,
                        "-v",
                        "1",
                    ])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut retried = 0;
    for o in &outs {
        assert_ok(o);
        retried += stderr(o).matches("re-attaching it to kind").count();
    }
    eprintln!("{retried} nodes were re-attached after an address clash");
    let mut all = Vec::new();
    for n in &names {
        for (node, a) in k.addresses(n) {
            let asked = k.field(
                &node,
                "{{range .NetworkSettings.Networks}}{{.IPAMConfig.IPv4Address}} {{.IPAMConfig.IPv6Address}}{{end}}",
            );
            assert_eq!(asked, a, "{node} runs on the addresses it asks for");
            all.push(a);
        }
    }
    let distinct: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "{all:?}");
}
