//! Reads straight into the input buffer, sized to what the transport has:
//! a reservation that starts small (what an idle connection costs), doubles
//! while reads fill it, halves when they come back short, and an emptied
//! buffer that grew is let go of.

use bytes::BytesMut;

use super::Connection;

/// The first read reservation, and the smallest: what an idle connection
/// costs at most.
const MIN_READ: usize = 4 * 1024;
/// The largest read reservation that repeated full reads grow to (never
/// more than [`Connection::receive_capacity`]).
const MAX_READ: usize = 1024 * 1024;
/// An input buffer that may have grown past this is let go of as soon as it
/// is empty, so a connection that once received a large message does not
/// keep a large buffer while idle.
const KEEP_BUFFER: usize = 8 * 1024;

/// The state of the read reservation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadSize {
    size: usize,
    /// The input buffer may have grown past [`KEEP_BUFFER`].
    big: bool,
}

impl Default for ReadSize {
    fn default() -> Self {
        Self {
            size: MIN_READ,
            big: false,
        }
    }
}

impl Connection {
    /// The input buffer to read into, and how many bytes to read now (at
    /// least one, so that a full buffer fails with its typed error rather
    /// than looking like the end of the stream). Append at most that many
    /// bytes, then tell [`read_done`](Self::read_done) how many came.
    pub fn read_buffer(&mut self) -> (&mut BytesMut, usize) {
        let cap = self.receive_capacity().max(1);
        if self.input.is_empty() && self.reads.big {
            // No frame in progress: start small again, and grow again if a
            // transfer follows.
            self.input = BytesMut::new();
            self.reads = ReadSize::default();
        }
        let want = self.reads.size.min(cap);
        if self.input.len() + want > KEEP_BUFFER {
            self.reads.big = true;
        }
        (&mut self.input, want)
    }

    /// Bytes received and not decoded yet: a frame in progress, or frames
    /// left for [`poll_event`](Self::poll_event).
    pub fn buffered_input(&self) -> usize {
        self.input.len()
    }

    /// Lets go of the input buffer if it holds nothing, so that a
    /// connection waiting for its peer holds no buffer at all (messages
    /// already decoded keep their bytes; the next input allocates anew).
    /// For a server with many idle connections, at the cost of an
    /// allocation per read.
    pub fn release_input(&mut self) {
        // Even with no capacity left, an emptied buffer may share the
        // allocation of the messages split from it: let go of it too.
        if self.input.is_empty() {
            self.input = BytesMut::new();
            self.reads.big = false;
        }
    }

    /// `n` bytes were read into [`read_buffer`](Self::read_buffer), which
    /// asked for `asked`; zero is the end of the stream.
    pub fn read_done(&mut self, asked: usize, n: usize) {
        if n == 0 {
            self.receive_eof();
        } else if n >= asked {
            // The transport had more than we asked for: ask for more.
            self.reads.size = asked.saturating_mul(2).clamp(MIN_READ, MAX_READ);
        } else if n < asked / 4 {
            self.reads.size = (self.reads.size / 2).max(MIN_READ);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WebSocketConfig;

    /// Reads `n` bytes (undecoded: a frame in progress) as the transport
    /// would, for a reservation of `want`.
    fn read(conn: &mut Connection, n: usize) -> usize {
        let (buf, want) = conn.read_buffer();
        let n = n.min(want);
        buf.extend_from_slice(&vec![0; n]);
        conn.read_done(want, n);
        want
    }

    #[test]
    fn the_reservation_doubles_on_full_reads_and_halves_on_short_ones() {
        let mut conn = Connection::server(WebSocketConfig::default());
        assert_eq!(read(&mut conn, usize::MAX), MIN_READ);
        assert_eq!(read(&mut conn, usize::MAX), 2 * MIN_READ);
        assert_eq!(read(&mut conn, usize::MAX), 4 * MIN_READ);
        // A read under a quarter of the reservation halves it.
        assert_eq!(read(&mut conn, 10), 8 * MIN_READ);
        // Between a quarter and all of it: unchanged.
        assert_eq!(read(&mut conn, 2 * MIN_READ), 4 * MIN_READ);
        assert_eq!(read(&mut conn, 1), 4 * MIN_READ);
        assert_eq!(conn.read_buffer().1, 2 * MIN_READ);
    }

    #[test]
    fn the_reservation_stops_at_the_largest_read_and_at_the_capacity() {
        let mut conn =
            Connection::server(WebSocketConfig::default().max_buffered_input(3 * MAX_READ));
        let mut wants = Vec::new();
        while conn.receive_capacity() > 0 {
            wants.push(read(&mut conn, usize::MAX));
        }
        assert!(wants.iter().all(|&w| w <= MAX_READ), "{wants:?}");
        assert!(wants.contains(&MAX_READ), "{wants:?}");
        // At the limit, one byte: the full buffer fails with its error.
        assert_eq!(conn.read_buffer().1, 1);
    }

    #[test]
    fn an_emptied_big_buffer_is_let_go_of_and_the_reservation_starts_again() {
        let mut conn = Connection::server(WebSocketConfig::default());
        for _ in 0..4 {
            read(&mut conn, usize::MAX);
        }
        assert!(conn.read_buffer().1 > KEEP_BUFFER);
        // The frame in progress is dropped (as decoding it would): empty.
        conn.input.clear();
        let (buf, want) = conn.read_buffer();
        assert_eq!(buf.capacity(), 0);
        assert_eq!(want, MIN_READ);
    }

    #[test]
    fn end_of_file_is_a_zero_read() {
        let mut conn = Connection::server(WebSocketConfig::default());
        let want = conn.read_buffer().1;
        conn.read_done(want, 0);
        assert_eq!(conn.receive_capacity(), 0);
        assert_eq!(conn.poll_event(), Err(crate::ProtocolError::UnexpectedEof));
    }

    #[test]
    fn an_empty_input_buffer_is_released_and_a_partial_frame_kept() {
        let mut conn = Connection::server(WebSocketConfig::default());
        // A masked text frame "hi", then half of another.
        let frame = [0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
        conn.receive(&frame);
        conn.receive(&frame[..3]);
        assert!(matches!(conn.poll_event(), Ok(Some(_))));
        assert_eq!(conn.poll_event().ok(), Some(None));
        assert_eq!(conn.buffered_input(), 3);
        conn.release_input();
        assert_eq!(conn.buffered_input(), 3, "a frame in progress is kept");
        conn.receive(&frame[3..]);
        assert!(matches!(conn.poll_event(), Ok(Some(_))));
        assert_eq!(conn.buffered_input(), 0);
        // The last message took the rest of the buffer whole; the first
        // shared its allocation. Once the emptied buffer is let go of,
        // nothing is held.
        conn.release_input();
        assert_eq!(conn.input.capacity(), 0, "nothing held while idle");
    }
}
