//! Allowed origins: exact, `*`, patterns, or same origin only.

/// Which `Origin`s may use an endpoint.
///
/// Requests without an `Origin` header (non-browser clients) are always
/// allowed: the check protects browsers' users from foreign pages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AllowedOrigins {
    /// Any origin (`*`).
    Any,
    /// Only the server's own origin: the `Origin`'s host and port must be
    /// those of the `Host` header. The default.
    #[default]
    SameOrigin,
    /// The server's own origin and these. A pattern is a full origin
    /// (`https://app.example.com`), where the host may start with `*.`
    /// for any subdomain (`https://*.example.com`) and the port may be `*`
    /// (`http://localhost:*`); `null` matches the `null` origin of
    /// sandboxed pages and `file:` URLs.
    List(Vec<String>),
}

impl AllowedOrigins {
    /// A list from strings; a `*` among them means [`AllowedOrigins::Any`].
    pub fn from_list<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list: Vec<String> = origins.into_iter().map(Into::into).collect();
        if list.iter().any(|o| o == "*") {
            Self::Any
        } else if list.is_empty() {
            Self::SameOrigin
        } else {
            Self::List(list)
        }
    }

    /// Whether any origin is allowed.
    pub fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }

    /// Whether a request with this `Origin` (and `Host`) is allowed.
    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        match self {
            Self::Any => true,
            Self::SameOrigin => same_origin(origin, host),
            Self::List(list) => {
                same_origin(origin, host) || list.iter().any(|p| pattern_matches(p, origin))
            }
        }
    }
}

/// An origin split into its parts; `port` is explicit or the scheme's default.
#[derive(Debug, PartialEq, Eq)]
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<&'a str>,
}

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        _ => None,
    }
}

/// Splits `scheme://host[:port]` (no path allowed). Bracketed IPv6 hosts are
/// kept with their brackets.
fn parse(origin: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = origin.split_once("://")?;
    if scheme.is_empty() || rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return None;
    }
    let (host, port) = if let Some(end) = rest.strip_prefix('[').and_then(|r| r.find(']')) {
        let host = &rest[..end + 2];
        match &rest[end + 2..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || port == Some("") {
        return None;
    }
    Some(Parts {
        scheme,
        host,
        port: port.or_else(|| default_port(scheme)),
    })
}

/// Whether `origin` names the server reached through `host`.
fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let (Some(o), Some(host)) = (parse(origin), host) else {
        return false;
    };
    let Some(h) = parse_host(host, o.scheme) else {
        return false;
    };
    o.host.eq_ignore_ascii_case(h.0) && o.port == h.1
}

/// Splits a `Host` header; the port defaults to that of `scheme`.
fn parse_host<'a>(host: &'a str, scheme: &str) -> Option<(&'a str, Option<&'a str>)> {
    let parts = parse_with_scheme(host)?;
    Some((parts.0, parts.1.or_else(|| default_port(scheme))))
}

fn parse_with_scheme(host: &str) -> Option<(&str, Option<&str>)> {
    if let Some(end) = host.strip_prefix('[').and_then(|r| r.find(']')) {
        let h = &host[..end + 2];
        return match &host[end + 2..] {
            "" => Some((h, None)),
            p => Some((h, Some(p.strip_prefix(':')?))),
        };
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.is_empty() => Some((h, Some(p))),
        Some(_) => None,
        None if host.is_empty() => None,
        None => Some((host, None)),
    }
}

