//! [`Fifo`]: a queue that holds one item without allocating.

use std::collections::VecDeque;

/// A first-in first-out queue that holds one item without allocating and
/// frees its buffer when it empties.
///
/// A connection's queues (messages to send, messages received, bytes to
/// write) hold one item at a time while traffic is one message each way,
/// and nothing while the connection is idle. A [`VecDeque`] keeps the
/// buffer of its busiest moment for the rest of its life: several hundred
/// bytes per idle connection across its queues. A `Fifo` keeps its oldest
/// item inline and the others in a `VecDeque` that is dropped when the
/// queue empties, so an idle connection's queues hold no heap, and traffic
/// of one message at a time never allocates.
#[derive(Debug, Clone)]
pub struct Fifo<T> {
    /// The oldest item; `None` only when the queue is empty.
    head: Option<T>,
    /// The items after `head`, oldest first.
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
    pub fn push_back(&mut self, item: T) {
        if self.head.is_none() {
            self.head = Some(item);
        } else {
            self.rest.push_back(item);
        }
    }

    /// Takes the item at the front. The buffer is freed when the queue
    /// empties.
    pub fn pop_front(&mut self) -> Option<T> {
        let item = self.head.take()?;
        self.head = self.rest.pop_front();
        if self.head.is_none() && self.rest.capacity() > 0 {
            self.rest = VecDeque::new();
        }
        Some(item)
    }

    /// The item at the front.
    pub fn front(&self) -> Option<&T> {
        self.head.as_ref()
    }

    /// The item at the front, to change in place.
    pub fn front_mut(&mut self) -> Option<&mut T> {
        self.head.as_mut()
    }

    /// How many items wait.
    pub fn len(&self) -> usize {
        usize::from(self.head.is_some()) + self.rest.len()
    }

    /// Whether no item waits.
    pub fn is_empty(&self) -> bool {
        self.head.is_none()
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

    /// The size of the buffer, in items (0 when at most one item waits).
    pub fn buffer_capacity(&self) -> usize {
        self.rest.capacity()
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
        for i in 0..5 {
            q.push_back(i);
        }
        assert_eq!(q.len(), 5);
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(q.pop_front(), Some(0));
        q.push_back(5);
        assert_eq!(q.front(), Some(&1));
        *q.front_mut().unwrap() = 10;
        let mut popped = Vec::new();
        while let Some(i) = q.pop_front() {
            popped.push(i);
        }
        assert_eq!(popped, [10, 2, 3, 4, 5]);
        assert!(q.is_empty());
        assert_eq!(q.pop_front(), None);
    }

    #[test]
    fn one_item_at_a_time_never_allocates_and_an_emptied_queue_holds_no_buffer() {
        let mut q = Fifo::new();
        for i in 0..100 {
            q.push_back(i);
            assert_eq!(q.buffer_capacity(), 0);
            assert_eq!(q.pop_front(), Some(i));
        }
        q.push_back(1);
        q.push_back(2);
        assert!(q.buffer_capacity() > 0);
        q.pop_front();
        assert!(
            q.buffer_capacity() > 0,
            "one item still waits in the buffer"
        );
        q.pop_front();
        assert_eq!(q.buffer_capacity(), 0);

        q.push_back(1);
        q.push_back(2);
        assert_eq!(q.drain().collect::<Vec<_>>(), [1, 2]);
        assert_eq!((q.len(), q.buffer_capacity()), (0, 0));

        q.push_back(1);
        q.push_back(2);
        q.clear();
        assert_eq!((q.len(), q.buffer_capacity()), (0, 0));
    }

    #[test]
    fn drain_empties_the_queue_even_when_not_consumed() {
        let mut q = Fifo::new();
        for i in 0..6 {
            q.push_back(i);
        }
        drop(q.drain());
        assert!(q.is_empty());
        assert_eq!(q.buffer_capacity(), 0);
        q.push_back(7);
        assert_eq!((&q).into_iter().copied().collect::<Vec<_>>(), [7]);
    }
}
