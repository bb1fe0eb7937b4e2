//! The figures of each transport, and the table they are printed in.

use std::time::Duration;

use server_proto::{Connection, Session};

use crate::measure::Took;
use crate::wire::Transport;

/// One transport's figures.
pub(crate) struct Figures {
    pub(crate) transport: Transport,
    /// Opening every session.
    pub(crate) open: Took,
    /// Per session, once open: heap bytes and blocks held, allocations made.
    pub(crate) heap: [f64; 3],
    /// The process's resident set grown per session, once open.
    pub(crate) rss: Option<f64>,
    /// Each heartbeat round.
    pub(crate) rounds: Vec<Took>,
    pub(crate) allocations_per_beat: f64,
    /// Heap bytes per session after the rounds.
    pub(crate) heap_after_rounds: f64,
    /// Connections whose own deadline fired.
    pub(crate) conn_timeouts: usize,
    /// Wakes after which a connection had nothing to write.
    pub(crate) idle_wakes: usize,
    /// One scan of every connection's `poll_timeout` (the median of a few).
    pub(crate) scan: Duration,
}

fn duration(d: Duration) -> String {
    format!("{d:.2?}")
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// The table's rows for one transport: each label and its figure.
#[allow(
    clippy::cast_precision_loss,
    reason = "a count far below 2^52 as f64, for the figures"
)]
fn rows(n: usize, f: &Figures) -> Vec<(String, String)> {
    let per_session = |d: Duration| format!("{:.3} µs", d.as_secs_f64() * 1e6 / n as f64);
    let mut rows = vec![
        (format!("open {n} sessions: CPU"), duration(f.open.cpu)),
        (format!("open {n} sessions: wall"), duration(f.open.wall)),
        ("open: CPU per session".into(), per_session(f.open.cpu)),
        (
            "heap bytes per session, open".into(),
            format!("{:.0} B", f.heap[0]),
        ),
        (
            "heap blocks per session, open".into(),
            format!("{:.1}", f.heap[1]),
        ),
        (
            "allocations per session, to open".into(),
            format!("{:.1}", f.heap[2]),
        ),
        (
            "RSS growth per session, first run".into(),
            // Not measured after the first run (which freed memory that
            // later ones reuse).
            f.rss.map_or_else(|| "-".into(), |b| format!("{b:.0} B")),
        ),
    ];
    for (round, took) in f.rounds.iter().enumerate() {
        rows.push((
            format!("heartbeat round {}: CPU, all", round + 1),
            duration(took.cpu),
        ));
    }
    let cpu = median(f.rounds.iter().map(|t| t.cpu).collect());
    let wall = median(f.rounds.iter().map(|t| t.wall).collect());
    rows.extend([
        ("heartbeat round: CPU per session".into(), per_session(cpu)),
        ("heartbeat round: wall, all".into(), duration(wall)),
        (
            "allocations per heartbeat".into(),
            format!("{:.2}", f.allocations_per_beat),
        ),
        (
            "heap bytes per session, after".into(),
            format!("{:.0} B", f.heap_after_rounds),
        ),
        (
            "connection deadlines fired".into(),
            f.conn_timeouts.to_string(),
        ),
        (
            "wakes with nothing to write".into(),
            f.idle_wakes.to_string(),
        ),
        (
            format!("one scan of {n} poll_timeout: CPU"),
            duration(f.scan),
        ),
    ]);
    rows
}

/// Prints the figures, a column per transport.
#[allow(clippy::print_stdout, reason = "the bench's report")]
pub(crate) fn print(n: usize, rounds: u32, period: Duration, figures: &[Figures]) {
    println!(
        "\nidle SockJS sessions on one thread, simulated time: {n} per transport, \
         heartbeat {period:?}, {rounds} rounds"
    );
    println!(
        "protocol work only: no socket is opened; kernel socket costs (accept, epoll, \
         socket buffers, read and write calls) are not included"
    );
    println!(
        "CPU: this thread's CPU clock; heap: bytes asked of the allocator (its own overhead \
         is in the RSS row); size_of Connection {} B, Session {} B\n",
        std::mem::size_of::<Connection>(),
        std::mem::size_of::<Session>()
    );
    let columns: Vec<Vec<(String, String)>> = figures.iter().map(|f| rows(n, f)).collect();
    let Some(first) = columns.first() else {
        return;
    };
    print!("{:<38}", "");
    for f in figures {
        print!("{:>16}", f.transport.name());
    }
    println!();
    for (row, (label, _)) in first.iter().enumerate() {
        print!("{label:<38}");
        for column in &columns {
            print!("{:>16}", column[row].1);
        }
        println!();
    }
    println!(
        "\nchecked: every session opened (head, `o` frame, prelude), exactly one heartbeat \
         per period each, none closed"
    );
}
