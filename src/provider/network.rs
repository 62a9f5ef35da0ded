//! The per-cluster Docker network's IPv6 ULA subnet (pure part).

/// `fc00:` + sha1(name ‖ attempt as 4 LE bytes)[2..8], /64 (spec §3.3).
pub fn ula_subnet(name: &str, attempt: i32) -> String {
    todo!("{name}{attempt}")
}
