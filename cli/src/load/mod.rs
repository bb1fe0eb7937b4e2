//! `sockway load`: simulates many concurrent SockJS users against an echo
//! endpoint, checks every echo byte for byte, and reports throughput,
//! round-trip percentiles (an HDR histogram), connect times, errors by
//! kind and the generator's own CPU per message.

mod payload;
mod report;
mod user;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use adapter_tokio::sockjs::{ClientOptions, Transport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;
use tokio::time::Instant;

pub use payload::MIN_SIZE;
use report::Stats;
pub use report::{ErrorKind, Percentiles, Report};
use user::Plan;

/// The transports `load` can be told to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportChoice {
    /// The client's fallback order: websocket, xhr-streaming, xhr-polling.
    Auto,
    /// The websocket transport only.
    Websocket,
    /// xhr-streaming only.
    XhrStreaming,
    /// xhr-polling only.
    XhrPolling,
}

/// What a load run does.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The SockJS echo endpoint, `http://host:port/prefix`.
    pub url: String,
    /// Concurrent users (sessions).
    pub users: u32,
    /// The transport each user asks for.
    pub transport: TransportChoice,
    /// Message size in bytes (at least [`MIN_SIZE`]).
    pub size: usize,
    /// Messages per second per user; `None`: one in flight per user.
    pub rate: Option<f64>,
    /// Users start evenly over this time.
    pub ramp_up: Duration,
    /// The measured window, after the ramp-up; or
    pub duration: Option<Duration>,
    /// a number of messages per user, all counted.
    pub messages: Option<u64>,
    /// How long a session may take to open.
    pub connect_timeout: Duration,
    /// Show the live progress line (on stderr, when it is a terminal).
    pub progress: bool,
    /// Local addresses the users connect from, in turn (user `i` from
    /// `sources[i % len]`); empty: the system's choice.
    pub sources: Vec<IpAddr>,
}

/// Parses `--source-ips`: addresses and ranges of IPv4 addresses
/// (`127.0.0.1-127.0.0.20`), separated by commas.
pub fn parse_sources(text: &str) -> Result<Vec<IpAddr>, String> {
    let mut sources = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("{part:?}: not an address or a range a.b.c.d-a.b.c.e");
        match part.split_once('-') {
            None => sources.push(part.parse().map_err(|_| bad())?),
            Some((first, last)) => {
                let first: Ipv4Addr = first.trim().parse().map_err(|_| bad())?;
                let last: Ipv4Addr = last.trim().parse().map_err(|_| bad())?;
                let (first, last) = (u32::from(first), u32::from(last));
                if last < first || last - first >= 65_536 {
                    return Err(bad());
                }
                sources.extend((first..=last).map(|a| IpAddr::V4(Ipv4Addr::from(a))));
            }
        }
    }
    if sources.is_empty() {
        return Err("no address".into());
    }
    Ok(sources)
}

impl LoadOptions {
    fn client_options(&self) -> ClientOptions {
        let mut options = ClientOptions::default()
            .connect_timeout(Some(self.connect_timeout))
            // Under load the opening round trips grow; give each transport
            // a fair share of the connect timeout rather than 2 × rto.
            .transport_timeout(self.connect_timeout / 4);
        // A server busy with the users already in answers `/info` late:
        // that is a slow open, not a failed one, within the connect timeout.
        options.config_mut().info_timeout = self.connect_timeout;
        match self.transport {
            TransportChoice::Auto => options,
            TransportChoice::Websocket => options.transports([Transport::WebSocket]),
            TransportChoice::XhrStreaming => options.transports([Transport::XhrStreaming]),
            TransportChoice::XhrPolling => options.transports([Transport::Xhr]),
        }
    }
}

/// This process's user and system CPU time (`/proc/self/stat`, in the
/// kernel's USER_HZ ticks of 10 ms).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name, which ends with the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

