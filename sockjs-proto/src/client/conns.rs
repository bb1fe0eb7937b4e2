//! A client's connections: each one's protocol (HTTP/1.1, a WebSocket
//! handshake, a WebSocket), what it is for, and the bytes it has to write.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use http_proto::ClientConn;
use ws_proto::handshake::ClientHandshake;
use ws_proto::{CloseCode, CloseState, Connection, MAX_CLOSE_REASON};

use super::target::Target;

/// The most bytes asked of one read, on any connection: so one read adds
/// at most this much (and a frame) to the messages held for the
/// application, whatever the WebSocket's input buffer would take.
const READ_CHUNK: usize = 16 * 1024;

/// A connection of one [`Client`](super::Client), by the order it was asked
/// for (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// A connection to open.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connect {
    /// The connection's id in every later call.
    pub id: ConnId,
    /// The host to connect to (a name, or an IP address without brackets);
    /// with TLS, the name to verify the certificate against.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Run TLS over the connection (`https://`, `wss://`).
    pub tls: bool,
}

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The `/info` request.
    Info,
    /// The receiving requests of an xhr transport.
    Receive,
    /// The `xhr_send` requests.
    Send,
    /// The websocket transport.
    WebSocket,
    /// A kept-alive HTTP connection with nothing to do.
    Idle,
}

#[derive(Debug)]
pub(crate) enum Proto {
    Http(ClientConn),
    Handshake(Box<ClientHandshake>),
    WebSocket(Box<Connection>),
}

#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) id: ConnId,
    pub(crate) role: Role,
    connected: bool,
    pub(crate) proto: Proto,
    pub(crate) out: VecDeque<Bytes>,
    /// The server closed its side.
    pub(crate) eof: bool,
    /// A WebSocket left to finish its close after the session ended.
    pub(crate) lingering: bool,
}

/// The connections, a handful at most (`/info`, a receiving and a sending
/// one, or a WebSocket, and those being closed): a list searched by id.
#[derive(Debug, Default)]
pub(crate) struct Conns {
    list: Vec<Conn>,
    next: u64,
}

impl Conns {
    /// A new connection for `role`, speaking HTTP until told otherwise.
    pub(crate) fn open(
        &mut self,
        role: Role,
        target: &Target,
        limits: http_proto::Limits,
    ) -> Connect {
        let id = ConnId(self.next);
        self.next += 1;
        self.list.push(Conn {
            id,
            role,
            connected: false,
            proto: Proto::Http(ClientConn::new(limits)),
            out: VecDeque::new(),
            eof: false,
            lingering: false,
        });
        Connect {
            id,
            host: target.host.clone(),
            port: target.port,
            tls: target.tls,
        }
    }

    pub(crate) fn get(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.list.iter_mut().find(|c| c.id == id)
    }

    fn get_ref(&self, id: ConnId) -> Option<&Conn> {
        self.list.iter().find(|c| c.id == id)
    }

    pub(crate) fn role(&self, id: ConnId) -> Option<Role> {
        self.get_ref(id).map(|c| c.role)
    }

    pub(crate) fn set_role(&mut self, id: ConnId, role: Role) {
        if let Some(c) = self.get(id) {
            c.role = role;
        }
    }

    /// Forgets `id`; its role, if it was known.
    pub(crate) fn remove(&mut self, id: ConnId) -> Option<Role> {
        let at = self.list.iter().position(|c| c.id == id)?;
        Some(self.list.swap_remove(at).role)
    }

    pub(crate) fn ids(&self) -> Vec<ConnId> {
        self.list.iter().map(|c| c.id).collect()
    }

