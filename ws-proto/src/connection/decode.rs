//! Decoding: frames from the input buffer into events, one at a time
//! ([`Connection::poll_event`]) or data messages ahead of the application
//! ([`Connection::poll_message_ahead`]), with every check of RFC 6455 on
//! the way and the failure of the connection when one does not pass.

use bytes::{Buf, Bytes, BytesMut};

use super::{unmask_and_validate, Assembly, CloseState, Connection, Incoming, Role};
use crate::close::{CloseCode, CloseFrame};
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD};
use crate::message::{Event, Fragment, Message, MessageKind, Utf8Bytes};
use crate::utf8::Utf8Validator;

impl Connection {
    /// Decodes the next event from the input.
    ///
    /// `Ok(None)` means more input is needed (or none will be read any more).
    /// An error fails the connection: the close frame it calls for is queued
    /// for [`poll_transmit`](Self::poll_transmit), and later calls return
    /// `Ok(None)`. A connection that a timer failed in
    /// [`handle_timeout`](Self::handle_timeout) reports it here, once, as
    /// [`ProtocolError::Timeout`], with nothing queued.
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        if let Some(error) = self.deferred_error.take() {
            return Err(self.fail(error));
        }
        self.decode(false)
    }

    /// Decodes the next message ahead of [`poll_event`](Self::poll_event),
    /// if it is whole in the input and only data frames come before it.
    ///
    /// This is for a server that hands pipelined messages to its
    /// application in one batch (and so writes the answers in one batch),
    /// while keeping the order of effects that the one-at-a-time loop
    /// has: anything that ends or changes the connection stays for
    /// `poll_event`. It stops, consuming nothing of it, at a control frame
    /// (a close, a ping) and at the end of the input; an error it finds
    /// (a bad frame, invalid UTF-8, a limit) is kept without failing the
    /// connection, and the next `poll_event` fails it then, queueing its
    /// close frame after whatever was sent meanwhile. `None` also while
    /// an error is kept, and always with
    /// [`streaming`](crate::WebSocketConfig::streaming) on.
    pub fn poll_message_ahead(&mut self) -> Option<Message> {
        if self.config.streaming || self.pending_error.is_some() || self.deferred_error.is_some() {
            return None;
        }
        match self.decode(true) {
            Ok(Some(Event::Message(message))) => Some(message),
            Ok(_) => None,
            Err(error) => {
                self.deferred_error = Some(error);
                None
            }
        }
    }

    /// Fails the connection with `error`, or only returns it when decoding
    /// ahead (the caller keeps it for `poll_event`).
    fn fail_unless_ahead(&mut self, error: ProtocolError, ahead: bool) -> ProtocolError {
        if ahead {
            error
        } else {
            self.fail(error)
        }
    }

    /// Decodes the next event; `ahead`: only a data message, failing
    /// nothing (see [`poll_message_ahead`](Self::poll_message_ahead)).
    fn decode(&mut self, ahead: bool) -> Result<Option<Event>, ProtocolError> {
        // Nothing buffered and no frame begun: nothing to decode (a server
        // asks after each read and each send, most often with no input).
        if self.input.is_empty() && self.frame.is_none() && (ahead || !self.eof) {
            return Ok(None);
        }
        // Checked before decoding: the buffer only shrinks while decoding,
        // and a check on an incomplete frame could never see it over a
        // limit that is at least one maximal frame.
        let max = self.config.effective_max_buffered_input();
        if !self.input_done && self.input.len() > max {
            return Err(self.fail_unless_ahead(ProtocolError::InputBufferFull { max }, ahead));
        }
        loop {
            if self.input_done {
                return Ok(None);
            }
            if self.frame.is_none() {
                match FrameHeader::parse(&self.input) {
                    Err(e) => return Err(self.fail_unless_ahead(e, ahead)),
                    Ok(None) if ahead => return Ok(None),
                    Ok(None) => return self.wait_for_input(),
                    Ok(Some((header, _))) if ahead && header.opcode.is_control() => {
                        return Ok(None);
                    }
                    Ok(Some((header, len))) => {
                        let text = self
                            .check_header(&header)
                            .map_err(|e| self.fail_unless_ahead(e, ahead))?;
                        self.input.advance(len);
                        self.consumed += len as u64;
                        self.frame = Some(Incoming {
                            header,
                            unmasked: 0,
                            validated: 0,
                            text,
                        });
                    }
                }
            }
            let Some(frame) = self.frame.as_mut() else {
                unreachable!("a frame header was just parsed");
            };
            // `check_header` bounded the length by `max_frame_size`.
            let len = usize::try_from(frame.header.payload_len).unwrap_or(usize::MAX);
            let available = self.input.len().min(len);
            let payload = &mut self.input[..available];
            if unmask_and_validate(frame, payload, &mut self.utf8).is_err() {
                return Err(self.fail_unless_ahead(ProtocolError::InvalidUtf8, ahead));
            }
            if available < len {
                return if ahead {
                    Ok(None)
                } else {
                    self.wait_for_input()
                };
            }
            let frame = self.frame.take().expect("checked above");
            let payload = if len == self.input.len() {
                // The payload is the rest of the input (most often: one
                // message a read): the buffer itself becomes the message,
                // where a split would allocate a shared header for both.
                std::mem::take(&mut self.input).freeze()
            } else {
                self.input.split_to(len).freeze()
            };
            self.consumed += len as u64;
            if let Some(event) = self.on_frame(frame, payload, ahead)? {
                return Ok(Some(event));
            }
        }
    }

    /// No complete frame is buffered: check for the end of input.
    fn wait_for_input(&mut self) -> Result<Option<Event>, ProtocolError> {
        if self.eof {
            self.input_done = true;
            self.close = CloseState::Closed;
            // Nothing more will be decoded: free the partial frame and message.
            self.input = BytesMut::new();
            self.frame = None;
            self.assembly = None;
            return Err(ProtocolError::UnexpectedEof);
        }
        Ok(None)
    }

    /// Validates a header against the role, the negotiated bits, the
    /// fragmentation state and the limits. Returns whether its payload is text.
    fn check_header(&mut self, h: &FrameHeader) -> Result<bool, ProtocolError> {
        let stray = h.rsv & !self.config.allowed_rsv;
        if stray != 0 {
            return Err(ProtocolError::ReservedBits(stray));
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if h.opcode.is_control() {
            if !h.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if h.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLarge(h.payload_len));
            }
            return Ok(false);
        }
        let kind = match (h.opcode, &self.assembly) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(a)) => a.kind,
            (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
            (OpCode::Text, None) => MessageKind::Text,
            _ => MessageKind::Binary,
        };
        let max = self.config.max_frame_size;
        if h.payload_len > max as u64 {
            return Err(ProtocolError::FrameTooLarge {
                len: h.payload_len,
                max,
            });
        }
        if !self.config.streaming {
            let so_far = self.assembly.as_ref().map_or(0, |a| a.len);
            let len = so_far + h.payload_len;
            let max = self.config.max_message_size;
            if len > max as u64 {
                return Err(ProtocolError::MessageTooLarge { len, max });
            }
        }
        if h.opcode != OpCode::Continuation {
            self.utf8 = Utf8Validator::default();
        }
        Ok(kind == MessageKind::Text)
    }

    /// A whole frame arrived. Returns the event it makes, if any.
    fn on_frame(
        &mut self,
        frame: Incoming,
        payload: Bytes,
        ahead: bool,
    ) -> Result<Option<Event>, ProtocolError> {
        let h = frame.header;
        match h.opcode {
            OpCode::Ping => {
                if self.config.auto_pong && self.close == CloseState::Open {
                    self.pending_pong = Some(payload.clone());
                }
                Ok(Some(Event::Ping(payload)))
            }
            OpCode::Pong => Ok(Some(Event::Pong(payload))),
            OpCode::Close => self.on_close(&payload).map(Some),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                let kind = if frame.text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if h.fin && frame.text && self.utf8.finish().is_err() {
                    return Err(self.fail_unless_ahead(ProtocolError::InvalidUtf8, ahead));
                }
                if self.config.streaming {
                    let first = h.opcode != OpCode::Continuation;
                    self.assembly = if h.fin {
                        None
                    } else {
                        Some(Assembly {
                            kind,
                            data: BytesMut::new(),
                            len: 0,
                        })
                    };
                    return Ok(Some(Event::Fragment(Fragment {
                        kind,
                        payload,
                        first,
                        fin: h.fin,
                    })));
                }
                let data = match (h.fin, self.assembly.take()) {
                    (true, None) => payload,
                    (true, Some(mut a)) => {
                        a.data.extend_from_slice(&payload);
                        a.data.freeze()
                    }
                    (false, assembly) => {
                        let mut a = assembly.unwrap_or(Assembly {
                            kind,
                            data: BytesMut::new(),
                            len: 0,
                        });
                        a.data.extend_from_slice(&payload);
                        a.len += payload.len() as u64;
                        self.assembly = Some(a);
                        return Ok(None);
                    }
                };
                Ok(Some(Event::Message(match kind {
                    MessageKind::Text => Message::Text(Utf8Bytes::from_validated(data)),
                    MessageKind::Binary => Message::Binary(data),
                })))
            }
        }
    }

    fn on_close(&mut self, payload: &[u8]) -> Result<Event, ProtocolError> {
        let frame = match payload {
            [] => None,
            [_] => return Err(self.fail(ProtocolError::InvalidClosePayload)),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_valid_on_wire() {
                    return Err(self.fail(ProtocolError::InvalidCloseCode(code.0)));
                }
                let Ok(reason) = std::str::from_utf8(reason) else {
                    return Err(self.fail(ProtocolError::InvalidCloseReason));
                };
                Some(CloseFrame::new(code, reason))
            }
        };
        if self.close == CloseState::Open {
            // Echo the code and the reason, as most peers do: the reason
            // was checked above (valid UTF-8, and it fit in a control frame).
            let (code, reason) = frame
                .as_ref()
                .map_or((None, ""), |f| (Some(f.code), f.reason.as_str()));
            self.write_close(code, reason);
        }
        self.close = CloseState::Closed;
        self.input_done = true;
        self.assembly = None;
        Ok(Event::Close(frame))
    }

    /// Fails the connection: queue the close frame the error calls for and
    /// read nothing more.
    fn fail(&mut self, error: ProtocolError) -> ProtocolError {
        if self.close == CloseState::Open {
            self.write_close(Some(error.close_code()), "");
        }
        self.close = CloseState::Closed;
        self.input_done = true;
        self.frame = None;
        self.assembly = None;
        self.input = BytesMut::new();
        error
    }
}
