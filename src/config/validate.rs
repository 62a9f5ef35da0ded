//! Validation of a defaulted config (spec §2.4), with upstream's messages,
//! all problems reported together.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Cluster, Node, PortMapping, ROLE_CONTROL_PLANE, ROLE_WORKER};
use crate::gotext::quote as go_quote;

/// All validation problems; `Display` is one bare message or `[a, b, …]`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", display(.0))]
pub struct ValidationErrors(pub Vec<String>);

fn display(errs: &[String]) -> String {
    if errs.len() == 1 {
        errs[0].clone()
    } else {
        format!("[{}]", errs.join(", "))
    }
}

/// Upstream's error aggregate: repeated messages are shown once, in first
/// order; a single remaining message is shown bare.
fn aggregate(errs: Vec<String>) -> Option<ValidationErrors> {
    let mut seen = BTreeSet::new();
    let unique: Vec<String> = errs
        .into_iter()
        .filter(|e| seen.insert(e.clone()))
        .collect();
    (!unique.is_empty()).then_some(ValidationErrors(unique))
}

const NAME_PATTERN: &str = "^[a-z0-9.-]+$";

/// Validate a defaulted cluster (spec §2.4).
pub fn validate(cluster: &Cluster) -> Result<(), ValidationErrors> {
    let mut errs = Vec::new();
    let net = &cluster.networking;

    let name_ok = !cluster.name.is_empty()
        && cluster
            .name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-'));
    if !name_ok {
        errs.push(format!(
            "'{}' is not a valid cluster name, cluster names must match `{NAME_PATTERN}`",
            cluster.name
        ));
    }
    // 0 means "pick a free port", so only explicit ports are checked.
    if net.api_server_port != 0 {
        if let Err(e) = validate_port(net.api_server_port) {
            errs.push(format!("invalid apiServerPort: {e}"));
        }
    }
    if !matches!(net.ip_family.as_str(), "ipv4" | "ipv6" | "dual") {
        errs.push(format!("invalid ipFamily: {}", net.ip_family));
    }
    if let Err(e) = validate_subnets(&net.pod_subnet, &net.ip_family) {
        errs.push(format!("invalid pod subnet {e}"));
    }
    if let Err(e) = validate_subnets(&net.service_subnet, &net.ip_family) {
        errs.push(format!("invalid service subnet {e}"));
    }
    if !matches!(
        net.kube_proxy_mode.as_str(),
        "iptables" | "ipvs" | "nftables" | "none"
    ) {
        errs.push(format!("invalid kubeProxyMode: {}", net.kube_proxy_mode));
    }
    for (i, node) in cluster.nodes.iter().enumerate() {
        if let Err(e) = validate_node(node) {
            errs.push(format!("invalid configuration for node {i}: {e}"));
        }
    }
    if cluster.control_plane_count() == 0 {
        errs.push(format!("must have at least one {ROLE_CONTROL_PLANE} node"));
    }
    aggregate(errs).map_or(Ok(()), Err)
}

pub(crate) fn validate_node(node: &Node) -> Result<(), ValidationErrors> {
    let mut errs = Vec::new();
    if node.role != ROLE_CONTROL_PLANE && node.role != ROLE_WORKER {
        errs.push(format!("{} is not a valid node role", go_quote(&node.role)));
    }
    if node.image.is_empty() {
        errs.push("image is a required field".to_string());
    }
    for mapping in &node.extra_port_mappings {
        if let Err(e) = validate_port(mapping.host_port) {
            errs.push(format!("invalid hostPort: {e}"));
        }
        if let Err(e) = validate_port(mapping.container_port) {
            errs.push(format!("invalid containerPort: {e}"));
        }
    }
    if let Err(e) = validate_port_mappings(&node.extra_port_mappings) {
        errs.push(format!("invalid portMapping: {e}"));
    }
    aggregate(errs).map_or(Ok(()), Err)
}

/// -1 asks the container runtime to pick the port.
pub(crate) fn validate_port(port: i32) -> Result<(), String> {
    if !(-1..=65535).contains(&port) {
        return Err(format!("invalid port number: {port}"));
    }
    Ok(())
}

