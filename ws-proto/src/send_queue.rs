//! A bounded queue of outgoing messages, for sessions that many tasks send
//! on while one connection drains them at the pace of its peer.
//!
//! The bound is on the bytes waiting behind the message being written: a
//! message always fits in an empty queue, however large (its size has its
//! own limits), so the bound limits how far the sender may run ahead of the
//! peer, not how large a message may be. What happens when a send would go
//! over it is the [`OverflowStrategy`]: close the session (the default; nothing
//! already accepted is dropped silently), or drop the oldest waiting
//! messages (for feeds where only the latest state matters).

use bytes::Bytes;

use crate::{Fifo, Message};

/// What a [`SendQueue`] does when a message would take it over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OverflowStrategy {
    /// Refuse the message: the session is no longer reliable and should be
    /// closed (SockJS and Spring close it with 4500).
    #[default]
    Terminate,
    /// Drop the oldest waiting messages until the queue is within its limit
    /// again, or holds only the new message.
    DropOldest,
}

/// A message's size, as counted against a [`SendQueue`]'s limit.
pub trait QueueItem {
    /// Bytes this item holds.
    fn queued_size(&self) -> usize;
}

impl QueueItem for String {
    fn queued_size(&self) -> usize {
        self.len()
    }
}

impl QueueItem for Bytes {
    fn queued_size(&self) -> usize {
        self.len()
    }
}

impl QueueItem for Message {
    fn queued_size(&self) -> usize {
        self.len()
    }
}

/// The queue refused a message ([`OverflowStrategy::Terminate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the send buffer is full ({limit} bytes)")]
pub struct Overflow {
    /// The limit that would have been passed.
    pub limit: usize,
}

/// A FIFO of outgoing messages with a limit on the bytes they hold.
#[derive(Debug, Clone)]
pub struct SendQueue<M> {
    items: Fifo<M>,
    bytes: usize,
    limit: usize,
    strategy: OverflowStrategy,
}

impl<M: QueueItem> SendQueue<M> {
    /// An empty queue that holds at most `limit` bytes.
    pub fn new(limit: usize, strategy: OverflowStrategy) -> Self {
        Self {
            items: Fifo::new(),
            bytes: 0,
            limit,
            strategy,
        }
    }

    /// Appends a message. A message always fits in an empty queue. Else,
    /// with [`OverflowStrategy::Terminate`] a message that would take the
    /// queue over its limit is refused (and given back); with
    /// [`OverflowStrategy::DropOldest`] it is taken and the count of older
    /// messages dropped to make room is returned.
    pub fn push(&mut self, message: M) -> Result<usize, (Overflow, M)> {
        let size = message.queued_size();
        if self.items.is_empty() || self.bytes.saturating_add(size) <= self.limit {
            self.bytes += size;
            self.items.push_back(message);
            return Ok(0);
        }
        match self.strategy {
            OverflowStrategy::Terminate => Err((Overflow { limit: self.limit }, message)),
            OverflowStrategy::DropOldest => {
                self.bytes += size;
                self.items.push_back(message);
                let mut dropped = 0;
                while self.bytes > self.limit && self.items.len() > 1 {
                    let Some(old) = self.items.pop_front() else {
                        break;
                    };
                    self.bytes -= old.queued_size();
                    dropped += 1;
                }
                Ok(dropped)
            }
        }
    }

    /// Whether the queue holds less than its limit: a producer that waits
    /// for room (backpressure, instead of the overflow strategy) waits
    /// while this is false, then hands its message to
    /// [`push_waited`](Self::push_waited).
    pub fn has_room(&self) -> bool {
        self.bytes < self.limit
    }

    /// Appends a message from a producer that waited for
    /// [`has_room`](Self::has_room): it is taken even if it carries the
    /// queue past its limit, so such a queue holds at most its limit plus
    /// one message, and the overflow strategy never applies.
    pub fn push_waited(&mut self, message: M) {
        self.bytes += message.queued_size();
        self.items.push_back(message);
    }

    /// Takes the oldest message.
    pub fn pop(&mut self) -> Option<M> {
        let message = self.items.pop_front()?;
        self.bytes -= message.queued_size();
        Some(message)
    }

