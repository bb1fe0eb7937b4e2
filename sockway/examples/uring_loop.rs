//! A SockJS server on one thread and one `io_uring` (Linux 6.1 or later):
//! the twin of `mio_loop`, with completions instead of readiness.
//! `server_proto` does the whole protocol (HTTP, SockJS, WebSocket, every
//! time limit) without I/O or a clock; this file is only the ring and the
//! loop.
//!
//! ```text
//! cargo run -p sockway --no-default-features --example uring_loop -- 127.0.0.1:8082 --heartbeat-ms 25000
//! ```
//!
//! It serves what `mio_loop` serves: `/echo` echoes every message;
//! `/close` closes each session with `c[3000,"Go away!"]` as soon as it
//! opens; every SockJS transport, and the raw `/echo/websocket`.
//!
//! The whole server is one `Host`, as in `mio_loop`. The ring carries:
//!
//! - one multishot `Accept` on the listener (armed again when it ends;
//!   after running out of descriptors, 100 ms later). Beyond the server's
//!   connection limit a socket is closed at once;
//! - per connection, at most one `Recv`, armed while
//!   `Connection::wants_read`, for at most its `read_capacity`. It reads
//!   into a buffer the kernel picks from a ring of provided buffers shared
//!   by every connection (registered once, never freed), when the bytes
//!   arrive: an idle connection holds no read buffer. The buffer goes back
//!   to the ring as soon as its bytes are handed to the connection (or,
//!   should it have stopped reading meanwhile, copied aside for later);
//! - per connection, at most one `Send`: `transmit_slices` gathered into a
//!   buffer of the connection's slot, which keeps it until the completion
//!   (then `consume`); and one `Shutdown` of the write side when
//!   `Connection::wants_shutdown_write`;
//! - the wake: the host's notify (which `Session` senders may call from any
//!   thread) writes a byte into a socket pair (std's stand-in for an
//!   eventfd, with no `unsafe`); a `Recv` on its other end is always armed;
//! - the deadline: the wait for a completion is bounded by
//!   `Host::poll_timeout` (`submit_with_args` with a timeout).
//!
//! The ring is set up for one thread (`SINGLE_ISSUER`, `DEFER_TASKRUN`:
//! the kernel completes ops when the loop waits, not in between), hence
//! Linux 6.1; if it cannot be made, the example says why and exits with 1.
//!
//! Each op's `user_data` is its connection's id and its kind. A connection
//! that is over has its socket shut down and its ops cancelled
//! (`AsyncCancel` by descriptor); its slot, socket and send buffer are kept,
//! and the connection stays in the host (so its id is not given again),
//! until the last of its ops completed.

#[cfg(target_os = "linux")]
fn main() -> std::io::Result<()> {
    uring::main()
}

#[cfg(not(target_os = "linux"))]
#[allow(clippy::print_stderr)]
fn main() {
    eprintln!("uring_loop: io_uring needs Linux");
    std::process::exit(1);
}

#[cfg(target_os = "linux")]
mod uring {
    use std::collections::hash_map::RandomState;
    use std::collections::HashMap;
    use std::hash::{BuildHasher as _, Hasher as _};
    use std::io::{self, ErrorKind, IoSlice, Write as _};
    use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
    use std::os::fd::{AsRawFd as _, FromRawFd as _};
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
    use std::task::{Context, Poll as TaskPoll, Waker};
    use std::time::{Duration, Instant, SystemTime};

    use io_uring::types::{CancelBuilder, Fd, SubmitArgs, Timespec};
    use io_uring::{cqueue, opcode, squeue, IoUring};
    use sockway::http_proto::Limits;
    use sockway::server_proto::{
        Attributes, ConnId, Connection, EndpointId, Host, Output, Server, ServerConfig,
        ServerOptions, Session, SockJsOptions, Woken, READ_CHUNK,
    };
    use sockway::sockjs_proto::{AllowedOrigins, SockJsConfig};
    use sockway::ws_proto::CloseCode;

