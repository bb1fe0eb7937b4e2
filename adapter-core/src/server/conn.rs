//! One TCP connection: HTTP/1.1 requests read through `http-proto`, routed
//! to an endpoint, answered; a WebSocket upgrade hands the connection over.

use std::future::{poll_fn, Future as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_proto::{encode_chunk, encode_last_chunk, is_upgrade, BodyKind, Framing, ServerConn};
use sockjs_proto::{Answer, ReceiverId, RequestContext, RequestSession};
use tracing::Instrument as _;
use ws_proto::handshake::UpgradeRequest;

use super::endpoint::{
    run_after, run_before, HandshakeOutcome, HandshakeRequest, PrincipalFn, Rejection,
};
use super::session::{
    Attributes, Inbox, Outlet, Session, SessionInfo, SessionSender, SessionTransport, WsOutbox,
};
use super::sockjs::{OpenContext, SockJsHub};
use super::{websocket, Shared};
use crate::runtime::{self, timeout, Executor, Io};
use crate::stream::{Settings, WebSocketStream};

/// The most bytes taken from the socket in one read.
const READ_CHUNK: usize = 16 * 1024;

/// What the connection does after a request.
enum Next {
    KeepAlive,
    Close,
}

/// Serves requests on `io` until the client or the server closes it.
pub(crate) async fn serve<R: Executor>(mut io: R::Tcp, remote: SocketAddr, shared: Arc<Shared>) {
    let _ = R::set_nodelay(&io);
    let mut http = ServerConn::new(shared.options.limits);
    loop {
        let req = match read_request::<R>(&mut io, &mut http, &shared).await {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(response) => {
                let limit = shared.options.request_timeout;
                let _ = timeout::<R, _>(limit, runtime::write_all(&mut io, &response)).await;
                let _ = runtime::shutdown(&mut io).await;
                return;
            }
        };
        let path = req.uri().path().to_owned();
        tracing::trace!(method = %req.method(), target = %req.uri(), "request");
        let upgrade = is_upgrade(&req);
        let next = if let Some(endpoint) = shared.websockets.get(&path) {
            if upgrade {
                return upgrade_websocket::<R>(io, http, req, remote, Arc::clone(endpoint), shared)
                    .await;
            }
            // The refusal says `Connection: close`: close.
            let response = ws_refusal(&req, &mut http);
            let _ = write_all::<R>(&mut io, &response, &shared).await;
            Next::Close
        } else if let Some(hub) = shared.sockjs_for(&path) {
            let hub = Arc::clone(hub);
            sockjs::<R>(&mut io, &mut http, req, remote, &hub, &shared).await
        } else {
            if upgrade {
                http.decline_upgrade();
            }
            let out = page(&req, shared.pages.get(&path), &mut http);
            match write_all::<R>(&mut io, &out, &shared).await {
                Next::KeepAlive if http.keep_alive() => Next::KeepAlive,
                _ => Next::Close,
            }
        };
        match next {
            Next::KeepAlive if !shared.stop.is_stopped() => {}
            _ => {
                let _ = runtime::shutdown(&mut io).await;
                return;
            }
        }
    }
}

/// The answer to a request for a plain page: 200 (no body for `HEAD`), 405
/// for another method, 404 for no page.
fn page(req: &Request<Bytes>, page: Option<&super::Page>, http: &mut ServerConn) -> BytesMut {
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    let (status, content_type, body) = match page {
        Some(page) if get => (
            StatusCode::OK,
            page.content_type.as_str(),
            page.body.clone(),
        ),
        Some(_) => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            Bytes::from_static(b"Method Not Allowed"),
        ),
        None => (
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"Not Found"),
        ),
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        res.headers_mut().insert(CONTENT_TYPE, value);
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        res.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    encode_whole(&res, http)
}

