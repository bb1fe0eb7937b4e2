//! A peer's violations ([`RequestError`], [`HeadError`]) and local misuse
//! of the encoder ([`EncodeError`]).

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

/// A response the encoder refused to write; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// `Content-Length` or `Transfer-Encoding` is among the response's
    /// headers: the framing is the encoder's (see
    /// [`encode_response`](crate::encode_response)).
    #[error("header {0} is set by the framing")]
    FramingHeader(http::HeaderName),
}
