//! The plan rendered as `docker run` command lines and compared with
//! upstream kind's (spec §3.5). Upstream lines are written as upstream prints
//! them; `runc_line` only inserts our runtime-mode label after the role label,
//! and `docker_run_args` here leaves out the images inbox (our addition to
//! every Kubernetes node, checked on its own in
//! `every_kubernetes_node_mounts_the_images_inbox`).

use super::*;
use crate::config::{Mount, Networking, Node, PortMapping};

const IMAGE: &str = "kindest/node:v1.37.0-rc.1@sha256:aabfbaf916de1af22a1e0bf56307b9f775e8e8961a61a653c86e373320dbea2e";
const MODE_RUNC: &str = "--label dev.kind-sysbox.runtime-mode=runc";

fn node(role: &str) -> Node {
    Node {
        role: role.into(),
        image: IMAGE.into(),
        ..Default::default()
    }
}

fn cluster(name: &str, roles: &[&str]) -> Cluster {
    Cluster {
        name: name.into(),
        nodes: roles.iter().map(|r| node(r)).collect(),
        networking: Networking {
            ip_family: "ipv4".into(),
            api_server_port: 41234,
            api_server_address: "127.0.0.1".into(),
            pod_subnet: "10.244.0.0/16".into(),
            service_subnet: "10.96.0.0/16".into(),
            kube_proxy_mode: "iptables".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn host() -> HostInfo {
    HostInfo {
        cgroup_driver: "systemd".into(),
        cgroup2: true,
        memory_limit: true,
        pids_limit: true,
        cpu_shares: true,
        runtimes: [
            ("runc".to_string(), "runc".to_string()),
            (
                "sysbox-runc".to_string(),
                "/usr/bin/sysbox-runc".to_string(),
            ),
        ]
        .into(),
        default_runtime: "runc".into(),
        storage_driver: "overlay2".into(),
        backing_filesystem: "extfs".into(),
        ..Default::default()
    }
}

fn ctx(mode: RuntimeMode) -> PlanContext {
    PlanContext {
        mode,
        host: host(),
        network: "kind".into(),
        proxy_env: BTreeMap::new(),
        snapshotter: None,
        cwd: PathBuf::from("/home/me/project"),
        node_images: BTreeMap::new(),
    }
}

fn runc() -> PlanContext {
    ctx(RuntimeMode::Runc)
}

fn sysbox() -> PlanContext {
    ctx(RuntimeMode::Sysbox {
        runtime: "sysbox-runc".into(),
    })
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

/// An upstream `docker run …` line with our runtime-mode label added.
fn runc_line(upstream: &str) -> Vec<String> {
    let rest = upstream
        .strip_prefix("docker run ")
        .expect("an upstream docker run line");
    let mut w = words(rest);
    let at = w
        .iter()
        .position(|a| a.starts_with("io.x-k8s.kind.role="))
        .expect("role label")
        + 1;
    w.splice(at..at, words(MODE_RUNC));
    w
}

fn rendered(specs: &[ContainerSpec]) -> Vec<Vec<String>> {
    specs.iter().map(docker_run_args).collect()
}

/// The plan's `docker run` arguments without the images inbox's label and
/// volume (shadows the glob-imported one in these tests).
fn docker_run_args(spec: &ContainerSpec) -> Vec<String> {
    let args = super::docker_run_args(spec);
    let mut out = Vec::with_capacity(args.len());
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--label"
            && args
                .get(i + 1)
                .is_some_and(|l| l.starts_with("dev.kind-sysbox.images-inbox="))
        {
            i += 2;
            continue;
        }
        if args[i].starts_with("--volume=kind-sysbox-images-")
            && args[i].ends_with(":/kind/images-inbox")
        {
            i += 1;
            continue;
        }
        out.push(args[i].clone());
        i += 1;
    }
    out
}

#[test]
fn every_kubernetes_node_mounts_the_images_inbox() {
    for ctx in [runc(), sysbox()] {
        let specs = plan_cluster(
            &cluster(
                "dev",
                &["control-plane", "control-plane", "worker", "worker"],
            ),
            &ctx,
        );
        assert_eq!(specs.len(), 5, "four nodes and the load balancer");
        for s in &specs {
            let args = super::docker_run_args(s);
            let mounts = args
                .iter()
                .filter(|a| a.as_str() == "--volume=kind-sysbox-images-dev:/kind/images-inbox")
                .count();
            if s.is_load_balancer() {
                assert_eq!(mounts, 0, "{}", s.name);
                assert!(!s.labels.contains_key(crate::provider::inbox::LABEL_INBOX));
            } else {
                assert_eq!(mounts, 1, "{}", s.name);
                assert_eq!(
                    s.labels[crate::provider::inbox::LABEL_INBOX],
                    "/kind/images-inbox"
                );
            }
        }
    }
}

const RUNC_CP_FLAGS: &str = "--privileged --security-opt seccomp=unconfined --security-opt apparmor=unconfined --tmpfs /tmp --tmpfs /run --volume /var --volume /lib/modules:/lib/modules:ro -e KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER";
const SYSBOX_FLAGS: &str = "--runtime=sysbox-runc --tmpfs /tmp --tmpfs /run -e KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs";
const COMMON: &str = "--detach --tty --label io.x-k8s.kind.cluster=kind --net kind --restart=on-failure:1 --init=false --cgroupns=private";

#[test]
fn default_cluster_runc_is_upstreams_example_line() {
    let specs = plan_cluster(&cluster("kind", &["control-plane"]), &runc());
    let upstream = "docker run --name kind-control-plane --hostname kind-control-plane --label io.x-k8s.kind.role=control-plane --privileged --security-opt seccomp=unconfined --security-opt apparmor=unconfined --tmpfs /tmp --tmpfs /run --volume /var --volume /lib/modules:/lib/modules:ro -e KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER --detach --tty --label io.x-k8s.kind.cluster=kind --net kind --restart=on-failure:1 --init=false --cgroupns=private --publish=127.0.0.1:41234:6443/TCP -e KUBECONFIG=/etc/kubernetes/admin.conf kindest/node:v1.37.0-rc.1@sha256:aabfbaf916de1af22a1e0bf56307b9f775e8e8961a61a653c86e373320dbea2e";
    assert_eq!(rendered(&specs), vec![runc_line(upstream)]);
}

#[test]
fn default_cluster_sysbox() {
    let specs = plan_cluster(&cluster("kind", &["control-plane"]), &sysbox());
    let want = format!(
        "--name kind-control-plane --hostname kind-control-plane --label io.x-k8s.kind.role=control-plane --label dev.kind-sysbox.runtime-mode=sysbox {SYSBOX_FLAGS} {COMMON} --publish=127.0.0.1:41234:6443/TCP -e KUBECONFIG=/etc/kubernetes/admin.conf {IMAGE}"
    );
    assert_eq!(rendered(&specs), vec![words(&want)]);
    let s = &specs[0];
    // The only mount: the images inbox.
    assert!(!s.privileged && s.security_opt.is_empty() && s.volumes.is_empty());
    assert_eq!(
        s.binds,
        vec!["kind-sysbox-images-kind:/kind/images-inbox".to_string()]
    );
    assert_eq!(s.runtime.as_deref(), Some("sysbox-runc"));
    assert_eq!(s.restart_policy, "on-failure:1");
    assert_eq!(s.labels[LABEL_RUNTIME_MODE], "sysbox");
}

#[test]
fn sysbox_runtime_name_is_the_detected_one() {
    let specs = plan_cluster(
        &cluster("kind", &["control-plane"]),
        &ctx(RuntimeMode::Sysbox {
            runtime: "my-sysbox".into(),
        }),
    );
    assert_eq!(specs[0].runtime.as_deref(), Some("my-sysbox"));
    assert!(docker_run_args(&specs[0]).contains(&"--runtime=my-sysbox".to_string()));
}

#[test]
fn one_control_plane_nine_workers() {
    let mut roles = vec!["control-plane"];
    roles.extend(std::iter::repeat_n("worker", 9));
    let c = cluster("kind", &roles);
    for (mode, flags) in [
        (runc(), format!("{MODE_RUNC} {RUNC_CP_FLAGS}")),
        (
            sysbox(),
            format!("--label dev.kind-sysbox.runtime-mode=sysbox {SYSBOX_FLAGS}"),
        ),
    ] {
        let specs = plan_cluster(&c, &mode);
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "kind-control-plane",
                "kind-worker",
                "kind-worker2",
                "kind-worker3",
                "kind-worker4",
                "kind-worker5",
                "kind-worker6",
                "kind-worker7",
                "kind-worker8",
                "kind-worker9"
            ]
        );
        for s in &specs[1..] {
            // Workers: no API server mapping, no KUBECONFIG.
            let want = format!("--name {n} --hostname {n} --label io.x-k8s.kind.role=worker {flags} {COMMON} {IMAGE}", n = s.name);
            assert_eq!(docker_run_args(s), words(&want));
        }
    }
}

#[test]
fn ha_three_control_planes_two_workers_with_lb() {
    let c = cluster(
        "kind",
        &[
            "control-plane",
            "control-plane",
            "control-plane",
            "worker",
            "worker",
        ],
    );
    let specs = plan_cluster(&c, &runc());
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "kind-control-plane",
            "kind-control-plane2",
            "kind-control-plane3",
            "kind-worker",
            "kind-worker2",
            "kind-external-load-balancer"
        ]
    );
    for s in &specs[..3] {
        // Behind the LB: loopback and a random (0 = kind picks) port.
        let upstream = format!(
            "docker run --name {n} --hostname {n} --label io.x-k8s.kind.role=control-plane {RUNC_CP_FLAGS} {COMMON} --publish=127.0.0.1:0:6443/TCP -e KUBECONFIG=/etc/kubernetes/admin.conf {IMAGE}",
            n = s.name
        );
        assert_eq!(docker_run_args(s), runc_line(&upstream));
    }
    let lb = &specs[5];
    let upstream = format!(
        "docker run --name kind-external-load-balancer --hostname kind-external-load-balancer --label io.x-k8s.kind.role=external-load-balancer {COMMON} --publish=127.0.0.1:41234:6443/TCP docker.io/envoyproxy/envoy:v1.36.2"
    );
    // Upstream's line, then the envoy bootstrap command.
    let mut want = runc_line(&upstream);
    want.extend(lb_command(&crate::kubeadm::envoy::bootstrap_script(
        "kind",
        "kind-external-load-balancer",
    )));
    assert_eq!(docker_run_args(lb), want);
    assert!(lb.is_load_balancer() && lb.runtime.is_none() && !lb.privileged && lb.tmpfs.is_empty());

    // Sysbox: same layout, the LB under the same runtime as the nodes.
    let specs = plan_cluster(&c, &sysbox());
    let lb = specs.last().unwrap();
    let want = format!(
        "--name kind-external-load-balancer --hostname kind-external-load-balancer --label io.x-k8s.kind.role=external-load-balancer --label dev.kind-sysbox.runtime-mode=sysbox --runtime=sysbox-runc {COMMON} --publish=127.0.0.1:41234:6443/TCP docker.io/envoyproxy/envoy:v1.36.2"
    );
    let mut want = words(&want);
    want.extend(lb_command(&crate::kubeadm::envoy::bootstrap_script(
        "kind",
        "kind-external-load-balancer",
    )));
    assert_eq!(docker_run_args(lb), want);
    assert_eq!(
        specs[1].ports,
        vec![PortSpec {
            listen_address: "127.0.0.1".into(),
            host_port: 0,
            container_port: 6443,
            protocol: "TCP".into()
        }]
    );
}

