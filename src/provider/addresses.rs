//! Fixed node addresses (pure): every node gets its IPv4 and IPv6 address
//! on the cluster network chosen at create time and written into its
//! container's endpoint config, so stop/start and a Docker daemon restart
//! give it the same addresses back (Docker's dynamic allocation does not
//! promise that, and kubeadm's certificates and the nodes' /etc/hosts name
//! the first ones). An accepted difference from upstream's container shape.
//!
//! Addresses are taken from the top of each subnet downwards: Docker hands
//! out dynamic addresses from the bottom up, so a stopped cluster's fixed
//! addresses are not the next ones a dynamically addressed container gets.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A subnet in CIDR form, as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    base: u128,
    prefix: u32,
    v4: bool,
}

impl Subnet {
    /// `a.b.c.d/n` or `x::/n`; None for anything else.
    pub fn parse(cidr: &str) -> Option<Subnet> {
        let (ip, prefix) = cidr.trim().split_once('/')?;
        let prefix: u32 = prefix.parse().ok()?;
        let (value, v4, bits) = match ip.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => (u32::from(a) as u128, true, 32),
            IpAddr::V6(a) => (u128::from(a), false, 128),
        };
        if prefix > bits {
            return None;
        }
        let host_bits = bits - prefix;
        let mask = if host_bits == 128 {
            0
        } else {
            !((1u128 << host_bits) - 1)
        };
        Some(Subnet {
            base: value & mask & Self::all_ones(bits),
            prefix,
            v4,
        })
    }

    fn all_ones(bits: u32) -> u128 {
        if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        }
    }

    pub fn is_v4(&self) -> bool {
        self.v4
    }

    fn host_bits(&self) -> u32 {
        (if self.v4 { 32 } else { 128 }) - self.prefix
    }

    fn addr(&self, value: u128) -> IpAddr {
        if self.v4 {
            IpAddr::V4(Ipv4Addr::from(value as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(value))
        }
    }

    /// Usable host addresses from the top down: never the subnet's own
    /// address, nor its last one (IPv4 broadcast; kept free in IPv6 too).
    fn hosts_descending(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let size_minus_one = Self::all_ones(self.host_bits());
        // Offsets size-2 down to 1; none when the subnet has no room.
        let top = size_minus_one.saturating_sub(1);
        (1..=top).rev().map(move |off| self.addr(self.base + off))
    }
}

/// The fixed addresses of one node; None = Docker picks (no subnet of
/// that family, or none left).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeAddresses {
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
}

/// What the plan reads from the network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkAddressing {
    /// The network's subnets (CIDR); the first of each family is used.
    pub subnets: Vec<String>,
    /// Whether Docker accepts a chosen IPv4 address here: only on a network
    /// whose IPv4 subnet was configured by its creator (see
    /// `LABEL_NETWORK_FIXED_ADDRESSES`).
    pub ipv4_fixed: bool,
    /// Addresses held or reserved: gateways, running endpoints, and every
    /// container's configured address (stopped ones included).
    pub taken: BTreeSet<IpAddr>,
}

/// Addresses for `count` nodes, distinct from each other and from
/// `net.taken`, highest first.
pub fn plan(net: &NetworkAddressing, count: usize) -> Vec<NodeAddresses> {
    let pick = |v4: bool| -> Vec<Option<String>> {
        let subnet = net
            .subnets
            .iter()
            .filter_map(|s| Subnet::parse(s))
            .find(|s| s.is_v4() == v4);
        let mut out: Vec<Option<String>> = match subnet {
            Some(s) if !v4 || net.ipv4_fixed => s
                .hosts_descending()
                .filter(|a| !net.taken.contains(a))
                .take(count)
                .map(|a| Some(a.to_string()))
                .collect(),
            _ => Vec::new(),
        };
        out.resize(count, None);
        out
    };
    pick(true)
        .into_iter()
        .zip(pick(false))
        .map(|(ipv4, ipv6)| NodeAddresses { ipv4, ipv6 })
        .collect()
}