/// Rejects the first mapping whose host address, port and protocol are
/// already bound by an earlier one (a wildcard address clashes with any
/// address). Random ports (0, -1) never clash. The protocol is compared as
/// written, so unset and `TCP` differ, as upstream.
pub(crate) fn validate_port_mappings(mappings: &[PortMapping]) -> Result<(), String> {
    const DUPLICATE: &str =
        "port mapping with same listen address, port and protocol already configured";
    let wildcard = Ipv4Addr::UNSPECIFIED.to_ipv6_mapped();
    let mut bound: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in mappings {
        if m.host_port == -1 || m.host_port == 0 {
            continue;
        }
        let addr = if m.listen_address.is_empty() {
            wildcard
        } else {
            go_parse_ip(&m.listen_address)
                .ok_or_else(|| format!("invalid listen address: {}", m.listen_address))?
        };
        let port_protocol = format!("{}/{}", m.host_port, m.protocol);
        let conflict = format!("{DUPLICATE}: {}:{port_protocol}", go_ip_string(addr));
        // `::` and `0.0.0.0` are the same wildcard.
        let addr = if addr == Ipv6Addr::UNSPECIFIED {
            wildcard
        } else {
            addr
        };
        let addr_string = go_ip_string(addr);
        let wildcard_string = go_ip_string(wildcard);
        let set = bound.entry(port_protocol).or_default();
        if (addr == wildcard && !set.is_empty())
            || set.contains(&addr_string)
            || set.contains(&wildcard_string)
        {
            return Err(conflict);
        }
        set.insert(addr_string);
    }
    Ok(())
}

/// Go's `net.ParseIP` in 16-byte form (IPv4 as IPv4-mapped); zones rejected.
fn go_parse_ip(text: &str) -> Option<Ipv6Addr> {
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => Some(v6),
    }
}

/// Go's `net.IP.String`: IPv4-mapped addresses print as dotted IPv4.
fn go_ip_string(addr: Ipv6Addr) -> String {
    match addr.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => addr.to_string(),
    }
}

/// Go's `net.ParseCIDR`, returning the masked network address in 16-byte
/// form. The error is Go's text.
fn go_parse_cidr(text: &str) -> Result<Ipv6Addr, String> {
    let invalid = || format!("invalid CIDR address: {text}");
    let (addr, bits) = text.split_once('/').ok_or_else(invalid)?;
    let (addr, width) = match addr.parse::<IpAddr>().map_err(|_| invalid())? {
        IpAddr::V4(v4) => (v4.to_ipv6_mapped(), 32),
        IpAddr::V6(v6) => (v6, 128),
    };
    // Go's dtoi: decimal digits only (leading zeros allowed), bounded.
    if bits.is_empty() || bits.len() > 8 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let bits: u32 = bits.parse().map_err(|_| invalid())?;
    if bits > width {
        return Err(invalid());
    }
    let prefix = bits + (128 - width);
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    Ok(Ipv6Addr::from(u128::from(addr) & mask))
}

/// Go's `IP.To4() != nil` on a 16-byte address.
fn is_ipv4(addr: Ipv6Addr) -> bool {
    addr.to_ipv4_mapped().is_some()
}