#[test]
fn lb_command_is_the_envoy_bootstrap_and_nodes_keep_their_images_command() {
    let specs = plan_cluster(
        &cluster("kind", &["control-plane", "control-plane"]),
        &runc(),
    );
    let lb = specs.iter().find(|s| s.is_load_balancer()).unwrap();
    let script = crate::kubeadm::envoy::bootstrap_script("kind", "kind-external-load-balancer");
    let args = docker_run_args(lb);
    assert_eq!(
        &args[args.len() - 4..],
        [
            "docker.io/envoyproxy/envoy:v1.36.2",
            "bash",
            "-c",
            script.as_str()
        ]
    );
    assert!(specs
        .iter()
        .filter(|s| !s.is_load_balancer())
        .all(|s| s.cmd.is_none()));
}

#[test]
fn naming_matches_upstream_namer() {
    let names = |name: &str, roles: &[&str]| node_names(&cluster(name, roles));
    assert_eq!(names("kind", &["control-plane"]), ["kind-control-plane"]);
    assert_eq!(
        names("kind-test", &["control-plane", "worker", "worker"]),
        [
            "kind-test-control-plane",
            "kind-test-worker",
            "kind-test-worker2"
        ]
    );
    // Per-role counters follow config order, whatever the interleaving.
    assert_eq!(
        names(
            "ab1",
            &[
                "worker",
                "control-plane",
                "worker",
                "control-plane",
                "control-plane",
                "worker"
            ]
        ),
        [
            "ab1-worker",
            "ab1-control-plane",
            "ab1-worker2",
            "ab1-control-plane2",
            "ab1-control-plane3",
            "ab1-worker3",
            "ab1-external-load-balancer"
        ]
    );
}

