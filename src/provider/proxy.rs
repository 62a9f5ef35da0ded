//! Proxy environment for nodes (spec §3.6).

use std::collections::BTreeMap;

/// Steps 1–2: host env, then the docker CLI config. `env` reads variables
/// (injected for tests). Step 3 (network subnets, node names) is `finalize`.
pub fn proxy_env(
    env: &dyn Fn(&str) -> Option<String>,
    service_subnet: &str,
    pod_subnet: &str,
) -> BTreeMap<String, String> {
    todo!("{}{service_subnet}{pod_subnet}", env("HOME").is_some())
}

/// Step 3: NO_PROXY/no_proxy = network subnets, current NO_PROXY, node
/// names, `.svc`, `.svc.cluster`, `.svc.cluster.local`.
pub fn finalize(env: &mut BTreeMap<String, String>, subnets: &[String], node_names: &[String]) {
    todo!("{env:?}{subnets:?}{node_names:?}")
}
