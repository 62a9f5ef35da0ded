//! `kind create cluster` / `get` / `delete` end to end on the real Docker
//! engine, with the fixture node image and the `sysbox-runc` stand-in.

mod common;

use common::*;

const STATUS_TAIL_SINGLE: &str = " • Writing configuration 📜  ...
 ✓ Writing configuration 📜
 • Starting control-plane 🕹️  ...
 ✓ Starting control-plane 🕹️
 • Installing CNI 🔌  ...
 ✓ Installing CNI 🔌
 • Installing StorageClass 💾  ...
 ✓ Installing StorageClass 💾
";

const SALUTATIONS: [&str; 4] = [
    "Have a nice day! 👋",
    "Thanks for using kind! 😊",
    "Not sure what to do next? 😅  Check out https://kind.sigs.k8s.io/docs/user/quick-start/",
    "Have a question, bug, or feature request? Let us know! https://kind.sigs.k8s.io/#community 🙂",
];

/// Everything after the optional cgroup-v1 warning.
fn after_warnings(err: &str) -> &str {
    let start = err.find("Creating cluster").expect("Creating cluster line");
    &err[start..]
}

fn assert_sysbox_node(name: &str) {
    let c = inspect(name);
    let hc = &c["HostConfig"];
    assert_eq!(hc["Runtime"], "sysbox-runc", "{name}");
    assert_eq!(hc["Privileged"], false, "{name}");
    let secopts = hc["SecurityOpt"].as_array().cloned().unwrap_or_default();
    assert!(
        secopts.is_empty(),
        "{name}: unexpected security options {secopts:?}"
    );
    // Exactly one mount: the cluster's images inbox volume (no /var volume,
    // no /lib/modules).
    let cluster = c["Config"]["Labels"]["io.x-k8s.kind.cluster"]
        .as_str()
        .unwrap_or_default();
    let mounts = c["Mounts"].as_array().cloned().unwrap_or_default();
    assert_eq!(mounts.len(), 1, "{name}: mounts {mounts:?}");
    let m = &mounts[0];
    assert_eq!(m["Type"], "volume", "{name}: {m}");
    assert_eq!(m["Name"], images_volume(cluster).as_str(), "{name}: {m}");
    assert_eq!(m["Destination"], "/kind/images-inbox", "{name}: {m}");
    assert_eq!(m["RW"], true, "{name}: {m}");
    assert_eq!(
        c["Config"]["Labels"]["dev.kind-sysbox.images-inbox"], "/kind/images-inbox",
        "{name}"
    );
    let tmpfs = hc["Tmpfs"].as_object().cloned().unwrap_or_default();
    assert!(
        tmpfs.contains_key("/tmp") && tmpfs.contains_key("/run"),
        "{name}: tmpfs {tmpfs:?}"
    );
    assert_eq!(hc["UsernsMode"], "", "{name}");
    assert_eq!(hc["RestartPolicy"]["Name"], "on-failure", "{name}");
    assert_eq!(hc["RestartPolicy"]["MaximumRetryCount"], 1, "{name}");
    assert_eq!(
        c["Config"]["Labels"]["dev.kind-sysbox.runtime-mode"], "sysbox",
        "{name}"
    );
}