fn with_ports(mappings: Vec<PortMapping>, ip_family: &str) -> Cluster {
    let mut c = cluster("kind", &["control-plane"]);
    c.networking.ip_family = ip_family.into();
    c.nodes[0].extra_port_mappings = mappings;
    c
}

fn pm(container_port: i32, host_port: i32, listen_address: &str, protocol: &str) -> PortMapping {
    PortMapping {
        container_port,
        host_port,
        listen_address: listen_address.into(),
        protocol: protocol.into(),
    }
}

#[test]
fn port_mappings() {
    let cases: Vec<(&str, PortMapping, &str, &str)> = vec![
        (
            "defaults (ipv4)",
            pm(80, 80, "", ""),
            "ipv4",
            "--publish=0.0.0.0:80:80/TCP",
        ),
        (
            "defaults (dual)",
            pm(80, 80, "", ""),
            "dual",
            "--publish=0.0.0.0:80:80/TCP",
        ),
        (
            "defaults (ipv6)",
            pm(80, 80, "", ""),
            "ipv6",
            "--publish=[::]:80:80/TCP",
        ),
        (
            "explicit address",
            pm(443, 8443, "127.0.0.1", "TCP"),
            "ipv4",
            "--publish=127.0.0.1:8443:443/TCP",
        ),
        (
            "ipv6 address bracketed",
            pm(6443, 41234, "::1", "TCP"),
            "ipv4",
            "--publish=[::1]:41234:6443/TCP",
        ),
        (
            "udp",
            pm(53, 5353, "", "UDP"),
            "ipv4",
            "--publish=0.0.0.0:5353:53/UDP",
        ),
        (
            "sctp",
            pm(9, 9, "", "SCTP"),
            "ipv4",
            "--publish=0.0.0.0:9:9/SCTP",
        ),
        (
            "hostPort 0 waits for ports::resolve",
            pm(80, 0, "", ""),
            "ipv4",
            "--publish=0.0.0.0:0:80/TCP",
        ),
        (
            "hostPort -1 is a literal 0 (runtime picks)",
            pm(80, -1, "", ""),
            "ipv4",
            "--publish=0.0.0.0:0:80/TCP",
        ),
    ];
    for (what, mapping, family, want) in cases {
        for mode in [runc(), sysbox()] {
            let specs = plan_cluster(&with_ports(vec![mapping.clone()], family), &mode);
            let args = docker_run_args(&specs[0]);
            let publishes: Vec<&String> = args
                .iter()
                .filter(|a| a.starts_with("--publish="))
                .collect();
            assert_eq!(publishes.len(), 2, "{what}");
            assert_eq!(publishes[0], want, "{what}");
            // The API server mapping is always the last --publish.
            assert!(publishes[1].ends_with(":6443/TCP"), "{what}: {publishes:?}");
        }
    }
    // hostPort 0 and -1 differ in the spec: only 0 is resolved by kind.
    let specs = plan_cluster(
        &with_ports(vec![pm(80, 0, "", ""), pm(81, -1, "", "")], "ipv4"),
        &runc(),
    );
    assert_eq!(
        (specs[0].ports[0].host_port, specs[0].ports[1].host_port),
        (0, -1)
    );
}

