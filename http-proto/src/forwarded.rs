//! The client's address behind reverse proxies: `Forwarded` (RFC 7239) and
//! `X-Forwarded-For`, believed only as far as the proxies are trusted.
//!
//! Each proxy appends the address it received the request from, so the
//! list reads from the original client (left) to the last proxy's peer
//! (right). Any client can write anything on the left, so only the entries
//! added by trusted proxies count: starting from the connection's peer and
//! walking right to left, the first address that is not a trusted proxy is
//! the client. An entry that is not an IP address (`unknown`, an
//! obfuscated `_name`, garbage) stops the walk: the last trusted hop is
//! then the best that can be vouched for.

use std::net::IpAddr;
use std::str::FromStr;

use http::HeaderMap;

use crate::headers::values;

/// A set of addresses: one address, or a CIDR block such as `10.0.0.0/8`
/// or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

/// A string that is not an address or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR block: {0:?}")]
pub struct IpRangeError(String);

impl IpRange {
    /// The range holding `addr` alone.
    pub fn single(addr: IpAddr) -> Self {
        let addr = addr.to_canonical();
        Self {
            addr,
            prefix: max_prefix(addr),
        }
    }

    /// Whether `ip` is in the range (IPv4-mapped IPv6 addresses count as
    /// IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

impl From<IpAddr> for IpRange {
    fn from(addr: IpAddr) -> Self {
        Self::single(addr)
    }
}

impl FromStr for IpRange {
    type Err = IpRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IpRangeError(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let addr = addr.to_canonical();
        let max = max_prefix(addr);
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?,
        };
        Ok(Self { addr, prefix })
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

/// Whether the first `prefix` bits of `a` and `b` agree.
fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let whole = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[whole] & mask) == (b[whole] & mask)
}

