//! [`Fifo`]: a queue that holds one item without allocating.

use std::collections::VecDeque;

/// The most bytes of buffer a queue keeps when it empties: a larger one
/// (left by a burst) is freed, a smaller one is kept for the next burst.
/// A burst that outgrows it costs a handful of allocations for its 64 or
/// more items, and nothing per item.
const KEEP_BYTES: usize = 4096;

/// A first-in first-out queue that holds one item without allocating.
///
/// A connection's queues (messages to send, messages received, bytes to
/// write) hold one item at a time while traffic is one message each way,
/// and nothing while the connection is idle; a [`VecDeque`] allocates for
/// its first item and keeps the buffer of its busiest moment for the rest
/// of its life. A `Fifo` keeps a lone item inline and takes a buffer only
/// when two wait at once. Once it has a buffer it is a plain `VecDeque`
/// (traffic that queues several items at a time, such as pipelined
/// messages, allocates nothing per message); when it empties it keeps the
/// buffer if that is at most 4 KiB, and frees it otherwise. So an idle
/// connection's queues hold no heap unless traffic once queued two items,
/// and then at most 4 KiB each.
#[derive(Debug, Clone)]
pub struct Fifo<T> {
    /// The lone item while the queue has no buffer; always `None` once it
    /// has one (the items are then all in `rest`).
    head: Option<T>,
    /// The items, oldest first, while the queue has a buffer.
    rest: VecDeque<T>,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Fifo<T> {
    /// An empty queue (no allocation).
    pub const fn new() -> Self {
        Self {
            head: None,
            rest: VecDeque::new(),
        }
    }

    /// Adds `item` at the back.
    #[inline]
    pub fn push_back(&mut self, item: T) {
        if self.rest.capacity() != 0 {
            self.rest.push_back(item);
        } else if self.head.is_none() {
            self.head = Some(item);
        } else {
            self.spill(item);
        }
    }

    /// A second item while the first is inline: both go to a new buffer.
    #[cold]
    fn spill(&mut self, item: T) {
        self.rest.extend(self.head.take());
        self.rest.push_back(item);
    }

    /// Takes the item at the front. A buffer over 4 KiB is freed when the
    /// queue empties.
    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        if self.head.is_some() {
            return self.head.take();
        }
        let item = self.rest.pop_front()?;
        if self.rest.is_empty() && self.rest.capacity() * std::mem::size_of::<T>() > KEEP_BYTES {
            self.rest = VecDeque::new();
        }
        Some(item)
    }

    /// The item at the front.
    #[inline]
    pub fn front(&self) -> Option<&T> {
        self.head.as_ref().or_else(|| self.rest.front())
    }

    /// The item at the front, to change in place.
    #[inline]
    pub fn front_mut(&mut self) -> Option<&mut T> {
        match &mut self.head {
            Some(item) => Some(item),
            None => self.rest.front_mut(),
        }
    }

    /// How many items wait.
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.len()
    }

    /// Whether no item waits.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.head.is_none() && self.rest.is_empty()
    }

    /// The items, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.head.iter().chain(self.rest.iter())
    }

    /// Takes every item, oldest first; the queue is empty (and holds no
    /// buffer) at once, whether or not the iterator is consumed.
    pub fn drain(&mut self) -> impl DoubleEndedIterator<Item = T> {
        let head = self.head.take();
        head.into_iter().chain(std::mem::take(&mut self.rest))
    }

    /// Drops every item, and the buffer.
    pub fn clear(&mut self) {
        self.head = None;
        self.rest = VecDeque::new();
    }

    /// The size of the buffer, in items (0 while it has none).
    pub fn buffer_capacity(&self) -> usize {
        self.rest.capacity()
    }
}

impl<T> Extend<T> for Fifo<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push_back(item);
        }
    }
}

impl<'a, T> IntoIterator for &'a Fifo<T> {
    type Item = &'a T;
    type IntoIter =
        std::iter::Chain<std::option::Iter<'a, T>, std::collections::vec_deque::Iter<'a, T>>;

    fn into_iter(self) -> Self::IntoIter {
        self.head.iter().chain(self.rest.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_in_first_out_across_the_inline_item_and_the_buffer() {
        let mut q = Fifo::new();
        q.push_back(0);
        assert_eq!((q.front(), q.len()), (Some(&0), 1));
        for i in 1..5 {
            q.push_back(i);
        }
        assert_eq!(q.len(), 5);
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(q.pop_front(), Some(0));
        q.extend([5]);
        assert_eq!(q.front(), Some(&1));
        *q.front_mut().unwrap() = 10;
        let mut popped = Vec::new();
        while let Some(i) = q.pop_front() {
            popped.push(i);
        }
        assert_eq!(popped, [10, 2, 3, 4, 5]);
        assert!(q.is_empty());
        assert_eq!(q.pop_front(), None);
        assert_eq!(q.front(), None);
    }

    #[test]
    fn one_item_at_a_time_never_allocates() {
        let mut q = Fifo::new();
        for i in 0..100 {
            q.push_back(i);
            assert_eq!(q.buffer_capacity(), 0);
            *q.front_mut().unwrap() += 1;
            assert_eq!(q.pop_front(), Some(i + 1));
        }
    }

    #[test]
    fn a_small_buffer_is_kept_for_the_next_burst_and_a_large_one_freed() {
        let mut q = Fifo::<u64>::new();
        q.push_back(1);
        q.push_back(2);
        let small = q.buffer_capacity();
        assert!(small >= 2 && small * 8 <= KEEP_BYTES);
        while q.pop_front().is_some() {}
        assert_eq!(q.buffer_capacity(), small, "kept: the next burst reuses it");
        q.push_back(3);
        assert_eq!((q.buffer_capacity(), q.front()), (small, Some(&3)));
        q.push_back(4);
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), [3, 4]);
        while q.pop_front().is_some() {}

        for i in 0..1000 {
            q.push_back(i);
        }
        assert!(q.buffer_capacity() * 8 > KEEP_BYTES);
        for i in 0..1000 {
            assert_eq!(q.pop_front(), Some(i));
        }
        assert_eq!(q.buffer_capacity(), 0, "a buffer over 4 KiB is freed");
        q.push_back(7);
        assert_eq!((q.buffer_capacity(), q.pop_front()), (0, Some(7)));
    }

    #[test]
    fn drain_and_clear_empty_the_queue_and_free_its_buffer() {
        let mut q = Fifo::new();
        for i in 0..6 {
            q.push_back(i);
        }
        assert_eq!(q.drain().collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
        assert_eq!((q.len(), q.buffer_capacity()), (0, 0));

        for i in 0..6 {
            q.push_back(i);
        }
        drop(q.drain());
        assert!(q.is_empty());
        assert_eq!(q.buffer_capacity(), 0);

        q.push_back(1);
        assert_eq!(q.drain().collect::<Vec<_>>(), [1]);
        q.push_back(1);
        q.push_back(2);
        q.clear();
        assert_eq!((q.len(), q.buffer_capacity()), (0, 0));
        q.push_back(7);
        assert_eq!((&q).into_iter().copied().collect::<Vec<_>>(), [7]);
    }
}