#[test]
fn api_server_address_and_port() {
    let mut c = cluster("kind", &["control-plane"]);
    c.networking.api_server_address = "0.0.0.0".into();
    c.networking.api_server_port = 6443;
    assert_eq!(
        plan_cluster(&c, &runc())[0].ports,
        vec![PortSpec {
            listen_address: "0.0.0.0".into(),
            host_port: 6443,
            container_port: 6443,
            protocol: "TCP".into()
        }]
    );

    // ipv6: the LB keeps the configured address, control planes get ::1.
    let mut c = cluster("kind", &["control-plane", "control-plane"]);
    c.networking.ip_family = "ipv6".into();
    c.networking.api_server_address = "::1".into();
    c.networking.api_server_port = 0;
    let specs = plan_cluster(&c, &sysbox());
    assert!(docker_run_args(&specs[0]).contains(&"--publish=[::1]:0:6443/TCP".to_string()));
    assert!(docker_run_args(&specs[2]).contains(&"--publish=[::1]:0:6443/TCP".to_string()));
    assert_eq!(specs[2].ports[0].host_port, 0);
}

fn mount(
    host: &str,
    ctr: &str,
    read_only: bool,
    selinux_relabel: bool,
    propagation: MountPropagation,
) -> Mount {
    Mount {
        host_path: host.into(),
        container_path: ctr.into(),
        read_only,
        selinux_relabel,
        propagation,
    }
}

