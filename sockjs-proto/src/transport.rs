//! The transports, and how each one writes frames on the wire.

use crate::frame::{encode_html_js_string, encode_js_string};
use crate::http::{APPLICATION_JAVASCRIPT, TEXT_HTML};

/// A SockJS transport, by its URL name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `websocket`: SockJS frames as WebSocket text messages.
    WebSocket,
    /// `xhr`: long polling.
    Xhr,
    /// `xhr_send`: the client's messages for the polling and streaming
    /// transports.
    XhrSend,
    /// `xhr_streaming`.
    XhrStreaming,
    /// `eventsource`.
    EventSource,
    /// `htmlfile`.
    HtmlFile,
    /// `jsonp`: long polling through script tags.
    Jsonp,
    /// `jsonp_send`: the client's messages for `jsonp`.
    JsonpSend,
    /// `/websocket` at the endpoint's root: plain WebSocket messages, no
    /// SockJS framing and no heartbeats.
    RawWebSocket,
}

/// How a receiving transport delivers frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// One frame per response.
    Polling,
    /// Frames keep coming on one response until `streamBytesLimit`.
    Streaming,
}

impl Transport {
    /// The transport named `name` in a session URL.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "websocket" => Self::WebSocket,
            "xhr" => Self::Xhr,
            "xhr_send" => Self::XhrSend,
            "xhr_streaming" => Self::XhrStreaming,
            "eventsource" => Self::EventSource,
            "htmlfile" => Self::HtmlFile,
            "jsonp" => Self::Jsonp,
            "jsonp_send" => Self::JsonpSend,
            _ => return None,
        })
    }

    /// The URL name (`websocket` for both WebSocket transports).
    pub fn name(self) -> &'static str {
        match self {
            Self::WebSocket | Self::RawWebSocket => "websocket",
            Self::Xhr => "xhr",
            Self::XhrSend => "xhr_send",
            Self::XhrStreaming => "xhr_streaming",
            Self::EventSource => "eventsource",
            Self::HtmlFile => "htmlfile",
            Self::Jsonp => "jsonp",
            Self::JsonpSend => "jsonp_send",
        }
    }

    /// Whether requests on this transport receive frames (and so may open a
    /// session), as opposed to sending messages.
    pub fn is_receiving(self) -> bool {
        !matches!(self, Self::XhrSend | Self::JsonpSend)
    }

    /// The HTTP delivery of a receiving HTTP transport.
    pub(crate) fn delivery(self) -> Option<Delivery> {
        match self {
            Self::Xhr | Self::Jsonp => Some(Delivery::Polling),
            Self::XhrStreaming | Self::EventSource | Self::HtmlFile => Some(Delivery::Streaming),
            _ => None,
        }
    }

    /// The method a request on this transport must use.
    pub(crate) fn method(self) -> &'static str {
        match self {
            Self::WebSocket
            | Self::RawWebSocket
            | Self::EventSource
            | Self::HtmlFile
            | Self::Jsonp => "GET",
            Self::Xhr | Self::XhrSend | Self::XhrStreaming | Self::JsonpSend => "POST",
        }
    }

    /// Whether the transport answers CORS preflights (the `xhr` family:
    /// browsers send POSTs with a body cross-origin).
    pub(crate) fn answers_preflight(self) -> bool {
        matches!(self, Self::Xhr | Self::XhrSend | Self::XhrStreaming)
    }

    /// Whether the transport's responses carry CORS headers: those a
    /// browser fetches with CORS from another origin, the `xhr` family and
    /// `EventSource` (whose GET needs no preflight, but whose response is
    /// unreadable cross-origin without `Access-Control-Allow-Origin`).
    pub(crate) fn uses_cors(self) -> bool {
        self.answers_preflight() || self == Self::EventSource
    }

    /// Whether the transport takes a `c` callback parameter.
    pub(crate) fn needs_callback(self) -> bool {
        matches!(self, Self::HtmlFile | Self::Jsonp)
    }

    /// The `Content-Type` of a receiving transport's response.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::EventSource => "text/event-stream",
            Self::HtmlFile => TEXT_HTML,
            _ => APPLICATION_JAVASCRIPT,
        }
    }

    /// What a streaming response starts with (not counted in
    /// `streamBytesLimit`).
    pub(crate) fn prelude(self, callback: &str) -> String {
        match self {
            Self::XhrStreaming => {
                let mut p = "h".repeat(2048);
                p.push('\n');
                p
            }
            Self::EventSource => "\r\n".to_owned(),
            Self::HtmlFile => htmlfile_prelude(callback),
            _ => String::new(),
        }
    }

    /// Appends `frame` as this transport writes it.
    pub(crate) fn wrap_frame(self, frame: &str, callback: &str, out: &mut String) {
        match self {
            Self::Xhr | Self::XhrStreaming => {
                out.push_str(frame);
                out.push('\n');
            }
            Self::EventSource => {
                // sockjs-client passes each event's data through
                // `decodeURI`: `%` must come through as `%25` (and line
                // breaks and NUL, which would end the event, as `%0D`,
                // `%0A`, `%00`; JSON already escapes them in frames).
                out.push_str("data: ");
                for c in frame.chars() {
                    match c {
                        '%' => out.push_str("%25"),
                        '\r' => out.push_str("%0D"),
                        '\n' => out.push_str("%0A"),
                        '\0' => out.push_str("%00"),
                        c => out.push(c),
                    }
                }
                out.push_str("\r\n\r\n");
            }
            Self::HtmlFile => {
                // Inside an HTML `<script>` element: a message holding
                // `</script>` must not end it (`encode_html_js_string`).
                out.push_str("<script>\np(");
                encode_html_js_string(frame, out);
                out.push_str(");\n</script>\r\n");
            }
            Self::Jsonp => {
                out.push_str("/**/");
                out.push_str(callback);
                out.push('(');
                encode_js_string(frame, out);
                out.push_str(");\r\n");
            }
            Self::WebSocket | Self::RawWebSocket | Self::XhrSend | Self::JsonpSend => {
                out.push_str(frame);
            }
        }
    }
}

