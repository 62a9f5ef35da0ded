//! `kind get clusters -o …` and `kind get nodes -o …` against the real
//! engine: the JSON documents validate against the JSON Schemas in
//! `schemas/` (and the schemas reject what they should), YAML is the same
//! document, wide is a header plus aligned rows, per node the named image
//! and the image actually run show, stopping a node shows in the statuses,
//! and a bad `-o` exits 1 naming the allowed values. Upstream's plain
//! outputs are unchanged (tests/cli_golden.rs for the texts; here the
//! same cluster listed without `-o`).

mod common;

use common::{assert_ok, docker, stderr, stdout, TestCluster, FIXTURE_IMAGE, FIXTURE_IMAGE_V1_30};
use serde_json::Value;

fn schema(file: &str) -> jsonschema::Validator {
    let path = common::repo_root().join("schemas").join(file);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("{file} is no valid JSON Schema: {e}"));
    jsonschema::validator_for(&schema).unwrap()
}

/// Every schema violation of a document, as text.
fn violations(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn json_of(tc: &TestCluster, args: &[&str]) -> Value {
    let out = tc.kind(args);
    assert_ok(&out);
    serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", stdout(&out)))
}

fn item<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed in {doc}"))
}

/// A two-node cluster whose worker runs another (named) image.
fn mixed_cluster() -> TestCluster {
    common::require_fixture();
    let tc = TestCluster::new("lst");
    let config = tc.write(
        "config.yaml",
        &format!(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  image: {FIXTURE_IMAGE}\n- role: worker\n  image: {FIXTURE_IMAGE_V1_30}\n"
        ),
    );
    let out = tc.kind(&[
        "create",
        "cluster",
        "--name",
        &tc.name,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_ok(&out);
    tc
}

#[test]
fn listings_validate_against_the_schemas_and_show_each_nodes_images() {
    let clusters_schema = schema("cluster-list.schema.json");
    let nodes_schema = schema("node-list.schema.json");
    let tc = mixed_cluster();
    let cp = format!("{}-control-plane", tc.name);
    let worker = format!("{}-worker", tc.name);

    // get clusters -o json: valid, and this cluster's facts.
    let doc = json_of(&tc, &["get", "clusters", "-o", "json"]);
    assert_eq!(
        violations(&clusters_schema, &doc),
        Vec::<String>::new(),
        "{doc}"
    );
    let c = item(&doc, &tc.name);
    assert_eq!(
        (&c["controlPlanes"], &c["workers"], &c["loadBalancer"]),
        (&Value::from(1), &Value::from(1), &Value::from(false))
    );
    assert_eq!(
        c["images"],
        serde_json::json!([FIXTURE_IMAGE_V1_30, FIXTURE_IMAGE])
    );
    assert_eq!(
        c["kubernetesVersion"], "v1.36.1",
        "the bootstrap control plane's /kind/version"
    );
    assert_eq!(c["status"], "running");
    assert_eq!(c["network"], "kind");
    assert_eq!(c["ephemeral"], false);
    let runtime = docker(&["inspect", "-f", "{{.HostConfig.Runtime}}", &cp]);
    assert_eq!(c["runtime"], runtime.trim());

    // get nodes -o json: valid; per node the image named and the one run.
    let nodes = json_of(&tc, &["get", "nodes", "--name", &tc.name, "-o", "json"]);
    assert_eq!(
        violations(&nodes_schema, &nodes),
        Vec::<String>::new(),
        "{nodes}"
    );
    let names: Vec<&str> = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [cp.as_str(), worker.as_str()]);
    for (node, named) in [(&cp, FIXTURE_IMAGE), (&worker, FIXTURE_IMAGE_V1_30)] {
        let n = item(&nodes, node);
        let runs = docker(&["inspect", "-f", "{{.Config.Image}}", node]);
        assert_eq!(n["image"], named, "{n}");
        assert_eq!(n["containerImage"], runs.trim(), "{n}");
        let ip = docker(&[
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            node,
        ]);
        assert_eq!(n["ipv4"], ip.trim());
        assert_eq!(n["status"], "running");
    }
    // In Sysbox mode a named image runs as its derivation.
    assert_ne!(
        item(&nodes, &worker)["image"],
        item(&nodes, &worker)["containerImage"]
    );

    // YAML is the same document.
    let yaml = tc.kind(&["get", "nodes", "--name", &tc.name, "-o", "yaml"]);
    assert_ok(&yaml);
    let from_yaml: Value = serde_yaml::from_str(&stdout(&yaml)).unwrap();
    assert_eq!(from_yaml, nodes);
    let yaml = tc.kind(&["get", "clusters", "-o", "yaml"]);
    let from_yaml: Value = serde_yaml::from_str(&stdout(&yaml)).unwrap();
    assert_eq!(item(&from_yaml, &tc.name), item(&doc, &tc.name));

    // Wide: a header, then one aligned row per node.
    let wide = stdout(&tc.kind(&["get", "nodes", "--name", &tc.name, "-o", "wide"]));
    let lines: Vec<&str> = wide.lines().collect();
    assert_eq!(lines.len(), 3, "{wide}");
    let header = lines[0].split_whitespace().collect::<Vec<_>>();
    assert_eq!(
        header,
        [
            "NAME",
            "ROLE",
            "STATUS",
            "IMAGE",
            "CONTAINER-IMAGE",
            "IPV4",
            "IPV6",
            "RUNTIME"
        ]
    );
    let col = lines[0].find("ROLE").unwrap();
    assert!(
        lines[2].starts_with(&worker) && lines[2][col..].starts_with("worker"),
        "{wide}"
    );
    let wide = stdout(&tc.kind(&["get", "clusters", "-o", "wide"]));
    let row = wide
        .lines()
        .find(|l| l.split_whitespace().next() == Some(tc.name.as_str()))
        .unwrap_or_else(|| panic!("{wide}"));
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>()[1..],
        [
            "1",
            "1",
            "kind",
            &format!("{FIXTURE_IMAGE_V1_30},{FIXTURE_IMAGE}"),
            "v1.36.1",
            runtime.trim(),
            "running",
            "false"
        ]
    );

    // Upstream's plain outputs: names only.
    let plain = stdout(&tc.kind(&["get", "nodes", "--name", &tc.name]));
    let mut plain: Vec<&str> = plain.lines().collect();
    plain.sort();
    assert_eq!(plain, [cp.as_str(), worker.as_str()]);
    assert!(stdout(&tc.kind(&["get", "clusters"]))
        .lines()
        .any(|l| l == tc.name));

    // A stopped worker: the cluster is partial, the node exited, no address;
    // still valid documents.
    docker(&["stop", "-t", "1", &worker]);
    let doc = json_of(&tc, &["get", "clusters", "-o", "json"]);
    assert_eq!(violations(&clusters_schema, &doc), Vec::<String>::new());
    assert_eq!(item(&doc, &tc.name)["status"], "partial");
    let nodes = json_of(&tc, &["get", "nodes", "--name", &tc.name, "-o", "json"]);
    assert_eq!(violations(&nodes_schema, &nodes), Vec::<String>::new());
    let w = item(&nodes, &worker);
    assert_eq!(
        (&w["status"], &w["ipv4"]),
        (&Value::from("exited"), &Value::from(""))
    );
    docker(&["stop", "-t", "1", &cp]);
    let doc = json_of(&tc, &["get", "clusters", "-o", "json"]);
    assert_eq!(item(&doc, &tc.name)["status"], "stopped");
    // The version is read from the stopped node's files.
    assert_eq!(item(&doc, &tc.name)["kubernetesVersion"], "v1.36.1");

    let out = tc.kind(&["delete", "cluster", "--name", &tc.name]);
    assert_ok(&out);
}