#[test]
fn ten_node_cluster_end_to_end() {
    require_fixture();
    // The literal acceptance scenario uses the default name `kind`.
    let tc = TestCluster::named("kind");
    let config = repo_root().join("config-examples/ten-nodes.yaml");
    let out = tc.kind(&[
        "create",
        "cluster",
        "--config",
        config.to_str().unwrap(),
        "--image",
        FIXTURE_IMAGE,
    ]);
    assert_ok(&out);
    let err = stderr(&out);
    let expected_head = format!(
        "Creating cluster \"kind\" ...\n • Ensuring node image ({FIXTURE_IMAGE}) 🖼️  ...\n ✓ Ensuring node image ({FIXTURE_IMAGE}) 🖼️\n • Preparing nodes {boxes}  ...\n ✓ Preparing nodes {boxes}\n{STATUS_TAIL_SINGLE} • Joining worker nodes 🚜  ...\n ✓ Joining worker nodes 🚜\nSet kubectl context to \"kind-kind\"\nYou can now use your cluster with:\n\nkubectl cluster-info --context kind-kind\n\n",
        boxes = "📦 ".repeat(10)
    );
    let body = after_warnings(&err);
    assert!(
        body.starts_with(&expected_head),
        "status lines differ:\n{body}\n--- expected prefix ---\n{expected_head}"
    );
    let salutation = body[expected_head.len()..].trim_end_matches('\n');
    assert!(
        SALUTATIONS.contains(&salutation),
        "salutation {salutation:?}"
    );

    let nodes = tc.containers();
    assert_eq!(nodes.len(), 10);
    for n in &nodes {
        assert_sysbox_node(n);
    }

    let view = kubectl(
        &tc.kubeconfig(),
        &["config", "view", "--minify", "--context", "kind-kind"],
    );
    assert!(view.status.success(), "{}", stderr(&view));
    let server = regex::Regex::new(r"server: https://127\.0\.0\.1:(\d+)\n").unwrap();
    let port: u16 = server.captures(&stdout(&view)).expect("server line")[1]
        .parse()
        .unwrap();
    let published = docker(&["port", "kind-control-plane", "6443/tcp"]);
    assert!(
        published.contains(&format!("127.0.0.1:{port}")),
        "published {published}"
    );

    let listed = tc.kind(&["get", "nodes"]);
    assert_ok(&listed);
    let mut names: Vec<String> = stdout(&listed).lines().map(String::from).collect();
    names.sort();
    let mut expected: Vec<String> = vec!["kind-control-plane".into(), "kind-worker".into()];
    expected.extend((2..=9).map(|i| format!("kind-worker{i}")));
    expected.sort();
    assert_eq!(names, expected);

    // Every worker joined, through the stand-in kubeadm.
    for w in nodes.iter().filter(|n| n.contains("worker")) {
        assert!(
            call_lines(w)
                .iter()
                .any(|l| l.starts_with("kubeadm join --config /kind/kubeadm.conf")),
            "{w}"
        );
    }

    let del = tc.kind(&["delete", "cluster"]);
    assert_ok(&del);
    assert!(
        stderr(&del).starts_with("Deleting cluster \"kind\" ...\nDeleted nodes: ["),
        "{}",
        stderr(&del)
    );
    assert!(tc.containers().is_empty());
    let contexts = kubectl(&tc.kubeconfig(), &["config", "get-contexts", "-o", "name"]);
    assert!(
        !stdout(&contexts).contains("kind-kind"),
        "{}",
        stdout(&contexts)
    );
}