    /// The largest request body: room for a 1 MiB message, JSON-escaped.
    const MAX_BODY: u64 = 4 * 1024 * 1024;
    /// Open connections at most.
    const MAX_CONNECTIONS: usize = 10_000;
    /// Submission queue entries (the completion queue has twice as many;
    /// the kernel keeps what overflows).
    const ENTRIES: u32 = 4096;
    /// The provided read buffers: how many (a power of two), and their
    /// size. Only reads that completed and were not yet handed over hold
    /// one.
    const BUFFERS: u16 = 256;
    const BUFFER_SIZE: usize = READ_CHUNK;
    /// Their group id.
    const GROUP: u16 = 0;
    /// The most bytes one `Send` carries.
    const SEND_MAX: usize = 256 * 1024;
    /// How many slices of a connection's output one `Send` gathers.
    const SLICES: usize = 64;
    /// How many rounds of input one connection gets before the others have
    /// their turn.
    const ROUNDS: usize = 64;
    /// How many times the loop takes what woke (and drives it) before it
    /// polls the sockets again.
    const WAKE_ROUNDS: usize = 16;
    /// The wait before accepting again after running out of descriptors.
    const ACCEPT_RETRY: Duration = Duration::from_millis(100);

    /// The monotonic clock: the protocol crates take the time as an
    /// argument, the embedder reads it.
    #[allow(clippy::disallowed_methods)]
    fn now() -> Instant {
        Instant::now()
    }

    /// What an op is: the low byte of its `user_data`, above which is the
    /// connection's id (zero for the listener and the wake).
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Op {
        Accept = 1,
        Wake,
        Recv,
        Send,
        Shutdown,
        Cancel,
    }

    fn user_data(op: Op, id: ConnId) -> u64 {
        (id.0 as u64) << 8 | op as u64
    }

    fn decode(user_data: u64) -> Option<(Op, ConnId)> {
        let op = match user_data & 0xff {
            1 => Op::Accept,
            2 => Op::Wake,
            3 => Op::Recv,
            4 => Op::Send,
            5 => Op::Shutdown,
            6 => Op::Cancel,
            _ => return None,
        };
        Some((op, ConnId(usize::try_from(user_data >> 8).ok()?)))
    }

    /// One entry of the provided-buffer ring, laid out as the kernel's
    /// `struct io_uring_buf`; the first entry's last field is the ring's
    /// tail. Atomics: the kernel reads them while this thread writes.
    #[repr(C)]
    #[derive(Default)]
    struct RingEntry {
        addr: AtomicU64,
        len: AtomicU32,
        bid: AtomicU16,
        tail: AtomicU16,
    }

    /// The ring's entries, on a page of their own (4 KiB pages).
    #[repr(C, align(4096))]
    struct RingEntries([RingEntry; BUFFERS as usize]);

    const _: () = assert!(std::mem::size_of::<RingEntries>() == 4096);

    /// The provided buffers: the kernel picks one for each `Recv` when
    /// bytes arrive; this thread hands it back once it took the bytes.
    struct BufRing {
        entries: &'static RingEntries,
        /// `BUFFERS` buffers of `BUFFER_SIZE` bytes, never freed.
        base: *mut u8,
        tail: u16,
    }

    impl BufRing {
        #[allow(unsafe_code)]
        fn register(ring: &IoUring) -> io::Result<Self> {
            let entries: &'static RingEntries =
                Box::leak(Box::new(RingEntries(std::array::from_fn(|_| {
                    RingEntry::default()
                }))));
            let base = vec![0u8; usize::from(BUFFERS) * BUFFER_SIZE]
                .leak()
                .as_mut_ptr();
            let addr = std::ptr::from_ref(entries) as u64;
            // SAFETY: the entries are leaked: they stay valid for as long
            // as the ring (the process) lives.
            unsafe {
                ring.submitter()
                    .register_buf_ring_with_flags(addr, BUFFERS, GROUP, 0)?;
            }
            let mut bufs = Self {
                entries,
                base,
                tail: 0,
            };
            for bid in 0..BUFFERS {
                bufs.provide(bid);
            }
            Ok(bufs)
        }

