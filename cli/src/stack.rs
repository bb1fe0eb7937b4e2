//! The ready server's endpoints mounted in an HTTP stack of the
//! application's kind instead of on sockway's own listener: in an axum
//! `Router` (each endpoint with `nest_service` or `route_service`), or as
//! one `tower` service on plain hyper. Both speak HTTP/1.1 and HTTP/2
//! (h2c, prior knowledge) on the same port.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use adapter_core::server::ServerHandle;
use adapter_tokio::service::Endpoints;
use adapter_tokio::Tokio;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::{base, endpoints, mounts, Mount, ServeOptions};

fn build_error(e: adapter_core::server::BuildError) -> io::Error {
    io::Error::from(e)
}

/// The ready server as an axum `Router`, and the handles that shut its
/// endpoints down.
pub fn router(options: &ServeOptions) -> io::Result<(Router, Vec<ServerHandle>)> {
    let mut router = Router::new();
    let mut handles = Vec::new();
    for mount in mounts(options) {
        router = match mount {
            Mount::SockJs(prefix, endpoint) => {
                let service = Endpoints::new(base::<Tokio>(options).sockjs("/", endpoint))
                    .map_err(build_error)?;
                handles.push(service.handle());
                router.nest_service(prefix, service)
            }
            Mount::WebSocket(path, endpoint) => {
                let service = Endpoints::new(base::<Tokio>(options).websocket("", endpoint))
                    .map_err(build_error)?;
                handles.push(service.handle());
                router.route_service(path, service)
            }
            Mount::Page(path, content_type, body) => router.route(
                path,
                get(move || {
                    let body = body.clone();
                    async move { ([(CONTENT_TYPE, content_type)], body) }
                }),
            ),
        };
    }
    Ok((router, handles))
}

/// Serves the ready server in an axum `Router` on `listener` until `stop`
/// completes; then shuts the endpoints down gracefully.
pub async fn serve_axum(
    listener: TcpListener,
    options: &ServeOptions,
    stop: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (router, handles) = router(options)?;
    let shutdown = handles.clone();
    // Nagle's algorithm off: streaming responses are written in small
    // pieces, which it would hold back for the client's delayed ACK.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        stop.await;
        for handle in &shutdown {
            handle.shutdown();
        }
    })
    .await?;
    drain(&handles).await;
    Ok(())
}

/// Serves the ready server as one `tower` service on plain hyper (HTTP/1.1
/// and h2c) until `stop` completes; then shuts it down gracefully.
pub async fn serve_hyper(
    listener: TcpListener,
    options: &ServeOptions,
    stop: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let service = Endpoints::new(endpoints::<Tokio>(options)).map_err(build_error)?;
    let handle = service.handle();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(target: "sockway::command::serve", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = tcp.set_nodelay(true);
        let service = service.clone();
        // The peer's address goes to the endpoints in the extensions.
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(remote);
                tower_service::Service::call(&mut service.clone(), req)
            });
        let builder = auto::Builder::new(TokioExecutor::new());
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(target: "sockway::command::serve", error = %e, "connection failed");
            }
        });
    }
    drop(listener);
    handle.shutdown();
    let limit = Duration::from_secs(10);
    if tokio::time::timeout(limit, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "sockway::command::serve", "connections still open at the end of the shutdown timeout");
    }
    drain(&[handle]).await;
    Ok(())
}

/// Waits (10 s at most) until the upgraded connections, which the HTTP
/// server no longer tracks, have closed their sessions.
async fn drain(handles: &[ServerHandle]) {
    let drained = async {
        while handles.iter().any(|h| h.connections() > 0) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(10), drained)
        .await
        .is_err()
    {
        tracing::warn!(target: "sockway::command::serve", "upgraded connections still open at the end of the shutdown timeout");
    }
}