/// Encodes a whole response with its body (none where the framing says so:
/// 204, 304, an answer to `HEAD`); a response the encoder refuses becomes a
/// bare 500.
fn encode_whole(res: &Response<Bytes>, http: &mut ServerConn) -> BytesMut {
    let mut out = BytesMut::new();
    let length = BodyKind::Length(res.body().len() as u64);
    match http.encode_response(res, length, &mut out) {
        Ok(Framing::None) => {}
        Ok(_) => out.extend_from_slice(res.body()),
        Err(e) => {
            tracing::debug!(error = %e, "response refused by the encoder");
            out.clear();
            let mut bare = Response::new(());
            *bare.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            let _ = http.encode_response(&bare, BodyKind::None, &mut out);
        }
    }
    out
}

/// Reads the next request: `Ok(None)` when the client closed or stayed idle
/// past the keep-alive timeout (or the server is stopping), `Err` with the
/// response to write when the request is bad or too slow.
async fn read_request<R: Executor>(
    io: &mut R::Tcp,
    http: &mut ServerConn,
    shared: &Shared,
) -> Result<Option<Request<Bytes>>, Vec<u8>> {
    let options = &shared.options;
    let mut started = (http.buffered() > 0).then(R::now);
    loop {
        match http.poll_request() {
            Ok(Some(req)) => return Ok(Some(req)),
            Ok(None) => {}
            Err(e) => {
                tracing::debug!(error = %e, "bad request");
                return Err(e.response());
            }
        }
        if http.poll_continue()
            && runtime::write_all(io, http_proto::CONTINUE_100)
                .await
                .is_err()
        {
            return Ok(None);
        }
        let deadline = match started {
            Some(at) => at + options.request_timeout,
            None => R::now() + options.keep_alive_timeout,
        };
        let idle = started.is_none();
        let mut sleep = std::pin::pin!(R::sleep_until(deadline));
        let mut stop = std::pin::pin!(shared.stop.wait());
        let read = poll_fn(|cx| {
            if idle && stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Read::Gone);
            }
            if let Poll::Ready(read) = poll_receive(io, http, cx) {
                return Poll::Ready(read);
            }
            sleep.as_mut().poll(cx).map(|()| Read::TimedOut)
        })
        .await;
        match read {
            Read::Data => {
                started.get_or_insert_with(R::now);
            }
            Read::Gone => return Ok(None),
            Read::TimedOut if idle => return Ok(None),
            Read::TimedOut => {
                tracing::debug!("request not complete within the time limit");
                return Err(request_timeout(http));
            }
        }
    }
}

/// What a read gave.
enum Read {
    /// Bytes, handed to the request reader.
    Data,
    /// End of stream, an error, or the server stopping.
    Gone,
    /// The deadline passed.
    TimedOut,
}

/// Reads once into the request reader (as much as it takes; at least one
/// byte, so that a full buffer surfaces as its typed error).
fn poll_receive<S: Io>(io: &mut S, http: &mut ServerConn, cx: &mut Context<'_>) -> Poll<Read> {
    let cap = http.receive_capacity().clamp(1, READ_CHUNK);
    let mut buf = [0u8; READ_CHUNK];
    match io.poll_read(cx, &mut buf[..cap]) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Ok(0) | Err(_)) => Poll::Ready(Read::Gone),
        Poll::Ready(Ok(n)) => {
            http.receive(&buf[..n]);
            Poll::Ready(Read::Data)
        }
    }
}

/// 408, closing the connection.
fn request_timeout(http: &mut ServerConn) -> Vec<u8> {
    http.close();
    let mut res = Response::new(Bytes::from_static(b"Request Timeout"));
    *res.status_mut() = StatusCode::REQUEST_TIMEOUT;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    encode_whole(&res, http).to_vec()
}

/// Writes `data` within the send time limit of the server.
async fn write_all<R: Executor>(io: &mut R::Tcp, data: &[u8], shared: &Shared) -> Next {
    if write_within::<R>(io, data, shared.options.request_timeout).await {
        Next::KeepAlive
    } else {
        Next::Close
    }
}

/// Writes `data` within `limit`; `false` when the client did not take it.
async fn write_within<R: Executor>(io: &mut R::Tcp, data: &[u8], limit: Duration) -> bool {
    matches!(
        timeout::<R, _>(limit, runtime::write_all(io, data)).await,
        Ok(Ok(()))
    )
}