#[test]
fn extra_mounts() {
    use MountPropagation::*;
    let cases: Vec<(&str, Mount, &str)> = vec![
        (
            "plain",
            mount("/src", "/dst", false, false, None),
            "--volume=/src:/dst",
        ),
        (
            "read only",
            mount("/src", "/dst", true, false, None),
            "--volume=/src:/dst:ro",
        ),
        (
            "selinux",
            mount("/src", "/dst", false, true, None),
            "--volume=/src:/dst:Z",
        ),
        (
            "bidirectional",
            mount("/src", "/dst", false, false, Bidirectional),
            "--volume=/src:/dst:rshared",
        ),
        (
            "host to container",
            mount("/src", "/dst", false, false, HostToContainer),
            "--volume=/src:/dst:rslave",
        ),
        (
            "all options in order",
            mount("/src", "/dst", true, true, Bidirectional),
            "--volume=/src:/dst:ro,Z,rshared",
        ),
        (
            "relative host path",
            mount("./foo", "/bar", false, false, None),
            "--volume=/home/me/project/foo:/bar",
        ),
        (
            "relative with ..",
            mount("../data/x", "/x", true, false, None),
            "--volume=/home/me/data/x:/x:ro",
        ),
    ];
    for (what, m, want) in cases {
        for mode in [runc(), sysbox()] {
            let mut c = cluster("kind", &["control-plane"]);
            c.nodes[0].extra_mounts = vec![m.clone()];
            let args = docker_run_args(&plan_cluster(&c, &mode)[0]);
            let at = args
                .iter()
                .position(|a| a == want)
                .unwrap_or_else(|| panic!("{what}: {want} not in {args:?}"));
            // Mounts come right after the common args, before the ports.
            assert_eq!(args[at - 1], "--cgroupns=private", "{what}");
            assert!(args[at + 1].starts_with("--publish="), "{what}");
        }
    }
}

