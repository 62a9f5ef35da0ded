//! The envoy external load balancer of HA clusters (spec §3.5, §4.2):
//! a bootstrap config pointing at file-based xDS, and the listener (LDS)
//! and cluster (CDS) files kind writes once the control planes exist.

use super::API_BIND_PORT;

pub const CONFIG_DIR: &str = "/home/envoy";
pub const BOOTSTRAP_PATH: &str = "/home/envoy/envoy.yaml";
pub const CDS_PATH: &str = "/home/envoy/cds.yaml";
pub const LDS_PATH: &str = "/home/envoy/lds.yaml";
/// Staging paths; envoy picks up the atomic rename onto the real paths.
pub const CDS_TMP_PATH: &str = "/home/envoy/cds.yaml.tmp";
pub const LDS_TMP_PATH: &str = "/home/envoy/lds.yaml.tmp";

/// Listener on the API server port, proxying TCP to the `kube_apiservers`
/// cluster. Binds `::` only for IPv6-only clusters.
pub fn lds(ipv6: bool) -> String {
    let address = if ipv6 { "\"::\"" } else { "\"0.0.0.0\"" };
    format!(
        r#"
resources:
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: listener_apiserver
  address:
    socket_address:
      address: {address}
      port_value: {API_BIND_PORT}
  filter_chains:
  - filters:
    - name: envoy.filters.network.tcp_proxy
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
        stat_prefix: ingress_tcp
        cluster: kube_apiservers
"#
    )
}

/// Split `host:port` (`[v6]:port` allowed); a backend without a port uses
/// the API server port.
fn host_port(backend: &str) -> (String, String) {
    if let Some(rest) = backend.strip_prefix('[') {
        if let Some((host, port)) = rest.split_once("]:") {
            return (host.to_string(), port.to_string());
        }
        return (
            rest.trim_end_matches(']').to_string(),
            API_BIND_PORT.to_string(),
        );
    }
    match backend.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host.to_string(), port.to_string()),
        _ => (backend.to_string(), API_BIND_PORT.to_string()),
    }
}

/// The `kube_apiservers` cluster: round-robin over the control planes
/// (`name:6443`, written in node-name order) with HTTPS health checks on
/// `/healthz` that accept the cluster's self-signed certificates.
pub fn cds(backends: &[String], ipv6: bool) -> String {
    let mut endpoints: Vec<(String, String)> = backends.iter().map(|b| host_port(b)).collect();
    endpoints.sort();
    let family = if ipv6 { "AUTO" } else { "V4_PREFERRED" };
    let mut out = format!(
        r#"
resources:
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: kube_apiservers
  connect_timeout: 0.25s
  type: STRICT_DNS
  lb_policy: ROUND_ROBIN
  dns_lookup_family: {family}
  health_checks:
  - timeout: 3s
    interval: 2s
    unhealthy_threshold: 2
    healthy_threshold: 1
    initial_jitter: 0s
    no_traffic_interval: 3s
    always_log_health_check_failures: true
    always_log_health_check_success: true
    event_log_path: /dev/stdout
    http_health_check:
      path: /healthz
    transport_socket_match_criteria:
      tls_mode: "true"
  transport_socket_matches:
  - name: "health_check_tls"
    match:
      tls_mode: "true"
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        common_tls_context:
          validation_context:
            trust_chain_verification: ACCEPT_UNTRUSTED
  load_assignment:
    cluster_name: kube_apiservers
    endpoints:
    - lb_endpoints:"#
    );
    for (host, port) in endpoints {
        out.push_str(&format!(
            "\n      - endpoint:\n          address:\n            socket_address:\n              address: {host}\n              port_value: {port}"
        ));
    }
    out.push('\n');
    out
}

/// Envoy's bootstrap config: node identity plus file-based CDS/LDS.
pub fn bootstrap_config(cluster: &str, container_name: &str) -> String {
    format!(
        r#"
node:
  cluster: {cluster}
  id: {container_name}

dynamic_resources:
  cds_config:
    resource_api_version: V3
    path_config_source:
      path: {CDS_PATH}
  lds_config:
    resource_api_version: V3
    path_config_source:
      path: {LDS_PATH}

admin:
  access_log_path: /dev/stdout
  address:
    socket_address:
      address: 0.0.0.0
      port_value: 10000
"#
    )
}

/// The `bash -c` script the load balancer container runs: write the
/// bootstrap config, seed empty xDS files (kept across restarts), then run
/// envoy, restarting it after a second whenever it fails.
pub fn bootstrap_script(cluster: &str, container_name: &str) -> String {
    let empty = "resources: []";
    format!(
        "mkdir -p {CONFIG_DIR} && echo -en '{}' > {BOOTSTRAP_PATH} \
         && {{ [ ! -f {CDS_PATH} ] && echo -en '{empty}' > {CDS_PATH} || true; }} \
         && {{ [ ! -f {LDS_PATH} ] && echo -en '{empty}' > {LDS_PATH} || true; }} \
         && while true; do envoy -c {BOOTSTRAP_PATH} && break; sleep 1; done",
        bootstrap_config(cluster, container_name)
    )
}

