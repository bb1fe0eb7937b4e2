//! What a load run counts while it runs ([`Stats`]) and what it reports
//! at the end ([`Report`]): for people, and as one JSON object.

// Rates and means of counts, shown to a few digits.
#![allow(clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hdrhistogram::Histogram;

/// The kinds of errors a run counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// A session that did not open.
    Connect,
    /// A message whose echo never came.
    Lost,
    /// An echo that came twice, or of a message never sent.
    Repeated,
    /// An echo that came after a later message's.
    Reordered,
    /// An echo whose bytes are not the message's.
    Altered,
    /// A session that closed before the run ended.
    Closed,
}

impl ErrorKind {
    const ALL: [Self; 6] = [
        Self::Connect,
        Self::Lost,
        Self::Repeated,
        Self::Reordered,
        Self::Altered,
        Self::Closed,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Lost => "lost",
            Self::Repeated => "repeated",
            Self::Reordered => "reordered",
            Self::Altered => "altered",
            Self::Closed => "closed",
        }
    }
}

/// Counters every user adds to; read live by the progress display.
#[derive(Debug)]
pub(crate) struct Stats {
    /// Sessions open now.
    pub(crate) open: AtomicU64,
    /// Sessions that opened, by transport name.
    pub(crate) transports: Mutex<BTreeMap<&'static str, u64>>,
    /// Whether echoes count now (the measured window).
    pub(crate) recording: AtomicBool,
    /// Verified echoes in the window.
    pub(crate) messages: AtomicU64,
    /// Verified echoes since the start, for the live rate.
    pub(crate) echoes: AtomicU64,
    errors: [AtomicU64; 6],
    /// Round trips in the window, in microseconds.
    pub(crate) rtt: Mutex<Histogram<u64>>,
    /// Time to open each session, in microseconds.
    pub(crate) connect: Mutex<Histogram<u64>>,
}

/// A histogram of microseconds from 1 µs to an hour, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).expect("3 digits"))
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            open: AtomicU64::new(0),
            transports: Mutex::default(),
            recording: AtomicBool::new(false),
            messages: AtomicU64::new(0),
            echoes: AtomicU64::new(0),
            errors: Default::default(),
            rtt: Mutex::new(histogram()),
            connect: Mutex::new(histogram()),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

impl Stats {
    /// Counts `n` errors of `kind`.
    pub(crate) fn error(&self, kind: ErrorKind, n: u64) {
        if n > 0 {
            self.errors[kind as usize].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Errors of every kind so far.
    pub(crate) fn errors(&self) -> u64 {
        self.errors.iter().map(|e| e.load(Ordering::Relaxed)).sum()
    }

    /// Sessions that did not open.
    pub(crate) fn connect_failures(&self) -> u64 {
        self.errors[ErrorKind::Connect as usize].load(Ordering::Relaxed)
    }

    fn error_counts(&self) -> BTreeMap<&'static str, u64> {
        ErrorKind::ALL
            .iter()
            .map(|&k| (k.name(), self.errors[k as usize].load(Ordering::Relaxed)))
            .collect()
    }

    /// `report` with the errors counted until now (the users' drain after
    /// the window finds the lost ones).
    pub(crate) fn report_errors_into(&self, mut report: Report) -> Report {
        report.errors = self.error_counts();
        report
    }

    /// A verified echo that took `rtt`.
    pub(crate) fn echo(&self, rtt: Duration) {
        self.echoes.fetch_add(1, Ordering::Relaxed);
        if self.recording.load(Ordering::Relaxed) {
            self.messages.fetch_add(1, Ordering::Relaxed);
            let mut h = self
                .rtt
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            h.saturating_record(micros(rtt));
        }
    }

    /// A session opened on `transport` after `took`.
    pub(crate) fn opened(&self, transport: &'static str, took: Duration) {
        self.open.fetch_add(1, Ordering::Relaxed);
        *self
            .transports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(transport)
            .or_default() += 1;
        self.connect
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .saturating_record(micros(took));
    }

    /// The report of a run: `window` long, of `users` users sending `size`
    /// bytes, having used `cpu` of this process's time during the window.
    pub(crate) fn report(
        &self,
        users: u32,
        size: usize,
        window: Duration,
        cpu: Duration,
    ) -> Report {
        let messages = self.messages.load(Ordering::Relaxed);
        let seconds = window.as_secs_f64().max(1e-9);
        let rtt = self
            .rtt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let connect = self
            .connect
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let errors = self.error_counts();
        Report {
            users,
            opened: connect.len(),
            transports: self
                .transports
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
            size,
            window_s: window.as_secs_f64(),
            messages,
            msgs_per_s: messages as f64 / seconds,
            bytes_per_s: (messages as f64) * (size as f64) * 2.0 / seconds,
            errors,
            rtt_us: Percentiles::of(&rtt),
            connect_us: Percentiles::of(&connect),
            cpu_s: cpu.as_secs_f64(),
            cpu_us_per_msg: if messages == 0 {
                None
            } else {
                Some(cpu.as_secs_f64() * 1e6 / messages as f64)
            },
            cpu_percent: cpu.as_secs_f64() * 100.0 / seconds,
            rss_kib: own_rss_kib(),
        }
    }
}

/// This process's resident memory in KiB, from `/proc/self/status`.
fn own_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Percentiles of a histogram of microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    /// The median.
    pub p50: u64,
    /// The 90th percentile.
    pub p90: u64,
    /// The 99th percentile.
    pub p99: u64,
    /// The 99.9th percentile.
    pub p99_9: u64,
    /// The largest value.
    pub max: u64,
    /// The mean.
    pub mean: f64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Self {
        Self {
            p50: h.value_at_quantile(0.5),
            p90: h.value_at_quantile(0.9),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "p50": self.p50, "p90": self.p90, "p99": self.p99,
            "p99_9": self.p99_9, "max": self.max, "mean": (self.mean * 10.0).round() / 10.0,
        })
    }
}

