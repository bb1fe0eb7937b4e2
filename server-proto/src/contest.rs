//! A receiving request (a poll, a stream) that finds its session's
//! receiver still attached waits a little for that receiver's connection
//! to end before it goes through the core.
//!
//! A client that aborts a poll or a stream and at once sends the next
//! request closes the first connection before it opens the second: the
//! first one's end of file reaches the server's kernel before the second
//! request. The runtime can still hand the server the second request
//! first (tokio's multi-threaded runtime, for one, learns of the first
//! socket's end from its event loop, which may run later), and the client
//! would get `c[2010,"Another connection still open"]` where the session is
//! in fact interrupted (`c[1002,"Connection interrupted"]`).
//!
//! So the contender wakes the holder's connection (a runtime that reads
//! the socket when woken finds the end at once) and waits until the holder
//! is gone or [`GRACE`] has passed, whichever comes first; then the core
//! answers what is true by then. Clients do not contend on purpose
//! (sockjs-client never holds two receiving requests of a session), so
//! the wait costs nothing but the answer's delay to a client that does.

use std::task::Waker;
use std::time::Duration;

use sockjs_proto::ReceiverId;

use crate::id_hash::IdMap;

/// How long a contender waits at most for the holder to go. On two cores,
/// a poll sent right after its session's poll was aborted took at most
/// 7.5 ms from request to answer on tokio's runtime (two threads), 9.5 on
/// async-std's and 18.7 on smol's, in 200 to 500 tries each; the wait
/// delays nothing but a `c[2010,...]` answer.
pub(crate) const GRACE: Duration = Duration::from_millis(50);

/// The open contests of one endpoint, by the receiver contended for: the
/// contenders waiting, by connection (or exchange) id, with their wakers.
#[derive(Default)]
pub(crate) struct Contests {
    open: IdMap<ReceiverId, Vec<(u64, Waker)>>,
}

impl Contests {
    /// A request contends for `holder`'s place: the contest is open until
    /// the holder is gone ([`decide`](Self::decide)).
    pub(crate) fn enter(&mut self, holder: ReceiverId) {
        self.open.entry(holder).or_default();
    }

    /// Whether the contest for `holder` is still open; contender `id`'s
    /// `waker` is woken when it is decided.
    pub(crate) fn waits(&mut self, holder: ReceiverId, id: u64, waker: &Waker) -> bool {
        let Some(contenders) = self.open.get_mut(&holder) else {
            return false;
        };
        match contenders.iter_mut().find(|(c, _)| *c == id) {
            Some((_, w)) if w.will_wake(waker) => {}
            Some((_, w)) => w.clone_from(waker),
            None => contenders.push((id, waker.clone())),
        }
        true
    }

    /// Contender `id` waits no more (it went on, or it is gone).
    pub(crate) fn withdraw(&mut self, holder: ReceiverId, id: u64) {
        if let Some(contenders) = self.open.get_mut(&holder) {
            contenders.retain(|(c, _)| *c != id);
        }
    }

    /// `holder` is gone: its contenders go on.
    pub(crate) fn decide(&mut self, holder: ReceiverId) {
        if let Some(contenders) = self.open.remove(&holder) {
            for (_, waker) in contenders {
                waker.wake();
            }
        }
    }

    /// The contenders waiting for `holder` (`None`: no open contest).
    #[cfg(test)]
    fn contenders(&self, holder: ReceiverId) -> Option<usize> {
        self.open.get(&holder).map(Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wake_count::WakeCount;

    /// Two receivers of a core's: the ids come from it.
    #[allow(clippy::disallowed_methods)] // the one instant the core needs here
    fn receivers() -> (ReceiverId, ReceiverId) {
        use sockjs_proto::{Answer, RequestContext, Server, SockJsConfig};
        let mut server = Server::new("/echo", SockJsConfig::default(), 1).expect("a valid config");
        let now = std::time::Instant::now();
        let ctx = RequestContext::new(std::time::SystemTime::UNIX_EPOCH);
        let mut open = |id: &str| {
            let req = http::Request::post(format!("/echo/000/{id}/xhr_streaming"))
                .body(bytes::Bytes::new())
                .expect("a request");
            match server.handle_request(&req, &ctx, now) {
                Answer::Stream { receiver, .. } => receiver,
                other => panic!("not a stream: {other:?}"),
            }
        };
        (open("a"), open("b"))
    }

    #[test]
    fn the_holders_end_wakes_each_waiting_contender_once() {
        let (holder, other) = receivers();
        let mut contests = Contests::default();
        let (first, first_waker) = WakeCount::new();
        let (second, second_waker) = WakeCount::new();
        assert!(!contests.waits(holder, 1, &first_waker), "no contest");
        contests.enter(holder);
        assert!(contests.waits(holder, 1, &first_waker));
        assert!(contests.waits(holder, 1, &first_waker));
        contests.enter(holder);
        assert!(contests.waits(holder, 2, &second_waker));
        assert_eq!(contests.contenders(holder), Some(2), "each once");
        contests.decide(other);
        assert_eq!((first.count(), second.count()), (0, 0), "another's end");
        contests.decide(holder);
        assert_eq!((first.count(), second.count()), (1, 1));
        assert!(!contests.waits(holder, 1, &first_waker), "decided");
        contests.decide(holder);
        assert_eq!((first.count(), second.count()), (1, 1), "decided once");
    }

    #[test]
    fn a_contender_that_went_on_is_not_kept_nor_woken() {
        let (holder, _) = receivers();
        let mut contests = Contests::default();
        let (gone, gone_waker) = WakeCount::new();
        let (stays, stays_waker) = WakeCount::new();
        contests.enter(holder);
        assert!(contests.waits(holder, 1, &gone_waker));
        assert!(contests.waits(holder, 2, &stays_waker));
        contests.withdraw(holder, 1);
        assert_eq!(contests.contenders(holder), Some(1));
        contests.decide(holder);
        assert_eq!((gone.count(), stays.count()), (0, 1));
        contests.withdraw(holder, 2);
        assert_eq!(contests.contenders(holder), None);
    }

    #[test]
    fn a_contender_polled_with_a_new_waker_is_woken_through_it() {
        let (holder, _) = receivers();
        let mut contests = Contests::default();
        let (old, old_waker) = WakeCount::new();
        let (new, new_waker) = WakeCount::new();
        contests.enter(holder);
        assert!(contests.waits(holder, 1, &old_waker));
        assert!(contests.waits(holder, 1, &new_waker));
        assert_eq!(contests.contenders(holder), Some(1));
        contests.decide(holder);
        assert_eq!((old.count(), new.count()), (0, 1));
    }
}
