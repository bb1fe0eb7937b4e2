//! What a response head says of its body and of the connection (RFC 9112
//! §6.3, for responses), and which error a refused head is.

use http::{Response, StatusCode};

use crate::chunked::ChunkedDecoder;
use crate::framing::{delimited, Delimited};
use crate::head::names_other_version;
use crate::request::keep_alive;
use crate::{HeadError, ResponseError};

/// How the body of the response being read is delimited.
#[derive(Debug)]
pub(super) enum Body {
    /// This many bytes remain (none for a response without a body).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked(ChunkedDecoder),
    /// No framing field: the body ends with the connection.
    CloseDelimited,
}

/// The body of a final response `res` to a request (`HEAD` or not), and
/// whether the connection ends with it.
///
/// The framing fields are checked on every final response, even one
/// without a body (an answer to `HEAD`, 204, 304), where they say nothing
/// of what follows. The connection ends after an HTTP/1.1 response with
/// `Connection: close`, an HTTP/1.0 one without `Connection: keep-alive`
/// (or with `Transfer-Encoding`, RFC 9112 §6.1), and a close-delimited
/// body.
pub(super) fn body_of(res: &Response<()>, head: bool) -> Result<(Body, bool), ResponseError> {
    let delimited = delimited(res.headers())?;
    let status = res.status();
    let body = if head || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        Body::Length(0)
    } else {
        match delimited {
            Delimited::Length(n) => Body::Length(n),
            Delimited::Chunked => Body::Chunked(ChunkedDecoder::new()),
            Delimited::Unframed => Body::CloseDelimited,
        }
    };
    let ends = !keep_alive(res.version(), res.headers()) || matches!(body, Body::CloseDelimited);
    Ok((body, ends))
}

/// The error for a head refused by the reader: a well-formed version
/// other than HTTP/1.x (which `httparse` calls malformed) is
/// [`ResponseError::Version`].
pub(super) fn head_error(e: HeadError, buf: &[u8]) -> ResponseError {
    if e == HeadError::Malformed && names_other_version(buf) {
        ResponseError::Version
    } else {
        ResponseError::Head(e)
    }
}
