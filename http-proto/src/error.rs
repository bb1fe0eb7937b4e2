//! A peer's violations ([`RequestError`] from a client, [`ResponseError`]
//! and [`HeadError`] from a server) and local misuse of the encoders
//! ([`EncodeError`]).

/// Why a request was refused, and what to answer before closing.
///
/// [`status`](Self::status) is the HTTP status and
/// [`response`](Self::response) the whole answer, with `Connection: close`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The head is not valid HTTP/1.x.
    #[error("malformed HTTP request head")]
    Malformed,
    /// The request target is not a URI the `http` crate takes: `<` or `>`
    /// anywhere, a backquote in the path, `"` in the query (bytes that
    /// `httparse` lets through).
    #[error("invalid request target")]
    Target,
    /// The head is larger than [`Limits::max_head_size`](crate::Limits).
    #[error("request head larger than {0} bytes")]
    HeadTooLarge(usize),
    /// The head has more than [`Limits::max_headers`](crate::Limits) fields.
    #[error("too many header fields")]
    TooManyHeaders,
    /// The trailers of a chunked body are larger than
    /// [`Limits::max_head_size`](crate::Limits).
    #[error("chunked trailers larger than {0} bytes")]
    TrailersTooLarge(usize),
    /// The version is neither HTTP/1.0 nor HTTP/1.1.
    #[error("HTTP version not supported")]
    Version,
    /// An HTTP/1.1 request without exactly one `Host`, or an HTTP/1.0
    /// request with several.
    #[error("exactly one Host header is required")]
    Host,
    /// `Content-Length` is not a number, or its values differ.
    #[error("invalid Content-Length")]
    ContentLength,
    /// Both `Content-Length` and `Transfer-Encoding`.
    #[error("both Content-Length and Transfer-Encoding")]
    ConflictingFraming,
    /// `Transfer-Encoding` lists `chunked` other than once, last.
    #[error("chunked must be the final transfer coding")]
    ChunkedNotLast,
    /// `Transfer-Encoding` lists a coding other than `chunked`.
    #[error("transfer coding not implemented")]
    UnsupportedTransferCoding,
    /// The body is larger than [`Limits::max_body_size`](crate::Limits).
    #[error("request body larger than {0} bytes")]
    BodyTooLarge(u64),
    /// A chunk-size line or a chunk's CRLF is malformed.
    #[error("malformed chunked body")]
    BadChunk,
    /// A chunk-size line is longer than
    /// [`Limits::max_chunk_line`](crate::Limits).
    #[error("chunk-size line longer than {0} bytes")]
    ChunkLineTooLong(usize),
}

impl RequestError {
    /// The HTTP status to answer with: 400 for a malformed request, 413 for
    /// a body over the limit, 431 for a head or trailers over the limits,
    /// 501 for an unknown transfer coding, 505 for a version other than 1.x.
    pub fn status(&self) -> u16 {
        match self {
            Self::HeadTooLarge(_) | Self::TooManyHeaders | Self::TrailersTooLarge(_) => 431,
            Self::BodyTooLarge(_) => 413,
            Self::UnsupportedTransferCoding => 501,
            Self::Version => 505,
            _ => 400,
        }
    }

    /// The complete HTTP response to write before closing the connection.
    pub fn response(&self) -> Vec<u8> {
        let status = self.status();
        let reason = match status {
            413 => "Content Too Large",
            431 => "Request Header Fields Too Large",
            501 => "Not Implemented",
            505 => "HTTP Version Not Supported",
            _ => "Bad Request",
        };
        let body = self.to_string();
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

/// Why a response head was refused (by a client reading one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// The head is not a valid HTTP/1.x response head.
    #[error("malformed HTTP response head")]
    Malformed,
    /// The head is larger than [`Limits::max_head_size`](crate::Limits).
    #[error("response head larger than {0} bytes")]
    TooLarge(usize),
    /// The head has more than [`Limits::max_headers`](crate::Limits) fields.
    #[error("too many header fields")]
    TooManyHeaders,
}

/// Why a response was refused (by a [`ClientConn`](crate::ClientConn)
/// reading it). Nothing is written because of it: the connection is
/// closed, and the requests still
/// [`outstanding`](crate::ClientConn::outstanding) have no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The head is malformed, larger than
    /// [`Limits::max_head_size`](crate::Limits), or has more than
    /// [`Limits::max_headers`](crate::Limits) fields.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// The status line names a version other than HTTP/1.0 or HTTP/1.1.
    #[error("HTTP version not supported")]
    Version,
    /// `Content-Length` is not a number, or its values differ.
    #[error("invalid Content-Length")]
    ContentLength,
    /// Both `Content-Length` and `Transfer-Encoding`: refused, stricter
    /// than RFC 9112's "Transfer-Encoding wins" (a response smuggling
    /// vector).
    #[error("both Content-Length and Transfer-Encoding")]
    ConflictingFraming,
    /// `Transfer-Encoding` lists `chunked` other than once, last.
    #[error("chunked must be the final transfer coding")]
    ChunkedNotLast,
    /// `Transfer-Encoding` lists a coding other than `chunked`.
    #[error("transfer coding not implemented")]
    UnsupportedTransferCoding,
    /// A chunk-size line, a chunk's CRLF or a trailer line is malformed,
    /// or a chunk size does not fit in 64 bits.
    #[error("malformed chunked body")]
    BadChunk,
    /// A chunk-size line is longer than
    /// [`Limits::max_chunk_line`](crate::Limits).
    #[error("chunk-size line longer than {0} bytes")]
    ChunkLineTooLong(usize),
    /// The trailers of a chunked body are larger than
    /// [`Limits::max_head_size`](crate::Limits).
    #[error("chunked trailers larger than {0} bytes")]
    TrailersTooLarge(usize),
    /// The connection ended with a response owed or incomplete: inside a
    /// head, before a `Content-Length` or chunked body ended, or before a
    /// response to a request sent began.
    #[error("connection closed before the response ended")]
    Truncated,
    /// Response bytes with no request outstanding.
    #[error("response bytes with no request outstanding")]
    Unsolicited,
}

/// A message the encoder refused to write; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// `Content-Length` or `Transfer-Encoding` is among the message's
    /// headers: the framing is the encoder's (see
    /// [`encode_response`](crate::encode_response),
    /// [`encode_request`](crate::encode_request)).
    #[error("header {0} is set by the framing")]
    FramingHeader(http::HeaderName),
    /// A request with neither an authority in its URI nor a `Host` header.
    #[error("request without a Host: no authority in the URI, no Host header")]
    NoHost,
    /// A request on a connection that carries no more: after a request or
    /// a response that closed it, an upgrade, an error or the peer's end
    /// of file ([`ClientConn::keep_alive`](crate::ClientConn::keep_alive)
    /// is false).
    #[error("the connection carries no more requests")]
    ConnectionClosed,
    /// A request behind an upgrade request whose response has not ended:
    /// if the server switches protocols, it would read these bytes as the
    /// new protocol's.
    #[error("a request behind a pending upgrade")]
    UpgradePending,
}
