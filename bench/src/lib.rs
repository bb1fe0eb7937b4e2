//! Shared pieces of the echo and broadcast benchmarks: the peer servers'
//! command line and runtime, the CPU accounting that the load generators
//! read from `/proc`, and the report of a measured window.

use std::io::{self, Write as _};
use std::net::SocketAddr;

/// The command line every peer echo server takes.
#[derive(Debug, clap::Parser)]
pub struct PeerArgs {
    /// The address to listen on (port 0: any free port, printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The tokio runtime: `current` (single-threaded, as the peers' own
    /// echo examples run) or `multi` (as `sockway serve` runs: one worker
    /// per CPU the process may use, so one under `taskset -c 0`).
    #[arg(long, value_enum, default_value_t = Flavor::Current)]
    pub runtime: Flavor,
}

/// A tokio runtime flavor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Flavor {
    /// `new_current_thread`.
    Current,
    /// `new_multi_thread` with the default worker count.
    Multi,
}

impl Flavor {
    /// Builds the runtime, with I/O and timers enabled.
    pub fn build(self) -> io::Result<tokio::runtime::Runtime> {
        match self {
            Self::Current => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build(),
            Self::Multi => tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build(),
        }
    }
}

/// Binds the listener and prints `listening on http://ADDR` (the line
/// `sockway serve` prints, which the script waits for).
pub async fn listen(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let mut out = io::stdout().lock();
    writeln!(out, "listening on http://{}", listener.local_addr()?)?;
    out.flush()?;
    Ok(listener)
}

/// CPU time from `/proc` and `getrusage`.
pub mod cpu {
    use std::io;
    use std::time::Duration;

    /// Clock ticks per second (`getconf CLK_TCK`), the unit of
    /// `/proc/<pid>/stat`'s `utime` and `stime`.
    pub fn clock_ticks_per_second() -> u64 {
        // SAFETY: sysconf takes an integer and touches no memory of ours.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100)
    }

    /// User plus system CPU time of process `pid` (all its threads), in
    /// clock ticks, from `/proc/<pid>/stat` fields 14 and 15.
    pub fn process_ticks(pid: u32) -> io::Result<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        parse_stat_ticks(&stat).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/<pid>/stat")
        })
    }

    /// `utime + stime` from the text of a `/proc/<pid>/stat` file. The
    /// command name (field 2) may hold spaces and parentheses, so the fields
    /// are counted from the last `)`.
    pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
        let rest = &stat[stat.rfind(')')? + 1..];
        let mut fields = rest.split_ascii_whitespace();
        // After the `)`: field 3 (state) is index 0, so utime (field 14) is
        // index 11 and stime (15) index 12.
        let utime: u64 = fields.nth(11)?.parse().ok()?;
        let stime: u64 = fields.next()?.parse().ok()?;
        Some(utime + stime)
    }

    /// Nanoseconds on a CPU and nanoseconds runnable but waiting for one
    /// (in a run queue, while other work had the CPU), summed over the
    /// threads of process `pid` (`/proc/<pid>/task/*/schedstat`). Threads
    /// that ended are not counted.
    pub fn sched_times(pid: u32) -> io::Result<(u64, u64)> {
        let mut total = (0, 0);
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
            let Ok(text) = std::fs::read_to_string(task?.path().join("schedstat")) else {
                continue; // the thread ended meanwhile
            };
            let mut fields = text.split_ascii_whitespace().map(str::parse::<u64>);
            if let (Some(Ok(run)), Some(Ok(wait))) = (fields.next(), fields.next()) {
                total.0 += run;
                total.1 += wait;
            }
        }
        Ok(total)
    }

    /// The resident memory of process `pid` in KiB (`VmRSS` of
    /// `/proc/<pid>/status`).
    pub fn rss_kib(pid: u32) -> io::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| io::Error::other("no VmRSS line"))
    }

    /// The number of threads of process `pid` (`/proc/<pid>/task`).
    pub fn thread_count(pid: u32) -> io::Result<usize> {
        Ok(std::fs::read_dir(format!("/proc/{pid}/task"))?.count())
    }

    /// This process's user plus system CPU time (`getrusage`, microsecond
    /// resolution).
    pub fn own_cpu_time() -> Duration {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes one `rusage` into the pointer it gets,
        // which points at a zeroed, properly aligned `rusage`.
        let usage = unsafe {
            if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
                return Duration::ZERO;
            }
            usage.assume_init()
        };
        let tv = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        tv(usage.ru_utime) + tv(usage.ru_stime)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stat_fields_are_counted_from_the_last_parenthesis() {
            let stat = "4242 (a b) c)) S 1 2 3 4 5 6 7 8 9 10 111 222 13 14 15";
            assert_eq!(parse_stat_ticks(stat), Some(333));
            assert_eq!(parse_stat_ticks("garbage"), None);
        }

        #[test]
        fn own_process_has_a_stat_line() {
            assert!(process_ticks(std::process::id()).is_ok());
            assert!(thread_count(std::process::id()).unwrap_or(0) >= 1);
            assert!(sched_times(std::process::id()).is_ok());
        }
    }
}