    /// Takes every waiting message, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = M> + '_ {
        self.bytes = 0;
        self.items.drain()
    }

    /// The waiting messages, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &M> + '_ {
        self.items.iter()
    }

    /// How many messages wait.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no message waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes the waiting messages hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The overflow strategy.
    pub fn strategy(&self) -> OverflowStrategy {
        self.strategy
    }

    /// Drops every waiting message.
    pub fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(limit: usize, strategy: OverflowStrategy) -> SendQueue<String> {
        SendQueue::new(limit, strategy)
    }

    #[test]
    fn counts_bytes_in_and_out() {
        let mut q = queue(10, OverflowStrategy::Terminate);
        assert_eq!(q.push("abc".into()), Ok(0));
        assert_eq!(q.push("defg".into()), Ok(0));
        assert_eq!((q.len(), q.bytes()), (2, 7));
        assert_eq!(q.pop().as_deref(), Some("abc"));
        assert_eq!(q.bytes(), 4);
        assert_eq!(q.drain().collect::<Vec<_>>(), ["defg"]);
        assert_eq!((q.len(), q.bytes()), (0, 0));
    }

    #[test]
    fn terminate_refuses_the_message_that_overflows_and_keeps_the_rest() {
        let mut q = queue(10, OverflowStrategy::Terminate);
        q.push("0123456789".into()).unwrap();
        let (err, back) = q.push("x".into()).unwrap_err();
        assert_eq!(err, Overflow { limit: 10 });
        assert_eq!(back, "x");
        assert_eq!(q.iter().collect::<Vec<_>>(), ["0123456789"]);
        assert_eq!(q.bytes(), 10);
    }

    #[test]
    fn a_waited_push_goes_past_the_limit_by_one_message_and_room_comes_back_on_pop() {
        for strategy in [OverflowStrategy::Terminate, OverflowStrategy::DropOldest] {
            let mut q = queue(10, strategy);
            assert!(q.has_room());
            q.push_waited("0123456".into());
            assert!(q.has_room(), "7 of 10 bytes");
            q.push_waited("789abc".into());
            assert_eq!(
                (q.len(), q.bytes()),
                (2, 13),
                "nothing dropped, none refused"
            );
            assert!(!q.has_room(), "13 of 10 bytes");
            assert_eq!(q.pop().as_deref(), Some("0123456"));
            assert!(q.has_room(), "6 of 10 bytes");
            q.push_waited("defg".into());
            assert!(!q.has_room(), "exactly at the limit is full");
        }
    }

    #[test]
    fn drop_oldest_makes_room_for_the_newest() {
        let mut q = queue(10, OverflowStrategy::DropOldest);
        for m in ["aaaa", "bbbb", "cc"] {
            assert_eq!(q.push(m.into()), Ok(0));
        }
        assert_eq!(q.push("ddddd".into()), Ok(2));
        assert_eq!(q.iter().collect::<Vec<_>>(), ["cc", "ddddd"]);
        assert_eq!(q.bytes(), 7);
    }

    #[test]
    fn drop_oldest_stops_once_the_queue_is_back_at_its_limit() {
        let mut q = queue(10, OverflowStrategy::DropOldest);
        q.push("aaaa".into()).unwrap();
        q.push("bbbb".into()).unwrap();
        assert_eq!(
            q.push("cccccc".into()),
            Ok(1),
            "14 bytes: drop to 10, no further"
        );
        assert_eq!(q.iter().collect::<Vec<_>>(), ["bbbb", "cccccc"]);
        assert_eq!(q.bytes(), 10);
    }

    #[test]
    fn is_empty_follows_the_waiting_messages() {
        let mut q = queue(10, OverflowStrategy::Terminate);
        assert!(q.is_empty());
        q.push("a".into()).unwrap();
        assert!(!q.is_empty());
        q.pop();
        assert!(q.is_empty());
        q.push("b".into()).unwrap();
        q.clear();
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
    }

    #[test]
    fn the_limit_and_strategy_are_the_ones_it_was_made_with() {
        for (limit, strategy) in [
            (10, OverflowStrategy::Terminate),
            (4096, OverflowStrategy::DropOldest),
        ] {
            let q = queue(limit, strategy);
            assert_eq!((q.limit(), q.strategy()), (limit, strategy));
        }
    }

    #[test]
    fn every_item_type_counts_its_payload_bytes() {
        assert_eq!(String::from("h\u{e9}llo").queued_size(), 6);
        assert_eq!(Bytes::from_static(b"abcde").queued_size(), 5);
        assert_eq!(Bytes::new().queued_size(), 0);
        assert_eq!(Message::from("h\u{e9}").queued_size(), 3);
        assert_eq!(Message::from(vec![0u8; 7]).queued_size(), 7);
        let mut q = SendQueue::new(8, OverflowStrategy::Terminate);
        q.push(Bytes::from_static(b"abcde")).unwrap();
        assert_eq!(q.bytes(), 5);
        assert!(q.push(Bytes::from_static(b"1234")).is_err(), "9 > 8");
    }

    #[test]
    fn drop_oldest_keeps_a_message_larger_than_the_limit_alone() {
        let mut q = queue(4, OverflowStrategy::DropOldest);
        q.push("ab".into()).unwrap();
        assert_eq!(q.push("0123456789".into()), Ok(1));
        assert_eq!(q.iter().collect::<Vec<_>>(), ["0123456789"]);
        assert_eq!(q.bytes(), 10);
    }

    #[test]
    fn any_message_fits_in_an_empty_queue() {
        for strategy in [OverflowStrategy::Terminate, OverflowStrategy::DropOldest] {
            let mut q = queue(4, strategy);
            assert_eq!(q.push("0123456789".into()), Ok(0));
            assert_eq!(q.bytes(), 10);
        }
        let mut q = queue(4, OverflowStrategy::Terminate);
        q.push("0123456789".into()).unwrap();
        assert!(q.push("a".into()).is_err(), "nothing fits behind it");
    }
}
