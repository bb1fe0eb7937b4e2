//! An in-memory, bidirectional pipe with a bounded buffer each way, like
//! `tokio::io::duplex`, implementing both `futures-io`'s and tokio's I/O
//! traits: the async-std adapter's transport in the tests, which raw peers
//! drive through tokio's traits.
//!
//! A write takes as much as fits and waits when the buffer is full; a read
//! takes what is buffered and waits when it is empty. Closing (or
//! dropping) an end ends the other end's reads once they drained the
//! buffer; writing to an end whose peer is gone, or after closing it, is
//! `BrokenPipe`.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// One direction of a pipe.
#[derive(Debug)]
struct Direction {
    buf: VecDeque<u8>,
    max_buf: usize,
    /// The writing end closed (or was dropped).
    closed: bool,
    /// The reading end was dropped.
    reader_gone: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

impl Direction {
    fn new(max_buf: usize) -> Arc<Mutex<Self>> {
        Arc::new(Mutex::new(Self {
            buf: VecDeque::new(),
            max_buf: max_buf.max(1),
            closed: false,
            reader_gone: false,
            read_waker: None,
            write_waker: None,
        }))
    }

    fn wake_reader(&mut self) {
        if let Some(waker) = self.read_waker.take() {
            waker.wake();
        }
    }

    fn wake_writer(&mut self) {
        if let Some(waker) = self.write_waker.take() {
            waker.wake();
        }
    }
}

/// One end of a [`pipe`].
#[derive(Debug)]
pub struct Pipe {
    read: Arc<Mutex<Direction>>,
    write: Arc<Mutex<Direction>>,
}

/// Two connected ends, each direction buffering at most `max_buf` bytes.
pub fn pipe(max_buf: usize) -> (Pipe, Pipe) {
    let one = Direction::new(max_buf);
    let two = Direction::new(max_buf);
    (
        Pipe {
            read: Arc::clone(&one),
            write: Arc::clone(&two),
        },
        Pipe {
            read: two,
            write: one,
        },
    )
}

fn lock(direction: &Mutex<Direction>) -> MutexGuard<'_, Direction> {
    direction.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pipe {
    /// Reads at most `max` bytes, handing them to `put`.
    fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        max: usize,
        put: impl FnOnce(&[u8], &[u8]),
    ) -> Poll<io::Result<usize>> {
        let mut read = lock(&self.read);
        if max == 0 {
            return Poll::Ready(Ok(0));
        }
        if read.buf.is_empty() {
            if read.closed {
                return Poll::Ready(Ok(0));
            }
            read.read_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = max.min(read.buf.len());
        let (a, b) = read.buf.as_slices();
        let a = &a[..n.min(a.len())];
        let b = &b[..n - a.len()];
        put(a, b);
        read.buf.drain(..n);
        read.wake_writer();
        Poll::Ready(Ok(n))
    }

    fn poll_write_buf(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let mut write = lock(&self.write);
        if write.closed || write.reader_gone {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let room = write.max_buf.saturating_sub(write.buf.len());
        if room == 0 {
            write.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(data.len());
        write.buf.extend(&data[..n]);
        write.wake_reader();
        Poll::Ready(Ok(n))
    }

    fn close_write(&self) {
        let mut write = lock(&self.write);
        write.closed = true;
        write.wake_reader();
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.close_write();
        let mut read = lock(&self.read);
        read.reader_gone = true;
        read.wake_writer();
    }
}

impl futures_io::AsyncRead for Pipe {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.poll_read_with(cx, len, |a, b| {
            buf[..a.len()].copy_from_slice(a);
            buf[a.len()..a.len() + b.len()].copy_from_slice(b);
        })
    }
}

impl futures_io::AsyncWrite for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_buf(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.close_write();
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncRead for Pipe {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let max = buf.remaining();
        self.poll_read_with(cx, max, |a, b| {
            buf.put_slice(a);
            buf.put_slice(b);
        })
        .map_ok(|_| ())
    }
}

impl tokio::io::AsyncWrite for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_buf(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.close_write();
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::pipe;

    #[tokio::test]
    async fn bytes_go_through_in_pieces_both_ways_and_end() {
        let (mut a, mut b) = pipe(7);
        let data: Vec<u8> = (0..=255).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            a.write_all(&sent).await.unwrap();
            a.shutdown().await.unwrap();
            let mut back = Vec::new();
            a.read_to_end(&mut back).await.unwrap();
            back
        });
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, data);
        b.write_all(b"back").await.unwrap();
        drop(b);
        assert_eq!(writer.await.unwrap(), b"back");
    }

    #[tokio::test]
    async fn writing_to_a_dropped_peer_is_broken_pipe() {
        let (mut a, b) = pipe(16);
        drop(b);
        let err = a.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
