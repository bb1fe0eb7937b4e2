//! `sockway`: a ready SockJS and WebSocket server.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use adapter_core::http_proto::IpRange;
use adapter_core::sockjs_proto::{self, AllowedOrigins};
use adapter_core::{Executor, StopSignals, TlsAcceptor};
use clap::{Parser, Subcommand, ValueEnum};
use sockway_cli::load::{LoadOptions, TransportChoice};
use sockway_cli::{endpoints, ServeOptions};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

/// How the log is chosen, under every command's help.
const LOG_HELP: &str = "The log goes to stderr; SOCKWAY_LOG sets its filter (`info` by default, \
                        with the session spans off), e.g. SOCKWAY_LOG=info,sockway::server=debug";

/// The log filter when `SOCKWAY_LOG` is unset or empty: `info`, without the
/// sessions' spans. Those are at info level so that a handler's events
/// carry the session's fields; the command's handlers log nothing in them,
/// and each costs an idle session about 0.4 KiB and every poll of its
/// handler an enter and an exit.
const DEFAULT_LOG: &str = "info,sockway::server::sockjs=warn,sockway::server::websocket=warn";

/// The log filter: `SOCKWAY_LOG`'s when it is set (a directive that does
/// not parse is named on stderr and left out, the others kept), else
/// [`DEFAULT_LOG`].
fn log_filter(var: Option<&str>) -> EnvFilter {
    let directives = match var {
        Some(v) if !v.trim().is_empty() => v,
        _ => DEFAULT_LOG,
    };
    EnvFilter::builder()
        .with_default_directive(LevelFilter::INFO.into())
        .parse_lossy(directives)
}

#[derive(Parser)]
#[command(
    name = "sockway",
    version,
    about = "SockJS and WebSocket, served",
    after_help = LOG_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the SockJS test endpoints (/echo, /disabled_websocket_echo,
    /// /cookie_needed_echo, /close, /amplify, /broadcast; /auth_echo and
    /// /auth_info_echo, which take ?token=let+me+in only), a WebSocket echo
    /// at /ws, a WebSocket broadcast at /ws/broadcast and a demo page at /.
    #[command(after_help = LOG_HELP)]
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// heartbeatTime of every SockJS endpoint (e.g. 25s, 500ms).
        #[arg(long, default_value = "25s", value_parser = parse_duration)]
        heartbeat_time: Duration,
        /// disconnectDelay of every SockJS endpoint (e.g. 5s).
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        disconnect_delay: Duration,
        /// Origins allowed to use the endpoints: `*` (the default) or a
        /// comma-separated list of origins and patterns.
        #[arg(long, default_value = "*")]
        allowed_origins: String,
        /// Where the SockJS iframe pages (`clientLibraryUrl`) and the demo
        /// page load sockjs-client from; a CDN by default. Serve the file
        /// yourself when clients have no internet access.
        #[arg(long, default_value = sockjs_proto::DEFAULT_CLIENT_LIBRARY_URL,
              value_parser = parse_client_library_url)]
        client_library_url: String,
        /// Reverse proxies (comma-separated addresses or CIDR blocks, e.g.
        /// 127.0.0.1) whose X-Forwarded-For or Forwarded headers name the
        /// client; none by default.
        #[arg(long, value_delimiter = ',')]
        trusted_proxies: Vec<IpRange>,
        /// The async runtime to serve on.
        #[arg(long, value_enum, default_value_t = RuntimeChoice::Tokio)]
        runtime: RuntimeChoice,
        /// tokio's worker threads: by default one per CPU this process may
        /// run on (its affinity: `taskset -c 0` gives one). With one, the
        /// server runs on tokio's single-threaded runtime: accepting and
        /// serving on the one thread, the way the peers it is benchmarked
        /// against run.
        #[arg(long, value_name = "N")]
        threads: Option<std::num::NonZeroUsize>,
        /// The HTTP server the endpoints are mounted in: sockway's own
        /// listener, an axum Router (nest_service / route_service), or one
        /// tower service on plain hyper. axum and hyper run on tokio, and
        /// speak HTTP/1.1 and HTTP/2 (h2c).
        #[arg(long, value_enum, default_value_t = StackChoice::Own)]
        stack: StackChoice,
        /// Serve https:// and wss:// with the certificate chain in this PEM
        /// file (the server's certificate first); needs --tls-key. On
        /// sockway's own listener (--stack own) only.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert's certificate, in a PEM file
        /// (PKCS#8, PKCS#1 or SEC1).
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Simulate many concurrent SockJS users against an echo endpoint
    /// (e.g. http://127.0.0.1:8081/echo): every echo is checked, and the
    /// run reports messages/s, round-trip percentiles, connect times,
    /// errors by kind and the generator's own CPU. Exits with 1 when any
    /// error was counted.
    #[command(after_help = LOG_HELP)]
    Load(LoadArgs),
}

