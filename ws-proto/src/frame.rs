//! Frame headers (RFC 6455 §5.2): parsing from partial input and encoding.
//!
//! This module knows the wire layout only. Which headers are acceptable
//! (masking by role, reserved bits, control-frame rules, size limits) is
//! decided by the [`Connection`](crate::Connection), which owns the state
//! those rules depend on.

use bytes::BufMut;

use crate::error::ProtocolError;

/// The longest possible frame header: 2 bytes, an 8-byte length, a 4-byte key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload a control frame may carry (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's opcode. Reserved opcodes are not representable: parsing them is
/// a protocol error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: the next fragment of a message.
    Continuation,
    /// 0x1: the first (or only) frame of a text message.
    Text,
    /// 0x2: the first (or only) frame of a binary message.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// Decodes the low nibble of a frame's first byte.
    pub fn from_u8(value: u8) -> Result<Self, ProtocolError> {
        Ok(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether this is the final fragment of a message.
    pub fin: bool,
    /// The three reserved bits, RSV1 in bit 2 down to RSV3 in bit 0.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` holds only part of the header, and
    /// `Ok(Some((header, header_len)))` once it is complete. Rejects reserved
    /// opcodes, a 64-bit length with its top bit set, and lengths not encoded
    /// in the fewest bytes (RFC 6455 §5.2: "the minimal number of bytes MUST
    /// be used").
    pub fn parse(buf: &[u8]) -> Result<Option<(Self, usize)>, ProtocolError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x07;
        let opcode = OpCode::from_u8(b0 & 0x0f)?;
        let masked = b1 & 0x80 != 0;
        let (payload_len, mut at) = match b1 & 0x7f {
            126 => {
                let Some(b) = buf.get(2..4) else {
                    return Ok(None);
                };
                let len = u64::from(u16::from_be_bytes([b[0], b[1]]));
                if len < 126 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 4)
            }
            127 => {
                let Some(b) = buf.get(2..10) else {
                    return Ok(None);
                };
                let len = u64::from_be_bytes(b.try_into().expect("8 bytes"));
                if len >> 63 != 0 {
                    return Err(ProtocolError::InvalidLength);
                }
                if u16::try_from(len).is_ok() {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 10)
            }
            small => (u64::from(small), 2),
        };
        let mask = if masked {
            let Some(k) = buf.get(at..at + 4) else {
                return Ok(None);
            };
            at += 4;
            Some([k[0], k[1], k[2], k[3]])
        } else {
            None
        };
        Ok(Some((
            Self {
                fin,
                rsv,
                opcode,
                mask,
                payload_len,
            },
            at,
        )))
    }

    /// The encoded length of this header.
    pub fn encoded_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xffff => 4,
            _ => 10,
        };
        len + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Appends the encoded header to `out`.
    pub fn encode(&self, out: &mut impl BufMut) {
        let b0 = u8::from(self.fin) << 7 | (self.rsv & 0x07) << 4 | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        match self.payload_len {
            len @ 0..=125 => out.put_slice(&[b0, mask_bit | len as u8]),
            len @ 126..=0xffff => {
                out.put_slice(&[b0, mask_bit | 0x7e]);
                out.put_u16(len as u16);
            }
            len => {
                out.put_slice(&[b0, mask_bit | 0x7f]);
                out.put_u64(len);
            }
        }
        if let Some(key) = self.mask {
            out.put_slice(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(opcode: OpCode, len: u64, mask: Option<[u8; 4]>) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            payload_len: len,
        }
    }

    #[test]
    fn encode_then_parse_every_length_class() {
        for len in [0, 1, 125, 126, 127, 0xffff, 0x1_0000, 1 << 40] {
            for mask in [None, Some([9, 8, 7, 6])] {
                let h = header(OpCode::Binary, len, mask);
                let mut buf = Vec::new();
                h.encode(&mut buf);
                assert_eq!(buf.len(), h.encoded_len());
                for cut in 0..buf.len() {
                    assert_eq!(
                        FrameHeader::parse(&buf[..cut]),
                        Ok(None),
                        "len {len} cut {cut}"
                    );
                }
                assert_eq!(FrameHeader::parse(&buf), Ok(Some((h, buf.len()))));
            }
        }
    }

    /// The first byte carries FIN, the three RSV bits and the opcode in
    /// their own places: each bit set alone, all at once, and none.
    #[test]
    fn fin_rsv_and_opcode_bits_are_encoded_in_place() {
        let table: [(bool, u8, OpCode, u8); 9] = [
            (true, 0b000, OpCode::Text, 0x81),
            (false, 0b000, OpCode::Text, 0x01),
            (true, 0b100, OpCode::Text, 0xc1),
            (true, 0b010, OpCode::Text, 0xa1),
            (true, 0b001, OpCode::Text, 0x91),
            (false, 0b111, OpCode::Binary, 0x72),
            (true, 0b111, OpCode::Pong, 0xfa),
            (false, 0b000, OpCode::Continuation, 0x00),
            (true, 0b101, OpCode::Close, 0xd8),
        ];
        for (fin, rsv, opcode, b0) in table {
            let h = FrameHeader {
                fin,
                rsv,
                opcode,
                mask: None,
                payload_len: 5,
            };
            let mut buf = Vec::new();
            h.encode(&mut buf);
            assert_eq!(buf, [b0, 5], "fin {fin} rsv {rsv:03b} {opcode:?}");
            assert_eq!(FrameHeader::parse(&buf), Ok(Some((h, 2))));
        }
    }

    #[test]
    fn reserved_opcodes_are_rejected() {
        for op in [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
    }

    #[test]
    fn non_minimal_lengths_are_rejected() {
        assert_eq!(
            FrameHeader::parse(&[0x82, 126, 0, 125]),
            Err(ProtocolError::NonMinimalLength)
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff]),
            Err(ProtocolError::NonMinimalLength)
        );
    }

    #[test]
    fn a_64_bit_length_with_the_top_bit_set_is_rejected() {
        assert_eq!(
            FrameHeader::parse(&[0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            Err(ProtocolError::InvalidLength)
        );
    }
}
