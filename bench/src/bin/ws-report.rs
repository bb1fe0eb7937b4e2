//! `ws-report`: the comparison table of `ws-load` runs.
//!
//! Reads the JSON lines `ws-load`, `sockjs-load` and `bcast-load` printed
//! (files given as arguments, or stdin) and prints, per workload, each
//! server's figures per round and their medians, then the ratios of every
//! `sockway*` server to tokio-websockets, to the best peer of that
//! workload, and to the other `sockway*` builds.

use std::io::{self, BufRead as _, BufReader, Write as _};
use std::process::ExitCode;

use sockway_bench::RunReport;

/// The peer every ratio is also given against.
const REFERENCE_PEER: &str = "tokio-websockets";

/// What a workload is judged by.
#[derive(Clone, Copy, PartialEq)]
enum Metric {
    /// Echoes per second; higher is better.
    MsgsPerSecond,
    /// Echoed MB per second; higher is better.
    MegabytesPerSecond,
    /// Server CPU µs per message; lower is better.
    ServerMicrosPerMessage,
    /// Server KiB per idle connection; lower is better.
    ServerKibPerConnection,
    /// Server CPU µs per delivered copy of a broadcast; lower is better.
    ServerMicrosPerCopy,
}

impl Metric {
    fn of(run: &RunReport) -> Self {
        if run.broadcast.is_some() {
            Self::ServerMicrosPerCopy
        } else if run.mode == "idle" {
            Self::ServerKibPerConnection
        } else if run.mode == "rate" {
            Self::ServerMicrosPerMessage
        } else if run.binary && run.size >= 64 * 1024 {
            Self::MegabytesPerSecond
        } else {
            Self::MsgsPerSecond
        }
    }

    fn value(self, run: &RunReport) -> f64 {
        match self {
            Self::MsgsPerSecond => run.msgs_per_s,
            Self::MegabytesPerSecond => run.mb_per_s,
            Self::ServerMicrosPerMessage | Self::ServerMicrosPerCopy => {
                run.server_us_per_msg.unwrap_or(f64::NAN)
            }
            Self::ServerKibPerConnection => run.server_kib_per_conn.unwrap_or(f64::NAN),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::MsgsPerSecond => "msgs/s, higher is better",
            Self::MegabytesPerSecond => "MB/s, higher is better",
            Self::ServerMicrosPerMessage => "server CPU µs per message, lower is better",
            Self::ServerKibPerConnection => "server KiB per idle connection, lower is better",
            Self::ServerMicrosPerCopy => "server CPU µs per delivered copy, lower is better",
        }
    }