/// The schemas are not vacuous: they reject documents that break them.
#[test]
fn the_schemas_reject_invalid_documents() {
    let clusters = schema("cluster-list.schema.json");
    let nodes = schema("node-list.schema.json");
    let good_cluster = serde_json::json!({
        "apiVersion": "kind-sysbox.dev/v1alpha1", "kind": "ClusterList",
        "items": [{"name": "a", "controlPlanes": 1, "workers": 0, "loadBalancer": false,
            "network": "kind", "images": ["kindest/node:v1.36.1"], "kubernetesVersion": "v1.36.1",
            "runtime": "sysbox-runc", "status": "running", "ephemeral": false}]
    });
    assert!(clusters.is_valid(&good_cluster));
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut d = good_cluster.clone();
        edit(&mut d);
        d
    };
    for (what, doc) in [
        (
            "unknown status",
            broken(&|d| d["items"][0]["status"] = "sleeping".into()),
        ),
        (
            "count as text",
            broken(&|d| d["items"][0]["workers"] = "2".into()),
        ),
        (
            "missing field",
            broken(&|d| {
                d["items"][0].as_object_mut().unwrap().remove("network");
            }),
        ),
        (
            "extra field",
            broken(&|d| d["items"][0]["color"] = "red".into()),
        ),
        ("other kind", broken(&|d| d["kind"] = "NodeList".into())),
        (
            "bad version",
            broken(&|d| d["items"][0]["kubernetesVersion"] = "1.36".into()),
        ),
    ] {
        assert!(
            !violations(&clusters, &doc).is_empty(),
            "{what}: accepted {doc}"
        );
    }
    let good_node = serde_json::json!({
        "apiVersion": "kind-sysbox.dev/v1alpha1", "kind": "NodeList",
        "items": [{"name": "a-control-plane", "cluster": "a", "role": "control-plane",
            "status": "exited", "image": "kindest/node:v1.31.2",
            "containerImage": "kind-sysbox/kindest/node:v1.31.2", "network": "kind",
            "ipv4": "", "ipv6": "", "runtime": "sysbox-runc"}]
    });
    assert!(nodes.is_valid(&good_node));
    let mut bad = good_node.clone();
    bad["items"][0]["ipv4"] = "not-an-ip".into();
    assert!(!nodes.is_valid(&bad));
    assert!(
        !nodes.is_valid(&good_cluster),
        "a ClusterList is no NodeList"
    );
}

#[test]
fn an_unknown_output_format_exits_1_naming_the_allowed_values() {
    let tc = TestCluster::new("lst-bad");
    for args in [
        vec!["get", "clusters", "-o", "table"],
        vec!["get", "nodes", "--output=JSON"],
        vec!["get", "nodes", "-A", "-o", "name"],
    ] {
        let out = tc.kind(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(stdout(&out), "");
        let value = args.last().unwrap().trim_start_matches("--output=");
        assert_eq!(
            stderr(&out),
            format!("ERROR: unknown output format {value:?}: the allowed values are wide, json and yaml\n"),
            "{args:?}"
        );
    }
}
