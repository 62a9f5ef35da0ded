//! Upstream kind's reference unit tests for the config API (spec §9.1
//! load_test.go, §9.2 validate_test.go), plus decoded-value checks.

use kind_sysbox::config::{self, Cluster, MountPropagation, Node, PortMapping, DEFAULT_NODE_IMAGE};

const HEADER: &str = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";

fn parse(body: &str) -> Cluster {
    config::parse(format!("{HEADER}{body}").as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

// --- §9.1 Load ---------------------------------------------------------------

#[test]
fn load_reference_cases() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |path: Option<&str>| config::load(path).map(|_| ()).map_err(|e| e.to_string());
    let minimal = write(&dir, "minimal.yaml", HEADER);
    let two = write(
        &dir,
        "two.yaml",
        &format!("{HEADER}nodes:\n- role: control-plane\n- role: worker\n"),
    );
    let bogus = write(
        &dir,
        "bogus.yaml",
        &format!("{HEADER}nodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    nOtAReaLFielD: 1\n"),
    );
    let bad_version = write(&dir, "v.yaml", "kind: Node\napiVersion: not-valid\n");
    let bad_kind = write(
        &dir,
        "k.yaml",
        "kind: not-valid\napiVersion: kind.x-k8s.io/v1alpha4\n",
    );
    let bad_yaml = write(
        &dir,
        "y.yaml",
        "# intentionally invalid yaml file for testing\n\":",
    );
    let missing = dir
        .path()
        .join("not-a-file.bogus")
        .to_str()
        .unwrap()
        .to_string();

    assert_eq!(ok(None), Ok(()));
    assert_eq!(ok(Some("")), Ok(()));
    assert_eq!(ok(Some(&minimal)), Ok(()));
    assert_eq!(ok(Some(&two)), Ok(()));
    assert_eq!(
        ok(Some(&bogus)),
        Err("unable to decode config: yaml: unmarshal errors:\n  line 7: field nOtAReaLFielD not found in type v1alpha4.PortMappingAlias".into())
    );
    assert_eq!(
        ok(Some(&missing)),
        Err(format!(
            "error reading file: open {missing}: no such file or directory"
        ))
    );
    assert_eq!(
        ok(Some(&bad_version)),
        Err("unknown apiVersion: not-valid".into())
    );
    assert_eq!(
        ok(Some(&bad_kind)),
        Err("unknown kind not-valid for apiVersion: kind.x-k8s.io/v1alpha4".into())
    );
    assert_eq!(
        ok(Some(&bad_yaml)),
        Err("could not determine kind / apiVersion for config: yaml: line 2: found unexpected end of stream".into())
    );
    let dir_path = dir.path().to_str().unwrap();
    assert_eq!(
        ok(Some(dir_path)),
        Err(format!(
            "error reading file: read {dir_path}: is a directory"
        ))
    );
}

#[test]
fn default_config_is_fully_defaulted() {
    let mut c = config::load(None).unwrap();
    assert_eq!(c.name, "", "the name waits for the CLI override");
    assert_eq!(
        c.nodes[0].image, "",
        "the node image waits for the runtime mode"
    );
    config::set_defaults(&mut c);
    assert_eq!(c.name, "kind");
    assert_eq!(
        c.nodes,
        vec![Node {
            role: "control-plane".into(),
            image: DEFAULT_NODE_IMAGE.into(),
            ..Default::default()
        }]
    );
    assert_eq!(c.networking.ip_family, "ipv4");
    assert_eq!(c.networking.kube_proxy_mode, "iptables");
    assert!(config::validate(&c).is_ok());
}

#[test]
fn decoding_defaults_everything_but_the_name_and_image() {
    let c = parse("");
    assert_eq!(c.name, "", "the name is defaulted after the CLI override");
    assert_eq!(c.nodes.len(), 1);
    assert_eq!(
        c.nodes[0].image, "",
        "an unnamed image is filled by set_defaults_with_image"
    );
    assert_eq!(c.networking.pod_subnet, "10.244.0.0/16");
    let c = parse("networking:\n  ipFamily: ipv6\n");
    assert_eq!(c.networking.api_server_address, "::1");
    assert_eq!(c.networking.service_subnet, "fd00:10:96::/112");
}

#[test]
fn many_fields_decode_to_the_internal_form() {
    let c = parse(
        "name: not-default\nfeatureGates:\n  AllBeta: false\nnetworking:\n  ipFamily: ipv6\nnodes:\n- role: control-plane\n\
         - role: worker\n  extraMounts:\n  - containerPath: /foo\n    hostPath: /bar\n    readOnly: true\n    \
         selinuxRelabel: false\n    propagation: Bidirectional\n  extraPortMappings:\n  - containerPort: 8080\n    \
         hostPort: 8080\n    protocol: udp\n",
    );
    assert_eq!(c.name, "not-default");
    assert_eq!(c.feature_gates.get("AllBeta"), Some(&false));
    let worker = &c.nodes[1];
    assert_eq!(worker.role, "worker");
    let m = &worker.extra_mounts[0];
    assert_eq!(
        (m.container_path.as_str(), m.host_path.as_str(), m.read_only),
        ("/foo", "/bar", true)
    );
    assert_eq!(m.propagation, MountPropagation::Bidirectional);
    assert_eq!(
        worker.extra_port_mappings,
        vec![PortMapping {
            container_port: 8080,
            host_port: 8080,
            listen_address: String::new(),
            protocol: "UDP".into()
        }]
    );
}

#[test]
fn dns_search_distinguishes_unset_null_and_empty() {
    assert_eq!(parse("").networking.dns_search, None);
    assert_eq!(
        parse("networking:\n  dnsSearch: null\n")
            .networking
            .dns_search,
        None
    );
    assert_eq!(
        parse("networking:\n  dnsSearch: []\n")
            .networking
            .dns_search,
        Some(vec![])
    );
    assert_eq!(
        parse("networking:\n  dnsSearch: [a.example, b]\n")
            .networking
            .dns_search,
        Some(vec!["a.example".to_string(), "b".to_string()])
    );
}

#[test]
fn scalars_decode_like_go_yaml() {
    let c = parse(
        "runtimeConfig: {\"api/alpha\": false, n: 012}\nfeatureGates: {A: yes, B: \"off\", C: true}\n\
         nodes:\n- extraPortMappings:\n  - containerPort: 80.9\n    hostPort: 0x1F90\n",
    );
    assert_eq!(
        c.runtime_config.get("api/alpha").map(String::as_str),
        Some("false")
    );
    assert_eq!(c.runtime_config.get("n").map(String::as_str), Some("012"));
    assert_eq!(
        c.feature_gates
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        [("A", true), ("B", false), ("C", true)]
    );
    let pm = &c.nodes[0].extra_port_mappings[0];
    assert_eq!((pm.container_port, pm.host_port), (80, 8080));
}

#[test]
fn anchors_merges_and_null_items() {
    let c = parse(
        "nodes:\n- &base\n  role: worker\n  image: example/node:v1\n  labels: {tier: web}\n- <<: *base\n  role: control-plane\n- ~\n",
    );
    assert_eq!(c.nodes.len(), 2, "null items are dropped");
    assert_eq!(
        c.nodes[1].role, "control-plane",
        "keys of the including mapping win"
    );
    assert_eq!(c.nodes[1].image, "example/node:v1");
    assert_eq!(
        c.nodes[1].labels.get("tier").map(String::as_str),
        Some("web")
    );
}

#[test]
fn only_the_first_document_is_decoded() {
    let c = parse("name: first\n---\nkind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: second\nbogus: 1\n");
    assert_eq!(c.name, "first");
}

// --- §9.2 Validate -----------------------------------------------------------

fn defaulted(edit: impl FnOnce(&mut Cluster)) -> Cluster {
    let mut c = Cluster::default();
    config::set_defaults(&mut c);
    edit(&mut c);
    c
}

fn error_count(c: &Cluster) -> usize {
    config::validate(c).err().map_or(0, |e| e.0.len())
}

fn node(role: &str) -> Node {
    Node {
        role: role.into(),
        image: "myImage:latest".into(),
        ..Default::default()
    }
}

#[test]
fn cluster_validate_reference_counts() {
    let family = |family: &str, pods: &str, services: &str| {
        let mut c = Cluster::default();
        c.networking.ip_family = family.into();
        config::set_defaults(&mut c);
        if !pods.is_empty() {
            c.networking.pod_subnet = pods.into();
        }
        if !services.is_empty() {
            c.networking.service_subnet = services.into();
        }
        c
    };
    let cases: Vec<(&str, Cluster, usize)> = vec![
        ("defaulted", defaulted(|_| {}), 0),
        (
            "two more workers",
            defaulted(|c| c.nodes.extend([node("worker"), node("worker")])),
            0,
        ),
        ("ipv6 defaulted", family("ipv6", "", ""), 0),
        (
            "bogus pod subnet",
            defaulted(|c| c.networking.pod_subnet = "aa".into()),
            1,
        ),
        (
            "bogus service subnet",
            defaulted(|c| c.networking.service_subnet = "aa".into()),
            1,
        ),
        (
            "api server port",
            defaulted(|c| c.networking.api_server_port = 9999999),
            1,
        ),
        (
            "proxy mode",
            defaulted(|c| c.networking.kube_proxy_mode = "notiptables".into()),
            1,
        ),
        (
            "ip family",
            defaulted(|c| c.networking.ip_family = "ds".into()),
            1,
        ),
        (
            "two ipv4 pod subnets",
            defaulted(|c| c.networking.pod_subnet = "192.168.0.2/24,2.2.2.0/24".into()),
            1,
        ),
        (
            "dual",
            family(
                "dual",
                "192.168.0.2/24,fd00:1::/25",
                "192.168.0.2/24,fd00:1::/25",
            ),
            0,
        ),
        (
            "dual, three service subnets",
            family("dual", "", "192.168.0.2/24,fd00:1::/25,10.0.0.0/8"),
            1,
        ),
        (
            "dual, single stack service",
            family("dual", "", "fd00:1::/25"),
            0,
        ),
        (
            "dual, single stack pods",
            family("dual", "10.0.0.0/8", ""),
            0,
        ),
        (
            "dual, two ipv4 each",
            family(
                "dual",
                "192.168.0.2/24,10.0.0.0/8",
                "192.168.0.2/24,10.0.0.0/8",
            ),
            2,
        ),
        (
            "ipv6 with ipv4 subnets",
            family("ipv6", "192.168.0.2/24", "10.0.0.0/8"),
            2,
        ),
        (
            "ipv4 with ipv6 subnets",
            family("ipv4", "fd00:1::/25", "fd00:2::/25"),
            2,
        ),
        (
            "empty pod subnet",
            defaulted(|c| c.networking.pod_subnet.clear()),
            1,
        ),
        (
            "empty service subnet",
            defaulted(|c| c.networking.service_subnet.clear()),
            1,
        ),
        ("no nodes", defaulted(|c| c.nodes.clear()), 1),
        (
            "bogus node",
            {
                let mut c = Cluster {
                    nodes: vec![
                        Node {
                            role: "bogus".into(),
                            ..Default::default()
                        },
                        Node::default(),
                    ],
                    ..Default::default()
                };
                config::set_defaults(&mut c);
                c
            },
            1,
        ),
    ];
    for (name, cluster, want) in cases {
        assert_eq!(
            error_count(&cluster),
            want,
            "{name}: {:?}",
            config::validate(&cluster)
        );
    }
}

#[test]
fn node_validate_reference_counts() {
    let with = |edit: &dyn Fn(&mut Node)| {
        let mut n = node("control-plane");
        edit(&mut n);
        defaulted(|c| c.nodes = vec![n, node("control-plane")])
    };
    let mapping = |container_port, host_port| PortMapping {
        container_port,
        host_port,
        ..Default::default()
    };
    let cases: Vec<(&str, Cluster, Option<&str>)> = vec![
        ("control-plane", with(&|_| {}), None),
        ("worker", defaulted(|c| c.nodes.push(node("worker"))), None),
        ("empty image", with(&|n| n.image.clear()), Some("invalid configuration for node 0: image is a required field")),
        ("empty role", with(&|n| n.role.clear()), Some("invalid configuration for node 0: \"\" is not a valid node role")),
        ("role ssss", with(&|n| n.role = "ssss".into()), Some("invalid configuration for node 0: \"ssss\" is not a valid node role")),
        (
            "container port",
            with(&|n| n.extra_port_mappings = vec![mapping(999999999, 0)]),
            Some("invalid configuration for node 0: invalid containerPort: invalid port number: 999999999"),
        ),
        (
            "host port",
            with(&|n| n.extra_port_mappings = vec![mapping(80, 999999999)]),
            Some("invalid configuration for node 0: invalid hostPort: invalid port number: 999999999"),
        ),
        ("two unset host ports", with(&|n| n.extra_port_mappings = vec![mapping(80, 0), mapping(81, 0)]), None),
        ("two runtime-picked host ports", with(&|n| n.extra_port_mappings = vec![mapping(80, -1), mapping(81, -1)]), None),
    ];
    for (name, cluster, want) in cases {
        assert_eq!(
            config::validate(&cluster)
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            want,
            "{name}"
        );
    }
}

#[test]
fn errors_are_collected_deduplicated_and_bracketed() {
    let c = defaulted(|c| {
        c.name = "Bad".into();
        c.networking.pod_subnet = "x".into();
        c.networking.service_subnet = "x".into();
    });
    let errs = config::validate(&c).unwrap_err();
    assert_eq!(errs.0.len(), 3);
    assert_eq!(
        errs.to_string(),
        "['Bad' is not a valid cluster name, cluster names must match `^[a-z0-9.-]+$`, \
         invalid pod subnet failed to parse cidr value:\"x\" with error: invalid CIDR address: x, \
         invalid service subnet failed to parse cidr value:\"x\" with error: invalid CIDR address: x]"
    );
    let twins = defaulted(|c| c.nodes = vec![node("worker"), node("worker")]);
    assert_eq!(
        config::validate(&twins).unwrap_err().to_string(),
        "must have at least one control-plane node"
    );
}