#[test]
fn ha_cluster_inits_then_joins_control_planes_then_workers() {
    require_fixture();
    let tc = TestCluster::new("ha");
    let config = repo_root().join("config-examples/ha.yaml");
    let out = tc.kind(&[
        "create",
        "cluster",
        "--name",
        &tc.name,
        "--config",
        config.to_str().unwrap(),
        "--image",
        FIXTURE_IMAGE,
    ]);
    assert_ok(&out);
    let err = stderr(&out);
    for line in [
        " ✓ Configuring the external load balancer ⚖️\n",
        " ✓ Joining more control-plane nodes 🎮\n",
        " ✓ Joining worker nodes 🚜\n",
    ] {
        assert!(err.contains(line), "missing {line:?} in\n{err}");
    }
    let lb = format!("{}-external-load-balancer", tc.name);
    let lb_info = inspect(&lb);
    assert_eq!(
        lb_info["Config"]["Labels"]["io.x-k8s.kind.role"],
        "external-load-balancer"
    );
    assert_eq!(lb_info["HostConfig"]["Runtime"], "sysbox-runc");
    assert_eq!(lb_info["HostConfig"]["Privileged"], false);
    // The load balancer imports no images: no inbox.
    assert_eq!(
        lb_info["Mounts"].as_array().map_or(0, Vec::len),
        0,
        "{}",
        lb_info["Mounts"]
    );
    for node in ["control-plane", "control-plane3", "worker2"] {
        assert_sysbox_node(&format!("{}-{node}", tc.name));
    }
    let cds = docker(&["exec", &lb, "cat", "/home/envoy/cds.yaml"]);
    for cp in ["control-plane", "control-plane2", "control-plane3"] {
        assert!(cds.contains(&format!("address: {}-{cp}", tc.name)), "{cds}");
    }

    let ts_of = |node: &str, prefix: &str| -> u64 {
        calls(node)
            .iter()
            .find(|c| call_line(c).starts_with(prefix))
            .unwrap_or_else(|| panic!("{node}: no call starting {prefix:?}"))["ts_ns"]
            .as_u64()
            .unwrap()
    };
    let init = ts_of(&format!("{}-control-plane", tc.name), "kubeadm init");
    let cp2 = ts_of(&format!("{}-control-plane2", tc.name), "kubeadm join");
    let cp3 = ts_of(&format!("{}-control-plane3", tc.name), "kubeadm join");
    let w1 = ts_of(&format!("{}-worker", tc.name), "kubeadm join");
    let w2 = ts_of(&format!("{}-worker2", tc.name), "kubeadm join");
    assert!(
        init < cp2 && cp2 < cp3,
        "control planes join one by one after init"
    );
    assert!(
        cp3 < w1 && cp3 < w2,
        "workers join after every control plane"
    );

    // The kubeconfig points at the load balancer's published port.
    let lb_port = docker(&["port", &lb, "6443/tcp"]);
    let view = stdout(&kubectl(&tc.kubeconfig(), &["config", "view", "--minify"]));
    let port = lb_port.trim().rsplit(':').next().unwrap().to_string();
    assert!(
        view.contains(&format!("server: https://127.0.0.1:{port}")),
        "{view}\nlb: {lb_port}"
    );

    // Every container keeps the effective config: the file's nodes with the
    // name and --image applied; each node its index in it.
    let stored = lb_info["Config"]["Labels"]["dev.kind-sysbox.cluster-config"]
        .as_str()
        .expect("the LB carries the config")
        .to_string();
    let effective = kind_sysbox::config::parse(stored.as_bytes()).unwrap();
    assert_eq!(effective.name, tc.name);
    assert_eq!(effective.nodes.len(), 5);
    assert!(effective.nodes.iter().all(|n| n.image == FIXTURE_IMAGE));
    for (node, index) in [
        ("control-plane", "0"),
        ("control-plane3", "2"),
        ("worker2", "4"),
    ] {
        let labels = &inspect(&format!("{}-{node}", tc.name))["Config"]["Labels"];
        assert_eq!(
            labels["dev.kind-sysbox.cluster-config"],
            stored.as_str(),
            "{node}"
        );
        assert_eq!(labels["dev.kind-sysbox.config-node"], index, "{node}");
    }
    assert!(volume_exists(&images_volume(&tc.name)));
    assert_ok(&tc.kind(&["delete", "cluster", "--name", &tc.name]));
    assert!(tc.containers().is_empty());
    assert!(
        !volume_exists(&images_volume(&tc.name)),
        "the images inbox volume goes with the cluster"
    );
}