    /// The kept-alive HTTP connections with nothing to do.
    pub(crate) fn idle(&self) -> Vec<ConnId> {
        self.list
            .iter()
            .filter(|c| c.role == Role::Idle)
            .map(|c| c.id)
            .collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn connected(&mut self, id: ConnId) {
        if let Some(c) = self.get(id) {
            c.connected = true;
        }
    }

    /// Whether the server closed `id`'s read side.
    pub(crate) fn eof(&self, id: ConnId) -> bool {
        self.get_ref(id).is_some_and(|c| c.eof)
    }

    /// Whether the HTTP connection `id` can carry another request now.
    pub(crate) fn http_reusable(&self, id: ConnId) -> bool {
        self.get_ref(id).is_some_and(|c| {
            !c.eof && matches!(&c.proto, Proto::Http(h) if h.is_idle() && h.keep_alive())
        })
    }

    /// Queues `request` with `body` on the HTTP connection `id`.
    ///
    /// Encoding cannot fail: the client writes no framing header, always a
    /// `Host`, and [`ClientConfig::validate`](super::ClientConfig) refused
    /// the headers it writes itself; a request that did fail would be
    /// dropped.
    pub(crate) fn send_request(&mut self, id: ConnId, request: &http::Request<()>, body: &[u8]) {
        let Some(c) = self.get(id) else { return };
        if let Proto::Http(h) = &mut c.proto {
            if let Ok(bytes) = super::http::encode(h, request, body) {
                c.out.push_back(bytes);
            }
        }
    }

    /// An idle kept-alive HTTP connection, to carry a request.
    pub(crate) fn take_idle(&mut self, role: Role) -> Option<ConnId> {
        let conn = self.list.iter_mut().find(|c| {
            c.role == Role::Idle
                && !c.eof
                && matches!(&c.proto, Proto::Http(h) if h.is_idle() && h.keep_alive())
        })?;
        conn.role = role;
        Some(conn.id)
    }

    pub(crate) fn receive(&mut self, id: ConnId, data: &[u8]) {
        let Some(c) = self.get(id) else { return };
        match &mut c.proto {
            Proto::Http(h) => h.receive(data),
            Proto::Handshake(h) => h.receive(data),
            Proto::WebSocket(ws) => ws.receive(data),
        }
    }

    pub(crate) fn receive_eof(&mut self, id: ConnId) {
        let Some(c) = self.get(id) else { return };
        c.eof = true;
        match &mut c.proto {
            Proto::Http(h) => h.receive_eof(),
            // The handshake sees the end as a missing answer.
            Proto::Handshake(_) => {}
            Proto::WebSocket(ws) => ws.receive_eof(),
        }
    }

    pub(crate) fn poll_transmit(&mut self, id: ConnId) -> Option<Bytes> {
        let c = self.get(id)?;
        if !c.connected {
            return None;
        }
        if let Some(bytes) = c.out.pop_front() {
            return Some(bytes);
        }
        match &mut c.proto {
            Proto::WebSocket(ws) => ws.poll_transmit(),
            _ => None,
        }
    }

    pub(crate) fn read_capacity(&self, id: ConnId, behind: bool) -> usize {
        let Some(c) = self.get_ref(id) else { return 0 };
        if !c.connected {
            return 0;
        }
        let receiving = matches!(c.role, Role::Receive | Role::WebSocket | Role::Info);
        if behind && receiving && !c.lingering {
            return 0;
        }
        match &c.proto {
            Proto::Http(_) => READ_CHUNK,
            Proto::Handshake(h) => h.receive_capacity().min(READ_CHUNK),
            // A closed WebSocket reads on to see the server's end of file;
            // what still comes is dropped.
            Proto::WebSocket(ws) if ws.close_state() == CloseState::Closed => READ_CHUNK,
            Proto::WebSocket(ws) => ws.receive_capacity().min(READ_CHUNK),
        }
    }

    /// The earliest WebSocket timer.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.list
            .iter()
            .filter_map(|c| match &c.proto {
                Proto::WebSocket(ws) => ws.poll_timeout(),
                _ => None,
            })
            .min()
    }

    /// Runs the WebSocket timers due at `now`; the connections to drive.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Vec<ConnId> {
        let mut due = Vec::new();
        for c in &mut self.list {
            if let Proto::WebSocket(ws) = &mut c.proto {
                if ws.poll_timeout().is_some_and(|t| t <= now) {
                    ws.handle_timeout(now);
                    due.push(c.id);
                }
            }
        }
        due
    }

    /// Bytes queued on the WebSocket `id`.
    pub(crate) fn ws_pending(&self, id: ConnId) -> usize {
        match self.get_ref(id).map(|c| &c.proto) {
            Some(Proto::WebSocket(ws)) => ws.pending_transmit(),
            _ => 0,
        }
    }

    /// Starts the close handshake of the WebSocket `id`, with `reason` cut
    /// to what a close frame holds (123 bytes, on a character boundary).
    pub(crate) fn ws_close(&mut self, id: ConnId, code: CloseCode, reason: &str) {
        if let Some(Conn {
            proto: Proto::WebSocket(ws),
            ..
        }) = self.get(id)
        {
            let code = if code.is_valid_on_wire() {
                code
            } else {
                CloseCode::NORMAL
            };
            let mut end = reason.len().min(MAX_CLOSE_REASON);
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            // Only fails when closing already, which is what is wanted.
            let _ = ws.close(Some(code), &reason[..end]);
        }
    }

    /// Whether `id` is a WebSocket that stays to finish its close handshake
    /// (started here if it was not).
    pub(crate) fn ws_linger(&mut self, id: ConnId) -> bool {
        let Some(c) = self.get(id) else { return false };
        let Proto::WebSocket(ws) = &mut c.proto else {
            return false;
        };
        if ws.close_state() == CloseState::Closed || ws.timed_out().is_some() {
            return false;
        }
        if ws.close_state() == CloseState::Open {
            let _ = ws.close(Some(CloseCode::NORMAL), "");
        }
        c.lingering = true;
        true
    }
}