/// An address in Docker's `a.b.c.d/n` endpoint form (or bare) as an IP.
pub fn parse_endpoint_address(s: &str) -> Option<IpAddr> {
    s.split('/').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(subnets: &[&str], v4: bool, taken: &[&str]) -> NetworkAddressing {
        NetworkAddressing {
            subnets: subnets.iter().map(|s| s.to_string()).collect(),
            ipv4_fixed: v4,
            taken: taken.iter().map(|s| ip(s)).collect(),
        }
    }

    fn v4s(p: &[NodeAddresses]) -> Vec<Option<&str>> {
        p.iter().map(|a| a.ipv4.as_deref()).collect()
    }

    fn v6s(p: &[NodeAddresses]) -> Vec<Option<&str>> {
        p.iter().map(|a| a.ipv6.as_deref()).collect()
    }

    #[test]
    fn parses_and_normalises_subnets() {
        let s = Subnet::parse("172.18.0.7/16").unwrap();
        assert_eq!(s.hosts_descending().next(), Some(ip("172.18.255.254")));
        assert_eq!(s.hosts_descending().last(), Some(ip("172.18.0.1")));
        let s6 = Subnet::parse("fc00:f853:ccd:e793::/64").unwrap();
        assert_eq!(
            s6.hosts_descending().next(),
            Some(ip("fc00:f853:ccd:e793:ffff:ffff:ffff:fffe"))
        );
        for bad in [
            "",
            "172.18.0.0",
            "172.18.0.0/33",
            "x/16",
            "::/129",
            "1.2.3.4/a",
        ] {
            assert_eq!(Subnet::parse(bad), None, "{bad}");
        }
        // Degenerate prefixes: no host addresses at all.
        for none in ["10.0.0.0/32", "10.0.0.0/31", "::1/128", "::/127"] {
            assert_eq!(Subnet::parse(none).unwrap().hosts_descending().count(), 0);
        }
        assert_eq!(
            Subnet::parse("10.0.0.0/30")
                .unwrap()
                .hosts_descending()
                .collect::<Vec<_>>(),
            vec![ip("10.0.0.2"), ip("10.0.0.1")]
        );
        assert_eq!(
            Subnet::parse("0.0.0.0/0")
                .unwrap()
                .hosts_descending()
                .next(),
            Some(ip("255.255.255.254"))
        );
        assert_eq!(
            Subnet::parse("::/0").unwrap().hosts_descending().next(),
            Some(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"))
        );
    }

    #[test]
    fn both_families_from_the_top_skipping_what_is_taken() {
        let n = net(
            &["172.18.0.0/16", "fc00:f853:ccd:e793::/64"],
            true,
            &[
                "172.18.0.1",
                "172.18.255.253",
                "fc00:f853:ccd:e793:ffff:ffff:ffff:fffe",
            ],
        );
        let p = plan(&n, 3);
        assert_eq!(
            v4s(&p),
            [
                Some("172.18.255.254"),
                Some("172.18.255.252"),
                Some("172.18.255.251")
            ]
        );
        assert_eq!(
            v6s(&p),
            [
                Some("fc00:f853:ccd:e793:ffff:ffff:ffff:fffd"),
                Some("fc00:f853:ccd:e793:ffff:ffff:ffff:fffc"),
                Some("fc00:f853:ccd:e793:ffff:ffff:ffff:fffb"),
            ]
        );
    }

    #[test]
    fn ipv4_stays_dynamic_on_a_network_without_a_configured_ipv4_subnet() {
        let p = plan(&net(&["172.18.0.0/16", "fc00::/64"], false, &[]), 2);
        assert_eq!(v4s(&p), [None, None]);
        assert_eq!(
            v6s(&p),
            [
                Some("fc00::ffff:ffff:ffff:fffe"),
                Some("fc00::ffff:ffff:ffff:fffd")
            ]
        );
    }

    #[test]
    fn missing_family_or_exhausted_subnet_leaves_the_rest_dynamic() {
        let p = plan(&net(&["10.0.0.0/29"], true, &["10.0.0.1", "10.0.0.5"]), 6);
        assert_eq!(
            v4s(&p),
            [
                Some("10.0.0.6"),
                Some("10.0.0.4"),
                Some("10.0.0.3"),
                Some("10.0.0.2"),
                None,
                None
            ]
        );
        assert_eq!(v6s(&p), [None; 6]);
        assert_eq!(
            plan(&net(&[], true, &[]), 2),
            vec![NodeAddresses::default(); 2]
        );
        assert!(plan(&net(&["10.0.0.0/24"], true, &[]), 0).is_empty());
        // Unparseable subnets are ignored; the first of a family wins.
        let p = plan(&net(&["junk", "10.1.0.0/24", "10.2.0.0/24"], true, &[]), 1);
        assert_eq!(v4s(&p), [Some("10.1.0.254")]);
    }

    /// Exhaustive over small subnets and every taken-set of their hosts:
    /// addresses are distinct, inside the subnet, never taken, never the
    /// network or last address, as many as fit, and highest first.
    #[test]
    fn exhaustive_small_subnets() {
        for prefix in 28..=32u32 {
            let cidr = format!("192.168.7.16/{prefix}");
            let s = Subnet::parse(&cidr).unwrap();
            let size = 1u32 << (32 - prefix);
            let hosts: Vec<IpAddr> = (0..size)
                .map(|o| {
                    IpAddr::V4(Ipv4Addr::from(
                        u32::from(Ipv4Addr::new(192, 168, 7, 16)) + o,
                    ))
                })
                .collect();
            let usable: Vec<IpAddr> = if size <= 2 {
                vec![]
            } else {
                hosts[1..hosts.len() - 1].to_vec()
            };
            assert_eq!(s.hosts_descending().count(), usable.len(), "{cidr}");
            let limit = usable.len().min(10);
            for mask in 0u32..(1 << limit) {
                let taken: BTreeSet<IpAddr> = (0..limit)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| usable[i])
                    .collect();
                let n = NetworkAddressing {
                    subnets: vec![cidr.clone()],
                    ipv4_fixed: true,
                    taken: taken.clone(),
                };
                for count in 0..=usable.len() + 1 {
                    let p = plan(&n, count);
                    assert_eq!(p.len(), count);
                    let got: Vec<IpAddr> =
                        p.iter().filter_map(|a| a.ipv4.as_deref()).map(ip).collect();
                    let free = usable.len() - taken.len();
                    assert_eq!(got.len(), count.min(free), "{cidr} {mask} {count}");
                    assert!(got.windows(2).all(|w| w[0] > w[1]), "descending, distinct");
                    assert!(got.iter().all(|a| usable.contains(a) && !taken.contains(a)));
                    // The assigned come first, the dynamic ones after.
                    assert!(p.iter().skip(got.len()).all(|a| a.ipv4.is_none()));
                    // Highest free first: nothing free above the lowest pick is skipped.
                    if let Some(low) = got.last() {
                        let skipped = usable
                            .iter()
                            .filter(|a| *a > low && !taken.contains(*a) && !got.contains(*a))
                            .count();
                        assert_eq!(skipped, 0);
                    }
                }
            }
        }
    }

    #[test]
    fn endpoint_addresses_parse_with_or_without_prefix() {
        assert_eq!(
            parse_endpoint_address("172.18.0.2/16"),
            Some(ip("172.18.0.2"))
        );
        assert_eq!(parse_endpoint_address("fc00::2/64"), Some(ip("fc00::2")));
        assert_eq!(parse_endpoint_address("fc00::2"), Some(ip("fc00::2")));
        assert_eq!(parse_endpoint_address(""), None);
    }
}
