//! The per-cluster Docker network (pure parts, spec §3.3): the IPv6 ULA
//! subnet, the duplicate-network ordering and the classification of the
//! daemon's network-create errors.

use std::net::Ipv6Addr;

use sha1::{Digest, Sha1};

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
