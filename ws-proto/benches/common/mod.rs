//! Inputs shared by the benchmarks: realistic text payloads and the frames
//! that carry them.

#![allow(dead_code, unreachable_pub)]

use ws_proto::frame::{FrameHeader, OpCode};
use ws_proto::mask::apply_mask;

/// The payload sizes measured, with their labels.
pub const SIZES: [(usize, &str); 4] = [
    (16, "16B"),
    (1024, "1KiB"),
    (64 * 1024, "64KiB"),
    (1024 * 1024, "1MiB"),
];

/// The client's masking key (the one from RFC 6455 §5.7).
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Chat-like JSON records: mostly ASCII, with accented Latin, CJK, a
/// currency sign and emoji mixed in (about 8% of the bytes are in
/// multi-byte characters).
const RECORDS: [&str; 6] = [
    r#"{"type":"message","room":"general","user":"alice","text":"Hi all, the deploy is done. Ping me if anything looks off.","ts":1718031123}"#,
    r#"{"type":"message","room":"général","user":"zoë","text":"Ça marche, merci ! Je regarde les logs de München après le café.","ts":1718031131}"#,
    r#"{"type":"presence","user":"bob","status":"away","since":1718031140,"client":"web/2.14.1"}"#,
    r#"{"type":"message","room":"tokyo","user":"kenji","text":"了解です、明日の会議で確認します 👍","ts":1718031152}"#,
    r#"{"type":"message","room":"general","user":"carol","text":"Invoice total is 1.250 € (incl. VAT), sent to accounts@example.com.","ts":1718031160}"#,
    r#"{"type":"typing","room":"general","user":"dave","state":"start"}"#,
];

/// A valid UTF-8 text of exactly `len` bytes, cycling through [`RECORDS`]
/// (one per line) and padded with spaces where the next character would
/// not fit.
pub fn text_payload(len: usize) -> Vec<u8> {
    let mut out = String::with_capacity(len);
    'fill: for record in RECORDS.iter().cycle() {
        for c in record.chars().chain(std::iter::once('\n')) {
            if out.len() + c.len_utf8() > len {
                break 'fill;
            }
            out.push(c);
        }
    }
    while out.len() < len {
        out.push(' ');
    }
    out.into_bytes()
}

/// A final text frame carrying `payload`, masked with [`KEY`] when `masked`.
pub fn text_frame(payload: &[u8], masked: bool) -> Vec<u8> {
    let header = FrameHeader {
        fin: true,
        rsv: 0,
        opcode: OpCode::Text,
        mask: masked.then_some(KEY),
        payload_len: payload.len() as u64,
    };
    let mut frame = Vec::with_capacity(header.encoded_len() + payload.len());
    header.encode(&mut frame);
    let start = frame.len();
    frame.extend_from_slice(payload);
    if masked {
        apply_mask(&mut frame[start..], KEY, 0);
    }
    frame
}

/// `len` bytes starting `residue` bytes past a 4 KiB boundary.
///
/// Where a copy's destination falls relative to its source matters more
/// than anything else to `memcpy` here: with glibc 2.36 on an AMD Zen 3, a
/// 64 KiB copy whose destination is 1 to ~31 bytes past its source modulo
/// 4 KiB (4K aliasing) runs at about 2.5 GiB/s instead of about 40 GiB/s.
/// Heap placement decides that by chance, so the `memcpy` ceilings place
/// their buffers on purpose: source at 0, destination at 2048 (the fast
/// case, so the ceiling is the strict one).
pub struct Placed {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl Placed {
    /// A zeroed buffer of `len` bytes at `residue` (below 4096).
    pub fn new(len: usize, residue: usize) -> Self {
        assert!(residue < 4096);
        let buf = vec![0u8; len + 8192];
        let addr = buf.as_ptr() as usize;
        let start = (residue + 4096 - addr % 4096) % 4096;
        Self { buf, start, len }
    }

    /// A buffer holding a copy of `data`, at `residue`.
    pub fn copy_of(data: &[u8], residue: usize) -> Self {
        let mut placed = Self::new(data.len(), residue);
        placed.as_mut_slice().copy_from_slice(data);
        placed
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.start + self.len]
    }
}
