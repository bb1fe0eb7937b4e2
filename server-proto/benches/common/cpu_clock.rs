//! The clock the server-proto benches time their work with (included by
//! each with `#[path]`).

use std::time::Duration;

/// The thread's CPU clock.
#[cfg(unix)]
pub(crate) fn cpu_clock() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    // A CPU clock is never negative.
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// The wall clock, since the first call.
#[cfg(not(unix))]
#[allow(clippy::disallowed_methods, reason = "the bench's own stopwatch")]
pub(crate) fn cpu_clock() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}
