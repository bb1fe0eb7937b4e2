//! What a mounted exchange hands out to be carried on: a streaming
//! response's body, and an accepted upgrade.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use sockjs_proto::ReceiverId;

use crate::conn::websocket::Opening;
use crate::conn::Connection;
use crate::hub::Hub;
use crate::mailbox::Inbox;
use crate::server::{EndpointId, Server};

/// The body of a streaming SockJS response (xhr-streaming, eventsource,
/// htmlfile): the prelude, then the session's frames as they come, until
/// the transport ends. It holds no more than one poll's frames: while the
/// embedder does not ask (the client reads slowly), frames wait in the
/// session, within its send buffer limit.
///
/// Dropped (the response is over, or the client went away), it detaches
/// from its session, which then waits for the client's next request as
/// SockJS says.
pub struct ResponseStream {
    hub: Arc<Hub>,
    receiver: ReceiverId,
    prelude: Option<Bytes>,
    ended: bool,
    closed: bool,
    /// The latest time given.
    now: Instant,
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl ResponseStream {
    pub(crate) fn new(hub: Arc<Hub>, receiver: ReceiverId, prelude: Bytes, now: Instant) -> Self {
        Self {
            hub,
            receiver,
            prelude: (!prelude.is_empty()).then_some(prelude),
            ended: false,
            closed: false,
            now,
        }
    }

    /// The next piece of the body: every frame the session has now, in
    /// one piece; `None` once the transport ended. `cx` is woken when the
    /// session has more.
    pub fn poll_chunk(&mut self, cx: &mut Context<'_>, now: Instant) -> Poll<Option<Bytes>> {
        self.now = self.now.max(now);
        if let Some(prelude) = self.prelude.take() {
            return Poll::Ready(Some(prelude));
        }
        if self.ended {
            self.close(self.now);
            return Poll::Ready(None);
        }
        let mut chunk = BytesMut::new();
        let Some(ended) = self
            .hub
            .poll_frames(self.receiver, self.now, cx.waker(), &mut chunk)
        else {
            return Poll::Pending;
        };
        self.ended = ended;
        Poll::Ready(Some(chunk.freeze()))
    }

    /// Whether the body is over.
    pub fn is_end(&self) -> bool {
        self.ended && self.prelude.is_none()
    }

    /// The body is done with at `now` (the response is over, or the client
    /// went away): the stream detaches from its session, whose disconnect
    /// delay counts from then. Call it when dropping the body; a stream
    /// dropped without it detaches at the last time it was given.
    pub fn close(&mut self, now: Instant) {
        if !std::mem::replace(&mut self.closed, true) {
            self.now = self.now.max(now);
            self.hub.receiver_closed(self.receiver, self.now);
        }
    }
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        self.close(self.now);
    }
}

enum Kind {
    WebSocket {
        endpoint: EndpointId,
        opening: Box<Opening>,
    },
    SockJs {
        hub: Arc<Hub>,
        receiver: ReceiverId,
        inbox: Option<Arc<Inbox>>,
        now: Instant,
    },
}

/// An accepted upgrade, to be served on the upgraded stream with
/// [`Server::upgraded`]. Dropped instead (the embedder's server could not
/// upgrade), it lets go of the session it would have carried.
pub struct Upgrade {
    kind: Option<Box<Kind>>,
    remote: SocketAddr,
}

impl std::fmt::Debug for Upgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgrade")
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

impl Upgrade {
    pub(crate) fn websocket(endpoint: EndpointId, opening: Opening, remote: SocketAddr) -> Self {
        Self {
            kind: Some(Box::new(Kind::WebSocket {
                endpoint,
                opening: Box::new(opening),
            })),
            remote,
        }
    }

    pub(crate) fn sockjs(
        hub: Arc<Hub>,
        receiver: ReceiverId,
        inbox: Option<Arc<Inbox>>,
        remote: SocketAddr,
        now: Instant,
    ) -> Self {
        Self {
            kind: Some(Box::new(Kind::SockJs {
                hub,
                receiver,
                inbox,
                now,
            })),
            remote,
        }
    }

    /// The client's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote
    }
}

impl Drop for Upgrade {
    fn drop(&mut self) {
        if let Some(Kind::SockJs {
            hub, receiver, now, ..
        }) = self.kind.take().map(|kind| *kind)
        {
            hub.receiver_closed(receiver, now);
        }
    }
}

impl Server {
    /// The connection that serves an accepted [`Upgrade`] on the stream
    /// the embedder's HTTP server handed over (the `101` written, the
    /// client's following bytes to be read from that stream). It starts
    /// in its WebSocket session, and is driven like any other
    /// [`Connection`]; a plain WebSocket endpoint's session comes out of
    /// its [`poll_output`](Connection::poll_output).
    pub fn upgraded(
        self: &Arc<Self>,
        mut upgrade: Upgrade,
        now: Instant,
        waker: Waker,
    ) -> Connection {
        let mut conn = self.connection(upgrade.remote, now, waker);
        conn.http = http_proto::ServerConn::default();
        match upgrade.kind.take().map(|kind| *kind) {
            Some(Kind::WebSocket { endpoint, opening }) => {
                crate::conn::websocket::start_session(&mut conn, endpoint, *opening, &[], now);
            }
            Some(Kind::SockJs {
                hub,
                receiver,
                inbox,
                ..
            }) => conn.start_sockjs_websocket(hub, receiver, inbox),
            None => conn.close(),
        }
        conn
    }
}