/// The end of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// Users started.
    pub users: u32,
    /// Sessions that opened.
    pub opened: u64,
    /// Sessions that opened, by transport.
    pub transports: BTreeMap<&'static str, u64>,
    /// Message size in bytes.
    pub size: usize,
    /// The measured window.
    pub window_s: f64,
    /// Verified echoes in the window.
    pub messages: u64,
    /// Verified echoes per second.
    pub msgs_per_s: f64,
    /// Message bytes both ways per second.
    pub bytes_per_s: f64,
    /// Errors by kind, over the whole run.
    pub errors: BTreeMap<&'static str, u64>,
    /// Round trips in the window.
    pub rtt_us: Percentiles,
    /// Times to open a session.
    pub connect_us: Percentiles,
    /// This process's CPU time in the window.
    pub cpu_s: f64,
    /// `cpu_s` per verified echo, in microseconds.
    pub cpu_us_per_msg: Option<f64>,
    /// `cpu_s` over the window, in percent of one core.
    pub cpu_percent: f64,
    /// This process's resident memory at the end of the window, in KiB
    /// (`/proc/self/status`).
    pub rss_kib: Option<u64>,
}

impl Report {
    /// Errors of every kind.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The report as one JSON object.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "users": self.users,
            "opened": self.opened,
            "transports": self.transports,
            "size": self.size,
            "window_s": self.window_s,
            "messages": self.messages,
            "msgs_per_s": self.msgs_per_s.round(),
            "bytes_per_s": self.bytes_per_s.round(),
            "errors": self.error_total(),
            "errors_by_kind": self.errors,
            "latency_us": self.rtt_us.json(),
            "connect_us": self.connect_us.json(),
            "cpu_s": self.cpu_s,
            "cpu_us_per_msg": self.cpu_us_per_msg,
            "cpu_percent": self.cpu_percent.round(),
            "rss_kib": self.rss_kib,
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transports: Vec<String> = self
            .transports
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        writeln!(
            f,
            "sessions  {} of {} opened ({})",
            self.opened,
            self.users,
            transports.join(", ")
        )?;
        writeln!(
            f,
            "messages  {} verified echoes of {} B in {:.1} s: {:.0} msgs/s, {:.0} KiB/s",
            self.messages,
            self.size,
            self.window_s,
            self.msgs_per_s,
            self.bytes_per_s / 1024.0
        )?;
        let r = &self.rtt_us;
        writeln!(
            f,
            "latency   µs p50 {} p90 {} p99 {} p99.9 {} max {} (mean {:.0})",
            r.p50, r.p90, r.p99, r.p99_9, r.max, r.mean
        )?;
        let c = &self.connect_us;
        writeln!(
            f,
            "connect   µs p50 {} p90 {} p99 {} max {}",
            c.p50, c.p90, c.p99, c.max
        )?;
        let kinds: Vec<String> = self
            .errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        writeln!(f, "errors    {} ({})", self.error_total(), kinds.join(", "))?;
        let per_msg = self
            .cpu_us_per_msg
            .map_or("-".to_owned(), |c| format!("{c:.1}"));
        write!(
            f,
            "generator CPU {:.2} s in the window ({:.0} % of one core), {per_msg} µs per message; RSS {} KiB",
            self.cpu_s,
            self.cpu_percent,
            self.rss_kib.map_or("-".to_owned(), |k| k.to_string())
        )
    }
}
