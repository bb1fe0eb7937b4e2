//! The messages of a load run and their check: each carries its user and
//! sequence number, and a filler that depends on both, so that an echo
//! that is lost, repeated, reordered or altered is told apart.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

/// The smallest message: `uuuuuuuu:ssssssssssss:`.
pub const MIN_SIZE: usize = 22;

/// Message `seq` of user `user`, `size` bytes long (at least [`MIN_SIZE`]).
pub(crate) fn message(user: u32, seq: u64, size: usize) -> String {
    let mut text = format!("{user:08x}:{seq:012x}:");
    let filler = b'a' + ((u64::from(user) + seq) % 26) as u8;
    while text.len() < size {
        text.push(char::from(filler));
    }
    text
}

/// What an echo turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Echo {
    /// The echo of a message in flight, in order: its round trip.
    Ok(Duration),
    /// The echo of a message in flight, after a later one's.
    Reordered(Duration),
    /// The echo of a message whose echo came already, or never sent.
    Repeated,
    /// Not an echo of this user's: other bytes. It answers (and ends the
    /// wait for) the oldest message in flight.
    Altered,
}

/// The messages of one user in flight, and what came back.
#[derive(Debug, Default)]
pub(crate) struct Flight {
    sent: BTreeMap<u64, Instant>,
    highest: Option<u64>,
}

impl Flight {
    /// Message `seq` went out at `at`.
    pub(crate) fn sent(&mut self, seq: u64, at: Instant) {
        self.sent.insert(seq, at);
    }

    /// Messages in flight.
    pub(crate) fn len(&self) -> usize {
        self.sent.len()
    }

    /// Whether nothing is in flight.
    pub(crate) fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }

    /// Gives up on the oldest message in flight: a wrong answer took its
    /// place.
    fn drop_oldest(&mut self) {
        self.sent.pop_first();
    }

    /// Checks `text`, an echo received at `now` by `user` sending messages
    /// of `size` bytes.
    pub(crate) fn echo(&mut self, user: u32, size: usize, text: &str, now: Instant) -> Echo {
        let Some(seq) = parse(user, text).filter(|&seq| text == message(user, seq, size)) else {
            self.drop_oldest();
            return Echo::Altered;
        };
        let Some(at) = self.sent.remove(&seq) else {
            return Echo::Repeated;
        };
        let rtt = now.saturating_duration_since(at);
        if self.highest.is_some_and(|h| seq < h) {
            return Echo::Reordered(rtt);
        }
        self.highest = Some(seq);
        Echo::Ok(rtt)
    }
}

/// The sequence number of `text`, if it is `user`'s.
fn parse(user: u32, text: &str) -> Option<u64> {
    let (owner, rest) = text.split_once(':')?;
    let (seq, _) = rest.split_once(':')?;
    if u32::from_str_radix(owner, 16).ok()? != user || owner.len() != 8 || seq.len() != 12 {
        return None;
    }
    u64::from_str_radix(seq, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_their_size_and_owner() {
        let m = message(7, 42, 64);
        assert_eq!(m.len(), 64);
        assert!(m.starts_with("00000007:00000000002a:"));
        assert_eq!(message(7, 42, 0).len(), MIN_SIZE);
        assert_ne!(message(7, 42, 64), message(7, 43, 64));
    }

    #[test]
    fn echoes_are_told_apart() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_millis(3);
        let mut flight = Flight::default();
        for seq in 0..4 {
            flight.sent(seq, t0);
        }
        let size = 40;
        assert_eq!(
            flight.echo(1, size, &message(1, 0, size), later),
            Echo::Ok(Duration::from_millis(3))
        );
        assert_eq!(
            flight.echo(1, size, &message(1, 0, size), later),
            Echo::Repeated
        );
        assert_eq!(
            flight.echo(1, size, &message(1, 2, size), later),
            Echo::Ok(Duration::from_millis(3))
        );
        assert_eq!(
            flight.echo(1, size, &message(1, 1, size), later),
            Echo::Reordered(Duration::from_millis(3))
        );
        assert_eq!(flight.len(), 1);
        let mut altered = message(1, 3, size);
        altered.pop();
        altered.push('!');
        assert_eq!(flight.echo(1, size, &altered, later), Echo::Altered);
        assert!(flight.is_empty(), "the altered echo answered message 3");
        flight.sent(4, t0);
        flight.sent(5, t0);
        assert_eq!(
            flight.echo(1, size, &message(2, 5, size), later),
            Echo::Altered
        );
        assert_eq!(flight.echo(1, size, "nonsense", later), Echo::Altered);
        assert!(flight.is_empty());
    }
}
