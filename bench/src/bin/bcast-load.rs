//! `bcast-load`: a broadcast load generator.
//!
//! Opens N subscribers and one publisher on a broadcast endpoint on the
//! loopback interface: plain WebSocket (`ws://127.0.0.1:PORT/PATH`) or
//! SockJS over its websocket transport (`http://127.0.0.1:PORT/PREFIX`:
//! each member at `PREFIX/000/<random id>/websocket`, in SockJS frames).
//! The subscribers open at a bounded rate, with a bound on the handshakes
//! in progress. Then the settle check: the publisher sends probes until one
//! reaches every member (a server whose members join the room in a handler
//! may count a connection some time after its handshake). Then the
//! publisher sends M messages of S bytes at R per second, each carrying
//! its sequence number, and every member (the publisher too: each server
//! compared sends a message to its author as well) checks that it gets
//! every one exactly once and in order.
//!
//! The window runs from the first publish until the last copy arrived. It
//! reports the server's CPU time over it (`/proc/<pid>/stat`) per delivered
//! copy, the time from each message's publish until its last copy arrived
//! (p50 and max over the messages) and until each copy arrived (p50, p99,
//! max), and the generator's own CPU use. One JSON line on stdout (the
//! shape of `ws-load`'s, with a `broadcast` object), one line for people on
//! stderr; exit status 1 when a member missed a message or failed.
//!
//! The members are the repository's own sans-IO WebSocket client core
//! (`ws-proto`) over tokio `TcpStream`s on one thread, as in `ws-load`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use sockway_bench::{parse_duration, Broadcast, RttSummary, RunInfo, RunReport, Snapshot};
use tokio::io::{AsyncReadExt as _, Interest};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify, Semaphore};
use ws_proto::{CloseCode, Connection, Event, Message, WebSocketConfig};

/// How long one member's connect and opening handshake may take.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(20);
/// How long the settle check waits for a probe's copies to stop coming
/// before it sends the next probe.
const PROBE_WAIT: Duration = Duration::from_millis(500);
/// How long the members may take to stop after the window.
const STOP_WAIT: Duration = Duration::from_secs(10);
/// Reads in a row that found data before a member lets the others run.
const READS_BEFORE_YIELD: u32 = 16;
/// Descriptors kept free besides one per member.
const SPARE_FDS: u64 = 64;

#[derive(Debug, Parser)]
#[command(
    name = "bcast-load",
    about = "WebSocket and SockJS broadcast load generator"
)]
struct Args {
    /// The broadcast endpoint (loopback only): ws://127.0.0.1:PORT/PATH
    /// (plain WebSocket) or http://127.0.0.1:PORT/PREFIX (SockJS over its
    /// websocket transport).
    #[arg(long)]
    url: String,
    /// Subscribers (the publisher comes on top).
    #[arg(long, default_value_t = 10_000)]
    subscribers: usize,
    /// Messages to publish.
    #[arg(long, default_value_t = 30)]
    messages: u64,
    /// Message size in bytes (at least 16: the sequence number in hex).
    #[arg(long, default_value_t = 32)]
    size: usize,
    /// Messages published per second.
    #[arg(long, default_value_t = 4.0)]
    rate: f64,
    /// Subscribers opened per second, at most.
    #[arg(long, default_value_t = 2000.0)]
    ramp: f64,
    /// Opening handshakes in progress at once, at most.
    #[arg(long, default_value_t = 64)]
    handshakes: usize,
    /// How long opening every subscriber may take.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    connect_timeout: Duration,
    /// How long the settle check may take.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    settle_timeout: Duration,
    /// How long the copies may take to arrive after the last publish.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// The server's process id, for its CPU time.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server's label in the output.
    #[arg(long, default_value = "server")]
    label: String,
    /// The workload's name in the output.
    #[arg(long, default_value = "custom")]
    workload: String,
    /// The round number in the output.
    #[arg(long, default_value_t = 0)]
    round: u32,
    /// The share of a core above which a process counts as saturated.
    #[arg(long, default_value_t = 0.9)]
    saturation: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// Plain WebSocket: a message is a text message.
    WebSocket,
    /// SockJS frames over the websocket transport.
    SockJs,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Self::WebSocket => "websocket",
            Self::SockJs => "sockjs-websocket",
        }
    }
}

