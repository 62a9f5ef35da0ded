//! The per-cluster Docker network (pure parts, spec §3.3): the IPv6 ULA
//! subnet, the duplicate-network ordering and the classification of the
//! daemon's network-create errors; and which network a cluster goes on
//! (`--network`, `KIND_EXPERIMENTAL_DOCKER_NETWORK`, `kind`), what a
//! `--network` name may be, and which network `delete cluster` removes.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use anyhow::bail;
use sha1::{Digest, Sha1};

use super::details::NetworkInfo;
use super::{DEFAULT_NETWORK, LABEL_CREATE_ID, LABEL_NETWORK_OWNER};

/// Upstream's variable naming the network instead of `kind`.
pub const NETWORK_ENV: &str = "KIND_EXPERIMENTAL_DOCKER_NETWORK";

/// The network a cluster's containers go on, and whether it is the
/// cluster's own: created (if absent) labelled as made for this cluster, so
/// `delete cluster` may remove it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkChoice {
    pub name: String,
    /// Named with `--network`: created labelled as this cluster's when absent.
    pub per_cluster: bool,
    /// Lines to log (upstream's two for the variable; ours when the flag
    /// overrides it).
    pub warnings: Vec<String>,
}

/// `--network` wins over KIND_EXPERIMENTAL_DOCKER_NETWORK (an explicit flag
/// beats an environment default, as `--name` beats KIND_CLUSTER_NAME),
/// which keeps its upstream behaviour and warnings when alone; else `kind`.
pub fn choose(flag: Option<&str>, env: Option<&str>) -> NetworkChoice {
    let env = env.filter(|e| !e.is_empty());
    match (flag.filter(|f| !f.is_empty()), env) {
        (Some(flag), env) => NetworkChoice {
            name: flag.to_string(),
            per_cluster: true,
            warnings: env
                .map(|e| {
                    format!("WARNING: Ignoring {NETWORK_ENV}={e:?}: --network {flag:?} is used")
                })
                .into_iter()
                .collect(),
        },
        (None, Some(env)) => NetworkChoice {
            name: env.to_string(),
            per_cluster: false,
            warnings: vec![
                format!("WARNING: Overriding docker network due to {NETWORK_ENV}"),
                "WARNING: Here be dragons! This is not supported currently.".to_string(),
            ],
        },
        (None, None) => NetworkChoice {
            name: DEFAULT_NETWORK.to_string(),
            per_cluster: false,
            warnings: Vec::new(),
        },
    }
}

/// Docker's networks that exist on every daemon and are no user-defined
/// bridge (`default` is the CLI's alias of `bridge`).
const PREDEFINED: [&str; 4] = ["bridge", "default", "host", "none"];

/// A `--network` name, before anything is created: Docker's name rule (the
/// one it applies to container and volume names; the daemon itself accepts
/// any network name, but `container:x` or spaces would only fail later),
/// and none of Docker's predefined networks.
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    let valid = regex::Regex::new(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$").expect("static regex");
    if !valid.is_match(name) {
        bail!(
            "invalid --network {name:?}: a network name must be at least two characters, a letter or digit followed by letters, digits, '_', '.' or '-' ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"
        );
    }
    if PREDEFINED.contains(&name) {
        bail!(
            "--network {name:?} cannot be used: kind nodes need a user-defined bridge network, where Docker's embedded DNS lets nodes reach each other by name (the predefined networks {} have none); name a new or existing bridge network instead",
            PREDEFINED.join(", ")
        );
    }
    Ok(())
}

/// A `--network` that exists already must be a bridge network.
pub fn check_existing(name: &str, existing: Option<&NetworkInfo>) -> anyhow::Result<()> {
    match existing {
        Some(n) if n.driver != "bridge" => bail!(
            "--network {name:?} cannot be used: it exists with driver {:?}, and kind nodes need a bridge network (driver \"bridge\"); name a new or existing bridge network instead",
            n.driver
        ),
        _ => Ok(()),
    }
}

/// The labels a network created for a cluster carries: the cluster, and
/// the `create cluster` run that made it.
pub fn owner_labels(cluster: &str, create_id: &str) -> BTreeMap<String, String> {
    [
        (LABEL_NETWORK_OWNER.to_string(), cluster.to_string()),
        (LABEL_CREATE_ID.to_string(), create_id.to_string()),
    ]
    .into()
}

