//! A client of the examples' endpoints, over SockJS or a plain WebSocket,
//! on tokio: each wait bounded by [`LIMIT`](super::LIMIT).

use futures_util::StreamExt as _;
use sockway::tokio::sockjs::{self, ClientOptions};
use sockway::tokio::WebSocketStream;
use sockway::{ClientRequest, CloseCode, Error, Message};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::LIMIT;

/// One client, over SockJS or a plain WebSocket.
pub enum Client {
    SockJs(sockjs::ClientSession),
    WebSocket(Box<WebSocketStream<TcpStream>>),
}

impl Client {
    /// A SockJS session to `url` with `options`.
    pub async fn sockjs(url: &str, options: ClientOptions) -> Self {
        let session = timeout(LIMIT, sockjs::connect_with(url, options.clone()))
            .await
            .expect("the session opens in time")
            .unwrap_or_else(|e| panic!("{url} with {options:?}: {e}"));
        Self::SockJs(session)
    }

    /// A WebSocket to `target` on `addr`.
    pub async fn websocket(addr: &str, target: &str) -> Self {
        Self::WebSocket(Box::new(
            websocket(addr, target).await.expect("the WebSocket opens"),
        ))
    }

    /// Sends a text message.
    pub async fn say(&mut self, text: &str) {
        match self {
            Self::SockJs(session) => session.send_async(text.to_owned()).await.expect("a send"),
            Self::WebSocket(ws) => ws.send(text.to_owned()).await.expect("a send"),
        }
    }

    /// The next text message.
    pub async fn hear(&mut self) -> String {
        match self {
            Self::SockJs(session) => {
                let message = timeout(LIMIT, session.next())
                    .await
                    .expect("a message in time")
                    .expect("a message");
                String::from_utf8(message.as_bytes().to_vec()).expect("UTF-8")
            }
            Self::WebSocket(ws) => match timeout(LIMIT, ws.recv()).await.expect("in time") {
                Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                other => panic!("expected a text message, got {other:?}"),
            },
        }
    }

    /// Hears `expected` next.
    pub async fn hears(&mut self, expected: &str) {
        assert_eq!(self.hear().await, expected);
    }

    /// Closes the connection as a client that leaves does, and waits for
    /// the end of the close.
    pub async fn close(self) {
        match self {
            Self::SockJs(session) => {
                session.close(1000, "bye").expect("a close");
                timeout(LIMIT, session.closed())
                    .await
                    .expect("closed in time");
            }
            Self::WebSocket(mut ws) => {
                ws.close(CloseCode::NORMAL, "bye").await.expect("a close");
                // The rest of the handshake: the server's close frame.
                timeout(LIMIT, async { while ws.recv().await.is_some() {} })
                    .await
                    .expect("closed in time");
            }
        }
    }
}

/// A WebSocket handshake to `target` on `addr`.
pub async fn websocket(addr: &str, target: &str) -> Result<WebSocketStream<TcpStream>, Error> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    timeout(
        LIMIT,
        sockway::tokio::connect(tcp, ClientRequest::new(addr, target)),
    )
    .await
    .expect("the answer in time")
    .map(|(ws, _response)| ws)
}