/// What `ws-load`, `sockjs-load` and `bcast-load` print for one run (one
/// JSON line), and what `ws-report` reads back.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunReport {
    /// The server's label (`sockway`, `tokio-websockets`, ...).
    pub server: String,
    /// The workload's name.
    pub workload: String,
    /// The round of the comparison this run belongs to.
    pub round: u32,
    /// `throughput` (K messages kept in flight) or `rate` (fixed rate).
    pub mode: String,
    /// Connections.
    pub conns: usize,
    /// Messages kept in flight per connection (the cap, in `rate` mode).
    pub inflight: usize,
    /// Message size in bytes.
    pub size: usize,
    /// Binary messages (text otherwise).
    pub binary: bool,
    /// The fixed rate asked for, messages per second over all connections.
    pub target_rate: Option<f64>,
    /// The measured window, in seconds (after the warm-up).
    pub window_s: f64,
    /// The warm-up, in seconds.
    pub warmup_s: f64,
    /// Echoes received and verified in the window.
    pub msgs: u64,
    /// `msgs` per second.
    pub msgs_per_s: f64,
    /// Echoed payload per second, in MB (10^6 bytes), one direction.
    pub mb_per_s: f64,
    /// The server's process id, when given.
    pub server_pid: Option<u32>,
    /// The server's thread count at the end of the window.
    pub server_threads: Option<usize>,
    /// The server's CPU time (user + system, all threads) in the window.
    pub server_cpu_s: Option<f64>,
    /// `server_cpu_s` over the window, in percent of one core.
    pub server_cpu_pct: Option<f64>,
    /// The server's CPU time per echoed message, in microseconds.
    pub server_us_per_msg: Option<f64>,
    /// How long the server's threads were runnable but waited for a CPU
    /// (other work on its core), in percent of the window.
    pub server_wait_pct: Option<f64>,
    /// The load generator's CPU time over the window, in percent of one core.
    pub gen_cpu_pct: f64,
    /// How long the load generator waited for its CPU, in percent of the
    /// window.
    pub gen_wait_pct: f64,
    /// The load generator's CPU time per echoed message, in microseconds.
    pub gen_us_per_msg: f64,
    /// The load generator used or waited for (nearly) all of its core
    /// (CPU time plus run-queue wait over the window): the figures may show
    /// the generator's limit, not the server's.
    pub gen_saturated: bool,
    /// The server used or waited for (nearly) all of its core.
    pub server_saturated: bool,
    /// `server`, `generator`, `both` or `neither` (latency- or rate-bound).
    pub bottleneck: String,
    /// Round-trip time (send to verified echo) percentiles in the window,
    /// in microseconds.
    pub rtt_p50_us: f64,
    /// See `rtt_p50_us`.
    pub rtt_p99_us: f64,
    /// See `rtt_p50_us`.
    pub rtt_max_us: f64,
    /// The server's resident memory at the end of the window, in KiB
    /// (`--server-pid`; the `idle` mode).
    #[serde(default)]
    pub server_rss_kib: Option<f64>,
    /// What each connection added to the server's resident memory, in
    /// KiB: the growth from before the first connection to the end of
    /// the window, over the connections (the `idle` mode).
    #[serde(default)]
    pub server_kib_per_conn: Option<f64>,
    /// The broadcast run's own figures (`bcast-load`; the `broadcast`
    /// mode). There `msgs` are the copies delivered (every member's, the
    /// publisher's own included), `server_us_per_msg` the server's CPU time
    /// per delivered copy, and the round trips the time from a message's
    /// publish to each copy's arrival.
    #[serde(default)]
    pub broadcast: Option<Broadcast>,
    /// Connections that failed (protocol error, wrong echo, closed early).
    pub errors: u64,
    /// The first failure, if any.
    pub error: Option<String>,
}