/// The flags of `sockway load`.
#[derive(clap::Args)]
struct LoadArgs {
    /// The SockJS echo endpoint: http://host:port/prefix.
    url: String,
    /// Concurrent users, each with a session of its own.
    #[arg(long, default_value_t = 10)]
    users: u32,
    /// The transport: auto is the client's fallback order (websocket,
    /// xhr-streaming, xhr-polling).
    #[arg(long, value_enum, default_value_t = TransportChoice::Auto)]
    transport: TransportChoice,
    /// Message size in bytes (at least 22: the user and sequence number).
    #[arg(long, default_value_t = 32)]
    size: usize,
    /// Messages per second per user; without it, each user keeps one
    /// message in flight and sends the next when its echo is back.
    #[arg(long)]
    rate: Option<f64>,
    /// Users start evenly over this time (e.g. 10s).
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    ramp_up: Duration,
    /// The measured window, once every user opened (e.g. 30s).
    #[arg(long, value_parser = parse_duration, conflicts_with = "messages")]
    duration: Option<Duration>,
    /// Instead of a duration: messages per user, all counted.
    #[arg(long)]
    messages: Option<u64>,
    /// How long a session may take to open.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// Local addresses to connect from, in turn (e.g. 127.0.0.1-127.0.0.20):
    /// one address has some 28,000 ports towards a server.
    #[arg(long, value_parser = parse_source_ips)]
    source_ips: Option<SourceIps>,
    /// Print one JSON object on stdout instead of the text report.
    #[arg(long)]
    json: bool,
}

/// The addresses of `--source-ips`.
#[derive(Debug, Clone)]
struct SourceIps(Vec<std::net::IpAddr>);

fn parse_source_ips(text: &str) -> Result<SourceIps, String> {
    sockway_cli::load::parse_sources(text).map(SourceIps)
}

/// The HTTP servers `serve` can mount the endpoints in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StackChoice {
    /// sockway's own listener.
    Own,
    /// An axum Router.
    Axum,
    /// Plain hyper.
    Hyper,
}

/// The runtimes `serve` runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RuntimeChoice {
    /// tokio's multi-threaded runtime.
    Tokio,
    /// async-std.
    AsyncStd,
    /// smol.
    Smol,
}

/// tokio's runtime with `threads` workers (by default one per CPU this
/// process may run on); one worker is the single-threaded runtime.
fn tokio_runtime(
    threads: Option<std::num::NonZeroUsize>,
) -> std::io::Result<tokio::runtime::Runtime> {
    let threads = threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, std::num::NonZeroUsize::get);
    if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}

/// Accepts a URL that the SockJS iframe page can carry.
fn parse_client_library_url(s: &str) -> Result<String, String> {
    sockjs_proto::SockJsConfig::default()
        .client_library_url(s)
        .validate()
        .map(|()| s.to_owned())
        .map_err(|e| e.to_string())
}

