//! [`Group`]: sessions that get the same messages (a chat room, the
//! subscribers of a topic), with each broadcast encoded once for all of
//! them.

use std::cell::OnceCell;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use sockjs_proto::PreparedText;
use ws_proto::{Message, PreparedMessage};

use crate::id_hash::IdMap;
use crate::mailbox::{Departures, WsItem};
use crate::session::{Outlet, SendError, SessionSender};

/// The most members of one SockJS endpoint sent a message under one lock
/// of its core: the endpoint's connections wait at most that long.
const SOCKJS_RUN: usize = 64;

/// A set of sessions that messages are sent to together: a room, the
/// subscribers of a feed. WebSocket and SockJS sessions, of any endpoint
/// of any server in the process (endpoints mounted apart in an axum
/// `Router` too), may be members of the same group.
///
/// Cheap to clone (the clones are the same group) and `Send + Sync`: keep
/// one in the application's state and use it from every handler.
///
/// ```
/// # fn chat(room: &server_proto::Group, session: &server_proto::Session, text: &str) {
/// room.join(session);
/// // Everyone else in the room gets the message; the author does not.
/// let delivery = room.send_except(text.to_owned(), session.id());
/// for (id, error) in &delivery.failed {
///     eprintln!("session {id} did not get it: {error}");
/// }
/// # }
/// ```
///
/// # Encoded once
///
/// [`send`](Self::send) encodes the message once for all the members: the
/// WebSocket frame (header and payload, as a server sends it) in one
/// buffer whose reference every WebSocket member's send buffer holds, and
/// for SockJS members the message as a JSON string, escaped once, whose
/// reference every session's message cache holds until the session's next
/// frame (`a[...]`) copies it in. Sending the message to each member's
/// [`SessionSender::send`] would encode (or copy and escape) it once per
/// member.
///
/// # Each member's limits
///
/// Each member is sent the message as its own
/// [`send`](SessionSender::send) would be: its send buffer's bound (and a
/// SockJS session's message cache) counts the message's bytes for that
/// member, and a member over its bound gets what its overflow strategy
/// says. With [`OverflowStrategy::Terminate`](ws_proto::OverflowStrategy::Terminate)
/// (the default) that member's session is closed with 4500 and it leaves
/// the group; with [`OverflowStrategy::DropOldest`](ws_proto::OverflowStrategy::DropOldest)
/// its oldest waiting messages make room and it gets this one. A send never
/// waits for a member: a slow client fills its own buffer, and neither
/// the other members nor the caller wait for it. The [`Delivery`] says who
/// did not get the message, and why.
///
/// # Members that close
///
/// A member whose session closes leaves the group by itself: from then on
/// [`len`](Self::len) and [`contains`](Self::contains) no longer count it
/// and sends skip it, and the group drops what it held of the session at
/// its next call. A member whose session takes no more sends (it is
/// closing: a WebSocket in its close handshake, a session that just
/// overflowed) leaves at the first send that finds it so, which reports it
/// in [`Delivery::failed`]. So a group never holds more than its open
/// members and those closed since its last call. [`leave`](Self::leave)
/// takes a member out before its session ends.
///
/// # Order and locking
///
/// Sends to one group go one after the other (a lock held for the
/// broadcast): every member gets the messages of concurrent sends in the
/// same order. A broadcast takes each WebSocket member's send-buffer lock
/// briefly, one member at a time, as `send` does, and the lock of a SockJS
/// endpoint's sessions once for up to 64 of its members (with one wake-up
/// for each), where each member's `send` would take it once. Members are
/// keyed by their session id ([`SessionSender::id`]), unique within the
/// process.
#[derive(Clone, Default)]
pub struct Group {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    members: Mutex<Members>,
    /// The members whose sessions closed; their inboxes push here.
    departures: Arc<Departures>,
}

#[derive(Default)]
struct Members {
    /// Each member's session id (kept here: reading it from the session
    /// would cost a cache miss per member and broadcast) and sender.
    list: Vec<(u64, SessionSender)>,
    /// Each member's place in `list`.
    index: IdMap<u64, usize>,
}

/// What a broadcast did: how many members got the message, and which
/// did not and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// Members whose send buffer took the message.
    pub delivered: usize,
    /// Members that did not get it, by session id, with the error their own
    /// [`send`](SessionSender::send) would have given:
    /// [`SendError::Closed`] (the session takes no more messages) and
    /// [`SendError::Overflow`] (the message took its send buffer over its
    /// bound: the session is now closed with 4500) take the member out of
    /// the group; [`SendError::Binary`] (a binary message to a SockJS
    /// session) skips it, and it stays.
    pub failed: Vec<(u64, SendError)>,
}

impl Group {
    /// An empty group.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a session (a [`Session`](crate::Session) or a
    /// [`SessionSender`]): `false` when it is a member already or no longer
    /// takes sends.
    pub fn join(&self, session: &impl AsRef<SessionSender>) -> bool {
        let sender = session.as_ref();
        if !sender.is_open() {
            return false;
        }
        let id = sender.id();
        let mut members = self.lock();
        self.apply_departures(&mut members);
        if members.index.contains_key(&id) || !sender.inbox.watch(&self.shared.departures, id) {
            return false;
        }
        let place = members.list.len();
        members.list.push((id, sender.clone()));
        members.index.insert(id, place);
        true
    }