    fn better(self, a: f64, b: f64) -> bool {
        match self {
            Self::ServerMicrosPerMessage
            | Self::ServerKibPerConnection
            | Self::ServerMicrosPerCopy => a < b,
            _ => a > b,
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// 1234567 as `1.23M`, 12345 as `12.3k`.
fn short(v: f64) -> String {
    if !v.is_finite() {
        "-".to_owned()
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b != 0.0 {
        format!("×{:.3}", a / b)
    } else {
        "-".to_owned()
    }
}

/// One server's runs in one workload.
struct Row<'a> {
    server: &'a str,
    runs: Vec<&'a RunReport>,
}

impl Row<'_> {
    fn median_of(&self, f: impl Fn(&RunReport) -> f64) -> f64 {
        median(self.runs.iter().map(|r| f(r)).collect())
    }
}

fn describe(run: &RunReport) -> String {
    let kind = if run.binary { "binary" } else { "text" };
    let size = if run.size >= 1 << 20 && run.size.is_multiple_of(1 << 20) {
        format!("{} MiB", run.size >> 20)
    } else {
        format!("{} B", run.size)
    };
    if let Some(b) = &run.broadcast {
        return format!(
            "{} subscribers + 1 publisher over {}, {} messages of {size} {kind} at {}/s, {} copies",
            b.subscribers, b.transport, b.messages, b.publish_rate, b.copies_expected
        );
    }
    match run.target_rate {
        Some(rate) => format!(
            "{} conns, fixed rate {} msgs/s (at most {} in flight each), {size} {kind}",
            run.conns,
            short(rate),
            run.inflight
        ),
        None => format!(
            "{} conns × {} in flight × {size} {kind}",
            run.conns, run.inflight
        ),
    }
}

fn report(runs: &[RunReport], out: &mut impl io::Write) -> io::Result<()> {
    let mut workloads: Vec<&str> = Vec::new();
    for run in runs {
        if !workloads.contains(&run.workload.as_str()) {
            workloads.push(&run.workload);
        }
    }
    for workload in workloads {
        let runs: Vec<&RunReport> = runs.iter().filter(|r| r.workload == workload).collect();
        let metric = Metric::of(runs[0]);
        let mut rows: Vec<Row<'_>> = Vec::new();
        for run in &runs {
            match rows.iter_mut().find(|row| row.server == run.server) {
                Some(row) => row.runs.push(run),
                None => rows.push(Row {
                    server: &run.server,
                    runs: vec![run],
                }),
            }
        }
        let rounds = rows.iter().map(|r| r.runs.len()).max().unwrap_or(0);
        writeln!(out)?;
        writeln!(
            out,
            "== {workload}: {} ({})",
            describe(runs[0]),
            metric.name()
        )?;
        let mut head = format!("{:<22}", "server");
        for i in 1..=rounds {
            head.push_str(&format!(" {:>9}", format!("round {i}")));
        }
        // A broadcast's rows: copies, and the time from a publish to its
        // last copy (p50 and max over the messages) for the round trips.
        let bcast = metric == Metric::ServerMicrosPerCopy;
        let (msgs, per_msg, lat1, lat2) = if bcast {
            ("copies/s", "srv µs/copy", "last p50", "last max")
        } else {
            ("msgs/s", "srv µs/msg", "rtt p50", "rtt p99")
        };
        let w = per_msg.chars().count();
        head.push_str(&format!(
            " {:>9} | {:>9} {:>8} {:>w$} {:>7} {:>8} {:>7} {:>8} {:>9} {:>9}  notes",
            "median",
            msgs,
            "MB/s",
            per_msg,
            "srv CPU",
            "srv wait",
            "gen CPU",
            "gen wait",
            lat1,
            lat2
        ));
        writeln!(out, "{head}")?;
        for row in &rows {
            let mut line = format!("{:<22}", row.server);
            for i in 0..rounds {
                let v = row.runs.get(i).map_or(f64::NAN, |r| metric.value(r));
                line.push_str(&format!(" {:>9}", short(v)));
            }
            let pct = |v: f64| {
                if v.is_finite() {
                    format!("{v:.0}%")
                } else {
                    "-".to_owned()
                }
            };
            let us = |v: f64| {
                if v.is_finite() {
                    format!("{v:.0} µs")
                } else {
                    "-".to_owned()
                }
            };
            let latency = |r: &RunReport, p50: bool| match (&r.broadcast, p50) {
                (Some(b), true) => b.last_copy_p50_us,
                (Some(b), false) => b.last_copy_max_us,
                (None, true) => r.rtt_p50_us,
                (None, false) => r.rtt_p99_us,
            };
            line.push_str(&format!(
                " {:>9} | {:>9} {:>8} {:>w$} {:>7} {:>8} {:>7} {:>8} {:>9} {:>9}",
                short(row.median_of(|r| metric.value(r))),
                short(row.median_of(|r| r.msgs_per_s)),
                format!("{:.1}", row.median_of(|r| r.mb_per_s)),
                format!(
                    "{:.2}",
                    row.median_of(|r| r.server_us_per_msg.unwrap_or(f64::NAN))
                ),
                pct(row.median_of(|r| r.server_cpu_pct.unwrap_or(f64::NAN))),
                pct(row.median_of(|r| r.server_wait_pct.unwrap_or(f64::NAN))),
                pct(row.median_of(|r| r.gen_cpu_pct)),
                pct(row.median_of(|r| r.gen_wait_pct)),
                us(row.median_of(|r| latency(r, true))),
                us(row.median_of(|r| latency(r, false))),
            ));
            let mut notes = Vec::new();
            let saturated = row.runs.iter().filter(|r| r.gen_saturated).count();
            if saturated > 0 {
                notes.push(format!(
                    "GENERATOR SATURATED in {saturated}/{}",
                    row.runs.len()
                ));
            }
            // A broadcast server busy all the window: each message's
            // fan-out ran into the next one's.
            let busy = row.runs.iter().filter(|r| r.server_saturated).count();
            if bcast && busy > 0 {
                notes.push(format!("server saturated in {busy}/{}", row.runs.len()));
            }
            let failed: u64 = row.runs.iter().map(|r| r.errors).sum();
            if failed > 0 {
                notes.push(format!("{failed} connection(s) FAILED"));
            }
            if let Some(rate) = row.runs[0].target_rate {
                let achieved = row.median_of(|r| r.msgs_per_s);
                if achieved < rate * 0.97 {
                    notes.push(format!("rate not reached ({})", short(achieved)));
                }
            }
            let kib = row.median_of(|r| r.server_kib_per_conn.unwrap_or(f64::NAN));
            if bcast && kib.is_finite() {
                notes.push(format!("{kib:.2} KiB/subscriber"));
            }
            if let Some(threads) = row.runs.iter().filter_map(|r| r.server_threads).max() {
                notes.push(format!("{threads} thr"));
            }
            line.push_str("  ");
            line.push_str(&notes.join("; "));
            writeln!(out, "{}", line.trim_end())?;
        }

        // Ratios.
        let value = |row: &Row<'_>| row.median_of(|r| metric.value(r));
        let cpu = |row: &Row<'_>| row.median_of(|r| r.server_us_per_msg.unwrap_or(f64::NAN));
        let tput = |row: &Row<'_>| row.median_of(|r| r.msgs_per_s);
        let ours: Vec<&Row<'_>> = rows
            .iter()
            .filter(|r| r.server.starts_with("sockway"))
            .collect();
        let peers: Vec<&Row<'_>> = rows
            .iter()
            .filter(|r| !r.server.starts_with("sockway"))
            .collect();
        let best = peers
            .iter()
            .copied()
            .filter(|r| value(r).is_finite())
            .reduce(|a, b| {
                if metric.better(value(b), value(a)) {
                    b
                } else {
                    a
                }
            });
        let reference = peers.iter().copied().find(|r| r.server == REFERENCE_PEER);
        for (i, us) in ours.iter().enumerate() {
            let mut against: Vec<(String, &Row<'_>)> = Vec::new();
            match (reference, best) {
                (Some(r), Some(b)) if r.server == b.server => {
                    against.push((format!("{} (the best peer)", r.server), r));
                }
                (r, b) => {
                    if let Some(r) = r {
                        against.push((r.server.to_owned(), r));
                    }
                    if let Some(b) = b {
                        against.push((format!("best peer ({})", b.server), b));
                    }
                }
            }
            for other in ours.iter().skip(i + 1) {
                against.push((other.server.to_owned(), other));
            }
            for (name, them) in against {
                if bcast {
                    let last = |row: &Row<'_>, p50: bool| {
                        row.median_of(|r| {
                            r.broadcast.as_ref().map_or(f64::NAN, |b| {
                                if p50 {
                                    b.last_copy_p50_us
                                } else {
                                    b.last_copy_max_us
                                }
                            })
                        })
                    };
                    let kib = |row: &Row<'_>| {
                        row.median_of(|r| r.server_kib_per_conn.unwrap_or(f64::NAN))
                    };
                    writeln!(
                        out,
                        "  {} ÷ {name}: server µs/copy {}, publish to last copy p50 {}, max {}, server KiB per subscriber {} (lower is better)",
                        us.server,
                        ratio(cpu(us), cpu(them)),
                        ratio(last(us, true), last(them, true)),
                        ratio(last(us, false), last(them, false)),
                        ratio(kib(us), kib(them)),
                    )?;
                    continue;
                }
                writeln!(
                    out,
                    "  {} ÷ {name}: msgs/s {}, server µs/msg {} (msgs/s: higher is better; µs/msg: lower is better)",
                    us.server,
                    ratio(tput(us), tput(them)),
                    ratio(cpu(us), cpu(them)),
                )?;
            }
        }
        let waited = runs
            .iter()
            .filter(|r| r.gen_wait_pct > 5.0 || r.server_wait_pct.is_some_and(|w| w > 5.0))
            .count();
        if waited > 0 {
            writeln!(
                out,
                "  ! in {waited} of {} runs the server or the generator waited over 5 % of the window for its CPU: other work on the machine; the figures are noisy",
                runs.len()
            )?;
        }
        let saturated = runs.iter().filter(|r| r.gen_saturated).count();
        if saturated > 0 {
            writeln!(
                out,
                "  ! the generator was saturated in {saturated} of {} runs: there msgs/s is the generator's limit; compare server µs/msg",
                runs.len()
            )?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = Vec::new();
    let mut read = |reader: &mut dyn io::BufRead, name: &str| -> Result<(), String> {
        for line in reader.lines() {
            let line = line.map_err(|e| format!("{name}: {e}"))?;
            let line = line.trim();
            if line.starts_with('{') {
                runs.push(
                    serde_json::from_str::<RunReport>(line).map_err(|e| format!("{name}: {e}"))?,
                );
            }
        }
        Ok(())
    };
    let result = if files.is_empty() {
        read(&mut io::stdin().lock(), "stdin")
    } else {
        files.iter().try_for_each(|f| {
            let file = std::fs::File::open(f).map_err(|e| format!("{f}: {e}"))?;
            read(&mut BufReader::new(file), f)
        })
    };
    if let Err(e) = result {
        let _ = writeln!(io::stderr(), "ws-report: {e}");
        return ExitCode::FAILURE;
    }
    if runs.is_empty() {
        let _ = writeln!(io::stderr(), "ws-report: no runs");
        return ExitCode::FAILURE;
    }
    match report(&runs, &mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "ws-report: {e}");
            ExitCode::FAILURE
        }
    }
}
