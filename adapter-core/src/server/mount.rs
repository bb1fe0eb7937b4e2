//! Endpoints served by an HTTP server of the application's (hyper, axum,
//! any `tower` stack) instead of a listener of their own: the same
//! builder, handlers, interceptors and options; requests come parsed, and
//! upgraded streams come from that server.

use std::future::{poll_fn, Future as _};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::task::Poll;
use std::time::Instant;

use bytes::Bytes;
use http::Request;
use server_proto::{HttpExchange, Reply, Upgrade};
use tracing::Instrument as _;

use super::conn::{conn_span, handle_output, serve_upgraded};
use super::{run_timer, BuildError, ServerBuilder, ServerHandle, Shared};
use crate::runtime::{Executor, Io};

/// A server's endpoints, served by the application's HTTP server: it hands
/// each request over ([`handle`](Self::handle)) and writes the
/// [`Reply`]; an upgrade's stream comes back to
/// [`serve_upgraded`](Self::serve_upgraded). Cheap to clone: every clone
/// serves the same endpoints and sessions.
///
/// The server's timer (SockJS heartbeats, session expiry) runs as a task
/// spawned on the first request. Dropping the last clone shuts the
/// endpoints down as [`ServerHandle::shutdown`] does.
pub struct Mounted<R: Executor> {
    inner: Arc<Inner>,
    runtime: std::marker::PhantomData<fn() -> R>,
}

struct Inner {
    shared: Arc<Shared>,
    timer: Once,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.server.shutdown((self.shared.now)());
        self.shared.stop.stop();
    }
}

impl<R: Executor> Clone for Mounted<R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            runtime: std::marker::PhantomData,
        }
    }
}

impl<R: Executor> std::fmt::Debug for Mounted<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mounted")
            .field("server", &self.inner.shared.server)
            .finish_non_exhaustive()
    }
}

impl<R: Executor> ServerBuilder<R> {
    /// Builds the endpoints to be served by an HTTP server of the
    /// application's rather than a listener of their own. Paths are
    /// matched as that server hands them over: behind a router that strips
    /// the mount point (axum's `nest_service`), mount the SockJS endpoint
    /// at `/`; a WebSocket endpoint mounted at `""` takes every path.
    pub fn mounted(self) -> Result<Mounted<R>, BuildError> {
        Ok(Mounted {
            inner: Arc::new(Inner {
                shared: self.shared()?,
                timer: Once::new(),
            }),
            runtime: std::marker::PhantomData,
        })
    }
}

impl<R: Executor> Mounted<R> {
    /// A handle to shut the endpoints down gracefully: every session is
    /// closed (`c[1001,"Server shutting down"]` on SockJS, close 1001 on
    /// WebSocket).
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shared: Arc::clone(&self.inner.shared),
        }
    }

    /// The server's options (its request limits, for reading bodies).
    pub fn options(&self) -> &server_proto::ServerOptions {
        self.inner.shared.server.options()
    }

    /// Answers one request, its body read whole, from the client at
    /// `remote`: the interceptors run on a request that opens a session,
    /// the session's handler is spawned, and the reply comes once the
    /// endpoint has one (a long poll waits for its frame).
    pub async fn handle_request(&self, req: Request<Bytes>, remote: SocketAddr) -> Reply {
        self.handle_in_span(req, remote)
            .instrument(conn_span(remote))
            .await
    }

    async fn handle_in_span(&self, req: Request<Bytes>, remote: SocketAddr) -> Reply {
        self.start_timer();
        let shared = &self.inner.shared;
        let mut exchange = Abandoned::<R> {
            exchange: shared.server.exchange(req, remote, R::now()),
            runtime: std::marker::PhantomData,
        };
        let exchange = &mut exchange.exchange;
        let mut sleep: Option<(Instant, Pin<Box<R::Sleep>>)> = None;
        poll_fn(|cx| loop {
            while let Some(output) = exchange.poll_output() {
                if let Some((incoming, decision)) = handle_output::<R>(shared, output) {
                    match decision {
                        Ok(attributes) => exchange.accept(incoming, attributes, R::now()),
                        Err(rejection) => exchange.refuse(incoming, &rejection),
                    }
                }
            }
            if let Poll::Ready(reply) = exchange.poll_reply(cx, R::now()) {
                // Outputs the reply came with (a session it opened).
                while let Some(output) = exchange.poll_output() {
                    let _ = handle_output::<R>(shared, output);
                }
                return Poll::Ready(reply);
            }
            let Some(at) = exchange.poll_timeout() else {
                return Poll::Pending;
            };
            match &sleep {
                Some((armed, _)) if *armed == at => {}
                _ => sleep = Some((at, Box::pin(R::sleep_until(at)))),
            }
            let (_, timer) = sleep.as_mut().expect("armed above");
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The deadline passed: poll the reply again.
            sleep = None;
        })
        .await
    }

    /// Serves an accepted [`Upgrade`] on the stream the HTTP server handed
    /// over after writing the `101`, until the session is over.
    pub async fn serve_upgraded<S: Io + Send>(&self, io: S, upgrade: Upgrade) {
        serve_upgraded::<R, S>(io, upgrade, Arc::clone(&self.inner.shared)).await;
    }

    fn start_timer(&self) {
        self.inner.timer.call_once(|| {
            R::spawn(run_timer::<R>(Arc::clone(&self.inner.shared)));
        });
    }
}

/// An exchange that, dropped before its reply (the HTTP server gave up on
/// the request: the client went away), lets go of what it holds now.
struct Abandoned<R: Executor> {
    exchange: HttpExchange,
    runtime: std::marker::PhantomData<fn() -> R>,
}

impl<R: Executor> Drop for Abandoned<R> {
    fn drop(&mut self) {
        self.exchange.abandon(R::now());
    }
}
