//! Which addresses the bank may call on a TPP's or a customer's say-so (event callbacks,
//! personal webhooks): never loopback, private, link-local, carrier-grade NAT, unspecified,
//! broadcast or multicast, in IPv4 or IPv6 (IPv4-mapped included). Outside sandbox mode every
//! outbound call to a URL someone else typed is checked against this, at registration for
//! address literals and at delivery for what a name resolves to.

use std::net::IpAddr;

/// Not loopback, private, link-local, carrier-grade NAT, unspecified, broadcast or multicast.
pub fn is_public_ip(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                // 100.64.0.0/10, carrier-grade NAT (RFC 6598).
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// A host the bank may call: a name that is not `localhost` (what it resolves to is checked at
/// delivery), or a public IP address.
pub fn is_public_host(host: &url::Host<&str>) -> bool {
    let ip = match host {
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            return name != "localhost" && !name.ends_with(".localhost");
        }
        url::Host::Ipv4(ip) => IpAddr::V4(*ip),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip),
    };
    is_public_ip(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(raw: &str) -> bool {
        let url = url::Url::parse(raw).unwrap();
        is_public_host(&url.host().unwrap())
    }

    #[test]
    fn loopback_link_local_and_private_hosts_are_not_public() {
        for raw in [
            "https://localhost/cb",
            "https://api.localhost/cb",
            "https://127.0.0.1/cb",
            "https://10.1.2.3/cb",
            "https://172.16.0.1/cb",
            "https://192.168.1.1/cb",
            "https://169.254.169.254/latest",
            "https://100.64.0.1/cb",
            "https://0.0.0.0/cb",
            "https://[::]/cb",
            "https://[::1]/cb",
            "https://[fe80::1]/cb",
            "https://[fd00::1]/cb",
            "https://[::ffff:127.0.0.1]/cb",
            "https://[::ffff:10.0.0.1]/cb",
            "https://224.0.0.1/cb",
            "https://255.255.255.255/cb",
        ] {
            assert!(!public(raw), "{raw}");
        }
        for raw in ["https://tpp.example/cb", "https://203.0.113.9/cb"] {
            assert!(public(raw), "{raw}");
        }
    }
}
