//! Bench harness (bench/run.sh): Docker's floor for `create cluster` and
//! `delete cluster` as issue 8 defines it, "the same containers created
//! and started concurrently, nothing else".
//!
//! `create_floor create <cluster> <label=value>` inspects the node
//! containers of a cluster our kind created and makes one copy of each:
//! same image, Config and HostConfig, attached to the same network, with
//! these differences only, so that the copies can run beside the cluster
//! and kind never takes them for nodes:
//! * name and hostname `<node>-floor`, network alias the same;
//! * no fixed address (the engine picks one);
//! * published ports on random host ports (host port 0);
//! * the cluster label (`io.x-k8s.kind.cluster`) replaced by `label=value`;
//! * a named volume (the cluster's images inbox) replaced by an anonymous
//!   volume at the same path (removed with the copy; a copy holding the
//!   cluster's volume would keep `kind delete cluster` from removing it).
//!
//! Every copy is created then started, all copies concurrently through the
//! API; printed: the seconds from the first create request to the last
//! start's answer. The inspection before is not timed.
//!
//! `create_floor delete <label=value>` removes every container carrying
//! the label, concurrently, with force and their volumes (`docker rm -f -v`);
//! printed: the seconds from the first remove request to the last answer
//! (the listing before is not timed).

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _};
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::future::try_join_all;
use kind_sysbox::provider::{Docker, LABEL_CLUSTER};
use serde_json::{json, Map, Value};

const USAGE: &str =
    "usage: create_floor create <cluster> <label=value> | create_floor delete <label=value>";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["create", cluster, label] => create(cluster, label).await,
        ["delete", label] => delete(label).await,
        _ => Err(anyhow!(USAGE)),
    };
    match result {
        Ok(secs) => println!("{secs:.3}"),
        Err(e) => {
            eprintln!("ERROR: {e:#}");
            std::process::exit(1);
        }
    }
}

fn split_label(label: &str) -> anyhow::Result<(&str, &str)> {
    label
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| anyhow!("a label is key=value, got {label:?}"))
}

/// Names of the containers carrying every one of `filters` (`key=value`).
async fn containers_labelled(api: &bollard::Docker, filter: String) -> anyhow::Result<Vec<String>> {
    let filters = HashMap::from([("label", vec![filter])]);
    let opts = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    Ok(api
        .list_containers(Some(opts))
        .await?
        .into_iter()
        .filter_map(|c| Some(c.names?.first()?.trim_start_matches('/').to_string()))
        .collect())
}

