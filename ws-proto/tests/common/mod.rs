//! Shared by the integration tests: a hand-written frame encoder (so that
//! the crate's encoder is never checked against itself), helpers that feed
//! input in pieces and drain a connection, and `Pair`, a client core wired
//! to a server core in memory.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::mem;

use ws_proto::{Connection, Event, ProtocolError, WebSocketConfig};

/// The masking key of RFC 6455 §5.7, used by every client built here.
pub(crate) const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

pub(crate) const FIN: u8 = 0x80;
pub(crate) const CONT: u8 = 0x0;
pub(crate) const TEXT: u8 = 0x1;
pub(crate) const BINARY: u8 = 0x2;
pub(crate) const CLOSE: u8 = 0x8;
pub(crate) const PING: u8 = 0x9;
pub(crate) const PONG: u8 = 0xa;

/// A server with the default configuration.
pub(crate) fn server() -> Connection {
    Connection::server(WebSocketConfig::default())
}

/// A client that masks every frame with [`KEY`].
pub(crate) fn client() -> Connection {
    client_with(WebSocketConfig::default())
}

/// A client with `config` that masks every frame with [`KEY`].
pub(crate) fn client_with(config: WebSocketConfig) -> Connection {
    Connection::client(config, || KEY)
}

/// Encodes a frame by hand: `b0` is the first byte (FIN, RSV, opcode), the
/// length takes the fewest bytes, and `mask` masks the payload.
pub(crate) fn frame(b0: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![b0];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xffff => {
            out.push(mask_bit | 0x7e);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 0x7f);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A frame as a client sends it (masked with [`KEY`]).
pub(crate) fn masked(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, Some(KEY), payload)
}

/// A frame as a server sends it (unmasked).
pub(crate) fn unmasked(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, None, payload)
}

/// The close frame a server sends with `code` and no reason.
pub(crate) fn server_close(code: u16) -> Vec<u8> {
    unmasked(FIN | CLOSE, &code.to_be_bytes())
}

/// The close frame a client built by [`client`] sends with `code`.
pub(crate) fn client_close(code: u16) -> Vec<u8> {
    masked(FIN | CLOSE, &code.to_be_bytes())
}

/// Everything `conn` has queued for the transport.
pub(crate) fn transmit(conn: &mut Connection) -> Vec<u8> {
    let mut wire = Vec::new();
    while let Some(chunk) = conn.poll_transmit() {
        assert!(!chunk.is_empty(), "poll_transmit handed out an empty chunk");
        wire.extend_from_slice(&chunk);
    }
    assert_eq!(conn.pending_transmit(), 0);
    wire
}

/// What a connection reported while reading input.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) events: Vec<Event>,
    pub(crate) error: Option<ProtocolError>,
}

impl Outcome {
    pub(crate) fn ok(events: Vec<Event>) -> Self {
        Self {
            events,
            error: None,
        }
    }

    pub(crate) fn failed(events: Vec<Event>, error: ProtocolError) -> Self {
        Self {
            events,
            error: Some(error),
        }
    }
}

/// Calls `poll_event` until it returns `Ok(None)`, recording into `out`.
/// Panics on an event or a second error after an error: a failed connection
/// must stay silent.
pub(crate) fn drain_events(conn: &mut Connection, out: &mut Outcome) {
    loop {
        match conn.poll_event() {
            Ok(Some(event)) => {
                assert!(
                    out.error.is_none(),
                    "{event:?} delivered after {:?}",
                    out.error
                );
                out.events.push(event);
            }
            Ok(None) => return,
            Err(error) => {
                assert!(out.error.is_none(), "{error:?} after {:?}", out.error);
                out.error = Some(error);
            }
        }
    }
}

/// Feeds `pieces` one at a time, draining events after each.
pub(crate) fn feed<'a>(
    conn: &mut Connection,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Outcome {
    let mut out = Outcome::default();
    for piece in pieces {
        conn.receive(piece);
        drain_events(conn, &mut out);
    }
    out
}

