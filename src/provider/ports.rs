//! Random host ports: kind listens on `<addr>:0`, takes the kernel's choice,
//! and keeps the listeners of one container open until all its ports are
//! picked (unique within a container).

use std::net::TcpListener;

use super::plan::join_host_port;
use super::ContainerSpec;

/// Replace every `host_port == 0` of each spec with a free port.
/// `-1` (the runtime picks) is left alone.
pub fn resolve(specs: &mut [ContainerSpec]) -> anyhow::Result<()> {
    for spec in specs {
        // Held until this container's ports are all picked, then dropped.
        let mut listeners = Vec::new();
        for port in spec.ports.iter_mut().filter(|p| p.host_port == 0) {
            let (picked, listener) = free_port(&port.listen_address).map_err(|e| {
                anyhow::anyhow!("failed to get random host port for port mapping: {e}")
            })?;
            port.host_port = picked;
            listeners.push(listener);
        }
    }
    Ok(())
}

/// A port the kernel considers free on `address` (an IP or host name), with
/// the listener that holds it.
fn free_port(address: &str) -> std::io::Result<(i32, TcpListener)> {
    let listener = TcpListener::bind(join_host_port(address, 0))?;
    let port = listener.local_addr()?.port();
    Ok((i32::from(port), listener))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::PortSpec;

    fn port(addr: &str, host_port: i32) -> PortSpec {
        PortSpec {
            listen_address: addr.into(),
            host_port,
            container_port: 80,
            protocol: "TCP".into(),
        }
    }

    fn spec(ports: Vec<PortSpec>) -> ContainerSpec {
        ContainerSpec {
            ports,
            ..Default::default()
        }
    }

    #[test]
    fn explicit_and_runtime_picked_ports_are_kept() {
        let mut specs = vec![spec(vec![port("127.0.0.1", 80), port("127.0.0.1", -1)])];
        resolve(&mut specs).unwrap();
        assert_eq!(
            (specs[0].ports[0].host_port, specs[0].ports[1].host_port),
            (80, -1)
        );
    }

    #[test]
    fn zero_becomes_a_free_port_unique_within_a_container() {
        let mut specs = vec![
            spec((0..8).map(|_| port("127.0.0.1", 0)).collect()),
            spec(vec![port("localhost", 0), port("0.0.0.0", 0)]),
        ];
        resolve(&mut specs).unwrap();
        let first: Vec<i32> = specs[0].ports.iter().map(|p| p.host_port).collect();
        let mut unique = first.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), first.len(), "{first:?}");
        for p in specs.iter().flat_map(|s| &s.ports) {
            assert!(p.host_port > 0, "{p:?}");
            // Released again: the port can be bound now.
            TcpListener::bind(join_host_port(&p.listen_address, p.host_port)).unwrap();
        }
    }

    #[test]
    fn addresses_not_on_this_host_fail() {
        for addr in ["88.88.88.0", "2112:beaf:beaf:2:3"] {
            let mut specs = vec![spec(vec![port(addr, 0)])];
            let e = resolve(&mut specs).unwrap_err().to_string();
            assert!(
                e.starts_with("failed to get random host port for port mapping: "),
                "{e}"
            );
        }
    }
}