    /// Takes the session `id` out of the group: `false` when it was not a
    /// member.
    pub fn leave(&self, id: u64) -> bool {
        let mut members = self.lock();
        self.apply_departures(&mut members);
        members.remove(id, &self.shared.departures)
    }

    /// Whether the session `id` is a member.
    pub fn contains(&self, id: u64) -> bool {
        let mut members = self.lock();
        self.apply_departures(&mut members);
        members.index.contains_key(&id)
    }

    /// How many members the group has.
    pub fn len(&self) -> usize {
        let mut members = self.lock();
        self.apply_departures(&mut members);
        members.list.len()
    }

    /// Whether the group has no member.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends a message to every member, encoded once (see the type's
    /// docs). SockJS members take text only: a binary message skips them.
    pub fn send(&self, message: impl Into<Message>) -> Delivery {
        self.broadcast(message.into(), None)
    }

    /// Sends a message to every member but the session `except` (the
    /// author of a chat message, say); as [`send`](Self::send).
    pub fn send_except(&self, message: impl Into<Message>, except: u64) -> Delivery {
        self.broadcast(message.into(), Some(except))
    }

    fn broadcast(&self, message: Message, except: Option<u64>) -> Delivery {
        let prepared = Prepared::new(message);
        let mut members = self.lock();
        self.apply_departures(&mut members);
        let mut delivery = Delivery::default();
        let mut gone = Vec::new();
        let mut record = |id: u64, sent: Result<(), SendError>| match sent {
            Ok(()) => delivery.delivered += 1,
            Err(SendError::Binary) => delivery.failed.push((id, SendError::Binary)),
            Err(e) => {
                delivery.failed.push((id, e));
                gone.push(id);
            }
        };
        let list = &members.list;
        let mut next = 0;
        while let Some((id, member)) = list.get(next) {
            match &member.outlet {
                Outlet::WebSocket(outbox) => {
                    if Some(*id) != except {
                        record(
                            *id,
                            outbox.send(WsItem::Prepared(prepared.websocket().clone())),
                        );
                    }
                    next += 1;
                }
                Outlet::SockJs(hub, _) => {
                    // The members that follow on the same endpoint: one
                    // lock of its core for them all.
                    let run = &list[next..list.len().min(next + SOCKJS_RUN)];
                    let len = run
                        .iter()
                        .take_while(|(_, m)| matches!(&m.outlet, Outlet::SockJs(h, _) if Arc::ptr_eq(h, hub)))
                        .count();
                    let run = run[..len].iter().filter(|(id, _)| Some(*id) != except);
                    match prepared.sockjs() {
                        Some(text) => {
                            let mut ids = run.clone().map(|(id, _)| *id);
                            let sessions = run.filter_map(|(_, m)| match &m.outlet {
                                Outlet::SockJs(_, session) => Some(*session),
                                Outlet::WebSocket(_) => None,
                            });
                            hub.send_prepared(sessions, text, |sent| {
                                if let Some(id) = ids.next() {
                                    record(id, sent);
                                }
                            });
                        }
                        None => {
                            for (id, _) in run {
                                record(*id, Err(SendError::Binary));
                            }
                        }
                    }
                    next += len;
                }
            }
        }
        for id in gone {
            members.remove(id, &self.shared.departures);
        }
        delivery
    }

    fn lock(&self) -> MutexGuard<'_, Members> {
        self.shared
            .members
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops the members whose sessions closed since the last call.
    fn apply_departures(&self, members: &mut Members) {
        let departed = std::mem::take(
            &mut *self
                .shared
                .departures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for id in departed {
            members.remove(id, &self.shared.departures);
        }
    }
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group").field("len", &self.len()).finish()
    }
}

impl Members {
    /// Takes `id` out, if it is a member.
    fn remove(&mut self, id: u64, departures: &Arc<Departures>) -> bool {
        let Some(place) = self.index.remove(&id) else {
            return false;
        };
        let (_, member) = self.list.swap_remove(place);
        if let Some((moved, _)) = self.list.get(place) {
            self.index.insert(*moved, place);
        }
        member.inbox.unwatch(departures);
        true
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let members = self
            .members
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, member) in &members.list {
            member.inbox.unwatch(&self.departures);
        }
    }
}

/// A broadcast's message with its encodings, each made once, when the
/// first member that needs it is sent the message.
pub(crate) struct Prepared {
    message: Message,
    websocket: OnceCell<PreparedMessage>,
    sockjs: OnceCell<Option<PreparedText>>,
}

impl Prepared {
    fn new(message: Message) -> Self {
        Self {
            message,
            websocket: OnceCell::new(),
            sockjs: OnceCell::new(),
        }
    }

    /// The frame WebSocket members share.
    pub(crate) fn websocket(&self) -> &PreparedMessage {
        self.websocket.get_or_init(|| {
            #[cfg(test)]
            tests::count_encoding(0);
            PreparedMessage::new(&self.message)
        })
    }

    /// The escaped text SockJS members share; `None` for a binary message.
    pub(crate) fn sockjs(&self) -> Option<&PreparedText> {
        self.sockjs
            .get_or_init(|| match &self.message {
                Message::Text(text) => {
                    #[cfg(test)]
                    tests::count_encoding(1);
                    Some(PreparedText::new(text.clone()))
                }
                Message::Binary(_) => None,
            })
            .as_ref()
    }
}

#[cfg(test)]
mod tests;