/// Of the networks labelled as made for `cluster`, those `delete` removes
/// once no container is attached: made by one of the given create runs
/// (the cluster's nodes' create IDs, so a network left in use by an earlier
/// cluster of the same name is not taken for this one's).
pub fn made_by<'a>(
    cluster: &str,
    networks: &'a [NetworkInfo],
    create_ids: &[String],
) -> Vec<&'a NetworkInfo> {
    networks
        .iter()
        .filter(|n| n.labels.get(LABEL_NETWORK_OWNER).map(String::as_str) == Some(cluster))
        .filter(|n| {
            n.labels
                .get(LABEL_CREATE_ID)
                .is_some_and(|id| create_ids.contains(id))
        })
        .collect()
}

/// Option enabling NAT for the network (always set, as upstream).
pub const OPT_MASQUERADE: &str = "com.docker.network.bridge.enable_ip_masquerade";
/// Option carrying the MTU (read from the `bridge` network, set on ours).
pub const OPT_MTU: &str = "com.docker.network.driver.mtu";
/// IPv6 subnet attempts on pool overlap: 0..=4.
pub const ULA_ATTEMPTS: i32 = 5;

/// `fc00:` + sha1(name ‖ attempt as 4 LE bytes)[2..8], /64 (spec §3.3).
pub fn ula_subnet(name: &str, attempt: i32) -> String {
    let mut h = Sha1::new();
    h.update(name.as_bytes());
    h.update(attempt.to_le_bytes());
    let digest = h.finalize();
    let mut ip = [0u8; 16];
    ip[0] = 0xfc;
    ip[2..8].copy_from_slice(&digest[2..8]);
    format!("{}/64", Ipv6Addr::from(ip))
}

/// A network of the wanted name, as inspected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkEntry {
    pub id: String,
    pub containers: usize,
}