/// The request as interceptors see it: the client's address behind trusted
/// proxies, and the principal the endpoint's resolver finds.
fn handshake_request(
    req: &Request<Bytes>,
    remote: SocketAddr,
    shared: &Shared,
    principal: Option<&PrincipalFn>,
) -> HandshakeRequest {
    let client_ip =
        http_proto::client_ip(req.headers(), remote.ip(), &shared.options.trusted_proxies);
    let mut hreq = HandshakeRequest {
        method: req.method().clone(),
        uri: req.uri().clone(),
        headers: req.headers().clone(),
        remote_addr: remote,
        client_ip,
        principal: None,
    };
    hreq.principal = principal.and_then(|resolve| resolve(&hreq));
    hreq
}

/// An interceptor's refusal, as the answer to the request being read.
fn rejection_response(rejection: &Rejection, http: &mut ServerConn) -> BytesMut {
    encode_whole(&rejection.to_response(), http)
}

// ---- plain WebSocket ------------------------------------------------------------

/// The answer to a request on a WebSocket endpoint that is no upgrade.
fn ws_refusal(req: &Request<Bytes>, http: &mut ServerConn) -> Vec<u8> {
    if let Err(e) = UpgradeRequest::validate(req) {
        return e.response();
    }
    http.close();
    rejection_response(&Rejection::new(StatusCode::BAD_REQUEST), http).to_vec()
}

/// Refuses an upgrade with `rejection` (after the interceptors run) and
/// closes.
async fn refuse_upgrade<R: Executor>(
    io: &mut R::Tcp,
    http: &mut ServerConn,
    rejection: &Rejection,
    interceptors: &[Arc<dyn super::endpoint::HandshakeInterceptor>],
    hreq: &HandshakeRequest,
    shared: &Shared,
) {
    run_after(
        interceptors,
        hreq,
        HandshakeOutcome::Refused(rejection.status()),
    );
    http.close();
    let response = rejection_response(rejection, http);
    let _ = write_all::<R>(io, &response, shared).await;
}

async fn upgrade_websocket<R: Executor>(
    mut io: R::Tcp,
    mut http: ServerConn,
    req: Request<Bytes>,
    remote: SocketAddr,
    endpoint: Arc<super::WebSocketEndpoint>,
    shared: Arc<Shared>,
) {
    let upgrade = match UpgradeRequest::validate(&req) {
        Ok(upgrade) => upgrade,
        Err(e) => {
            tracing::debug!(error = %e, "upgrade refused");
            let _ = write_all::<R>(&mut io, &e.response(), &shared).await;
            return;
        }
    };
    let headers = req.headers();
    let origin = http_proto::headers::str_value(headers, ORIGIN);
    let host = http_proto::headers::str_value(headers, HOST);
    let interceptors = &endpoint.common.interceptors;
    let hreq = handshake_request(&req, remote, &shared, endpoint.common.principal.as_ref());
    if !endpoint.allowed_origins.allows(origin, host) {
        let rejection = Rejection::new(StatusCode::FORBIDDEN);
        refuse_upgrade::<R>(&mut io, &mut http, &rejection, interceptors, &hreq, &shared).await;
        return;
    }
    let attributes = match run_before(interceptors, &hreq) {
        Ok(attributes) => attributes,
        Err(rejection) => {
            refuse_upgrade::<R>(&mut io, &mut http, &rejection, interceptors, &hreq, &shared).await;
            return;
        }
    };
    let protocol = endpoint
        .protocols
        .iter()
        .find(|p| upgrade.protocols().contains(p))
        .cloned();
    let Ok(response) = upgrade.accept(protocol.as_deref(), HeaderMap::new()) else {
        let rejection = Rejection::new(StatusCode::INTERNAL_SERVER_ERROR);
        refuse_upgrade::<R>(&mut io, &mut http, &rejection, interceptors, &hreq, &shared).await;
        return;
    };
    let mut head = BytesMut::new();
    let _ = http.encode_response(&response, BodyKind::None, &mut head);
    if let Next::Close = write_all::<R>(&mut io, &head, &shared).await {
        run_after(
            interceptors,
            &hreq,
            HandshakeOutcome::Refused(StatusCode::SWITCHING_PROTOCOLS),
        );
        return;
    }
    let mut conn = ws_proto::Connection::server(endpoint.connection_config());
    conn.receive(&http.take_upgraded());
    let info = Arc::new(SessionInfo {
        id: shared.next_id(),
        sockjs_id: None,
        transport: SessionTransport::WebSocket,
        uri: req.uri().clone(),
        remote_addr: remote,
        client_ip: hreq.client_ip,
        principal: hreq.principal.clone(),
        headers: hreq.headers.clone(),
        attributes,
        protocol,
    });
    let inbox = Arc::new(Inbox::new(endpoint.common.inbox_limit));
    let outbox = Arc::new(WsOutbox::new(
        endpoint.send_buffer_size_limit,
        endpoint.overflow_strategy,
    ));
    let session = Session {
        sender: SessionSender {
            info: Arc::clone(&info),
            outlet: Outlet::WebSocket(Arc::clone(&outbox)),
        },
        info: Arc::clone(&info),
        inbox: Arc::clone(&inbox),
    };
    run_after(interceptors, &hreq, HandshakeOutcome::Opened(info.id));
    let span = tracing::info_span!(
        "session",
        id = info.id,
        transport = "websocket",
        remote = %remote,
    );
    tracing::debug!(parent: &span, path = %session.path(), "session opened");
    R::spawn(Box::pin(
        (endpoint.common.handler)(session).instrument(span.clone()),
    ));
    let ws = WebSocketStream::new(io, conn, Settings::default());
    websocket::drive::<_, R>(ws, &endpoint, inbox, outbox, Arc::clone(&shared.stop))
        .instrument(span)
        .await;
}