#[test]
fn ipv6_and_dual_get_sysctls_on_every_container() {
    let sysctls =
        "--sysctl=net.ipv6.conf.all.disable_ipv6=0 --sysctl=net.ipv6.conf.all.forwarding=1";
    for (family, expect) in [("ipv4", false), ("ipv6", true), ("dual", true)] {
        let mut c = cluster("kind", &["control-plane", "control-plane", "worker"]);
        c.networking.ip_family = family.into();
        for mode in [runc(), sysbox()] {
            for spec in plan_cluster(&c, &mode) {
                let line = docker_run_args(&spec).join(" ");
                assert_eq!(
                    line.contains(&format!("--cgroupns=private {sysctls}")),
                    expect,
                    "{family} {}: {line}",
                    spec.name
                );
            }
        }
    }
    // An ipv6 worker, upstream-exact.
    let mut c = cluster("kind", &["control-plane", "worker"]);
    c.networking.ip_family = "ipv6".into();
    let upstream = format!("docker run --name kind-worker --hostname kind-worker --label io.x-k8s.kind.role=worker {RUNC_CP_FLAGS} {COMMON} {sysctls} {IMAGE}");
    assert_eq!(
        docker_run_args(&plan_cluster(&c, &runc())[1]),
        runc_line(&upstream)
    );
}