/// Parses `500ms`, `25s`, `2m` or a plain number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| s.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 500ms or 25s"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{s:?}: the unit must be ms, s or m")),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(std::env::var("SOCKWAY_LOG").ok().as_deref()))
        .with_writer(std::io::stderr)
        // Colours on a terminal only, not in a file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Load(args) => return load(args),
        command @ Command::Serve { .. } => command,
    };
    let Command::Serve {
        listen,
        heartbeat_time,
        disconnect_delay,
        allowed_origins,
        client_library_url,
        trusted_proxies,
        runtime,
        threads,
        stack,
        tls_cert,
        tls_key,
    } = command
    else {
        return ExitCode::from(2);
    };
    let allowed_origins = if allowed_origins.trim() == "*" {
        AllowedOrigins::Any
    } else {
        AllowedOrigins::from_list(allowed_origins.split(',').map(str::trim))
    };
    let options = ServeOptions {
        heartbeat_time,
        disconnect_delay,
        allowed_origins,
        client_library_url,
        trusted_proxies,
    };
    if stack != StackChoice::Own && runtime != RuntimeChoice::Tokio {
        tracing::error!(target: "sockway::command::serve", "--stack axum and --stack hyper run on tokio only");
        return ExitCode::from(2);
    }
    let tls = match (tls_cert, tls_key) {
        (Some(_), Some(_)) if stack != StackChoice::Own => {
            tracing::error!(
                target: "sockway::command::serve",
                "--tls-cert and --tls-key serve on sockway's own listener (--stack own) only"
            );
            return ExitCode::from(2);
        }
        (Some(cert), Some(key)) => match TlsAcceptor::from_pem_files(&cert, &key) {
            Ok(acceptor) => Some(acceptor),
            Err(e) => {
                tracing::error!(target: "sockway::command::serve", error = %e, "cannot serve TLS");
                return ExitCode::FAILURE;
            }
        },
        // clap requires both or neither.
        _ => None,
    };
    let result = match runtime {
        RuntimeChoice::Tokio if stack != StackChoice::Own => match tokio_runtime(threads) {
            Ok(rt) => rt.block_on(serve_stack(stack, listen, &options)),
            Err(e) => Err(e),
        },
        RuntimeChoice::Tokio => match tokio_runtime(threads) {
            Ok(rt) => rt.block_on(serve::<adapter_tokio::Tokio>(listen, &options, tls)),
            Err(e) => Err(e),
        },
        RuntimeChoice::AsyncStd => {
            async_std::task::block_on(serve::<adapter_async_std::AsyncStd>(listen, &options, tls))
        }
        RuntimeChoice::Smol => {
            smol::block_on(serve::<adapter_async_std::Smol>(listen, &options, tls))
        }
    };
    match result {
        Ok(()) => {
            tracing::info!(target: "sockway::command::serve", "stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(target: "sockway::command::serve", error = %e, "sockway failed");
            ExitCode::FAILURE
        }
    }
}

/// Runs `sockway load`: exits with 0 when no error was counted, 1 when
/// some were, 2 when the run could not start.
fn load(args: LoadArgs) -> ExitCode {
    let options = LoadOptions {
        url: args.url,
        users: args.users,
        transport: args.transport,
        size: args.size,
        rate: args.rate,
        ramp_up: args.ramp_up,
        duration: if args.messages.is_some() {
            None
        } else {
            Some(args.duration.unwrap_or(Duration::from_secs(10)))
        },
        messages: args.messages,
        connect_timeout: args.connect_timeout,
        progress: !args.json,
        sources: args.source_ips.map(|s| s.0).unwrap_or_default(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(target: "sockway::command::load", error = %e, "no runtime");
            return ExitCode::from(2);
        }
    };
    let report = match runtime.block_on(sockway_cli::load::run(options)) {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(target: "sockway::command::load", "{e}");
            return ExitCode::from(2);
        }
    };
    #[allow(clippy::print_stdout)]
    if args.json {
        println!("{}", report.json());
    } else {
        println!("{report}");
    }
    if report.error_total() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Serves until SIGTERM or SIGINT, on any runtime; then shuts down