#[test]
fn failing_kubeadm_init_removes_every_container_unless_retained() {
    require_fixture();
    for retain in [false, true] {
        let tc = TestCluster::new(if retain { "fail-retain" } else { "fail" });
        let fail_dir = tc.dir.path().join("fail");
        std::fs::create_dir(&fail_dir).unwrap();
        std::fs::write(fail_dir.join("kubeadm-init"), "").unwrap();
        let config = tc.write(
            "config.yaml",
            &format!(
                "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: {}\n    containerPath: /kind-fixture/fail\n- role: worker\n",
                fail_dir.display()
            ),
        );
        let mut args = vec![
            "create",
            "cluster",
            "--name",
            &tc.name,
            "--config",
            config.to_str().unwrap(),
            "--image",
            FIXTURE_IMAGE,
        ];
        if retain {
            args.push("--retain");
        }
        let out = tc.kind(&args);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(err.contains(" ✗ Starting control-plane 🕹️\n"), "{err}");
        assert!(
            err.contains(&format!(
                "ERROR: failed to create cluster: failed to init node with kubeadm: command \"docker exec {}-control-plane kubeadm init --config=/kind/kubeadm.conf --skip-token-print --v=6\" failed with error: exit status 1",
                tc.name
            )),
            "{err}"
        );
        assert!(err.contains("\nCommand Output: "), "{err}");
        if retain {
            assert_eq!(tc.containers().len(), 2, "--retain keeps the nodes");
            assert!(volume_exists(&images_volume(&tc.name)), "and their inbox");
        } else {
            assert!(
                tc.containers().is_empty(),
                "nodes left behind: {:?}",
                tc.containers()
            );
            assert!(
                !volume_exists(&images_volume(&tc.name)),
                "the images inbox volume left behind"
            );
            let kc = std::fs::read_to_string(tc.kubeconfig()).unwrap_or_default();
            assert!(!kc.contains(&format!("kind-{}", tc.name)), "{kc}");
        }
    }
}

#[test]
fn existing_cluster_name_is_refused_without_touching_it() {
    require_fixture();
    let tc = TestCluster::new("dup");
    assert_ok(&tc.create(&[]));
    let again = tc.create(&[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).ends_with(&format!(
        "ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"{}\"\n",
        tc.name
    )));
    assert_eq!(tc.containers().len(), 1);
    // Single-node clusters lose the control-plane taint.
    let node = format!("{}-control-plane", tc.name);
    assert!(call_lines(&node)
        .iter()
        .any(|l| l.contains("taint nodes --all node-role.kubernetes.io/control-plane-")));
}

