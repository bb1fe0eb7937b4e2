//! The server's runtime: every test of a server runs against each runtime
//! the adapters provide ([`Tokio`], [`AsyncStd`], [`Smol`]).
//!
//! A test is written once, generic over a [`ServerRuntime`]:
//!
//! ```ignore
//! async fn greets<R: ServerRuntime>() {
//!     let server = TestServer::ready::<R>(&options);
//!     // The client side runs on the test's own tokio runtime.
//!     let mut c = server.client().await;
//!     // ...
//! }
//!
//! sockway_tests::for_each_runtime! { greets }
//! ```
//!
//! and [`for_each_runtime!`](crate::for_each_runtime) instantiates it once
//! per runtime, as `runtimes::tokio::greets`, `runtimes::async_std::greets`
//! and `runtimes::smol::greets`. Only the server changes runtime: it runs
//! on its own executor in a thread of its own ([`ServerRuntime::serve`]),
//! while the test's client side stays on the test's tokio runtime. So code
//! that runs inside the server (handlers, interceptors) must not use
//! tokio-only APIs (`tokio::spawn`, `tokio::time`): it uses
//! [`spawn`], [`sleep`] and [`yield_now`] here, and executor-agnostic
//! channels (`tokio::sync`, `std::sync`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use adapter_core::server::{ServerBuilder, ServerHandle};
use adapter_core::Executor;

pub use adapter_async_std::{AsyncStd, Smol};
pub use adapter_tokio::Tokio;

/// How long dropping a [`BackgroundServer`] waits for `serve()` to return
/// after the shutdown it starts: longer than the default shutdown timeout
/// (10 s), which bounds it.
const DROP_JOIN_LIMIT: Duration = Duration::from_secs(15);

/// A runtime a server can run on in the tests: an [`Executor`] with a way
/// to block a thread of its own on a future.
pub trait ServerRuntime: Executor + Sized {
    /// The runtime's name: `tokio`, `async-std` or `smol`.
    const NAME: &'static str;

    /// Runs `future` to completion on this runtime's executor, blocking the
    /// calling thread (a thread of its own: see [`serve`](Self::serve)).
    fn block_on<F: Future>(future: F) -> F::Output;

    /// Binds `builder` to `127.0.0.1:<ephemeral>` and serves it on this
    /// runtime in a background thread; returns once it listens.
    fn serve(builder: ServerBuilder<Self>) -> BackgroundServer {
        BackgroundServer::start(builder)
    }
}

impl ServerRuntime for Tokio {
    const NAME: &'static str = "tokio";

    /// A runtime of its own with 2 workers.
    fn block_on<F: Future>(future: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("server-tokio")
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(future)
    }
}

impl ServerRuntime for AsyncStd {
    const NAME: &'static str = "async-std";

    /// `async_std::task::block_on`; the server's tasks go to async-std's
    /// global executor.
    fn block_on<F: Future>(future: F) -> F::Output {
        async_std::task::block_on(future)
    }
}

impl ServerRuntime for Smol {
    const NAME: &'static str = "smol";

    /// `smol::block_on`; the server's tasks go to smol's global executor.
    fn block_on<F: Future>(future: F) -> F::Output {
        smol::block_on(future)
    }
}

/// How a server in a child process ([`ChildServer`](crate::stress::ChildServer))
/// serves: on sockway's own listener, on one of the runtimes (every
/// [`ServerRuntime`] is a mode), or mounted in an application's HTTP stack
/// ([`Axum`]). Tests of such a server are generic over the mode and are
/// instantiated with [`for_each_runtime!`](crate::for_each_runtime) and
/// [`for_each_stack!`](crate::for_each_stack).
pub trait ServerMode {
    /// The mode's name: a runtime's ([`ServerRuntime::NAME`]), or `axum`.
    /// (Not `NAME`: a runtime has both traits, and `Tokio::NAME` would be
    /// ambiguous wherever both are in scope.)
    const MODE: &'static str;
    /// Whether the endpoints are mounted in another HTTP stack: HTTP/1.1
    /// parsing, keep-alive and the writes of streaming responses are that
    /// stack's (hyper's), not sockway's own.
    const MOUNTED: bool;
}

impl<R: ServerRuntime> ServerMode for R {
    const MODE: &'static str = R::NAME;
    const MOUNTED: bool = false;
}

