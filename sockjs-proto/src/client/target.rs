//! Where a client connects: the endpoint's URL taken apart, the session
//! URLs built from it, and the cookies it carries.

use http::header::SET_COOKIE;
use http::{HeaderMap, HeaderValue, Uri};

use super::config::{is_cookie_name, is_cookie_value};
use super::ClientConfigError;

/// The endpoint: `http[s]://host[:port]/prefix[?query]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) tls: bool,
    /// The host to connect to, without IPv6 brackets.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The `Host` header: the URL's authority without user information.
    pub(crate) authority: String,
    /// The path without a trailing `/` (empty for the root).
    pub(crate) prefix: String,
    /// `?query` or empty, appended to every request's target.
    pub(crate) query: String,
}

impl Target {
    pub(crate) fn parse(url: &Uri) -> Result<Self, ClientConfigError> {
        let bad = || ClientConfigError::Url(url.to_string());
        let tls = match url.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            _ => return Err(bad()),
        };
        let authority = url.authority().ok_or_else(bad)?;
        if authority.as_str().contains('@') {
            return Err(bad());
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(bad());
        }
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_owned();
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let prefix = url.path().trim_end_matches('/').to_owned();
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        Ok(Self {
            tls,
            host,
            port,
            authority: authority.as_str().to_owned(),
            prefix,
            query,
        })
    }

    /// The request target of `path` under the prefix, with the query.
    pub(crate) fn target(&self, path: &str) -> String {
        format!("{}{path}{}", self.prefix, self.query)
    }
}

/// The most cookies the jar keeps.
const MAX_COOKIES: usize = 32;
/// The longest cookie (name and value) the jar keeps.
const MAX_COOKIE: usize = 4096;

/// The cookies sent with every request: the configured ones, then those the
/// server set (name and value only; a later `Set-Cookie` of the same name
/// replaces the value, `Max-Age=0` removes it). At most 32 cookies of at
/// most 4096 bytes each; others are ignored.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cookies {
    jar: Vec<(String, String)>,
}

impl Cookies {
    pub(crate) fn new(configured: &[(String, String)]) -> Self {
        let mut cookies = Self::default();
        for (name, value) in configured {
            cookies.set(name, value);
        }
        cookies
    }

    fn set(&mut self, name: &str, value: &str) {
        if let Some(slot) = self.jar.iter_mut().find(|(n, _)| n == name) {
            value.clone_into(&mut slot.1);
        } else if self.jar.len() < MAX_COOKIES && name.len() + value.len() <= MAX_COOKIE {
            self.jar.push((name.to_owned(), value.to_owned()));
        }
    }

    /// Takes the `Set-Cookie` headers of a response.
    pub(crate) fn update(&mut self, headers: &HeaderMap) {
        for header in headers.get_all(SET_COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            let mut parts = text.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if !is_cookie_name(name) || !is_cookie_value(value) {
                continue;
            }
            let expired = parts.any(|attr| {
                attr.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("max-age")
                        && v.trim().parse::<i64>().is_ok_and(|age| age <= 0)
                })
            });
            if expired {
                self.jar.retain(|(n, _)| n != name);
            } else {
                self.set(name, value);
            }
        }
    }

    /// The `Cookie` header, if there is a cookie.
    pub(crate) fn header(&self) -> Option<HeaderValue> {
        if self.jar.is_empty() {
            return None;
        }
        let text = self
            .jar
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        // Names and values were checked to be visible ASCII.
        HeaderValue::from_str(&text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Result<Target, ClientConfigError> {
        Target::parse(&url.parse().unwrap())
    }

    #[test]
    fn urls() {
        let t = target("http://127.0.0.1:8081/echo/").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (false, "127.0.0.1", 8081));
        assert_eq!(t.authority, "127.0.0.1:8081");
        assert_eq!(t.target("/info"), "/echo/info");
        let t = target("https://[::1]/a/b?x=1").unwrap();
        assert_eq!((t.tls, t.host.as_str(), t.port), (true, "::1", 443));
        assert_eq!(t.target("/info"), "/a/b/info?x=1");
        assert_eq!(target("http://h").unwrap().target("/info"), "/info");
        for bad in ["ws://h/echo", "/echo", "http://u@h/echo", "ftp://h/"] {
            assert!(target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_jar_keeps_and_sends_cookies() {
        let mut cookies = Cookies::new(&[("a".into(), "1".into())]);
        let mut headers = HeaderMap::new();
        for v in [
            "JSESSIONID=dummy; path=/",
            "a=2",
            "bad name=1",
            "b=\"q\"; Secure",
            "noequals",
        ] {
            headers.append(SET_COOKIE, HeaderValue::from_static(v));
        }
        cookies.update(&headers);
        assert_eq!(cookies.header().unwrap(), "a=2; JSESSIONID=dummy; b=q");
        let mut expire = HeaderMap::new();
        expire.append(SET_COOKIE, HeaderValue::from_static("a=; Max-Age=0"));
        cookies.update(&expire);
        assert_eq!(cookies.header().unwrap(), "JSESSIONID=dummy; b=q");
        assert!(Cookies::default().header().is_none());
    }

    #[test]
    fn the_jar_is_bounded() {
        let mut cookies = Cookies::default();
        let mut headers = HeaderMap::new();
        for i in 0..100 {
            headers.append(
                SET_COOKIE,
                HeaderValue::from_str(&format!("c{i}=v")).unwrap(),
            );
        }
        headers.append(
            SET_COOKIE,
            HeaderValue::from_str(&format!("big={}", "x".repeat(5000))).unwrap(),
        );
        cookies.update(&headers);
        assert_eq!(cookies.jar.len(), MAX_COOKIES);
    }
}
