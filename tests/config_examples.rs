//! Every file in config-examples/ creates a working cluster on the fixture.
//! (ten-nodes.yaml and ha.yaml are exercised in create_cluster.rs.)

mod common;

use common::*;

fn create_example(tc: &TestCluster, example: &str) {
    let config = repo_root().join("config-examples").join(example);
    // Relative hostPaths in the examples resolve against the repo root.
    let out = std::process::Command::new(kind_bin())
        .current_dir(repo_root())
        .args([
            "create",
            "cluster",
            "--name",
            &tc.name,
            "--config",
            config.to_str().unwrap(),
            "--image",
            FIXTURE_IMAGE,
        ])
        .env("KUBECONFIG", tc.kubeconfig())
        .env_remove("KIND_CLUSTER_NAME")
        .env_remove("KIND_EXPERIMENTAL_RUNTIME")
        .output()
        .unwrap();
    assert_ok(&out);
}

#[test]
fn ingress_ports_example_publishes_80_and_443_and_labels_the_node() {
    require_fixture();
    let tc = TestCluster::new("ex-ingress");
    create_example(&tc, "ingress-ports.yaml");
    let cp = format!("{}-control-plane", tc.name);
    assert!(docker(&["port", &cp, "80/tcp"]).contains("0.0.0.0:80"));
    assert!(docker(&["port", &cp, "443/tcp"]).contains("0.0.0.0:443"));
    let udp = docker(&["port", &cp, "30053/udp"]);
    assert!(
        udp.starts_with("127.0.0.1:") && !udp.trim().ends_with(":0"),
        "random host port: {udp}"
    );
    let conf = node_kubeadm_conf(&cp);
    assert!(
        conf.contains("- name: node-labels\n    value: ingress-ready=true"),
        "{conf}"
    );
    let worker_conf = node_kubeadm_conf(&format!("{}-worker", tc.name));
    assert!(
        worker_conf.contains("- name: node-labels\n    value: \"\""),
        "{worker_conf}"
    );
}

#[test]
fn extra_mounts_example_mounts_host_paths() {
    require_fixture();
    let tc = TestCluster::new("ex-mounts");
    create_example(&tc, "extra-mounts.yaml");
    let cp = format!("{}-control-plane", tc.name);
    assert!(docker(&["exec", &cp, "ls", "/examples"]).contains("extra-mounts.yaml"));
    let info = inspect(&cp);
    let binds: Vec<String> = info["HostConfig"]["Binds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_string())
        .collect();
    let examples = repo_root().join("config-examples");
    assert!(
        binds.contains(&format!("{}:/examples:ro", examples.display())),
        "{binds:?}"
    );
    assert!(binds.contains(&"/tmp:/host-tmp".to_string()), "{binds:?}");
    let worker = inspect(&format!("{}-worker", tc.name));
    let wbinds = worker["HostConfig"]["Binds"].as_array().unwrap();
    assert!(wbinds.iter().any(|b| b == "/tmp:/host-tmp"), "{wbinds:?}");
}

#[test]
fn patches_example_reaches_kubeadm_and_containerd() {
    require_fixture();
    let tc = TestCluster::new("ex-patch");
    create_example(&tc, "patches.yaml");
    let cp = format!("{}-control-plane", tc.name);
    let conf = node_kubeadm_conf(&cp);
    for needle in [
        "  - localhost\n  - 127.0.0.1\n  - my-cluster.example.com\n  - another-name.example.com\n",
        "- name: feature-gates\n    value: InPlacePodVerticalScaling=true",
        "- name: runtime-config\n    value: api/alpha=false",
        "- name: node-labels\n    value: ingress-ready=true",
    ] {
        assert!(conf.contains(needle), "missing {needle:?} in\n{conf}");
    }
    let worker_conf = node_kubeadm_conf(&format!("{}-worker", tc.name));
    assert!(
        worker_conf.contains("- name: v\n    value: \"2\""),
        "{worker_conf}"
    );
    for node in [cp.clone(), format!("{}-worker", tc.name)] {
        let toml = docker(&["exec", &node, "cat", "/etc/containerd/config.toml"]);
        assert!(
            toml.contains(
                "[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"localhost:5000\"]"
            ),
            "{toml}"
        );
        assert!(
            toml.contains("endpoint = [\"http://kind-registry:5000\"]"),
            "{toml}"
        );
        assert!(
            call_lines(&node)
                .iter()
                .any(|l| l == "systemctl restart containerd"),
            "containerd restarted on {node}"
        );
    }
}

#[test]
fn ipv6_example_advertises_ipv6_addresses() {
    require_fixture();
    let tc = TestCluster::new("ex-ipv6");
    create_example(&tc, "ipv6.yaml");
    let cp = format!("{}-control-plane", tc.name);
    let conf = node_kubeadm_conf(&cp);
    let addr = regex::Regex::new(r"advertiseAddress: (\S+)").unwrap();
    let ip = &addr.captures(&conf).expect("advertiseAddress")[1];
    assert!(ip.parse::<std::net::Ipv6Addr>().is_ok(), "{ip}");
    assert!(conf.contains("podSubnet: fd00:10:244::/56"), "{conf}");
    let view = stdout(&kubectl(&tc.kubeconfig(), &["config", "view", "--minify"]));
    assert!(view.contains("server: https://[::1]:"), "{view}");
    let sysctls = &inspect(&cp)["HostConfig"]["Sysctls"];
    assert_eq!(sysctls["net.ipv6.conf.all.disable_ipv6"], "0");
}

#[test]
fn dual_stack_example_uses_both_families() {
    require_fixture();
    let tc = TestCluster::new("ex-dual");
    create_example(&tc, "dual-stack.yaml");
    let conf = node_kubeadm_conf(&format!("{}-worker", tc.name));
    let node_ip = regex::Regex::new(r"- name: node-ip\n    value: (\S+)").unwrap();
    let value = &node_ip.captures(&conf).expect("node-ip")[1];
    let (v4, v6) = value.split_once(',').expect("two addresses");
    assert!(
        v4.parse::<std::net::Ipv4Addr>().is_ok() && v6.parse::<std::net::Ipv6Addr>().is_ok(),
        "{value}"
    );
    assert!(
        conf.contains("serviceSubnet: 10.96.0.0/16,fd00:10:96::/112"),
        "{conf}"
    );
}