/// The ready server's endpoints mounted in an axum `Router`
/// (`sockway_cli::stack::router`: each SockJS endpoint with
/// `nest_service`, `/ws` with `route_service`), served by `axum::serve`
/// on tokio (2 workers) with
/// `into_make_service_with_connect_info::<SocketAddr>()`, as `sockway
/// serve --stack axum` does.
#[derive(Debug, Clone, Copy)]
pub struct Axum;

impl ServerMode for Axum {
    const MODE: &'static str = "axum";
    const MOUNTED: bool = true;
}

/// A server serving on its runtime in a thread of its own: see
/// [`ServerRuntime::serve`]. Dropping it shuts the server down and joins
/// the thread.
#[derive(Debug)]
pub struct BackgroundServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Stops it.
    pub handle: ServerHandle,
    /// What `serve()` returned, once it did.
    served: Option<tokio::sync::oneshot::Receiver<io::Result<()>>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundServer {
    fn start<R: ServerRuntime>(builder: ServerBuilder<R>) -> Self {
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let (served_tx, served) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("server-{}", R::NAME))
            .spawn(move || {
                R::block_on(async move {
                    let server = match builder.bind("127.0.0.1:0").await {
                        Ok(server) => server,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let addr = server.local_addr().expect("a local address");
                    let _ = ready_tx.send(Ok((addr, server.handle())));
                    let _ = served_tx.send(server.serve().await);
                });
            })
            .expect("a server thread");
        let (addr, handle) = ready_rx
            .recv()
            .expect("the server thread reports")
            .expect("a valid server on a loopback port");
        Self {
            addr,
            handle,
            served: Some(served),
            thread: Some(thread),
        }
    }

    /// Starts a graceful shutdown and waits (at most `limit`) for `serve()`
    /// to return; panics if it does not, or returns an error. Returns how
    /// long that took.
    pub async fn shutdown(mut self, limit: Duration) -> Duration {
        let started = tokio::time::Instant::now();
        self.handle.shutdown();
        let served = self.served.take().expect("not shut down yet");
        let Ok(served) = tokio::time::timeout(limit, served).await else {
            panic!("serve() on {:?}: not returned within {limit:?}", self.addr);
        };
        served
            .expect("the server thread does not panic")
            .expect("serve() returns Ok");
        let took = started.elapsed();
        self.join(DROP_JOIN_LIMIT);
        took
    }

    /// Waits at most `limit` for the thread to end; panics if it does not
    /// (unless the test is panicking already) or if it panicked.
    fn join(&mut self, limit: Duration) {
        if let Some(thread) = self.thread.take() {
            join_within(thread, limit, &self.addr.to_string());
        }
    }
}

/// Waits at most `limit` for the thread of the server on `addr` to end;
/// panics if it does not (unless the test is panicking already) or if it
/// panicked.
pub(crate) fn join_within(thread: JoinHandle<()>, limit: Duration, addr: &str) {
    #[allow(
        clippy::disallowed_methods,
        reason = "a bounded wait for a thread, in real time"
    )]
    let started = std::time::Instant::now();
    while !thread.is_finished() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(1));
    }
    if std::thread::panicking() {
        return;
    }
    assert!(
        thread.is_finished(),
        "the server on {addr} did not stop within {limit:?} of its shutdown"
    );
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        self.handle.shutdown();
        self.join(DROP_JOIN_LIMIT);
    }
}

// ---- runtime-agnostic helpers for code that runs inside the server ------------

/// Runs `future` on `R`'s executor; the returned future completes with its
/// output.
pub fn spawn<R, F>(future: F) -> impl Future<Output = F::Output> + Send
where
    R: Executor,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    R::spawn(Box::pin(async move {
        let _ = tx.send(future.await);
    }));
    async move { rx.await.expect("the spawned task completes") }
}

/// Completes after `duration`, on any executor (an `async-io` timer).
pub async fn sleep(duration: Duration) {
    async_io::Timer::after(duration).await;
}

/// Lets other tasks run once, on any executor.
pub fn yield_now() -> impl Future<Output = ()> + Send {
    YieldNow(false)
}

struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// ---- instantiating the tests --------------------------------------------------