/// Order duplicates so the one to keep comes first: most attached containers,
/// then smallest ID. Every racing `ensure` computes the same winner.
pub fn sort_duplicates(entries: &mut [NetworkEntry]) {
    entries.sort_by(|a, b| {
        b.containers
            .cmp(&a.containers)
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The daemon's reason with the CLI's `Error response from daemon: ` prefix
/// removed, so CLI-style and API-style messages classify alike.
fn reason(msg: &str) -> &str {
    msg.strip_prefix("Error response from daemon: ")
        .unwrap_or(msg)
}

/// Another creator won the race.
pub fn is_already_exists(msg: &str) -> bool {
    let r = reason(msg);
    r.starts_with("network with name") && r.contains("already exists")
}

/// The host cannot do IPv6 on bridges: retry once without IPv6.
pub fn is_ipv6_unavailable(msg: &str) -> bool {
    let r = reason(msg);
    [
        "Cannot read IPv6 setup for bridge",
        "Failed to Setup IP tables: Unable to enable NAT rule:  (iptables failed: ip6tables",
        "setting default policy to DROP in FORWARD chain failed:  (iptables failed: ip6tables",
    ]
    .iter()
    .any(|p| r.starts_with(p))
}

/// The ULA subnet collides with an existing network: try the next attempt.
pub fn is_pool_overlap(msg: &str) -> bool {
    let r = reason(msg);
    r.starts_with("Pool overlaps with other one on this address space")
        || r.contains("networks have overlapping")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_variable_which_keeps_its_warnings() {
        let c = choose(Some("net-a"), Some("net-b"));
        assert_eq!((c.name.as_str(), c.per_cluster), ("net-a", true));
        assert_eq!(
            c.warnings,
            ["WARNING: Ignoring KIND_EXPERIMENTAL_DOCKER_NETWORK=\"net-b\": --network \"net-a\" is used"]
        );
        let c = choose(None, Some("net-b"));
        assert_eq!((c.name.as_str(), c.per_cluster), ("net-b", false));
        assert_eq!(
            c.warnings,
            [
                "WARNING: Overriding docker network due to KIND_EXPERIMENTAL_DOCKER_NETWORK",
                "WARNING: Here be dragons! This is not supported currently."
            ]
        );
        for (flag, env) in [(None, None), (Some(""), Some(""))] {
            let c = choose(flag, env);
            assert_eq!(
                (c.name.as_str(), c.per_cluster, c.warnings.len()),
                ("kind", false, 0)
            );
        }
        assert_eq!(choose(Some("n1"), None).warnings.len(), 0);
    }

    #[test]
    fn network_names_follow_dockers_rule_and_refuse_predefined_networks() {
        for ok in ["kind", "k2", "my_net.1-a", "0net"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "-net", "_net", "a b", "a/b", "container:x", "né"] {
            let e = validate_name(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid --network {bad:?}")), "{e}");
        }
        for predefined in ["host", "none", "bridge", "default"] {
            let e = validate_name(predefined).unwrap_err().to_string();
            assert!(e.contains("user-defined bridge network"), "{e}");
        }
    }

    fn net(name: &str, driver: &str, labels: &[(&str, &str)], containers: &[&str]) -> NetworkInfo {
        NetworkInfo {
            id: format!("id-{name}"),
            name: name.into(),
            driver: driver.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            containers: containers.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn an_existing_network_must_be_a_bridge() {
        assert!(check_existing("n", None).is_ok());
        assert!(check_existing("n", Some(&net("n", "bridge", &[], &[]))).is_ok());
        let e = check_existing("n", Some(&net("n", "macvlan", &[], &[])))
            .unwrap_err()
            .to_string();
        assert!(e.contains("driver \"macvlan\""), "{e}");
    }

    #[test]
    fn delete_considers_only_networks_its_runs_made() {
        fn own(c: &'static str, id: &'static str) -> [(&'static str, &'static str); 2] {
            [(LABEL_NETWORK_OWNER, c), (LABEL_CREATE_ID, id)]
        }
        let nets = vec![
            net("mine", "bridge", &own("a", "run1"), &[]),
            net("in-use", "bridge", &own("a", "run1"), &["x-control-plane"]),
            net("older-run", "bridge", &own("a", "run0"), &[]),
            net("other", "bridge", &own("b", "run1"), &[]),
            net("users", "bridge", &[], &[]),
        ];
        let got: Vec<&str> = made_by("a", &nets, &["run1".to_string()])
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(got, ["mine", "in-use"]);
        assert!(made_by("a", &nets, &[]).is_empty());
    }

    #[test]
    fn ula_subnets_match_upstream() {
        for (name, attempt, want) in [
            ("kind", 0, "fc00:f853:ccd:e793::/64"),
            ("foo", 1, "fc00:8edf:7f02:ec8f::/64"),
            ("foo", 2, "fc00:9968:306b:2c65::/64"),
            ("kind2", 0, "fc00:444c:147a:44ab::/64"),
            ("kin", 0, "fc00:fcd9:c2be:8e23::/64"),
            ("mysupernetwork", 0, "fc00:7ae1:1e0d:b4d4::/64"),
        ] {
            assert_eq!(ula_subnet(name, attempt), want, "{name} attempt {attempt}");
        }
    }

    fn e(id: &str, containers: usize) -> NetworkEntry {
        NetworkEntry {
            id: id.into(),
            containers,
        }
    }

    #[test]
    fn duplicates_without_containers_sort_by_id() {
        let mut v = vec![e("c", 0), e("a", 0), e("b", 0)];
        sort_duplicates(&mut v);
        assert_eq!(v, vec![e("a", 0), e("b", 0), e("c", 0)]);
    }

    #[test]
    fn duplicates_with_containers_come_first_by_count() {
        let mut v = vec![e("a", 0), e("d", 1), e("b", 0), e("c", 3), e("e", 1)];
        sort_duplicates(&mut v);
        assert_eq!(
            v,
            vec![e("c", 3), e("d", 1), e("e", 1), e("a", 0), e("b", 0)]
        );
    }

    #[test]
    fn create_errors_classify() {
        let cases = [
            ("Error response from daemon: network with name kind already exists", (true, false, false)),
            ("network with name kind already exists", (true, false, false)),
            ("Error response from daemon: Cannot read IPv6 setup for bridge br-1", (false, true, false)),
            ("Failed to Setup IP tables: Unable to enable NAT rule:  (iptables failed: ip6tables -t nat", (false, true, false)),
            ("setting default policy to DROP in FORWARD chain failed:  (iptables failed: ip6tables --wait", (false, true, false)),
            ("Error response from daemon: Pool overlaps with other one on this address space", (false, false, true)),
            ("invalid pool request: networks have overlapping IPv6", (false, false, true)),
            ("Error response from daemon: something else", (false, false, false)),
        ];
        for (msg, (exists, v6, overlap)) in cases {
            assert_eq!(
                (
                    is_already_exists(msg),
                    is_ipv6_unavailable(msg),
                    is_pool_overlap(msg)
                ),
                (exists, v6, overlap),
                "{msg}"
            );
        }
    }
}