#[test]
fn proxy_env_on_every_container_after_sysctls() {
    let mut ctx = runc();
    ctx.proxy_env = [
        ("HTTP_PROXY", "http://p:3128"),
        ("NO_PROXY", "a,b"),
        ("http_proxy", "http://p:3128"),
        ("no_proxy", "a,b"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut c = cluster("kind", &["control-plane", "control-plane"]);
    c.networking.ip_family = "dual".into();
    let specs = plan_cluster(&c, &ctx);
    let proxy =
        "-e HTTP_PROXY=http://p:3128 -e NO_PROXY=a,b -e http_proxy=http://p:3128 -e no_proxy=a,b";
    let upstream = format!(
        "docker run --name kind-control-plane --hostname kind-control-plane --label io.x-k8s.kind.role=control-plane {RUNC_CP_FLAGS} {COMMON} --sysctl=net.ipv6.conf.all.disable_ipv6=0 --sysctl=net.ipv6.conf.all.forwarding=1 {proxy} --publish=127.0.0.1:0:6443/TCP -e KUBECONFIG=/etc/kubernetes/admin.conf {IMAGE}"
    );
    assert_eq!(docker_run_args(&specs[0]), runc_line(&upstream));
    assert!(
        docker_run_args(&specs[2]).join(" ").contains(proxy),
        "the LB gets the proxy env too"
    );
}

#[test]
fn dns_search() {
    type Case<'a> = (&'a str, Option<Vec<&'a str>>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("unset: inherit the host's", None, None),
        (
            "empty: no search domains",
            Some(vec![]),
            Some("KIND_DNS_SEARCH="),
        ),
        (
            "set: space separated",
            Some(vec!["example.com", "corp.local"]),
            Some("KIND_DNS_SEARCH=example.com corp.local"),
        ),
    ];
    for (what, search, want) in cases {
        let mut c = cluster("kind", &["control-plane", "control-plane"]);
        c.networking.dns_search = search.map(|v| v.into_iter().map(String::from).collect());
        for mode in [runc(), sysbox()] {
            for spec in plan_cluster(&c, &mode) {
                let args = docker_run_args(&spec);
                let got: Vec<&String> = args
                    .iter()
                    .filter(|a| a.starts_with("KIND_DNS_SEARCH"))
                    .collect();
                match want {
                    None => assert!(got.is_empty(), "{what}"),
                    Some(w) => {
                        assert_eq!(got, [w], "{what}");
                        let at = args.iter().position(|a| a == w).unwrap();
                        assert_eq!(args[at - 1], "-e", "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn host_dependent_flags() {
    // (what, host tweak, runc args expected after the common args, sysbox ones)
    type Tweak = fn(&mut HostInfo);
    let cases: Vec<(&str, Tweak, &str, &str)> = vec![
        ("plain host", |_| {}, "", ""),
        (
            "userns-remap: upstream adds --userns=host, Sysbox never",
            |h| h.userns_remap = true,
            "--userns=host",
            "",
        ),
        (
            "btrfs driver",
            |h| h.storage_driver = "btrfs".into(),
            "--volume /dev/mapper:/dev/mapper",
            "--volume /dev/mapper:/dev/mapper",
        ),
        (
            "zfs driver",
            |h| h.storage_driver = "zfs".into(),
            "--volume /dev/mapper:/dev/mapper",
            "--volume /dev/mapper:/dev/mapper",
        ),
        (
            "devicemapper driver",
            |h| h.storage_driver = "devicemapper".into(),
            "--volume /dev/mapper:/dev/mapper",
            "--volume /dev/mapper:/dev/mapper",
        ),
        (
            "xfs backing fs",
            |h| h.backing_filesystem = "xfs".into(),
            "--volume /dev/mapper:/dev/mapper",
            "--volume /dev/mapper:/dev/mapper",
        ),
        (
            "btrfs backing fs",
            |h| h.backing_filesystem = "btrfs".into(),
            "--volume /dev/mapper:/dev/mapper",
            "--volume /dev/mapper:/dev/mapper",
        ),
        (
            "xfs driver is not a trigger",
            |h| h.storage_driver = "xfs".into(),
            "",
            "",
        ),
        (
            "userns + btrfs, in upstream's order",
            |h| {
                h.userns_remap = true;
                h.storage_driver = "btrfs".into();
            },
            "--userns=host --volume /dev/mapper:/dev/mapper",
            "--volume /dev/mapper:/dev/mapper",
        ),
    ];
    for (what, tweak, runc_extra, sysbox_extra) in cases {
        for (mut ctx, extra, flags) in [
            (runc(), runc_extra, format!("{MODE_RUNC} {RUNC_CP_FLAGS}")),
            (
                sysbox(),
                sysbox_extra,
                format!("--label dev.kind-sysbox.runtime-mode=sysbox {SYSBOX_FLAGS}"),
            ),
        ] {
            tweak(&mut ctx.host);
            let specs = plan_cluster(&cluster("kind", &["control-plane", "worker"]), &ctx);
            let want = format!("--name kind-worker --hostname kind-worker --label io.x-k8s.kind.role=worker {flags} {COMMON} {extra} {IMAGE}");
            assert_eq!(
                docker_run_args(&specs[1]),
                words(&want),
                "{what} ({})",
                ctx.mode.label()
            );
        }
    }
}

#[test]
fn rootless_runc_mode() {
    // Rootless: /dev/fuse, and never /dev/mapper even on btrfs.
    let mut ctx = runc();
    ctx.host.rootless = true;
    ctx.host.storage_driver = "btrfs".into();
    ctx.host.userns_remap = true;
    let specs = plan_cluster(&cluster("kind", &["control-plane", "worker"]), &ctx);
    let upstream = format!("docker run --name kind-worker --hostname kind-worker --label io.x-k8s.kind.role=worker {RUNC_CP_FLAGS} {COMMON} --userns=host --device /dev/fuse {IMAGE}");
    assert_eq!(docker_run_args(&specs[1]), runc_line(&upstream));
}

#[test]
fn snapshotter_env() {
    // (mode, host value, env entry)
    let cases = [
        (runc(), None, "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER"),
        (runc(), Some(""), "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER"),
        (
            runc(),
            Some("native"),
            "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=native",
        ),
        (
            sysbox(),
            None,
            "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=overlayfs",
        ),
        (
            sysbox(),
            Some("fuse-overlayfs"),
            "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER=fuse-overlayfs",
        ),
    ];
    for (mut ctx, host_value, want) in cases {
        ctx.snapshotter = host_value.map(String::from);
        let specs = plan_cluster(&cluster("kind", &["control-plane", "control-plane"]), &ctx);
        assert_eq!(specs[0].env[0], want, "{} {host_value:?}", ctx.mode.label());
        assert!(
            !specs[2].env.iter().any(|e| e.starts_with(SNAPSHOTTER_ENV)),
            "not for the LB"
        );
    }
}

#[test]
fn runc_mode_names_runc_when_sysbox_is_the_default_runtime() {
    let mut ctx = runc();
    ctx.host.default_runtime = "sysbox-runc".into();
    let specs = plan_cluster(&cluster("kind", &["control-plane", "control-plane"]), &ctx);
    assert_eq!(specs[0].runtime.as_deref(), Some("runc"));
    assert_eq!(specs[2].runtime, None, "the LB stays on Docker's default");
}

#[test]
fn labels_network_and_fixed_flags_on_every_container() {
    let mut ctx = sysbox();
    ctx.network = "my-net".into();
    let c = cluster("dev", &["control-plane", "control-plane", "worker"]);
    for spec in plan_cluster(&c, &ctx) {
        assert_eq!(spec.labels[LABEL_CLUSTER], "dev");
        assert_eq!(spec.labels[LABEL_ROLE], spec.role);
        assert_eq!(spec.labels[LABEL_RUNTIME_MODE], "sysbox");
        assert_eq!(
            (spec.network.as_str(), spec.hostname.as_str()),
            ("my-net", spec.name.as_str())
        );
        assert!(spec.tty && !spec.init && spec.cgroupns_private && spec.userns_mode.is_none());
        assert_eq!(spec.restart_policy, "on-failure:1");
    }
}

#[test]
fn every_container_carries_the_effective_config_and_nodes_their_index() {
    let mut ctx = sysbox();
    ctx.cwd = "/work/here".into();
    let mut c = cluster("dev", &["control-plane", "worker", "control-plane"]);
    c.nodes[1].extra_mounts = vec![Mount {
        host_path: "data".into(),
        container_path: "/data".into(),
        ..Default::default()
    }];
    let specs = plan_cluster(&c, &ctx);
    let mut stored = c.clone();
    stored.nodes[1].extra_mounts[0].host_path = "/work/here/data".into();
    for spec in &specs {
        let decoded = crate::config::parse(spec.labels[LABEL_CLUSTER_CONFIG].as_bytes()).unwrap();
        assert_eq!(
            decoded, stored,
            "{}: host paths are kept absolute",
            spec.name
        );
    }
    let index = |i: usize| specs[i].labels.get(LABEL_CONFIG_NODE).map(String::as_str);
    assert_eq!(
        [index(0), index(1), index(2), index(3)],
        [Some("0"), Some("1"), Some("2"), None],
        "the LB is no config entry"
    );
    assert_eq!(specs[2].name, "dev-control-plane2");
    // Bookkeeping stays out of the docker-run line shown in errors.
    let line = docker_run_args(&specs[0]).join(" ");
    assert!(
        !line.contains("dev.kind-sysbox.cluster-config") && !line.contains("config-node"),
        "{line}"
    );
}

#[test]
fn absolute_paths() {
    let cwd = Path::new("/a/b");
    assert_eq!(absolute(cwd, "c"), "/a/b/c");
    assert_eq!(absolute(cwd, "./c/./d"), "/a/b/c/d");
    assert_eq!(absolute(cwd, "../../../x"), "/x");
    assert_eq!(absolute(cwd, "/abs/../kept"), "/abs/../kept");
}

#[test]
fn nodes_run_the_derivation_of_their_named_image_and_record_the_name() {
    let mut c = cluster("mixed", &["control-plane", "control-plane", "worker"]);
    c.nodes[1].image = "other/node:v1".into();
    let mut ctx = sysbox();
    ctx.node_images = [(IMAGE.to_string(), "kind-sysbox/derived:x".to_string())].into();
    let specs = plan_cluster(&c, &ctx);
    let got: Vec<(&str, Option<&str>)> = specs
        .iter()
        .map(|s| {
            (
                s.image.as_str(),
                s.labels.get(LABEL_NAMED_IMAGE).map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("kind-sysbox/derived:x", Some(IMAGE)),
            ("other/node:v1", None),
            ("kind-sysbox/derived:x", Some(IMAGE)),
            (LOAD_BALANCER_IMAGE, None),
        ],
        "unmapped images and the load balancer run as configured"
    );
}
