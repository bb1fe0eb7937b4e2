//! Just enough of a `ws://` and `wss://` URL parser for
//! [`connect_url`](crate::connect_url). Parsing does not depend on the
//! `tls` feature; connecting to a `wss://` URL does.

use std::net::Ipv6Addr;

use crate::Error;

/// The parts of a `ws://` or `wss://` URL that a connection needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsUrl {
    /// `wss://`: TLS over TCP.
    pub(crate) tls: bool,
    /// The host to connect to, without brackets.
    pub(crate) host: String,
    /// The port to connect to (80 for `ws://`, 443 for `wss://`, when none
    /// is given).
    pub(crate) port: u16,
    /// The `Host` header: the host (bracketed if IPv6) and any non-default port.
    pub(crate) host_header: String,
    /// The request target: path and query, `/` when empty.
    pub(crate) target: String,
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
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err(invalid("user information is not supported"));
        }
        let (host, port, bracketed) = if let Some(inner) = authority.strip_prefix('[') {
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
            (host, port, true)
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port), false),
                None => (authority, None, false),
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
        let mut host_header = if bracketed {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        if let Some(p) = port.filter(|&p| p != default_port) {
            host_header.push(':');
            host_header.push_str(&p.to_string());
        }
        let target = match target.strip_prefix('?') {
            Some(_) => format!("/{target}"),
            None if target.is_empty() => "/".to_owned(),
            None => target.to_owned(),
        };
        Ok(Self {
            tls,
            host: host.to_owned(),
            port: port.unwrap_or(default_port),
            host_header,
            target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> (String, u16, String, String) {
        let u = WsUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (u.host, u.port, u.host_header, u.target)
    }

    fn reject(url: &str) -> &'static str {
        match WsUrl::parse(url) {
            Err(Error::InvalidUrl { reason, .. }) => reason,
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn host_port_path_and_query() {
        assert_eq!(
            parse("ws://127.0.0.1:9002/runCase?case=1&agent=sockway"),
            (
                "127.0.0.1".into(),
                9002,
                "127.0.0.1:9002".into(),
                "/runCase?case=1&agent=sockway".into()
            )
        );
    }

    #[test]
    fn defaults_port_80_and_root_path() {
        assert_eq!(
            parse("ws://example.com"),
            ("example.com".into(), 80, "example.com".into(), "/".into())
        );
        assert_eq!(
            parse("WS://example.com:80"),
            ("example.com".into(), 80, "example.com".into(), "/".into())
        );
        assert_eq!(
            parse("ws://example.com?x=1"),
            (
                "example.com".into(),
                80,
                "example.com".into(),
                "/?x=1".into()
            )
        );
    }

    #[test]
    fn wss_defaults_port_443_and_names_other_ports() {
        let url = WsUrl::parse("wss://example.com/chat?room=1").unwrap();
        assert!(url.tls);
        assert_eq!(
            (url.host, url.port, url.host_header, url.target),
            (
                "example.com".into(),
                443,
                "example.com".into(),
                "/chat?room=1".into()
            )
        );
        assert_eq!(
            parse("WSS://example.com:443"),
            ("example.com".into(), 443, "example.com".into(), "/".into())
        );
        assert_eq!(
            parse("wss://example.com:80/"),
            (
                "example.com".into(),
                80,
                "example.com:80".into(),
                "/".into()
            )
        );
        assert_eq!(
            parse("wss://[::1]:8443/"),
            ("::1".into(), 8443, "[::1]:8443".into(), "/".into())
        );
        assert!(!WsUrl::parse("ws://example.com").unwrap().tls);
    }

    #[test]
    fn ipv6_literal_in_brackets() {
        assert_eq!(
            parse("ws://[::1]:9001/chat"),
            ("::1".into(), 9001, "[::1]:9001".into(), "/chat".into())
        );
        assert_eq!(
            parse("ws://[fe80::1]/"),
            ("fe80::1".into(), 80, "[fe80::1]".into(), "/".into())
        );
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