/// What a broadcast run was and how long its messages took to reach every
/// member (see [`RunReport::broadcast`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Broadcast {
    /// `websocket` (plain WebSocket) or `sockjs-websocket` (SockJS frames
    /// over the websocket transport).
    pub transport: String,
    /// Subscribers (the publisher, also a member, comes on top).
    pub subscribers: usize,
    /// Messages published.
    pub messages: u64,
    /// Messages published per second.
    pub publish_rate: f64,
    /// Copies every member should have received: messages × (subscribers
    /// + 1).
    pub copies_expected: u64,
    /// Over the messages, the median time from a message's publish until
    /// its last copy arrived, in microseconds.
    pub last_copy_p50_us: f64,
    /// The same, the slowest message.
    pub last_copy_max_us: f64,
    /// How long opening every subscriber took, in seconds.
    pub connect_s: f64,
    /// How long the settle check took (probes until every member heard
    /// the same one), in seconds.
    pub settle_s: f64,
    /// Probes sent by the settle check.
    pub probes: u32,
}

/// The counters and CPU times at one edge of a load generator's measured
/// window.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    at: std::time::Instant,
    received: u64,
    bytes: u64,
    server_ticks: Option<u64>,
    server_sched: Option<(u64, u64)>,
    own_cpu: std::time::Duration,
    own_sched: (u64, u64),
}

impl Snapshot {
    /// Now: `received` echoes of `bytes` payload so far, and the CPU times
    /// of this process and of the server `server_pid`.
    pub fn take(received: u64, bytes: u64, server_pid: Option<u32>) -> Result<Self, String> {
        let server_ticks = server_pid
            .map(|pid| {
                cpu::process_ticks(pid).map_err(|e| format!("/proc/{pid}/stat: {e} (server gone?)"))
            })
            .transpose()?;
        Ok(Self {
            at: std::time::Instant::now(),
            received,
            bytes,
            server_ticks,
            server_sched: server_pid.and_then(|pid| cpu::sched_times(pid).ok()),
            own_cpu: cpu::own_cpu_time(),
            own_sched: cpu::sched_times(std::process::id()).unwrap_or_default(),
        })
    }
}

/// What a run was, for its report.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// See [`RunReport::server`].
    pub server: String,
    /// See [`RunReport::workload`].
    pub workload: String,
    /// See [`RunReport::round`].
    pub round: u32,
    /// See [`RunReport::mode`].
    pub mode: String,
    /// See [`RunReport::conns`].
    pub conns: usize,
    /// See [`RunReport::inflight`].
    pub inflight: usize,
    /// See [`RunReport::size`].
    pub size: usize,
    /// See [`RunReport::binary`].
    pub binary: bool,
    /// See [`RunReport::target_rate`].
    pub target_rate: Option<f64>,
    /// See [`RunReport::warmup_s`].
    pub warmup_s: f64,
    /// See [`RunReport::server_pid`].
    pub server_pid: Option<u32>,
    /// CPU use (with run-queue wait) over the window at which a process
    /// counts as saturated.
    pub saturation: f64,
}