/// The subnet rules of upstream's `validateSubnets`: comma separated CIDRs
/// (not trimmed); dual-stack takes one CIDR or one of each family;
/// single-stack takes one of its own family. An unknown family is only
/// checked for parseability and count.
pub(crate) fn validate_subnets(subnets: &str, ip_family: &str) -> Result<(), String> {
    const DUAL: &str =
        "expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking";
    let mut nets = Vec::new();
    for piece in subnets.split(',') {
        let net = go_parse_cidr(piece).map_err(|e| {
            format!(
                "failed to parse cidr value:{} with error: {e}",
                go_quote(piece)
            )
        })?;
        nets.push(net);
    }
    let dual = ip_family == "dual";
    if dual && nets.len() > 2 {
        return Err(DUAL.into());
    }
    if dual && nets.len() == 2 {
        let v4 = nets.iter().any(|n| is_ipv4(*n));
        let v6 = nets.iter().any(|n| !is_ipv4(*n));
        return if v4 && v6 { Ok(()) } else { Err(DUAL.into()) };
    }
    if !dual && nets.len() > 1 {
        return Err("only one CIDR allowed for single-stack networking".into());
    }
    if ip_family == "ipv4" && !is_ipv4(nets[0]) {
        return Err("expected IPv4 CIDR for IPv4 family".into());
    }
    if ip_family == "ipv6" && is_ipv4(nets[0]) {
        return Err("expected IPv6 CIDR for IPv6 family".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pm(addr: &str, port: i32, protocol: &str) -> PortMapping {
        PortMapping {
            container_port: 80,
            host_port: port,
            listen_address: addr.into(),
            protocol: protocol.into(),
        }
    }

    /// §9.2 TestValidatePortMappings, plus the exact messages we emit.
    #[test]
    fn duplicate_port_bindings() {
        let dup = "port mapping with same listen address, port and protocol already configured";
        let cases: Vec<(&str, Vec<PortMapping>, Result<(), String>)> = vec![
            (
                "unique v4",
                vec![
                    pm("127.0.0.1", 80, "UDP"),
                    pm("127.0.0.1", 80, "TCP"),
                    pm("0.0.0.0", 3000, "UDP"),
                    pm("0.0.0.0", 5000, "TCP"),
                ],
                Ok(()),
            ),
            (
                "unique v6",
                vec![
                    pm("::1", 80, "UDP"),
                    pm("::1", 80, "TCP"),
                    pm("::", 3000, "UDP"),
                    pm("::", 5000, "TCP"),
                ],
                Ok(()),
            ),
            (
                "exact v4 duplicate",
                vec![pm("127.0.0.1", 80, "TCP"), pm("127.0.0.1", 80, "TCP")],
                Err(format!("{dup}: 127.0.0.1:80/TCP")),
            ),
            (
                "exact v6 duplicate",
                vec![pm("::1", 80, "TCP"), pm("::1", 80, "TCP")],
                Err(format!("{dup}: ::1:80/TCP")),
            ),
            (
                ":: clashes with the earlier UDP wildcard",
                vec![
                    pm("127.0.0.1", 80, "TCP"),
                    pm("0.0.0.0", 80, "UDP"),
                    pm("::1", 80, "TCP"),
                    pm("::", 80, "UDP"),
                ],
                Err(format!("{dup}: :::80/UDP")),
            ),
            (
                "specific then wildcard v4",
                vec![pm("127.0.0.1", 80, "TCP"), pm("0.0.0.0", 80, "TCP")],
                Err(format!("{dup}: 0.0.0.0:80/TCP")),
            ),
            (
                "specific then wildcard v6",
                vec![pm("::1", 80, "TCP"), pm("::", 80, "TCP")],
                Err(format!("{dup}: :::80/TCP")),
            ),
            (
                "wildcard then specific v4",
                vec![pm("0.0.0.0", 80, "TCP"), pm("127.0.0.1", 80, "TCP")],
                Err(format!("{dup}: 127.0.0.1:80/TCP")),
            ),
            (
                "wildcard then specific v6",
                vec![pm("::", 80, "SCTP"), pm("::1", 80, "SCTP")],
                Err(format!("{dup}: ::1:80/SCTP")),
            ),
            ("empty address alone", vec![pm("", 80, "TCP")], Ok(())),
            (
                "empty then specific",
                vec![pm("", 80, "TCP"), pm("127.0.0.1", 80, "TCP")],
                Err(format!("{dup}: 127.0.0.1:80/TCP")),
            ),
            (
                "not an ip",
                vec![pm("not-an-ip", 80, "TCP")],
                Err("invalid listen address: not-an-ip".into()),
            ),
            (
                "unset protocol differs from TCP",
                vec![pm("", 80, ""), pm("", 80, "TCP")],
                Ok(()),
            ),
            (
                "random ports never clash",
                vec![
                    pm("", 0, "TCP"),
                    pm("", 0, "TCP"),
                    pm("", -1, ""),
                    pm("", -1, ""),
                ],
                Ok(()),
            ),
            (
                "mapped v4 equals v4",
                vec![
                    pm("::ffff:127.0.0.1", 80, "TCP"),
                    pm("127.0.0.1", 80, "TCP"),
                ],
                Err(format!("{dup}: 127.0.0.1:80/TCP")),
            ),
            (
                "canonical v6 text",
                vec![pm("0:0::1", 80, "TCP"), pm("::1", 80, "TCP")],
                Err(format!("{dup}: ::1:80/TCP")),
            ),
        ];
        for (name, mappings, want) in cases {
            assert_eq!(validate_port_mappings(&mappings), want, "{name}");
        }
    }

    /// §9.2 TestPortValidate.
    #[test]
    fn port_range() {
        assert_eq!(validate_port(-1), Ok(()));
        assert_eq!(validate_port(10), Ok(()));
        assert_eq!(validate_port(65535), Ok(()));
        assert_eq!(validate_port(-2), Err("invalid port number: -2".into()));
        assert_eq!(
            validate_port(65536),
            Err("invalid port number: 65536".into())
        );
    }

    #[test]
    fn subnets() {
        let dual = "expected one (IPv4 or IPv6) CIDR or two CIDRs from each family for dual-stack networking";
        let cases: &[(&str, &str, Result<(), &str>)] = &[
            ("10.0.0.0/8", "ipv4", Ok(())),
            ("10.0.0.0/016", "ipv4", Ok(())),
            ("aa", "ipv4", Err("failed to parse cidr value:\"aa\" with error: invalid CIDR address: aa")),
            ("", "ipv4", Err("failed to parse cidr value:\"\" with error: invalid CIDR address: ")),
            ("10.0.0.0/8, fd00::/64", "dual", Err("failed to parse cidr value:\" fd00::/64\" with error: invalid CIDR address:  fd00::/64")),
            ("10.0.0.0/33", "ipv4", Err("failed to parse cidr value:\"10.0.0.0/33\" with error: invalid CIDR address: 10.0.0.0/33")),
            ("010.0.0.0/8", "ipv4", Err("failed to parse cidr value:\"010.0.0.0/8\" with error: invalid CIDR address: 010.0.0.0/8")),
            ("fe80::1%eth0/64", "ipv6", Err("failed to parse cidr value:\"fe80::1%eth0/64\" with error: invalid CIDR address: fe80::1%eth0/64")),
            ("192.168.0.2/24,2.2.2.0/24", "ipv4", Err("only one CIDR allowed for single-stack networking")),
            ("192.168.0.2/24,fd00:1::/25", "dual", Ok(())),
            ("fd00:1::/25", "dual", Ok(())),
            ("1.1.1.0/24,2.2.2.0/24", "dual", Err(dual)),
            ("1.1.1.0/24,fd00::/64,2.2.2.0/24", "dual", Err(dual)),
            ("fd00::/64", "ipv4", Err("expected IPv4 CIDR for IPv4 family")),
            ("10.0.0.0/8", "ipv6", Err("expected IPv6 CIDR for IPv6 family")),
            ("::ffff:10.0.0.0/104", "ipv6", Err("expected IPv6 CIDR for IPv6 family")),
            ("::ffff:10.0.0.0/104", "ipv4", Ok(())),
            // The mask clears the ::ffff: marker, leaving an IPv6 network.
            ("::ffff:10.0.0.0/8", "ipv4", Err("expected IPv4 CIDR for IPv4 family")),
            ("fd00::/64,10.0.0.0/8", "bogus", Err("only one CIDR allowed for single-stack networking")),
            ("fd00::/64", "bogus", Ok(())),
        ];
        for (subnets, family, want) in cases {
            assert_eq!(
                validate_subnets(subnets, family),
                want.map_err(String::from),
                "{subnets} {family}"
            );
        }
    }

    #[test]
    fn node_reasons_are_aggregated_without_repeats() {
        let node = Node {
            role: "ssss".into(),
            image: String::new(),
            extra_port_mappings: vec![pm("", 999999, "TCP"), pm("", 999999, "TCP")],
            ..Default::default()
        };
        assert_eq!(
            validate_node(&node).unwrap_err().to_string(),
            "[\"ssss\" is not a valid node role, image is a required field, invalid hostPort: invalid port number: 999999, \
             invalid portMapping: port mapping with same listen address, port and protocol already configured: \
             0.0.0.0:999999/TCP]"
        );
    }
}