/// The live line: sessions open, the echo rate, errors.
#[allow(clippy::cast_precision_loss)] // a rate shown to a few digits
fn progress(options: &LoadOptions, stats: &Arc<Stats>) -> Option<tokio::task::JoinHandle<()>> {
    if !options.progress {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let stats = Arc::clone(stats);
    let users = options.users;
    Some(tokio::spawn(async move {
        let mut last = (Instant::now(), 0u64);
        let mut ticker = tokio::time::interval(Duration::from_millis(250));
        loop {
            ticker.tick().await;
            let echoes = stats.echoes.load(Ordering::Relaxed);
            let now = Instant::now();
            let rate =
                (echoes - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-3);
            last = (now, echoes);
            bar.set_message(format!(
                "users {}/{users} open | {rate:.0} msgs/s | errors {}",
                stats.open.load(Ordering::Relaxed),
                stats.errors()
            ));
            bar.tick();
        }
    }))
}

/// Runs the load and reports; the report counts errors, the caller
/// decides what they mean.
pub async fn run(options: LoadOptions) -> Result<Report, String> {
    let uri: adapter_tokio::http::Uri = options
        .url
        .parse()
        .map_err(|e| format!("{}: {e}", options.url))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!(
            "{}: the URL must be http:// or https://",
            options.url
        ));
    }
    if options.users == 0 {
        return Err("--users must be at least 1".into());
    }
    if options.size < MIN_SIZE {
        return Err(format!(
            "--size must be at least {MIN_SIZE} (the user and sequence number)"
        ));
    }
    if options.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err("--rate must be a positive number of messages per second".into());
    }
    let plan = Arc::new(Plan {
        url: options.url.clone(),
        options: options.client_options(),
        size: options.size,
        rate: options.rate,
        messages: options.messages,
        sources: options.sources.clone(),
    });
    let stats = Arc::new(Stats::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let progress = progress(&options, &stats);
    let start = tokio::time::Instant::now();
    let counted_from_start = options.duration.is_none();
    stats.recording.store(counted_from_start, Ordering::Relaxed);
    let (cpu_start, window_start) = (cpu_time(), Instant::now());
    let mut users = tokio::task::JoinSet::new();
    for id in 0..options.users {
        let at = start
            + options
                .ramp_up
                .mul_f64(f64::from(id) / f64::from(options.users));
        let (plan, stats, stop) = (Arc::clone(&plan), Arc::clone(&stats), stop_rx.clone());
        users.spawn(async move {
            tokio::time::sleep_until(at).await;
            user::run(id, plan, stats, stop).await;
        });
    }
    let report = if let Some(duration) = options.duration {
        // Everyone opened (or failed), or the ramp-up and the connect
        // timeout are over: the window starts.
        let settled = start + options.ramp_up + options.connect_timeout;
        while tokio::time::Instant::now() < settled {
            let opened = stats.open.load(Ordering::Relaxed) + stats.connect_failures();
            if opened >= u64::from(options.users) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (cpu0, t0) = (cpu_time(), Instant::now());
        stats.recording.store(true, Ordering::Relaxed);
        tokio::time::sleep(duration).await;
        stats.recording.store(false, Ordering::Relaxed);
        let report = stats.report(
            options.users,
            options.size,
            t0.elapsed(),
            cpu_time().saturating_sub(cpu0),
        );
        let _ = stop_tx.send(true);
        while users.join_next().await.is_some() {}
        // Errors found while the users drained count too.
        stats.report_errors_into(report)
    } else {
        while users.join_next().await.is_some() {}
        stats.report(
            options.users,
            options.size,
            window_start.elapsed(),
            cpu_time().saturating_sub(cpu_start),
        )
    };
    if let Some(progress) = progress {
        progress.abort();
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_and_ranges() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(parse_sources("127.0.0.1"), Ok(vec![ip("127.0.0.1")]));
        assert_eq!(
            parse_sources("127.0.0.1-127.0.0.3, ::1"),
            Ok(vec![
                ip("127.0.0.1"),
                ip("127.0.0.2"),
                ip("127.0.0.3"),
                ip("::1")
            ])
        );
        assert_eq!(
            parse_sources("127.0.0.255-127.0.1.0").map(|v| v.len()),
            Ok(2)
        );
        for bad in [
            "",
            "x",
            "127.0.0.3-127.0.0.1",
            "::1-::2",
            "10.0.0.0-10.1.0.0",
        ] {
            assert!(parse_sources(bad).is_err(), "{bad}");
        }
    }
}