/// The round trips of a window: p50, p99 and max, in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct RttSummary {
    /// See [`RunReport::rtt_p50_us`].
    pub p50_us: f64,
    /// See [`RunReport::rtt_p99_us`].
    pub p99_us: f64,
    /// See [`RunReport::rtt_max_us`].
    pub max_us: f64,
}

impl RunReport {
    /// The report of the window between `first` and `last`.
    pub fn from_window(
        info: RunInfo,
        first: &Snapshot,
        last: &Snapshot,
        rtt: RttSummary,
        errors: u64,
        error: Option<String>,
    ) -> Self {
        let window = last.at.duration_since(first.at).as_secs_f64();
        let msgs = last.received - first.received;
        // No echo: 0 rather than NaN (which JSON cannot carry); such a run
        // has failed anyway.
        let per_msg_us = |cpu_s: f64| {
            if msgs == 0 {
                0.0
            } else {
                cpu_s * 1e6 / msgs as f64
            }
        };
        let server_cpu_s = match (first.server_ticks, last.server_ticks) {
            (Some(a), Some(b)) => Some((b - a) as f64 / cpu::clock_ticks_per_second() as f64),
            _ => None,
        };
        let gen_cpu_s = (last.own_cpu - first.own_cpu).as_secs_f64();
        // Waiting for the CPU counts towards saturation: on a shared
        // machine a process that never got all of its core may still have
        // wanted it all.
        let wait_s = |a: (u64, u64), b: (u64, u64)| b.1.saturating_sub(a.1) as f64 / 1e9;
        let gen_wait_s = wait_s(first.own_sched, last.own_sched);
        let server_wait_s = match (first.server_sched, last.server_sched) {
            (Some(a), Some(b)) => Some(wait_s(a, b)),
            _ => None,
        };
        let gen_saturated = (gen_cpu_s + gen_wait_s) / window >= info.saturation;
        let server_saturated = server_cpu_s
            .is_some_and(|s| (s + server_wait_s.unwrap_or(0.0)) / window >= info.saturation);
        let bottleneck = match (server_saturated, gen_saturated) {
            (true, true) => "both",
            (true, false) => "server",
            (false, true) => "generator",
            (false, false) => "neither",
        };
        let server_threads = info.server_pid.and_then(|pid| cpu::thread_count(pid).ok());
        Self {
            server: info.server,
            workload: info.workload,
            round: info.round,
            mode: info.mode,
            conns: info.conns,
            inflight: info.inflight,
            size: info.size,
            binary: info.binary,
            target_rate: info.target_rate,
            window_s: window,
            warmup_s: info.warmup_s,
            msgs,
            msgs_per_s: msgs as f64 / window,
            mb_per_s: (last.bytes - first.bytes) as f64 / window / 1e6,
            server_pid: info.server_pid,
            server_threads,
            server_cpu_s,
            server_cpu_pct: server_cpu_s.map(|s| s / window * 100.0),
            server_us_per_msg: server_cpu_s.map(per_msg_us),
            server_wait_pct: server_wait_s.map(|s| s / window * 100.0),
            gen_cpu_pct: gen_cpu_s / window * 100.0,
            gen_wait_pct: gen_wait_s / window * 100.0,
            gen_us_per_msg: per_msg_us(gen_cpu_s),
            gen_saturated,
            server_saturated,
            bottleneck: bottleneck.to_owned(),
            rtt_p50_us: rtt.p50_us,
            rtt_p99_us: rtt.p99_us,
            rtt_max_us: rtt.max_us,
            server_rss_kib: None,
            server_kib_per_conn: None,
            broadcast: None,
            errors,
            error,
        }
    }
}