// ---- SockJS -------------------------------------------------------------------

/// What the core needs besides the request: the wall clock (for
/// `Expires`), the principal and the client's address.
fn context(hreq: &HandshakeRequest) -> RequestContext {
    // The adapter is where the wall clock is read (for `Expires`).
    #[allow(clippy::disallowed_methods)]
    let date = SystemTime::now();
    let ctx = RequestContext::new(date).client_ip(hreq.client_ip);
    match &hreq.principal {
        Some(principal) => ctx.principal(principal.clone()),
        None => ctx,
    }
}

async fn sockjs<R: Executor>(
    io: &mut R::Tcp,
    http: &mut ServerConn,
    req: Request<Bytes>,
    remote: SocketAddr,
    hub: &Arc<SockJsHub>,
    shared: &Arc<Shared>,
) -> Next {
    let upgrade = is_upgrade(&req);
    let hreq = handshake_request(&req, remote, shared, hub.common.principal.as_ref());
    let ctx = context(&hreq);
    let (which, inbox) = hub.request_session(&req, &ctx);
    let interceptors = &hub.common.interceptors;
    let mut attributes = Attributes::default();
    // A CORS preflight opens nothing, and carries no credentials: an
    // interceptor that checks them would refuse it.
    let opens = matches!(which, RequestSession::Opens(_)) && req.method() != Method::OPTIONS;
    if opens {
        match run_before(interceptors, &hreq) {
            Ok(a) => attributes = a,
            Err(rejection) => {
                if upgrade {
                    http.decline_upgrade();
                }
                run_after(
                    interceptors,
                    &hreq,
                    HandshakeOutcome::Refused(rejection.status()),
                );
                let out = rejection_response(&rejection, http);
                return match write_all::<R>(io, &out, shared).await {
                    Next::KeepAlive if http.keep_alive() => Next::KeepAlive,
                    _ => Next::Close,
                };
            }
        }
    }
    let sends = matches!(which, RequestSession::Sends(_));
    if let (Some(inbox), true) = (&inbox, sends) {
        // The handler is behind: hold the client's messages back.
        inbox.room().await;
    }
    let context = OpenContext {
        request: hreq.clone(),
        attributes,
    };
    let handled = hub.handle(&req, &ctx, context);
    if opens {
        let outcome = match (&handled.opened, &handled.answer) {
            (Some(id), _) => HandshakeOutcome::Opened(*id),
            (None, Answer::Response(res)) => HandshakeOutcome::Refused(res.status()),
            (None, _) => HandshakeOutcome::Refused(StatusCode::INTERNAL_SERVER_ERROR),
        };
        run_after(interceptors, &hreq, outcome);
    }
    let limit = hub.common.send_time_limit;
    if upgrade && !matches!(handled.answer, Answer::Upgrade { .. }) {
        // Answered in HTTP: the connection goes on in HTTP.
        http.decline_upgrade();
    }
    match handled.answer {
        Answer::Response(res) => {
            if let (true, Some(inbox), true) = (sends, &handled.inbox, res.status().is_success()) {
                // Answer once the handler took the messages and came back for
                // more: its immediate replies then reach the next poll.
                let _ = timeout::<R, _>(hub.handler_wait, inbox.demand()).await;
            }
            let out = encode_whole(&res, http);
            match write_all::<R>(io, &out, shared).await {
                Next::KeepAlive if http.keep_alive() => Next::KeepAlive,
                _ => Next::Close,
            }
        }
        Answer::Stream { receiver, response } => {
            stream::<R>(io, http, hub, receiver, &response, limit).await
        }
        Answer::Poll { receiver, response } => {
            long_poll::<R>(io, http, hub, receiver, response, limit).await
        }
        Answer::Upgrade { receiver, response } => {
            let mut head = BytesMut::new();
            let _ = http.encode_response(&response, BodyKind::None, &mut head);
            sockjs_websocket::<R>(io, http, hub, receiver, &head, handled.inbox, limit).await;
            Next::Close
        }
    }
}

