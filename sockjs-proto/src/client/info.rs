//! `/info`: what the server offers, and the retransmission timeout that the
//! round trip of asking gives.

use std::time::{Duration, Instant};

use http::Method;
use http_proto::ResponseEvent;

use super::conns::{ConnId, Role};
use super::{Client, ClientError, Closed, Failure, Phase};
use crate::Transport;

/// The server's answer to `GET <prefix>/info`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// The server offers the websocket transport.
    pub websocket: bool,
    /// The server needs the session cookie (`JSESSIONID`) sent back: a
    /// load balancer routes by it.
    pub cookie_needed: bool,
    /// The origins the server accepts, as it lists them (`*:*`).
    pub origins: Vec<String>,
    /// The server's random number (unused by the client).
    pub entropy: u64,
}

/// The largest `/info` body read.
pub(crate) const MAX_INFO_BODY: usize = 16 * 1024;

impl Info {
    /// Reads an `/info` body: a JSON object with a boolean `websocket`.
    /// `cookie_needed` and `origins` are optional (false and empty when
    /// missing), unknown fields are ignored.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let object = value.as_object().ok_or("not a JSON object")?;
        let websocket = object
            .get("websocket")
            .and_then(serde_json::Value::as_bool)
            .ok_or("no boolean \"websocket\"")?;
        let cookie_needed = match object.get("cookie_needed") {
            None | Some(serde_json::Value::Null) => false,
            Some(v) => v.as_bool().ok_or("\"cookie_needed\" is not a boolean")?,
        };
        let origins = match object.get("origins") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(v) => v
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|o| o.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or("\"origins\" is not an array of strings")?,
        };
        let entropy = object
            .get("entropy")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        Ok(Self {
            websocket,
            cookie_needed,
            origins,
            entropy,
        })
    }
}

/// The retransmission timeout for a round trip of `rtt`, sockjs-client's
/// rule: `4 × rtt` over 100 ms, `rtt + 300 ms` up to it.
pub fn retransmission_timeout(rtt: Duration) -> Duration {
    if rtt > Duration::from_millis(100) {
        rtt.saturating_mul(4)
    } else {
        rtt + Duration::from_millis(300)
    }
}

/// The `/info` request in flight.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) conn: ConnId,
    started: Instant,
    pub(crate) deadline: Instant,
    body: Vec<u8>,
}

impl Client {
    /// Asks `/info`.
    pub(crate) fn start_info(&mut self, now: Instant) {
        let conn = self.open_conn(Role::Info);
        let request = self.request(Method::GET, "/info", None);
        self.conns.send_request(conn, &request, &[]);
        self.phase = Phase::Info(Pending {
            conn,
            started: now,
            deadline: now + self.config.info_timeout,
            body: Vec::new(),
        });
    }

    /// What the `/info` connection gave.
    pub(crate) fn info_event(&mut self, id: ConnId, event: ResponseEvent, now: Instant) {
        let Phase::Info(pending) = &mut self.phase else {
            return;
        };
        match event {
            ResponseEvent::Head(head) => {
                if head.status() != http::StatusCode::OK {
                    self.fail_conn(id, Failure::Status(head.status().as_u16()), now);
                    return;
                }
                self.cookies.update(head.headers());
            }
            ResponseEvent::Data(data) => {
                pending.body.extend_from_slice(&data);
                if pending.body.len() > MAX_INFO_BODY {
                    let failure = Failure::BadInfo(format!("larger than {MAX_INFO_BODY} bytes"));
                    self.fail_conn(id, failure, now);
                }
            }
            ResponseEvent::End => match Info::parse(&pending.body) {
                Ok(info) => {
                    let rtt = now.saturating_duration_since(pending.started);
                    self.info_done(id, info, rtt, now);
                }
                Err(why) => self.fail_conn(id, Failure::BadInfo(why), now),
            },
            _ => {}
        }
    }

    /// `/info` answered: keep its connection for the transports, try them.
    fn info_done(&mut self, id: ConnId, info: Info, rtt: Duration, now: Instant) {
        self.rto = retransmission_timeout(rtt);
        if self.conns.http_reusable(id) {
            self.conns.set_role(id, Role::Idle);
        } else {
            self.close_conn(id);
        }
        self.remaining = self
            .config
            .transports
            .iter()
            .copied()
            .filter(|&t| t != Transport::WebSocket || info.websocket)
            .collect();
        self.info = Some(info);
        self.start_next(now);
    }

    /// `/info` failed: sockjs-client's 1002 "Cannot connect to server".
    pub(crate) fn info_failed(&mut self, failure: Failure) {
        let error = ClientError::Info(failure);
        let closed = Closed::new(1002, "Cannot connect to server", Some(error));
        self.finish(closed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_answers() {
        let info = Info::parse(
            br#"{"websocket":true,"origins":["*:*"],"cookie_needed":false,"entropy":2147483647}"#,
        );
        assert_eq!(
            info,
            Ok(Info {
                websocket: true,
                cookie_needed: false,
                origins: vec!["*:*".into()],
                entropy: 2_147_483_647,
            })
        );
        let spring = Info::parse(
            br#"{"entropy":-1,"origins":["*:*"],"cookie_needed":true,"websocket":false}"#,
        )
        .unwrap();
        assert!(!spring.websocket && spring.cookie_needed);
        assert_eq!(
            Info::parse(br#"{"websocket":false}"#).map(|i| i.origins.len()),
            Ok(0)
        );
    }

    #[test]
    fn bodies_that_are_not_info() {
        for body in [
            &b""[..],
            b"[]",
            b"{}",
            br#"{"websocket":"yes"}"#,
            br#"{"websocket":true,"cookie_needed":1}"#,
            br#"{"websocket":true,"origins":[1]}"#,
            br#"{"websocket":true}x"#,
        ] {
            assert!(
                Info::parse(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn rto_follows_sockjs_client() {
        let ms = Duration::from_millis;
        assert_eq!(retransmission_timeout(ms(0)), ms(300));
        assert_eq!(retransmission_timeout(ms(100)), ms(400));
        assert_eq!(retransmission_timeout(ms(101)), ms(404));
        assert_eq!(retransmission_timeout(ms(2000)), ms(8000));
    }
}