/// The arguments both load generators take: the window, the server whose
/// CPU time is read, and what the report calls the run.
#[derive(Debug, Clone, clap::Args)]
pub struct WindowArgs {
    /// The measured window (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// Traffic before the window, not counted.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub warmup: std::time::Duration,
    /// The server's process id, for its CPU time.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// The server's label in the output.
    #[arg(long, default_value = "server")]
    pub label: String,
    /// The workload's name in the output.
    #[arg(long, default_value = "custom")]
    pub workload: String,
    /// The round number in the output.
    #[arg(long, default_value_t = 0)]
    pub round: u32,
    /// The share of a core above which a process counts as saturated.
    #[arg(long, default_value_t = 0.9)]
    pub saturation: f64,
}

/// Parses `500ms`, `2s`, `1.5s` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    number
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(|n| std::time::Duration::from_secs_f64(n * scale))
        .ok_or_else(|| format!("{s:?} is not a duration like 500ms or 2s"))
}

impl RunReport {
    /// The line for people.
    pub fn human(&self) -> String {
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("?".to_owned(), |v| format!("{v:.digits$}"));
        let mut line = match &self.broadcast {
            Some(b) => format!(
                "{} {} r{}: {} subscribers ({}), {} messages of {} B at {}/s: {} of {} copies; server {} µs/copy, {}% CPU (+{}% waiting for it), {} threads; generator {:.0}% CPU (+{:.0}% waiting); publish to last copy p50 {:.1} ms, max {:.1} ms; to each copy p50 {:.1} ms, p99 {:.1} ms",
                self.server,
                self.workload,
                self.round,
                b.subscribers,
                b.transport,
                b.messages,
                self.size,
                b.publish_rate,
                self.msgs,
                b.copies_expected,
                opt(self.server_us_per_msg, 2),
                opt(self.server_cpu_pct, 0),
                opt(self.server_wait_pct, 0),
                self.server_threads.map_or("?".to_owned(), |t| t.to_string()),
                self.gen_cpu_pct,
                self.gen_wait_pct,
                b.last_copy_p50_us / 1000.0,
                b.last_copy_max_us / 1000.0,
                self.rtt_p50_us / 1000.0,
                self.rtt_p99_us / 1000.0,
            ),
            None => self.echo_line(),
        };
        if self.gen_saturated {
            line.push_str(" [GENERATOR SATURATED: the figure is the generator's limit]");
        }
        if let Some(e) = &self.error {
            line.push_str(&format!(" [{} connection(s) FAILED: {e}]", self.errors));
        }
        line
    }

    /// The line for people of an echo run.
    fn echo_line(&self) -> String {
        let opt =
            |v: Option<f64>, digits: usize| v.map_or("?".to_owned(), |v| format!("{v:.digits$}"));
        let mut line = format!(
            "{} {} r{}: {:.0} msgs/s, {:.1} MB/s; server {} µs/msg, {}% CPU (+{}% waiting for it), {} threads; generator {:.0}% CPU (+{:.0}% waiting); rtt p50 {:.0} µs, p99 {:.0} µs",
            self.server,
            self.workload,
            self.round,
            self.msgs_per_s,
            self.mb_per_s,
            opt(self.server_us_per_msg, 2),
            opt(self.server_cpu_pct, 0),
            opt(self.server_wait_pct, 0),
            self.server_threads.map_or("?".to_owned(), |t| t.to_string()),
            self.gen_cpu_pct,
            self.gen_wait_pct,
            self.rtt_p50_us,
            self.rtt_p99_us,
        );
        if let Some(rate) = self.target_rate {
            line.push_str(&format!(" (asked {rate:.0} msgs/s)"));
        }
        line
    }
}