/// Instantiates generic tests once per server runtime.
///
/// For test functions `async fn name<R: ServerRuntime>()`, generates
/// `runtimes::tokio::name`, `runtimes::async_std::name` and
/// `runtimes::smol::name`: `#[tokio::test]`s that await `name::<Tokio>()`,
/// `name::<AsyncStd>()`, `name::<Smol>()`. Each name may be preceded by
/// attributes for the generated tests (`#[ignore = "..."]`) and followed
/// by `: multi_thread` for a test runtime with 2 workers.
///
/// ```ignore
/// sockway_tests::for_each_runtime! {
///     greets,
///     concurrent_senders: multi_thread,
/// }
/// ```
#[macro_export]
macro_rules! for_each_runtime {
    ($($(#[$meta:meta])* $name:ident $(: $flavor:ident)?),* $(,)?) => {
        /// The tests, once per server runtime.
        mod runtimes {
            $crate::__tests_on! {
                tokio, $crate::runtime::Tokio;
                $($(#[$meta])* $name $(: $flavor)?),*
            }
            $crate::__tests_on! {
                async_std, $crate::runtime::AsyncStd;
                $($(#[$meta])* $name $(: $flavor)?),*
            }
            $crate::__tests_on! {
                smol, $crate::runtime::Smol;
                $($(#[$meta])* $name $(: $flavor)?),*
            }
        }
    };
}

/// Instantiates generic tests once per mounted HTTP stack: for test
/// functions `async fn name<M: ServerMode>()`, generates
/// `stacks::axum::name`, which awaits `name::<Axum>()` (see [`Axum`]).
/// The same attributes and flavors as
/// [`for_each_runtime!`](crate::for_each_runtime), next to which it goes:
///
/// ```ignore
/// sockway_tests::for_each_runtime! { idle: multi_thread }
/// sockway_tests::for_each_stack! { idle: multi_thread }
/// ```
#[macro_export]
macro_rules! for_each_stack {
    ($($(#[$meta:meta])* $name:ident $(: $flavor:ident)?),* $(,)?) => {
        /// The tests, once per mounted HTTP stack.
        mod stacks {
            $crate::__tests_on! {
                axum, $crate::runtime::Axum;
                $($(#[$meta])* $name $(: $flavor)?),*
            }
        }
    };
}

/// Instantiates generic tests once per adapter's WebSocket stream.
///
/// For test functions `async fn name<A: Adapter>()`, generates
/// `adapters::tokio::name` and `adapters::async_std::name`, which await
/// `name::<Tokio>()` and `name::<AsyncIo>()` (see
/// [`Adapter`](crate::adapter::Adapter)). The same attributes and flavors
/// as [`for_each_runtime!`](crate::for_each_runtime), and `: paused`: the
/// tokio instance runs with tokio's clock paused (its timers are tokio's,
/// so simulated time applies); the async-std one in real time.
#[macro_export]
macro_rules! for_each_adapter {
    ($($(#[$meta:meta])* $name:ident $(: $flavor:ident)?),* $(,)?) => {
        /// The tests, once per adapter.
        mod adapters {
            $crate::__tests_on! {
                tokio, $crate::runtime::Tokio;
                $($(#[$meta])* $name $(: $flavor)?),*
            }
            $crate::__tests_on! {
                async_std, $crate::adapter::AsyncIo;
                $($(#[$meta])* $name $(: $flavor)?),*
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tests_on {
    ($module:ident, $target:ty; $($(#[$meta:meta])* $name:ident $(: $flavor:ident)?),*) => {
        mod $module {
            $(
                $crate::__test! {
                    $module [$($flavor)?] [$(#[$meta])*]
                    $name super::super::$name::<$target>()
                }
            )*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __test {
    ($module:ident [] [$($attr:tt)*] $name:ident $call:expr) => {
        #[::tokio::test]
        $($attr)*
        async fn $name() {
            $call.await;
        }
    };
    ($module:ident [multi_thread] [$($attr:tt)*] $name:ident $call:expr) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $($attr)*
        async fn $name() {
            $call.await;
        }
    };
    (tokio [paused] [$($attr:tt)*] $name:ident $call:expr) => {
        #[::tokio::test(start_paused = true)]
        $($attr)*
        async fn $name() {
            $call.await;
        }
    };
    ($module:ident [paused] [$($attr:tt)*] $name:ident $call:expr) => {
        #[::tokio::test]
        $($attr)*
        async fn $name() {
            $call.await;
        }
    };
}