#[test]
fn unparsable_kubeconfig_is_left_unchanged() {
    require_fixture();
    let tc = TestCluster::new("badkc");
    let garbage = "this: is: not\n  - valid yaml {{{\n";
    std::fs::write(tc.kubeconfig(), garbage).unwrap();
    let out = tc.create(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ERROR: failed to create cluster: "), "{err}");
    assert!(
        err.contains(&tc.kubeconfig().display().to_string()),
        "error names the file: {err}"
    );
    assert!(
        err.contains("unchanged"),
        "error says the file was left unchanged: {err}"
    );
    assert_eq!(std::fs::read_to_string(tc.kubeconfig()).unwrap(), garbage);
    // As upstream, a kubeconfig failure after bring-up keeps the cluster.
    assert_eq!(tc.containers().len(), 1);
    let del = tc.kind(&["delete", "cluster", "--name", &tc.name]);
    assert_eq!(
        del.status.code(),
        Some(1),
        "delete reports the kubeconfig error"
    );
    assert!(tc.containers().is_empty(), "but still deletes the nodes");
    assert_eq!(std::fs::read_to_string(tc.kubeconfig()).unwrap(), garbage);
}

#[test]
fn get_kubeconfig_prints_an_extra_blank_line_and_internal_uses_the_node_name() {
    require_fixture();
    let tc = TestCluster::new("getkc");
    assert_ok(&tc.create(&[]));
    let ext = tc.kind(&["get", "kubeconfig", "--name", &tc.name]);
    assert_ok(&ext);
    let text = stdout(&ext);
    assert!(text.ends_with("\n\n"), "{text:?}");
    assert!(text.contains("server: https://127.0.0.1:"), "{text}");
    let int = stdout(&tc.kind(&["get", "kubeconfig", "--name", &tc.name, "--internal"]));
    assert!(
        int.contains(&format!("server: https://{}-control-plane:6443", tc.name)),
        "{int}"
    );

    // export kubeconfig into a fresh file, checked by the real kubectl.
    let other = tc.dir.path().join("exported");
    let exp = tc.kind(&[
        "export",
        "kubeconfig",
        "--name",
        &tc.name,
        "--kubeconfig",
        other.to_str().unwrap(),
    ]);
    assert_ok(&exp);
    assert_eq!(
        stderr(&exp),
        format!("Set kubectl context to \"kind-{}\"\n", tc.name)
    );
    let cur = kubectl(&other, &["config", "current-context"]);
    assert_eq!(stdout(&cur).trim(), format!("kind-{}", tc.name));
    assert_ok(&tc.kind(&["delete", "cluster", "--name", &tc.name]));
}

#[test]
fn runc_mode_requests_upstreams_privileged_flags() {
    require_fixture();
    let tc = TestCluster::new("runc");
    // Docker on our build machines cannot start privileged containers, so
    // creation fails at start; --retain keeps the created container so its
    // HostConfig can be compared with what upstream kind's exact `docker run`
    // flags (spec §3.5) produce for the same node.
    let out = tc.kind_env(
        &[
            "create",
            "cluster",
            "--name",
            &tc.name,
            "--image",
            FIXTURE_IMAGE,
            "--retain",
        ],
        &[("KIND_EXPERIMENTAL_RUNTIME", "runc")],
    );
    let err = stderr(&out);
    assert!(
        err.contains("KIND_EXPERIMENTAL_RUNTIME=runc"),
        "runc mode warns: {err}"
    );
    let node = format!("{}-control-plane", tc.name);
    let ours = inspect(&node);
    assert_eq!(
        ours["Config"]["Labels"]["dev.kind-sysbox.runtime-mode"],
        "runc"
    );

    let port = ours["HostConfig"]["PortBindings"]["6443/tcp"][0]["HostPort"]
        .as_str()
        .unwrap()
        .to_string();
    let reference = format!("{}-upstream-reference", tc.name);
    let cluster_label = format!("io.x-k8s.kind.cluster={}", tc.name);
    let publish = format!("--publish=127.0.0.1:{port}:6443/TCP");
    // Upstream's flags, verbatim, minus --detach (docker create only).
    docker(&[
        "create",
        "--name",
        &reference,
        "--hostname",
        &node,
        "--label",
        "io.x-k8s.kind.role=control-plane",
        "--privileged",
        "--security-opt",
        "seccomp=unconfined",
        "--security-opt",
        "apparmor=unconfined",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/run",
        "--volume",
        "/var",
        "--volume",
        "/lib/modules:/lib/modules:ro",
        "-e",
        "KIND_EXPERIMENTAL_CONTAINERD_SNAPSHOTTER",
        "--tty",
        "--label",
        &cluster_label,
        "--net",
        "kind",
        "--restart=on-failure:1",
        "--init=false",
        "--cgroupns=private",
        &publish,
        "-e",
        "KUBECONFIG=/etc/kubernetes/admin.conf",
        FIXTURE_IMAGE,
    ]);
    let upstream = inspect(&reference);
    let sorted = |v: &serde_json::Value| -> Vec<String> {
        let mut items: Vec<String> = v
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|x| x.as_str().unwrap_or("").to_string())
            .collect();
        items.sort();
        items
    };
    for field in [
        "Privileged",
        "Tmpfs",
        "RestartPolicy",
        "CgroupnsMode",
        "Init",
        "PortBindings",
        "UsernsMode",
        "NetworkMode",
    ] {
        assert_eq!(
            ours["HostConfig"][field], upstream["HostConfig"][field],
            "HostConfig.{field}"
        );
    }
    // null and [] mean the same to Docker. Binds: ours add the images inbox.
    let mut our_binds = sorted(&ours["HostConfig"]["Binds"]);
    let inbox = format!("{}:/kind/images-inbox", images_volume(&tc.name));
    assert!(our_binds.contains(&inbox), "{our_binds:?}");
    our_binds.retain(|b| *b != inbox);
    assert_eq!(
        our_binds,
        sorted(&upstream["HostConfig"]["Binds"]),
        "HostConfig.Binds"
    );
    for field in ["SecurityOpt", "Devices"] {
        assert_eq!(
            sorted(&ours["HostConfig"][field]),
            sorted(&upstream["HostConfig"][field]),
            "HostConfig.{field}"
        );
    }
    assert!(
        ours["HostConfig"]["Runtime"] == upstream["HostConfig"]["Runtime"]
            || ours["HostConfig"]["Runtime"] == "runc",
        "runtime {} vs {}",
        ours["HostConfig"]["Runtime"],
        upstream["HostConfig"]["Runtime"]
    );
    for field in ["Volumes", "Tty", "Hostname", "Image"] {
        assert_eq!(
            ours["Config"][field], upstream["Config"][field],
            "Config.{field}"
        );
    }
    assert_eq!(
        sorted(&ours["Config"]["Env"]),
        sorted(&upstream["Config"]["Env"]),
        "Config.Env"
    );
    let mut our_labels = ours["Config"]["Labels"].as_object().unwrap().clone();
    // Ours on top of upstream's: the runtime mode, the stored config and
    // config index, the images inbox, and the create run's ID (checked here).
    for ours_only in [
        "dev.kind-sysbox.runtime-mode",
        "dev.kind-sysbox.cluster-config",
        "dev.kind-sysbox.config-node",
        "dev.kind-sysbox.images-inbox",
    ] {
        assert!(our_labels.remove(ours_only).is_some(), "{ours_only}");
    }
    assert_eq!(
        our_labels
            .remove("dev.kind-sysbox.create-id")
            .and_then(|v| v.as_str().map(str::len)),
        Some(16),
        "the create run's ID"
    );
    assert_eq!(
        serde_json::Value::Object(our_labels),
        upstream["Config"]["Labels"],
        "labels"
    );
    // And the flags themselves, spelled out.
    let hc = &ours["HostConfig"];
    assert_eq!(hc["Privileged"], true);
    let secopts = sorted(&hc["SecurityOpt"]);
    assert!(
        secopts.contains(&"seccomp=unconfined".into())
            && secopts.contains(&"apparmor=unconfined".into())
    );
    assert!(sorted(&hc["Binds"]).contains(&"/lib/modules:/lib/modules:ro".into()));
    assert!(ours["Config"]["Volumes"]
        .as_object()
        .unwrap()
        .contains_key("/var"));
}

#[test]
fn no_sysbox_runtime_fails_before_creating_anything() {
    // Simulated by asking for a runtime mode we cannot satisfy is not
    // possible without reconfiguring the daemon; instead check the message
    // for an unknown KIND_EXPERIMENTAL_RUNTIME value, which is refused at
    // the same point.
    let tc = TestCluster::new("badrt");
    let out = tc.kind_env(
        &["create", "cluster", "--name", &tc.name],
        &[("KIND_EXPERIMENTAL_RUNTIME", "crun")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("KIND_EXPERIMENTAL_RUNTIME"),
        "{}",
        stderr(&out)
    );
    assert!(tc.containers().is_empty());
}

#[test]
fn ipvs_is_refused_under_sysbox_before_anything_is_created() {
    let tc = TestCluster::new("ipvs");
    let out = tc.kind_stdin(
        &["create", "cluster", "--name", &tc.name, "--config", "-"],
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  kubeProxyMode: ipvs\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("ERROR: failed to create cluster: ")
            && err.contains("Sysbox")
            && err.contains("IPVS"),
        "{err}"
    );
    assert!(!err.contains("Creating cluster"), "{err}");
    assert!(tc.containers().is_empty());
}
