//! The buffer that connections' socket reads go into: one per thread,
//! zeroed once, lent to each read. A fresh buffer on the stack would be
//! zeroed at every read (16 KiB written per small message, and as much of
//! the CPU's cache evicted), and a buffer per connection would be held by
//! idle connections too.

use std::cell::Cell;

/// The buffer's size: the most bytes one read takes.
pub(crate) const SIZE: usize = server_proto::READ_CHUNK;

thread_local! {
    /// Taken out while a read uses it, so that a use within a use gets a
    /// buffer of its own instead of a panic.
    static BUF: Cell<Option<Box<[u8]>>> = const { Cell::new(None) };
}

/// Runs `read` on the first `len` bytes (at most [`SIZE`]) of this
/// thread's buffer. What it leaves there is not cleared: whatever `read`
/// passes on must be what it wrote.
pub(crate) fn with<T>(len: usize, read: impl FnOnce(&mut [u8]) -> T) -> T {
    let mut buf = BUF
        .take()
        .unwrap_or_else(|| vec![0; SIZE].into_boxed_slice());
    let out = read(&mut buf[..len.min(SIZE)]);
    BUF.set(Some(buf));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_is_lent_again_and_a_nested_use_gets_its_own() {
        let first = with(4, |buf| {
            assert_eq!(buf.len(), 4);
            buf.copy_from_slice(b"abcd");
            // Nested: the thread's buffer is out, so a new one, zeroed.
            with(SIZE + 1, |inner| {
                assert_eq!(inner.len(), SIZE);
                assert!(inner.iter().all(|&b| b == 0));
            });
            buf.as_ptr()
        });
        // The same buffer again, as the first use left it.
        with(4, |buf| {
            assert_eq!(buf.as_ptr(), first);
            assert_eq!(buf, b"abcd");
        });
    }
}