/// gracefully (every session closed with 1001, the connections drained)
/// and returns `Ok`. A second signal during the shutdown returns an error
/// at once, so the process ends with status 1. With `tls`, every
/// connection is TLS.
async fn serve<R: Executor>(
    listen: SocketAddr,
    options: &ServeOptions,
    tls: Option<TlsAcceptor>,
) -> std::io::Result<()> {
    let https = tls.is_some();
    // The signals are caught from the bind on: a script may signal as soon
    // as it reads the line below.
    let mut builder = endpoints::<R>(options).shutdown_on_signals();
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    let server = builder.bind(listen).await?;
    let addr = server.local_addr()?;
    // Scripts wait for this line on stdout (the port may have been 0).
    #[allow(clippy::print_stdout)]
    if https {
        println!("listening on https://{addr} (WebSocket: wss://{addr}/ws)");
    } else {
        println!("listening on http://{addr}");
    }
    server.serve().await
}

/// Serves the endpoints mounted in axum or plain hyper until SIGTERM or
/// SIGINT, then shuts down gracefully; a second signal ends the process
/// at once, with status 1.
async fn serve_stack(
    stack: StackChoice,
    listen: SocketAddr,
    options: &ServeOptions,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let mut signals = StopSignals::new()?;
    #[allow(clippy::print_stdout)]
    {
        println!("listening on http://{addr}");
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if let Ok(signal) = signals.recv().await {
            tracing::info!(target: "sockway::command::serve", %signal, "shutting down");
            let _ = stop_tx.send(());
        }
        if let Ok(signal) = signals.recv().await {
            tracing::warn!(target: "sockway::command::serve", %signal, "a second signal: exiting at once");
            std::process::exit(1);
        }
    });
    let stop = async move {
        let _ = stop_rx.await;
    };
    match stack {
        StackChoice::Axum => sockway_cli::stack::serve_axum(listener, options, stop).await,
        _ => sockway_cli::stack::serve_hyper(listener, options, stop).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("25s"), Ok(Duration::from_secs(25)));
        assert_eq!(parse_duration("25"), Ok(Duration::from_secs(25)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("ms").is_err());
    }

    /// Whether `filter` enables an info span under `target`.
    fn info_span_enabled(filter: EnvFilter, target: &'static str) -> bool {
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry().with(filter);
        tracing::subscriber::with_default(subscriber, || match target {
            "sockway::server::websocket" => {
                !tracing::info_span!(target: "sockway::server::websocket", "session").is_disabled()
            }
            "sockway::server::sockjs" => {
                !tracing::info_span!(target: "sockway::server::sockjs", "session").is_disabled()
            }
            _ => !tracing::info_span!(target: "sockway::server", "conn").is_disabled(),
        })
    }

    #[test]
    fn the_default_log_is_info_without_the_session_spans() {
        for var in [None, Some(""), Some("  ")] {
            assert!(!info_span_enabled(
                log_filter(var),
                "sockway::server::websocket"
            ));
            assert!(!info_span_enabled(
                log_filter(var),
                "sockway::server::sockjs"
            ));
            assert!(info_span_enabled(log_filter(var), "sockway::server"));
        }
        // SOCKWAY_LOG set: its directives alone.
        assert!(info_span_enabled(
            log_filter(Some("info")),
            "sockway::server::websocket"
        ));
        assert!(info_span_enabled(
            log_filter(Some("info")),
            "sockway::server::sockjs"
        ));
        assert!(!info_span_enabled(
            log_filter(Some("warn")),
            "sockway::server"
        ));
    }

    #[test]
    fn client_library_urls_must_fit_the_iframe_page() {
        assert_eq!(
            parse_client_library_url("http://127.0.0.1:9999/sockjs.min.js"),
            Ok("http://127.0.0.1:9999/sockjs.min.js".to_owned())
        );
        assert!(parse_client_library_url("/x.js\"><script>").is_err());
        assert!(parse_client_library_url("").is_err());
    }
}