        /// Hands buffer `bid` (back) to the kernel.
        fn provide(&mut self, bid: u16) {
            if bid >= BUFFERS {
                return;
            }
            let entry = &self.entries.0[usize::from(self.tail & (BUFFERS - 1))];
            let addr = self.base as u64 + u64::from(bid) * BUFFER_SIZE as u64;
            entry.addr.store(addr, Ordering::Relaxed);
            entry.len.store(BUFFER_SIZE as u32, Ordering::Relaxed);
            entry.bid.store(bid, Ordering::Relaxed);
            self.tail = self.tail.wrapping_add(1);
            // The entry is written before the kernel may see it.
            self.entries.0[0].tail.store(self.tail, Ordering::Release);
        }

        /// The first `n` bytes of buffer `bid`, which a completion handed
        /// back.
        #[allow(unsafe_code)]
        fn bytes(&self, bid: u16, n: usize) -> &[u8] {
            if bid >= BUFFERS {
                return &[];
            }
            let start = usize::from(bid) * BUFFER_SIZE;
            // SAFETY: the buffer lies in the leaked allocation of `base`;
            // the kernel wrote these `n` bytes and handed the buffer back
            // with the completion, and picks it again only once `provide`
            // returned it, after the caller is done with this slice.
            unsafe { std::slice::from_raw_parts(self.base.add(start), n.min(BUFFER_SIZE)) }
        }
    }

    /// The ring and what it submits.
    struct Ring {
        uring: IoUring,
    }

