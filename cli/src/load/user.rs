//! One simulated user: opens a session, sends numbered messages (one at a
//! time, or at a rate), checks every echo, and counts what went wrong.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use adapter_tokio::sockjs::{connect_with, ClientOptions, Transport};
use adapter_tokio::Message;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::payload::{message, Echo, Flight};
use super::report::{ErrorKind, Stats};

/// How long a stopping user waits for the echoes still in flight.
pub(crate) const DRAIN: Duration = Duration::from_secs(5);

/// What every user does.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) url: String,
    pub(crate) options: ClientOptions,
    pub(crate) size: usize,
    /// Messages per second per user; `None`: one in flight at a time.
    pub(crate) rate: Option<f64>,
    /// Messages per user; `None`: until stopped.
    pub(crate) messages: Option<u64>,
    /// The local addresses users connect from, in turn.
    pub(crate) sources: Vec<std::net::IpAddr>,
}

/// User `id`'s whole life. `stop` turns true when the run ends.
pub(crate) async fn run(
    id: u32,
    plan: Arc<Plan>,
    stats: Arc<Stats>,
    mut stop: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let mut options = plan.options.clone();
    if !plan.sources.is_empty() {
        options = options.local_address(plan.sources[id as usize % plan.sources.len()]);
    }
    let mut session = match connect_with(&plan.url, options).await {
        Ok(session) => session,
        Err(e) => {
            tracing::debug!(target: "sockway::command::load", user = id, error = %e, "did not open");
            stats.error(ErrorKind::Connect, 1);
            return;
        }
    };
    stats.opened(label(session.transport()), started.elapsed());
    let mut ticker = plan.rate.map(|rate| {
        let period = Duration::from_secs_f64(1.0 / rate);
        // Users start their ticks spread over one period.
        let offset = period.mul_f64(f64::from(id % 1000) / 1000.0);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker
    });
    let mut flight = Flight::default();
    let mut seq = 0u64;
    let mut drain_until: Option<tokio::time::Instant> = None;
    loop {
        let all_sent = plan.messages.is_some_and(|m| seq >= m);
        if all_sent && drain_until.is_none() {
            // The last echoes get the same time as at the end of a run.
            drain_until = Some(tokio::time::Instant::now() + DRAIN);
        }
        let done_sending = drain_until.is_some();
        if done_sending && flight.is_empty() {
            break;
        }
        let may_send = !done_sending && (ticker.is_some() || flight.is_empty());
        let drain_at = drain_until.unwrap_or_else(|| tokio::time::Instant::now() + DRAIN);
        tokio::select! {
            biased;
            changed = stop.changed(), if drain_until.is_none() => {
                if changed.is_err() || *stop.borrow() {
                    drain_until = Some(tokio::time::Instant::now() + DRAIN);
                }
            }
            received = session.recv() => match received {
                Some(Message::Text(text)) => {
                    match flight.echo(id, plan.size, text.as_str(), Instant::now()) {
                        Echo::Ok(rtt) => stats.echo(rtt),
                        Echo::Reordered(_) => stats.error(ErrorKind::Reordered, 1),
                        Echo::Repeated => stats.error(ErrorKind::Repeated, 1),
                        Echo::Altered => stats.error(ErrorKind::Altered, 1),
                    }
                }
                Some(Message::Binary(_)) => stats.error(ErrorKind::Altered, 1),
                None => {
                    let closed = session.close_status();
                    tracing::debug!(
                        target: "sockway::command::load",
                        user = id,
                        closed = closed.as_ref().map(tracing::field::display),
                        "session closed"
                    );
                    stats.error(ErrorKind::Closed, 1);
                    stats.error(ErrorKind::Lost, flight.len() as u64);
                    stats.open.fetch_sub(1, Ordering::Relaxed);
                    return;
                }
            },
            () = tick(ticker.as_mut()), if may_send => {
                flight.sent(seq, Instant::now());
                if session.send_async(message(id, seq, plan.size)).await.is_err() {
                    // Closed: the receive branch sees the end next.
                    continue;
                }
                seq += 1;
            }
            () = tokio::time::sleep_until(drain_at), if drain_until.is_some() => break,
        }
    }
    stats.error(ErrorKind::Lost, flight.len() as u64);
    let _ = session.close(1000, "load run over");
    let _ = tokio::time::timeout(Duration::from_secs(2), session.closed()).await;
    stats.open.fetch_sub(1, Ordering::Relaxed);
}

/// A transport as `--transport` names it.
fn label(transport: Transport) -> &'static str {
    match transport {
        Transport::XhrStreaming => "xhr-streaming",
        Transport::Xhr => "xhr-polling",
        other => other.name(),
    }
}

/// The next tick of the rate, or at once without one.
async fn tick(ticker: Option<&mut tokio::time::Interval>) {
    if let Some(ticker) = ticker {
        ticker.tick().await;
    }
}
