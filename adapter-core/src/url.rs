//! Just enough of a `ws://` and `wss://` URL parser for
//! [`connect_url`](crate::connect_url): where to connect. (The `Host`
//! header and the target come from the URI, by `ws-proto`'s
//! `ClientRequest::try_from`.) Parsing does not depend on the `tls`
//! feature; connecting to a `wss://` URL does.

use std::net::Ipv6Addr;

use crate::Error;

/// Where a `ws://` or `wss://` URL says to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsUrl {
    /// `wss://`: TLS over TCP.
    pub(crate) tls: bool,
    /// The host to connect to, without brackets.
    pub(crate) host: String,
    /// The port to connect to (80 for `ws://`, 443 for `wss://`, when none
    /// is given).
    pub(crate) port: u16,
}

impl WsUrl {
    pub(crate) fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("no scheme (expected ws:// or wss://)"))?;
        let tls = scheme.eq_ignore_ascii_case("wss");
        if !tls && !scheme.eq_ignore_ascii_case("ws") {
            return Err(invalid("the scheme must be ws or wss"));
        }
        let default_port = if tls { 443 } else { 80 };
        if rest.contains('#') {
            return Err(invalid("a WebSocket URL has no fragment"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..split];
        if authority.contains('@') {
            return Err(invalid("user information is not supported"));
        }
        let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
            let (host, after) = inner
                .split_once(']')
                .ok_or_else(|| invalid("unclosed '[' in the host"))?;
            if host.parse::<Ipv6Addr>().is_err() {
                return Err(invalid("invalid IPv6 address"));
            }
            let port = match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| invalid("unexpected text after ']'"))?,
                ),
            };
            (host, port)
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = match port {
            None | Some("") => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
                _ => return Err(invalid("invalid port")),
            },
        };
        Ok(Self {
            tls,
            host: host.to_owned(),
            port: port.unwrap_or(default_port),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> (String, u16) {
        let u = WsUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (u.host, u.port)
    }

    fn reject(url: &str) -> &'static str {
        match WsUrl::parse(url) {
            Err(Error::InvalidUrl { reason, .. }) => reason,
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn host_and_port() {
        assert_eq!(
            parse("ws://127.0.0.1:9002/runCase?case=1&agent=sockway"),
            ("127.0.0.1".into(), 9002)
        );
    }

    #[test]
    fn defaults_port_80() {
        assert_eq!(parse("ws://example.com"), ("example.com".into(), 80));
        assert_eq!(parse("WS://example.com:80"), ("example.com".into(), 80));
        assert_eq!(parse("ws://example.com?x=1"), ("example.com".into(), 80));
        assert_eq!(parse("ws://example.com:"), ("example.com".into(), 80));
    }

    #[test]
    fn wss_defaults_port_443() {
        let url = WsUrl::parse("wss://example.com/chat?room=1").unwrap();
        assert!(url.tls);
        assert_eq!((url.host, url.port), ("example.com".into(), 443));
        assert_eq!(parse("WSS://example.com:443"), ("example.com".into(), 443));
        assert_eq!(parse("wss://example.com:80/"), ("example.com".into(), 80));
        assert_eq!(parse("wss://[::1]:8443/"), ("::1".into(), 8443));
        assert!(!WsUrl::parse("ws://example.com").unwrap().tls);
    }

    #[test]
    fn ipv6_literal_in_brackets() {
        assert_eq!(parse("ws://[::1]:9001/chat"), ("::1".into(), 9001));
        assert_eq!(parse("ws://[fe80::1]/"), ("fe80::1".into(), 80));
    }

    #[test]
    fn rejects_what_it_cannot_connect_to() {
        reject("http://example.com/");
        reject("https://example.com/");
        reject("wss://user@host/");
        reject("wss://host:0/");
        reject("example.com:80");
        reject("ws://:80/");
        reject("ws:///path");
        reject("ws://host:0/");
        reject("ws://host:65536/");
        reject("ws://host:+80/");
        reject("ws://host:x/");
        reject("ws://[::1/");
        reject("ws://[::1]x/");
        reject("ws://[nothost]/");
        reject("ws://::1/");
        reject("ws://user@host/");
        reject("ws://host/#frag");
    }
}