/// Runs a load generator's measurement on a single-threaded tokio runtime
/// (its tasks are local): prints the report for people on stderr and as
/// one JSON line on stdout; failure when the run failed or any connection
/// did. `name` prefixes the error lines.
pub fn run_generator(
    name: &str,
    bench: impl std::future::Future<Output = Result<RunReport, String>>,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{name}: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&runtime, bench) {
        Ok(report) => {
            eprintln!("{}", report.human());
            println!(
                "{}",
                serde_json::to_string(&report).expect("a report serializes")
            );
            if report.errors > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes as much of `out` as `tcp` takes now, in gathering writes of up
/// to 16 chunks; what was written leaves the queue (a chunk written in
/// part keeps its rest at the front).
pub fn write_queued(
    tcp: &tokio::net::TcpStream,
    out: &mut std::collections::VecDeque<bytes::Bytes>,
) -> io::Result<()> {
    use bytes::Buf as _;
    while !out.is_empty() {
        let mut slices = [io::IoSlice::new(&[]); 16];
        let mut n = 0;
        for (slot, chunk) in slices.iter_mut().zip(out.iter()) {
            *slot = io::IoSlice::new(chunk);
            n += 1;
        }
        match tcp.try_write_vectored(&slices[..n]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(mut written) => {
                while written > 0 {
                    let front = out.front_mut().expect("written bytes were queued");
                    if written >= front.len() {
                        written -= front.len();
                        out.pop_front();
                    } else {
                        front.advance(written);
                        written = 0;
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The loopback address an URL's authority (`host:port`, the host an IP
/// address, `[v6]` or `localhost`) names; anything else is refused, so
/// that a load generator never loads another machine.
pub fn loopback_addr(url: &str, authority: &str) -> Result<SocketAddr, String> {
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| format!("{url}: the port is missing"))?;
    let port: u16 = port.parse().map_err(|_| format!("{url}: bad port"))?;
    let ip: std::net::IpAddr = match host {
        "localhost" => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        h => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("{url}: the host must be an IP address or localhost"))?,
    };
    if !ip.is_loopback() {
        return Err(format!("{url}: loopback addresses only"));
    }
    Ok(SocketAddr::new(ip, port))
}

/// xorshift64*: masking keys, handshake nonces, session ids. Fast and not
/// secret, which is fine for a benchmark against our own servers on
/// loopback.
pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}

/// Connects to `addr` (with `TCP_NODELAY`) and runs a WebSocket opening
/// handshake for `host` and `path`, its key drawn from `rng`; returns the
/// stream and the server's response, whose `trailing` bytes are the first
/// of the connection.
pub async fn ws_handshake(
    addr: SocketAddr,
    host: &str,
    path: &str,
    rng: &mut u64,
) -> Result<(tokio::net::TcpStream, ws_proto::handshake::Response), String> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use ws_proto::handshake::{ClientHandshake, ClientRequest, Limits};
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{addr}: {what}: {e}");
    let mut tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| fail("connect", &e))?;
    tcp.set_nodelay(true).map_err(|e| fail("nodelay", &e))?;
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&xorshift(rng).to_le_bytes());
    key[8..].copy_from_slice(&xorshift(rng).to_le_bytes());
    let request = ClientRequest::new(host.to_owned(), path.to_owned());
    let mut handshake =
        ClientHandshake::new(&request, key, Limits::default()).map_err(|e| fail("request", &e))?;
    tcp.write_all(handshake.request())
        .await
        .map_err(|e| fail("write", &e))?;
    let mut buf = [0u8; 4096];
    loop {
        let room = handshake.receive_capacity().clamp(1, buf.len());
        let n = tcp
            .read(&mut buf[..room])
            .await
            .map_err(|e| fail("read", &e))?;
        if n == 0 {
            return Err(fail("handshake", &"the server closed the connection"));
        }
        handshake.receive(&buf[..n]);
        if let Some(response) = handshake
            .poll_response()
            .map_err(|e| fail("handshake", &e))?
        {
            return Ok((tcp, response));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::parse_duration;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("x").is_err());
    }
}