/// Where the members connect: a loopback address, the Host header, and the
/// path (WebSocket) or prefix (SockJS).
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    host: String,
    path: String,
    transport: Transport,
}

impl Target {
    /// The request target of the member whose SockJS session id is `id`.
    fn request_path(&self, id: &str) -> String {
        match self.transport {
            Transport::WebSocket => self.path.clone(),
            Transport::SockJs => format!("{}/000/{id}/websocket", self.path),
        }
    }
}

fn parse_url(url: &str) -> Result<Target, String> {
    let (transport, rest) = if let Some(rest) = url.strip_prefix("ws://") {
        (Transport::WebSocket, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Transport::SockJs, rest)
    } else {
        return Err(format!(
            "{url}: ws:// (WebSocket) or http:// (SockJS) URLs only"
        ));
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let addr = sockway_bench::loopback_addr(url, authority)?;
    let path = match transport {
        Transport::WebSocket if path.is_empty() => "/",
        Transport::WebSocket => path,
        Transport::SockJs => path.trim_end_matches('/'),
    };
    Ok(Target {
        addr,
        host: authority.to_owned(),
        path: path.to_owned(),
        transport,
    })
}

/// The published messages: the sequence number in 16 hex digits, then a
/// fixed ASCII filler up to the size.
struct Payloads {
    size: usize,
    filler: String,
}

impl Payloads {
    fn new(size: usize) -> Self {
        let filler = (0..size)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        Self { size, filler }
    }

    fn message(&self, seq: u64) -> String {
        format!("{seq:016x}{}", &self.filler[16..])
    }

    /// The sequence number of `text`, if it is one of the messages.
    fn seq_of(&self, text: &str) -> Option<u64> {
        if text.len() != self.size || text.get(16..) != Some(&self.filler[16..]) {
            return None;
        }
        u64::from_str_radix(text.get(..16)?, 16).ok()
    }
}

fn truncate(s: &str) -> &str {
    let mut end = s.len().min(40);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A member's connection: the sans-IO client core over its socket.
struct Client {
    tcp: TcpStream,
    conn: Connection,
    out: VecDeque<Bytes>,
    transport: Transport,
}

impl Client {
    /// Connects, runs the opening handshake and, over SockJS, reads the
    /// open frame.
    async fn connect(target: &Target, id: &str, seed: u64) -> Result<Self, String> {
        let mut rng = seed | 1;
        let (tcp, response) = sockway_bench::ws_handshake(
            target.addr,
            &target.host,
            &target.request_path(id),
            &mut rng,
        )
        .await?;
        let mut conn = Connection::client(WebSocketConfig::default(), move || {
            (sockway_bench::xorshift(&mut rng) as u32).to_le_bytes()
        });
        conn.receive(&response.trailing);
        let mut client = Self {
            tcp,
            conn,
            out: VecDeque::new(),
            transport: target.transport,
        };
        if target.transport == Transport::SockJs {
            client.open_frame(&mut [0u8; 1024]).await?;
        }
        Ok(client)
    }

    /// Reads up to the first message, which must be SockJS's open frame.
    async fn open_frame(&mut self, buf: &mut [u8]) -> Result<(), String> {
        loop {
            match self.conn.poll_event() {
                Ok(Some(Event::Message(Message::Text(t)))) if t.as_str() == "o" => return Ok(()),
                Ok(Some(Event::Ping(_) | Event::Pong(_))) => {
                    self.queue_output();
                    continue;
                }
                Ok(Some(other)) => return Err(format!("expected the open frame, got {other:?}")),
                Ok(None) => {}
                Err(e) => return Err(format!("protocol error from the server: {e}")),
            }
            self.write_some().map_err(|e| format!("write: {e}"))?;
            let n = self.tcp.read(buf).await.map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("the server closed the connection before the open frame".to_owned());
            }
            self.conn.receive(&buf[..n]);
        }
    }

    /// Queues a message: as it is over WebSocket, in a JSON array over
    /// SockJS.
    fn send(&mut self, text: &str) -> Result<(), String> {
        let sent = match self.transport {
            Transport::WebSocket => self.conn.send_text(text),
            Transport::SockJs => {
                let frame = serde_json::to_string(&[text]).map_err(|e| e.to_string())?;
                self.conn.send_text(&frame)
            }
        };
        sent.map_err(|e| format!("send: {e}"))?;
        self.queue_output();
        Ok(())
    }

    /// Moves what the core encoded into the write queue.
    fn queue_output(&mut self) {
        while let Some(chunk) = self.conn.poll_transmit() {
            self.out.push_back(chunk);
        }
    }

    /// Writes as much of the queue as the socket takes now.
    fn write_some(&mut self) -> io::Result<()> {
        sockway_bench::write_queued(&self.tcp, &mut self.out)
    }

    /// Reads what the socket has now into the core: `Some(0)` at end of
    /// file, `None` if nothing is there yet.
    fn read_some(&mut self, scratch: &mut [u8]) -> io::Result<Option<usize>> {
        match self.tcp.try_read(scratch) {
            Ok(0) => {
                self.conn.receive_eof();
                Ok(Some(0))
            }
            Ok(n) => {
                self.conn.receive(&scratch[..n]);
                Ok(Some(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Hands every message the core decoded to `each`: over SockJS, each
    /// message of each `a` frame (heartbeats skipped).
    fn take_messages(
        &mut self,
        mut each: impl FnMut(&str) -> Result<(), String>,
    ) -> Result<(), String> {
        loop {
            let event = self
                .conn
                .poll_event()
                .map_err(|e| format!("protocol error from the server: {e}"))?;
            let text = match event {
                Some(Event::Message(Message::Text(text))) => text,
                Some(Event::Message(Message::Binary(b))) => {
                    return Err(format!("a binary message of {} bytes", b.len()))
                }
                Some(Event::Close(frame)) => {
                    return Err(format!("the server closed the session: {frame:?}"))
                }
                Some(_) => {
                    // A pong answering a ping is queued.
                    self.queue_output();
                    continue;
                }
                None => return Ok(()),
            };
            match self.transport {
                Transport::WebSocket => each(text.as_str())?,
                Transport::SockJs => sockjs_frame(text.as_str(), &mut each)?,
            }
        }
    }
}

/// One SockJS frame: `h` is skipped, each message of `a[...]` handed to
/// `each`; anything else (`c[...]`, a second `o`) is an error.
fn sockjs_frame(
    frame: &str,
    each: &mut impl FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    match frame.as_bytes().first() {
        Some(b'h') if frame.len() == 1 => Ok(()),
        Some(b'a') => {
            let messages: Vec<String> = serde_json::from_str(&frame[1..])
                .map_err(|e| format!("a bad frame {:?}: {e}", truncate(frame)))?;
            messages.iter().try_for_each(|m| each(m))
        }
        Some(b'c') => Err(format!("the server closed the session: {frame}")),
        _ => Err(format!("an unexpected frame {:?}", truncate(frame))),
    }
}

/// What the main task tells the publisher to send.
enum Command {
    Probe(usize),
    Data(u64),
}

/// What every member reports to, and the main task reads. One thread, so
/// cells.
struct Shared {
    payloads: Payloads,
    messages: u64,
    /// Subscribers plus the publisher.
    members: u64,
    /// When each message was handed to the publisher's socket.
    published: RefCell<Vec<Option<Instant>>>,
    /// Copies of each message received so far.
    copies: RefCell<Vec<u64>>,
    /// When the last copy of each message arrived.
    last_copy: RefCell<Vec<Option<Instant>>>,
    /// Each copy's time from its publish, in nanoseconds.
    latencies: RefCell<Vec<u64>>,
    /// Copies received, all messages together, and their bytes.
    received: Cell<u64>,
    bytes: Cell<u64>,
    /// Copies of each probe received.
    probes: RefCell<Vec<u64>>,
    /// Each member's next message (member 0 is the publisher).
    progress: RefCell<Vec<u64>>,
    /// Which members failed.
    failed: RefCell<Vec<bool>>,
    /// The first failure.
    failure: RefCell<Option<String>>,
    /// Subscribers connected.
    connected: Cell<usize>,
    /// Wakes the main task: a subscriber connected, a probe reached
    /// everyone, the last copy arrived, a member failed.
    wake: Notify,
    /// Set at the end; `stopping` wakes the members.
    stop: Cell<bool>,
    stopping: Notify,
    /// Where every member reads into (one thread: one buffer).
    scratch: RefCell<Vec<u8>>,
}

impl Shared {
    fn new(payloads: Payloads, messages: u64, subscribers: usize) -> Self {
        let members = subscribers + 1;
        Self {
            payloads,
            messages,
            members: members as u64,
            published: RefCell::new(vec![None; messages as usize]),
            copies: RefCell::new(vec![0; messages as usize]),
            last_copy: RefCell::new(vec![None; messages as usize]),
            latencies: RefCell::new(Vec::with_capacity(members * messages as usize)),
            received: Cell::new(0),
            bytes: Cell::new(0),
            probes: RefCell::new(Vec::new()),
            progress: RefCell::new(vec![0; members]),
            failed: RefCell::new(vec![false; members]),
            failure: RefCell::new(None),
            connected: Cell::new(0),
            wake: Notify::new(),
            stop: Cell::new(false),
            stopping: Notify::new(),
            scratch: RefCell::new(vec![0; 64 * 1024]),
        }
    }

    fn expected_copies(&self) -> u64 {
        self.members * self.messages
    }

    fn fail(&self, member: usize, error: &str) {
        self.failed.borrow_mut()[member] = true;
        let mut failure = self.failure.borrow_mut();
        if failure.is_none() {
            *failure = Some(format!("member {member}: {error}"));
        }
        self.wake.notify_one();
    }

    /// A message member `member` received at `now`: a probe, or the next
    /// published message.
    fn on_message(&self, member: usize, text: &str, now: Instant) -> Result<(), String> {
        if let Some(n) = text.strip_prefix("probe-") {
            let mut probes = self.probes.borrow_mut();
            let count = n
                .parse::<usize>()
                .ok()
                .and_then(|n| probes.get_mut(n))
                .ok_or_else(|| format!("a probe never sent: {:?}", truncate(text)))?;
            *count += 1;
            if *count == self.members {
                self.wake.notify_one();
            }
            return Ok(());
        }
        let mut progress = self.progress.borrow_mut();
        let expected = progress[member];
        let seq = self
            .payloads
            .seq_of(text)
            .filter(|seq| *seq < self.messages)
            .ok_or_else(|| format!("message {expected}: got {:?}", truncate(text)))?;
        if seq != expected {
            return Err(if seq > expected {
                format!("message {expected} missed (got {seq})")
            } else {
                format!("message {seq} again (expected {expected})")
            });
        }
        progress[member] = expected + 1;
        let i = seq as usize;
        let published = self.published.borrow()[i]
            .ok_or_else(|| format!("message {seq} before it was published"))?;
        self.latencies
            .borrow_mut()
            .push(now.saturating_duration_since(published).as_nanos() as u64);
        self.copies.borrow_mut()[i] += 1;
        let mut last = self.last_copy.borrow_mut();
        last[i] = Some(last[i].map_or(now, |at| at.max(now)));
        self.received.set(self.received.get() + 1);
        self.bytes.set(self.bytes.get() + text.len() as u64);
        if self.received.get() == self.expected_copies() {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Waits until `done` holds (true), `deadline` passes (false) or a
    /// member fails (the error).
    async fn wait_until(
        &self,
        deadline: Instant,
        done: impl Fn(&Self) -> bool,
    ) -> Result<bool, String> {
        loop {
            if let Some(e) = self.failure.borrow().clone() {
                return Err(e);
            }
            if done(self) {
                return Ok(true);
            }
            if tokio::time::timeout_at(deadline.into(), self.wake.notified())
                .await
                .is_err()
            {
                return Ok(done(self));
            }
        }
    }
}

async fn next_command(commands: Option<&mut mpsc::UnboundedReceiver<Command>>) -> Option<Command> {
    match commands {
        Some(commands) => commands.recv().await,
        None => std::future::pending().await,
    }
}

/// A member's life after its opening: reads and checks every message, and
/// (the publisher) sends what the main task says, until the stop.
async fn member(
    shared: Rc<Shared>,
    index: usize,
    mut client: Client,
    mut commands: Option<mpsc::UnboundedReceiver<Command>>,
) -> Result<(), String> {
    let io = |e: io::Error| format!("socket: {e}");
    let mut reads_in_a_row = 0;
    while !shared.stop.get() {
        client.write_some().map_err(io)?;
        let read = client
            .read_some(&mut shared.scratch.borrow_mut())
            .map_err(io)?;
        match read {
            Some(0) => return Err("the server closed the connection".to_owned()),
            Some(_) => {
                let now = Instant::now();
                client.take_messages(|text| shared.on_message(index, text, now))?;
                reads_in_a_row += 1;
                if reads_in_a_row >= READS_BEFORE_YIELD {
                    reads_in_a_row = 0;
                    tokio::task::yield_now().await;
                }
                continue;
            }
            None => reads_in_a_row = 0,
        }
        let interest = if client.out.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        tokio::select! {
            biased;
            () = shared.stopping.notified() => break,
            command = next_command(commands.as_mut()) => match command {
                Some(Command::Probe(n)) => client.send(&format!("probe-{n}"))?,
                Some(Command::Data(seq)) => {
                    let text = shared.payloads.message(seq);
                    shared.published.borrow_mut()[seq as usize] = Some(Instant::now());
                    client.send(&text)?;
                }
                None => commands = None,
            },
            ready = client.tcp.ready(interest) => {
                ready.map_err(io)?;
            }
        }
    }
    // A close frame, not waited for: the run is over.
    if client.conn.close(Some(CloseCode::NORMAL), "").is_ok() {
        client.queue_output();
        let _ = client.write_some();
    }
    Ok(())
}

/// Raises this process's descriptor limit to what `needed` takes, within
/// the hard limit.
fn raise_fd_limit(needed: u64) -> Result<(), String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the pointer it gets.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!("getrlimit: {}", io::Error::last_os_error()));
    }
    if limit.rlim_cur >= needed {
        return Ok(());
    }
    if limit.rlim_max < needed {
        return Err(format!(
            "{needed} file descriptors are needed, the hard limit is {} (ulimit -Hn)",
            limit.rlim_max
        ));
    }
    limit.rlim_cur = needed;
    // SAFETY: setrlimit reads one `rlimit` from the pointer it gets.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(format!("setrlimit: {}", io::Error::last_os_error()));
    }
    Ok(())
}

fn percentile_us(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// Opens the publisher (member 0) and the subscribers, ramped; the member
/// tasks and the publisher's command sender.
async fn open(
    args: &Args,
    target: &Rc<Target>,
    shared: &Rc<Shared>,
) -> Result<
    (
        Vec<tokio::task::JoinHandle<()>>,
        mpsc::UnboundedSender<Command>,
    ),
    String,
> {
    let run_seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()).rotate_left(32);
    let member_id = |index: usize| {
        let mut seed = run_seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (
            format!("m{index}x{:012x}", sockway_bench::xorshift(&mut seed) >> 16),
            seed,
        )
    };
    let spawn_member = |index: usize, client: Client, commands| {
        let shared = Rc::clone(shared);
        tokio::task::spawn_local(async move {
            if let Err(e) = member(Rc::clone(&shared), index, client, commands).await {
                shared.fail(index, &e);
            }
        })
    };

    let (id, seed) = member_id(0);
    let publisher = tokio::time::timeout(HANDSHAKE_WAIT, Client::connect(target, &id, seed))
        .await
        .map_err(|_| format!("the publisher did not open within {HANDSHAKE_WAIT:?}"))?
        .map_err(|e| format!("the publisher: {e}"))?;
    let (commands, receiver) = mpsc::unbounded_channel();
    let mut tasks = vec![spawn_member(0, publisher, Some(receiver))];

    let handshakes = Arc::new(Semaphore::new(args.handshakes));
    let start = Instant::now();
    let deadline = start + args.connect_timeout;
    let timed_out = || {
        format!(
            "{} of {} subscribers opened within {:?}",
            shared.connected.get(),
            args.subscribers,
            args.connect_timeout
        )
    };
    let mut started = 0;
    while started < args.subscribers {
        if let Some(e) = shared.failure.borrow().clone() {
            return Err(e);
        }
        let due = ((start.elapsed().as_secs_f64() * args.ramp) as usize + 1).min(args.subscribers);
        while started < due {
            let permit =
                tokio::time::timeout_at(deadline.into(), Arc::clone(&handshakes).acquire_owned())
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(|e| e.to_string())?;
            started += 1;
            let index = started;
            let (id, seed) = member_id(index);
            let target = Rc::clone(target);
            let shared = Rc::clone(shared);
            tasks.push(tokio::task::spawn_local(async move {
                let opened =
                    tokio::time::timeout(HANDSHAKE_WAIT, Client::connect(&target, &id, seed))
                        .await
                        .unwrap_or_else(|_| Err(format!("no handshake within {HANDSHAKE_WAIT:?}")));
                drop(permit);
                let result = match opened {
                    Ok(client) => {
                        shared.connected.set(shared.connected.get() + 1);
                        shared.wake.notify_one();
                        member(Rc::clone(&shared), index, client, None).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    shared.fail(index, &e);
                }
            }));
        }
        if Instant::now() >= deadline {
            return Err(timed_out());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let n = args.subscribers;
    if !shared
        .wait_until(deadline, |s| s.connected.get() == n)
        .await?
    {
        return Err(timed_out());
    }
    Ok((tasks, commands))
}

/// Sends probes until every member heard the same one: each probe until
/// its copies stop coming for `PROBE_WAIT`. Returns the probes sent.
async fn settle(
    args: &Args,
    shared: &Shared,
    commands: &mpsc::UnboundedSender<Command>,
) -> Result<usize, String> {
    let deadline = Instant::now() + args.settle_timeout;
    loop {
        let n = {
            let mut probes = shared.probes.borrow_mut();
            probes.push(0);
            probes.len() - 1
        };
        commands
            .send(Command::Probe(n))
            .map_err(|_| "the publisher stopped".to_owned())?;
        let mut heard = 0;
        loop {
            let until = (Instant::now() + PROBE_WAIT).min(deadline);
            if shared
                .wait_until(until, |s| s.probes.borrow()[n] == s.members)
                .await?
            {
                return Ok(n + 1);
            }
            let now_heard = shared.probes.borrow()[n];
            if Instant::now() >= deadline {
                return Err(format!(
                    "{now_heard} of {} members heard probe {n} within {:?} ({} probes sent)",
                    shared.members,
                    args.settle_timeout,
                    n + 1
                ));
            }
            if now_heard == heard {
                break;
            }
            heard = now_heard;
        }
    }
}

async fn bench(args: Args) -> Result<RunReport, String> {
    if args.subscribers == 0 || args.messages == 0 || args.handshakes == 0 {
        return Err("--subscribers, --messages and --handshakes must be at least 1".to_owned());
    }
    if args.size < 16 {
        return Err("--size must be at least 16 (the sequence number)".to_owned());
    }
    if !(args.rate.is_finite() && args.rate > 0.0 && args.ramp.is_finite() && args.ramp > 0.0) {
        return Err("--rate and --ramp must be positive numbers".to_owned());
    }
    let target = Rc::new(parse_url(&args.url)?);
    raise_fd_limit(args.subscribers as u64 + 1 + SPARE_FDS)?;
    let shared = Rc::new(Shared::new(
        Payloads::new(args.size),
        args.messages,
        args.subscribers,
    ));

    // The server's resident memory before the first subscriber and once
    // every one has joined: what an idle subscriber costs it.
    let rss =
        |pid: u32| sockway_bench::cpu::rss_kib(pid).map_err(|e| format!("/proc/{pid}/status: {e}"));
    let rss_before = args.server_pid.map(rss).transpose()?;
    let opening = Instant::now();
    let (tasks, commands) = open(&args, &target, &shared).await?;
    let connect_s = opening.elapsed().as_secs_f64();
    let rss_joined = args.server_pid.map(rss).transpose()?;
    let settling = Instant::now();
    let probes = settle(&args, &shared, &commands).await?;
    let settle_s = settling.elapsed().as_secs_f64();

    // The window: from the first publish until the last copy arrived.
    let snapshot = || Snapshot::take(shared.received.get(), shared.bytes.get(), args.server_pid);
    let first = snapshot()?;
    let start = Instant::now();
    let mut published = 0;
    for seq in 0..args.messages {
        let at = start + Duration::from_secs_f64(seq as f64 / args.rate);
        tokio::time::sleep_until(at.into()).await;
        if shared.failure.borrow().is_some() {
            break;
        }
        commands
            .send(Command::Data(seq))
            .map_err(|_| "the publisher stopped".to_owned())?;
        published += 1;
    }
    let all = shared.expected_copies();
    let drained = Instant::now() + args.drain_timeout;
    // A failure ends the wait; it is reported below.
    let _ = shared
        .wait_until(drained, |s| s.received.get() == all)
        .await;
    let last = snapshot()?;

    shared.stop.set(true);
    shared.stopping.notify_waiters();
    drop(commands);
    let _ = tokio::time::timeout(STOP_WAIT, futures_util::future::join_all(tasks)).await;

    // Every member that failed or missed a message counts.
    let progress = shared.progress.borrow();
    let failed = shared.failed.borrow();
    let short: Vec<usize> = (0..progress.len())
        .filter(|&i| failed[i] || progress[i] < args.messages)
        .collect();
    let mut error = shared.failure.borrow().clone();
    if error.is_none() && !short.is_empty() {
        let i = short[0];
        error = Some(format!(
            "{} member(s) missed messages: member {i} got {} of {} ({published} published) within {:?} of the last publish",
            short.len(),
            progress[i],
            args.messages,
            args.drain_timeout
        ));
    }

    let mut latencies = std::mem::take(&mut *shared.latencies.borrow_mut());
    latencies.sort_unstable();
    let rtt = RttSummary {
        p50_us: percentile_us(&latencies, 0.50),
        p99_us: percentile_us(&latencies, 0.99),
        max_us: latencies.last().map_or(0.0, |&n| n as f64 / 1000.0),
    };
    let mut last_copy: Vec<u64> = shared
        .published
        .borrow()
        .iter()
        .zip(shared.last_copy.borrow().iter())
        .filter_map(|(published, last)| {
            Some(
                last.as_ref()?
                    .saturating_duration_since(*published.as_ref()?)
                    .as_nanos() as u64,
            )
        })
        .collect();
    last_copy.sort_unstable();
    let info = RunInfo {
        server: args.label.clone(),
        workload: args.workload.clone(),
        round: args.round,
        mode: "broadcast".to_owned(),
        conns: args.subscribers,
        inflight: 0,
        size: args.size,
        binary: false,
        target_rate: None,
        warmup_s: 0.0,
        server_pid: args.server_pid,
        saturation: args.saturation,
    };
    let mut report = RunReport::from_window(info, &first, &last, rtt, short.len() as u64, error);
    if let (Some(before), Some(joined)) = (rss_before, rss_joined) {
        report.server_rss_kib = Some(joined as f64);
        report.server_kib_per_conn =
            Some((joined as f64 - before as f64) / args.subscribers as f64);
    }
    report.broadcast = Some(Broadcast {
        transport: target.transport.name().to_owned(),
        subscribers: args.subscribers,
        messages: args.messages,
        publish_rate: args.rate,
        copies_expected: all,
        last_copy_p50_us: percentile_us(&last_copy, 0.50),
        last_copy_max_us: last_copy.last().map_or(0.0, |&n| n as f64 / 1000.0),
        connect_s,
        settle_s,
        probes: probes as u32,
    });
    Ok(report)
}

fn main() -> ExitCode {
    sockway_bench::run_generator("bcast-load", bench(Args::parse()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_transport_and_must_be_loopback() {
        let t = parse_url("ws://127.0.0.1:8081/ws/broadcast").expect("loopback");
        assert_eq!(t.transport, Transport::WebSocket);
        assert_eq!(t.request_path("x"), "/ws/broadcast");
        assert_eq!(parse_url("ws://localhost:9").expect("root").path, "/");
        let t = parse_url("http://127.0.0.1:8081/broadcast/").expect("loopback");
        assert_eq!(t.transport, Transport::SockJs);
        assert_eq!(t.host, "127.0.0.1:8081");
        assert_eq!(t.request_path("ab1"), "/broadcast/000/ab1/websocket");
        assert!(parse_url("http://[::1]:9/b").is_ok());
        assert!(parse_url("ws://10.0.0.1:80/ws").is_err());
        assert!(parse_url("http://example.com:80/broadcast").is_err());
        assert!(parse_url("https://127.0.0.1:80/broadcast").is_err());
    }

    #[test]
    fn payloads_carry_their_sequence_number() {
        for size in [16, 17, 32, 100] {
            let p = Payloads::new(size);
            let m = p.message(0x1234_5678_9abc_def0);
            assert_eq!(m.len(), size);
            assert_eq!(p.seq_of(&m), Some(0x1234_5678_9abc_def0));
            assert_eq!(p.seq_of(&m[..size - 1]), None);
            assert_eq!(p.seq_of("probe-1"), None);
        }
        let p = Payloads::new(32);
        let mut m = p.message(7);
        m.replace_range(20..21, "_");
        assert_eq!(p.seq_of(&m), None);
    }

    #[test]
    fn sockjs_frames() {
        let mut got = Vec::new();
        let mut each = |m: &str| {
            got.push(m.to_owned());
            Ok(())
        };
        sockjs_frame("h", &mut each).expect("heartbeat");
        sockjs_frame(r#"a["one","t\"wo"]"#, &mut each).expect("messages");
        assert!(sockjs_frame(r#"c[3000,"Go away!"]"#, &mut each).is_err());
        assert!(sockjs_frame("o", &mut each).is_err());
        assert!(sockjs_frame("a[1]", &mut each).is_err());
        assert_eq!(got, ["one", "t\"wo"]);
    }

    fn shared(messages: u64, subscribers: usize) -> Shared {
        let shared = Shared::new(Payloads::new(32), messages, subscribers);
        let now = Instant::now();
        shared.published.borrow_mut().fill(Some(now));
        shared
    }

    #[test]
    fn each_member_takes_every_message_once_in_order() {
        let s = shared(3, 1);
        let now = Instant::now();
        let m = |seq| s.payloads.message(seq);
        s.on_message(1, &m(0), now).expect("first");
        assert!(s.on_message(1, &m(0), now).unwrap_err().contains("again"));
        assert!(s.on_message(1, &m(2), now).unwrap_err().contains("missed"));
        s.on_message(1, &m(1), now).expect("second");
        assert!(s.on_message(1, &m(3), now).is_err(), "never published");
        s.on_message(0, &m(0), now)
            .expect("the publisher's own copy");
        assert_eq!(s.received.get(), 3);
        assert_eq!(*s.copies.borrow(), [2, 1, 0]);
        assert_eq!(*s.progress.borrow(), [1, 2]);
    }

    #[test]
    fn probes_count_per_probe() {
        let s = shared(1, 1);
        assert!(
            s.on_message(1, "probe-0", Instant::now()).is_err(),
            "not sent yet"
        );
        s.probes.borrow_mut().push(0);
        s.on_message(1, "probe-0", Instant::now()).expect("a probe");
        s.on_message(0, "probe-0", Instant::now()).expect("a probe");
        assert_eq!(*s.probes.borrow(), [2]);
        assert_eq!(*s.progress.borrow(), [0, 0]);
    }
}