async fn create(cluster: &str, label: &str) -> anyhow::Result<f64> {
    let (key, value) = split_label(label)?;
    let api = Docker::connect().await?.api().clone();
    let nodes = containers_labelled(&api, format!("{LABEL_CLUSTER}={cluster}")).await?;
    if nodes.is_empty() {
        bail!("no containers of cluster {cluster:?}");
    }
    let mut bodies = Vec::new();
    for node in &nodes {
        let inspect = api
            .inspect_container(node, None::<InspectContainerOptions>)
            .await
            .with_context(|| format!("inspecting {node}"))?;
        let name = format!("{node}-floor");
        let inspect = serde_json::to_value(&inspect)?;
        bodies.push((name.clone(), copy_body(&inspect, &name, key, value)?));
    }
    let started = Instant::now();
    try_join_all(bodies.into_iter().map(|(name, body)| {
        let api = &api;
        async move {
            let opts = CreateContainerOptionsBuilder::new().name(&name).build();
            api.create_container(Some(opts), body)
                .await
                .with_context(|| format!("creating {name}"))?;
            api.start_container(&name, None)
                .await
                .with_context(|| format!("starting {name}"))?;
            anyhow::Ok(())
        }
    }))
    .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// The create request for a copy of the inspected container (`inspect` as
/// the API returns it): its Config and HostConfig with the changes the
/// module comment lists.
fn copy_body(
    inspect: &Value,
    name: &str,
    key: &str,
    value: &str,
) -> anyhow::Result<ContainerCreateBody> {
    let mut config = inspect["Config"]
        .as_object()
        .cloned()
        .ok_or_else(|| anyhow!("no Config in the inspection"))?;
    let mut host = inspect["HostConfig"]
        .as_object()
        .cloned()
        .ok_or_else(|| anyhow!("no HostConfig in the inspection"))?;
    config.insert("Hostname".into(), json!(name));
    config.remove("MacAddress");
    let mut labels = config
        .remove("Labels")
        .and_then(|l| l.as_object().cloned())
        .unwrap_or_default();
    labels.remove(LABEL_CLUSTER);
    labels.insert(key.into(), json!(value));
    config.insert("Labels".into(), Value::Object(labels));

    // Named volumes (`name:/path[:mode]`) become anonymous ones at the path.
    let mut volumes = config
        .remove("Volumes")
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    if let Some(binds) = host.get("Binds").and_then(Value::as_array).cloned() {
        let mut kept = Vec::new();
        for bind in binds {
            let text = bind.as_str().unwrap_or_default();
            let mut parts = text.split(':');
            let (source, target) = (parts.next().unwrap_or_default(), parts.next());
            match target {
                Some(target) if !source.starts_with('/') => {
                    volumes.insert(target.to_string(), json!({}));
                }
                _ => kept.push(bind),
            }
        }
        host.insert("Binds".into(), Value::Array(kept));
    }
    config.insert("Volumes".into(), Value::Object(volumes));

    // Random host ports, on the same host addresses.
    if let Some(Value::Object(ports)) = host.get_mut("PortBindings") {
        for bindings in ports.values_mut() {
            if let Value::Array(list) = bindings {
                for b in list {
                    b["HostPort"] = json!("0");
                }
            }
        }
    }

    // The same network, no fixed address.
    let network = inspect["NetworkSettings"]["Networks"]
        .as_object()
        .and_then(|n| n.keys().next().cloned())
        .ok_or_else(|| anyhow!("no network in the inspection"))?;
    let mut endpoints = Map::new();
    endpoints.insert(network, json!({ "Aliases": [name] }));

    config.insert("HostConfig".into(), Value::Object(host));
    config.insert(
        "NetworkingConfig".into(),
        json!({ "EndpointsConfig": endpoints }),
    );
    serde_json::from_value(Value::Object(config)).context("building the create request")
}

async fn delete(label: &str) -> anyhow::Result<f64> {
    split_label(label)?;
    let api = Docker::connect().await?.api().clone();
    let names = containers_labelled(&api, label.to_string()).await?;
    let opts = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    let started = Instant::now();
    try_join_all(names.iter().map(|name| {
        let (api, opts) = (&api, opts.clone());
        async move {
            api.remove_container(name, Some(opts))
                .await
                .with_context(|| format!("removing {name}"))
        }
    }))
    .await?;
    Ok(started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_keeps_the_node_but_its_identity_addresses_ports_and_named_volumes() {
        let inspect = json!({
            "Config": {
                "Hostname": "k-worker",
                "Image": "kind-fixture/node:v1.36.1",
                "Tty": true,
                "Labels": {LABEL_CLUSTER: "k", "io.x-k8s.kind.role": "worker"},
                "Volumes": {"/var": {}},
            },
            "HostConfig": {
                "Runtime": "sysbox-runc",
                "Binds": ["kind-sysbox-images-k:/kind/images-inbox", "/lib/modules:/lib/modules:ro"],
                "PortBindings": {"6443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "41234"}]},
                "Tmpfs": {"/run": "", "/tmp": ""},
            },
            "NetworkSettings": {"Networks": {"kind": {"IPAMConfig": {"IPv4Address": "172.18.0.5"}}}},
        });
        let body = copy_body(&inspect, "k-worker-floor", "bench", "1").unwrap();
        let body = serde_json::to_value(&body).unwrap();
        assert_eq!(body["Hostname"], "k-worker-floor");
        assert_eq!(body["Image"], "kind-fixture/node:v1.36.1");
        assert_eq!(
            body["Labels"],
            json!({"io.x-k8s.kind.role": "worker", "bench": "1"})
        );
        assert_eq!(
            body["Volumes"],
            json!({"/var": {}, "/kind/images-inbox": {}})
        );
        let host = &body["HostConfig"];
        assert_eq!(host["Runtime"], "sysbox-runc");
        assert_eq!(host["Binds"], json!(["/lib/modules:/lib/modules:ro"]));
        assert_eq!(host["Tmpfs"], json!({"/run": "", "/tmp": ""}));
        assert_eq!(
            host["PortBindings"],
            json!({"6443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "0"}]})
        );
        assert_eq!(
            body["NetworkingConfig"],
            json!({"EndpointsConfig": {"kind": {"Aliases": ["k-worker-floor"]}}})
        );
    }
}
