//! A reference decoder for the frame targets: RFC 6455 §5 read straight
//! from the text, one whole input at a time, with no incremental state and
//! no care for speed. The frame targets check that a [`Connection`] fed the
//! same bytes (as an adapter would) reports the same events and error.
//!
//! Text is checked with `std::str::from_utf8` only: a message fails as soon
//! as the bytes available so far are not a prefix of valid UTF-8, and at its
//! last frame if they are not complete.
//!
//! [`Connection`]: ws_proto::Connection

use ws_proto::{
    CloseCode, CloseFrame, Event, Fragment, Message, MessageKind, ProtocolError, Role,
    WebSocketConfig,
};

/// Whether `bytes` can start valid UTF-8 (`complete`: whether they are it).
fn utf8_ok(bytes: &[u8], complete: bool) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    }
}

/// The message being received: its kind, whether the first frame said text,
/// and its bytes so far.
struct Partial {
    kind: MessageKind,
    data: Vec<u8>,
}

/// Decodes `input` (all the bytes from the peer, then end of file if `eof`)
/// as a connection of `role` with `config` must: the events, then the error
/// that stops it, if any.
pub fn decode(
    role: Role,
    config: &WebSocketConfig,
    input: &[u8],
    eof: bool,
) -> (Vec<Event>, Option<ProtocolError>) {
    let mut events = Vec::new();
    let error = decode_into(role, config, input, eof, &mut events).err();
    (events, error)
}

#[allow(clippy::too_many_lines)]
fn decode_into(
    role: Role,
    config: &WebSocketConfig,
    input: &[u8],
    eof: bool,
    events: &mut Vec<Event>,
) -> Result<(), ProtocolError> {
    let mut rest = input;
    let mut partial: Option<Partial> = None;
    loop {
        // The fixed part of the header.
        let [b0, b1, ..] = *rest else {
            return end(eof);
        };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x07;
        let opcode = b0 & 0x0f;
        if !matches!(opcode, 0x0..=0x2 | 0x8..=0xa) {
            return Err(ProtocolError::ReservedOpcode(opcode));
        }
        let (len, mut at) = match b1 & 0x7f {
            126 => {
                let Some(b) = rest.get(2..4) else {
                    return end(eof);
                };
                let len = u64::from(u16::from_be_bytes([b[0], b[1]]));
                if len < 126 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 4)
            }
            127 => {
                let Some(b) = rest.get(2..10) else {
                    return end(eof);
                };
                let len = u64::from_be_bytes(b.try_into().expect("8 bytes"));
                if len >= 1 << 63 {
                    return Err(ProtocolError::InvalidLength);
                }
                if len <= 0xffff {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 10)
            }
            n => (u64::from(n), 2),
        };
        let key = if b1 & 0x80 == 0 {
            None
        } else {
            let Some(k) = rest.get(at..at + 4) else {
                return end(eof);
            };
            at += 4;
            Some([k[0], k[1], k[2], k[3]])
        };

        // Is the header acceptable here?
        let stray = rsv & !config.allowed_rsv;
        if stray != 0 {
            return Err(ProtocolError::ReservedBits(stray));
        }
        match (role, key.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let control = opcode >= 0x8;
        if control {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if len > 125 {
                return Err(ProtocolError::ControlFrameTooLarge(len));
            }
        } else {
            match (opcode, &partial) {
                (0x0, None) => return Err(ProtocolError::UnexpectedContinuation),
                (0x1 | 0x2, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
                _ => {}
            }
            if len > config.max_frame_size as u64 {
                return Err(ProtocolError::FrameTooLarge {
                    len,
                    max: config.max_frame_size,
                });
            }
            let so_far = partial.as_ref().map_or(0, |p| p.data.len() as u64);
            if !config.streaming && so_far + len > config.max_message_size as u64 {
                return Err(ProtocolError::MessageTooLarge {
                    len: so_far + len,
                    max: config.max_message_size,
                });
            }
        }
        rest = &rest[at..];

        // The payload, as much as there is.
        let len = usize::try_from(len).expect("bounded above");
        let available = len.min(rest.len());
        let mut payload = rest[..available].to_vec();
        if let Some(key) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        let kind = match (opcode, &partial) {
            (0x0, Some(p)) => Some(p.kind),
            (0x1, _) => Some(MessageKind::Text),
            (0x2, _) => Some(MessageKind::Binary),
            _ => None,
        };
        let mut message = match (opcode, partial.take()) {
            (0x0, Some(p)) => p.data,
            (_, p) => {
                partial = p;
                Vec::new()
            }
        };
        if kind.is_some() {
            message.extend_from_slice(&payload);
            if kind == Some(MessageKind::Text) && !utf8_ok(&message, false) {
                return Err(ProtocolError::InvalidUtf8);
            }
        }
        if available < len {
            return end(eof);
        }
        rest = &rest[len..];

        // A whole frame.
        let Some(kind) = kind else {
            match opcode {
                0x9 => events.push(Event::Ping(payload.into())),
                0xa => events.push(Event::Pong(payload.into())),
                _ => {
                    let frame = match payload[..] {
                        [] => None,
                        [_] => return Err(ProtocolError::InvalidClosePayload),
                        [hi, lo, ref reason @ ..] => {
                            let code = CloseCode(u16::from_be_bytes([hi, lo]));
                            if !matches!(code.0, 1000..=1003 | 1007..=1014 | 3000..=4999) {
                                return Err(ProtocolError::InvalidCloseCode(code.0));
                            }
                            let Ok(reason) = std::str::from_utf8(reason) else {
                                return Err(ProtocolError::InvalidCloseReason);
                            };
                            Some(CloseFrame::new(code, reason))
                        }
                    };
                    events.push(Event::Close(frame));
                    return Ok(());
                }
            }
            continue;
        };
        if fin && kind == MessageKind::Text && !utf8_ok(&message, true) {
            return Err(ProtocolError::InvalidUtf8);
        }
        if config.streaming {
            events.push(Event::Fragment(Fragment {
                kind,
                payload: payload.into(),
                first: opcode != 0x0,
                fin,
            }));
        } else if fin {
            events.push(Event::Message(match kind {
                MessageKind::Text => {
                    Message::from(String::from_utf8(message.clone()).expect("checked"))
                }
                MessageKind::Binary => Message::from(message.clone()),
            }));
        }
        if !fin {
            partial = Some(Partial {
                kind,
                data: message,
            });
        }
    }
}

/// The input ran out: wait for more, or fail if none will come.
fn end(eof: bool) -> Result<(), ProtocolError> {
    if eof {
        Err(ProtocolError::UnexpectedEof)
    } else {
        Ok(())
    }
}