/// `bytes` cut at `points` (any order, any values; clamped and sorted).
pub(crate) fn cut_at<'a>(bytes: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = points.iter().map(|&p| p.min(bytes.len())).collect();
    points.sort_unstable();
    let mut pieces = Vec::with_capacity(points.len() + 1);
    let mut start = 0;
    for p in points.into_iter().chain([bytes.len()]) {
        pieces.push(&bytes[start..p]);
        start = p;
    }
    pieces
}

/// `bytes` cut into pieces of the given sizes, used in turn (a size of 0
/// counts as 1; an empty list means one piece).
pub(crate) fn cut_by_sizes<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    if sizes.is_empty() {
        return vec![bytes];
    }
    let mut pieces = Vec::new();
    let mut rest = bytes;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(size.clamp(1, rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// A client core and a server core joined by an in-memory wire that cuts
/// what each writes into pieces of configurable sizes. Nothing moves until
/// [`Pair::drive`] (or one of the `flush_*` steps) is called, so tests can
/// queue commands on both sides "at the same time".
pub(crate) struct Pair {
    pub(crate) client: Connection,
    pub(crate) server: Connection,
    /// What the client received.
    pub(crate) client_got: Outcome,
    /// What the server received.
    pub(crate) server_got: Outcome,
    /// Every byte the client wrote.
    pub(crate) client_wrote: Vec<u8>,
    /// Every byte the server wrote.
    pub(crate) server_wrote: Vec<u8>,
    chunks: Vec<usize>,
}

impl Pair {
    /// Default configurations on both sides; the client masks with a key
    /// that changes from frame to frame.
    pub(crate) fn new() -> Self {
        Self::with_configs(WebSocketConfig::default(), WebSocketConfig::default())
    }

    pub(crate) fn with_configs(client: WebSocketConfig, server: WebSocketConfig) -> Self {
        let mut state = 0x1234_5678_u32;
        let keys = move || {
            state = state.wrapping_mul(0x9e37_79b9).wrapping_add(1);
            state.to_be_bytes()
        };
        Self {
            client: Connection::client(client, keys),
            server: Connection::server(server),
            client_got: Outcome::default(),
            server_got: Outcome::default(),
            client_wrote: Vec::new(),
            server_wrote: Vec::new(),
            chunks: Vec::new(),
        }
    }

    /// Cuts the wire into pieces of these sizes, in turn (see
    /// [`cut_by_sizes`]).
    #[must_use]
    pub(crate) fn chunked(mut self, sizes: Vec<usize>) -> Self {
        self.chunks = sizes;
        self
    }

    /// Moves bytes both ways until neither side has anything to write.
    pub(crate) fn drive(&mut self) {
        while self.flush_client() | self.flush_server() {}
    }

    /// Delivers what the client has written to the server. Returns whether
    /// any byte moved.
    pub(crate) fn flush_client(&mut self) -> bool {
        let wire = transmit(&mut self.client);
        for piece in cut_by_sizes(&wire, &self.chunks) {
            self.server.receive(piece);
            drain_events(&mut self.server, &mut self.server_got);
        }
        self.client_wrote.extend_from_slice(&wire);
        !wire.is_empty()
    }

    /// Delivers what the server has written to the client. Returns whether
    /// any byte moved.
    pub(crate) fn flush_server(&mut self) -> bool {
        let wire = transmit(&mut self.server);
        for piece in cut_by_sizes(&wire, &self.chunks) {
            self.client.receive(piece);
            drain_events(&mut self.client, &mut self.client_got);
        }
        self.server_wrote.extend_from_slice(&wire);
        !wire.is_empty()
    }

    /// The events the client received since the last call.
    pub(crate) fn client_events(&mut self) -> Vec<Event> {
        mem::take(&mut self.client_got.events)
    }

    /// The events the server received since the last call.
    pub(crate) fn server_events(&mut self) -> Vec<Event> {
        mem::take(&mut self.server_got.events)
    }
}