/// The htmlfile page head, padded past 1024 bytes so that browsers start
/// rendering (and so running the scripts) at once.
fn htmlfile_prelude(callback: &str) -> String {
    let mut page = format!(
        "<!doctype html>\n<html><head>\n  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n</head><body><h2>Don't panic!</h2>\n  <script>\n    document.domain = document.domain;\n    var c = parent.{callback};\n    c.start();\n    function p(d) {{c.message(d);}};\n    window.onload = function() {{c.stop();}};\n  </script>"
    );
    let pad = 1025usize.saturating_sub(page.len());
    page.push_str(&" ".repeat(pad));
    page.push_str("\r\n\r\n");
    page
}

/// Whether a JSONP/htmlfile callback name is safe: `[a-zA-Z0-9-_.]+`.
pub(crate) fn valid_callback(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transport_has_its_url_name() {
        for (transport, name) in [
            (Transport::WebSocket, "websocket"),
            (Transport::Xhr, "xhr"),
            (Transport::XhrSend, "xhr_send"),
            (Transport::XhrStreaming, "xhr_streaming"),
            (Transport::EventSource, "eventsource"),
            (Transport::HtmlFile, "htmlfile"),
            (Transport::Jsonp, "jsonp"),
            (Transport::JsonpSend, "jsonp_send"),
            (Transport::RawWebSocket, "websocket"),
        ] {
            assert_eq!(transport.name(), name, "{transport:?}");
            if transport != Transport::RawWebSocket {
                assert_eq!(Transport::from_name(name), Some(transport));
            }
        }
    }

    #[test]
    fn htmlfile_prelude_is_padded_past_1024_bytes() {
        let p = Transport::HtmlFile.prelude("callback");
        assert!(p.len() > 1024, "{}", p.len());
        assert!(p.contains("var c = parent.callback;"));
        assert!(p.trim_end().ends_with("</script>"));
    }

    #[test]
    fn frames_as_each_transport_writes_them() {
        let cases = [
            (Transport::Xhr, "o\n"),
            (Transport::XhrStreaming, "o\n"),
            (Transport::EventSource, "data: o\r\n\r\n"),
            (Transport::HtmlFile, "<script>\np(\"o\");\n</script>\r\n"),
            (Transport::Jsonp, "/**/cb(\"o\");\r\n"),
        ];
        for (t, expected) in cases {
            let mut out = String::new();
            t.wrap_frame("o", "cb", &mut out);
            assert_eq!(out, expected, "{t:?}");
        }
        let mut out = String::new();
        Transport::EventSource.wrap_frame("a[\"100%\",\"%41\"]", "", &mut out);
        assert_eq!(out, "data: a[\"100%25\",\"%2541\"]\r\n\r\n");
        let mut out = String::new();
        Transport::Jsonp.wrap_frame("a[\"x\"]", "x", &mut out);
        assert_eq!(out, "/**/x(\"a[\\\"x\\\"]\");\r\n");
    }

    #[test]
    fn callbacks() {
        for ok in ["callback", "a.b_c-1", "jQuery123"] {
            assert!(valid_callback(ok), "{ok}");
        }
        for bad in ["", "a b", "a(", "<x>", "a;b", "é"] {
            assert!(!valid_callback(bad), "{bad}");
        }
    }
}