/// What a receiver's connection saw.
enum Pulled {
    /// Outputs, each one frame; only the last may say `end`.
    Outputs(Vec<sockjs_proto::Output>),
    /// The client closed the connection (or it failed).
    Gone,
}

/// Waits for the receiver's next outputs, watching the socket for the
/// client going away meanwhile (bytes it sends are kept for the next
/// request, as far as the request buffer takes them).
async fn pull<S: Io>(
    io: &mut S,
    http: &mut ServerConn,
    hub: &SockJsHub,
    receiver: ReceiverId,
) -> Pulled {
    poll_fn(|cx| {
        if poll_client(io, http, cx).is_ready() {
            return Poll::Ready(Pulled::Gone);
        }
        hub.poll_outputs(receiver, cx).map(Pulled::Outputs)
    })
    .await
}

/// `Ready` when the client closed; `Pending` otherwise (input is buffered
/// while there is room, and no longer watched once there is none).
fn poll_client<S: Io>(io: &mut S, http: &mut ServerConn, cx: &mut Context<'_>) -> Poll<()> {
    while http.receive_capacity() > 0 {
        match poll_receive(io, http, cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Read::Data) => {}
            Poll::Ready(_) => return Poll::Ready(()),
        }
    }
    Poll::Pending
}

async fn stream<R: Executor>(
    io: &mut R::Tcp,
    http: &mut ServerConn,
    hub: &SockJsHub,
    receiver: ReceiverId,
    response: &Response<Bytes>,
    limit: Duration,
) -> Next {
    let mut out = BytesMut::new();
    let Ok(framing) = http.encode_response(response, BodyKind::Stream, &mut out) else {
        hub.receiver_closed(receiver);
        return Next::Close;
    };
    if framing == Framing::None {
        // An answer to `HEAD`: the head alone.
        hub.receiver_closed(receiver);
        let written = write_within::<R>(io, &out, limit).await;
        return if written && http.keep_alive() {
            Next::KeepAlive
        } else {
            Next::Close
        };
    }
    // Chunked (HTTP/1.1): the prelude and then every frame each in a chunk
    // of its own, since clients read streams chunk by chunk; what is ready
    // at once still goes out in one write.
    let chunked = framing == Framing::Chunked;
    let body = |data: &[u8], out: &mut BytesMut| {
        if chunked {
            encode_chunk(data, out);
        } else {
            out.extend_from_slice(data);
        }
    };
    body(response.body(), &mut out);
    if !write_within::<R>(io, &out, limit).await {
        hub.receiver_closed(receiver);
        return Next::Close;
    }
    loop {
        let Pulled::Outputs(outputs) = pull(io, http, hub, receiver).await else {
            hub.receiver_closed(receiver);
            return Next::Close;
        };
        out.clear();
        let mut end = false;
        for output in &outputs {
            body(&output.data, &mut out);
            end |= output.end;
        }
        if end && chunked {
            encode_last_chunk(&mut out);
        }
        if !write_within::<R>(io, &out, limit).await {
            hub.receiver_closed(receiver);
            return Next::Close;
        }
        if end {
            hub.receiver_closed(receiver);
            return if http.keep_alive() {
                Next::KeepAlive
            } else {
                Next::Close
            };
        }
    }
}