fn pattern_matches(pattern: &str, origin: &str) -> bool {
    if pattern.eq_ignore_ascii_case("null") || origin.eq_ignore_ascii_case("null") {
        return pattern.eq_ignore_ascii_case(origin);
    }
    let (Some(p), Some(o)) = (parse(pattern), parse(origin)) else {
        return false;
    };
    if !p.scheme.eq_ignore_ascii_case(o.scheme) {
        return false;
    }
    let port_ok = p.port == Some("*") || p.port == o.port;
    let host_ok = match p.host.strip_prefix("*.") {
        Some(suffix) => o
            .host
            .len()
            .checked_sub(suffix.len() + 1)
            .is_some_and(|cut| {
                cut > 0
                    && o.host.as_bytes()[cut] == b'.'
                    && o.host[cut + 1..].eq_ignore_ascii_case(suffix)
            }),
        None => p.host.eq_ignore_ascii_case(o.host),
    };
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_origin_is_always_allowed() {
        for a in [
            AllowedOrigins::Any,
            AllowedOrigins::SameOrigin,
            AllowedOrigins::List(vec!["https://a.com".into()]),
        ] {
            assert!(a.allows(None, Some("x")));
        }
    }

    #[test]
    fn same_origin_compares_host_and_port() {
        let a = AllowedOrigins::SameOrigin;
        assert!(a.allows(Some("http://localhost:8081"), Some("localhost:8081")));
        assert!(a.allows(Some("http://example.com"), Some("example.com")));
        assert!(a.allows(Some("http://example.com"), Some("example.com:80")));
        assert!(a.allows(Some("https://example.com"), Some("example.com")));
        assert!(a.allows(Some("http://[::1]:9"), Some("[::1]:9")));
        assert!(!a.allows(Some("http://evil.com"), Some("example.com")));
        assert!(!a.allows(Some("http://example.com:8080"), Some("example.com")));
        assert!(!a.allows(Some("null"), Some("example.com")));
        assert!(!a.allows(Some("http://example.com"), None));
    }

    #[test]
    fn patterns() {
        let a = AllowedOrigins::from_list([
            "https://*.example.com",
            "http://localhost:*",
            "https://app.test",
            "null",
        ]);
        assert!(a.allows(Some("https://a.example.com"), Some("srv")));
        assert!(a.allows(Some("https://a.b.example.com"), Some("srv")));
        assert!(!a.allows(Some("https://example.com"), Some("srv")));
        assert!(!a.allows(Some("https://badexample.com"), Some("srv")));
        assert!(!a.allows(Some("http://a.example.com"), Some("srv")));
        assert!(a.allows(Some("http://localhost:3000"), Some("srv")));
        assert!(a.allows(Some("http://localhost"), Some("srv")));
        assert!(a.allows(Some("https://app.test"), Some("srv")));
        assert!(a.allows(Some("https://app.test:443"), Some("srv")));
        assert!(!a.allows(Some("https://app.test:8443"), Some("srv")));
        assert!(a.allows(Some("null"), Some("srv")));
        assert!(!a.allows(Some("https://a.example.com/path"), Some("srv")));
    }

    #[test]
    fn origins_with_more_than_scheme_host_and_port_are_refused() {
        let a = AllowedOrigins::from_list(["https://*.example.com", "http://localhost:*"]);
        for origin in [
            // A path, query, fragment or user info after the port...
            "http://localhost:3000/x",
            "http://localhost:3000?x",
            "http://localhost:3000#x",
            // ... or in front of what looks like an allowed host.
            "https://evil.com/.example.com",
            "https://evil.com?.example.com",
            "https://evil.com#.example.com",
            "https://evil.com@a.example.com",
            // No scheme, or an empty port.
            "://a.example.com",
            "http://localhost:",
        ] {
            assert!(!a.allows(Some(origin), Some("srv")), "{origin}");
        }
        assert!(a.allows(Some("http://localhost:3000"), Some("srv")));
    }

    #[test]
    fn same_origin_needs_a_scheme() {
        let a = AllowedOrigins::SameOrigin;
        assert!(!a.allows(Some("://example.com"), Some("example.com")));
        assert!(!a.allows(Some("://example.com:80"), Some("example.com:80")));
        assert!(a.allows(Some("http://example.com:80"), Some("example.com:80")));
    }

    #[test]
    fn a_subdomain_pattern_needs_a_subdomain() {
        let a = AllowedOrigins::from_list(["https://*.example.com"]);
        assert!(!a.allows(Some("https://.example.com"), Some("srv")));
        assert!(!a.allows(Some("https://example.com"), Some("srv")));
        assert!(a.allows(Some("https://a.example.com"), Some("srv")));
    }

    #[test]
    fn only_any_is_any() {
        for (origins, any) in [
            (AllowedOrigins::Any, true),
            (AllowedOrigins::SameOrigin, false),
            (AllowedOrigins::List(vec!["https://a.com".into()]), false),
        ] {
            assert_eq!(origins.is_any(), any, "{origins:?}");
        }
    }

    #[test]
    fn a_star_in_the_list_means_any() {
        assert_eq!(
            AllowedOrigins::from_list(["https://a", "*"]),
            AllowedOrigins::Any
        );
        assert_eq!(
            AllowedOrigins::from_list(Vec::<String>::new()),
            AllowedOrigins::SameOrigin
        );
        assert!(AllowedOrigins::Any.allows(Some("http://anything"), None));
    }
}
