//! Limits on what a peer may make a connection buffer.

/// Limits on what a peer sends, with documented defaults: on requests
/// ([`ServerConn`](crate::ServerConn)) all of them, on responses
/// ([`ClientConn`](crate::ClientConn)) all but `max_body_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The longest head, request or status line and headers with the blank
    /// line (each interim response's too); also the most bytes of chunked
    /// trailers: 16 KiB by default.
    pub max_head_size: usize,
    /// The most header fields: 64 by default.
    pub max_headers: usize,
    /// The largest request body, decoded (the SockJS `xhr_send` payload):
    /// 1 MiB by default. Response bodies have no limit: a client is handed
    /// their data as it comes, and bounds what it keeps.
    pub max_body_size: u64,
    /// The longest chunk-size line, extensions and CRLF included: 1 KiB by
    /// default.
    pub max_chunk_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head_size: 16 * 1024,
            max_headers: 64,
            max_body_size: 1024 * 1024,
            max_chunk_line: 1024,
        }
    }
}

impl Limits {
    /// Sets [`max_head_size`](Self::max_head_size).
    #[must_use]
    pub fn max_head_size(mut self, bytes: usize) -> Self {
        self.max_head_size = bytes;
        self
    }

    /// Sets [`max_headers`](Self::max_headers).
    #[must_use]
    pub fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }

    /// Sets [`max_body_size`](Self::max_body_size).
    #[must_use]
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Sets [`max_chunk_line`](Self::max_chunk_line).
    #[must_use]
    pub fn max_chunk_line(mut self, bytes: usize) -> Self {
        self.max_chunk_line = bytes;
        self
    }
}