async fn long_poll<R: Executor>(
    io: &mut R::Tcp,
    http: &mut ServerConn,
    hub: &SockJsHub,
    receiver: ReceiverId,
    mut response: Response<Bytes>,
    limit: Duration,
) -> Next {
    let mut body = BytesMut::new();
    loop {
        let Pulled::Outputs(outputs) = pull(io, http, hub, receiver).await else {
            hub.receiver_closed(receiver);
            return Next::Close;
        };
        let mut end = false;
        for output in &outputs {
            body.extend_from_slice(&output.data);
            end |= output.end;
        }
        if end {
            break;
        }
    }
    *response.body_mut() = body.freeze();
    let out = encode_whole(&response, http);
    let written = write_within::<R>(io, &out, limit).await;
    hub.receiver_closed(receiver);
    if written && http.keep_alive() {
        Next::KeepAlive
    } else {
        Next::Close
    }
}

async fn sockjs_websocket<R: Executor>(
    io: &mut R::Tcp,
    http: &mut ServerConn,
    hub: &SockJsHub,
    receiver: ReceiverId,
    head: &[u8],
    inbox: Option<Arc<Inbox>>,
    limit: Duration,
) {
    if !write_within::<R>(io, head, limit).await {
        hub.receiver_closed(receiver);
        return;
    }
    let trailing = std::mem::take(http).take_upgraded();
    if !trailing.is_empty() {
        hub.receive_websocket(receiver, &trailing);
    }
    let mut eof = false;
    // Reading stopped because the application is behind: the core is told,
    // so that the client's unread bytes do not make it look dead.
    let mut paused = false;
    loop {
        let output = poll_fn(|cx| {
            if let Poll::Ready(output) = hub.poll_output(receiver, cx) {
                return Poll::Ready(Some(output));
            }
            while !eof {
                let room = inbox.as_ref().is_none_or(|i| i.poll_room(cx).is_ready());
                if room == paused {
                    paused = !room;
                    hub.set_websocket_paused(receiver, paused);
                }
                if !room {
                    break;
                }
                let cap = hub.websocket_capacity(receiver).clamp(1, READ_CHUNK);
                let mut buf = [0u8; READ_CHUNK];
                match io.poll_read(cx, &mut buf[..cap]) {
                    Poll::Pending => break,
                    Poll::Ready(Ok(0) | Err(_)) => {
                        eof = true;
                        return Poll::Ready(None);
                    }
                    Poll::Ready(Ok(n)) => hub.receive_websocket(receiver, &buf[..n]),
                }
                if let Poll::Ready(output) = hub.poll_output(receiver, cx) {
                    return Poll::Ready(Some(output));
                }
            }
            Poll::Pending
        })
        .await;
        let Some(output) = output else {
            hub.receive_websocket_eof(receiver);
            continue;
        };
        if !output.data.is_empty() && !write_within::<R>(io, &output.data, limit).await {
            break;
        }
        if output.end {
            let _ = runtime::shutdown(io).await;
            // Read (bounded) until the client's end of file, so that unread
            // input does not turn the close into a reset.
            if !eof {
                let _ = timeout::<R, _>(
                    Duration::from_secs(2),
                    poll_fn(|cx| {
                        let mut buf = [0u8; 4096];
                        loop {
                            match io.poll_read(cx, &mut buf) {
                                Poll::Pending => return Poll::Pending,
                                Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(()),
                                Poll::Ready(Ok(_)) => {}
                            }
                        }
                    }),
                )
                .await;
            }
            break;
        }
    }
    hub.receiver_closed(receiver);
}