/// Make the staged xDS files readable by envoy and move them into place.
pub fn reload_command() -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!("chmod 666 {CDS_TMP_PATH} {LDS_TMP_PATH} && mv {CDS_TMP_PATH} {CDS_PATH} && mv {LDS_TMP_PATH} {LDS_PATH}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const LDS_V4: &str = "\n\
resources:\n\
- \"@type\": type.googleapis.com/envoy.config.listener.v3.Listener\n  name: listener_apiserver\n  address:\n    socket_address:\n      address: \"0.0.0.0\"\n      port_value: 6443\n  filter_chains:\n  - filters:\n    - name: envoy.filters.network.tcp_proxy\n      typed_config:\n        \"@type\": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\n        stat_prefix: ingress_tcp\n        cluster: kube_apiservers\n";

    fn cds_text(family: &str, endpoints: &[(&str, &str)]) -> String {
        let mut s = String::from(
            "\nresources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: kube_apiservers\n  connect_timeout: 0.25s\n  type: STRICT_DNS\n  lb_policy: ROUND_ROBIN\n",
        );
        s.push_str(&format!("  dns_lookup_family: {family}\n"));
        s.push_str(
            "  health_checks:\n  - timeout: 3s\n    interval: 2s\n    unhealthy_threshold: 2\n    healthy_threshold: 1\n    initial_jitter: 0s\n    no_traffic_interval: 3s\n    always_log_health_check_failures: true\n    always_log_health_check_success: true\n    event_log_path: /dev/stdout\n    http_health_check:\n      path: /healthz\n    transport_socket_match_criteria:\n      tls_mode: \"true\"\n  transport_socket_matches:\n  - name: \"health_check_tls\"\n    match:\n      tls_mode: \"true\"\n    transport_socket:\n      name: envoy.transport_sockets.tls\n      typed_config:\n        \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n        common_tls_context:\n          validation_context:\n            trust_chain_verification: ACCEPT_UNTRUSTED\n  load_assignment:\n    cluster_name: kube_apiservers\n    endpoints:\n    - lb_endpoints:\n",
        );
        for (host, port) in endpoints {
            s.push_str(&format!(
                "      - endpoint:\n          address:\n            socket_address:\n              address: {host}\n              port_value: {port}\n"
            ));
        }
        s
    }

    #[test]
    fn lds_matches_upstream() {
        assert_eq!(lds(false), LDS_V4);
        assert_eq!(lds(true), LDS_V4.replace("\"0.0.0.0\"", "\"::\""));
    }

    #[test]
    fn cds_matches_upstream() {
        let one = vec!["node0:6443".to_string()];
        assert_eq!(
            cds(&one, false),
            cds_text("V4_PREFERRED", &[("node0", "6443")])
        );
        assert_eq!(cds(&one, true), cds_text("AUTO", &[("node0", "6443")]));
    }

    #[test]
    fn cds_orders_backends_by_node_name() {
        let backends: Vec<String> = [
            "kind-control-plane3:6443",
            "kind-control-plane:6443",
            "kind-control-plane2:6443",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            cds(&backends, false),
            cds_text(
                "V4_PREFERRED",
                &[
                    ("kind-control-plane", "6443"),
                    ("kind-control-plane2", "6443"),
                    ("kind-control-plane3", "6443")
                ]
            )
        );
        // Bracketed IPv6 and port-less backends.
        let odd: Vec<String> = ["[fc00::2]:6443", "b"].map(String::from).into();
        assert_eq!(
            cds(&odd, true),
            cds_text("AUTO", &[("b", "6443"), ("fc00::2", "6443")])
        );
    }

    #[test]
    fn bootstrap_script_text() {
        let config = "\nnode:\n  cluster: kind\n  id: kind-external-load-balancer\n\ndynamic_resources:\n  cds_config:\n    resource_api_version: V3\n    path_config_source:\n      path: /home/envoy/cds.yaml\n  lds_config:\n    resource_api_version: V3\n    path_config_source:\n      path: /home/envoy/lds.yaml\n\nadmin:\n  access_log_path: /dev/stdout\n  address:\n    socket_address:\n      address: 0.0.0.0\n      port_value: 10000\n";
        let want = format!(
            "mkdir -p /home/envoy && echo -en '{config}' > /home/envoy/envoy.yaml && {{ [ ! -f /home/envoy/cds.yaml ] && echo -en 'resources: []' > /home/envoy/cds.yaml || true; }} && {{ [ ! -f /home/envoy/lds.yaml ] && echo -en 'resources: []' > /home/envoy/lds.yaml || true; }} && while true; do envoy -c /home/envoy/envoy.yaml && break; sleep 1; done"
        );
        assert_eq!(
            bootstrap_script("kind", "kind-external-load-balancer"),
            want
        );
    }

    #[test]
    fn reload_command_text() {
        assert_eq!(
            reload_command(),
            vec![
                "sh",
                "-c",
                "chmod 666 /home/envoy/cds.yaml.tmp /home/envoy/lds.yaml.tmp && mv /home/envoy/cds.yaml.tmp /home/envoy/cds.yaml && mv /home/envoy/lds.yaml.tmp /home/envoy/lds.yaml"
            ]
        );
    }
}
