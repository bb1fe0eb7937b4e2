//! The response body of the mounted endpoints.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use adapter_core::server::ResponseStream;
use adapter_core::Runtime as _;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::Tokio;

/// The body of a response of [`Endpoints`](super::Endpoints): whole, or a
/// SockJS stream (xhr-streaming, eventsource, htmlfile) that gives the
/// session's frames as the HTTP server asks for them. The server asks as
/// the client reads: a client that stops reading stops the stream, and
/// the frames wait in the session, within its send buffer limit.
#[derive(Debug)]
pub struct Body {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Full(Option<Bytes>),
    Stream(ResponseStream),
}

impl Body {
    /// A whole body.
    pub fn full(data: Bytes) -> Self {
        Self {
            kind: Kind::Full((!data.is_empty()).then_some(data)),
        }
    }

    /// No body.
    pub fn empty() -> Self {
        Self {
            kind: Kind::Full(None),
        }
    }

    pub(crate) fn stream(stream: ResponseStream) -> Self {
        Self {
            kind: Kind::Stream(stream),
        }
    }
}

impl Drop for Body {
    /// The response is over, or the client went away: a stream detaches
    /// from its session now, which times the session's disconnect delay.
    fn drop(&mut self) {
        if let Kind::Stream(stream) = &mut self.kind {
            stream.close(Tokio::now());
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().kind {
            Kind::Full(data) => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
            Kind::Stream(stream) => stream
                .poll_chunk(cx, Tokio::now())
                .map(|chunk| chunk.map(|data| Ok(Frame::data(data)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(data) => data.is_none(),
            Kind::Stream(stream) => stream.is_end(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::Stream(_) => SizeHint::default(),
        }
    }
}