    impl Ring {
        /// Queues `entry` for the next submission, submitting first if the
        /// queue is full.
        ///
        /// # Safety
        ///
        /// What `entry` points at stays valid until its completion.
        #[allow(unsafe_code)]
        unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
            loop {
                // SAFETY: as the caller promised.
                if unsafe { self.uring.submission().push(entry) }.is_ok() {
                    return Ok(());
                }
                self.uring.submit()?;
            }
        }
    }

    /// A connection's socket and the ops it has in flight.
    #[allow(clippy::struct_excessive_bools)] // a flag per op, and two states
    struct Slot {
        sock: TcpStream,
        /// Ops in flight: a `Recv`, a `Send`, a `Shutdown`, a cancel.
        ops: u8,
        reading: bool,
        sending: bool,
        /// The bytes of the `Send` in flight, untouched until it completed;
        /// empty (no allocation) when nothing is left to write.
        out: Vec<u8>,
        /// The write side was shut.
        shut: bool,
        /// Read but not yet taken: the connection stopped reading while a
        /// `Recv` was in flight (one read at most).
        stash: Vec<u8>,
        /// The client's end of stream, handed over after the stash.
        eof: bool,
        /// The connection is over: waiting for its ops to complete.
        closing: bool,
    }

    struct Loop {
        host: Host,
        close: EndpointId,
        ring: Ring,
        bufs: BufRing,
        listener: TcpListener,
        /// The multishot accept is armed; or when to arm it again.
        accepting: bool,
        accept_after: Option<Instant>,
        /// The reading end of the wake's socket pair, and its `Recv`'s
        /// buffer (kept as long as the ring).
        wake: UnixStream,
        wake_buf: Box<[u8; 64]>,
        wake_armed: bool,
        /// The connections' slots, by id.
        slots: Vec<Option<Slot>>,
        /// The echo sessions, by the number of their task waker.
        echoes: HashMap<usize, (Session, Waker)>,
        /// Connections whose turn ended with more to do.
        again: Vec<ConnId>,
        next: usize,
    }

    impl Loop {
        /// Arms what is always armed: the accept (unless it waits), the
        /// wake.
        #[allow(unsafe_code)]
        fn arm(&mut self, now: Instant) -> io::Result<()> {
            if !self.accepting && self.accept_after.is_none_or(|at| at <= now) {
                let entry = opcode::AcceptMulti::new(Fd(self.listener.as_raw_fd()))
                    .flags(libc::SOCK_CLOEXEC)
                    .build()
                    .user_data(user_data(Op::Accept, ConnId(0)));
                // SAFETY: no buffer; the listener lives as long as the loop.
                unsafe { self.ring.push(&entry)? };
                self.accepting = true;
                self.accept_after = None;
            }
            if !self.wake_armed {
                let entry = opcode::Recv::new(
                    Fd(self.wake.as_raw_fd()),
                    self.wake_buf.as_mut_ptr(),
                    self.wake_buf.len() as u32,
                )
                .build()
                .user_data(user_data(Op::Wake, ConnId(0)));
                // SAFETY: the buffer is boxed in the loop, which is never
                // dropped while an op is in flight (`serve` forgets it).
                unsafe { self.ring.push(&entry)? };
                self.wake_armed = true;
            }
            Ok(())
        }

        /// One completion. Connections it concerns go to `ready`.
        fn complete(&mut self, cqe: &cqueue::Entry, ready: &mut Vec<ConnId>) -> io::Result<()> {
            let (res, flags) = (cqe.result(), cqe.flags());
            let Some((op, id)) = decode(cqe.user_data()) else {
                return Ok(());
            };
            match op {
                Op::Accept => self.accepted(res, flags, ready),
                Op::Wake => {
                    self.wake_armed = false;
                    if res == 0 || (res < 0 && !retry(res)) {
                        return Err(io::Error::other(format!("the wake failed ({res})")));
                    }
                }
                Op::Recv | Op::Send | Op::Shutdown | Op::Cancel => {
                    let bid = cqueue::buffer_select(flags);
                    let Some(slot) = self.slots.get_mut(id.0).and_then(Option::as_mut) else {
                        // Not ours (no op outlives its slot): give back
                        // what it holds.
                        if let Some(bid) = bid {
                            self.bufs.provide(bid);
                        }
                        return Ok(());
                    };
                    slot.ops = slot.ops.saturating_sub(1);
                    match (op, self.host.connection(id)) {
                        (Op::Recv, Some(conn)) if !slot.closing => {
                            slot.reading = false;
                            received(conn, slot, &mut self.bufs, res, bid);
                        }
                        (Op::Send, Some(conn)) if !slot.closing => {
                            slot.sending = false;
                            sent(conn, slot, res);
                        }
                        _ => {
                            if let Some(bid) = bid {
                                self.bufs.provide(bid);
                            }
                        }
                    }
                    if slot.closing {
                        if slot.ops == 0 {
                            self.slots[id.0] = None; // closes the socket
                            self.host.remove(id);
                        }
                    } else {
                        ready.push(id);
                    }
                }
            }
            Ok(())
        }

        /// A completion of the multishot accept.
        #[allow(unsafe_code)]
        fn accepted(&mut self, res: i32, flags: u32, ready: &mut Vec<ConnId>) {
            if !cqueue::more(flags) {
                // Ended: armed again at once, or a little later when out
                // of descriptors or memory (which a retry would not find).
                self.accepting = false;
                let scarce = [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];
                if scarce.contains(&-res) {
                    self.accept_after = Some(now() + ACCEPT_RETRY);
                }
            }
            if res < 0 {
                return;
            }
            // SAFETY: the kernel just made this descriptor for this
            // accept; nothing else owns it.
            let sock = unsafe { TcpStream::from_raw_fd(res) };
            let server = self.host.server();
            if server.connections() >= server.options().connection_limit() {
                return; // dropped: closed at once
            }
            let Ok(peer) = sock.peer_addr() else {
                return; // reset already
            };
            let _ = sock.set_nodelay(true);
            let id = self.host.connect(peer, now());
            if self.slots.len() <= id.0 {
                self.slots.resize_with(id.0 + 1, || None);
            }
            self.slots[id.0] = Some(Slot {
                sock,
                ops: 0,
                reading: false,
                sending: false,
                out: Vec::new(),
                shut: false,
                stash: Vec::new(),
                eof: false,
                closing: false,
            });
            ready.push(id);
        }

        /// Does what a connection can do now and arms its ops; closes it
        /// once it is done.
        #[allow(unsafe_code)]
        fn drive(&mut self, id: ConnId) -> io::Result<()> {
            let (Some(Some(slot)), Some(conn)) =
                (self.slots.get_mut(id.0), self.host.connection(id))
            else {
                return Ok(()); // gone: a late wake
            };
            if slot.closing {
                return Ok(());
            }
            let mut opened = Vec::new();
            let turn = take_input(conn, slot, &mut opened);
            let fd = Fd(slot.sock.as_raw_fd());
            if conn.is_done() {
                let _ = slot.sock.shutdown(Shutdown::Both);
                slot.closing = true;
                if slot.ops == 0 {
                    self.slots[id.0] = None;
                    self.host.remove(id);
                } else {
                    let entry = opcode::AsyncCancel2::new(CancelBuilder::fd(fd).all())
                        .build()
                        .user_data(user_data(Op::Cancel, id));
                    // SAFETY: no buffer.
                    unsafe { self.ring.push(&entry)? };
                    slot.ops += 1;
                }
            } else {
                if !turn {
                    self.again.push(id);
                }
                if !slot.sending && conn.transmit_len() > 0 {
                    gather(conn, &mut slot.out);
                    let entry = opcode::Send::new(fd, slot.out.as_ptr(), slot.out.len() as u32)
                        .flags(libc::MSG_NOSIGNAL)
                        .build()
                        .user_data(user_data(Op::Send, id));
                    // SAFETY: `out` stays in the slot, untouched while
                    // `sending`, and the slot is dropped only once its ops
                    // completed (or leaked with the loop).
                    unsafe { self.ring.push(&entry)? };
                    slot.sending = true;
                    slot.ops += 1;
                } else if !slot.sending && conn.wants_shutdown_write() && !slot.shut {
                    slot.shut = true;
                    let entry = opcode::Shutdown::new(fd, libc::SHUT_WR)
                        .build()
                        .user_data(user_data(Op::Shutdown, id));
                    // SAFETY: no buffer.
                    unsafe { self.ring.push(&entry)? };
                    slot.ops += 1;
                }
                if !slot.reading && slot.stash.is_empty() && !slot.eof && conn.wants_read() {
                    let len = conn.read_capacity().min(BUFFER_SIZE) as u32;
                    let entry = opcode::Recv::new(fd, std::ptr::null_mut(), len)
                        .buf_group(GROUP)
                        .build()
                        .flags(squeue::Flags::BUFFER_SELECT)
                        .user_data(user_data(Op::Recv, id));
                    // SAFETY: no buffer of ours: the kernel picks one of
                    // the provided buffers, which are never freed.
                    unsafe { self.ring.push(&entry)? };
                    slot.reading = true;
                    slot.ops += 1;
                }
            }
            for session in opened {
                self.open(session);
            }
            Ok(())
        }

        /// The application: `/close` closes its sessions at once, `/echo`
        /// sessions get a task of the host.
        fn open(&mut self, session: Session) {
            if session.endpoint() == self.close {
                let _ = session.close(CloseCode::GO_AWAY, "Go away!");
                return;
            }
            let task = self.next;
            self.next += 1;
            let waker = self.host.task_waker(task);
            // Polled once now, so that its waker is registered.
            waker.wake_by_ref();
            self.echoes.insert(task, (session, waker));
        }

        /// Runs an echo session's task; drops it once the session ended.
        fn echo(&mut self, task: usize) {
            let Some((session, waker)) = self.echoes.get_mut(&task) else {
                return;
            };
            if !echo(session, waker) {
                self.echoes.remove(&task);
            }
        }
    }

    /// An error worth trying the op again for.
    fn retry(res: i32) -> bool {
        matches!(
            -res,
            libc::EINTR | libc::EAGAIN | libc::ENOBUFS | libc::ECANCELED
        )
    }

    /// A `Recv` completed: its bytes go to the connection (what it cannot
    /// take now, to the stash), its buffer back to the ring.
    fn received(
        conn: &mut Connection,
        slot: &mut Slot,
        bufs: &mut BufRing,
        res: i32,
        bid: Option<u16>,
    ) {
        match (usize::try_from(res), bid) {
            (Ok(0), _) if slot.stash.is_empty() => conn.handle_eof(now()),
            (Ok(0), _) => slot.eof = true,
            (Ok(n), Some(bid)) => {
                let data = bufs.bytes(bid, n);
                let take = if slot.stash.is_empty() && conn.wants_read() {
                    data.len().min(conn.read_capacity())
                } else {
                    0
                };
                conn.handle_input(&data[..take], now());
                slot.stash.extend_from_slice(&data[take..]);
            }
            (Err(_), _) if retry(res) => {} // armed again by `drive`
            // An error; or bytes but no buffer, which was not asked for.
            _ => conn.abort(now()),
        }
        if let Some(bid) = bid {
            bufs.provide(bid);
        }
    }

    /// A `Send` completed.
    fn sent(conn: &mut Connection, slot: &mut Slot, res: i32) {
        match usize::try_from(res) {
            Ok(n) if n > 0 => conn.consume(n, now()),
            Err(_) if retry(res) => {}
            _ => conn.abort(now()),
        }
        if conn.transmit_len() == 0 {
            slot.out = Vec::new();
        } else {
            slot.out.clear();
        }
    }

    /// Drains the connection's outputs and hands it the stash (and a
    /// pending end of stream); `false` when its rounds were used up with
    /// more to do.
    fn take_input(conn: &mut Connection, slot: &mut Slot, opened: &mut Vec<Session>) -> bool {
        for _ in 0..ROUNDS {
            while let Some(output) = conn.poll_output(now()) {
                match output {
                    // No interceptor: every session is accepted.
                    Output::Incoming(incoming) => {
                        conn.accept(incoming, Attributes::default(), now());
                    }
                    Output::Opened(session) => opened.push(session),
                    _ => {}
                }
            }
            if conn.is_done() {
                return true;
            }
            if !slot.stash.is_empty() && conn.wants_read() {
                let n = conn.read_capacity().min(slot.stash.len());
                conn.handle_input(&slot.stash[..n], now());
                slot.stash.drain(..n);
                if slot.stash.is_empty() {
                    slot.stash = Vec::new();
                }
            } else if slot.stash.is_empty() && slot.eof {
                slot.eof = false;
                conn.handle_eof(now());
            } else {
                return true;
            }
        }
        false
    }

    /// Copies the start of what the connection has to write into `out`.
    fn gather(conn: &Connection, out: &mut Vec<u8>) {
        let mut slices = [IoSlice::new(&[]); SLICES];
        let n = conn.transmit_slices(&mut slices);
        out.clear();
        for slice in &slices[..n] {
            let room = SEND_MAX - out.len();
            out.extend_from_slice(&slice[..slice.len().min(room)]);
            if out.len() == SEND_MAX {
                break;
            }
        }
    }

    /// Echoes what the session received; `false` once it ended.
    fn echo(session: &mut Session, waker: &Waker) -> bool {
        let mut cx = Context::from_waker(waker);
        loop {
            match session.poll_recv(&mut cx) {
                TaskPoll::Ready(Some(message)) => {
                    // A send never waits: over the send buffer's limit, the
                    // session closes (the loop has no producer to slow down).
                    let _ = session.send(message);
                }
                TaskPoll::Ready(None) => return false,
                TaskPoll::Pending => return true,
            }
        }
    }

    #[allow(clippy::print_stdout, clippy::print_stderr)]
    pub(super) fn main() -> io::Result<()> {
        let usage = || -> ! {
            eprintln!("usage: uring_loop [ADDR (127.0.0.1:8082)] [--heartbeat-ms N (25000)]");
            std::process::exit(2)
        };
        let (mut addr, mut heartbeat_ms) = (None, 25_000);
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            if arg == "--heartbeat-ms" {
                heartbeat_ms = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage());
            } else if addr.is_none() && !arg.starts_with('-') {
                addr = Some(arg);
            } else {
                usage();
            }
        }
        let addr = addr.as_deref().unwrap_or("127.0.0.1:8082");
        let addr = std::net::ToSocketAddrs::to_socket_addrs(addr)?
            .next()
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address"))?;
        let uring = match IoUring::builder()
            .setup_submit_all()
            .setup_coop_taskrun()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .build(ENTRIES)
        {
            Ok(uring) => uring,
            Err(e) => {
                eprintln!(
                    "uring_loop: cannot create an io_uring: {e} (it needs Linux 6.1 or later, \
                     with io_uring allowed: see /proc/sys/kernel/io_uring_disabled)"
                );
                std::process::exit(1);
            }
        };
        let bufs = match BufRing::register(&uring) {
            Ok(bufs) => bufs,
            Err(e) => {
                eprintln!("uring_loop: cannot register the provided buffers: {e}");
                std::process::exit(1);
            }
        };
        serve(addr, heartbeat_ms, Ring { uring }, bufs)
    }

    /// Serves on `addr` until the process is stopped.
    #[allow(clippy::print_stdout)]
    fn serve(addr: SocketAddr, heartbeat_ms: u64, ring: Ring, bufs: BufRing) -> io::Result<()> {
        let sockjs = SockJsOptions::default().config(
            SockJsConfig::default()
                .stream_bytes_limit(4096)
                .session_cookie_needed(false)
                .allowed_origins(AllowedOrigins::Any)
                .heartbeat_time(Duration::from_millis(heartbeat_ms)),
        );
        let mut config = ServerConfig::new(
            ServerOptions::default()
                .http_limits(Limits::default().max_body_size(MAX_BODY))
                .max_connections(MAX_CONNECTIONS),
        );
        config.sockjs("/echo", sockjs.clone());
        let close = config.sockjs("/close", sockjs);
        // The SockJS `/info` entropy, seeded from std's per-process random keys.
        let seed = RandomState::new().build_hasher().finish();
        #[allow(clippy::disallowed_methods)]
        let server =
            Server::new(config, seed, now(), SystemTime::now()).map_err(io::Error::other)?;

        let listener = TcpListener::bind(addr)?;
        let (wake, notify) = UnixStream::pair()?;
        notify.set_nonblocking(true)?;
        let mut lp = Loop {
            host: Host::new(server, move || {
                // A full pair already holds a wake.
                let _ = (&notify).write(&[1]);
            }),
            close,
            ring,
            bufs,
            listener,
            accepting: false,
            accept_after: None,
            wake,
            wake_buf: Box::new([0; 64]),
            wake_armed: false,
            slots: Vec::new(),
            echoes: HashMap::new(),
            again: Vec::new(),
            next: 0,
        };
        println!("listening on http://{}", lp.listener.local_addr()?);
        let result = run(&mut lp);
        // The kernel may still write into the buffers of ops in flight
        // after the ring is closed: leave them (and the sockets) to the
        // end of the process.
        std::mem::forget(lp);
        result
    }

    /// The loop; returns only on an error of the ring.
    fn run(lp: &mut Loop) -> io::Result<()> {
        let mut cqes = Vec::new();
        let mut ready = Vec::new();
        loop {
            lp.arm(now())?;
            let deadline = match (lp.host.poll_timeout(), lp.accept_after) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // Waits only with nothing queued; from then on, a wake-up
            // notifies (wakes made while the loop runs call no notify).
            let wait = if lp.again.is_empty() && lp.host.prepare_wait() {
                deadline.map(|at| at.saturating_duration_since(now()))
            } else {
                Some(Duration::ZERO)
            };
            let submitted = match wait {
                None => lp.ring.uring.submit_and_wait(1),
                Some(wait) => {
                    let ts = Timespec::from(wait);
                    let args = SubmitArgs::new().timespec(&ts);
                    lp.ring.uring.submitter().submit_with_args(1, &args)
                }
            };
            match submitted {
                Ok(_) => {}
                // The deadline; a signal; completions to reap first.
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ETIME | libc::EINTR | libc::EBUSY)
                    ) => {}
                Err(e) => return Err(e),
            }
            cqes.extend(lp.ring.uring.completion());
            ready.append(&mut lp.again);
            for cqe in cqes.drain(..) {
                lp.complete(&cqe, &mut ready)?;
            }
            // Deadlines: the server's, and those of connections (queued).
            lp.host.handle_timeout(now());
            // What woke, and what that wakes in turn (a connection's input
            // wakes its echo, whose send wakes the connection), before the
            // next submit; a bounded number of rounds, so completions get
            // their turn.
            for _ in 0..WAKE_ROUNDS {
                while let Some(woken) = lp.host.poll_woken() {
                    match woken {
                        Woken::Connection(id) => ready.push(id),
                        Woken::Task(task) => lp.echo(task),
                        _ => {}
                    }
                }
                if ready.is_empty() {
                    break;
                }
                ready.sort_unstable();
                ready.dedup();
                for id in ready.drain(..) {
                    lp.drive(id)?;
                }
            }
            lp.again.append(&mut ready);
        }
    }
}