/// The address of the client that sent a request which arrived from `peer`.
///
/// When `peer` is in `trusted`, the hops that the proxies recorded are read
/// from `Forwarded` if the request has one, else from `X-Forwarded-For`
/// (every field of the chosen header, in order); the client is the
/// rightmost address that is not a trusted proxy. Otherwise, and with
/// nothing trusted, it is `peer`.
pub fn client_ip(headers: &HeaderMap, peer: IpAddr, trusted: &[IpRange]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let fields =
        |name: &'static str| values(headers, name).filter_map(|v| std::str::from_utf8(v).ok());
    let hops: Vec<&str> = if fields("forwarded").next().is_some() {
        fields("forwarded")
            .flat_map(|v| v.split(','))
            .map(forwarded_for)
            .collect()
    } else {
        fields("x-forwarded-for")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect()
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_node(hop) else { break };
        client = ip;
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// The `for=` node of one `Forwarded` element (`""` when it has none).
fn forwarded_for(element: &str) -> &str {
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
        .map_or("", |(_, value)| value.trim())
}

/// An IP address from a node: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `"[2001:db8::1]:4711"`, quoted or not.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    let node = node
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(node);
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    let (ip, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &'static str, value: &str) -> (&'static str, String) {
        (name, value.to_owned())
    }

    /// The fields as a map, in order.
    fn map<const N: usize>(fields: [(&'static str, String); N]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in fields {
            map.append(name, value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn ranges(list: &[&str]) -> Vec<IpRange> {
        list.iter().map(|r| r.parse().unwrap()).collect()
    }

    #[test]
    fn ranges_parse_and_contain() {
        let r: IpRange = "10.0.0.0/8".parse().unwrap();
        assert!(r.contains(ip("10.255.1.2")));
        assert!(!r.contains(ip("11.0.0.1")));
        assert!(r.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped counts");
        let r: IpRange = "192.168.1.128/25".parse().unwrap();
        assert!(r.contains(ip("192.168.1.200")));
        assert!(r.contains(ip("192.168.1.129")));
        assert!(r.contains(ip("192.168.1.255")));
        assert!(!r.contains(ip("192.168.1.127")));
        assert!(!r.contains(ip("192.168.1.0")));
        // A prefix that cuts a byte in the middle.
        let r: IpRange = "172.16.0.0/12".parse().unwrap();
        assert!(r.contains(ip("172.16.0.1")));
        assert!(r.contains(ip("172.31.255.255")));
        assert!(!r.contains(ip("172.32.0.0")));
        assert!(!r.contains(ip("172.15.255.255")));
        let r: IpRange = "fd00::/8".parse().unwrap();
        assert!(r.contains(ip("fd12::1")));
        assert!(!r.contains(ip("fe80::1")));
        assert!(!r.contains(ip("10.0.0.1")));
        let r: IpRange = "127.0.0.1".parse().unwrap();
        assert!(r.contains(ip("127.0.0.1")));
        assert!(!r.contains(ip("127.0.0.2")));
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        for bad in ["", "10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.1/a"] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let headers = [
            h("X-Forwarded-For", "1.2.3.4"),
            h("Forwarded", "for=5.6.7.8"),
        ];
        let peer = ip("203.0.113.9");
        assert_eq!(client_ip(&map(headers.clone()), peer, &[]), peer);
        assert_eq!(
            client_ip(&map(headers.clone()), peer, &ranges(&["10.0.0.0/8"])),
            peer
        );
    }

    #[test]
    fn x_forwarded_for_is_read_from_the_right_past_trusted_proxies() {
        let trusted = ranges(&["10.0.0.0/8"]);
        // A spoofed entry on the left, the real client, then an inner proxy.
        let headers = [
            h("X-Forwarded-For", "6.6.6.6, 198.51.100.7"),
            h("X-Forwarded-For", "10.1.1.1"),
        ];
        assert_eq!(
            client_ip(&map(headers.clone()), ip("10.0.0.2"), &trusted),
            ip("198.51.100.7")
        );
        // A proxy that received it straight from the client.
        let headers = [h("x-forwarded-for", " 198.51.100.7 ")];
        assert_eq!(
            client_ip(&map(headers.clone()), ip("10.0.0.2"), &trusted),
            ip("198.51.100.7")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_ip(&HeaderMap::new(), ip("10.0.0.2"), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_takes_every_node_form() {
        let trusted = ranges(&["127.0.0.1", "::1"]);
        let cases = [
            ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
            ("For=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
            ("for=192.0.2.43:8080", "192.0.2.43"),
            ("for=\"192.0.2.43\", for=127.0.0.1", "192.0.2.43"),
            ("proto=https;for=2001:db8::1", "2001:db8::1"),
        ];
        for (value, expected) in cases {
            let headers = [h("X-Forwarded-For", "9.9.9.9"), h("Forwarded", value)];
            assert_eq!(
                client_ip(&map(headers.clone()), ip("127.0.0.1"), &trusted),
                ip(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_trusted_one() {
        let trusted = ranges(&["10.0.0.0/8"]);
        for value in ["unknown", "_hidden", "garbage:port", ""] {
            let headers = [h("X-Forwarded-For", &format!("198.51.100.7, {value}"))];
            assert_eq!(
                client_ip(&map(headers.clone()), ip("10.0.0.2"), &trusted),
                ip("10.0.0.2"),
                "{value:?}"
            );
        }
        let headers = [h("Forwarded", "for=unknown")];
        assert_eq!(
            client_ip(&map(headers.clone()), ip("10.0.0.2"), &trusted),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_to_the_client() {
        let trusted = ranges(&["10.0.0.0/8", "172.16.0.0/12"]);
        let headers = [h("X-Forwarded-For", "198.51.100.7, 172.16.5.5, 10.9.9.9")];
        assert_eq!(
            client_ip(&map(headers.clone()), ip("10.0.0.2"), &trusted),
            ip("198.51.100.7")
        );
        // Every hop trusted: the leftmost one is as far as it goes.
        let headers = [h("X-Forwarded-For", "10.3.3.3, 10.9.9.9")];
        assert_eq!(
            client_ip(&map(headers.clone()), ip("10.0.0.2"), &trusted),
            ip("10.3.3.3")
        );
    }

    #[test]
    fn mapped_addresses_are_canonical() {
        let trusted = ranges(&["127.0.0.1"]);
        let headers = [h("X-Forwarded-For", "::ffff:198.51.100.7")];
        assert_eq!(
            client_ip(&map(headers.clone()), ip("::ffff:127.0.0.1"), &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(&HeaderMap::new(), ip("::ffff:198.51.100.7"), &[]),
            ip("198.51.100.7")
        );
    }
}
